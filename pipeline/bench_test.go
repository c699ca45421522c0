package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/demo"
	"github.com/vigilsec/vigil/finding"
	"github.com/vigilsec/vigil/ingest"
)

// benchPipeline builds the demo estate's pipeline (lists, trusted list,
// inventory, ip-ranges) with every detector on, plus a large threat list
// (200,000 addresses and 100,000 domains) so that look-ups run against a
// realistic table rather than a handful of entries.
func benchPipeline(b *testing.B) *Pipeline {
	b.Helper()
	dir := b.TempDir()
	m, err := demo.Generate(demo.Options{Dir: dir, Seed: 1, Scale: 1})
	if err != nil {
		b.Fatal(err)
	}
	var big strings.Builder
	r := rand.New(rand.NewPCG(7, 7))
	for range 200000 {
		a := netip.AddrFrom4([4]byte{byte(1 + r.IntN(223)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
		fmt.Fprintln(&big, a)
	}
	for i := range 100000 {
		fmt.Fprintf(&big, "bad%d-%x.example\n", i, r.Uint32())
	}
	biglist := filepath.Join(dir, "big.txt")
	if err := os.WriteFile(biglist, []byte(big.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Load(m.Config)
	if err != nil {
		b.Fatal(err)
	}
	cfg.Intel = append(cfg.Intel, config.List{Name: "big", Category: "malicious", Format: "txt", Path: biglist})
	p, err := Build(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkPipeline measures decode, enrichment and every detector end to
// end, one core, from uncompressed bytes in memory:
//
//	go test -run '^$' -bench Pipeline -benchmem -cpu 1 ./pipeline/
func BenchmarkPipeline(b *testing.B) {
	p := benchPipeline(b)
	start := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	inputs := []struct {
		name  string
		n     int
		write func(*bytes.Buffer, int) error
	}{
		{"vpcflow", 400000, func(w *bytes.Buffer, n int) error { return demo.WriteFlows(w, n, 1, start) }},
		{"route53", 200000, func(w *bytes.Buffer, n int) error { return demo.WriteDNS(w, n, 1, start) }},
		{"cloudtrail", 50000, func(w *bytes.Buffer, n int) error { return demo.WriteCloudTrail(w, n, 1, start) }},
	}
	for _, in := range inputs {
		var buf bytes.Buffer
		if err := in.write(&buf, in.n); err != nil {
			b.Fatal(err)
		}
		data := buf.Bytes()
		b.Run("source="+in.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var records int64
			emit := func(*finding.Finding) {}
			for b.Loop() {
				s, err := ingest.OpenReader(in.name, bytes.NewReader(data), ingest.Options{})
				if err != nil {
					b.Fatal(err)
				}
				res, err := p.RunStream(context.Background(), s, FileOptions{}, emit)
				if err != nil || res.Err != nil {
					b.Fatal(err, res.Err)
				}
				if res.Records != int64(in.n) {
					b.Fatalf("decoded %d records, want %d (malformed %d)", res.Records, in.n, res.Malformed)
				}
				records += res.Records
			}
			b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(records), "ns/record")
		})
	}
}
