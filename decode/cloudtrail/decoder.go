// Package cloudtrail decodes AWS CloudTrail records into [event.APICall]
// events.
//
// A [Decoder] reads a decompressed stream and recognises its shape by content,
// not by file name. A stream may hold any sequence of:
//
//   - S3 delivery documents, {"Records":[{...},{...}]} (Records need not be
//     the first key). The Records array is streamed, so memory stays flat
//     however large the document is;
//   - bare arrays of records, [{...},{...}];
//   - single records, one per line (NDJSON) or simply concatenated;
//   - EventBridge events whose detail is a record ("detail-type": "AWS API
//     Call via CloudTrail" and friends), one per line or in an array;
//   - CloudWatch Logs subscription payloads whose logEvents carry one record
//     each, as a JSON string in "message" (a CONTROL_MESSAGE yields nothing);
//   - CloudTrail digest files, which yield nothing ([Sniff] tells them apart).
//
// The decoder is a hand-written streaming JSON scanner: it does not use
// encoding/json and it does not allocate per record in the steady state.
//
// # What a record needs
//
// A record must be a JSON object with a parseable string eventTime and a
// non-empty string eventName. Other known fields are optional, but when
// present they must have the right JSON type: strings may be null; readOnly
// and managementEvent may be booleans or the strings "true"/"false";
// mfaAuthenticated and sessionCredentialFromConsole may be booleans; an
// element of resources may be an object or, as in EventBridge, an ARN string.
// eventTime is RFC 3339 (also accepted: a space instead of the T, and no zone,
// meaning UTC); times are returned in UTC. sourceIPAddress is also parsed into
// SourceIP when it is an address (IPv4-mapped IPv6 addresses are unmapped).
// Unknown fields are skipped. A record that breaks these rules, or is not
// valid JSON, is reported as a *decode.RecordError naming the record, its
// offset, its line (for line-oriented input) and the field at fault, and
// decoding goes on with the next record. Key matching is case-sensitive first
// and falls back to a case-insensitive match, so the spellings
// sourceIpAddress, eventId, requestId and resources[].arn are accepted too.
//
// # Lifetime of decoded values
//
// Next fills an [event.Event] in place. Low-cardinality strings (event names
// and sources, regions, account IDs, identity and issuer fields, user agents,
// source addresses, error codes ...) come from a bounded per-decoder cache of
// ordinary Go strings and may be kept. The high-cardinality strings EventID,
// RequestID, SharedEventID, ErrorMessage and Resources[].ARN, and the raw JSON
// fields RequestParameters, ResponseElements, AdditionalEventData and
// ServiceEventDetails alias the decoder's buffers: they are valid only until
// the next call to Next (or Reset), after which their contents change.
// Callers that keep them must copy them (strings.Clone, bytes.Clone), as the
// [event] package contract says.
package cloudtrail

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/vigilsec/vigil/decode"
	"github.com/vigilsec/vigil/event"
)

const (
	initialBufSize = 64 << 10
	// MaxRecordSize is the largest single JSON value (a record, or a member
	// of a container object other than its Records array) the decoder
	// accepts. CloudTrail records are at most a few hundred KB.
	MaxRecordSize = 32 << 20
	maxZeroReads  = 100
)

type frameKind uint8

const (
	fTopArray  frameKind = iota + 1 // elements of a top-level array
	fContainer                      // members of a Records document or CloudWatch payload
	fArray                          // elements of a streamed Records, logEvents or logFiles array
)

// Frame states.
const (
	stFirst     uint8 = iota // array: an element or ']'; container: unused
	stAfterElem              // array: ',' or ']'; container: ',' or '}'
	stNeedElem               // array: an element after ','; container: a key after ','
)

type frame struct {
	kind    frameKind
	state   uint8
	elem    containerKind // fArray: what the elements are
	control bool          // fContainer: CloudWatch CONTROL_MESSAGE
}

