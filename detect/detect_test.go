package detect

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/awsranges"
	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/finding"
	"github.com/vigilsec/vigil/intel"
	"github.com/vigilsec/vigil/inventory"
)

const acct = "111122223333"

// Addresses used by the tests. The 198.51.100.0/24 and 203.0.113.0/24
// documentation ranges stand in for internet hosts.
const (
	webPrivate  = "10.0.1.10"
	webPublic   = "54.204.10.11" // in the test ip-ranges
	natPrivate  = "10.0.2.20"    // worker: private only
	c2IP        = "198.51.100.66"
	minerIP     = "198.51.100.33"
	scannerIP   = "203.0.113.23"
	torRelay1   = "198.51.100.101"
	torRelay2   = "198.51.100.102"
	torRelay3   = "198.51.100.103"
	torExit     = "203.0.113.200"
	customIP    = "198.51.100.77"
	officeIP    = "198.51.100.10"
	cleanIP     = "192.0.2.55"
	awsOtherIP  = "54.205.99.1" // in ip-ranges, not ours
	outsideIP   = "203.0.113.150"
	workerNATIP = "54.204.20.20"
)

const testInventory = `{"Reservations":[{"OwnerId":"111122223333","Instances":[
 {"InstanceId":"i-0a1b2c3d4e5f60001","InstanceType":"t3.micro","ImageId":"ami-1","Placement":{"AvailabilityZone":"us-east-1a"},
  "PrivateIpAddress":"10.0.1.10","PublicIpAddress":"54.204.10.11","VpcId":"vpc-1","SubnetId":"subnet-1","Tags":[{"Key":"Name","Value":"web-01"}],
  "NetworkInterfaces":[{"NetworkInterfaceId":"eni-0001","PrivateIpAddress":"10.0.1.10","VpcId":"vpc-1","SubnetId":"subnet-1",
    "PrivateIpAddresses":[{"Primary":true,"PrivateIpAddress":"10.0.1.10","Association":{"PublicIp":"54.204.10.11"}}],"Association":{"PublicIp":"54.204.10.11"}}]},
 {"InstanceId":"i-0a1b2c3d4e5f60002","InstanceType":"t3.micro","ImageId":"ami-1","Placement":{"AvailabilityZone":"us-east-1b"},
  "PrivateIpAddress":"10.0.2.20","VpcId":"vpc-1","SubnetId":"subnet-2","Tags":[{"Key":"Name","Value":"worker-01"}],
  "NetworkInterfaces":[{"NetworkInterfaceId":"eni-0002","PrivateIpAddress":"10.0.2.20","VpcId":"vpc-1","SubnetId":"subnet-2",
    "PrivateIpAddresses":[{"Primary":true,"PrivateIpAddress":"10.0.2.20"}]}]}
]}]}`

const testRanges = `{"syncToken":"1","createDate":"2026-11-01-00-00-00","prefixes":[
 {"ip_prefix":"54.204.0.0/15","region":"us-east-1","service":"AMAZON","network_border_group":"us-east-1"},
 {"ip_prefix":"54.204.0.0/15","region":"us-east-1","service":"EC2","network_border_group":"us-east-1"}],"ipv6_prefixes":[]}`

func testEnv(t testing.TB) *Env {
	t.Helper()
	b := intel.NewBuilder()
	lists := []struct {
		name string
		cat  intel.Category
		body string
	}{
		{"c2-feed", intel.C2, c2IP + "\nevil-c2.example\nguarddutyc2activityb.com\n"},
		{"mining-pools", intel.Mining, minerIP + "\npool-listed.com\n"},
		{"known-scanners", intel.Scanner, scannerIP + "\n"},
		{"tor-relays", intel.TorRelay, torRelay1 + "\n" + torRelay2 + "\n" + torRelay3 + "\n" + torExit + "\n"},
		{"tor-exits", intel.TorExit, torExit + "\n"},
		{"my-threat-list", intel.Custom, customIP + "\n" + officeIP + "\nbad-custom.example\n"},
	}
	for _, l := range lists {
		if _, err := b.AddList(intel.ListSpec{Name: l.name, Category: l.cat, Format: "txt"}, strings.NewReader(l.body)); err != nil {
			t.Fatal(err)
		}
	}
	tb := intel.NewBuilder()
	if _, err := tb.AddList(intel.ListSpec{Name: "office", Category: intel.Trusted, Format: "txt"}, strings.NewReader(officeIP+"\n")); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(strings.NewReader(testInventory))
	if err != nil {
		t.Fatal(err)
	}
	rg, err := awsranges.Load(strings.NewReader(testRanges))
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Intel: b.Build(), Trusted: tb.Build(), Inventory: inv, Ranges: rg}
}

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

