// Package pipeline wires Vigil's stages together: it builds the detector
// environment from a config (threat lists, trusted lists, inventory, AWS
// address ranges), reads log files through package ingest, runs every
// detector over each event and hands finding occurrences to the caller.
// Both `vigil scan` and `vigil serve` run files through a Pipeline.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil/awsranges"
	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/decode"
	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/finding"
	"github.com/vigilsec/vigil/ingest"
	"github.com/vigilsec/vigil/intel"
	"github.com/vigilsec/vigil/inventory"
)

// Pipeline runs files through the detectors. It is not safe for concurrent
// use: one goroutine feeds it.
type Pipeline struct {
	Env       *detect.Env
	Detectors []detect.Detector
	Log       *slog.Logger
	Stats     Stats

	// MaxReportedErrors is how many malformed records are logged per file;
	// the rest are counted and summarised (default 5).
	MaxReportedErrors int

	ev event.Event
}

// Stats counts what the pipeline has done. Fields are updated atomically
// and may be read from other goroutines (progress, metrics).
type Stats struct {
	Files        atomic.Int64
	FilesSkipped atomic.Int64    // unrecognised, empty or digest files
	Records      [4]atomic.Int64 // by event.Kind
	Malformed    atomic.Int64
	Bytes        atomic.Int64 // compressed bytes read from files
	Occurrences  atomic.Int64
	FileErrors   atomic.Int64 // files that stopped early (truncated gzip, broken document)
}

// TotalRecords sums the records of every kind.
func (s *Stats) TotalRecords() int64 {
	var n int64
	for i := range s.Records {
		n += s.Records[i].Load()
	}
	return n
}

// Build loads everything the config names and returns a ready Pipeline.
// Every list, inventory and range file is read once; a list's malformed
// entries are logged (rate-limited) and skipped.
func Build(cfg *config.Config, log *slog.Logger) (*Pipeline, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	env := &detect.Env{Disabled: cfg.Detectors.Disabled}
	var errs []error
	if len(cfg.Intel) > 0 {
		b := intel.NewBuilder()
		for _, l := range cfg.Intel {
			if err := loadList(b, l, intel.Category(l.Category), log); err != nil {
				errs = append(errs, err)
			}
		}
		env.Intel = b.Build()
	}
	if len(cfg.Trusted) > 0 {
		b := intel.NewBuilder()
		for _, l := range cfg.Trusted {
			if err := loadList(b, l, intel.Trusted, log); err != nil {
				errs = append(errs, err)
			}
		}
		env.Trusted = b.Build()
	}
	var invs []*inventory.Inventory
	for _, p := range cfg.Inventory {
		inv, err := inventory.LoadFile(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("inventory: %w", err))
			continue
		}
		invs = append(invs, inv)
	}
	switch len(invs) {
	case 0:
	case 1:
		env.Inventory = invs[0]
	default:
		env.Inventory = inventory.Merge(invs...)
	}
	if cfg.AWSIPRanges != "" {
		r, err := awsranges.LoadFile(cfg.AWSIPRanges)
		if err != nil {
			errs = append(errs, fmt.Errorf("aws_ip_ranges: %w", err))
		}
		env.Ranges = r
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	opts := detect.Options{
		ProbeIgnoredPorts: cfg.Detectors.ProbeIgnoredPorts,
		EMRPorts:          cfg.Detectors.EMRPorts,
		TorRelayMinPeers:  cfg.Detectors.TorRelayMinPeers,
	}
	return &Pipeline{Env: env, Detectors: detect.All(env, opts), Log: log}, nil
}

func loadList(b *intel.Builder, l config.List, cat intel.Category, log *slog.Logger) error {
	spec := intel.ListSpec{Name: l.Name, Category: cat, Format: l.Format, Path: l.Path, Column: l.Column}
	st, err := b.LoadFile(spec)
	if err != nil {
		return fmt.Errorf("list %s: %w", l.Name, err)
	}
	for _, e := range st.Errors {
		log.Warn("skipped list entry", "list", l.Name, "err", e)
	}
	if st.Invalid > len(st.Errors) {
		log.Warn("skipped more list entries", "list", l.Name, "count", st.Invalid-len(st.Errors))
	}
	log.Info("loaded list", "list", l.Name, "category", cat, "entries", st.Entries, "invalid", st.Invalid)
	return nil
}

// FileOptions tune one file's run.
type FileOptions struct {
	Type decode.Format // force a format; "" sniffs
	Skip int64         // records to skip first (resume from a checkpoint)
	// Limit, when > 0, reads only the first Limit bytes of the file (a
	// plain file still being appended to, cut at its last newline); 0 or
	// less reads it all.
	Limit int64
	// Every, when set, is called after each record with the stream's
	// position; returning an error stops the file (used for periodic commits).
	Every func(pos decode.Position) error
}

// FileResult says what happened to one file.
type FileResult struct {
	Path      string
	Format    decode.Format
	Records   int64 // well-formed records decoded (after Skip)
	Malformed int64
	Pos       decode.Position
	Skipped   string // why the file was skipped, when it was
	Err       error  // the error that stopped the file early, if any
}

var awsLogsKey = regexp.MustCompile(`AWSLogs/(?:o-[a-z0-9]+/)?(\d{12})/(?:CloudTrail|vpcflowlogs|vpcdnsquerylogs|CloudTrail-Digest)/([a-z]{2}(?:-gov)?-[a-z]+-\d)/`)
var awsAccountKey = regexp.MustCompile(`AWSLogs/(?:o-[a-z0-9]+/)?(\d{12})/`)