// retry tracks a value that needed more input, so that a value arriving in
// many small reads is not parsed again from its start after every read: it is
// parsed again once a bracket scan (continued incrementally over the new
// bytes) says it may be complete, or once the data has doubled since the last
// attempt (which bounds the work for container prefixes).
type retry struct {
	start   int64 // stream offset of the value
	tried   int64 // stream offset of the end of the data at the last attempt
	scanned int64 // stream offset the bracket scan reached
	depth   int
	inStr   bool
	esc     bool
	done    bool
}

// worthParsing reports whether the value at buf index i should be parsed now.
func (d *Decoder) worthParsing(i int) bool {
	p := &d.pend
	abs := d.base + int64(i)
	if p.start != abs || d.eof || p.done {
		return true
	}
	b := d.buf[:d.w]
	j := int(p.scanned - d.base)
scan:
	for ; j < len(b); j++ {
		c := b[j]
		if p.inStr {
			switch {
			case p.esc:
				p.esc = false
			case c == '\\':
				p.esc = true
			case c == '"':
				p.inStr = false
			}
			continue
		}
		switch c {
		case '"':
			p.inStr = true
		case '{', '[':
			p.depth++
		case '}', ']':
			p.depth--
			if p.depth <= 0 {
				p.done = true
				break scan
			}
		}
	}
	p.scanned = d.base + int64(j)
	return p.done || d.base+int64(d.w)-abs >= 2*(p.tried-abs)
}

// needMore records that the value at buf index i ran past the data.
func (d *Decoder) needMore(i int) (stepResult, error) {
	abs := d.base + int64(i)
	if d.pend.start != abs {
		d.pend = retry{start: abs, scanned: abs}
	}
	d.pend.tried = d.base + int64(d.w)
	return stepNeedMore, nil
}

type stepResult uint8

const (
	stepAgain stepResult = iota
	stepRecord
	stepError
	stepNeedMore
)

// Decoder decodes CloudTrail records. It implements [decode.Decoder]. It is
// not safe for concurrent use.
type Decoder struct {
	r    io.Reader
	buf  []byte
	pos  int   // next unparsed byte of buf
	w    int   // end of the data in buf
	base int64 // stream offset of buf[0]
	eof  bool  // the reader reported io.EOF during this call to Next

	fatal     error
	zeroReads int
	bomDone   bool

	frames []frame

	lineMark int   // buf index up to which newlines are counted
	lines    int64 // newlines before lineMark
	records  int64
	p        decode.Position

	// resync: after a syntax error in a top-level value, skip to the next
	// line that starts with '{' or '['; pending is returned then.
	resync  bool
	pending *decode.RecordError

	pend retry

	// Record scratch, reused across records.
	rs     recState
	arena  []byte // unescaped strings of the current record
	keyBuf []byte
	msg    []byte // unescaped CloudWatch Logs message
	cache  internCache
}

// NewDecoder returns a decoder reading r, which must yield decompressed
// content.
func NewDecoder(r io.Reader) *Decoder {
	d := &Decoder{}
	d.Reset(r)
	return d
}

// Reset makes d read a new stream from r, keeping its buffers and string
// cache. Positions start again from zero.
func (d *Decoder) Reset(r io.Reader) {
	buf, arena, keyBuf, msg, cache, frames := d.buf, d.arena[:0], d.keyBuf[:0], d.msg[:0], d.cache, d.frames[:0]
	if buf == nil {
		buf = make([]byte, initialBufSize)
	}
	*d = Decoder{r: r, buf: buf, arena: arena, keyBuf: keyBuf, msg: msg, cache: cache, frames: frames, pend: retry{start: -1}}
}

// Pos returns the position just after the last record consumed by Next.
func (d *Decoder) Pos() decode.Position { return d.p }

// Next decodes the next record into ev. See [decode.Decoder] for the
// contract. In addition:
//
//   - io.EOF is returned at the end of the input. A later call reads again,
//     so a growing NDJSON file can be tailed.
//   - An input that ends inside a value returns an error wrapping
//     io.ErrUnexpectedEOF that names the offset. The incomplete bytes are kept:
//     if the reader later yields more data, Next goes on.
//   - A document whose structure is broken (for example a missing comma
//     between records) returns an error that names the offset; that error is
//     final.
func (d *Decoder) Next(ev *event.Event) error {
	if d.fatal != nil {
		return d.fatal
	}
	d.arena = d.arena[:0]
	d.eof = false
	for {
		res, err := d.step(ev)
		switch res {
		case stepRecord:
			return nil
		case stepError:
			return err
		case stepNeedMore:
			if d.eof {
				return d.atEOF()
			}
			if err := d.fill(); err != nil {
				if err != io.EOF {
					d.fatal = err
					return err
				}
				d.eof = true
			}
		}
	}
}

