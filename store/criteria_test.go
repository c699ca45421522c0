package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/criteria"
	"github.com/vigilsec/vigil/criteria/criteriatest"
	"github.com/vigilsec/vigil/finding"
)

// raceEnabled is set by race_test.go under -race, to shorten slow tests.
var raceEnabled bool

// randomPopulation stores n random findings and returns them as stored.
func randomPopulation(t testing.TB, s *Store, n int, seed uint64) []finding.Finding {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	fs := make([]finding.Finding, n)
	ids := make([]string, n)
	for i := range fs {
		fs[i] = *criteriatest.Finding(rng, i)
		ids[i] = fs[i].ID
	}
	if _, err := s.Upsert(context.Background(), fs); err != nil {
		t.Fatal(err)
	}
	out, err := s.Get(context.Background(), "", ids)
	if err != nil || len(out) != n {
		t.Fatal(len(out), err)
	}
	return out
}

// criteriaAttributes are the attributes random criteria use: with a
// column, through json_extract, in Go, and outside the model.
var criteriaAttributes = []string{
	"accountId", "region", "type", "severity", "service.count", "createdAt", "updatedAt", "service.eventFirstSeen",
	"service.archived", "resource.resourceType", "service.resourceRole", "service.userFeedback", "service.action.actionType", "id",
	"resource.instanceDetails.instanceId", "resource.accessKeyDetails.accessKeyId", "resource.accessKeyDetails.userName",
	"service.action.networkConnectionAction.remoteIpDetails.ipAddressV4", "service.action.awsApiCallAction.api",
	"service.action.dnsRequestAction.domain", "service.action.networkConnectionAction.remoteIpDetails.country.countryCode",
	"service.action.networkConnectionAction.remoteIpDetails.organization.asn",
	"resource.instanceDetails.tags.key", "resource.instanceDetails.tags.value",
	"service.action.portProbeAction.portProbeDetails.remoteIpDetails.ipAddressV4", "resource.s3BucketDetails.name",
	"service.additionalInfo.threatListName", "service.additionalInfo.inBytes", "service.additionalInfo.unusual.port",
	"service.action.networkConnectionAction.localPortDetails.port", "service.action.networkConnectionAction.blocked",
	"resource.accessKeyDetails.userIdentity.arn",
}

func randomBound(rng *rand.Rand, attr string) *int64 {
	var v int64
	switch a, _ := criteria.Lookup(attr); {
	case a.Kind == criteria.KindTime:
		v = criteriatest.Times(rng)
	case attr == "severity":
		v = int64(rng.IntN(11))
	case attr == "service.count":
		v = int64(rng.IntN(6))
	case strings.HasSuffix(attr, "asn"):
		v = int64(7000 + rng.IntN(60000))
	case strings.HasSuffix(attr, "inBytes"):
		v = int64(rng.IntN(200000))
	default:
		v = int64(rng.IntN(4000))
	}
	return &v
}

func randomValues(rng *rand.Rand, attr string) []string {
	vals := criteriatest.Values(attr)
	if a, _ := criteria.Lookup(attr); a.Kind == criteria.KindTime {
		vals = []string{fmt.Sprint(criteriatest.Times(rng))}
	}
	if attr == "id" {
		vals = []string{finding.ID("criteriatest", fmt.Sprint(rng.IntN(100))), "nope"}
	}
	n := 1 + rng.IntN(3)
	out := make([]string, n)
	for i := range out {
		out[i] = vals[rng.IntN(len(vals))]
	}
	return out
}

func randomPattern(rng *rand.Rand, attr string) string {
	v := randomValues(rng, attr)[0]
	switch rng.IntN(4) {
	case 0:
		return v
	case 1:
		if len(v) > 2 {
			return v[:len(v)/2] + "*"
		}
	case 2:
		if len(v) > 2 {
			return "*" + v[len(v)-2:]
		}
	}
	b := []byte(v)
	if len(b) > 0 {
		b[rng.IntN(len(b))] = '?'
	}
	return string(b)
}

