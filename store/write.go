package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/vigilsec/vigil/finding"
)

// Archive sources, in the archived_by column.
const (
	archivedByUser = "user" // ArchiveFindings / UnarchiveFindings
	archivedByRule = "rule" // a suppression rule archived the finding on arrival
)

// Feedback values accepted by [Store.SetFeedback].
const (
	FeedbackUseful    = "USEFUL"
	FeedbackNotUseful = "NOT_USEFUL"
)

// UpsertResult says what [Store.Upsert] or [Store.Commit] wrote, so that a
// publisher can emit new findings at once and updates at its publishing
// frequency.
type UpsertResult struct {
	New     []string // ids that did not exist before the call
	Updated []string // ids that existed and were aggregated onto
	// Findings holds the finding as stored (after aggregation) for every id
	// in New and Updated, once per id, in the order the ids first appear in
	// the input. They share pointer fields (resource and action details)
	// with the input findings.
	Findings []finding.Finding
}

// Upsert stores fs in one transaction, aggregating repeated occurrences as
// GuardDuty does. For an id not yet stored the finding is inserted as given.
// For a stored id:
//
//   - service.count is the sum of the stored and incoming counts (an incoming
//     count below 1 counts as 1);
//   - eventFirstSeen is the minimum, eventLastSeen and updatedAt the maximum;
//   - createdAt and a non-empty userFeedback are kept;
//   - everything else (severity, title, description, resource, action,
//     evidence, additional info …) is the incoming, latest occurrence's.
//
// An incoming finding with service.archived set counts as archived by a
// suppression rule. A finding archived by a rule stays archived; one archived
// by a user ([Store.Archive]) returns to current on a new occurrence.
//
// Times are normalised to [finding.TimeFormat]; createdAt and updatedAt are
// required and every time must parse with [finding.ParseTime]. A finding whose
// id is stored under another account is an error. On error nothing is
// written.
func (s *Store) Upsert(ctx context.Context, fs []finding.Finding) (UpsertResult, error) {
	return s.write(ctx, fs, nil, false)
}

// Commit is [Store.Upsert] plus state: it upserts fs and puts every state
// entry in the same transaction, so that findings and checkpoint state
// (source positions, detector snapshots) are durable together or not at all.
// A nil value deletes its key. Commit returns only once the transaction is
// fsynced, so it survives power loss as well as process crashes.
func (s *Store) Commit(ctx context.Context, fs []finding.Finding, state map[string][]byte) (UpsertResult, error) {
	return s.write(ctx, fs, state, true)
}

// stored is the part of a stored row that aggregation reads.
type stored struct {
	account, region  string
	typ, resourceID  string
	created, updated int64
	first, last      sql.NullInt64
	count            int64
	archived         bool
	archivedBy       string
	feedback         string
	doc              string
}

