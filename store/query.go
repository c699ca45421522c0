package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigilsec/vigil/finding"
)

// maxInList caps the ids bound in one IN (…) list.
const maxInList = 500

// DefaultLimit is the page size of [Store.List] when Query.Limit is 0
// (GuardDuty's ListFindings default).
const DefaultLimit = 50

// SortField is an attribute [Store.List] can sort on.
type SortField string

// Sort fields. Ties are broken by updatedAt, then id, in the same direction.
const (
	SortSeverity  SortField = "severity"
	SortUpdatedAt SortField = "updatedAt"
	SortCreatedAt SortField = "createdAt"
	SortCount     SortField = "count"
	SortType      SortField = "type"
)

// sortKeys lists the columns of each sort order, the last being unique.
var sortKeys = map[SortField][]string{
	SortSeverity:  {"severity", "updated_at", "id"},
	SortUpdatedAt: {"updated_at", "id"},
	SortCreatedAt: {"created_at", "id"},
	SortCount:     {"count", "updated_at", "id"},
	SortType:      {"type", "updated_at", "id"},
}

// Query selects findings. Conditions on different fields are ANDed; values
// within one list are ORed. Zero fields do not constrain.
type Query struct {
	Accounts    []string // accountId is one of these; empty: every account, so tenant-facing callers always set it
	Types       []string // type is one of these
	MinSeverity float64  // severity >= MinSeverity
	MaxSeverity float64  // severity < MaxSeverity, so that [7, 9) is High
	Archived    *bool    // service.archived equals *Archived
	ResourceID  string   // the instance, access key, bucket or interface id

	UpdatedAfter  time.Time // updatedAt >= UpdatedAfter
	UpdatedBefore time.Time // updatedAt < UpdatedBefore

	// Text matches findings whose title, description, type or resource id
	// contains it, ignoring ASCII case.
	Text string

	// Sort is the order of List; "" means severity, descending, whatever
	// Desc says ("worst first, then newest first").
	Sort SortField
	Desc bool

	Limit     int    // page size; 0 means DefaultLimit
	PageToken string // the next token of the previous page, or ""
}

// pageKey is the decoded page token: the sort order and the sort key of the
// last finding of the previous page.
type pageKey struct {
	Sort SortField `json:"f"`
	Desc bool      `json:"d"`
	Sev  float64   `json:"n,omitempty"` // severity
	Int  int64     `json:"i,omitempty"` // createdAt or count
	Str  string    `json:"s,omitempty"` // type
	Upd  int64     `json:"u,omitempty"` // updatedAt
	ID   string    `json:"id"`
}

func (k *pageKey) values() []any {
	switch k.Sort {
	case SortSeverity:
		return []any{k.Sev, k.Upd, k.ID}
	case SortUpdatedAt:
		return []any{k.Upd, k.ID}
	case SortCreatedAt:
		return []any{k.Int, k.ID}
	case SortCount:
		return []any{k.Int, k.Upd, k.ID}
	default: // SortType
		return []any{k.Str, k.Upd, k.ID}
	}
}

func (k *pageKey) encode() string {
	b, _ := json.Marshal(k) // cannot fail: plain fields
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePageKey(token string, sort SortField, desc bool) (*pageKey, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, ErrInvalidPageToken
	}
	var k pageKey
	if err := json.Unmarshal(b, &k); err != nil || k.Sort != sort || k.Desc != desc || k.ID == "" {
		return nil, ErrInvalidPageToken
	}
	return &k, nil
}

