package guardduty

import (
	"context"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	gd "github.com/aws/aws-sdk-go-v2/service/guardduty"
	gdtypes "github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/vigilsec/vigil/finding"
)

func detectorArn(acct string) string {
	return "arn:aws:guardduty:" + mtRegion + ":" + acct + ":detector/" + *det(acct)
}

func (e *mtEnv) tags(t *testing.T, acct, arn string) map[string]string {
	t.Helper()
	out := must[*gd.ListTagsForResourceOutput](t)(e.c(acct).ListTagsForResource(context.Background(), &gd.ListTagsForResourceInput{ResourceArn: aws.String(arn)}))
	if out.Tags == nil {
		t.Fatalf("ListTagsForResource(%s): tags is null", arn)
	}
	return out.Tags
}

// tagRoundTrip tags, lists and untags one resource.
func (e *mtEnv) tagRoundTrip(t *testing.T, acct, arn string, initial map[string]string) {
	t.Helper()
	ctx := context.Background()
	c := e.c(acct)
	if got := e.tags(t, acct, arn); !maps.Equal(got, initial) {
		t.Fatalf("initial tags of %s = %v, want %v", arn, got, initial)
	}
	must[*gd.TagResourceOutput](t)(c.TagResource(ctx, &gd.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"env": "prod", "team": "sec ops", "cost:center": "42"}}))
	want := maps.Clone(initial)
	maps.Copy(want, map[string]string{"env": "prod", "team": "sec ops", "cost:center": "42"})
	if got := e.tags(t, acct, arn); !maps.Equal(got, want) {
		t.Fatalf("tags of %s = %v, want %v", arn, got, want)
	}
	// Tagging again overwrites values.
	must[*gd.TagResourceOutput](t)(c.TagResource(ctx, &gd.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"env": "dev"}}))
	want["env"] = "dev"
	must[*gd.UntagResourceOutput](t)(c.UntagResource(ctx, &gd.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"team", "cost:center", "absent"}}))
	delete(want, "team")
	delete(want, "cost:center")
	if got := e.tags(t, acct, arn); !maps.Equal(got, want) {
		t.Fatalf("tags of %s after untag = %v, want %v", arn, got, want)
	}
}

func TestTagDetectorAndFilter(t *testing.T) {
	e := newMTEnv(t)
	ctx := context.Background()
	a := e.c(acctA)

	e.tagRoundTrip(t, acctA, detectorArn(acctA), map[string]string{})

	must[*gd.CreateFilterOutput](t)(a.CreateFilter(ctx, &gd.CreateFilterInput{DetectorId: det(acctA), Name: aws.String("high-sev"),
		FindingCriteria: &gdtypes.FindingCriteria{Criterion: map[string]gdtypes.Condition{"severity": {GreaterThanOrEqual: aws.Int64(7)}}},
		Tags:            map[string]string{"owner": "alice"}}))
	filterArn := detectorArn(acctA) + "/filter/high-sev"
	e.tagRoundTrip(t, acctA, filterArn, map[string]string{"owner": "alice"})
	// GetFilter reports the tags TagResource set.
	f := must[*gd.GetFilterOutput](t)(a.GetFilter(ctx, &gd.GetFilterInput{DetectorId: det(acctA), FilterName: aws.String("high-sev")}))
	if !maps.Equal(f.Tags, map[string]string{"owner": "alice", "env": "dev"}) {
		t.Errorf("GetFilter tags = %v", f.Tags)
	}
	// Deleting the filter deletes its tags; a new filter of the same name
	// starts untagged, and the old ARN no longer names a resource until then.
	must[*gd.DeleteFilterOutput](t)(a.DeleteFilter(ctx, &gd.DeleteFilterInput{DetectorId: det(acctA), FilterName: aws.String("high-sev")}))
	_, err := a.ListTagsForResource(ctx, &gd.ListTagsForResourceInput{ResourceArn: aws.String(filterArn)})
	wantAPIError(t, err, "BadRequestException")

	// IP sets and threat intel sets.
	ip := must[*gd.CreateIPSetOutput](t)(a.CreateIPSet(ctx, &gd.CreateIPSetInput{DetectorId: det(acctA), Name: aws.String("trusted"),
		Format: gdtypes.IpSetFormatTxt, Location: aws.String("s3://my-bucket/trusted.txt"), Activate: aws.Bool(false)}))
	e.tagRoundTrip(t, acctA, detectorArn(acctA)+"/ipset/"+aws.ToString(ip.IpSetId), map[string]string{})
	// An IP set's id is not a threat intel set's.
	_, err = a.ListTagsForResource(ctx, &gd.ListTagsForResourceInput{ResourceArn: aws.String(detectorArn(acctA) + "/threatintelset/" + aws.ToString(ip.IpSetId))})
	wantAPIError(t, err, "BadRequestException")
	ts := must[*gd.CreateThreatIntelSetOutput](t)(a.CreateThreatIntelSet(ctx, &gd.CreateThreatIntelSetInput{DetectorId: det(acctA), Name: aws.String("bad-ips"),
		Format: gdtypes.ThreatIntelSetFormatTxt, Location: aws.String("s3://my-bucket/bad.txt"), Activate: aws.Bool(false), Tags: map[string]string{"src": "feed"}}))
	e.tagRoundTrip(t, acctA, detectorArn(acctA)+"/threatintelset/"+aws.ToString(ts.ThreatIntelSetId), map[string]string{"src": "feed"})

	// Tags survive a restart.
	svc2 := e.newService(t)
	svc2.state.mu.Lock()
	got := svc2.state.tagsOf(detectorArn(acctA))
	svc2.state.mu.Unlock()
	if !maps.Equal(got, map[string]string{"env": "dev"}) {
		t.Errorf("detector tags after restart = %v", got)
	}
}

