package cloudtrail

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vigilsec/vigil/decode"
	"github.com/vigilsec/vigil/event"
)

type fuzzStep struct {
	api  event.APICall
	err  string
	pos  decode.Position
	kind int // 0 record, 1 record error, 2 end
}

// fuzzRun decodes data to the end and checks the invariants: no panic,
// termination, monotonic positions.
func fuzzRun(t *testing.T, r io.Reader, size int) []fuzzStep {
	d := NewDecoder(r)
	var ev event.Event
	var steps []fuzzStep
	var last decode.Position
	for i := 0; ; i++ {
		if i > size+2 {
			t.Fatalf("no termination after %d calls", i)
		}
		err := d.Next(&ev)
		p := d.Pos()
		if p.Record < last.Record || p.Offset < last.Offset || p.Line < last.Line {
			t.Fatalf("position went back: %+v after %+v", p, last)
		}
		if p.Offset > int64(size) {
			t.Fatalf("offset %d beyond input size %d", p.Offset, size)
		}
		var re *decode.RecordError
		switch {
		case err == nil:
			if p.Record != last.Record+1 {
				t.Fatalf("record: Pos().Record %d after %d", p.Record, last.Record)
			}
			steps = append(steps, fuzzStep{api: cloneAPI(ev.API), pos: p})
		case errors.As(err, &re):
			if p.Record != last.Record+1 || re.Record != p.Record {
				t.Fatalf("record error %v: Pos().Record %d after %d", err, p.Record, last.Record)
			}
			steps = append(steps, fuzzStep{err: err.Error(), pos: p, kind: 1})
		default:
			if d.Next(&ev) == nil {
				t.Fatalf("Next succeeded after final error %v", err)
			}
			return append(steps, fuzzStep{err: err.Error(), pos: p, kind: 2})
		}
		last = p
	}
}

func FuzzDecode(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/*.input")
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		if err != nil {
			continue
		}
		// Keep seeds small: the coverage-guided fuzzer slows to a crawl on
		// multi-KB seeds. Each input contributes its first lines.
		for len(data) > 1024 {
			cut := bytes.LastIndexByte(data[:1024], '\n')
			if cut < 0 {
				cut = 1024
			}
			f.Add(data[:cut+1])
			data = data[cut+1:]
			if len(data) <= 1024 {
				break
			}
		}
		f.Add(data)
	}
	f.Add(genRecord(nil, 1))
	f.Add(genDoc(1))
	f.Add([]byte(`[{"version":"0","detail-type":"x","detail":{"eventTime":"2024-01-01T00:00:00Z","eventName":"A"}}]`))
	f.Add([]byte("{\"Records\":[{\"eventTime\":\"2024-01-01T00:00:00Z\",\"eventName\":\"A\"}]}\n{\"eventTime\":\"2024-01-01T00:00:00Z\",\"eventName\":\"B\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		whole := fuzzRun(t, bytes.NewReader(data), len(data))
		bytewise := fuzzRun(t, oneByteReader{bytes.NewReader(data)}, len(data))
		if !reflect.DeepEqual(whole, bytewise) {
			t.Fatalf("result depends on read sizes:\nwhole:    %+v\nbytewise: %+v", whole, bytewise)
		}
	})
}
