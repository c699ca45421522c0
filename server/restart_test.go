package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/demo"
	"github.com/vigilsec/vigil/finding"
	"github.com/vigilsec/vigil/ingest"
	"github.com/vigilsec/vigil/pipeline"
	"github.com/vigilsec/vigil/store"
)

// TestHelperServe is not a test: the restart test runs the test binary
// with VIGIL_HELPER_CONFIG set, and this function then runs a real server
// until it is killed.
func TestHelperServe(t *testing.T) {
	path := os.Getenv("VIGIL_HELPER_CONFIG")
	if path == "" {
		t.Skip("helper process for TestRestart")
	}
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(3)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := New(ctx, cfg, log)
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(3)
	}
	err = s.Run(ctx, func(addr string) { fmt.Println("ADDR", addr) })
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(3)
	}
	os.Exit(0)
}

type proc struct {
	cmd  *exec.Cmd
	addr string
}

func startHelper(t *testing.T, cfgPath string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServe$", "-test.v=false")
	cmd.Env = append(os.Environ(), "VIGIL_HELPER_CONFIG="+cfgPath)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if a, ok := strings.CutPrefix(line, "ADDR "); ok {
			go io.Copy(io.Discard, out)
			return &proc{cmd: cmd, addr: a}
		}
		if strings.HasPrefix(line, "ERR ") {
			t.Fatalf("helper: %s", line)
		}
	}
	t.Fatalf("helper exited without an address: %v", cmd.Wait())
	return nil
}

func (p *proc) status(t *testing.T) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + "/api/status")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return nil
	}
	out := map[string]float64{}
	for k, v := range m {
		switch x := v.(type) {
		case float64:
			out[k] = x
		case bool:
			if x {
				out[k] = 1
			}
		}
	}
	return out
}

// writeProbes writes a plain VPC flow log of n scanner probes against one
// instance, one minute apart, after a v2 header.
func writeProbes(t *testing.T, path string, n int, start time.Time) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status")
	for i := range n {
		ts := start.Add(time.Duration(i) * time.Second).Unix()
		// A probe by a listed scanner, accepted on port 22 of bastion-01,
		// interleaved with ordinary web traffic that must not count.
		fmt.Fprintf(w, "2 111122223333 eni-0d93a6c1f5b27e480 198.51.100.23 10.0.1.20 %d 22 6 3 180 %d %d ACCEPT OK\n", 32768+i%20000, ts, ts+1)
		fmt.Fprintf(w, "2 111122223333 eni-0d93a6c1f5b27e480 192.0.2.200 10.0.1.20 %d 443 6 9 2400 %d %d ACCEPT OK\n", 32768+i%20000, ts, ts+1)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestRestart kills `serve` with SIGKILL in the middle of a file, restarts
// it, and checks that the stored findings equal those of one uninterrupted
// run over the same logs: nothing lost, nothing counted twice.
func TestRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	m, err := demo.Generate(demo.Options{Dir: dir, Seed: 1, Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	const probes = 150000
	big := filepath.Join(dir, "logs", "big-flows.log")
	writeProbes(t, big, probes, demo.DefaultStart)
	// Let the big file settle so it is read whole, not tailed.
	old := time.Now().Add(-time.Minute)
	os.Chtimes(big, old, old)

	// The reference: one uninterrupted in-process run.
	cfg, err := config.Load(m.Config)
	if err != nil {
		t.Fatal(err)
	}
	want := scanAll(t, cfg)

	// Serve with frequent commits, kill it mid-way, restart it.
	raw, _ := os.ReadFile(m.Config)
	conf := strings.Replace(string(raw), "listen: 127.0.0.1:8080", "listen: 127.0.0.1:0\nserve: {poll_interval: 200ms, commit_interval: 20ms}", 1)
	cfgPath := filepath.Join(dir, "serve.yaml")
	os.WriteFile(cfgPath, []byte(conf), 0o644)

	p := startHelper(t, cfgPath)
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := p.status(t)
		if st != nil && st["commits"] >= 3 && st["records"] > 0 && st["idle"] == 0 {
			break
		}
		if st != nil && st["idle"] == 1 && st["commits"] > 0 {
			t.Fatalf("the server finished before it could be killed: %v", st)
		}
		if time.Now().After(deadline) {
			t.Fatalf("server made no progress: %v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	killedAt := p.status(t)
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	t.Logf("killed after %v records and %v commits", killedAt["records"], killedAt["commits"])

	p = startHelper(t, cfgPath)
	for {
		st := p.status(t)
		if st != nil && st["idle"] == 1 && st["polls"] >= 2 {
			break
		}
		if time.Now().After(deadline.Add(60 * time.Second)) {
			t.Fatalf("restarted server did not finish: %v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("server did not stop cleanly: %v", err)
	}

	st, err := store.Open(context.Background(), cfg.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got := map[string]finding.Finding{}
	q := store.Query{Limit: 500}
	for {
		page, next, err := st.List(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range page {
			got[f.ID] = f
		}
		if next == "" {
			break
		}
		q.PageToken = next
	}
	if len(got) != len(want) {
		t.Errorf("stored %d findings, an uninterrupted run has %d", len(got), len(want))
	}
	sawBig := false
	for _, w := range want {
		g, ok := got[w.ID]
		if !ok {
			t.Errorf("missing %s %s", w.Type, w.ID)
			continue
		}
		if g.Service.Count != w.Service.Count || g.Service.EventFirstSeen != w.Service.EventFirstSeen || g.Service.EventLastSeen != w.Service.EventLastSeen || g.Type != w.Type {
			t.Errorf("%s %s: count %d first %s last %s; uninterrupted: count %d first %s last %s",
				w.Type, w.ID, g.Service.Count, g.Service.EventFirstSeen, g.Service.EventLastSeen, w.Service.Count, w.Service.EventFirstSeen, w.Service.EventLastSeen)
		}
		if w.Service.Count >= probes {
			sawBig = true
		}
	}
	if !sawBig {
		t.Errorf("no finding counted the %d probes of the big file", probes)
	}
}

func scanAll(t *testing.T, cfg *config.Config) map[string]finding.Finding {
	t.Helper()
	p, err := pipeline.Build(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	agg := finding.NewAggregator()
	var files []string
	for _, s := range cfg.Sources {
		ingest.Walk([]string{s.Path}, func(path string, _ os.FileInfo) error {
			files = append(files, path)
			return nil
		})
	}
	for _, f := range files {
		if _, err := p.RunFile(context.Background(), f, pipeline.FileOptions{}, agg.Add); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string]finding.Finding{}
	for _, f := range agg.Findings() {
		out[f.ID] = f
	}
	return out
}