const (
	selectSQL = `SELECT account_id, region, type, resource_id, created_at, updated_at,
		event_first_seen, event_last_seen, count, archived, archived_by, feedback, doc FROM findings WHERE id = ?`
	insertSQL = `INSERT INTO findings (
		id, account_id, region, type, severity, resource_type, resource_id, resource_role, action_type,
		created_at, updated_at, event_first_seen, event_last_seen, count, archived, archived_by, feedback,
		title, description, doc
	) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// updateSQL leaves out the columns an occurrence of the same id does
	// not change, so that SQLite leaves their indexes alone.
	updateSQL = `UPDATE findings SET severity = ?, resource_type = ?, resource_role = ?, action_type = ?,
		updated_at = ?, event_first_seen = ?, event_last_seen = ?, count = ?, archived = ?,
		archived_by = ?, feedback = ?, title = ?, description = ?, doc = ? WHERE id = ?`
	// rekeySQL updates those columns on the rare occurrence that changes them.
	rekeySQL = `UPDATE findings SET region = ?, type = ?, resource_id = ? WHERE id = ?`
)

func (s *Store) write(ctx context.Context, fs []finding.Finding, state map[string][]byte, durable bool) (res UpsertResult, err error) {
	if len(fs) == 0 && len(state) == 0 {
		return UpsertResult{}, nil
	}
	for k := range state {
		if k == "" {
			return UpsertResult{}, errors.New("writing state: empty key")
		}
	}
	what := "upserting findings"
	if durable {
		what = "committing findings and state"
	}
	defer func() {
		if err != nil {
			res, err = UpsertResult{}, fmt.Errorf("%s: %w", what, err)
		}
	}()

	conn, err := s.w.Conn(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	if durable {
		if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = FULL"); err != nil {
			return res, err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = NORMAL")
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()

	if len(fs) > 0 {
		if res, err = upsert(ctx, tx, fs); err != nil {
			return res, err
		}
	}
	if len(state) > 0 {
		if err := putState(ctx, tx, state); err != nil {
			return res, err
		}
	}
	return res, tx.Commit()
}

func upsert(ctx context.Context, tx *sql.Tx, fs []finding.Finding) (UpsertResult, error) {
	var stmts [3]*sql.Stmt
	for i, q := range []string{selectSQL, insertSQL, updateSQL} {
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return UpsertResult{}, err
		}
		defer st.Close()
		stmts[i] = st
	}
	sel, ins, upd := stmts[0], stmts[1], stmts[2]

	var res UpsertResult
	seen := make(map[string]int, len(fs)) // id → index in res.Findings
	for i := range fs {
		f := fs[i] // a copy: only value fields are modified below
		if f.ID == "" {
			return UpsertResult{}, fmt.Errorf("finding %d of %d: empty id", i+1, len(fs))
		}
		t, err := parseTimes(&f)
		if err != nil {
			return UpsertResult{}, fmt.Errorf("finding %s: %w", f.ID, err)
		}
		count := max(f.Service.Count, 1)
		archived, archivedBy := f.Service.Archived, ""
		if archived {
			archivedBy = archivedByRule
		}
		feedback := f.Service.UserFeedback

		var old stored
		err = sel.QueryRowContext(ctx, f.ID).Scan(&old.account, &old.region, &old.typ, &old.resourceID,
			&old.created, &old.updated, &old.first, &old.last, &old.count, &old.archived, &old.archivedBy, &old.feedback, &old.doc)
		isNew := errors.Is(err, sql.ErrNoRows)
		switch {
		case isNew:
		case err != nil:
			return UpsertResult{}, fmt.Errorf("finding %s: %w", f.ID, err)
		case old.account != f.AccountID:
			return UpsertResult{}, fmt.Errorf("finding %s: stored under account %q, not %q", f.ID, old.account, f.AccountID)
		default:
			// Aggregate exactly as finding.Merge does for scan: the details
			// of the latest occurrence win, an older one arriving late only
			// adds to the count, port-probe details accumulate.
			var prev finding.Finding
			if err := json.Unmarshal([]byte(old.doc), &prev); err != nil {
				return UpsertResult{}, fmt.Errorf("finding %s: stored document: %w", f.ID, err)
			}
			incoming := f
			finding.Merge(&prev, &incoming)
			f = prev
			t.created = old.created
			t.updated = max(t.updated, old.updated)
			t.first = minKnown(t.first, old.first.Int64)
			t.last = max(t.last, old.last.Int64)
			count += old.count
			if old.archived && old.archivedBy == archivedByRule {
				archived, archivedBy = true, archivedByRule
			}
			if old.feedback != "" {
				feedback = old.feedback
			}
		}

		f.CreatedAt = formatMillis(t.created)
		f.UpdatedAt = formatMillis(t.updated)
		f.Service.EventFirstSeen = formatMillis(t.first)
		f.Service.EventLastSeen = formatMillis(t.last)
		f.Service.Count = count
		f.Service.Archived = archived
		f.Service.UserFeedback = feedback
		b, err := json.Marshal(&f)
		if err != nil {
			return UpsertResult{}, fmt.Errorf("finding %s: %w", f.ID, err)
		}
		doc := string(b) // TEXT: SQLite's JSON functions read a BLOB as JSONB
		rid := resourceID(&f)
		if isNew {
			_, err = ins.ExecContext(ctx, f.ID, f.AccountID, f.Region, f.Type, f.Severity,
				f.Resource.ResourceType, rid, f.Service.ResourceRole, f.Service.Action.ActionType,
				t.created, t.updated, nullMillis(t.first), nullMillis(t.last), count, archived, archivedBy,
				feedback, f.Title, f.Description, doc)
		} else {
			_, err = upd.ExecContext(ctx, f.Severity, f.Resource.ResourceType, f.Service.ResourceRole,
				f.Service.Action.ActionType, t.updated, nullMillis(t.first), nullMillis(t.last), count,
				archived, archivedBy, feedback, f.Title, f.Description, doc, f.ID)
			if err == nil && (old.region != f.Region || old.typ != f.Type || old.resourceID != rid) {
				_, err = tx.ExecContext(ctx, rekeySQL, f.Region, f.Type, rid, f.ID)
			}
		}
		if err != nil {
			return UpsertResult{}, fmt.Errorf("finding %s: %w", f.ID, err)
		}

		if j, ok := seen[f.ID]; ok {
			res.Findings[j] = f // an id repeated within the batch: keep its latest state
			continue
		}
		seen[f.ID] = len(res.Findings)
		res.Findings = append(res.Findings, f)
		if isNew {
			res.New = append(res.New, f.ID)
		} else {
			res.Updated = append(res.Updated, f.ID)
		}
	}
	return res, nil
}

func putState(ctx context.Context, tx *sql.Tx, state map[string][]byte) error {
	keys := make([]string, 0, len(state))
	for k := range state {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := state[k]
		var err error
		if v == nil {
			_, err = tx.ExecContext(ctx, "DELETE FROM state WHERE key = ?", k)
		} else {
			if len(v) == 0 {
				v = []byte{} // stored as an empty blob, not NULL
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO state (key, value) VALUES (?, ?)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, v)
		}
		if err != nil {
			return fmt.Errorf("state %q: %w", k, err)
		}
	}
	return nil
}

// State returns the state blob stored under key and whether it exists.
func (s *Store) State(ctx context.Context, key string) ([]byte, bool, error) {
	var v []byte
	err := s.r.QueryRowContext(ctx, "SELECT value FROM state WHERE key = ?", key).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("reading state %q: %w", key, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, true, nil
}

// StateKeys returns the state keys that start with prefix, sorted bytewise.
func (s *Store) StateKeys(ctx context.Context, prefix string) ([]string, error) {
	query, args := "SELECT key FROM state WHERE key >= ?", []any{prefix}
	if hi, ok := prefixEnd(prefix); ok {
		query += " AND key < ?"
		args = append(args, hi)
	}
	rows, err := s.r.QueryContext(ctx, query+" ORDER BY key", args...)
	if err != nil {
		return nil, fmt.Errorf("listing state keys: %w", err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("listing state keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing state keys: %w", err)
	}
	return keys, nil
}

// prefixEnd returns the smallest string greater than every string with the
// given prefix, or false if there is none (the prefix is empty or all 0xff).
func prefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// Archive archives (archived=true) or unarchives findings of account ("" for
// any account), as a user does with ArchiveFindings/UnarchiveFindings.
// Unknown ids, and ids of other accounts, are ignored. A user-archived
// finding returns to current when a new occurrence arrives.
func (s *Store) Archive(ctx context.Context, account string, ids []string, archived bool) error {
	v := "false"
	if archived {
		v = "true"
	}
	err := s.updateEach(ctx, account, ids,
		`UPDATE findings SET archived = ?, archived_by = ?, doc = json_set(doc, '$.service.archived', json(?))`,
		archived, archivedByUser, v)
	if err != nil {
		return fmt.Errorf("archiving findings: %w", err)
	}
	return nil
}

// SetFeedback records a user's feedback (FeedbackUseful or FeedbackNotUseful)
// on findings of account ("" for any account). Unknown ids, and ids of other
// accounts, are ignored. Feedback survives new occurrences.
func (s *Store) SetFeedback(ctx context.Context, account string, ids []string, feedback string) error {
	if feedback != FeedbackUseful && feedback != FeedbackNotUseful {
		return fmt.Errorf("setting finding feedback: feedback %q must be %s or %s", feedback, FeedbackUseful, FeedbackNotUseful)
	}
	err := s.updateEach(ctx, account, ids,
		`UPDATE findings SET feedback = ?, doc = json_set(doc, '$.service.userFeedback', ?)`,
		feedback, feedback)
	if err != nil {
		return fmt.Errorf("setting finding feedback: %w", err)
	}
	return nil
}

// updateEach runs update (an UPDATE … SET … without WHERE) with args on the
// findings with the given ids, restricted to account unless it is "", in one
// transaction.
func (s *Store) updateEach(ctx context.Context, account string, ids []string, update string, args ...any) error {
	if len(ids) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for chunk := range slices.Chunk(ids, maxInList) {
		q := update + " WHERE id IN (" + placeholders(len(chunk)) + ")"
		a := append(slices.Clip(args), stringsToAny(chunk)...)
		if account != "" {
			q += " AND account_id = ?"
			a = append(a, account)
		}
		if _, err := tx.ExecContext(ctx, q, a...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Purge deletes findings last updated before t (GuardDuty keeps findings
// for 90 days) and returns how many it deleted.
func (s *Store) Purge(ctx context.Context, before time.Time) (int64, error) {
	r, err := s.w.ExecContext(ctx, "DELETE FROM findings WHERE updated_at < ?", before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("purging findings: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purging findings: %w", err)
	}
	return n, nil
}

// times holds a finding's times in epoch milliseconds; 0 means absent.
type times struct {
	created, updated, first, last int64
}

func parseTimes(f *finding.Finding) (times, error) {
	var t times
	for _, p := range []struct {
		name     string
		s        string
		dst      *int64
		required bool
	}{
		{"createdAt", f.CreatedAt, &t.created, true},
		{"updatedAt", f.UpdatedAt, &t.updated, true},
		{"service.eventFirstSeen", f.Service.EventFirstSeen, &t.first, false},
		{"service.eventLastSeen", f.Service.EventLastSeen, &t.last, false},
	} {
		if p.s == "" {
			if p.required {
				return t, fmt.Errorf("missing %s", p.name)
			}
			continue
		}
		tm, err := finding.ParseTime(p.s)
		if err != nil {
			return t, fmt.Errorf("%s %q is not an RFC 3339 time", p.name, p.s)
		}
		*p.dst = tm.UnixMilli()
	}
	return t, nil
}

func formatMillis(ms int64) string {
	if ms == 0 {
		return ""
	}
	return finding.FormatTime(time.UnixMilli(ms))
}

func nullMillis(ms int64) any {
	if ms == 0 {
		return nil
	}
	return ms
}

// minKnown is the smaller of two times, where 0 means unknown.
func minKnown(a, b int64) int64 {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}

// resourceID is the identifier of the affected resource that lists filter on:
// the instance id (or its first network interface), the access key id (or
// principal or user name), or the first bucket's name.
func resourceID(f *finding.Finding) string {
	r := &f.Resource
	instance := func() string {
		if d := r.InstanceDetails; d != nil {
			if d.InstanceID != "" {
				return d.InstanceID
			}
			for _, ni := range d.NetworkInterfaces {
				if ni.NetworkInterfaceID != "" {
					return ni.NetworkInterfaceID
				}
			}
		}
		return ""
	}
	accessKey := func() string {
		if d := r.AccessKeyDetails; d != nil {
			for _, v := range []string{d.AccessKeyID, d.PrincipalID, d.UserName} {
				if v != "" {
					return v
				}
			}
		}
		return ""
	}
	bucket := func() string {
		for _, b := range r.S3BucketDetails {
			if b.Name != "" {
				return b.Name
			}
			if b.Arn != "" {
				return b.Arn
			}
		}
		return ""
	}
	order := []func() string{instance, accessKey, bucket}
	switch r.ResourceType {
	case finding.ResourceAccessKey:
		order = []func() string{accessKey, instance, bucket}
	case finding.ResourceS3Bucket:
		order = []func() string{bucket, accessKey, instance}
	}
	for _, fn := range order {
		if id := fn(); id != "" {
			return id
		}
	}
	return ""
}
