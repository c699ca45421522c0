package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations[i] brings the schema from version i to i+1; the version is kept
// in SQLite's user_version header field and written in the same transaction
// as the migration. Append to this list; never edit an entry that has shipped.
var migrations = [][]string{
	// 1: findings and checkpoint state.
	{
		// Times are epoch milliseconds (FindingCriteria's unit); NULL when
		// the finding has none. archived_by is 'user' (ArchiveFindings /
		// UnarchiveFindings), 'rule' (a suppression rule archived it on
		// arrival) or ''.
		`CREATE TABLE findings (
			id               TEXT PRIMARY KEY,
			account_id       TEXT    NOT NULL,
			region           TEXT    NOT NULL,
			type             TEXT    NOT NULL,
			severity         REAL    NOT NULL,
			resource_type    TEXT    NOT NULL,
			resource_id      TEXT    NOT NULL,
			resource_role    TEXT    NOT NULL,
			action_type      TEXT    NOT NULL,
			created_at       INTEGER NOT NULL,
			updated_at       INTEGER NOT NULL,
			event_first_seen INTEGER,
			event_last_seen  INTEGER,
			count            INTEGER NOT NULL,
			archived         INTEGER NOT NULL CHECK (archived IN (0, 1)),
			archived_by      TEXT    NOT NULL CHECK (archived_by IN ('', 'user', 'rule')),
			feedback         TEXT    NOT NULL,
			title            TEXT    NOT NULL,
			description      TEXT    NOT NULL,
			doc              TEXT    NOT NULL
		)`,
		// Per-account lists, current or archived, worst first or newest
		// first; id ends each key so keyset pagination walks the index.
		`CREATE INDEX findings_account_severity ON findings (account_id, archived, severity, updated_at, id)`,
		`CREATE INDEX findings_account_updated ON findings (account_id, archived, updated_at, id)`,
		// The same across all accounts (local CLI, administrator views).
		`CREATE INDEX findings_severity ON findings (archived, severity, updated_at, id)`,
		`CREATE INDEX findings_updated ON findings (updated_at)`,
		`CREATE INDEX findings_type ON findings (type, account_id)`,
		`CREATE INDEX findings_resource ON findings (resource_id, account_id)`,
		`CREATE TABLE state (
			key   TEXT PRIMARY KEY,
			value BLOB NOT NULL
		) WITHOUT ROWID`,
	},
	// 2: FindingCriteria lists (ListFindings: the caller's region and
	// accounts, newest first, with conditions on type, severity …).
	{
		// Per-account lists and the same per type, newest first; the
		// columns after id do not change the order but let SQLite test
		// region, type, account and severity in the index instead of
		// reading each row.
		`DROP INDEX findings_account_updated`,
		`CREATE INDEX findings_account_updated ON findings (account_id, archived, updated_at, id, region, type, severity)`,
		`DROP INDEX findings_type`,
		`CREATE INDEX findings_type ON findings (type, archived, updated_at, id, account_id, region, severity)`,
	},
}

// migrate applies the pending migrations, each in its own transaction.
func migrate(ctx context.Context, db *sql.DB) error {
	for {
		done, err := migrateOne(ctx, db)
		if err != nil || done {
			return err
		}
	}
}

func migrateOne(ctx context.Context, db *sql.DB) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil) // IMMEDIATE: another process migrating waits
	if err != nil {
		return false, fmt.Errorf("migrating schema: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, fmt.Errorf("migrating schema: %w", err)
	}
	switch {
	case v > len(migrations):
		return false, fmt.Errorf("database schema version %d is newer than this vigil supports (%d)", v, len(migrations))
	case v == len(migrations):
		return true, nil
	}
	for _, stmt := range migrations[v] {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return false, fmt.Errorf("migrating schema to version %d: %w", v+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return false, fmt.Errorf("migrating schema to version %d: %w", v+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrating schema to version %d: %w", v+1, err)
	}
	return false, nil
}
