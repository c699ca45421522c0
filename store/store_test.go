package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil/finding"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a", "b", "findings.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var mode string
	var version int
	if err := s.r.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := s.r.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || version != len(migrations) {
		t.Errorf("journal_mode %q, user_version %d; want wal, %d", mode, version, len(migrations))
	}
	for _, p := range []struct {
		db   *sql.DB
		name string
		want int
	}{{s.w, "synchronous", 1}, {s.w, "foreign_keys", 1}, {s.w, "busy_timeout", busyTimeoutMS}, {s.r, "query_only", 1}} {
		var v int
		if err := p.db.QueryRow("PRAGMA " + p.name).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != p.want {
			t.Errorf("PRAGMA %s = %d, want %d", p.name, v, p.want)
		}
	}
	if _, err := s.r.Exec("DELETE FROM findings"); err == nil {
		t.Error("read pool accepted a write")
	}
	mustUpsert(t, s, mkFinding("111111111111", inst(1), 5, t0))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopening migrates nothing and keeps the data.
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.Count(ctx, Query{}); err != nil || n != 1 {
		t.Errorf("Count after reopen = %d, %v; want 1", n, err)
	}
	// A newer schema is refused.
	if _, err := s.w.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a newer schema: err = %v", err)
	}

	// Paths with URI metacharacters.
	odd := filepath.Join(t.TempDir(), "we?ird #dir%20", "f.db")
	s, err = Open(ctx, odd)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(odd); err != nil {
		t.Errorf("database not at %q: %v", odd, err)
	}
}

func TestOpenMemory(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, MemoryPath)
	if err != nil {
		t.Fatal(err)
	}
	mustUpsert(t, s, mkFinding("111111111111", inst(1), 5, t0))
	// The write is visible through the read pool: one shared database.
	if n, err := s.Count(ctx, Query{}); err != nil || n != 1 {
		t.Errorf("Count = %d, %v; want 1", n, err)
	}
	dir := filepath.Dir(s.Path())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary directory %s left behind: %v", dir, err)
	}
}

