// Package server runs Vigil as a service: it watches the configured log
// directories for new and appended files, runs them through the pipeline,
// and commits findings, file positions and detector state to the store in
// one transaction, so that a restart (also after kill -9) resumes exactly at
// the last commit: no record is lost and none is counted twice. It also
// serves the JSON read API, /metrics and /healthz.
//
// Order of shutdown: the HTTP server stops accepting requests, the watcher
// finishes its current record and commits, then the store closes.
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/decode"
	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/finding"
	"github.com/vigilsec/vigil/ingest"
	"github.com/vigilsec/vigil/pipeline"
	"github.com/vigilsec/vigil/store"
)

// State keys in the store.
const (
	stateFiles    = "positions"
	stateDetector = "detector/"
	stateVersion  = 1
)

// fileState is what the watcher remembers of one file.
type fileState struct {
	Path    string `json:"path"`
	Dev     uint64 `json:"dev"`
	Ino     uint64 `json:"ino"`
	Size    int64  `json:"size"`    // bytes of the file accounted for
	Records int64  `json:"records"` // records consumed (resume point)
	Done    bool   `json:"done"`    // a compressed file read to its end
}

type positions struct {
	Version int                   `json:"version"`
	Files   map[string]*fileState `json:"files"` // by "dev:ino"
}

// Watcher polls sources and feeds new data to the pipeline.
type Watcher struct {
	cfg   *config.Config
	p     *pipeline.Pipeline
	store *store.Store
	log   *slog.Logger

	pos     positions
	pending *finding.Aggregator

	// Suppress, when set, archives a finding that a suppression rule
	// matches, before it is stored. Enabled, when set, says whether an
	// account's detector in a region is on; findings of detectors that are
	// off are dropped.
	Suppress func(*finding.Finding)
	Enabled  func(account, region string) bool
	// Published, when set, receives the stored version of every finding
	// each commit created or updated (publishing destinations).
	Published func(ctx context.Context, fs []finding.Finding)

	// Metrics.
	Commits     atomic.Int64
	Findings    atomic.Int64 // new findings stored
	Updates     atomic.Int64 // aggregations onto stored findings
	Polls       atomic.Int64
	PendingWork atomic.Int64 // files with unread data at the last poll
	LastCommit  atomic.Int64 // unix ms of the last commit
	idle        atomic.Bool
	mu          sync.Mutex // guards pending against concurrent commits
}

// NewWatcher restores positions and detector state from st.
func NewWatcher(ctx context.Context, cfg *config.Config, p *pipeline.Pipeline, st *store.Store, log *slog.Logger) (*Watcher, error) {
	w := &Watcher{cfg: cfg, p: p, store: st, log: log, pending: finding.NewAggregator()}
	w.pos = positions{Version: stateVersion, Files: map[string]*fileState{}}
	b, ok, err := st.State(ctx, stateFiles)
	if err != nil {
		return nil, fmt.Errorf("reading positions: %w", err)
	}
	if ok {
		if err := json.Unmarshal(b, &w.pos); err != nil {
			return nil, fmt.Errorf("positions in %s are corrupt: %w", st.Path(), err)
		}
		if w.pos.Version != stateVersion {
			return nil, fmt.Errorf("positions in %s have version %d, want %d", st.Path(), w.pos.Version, stateVersion)
		}
		if w.pos.Files == nil {
			w.pos.Files = map[string]*fileState{}
		}
	}
	for _, d := range p.Detectors {
		s, ok := d.(detect.Stateful)
		if !ok {
			continue
		}
		b, found, err := st.State(ctx, stateDetector+d.Name())
		if err != nil {
			return nil, err
		}
		if found {
			if err := s.Restore(b); err != nil {
				return nil, err
			}
		}
	}
	return w, nil
}

// Idle reports whether the last poll found nothing to read.
func (w *Watcher) Idle() bool { return w.idle.Load() }

// Run polls until ctx ends, then commits what it has.
func (w *Watcher) Run(ctx context.Context) error {
	interval := time.Duration(w.cfg.Serve.PollInterval)
	for {
		err := w.Poll(ctx)
		if err != nil && !errors.Is(err, context.Canceled) {
			w.log.Error("poll failed", "err", err)
		}
		if ctx.Err() != nil {
			// Commit with a fresh context: the work done so far must not be lost.
			cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return w.commit(cctx)
		}
		select {
		case <-ctx.Done():
		case <-time.After(interval):
		}
	}
}

// Poll reads everything new under the sources once.
func (w *Watcher) Poll(ctx context.Context) error {
	w.Polls.Add(1)
	var paths []string
	for _, s := range w.cfg.Sources {
		paths = append(paths, s.Path)
	}
	type job struct {
		path string
		st   *fileState
		typ  decode.Format
		info fs.FileInfo
	}
	var jobs []job
	typeOf := map[string]decode.Format{}
	for _, s := range w.cfg.Sources {
		typeOf[s.Path] = decode.Format(s.Type)
	}
	seen := map[string]bool{}
	walkFailed := false
	for _, root := range paths {
		err := ingest.Walk([]string{root}, func(path string, info fs.FileInfo) error {
			dev, ino := fileID(info)
			key := fmt.Sprintf("%d:%d", dev, ino)
			seen[key] = true
			st := w.pos.Files[key]
			switch {
			case st == nil:
				st = &fileState{Path: path, Dev: dev, Ino: ino}
			case st.Done && info.Size() == st.Size:
				return nil
			case info.Size() == st.Size:
				return nil
			case info.Size() < st.Size:
				w.log.Warn("file shrank; reading it again from the start", "file", path, "was", st.Size, "now", info.Size())
				st = &fileState{Path: path, Dev: dev, Ino: ino}
			}
			st.Path = path
			jobs = append(jobs, job{path: path, st: st, typ: typeOf[root], info: info})
			return nil
		})
		if err != nil {
			walkFailed = true
			w.log.Warn("source unreadable", "path", root, "err", err)
		}
	}
	if !walkFailed {
		// Forget files that are gone, so positions do not grow without
		// bound; a source that could not be read keeps its entries.
		for key := range w.pos.Files {
			if !seen[key] {
				delete(w.pos.Files, key)
			}
		}
	}
	w.PendingWork.Store(int64(len(jobs)))
	w.idle.Store(len(jobs) == 0)
	for i, j := range jobs {
		if err := w.readFile(ctx, j.path, j.st, j.typ, j.info); err != nil {
			return err
		}
		w.PendingWork.Store(int64(len(jobs) - i - 1))
	}
	if len(jobs) > 0 {
		return w.commit(ctx)
	}
	return nil
}