// hints takes the account and region from an S3 key laid out as AWS
// delivers logs (AWSLogs/<account>/<service>/<region>/…), for records that
// do not carry them.
func hints(path string) (account, region string) {
	if m := awsLogsKey.FindStringSubmatch(path); m != nil {
		return m[1], m[2]
	}
	if m := awsAccountKey.FindStringSubmatch(path); m != nil {
		return m[1], ""
	}
	return "", ""
}

// RunFile decodes one file and runs every detector over its events,
// calling emit for each finding occurrence. Malformed records are counted,
// the first few logged with file and line, and skipped. The returned error
// is non-nil only when the file could not be opened or ctx ended; a file
// that stops early (truncated gzip) reports it in FileResult.Err.
func (p *Pipeline) RunFile(ctx context.Context, path string, opts FileOptions, emit func(*finding.Finding)) (FileResult, error) {
	res := FileResult{Path: path}
	s, closer, err := openFile(path, opts)
	if err != nil {
		if errors.Is(err, ingest.ErrUnrecognized) {
			p.Stats.FilesSkipped.Add(1)
			res.Skipped = "unrecognised"
			p.Log.Warn("skipped unrecognised file", "file", path)
			return res, nil
		}
		return res, err
	}
	defer closer()
	return p.RunStream(ctx, s, opts, emit)
}

// RunStream is RunFile for an opened stream; opts.Limit is ignored.
func (p *Pipeline) RunStream(ctx context.Context, s *ingest.Stream, opts FileOptions, emit func(*finding.Finding)) (FileResult, error) {
	path := s.Name()
	res := FileResult{Path: path}
	res.Format = s.Format()
	switch {
	case s.Format() == decode.FormatCloudTrailDigest:
		p.Stats.FilesSkipped.Add(1)
		res.Skipped = "CloudTrail digest"
		return res, nil
	case s.Empty():
		p.Stats.FilesSkipped.Add(1)
		res.Skipped = "empty"
		return res, nil
	}
	p.Env.Account, p.Env.Region = hints(path)
	if opts.Skip > 0 {
		if err := s.Skip(opts.Skip); err != nil && !errors.Is(err, io.EOF) {
			return res, fmt.Errorf("%s: resuming after record %d: %w", path, opts.Skip, err)
		}
	}
	p.Stats.Files.Add(1)
	maxRep := p.MaxReportedErrors
	if maxRep == 0 {
		maxRep = 5
	}
	lastBytes := int64(0)
	ev := &p.ev
	// One closure per file, not per record: the hot loop must not allocate.
	obs := func(f *finding.Finding) {
		p.Stats.Occurrences.Add(1)
		emit(f)
	}
	for n := 0; ; n++ {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			b := s.BytesRead()
			p.Stats.Bytes.Add(b - lastBytes)
			lastBytes = b
		}
		err := s.Next(ev)
		if err == nil {
			res.Records++
			p.Stats.Records[ev.Kind&3].Add(1)
			for _, d := range p.Detectors {
				d.Observe(ev, obs)
			}
		} else if errors.Is(err, io.EOF) {
			break
		} else if decode.IsRecordError(err) {
			res.Malformed++
			p.Stats.Malformed.Add(1)
			if res.Malformed <= int64(maxRep) {
				p.Log.Warn("skipped malformed record", "file", path, "err", err)
			}
		} else {
			res.Err = err
			p.Stats.FileErrors.Add(1)
			p.Log.Warn("file ended early; kept the records read before", "file", path, "records", res.Records, "err", err)
			break
		}
		if opts.Every != nil {
			if err := opts.Every(s.Pos()); err != nil {
				res.Pos = s.Pos()
				return res, err
			}
		}
	}
	p.Stats.Bytes.Add(s.BytesRead() - lastBytes)
	if res.Malformed > int64(maxRep) {
		p.Log.Warn("skipped more malformed records", "file", path, "count", res.Malformed-int64(maxRep))
	}
	res.Pos = s.Pos()
	return res, nil
}

// Progress writes a one-line progress report to w every interval until ctx
// ends. total is the number of files to read.
func (p *Pipeline) Progress(ctx context.Context, w io.Writer, total int, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	start := time.Now()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprint(w, "\r\033[K")
			return
		case <-t.C:
			el := time.Since(start).Seconds()
			mb := float64(p.Stats.Bytes.Load()) / 1e6
			fmt.Fprintf(w, "\r\033[Kfiles %d/%d  records %d  malformed %d  %.1f MB/s  occurrences %d",
				p.Stats.Files.Load()+p.Stats.FilesSkipped.Load(), total, p.Stats.TotalRecords(), p.Stats.Malformed.Load(), mb/el, p.Stats.Occurrences.Load())
		}
	}
}

func openFile(path string, opts FileOptions) (*ingest.Stream, func(), error) {
	if opts.Limit <= 0 {
		s, err := ingest.Open(path, ingest.Options{Type: opts.Type})
		if err != nil {
			return nil, nil, err
		}
		return s, func() { s.Close() }, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	s, err := ingest.OpenReader(path, io.LimitReader(f, opts.Limit), ingest.Options{Type: opts.Type})
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return s, func() { s.Close(); f.Close() }, nil
}
