// Package vpcflow decodes Amazon VPC Flow Logs in their space-separated text
// form into [event.Flow] records.
//
// A stream is read line by line. A line whose tokens all look like field
// names (lowercase letters, digits, hyphens or underscores) and include at
// least one documented field name is a header: it sets the column layout of
// the records that follow, until the next header. S3 delivers every file
// with such a header, so concatenated files simply repeat it. Any subset of
// the documented fields of versions 2 to 8 is accepted in any order; unknown
// names that look like field names are read past, so a field AWS adds later
// does not break a file. The Athena spelling with underscores (account_id)
// is accepted too.
//
// Before any header, a record is read by its number of fields: 14 is the
// default version 2 format, and 21, 25 and 29 are all the fields of versions
// 3, 4 and 5 in the documented order (the layout of CloudWatch Logs exports
// and AWS examples of "all fields" formats). Other counts are malformed.
// Once a header has been seen, every record must match it.
//
// "-" means the field is absent and leaves the zero value. Blank lines are
// skipped, CRLF line ends are accepted and a final line without newline is
// a record. A malformed record yields a [*decode.RecordError] and decoding
// goes on with the next line.
//
// The decoder reuses one line buffer and interns repeating strings
// (account, interface, VPC, subnet and instance IDs, region ...) in a small
// per-decoder table, so a typical record decodes without allocating.
package vpcflow

import (
	"bytes"
	"fmt"
	"io"

	"github.com/vigilsec/vigil/decode"
	"github.com/vigilsec/vigil/event"
)

const (
	initialBufSize = 64 << 10
	// maxLineSize bounds one line. Longer lines are skipped and reported as
	// malformed records; no real flow log line comes close.
	maxLineSize = 1 << 20
	// maxFields bounds the columns of a line.
	maxFields = 128
	// maxInterned caps the intern table; it is emptied when full.
	maxInterned = 4096
	// maxInternLen is the longest value interned; longer ones are copied.
	maxInternLen = 128
	// maxEmptyReads bounds successive (0, nil) reads, as bufio does.
	maxEmptyReads = 100
)

// Decoder reads VPC Flow Log records from a stream. It implements
// [decode.Decoder]. Create one with [NewDecoder].
type Decoder struct {
	r       io.Reader
	buf     []byte
	rpos    int   // start of unread data in buf
	wpos    int   // end of data in buf
	scanned int   // bytes from rpos known to hold no newline
	pending error // read error to report once buffered data is used up
	err     error // sticky error ending the stream
	maxLine int

	off   int64 // bytes consumed
	lines int64 // lines consumed
	recs  int64 // records consumed
	pos   decode.Position

	fmt    *format // layout from the last header; nil before any header
	header []byte  // the last header line, to skip rebuilding on repeats
	sp     fieldSpans

	strs map[string]string
	last [numFieldIDs]string // last value interned per field
}

var _ decode.Decoder = (*Decoder)(nil)

// NewDecoder returns a Decoder reading from r. The decoder buffers its input.
func NewDecoder(r io.Reader) *Decoder {
	return newDecoder(r, initialBufSize, maxLineSize)
}

func newDecoder(r io.Reader, bufSize, maxLine int) *Decoder {
	return &Decoder{
		r:       r,
		buf:     make([]byte, bufSize),
		maxLine: maxLine,
		strs:    make(map[string]string, 64),
	}
}

// Pos returns the position just after the last record consumed by Next,
// well-formed or not: Offset and Line count the bytes and lines up to and
// including that record's line end. Header and blank lines are counted with
// the record that follows them.
func (d *Decoder) Pos() decode.Position { return d.pos }

