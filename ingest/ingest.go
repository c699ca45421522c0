// Package ingest opens log files and directories and picks a decoder for each
// file by its content: gzip is detected by its magic bytes, and the format
// (CloudTrail, Route 53 Resolver query logs or VPC Flow Logs) by sniffing the
// first decompressed bytes, unless the caller names it.
//
// A [Stream] is one opened file. It implements [decode.Decoder], so callers
// read events from it as from any decoder, and adds what a file source needs:
// its name, format and compression, compressed bytes read for progress, Skip to
// resume from a checkpoint, and Close. Reading a plain file that is still being
// written goes on after io.EOF: call Next again to pick up appended records.
package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/klauspost/compress/gzip"

	"github.com/vigilsec/vigil/decode"
	"github.com/vigilsec/vigil/decode/cloudtrail"
	"github.com/vigilsec/vigil/decode/route53"
	"github.com/vigilsec/vigil/decode/vpcflow"
	"github.com/vigilsec/vigil/event"
)

// SniffSize is how many decompressed bytes are examined to choose a format.
const SniffSize = 64 << 10

// ErrUnrecognized is wrapped by the error Open returns when a file's content
// matches no known format.
var ErrUnrecognized = errors.New("ingest: unrecognized log format")

// Options controls how a file is opened.
type Options struct {
	// Type forces the format, as --type does. FormatUnknown ("") detects
	// it per file.
	Type decode.Format
}

// Sniff classifies head, the first decompressed bytes of a stream (up to
// SniffSize). The formats are tried in order: CloudTrail digest, CloudTrail,
// Route 53, VPC Flow Logs. It returns FormatUnknown when none matches.
func Sniff(head []byte) decode.Format {
	switch cloudtrail.Sniff(head) {
	case cloudtrail.Digest:
		return decode.FormatCloudTrailDigest
	case cloudtrail.Records:
		return decode.FormatCloudTrail
	}
	if route53.Sniff(head) {
		return decode.FormatRoute53
	}
	if vpcflow.Sniff(head) {
		return decode.FormatVPCFlow
	}
	return decode.FormatUnknown
}

// Walk calls fn for every regular file under each path. A path may be a file
// or a directory; directories are walked recursively in lexical order, and
// files and directories whose name starts with '.' are skipped below a root
// (a root is used whatever its name). Symbolic links to regular files are
// followed, links to directories are not. If fn returns fs.SkipAll, Walk stops
// and returns nil; any other error from fn stops it and is returned. A root
// that does not exist or cannot be read, or a directory below it that cannot be
// read, is an error naming it.
func Walk(paths []string, fn func(path string, info fs.FileInfo) error) error {
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			return fmt.Errorf("walking %s: %w", root, unwrapPath(err))
		}
		if !info.IsDir() {
			if !info.Mode().IsRegular() {
				return fmt.Errorf("walking %s: not a regular file or directory", root)
			}
			if err := fn(root, info); err != nil {
				if err == fs.SkipAll {
					return nil
				}
				return err
			}
			continue
		}
		walkRoot := root
		if li, err := os.Lstat(root); err == nil && li.Mode()&fs.ModeSymlink != 0 {
			// WalkDir does not follow a link, even as its root; with a
			// trailing separator the root resolves to the directory.
			walkRoot += string(filepath.Separator)
		}
		err = filepath.WalkDir(walkRoot, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("walking %s: %w", path, unwrapPath(err))
			}
			if path != walkRoot && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			var info fs.FileInfo
			switch {
			case d.Type().IsRegular():
				info, err = d.Info()
			case d.Type()&fs.ModeSymlink != 0:
				info, err = os.Stat(path)
				if err == nil && !info.Mode().IsRegular() {
					return nil
				}
			default:
				return nil
			}
			if err != nil {
				return fmt.Errorf("walking %s: %w", path, unwrapPath(err))
			}
			if err := fn(path, info); err != nil {
				return &fnError{err}
			}
			return nil
		})
		var fe *fnError
		if errors.As(err, &fe) {
			err = fe.err
		}
		if err == fs.SkipAll {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// fnError carries an error from Walk's callback through filepath.WalkDir
// unchanged, fs.SkipDir included (which would otherwise skip a directory).
type fnError struct{ err error }

func (e *fnError) Error() string { return e.err.Error() }

// unwrapPath drops the *fs.PathError around err, whose path the caller names
// already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Stream is one opened log file. It implements [decode.Decoder]. It is not safe
// for concurrent use.
type Stream struct {
	name       string
	file       *os.File // nil for OpenReader
	raw        *countingReader
	gz         *gzip.Reader
	br         *bufio.Reader // decompressed input
	dec        decode.Decoder
	format     decode.Format
	compressed bool
	empty      bool // no decompressed byte seen yet, format not known
}

var _ decode.Decoder = (*Stream)(nil)

// Open opens the file at path. A gzip file (by its magic bytes; several members
// are read as one stream) is decompressed. The format is opts.Type when set and
// is sniffed from up to SniffSize decompressed bytes otherwise; content that
// matches no format gives an error wrapping [ErrUnrecognized]. An empty file
// is not an error: the stream has no records until data is appended, and its
// format is sniffed then (see [Stream.Empty]). A CloudTrail digest file is
// recognised and yields no records (Format is FormatCloudTrailDigest).
func Open(path string, opts Options) (*Stream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, unwrapPath(err))
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("opening %s: is a directory", path)
	}
	s, err := OpenReader(path, f, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	s.file = f
	return s, nil
}

