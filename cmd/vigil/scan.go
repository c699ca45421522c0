package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/decode"
	"github.com/vigilsec/vigil/finding"
	"github.com/vigilsec/vigil/ingest"
	"github.com/vigilsec/vigil/pipeline"
)

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		c, err := config.Parse(nil)
		return c, err
	}
	c, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("invalid config (--config=%s):\n%w", path, err)
	}
	return c, nil
}

func cmdScan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("scan", flag.ContinueOnError)
	fl.SetOutput(stderr)
	cfgPath := fl.String("config", "", "config file (threat lists, inventory, ip-ranges)")
	typ := fl.String("type", "", "force the log format: vpcflow, cloudtrail or route53 (default: detect per file)")
	output := fl.String("output", "json", "output: json (GuardDuty findings array) or table")
	quiet := fl.Bool("quiet", false, "no progress or summary on stderr")
	debug := fl.Bool("debug", false, "debug logging")
	if err := fl.Parse(args); err != nil {
		return errUsage
	}
	if *typ != "" && !isFormat(*typ) {
		return fmt.Errorf("%w: --type %q is not one of vpcflow, cloudtrail, route53", errUsage, *typ)
	}
	if *output != "json" && *output != "table" {
		return fmt.Errorf("%w: --output %q is not json or table", errUsage, *output)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	paths := fl.Args()
	if len(paths) == 0 {
		for _, s := range cfg.Sources {
			paths = append(paths, s.Path)
		}
	}
	if len(paths) == 0 {
		return fmt.Errorf("%w: no paths to scan (give PATH... or sources in --config)", errUsage)
	}
	log := newLogger(stderr, *debug)
	p, err := pipeline.Build(cfg, log)
	if err != nil {
		return err
	}
	var files []string
	if err := ingest.Walk(paths, func(path string, _ fs.FileInfo) error {
		files = append(files, path)
		return nil
	}); err != nil {
		return err
	}
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	if !*quiet && isTerminal(stderr) {
		go func() {
			p.Progress(pctx, stderr, len(files), 250*time.Millisecond)
			close(done)
		}()
	} else {
		close(done)
	}
	agg := finding.NewAggregator()
	start := time.Now()
	for _, f := range files {
		if _, err := p.RunFile(ctx, f, pipeline.FileOptions{Type: decode.Format(*typ)}, agg.Add); err != nil {
			if ctx.Err() != nil {
				cancel()
				<-done
				return ctx.Err()
			}
			// A file that vanished or cannot be read is reported; the rest go on.
			log.Error("could not read file", "file", f, "err", err)
		}
	}
	cancel()
	<-done
	fs := agg.Findings()
	if !*quiet {
		el := time.Since(start)
		fmt.Fprintf(stderr, "scanned %d files (%d skipped): %d records, %d malformed, %d findings in %s\n",
			p.Stats.Files.Load(), p.Stats.FilesSkipped.Load(), p.Stats.TotalRecords(), p.Stats.Malformed.Load(), len(fs), el.Round(time.Millisecond))
	}
	if *output == "table" {
		return writeTable(stdout, fs)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if fs == nil {
		fs = []finding.Finding{}
	}
	return enc.Encode(fs)
}

func isFormat(s string) bool {
	for _, f := range decode.Formats {
		if string(f) == s {
			return true
		}
	}
	return false
}

func writeTable(w io.Writer, fs []finding.Finding) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tTYPE\tRESOURCE\tACCOUNT\tREGION\tCOUNT\tLAST SEEN")
	for _, f := range fs {
		fmt.Fprintf(tw, "%s %.0f\t%s\t%s\t%s\t%s\t%d\t%s\n", finding.SeverityLabel(f.Severity), f.Severity, f.Type,
			resourceLabel(&f), f.AccountID, f.Region, f.Service.Count, f.Service.EventLastSeen)
	}
	return tw.Flush()
}

func resourceLabel(f *finding.Finding) string {
	r := &f.Resource
	switch {
	case r.InstanceDetails != nil:
		d := r.InstanceDetails
		id := d.InstanceID
		if id == "" && len(d.NetworkInterfaces) > 0 {
			id = d.NetworkInterfaces[0].NetworkInterfaceID
			if id == "" {
				id = d.NetworkInterfaces[0].PrivateIPAddress
			}
		}
		for _, t := range d.Tags {
			if t.Key == "Name" {
				id += " (" + t.Value + ")"
			}
		}
		return id
	case len(r.S3BucketDetails) > 0:
		return r.S3BucketDetails[0].Name
	case r.AccessKeyDetails != nil:
		return strings.TrimSpace(r.AccessKeyDetails.AccessKeyID + " " + r.AccessKeyDetails.UserName)
	}
	return "-"
}

func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("check", flag.ContinueOnError)
	fl.SetOutput(stderr)
	cfgPath := fl.String("config", "", "config file to validate")
	if err := fl.Parse(args); err != nil {
		return errUsage
	}
	if *cfgPath == "" {
		if fl.NArg() == 1 {
			*cfgPath = fl.Arg(0)
		} else {
			return fmt.Errorf("%w: --config FILE is required", errUsage)
		}
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%d problem(s):\n%w", strings.Count(err.Error(), "\n")+1, err)
	}
	// Load the lists and files too: a list whose every line is bad is worth knowing about.
	if _, err := pipeline.Build(cfg, newLogger(stderr, false)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok\n", *cfgPath)
	_ = os.Stdout
	return nil
}
