package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	gd "github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
	"github.com/aws/smithy-go"

	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/demo"
	"github.com/vigilsec/vigil/export"
)

const (
	adminAcct   = "111122223333"
	adminKey    = "AKIAVIGILADMIN000001"
	adminSecret = "admin-secret-0123456789abcdefghijklmnop"
	otherAcct   = "777788889999"
	otherKey    = "AKIAVIGILOTHER000001"
	otherSecret = "other-secret-0123456789abcdefghijklmnop"
)

// gdServer runs a real vigil serve (in-process, on a real TCP port) over the
// demo estate, with two unrelated accounts configured.
type gdServer struct {
	dir, addr string
	cfg       *config.Config
	srv       *Server
	cancel    context.CancelFunc
	done      chan error
}

func startGuardDuty(t *testing.T) *gdServer {
	t.Helper()
	dir := t.TempDir()
	m, err := demo.Generate(demo.Options{Dir: dir, Seed: 1, Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(m.Config)
	conf := strings.Replace(string(raw), "listen: 127.0.0.1:8080", "listen: 127.0.0.1:0\nserve: {poll_interval: 100ms, commit_interval: 50ms}", 1)
	conf += fmt.Sprintf(`accounts:
  - id: "%s"
    access_keys:
      - {id: %s, secret_env: VIGIL_TEST_ADMIN_SECRET}
  - id: "%s"
    access_keys:
      - {id: %s, secret: %s}
`, adminAcct, adminKey, otherAcct, otherKey, otherSecret)
	t.Setenv("VIGIL_TEST_ADMIN_SECRET", adminSecret)
	path := filepath.Join(dir, "serve.yaml")
	os.WriteFile(path, []byte(conf), 0o644)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := New(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := &gdServer{dir: dir, cfg: cfg, srv: srv, cancel: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() { g.done <- srv.Run(ctx, func(a string) { ready <- a }) }()
	select {
	case g.addr = <-ready:
	case err := <-g.done:
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		<-g.done
	})
	g.waitIdle(t)
	return g
}

func (g *gdServer) waitIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	start := g.srv.w.Polls.Load()
	for !(g.srv.w.Idle() && g.srv.w.Polls.Load() >= start+2) {
		if time.Now().After(deadline) {
			t.Fatal("server did not go idle")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (g *gdServer) client(key, secret string) *gd.Client {
	return gd.New(gd.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String("http://" + g.addr),
		Credentials:      credentials.NewStaticCredentialsProvider(key, secret, ""),
		RetryMaxAttempts: 1,
	})
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func listAll(t *testing.T, c *gd.Client, det string, crit *types.FindingCriteria) []string {
	t.Helper()
	var ids []string
	p := gd.NewListFindingsPaginator(c, &gd.ListFindingsInput{DetectorId: &det, FindingCriteria: crit, MaxResults: aws.Int32(50)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListFindings: %v", err)
		}
		pages++
		ids = append(ids, out.FindingIds...)
	}
	return ids
}

func TestGuardDutySDK(t *testing.T) {
	g := startGuardDuty(t)
	ctx := context.Background()
	c := g.client(adminKey, adminSecret)

	// Detectors: the configured account has one at once.
	dets, err := c.ListDetectors(ctx, &gd.ListDetectorsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dets.DetectorIds) != 1 {
		t.Fatalf("ListDetectors: %v", dets.DetectorIds)
	}
	det := dets.DetectorIds[0]
	gdet, err := c.GetDetector(ctx, &gd.GetDetectorInput{DetectorId: &det})
	if err != nil || gdet.Status != types.DetectorStatusEnabled {
		t.Fatalf("GetDetector: %v %v", gdet, err)
	}
	if _, err := c.CreateDetector(ctx, &gd.CreateDetectorInput{Enable: aws.Bool(true)}); apiCode(err) != "BadRequestException" {
		t.Errorf("a second CreateDetector: %v, want BadRequestException", err)
	}

	// The demo's findings are there; samples add one of every type.
	demoIDs := listAll(t, c, det, nil)
	if len(demoIDs) < 15 {
		t.Fatalf("only %d findings from the demo estate", len(demoIDs))
	}
	if _, err := c.CreateSampleFindings(ctx, &gd.CreateSampleFindingsInput{DetectorId: &det}); err != nil {
		t.Fatal(err)
	}
	all := listAll(t, c, det, nil)
	if len(all) <= 50 {
		t.Fatalf("%d findings: want more than 50 to page through", len(all))
	}
	if len(slices.Compact(slices.Sorted(slices.Values(all)))) != len(all) {
		t.Errorf("paging returned an id twice")
	}

	// Criteria: severity >= 7.
	high := listAll(t, c, det, &types.FindingCriteria{Criterion: map[string]types.Condition{"severity": {GreaterThanOrEqual: aws.Int64(7)}}})
	got, err := c.GetFindings(ctx, &gd.GetFindingsInput{DetectorId: &det, FindingIds: high[:min(50, len(high))]})
	if err != nil {
		t.Fatal(err)
	}
	if len(high) == 0 || len(got.Findings) != min(50, len(high)) {
		t.Fatalf("severity >= 7: %d ids, GetFindings returned %d", len(high), len(got.Findings))
	}
	for _, f := range got.Findings {
		if *f.Severity < 7 {
			t.Errorf("severity %v in a severity>=7 list", *f.Severity)
		}
	}
	// type equals; updatedAt range.
	typ := "Backdoor:EC2/C&CActivity.B!DNS"
	byType := listAll(t, c, det, &types.FindingCriteria{Criterion: map[string]types.Condition{"type": {Equals: []string{typ}}}})
	if len(byType) != 2 { // the demo's and the sample
		t.Errorf("type equals %s: %d findings, want 2", typ, len(byType))
	}
	future := time.Now().Add(time.Hour).UnixMilli()
	if ids := listAll(t, c, det, &types.FindingCriteria{Criterion: map[string]types.Condition{"updatedAt": {GreaterThan: aws.Int64(future)}}}); len(ids) != 0 {
		t.Errorf("updatedAt > an hour from now: %d findings", len(ids))
	}
	recent := listAll(t, c, det, &types.FindingCriteria{Criterion: map[string]types.Condition{"updatedAt": {GreaterThanOrEqual: aws.Int64(time.Now().Add(-time.Hour).UnixMilli())}}})
	if len(recent) == 0 || len(recent) >= len(all) {
		t.Errorf("updatedAt in the last hour: %d of %d (want the samples only)", len(recent), len(all))
	}

	// Statistics.
	stats, err := c.GetFindingsStatistics(ctx, &gd.GetFindingsStatisticsInput{DetectorId: &det, FindingStatisticTypes: []types.FindingStatisticType{types.FindingStatisticTypeCountBySeverity}})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range stats.FindingStatistics.CountBySeverity {
		total += int(n)
	}
	if total != len(all) {
		t.Errorf("countBySeverity sums to %d, want %d", total, len(all))
	}
	gstats, err := c.GetFindingsStatistics(ctx, &gd.GetFindingsStatisticsInput{DetectorId: &det, GroupBy: types.GroupByTypeFindingType, MaxResults: aws.Int32(100)})
	if err != nil {
		t.Fatal(err)
	}
	if len(gstats.FindingStatistics.GroupedByFindingType) < 20 {
		t.Errorf("groupBy FINDING_TYPE: %d groups", len(gstats.FindingStatistics.GroupedByFindingType))
	}

	// Archive, unarchive, feedback.
	target := byType[:1]
	if _, err := c.ArchiveFindings(ctx, &gd.ArchiveFindingsInput{DetectorId: &det, FindingIds: target}); err != nil {
		t.Fatal(err)
	}
	archived := listAll(t, c, det, &types.FindingCriteria{Criterion: map[string]types.Condition{"service.archived": {Equals: []string{"true"}}}})
	if !slices.Equal(archived, target) {
		t.Errorf("archived = %v, want %v", archived, target)
	}
	if _, err := c.UnarchiveFindings(ctx, &gd.UnarchiveFindingsInput{DetectorId: &det, FindingIds: target}); err != nil {
		t.Fatal(err)
	}
	if ids := listAll(t, c, det, &types.FindingCriteria{Criterion: map[string]types.Condition{"service.archived": {Equals: []string{"true"}}}}); len(ids) != 0 {
		t.Errorf("after unarchive: %v still archived", ids)
	}
	if _, err := c.UpdateFindingsFeedback(ctx, &gd.UpdateFindingsFeedbackInput{DetectorId: &det, FindingIds: target, Feedback: types.FeedbackUseful}); err != nil {
		t.Fatal(err)
	}
	fb, _ := c.GetFindings(ctx, &gd.GetFindingsInput{DetectorId: &det, FindingIds: target})
	if len(fb.Findings) != 1 || fb.Findings[0].Service.UserFeedback == nil || *fb.Findings[0].Service.UserFeedback != "USEFUL" {
		t.Errorf("feedback not stored")
	}

	// Bad input is a BadRequestException, as AWS answers it.
	if _, err := c.ListFindings(ctx, &gd.ListFindingsInput{DetectorId: &det, MaxResults: aws.Int32(51)}); apiCode(err) != "BadRequestException" {
		t.Errorf("maxResults 51: %v", err)
	}
	if _, err := c.ListFindings(ctx, &gd.ListFindingsInput{DetectorId: aws.String("00000000000000000000000000000000")}); apiCode(err) != "BadRequestException" {
		t.Errorf("unknown detector: %v", err)
	}
	if _, err := c.ListFindings(ctx, &gd.ListFindingsInput{DetectorId: &det, FindingCriteria: &types.FindingCriteria{Criterion: map[string]types.Condition{"no.such.attribute": {Equals: []string{"x"}}}}}); apiCode(err) != "BadRequestException" {
		t.Errorf("unknown attribute: %v", err)
	}
}

// TestGuardDutySuppressionAndLists: an ARCHIVE filter archives a finding as
// it arrives; activating a threat intel set changes detection at once.
func TestGuardDutySuppressionAndLists(t *testing.T) {
	g := startGuardDuty(t)
	ctx := context.Background()
	c := g.client(adminKey, adminSecret)
	det := must(c.ListDetectors(ctx, &gd.ListDetectorsInput{})).DetectorIds[0]

	// A suppression rule for port probes on port 2222.
	_, err := c.CreateFilter(ctx, &gd.CreateFilterInput{DetectorId: &det, Name: aws.String("quiet-2222"), Action: types.FilterActionArchive, Rank: aws.Int32(1),
		FindingCriteria: &types.FindingCriteria{Criterion: map[string]types.Condition{
			"type": {Equals: []string{"Recon:EC2/PortProbeUnprotectedPort"}},
			"service.action.portProbeAction.portProbeDetails.localPortDetails.port": {Equals: []string{"2222"}},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	fl, err := c.GetFilter(ctx, &gd.GetFilterInput{DetectorId: &det, FilterName: aws.String("quiet-2222")})
	if err != nil || fl.Action != types.FilterActionArchive {
		t.Fatalf("GetFilter: %+v %v", fl, err)
	}
	// A listed scanner probes bastion-01 on 2222 and on 2223.
	probe := func(port int) string {
		return fmt.Sprintf("2 %s eni-0d93a6c1f5b27e480 198.51.100.23 10.0.1.20 40000 %d 6 3 180 1763700000 1763700060 ACCEPT OK\n", adminAcct, port)
	}
	header := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
	os.WriteFile(filepath.Join(g.dir, "logs", "probes.log"), []byte(header+probe(2222)+probe(2223)), 0o644)
	g.waitIdle(t)
	probes := listAll(t, c, det, &types.FindingCriteria{Criterion: map[string]types.Condition{"type": {Equals: []string{"Recon:EC2/PortProbeUnprotectedPort"}}}})
	fs := must(c.GetFindings(ctx, &gd.GetFindingsInput{DetectorId: &det, FindingIds: probes})).Findings
	seen := map[int32]bool{}
	for _, f := range fs {
		port := *f.Service.Action.PortProbeAction.PortProbeDetails[0].LocalPortDetails.Port
		seen[port] = true
		if want := port == 2222; *f.Service.Archived != want {
			t.Errorf("probe of port %d: archived %v, want %v", port, *f.Service.Archived, want)
		}
	}
	if !seen[2222] || !seen[2223] {
		t.Errorf("probe findings for ports %v, want 2222 and 2223", seen)
	}

	// A threat intel set: traffic to 192.0.2.250 is not a finding until
	// the list naming it is activated.
	list := filepath.Join(g.dir, "my-list.txt")
	os.WriteFile(list, []byte("192.0.2.250\n"), 0o644)
	flow := func(i int) string {
		ts := 1763700000 + i*60
		return fmt.Sprintf("2 %s eni-0c41f7a2d9e35b816 10.0.1.10 192.0.2.250 %d 8443 6 3 180 %d %d ACCEPT OK\n", adminAcct, 40000+i, ts, ts+60)
	}
	custom := &types.FindingCriteria{Criterion: map[string]types.Condition{"service.action.networkConnectionAction.remoteIpDetails.ipAddressV4": {Equals: []string{"192.0.2.250"}}}}
	os.WriteFile(filepath.Join(g.dir, "logs", "before.log"), []byte(header+flow(1)), 0o644)
	g.waitIdle(t)
	if ids := listAll(t, c, det, custom); len(ids) != 0 {
		t.Fatalf("a finding about 192.0.2.250 before any list names it: %v", ids)
	}
	set, err := c.CreateThreatIntelSet(ctx, &gd.CreateThreatIntelSetInput{DetectorId: &det, Name: aws.String("mine"), Format: types.ThreatIntelSetFormatTxt, Location: aws.String(list), Activate: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	gs, err := c.GetThreatIntelSet(ctx, &gd.GetThreatIntelSetInput{DetectorId: &det, ThreatIntelSetId: set.ThreatIntelSetId})
	if err != nil || gs.Status != types.ThreatIntelSetStatusActive {
		t.Fatalf("GetThreatIntelSet: %+v %v", gs, err)
	}
	os.WriteFile(filepath.Join(g.dir, "logs", "after.log"), []byte(header+flow(2)), 0o644)
	g.waitIdle(t)
	ids := listAll(t, c, det, custom)
	if len(ids) != 1 {
		t.Fatalf("after activating the list: %d findings about 192.0.2.250, want 1", len(ids))
	}
	f := must(c.GetFindings(ctx, &gd.GetFindingsInput{DetectorId: &det, FindingIds: ids})).Findings[0]
	if *f.Type != "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom" || *f.Service.Evidence.ThreatIntelligenceDetails[0].ThreatListName != "mine" {
		t.Errorf("finding %s with evidence %v", *f.Type, f.Service.Evidence)
	}
	// The other account's traffic is not judged by this account's list.
	other := strings.ReplaceAll(flow(3), adminAcct, otherAcct)
	os.WriteFile(filepath.Join(g.dir, "logs", "other.log"), []byte(header+other), 0o644)
	g.waitIdle(t)
	oc := g.client(otherKey, otherSecret)
	odet := must(oc.ListDetectors(ctx, &gd.ListDetectorsInput{})).DetectorIds[0]
	if ids := listAll(t, oc, odet, nil); len(ids) != 0 {
		t.Errorf("another account got findings from the first account's list: %v", ids)
	}
}

// TestGuardDutyTenancy: no operation lets one account read, change or count
// another account's findings; forged, expired and unsigned requests fail.
func TestGuardDutyTenancy(t *testing.T) {
	g := startGuardDuty(t)
	ctx := context.Background()
	a := g.client(adminKey, adminSecret)
	b := g.client(otherKey, otherSecret)
	adet := must(a.ListDetectors(ctx, &gd.ListDetectorsInput{})).DetectorIds[0]
	bdet := must(b.ListDetectors(ctx, &gd.ListDetectorsInput{})).DetectorIds[0]
	if adet == bdet {
		t.Fatal("two accounts share a detector id")
	}
	aIDs := listAll(t, a, adet, nil)
	if len(aIDs) == 0 {
		t.Fatal("account A has no findings")
	}
	// B through A's detector id: refused everywhere.
	for name, call := range map[string]func() error{
		"ListFindings": func() error { _, err := b.ListFindings(ctx, &gd.ListFindingsInput{DetectorId: &adet}); return err },
		"GetFindings": func() error {
			_, err := b.GetFindings(ctx, &gd.GetFindingsInput{DetectorId: &adet, FindingIds: aIDs[:1]})
			return err
		},
		"Statistics": func() error {
			_, err := b.GetFindingsStatistics(ctx, &gd.GetFindingsStatisticsInput{DetectorId: &adet, FindingStatisticTypes: []types.FindingStatisticType{types.FindingStatisticTypeCountBySeverity}})
			return err
		},
		"Archive": func() error {
			_, err := b.ArchiveFindings(ctx, &gd.ArchiveFindingsInput{DetectorId: &adet, FindingIds: aIDs[:1]})
			return err
		},
		"GetDetector": func() error { _, err := b.GetDetector(ctx, &gd.GetDetectorInput{DetectorId: &adet}); return err },
		"CreateFilter": func() error {
			_, err := b.CreateFilter(ctx, &gd.CreateFilterInput{DetectorId: &adet, Name: aws.String("x-filter"), FindingCriteria: &types.FindingCriteria{Criterion: map[string]types.Condition{"severity": {Gte: aws.Int32(1)}}}})
			return err
		},
	} {
		if err := call(); apiCode(err) != "BadRequestException" {
			t.Errorf("B calls %s on A's detector: %v, want BadRequestException", name, err)
		}
	}
	// B through its own detector sees, gets, counts and archives none of A's.
	if ids := listAll(t, b, bdet, nil); len(ids) != 0 {
		t.Errorf("B lists %d findings", len(ids))
	}
	if fs := must(b.GetFindings(ctx, &gd.GetFindingsInput{DetectorId: &bdet, FindingIds: aIDs})).Findings; len(fs) != 0 {
		t.Errorf("B gets %d of A's findings by id", len(fs))
	}
	st := must(b.GetFindingsStatistics(ctx, &gd.GetFindingsStatisticsInput{DetectorId: &bdet, FindingStatisticTypes: []types.FindingStatisticType{types.FindingStatisticTypeCountBySeverity}}))
	if len(st.FindingStatistics.CountBySeverity) != 0 {
		t.Errorf("B counts findings: %v", st.FindingStatistics.CountBySeverity)
	}
	must(b.ArchiveFindings(ctx, &gd.ArchiveFindingsInput{DetectorId: &bdet, FindingIds: aIDs}))
	if ids := listAll(t, a, adet, &types.FindingCriteria{Criterion: map[string]types.Condition{"service.archived": {Equals: []string{"true"}}}}); len(ids) != 0 {
		t.Errorf("B archived %d of A's findings", len(ids))
	}

	// B deletes its detector and creates it again.
	must(b.DeleteDetector(ctx, &gd.DeleteDetectorInput{DetectorId: &bdet}))
	if ids := must(b.ListDetectors(ctx, &gd.ListDetectorsInput{})).DetectorIds; len(ids) != 0 {
		t.Errorf("after DeleteDetector: %v", ids)
	}
	if _, err := b.ListFindings(ctx, &gd.ListFindingsInput{DetectorId: &bdet}); apiCode(err) != "BadRequestException" {
		t.Errorf("ListFindings on a deleted detector: %v", err)
	}
	created := must(b.CreateDetector(ctx, &gd.CreateDetectorInput{Enable: aws.Bool(true), FindingPublishingFrequency: types.FindingPublishingFrequencyFifteenMinutes}))
	if ids := must(b.ListDetectors(ctx, &gd.ListDetectorsInput{})).DetectorIds; len(ids) != 1 || ids[0] != *created.DetectorId {
		t.Errorf("after CreateDetector: %v, created %s", ids, *created.DetectorId)
	}
	if gdet := must(b.GetDetector(ctx, &gd.GetDetectorInput{DetectorId: created.DetectorId})); gdet.FindingPublishingFrequency != types.FindingPublishingFrequencyFifteenMinutes {
		t.Errorf("GetDetector after create: %s", gdet.FindingPublishingFrequency)
	}

	// Forged (wrong secret), unknown key, unsigned, expired.
	if _, err := g.client(adminKey, "wrong-secret").ListDetectors(ctx, &gd.ListDetectorsInput{}); apiCode(err) != "InvalidSignatureException" {
		t.Errorf("wrong secret: %v", err)
	}
	if _, err := g.client("AKIAUNKNOWN000000001", "x").ListDetectors(ctx, &gd.ListDetectorsInput{}); apiCode(err) != "UnrecognizedClientException" {
		t.Errorf("unknown key: %v", err)
	}
	resp, err := http.Get("http://" + g.addr + "/detector")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("x-amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned: %d %s", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
	}
	// Expired: a request signed correctly, but ten minutes ago.
	req, _ := http.NewRequest("GET", "http://"+g.addr+"/detector", nil)
	emptyHash := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	creds := aws.Credentials{AccessKeyID: adminKey, SecretAccessKey: adminSecret}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, emptyHash, "guardduty", "us-east-1", time.Now().Add(-10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("x-amzn-ErrorType") != "InvalidSignatureException" {
		t.Errorf("expired: %d %s", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestGuardDutyExport: a publishing destination receives new findings as
// gzip JSON Lines in GuardDuty's layout; archived ones are not exported.
func TestGuardDutyExport(t *testing.T) {
	g := startGuardDuty(t)
	ctx := context.Background()
	c := g.client(adminKey, adminSecret)
	det := must(c.ListDetectors(ctx, &gd.ListDetectorsInput{})).DetectorIds[0]
	out := filepath.Join(g.dir, "exported")
	dst, err := c.CreatePublishingDestination(ctx, &gd.CreatePublishingDestinationInput{DetectorId: &det, DestinationType: types.DestinationTypeS3,
		DestinationProperties: &types.DestinationProperties{DestinationArn: aws.String("file://" + out)}})
	if err != nil {
		t.Fatal(err)
	}
	header := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
	line := fmt.Sprintf("2 %s eni-0d93a6c1f5b27e480 198.51.100.23 10.0.1.20 40000 5432 6 3 180 1763700000 1763700060 ACCEPT OK\n", adminAcct)
	os.WriteFile(filepath.Join(g.dir, "logs", "pg-probe.log"), []byte(header+line), 0o644)
	g.waitIdle(t)
	files, _ := filepath.Glob(filepath.Join(out, "AWSLogs", adminAcct, "GuardDuty", "us-east-1", "*", "*", "*", "*.jsonl.gz"))
	if len(files) == 0 {
		t.Fatalf("nothing exported under %s", out)
	}
	found := false
	for _, f := range files {
		r, _ := os.Open(f)
		fs, err := export.ReadObject(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range fs {
			if x.Service.Archived {
				t.Errorf("archived finding %s exported", x.ID)
			}
			if pp := x.Service.Action.PortProbeAction; pp != nil && pp.PortProbeDetails[0].LocalPortDetails.Port == 5432 {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("the new probe finding was not exported")
	}
	d := must(c.DescribePublishingDestination(ctx, &gd.DescribePublishingDestinationInput{DetectorId: &det, DestinationId: dst.DestinationId}))
	if d.Status != types.PublishingStatusPublishing {
		t.Errorf("destination status %s", d.Status)
	}
}

// TestReload: filters declared in the config are applied on reload.
func TestReload(t *testing.T) {
	g := startGuardDuty(t)
	ctx := context.Background()
	cfg := *g.cfg
	cfg.GuardDuty.Filters = []config.GDFilter{{Account: adminAcct, Region: "us-east-1", Name: "from-config", Action: "ARCHIVE",
		Criteria: map[string]any{"criterion": map[string]any{"severity": map[string]any{"lt": 2}}}}}
	if err := g.srv.Reload(ctx, &cfg); err != nil {
		t.Fatal(err)
	}
	c := g.client(adminKey, adminSecret)
	det := must(c.ListDetectors(ctx, &gd.ListDetectorsInput{})).DetectorIds[0]
	f, err := c.GetFilter(ctx, &gd.GetFilterInput{DetectorId: &det, FilterName: aws.String("from-config")})
	if err != nil || f.Tags["vigil:managed-by"] != "config" {
		t.Fatalf("GetFilter after reload: %+v, %v", f, err)
	}
	bad := cfg
	bad.GuardDuty.Filters = []config.GDFilter{{Account: "000000000000", Name: "x"}}
	if err := g.srv.Reload(ctx, &bad); err == nil {
		t.Errorf("an invalid config reloaded")
	}
}

// TestOperatorAPIWithTenants: with accounts configured, the operator read
// API, which shows every account's findings, refuses requests without its
// token.
func TestOperatorAPIWithTenants(t *testing.T) {
	g := startGuardDuty(t)
	resp, err := http.Get("http://" + g.addr + "/api/findings")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/api/findings without a token while tenants are configured: %d, want 401", resp.StatusCode)
	}
}
