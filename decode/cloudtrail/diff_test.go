package cloudtrail

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/vigilsec/vigil/event"
)

// diffAPI describes how got differs from want ("" when equal).
func diffAPI(got, want event.APICall) string {
	if len(got.Resources) == 0 {
		got.Resources = nil
	}
	if len(want.Resources) == 0 {
		want.Resources = nil
	}
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := 0; i < gv.NumField(); i++ {
		if !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
			return fmt.Sprintf("%s: got %v, want %v", gv.Type().Field(i).Name, gv.Field(i).Interface(), wv.Field(i).Interface())
		}
	}
	return ""
}

// TestDifferential compares the decoder with the encoding/json reference on
// generated records, compact and pretty-printed, as NDJSON and as a Records
// document.
func TestDifferential(t *testing.T) {
	const n = 3000
	var recs [][]byte
	for i := 0; i < n; i++ {
		r := genRecord(nil, i)
		if i%3 == 1 {
			var buf bytes.Buffer
			json.Indent(&buf, r, "", "\t")
			r = buf.Bytes()
		}
		recs = append(recs, r)
	}
	var doc, nd []byte
	doc = append(doc, `{"Records":[`...)
	for i, r := range recs {
		if i > 0 {
			doc = append(doc, ",\n"...)
		}
		doc = append(doc, r...)
		nd = append(nd, r...)
		nd = append(nd, '\n')
	}
	doc = append(doc, "]}"...)
	for _, in := range []struct {
		name string
		data []byte
	}{{"records", doc}, {"concatenated", nd}} {
		t.Run(in.name, func(t *testing.T) {
			d := NewDecoder(bytes.NewReader(in.data))
			var ev event.Event
			for i, r := range recs {
				if err := d.Next(&ev); err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				want, err := refDecode(r)
				if err != nil {
					t.Fatalf("record %d: reference: %v", i, err)
				}
				if diff := diffAPI(cloneAPI(ev.API), want); diff != "" {
					t.Fatalf("record %d: %s\n%s", i, diff, r)
				}
			}
		})
	}
}
