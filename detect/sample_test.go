package detect

import (
	"encoding/json"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/finding"
)

func TestSampleFindingsAll(t *testing.T) {
	cat := Catalog()
	for _, req := range [][]string{nil, {}} {
		got, err := SampleFindings(acct, "us-east-1", req, t0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(cat) {
			t.Fatalf("types %v: got %d findings, want one per catalogue type (%d)", req, len(got), len(cat))
		}
		ids := map[string]bool{}
		for i := range got {
			f := &got[i]
			ti := cat[i]
			if f.Type != ti.Type {
				t.Errorf("finding %d is %s, want %s (catalogue order)", i, f.Type, ti.Type)
			}
			if ids[f.ID] {
				t.Errorf("%s: duplicate id %s", f.Type, f.ID)
			}
			ids[f.ID] = true
			checkSample(t, f, ti)
		}
	}
}

// checkSample asserts what a sample of catalogue type ti must carry.
func checkSample(t *testing.T, f *finding.Finding, ti TypeInfo) {
	t.Helper()
	checkShape(t, f)
	ts := finding.FormatTime(t0)
	if f.ID != finding.ID(f.Type, acct, "us-east-1", "sample") {
		t.Errorf("%s: id %s is not the sample id", f.Type, f.ID)
	}
	if det := finding.DetectorID(acct, "us-east-1"); f.Service.DetectorID != det || f.Arn != finding.ARN("aws", "us-east-1", acct, det, f.ID) {
		t.Errorf("%s: detector %s arn %s", f.Type, f.Service.DetectorID, f.Arn)
	}
	if f.CreatedAt != ts || f.UpdatedAt != ts || f.Service.EventFirstSeen != ts || f.Service.EventLastSeen != ts {
		t.Errorf("%s: times %s %s %s %s, want %s", f.Type, f.CreatedAt, f.UpdatedAt, f.Service.EventFirstSeen, f.Service.EventLastSeen, ts)
	}
	if !strings.HasPrefix(f.Title, "[SAMPLE] ") || len(f.Title) < len("[SAMPLE] ")+10 {
		t.Errorf("%s: title %q", f.Type, f.Title)
	}
	if strings.Contains(f.Title, "Sample finding of type") {
		t.Errorf("%s: generic sample title; give the type its own sample in sample.go", f.Type)
	}
	if f.Severity != ti.Severity {
		t.Errorf("%s: severity %v, want %v", f.Type, f.Severity, ti.Severity)
	}
	if f.Resource.ResourceType != ti.ResourceType || f.Service.Action.ActionType != ti.ActionType {
		t.Errorf("%s: resource %s action %s, want %s %s", f.Type, f.Resource.ResourceType, f.Service.Action.ActionType, ti.ResourceType, ti.ActionType)
	}
	if f.Service.Archived || f.Service.ResourceRole != finding.RoleActor && f.Service.ResourceRole != finding.RoleTarget {
		t.Errorf("%s: archived %v role %q", f.Type, f.Service.Archived, f.Service.ResourceRole)
	}

	// additionalInfo is a JSON object with sample = true.
	if f.Service.AdditionalInfo == nil {
		t.Fatalf("%s: no additionalInfo", f.Type)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(f.Service.AdditionalInfo.Value), &info); err != nil {
		t.Fatalf("%s: additionalInfo %q: %v", f.Type, f.Service.AdditionalInfo.Value, err)
	}
	if info["sample"] != true {
		t.Errorf("%s: additionalInfo %s lacks sample: true", f.Type, f.Service.AdditionalInfo.Value)
	}

	// Resource details.
	r := f.Resource
	switch r.ResourceType {
	case finding.ResourceInstance:
		d := r.InstanceDetails
		if d.InstanceID != "i-99999999" || d.InstanceType == "" || d.ImageID == "" || len(d.Tags) == 0 || len(d.NetworkInterfaces) != 1 {
			t.Errorf("%s: instance details %+v", f.Type, d)
		} else if ni := d.NetworkInterfaces[0]; !validAddr(ni.PrivateIPAddress) || !validAddr(ni.PublicIP) {
			t.Errorf("%s: network interface %+v", f.Type, ni)
		}
	case finding.ResourceAccessKey, finding.ResourceS3Bucket:
		k := r.AccessKeyDetails
		if k == nil || !strings.HasPrefix(k.AccessKeyID, "ASIASAMPLE") || k.UserName == "" || k.UserType == "" || k.PrincipalID == "" {
			t.Errorf("%s: access key details %+v", f.Type, k)
		}
		if r.ResourceType == finding.ResourceS3Bucket {
			b := r.S3BucketDetails[0]
			if b.Name == "" || b.Arn != "arn:aws:s3:::"+b.Name || b.CreatedAt == nil || b.Owner == nil {
				t.Errorf("%s: bucket details %+v", f.Type, b)
			}
		}
	}

	// The action block of the type, with documentation-range remote addresses.
	a := f.Service.Action
	var remotes []*finding.RemoteIPDetails
	switch a.ActionType {
	case finding.ActionNetworkConnection:
		c := a.NetworkConnectionAction
		if c == nil || c.ConnectionDirection == "" || c.Protocol == "" || c.LocalPortDetails == nil || c.RemotePortDetails == nil || c.LocalIPDetails == nil {
			t.Fatalf("%s: network connection action %+v", f.Type, c)
		}
		remotes = append(remotes, c.RemoteIPDetails)
	case finding.ActionPortProbe:
		p := a.PortProbeAction
		if p == nil || len(p.PortProbeDetails) == 0 {
			t.Fatalf("%s: port probe action %+v", f.Type, p)
		}
		for _, d := range p.PortProbeDetails {
			if d.LocalPortDetails == nil || d.LocalIPDetails == nil {
				t.Errorf("%s: probe detail %+v", f.Type, d)
			}
			remotes = append(remotes, d.RemoteIPDetails)
		}
		if f.Service.ResourceRole != finding.RoleTarget {
			t.Errorf("%s: probed instance is not the target", f.Type)
		}
	case finding.ActionDNSRequest:
		d := a.DNSRequestAction
		if d == nil || d.Domain == "" || d.DomainWithSuffix == "" || !strings.HasSuffix(d.Domain, d.DomainWithSuffix) || d.VpcOwnerAccountID != acct {
			t.Errorf("%s: dns action %+v", f.Type, d)
		}
	case finding.ActionAWSAPICall:
		c := a.AwsAPICallAction
		if c == nil || c.API == "" || !strings.HasSuffix(c.ServiceName, ".amazonaws.com") || c.CallerType != "Remote IP" || c.UserAgent == "" {
			t.Fatalf("%s: api call action %+v", f.Type, c)
		}
		remotes = append(remotes, c.RemoteIPDetails)
		if f.Service.ResourceRole != finding.RoleTarget {
			t.Errorf("%s: credentials are not the target", f.Type)
		}
	default:
		t.Errorf("%s: action type %q", f.Type, a.ActionType)
	}
	doc := []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24")}
	for _, rd := range remotes {
		if rd == nil {
			t.Errorf("%s: no remoteIpDetails", f.Type)
			continue
		}
		ip, err := netip.ParseAddr(rd.IPAddressV4)
		if err != nil || !(doc[0].Contains(ip) || doc[1].Contains(ip)) {
			t.Errorf("%s: remote address %q is not in a documentation range", f.Type, rd.IPAddressV4)
		}
	}

	// Threat-list evidence.
	if threatListType(f.Type) {
		e := f.Service.Evidence
		if e == nil || len(e.ThreatIntelligenceDetails) != 1 || e.ThreatIntelligenceDetails[0].ThreatListName != "GeneratedFindingThreatListName" {
			t.Errorf("%s: evidence %+v", f.Type, e)
		}
		if info["threatListName"] != "GeneratedFindingThreatListName" {
			t.Errorf("%s: additionalInfo %s lacks threatListName", f.Type, f.Service.AdditionalInfo.Value)
		}
	} else if f.Service.Evidence != nil {
		t.Errorf("%s: evidence on a type that matches no list", f.Type)
	}
	if strings.Contains(f.Type, "InstanceCredentialExfiltration") && (r.AccessKeyDetails.UserType != "AssumedRole" || info["instanceId"] != "i-99999999") {
		t.Errorf("%s: not instance-role credentials: %+v %v", f.Type, r.AccessKeyDetails, info)
	}
	if f.Type == TypeRootCredentialUsage && r.AccessKeyDetails.UserType != "Root" {
		t.Errorf("%s: user type %q", f.Type, r.AccessKeyDetails.UserType)
	}

	// The finding survives a JSON round trip unchanged.
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var back finding.Finding
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(&back, f) {
		t.Errorf("%s: JSON round trip changed the finding (%v)", f.Type, err)
	}
}

func validAddr(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

func TestSampleFindingsDeterministic(t *testing.T) {
	a, err := SampleFindings(acct, "us-east-1", nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := SampleFindings(acct, "us-east-1", nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("two calls with the same arguments differ")
	}
	// The id depends on account, region and type only, not on time.
	later, _ := SampleFindings(acct, "us-east-1", nil, t0.Add(48*time.Hour))
	other, _ := SampleFindings("444455556666", "eu-west-1", nil, t0)
	for i := range a {
		if later[i].ID != a[i].ID {
			t.Errorf("%s: id changed with the time", a[i].Type)
		}
		if other[i].ID == a[i].ID {
			t.Errorf("%s: same id in another account and region", a[i].Type)
		}
		if other[i].AccountID != "444455556666" || other[i].Region != "eu-west-1" || !strings.HasPrefix(other[i].Arn, "arn:aws:guardduty:eu-west-1:444455556666:detector/") {
			t.Errorf("%s: envelope %s %s %s", other[i].Type, other[i].AccountID, other[i].Region, other[i].Arn)
		}
	}
	if d := other[0].Resource.InstanceDetails; d != nil && !strings.HasPrefix(d.AvailabilityZone, "eu-west-1") {
		t.Errorf("availability zone %q in eu-west-1", d.AvailabilityZone)
	}
}

func TestSampleFindingsSubset(t *testing.T) {
	req := []string{TypeRootCredentialUsage, TypeCCActivityBDNS, TypeRootCredentialUsage, TypeS3TorIPCaller}
	got, err := SampleFindings(acct, "us-east-1", req, t0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{TypeRootCredentialUsage, TypeCCActivityBDNS, TypeS3TorIPCaller}; !reflect.DeepEqual(types(got), want) {
		t.Fatalf("got %q, want %q", types(got), want)
	}
	for i := range got {
		ti, _ := LookupType(got[i].Type)
		checkSample(t, &got[i], ti)
	}
	if d := got[1].Service.Action.DNSRequestAction; d.Domain != "guarddutyc2activityb.com" {
		t.Errorf("C&C sample domain %q", d.Domain)
	}
	// A sample equals the same type's sample from the full set.
	all, _ := SampleFindings(acct, "us-east-1", nil, t0)
	for _, f := range all {
		if f.Type == TypeS3TorIPCaller && !reflect.DeepEqual(f, got[2]) {
			t.Error("subset sample differs from the full set's")
		}
	}
}

func TestSampleFindingsErrors(t *testing.T) {
	got, err := SampleFindings(acct, "us-east-1", []string{TypeTorClient, "Backdoor:EC2/Bogus", "Nope"}, t0)
	if err == nil || got != nil {
		t.Fatalf("unknown types: got %d findings, err %v", len(got), err)
	}
	if !errors.Is(err, ErrUnknownType) || !strings.Contains(err.Error(), "Backdoor:EC2/Bogus") || !strings.Contains(err.Error(), "Nope") {
		t.Errorf("error %q does not name the unknown types", err)
	}
	if strings.Contains(err.Error(), TypeTorClient) {
		t.Errorf("error %q names a known type", err)
	}
	if _, err := SampleFindings("", "us-east-1", nil, t0); err == nil {
		t.Error("no error without an account")
	}
	if _, err := SampleFindings(acct, "us-east-1", nil, time.Time{}); err == nil {
		t.Error("no error without a time")
	}
	// No region means the default region.
	fs, err := SampleFindings(acct, "", []string{TypeTorClient}, t0)
	if err != nil || len(fs) != 1 || fs[0].Region != DefaultRegion {
		t.Errorf("empty region: %v %+v", err, fs)
	}
}
