package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/vigilsec/vigil/finding"
)

const benchBatch = 1000 // findings per transaction, as in spec/deps.md §6

// benchTemplates returns n findings with distinct resources to copy from.
func benchTemplates(n, accounts int) []finding.Finding {
	fs := make([]finding.Finding, n)
	for i := range fs {
		fs[i] = mkFinding(fmt.Sprintf("%012d", i%accounts), inst(i), float64(1+i%9)+0.5, t0)
	}
	return fs
}

// benchFinding is template t re-keyed as finding number k, seen at time tm.
func benchFinding(t finding.Finding, k int, sev float64, tm time.Time) finding.Finding {
	t.ID = finding.ID("bench", strconv.Itoa(k))
	t.Severity = sev
	ts := finding.FormatTime(tm)
	t.CreatedAt, t.UpdatedAt, t.Service.EventFirstSeen, t.Service.EventLastSeen = ts, ts, ts, ts
	return t
}

// BenchmarkUpsert measures aggregation upserts in batches of 1000 findings
// (about 2 KB of JSON each) per transaction, on disk:
//
//	go test ./store -run '^$' -bench Upsert -benchtime 20x -count 3
//
// new: every finding is new. existing90: 90% are new occurrences of the
// 20,000 stored findings, 10% new.
func BenchmarkUpsert(b *testing.B) {
	ctx := context.Background()
	tmpl := benchTemplates(benchBatch, 10)
	rng := rand.New(rand.NewPCG(3, 4))

	b.Run("new", func(b *testing.B) {
		s := openTest(b)
		b.ReportAllocs()
		next, rows := 0, 0
		batch := make([]finding.Finding, benchBatch)
		for b.Loop() {
			for i := range batch {
				batch[i] = benchFinding(tmpl[i], next, float64(1+rng.IntN(9)), t0.Add(time.Duration(next)*time.Millisecond))
				next++
			}
			if _, err := s.Upsert(ctx, batch); err != nil {
				b.Fatal(err)
			}
			rows += len(batch)
		}
		b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	})

	b.Run("existing90", func(b *testing.B) {
		s := openTest(b)
		const stored = 20 * benchBatch
		batch := make([]finding.Finding, benchBatch)
		next := 0
		for next < stored {
			for i := range batch {
				batch[i] = benchFinding(tmpl[i], next, float64(1+rng.IntN(9)), t0)
				next++
			}
			if _, err := s.Upsert(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		rows, tick := 0, 0
		for b.Loop() {
			tick++
			for i := range batch {
				k := rng.IntN(stored) // an existing finding, whose template is k % benchBatch
				if i%10 == 9 {
					k = next
					next++
				}
				batch[i] = benchFinding(tmpl[k%benchBatch], k, float64(1+rng.IntN(9)), t0.Add(time.Duration(tick)*time.Second))
			}
			if _, err := s.Upsert(ctx, batch); err != nil {
				b.Fatal(err)
			}
			rows += len(batch)
		}
		b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	})
}

// BenchmarkList measures the console's list queries over 100,000 findings
// in 10 accounts (10,000 each, 1 in 7 archived), on disk:
//
//	go test ./store -run '^$' -bench List -benchtime 500x -count 3
//
// account-high-top50: one account's current findings with severity >= 7,
// worst first, first page of 50. account-high-page2: the second page, through
// the page token. account-all-top50: one account, archived or not, no
// severity bound (the planner must sort). count-by-severity: the dashboard's
// counts for one account.
func BenchmarkList(b *testing.B) {
	ctx := context.Background()
	s := openTest(b)
	const total, accounts = 100_000, 10
	tmpl := benchTemplates(benchBatch, accounts)
	rng := rand.New(rand.NewPCG(5, 6))
	batch := make([]finding.Finding, benchBatch)
	for k := 0; k < total; {
		for i := range batch {
			batch[i] = benchFinding(tmpl[i], k, float64(1+rng.IntN(90))/10+1, t0.Add(time.Duration(rng.IntN(86400))*time.Second))
			batch[i].Service.Archived = k%7 == 0
			k++
		}
		if _, err := s.Upsert(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	acct := fmt.Sprintf("%012d", 3)
	high := Query{Accounts: []string{acct}, Archived: ptr(false), MinSeverity: 7, Limit: 50}
	_, tok, err := s.List(ctx, high)
	if err != nil || tok == "" {
		b.Fatal(tok, err)
	}
	page2 := high
	page2.PageToken = tok

	for _, bc := range []struct {
		name string
		q    Query
	}{
		{"account-high-top50", high},
		{"account-high-page2", page2},
		{"account-all-top50", Query{Accounts: []string{acct}, Limit: 50}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			rows := 0
			for b.Loop() {
				page, _, err := s.List(ctx, bc.q)
				if err != nil || len(page) != 50 {
					b.Fatal(len(page), err)
				}
				rows += len(page)
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(rows/50)/b.Elapsed().Seconds(), "queries/s")
		})
	}
	b.Run("count-by-severity", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			if _, err := s.CountBySeverity(ctx, Query{Accounts: []string{acct}, Archived: ptr(false)}); err != nil {
				b.Fatal(err)
			}
			n++
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "queries/s")
	})
}
