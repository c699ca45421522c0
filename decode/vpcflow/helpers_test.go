package vpcflow

import (
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/decode"
	"github.com/vigilsec/vigil/event"
)

// result is one outcome of Next: a flow or a record error, and Pos after it.
type result struct {
	Flow event.Flow
	Err  *decode.RecordError
	Pos  decode.Position
}

// decodeAll runs d to io.EOF (or to a stream error, which it returns).
func decodeAll(t testing.TB, d *Decoder) ([]result, error) {
	t.Helper()
	var out []result
	var ev event.Event
	for i := 0; ; i++ {
		if i > 1_000_000 {
			t.Fatal("Next does not terminate")
		}
		err := d.Next(&ev)
		if err == io.EOF {
			return out, nil
		}
		var re *decode.RecordError
		switch {
		case err == nil:
			if ev.Kind != event.KindFlow {
				t.Fatalf("Kind = %v, want flow", ev.Kind)
			}
			out = append(out, result{Flow: ev.Flow, Pos: d.Pos()})
		case errors.As(err, &re):
			out = append(out, result{Err: re, Pos: d.Pos()})
		default:
			return out, err
		}
	}
}

func decodeString(t testing.TB, s string) []result {
	t.Helper()
	out, err := decodeAll(t, NewDecoder(strings.NewReader(s)))
	if err != nil {
		t.Fatalf("stream error: %v", err)
	}
	return out
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func unix(s int64) time.Time { return time.Unix(s, 0).UTC() }
