package vpcflow

import (
	"bytes"

	"github.com/vigilsec/vigil/event"
)

// Sniff reports whether head, the first bytes of a decompressed stream, looks
// like VPC Flow Logs: its first non-blank line is either a header made of
// field names (at least two documented ones, and at least half of them) or a
// well-formed record in the default version 2 format (or the all-fields
// layout of versions 3 to 5). A first line cut short by the end of head is
// judged as it is.
func Sniff(head []byte) bool {
	head = bytes.TrimPrefix(head, utf8BOM)
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		var sp fieldSpans
		if !sp.split(line) {
			return false
		}
		if sp.n == 0 {
			continue
		}
		if known, ok := headerFields(line, &sp); ok {
			return known >= 2 && 2*known >= sp.n
		}
		fm := defaultFormat(sp.n)
		if fm == nil {
			return false
		}
		if v, ok := parseUint(sp.field(line, 0), 1<<10); !ok || v < 2 {
			return false
		}
		d := Decoder{strs: make(map[string]string)}
		var f event.Flow
		_, err := d.parseRecord(&f, fm, line, &sp)
		return err == nil
	}
	return false
}
