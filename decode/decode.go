// Package decode defines what every log decoder shares: the [Decoder]
// contract, record positions, the [RecordError] a malformed record yields, and
// content-based format sniffing. The decoders themselves live in the
// subpackages vpcflow, cloudtrail and route53; package ingest opens files and
// picks one.
package decode

import (
	"errors"
	"fmt"

	"github.com/vigilsec/vigil/event"
)

// Format names a log format.
type Format string

const (
	FormatUnknown          Format = ""
	FormatVPCFlow          Format = "vpcflow"
	FormatCloudTrail       Format = "cloudtrail"
	FormatRoute53          Format = "route53"
	FormatCloudTrailDigest Format = "cloudtrail-digest" // recognised and skipped
)

// Formats lists the formats a user may name with --type.
var Formats = []Format{FormatVPCFlow, FormatCloudTrail, FormatRoute53}

// Decoder decodes one stream of records of one format. It is not safe for
// concurrent use.
type Decoder interface {
	// Next decodes the next record into ev, overwriting it (ev.Kind and the
	// member for this format; strings in ev are valid until the next call).
	// It returns io.EOF at the end of input; a *RecordError when one record
	// was malformed and skipped (call Next again); any other error when the
	// stream cannot go on, for example a truncated gzip member or a document
	// whose structure is broken. Records returned before such an error stay
	// valid and counted.
	Next(ev *event.Event) error
	// Pos returns the position just after the last record consumed by Next,
	// well-formed or not.
	Pos() Position
}

// Position locates a point between records in a decompressed stream.
type Position struct {
	Offset int64 // bytes of decompressed input consumed up to the end of the last record
	Record int64 // records consumed, including malformed ones
	Line   int64 // newlines consumed (line-oriented formats; 0 if not tracked)
}

// RecordError reports one malformed record. Decoding goes on after it.
type RecordError struct {
	Line   int64  // 1-based line where the record starts, 0 if unknown
	Record int64  // 1-based ordinal of the record in the stream
	Offset int64  // byte offset where the record starts
	Field  string // the field at fault, if one is known
	Err    error
}

func (e *RecordError) Error() string {
	loc := ""
	switch {
	case e.Line > 0:
		loc = fmt.Sprintf("line %d", e.Line)
	default:
		loc = fmt.Sprintf("record %d", e.Record)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: field %s: %v", loc, e.Field, e.Err)
	}
	return fmt.Sprintf("%s: %v", loc, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// IsRecordError reports whether err is (or wraps) a *RecordError.
func IsRecordError(err error) bool {
	var re *RecordError
	return errors.As(err, &re)
}
