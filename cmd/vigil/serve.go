package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/demo"
	"github.com/vigilsec/vigil/finding"
	"github.com/vigilsec/vigil/server"
	"github.com/vigilsec/vigil/store"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	fl.SetOutput(stderr)
	cfgPath := fl.String("config", "", "config file")
	debug := fl.Bool("debug", false, "debug logging")
	if err := fl.Parse(args); err != nil {
		return errUsage
	}
	if *cfgPath == "" {
		return fmt.Errorf("%w: --config FILE is required", errUsage)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(stderr, *debug)
	s, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	// SIGHUP re-reads the config and applies the GuardDuty filters and
	// lists it declares.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				c, err := config.Load(*cfgPath)
				if err == nil {
					err = s.Reload(ctx, c)
				}
				if err != nil {
					log.Error("config reload failed; the running config stays", "config", *cfgPath, "err", err)
				} else {
					log.Info("config reloaded", "config", *cfgPath)
				}
			}
		}
	}()
	return s.Run(ctx, nil)
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("demo", flag.ContinueOnError)
	fl.SetOutput(stderr)
	dir := fl.String("dir", "", "where to write the demo estate (default: a new temporary directory)")
	listen := fl.String("listen", "127.0.0.1:8080", "address to serve on")
	noServe := fl.Bool("no-serve", false, "print the findings and exit instead of serving them")
	seed := fl.Int64("seed", 1, "random seed of the generated estate")
	debug := fl.Bool("debug", false, "debug logging")
	if err := fl.Parse(args); err != nil {
		return errUsage
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "vigil-demo-")
		if err != nil {
			return err
		}
		*dir = d
	}
	start := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	m, err := demo.Generate(demo.Options{Dir: *dir, Start: start, Seed: *seed, Scale: 1})
	if err != nil {
		return fmt.Errorf("generating the demo estate: %w", err)
	}
	fmt.Fprintf(stderr, "demo estate written to %s (%d files)\n", *dir, len(m.Files))
	cfg, err := loadConfig(m.Config)
	if err != nil {
		return err
	}
	cfg.Listen = *listen
	cfg.Serve.PollInterval = config.Duration(time.Second)
	// A demo account, with a key generated for this run, so the AWS CLI and
	// SDKs can be tried against the demo; and a token for the operator API.
	const demoAccount, demoKey = "111122223333", "AKIAVIGILDEMO0000001"
	demoSecret, token := randomToken(), randomToken()
	tokenFile := filepath.Join(*dir, "api-token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		return err
	}
	cfg.API.TokenFile = tokenFile
	cfg.Accounts = []config.Account{{ID: demoAccount, AccessKeys: []config.AccessKey{{ID: demoKey, Secret: demoSecret}}}}
	_ = os.Remove(cfg.Store.Path) // a fresh store for a fresh estate
	log := newLogger(stderr, *debug)
	s, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	addr := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- s.Run(sctx, func(a string) { addr <- a }) }()
	var where string
	select {
	case where = <-addr:
	case err := <-errc:
		return err
	}
	// Wait for the first full pass over the estate.
	for s.Watcher().Commits.Load() == 0 || !s.Watcher().Idle() {
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	fs, err := allFindings(ctx, s.Store())
	if err != nil {
		return err
	}
	if err := writeTable(stdout, fs); err != nil {
		return err
	}
	planted := map[string]bool{}
	for _, e := range m.Expected {
		planted[e.Type] = true
	}
	found := map[string]bool{}
	for _, f := range fs {
		if planted[f.Type] {
			found[f.Type] = true
		}
	}
	fmt.Fprintf(stdout, "\n%d findings from %d files: %d of the %d finding types planted in the estate were detected.\n", len(fs), len(m.Files), len(found), len(planted))
	if *noServe {
		cancel()
		return ignoreCanceled(<-errc)
	}
	det := finding.DetectorID(demoAccount, "us-east-1")
	fmt.Fprintf(stdout, `
Vigil is serving the demo at http://%[1]s

  The AWS CLI, unchanged (a key made for this demo run):
    export AWS_ACCESS_KEY_ID=%[2]s AWS_SECRET_ACCESS_KEY=%[3]s AWS_DEFAULT_REGION=us-east-1
    aws guardduty list-detectors --endpoint-url http://%[1]s
    aws guardduty list-findings  --endpoint-url http://%[1]s --detector-id %[4]s \
        --finding-criteria '{"Criterion":{"severity":{"Gte":7}}}'

  The operator API:
    curl -H 'Authorization: Bearer %[5]s' 'http://%[1]s/api/findings?severity_min=7'
    curl http://%[1]s/metrics

  logs:   %[6]s
  config: %[7]s (the demo adds the account and token above at run time)
Press Ctrl-C to stop.
`, where, demoKey, demoSecret, det, token, filepath.Join(*dir, "logs"), m.Config)
	return ignoreCanceled(<-errc)
}

func randomToken() string {
	var b [18]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func ignoreCanceled(err error) error {
	if err == context.Canceled {
		return nil
	}
	return err
}

func allFindings(ctx context.Context, st *store.Store) ([]finding.Finding, error) {
	var out []finding.Finding
	q := store.Query{Sort: store.SortSeverity, Desc: true, Limit: 500}
	for {
		page, next, err := st.List(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		q.PageToken = next
	}
}