// OpenReader is Open for a reader; name labels the stream in errors. Close
// does not close r.
func OpenReader(name string, r io.Reader, opts Options) (*Stream, error) {
	if opts.Type != decode.FormatUnknown && !slices.Contains(decode.Formats, opts.Type) {
		return nil, fmt.Errorf("opening %s: unknown log type %q (want one of %v)", name, opts.Type, decode.Formats)
	}
	s := &Stream{name: name, raw: &countingReader{r: r}}
	rb := bufio.NewReaderSize(s.raw, SniffSize)
	magic, err := rb.Peek(2)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	s.br = rb
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		s.compressed = true
		gz, err := gzip.NewReader(rb)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, s.gzipError(err))
		}
		s.gz = gz
		s.br = bufio.NewReaderSize(&gzipReader{s}, SniffSize)
	}
	s.format = opts.Type
	if s.format != decode.FormatUnknown {
		s.start()
		return s, nil
	}
	if err := s.sniff(); err != nil {
		return nil, err
	}
	return s, nil
}

// sniff picks the format from the head of the stream. With no data yet the
// stream stays empty and sniff is tried again by Next.
func (s *Stream) sniff() error {
	head, err := s.br.Peek(SniffSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull && len(head) == 0 {
		return fmt.Errorf("reading %s: %w", s.name, err)
	}
	if len(head) == 0 {
		s.empty = true
		return nil
	}
	f := Sniff(head)
	if f == decode.FormatUnknown {
		if s.empty && len(head) < SniffSize && bytes.IndexByte(head, '\n') < 0 {
			// Appended to a file that was empty: the first line may
			// still be in the writing.
			return nil
		}
		return fmt.Errorf("opening %s: %w", s.name, ErrUnrecognized)
	}
	s.empty = false
	s.format = f
	s.start()
	return nil
}

func (s *Stream) start() {
	switch s.format {
	case decode.FormatVPCFlow:
		s.dec = vpcflow.NewDecoder(s.br)
	case decode.FormatCloudTrail:
		s.dec = cloudtrail.NewDecoder(s.br)
	case decode.FormatRoute53:
		s.dec = route53.NewDecoder(s.br)
	}
}

// Next decodes the next record (see [decode.Decoder]). Errors other than
// io.EOF and *decode.RecordError name the stream; a truncated gzip file gives
// one that wraps io.ErrUnexpectedEOF after the records before the cut.
func (s *Stream) Next(ev *event.Event) error {
	if s.dec == nil {
		if !s.empty {
			return io.EOF // a digest file: nothing to decode
		}
		if err := s.sniff(); err != nil {
			return err
		}
		if s.dec == nil {
			return io.EOF
		}
	}
	err := s.dec.Next(ev)
	if err == nil || err == io.EOF || decode.IsRecordError(err) {
		return err
	}
	return fmt.Errorf("reading %s: %w", s.name, err)
}

// Pos returns the decoder's position (see [decode.Decoder]); zero before the
// format is known.
func (s *Stream) Pos() decode.Position {
	if s.dec == nil {
		return decode.Position{}
	}
	return s.dec.Pos()
}

// Skip consumes n records without returning them, malformed ones included,
// so that Pos().Record grows by n. It resumes a stream from a checkpoint that
// stored Pos().Record. If the stream ends first, the error wraps io.EOF.
func (s *Stream) Skip(n int64) error {
	target := s.Pos().Record + n
	var ev event.Event
	for s.Pos().Record < target {
		err := s.Next(&ev)
		switch {
		case err == io.EOF:
			return fmt.Errorf("skipping %d records of %s: stream ends after %d: %w", n, s.name, s.Pos().Record, io.EOF)
		case err != nil && !decode.IsRecordError(err):
			return err
		}
	}
	return nil
}

// Name returns the path or name the stream was opened with.
func (s *Stream) Name() string { return s.name }

// Format returns the stream's format: the forced or sniffed one,
// FormatCloudTrailDigest for a digest file (which yields no records), or
// FormatUnknown while the stream is empty.
func (s *Stream) Format() decode.Format { return s.format }

// Empty reports whether no data has been seen yet, so the format is not known.
func (s *Stream) Empty() bool { return s.empty }

// Compressed reports whether the file is gzip-compressed.
func (s *Stream) Compressed() bool { return s.compressed }

// BytesRead returns how many bytes have been read from the file so far
// (compressed bytes for a gzip file), read-ahead buffering included.
func (s *Stream) BytesRead() int64 { return s.raw.n }

// Close closes the file. It does not close the reader given to OpenReader.
func (s *Stream) Close() error {
	var err error
	if s.gz != nil {
		err = s.gz.Close()
	}
	if s.file != nil {
		if cerr := s.file.Close(); err == nil {
			err = cerr
		}
		s.file = nil
	}
	return err
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// gzipReader reads the gzip stream and reports a cut-off file as such.
type gzipReader struct{ s *Stream }

func (g *gzipReader) Read(p []byte) (int, error) {
	n, err := g.s.gz.Read(p)
	if err != nil && err != io.EOF {
		err = g.s.gzipError(err)
	}
	return n, err
}

// gzipError describes a gzip read error, giving the compressed offset of a
// truncation.
func (s *Stream) gzipError(err error) error {
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return fmt.Errorf("gzip stream truncated at compressed offset %d: %w", s.raw.n, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("decompressing gzip: %w", err)
}