// randomCondition returns a random condition on attr, with deprecated
// aliases now and then.
func randomCondition(rng *rand.Rand, attr string) criteria.Condition {
	var c criteria.Condition
	for {
		switch rng.IntN(7) {
		case 0, 1:
			if rng.IntN(4) == 0 {
				c.Eq = randomValues(rng, attr)
			} else {
				c.Equals = randomValues(rng, attr)
			}
		case 2:
			c.NotEquals = randomValues(rng, attr)
		case 3:
			if rng.IntN(4) == 0 {
				c.Gte = randomBound(rng, attr)
			} else {
				c.GreaterThanOrEqual = randomBound(rng, attr)
			}
		case 4:
			if rng.IntN(2) == 0 {
				c.LessThan = randomBound(rng, attr)
			} else {
				c.GreaterThan = randomBound(rng, attr)
			}
		case 5:
			c.Matches = []string{randomPattern(rng, attr)}
		case 6:
			c.NotMatches = []string{randomPattern(rng, attr)}
		}
		if rng.IntN(3) != 0 {
			return c
		}
	}
}

func randomCriteria(rng *rand.Rand) *criteria.Criteria {
	c := &criteria.Criteria{Criterion: map[string]criteria.Condition{}}
	for range 1 + rng.IntN(3) {
		a := criteriaAttributes[rng.IntN(len(criteriaAttributes))]
		c.Criterion[a] = randomCondition(rng, a)
	}
	return c
}