// where returns the WHERE clause (with a leading " WHERE ", or "") of q and
// its arguments.
func (q *Query) where() (string, []any) {
	var conds []string
	var args []any
	in := func(col string, vals []string) {
		switch len(vals) {
		case 0:
		case 1:
			conds = append(conds, col+" = ?")
			args = append(args, vals[0])
		default:
			conds = append(conds, col+" IN ("+placeholders(len(vals))+")")
			args = append(args, stringsToAny(vals)...)
		}
	}
	in("account_id", q.Accounts)
	in("type", q.Types)
	if q.Archived != nil {
		conds = append(conds, "archived = ?")
		args = append(args, *q.Archived)
	}
	if q.MinSeverity != 0 {
		conds = append(conds, "severity >= ?")
		args = append(args, q.MinSeverity)
	}
	if q.MaxSeverity != 0 {
		conds = append(conds, "severity < ?")
		args = append(args, q.MaxSeverity)
	}
	if q.ResourceID != "" {
		conds = append(conds, "resource_id = ?")
		args = append(args, q.ResourceID)
	}
	if !q.UpdatedAfter.IsZero() {
		conds = append(conds, "updated_at >= ?")
		args = append(args, q.UpdatedAfter.UnixMilli())
	}
	if !q.UpdatedBefore.IsZero() {
		conds = append(conds, "updated_at < ?")
		args = append(args, q.UpdatedBefore.UnixMilli())
	}
	if q.Text != "" {
		p := "%" + escapeLike(q.Text) + "%"
		conds = append(conds, `(title LIKE ? ESCAPE '\' OR description LIKE ? ESCAPE '\' OR type LIKE ? ESCAPE '\' OR resource_id LIKE ? ESCAPE '\')`)
		args = append(args, p, p, p, p)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// List returns one page of the findings q selects, in q's sort order, and
// the token of the next page ("" after the last page). Pages are cut by the
// sort key of their last finding (keyset pagination), so paging visits every
// finding that exists throughout the walk exactly once, even when findings
// are added or deleted between pages; a finding whose sort key changes
// between pages may be seen twice or not at all.
func (s *Store) List(ctx context.Context, q Query) (page []finding.Finding, next string, err error) {
	l, err := q.listQuery()
	if err != nil {
		return nil, "", fmt.Errorf("listing findings: %w", err)
	}
	sort, desc, limit := l.sort, l.desc, l.limit
	rows, err := s.r.QueryContext(ctx, l.query, l.args...)
	if err != nil {
		return nil, "", fmt.Errorf("listing findings: %w", err)
	}
	defer rows.Close()
	var last pageKey
	var doc []byte
	for rows.Next() {
		if len(page) == limit {
			next = (&pageKey{Sort: sort, Desc: desc, Sev: last.Sev, Int: last.Int, Str: last.Str, Upd: last.Upd, ID: last.ID}).encode()
			break
		}
		var count, created int64
		if err := rows.Scan(&last.Sev, &count, &last.Str, &created, &last.Upd, &last.ID, &doc); err != nil {
			return nil, "", fmt.Errorf("listing findings: %w", err)
		}
		switch sort {
		case SortCount:
			last.Int = count
		case SortCreatedAt:
			last.Int = created
		}
		var f finding.Finding
		if err := json.Unmarshal(doc, &f); err != nil {
			return nil, "", fmt.Errorf("listing findings: finding %s: %w", last.ID, err)
		}
		page = append(page, f)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("listing findings: %w", err)
	}
	return page, next, nil
}

// listQuery is the SQL of a List call.
type listQuery struct {
	query string
	args  []any
	sort  SortField
	desc  bool
	limit int
}

func (q *Query) listQuery() (l listQuery, err error) {
	sort, desc := q.Sort, q.Desc
	if sort == "" {
		sort, desc = SortSeverity, true
	}
	keys, ok := sortKeys[sort]
	if !ok {
		return l, fmt.Errorf("unknown sort field %q", sort)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	dir, cmp := "ASC", ">"
	if desc {
		dir, cmp = "DESC", "<"
	}

	var key *pageKey
	if q.PageToken != "" {
		var err error
		if key, err = decodePageKey(q.PageToken, sort, desc); err != nil {
			return l, err
		}
	}
	order := make([]string, len(keys))
	for i, k := range keys {
		order[i] = k + " " + dir
	}
	orderBy := " ORDER BY " + strings.Join(order, ", ") + " LIMIT ?"

	// branch is the query of q with archived fixed to a.
	branch := func(a *bool) (string, []any) {
		bq := *q
		bq.Archived = a
		where, args := bq.where()
		if key != nil {
			cond := "(" + strings.Join(keys, ", ") + ") " + cmp + " (" + placeholders(len(keys)) + ")"
			if where == "" {
				where = " WHERE " + cond
			} else {
				where += " AND " + cond
			}
			args = append(args, key.values()...)
		}
		return "SELECT severity, count, type, created_at, updated_at, id, doc FROM findings" + where + orderBy,
			append(args, limit+1)
	}
	if q.Archived != nil {
		l.query, l.args = branch(q.Archived)
	} else {
		// The list indexes lead with (account, archived) or archived: merge
		// the current and the archived findings, each read in index order
		// up to the page size, instead of sorting every finding.
		q0, a0 := branch(ptr(false))
		q1, a1 := branch(ptr(true))
		l.query = "SELECT * FROM (" + q0 + ") UNION ALL SELECT * FROM (" + q1 + ")" + orderBy
		l.args = append(append(a0, a1...), limit+1)
	}
	l.sort, l.desc, l.limit = sort, desc, limit
	return l, nil
}

// Count returns how many findings q selects (its sort and page fields are
// ignored).
func (s *Store) Count(ctx context.Context, q Query) (int, error) {
	where, args := q.where()
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM findings"+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting findings: %w", err)
	}
	return n, nil
}

// CountBySeverity counts the findings q selects per severity band, keyed
// "Low", "Medium", "High" and "Critical" as [finding.SeverityLabel] names
// them; every key is present.
func (s *Store) CountBySeverity(ctx context.Context, q Query) (map[string]int, error) {
	where, args := q.where()
	var low, medium, high, critical int
	err := s.r.QueryRowContext(ctx, `SELECT
		coalesce(sum(severity < 4), 0),
		coalesce(sum(severity >= 4 AND severity < 7), 0),
		coalesce(sum(severity >= 7 AND severity < 9), 0),
		coalesce(sum(severity >= 9), 0)
		FROM findings`+where, args...).Scan(&low, &medium, &high, &critical)
	if err != nil {
		return nil, fmt.Errorf("counting findings by severity: %w", err)
	}
	return map[string]int{"Low": low, "Medium": medium, "High": high, "Critical": critical}, nil
}

// Get returns the findings with the given ids that belong to account (any
// account if account is ""), in the order of ids; unknown ids, ids of other
// accounts and repeated ids are skipped.
func (s *Store) Get(ctx context.Context, account string, ids []string) ([]finding.Finding, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	byID := make(map[string]finding.Finding, len(ids))
	for chunk := range slices.Chunk(ids, maxInList) {
		q := "SELECT id, doc FROM findings WHERE id IN (" + placeholders(len(chunk)) + ")"
		args := stringsToAny(chunk)
		if account != "" {
			q += " AND account_id = ?"
			args = append(args, account)
		}
		if err := s.getChunk(ctx, q, args, byID); err != nil {
			return nil, fmt.Errorf("getting findings: %w", err)
		}
	}
	out := make([]finding.Finding, 0, len(byID))
	for _, id := range ids {
		if f, ok := byID[id]; ok {
			out = append(out, f)
			delete(byID, id)
		}
	}
	return out, nil
}

func (s *Store) getChunk(ctx context.Context, q string, args []any, byID map[string]finding.Finding) error {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var id string
	var doc []byte
	for rows.Next() {
		if err := rows.Scan(&id, &doc); err != nil {
			return err
		}
		var f finding.Finding
		if err := json.Unmarshal(doc, &f); err != nil {
			return fmt.Errorf("finding %s: %w", id, err)
		}
		byID[id] = f
	}
	return rows.Err()
}

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

func stringsToAny(ss []string) []any {
	a := make([]any, len(ss))
	for i, s := range ss {
		a[i] = s
	}
	return a
}

func ptr[T any](v T) *T { return &v }