func TestTagInvalid(t *testing.T) {
	e := newMTEnv(t)
	ctx := context.Background()
	a := e.c(acctA)
	arn := detectorArn(acctA)
	long := strings.Repeat("k", 129)
	for _, tags := range []map[string]string{
		{"aws:owner": "x"},
		{"AWS:owner": "x"},
		{long: "x"},
		{"k": strings.Repeat("v", 257)},
		{"bad#key": "x"},
		{"k": "bad\x00value"},
	} {
		_, err := a.TagResource(ctx, &gd.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags})
		wantAPIError(t, err, "BadRequestException")
	}
	_, err := a.TagResource(ctx, &gd.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{}})
	wantAPIError(t, err, "BadRequestException")
	many := map[string]string{}
	for i := range 201 {
		many["k"+strings.Repeat("x", i%100)+string(rune('a'+i/100))] = "v"
	}
	_, err = a.TagResource(ctx, &gd.TagResourceInput{ResourceArn: aws.String(arn), Tags: many})
	wantAPIError(t, err, "BadRequestException")
	// 200 in total across requests is the limit too.
	first, rest := map[string]string{}, map[string]string{}
	n := 0
	for k, v := range many {
		if n < 150 {
			first[k] = v
		} else {
			rest[k] = v
		}
		n++
	}
	must[*gd.TagResourceOutput](t)(a.TagResource(ctx, &gd.TagResourceInput{ResourceArn: aws.String(arn), Tags: first}))
	_, err = a.TagResource(ctx, &gd.TagResourceInput{ResourceArn: aws.String(arn), Tags: rest})
	wantAPIError(t, err, "BadRequestException")
	// Empty strings are valid values.
	must[*gd.TagResourceOutput](t)(a.TagResource(ctx, &gd.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"empty": ""}}))

	_, err = a.UntagResource(ctx, &gd.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{long}})
	wantAPIError(t, err, "BadRequestException")

	for _, bad := range []string{
		"not-an-arn",
		"arn:aws:s3:::bucket",
		"arn:aws:guardduty:" + mtRegion + ":" + acctA + ":detector/0123456789abcdef0123456789abcdef",
		arn + "/filter/nope",
		arn + "/ipset/nope",
		arn + "/threatintelset/nope",
		arn + "/publishingDestination/nope",
		arn + "/malware/x",
		"arn:aws:guardduty:eu-west-1:" + acctA + ":detector/" + finding.DetectorID(acctA, "eu-west-1"),
	} {
		_, err := a.ListTagsForResource(ctx, &gd.ListTagsForResourceInput{ResourceArn: aws.String(bad)})
		wantAPIError(t, err, "BadRequestException")
		_, err = a.TagResource(ctx, &gd.TagResourceInput{ResourceArn: aws.String(bad), Tags: map[string]string{"k": "v"}})
		wantAPIError(t, err, "BadRequestException")
	}
}

func TestTagCrossAccount(t *testing.T) {
	e := newMTEnv(t)
	ctx := context.Background()
	arn := detectorArn(acctA)
	must[*gd.TagResourceOutput](t)(e.c(acctA).TagResource(ctx, &gd.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"env": "prod"}}))
	b := e.c(acctB)
	_, err := b.TagResource(ctx, &gd.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"env": "evil"}})
	wantAPIError(t, err, "BadRequestException")
	_, err = b.UntagResource(ctx, &gd.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"env"}})
	wantAPIError(t, err, "BadRequestException")
	_, err = b.ListTagsForResource(ctx, &gd.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	wantAPIError(t, err, "BadRequestException")
	// Even its administrator cannot tag a member's resources.
	e.inviteAndAccept(t, acctB, acctA)
	_, err = b.TagResource(ctx, &gd.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"env": "evil"}})
	wantAPIError(t, err, "BadRequestException")
	if got := e.tags(t, acctA, arn); !maps.Equal(got, map[string]string{"env": "prod"}) {
		t.Fatalf("tags = %v", got)
	}
}

// TestTagUnescapedArn sends the ARN with its '/' unescaped, as a
// hand-made client might: it reaches the same resource.
func TestTagUnescapedArn(t *testing.T) {
	e := newMTEnv(t)
	ctx := context.Background()
	arn := detectorArn(acctA)
	must[*gd.TagResourceOutput](t)(e.c(acctA).TagResource(ctx, &gd.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"env": "prod"}}))
	req, err := http.NewRequest("GET", e.srv.URL+"/tags/"+arn, nil)
	if err != nil {
		t.Fatal(err)
	}
	const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	creds := aws.Credentials{AccessKeyID: mtKeyID(acctA), SecretAccessKey: "secret-" + acctA}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, emptyHash, "guardduty", mtRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"env":"prod"`) {
		t.Fatalf("%s: %s", resp.Status, body)
	}
}