// errCommitFailed stops a file when a periodic commit fails.
var errCommitFailed = errors.New("commit failed")

func (w *Watcher) readFile(ctx context.Context, path string, st *fileState, typ decode.Format, info fs.FileInfo) error {
	key := fmt.Sprintf("%d:%d", st.Dev, st.Ino)
	size := info.Size()
	compressed := isGzip(path)
	var limit int64 = -1
	settle := 2 * time.Duration(w.cfg.Serve.PollInterval)
	if !compressed && time.Since(info.ModTime()) < settle {
		// A plain file still being written may end mid-line: read whole
		// lines only; the rest waits for the next poll.
		limit = lastNewline(path, size)
		if limit <= 0 || limit <= st.Size {
			return nil // nothing whole and new yet
		}
		size = limit
	}
	commitEvery := time.Duration(w.cfg.Serve.CommitInterval)
	last := time.Now()
	n := 0
	emit := func(f *finding.Finding) {
		w.mu.Lock()
		w.pending.Add(f)
		w.mu.Unlock()
	}
	opts := pipeline.FileOptions{Type: typ, Skip: st.Records, Limit: limit}
	opts.Every = func(pos decode.Position) error {
		n++
		if n&4095 != 0 || time.Since(last) < commitEvery {
			return nil
		}
		last = time.Now()
		st.Records = opts.Skip + pos.Record
		w.pos.Files[key] = st
		if err := w.commit(ctx); err != nil {
			return fmt.Errorf("%w: %w", errCommitFailed, err)
		}
		return nil
	}
	res, err := w.p.RunFile(ctx, path, opts, emit)
	if err != nil {
		return err
	}
	if res.Skipped != "" {
		st.Done = true
		st.Size = info.Size()
	} else {
		st.Records = opts.Skip + res.Pos.Record
		st.Size = size
		st.Done = compressed && res.Err == nil
		if compressed && res.Err != nil {
			// A truncated upload may be completed later; size tells.
			st.Size = info.Size()
		}
	}
	w.pos.Files[key] = st
	return nil
}

// commit writes pending findings, positions and detector state in one
// transaction.
func (w *Watcher) commit(ctx context.Context) error {
	w.mu.Lock()
	fs := w.pending.Findings()
	w.pending.Reset()
	w.mu.Unlock()
	kept := fs[:0]
	for i := range fs {
		f := &fs[i]
		if w.Enabled != nil && !w.Enabled(f.AccountID, f.Region) {
			continue
		}
		if w.Suppress != nil {
			w.Suppress(f)
		}
		kept = append(kept, *f)
	}
	fs = kept
	state := map[string][]byte{}
	b, err := json.Marshal(w.pos)
	if err != nil {
		return err
	}
	state[stateFiles] = b
	for _, d := range w.p.Detectors {
		if s, ok := d.(detect.Stateful); ok {
			b, err := s.Snapshot()
			if err != nil {
				return fmt.Errorf("snapshot of detector %s: %w", d.Name(), err)
			}
			state[stateDetector+d.Name()] = b
		}
	}
	res, err := w.store.Commit(ctx, fs, state)
	if err != nil {
		// Keep the findings for the next try.
		w.mu.Lock()
		for i := range fs {
			w.pending.Add(&fs[i])
		}
		w.mu.Unlock()
		return fmt.Errorf("committing %d findings: %w", len(fs), err)
	}
	if w.Published != nil && len(res.Findings) > 0 {
		w.Published(ctx, res.Findings)
	}
	w.Commits.Add(1)
	w.Findings.Add(int64(len(res.New)))
	w.Updates.Add(int64(len(res.Updated)))
	w.LastCommit.Store(time.Now().UnixMilli())
	return nil
}

func fileID(info fs.FileInfo) (dev, ino uint64) {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino)
	}
	return 0, 0
}

func isGzip(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [2]byte
	_, err = io.ReadFull(f, b[:])
	return err == nil && b[0] == 0x1f && b[1] == 0x8b
}

// lastNewline returns the offset just after the last newline in the first
// size bytes of path, or -1 when the file has none (nothing whole to read
// yet... or a one-line file without a newline, read when it stops growing).
func lastNewline(path string, size int64) int64 {
	f, err := os.Open(path)
	if err != nil {
		return -1
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	end := size
	for end > 0 {
		start := max(end-int64(len(buf)), 0)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return -1
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return start + int64(i) + 1
		}
		end = start
	}
	return -1
}

// sortedKeys is used by tests and status output.
func sortedKeys[M ~map[string]V, V any](m M) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
