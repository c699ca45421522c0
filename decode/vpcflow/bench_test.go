package vpcflow

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/event"
)

// genInput returns n deterministic records (plus a header for v5) shaped like
// the workload of spec/deps.md §2: about 5 % IPv6, 2 % NODATA and 10 % REJECT,
// over a few accounts, interfaces and subnets.
func genInput(version, n int) string {
	rng := rand.New(rand.NewPCG(42, uint64(version)))
	var sb strings.Builder
	if version == 5 {
		sb.WriteString(hdrV5 + "\n")
	}
	accounts := []string{"123456789010", "210987654321", "555555555555"}
	const t0 = 1700000000
	for i := range n {
		acct := accounts[rng.IntN(len(accounts))]
		eni := fmt.Sprintf("eni-%017x", rng.IntN(200))
		start := t0 + i/50
		prefix := fmt.Sprintf("%d %s %s ", version, acct, eni)
		var v5 string
		if version == 5 {
			v5 = fmt.Sprintf(" vpc-%017x subnet-%017x i-%017x", rng.IntN(4), rng.IntN(20), rng.IntN(300))
		}
		if rng.IntN(100) < 2 {
			sb.WriteString(prefix + "- - - - - - - ")
			fmt.Fprintf(&sb, "%d %d - NODATA", start, start+60)
			if version == 5 {
				sb.WriteString(v5 + " - - - - us-east-1 use1-az1 - - - - - -")
			}
			sb.WriteString("\n")
			continue
		}
		var src, dst string
		if rng.IntN(100) < 5 {
			src = fmt.Sprintf("2001:db8:%x:%x::%x", rng.IntN(65536), rng.IntN(65536), rng.IntN(65536))
			dst = fmt.Sprintf("2600:1f18:%x::%x:%x", rng.IntN(65536), rng.IntN(65536), rng.IntN(65536))
		} else {
			src = fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), rng.IntN(256))
			dst = fmt.Sprintf("%d.%d.%d.%d", 1+rng.IntN(223), rng.IntN(256), rng.IntN(256), rng.IntN(256))
		}
		action := "ACCEPT"
		if rng.IntN(100) < 10 {
			action = "REJECT"
		}
		proto := []int{6, 6, 6, 17, 17, 1}[rng.IntN(6)]
		pk := 1 + rng.IntN(1000)
		sb.WriteString(prefix)
		fmt.Fprintf(&sb, "%s %s %d %d %d %d %d %d %d %s OK", src, dst, 1024+rng.IntN(64000), []int{443, 80, 22, 53, 3389}[rng.IntN(5)],
			proto, pk, pk*(40+rng.IntN(1400)), start, start+60, action)
		if version == 5 {
			typ := "IPv4"
			if strings.Contains(src, ":") {
				typ = "IPv6"
			}
			dir := []string{"ingress", "egress"}[rng.IntN(2)]
			svc := []string{"-", "-", "-", "AMAZON", "S3"}[rng.IntN(5)]
			fmt.Fprintf(&sb, "%s %d %s %s %s us-east-1 use1-az%d - - - %s %s %d", v5, rng.IntN(32), typ, src, dst, 1+rng.IntN(6), svc, dir, 1+rng.IntN(8))
		}
		sb.WriteString("\n")
	}
	return sb.String()
}

// cycleReader reads data over and over, starting again after the first
// skip bytes (past a header line) when it wraps.
type cycleReader struct {
	data []byte
	skip int
	off  int
}

func (c *cycleReader) Read(p []byte) (int, error) {
	if c.off == len(c.data) {
		c.off = c.skip
	}
	n := copy(p, c.data[c.off:])
	c.off += n
	return n, nil
}

func newCycle(input string, version int) *cycleReader {
	skip := 0
	if version == 5 {
		skip = strings.IndexByte(input, '\n') + 1
	}
	return &cycleReader{data: []byte(input), skip: skip}
}

// TestAllocs asserts that a typical record decodes without allocating.
func TestAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping allocation test in short mode")
	}
	inputs := map[string]string{
		"v2":   strings.Repeat(recV2+"\n", 10),
		"v5":   hdrV5 + "\n" + strings.Repeat(recV5+"\n"+recV5b+"\n", 10),
		"ipv6": strings.Repeat("2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8::1 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK\n", 10),
		"gen2": genInput(2, 2000),
		"gen5": genInput(5, 2000),
	}
	for name, input := range inputs {
		t.Run(name, func(t *testing.T) {
			version := 2
			if strings.HasPrefix(input, "version") {
				version = 5
			}
			d := NewDecoder(newCycle(input, version))
			var ev event.Event
			next := func() {
				if err := d.Next(&ev); err != nil {
					t.Fatal(err)
				}
			}
			for range 5000 { // warm the intern table
				next()
			}
			if a := testing.AllocsPerRun(2000, next); a != 0 {
				t.Errorf("%v allocations per record, want 0", a)
			}
		})
	}
}

// Command: go test -run '^$' -bench Decode -benchmem -cpu 1 ./decode/vpcflow/
//
// Each iteration decodes one record of a deterministic generated workload
// (see genInput) read from memory.
func BenchmarkDecode(b *testing.B) {
	for _, version := range []int{2, 5} {
		// Command: go test -run '^$' -bench 'Decode/format=v2' -benchmem -cpu 1 ./decode/vpcflow/
		// Command: go test -run '^$' -bench 'Decode/format=v5' -benchmem -cpu 1 ./decode/vpcflow/
		b.Run(fmt.Sprintf("format=v%d", version), func(b *testing.B) {
			const n = 20000
			input := genInput(version, n)
			d := NewDecoder(newCycle(input, version))
			var ev event.Event
			b.SetBytes(int64(len(input) / n))
			b.ReportAllocs()
			records := 0
			for b.Loop() {
				if err := d.Next(&ev); err != nil {
					b.Fatal(err)
				}
				records++
			}
			b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkFile decodes a whole generated stream per iteration,
// decoder creation included.
//
// Command: go test -run '^$' -bench File -benchmem -cpu 1 ./decode/vpcflow/
func BenchmarkFile(b *testing.B) {
	for _, version := range []int{2, 5} {
		b.Run(fmt.Sprintf("format=v%d", version), func(b *testing.B) {
			const n = 20000
			input := genInput(version, n)
			r := strings.NewReader(input)
			var ev event.Event
			b.SetBytes(int64(len(input)))
			b.ReportAllocs()
			records := 0
			for b.Loop() {
				r.Reset(input)
				d := NewDecoder(r)
				for {
					err := d.Next(&ev)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					records++
				}
			}
			b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