// fill reads more input, keeping buf[pos:w].
func (d *Decoder) fill() error {
	if d.pos > 0 {
		d.countTo(d.pos)
		n := copy(d.buf, d.buf[d.pos:d.w])
		d.base += int64(d.pos)
		d.lineMark -= d.pos
		d.w = n
		d.pos = 0
	}
	if d.w == len(d.buf) {
		if len(d.buf) >= MaxRecordSize {
			return fmt.Errorf("cloudtrail: value at offset %d is larger than %d bytes", d.base, MaxRecordSize)
		}
		nb := make([]byte, 2*len(d.buf))
		copy(nb, d.buf[:d.w])
		d.buf = nb
	}
	n, err := d.r.Read(d.buf[d.w:])
	d.w += n
	if n > 0 {
		d.zeroReads = 0
		if err == io.EOF {
			// Use the bytes now; the next read reports EOF again.
			err = nil
		}
	}
	if err != nil {
		if err == io.EOF {
			return io.EOF
		}
		return fmt.Errorf("cloudtrail: reading input at offset %d: %w", d.base+int64(d.w), err)
	}
	if n == 0 {
		d.zeroReads++
		if d.zeroReads > maxZeroReads {
			return fmt.Errorf("cloudtrail: reading input: %w", io.ErrNoProgress)
		}
	}
	return nil
}

// atEOF decides what Next returns when the input ends.
func (d *Decoder) atEOF() error {
	if d.resync {
		// The malformed value runs to the end of the input.
		d.resync = false
		d.pos = d.w
		d.consumed(d.w)
		err := d.pending
		d.pending = nil
		return err
	}
	if len(d.frames) == 0 && d.pos == d.w {
		return io.EOF
	}
	where := "record"
	if n := len(d.frames); n > 0 {
		switch f := d.frames[n-1]; {
		case f.kind == fTopArray:
			where = "array"
		case f.kind == fContainer:
			where = "document"
		case f.elem == arrRecords:
			where = "Records array"
		case f.elem == arrLogEvents:
			where = "logEvents array"
		default:
			where = "logFiles array"
		}
	}
	return fmt.Errorf("cloudtrail: input ends inside %s at offset %d: %w", where, d.base+int64(d.w), io.ErrUnexpectedEOF)
}

// countTo counts the newlines of buf up to index i.
func (d *Decoder) countTo(i int) {
	if i > d.lineMark {
		d.lines += int64(bytes.Count(d.buf[d.lineMark:i], []byte{'\n'}))
		d.lineMark = i
	}
}

// consumed records that everything up to buf index end was consumed by the
// last record.
func (d *Decoder) consumed(end int) {
	d.countTo(end)
	d.p = decode.Position{Offset: d.base + int64(end), Record: d.records, Line: d.lines}
}

// structErr makes the final error for a broken document.
func (d *Decoder) structErr(i int, what string) (stepResult, error) {
	c := ""
	if i < d.w {
		c = fmt.Sprintf(" (found %q)", d.buf[i])
	}
	d.fatal = fmt.Errorf("cloudtrail: malformed document at offset %d: %s%s", d.base+int64(i), what, c)
	return stepError, d.fatal
}

func (d *Decoder) step(ev *event.Event) (stepResult, error) {
	if d.resync {
		return d.stepResync()
	}
	if len(d.frames) == 0 {
		return d.stepTop(ev)
	}
	switch f := &d.frames[len(d.frames)-1]; f.kind {
	case fContainer:
		return d.stepContainer(f)
	default:
		return d.stepArray(ev, f)
	}
}

