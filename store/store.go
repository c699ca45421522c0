// Package store is Vigil's embedded findings store: SQLite (modernc.org/sqlite,
// pure Go, no cgo) through database/sql.
//
// It keeps GuardDuty-shaped findings ([finding.Finding]) with the aggregation
// GuardDuty applies to repeated occurrences ([Store.Upsert]), answers the
// filtered, sorted and paginated lists the API and console need ([Store.List],
// [Store.ListIDs], [Store.Count], [Store.CountBySeverity], [Store.Statistics]),
// with GuardDuty's FindingCriteria, and holds the key-value checkpoint state of
// sources and detectors. [Store.Commit] writes findings and state in
// one transaction, so that file positions, detector state and findings always
// form one consistent cut after a crash.
//
// # Layout
//
// Each finding is one row of the findings table: the attributes that lists
// filter and sort on are columns (times are integer epoch milliseconds, the
// unit of GuardDuty's FindingCriteria), and doc holds the full finding JSON,
// kept consistent with the columns on every write. Attributes without a column
// remain reachable through SQLite's JSON functions on doc.
//
// # FindingCriteria
//
// [Query.Criteria] is compiled per attribute: conditions on attributes with
// a column, and equals/notEquals/matches on the other single-valued string
// attributes (through json_extract on doc), become SQL; the rest (lists such
// as tags, numbers and times without a column, additionalInfo keys) is a
// residual predicate that criteria.Criteria.Match evaluates on the decoded
// finding while the listing reads further rows. [Store.ListIDs] reads no
// document when nothing is left for Go. The per-account and per-type indexes
// carry region, type, account and severity after their sort key, so that
// ListFindings' usual queries (the caller's region and accounts, newest
// first, conditions on type or severity) are answered from the index alone.
//
// # Durability
//
// The database runs in WAL mode with synchronous=NORMAL: a committed
// transaction survives a crash of the process (SIGKILL, panic, OOM kill) and
// the file is never corrupted, but the last transactions may roll back after
// an OS crash or power loss. [Store.Commit], the checkpoint transaction after
// which sources advance (and may delete or acknowledge upstream data), runs
// with synchronous=FULL instead: it returns only once the WAL is fsynced, so
// it survives power loss too. The cost is one fsync per checkpoint.
//
// # Concurrency
//
// A Store is safe for concurrent use. SQLite has one writer: every write goes
// through a single connection (transactions begin IMMEDIATE), while reads use
// a small pool of read-only connections that WAL lets run beside the writer.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// MemoryPath, passed to [Open], opens a private database that disappears on
// Close. It lives in a temporary file rather than in SQLite's per-connection
// memory database, so the writer and the readers share it.
const MemoryPath = ":memory:"

// busyTimeoutMS is how long a connection waits for a lock held by another
// process (a second vigil on the same file, the sqlite3 shell) before failing.
const busyTimeoutMS = 10000

// ErrInvalidPageToken is returned by [Store.List] for a page token it did not
// issue or that was issued for a different sort order.
var ErrInvalidPageToken = errors.New("store: invalid page token")

// Store is the findings store. Create it with [Open].
type Store struct {
	w      *sql.DB // one connection: the single writer
	r      *sql.DB // read-only pool
	path   string
	tmpDir string // removed on Close for MemoryPath
}

// Open opens (creating if needed) the store at path, creating its parent
// directory, and migrates the schema to the current version. A path of
// [MemoryPath] opens a throwaway store for tests.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("opening store: empty path")
	}
	s := &Store{path: path}
	if path == MemoryPath {
		dir, err := os.MkdirTemp("", "vigil-store-")
		if err != nil {
			return nil, fmt.Errorf("creating temporary store: %w", err)
		}
		s.tmpDir = dir
		s.path = filepath.Join(dir, "findings.db")
	} else if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("opening store: %w", err)
		}
	}
	if err := s.open(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) open(ctx context.Context) error {
	abs, err := filepath.Abs(s.path)
	if err != nil {
		return err
	}
	// A file: URI so that '?', '#' and '%' in the path are escaped; the
	// driver strips its own _-prefixed parameters and SQLite ignores them.
	base := (&url.URL{Scheme: "file", Path: abs}).String()

	common := url.Values{}
	common.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	common.Add("_pragma", "foreign_keys(1)")

	wq := url.Values{}
	for k, v := range common {
		wq[k] = append([]string(nil), v...)
	}
	wq.Add("_pragma", "journal_mode(WAL)")
	wq.Add("_pragma", "synchronous(NORMAL)")
	wq.Add("_pragma", "cache_size(-32000)")   // 32 MB
	wq.Add("_pragma", "analysis_limit(1000)") // bounds PRAGMA optimize
	wq.Set("_txlock", "immediate")            // take the write lock at BEGIN: no upgrade deadlocks
	s.w, err = sql.Open("sqlite", base+"?"+wq.Encode())
	if err != nil {
		return err
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)

	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("journal_mode is %q, want wal", mode)
	}
	if err := migrate(ctx, s.w); err != nil {
		return err
	}

	rq := common
	rq.Add("_pragma", "cache_size(-16000)") // 16 MB
	rq.Set("_query_only", "1")
	s.r, err = sql.Open("sqlite", base+"?"+rq.Encode())
	if err != nil {
		return err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.r.SetMaxOpenConns(n)
	s.r.SetMaxIdleConns(n)
	return s.r.PingContext(ctx)
}

// Close closes the store. Committed data is durable before Close; Close
// additionally checkpoints the WAL into the main file when it is the last
// connection.
func (s *Store) Close() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		// Keep the planner's statistics fresh, as SQLite recommends
		// before closing; best effort.
		s.w.Exec("PRAGMA optimize")
		errs = append(errs, s.w.Close())
	}
	if s.tmpDir != "" {
		errs = append(errs, os.RemoveAll(s.tmpDir))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("closing store: %w", err)
	}
	return nil
}

// Path returns the database file.
func (s *Store) Path() string { return s.path }

// Stats is a snapshot of the store's size, for metrics.
type Stats struct {
	Findings  int64 // rows in the findings table
	Archived  int64 // of which archived
	StateKeys int64 // checkpoint state entries
	Bytes     int64 // size of the main database file (pages × page size), excluding the WAL
}

// Stats counts findings and state entries.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	var pages, pageSize int64
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM findings),
		(SELECT count(*) FROM findings WHERE archived = 1),
		(SELECT count(*) FROM state),
		(SELECT page_count FROM pragma_page_count()),
		(SELECT page_size FROM pragma_page_size())`).
		Scan(&st.Findings, &st.Archived, &st.StateKeys, &pages, &pageSize)
	if err != nil {
		return Stats{}, fmt.Errorf("reading store stats: %w", err)
	}
	st.Bytes = pages * pageSize
	return st, nil
}

// IntegrityCheck runs SQLite's integrity_check and returns nil if it reports
// "ok", or an error listing the problems.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	rows, err := s.r.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("checking store integrity: %w", err)
	}
	defer rows.Close()
	var problems []error
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("checking store integrity: %w", err)
		}
		if line != "ok" {
			problems = append(problems, errors.New(line))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("checking store integrity: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("store integrity check failed: %w", errors.Join(problems...))
	}
	return nil
}
