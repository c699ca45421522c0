package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/store"
)

// TestWatchAppend: a plain log that grows between polls is read once per
// record, a half-written last line waits for its newline, and a new file in
// the directory is picked up.
func TestWatchAppend(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	os.Mkdir(logs, 0o755)
	scanners := filepath.Join(dir, "scanners.txt")
	os.WriteFile(scanners, []byte("203.0.113.23\n"), 0o644)
	cfg, _ := config.Parse(nil)
	cfg.Sources = []config.Source{{Path: logs}}
	cfg.Intel = []config.List{{Name: "scanners", Category: "scanner", Format: "txt", Path: scanners}}
	cfg.Store.Path = filepath.Join(dir, "vigil.db")
	cfg.Serve.PollInterval = config.Duration(time.Hour) // a file modified now counts as still being written
	s, err := New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.store.Close()
	ctx := context.Background()

	line := func(i int) string {
		ts := 1763700000 + i*60
		return fmt.Sprintf("2 111122223333 eni-1 203.0.113.23 10.0.1.20 %d 22 6 3 180 %d %d ACCEPT OK\n", 40000+i, ts, ts+60)
	}
	path := filepath.Join(logs, "flows.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	f.WriteString(line(0) + line(1))
	half := line(2)
	f.WriteString(half[:20]) // a writer mid-line

	count := func() int64 {
		fs, _, err := s.store.List(ctx, store.Query{})
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, f := range fs {
			n += f.Service.Count
		}
		return n
	}
	poll := func() {
		if err := s.w.Poll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	poll()
	if got := count(); got != 2 {
		t.Fatalf("after the first poll: %d probes counted, want 2 (the half line waits)", got)
	}
	poll()
	if got := count(); got != 2 {
		t.Fatalf("a poll with nothing new changed the count to %d", got)
	}
	f.WriteString(half[20:] + line(3))
	poll()
	if got := count(); got != 4 {
		t.Fatalf("after the append: %d probes counted, want 4", got)
	}
	// A new file in the directory.
	os.WriteFile(filepath.Join(logs, "more.log"), []byte(line(4)+line(5)), 0o644)
	poll()
	if got := count(); got != 6 {
		t.Fatalf("after a new file: %d probes counted, want 6", got)
	}
	// A deleted file is forgotten.
	os.Remove(filepath.Join(logs, "more.log"))
	poll()
	if n := len(s.w.pos.Files); n != 1 {
		t.Errorf("positions keep %d files, want 1 after a deletion", n)
	}
}