type flowSpec struct {
	eni, src, dst string
	sport, dport  uint16
	proto         uint8
	action        event.Action
	flags         uint16
}

func flow(s flowSpec) event.Event {
	if s.proto == 0 {
		s.proto = event.ProtoTCP
	}
	if s.action == 0 {
		s.action = event.ActionAccept
	}
	return event.Event{Kind: event.KindFlow, Flow: event.Flow{
		Version: 2, AccountID: acct, InterfaceID: s.eni,
		SrcAddr: netip.MustParseAddr(s.src), DstAddr: netip.MustParseAddr(s.dst),
		SrcPort: s.sport, DstPort: s.dport, HasPorts: true, Protocol: s.proto, HasProtocol: true,
		Packets: 10, Bytes: 840, Start: t0, End: t0.Add(time.Minute), Action: s.action, LogStatus: event.LogStatusOK, TCPFlags: s.flags,
	}}
}

func dns(src, instance, name string) event.Event {
	return event.Event{Kind: event.KindDNS, DNS: event.DNSQuery{
		AccountID: acct, Region: "us-east-1", VPCID: "vpc-1", Time: t0, QueryName: name, QueryType: "A",
		RCode: "NOERROR", SrcAddr: netip.MustParseAddr(src), SrcPort: 40000, Transport: "UDP", SrcInstanceID: instance,
	}}
}

type callSpec struct {
	api, source, ip, errCode, eventType, category string
	id                                            event.UserIdentity
	params                                        string
}

func call(s callSpec) event.Event {
	if s.source == "" {
		s.source = "iam.amazonaws.com"
	}
	if s.eventType == "" {
		s.eventType = "AwsApiCall"
	}
	if s.category == "" {
		s.category = "Management"
	}
	ip, _ := netip.ParseAddr(s.ip)
	ev := event.Event{Kind: event.KindAPICall, API: event.APICall{
		EventVersion: "1.08", EventTime: t0, EventSource: s.source, EventName: s.api, AWSRegion: "us-east-1",
		SourceIPAddress: s.ip, SourceIP: ip, UserAgent: "aws-cli/2.15.0", ErrorCode: s.errCode,
		EventType: s.eventType, EventCategory: s.category, RecipientAccountID: acct, UserIdentity: s.id,
	}}
	if s.params != "" {
		ev.API.RequestParameters = []byte(s.params)
	}
	return ev
}

var (
	alice = event.UserIdentity{Type: "IAMUser", PrincipalID: "AIDAALICE", ARN: "arn:aws:iam::111122223333:user/alice", AccountID: acct, AccessKeyID: "AKIAALICE0000000001", UserName: "alice"}
	root  = event.UserIdentity{Type: "Root", PrincipalID: acct, ARN: "arn:aws:iam::111122223333:root", AccountID: acct, AccessKeyID: "ASIAROOT00000000001"}
	web   = event.UserIdentity{Type: "AssumedRole", PrincipalID: "AROAWEBROLE:i-0a1b2c3d4e5f60001", ARN: "arn:aws:sts::111122223333:assumed-role/web-role/i-0a1b2c3d4e5f60001",
		AccountID: acct, AccessKeyID: "ASIAWEB000000000001", EC2RoleDelivery: "2.0", IssuerType: "Role", IssuerUserName: "web-role"}
	worker = event.UserIdentity{Type: "AssumedRole", PrincipalID: "AROAWORKER:i-0a1b2c3d4e5f60002", ARN: "arn:aws:sts::111122223333:assumed-role/worker-role/i-0a1b2c3d4e5f60002",
		AccountID: acct, AccessKeyID: "ASIAWORKER000000001", EC2RoleDelivery: "2.0", IssuerType: "Role", IssuerUserName: "worker-role"}
)

func withInvokedBy(u event.UserIdentity, by string) event.UserIdentity { u.InvokedBy = by; return u }

// run feeds events through every detector and returns the occurrences.
func run(t testing.TB, env *Env, evs ...event.Event) []finding.Finding {
	t.Helper()
	ds := All(env, Options{})
	var out []finding.Finding
	for i := range evs {
		for _, d := range ds {
			d.Observe(&evs[i], func(f *finding.Finding) { out = append(out, *f) })
		}
	}
	return out
}

