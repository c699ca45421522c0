package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/decode"
	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/finding"
	"github.com/vigilsec/vigil/pipeline"
)

// TestCheckpointCutOutOfOrder: stopping after any record, snapshotting the
// detectors and resuming from the snapshot gives the same findings as an
// uninterrupted run, also when an earlier file carried later event times
// (files are read in name order, not time order).
func TestCheckpointCutOutOfOrder(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "logs"), 0o755)
	big := filepath.Join(dir, "logs", "big.log")
	writeProbes(t, big, 20000, time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC))
	// Unrelated traffic three hours later, read first: it moves the event
	// time watermark past the windows of the probes that follow.
	later := filepath.Join(dir, "logs", "a-later.log")
	ts := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC).Unix()
	os.WriteFile(later, []byte(fmt.Sprintf("2 111122223333 eni-1 192.0.2.9 10.0.1.30 40000 443 6 9 2400 %d %d ACCEPT OK\n", ts, ts+60)), 0o644)
	lists := filepath.Join(dir, "s.txt")
	os.WriteFile(lists, []byte("198.51.100.23\n"), 0o644)
	cfg, _ := config.Parse(nil)
	cfg.Intel = []config.List{{Name: "s", Category: "scanner", Format: "txt", Path: lists}}
	run := func(cut int64) map[string]finding.Finding {
		p, _ := pipeline.Build(cfg, nil)
		agg := finding.NewAggregator()
		if _, err := p.RunFile(context.Background(), later, pipeline.FileOptions{}, agg.Add); err != nil {
			t.Fatal(err)
		}
		var snaps map[string][]byte
		if cut > 0 {
			stop := context.Canceled
			_, err := p.RunFile(context.Background(), big, pipeline.FileOptions{Every: func(pos decode.Position) error {
				if pos.Record == cut {
					snaps = map[string][]byte{}
					for _, d := range p.Detectors {
						if s, ok := d.(detect.Stateful); ok {
							b, _ := s.Snapshot()
							snaps[d.Name()] = b
						}
					}
					return stop
				}
				return nil
			}}, agg.Add)
			if err != stop {
				t.Fatal(err)
			}
			p, _ = pipeline.Build(cfg, nil)
			for _, d := range p.Detectors {
				if s, ok := d.(detect.Stateful); ok {
					if err := s.Restore(snaps[d.Name()]); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		if _, err := p.RunFile(context.Background(), big, pipeline.FileOptions{Skip: cut}, agg.Add); err != nil {
			t.Fatal(err)
		}
		out := map[string]finding.Finding{}
		for _, f := range agg.Findings() {
			out[f.ID] = f
		}
		return out
	}
	want := run(0)
	for _, cut := range []int64{1000, 4095, 7777, 13001} {
		got := run(cut)
		for id, w := range want {
			g := got[id]
			if g.Service.Count != w.Service.Count || g.Service.EventLastSeen != w.Service.EventLastSeen {
				t.Errorf("cut %d: %s count %d last %s; want %d %s", cut, w.Type, g.Service.Count, g.Service.EventLastSeen, w.Service.Count, w.Service.EventLastSeen)
			}
		}
	}
}
