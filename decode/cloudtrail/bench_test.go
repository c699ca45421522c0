package cloudtrail

import (
	"bytes"
	"io"
	"runtime"
	"testing"

	"github.com/vigilsec/vigil/event"
)

// countAll decodes everything d yields and returns the number of records.
func countAll(tb testing.TB, d *Decoder, ev *event.Event) int {
	n := 0
	for {
		err := d.Next(ev)
		if err == io.EOF {
			return n
		}
		if err != nil {
			tb.Fatal(err)
		}
		n++
	}
}

// TestAllocs asserts the steady-state allocation bound: with a warm decoder
// (Reset keeps buffers and the string cache) a Records document costs well
// under one allocation per record.
func TestAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("allocation counts are not meaningful under -cover or -race")
	}
	const n = 2000
	for _, shape := range []struct {
		name string
		data []byte
	}{{"records", genDoc(n)}, {"ndjson", genNDJSON(n)}} {
		d := NewDecoder(nil)
		var ev event.Event
		r := bytes.NewReader(shape.data)
		run := func() {
			r.Reset(shape.data)
			d.Reset(r)
			if got := countAll(t, d, &ev); got != n {
				t.Fatalf("%d records, want %d", got, n)
			}
		}
		run() // warm up
		perRecord := testing.AllocsPerRun(5, run) / n
		t.Logf("%s: %.4f allocs/record", shape.name, perRecord)
		// Budget: 3 allocs/record was the target; the decoder does far better.
		if perRecord > 0.05 {
			t.Errorf("%s: %.4f allocs/record, want <= 0.05", shape.name, perRecord)
		}
	}
}

// TestFlatMemory streams a large generated Records document (never held in
// memory) and checks that the heap stays bounded.
func TestFlatMemory(t *testing.T) {
	size := int64(50 << 20)
	if testing.Short() {
		size = 8 << 20
	}
	g := &docReader{size: size}
	d := NewDecoder(g)
	var ev event.Event
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	n := 0
	for {
		err := d.Next(&ev)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n%5000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	if n != g.n {
		t.Fatalf("decoded %d records, generated %d", n, g.n)
	}
	grow := int64(peak) - int64(base)
	t.Logf("%d records, %d MB streamed; HeapInuse base %.1f MB, peak %.1f MB, buffer %d KB", n, g.written>>20, float64(base)/1e6, float64(peak)/1e6, len(d.buf)>>10)
	if grow > 8<<20 {
		t.Errorf("heap grew by %.1f MB while streaming, want < 8 MB", float64(grow)/1e6)
	}
	if len(d.buf) > initialBufSize {
		t.Errorf("buffer grew to %d bytes", len(d.buf))
	}
}

// BenchmarkDecode measures decode throughput per core on generated records
// (~1.6 KB each, with nested requestParameters and an escaped policy).
//
//	go test -run '^$' -bench Decode -benchmem -cpu 1 ./decode/cloudtrail/
func BenchmarkDecode(b *testing.B) {
	const n = 2000
	for _, shape := range []struct {
		name string
		data []byte
	}{{"records", genDoc(n)}, {"ndjson", genNDJSON(n)}} {
		b.Run("shape="+shape.name, func(b *testing.B) {
			d := NewDecoder(nil)
			var ev event.Event
			r := bytes.NewReader(shape.data)
			b.SetBytes(int64(len(shape.data)))
			b.ReportAllocs()
			for b.Loop() {
				r.Reset(shape.data)
				d.Reset(r)
				if got := countAll(b, d, &ev); got != n {
					b.Fatalf("%d records", got)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkDecodeStream streams a generated 200 MB Records document through
// one decoder (the generator's own cost is included).
//
//	go test -run '^$' -bench DecodeStream -benchmem -cpu 1 ./decode/cloudtrail/
func BenchmarkDecodeStream(b *testing.B) {
	for b.Loop() {
		g := &docReader{size: 200 << 20}
		d := NewDecoder(g)
		var ev event.Event
		countAll(b, d, &ev)
		b.SetBytes(g.written)
	}
}