func types(fs []finding.Finding) []string {
	var ts []string
	for _, f := range fs {
		ts = append(ts, f.Type)
	}
	return ts
}

func TestDetectors(t *testing.T) {
	tests := []struct {
		name string
		evs  []event.Event
		want []string // finding types in order; nil = must stay silent
		sev  []float64
	}{
		// Flow: threat lists.
		{"c2 beacon outbound", []event.Event{
			flow(flowSpec{eni: "eni-0002", src: natPrivate, dst: c2IP, sport: 43210, dport: 443}),
			flow(flowSpec{eni: "eni-0002", src: c2IP, dst: natPrivate, sport: 443, dport: 43210}), // the response: not a second occurrence
		}, []string{TypeCCActivityB}, []float64{8}},
		{"mining pool stratum", []event.Event{flow(flowSpec{eni: "eni-0002", src: natPrivate, dst: minerIP, sport: 50000, dport: 3333})}, []string{TypeBitcoinToolB}, []float64{8}},
		{"custom threat list", []event.Event{flow(flowSpec{eni: "eni-0001", src: webPrivate, dst: customIP, sport: 50000, dport: 8080})}, []string{TypeEC2MaliciousCustom}, []float64{5}},
		{"trusted beats threat list", []event.Event{flow(flowSpec{eni: "eni-0001", src: webPrivate, dst: officeIP, sport: 50000, dport: 8080})}, nil, nil},
		{"clean address", []event.Event{flow(flowSpec{eni: "eni-0001", src: webPrivate, dst: cleanIP, sport: 50000, dport: 443})}, nil, nil},
		{"east-west traffic", []event.Event{flow(flowSpec{eni: "eni-0001", src: webPrivate, dst: natPrivate, sport: 50000, dport: 3333})}, nil, nil},
		{"nodata record", []event.Event{{Kind: event.KindFlow, Flow: event.Flow{Version: 2, AccountID: acct, InterfaceID: "eni-0001", LogStatus: event.LogStatusNoData}}}, nil, nil},
		// Flow: port probes.
		{"scanner reaches ssh", []event.Event{flow(flowSpec{eni: "eni-0001", src: scannerIP, dst: webPrivate, sport: 54321, dport: 22})}, []string{TypePortProbeUnprotected}, []float64{2}},
		{"scanner reaches elasticsearch", []event.Event{flow(flowSpec{eni: "eni-0001", src: scannerIP, dst: webPrivate, sport: 54321, dport: 9200})}, []string{TypePortProbeUnprotected}, []float64{8}},
		{"scanner reaches yarn", []event.Event{flow(flowSpec{eni: "eni-0001", src: scannerIP, dst: webPrivate, sport: 54321, dport: 8088})}, []string{TypePortProbeEMR}, []float64{8}},
		{"scanner probes https", []event.Event{flow(flowSpec{eni: "eni-0001", src: scannerIP, dst: webPrivate, sport: 54321, dport: 443})}, nil, nil},
		{"scanner probes http", []event.Event{flow(flowSpec{eni: "eni-0001", src: scannerIP, dst: webPrivate, sport: 54321, dport: 80})}, nil, nil},
		{"scanner blocked", []event.Event{flow(flowSpec{eni: "eni-0001", src: scannerIP, dst: webPrivate, sport: 54321, dport: 22, action: event.ActionReject})}, nil, nil},
		{"unlisted address reaches ssh", []event.Event{flow(flowSpec{eni: "eni-0001", src: cleanIP, dst: webPrivate, sport: 54321, dport: 22})}, nil, nil},
		{"ssh response to scanner is not a probe", []event.Event{flow(flowSpec{eni: "eni-0001", src: webPrivate, dst: scannerIP, sport: 22, dport: 54321})}, nil, nil},
		// Flow: Tor.
		{"tor client", []event.Event{flow(flowSpec{eni: "eni-0001", src: webPrivate, dst: torRelay1, sport: 45000, dport: 9001})}, []string{TypeTorClient}, []float64{8}},
		{"tor relay", []event.Event{
			flow(flowSpec{eni: "eni-0001", src: torRelay1, dst: webPrivate, sport: 45000, dport: 9001}),
			flow(flowSpec{eni: "eni-0001", src: torRelay2, dst: webPrivate, sport: 45001, dport: 9001}),
			flow(flowSpec{eni: "eni-0001", src: torRelay3, dst: webPrivate, sport: 45002, dport: 9001}),
		}, []string{TypeTorRelay}, []float64{8}},
		{"tor user visits the website", []event.Event{flow(flowSpec{eni: "eni-0001", src: torExit, dst: webPrivate, sport: 45000, dport: 443})}, nil, nil},
		{"lone SYN decides direction", []event.Event{flow(flowSpec{eni: "eni-0001", src: webPrivate, dst: torRelay1, sport: 9001, dport: 50000, flags: 2})}, []string{TypeTorClient}, nil},
		// DNS.
		{"mining pool subdomain", []event.Event{dns(natPrivate, "i-0a1b2c3d4e5f60002", "xmr.eu.pool-listed.com")}, []string{TypeBitcoinToolBDNS}, []float64{8}},
		{"name containing a listed name", []event.Event{dns(natPrivate, "i-0a1b2c3d4e5f60002", "notpool-listed.com")}, nil, nil},
		{"c2 domain", []event.Event{dns(natPrivate, "", "guarddutyc2activityb.com")}, []string{TypeCCActivityBDNS}, []float64{8}},
		{"custom domain", []event.Event{dns(webPrivate, "", "www.bad-custom.example")}, []string{TypeMaliciousDomainCust}, []float64{5}},
		{"ordinary domain", []event.Event{dns(webPrivate, "", "github.com")}, nil, nil},
		// CloudTrail: callers.
		{"tor recon", []event.Event{call(callSpec{api: "ListUsers", ip: torExit, id: alice})}, []string{TypeReconTorIPCaller}, []float64{5}},
		{"tor write", []event.Event{call(callSpec{api: "CreateAccessKey", ip: torExit, id: alice})}, []string{TypeIAMTorIPCaller}, []float64{5}},
		{"tor-free caller", []event.Event{call(callSpec{api: "ListUsers", ip: cleanIP, id: alice}), call(callSpec{api: "CreateAccessKey", ip: cleanIP, id: alice})}, nil, nil},
		{"custom list recon", []event.Event{call(callSpec{api: "DescribeSecurityGroups", source: "ec2.amazonaws.com", ip: customIP, id: alice})}, []string{TypeReconMaliciousCustom}, []float64{5}},
		{"custom list write", []event.Event{call(callSpec{api: "AttachUserPolicy", ip: customIP, id: alice})}, []string{TypeIAMMaliciousCustom}, []float64{5}},
		{"custom list but trusted", []event.Event{call(callSpec{api: "AttachUserPolicy", ip: officeIP, id: alice})}, nil, nil},
		{"s3 data event from tor", []event.Event{call(callSpec{api: "GetObject", source: "s3.amazonaws.com", category: "Data", ip: torExit, id: alice, params: `{"bucketName":"secrets","key":"a"}`})}, []string{TypeS3TorIPCaller}, []float64{8}},
		// CloudTrail: instance credentials.
		{"instance creds from the instance", []event.Event{call(callSpec{api: "GetCallerIdentity", source: "sts.amazonaws.com", ip: webPublic, id: web})}, nil, nil},
		{"instance creds outside aws", []event.Event{call(callSpec{api: "ListBuckets", source: "s3.amazonaws.com", ip: outsideIP, id: web})}, []string{TypeInstanceCredOutsideAWS}, []float64{8}},
		{"instance creds inside aws", []event.Event{call(callSpec{api: "ListBuckets", source: "s3.amazonaws.com", ip: awsOtherIP, id: web})}, []string{TypeInstanceCredInsideAWS}, []float64{8}},
		{"instance creds through an aws service", []event.Event{call(callSpec{api: "GetObject", source: "s3.amazonaws.com", ip: outsideIP, id: withInvokedBy(web, "ec2.amazonaws.com")})}, nil, nil},
		{"NATed instance: learn, then catch", []event.Event{
			call(callSpec{api: "GetCallerIdentity", source: "sts.amazonaws.com", ip: workerNATIP, id: worker}),
			call(callSpec{api: "PutLogEvents", source: "logs.amazonaws.com", ip: workerNATIP, id: worker}),
			call(callSpec{api: "ListBuckets", source: "s3.amazonaws.com", ip: outsideIP, id: worker}),
		}, []string{TypeInstanceCredOutsideAWS}, nil},
		// CloudTrail: root and trails.
		{"root api call", []event.Event{call(callSpec{api: "ListBuckets", source: "s3.amazonaws.com", ip: cleanIP, id: root})}, []string{TypeRootCredentialUsage}, []float64{2}},
		{"root used by an aws service", []event.Event{call(callSpec{api: "DescribeCases", source: "support.amazonaws.com", ip: "support.amazonaws.com", id: withInvokedBy(root, "support.amazonaws.com")})}, nil, nil},
		{"root service event", []event.Event{call(callSpec{api: "CreateServiceLinkedRole", ip: cleanIP, id: root, eventType: "AwsServiceEvent"})}, nil, nil},
		{"trail stopped", []event.Event{call(callSpec{api: "StopLogging", source: "cloudtrail.amazonaws.com", ip: cleanIP, id: alice, params: `{"name":"arn:aws:cloudtrail:us-east-1:111122223333:trail/main"}`})}, []string{TypeCloudTrailLoggingDisable}, []float64{2}},
		{"trail stop denied", []event.Event{call(callSpec{api: "StopLogging", source: "cloudtrail.amazonaws.com", ip: cleanIP, id: alice, errCode: "AccessDenied", params: `{"name":"main"}`})}, nil, nil},
		{"trail bucket deleted", []event.Event{
			call(callSpec{api: "CreateTrail", source: "cloudtrail.amazonaws.com", ip: cleanIP, id: alice, params: `{"name":"main","s3BucketName":"trail-logs"}`}),
			call(callSpec{api: "DeleteBucket", source: "s3.amazonaws.com", ip: cleanIP, id: alice, params: `{"bucketName":"trail-logs"}`}),
			call(callSpec{api: "DeleteBucket", source: "s3.amazonaws.com", ip: cleanIP, id: alice, params: `{"bucketName":"other"}`}),
		}, []string{TypeCloudTrailLoggingDisable}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, testEnv(t), tt.evs...)
			if !slices.Equal(types(got), tt.want) {
				t.Fatalf("got types %q, want %q", types(got), tt.want)
			}
			for i, s := range tt.sev {
				if got[i].Severity != s {
					t.Errorf("finding %d: severity %v, want %v", i, got[i].Severity, s)
				}
			}
			for _, f := range got {
				checkShape(t, &f)
			}
		})
	}
}