func TestUpsertAggregation(t *testing.T) {
	const acct = "111111111111"
	base := mkFinding(acct, inst(1), 5, t0)
	later := func(d time.Duration, mod func(*finding.Finding)) finding.Finding {
		f := mkFinding(acct, inst(1), 5, t0.Add(d))
		if mod != nil {
			mod(&f)
		}
		return f
	}
	tests := []struct {
		name    string
		before  func(t *testing.T, s *Store) // after base is stored
		in      []finding.Finding
		check   func(t *testing.T, got finding.Finding, res UpsertResult)
		wantNew bool
	}{{
		name: "new occurrence aggregates",
		in: []finding.Finding{later(time.Hour, func(f *finding.Finding) {
			f.Severity = 8
			f.Title = "new title"
			f.Service.Count = 3
			f.Service.EventFirstSeen = finding.FormatTime(t0.Add(30 * time.Minute))
			f.Service.Action.NetworkConnectionAction.RemoteIPDetails.IPAddressV4 = "192.0.2.99"
		})},
		check: func(t *testing.T, got finding.Finding, res UpsertResult) {
			want := base
			want.Severity = 8
			want.Title = "new title"
			want.UpdatedAt = finding.FormatTime(t0.Add(time.Hour))
			want.Service.Count = 4
			want.Service.EventFirstSeen = finding.FormatTime(t0)
			want.Service.EventLastSeen = finding.FormatTime(t0.Add(time.Hour))
			want.Service.Action.NetworkConnectionAction = ptr(*base.Service.Action.NetworkConnectionAction)
			want.Service.Action.NetworkConnectionAction.RemoteIPDetails = ptr(*base.Service.Action.NetworkConnectionAction.RemoteIPDetails)
			want.Service.Action.NetworkConnectionAction.RemoteIPDetails.IPAddressV4 = "192.0.2.99"
			if !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Errorf("got  %s\nwant %s", g, w)
			}
			if !reflect.DeepEqual(res.Findings, []finding.Finding{got}) {
				t.Errorf("UpsertResult.Findings differs from the stored finding")
			}
		},
	}, {
		name: "older occurrence keeps max and min times",
		in: []finding.Finding{later(-time.Hour, func(f *finding.Finding) {
			f.Service.EventLastSeen = finding.FormatTime(t0.Add(-30 * time.Minute))
		})},
		check: func(t *testing.T, got finding.Finding, _ UpsertResult) {
			if got.CreatedAt != base.CreatedAt || got.UpdatedAt != base.UpdatedAt ||
				got.Service.EventFirstSeen != finding.FormatTime(t0.Add(-time.Hour)) ||
				got.Service.EventLastSeen != base.Service.EventLastSeen || got.Service.Count != 2 {
				t.Errorf("times/count = %s %s %s %s %d", got.CreatedAt, got.UpdatedAt,
					got.Service.EventFirstSeen, got.Service.EventLastSeen, got.Service.Count)
			}
		},
	}, {
		name: "count below one counts as one; missing event times ignored",
		in: []finding.Finding{later(time.Minute, func(f *finding.Finding) {
			f.Service.Count = 0
			f.Service.EventFirstSeen, f.Service.EventLastSeen = "", ""
		})},
		check: func(t *testing.T, got finding.Finding, _ UpsertResult) {
			if got.Service.Count != 2 || got.Service.EventFirstSeen != base.Service.EventFirstSeen ||
				got.Service.EventLastSeen != base.Service.EventLastSeen {
				t.Errorf("count %d, first %s, last %s", got.Service.Count, got.Service.EventFirstSeen, got.Service.EventLastSeen)
			}
		},
	}, {
		name: "user archive returns to current",
		before: func(t *testing.T, s *Store) {
			if err := s.Archive(context.Background(), acct, []string{base.ID}, true); err != nil {
				t.Fatal(err)
			}
			if !mustGet(t, s, base.ID).Service.Archived {
				t.Fatal("Archive did not archive")
			}
		},
		in: []finding.Finding{later(time.Minute, nil)},
		check: func(t *testing.T, got finding.Finding, _ UpsertResult) {
			if got.Service.Archived {
				t.Error("user-archived finding stayed archived after a new occurrence")
			}
		},
	}, {
		name: "rule archive stays",
		before: func(t *testing.T, s *Store) {
			f := later(time.Second, func(f *finding.Finding) { f.Service.Archived = true })
			mustUpsert(t, s, f)
		},
		in: []finding.Finding{later(time.Minute, nil)},
		check: func(t *testing.T, got finding.Finding, _ UpsertResult) {
			if !got.Service.Archived {
				t.Error("rule-archived finding returned to current")
			}
		},
	}, {
		name: "rule archives a current finding",
		in:   []finding.Finding{later(time.Minute, func(f *finding.Finding) { f.Service.Archived = true })},
		check: func(t *testing.T, got finding.Finding, _ UpsertResult) {
			if !got.Service.Archived {
				t.Error("incoming rule-archived occurrence did not archive")
			}
		},
	}, {
		name: "feedback kept",
		before: func(t *testing.T, s *Store) {
			if err := s.SetFeedback(context.Background(), acct, []string{base.ID}, FeedbackNotUseful); err != nil {
				t.Fatal(err)
			}
		},
		in: []finding.Finding{later(time.Minute, nil)},
		check: func(t *testing.T, got finding.Finding, _ UpsertResult) {
			if got.Service.UserFeedback != FeedbackNotUseful {
				t.Errorf("userFeedback = %q", got.Service.UserFeedback)
			}
		},
	}, {
		name: "resource changes under the same id",
		in: []finding.Finding{func() finding.Finding {
			f := mkFinding(acct, inst(2), 5, t0.Add(time.Minute))
			f.ID = base.ID
			return f
		}()},
		check: func(t *testing.T, got finding.Finding, _ UpsertResult) {
			if got.Resource.InstanceDetails.InstanceID != inst(2) {
				t.Errorf("instance %s", got.Resource.InstanceDetails.InstanceID)
			}
		},
	}, {
		name: "repeated id in one batch",
		in:   []finding.Finding{later(time.Minute, nil), later(2*time.Minute, nil), later(-time.Minute, nil)},
		check: func(t *testing.T, got finding.Finding, res UpsertResult) {
			if got.Service.Count != 4 || len(res.Updated) != 1 || len(res.Findings) != 1 ||
				!reflect.DeepEqual(res.Findings[0], got) {
				t.Errorf("count %d, result %+v", got.Service.Count, res)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t)
			res := mustUpsert(t, s, base)
			if !reflect.DeepEqual(res.New, []string{base.ID}) || len(res.Updated) != 0 {
				t.Fatalf("first Upsert result %+v", res)
			}
			if got := mustGet(t, s, base.ID); !reflect.DeepEqual(got, base) {
				t.Fatalf("stored finding differs from the inserted one")
			}
			if tt.before != nil {
				tt.before(t, s)
			}
			res = mustUpsert(t, s, tt.in...)
			if len(res.New) != 0 || !reflect.DeepEqual(res.Updated, []string{base.ID}) {
				t.Errorf("Upsert result New %v Updated %v", res.New, res.Updated)
			}
			got := mustGet(t, s, base.ID)
			tt.check(t, got, res)
			checkColumns(t, s)
		})
	}
}

