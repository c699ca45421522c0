package vpcflow

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/vigilsec/vigil/decode"
	"github.com/vigilsec/vigil/event"
)

// FuzzDecode checks that no input makes the decoder panic or loop, that
// positions only move forward, and that the result does not depend on how
// the input is split into reads or on the buffer size.
//
// Command: go test -run '^$' -fuzz FuzzDecode -fuzztime 60s ./decode/vpcflow/
func FuzzDecode(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/*.input")
	samples, _ := filepath.Glob(filepath.Join(samplesDir, "*.log"))
	for _, p := range append(inputs, samples...) {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{recV2, recV5, hdrV5 + "\n" + recV5b, "\n\r\n", "1.2.3.4", "version\n-\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		Sniff(data)
		a := fuzzRun(t, NewDecoder(bytes.NewReader(data)), len(data))
		b := fuzzRun(t, newDecoder(iotest.OneByteReader(bytes.NewReader(data)), 3, maxLineSize), len(data))
		compareResults(t, b, a)
	})
}

func fuzzRun(t *testing.T, d *Decoder, size int) []result {
	var out []result
	var ev event.Event
	var prev decode.Position
	for {
		if len(out) > size+1 {
			t.Fatalf("%d results from %d bytes: Next does not terminate", len(out), size)
		}
		err := d.Next(&ev)
		if err == io.EOF {
			if err := d.Next(&ev); err != io.EOF {
				t.Fatalf("Next after io.EOF = %v", err)
			}
			return out
		}
		pos := d.Pos()
		if pos.Record != prev.Record+1 || pos.Offset <= prev.Offset || pos.Offset > int64(size) || pos.Line <= prev.Line {
			t.Fatalf("Pos() went from %+v to %+v (input %d bytes)", prev, pos, size)
		}
		r := result{Flow: ev.Flow, Pos: pos}
		var re *decode.RecordError
		switch {
		case err == nil:
			if ev.Kind != event.KindFlow {
				t.Fatalf("Kind = %v", ev.Kind)
			}
		case errors.As(err, &re):
			if re.Record != pos.Record || re.Offset < prev.Offset || re.Offset >= pos.Offset ||
				re.Line <= prev.Line || re.Line > pos.Line {
				t.Fatalf("RecordError %+v between %+v and %+v", re, prev, pos)
			}
			r.Err = re
		default:
			t.Fatalf("stream error from a bytes.Reader: %v", err)
		}
		out = append(out, r)
		prev = pos
	}
}