// checkShape asserts what every finding must carry.
func checkShape(t *testing.T, f *finding.Finding) {
	t.Helper()
	if len(f.ID) != 32 || f.SchemaVersion != "2.0" || f.AccountID != acct || f.Region != "us-east-1" || f.Partition != "aws" {
		t.Errorf("bad envelope: id %q schema %q account %q region %q", f.ID, f.SchemaVersion, f.AccountID, f.Region)
	}
	if !strings.HasPrefix(f.Arn, "arn:aws:guardduty:us-east-1:"+acct+":detector/") || !strings.HasSuffix(f.Arn, "/finding/"+f.ID) {
		t.Errorf("bad arn %q", f.Arn)
	}
	if f.Title == "" || f.Description == "" {
		t.Errorf("missing title or description")
	}
	if f.Service.Count != 1 || f.Service.EventFirstSeen == "" || f.Service.ServiceName != "guardduty" || f.Service.ResourceRole == "" {
		t.Errorf("bad service block: %+v", f.Service)
	}
	if f.Service.Action.ActionType == "" {
		t.Errorf("no action type")
	}
	switch f.Resource.ResourceType {
	case finding.ResourceInstance:
		if f.Resource.InstanceDetails == nil {
			t.Errorf("Instance without instanceDetails")
		}
	case finding.ResourceAccessKey:
		if f.Resource.AccessKeyDetails == nil {
			t.Errorf("AccessKey without accessKeyDetails")
		}
	case finding.ResourceS3Bucket:
		if len(f.Resource.S3BucketDetails) == 0 {
			t.Errorf("S3Bucket without details")
		}
	default:
		t.Errorf("resource type %q", f.Resource.ResourceType)
	}
	if strings.HasSuffix(f.Type, "!DNS") || strings.Contains(f.Type, "EC2/") {
		if f.Resource.ResourceType != finding.ResourceInstance {
			t.Errorf("EC2 type with resource %q", f.Resource.ResourceType)
		}
	}
}

