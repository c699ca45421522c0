package store

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/finding"
)

// GetFindingsStatistics groupings ([Store.Statistics]).
const (
	GroupByAccount     = "ACCOUNT"
	GroupByDate        = "DATE"
	GroupByFindingType = "FINDING_TYPE"
	GroupByResource    = "RESOURCE"
	GroupBySeverity    = "SEVERITY"
	// CountBySeverity is the legacy findingStatisticTypes value; "" means
	// the same.
	CountBySeverity = "COUNT_BY_SEVERITY"
)

// Statistics result sizes.
const (
	DefaultStatisticsResults = 25
	MaxStatisticsResults     = 100
)

// EpochTime is a time that encodes as epoch seconds, a JSON number with a
// fraction for milliseconds: the REST-JSON wire form of the GuardDuty
// model's timestamp type.
type EpochTime struct{ time.Time }

// MarshalJSON implements [json.Marshaler].
func (t EpochTime) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(t.UnixMilli())/1000, 'f', -1, 64), nil
}

// UnmarshalJSON implements [json.Unmarshaler].
func (t *EpochTime) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("epoch time %s: %w", b, err)
	}
	t.Time = time.UnixMilli(int64(math.Round(f * 1000))).UTC()
	return nil
}

func epochMillis(ms int64) EpochTime { return EpochTime{time.UnixMilli(ms).UTC()} }

// FindingStatistics is GetFindingsStatistics' findingStatistics: the one
// member the request asked for is set (to an empty list or map when no
// finding matches), the others are omitted.
type FindingStatistics struct {
	CountBySeverity      map[string]int          `json:"countBySeverity,omitzero"`
	GroupedByAccount     []AccountStatistics     `json:"groupedByAccount,omitzero"`
	GroupedByDate        []DateStatistics        `json:"groupedByDate,omitzero"`
	GroupedByFindingType []FindingTypeStatistics `json:"groupedByFindingType,omitzero"`
	GroupedByResource    []ResourceStatistics    `json:"groupedByResource,omitzero"`
	GroupedBySeverity    []SeverityStatistics    `json:"groupedBySeverity,omitzero"`
}

// AccountStatistics counts the findings of one account.
type AccountStatistics struct {
	AccountID       string    `json:"accountId"`
	LastGeneratedAt EpochTime `json:"lastGeneratedAt"` // the latest updatedAt
	TotalFindings   int       `json:"totalFindings"`
}

// DateStatistics counts the findings last updated on one UTC day.
type DateStatistics struct {
	Date            EpochTime `json:"date"` // midnight UTC
	LastGeneratedAt EpochTime `json:"lastGeneratedAt"`
	Severity        float64   `json:"severity"` // the highest
	TotalFindings   int       `json:"totalFindings"`
}

// FindingTypeStatistics counts the findings of one type.
type FindingTypeStatistics struct {
	FindingType     string    `json:"findingType"`
	LastGeneratedAt EpochTime `json:"lastGeneratedAt"`
	TotalFindings   int       `json:"totalFindings"`
}

// ResourceStatistics counts the findings of one resource.
type ResourceStatistics struct {
	AccountID       string    `json:"accountId"`
	LastGeneratedAt EpochTime `json:"lastGeneratedAt"`
	ResourceID      string    `json:"resourceId"`
	ResourceType    string    `json:"resourceType"`
	TotalFindings   int       `json:"totalFindings"`
}

// SeverityStatistics counts the findings of one severity bucket: the
// integer part of the severity (8 holds 8.0–8.9), FindingCriteria's severity
// values.
type SeverityStatistics struct {
	LastGeneratedAt EpochTime `json:"lastGeneratedAt"`
	Severity        float64   `json:"severity"`
	TotalFindings   int       `json:"totalFindings"`
}

// group is one aggregated group.
type group struct {
	keys   []any
	last   int64   // max(updated_at)
	maxSev float64 // max(severity)
	n      int
}