// checkColumns asserts that every row's columns agree with its doc.
func checkColumns(t *testing.T, s *Store) {
	t.Helper()
	rows, err := s.r.Query(`SELECT id, account_id, region, type, severity, resource_type, resource_id,
		resource_role, created_at, updated_at, event_first_seen, event_last_seen, count, archived, feedback, title, doc,
		typeof(doc) FROM findings`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, acct, region, typ, rtype, rid, role, feedback, title, doc, docType string
			sev                                                                    float64
			created, updated, count                                                int64
			first, last                                                            sql.NullInt64
			archived                                                               bool
		)
		if err := rows.Scan(&id, &acct, &region, &typ, &sev, &rtype, &rid, &role, &created, &updated,
			&first, &last, &count, &archived, &feedback, &title, &doc, &docType); err != nil {
			t.Fatal(err)
		}
		if docType != "text" {
			t.Errorf("finding %s: doc is a %s, want text", id, docType)
		}
		var f finding.Finding
		if err := json.Unmarshal([]byte(doc), &f); err != nil {
			t.Fatal(err)
		}
		ms := func(s string) int64 {
			if s == "" {
				return 0
			}
			tm, err := finding.ParseTime(s)
			if err != nil {
				t.Fatal(err)
			}
			return tm.UnixMilli()
		}
		got := []any{f.ID, f.AccountID, f.Region, f.Type, f.Severity, f.Resource.ResourceType, resourceID(&f),
			f.Service.ResourceRole, ms(f.CreatedAt), ms(f.UpdatedAt), ms(f.Service.EventFirstSeen), ms(f.Service.EventLastSeen),
			f.Service.Count, f.Service.Archived, f.Service.UserFeedback, f.Title}
		want := []any{id, acct, region, typ, sev, rtype, rid, role, created, updated, first.Int64, last.Int64, count, archived, feedback, title}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("finding %s: doc %v, columns %v", id, got, want)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestUpsertErrorsWriteNothing(t *testing.T) {
	const a, b = "111111111111", "222222222222"
	ok := mkFinding(a, inst(1), 5, t0)
	tests := []struct {
		name string
		bad  func() finding.Finding
		want string
	}{
		{"empty id", func() finding.Finding { f := mkFinding(a, inst(2), 5, t0); f.ID = ""; return f }, "empty id"},
		{"missing updatedAt", func() finding.Finding { f := mkFinding(a, inst(2), 5, t0); f.UpdatedAt = ""; return f }, "missing updatedAt"},
		{"bad time", func() finding.Finding {
			f := mkFinding(a, inst(2), 5, t0)
			f.Service.EventLastSeen = "yesterday"
			return f
		}, "eventLastSeen"},
		{"other account's id", func() finding.Finding { f := mkFinding(b, inst(9), 5, t0); f.ID = ok.ID; return f }, "stored under account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t)
			mustUpsert(t, s, ok)
			fresh := mkFinding(a, inst(3), 5, t0)
			_, err := s.Commit(context.Background(), []finding.Finding{fresh, tt.bad()}, map[string][]byte{"k": []byte("v")})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if n, _ := s.Count(context.Background(), Query{}); n != 1 {
				t.Errorf("%d findings after a failed Commit, want 1", n)
			}
			if _, found, _ := s.State(context.Background(), "k"); found {
				t.Error("state written by a failed Commit")
			}
		})
	}
}