func TestFindingDetails(t *testing.T) {
	env := testEnv(t)
	got := run(t, env, flow(flowSpec{eni: "eni-0002", src: natPrivate, dst: c2IP, sport: 43210, dport: 443}))
	if len(got) != 1 {
		t.Fatalf("got %d findings", len(got))
	}
	f := got[0]
	nc := f.Service.Action.NetworkConnectionAction
	if nc == nil || nc.ConnectionDirection != finding.DirectionOutbound || nc.Protocol != "TCP" ||
		nc.LocalIPDetails.IPAddressV4 != natPrivate || nc.RemoteIPDetails.IPAddressV4 != c2IP ||
		nc.RemotePortDetails.Port != 443 || nc.LocalPortDetails.Port != 43210 {
		t.Errorf("network action = %+v", nc)
	}
	if d := f.Resource.InstanceDetails; d.InstanceID != "i-0a1b2c3d4e5f60002" || d.InstanceType != "t3.micro" {
		t.Errorf("instance details = %+v", d)
	}
	ev := f.Service.Evidence
	if ev == nil || len(ev.ThreatIntelligenceDetails) != 1 || ev.ThreatIntelligenceDetails[0].ThreatListName != "c2-feed" {
		t.Errorf("evidence = %+v", ev)
	}
	if f.Service.EventFirstSeen != "2026-11-21T10:01:00.000Z" {
		t.Errorf("eventFirstSeen = %q, want the flow's end time", f.Service.EventFirstSeen)
	}
	// Deterministic ids: the same activity gives the same id in a new run.
	again := run(t, testEnv(t), flow(flowSpec{eni: "eni-0002", src: natPrivate, dst: c2IP, sport: 50001, dport: 443}))
	if again[0].ID != f.ID {
		t.Errorf("id changed across runs: %s vs %s", again[0].ID, f.ID)
	}
	// Another instance is another finding.
	other := run(t, testEnv(t), flow(flowSpec{eni: "eni-0001", src: webPrivate, dst: c2IP, sport: 50001, dport: 443}))
	if other[0].ID == f.ID {
		t.Errorf("two instances share finding id %s", f.ID)
	}

	api := run(t, env, call(callSpec{api: "ListBuckets", source: "s3.amazonaws.com", ip: outsideIP, id: web}))[0]
	a := api.Service.Action.AwsAPICallAction
	if a == nil || a.API != "ListBuckets" || a.ServiceName != "s3.amazonaws.com" || a.CallerType != "Remote IP" || a.RemoteIPDetails.IPAddressV4 != outsideIP {
		t.Errorf("api action = %+v", a)
	}
	k := api.Resource.AccessKeyDetails
	if k.AccessKeyID != "ASIAWEB000000000001" || k.UserName != "web-role" || k.UserType != "AssumedRole" {
		t.Errorf("access key details = %+v", k)
	}
}

