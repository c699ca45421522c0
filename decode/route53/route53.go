// Package route53 decodes Amazon Route 53 Resolver query logs: one JSON object
// per line, as Resolver delivers them to S3 or Firehose. (CloudWatch Logs
// subscription envelopes, which batch several records in one document, are
// not unwrapped here.)
//
// The decoder scans each line by hand instead of using encoding/json, so a
// typical record costs one allocation (the query name and the answers' Rdata
// share one string, so keeping QueryName alone keeps that whole string alive:
// clone it to hold it long) plus one for an IPv6 source address. Low-cardinality
// strings (account, region, VPC, query type, rcode, firewall IDs ...) go
// through a small per-decoder intern table. Unknown keys are skipped, so newer
// log versions decode as long as the documented keys keep their meaning.
//
// A decoded [event.DNSQuery] is owned by the decoder: its Answers slice is
// reused, and the Event is valid until the next call to Next.
//
// The decoder is line-oriented and follows a growing file: after Next returns
// io.EOF it may be called again, and it picks up whatever was appended. A final
// line without a newline is returned only once it is a complete record; an
// incomplete one is held back as a write still in progress (see
// [Decoder.Pending]).
package route53

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/vigilsec/vigil/decode"
	"github.com/vigilsec/vigil/event"
)

const (
	initialBuf = 64 << 10 // first read buffer size
	// MaxLine is the longest line accepted. A longer line is skipped and
	// reported as one malformed record.
	MaxLine = 1 << 20

	internCap    = 4096 // entries in the intern table before it is reset
	internMaxLen = 128  // longer strings are not interned
)

// errLineTooLong is the cause of the RecordError for a line over MaxLine.
var errLineTooLong = fmt.Errorf("line longer than %d bytes", MaxLine)

// Decoder decodes Route 53 Resolver query log lines. It implements
// [decode.Decoder]. It is not safe for concurrent use.
type Decoder struct {
	r    io.Reader
	buf  []byte
	beg  int   // buf[beg:end] is read but not consumed
	end  int   //
	scan int   // bytes of buf[beg:end] known to hold no newline
	rerr error // read error held back until buffered data is consumed
	zero int   // consecutive (0, nil) reads

	off  int64 // decompressed bytes consumed
	line int64 // lines consumed
	rec  int64 // records consumed
	pos  decode.Position

	discard     bool // dropping the rest of an over-long line
	discardOff  int64
	discardLine int64
	pendingNL   bool // the last record was an unterminated final line

	intern  map[string]string
	last    [numSlots]string // last interned value of each field
	arena   []byte           // query_name and Rdata of the current record
	kbuf    []byte           // unescaped key
	vbuf    []byte           // unescaped value
	answers []event.DNSAnswer
	rdata   []span // arena span of answers[i].Rdata

	lastTS  [19]byte // "YYYY-MM-DDTHH:MM:SS" of the last timestamp
	lastSec time.Time
}

type span struct{ beg, end int }

// NewDecoder returns a decoder reading query log lines from r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: r}
}

var _ decode.Decoder = (*Decoder)(nil)

// Pos returns the position just after the last record consumed by Next,
// malformed ones included. Offset counts the bytes through the end of that
// record's line (its newline included) and Line the lines consumed, blank ones
// included.
func (d *Decoder) Pos() decode.Position { return d.pos }

// Pending returns how many bytes of an unterminated final line are held back
// because they do not form a complete record yet. At the true end of a file that
// is no longer written, a non-zero value means the file ends in a truncated
// record.
func (d *Decoder) Pending() int {
	if d.discard {
		return int(d.off-d.discardOff) + d.end - d.beg
	}
	return d.end - d.beg
}