// groupExprs are the SQL expressions each grouping groups by.
var groupExprs = map[string][]string{
	GroupByAccount:     {"account_id"},
	GroupByDate:        {"updated_at / 86400000"},
	GroupByFindingType: {"type"},
	GroupByResource:    {"account_id", "resource_id", "resource_type"},
	GroupBySeverity:    {"CAST(severity AS INTEGER)"},
	CountBySeverity:    {"severity"},
}

// Statistics answers GetFindingsStatistics for the findings q selects (its
// sort and page fields are ignored). groupBy is one of the GroupBy
// constants, or CountBySeverity ("" too) for the legacy countBySeverity
// map, keyed by the exact severity written with at least one decimal
// ("2.0", "5.0", "8.5"). The groups are ordered by totalFindings, orderBy
// "ASC" or "DESC" ("" means DESC), ties by their key ascending, and at most
// max are returned (0 means DefaultStatisticsResults; at most
// MaxStatisticsResults); countBySeverity is never cut.
func (s *Store) Statistics(ctx context.Context, q Query, groupBy, orderBy string, max int) (FindingStatistics, error) {
	if groupBy == "" {
		groupBy = CountBySeverity
	}
	exprs, ok := groupExprs[groupBy]
	if !ok {
		return FindingStatistics{}, fmt.Errorf("computing finding statistics: unknown grouping %q", groupBy)
	}
	desc := true
	switch strings.ToUpper(orderBy) {
	case "", "DESC":
	case "ASC":
		desc = false
	default:
		return FindingStatistics{}, fmt.Errorf("computing finding statistics: order %q must be ASC or DESC", orderBy)
	}
	switch {
	case max == 0:
		max = DefaultStatisticsResults
	case max < 0 || max > MaxStatisticsResults:
		return FindingStatistics{}, fmt.Errorf("computing finding statistics: max results %d must be between 1 and %d", max, MaxStatisticsResults)
	}
	if groupBy == CountBySeverity {
		max = 0
	}
	groups, err := s.groups(ctx, q, exprs, desc, max)
	if err != nil {
		return FindingStatistics{}, fmt.Errorf("computing finding statistics: %w", err)
	}

	var st FindingStatistics
	str := func(v any) string { s, _ := v.(string); return s }
	num := func(v any) float64 {
		switch v := v.(type) {
		case int64:
			return float64(v)
		case float64:
			return v
		}
		return 0
	}
	switch groupBy {
	case CountBySeverity:
		st.CountBySeverity = make(map[string]int, len(groups))
		for _, g := range groups {
			st.CountBySeverity[formatSeverity(num(g.keys[0]))] += g.n
		}
	case GroupByAccount:
		st.GroupedByAccount = make([]AccountStatistics, 0, len(groups))
		for _, g := range groups {
			st.GroupedByAccount = append(st.GroupedByAccount, AccountStatistics{AccountID: str(g.keys[0]), LastGeneratedAt: epochMillis(g.last), TotalFindings: g.n})
		}
	case GroupByDate:
		st.GroupedByDate = make([]DateStatistics, 0, len(groups))
		for _, g := range groups {
			st.GroupedByDate = append(st.GroupedByDate, DateStatistics{Date: epochMillis(int64(num(g.keys[0])) * 86400000),
				LastGeneratedAt: epochMillis(g.last), Severity: g.maxSev, TotalFindings: g.n})
		}
	case GroupByFindingType:
		st.GroupedByFindingType = make([]FindingTypeStatistics, 0, len(groups))
		for _, g := range groups {
			st.GroupedByFindingType = append(st.GroupedByFindingType, FindingTypeStatistics{FindingType: str(g.keys[0]), LastGeneratedAt: epochMillis(g.last), TotalFindings: g.n})
		}
	case GroupByResource:
		st.GroupedByResource = make([]ResourceStatistics, 0, len(groups))
		for _, g := range groups {
			st.GroupedByResource = append(st.GroupedByResource, ResourceStatistics{AccountID: str(g.keys[0]), ResourceID: str(g.keys[1]),
				ResourceType: str(g.keys[2]), LastGeneratedAt: epochMillis(g.last), TotalFindings: g.n})
		}
	case GroupBySeverity:
		st.GroupedBySeverity = make([]SeverityStatistics, 0, len(groups))
		for _, g := range groups {
			st.GroupedBySeverity = append(st.GroupedBySeverity, SeverityStatistics{Severity: num(g.keys[0]), LastGeneratedAt: epochMillis(g.last), TotalFindings: g.n})
		}
	}
	return st, nil
}