func TestAggregation(t *testing.T) {
	env := testEnv(t)
	agg := finding.NewAggregator()
	ds := All(env, Options{})
	for i := range 5 {
		ev := flow(flowSpec{eni: "eni-0001", src: scannerIP, dst: webPrivate, sport: uint16(50000 + i), dport: 22})
		ev.Flow.End = t0.Add(time.Duration(i) * time.Minute)
		for _, d := range ds {
			d.Observe(&ev, agg.Add)
		}
	}
	fs := agg.Findings()
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1 aggregated", len(fs))
	}
	f := fs[0]
	if f.Service.Count != 5 || f.Service.EventFirstSeen != "2026-11-21T10:00:00.000Z" || f.Service.EventLastSeen != "2026-11-21T10:04:00.000Z" || f.UpdatedAt != f.Service.EventLastSeen {
		t.Errorf("aggregate: count %d first %s last %s updated %s", f.Service.Count, f.Service.EventFirstSeen, f.Service.EventLastSeen, f.UpdatedAt)
	}
}

func TestObserveAllocs(t *testing.T) {
	env := testEnv(t)
	ds := All(env, Options{})
	evs := []event.Event{
		flow(flowSpec{eni: "eni-0001", src: webPrivate, dst: cleanIP, sport: 50000, dport: 443}),
		dns(webPrivate, "i-0a1b2c3d4e5f60001", "www.github.com"),
		call(callSpec{api: "DescribeInstances", source: "ec2.amazonaws.com", ip: cleanIP, id: alice}),
	}
	emit := func(*finding.Finding) {}
	for i := range evs {
		n := testing.AllocsPerRun(200, func() {
			for _, d := range ds {
				d.Observe(&evs[i], emit)
			}
		})
		if n != 0 {
			t.Errorf("%s: %v allocs per event, want 0", evs[i].Kind, n)
		}
	}
}