func TestArchiveAndFeedback(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	f := mkFinding("111111111111", inst(1), 5, t0)
	mustUpsert(t, s, f)
	if err := s.Archive(ctx, "", []string{f.ID}, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFeedback(ctx, "", []string{f.ID}, FeedbackUseful); err != nil {
		t.Fatal(err)
	}
	got := mustGet(t, s, f.ID)
	if !got.Service.Archived || got.Service.UserFeedback != FeedbackUseful {
		t.Errorf("archived %v feedback %q", got.Service.Archived, got.Service.UserFeedback)
	}
	checkColumns(t, s)
	if err := s.Archive(ctx, "", []string{f.ID}, false); err != nil {
		t.Fatal(err)
	}
	if mustGet(t, s, f.ID).Service.Archived {
		t.Error("Unarchive did not unarchive")
	}
	checkColumns(t, s)
	if err := s.SetFeedback(ctx, "", []string{f.ID}, "MEH"); err == nil {
		t.Error("SetFeedback accepted MEH")
	}
	// Many ids: more than one IN list.
	var ids []string
	for i := range 1200 {
		ids = append(ids, fmt.Sprint(i))
	}
	ids = append(ids, f.ID)
	if err := s.Archive(ctx, "", ids, true); err != nil {
		t.Fatal(err)
	}
	if !mustGet(t, s, f.ID).Service.Archived {
		t.Error("Archive with 1201 ids missed the finding")
	}
}

func TestTenancy(t *testing.T) {
	ctx := context.Background()
	const a, b = "111111111111", "222222222222"
	s := openTest(t)
	var aIDs, bIDs, all []string
	for i := range 20 {
		fa := mkFinding(a, inst(i), float64(1+i%9), t0.Add(time.Duration(i)*time.Minute))
		fb := mkFinding(b, inst(i), float64(1+i%9), t0.Add(time.Duration(i)*time.Minute))
		mustUpsert(t, s, fa, fb)
		aIDs, bIDs = append(aIDs, fa.ID), append(bIDs, fb.ID)
		all = append(all, fa.ID, fb.ID)
	}
	accounts := func(fs []finding.Finding) map[string]int {
		m := map[string]int{}
		for _, f := range fs {
			m[f.AccountID]++
		}
		return m
	}
	got, err := s.Get(ctx, a, all)
	if err != nil {
		t.Fatal(err)
	}
	if m := accounts(got); !reflect.DeepEqual(m, map[string]int{a: 20}) {
		t.Errorf("Get(A, all ids) accounts = %v", m)
	}
	if got, _ := s.Get(ctx, a, bIDs); len(got) != 0 {
		t.Errorf("Get(A, B's ids) = %d findings", len(got))
	}
	if got, _ := s.Get(ctx, "", all); len(got) != 40 {
		t.Errorf(`Get("", all) = %d findings, want 40`, len(got))
	}
	for tok := ""; ; {
		page, next, err := s.List(ctx, Query{Accounts: []string{a}, Limit: 7, PageToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		if m := accounts(page); m[b] != 0 {
			t.Errorf("List(A) returned B's findings: %v", m)
		}
		if tok = next; tok == "" {
			break
		}
	}
	if n, _ := s.Count(ctx, Query{Accounts: []string{a}}); n != 20 {
		t.Errorf("Count(A) = %d", n)
	}
	// A cannot archive or give feedback on B's findings.
	if err := s.Archive(ctx, a, bIDs, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFeedback(ctx, a, bIDs, FeedbackUseful); err != nil {
		t.Fatal(err)
	}
	for _, f := range mustGetAll(t, s, bIDs) {
		if f.Service.Archived || f.Service.UserFeedback != "" {
			t.Fatalf("A changed B's finding %s", f.ID)
		}
	}
	_ = aIDs
}

func mustGetAll(t *testing.T, s *Store, ids []string) []finding.Finding {
	t.Helper()
	fs, err := s.Get(context.Background(), "", ids)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestGetOrder(t *testing.T) {
	s := openTest(t)
	var ids []string
	for i := range 5 {
		f := mkFinding("111111111111", inst(i), 5, t0)
		mustUpsert(t, s, f)
		ids = append(ids, f.ID)
	}
	req := []string{ids[3], "nope", ids[1], ids[3], ids[0]}
	got := mustGetAll(t, s, req)
	var gotIDs []string
	for _, f := range got {
		gotIDs = append(gotIDs, f.ID)
	}
	if want := []string{ids[3], ids[1], ids[0]}; !slices.Equal(gotIDs, want) {
		t.Errorf("Get order = %v, want %v", gotIDs, want)
	}
}

// population stores n findings with many ties in severity and updatedAt
// across three accounts, some archived, and returns them as stored.
func population(t testing.TB, s *Store, n int) []finding.Finding {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	accts := []string{"111111111111", "222222222222", "333333333333"}
	types := []string{"UnauthorizedAccess:EC2/SSHBruteForce", "Recon:EC2/PortProbeUnprotectedPort", "CryptoCurrency:EC2/BitcoinTool.B!DNS"}
	sevs := []float64{2, 5, 5, 8, 8, 8, 9.5}
	var fs []finding.Finding
	for i := range n {
		f := mkFinding(accts[i%len(accts)], inst(i), sevs[rng.IntN(len(sevs))], t0.Add(time.Duration(rng.IntN(4))*time.Hour))
		f = withType(f, types[rng.IntN(len(types))])
		f.Service.Count = int64(1 + rng.IntN(3))
		if i%10 == 0 {
			f.Title = "Special 100%_match " + f.Title
		}
		if i%7 == 0 {
			f.Service.Archived = true
		}
		fs = append(fs, f)
	}
	if _, err := s.Upsert(ctx, fs); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.ID)
	}
	out, err := s.Get(ctx, "", ids)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// less orders findings as List does for field and direction.
func less(field SortField, desc bool) func(a, b finding.Finding) int {
	return func(a, b finding.Finding) int {
		var c int
		switch field {
		case SortSeverity:
			c = cmpf(a.Severity, b.Severity)
		case SortCreatedAt:
			c = strings.Compare(a.CreatedAt, b.CreatedAt)
		case SortCount:
			c = cmpf(float64(a.Service.Count), float64(b.Service.Count))
		case SortType:
			c = strings.Compare(a.Type, b.Type)
		}
		if c == 0 && field != SortCreatedAt {
			c = strings.Compare(a.UpdatedAt, b.UpdatedAt)
		}
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		if desc {
			c = -c
		}
		return c
	}
}

func cmpf(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestListSortAndPagination(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	all := population(t, s, 150)
	acctA := "111111111111"
	filters := []struct {
		name string
		q    Query
		keep func(f finding.Finding) bool
	}{
		{"all", Query{}, func(finding.Finding) bool { return true }},
		{"account A current", Query{Accounts: []string{acctA}, Archived: ptr(false)},
			func(f finding.Finding) bool { return f.AccountID == acctA && !f.Service.Archived }},
		{"high and up", Query{MinSeverity: 7}, func(f finding.Finding) bool { return f.Severity >= 7 }},
	}
	fields := []SortField{SortSeverity, SortUpdatedAt, SortCreatedAt, SortCount, SortType}
	for _, flt := range filters {
		for _, field := range fields {
			for _, desc := range []bool{true, false} {
				for _, limit := range []int{1, 7, 1000} {
					if limit == 1 && (flt.name != "all" || field != SortSeverity) {
						continue // one page per finding: slow under -race
					}
					t.Run(fmt.Sprintf("%s/%s/desc=%v/limit=%d", flt.name, field, desc, limit), func(t *testing.T) {
						var want []string
						sorted := slices.Clone(all)
						slices.SortFunc(sorted, less(field, desc))
						for _, f := range sorted {
							if flt.keep(f) {
								want = append(want, f.ID)
							}
						}
						q := flt.q
						q.Sort, q.Desc, q.Limit = field, desc, limit
						var got []string
						pages := 0
						for {
							page, next, err := s.List(ctx, q)
							if err != nil {
								t.Fatal(err)
							}
							pages++
							if len(page) > limit || (next != "" && len(page) != limit) {
								t.Fatalf("page %d has %d findings (limit %d, next %q)", pages, len(page), limit, next)
							}
							for _, f := range page {
								got = append(got, f.ID)
							}
							if next == "" {
								break
							}
							q.PageToken = next
						}
						if !slices.Equal(got, want) {
							t.Errorf("got %d ids, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
						}
					})
				}
			}
		}
	}

	// The default order is severity, then updatedAt, descending.
	page, _, err := s.List(ctx, Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSortedFunc(page, less(SortSeverity, true)) || len(page) != len(all) {
		t.Error("default List order is not severity desc, updatedAt desc")
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestPaginationStableUnderInserts(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	all := population(t, s, 100)
	seen := map[string]int{}
	q := Query{Limit: 9}
	for i := 0; ; i++ {
		page, next, err := s.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range page {
			seen[f.ID]++
		}
		// Insert new findings between pages, at every severity.
		mustUpsert(t, s, mkFinding("444444444444", inst(1000+i), float64(1+i%10), t0.Add(time.Duration(i)*time.Minute)))
		if next == "" {
			break
		}
		q.PageToken = next
	}
	for _, f := range all {
		if seen[f.ID] != 1 {
			t.Errorf("finding %s seen %d times", f.ID, seen[f.ID])
		}
	}
}

func TestFilters(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	all := population(t, s, 200)
	someInst := all[17].Resource.InstanceDetails.InstanceID
	tests := []struct {
		name string
		q    Query
		keep func(f finding.Finding) bool
	}{
		{"accounts", Query{Accounts: []string{"111111111111", "333333333333"}},
			func(f finding.Finding) bool { return f.AccountID != "222222222222" }},
		{"types", Query{Types: []string{"Recon:EC2/PortProbeUnprotectedPort"}},
			func(f finding.Finding) bool { return f.Type == "Recon:EC2/PortProbeUnprotectedPort" }},
		{"severity band", Query{MinSeverity: 4, MaxSeverity: 7},
			func(f finding.Finding) bool { return f.Severity >= 4 && f.Severity < 7 }},
		{"archived", Query{Archived: ptr(true)}, func(f finding.Finding) bool { return f.Service.Archived }},
		{"current", Query{Archived: ptr(false)}, func(f finding.Finding) bool { return !f.Service.Archived }},
		{"resource", Query{ResourceID: someInst},
			func(f finding.Finding) bool { return f.Resource.InstanceDetails.InstanceID == someInst }},
		{"updated window", Query{UpdatedAfter: t0.Add(time.Hour), UpdatedBefore: t0.Add(3 * time.Hour)},
			func(f finding.Finding) bool {
				return f.UpdatedAt >= finding.FormatTime(t0.Add(time.Hour)) && f.UpdatedAt < finding.FormatTime(t0.Add(3*time.Hour))
			}},
		{"text with LIKE metacharacters", Query{Text: "100%_MATCH"},
			func(f finding.Finding) bool { return strings.HasPrefix(f.Title, "Special 100%_match") }},
		{"text does not treat _ as wildcard", Query{Text: "100%xmatch"}, func(finding.Finding) bool { return false }},
		{"text in type", Query{Text: "bitcoin"},
			func(f finding.Finding) bool { return strings.Contains(f.Type, "Bitcoin") }},
		{"text in resource", Query{Text: someInst[5:]},
			func(f finding.Finding) bool { return f.Resource.InstanceDetails.InstanceID == someInst }},
		{"combined", Query{Accounts: []string{"222222222222"}, Archived: ptr(false), MinSeverity: 7, Types: []string{"UnauthorizedAccess:EC2/SSHBruteForce", "CryptoCurrency:EC2/BitcoinTool.B!DNS"}},
			func(f finding.Finding) bool {
				return f.AccountID == "222222222222" && !f.Service.Archived && f.Severity >= 7 && f.Type != "Recon:EC2/PortProbeUnprotectedPort"
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := map[string]bool{}
			bySev := map[string]int{"Low": 0, "Medium": 0, "High": 0, "Critical": 0}
			for _, f := range all {
				if tt.keep(f) {
					want[f.ID] = true
					bySev[finding.SeverityLabel(f.Severity)]++
				}
			}
			q := tt.q
			q.Limit = 1000
			page, next, err := s.List(ctx, q)
			if err != nil || next != "" {
				t.Fatalf("List: next %q, err %v", next, err)
			}
			got := map[string]bool{}
			for _, f := range page {
				got[f.ID] = true
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("List returned %d findings, want %d", len(got), len(want))
			}
			if n, err := s.Count(ctx, tt.q); err != nil || n != len(want) {
				t.Errorf("Count = %d, %v; want %d", n, err, len(want))
			}
			if m, err := s.CountBySeverity(ctx, tt.q); err != nil || !reflect.DeepEqual(m, bySev) {
				t.Errorf("CountBySeverity = %v, %v; want %v", m, err, bySev)
			}
		})
	}
}

func TestListErrors(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	population(t, s, 10)
	_, next, err := s.List(ctx, Query{Limit: 3})
	if err != nil || next == "" {
		t.Fatal(next, err)
	}
	for _, q := range []Query{
		{PageToken: "!!!"},
		{PageToken: "e30"}, // {}
		{PageToken: next, Sort: SortCount, Desc: true},
		{PageToken: next, Sort: SortSeverity, Desc: false},
	} {
		if _, _, err := s.List(ctx, q); !errors.Is(err, ErrInvalidPageToken) {
			t.Errorf("List(%+v) err = %v, want ErrInvalidPageToken", q, err)
		}
	}
	if _, _, err := s.List(ctx, Query{Sort: "title"}); err == nil {
		t.Error("List accepted sort field title")
	}
}

// TestQueryPlan checks that the console's lists walk an index instead of
// sorting every finding of an account.
func TestQueryPlan(t *testing.T) {
	s := openTest(t)
	population(t, s, 50)
	acct := []string{"111111111111"}
	_, tok, err := s.List(context.Background(), Query{Accounts: acct, Archived: ptr(false), Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		q     Query
		index string
	}{
		{"current worst first", Query{Accounts: acct, Archived: ptr(false), MinSeverity: 7}, "findings_account_severity"},
		{"current worst first, page 2", Query{Accounts: acct, Archived: ptr(false), PageToken: tok}, "findings_account_severity"},
		{"archived newest first", Query{Accounts: acct, Archived: ptr(true), Sort: SortUpdatedAt, Desc: true}, "findings_account_updated"},
		{"all worst first", Query{Accounts: acct}, "findings_account_severity"},
		{"all accounts, current", Query{Archived: ptr(false)}, "findings_severity"},
		{"all accounts, all", Query{}, "findings_severity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := tt.q.listQuery()
			if err != nil {
				t.Fatal(err)
			}
			rows, err := s.r.Query("EXPLAIN QUERY PLAN "+l.query, l.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			p := strings.Join(plan, "; ")
			// Reading findings must not be followed by a sort. (A
			// compound re-sorts each half's page, at most Limit+1 rows,
			// before merging them.)
			bad := false
			for i, step := range plan {
				if strings.Contains(step, "findings") && i+1 < len(plan) && strings.Contains(plan[i+1], "TEMP B-TREE") {
					bad = true
				}
			}
			if !strings.Contains(p, tt.index) || bad {
				t.Errorf("plan %q", p)
			}
		})
	}
}

func TestState(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.Commit(ctx, nil, map[string][]byte{
		"pos/file:a": []byte("1"), "pos/file:b": []byte("2"), "pos0": []byte("x"),
		"det/ssh": {}, "z\xff": []byte("hi"), "z\xff\xff": []byte("hi"),
	}); err != nil {
		t.Fatal(err)
	}
	v, ok, err := s.State(ctx, "det/ssh")
	if err != nil || !ok || v == nil || len(v) != 0 {
		t.Errorf("empty value: %q %v %v", v, ok, err)
	}
	if v, ok, _ := s.State(ctx, "nope"); ok || v != nil {
		t.Errorf("missing key: %q %v", v, ok)
	}
	for prefix, want := range map[string][]string{
		"pos/":  {"pos/file:a", "pos/file:b"},
		"pos":   {"pos/file:a", "pos/file:b", "pos0"},
		"z\xff": {"z\xff", "z\xff\xff"},
		"":      {"det/ssh", "pos/file:a", "pos/file:b", "pos0", "z\xff", "z\xff\xff"},
		"q":     nil,
	} {
		got, err := s.StateKeys(ctx, prefix)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("StateKeys(%q) = %q, %v; want %q", prefix, got, err, want)
		}
	}
	// nil deletes; other keys untouched.
	if _, err := s.Commit(ctx, nil, map[string][]byte{"pos/file:a": nil, "pos/file:b": []byte("3")}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.State(ctx, "pos/file:a"); ok {
		t.Error("nil value did not delete")
	}
	if v, _, _ := s.State(ctx, "pos/file:b"); string(v) != "3" {
		t.Errorf("overwrite: %q", v)
	}
	if _, err := s.Commit(ctx, nil, map[string][]byte{"": []byte("x")}); err == nil {
		t.Error("empty key accepted")
	}
}

func TestCommitReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "findings.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	f := mkFinding("111111111111", inst(1), 5, t0)
	res, err := s.Commit(ctx, []finding.Finding{f}, map[string][]byte{"pos": []byte("42")})
	if err != nil || len(res.New) != 1 {
		t.Fatal(res, err)
	}
	var sync int
	if err := s.w.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil || sync != 1 {
		t.Errorf("synchronous after Commit = %d, %v; want NORMAL (1) restored", sync, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, ok, err := s.State(ctx, "pos"); err != nil || !ok || string(v) != "42" {
		t.Errorf("state after reopen: %q %v %v", v, ok, err)
	}
	if got := mustGet(t, s, f.ID); !reflect.DeepEqual(got, f) {
		t.Error("finding after reopen differs")
	}
	st, err := s.Stats(ctx)
	if err != nil || st.Findings != 1 || st.StateKeys != 1 || st.Bytes <= 0 {
		t.Errorf("Stats = %+v, %v", st, err)
	}
}

func TestPurge(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	mustUpsert(t, s, mkFinding("1", inst(1), 5, t0), mkFinding("1", inst(2), 5, t0.Add(48*time.Hour)))
	n, err := s.Purge(ctx, t0.Add(24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v", n, err)
	}
	if c, _ := s.Count(ctx, Query{}); c != 1 {
		t.Errorf("%d findings left", c)
	}
}

// TestConcurrent runs writers and readers at once; run it with -race.
func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 25 {
				f := mkFinding(fmt.Sprint(w), inst(i%10), 5, t0.Add(time.Duration(i)*time.Second))
				if _, err := s.Commit(ctx, []finding.Finding{f}, map[string][]byte{fmt.Sprint("w", w): []byte(fmt.Sprint(i))}); err != nil {
					t.Error(err)
					return
				}
				if i%5 == 0 {
					if err := s.Archive(ctx, fmt.Sprint(w), []string{f.ID}, true); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for range 25 {
				if _, _, err := s.List(ctx, Query{Limit: 5}); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.CountBySeverity(ctx, Query{}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var total int64
	page, _, err := s.List(ctx, Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range page {
		total += f.Service.Count
	}
	if len(page) != 40 || total != 100 {
		t.Errorf("%d findings with %d occurrences, want 40 and 100", len(page), total)
	}
}

// TestUpsertLateOccurrence: an older occurrence arriving after a newer one
// adds to the count and widens the window, but the newer details stay, as
// finding.Merge does for scan.
func TestUpsertLateOccurrence(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	newer := mkFinding("111122223333", "i-1", 5, t0.Add(time.Hour))
	newer.Title = "newer"
	older := mkFinding("111122223333", "i-1", 2, t0)
	older.Title = "older"
	older.ID = newer.ID
	if _, err := s.Upsert(ctx, []finding.Finding{newer}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Upsert(ctx, []finding.Finding{older}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "", []string{newer.ID})
	if err != nil || len(got) != 1 {
		t.Fatal(err, len(got))
	}
	f := got[0]
	if f.Title != "newer" || f.Severity != 5 || f.Service.Count != 2 || f.Service.EventFirstSeen != older.Service.EventFirstSeen || f.Service.EventLastSeen != newer.Service.EventLastSeen {
		t.Errorf("got title %q severity %v count %d first %s last %s", f.Title, f.Severity, f.Service.Count, f.Service.EventFirstSeen, f.Service.EventLastSeen)
	}
}
