package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/criteria"
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

// sortKeys lists the key expressions of each sort order backed by a column,
// the last being unique. Query.Sort names them, and so does
// Query.SortAttribute with the GuardDuty attribute names.
var sortKeys = map[string][]string{
	string(SortSeverity):    {"severity", "updated_at", "id"},
	string(SortUpdatedAt):   {"updated_at", "id"},
	string(SortCreatedAt):   {"created_at", "id"},
	string(SortCount):       {"count", "updated_at", "id"},
	string(SortType):        {"type", "updated_at", "id"},
	"service.count":         {"count", "updated_at", "id"},
	"accountId":             {"account_id", "updated_at", "id"},
	"region":                {"region", "updated_at", "id"},
	"id":                    {"id"},
	"resource.resourceType": {"resource_type", "updated_at", "id"},
}

// sortOrder is the resolved sort of a query.
type sortOrder struct {
	name string   // recorded in page tokens
	keys []string // SQL key expressions, the last being id
	desc bool
}

// resolveSort returns the sort order of q. A SortAttribute without a column
// sorts on the attribute's value in the document (json_extract), which
// SQLite must sort without an index: correct, but a full scan per page.
func (q *Query) resolveSort() (sortOrder, error) {
	if a := q.SortAttribute; a != "" {
		if keys, ok := sortKeys[a]; ok {
			name := a
			if a == "service.count" {
				name = string(SortCount)
			}
			return sortOrder{name: name, keys: keys, desc: q.Desc}, nil
		}
		if !criteria.ValidSortAttribute(a) {
			return sortOrder{}, fmt.Errorf("attribute %q cannot be sorted on", a)
		}
		expr := "coalesce(json_extract(doc, " + sqlString(jsonPath(a)) + "), '')"
		return sortOrder{name: a, keys: []string{expr, "updated_at", "id"}, desc: q.Desc}, nil
	}
	if q.Sort == "" {
		return sortOrder{name: string(SortSeverity), keys: sortKeys[string(SortSeverity)], desc: true}, nil
	}
	switch q.Sort {
	case SortSeverity, SortUpdatedAt, SortCreatedAt, SortCount, SortType:
		return sortOrder{name: string(q.Sort), keys: sortKeys[string(q.Sort)], desc: q.Desc}, nil
	}
	return sortOrder{}, fmt.Errorf("unknown sort field %q", q.Sort)
}