func (d *Decoder) stepTop(ev *event.Event) (stepResult, error) {
	b := d.buf[:d.w]
	i := d.pos
	if !d.bomDone {
		if d.base == 0 && i == 0 {
			if len(b) < 3 && bytes.HasPrefix([]byte("\xef\xbb\xbf"), b) && !d.eof {
				return stepNeedMore, nil
			}
			if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
				i = 3
			}
		}
		d.bomDone = true
	}
	i = skipWS(b, i)
	d.pos = i
	if i >= len(b) {
		return stepNeedMore, nil
	}
	switch b[i] {
	case '{':
		return d.record(ev, i, true)
	case '[':
		d.frames = append(d.frames, frame{kind: fTopArray})
		d.pos = i + 1
		return stepAgain, nil
	}
	j := skipValue(b, i, 0)
	switch {
	case j == needMore:
		return stepNeedMore, nil
	case j == badSyntax:
		return d.syntaxErr(ev, b, i)
	}
	d.records++
	err := d.recordErr(i, true, "", ErrNotObject)
	d.pos = j
	d.consumed(j)
	return stepError, err
}

// recordErr makes the RecordError of the record starting at buf index
// start. Call it before consumed.
func (d *Decoder) recordErr(start int, top bool, field string, err error) *decode.RecordError {
	d.countTo(start)
	re := &decode.RecordError{Record: d.records, Offset: d.base + int64(start), Field: field, Err: err}
	if line := d.lines + 1; top || line > 1 {
		re.Line = line
	}
	return re
}

// syntaxErr handles a top-level value at buf index start that is not JSON:
// the error is reported once the decoder has skipped to the next line that
// starts with '{' or '['.
func (d *Decoder) syntaxErr(ev *event.Event, b []byte, start int) (stepResult, error) {
	d.records++
	d.pending = d.recordErr(start, true, "", d.describeSyntax(b, start))
	d.resync = true
	d.pos = start + 1
	return stepAgain, nil
}