// Next decodes the next record into ev. It returns io.EOF when the input is
// exhausted; if the underlying reader later has more data (a file being
// appended to), Next goes on reading it. A *decode.RecordError reports a
// malformed record that was skipped. Any other error comes from the reader
// and ends the stream.
//
// At the end of input a final line without newline is decoded as a record,
// so a caller tailing a file that is still being written should only hand
// the decoder complete lines.
func (d *Decoder) Next(ev *event.Event) error {
	if d.err != nil {
		return d.err
	}
	for {
		start, startLine := d.off, d.lines+1
		line, err := d.readLine()
		if err == errTooLong {
			return d.recordError(ev, start, startLine, "", err)
		}
		if err != nil {
			if err == io.EOF {
				return io.EOF
			}
			d.err = fmt.Errorf("reading vpc flow logs: %w", err)
			return d.err
		}
		if startLine == 1 {
			line = bytes.TrimPrefix(line, utf8BOM)
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		sp := &d.sp
		if !sp.split(line) {
			return d.recordError(ev, start, startLine, "",
				fmt.Errorf("more than %d fields", maxFields))
		}
		if sp.n == 0 {
			continue // blank line
		}
		if c := line[sp.start[0]]; c >= 'a' && c <= 'z' {
			if _, ok := headerFields(line, sp); ok {
				d.setHeader(line, sp)
				continue
			}
		}

		fm := d.fmt
		if fm == nil {
			fm = defaultFormat(sp.n)
		}
		if fm == nil || sp.n != len(fm.ids) {
			return d.countError(ev, start, startLine, sp.n)
		}

		ev.Kind = event.KindFlow
		ev.Flow = event.Flow{}
		if i, err := d.parseRecord(&ev.Flow, fm, line, sp); err != nil {
			return d.recordError(ev, start, startLine, fm.names[i], err)
		}
		d.recs++
		d.pos = decode.Position{Offset: d.off, Record: d.recs, Line: d.lines}
		return nil
	}
}

var utf8BOM = []byte("\ufeff")

// recordError counts the malformed record that started at offset start on
// line startLine and returns its error.
func (d *Decoder) recordError(ev *event.Event, start, startLine int64, field string, err error) error {
	d.recs++
	d.pos = decode.Position{Offset: d.off, Record: d.recs, Line: d.lines}
	ev.Kind = event.KindFlow
	ev.Flow = event.Flow{}
	return &decode.RecordError{Line: startLine, Record: d.recs, Offset: start, Field: field, Err: err}
}

// countError reports a record with the wrong number of fields, naming the
// first missing field when there are too few.
func (d *Decoder) countError(ev *event.Event, start, startLine int64, n int) error {
	want := d.fmt
	if want == nil {
		want = formatV2
	}
	field, missing := "", ""
	if n < len(want.ids) {
		field, missing = want.names[n], "missing: "
	}
	if d.fmt == nil {
		return d.recordError(ev, start, startLine, field, fmt.Errorf(
			"%sline has %d fields, want 14 (default format) or 21, 25 or 29 (all fields of version 3, 4 or 5) without a header line",
			missing, n))
	}
	return d.recordError(ev, start, startLine, field,
		fmt.Errorf("%sline has %d fields, the header has %d", missing, n, len(want.ids)))
}

// intern returns b as a string, from the decoder's table when b was seen
// before so that repeating values do not allocate.
func (d *Decoder) intern(id fieldID, b []byte) string {
	if s := d.last[id]; s == string(b) {
		return s
	}
	if len(b) > maxInternLen {
		return string(b)
	}
	s, ok := d.strs[string(b)]
	if !ok {
		if len(d.strs) >= maxInterned {
			clear(d.strs)
		}
		s = string(b)
		d.strs[s] = s
	}
	d.last[id] = s
	return s
}

// setHeader makes the header line the layout of the records that follow.
func (d *Decoder) setHeader(line []byte, sp *fieldSpans) {
	if d.fmt != nil && bytes.Equal(line, d.header) {
		return
	}
	d.fmt = parseHeader(line, sp)
	d.header = append(d.header[:0], line...)
}

// readLine consumes the next line and returns it without its newline. The
// line is valid until the next call. At the end of input, a final line
// without newline is returned; then io.EOF, which is not sticky. A line
// longer than maxLine is consumed and reported as errTooLong.
func (d *Decoder) readLine() ([]byte, error) {
	discarding := false
	empty := 0
	for {
		if i := bytes.IndexByte(d.buf[d.rpos+d.scanned:d.wpos], '\n'); i >= 0 {
			end := d.rpos + d.scanned + i
			line := d.buf[d.rpos:end]
			d.off += int64(end + 1 - d.rpos)
			d.lines++
			d.rpos, d.scanned = end+1, 0
			if discarding {
				return nil, errTooLong
			}
			return line, nil
		}
		d.scanned = d.wpos - d.rpos

		// No newline buffered: read more, after making room.
		if d.pending != nil {
			err := d.pending
			d.pending = nil
			if err == io.EOF && (d.wpos > d.rpos || discarding) {
				// A final line without newline.
				line := d.buf[d.rpos:d.wpos]
				d.off += int64(d.wpos - d.rpos)
				d.lines++
				d.rpos, d.wpos, d.scanned = 0, 0, 0
				if discarding {
					return nil, errTooLong
				}
				return line, nil
			}
			return nil, err
		}
		if d.rpos > 0 {
			copy(d.buf, d.buf[d.rpos:d.wpos])
			d.wpos -= d.rpos
			d.rpos = 0
		}
		if d.wpos == len(d.buf) {
			if d.wpos >= d.maxLine {
				// Drop what we have of this line and keep looking for its end.
				discarding = true
				d.off += int64(d.wpos)
				d.wpos, d.scanned = 0, 0
			} else {
				nb := make([]byte, min(2*len(d.buf), d.maxLine))
				copy(nb, d.buf[:d.wpos])
				d.buf = nb
			}
		}
		n, err := d.r.Read(d.buf[d.wpos:])
		if n < 0 || n > len(d.buf)-d.wpos {
			n, err = 0, fmt.Errorf("invalid read count %d", n)
		}
		d.wpos += n
		if err != nil {
			d.pending = err
		} else if n == 0 {
			if empty++; empty >= maxEmptyReads {
				d.pending = io.ErrNoProgress
			}
		}
	}
}