// listAll pages through q and returns the ids in order.
func listAll(t *testing.T, s *Store, q Query) []string {
	t.Helper()
	var ids []string
	for pages := 0; ; pages++ {
		page, next, err := s.ListIDs(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > max(q.Limit, 1) {
			t.Fatalf("page of %d ids, limit %d", len(page), q.Limit)
		}
		ids = append(ids, page...)
		if next == "" {
			return ids
		}
		if pages > 10000 {
			t.Fatal("endless paging")
		}
		q.PageToken = next
	}
}

// TestCriteriaDifferential checks that List, ListIDs, Count and
// CountBySeverity with random criteria select exactly the findings
// criteria.Match selects, in the same order as without criteria.
func TestCriteriaDifferential(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	size, n := 3000, 100
	if testing.Short() || raceEnabled {
		size, n = 400, 20 // SQLite under the race detector is slow
	}
	all := randomPopulation(t, s, size, 11)
	rng := rand.New(rand.NewPCG(21, 22))
	sorts := []Query{
		{}, {Sort: SortUpdatedAt, Desc: true}, {Sort: SortSeverity}, {SortAttribute: "accountId", Desc: true},
		{SortAttribute: "service.count"}, {SortAttribute: "id"}, {SortAttribute: "service.action.actionType", Desc: true},
		{SortAttribute: "service.eventFirstSeen"}, {SortAttribute: "resource.instanceDetails.instanceId"},
	}
	// The reference order of each sort: every finding, no criteria.
	ref := make([][]string, len(sorts))
	for i, sq := range sorts {
		sq.Limit = len(all) + 1
		ids, next, err := s.ListIDs(ctx, sq)
		if err != nil || next != "" || len(ids) != len(all) {
			t.Fatalf("reference %+v: %d ids, next %q, %v", sq, len(ids), next, err)
		}
		ref[i] = ids
	}
	byID := map[string]*finding.Finding{}
	for i := range all {
		byID[all[i].ID] = &all[i]
	}

	residuals, nonEmpty := 0, 0
	type cm = map[string]criteria.Condition
	first := finding.FormatTime(criteriatest.T0.Add(-24 * time.Hour))
	fixed := []cm{
		{"resource.resourceType": {Equals: []string{"Instance"}}, "resource.instanceDetails.instanceId": {Equals: []string{"i-0000000000000001", "i-0000000000000002"}}},
		{"resource.resourceType": {Eq: []string{"AccessKey"}}, "resource.accessKeyDetails.accessKeyId": {Equals: []string{"AKIA0001"}}},
		{"severity": {Equals: []string{"7", "8"}}},
		{"severity": {NotEquals: []string{"2", "7.5"}}, "service.count": {Lt: ptr(int64(3))}},
		{"service.archived": {Equals: []string{"true"}}},
		{"resource.instanceDetails.tags.key": {Equals: []string{"env"}}, "severity": {GreaterThanOrEqual: ptr(int64(5))}},
		{"type": {Matches: []string{"Recon:*"}, NotMatches: []string{"*IAMUser*"}}},
		{"service.eventFirstSeen": {NotEquals: []string{first}}, "service.resourceRole": {NotEquals: []string{"TARGET"}}},
		{"service.additionalInfo.unusual.port": {Equals: []string{"22"}}},
		{"resource.accessKeyDetails.userIdentity.arn": {NotEquals: []string{"x"}}, "region": {Equals: []string{"us-east-1"}}},
		{"accountId": {Matches: []string{"1*1"}}, "service.userFeedback": {NotEquals: []string{"USEFUL"}}},
		{"service.action.networkConnectionAction.remoteIpDetails.country.countryCode": {NotMatches: []string{"N?"}}},
	}
	for i := range n + len(fixed) {
		c := randomCriteria(rng)
		if i < len(fixed) {
			c = &criteria.Criteria{Criterion: fixed[i]}
		}
		desc, _ := json.Marshal(c)
		si := rng.IntN(len(sorts))
		q := sorts[si]
		q.Criteria = c
		q.Limit = []int{10, 50, 5000}[rng.IntN(3)]
		if q.SortAttribute == "service.action.actionType" || q.SortAttribute == "resource.instanceDetails.instanceId" {
			q.Limit = 5000 // sorted on every page: keep the pages few
		}
		if rng.IntN(4) == 0 {
			q.Accounts = []string{"111111111111", "333333333333"}[:1+rng.IntN(2)]
		}
		if rng.IntN(4) == 0 {
			q.Region = "eu-west-1"
		}
		if rng.IntN(5) == 0 {
			q.Archived = ptr(rng.IntN(2) == 0)
		}
		var want []string
		bySev := map[string]int{"Low": 0, "Medium": 0, "High": 0, "Critical": 0}
		for _, id := range ref[si] {
			f := byID[id]
			if len(q.Accounts) > 0 && !slices.Contains(q.Accounts, f.AccountID) || q.Region != "" && f.Region != q.Region ||
				q.Archived != nil && f.Service.Archived != *q.Archived {
				continue
			}
			if c.Match(f) {
				want = append(want, id)
				bySev[finding.SeverityLabel(f.Severity)]++
			}
		}
		if len(want) > 0 {
			nonEmpty++
		}
		p, err := q.plan()
		if err != nil {
			t.Fatalf("%d %s: plan: %v", i, desc, err)
		}
		if p.residual != nil {
			residuals++
		}
		got := listAll(t, s, q)
		if !slices.Equal(got, want) {
			t.Fatalf("%d %s sort %+v limit %d: ListIDs %d ids, want %d (first difference at %d); residual %v",
				i, desc, sorts[si], q.Limit, len(got), len(want), firstDiff(got, want), p.residual != nil)
		}
		if cnt, err := s.Count(ctx, q); err != nil || cnt != len(want) {
			t.Fatalf("%d %s: Count = %d, %v; want %d", i, desc, cnt, err, len(want))
		}
		if i%10 == 0 {
			m, err := s.CountBySeverity(ctx, q)
			if err != nil || !reflect.DeepEqual(m, bySev) {
				t.Fatalf("%d %s: CountBySeverity = %v, %v; want %v", i, desc, m, err, bySev)
			}
			q.Limit = 5000
			page, _, err := s.List(ctx, q)
			if err != nil || len(page) != len(want) {
				t.Fatalf("%d %s: List = %d findings, %v; want %d", i, desc, len(page), err, len(want))
			}
			for j := range page {
				if page[j].ID != want[j] {
					t.Fatalf("%d: List order differs at %d", i, j)
				}
			}
		}
	}
	t.Logf("%d criteria, %d with a residual predicate, %d selecting something", n+len(fixed), residuals, nonEmpty)
	if residuals < n/5 || residuals > n*9/10 || nonEmpty < n/5 {
		t.Errorf("random criteria are not exercising both paths: %d residual, %d non-empty of %d", residuals, nonEmpty, n)
	}
}

// TestResidualPagination checks that pages cut by the scan budget still
// visit every match exactly once, in order.
func TestResidualPagination(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	size := 1000
	if raceEnabled {
		size = 400
	}
	all := randomPopulation(t, s, size, 5)
	defer func(b int) { scanBudget = b }(scanBudget)
	scanBudget = 37
	c := &criteria.Criteria{Criterion: map[string]criteria.Condition{
		"resource.instanceDetails.tags.key": {Equals: []string{"env"}},
		"severity":                          {GreaterThanOrEqual: ptr(int64(5))},
	}}
	var want []string
	ref, _, err := s.ListIDs(ctx, Query{Sort: SortUpdatedAt, Desc: true, Limit: 2000})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*finding.Finding{}
	for i := range all {
		byID[all[i].ID] = &all[i]
	}
	for _, id := range ref {
		if c.Match(byID[id]) {
			want = append(want, id)
		}
	}
	if len(want) < 20 {
		t.Fatalf("only %d matches", len(want))
	}
	for _, limit := range []int{1, 4, 50} {
		q := Query{Criteria: c, Sort: SortUpdatedAt, Desc: true, Limit: limit}
		var got []string
		short := 0
		for {
			ids, next, err := s.ListIDs(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if next != "" && len(ids) < limit {
				short++
			}
			got = append(got, ids...)
			if next == "" {
				break
			}
			q.PageToken = next
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: got %d ids, want %d; first difference at %d", limit, len(got), len(want), firstDiff(got, want))
		}
		if limit == 50 && short == 0 {
			t.Error("the scan budget never cut a page")
		}
	}
	// A token of one sort is refused by another.
	_, next, err := s.ListIDs(ctx, Query{Criteria: c, Sort: SortUpdatedAt, Desc: true, Limit: 1})
	if err != nil || next == "" {
		t.Fatal(next, err)
	}
	if _, _, err := s.ListIDs(ctx, Query{Criteria: c, SortAttribute: "updatedAt", Limit: 1, PageToken: next}); err == nil {
		t.Error("token accepted for another direction")
	}
}

func TestRegionAndSortAttribute(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	all := randomPopulation(t, s, 300, 9)
	for _, region := range []string{"us-east-1", "eu-west-1", "ap-south-1"} {
		want := 0
		for _, f := range all {
			if f.Region == region {
				want++
			}
		}
		ids := listAll(t, s, Query{Region: region, Limit: 13})
		if len(ids) != want {
			t.Errorf("region %s: %d ids, want %d", region, len(ids), want)
		}
		if n, err := s.Count(ctx, Query{Region: region}); err != nil || n != want {
			t.Errorf("region %s: Count %d, %v", region, n, err)
		}
	}
	// Sorting by attributes.
	for _, tt := range []struct {
		attr string
		key  func(f *finding.Finding) string
	}{
		{"accountId", func(f *finding.Finding) string { return f.AccountID }},
		{"region", func(f *finding.Finding) string { return f.Region }},
		{"resource.resourceType", func(f *finding.Finding) string { return f.Resource.ResourceType }},
		{"service.action.actionType", func(f *finding.Finding) string { return f.Service.Action.ActionType }},
		{"updatedAt", func(f *finding.Finding) string { return f.UpdatedAt }},
	} {
		for _, desc := range []bool{false, true} {
			page, next, err := s.List(ctx, Query{SortAttribute: tt.attr, Desc: desc, Limit: 1000})
			if err != nil || next != "" || len(page) != len(all) {
				t.Fatal(tt.attr, len(page), next, err)
			}
			ok := slices.IsSortedFunc(page, func(a, b finding.Finding) int {
				c := cmp.Compare(tt.key(&a), tt.key(&b))
				if desc {
					c = -c
				}
				return c
			})
			if !ok {
				t.Errorf("List by %s desc=%v is not sorted", tt.attr, desc)
			}
		}
	}
	for _, bad := range []string{"resource.instanceDetails.tags.key", "nope", "service.additionalInfo.x"} {
		if _, _, err := s.ListIDs(ctx, Query{SortAttribute: bad}); err == nil {
			t.Errorf("sort by %s accepted", bad)
		}
	}
	if _, _, err := s.ListIDs(ctx, Query{Criteria: &criteria.Criteria{Criterion: map[string]criteria.Condition{"nope": {Equals: []string{"x"}}}}}); err == nil {
		t.Error("invalid criteria accepted")
	}
}

// TestCriteriaSQL checks which conditions run in SQL.
func TestCriteriaSQL(t *testing.T) {
	for _, tt := range []struct {
		attr     string
		cond     criteria.Condition
		residual bool
	}{
		{"severity", criteria.Condition{GreaterThanOrEqual: ptr(int64(7))}, false},
		{"severity", criteria.Condition{Equals: []string{"7", "8"}}, false},
		{"severity", criteria.Condition{Matches: []string{"8*"}}, true},
		{"type", criteria.Condition{Matches: []string{"Recon:*"}}, false},
		{"type", criteria.Condition{GreaterThan: ptr(int64(1))}, true},
		{"service.archived", criteria.Condition{Equals: []string{"false"}}, false},
		{"updatedAt", criteria.Condition{GreaterThan: ptr(int64(1))}, false},
		{"resource.instanceDetails.instanceId", criteria.Condition{Equals: []string{"i-1"}}, false},
		{"service.action.awsApiCallAction.remoteIpDetails.ipAddressV4", criteria.Condition{NotEquals: []string{"1.2.3.4"}}, false},
		{"resource.instanceDetails.launchTime", criteria.Condition{GreaterThan: ptr(int64(1))}, true},
		{"resource.instanceDetails.tags.key", criteria.Condition{Equals: []string{"env"}}, true},
		{"service.additionalInfo.threatListName", criteria.Condition{Equals: []string{"x"}}, true},
		{"resource.accessKeyDetails.userIdentity.arn", criteria.Condition{Equals: []string{"x"}}, false},
	} {
		q := Query{Criteria: &criteria.Criteria{Criterion: map[string]criteria.Condition{tt.attr: tt.cond}}}
		p, err := q.plan()
		if err != nil {
			t.Fatal(err)
		}
		if (p.residual != nil) != tt.residual {
			t.Errorf("%s %+v: residual %v, want %v", tt.attr, tt.cond, p.residual != nil, tt.residual)
		}
	}
	// service.archived equals one value fixes the archived branch.
	q := Query{Criteria: &criteria.Criteria{Criterion: map[string]criteria.Condition{"service.archived": {Equals: []string{"FALSE"}}}}}
	if p, _ := q.plan(); p.archived == nil || *p.archived {
		t.Error("service.archived equals false does not fix archived")
	}
	// The caller's criteria are not modified.
	c := &criteria.Criteria{Criterion: map[string]criteria.Condition{"severity": {Gte: ptr(int64(7))}}}
	if _, err := (&Query{Criteria: c}).plan(); err != nil || c.Criterion["severity"].Gte == nil {
		t.Errorf("criteria modified: %+v, %v", c.Criterion, err)
	}
}

func TestStatistics(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	all := randomPopulation(t, s, 800, 3)
	crits := []*criteria.Criteria{
		nil,
		{Criterion: map[string]criteria.Condition{"severity": {GreaterThanOrEqual: ptr(int64(5))}}},
		{Criterion: map[string]criteria.Condition{"resource.instanceDetails.tags.key": {Equals: []string{"env", "Name"}}}}, // residual
	}
	for ci, c := range crits {
		var sel []finding.Finding
		for _, f := range all {
			if c.Match(&f) {
				sel = append(sel, f)
			}
		}
		type agg struct {
			n    int
			last int64
			sev  float64
		}
		expect := func(key func(f *finding.Finding) string) map[string]agg {
			m := map[string]agg{}
			for _, f := range sel {
				k := key(&f)
				a := m[k]
				u, _ := finding.ParseTime(f.UpdatedAt)
				a.n++
				a.last = max(a.last, u.UnixMilli())
				a.sev = max(a.sev, f.Severity)
				m[k] = a
			}
			return m
		}
		check := func(name string, want map[string]agg, got map[string]agg, gotOrder []int, max int, desc bool) {
			t.Helper()
			if !slices.IsSortedFunc(gotOrder, func(a, b int) int {
				if desc {
					return cmp.Compare(b, a)
				}
				return cmp.Compare(a, b)
			}) {
				t.Errorf("criteria %d %s: not ordered by totalFindings: %v", ci, name, gotOrder)
			}
			if len(got) != min(len(want), max) {
				t.Errorf("criteria %d %s: %d groups, want %d", ci, name, len(got), min(len(want), max))
			}
			for k, g := range got {
				if w := want[k]; w != g {
					t.Errorf("criteria %d %s %s: %+v, want %+v", ci, name, k, g, w)
				}
			}
		}
		q := Query{Criteria: c}
		for _, desc := range []bool{true, false} {
			order := "DESC"
			if !desc {
				order = "asc"
			}
			const max = 100
			st, err := s.Statistics(ctx, q, GroupByAccount, order, max)
			if err != nil {
				t.Fatal(err)
			}
			got, counts := map[string]agg{}, []int{}
			for _, g := range st.GroupedByAccount {
				got[g.AccountID] = agg{g.TotalFindings, g.LastGeneratedAt.UnixMilli(), expect(func(f *finding.Finding) string { return f.AccountID })[g.AccountID].sev}
				counts = append(counts, g.TotalFindings)
			}
			check("account", expect(func(f *finding.Finding) string { return f.AccountID }), got, counts, max, desc)

			st, err = s.Statistics(ctx, q, GroupByFindingType, order, 3)
			if err != nil {
				t.Fatal(err)
			}
			want := expect(func(f *finding.Finding) string { return f.Type })
			got, counts = map[string]agg{}, nil
			for _, g := range st.GroupedByFindingType {
				got[g.FindingType] = agg{g.TotalFindings, g.LastGeneratedAt.UnixMilli(), want[g.FindingType].sev}
				counts = append(counts, g.TotalFindings)
			}
			check("type", want, got, counts, 3, desc)

			st, err = s.Statistics(ctx, q, GroupByDate, order, max)
			if err != nil {
				t.Fatal(err)
			}
			want = expect(func(f *finding.Finding) string { return f.UpdatedAt[:10] })
			got, counts = map[string]agg{}, nil
			for _, g := range st.GroupedByDate {
				k := g.Date.UTC().Format("2006-01-02")
				if !g.Date.Equal(g.Date.Truncate(24 * time.Hour)) {
					t.Errorf("date %v is not midnight", g.Date)
				}
				got[k] = agg{g.TotalFindings, g.LastGeneratedAt.UnixMilli(), g.Severity}
				counts = append(counts, g.TotalFindings)
			}
			check("date", want, got, counts, max, desc)

			st, err = s.Statistics(ctx, q, GroupBySeverity, order, max)
			if err != nil {
				t.Fatal(err)
			}
			want = expect(func(f *finding.Finding) string { return fmt.Sprint(math.Floor(f.Severity)) })
			got, counts = map[string]agg{}, nil
			for _, g := range st.GroupedBySeverity {
				k := fmt.Sprint(g.Severity)
				got[k] = agg{g.TotalFindings, g.LastGeneratedAt.UnixMilli(), want[k].sev}
				counts = append(counts, g.TotalFindings)
			}
			check("severity", want, got, counts, max, desc)

			st, err = s.Statistics(ctx, q, GroupByResource, order, 10)
			if err != nil {
				t.Fatal(err)
			}
			want = expect(func(f *finding.Finding) string {
				return f.AccountID + "/" + resourceID(f) + "/" + f.Resource.ResourceType
			})
			got, counts = map[string]agg{}, nil
			for _, g := range st.GroupedByResource {
				k := g.AccountID + "/" + g.ResourceID + "/" + g.ResourceType
				got[k] = agg{g.TotalFindings, g.LastGeneratedAt.UnixMilli(), want[k].sev}
				counts = append(counts, g.TotalFindings)
			}
			check("resource", want, got, counts, 10, desc)
		}

		st, err := s.Statistics(ctx, q, "", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		wantSev := map[string]int{}
		for _, f := range sel {
			wantSev[formatSeverity(f.Severity)]++
		}
		if !reflect.DeepEqual(st.CountBySeverity, wantSev) {
			t.Errorf("criteria %d: countBySeverity %v, want %v", ci, st.CountBySeverity, wantSev)
		}
	}

	// Wire form.
	st, err := s.Statistics(ctx, Query{Accounts: []string{"111111111111"}}, GroupByAccount, "DESC", 0)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(st)
	var raw map[string][]map[string]any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil || len(raw) != 1 || len(raw["groupedByAccount"]) != 1 {
		t.Fatalf("%s: %v", b, err)
	}
	if _, ok := raw["groupedByAccount"][0]["lastGeneratedAt"].(json.Number); !ok {
		t.Errorf("lastGeneratedAt is not a number: %s", b)
	}
	var back FindingStatistics
	if err := json.Unmarshal(b, &back); err != nil || !back.GroupedByAccount[0].LastGeneratedAt.Equal(st.GroupedByAccount[0].LastGeneratedAt.Time) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	empty, err := s.Statistics(ctx, Query{Region: "nowhere"}, GroupBySeverity, "", 0)
	if b, _ := json.Marshal(empty); err != nil || string(b) != `{"groupedBySeverity":[]}` {
		t.Errorf("empty statistics: %s, %v", b, err)
	}
	empty, err = s.Statistics(ctx, Query{Region: "nowhere"}, CountBySeverity, "", 0)
	if b, _ := json.Marshal(empty); err != nil || string(b) != `{"countBySeverity":{}}` {
		t.Errorf("empty statistics: %s, %v", b, err)
	}
	if b, _ := json.Marshal(EpochTime{time.UnixMilli(1714567890123)}); string(b) != "1714567890.123" {
		t.Errorf("EpochTime encodes as %s", b)
	}
	for _, bad := range []struct {
		group, order string
		max          int
	}{{"COLOR", "", 0}, {GroupByAccount, "UP", 0}, {GroupByAccount, "", 101}, {GroupByAccount, "", -1}} {
		if _, err := s.Statistics(ctx, Query{}, bad.group, bad.order, bad.max); err == nil {
			t.Errorf("Statistics(%+v) accepted", bad)
		}
	}
}

// TestCriteriaQueryPlan checks that ListFindings' usual queries read one
// index, in order, without touching the table.
func TestCriteriaQueryPlan(t *testing.T) {
	s := openTest(t)
	population(t, s, 200)
	day := int64(24 * time.Hour / time.Millisecond)
	sevType := &criteria.Criteria{Criterion: map[string]criteria.Condition{
		"severity": {GreaterThanOrEqual: ptr(int64(7))}, "type": {Equals: []string{"Recon:EC2/PortProbeUnprotectedPort"}}}}
	since := &criteria.Criteria{Criterion: map[string]criteria.Condition{
		"accountId": {Equals: []string{"111111111111"}}, "updatedAt": {GreaterThanOrEqual: ptr(t0.UnixMilli() - 30*day)}}}
	current := &criteria.Criteria{Criterion: map[string]criteria.Condition{"service.archived": {Equals: []string{"false"}}}}
	one, all := []string{"111111111111"}, []string{"111111111111", "222222222222", "333333333333"}
	for _, tt := range []struct {
		name  string
		q     Query
		index string
	}{
		{"severity and type, member", Query{Accounts: one, Region: "eu-west-1", Criteria: sevType}, "findings_type"},
		{"severity and type, administrator", Query{Accounts: all, Region: "eu-west-1", Criteria: sevType}, "findings_type"},
		{"account since, member", Query{Accounts: one, Region: "eu-west-1", Criteria: since}, "findings_account_updated"},
		{"account since, administrator", Query{Accounts: all, Region: "eu-west-1", Criteria: since}, "findings_account_updated"},
		{"current, member", Query{Accounts: one, Region: "eu-west-1", Criteria: current}, "findings_account_updated"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.SortAttribute, q.Desc, q.Limit = "updatedAt", true, 50
			plan := explain(t, s, q)
			steps := strings.Split(plan, "; ")
			for i, step := range steps {
				if strings.Contains(step, "findings") && (!strings.Contains(step, "COVERING INDEX "+tt.index+" ") ||
					i+1 < len(steps) && strings.Contains(steps[i+1], "TEMP B-TREE")) {
					t.Errorf("plan %q", plan)
				}
			}
		})
	}
}