// formatSeverity writes a severity as GuardDuty's countBySeverity keys do:
// "8.0", "5.5".
func formatSeverity(f float64) string {
	if f == math.Trunc(f) {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// groups aggregates the findings q selects by exprs, ordered by count (ties
// by key ascending), at most max groups (0: all). In SQL when the criteria
// compile entirely to SQL; in Go over the matching findings otherwise.
func (s *Store) groups(ctx context.Context, q Query, exprs []string, desc bool, max int) ([]group, error) {
	p, err := q.plan()
	if err != nil {
		return nil, err
	}
	if p.residual != nil {
		byKey := map[string]*group{}
		var order []*group
		err := s.eachMatch(ctx, p, append(slices.Clip(exprs), "updated_at", "severity"), func(vals []any, _ *finding.Finding) error {
			k := fmt.Sprint(vals[:len(exprs)]...)
			g := byKey[k]
			if g == nil {
				g = &group{keys: slices.Clone(vals[:len(exprs)]), last: math.MinInt64, maxSev: math.Inf(-1)}
				byKey[k] = g
				order = append(order, g)
			}
			upd, _ := vals[len(exprs)].(int64)
			sev := toFloat(vals[len(exprs)+1])
			g.n++
			g.last = maxOf(g.last, upd)
			g.maxSev = maxOf(g.maxSev, sev)
			return nil
		})
		if err != nil {
			return nil, err
		}
		slices.SortFunc(order, func(a, b *group) int {
			if c := cmp.Compare(a.n, b.n); c != 0 {
				if desc {
					return -c
				}
				return c
			}
			for i := range a.keys {
				if c := compareSQL(a.keys[i], b.keys[i]); c != 0 {
					return c
				}
			}
			return 0
		})
		if max > 0 && len(order) > max {
			order = order[:max]
		}
		out := make([]group, len(order))
		for i, g := range order {
			out[i] = *g
		}
		return out, nil
	}

	where, args := p.where(p.archived, nil)
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	keys := strings.Join(exprs, ", ")
	query := "SELECT " + keys + ", max(updated_at), max(severity), count(*) FROM findings" + where +
		" GROUP BY " + keys + " ORDER BY count(*) " + dir + ", " + keys
	if max > 0 {
		query += " LIMIT ?"
		args = append(args, max)
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []group
	for rows.Next() {
		g := group{keys: make([]any, len(exprs))}
		dest := make([]any, 0, len(exprs)+3)
		for i := range g.keys {
			dest = append(dest, &g.keys[i])
		}
		dest = append(dest, &g.last, &g.maxSev, &g.n)
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		for i, v := range g.keys {
			if b, ok := v.([]byte); ok {
				g.keys[i] = string(b)
			}
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

func maxOf[T cmp.Ordered](a, b T) T { return max(a, b) }

func toFloat(v any) float64 {
	switch v := v.(type) {
	case int64:
		return float64(v)
	case float64:
		return v
	}
	return 0
}

// compareSQL orders two values as SQLite does for the types a group key
// holds: numbers before text.
func compareSQL(a, b any) int {
	as, aText := a.(string)
	bs, bText := b.(string)
	switch {
	case aText && bText:
		return strings.Compare(as, bs)
	case aText:
		return 1
	case bText:
		return -1
	}
	return cmp.Compare(toFloat(a), toFloat(b))
}
