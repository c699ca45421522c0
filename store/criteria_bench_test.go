package store

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/vigilsec/vigil/criteria"
	"github.com/vigilsec/vigil/finding"
)

// benchTypes are 40 GuardDuty finding types.
var benchTypes = []string{
	"Backdoor:EC2/C&CActivity.B", "Backdoor:EC2/C&CActivity.B!DNS", "Backdoor:EC2/DenialOfService.Dns",
	"Backdoor:EC2/DenialOfService.Tcp", "Backdoor:EC2/DenialOfService.Udp", "Backdoor:EC2/Spambot",
	"Behavior:EC2/NetworkPortUnusual", "Behavior:EC2/TrafficVolumeUnusual", "CryptoCurrency:EC2/BitcoinTool.B",
	"CryptoCurrency:EC2/BitcoinTool.B!DNS", "Impact:EC2/AbusedDomainRequest.Reputation", "Impact:EC2/BitcoinDomainRequest.Reputation",
	"Impact:EC2/MaliciousDomainRequest.Reputation", "Impact:EC2/PortSweep", "Impact:EC2/SuspiciousDomainRequest.Reputation",
	"Impact:EC2/WinRMBruteForce", "Recon:EC2/PortProbeEMRUnprotectedPort", "Recon:EC2/PortProbeUnprotectedPort",
	"Recon:EC2/Portscan", "Trojan:EC2/BlackholeTraffic", "Trojan:EC2/DNSDataExfiltration", "Trojan:EC2/DriveBySourceTraffic!DNS",
	"UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", "UnauthorizedAccess:EC2/RDPBruteForce", "UnauthorizedAccess:EC2/SSHBruteForce",
	"UnauthorizedAccess:EC2/TorClient", "UnauthorizedAccess:EC2/TorRelay", "CredentialAccess:IAMUser/AnomalousBehavior",
	"DefenseEvasion:IAMUser/AnomalousBehavior", "Discovery:IAMUser/AnomalousBehavior", "Exfiltration:IAMUser/AnomalousBehavior",
	"Impact:IAMUser/AnomalousBehavior", "InitialAccess:IAMUser/AnomalousBehavior", "PenTest:IAMUser/KaliLinux",
	"Persistence:IAMUser/AnomalousBehavior", "Policy:IAMUser/RootCredentialUsage", "Recon:IAMUser/MaliciousIPCaller",
	"Stealth:IAMUser/CloudTrailLoggingDisabled", "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
	"Discovery:S3/MaliciousIPCaller",
}

var benchAccounts = []string{"111111111111", "222222222222", "333333333333", "444444444444", "555555555555"}

var benchRegions = []string{"us-east-1", "eu-west-1"}