// jsonPath is the SQLite JSON path of a dotted attribute path.
func jsonPath(attr string) string {
	var b strings.Builder
	b.WriteString("$")
	for _, seg := range strings.Split(attr, ".") {
		b.WriteString(`."`)
		b.WriteString(strings.ReplaceAll(seg, `"`, `\"`))
		b.WriteString(`"`)
	}
	return b.String()
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Query selects findings. Conditions on different fields are ANDed; values
// within one list are ORed. Zero fields do not constrain.
type Query struct {
	Accounts    []string // accountId is one of these; empty: every account, so tenant-facing callers always set it
	Region      string   // region equals Region
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

	// Criteria is a GuardDuty FindingCriteria, ANDed with the fields
	// above. Its conditions on attributes with a column (and on the
	// other single-valued string attributes, through SQLite's JSON
	// functions) run in SQL; the rest run in Go on the decoded finding
	// (see [criteria.Criteria.Match]). It is not modified.
	Criteria *criteria.Criteria

	// Sort is the order of List; "" means severity, descending, whatever
	// Desc says ("worst first, then newest first").
	Sort SortField
	// SortAttribute, when set, overrides Sort with a GuardDuty
	// SortCriteria attribute name (see [criteria.ValidSortAttribute]),
	// ordered by Desc. updatedAt, createdAt, severity, type, accountId,
	// region, id, service.count and resource.resourceType walk an index;
	// any other sorts the selected findings on every page.
	SortAttribute string
	Desc          bool

	Limit     int    // page size; 0 means DefaultLimit
	PageToken string // the next token of the previous page, or ""
}

// pageKey is the decoded page token: the sort order and the sort key of the
// last finding of the previous page (or the last one examined).
type pageKey struct {
	Sort string `json:"f"`
	Desc bool   `json:"d"`
	Key  []any  `json:"k"`
}

func (k *pageKey) encode() string {
	b, _ := json.Marshal(k) // cannot fail: strings and numbers
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePageKey(token string, o sortOrder) ([]any, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, ErrInvalidPageToken
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var k pageKey
	if err := d.Decode(&k); err != nil || k.Sort != o.name || k.Desc != o.desc || len(k.Key) != len(o.keys) {
		return nil, ErrInvalidPageToken
	}
	for i, v := range k.Key {
		switch v := v.(type) {
		case json.Number:
			if n, err := v.Int64(); err == nil {
				k.Key[i] = n
			} else if f, err := v.Float64(); err == nil {
				k.Key[i] = f
			} else {
				return nil, ErrInvalidPageToken
			}
		case string:
		default:
			return nil, ErrInvalidPageToken
		}
	}
	if id, ok := k.Key[len(k.Key)-1].(string); !ok || id == "" {
		return nil, ErrInvalidPageToken
	}
	return k.Key, nil
}

// plan is a query compiled to SQL plus the residual predicate evaluated in
// Go.
type plan struct {
	conds    []string // ANDed, without the archived condition
	args     []any
	archived *bool              // archived fixed by the query or its criteria
	residual *criteria.Criteria // nil: SQL decides alone
	sort     sortOrder
	limit    int
	key      []any // the page token's key, or nil
}

func (q *Query) plan() (*plan, error) {
	p := &plan{archived: q.Archived}
	in := func(col string, vals []string) {
		switch len(vals) {
		case 0:
		case 1:
			p.conds = append(p.conds, col+" = ?")
			p.args = append(p.args, vals[0])
		default:
			p.conds = append(p.conds, col+" IN ("+placeholders(len(vals))+")")
			p.args = append(p.args, stringsToAny(vals)...)
		}
	}
	in("account_id", q.Accounts)
	if q.Region != "" {
		in("region", []string{q.Region})
	}
	in("type", q.Types)
	if q.MinSeverity != 0 {
		p.conds = append(p.conds, "severity >= ?")
		p.args = append(p.args, q.MinSeverity)
	}
	if q.MaxSeverity != 0 {
		p.conds = append(p.conds, "severity < ?")
		p.args = append(p.args, q.MaxSeverity)
	}
	if q.ResourceID != "" {
		p.conds = append(p.conds, "resource_id = ?")
		p.args = append(p.args, q.ResourceID)
	}
	if !q.UpdatedAfter.IsZero() {
		p.conds = append(p.conds, "updated_at >= ?")
		p.args = append(p.args, q.UpdatedAfter.UnixMilli())
	}
	if !q.UpdatedBefore.IsZero() {
		p.conds = append(p.conds, "updated_at < ?")
		p.args = append(p.args, q.UpdatedBefore.UnixMilli())
	}
	if q.Text != "" {
		pat := "%" + escapeLike(q.Text) + "%"
		p.conds = append(p.conds, `(title LIKE ? ESCAPE '\' OR description LIKE ? ESCAPE '\' OR type LIKE ? ESCAPE '\' OR resource_id LIKE ? ESCAPE '\')`)
		p.args = append(p.args, pat, pat, pat, pat)
	}
	if q.Criteria != nil && len(q.Criteria.Criterion) > 0 {
		if err := p.addCriteria(q.Criteria); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// where returns the WHERE clause (with a leading " WHERE ", or "") of p
// with archived fixed to a (nil: not constrained) and, if key is not nil,
// the keyset condition "after key" in p's sort order.
func (p *plan) where(a *bool, key []any) (string, []any) {
	conds := slices.Clip(p.conds)
	args := slices.Clip(p.args)
	if a != nil {
		conds = append(conds, "archived = ?")
		args = append(args, *a)
	}
	if key != nil {
		cmp := ">"
		if p.sort.desc {
			cmp = "<"
		}
		conds = append(conds, "("+strings.Join(p.sort.keys, ", ")+") "+cmp+" ("+placeholders(len(key))+")")
		args = append(args, key...)
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// pageQuery is the SQL of one batch of a listing: the key columns k0…kn
// (the last is id), then doc if withDoc, in sort order, at most n rows,
// after key.
func (p *plan) pageQuery(key []any, n int, withDoc bool) (string, []any) {
	dir := "ASC"
	if p.sort.desc {
		dir = "DESC"
	}
	cols := make([]string, len(p.sort.keys))
	order := make([]string, len(p.sort.keys))
	outer := make([]string, len(p.sort.keys))
	for i, k := range p.sort.keys {
		cols[i] = k + " AS k" + strconv.Itoa(i)
		order[i] = k + " " + dir
		outer[i] = "k" + strconv.Itoa(i) + " " + dir
	}
	sel := "SELECT " + strings.Join(cols, ", ")
	if withDoc {
		sel += ", doc"
	}
	branch := func(a *bool) (string, []any) {
		where, args := p.where(a, key)
		return sel + " FROM findings" + where + " ORDER BY " + strings.Join(order, ", ") + " LIMIT ?", append(args, n)
	}
	if p.archived != nil {
		return branch(p.archived)
	}
	// The list indexes lead with (account, archived) or archived: merge
	// the current and the archived findings, each read in index order up
	// to the page size, instead of sorting every finding.
	q0, a0 := branch(ptr(false))
	q1, a1 := branch(ptr(true))
	return "SELECT * FROM (" + q0 + ") UNION ALL SELECT * FROM (" + q1 + ") ORDER BY " + strings.Join(outer, ", ") + " LIMIT ?",
		append(append(a0, a1...), n)
}

// listQuery is the SQL of the first batch of a List call.
type listQuery struct {
	query string
	args  []any
}

func (q *Query) listQuery() (listQuery, error) {
	p, err := q.listPlan()
	if err != nil {
		return listQuery{}, err
	}
	query, args := p.pageQuery(p.key, p.limit+1, true)
	return listQuery{query: query, args: args}, nil
}

// listPlan is plan plus the sort, page size and page token of a listing.
func (q *Query) listPlan() (*plan, error) {
	o, err := q.resolveSort()
	if err != nil {
		return nil, err
	}
	var key []any
	if q.PageToken != "" {
		if key, err = decodePageKey(q.PageToken, o); err != nil {
			return nil, err
		}
	}
	p, err := q.plan()
	if err != nil {
		return nil, err
	}
	p.sort, p.key = o, key
	p.limit = q.Limit
	if p.limit <= 0 {
		p.limit = DefaultLimit
	}
	return p, nil
}

// scanBudget caps the rows one List or ListIDs call examines in Go for a
// residual predicate; a page cut short by it ends with a next token, as
// GuardDuty's ListFindings may return fewer than maxResults ids with one.
var scanBudget = 10000

// List returns one page of the findings q selects, in q's sort order, and
// the token of the next page ("" after the last page). Pages are cut by the
// sort key of their last finding (keyset pagination), so paging visits every
// finding that exists throughout the walk exactly once, even when findings
// are added or deleted between pages; a finding whose sort key changes
// between pages may be seen twice or not at all. When part of q.Criteria
// runs in Go and matches are sparse, a page may hold fewer than Limit
// findings and still have a next token.
func (s *Store) List(ctx context.Context, q Query) (page []finding.Finding, next string, err error) {
	err = s.listPage(ctx, q, true, func(id string, f *finding.Finding, doc []byte) error {
		if f == nil {
			f = new(finding.Finding)
			if err := json.Unmarshal(doc, f); err != nil {
				return fmt.Errorf("finding %s: %w", id, err)
			}
		}
		page = append(page, *f)
		return nil
	}, &next)
	if err != nil {
		return nil, "", fmt.Errorf("listing findings: %w", err)
	}
	return page, next, nil
}

// ListIDs is [Store.List] returning finding ids only, as ListFindings
// does. When q.Criteria runs entirely in SQL, no document is read.
func (s *Store) ListIDs(ctx context.Context, q Query) (ids []string, next string, err error) {
	err = s.listPage(ctx, q, false, func(id string, _ *finding.Finding, _ []byte) error {
		ids = append(ids, id)
		return nil
	}, &next)
	if err != nil {
		return nil, "", fmt.Errorf("listing finding ids: %w", err)
	}
	return ids, next, nil
}

// listPage walks one page of q, calling emit for each finding in order: f
// is the decoded finding when the residual predicate needed it, doc the
// document when withDoc. It sets *next to the next page's token.
func (s *Store) listPage(ctx context.Context, q Query, withDoc bool, emit func(id string, f *finding.Finding, doc []byte) error, next *string) error {
	p, err := q.listPlan()
	if err != nil {
		return err
	}
	token := func(key []any) string {
		return (&pageKey{Sort: p.sort.name, Desc: p.sort.desc, Key: key}).encode()
	}
	if p.residual == nil {
		var last []any
		n := 0
		err := s.batch(ctx, p, p.key, p.limit+1, withDoc, func(key []any, doc []byte) (bool, error) {
			if n == p.limit {
				*next = token(last)
				return false, nil
			}
			n++
			last = key
			return true, emit(key[len(key)-1].(string), nil, doc)
		})
		return err
	}

	// Part of the criteria runs in Go: read batches of candidates and
	// keep the matches, up to one more than the page (to know whether a
	// next page exists) or the scan budget.
	cursor, lastEmitted := p.key, []any(nil)
	emitted, scanned, done := 0, 0, false
	batch := min(max(8*p.limit, 256), 2000)
	for !done {
		rows := 0
		err := s.batch(ctx, p, cursor, batch, true, func(key []any, doc []byte) (bool, error) {
			rows++
			scanned++
			cursor = key
			var f finding.Finding
			if err := json.Unmarshal(doc, &f); err != nil {
				return false, fmt.Errorf("finding %s: %w", key[len(key)-1], err)
			}
			if p.residual.Match(&f) {
				if emitted == p.limit {
					*next, done = token(lastEmitted), true
					return false, nil
				}
				emitted++
				lastEmitted = key
				if err := emit(f.ID, &f, doc); err != nil {
					return false, err
				}
			}
			if scanned >= scanBudget {
				*next, done = token(cursor), true
				return false, nil
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		if rows < batch {
			done = true
		}
	}
	return nil
}

// batch runs one page query of p after key, at most n rows, calling fn with
// each row's key values (the last is the id) and doc (nil unless withDoc)
// until it returns false.
func (s *Store) batch(ctx context.Context, p *plan, key []any, n int, withDoc bool, fn func(key []any, doc []byte) (bool, error)) error {
	query, args := p.pageQuery(key, n, withDoc)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	nk := len(p.sort.keys)
	dest := make([]any, nk+1)
	for rows.Next() {
		vals := make([]any, nk)
		for i := range vals {
			dest[i] = &vals[i]
		}
		var doc []byte
		if withDoc {
			dest[nk] = &doc
		}
		if err := rows.Scan(dest[:len(dest)-boolInt(!withDoc)]...); err != nil {
			return err
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				vals[i] = string(b)
			}
		}
		if _, ok := vals[nk-1].(string); !ok {
			return fmt.Errorf("unexpected id %v", vals[nk-1])
		}
		more, err := fn(vals, doc)
		if err != nil || !more {
			return err
		}
	}
	return rows.Err()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Count returns how many findings q selects (its sort and page fields are
// ignored).
func (s *Store) Count(ctx context.Context, q Query) (int, error) {
	p, err := q.plan()
	if err != nil {
		return 0, fmt.Errorf("counting findings: %w", err)
	}
	where, args := p.where(p.archived, nil)
	var n int
	if p.residual == nil {
		err = s.r.QueryRowContext(ctx, "SELECT count(*) FROM findings"+where, args...).Scan(&n)
	} else {
		err = s.eachMatch(ctx, p, nil, func([]any, *finding.Finding) error { n++; return nil })
	}
	if err != nil {
		return 0, fmt.Errorf("counting findings: %w", err)
	}
	return n, nil
}

// eachMatch calls fn for every finding p selects that its residual
// predicate (which must be set) matches, with the values of the SQL
// expressions cols.
func (s *Store) eachMatch(ctx context.Context, p *plan, cols []string, fn func(vals []any, f *finding.Finding) error) error {
	where, args := p.where(p.archived, nil)
	sel := "SELECT " + strings.Join(append(slices.Clip(cols), "doc"), ", ") + " FROM findings" + where
	rows, err := s.r.QueryContext(ctx, sel, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	dest := make([]any, len(cols)+1)
	for rows.Next() {
		vals := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		var doc []byte
		dest[len(cols)] = &doc
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		var f finding.Finding
		if err := json.Unmarshal(doc, &f); err != nil {
			return fmt.Errorf("decoding a stored finding: %w", err)
		}
		if !p.residual.Match(&f) {
			continue
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				vals[i] = string(b)
			}
		}
		if err := fn(vals, &f); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CountBySeverity counts the findings q selects per severity band, keyed
// "Low", "Medium", "High" and "Critical" as [finding.SeverityLabel] names
// them; every key is present.
func (s *Store) CountBySeverity(ctx context.Context, q Query) (map[string]int, error) {
	p, err := q.plan()
	if err != nil {
		return nil, fmt.Errorf("counting findings by severity: %w", err)
	}
	m := map[string]int{"Low": 0, "Medium": 0, "High": 0, "Critical": 0}
	if p.residual != nil {
		err := s.eachMatch(ctx, p, nil, func(_ []any, f *finding.Finding) error {
			m[finding.SeverityLabel(f.Severity)]++
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("counting findings by severity: %w", err)
		}
		return m, nil
	}
	where, args := p.where(p.archived, nil)
	var low, medium, high, critical int
	err = s.r.QueryRowContext(ctx, `SELECT
		coalesce(sum(severity < 4), 0),
		coalesce(sum(severity >= 4 AND severity < 7), 0),
		coalesce(sum(severity >= 7 AND severity < 9), 0),
		coalesce(sum(severity >= 9), 0)
		FROM findings`+where, args...).Scan(&low, &medium, &high, &critical)
	if err != nil {
		return nil, fmt.Errorf("counting findings by severity: %w", err)
	}
	m["Low"], m["Medium"], m["High"], m["Critical"] = low, medium, high, critical
	return m, nil
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