// describeSyntax locates the first syntax error of the value at b[start]:
// skipValue reports needMore on a prefix that ends before the error and
// badSyntax on one that contains it.
func (d *Decoder) describeSyntax(b []byte, start int) error {
	lo, hi := start, len(b)
	if skipValue(b, start, 0) != badSyntax {
		return fmt.Errorf("invalid JSON")
	}
	for lo < hi {
		m := lo + (hi-lo)/2
		if skipValue(b[:m+1], start, 0) == badSyntax {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if lo < len(b) {
		return fmt.Errorf("invalid JSON: unexpected %q at offset %d", b[lo], d.base+int64(lo))
	}
	return fmt.Errorf("invalid JSON")
}

func (d *Decoder) stepResync() (stepResult, error) {
	b := d.buf[:d.w]
	for i := d.pos; i < len(b); {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
		if i >= len(b) {
			// Need the next byte to decide; keep the newline.
			d.pos = i - 1
			return stepNeedMore, nil
		}
		if c := b[i]; c == '{' || c == '[' {
			d.resync = false
			d.pos = i
			d.consumed(i)
			err := d.pending
			d.pending = nil
			return stepError, err
		}
	}
	// Discard what was searched, keeping a trailing '\n' for the check above.
	if d.w > d.pos && b[d.w-1] == '\n' {
		d.pos = d.w - 1
	} else {
		d.pos = d.w
	}
	return stepNeedMore, nil
}

// record decodes the object at buf index i as a record. top says whether it
// is a top-level value; an object at the top or in a top-level array may be a
// container or envelope.
func (d *Decoder) record(ev *event.Event, i int, top bool) (stepResult, error) {
	if !d.worthParsing(i) {
		return stepNeedMore, nil
	}
	candidate := top || d.frames[len(d.frames)-1].kind == fTopArray
	b := d.buf[:d.w]
	resetAPI(&ev.API)
	d.rs = recState{}
	end := d.decodeObject(b, i, &ev.API, candidate)
	switch end {
	case needMore:
		return d.needMore(i)
	case bailOut:
		if n := len(d.frames); n > 0 {
			d.frames[n-1].state = stAfterElem
		}
		d.frames = append(d.frames,
			frame{kind: fContainer, state: stAfterElem, control: d.rs.control},
			frame{kind: fArray, elem: d.rs.bailKind})
		d.pos = d.rs.bailPos + 1
		return stepAgain, nil
	case badSyntax:
		if top {
			return d.syntaxErr(ev, b, i)
		}
		return d.skipBad(b, i)
	}
	if n := len(d.frames); n > 0 {
		d.frames[n-1].state = stAfterElem
	}
	d.pos = end
	if candidate && d.rs.digest && !d.rs.hasTime && !d.rs.hasName {
		return stepAgain, nil // a digest file
	}
	d.records++
	if err := d.check(i, top); err != nil {
		d.consumed(end)
		return stepError, err
	}
	d.consumed(end)
	ev.Kind = event.KindAPICall
	return stepRecord, nil
}

// check returns the RecordError of a decoded record, if any.
func (d *Decoder) check(start int, top bool) error {
	switch {
	case d.rs.ferr != nil:
		return d.recordErr(start, top, d.rs.ferr.field, d.rs.ferr.err)
	case !d.rs.hasTime:
		return d.recordErr(start, top, "eventTime", ErrMissingField)
	case !d.rs.hasName:
		return d.recordErr(start, top, "eventName", ErrMissingField)
	}
	return nil
}

// skipBad steps over a malformed element of an array by counting brackets.
func (d *Decoder) skipBad(b []byte, i int) (stepResult, error) {
	err := d.describeSyntax(b, i)
	j := needMore
	if b[i] == '{' || b[i] == '[' {
		j = skipBalanced(b, i)
		if j == needMore && !d.eof {
			return stepNeedMore, nil
		}
	}
	if j < 0 {
		return d.structErr(i, fmt.Sprintf("cannot skip malformed element: %v", err))
	}
	d.frames[len(d.frames)-1].state = stAfterElem
	d.records++
	re := d.recordErr(i, false, "", err)
	d.pos = j
	d.consumed(j)
	return stepError, re
}

func (d *Decoder) stepArray(ev *event.Event, f *frame) (stepResult, error) {
	b := d.buf[:d.w]
	i := skipWS(b, d.pos)
	d.pos = i
	if i >= len(b) {
		return stepNeedMore, nil
	}
	c := b[i]
	if f.state == stAfterElem {
		switch c {
		case ',':
			f.state = stNeedElem
			d.pos = i + 1
			return stepAgain, nil
		case ']':
			d.frames = d.frames[:len(d.frames)-1]
			d.pos = i + 1
			return stepAgain, nil
		}
		return d.structErr(i, "expected ',' or ']' after an array element")
	}
	if c == ']' {
		if f.state == stNeedElem {
			return d.structErr(i, "expected an array element after ','")
		}
		d.frames = d.frames[:len(d.frames)-1]
		d.pos = i + 1
		return stepAgain, nil
	}
	if f.kind == fArray && f.elem == arrSkip {
		j := skipValue(b, i, 0)
		switch j {
		case needMore:
			return stepNeedMore, nil
		case badSyntax:
			return d.structErr(i, "malformed logFiles element")
		}
		f.state = stAfterElem
		d.pos = j
		return stepAgain, nil
	}
	if f.kind == fArray && f.elem == arrLogEvents {
		return d.logEvent(ev, f, b, i)
	}
	if c == '{' {
		return d.record(ev, i, false)
	}
	j := skipValue(b, i, 0)
	switch j {
	case needMore:
		return stepNeedMore, nil
	case badSyntax:
		return d.skipBad(b, i)
	}
	f.state = stAfterElem
	d.records++
	err := d.recordErr(i, false, "", ErrNotObject)
	d.pos = j
	d.consumed(j)
	return stepError, err
}

func (d *Decoder) stepContainer(f *frame) (stepResult, error) {
	b := d.buf[:d.w]
	i := skipWS(b, d.pos)
	d.pos = i
	if i >= len(b) {
		return stepNeedMore, nil
	}
	if f.state == stAfterElem {
		switch b[i] {
		case ',':
			f.state = stNeedElem
			d.pos = i + 1
			return stepAgain, nil
		case '}':
			d.frames = d.frames[:len(d.frames)-1]
			d.pos = i + 1
			return stepAgain, nil
		}
		return d.structErr(i, "expected ',' or '}' after an object member")
	}
	if !d.worthParsing(i) {
		return stepNeedMore, nil
	}
	k, j := d.readKey(b, i)
	switch j {
	case needMore:
		return d.needMore(i)
	case badSyntax:
		return d.structErr(i, "malformed object member")
	}
	if b[j] == '[' {
		elem := containerKind(0)
		switch k {
		case kRecords:
			elem = arrRecords
		case kLogEvents:
			elem = arrLogEvents
		case kLogFiles:
			elem = arrSkip
		}
		if elem != 0 {
			f.state = stAfterElem
			d.frames = append(d.frames, frame{kind: fArray, elem: elem})
			d.pos = j + 1
			return stepAgain, nil
		}
	}
	e := skipValue(b, j, 0)
	switch e {
	case needMore:
		return d.needMore(i)
	case badSyntax:
		return d.structErr(j, "malformed value")
	}
	if k == kMessageType && b[j] == '"' {
		f.control = string(b[j+1:e-1]) == "CONTROL_MESSAGE"
	}
	f.state = stAfterElem
	d.pos = e
	return stepAgain, nil
}

var errNoMessage = errors.New("log event has no message")

// logEvent handles one element of a CloudWatch Logs logEvents array: its
// message is a CloudTrail record as a JSON string.
func (d *Decoder) logEvent(ev *event.Event, f *frame, b []byte, i int) (stepResult, error) {
	control := len(d.frames) >= 2 && d.frames[len(d.frames)-2].control
	if b[i] != '{' {
		j := skipValue(b, i, 0)
		switch j {
		case needMore:
			return stepNeedMore, nil
		case badSyntax:
			return d.skipBad(b, i)
		}
		f.state = stAfterElem
		d.pos = j
		if control {
			return stepAgain, nil
		}
		d.records++
		err := d.recordErr(i, false, "", ErrNotObject)
		d.consumed(j)
		return stepError, err
	}
	if !d.worthParsing(i) {
		return stepNeedMore, nil
	}
	ms, me, mesc := -1, -1, false
	j, done := objStart(b, i)
	for !done && j >= 0 {
		var k keyID
		k, j = d.readKey(b, j)
		if j < 0 {
			break
		}
		if k == kMessage && b[j] == '"' {
			ms = j
			j, mesc = scanString(b, j)
			me = j
		} else {
			j = skipValue(b, j, 0)
		}
		if j < 0 {
			break
		}
		j, done = objNext(b, j)
	}
	switch j {
	case needMore:
		return d.needMore(i)
	case badSyntax:
		if control {
			// Not a record: skip it without reporting it.
			j = skipBalanced(b, i)
			if j == needMore {
				if !d.eof {
					return stepNeedMore, nil
				}
				return d.structErr(i, "cannot skip malformed log event")
			}
			f.state = stAfterElem
			d.pos = j
			return stepAgain, nil
		}
		return d.skipBad(b, i)
	}
	f.state = stAfterElem
	d.pos = j
	if control {
		return stepAgain, nil
	}
	d.records++
	end := j
	if ms < 0 {
		err := d.recordErr(i, false, "message", errNoMessage)
		d.consumed(end)
		return stepError, err
	}
	msg := b[ms+1 : me-1]
	if mesc {
		d.msg = unescape(d.msg[:0], msg)
		msg = d.msg
	}
	resetAPI(&ev.API)
	d.rs = recState{}
	var err error
	k := skipWS(msg, 0)
	if k >= len(msg) || msg[k] != '{' {
		err = d.recordErr(i, false, "message", ErrNotObject)
	} else {
		e := d.decodeObject(msg, k, &ev.API, false)
		if e >= 0 && skipWS(msg, e) != len(msg) {
			e = badSyntax
		}
		if e < 0 {
			err = d.recordErr(i, false, "message", fmt.Errorf("invalid JSON in log event message"))
		} else {
			err = d.check(i, false)
		}
	}
	d.consumed(end)
	if err != nil {
		return stepError, err
	}
	ev.Kind = event.KindAPICall
	return stepRecord, nil
}