// fillBench stores n findings spread over the 90 days before t0.
func fillBench(b *testing.B, s *Store, n int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(9, 10))
	tmpl := make([]finding.Finding, len(benchAccounts))
	for i, a := range benchAccounts {
		tmpl[i] = mkFinding(a, inst(i), 5, t0)
	}
	const batchSize = 10_000
	batch := make([]finding.Finding, 0, batchSize)
	sevs := []float64{2, 5, 8}
	for k := range n {
		ai := rng.IntN(len(benchAccounts))
		f := tmpl[ai]
		f.Type = benchTypes[rng.IntN(len(benchTypes))]
		f.Region = benchRegions[rng.IntN(len(benchRegions))]
		f.Severity = sevs[rng.IntN(len(sevs))]
		f.ID = finding.ID("bench1m", strconv.Itoa(k))
		created := t0.Add(-time.Duration(rng.Int64N(int64(90 * 24 * time.Hour))))
		updated := created.Add(time.Duration(rng.Int64N(int64(48 * time.Hour))))
		f.CreatedAt, f.UpdatedAt = finding.FormatTime(created), finding.FormatTime(updated)
		f.Service.EventFirstSeen, f.Service.EventLastSeen = f.CreatedAt, f.UpdatedAt
		f.Service.Count = int64(1 + rng.IntN(20))
		f.Service.Archived = rng.IntN(10) == 0
		d := *f.Resource.InstanceDetails
		d.InstanceID = inst(rng.IntN(5000))
		f.Resource.InstanceDetails = &d
		batch = append(batch, f)
		if len(batch) == batchSize || k == n-1 {
			if _, err := s.Upsert(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if _, err := s.w.ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkListFindings1M measures ListFindings (ListIDs, 50 ids, updatedAt
// descending, the first page) with two-attribute criteria over 1,000,000
// findings: 5 accounts, 40 types, severities 2/5/8, 2 regions, 90 days, 1 in
// 10 archived. Building the store takes a minute or two; set
// VIGIL_BENCH_DB=path to keep the database there and reuse it:
//
//	go test ./store -run '^$' -bench ListFindings1M -benchtime 400x -timeout 30m
//
// The queries are as the API issues them: the caller's region and the
// accounts it sees (one member account, or the administrator with all 5).
// p50-ms and p99-ms are the latency percentiles of the queries.
func BenchmarkListFindings1M(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a 1M-finding store")
	}
	ctx := context.Background()
	const total = 1_000_000
	path := os.Getenv("VIGIL_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "findings.db")
	}
	s, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if n, err := s.Count(ctx, Query{}); err != nil {
		b.Fatal(err)
	} else if n != total {
		if n != 0 {
			b.Fatalf("%s holds %d findings, want 0 or %d", path, n, total)
		}
		start := time.Now()
		fillBench(b, s, total)
		b.Logf("stored %d findings in %v", total, time.Since(start).Round(time.Second))
	}

	day := int64(24 * time.Hour / time.Millisecond)
	sevType := func(i int) *criteria.Criteria {
		return &criteria.Criteria{Criterion: map[string]criteria.Condition{
			"severity": {GreaterThanOrEqual: ptr(int64(7))},
			"type":     {Equals: []string{benchTypes[i%len(benchTypes)]}},
		}}
	}
	accountSince := func(i int) *criteria.Criteria {
		return &criteria.Criteria{Criterion: map[string]criteria.Condition{
			"accountId": {Equals: []string{benchAccounts[i%len(benchAccounts)]}},
			"updatedAt": {GreaterThanOrEqual: ptr(t0.UnixMilli() - int64(1+i%60)*day)},
		}}
	}
	for _, bc := range []struct {
		name  string
		crit  func(i int) *criteria.Criteria
		admin bool
	}{
		{"severity>=7,type=X/member", sevType, false},
		{"severity>=7,type=X/admin", sevType, true},
		{"accountId=A,updatedAt>=T/member", accountSince, false},
		{"accountId=A,updatedAt>=T/admin", accountSince, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var durs []time.Duration
			i := 0
			for b.Loop() {
				q := Query{Region: benchRegions[i%2], Criteria: bc.crit(i), SortAttribute: "updatedAt", Desc: true, Limit: 50}
				if bc.admin {
					q.Accounts = benchAccounts
				} else {
					q.Accounts = []string{benchAccounts[(i/2)%len(benchAccounts)]}
					if c, ok := q.Criteria.Criterion["accountId"]; ok {
						q.Accounts = c.Equals
					}
				}
				start := time.Now()
				ids, _, err := s.ListIDs(ctx, q)
				durs = append(durs, time.Since(start))
				if err != nil || len(ids) == 0 {
					b.Fatal(len(ids), err)
				}
				i++
			}
			slices.Sort(durs)
			pct := func(p float64) float64 {
				return float64(durs[min(len(durs)-1, int(p*float64(len(durs))))]) / float64(time.Millisecond)
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(len(durs))/b.Elapsed().Seconds(), "queries/s")
		})
	}
}

// explain returns SQLite's query plan of the first batch of q.
func explain(tb testing.TB, s *Store, q Query) string {
	tb.Helper()
	p, err := q.listPlan()
	if err != nil {
		tb.Fatal(err)
	}
	query, args := p.pageQuery(p.key, p.limit+1, false)
	rows, err := s.r.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var plan string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			tb.Fatal(err)
		}
		plan += detail + "; "
	}
	return plan
}