// Next decodes the next record into ev.Kind and ev.DNS. It returns io.EOF when
// the input holds no further complete line; calling it again later reads
// anything appended since. A malformed line yields a *[decode.RecordError] and
// decoding goes on with the next line. Any other error comes from the
// underlying reader.
func (d *Decoder) Next(ev *event.Event) error {
	for {
		if d.discard {
			if i := bytes.IndexByte(d.buf[d.beg:d.end], '\n'); i >= 0 {
				d.off += int64(i + 1)
				d.beg += i + 1
				d.scan = 0
				d.line++
				d.rec++
				d.discard = false
				d.snapshot()
				return &decode.RecordError{Line: d.discardLine, Record: d.rec, Offset: d.discardOff, Err: errLineTooLong}
			}
			d.off += int64(d.end - d.beg)
			d.beg, d.end, d.scan = 0, 0, 0
		} else if i := bytes.IndexByte(d.buf[d.beg+d.scan:d.end], '\n'); i >= 0 {
			lineEnd := d.beg + d.scan + i
			line := d.buf[d.beg:lineEnd]
			lineOff := d.off
			d.off += int64(lineEnd + 1 - d.beg)
			d.beg = lineEnd + 1
			d.scan = 0
			if d.pendingNL {
				d.pendingNL = false
				if len(line) == 0 {
					// The newline that ends the record returned at EOF.
					continue
				}
			}
			d.line++
			if d.line == 1 {
				line = bytes.TrimPrefix(line, bom)
			}
			if isBlank(line) {
				continue
			}
			return d.record(line, lineOff, ev)
		} else {
			d.scan = d.end - d.beg
			if d.scan >= MaxLine {
				d.discard = true
				d.discardOff = d.off
				d.discardLine = d.line + 1
				d.pendingNL = false
				continue
			}
		}

		n, err := d.fill()
		switch {
		case n > 0:
			d.zero = 0
		case err == io.EOF:
			return d.atEOF(ev)
		case err != nil:
			return err
		default:
			if d.zero++; d.zero >= 100 {
				d.zero = 0
				return io.ErrNoProgress
			}
		}
	}
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// atEOF handles the end of the input: an unterminated final line is returned
// if it is a complete record and held back otherwise.
func (d *Decoder) atEOF(ev *event.Event) error {
	if d.discard || d.beg == d.end {
		return io.EOF
	}
	d.pendingNL = false
	line := d.buf[d.beg:d.end]
	if d.line == 0 {
		line = bytes.TrimPrefix(line, bom)
	}
	if isBlank(line) {
		return io.EOF
	}
	if _, err := d.parse(line, &ev.DNS); err != nil {
		return io.EOF
	}
	ev.Kind = event.KindDNS
	d.off += int64(d.end - d.beg)
	d.beg, d.end, d.scan = 0, 0, 0
	d.line++
	d.rec++
	d.pendingNL = true
	d.snapshot()
	return nil
}

func (d *Decoder) record(line []byte, lineOff int64, ev *event.Event) error {
	d.rec++
	d.snapshot()
	field, err := d.parse(line, &ev.DNS)
	if err != nil {
		return &decode.RecordError{Line: d.line, Record: d.rec, Offset: lineOff, Field: field, Err: err}
	}
	ev.Kind = event.KindDNS
	return nil
}

func (d *Decoder) snapshot() {
	d.pos = decode.Position{Offset: d.off, Record: d.rec, Line: d.line}
}

// fill reads more input after the unconsumed bytes, growing the buffer when it
// is full.
func (d *Decoder) fill() (int, error) {
	if d.rerr != nil {
		err := d.rerr
		d.rerr = nil
		return 0, err
	}
	if d.beg > 0 {
		d.end = copy(d.buf, d.buf[d.beg:d.end])
		d.beg = 0
	}
	if d.end == len(d.buf) {
		n := max(2*len(d.buf), initialBuf)
		n = min(n, MaxLine)
		if n <= len(d.buf) {
			n = len(d.buf) + 1 // not reached: Next discards at MaxLine
		}
		nb := make([]byte, n)
		copy(nb, d.buf[:d.end])
		d.buf = nb
	}
	n, err := d.r.Read(d.buf[d.end:])
	if n < 0 || n > len(d.buf)-d.end {
		return 0, errors.New("route53: reader returned an invalid count")
	}
	d.end += n
	if n > 0 && err != nil {
		if err != io.EOF {
			d.rerr = err
		}
		err = nil
	}
	return n, err
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// Sniff reports whether head, the first bytes of a decompressed stream, looks
// like a Route 53 Resolver query log: its first non-blank line decodes as a
// query log record, or (when it is malformed or cut off by the end of head) it
// is a JSON object that names the query_name and query_timestamp keys.
func Sniff(head []byte) bool {
	head = bytes.TrimPrefix(head, bom)
	for len(head) > 0 {
		line, rest, _ := bytes.Cut(head, []byte{'\n'})
		head = rest
		if isBlank(line) {
			continue
		}
		var d Decoder
		var q event.DNSQuery
		if _, err := d.parse(line, &q); err == nil {
			return true
		}
		l := bytes.TrimLeft(line, " \t\r")
		return len(l) > 0 && l[0] == '{' &&
			bytes.Contains(l, []byte(`"query_name"`)) &&
			bytes.Contains(l, []byte(`"query_timestamp"`))
	}
	return false
}
