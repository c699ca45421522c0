package criteria

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/criteria/criteriatest"
	"github.com/vigilsec/vigil/finding"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ms(t time.Time) int64 { return t.UnixMilli() }

func i64(v int64) *int64 { return &v }

// sample returns an SSH brute-force finding against an instance.
func sample() *finding.Finding {
	ts := finding.FormatTime(t0)
	return &finding.Finding{
		AccountID: "111122223333", Arn: "arn:aws:guardduty:us-east-1:111122223333:detector/d/finding/f1",
		CreatedAt: finding.FormatTime(t0.Add(-time.Hour)), UpdatedAt: ts, ID: "f1", Partition: "aws",
		Region: "us-east-1", SchemaVersion: "2.0", Severity: 8, Type: "UnauthorizedAccess:EC2/SSHBruteForce",
		Title: "198.51.100.7 is performing SSH brute force attacks",
		Resource: finding.Resource{
			ResourceType: finding.ResourceInstance,
			InstanceDetails: &finding.InstanceDetails{
				InstanceID: "i-0abc", InstanceType: "t3.micro", LaunchTime: finding.FormatTime(t0.Add(-48 * time.Hour)),
				Tags: []finding.Tag{{Key: "Name", Value: "web-01"}, {Key: "env", Value: "prod"}},
				NetworkInterfaces: []finding.NetworkInterface{
					{PublicIP: "203.0.113.10", Ipv6Addresses: []string{"2001:db8::1", "2001:db8::2"},
						SecurityGroups: []finding.SecurityGroup{{GroupID: "sg-1", GroupName: "web"}, {GroupID: "sg-2", GroupName: "ssh"}}},
				},
			},
		},
		Service: finding.Service{
			Action: finding.Action{
				ActionType: finding.ActionNetworkConnection,
				NetworkConnectionAction: &finding.NetworkConnectionAction{
					ConnectionDirection: finding.DirectionInbound, Protocol: "TCP",
					LocalPortDetails: &finding.PortDetails{Port: 22, PortName: "SSH"},
					RemoteIPDetails: &finding.RemoteIPDetails{
						IPAddressV4:  "198.51.100.7",
						Country:      &finding.Country{CountryCode: "NL", CountryName: "Netherlands"},
						GeoLocation:  &finding.GeoLocation{Lat: 52.37, Lon: 4.89},
						Organization: &finding.Organization{Asn: "64500", AsnOrg: "Example Hosting"},
					},
				},
			},
			AdditionalInfo: &finding.AdditionalInfo{Type: "default",
				Value: `{"threatListName":"ProofPoint","inBytes":123456,"outBytes":"7890","sample":true,` +
					`"unusual":{"asnOrg":"Evil Corp","port":[22,2222]},"userAgent.fullUserAgent":"curl/8.0","empty":""}`},
			Count: 37, DetectorID: "d", EventFirstSeen: finding.FormatTime(t0.Add(-30 * time.Minute)), EventLastSeen: ts,
			ResourceRole: finding.RoleTarget, ServiceName: "guardduty",
			Evidence: &finding.Evidence{ThreatIntelligenceDetails: []finding.ThreatIntelligenceDetail{
				{ThreatListName: "ProofPoint", ThreatNames: []string{"Scanner", "BruteForcer"}}}},
		},
	}
}

func crit(m map[string]Condition) *Criteria { return &Criteria{Criterion: m} }

func TestMatch(t *testing.T) {
	f := sample()
	tests := []struct {
		name string
		attr string
		cond Condition
		want bool
	}{
		// Strings.
		{"string equals", "type", Condition{Equals: []string{"UnauthorizedAccess:EC2/SSHBruteForce"}}, true},
		{"string equals is case-sensitive", "type", Condition{Equals: []string{"unauthorizedaccess:ec2/sshbruteforce"}}, false},
		{"string equals ORs values", "accountId", Condition{Equals: []string{"1", "111122223333"}}, true},
		{"string notEquals", "accountId", Condition{NotEquals: []string{"111122223333"}}, false},
		{"string notEquals other", "accountId", Condition{NotEquals: []string{"444455556666"}}, true},
		{"string gt numeric text", "service.action.networkConnectionAction.remoteIpDetails.organization.asn", Condition{GreaterThan: i64(64499)}, true},
		{"string gt non-numeric", "type", Condition{GreaterThan: i64(0)}, false},
		{"absent equals", "resource.accessKeyDetails.userName", Condition{Equals: []string{"x"}}, false},
		{"absent notEquals", "resource.accessKeyDetails.userName", Condition{NotEquals: []string{"x"}}, true},
		{"not in model", "resource.accessKeyDetails.userIdentity.arn", Condition{Equals: []string{"x"}}, false},
		{"not in model notEquals", "service.detection.sequence.uid", Condition{NotEquals: []string{"x"}}, true},
		{"struct walk string", "service.action.networkConnectionAction.remoteIpDetails.country.countryCode", Condition{Equals: []string{"NL"}}, true},
		// Numbers.
		{"severity gte", "severity", Condition{GreaterThanOrEqual: i64(8)}, true},
		{"severity gt", "severity", Condition{GreaterThan: i64(8)}, false},
		{"severity lt", "severity", Condition{LessThan: i64(9)}, true},
		{"severity lte", "severity", Condition{LessThanOrEqual: i64(7)}, false},
		{"severity range", "severity", Condition{GreaterThanOrEqual: i64(7), LessThan: i64(9)}, true},
		{"severity bucket", "severity", Condition{Equals: []string{"7", "8"}}, true},
		{"severity bucket miss", "severity", Condition{Equals: []string{"4", "5", "6"}}, false},
		{"severity notEquals bucket", "severity", Condition{NotEquals: []string{"8"}}, false},
		{"severity exact fraction", "severity", Condition{Equals: []string{"8.5"}}, false},
		{"count equals", "service.count", Condition{Equals: []string{"37"}}, true},
		{"count equals 37.0", "service.count", Condition{Equals: []string{"37.0"}}, true},
		{"port equals", "service.action.networkConnectionAction.localPortDetails.port", Condition{Equals: []string{"22"}}, true},
		{"port lt", "service.action.networkConnectionAction.localPortDetails.port", Condition{LessThan: i64(1024)}, true},
		{"float lat", "service.action.networkConnectionAction.remoteIpDetails.geoLocation.lat", Condition{GreaterThan: i64(52), LessThan: i64(53)}, true},
		{"absent confidence", "confidence", Condition{LessThan: i64(100)}, false},
		// Times.
		{"updatedAt gte", "updatedAt", Condition{GreaterThanOrEqual: i64(ms(t0))}, true},
		{"updatedAt gt", "updatedAt", Condition{GreaterThan: i64(ms(t0))}, false},
		{"updatedAt equals ms", "updatedAt", Condition{Equals: []string{"1772366400000"}}, true},
		{"updatedAt equals RFC 3339", "updatedAt", Condition{Equals: []string{"2026-03-01T12:00:00Z"}}, true},
		{"createdAt lt", "createdAt", Condition{LessThan: i64(ms(t0))}, true},
		{"eventFirstSeen window", "service.eventFirstSeen", Condition{GreaterThan: i64(ms(t0.Add(-time.Hour))), LessThan: i64(ms(t0))}, true},
		{"launchTime", "resource.instanceDetails.launchTime", Condition{LessThan: i64(ms(t0.Add(-24 * time.Hour)))}, true},
		{"time matches text", "updatedAt", Condition{Matches: []string{"2026-03-01T*"}}, true},
		// Booleans.
		{"archived false", "service.archived", Condition{Equals: []string{"false"}}, true},
		{"archived TRUE", "service.archived", Condition{Equals: []string{"TRUE"}}, false},
		{"archived notEquals true", "service.archived", Condition{NotEquals: []string{"true"}}, true},
		{"blocked", "service.action.networkConnectionAction.blocked", Condition{Equals: []string{"false"}}, true},
		{"absent bool", "service.action.dnsRequestAction.blocked", Condition{Equals: []string{"false"}}, false},
		// List elements.
		{"tag key any", "resource.instanceDetails.tags.key", Condition{Equals: []string{"env"}}, true},
		{"tag key notEquals any", "resource.instanceDetails.tags.key", Condition{NotEquals: []string{"env"}}, false},
		{"tag value", "resource.instanceDetails.tags.value", Condition{Equals: []string{"prod"}}, true},
		{"tag value miss", "resource.instanceDetails.tags.value", Condition{Equals: []string{"dev"}}, false},
		{"nested list", "resource.instanceDetails.networkInterfaces.securityGroups.groupName", Condition{Equals: []string{"ssh"}}, true},
		{"string list", "resource.instanceDetails.networkInterfaces.ipv6Addresses", Condition{Equals: []string{"2001:db8::2"}}, true},
		{"threat names", "service.evidence.threatIntelligenceDetails.threatNames", Condition{Equals: []string{"Scanner"}}, true},
		// additionalInfo.
		{"info string", "service.additionalInfo.threatListName", Condition{Equals: []string{"ProofPoint"}}, true},
		{"info number equals", "service.additionalInfo.inBytes", Condition{Equals: []string{"123456"}}, true},
		{"info number gt", "service.additionalInfo.inBytes", Condition{GreaterThan: i64(100000)}, true},
		{"info numeric string gt", "service.additionalInfo.outBytes", Condition{GreaterThan: i64(7889)}, true},
		{"info bool", "service.additionalInfo.sample", Condition{Equals: []string{"true"}}, true},
		{"info nested", "service.additionalInfo.unusual.asnOrg", Condition{Equals: []string{"Evil Corp"}}, true},
		{"info nested array", "service.additionalInfo.unusual.port", Condition{Equals: []string{"2222"}}, true},
		{"info dotted key", "service.additionalInfo.userAgent.fullUserAgent", Condition{Matches: []string{"curl/*"}}, true},
		{"info missing", "service.additionalInfo.nope", Condition{Equals: []string{"x"}}, false},
		{"info missing notEquals", "service.additionalInfo.nope", Condition{NotEquals: []string{"x"}}, true},
		{"info empty string is absent", "service.additionalInfo.empty", Condition{NotEquals: []string{""}}, true},
		// Patterns.
		{"matches star", "type", Condition{Matches: []string{"*SSH*"}}, true},
		{"matches question", "region", Condition{Matches: []string{"us-east-?"}}, true},
		{"matches whole value", "region", Condition{Matches: []string{"us-east"}}, false},
		{"notMatches", "type", Condition{NotMatches: []string{"Recon:*"}}, true},
		{"notMatches hit", "type", Condition{NotMatches: []string{"Unauthorized*"}}, false},
		{"matches list element", "resource.instanceDetails.tags.value", Condition{Matches: []string{"web-*"}}, true},
		{"matches number text", "severity", Condition{Matches: []string{"8"}}, true},
		// Combined operators on one attribute.
		{"equals and notEquals", "resource.instanceDetails.tags.key", Condition{Equals: []string{"Name"}, NotEquals: []string{"env"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := crit(map[string]Condition{tt.attr: tt.cond})
			if err := c.Clone().Validate(true); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if got := c.Match(f); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
			// The same after Validate (cached program).
			if err := c.Validate(true); err != nil {
				t.Fatal(err)
			}
			if got := c.Match(f); got != tt.want {
				t.Errorf("Match after Validate = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMatchAND(t *testing.T) {
	f := sample()
	c := crit(map[string]Condition{
		"severity":                          {GreaterThanOrEqual: i64(7)},
		"service.archived":                  {Equals: []string{"false"}},
		"type":                              {NotEquals: []string{"Recon:EC2/PortProbeUnprotectedPort"}},
		"updatedAt":                         {GreaterThan: i64(1486685375000)},
		"resource.instanceDetails.tags.key": {Equals: []string{"env"}},
	})
	if !c.Match(f) {
		t.Error("spec example does not match")
	}
	c = crit(map[string]Condition{"severity": {GreaterThanOrEqual: i64(7)}, "region": {Equals: []string{"eu-west-1"}}})
	if c.Match(f) {
		t.Error("AND of a failing attribute matches")
	}
	if !(*Criteria)(nil).Match(f) || !crit(nil).Match(f) {
		t.Error("empty criteria does not match everything")
	}
	if crit(map[string]Condition{"bogus": {Equals: []string{"x"}}}).Match(f) {
		t.Error("invalid criteria matches")
	}
}

func TestAliases(t *testing.T) {
	f := sample()
	c := crit(map[string]Condition{
		"severity":      {Gte: i64(7), Lt: i64(9)},
		"accountId":     {Eq: []string{"111122223333"}},
		"region":        {Neq: []string{"eu-west-1"}},
		"updatedAt":     {Gt: i64(0), Lte: i64(ms(t0))},
		"service.count": {Gte: i64(10), GreaterThanOrEqual: i64(37)}, // the stricter bound wins
	})
	if !c.Match(f) {
		t.Error("aliases do not match before Validate")
	}
	if err := c.Validate(false); err != nil {
		t.Fatal(err)
	}
	want := map[string]Condition{
		"severity":      {GreaterThanOrEqual: i64(7), LessThan: i64(9)},
		"accountId":     {Equals: []string{"111122223333"}},
		"region":        {NotEquals: []string{"eu-west-1"}},
		"updatedAt":     {GreaterThan: i64(0), LessThanOrEqual: i64(ms(t0))},
		"service.count": {GreaterThanOrEqual: i64(37)},
	}
	if !reflect.DeepEqual(c.Criterion, want) {
		t.Errorf("normalised %+v\nwant %+v", c.Criterion, want)
	}
	if !c.Match(f) {
		t.Error("aliases do not match after Validate")
	}
	c = crit(map[string]Condition{"service.count": {Gt: i64(40), GreaterThan: i64(1)}})
	if c.Match(f) {
		t.Error("gt 40 AND greaterThan 1 matched count 37")
	}
}

func TestJSON(t *testing.T) {
	in := `{"criterion":{"severity":{"gte":7,"greaterThanOrEqual":7,"lessThan":9},"type":{"eq":["a"],"notEquals":["b"]},"region":{"matches":["us-*"],"notMatches":["*-2"]}}}`
	var c Criteria
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	want := map[string]Condition{
		"severity": {Gte: i64(7), GreaterThanOrEqual: i64(7), LessThan: i64(9)},
		"type":     {Eq: []string{"a"}, NotEquals: []string{"b"}},
		"region":   {Matches: []string{"us-*"}, NotMatches: []string{"*-2"}},
	}
	if !reflect.DeepEqual(c.Criterion, want) {
		t.Errorf("decoded %+v", c.Criterion)
	}
	out, err := json.Marshal(crit(map[string]Condition{"a": {Equals: []string{"x"}, GreaterThan: i64(1), Lte: i64(2)}}))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out); got != `{"criterion":{"a":{"equals":["x"],"greaterThan":1,"lte":2}}}` {
		t.Errorf("encoded %s", got)
	}
}

func TestValidateErrors(t *testing.T) {
	many := func(n int) []string {
		s := make([]string, n)
		for i := range s {
			s[i] = strings.Repeat("x", i+1)
		}
		return s
	}
	tooMany := map[string]Condition{}
	for i, a := range attributeNames[:51] {
		_ = i
		tooMany[a] = Condition{NotEquals: []string{"1"}}
	}
	tests := []struct {
		name      string
		m         map[string]Condition
		forFilter bool
		field     string
		contains  string
	}{
		{"unknown attribute", map[string]Condition{"resource.instanceDetails.color": {Equals: []string{"x"}}}, true, "resource.instanceDetails.color", "not a valid"},
		{"prefix alone", map[string]Condition{"service.additionalInfo.": {Equals: []string{"x"}}}, true, "service.additionalInfo.", "not a valid"},
		{"matches outside filters", map[string]Condition{"type": {Matches: []string{"Recon*"}}}, false, "type", "only in CreateFilter/UpdateFilter"},
		{"notMatches outside filters", map[string]Condition{"type": {NotMatches: []string{"Recon*"}}}, false, "type", "only in CreateFilter/UpdateFilter"},
		{"too many values", map[string]Condition{"type": {Equals: many(51)}}, false, "type", "at most 50"},
		{"too many values with alias", map[string]Condition{"type": {Equals: many(30), Eq: many(51)[30:]}}, false, "type", "at most 50"},
		{"too many patterns", map[string]Condition{"type": {Matches: many(6)}}, true, "type", "at most 5"},
		{"empty pattern", map[string]Condition{"type": {Matches: []string{""}}}, true, "type", "1 to 512"},
		{"long pattern", map[string]Condition{"type": {NotMatches: []string{strings.Repeat("a", 513)}}}, true, "type", "1 to 512"},
		{"empty condition", map[string]Condition{"region": {}}, false, "region", "empty"},
		{"empty lists", map[string]Condition{"region": {Equals: []string{}}}, false, "region", "empty"},
		{"too many attributes", tooMany, false, "criterion", "at most 50"},
		{"number value", map[string]Condition{"severity": {Equals: []string{"high"}}}, false, "severity", "number"},
		{"time value", map[string]Condition{"updatedAt": {Equals: []string{"yesterday"}}}, false, "updatedAt", "epoch milliseconds"},
		{"bool value", map[string]Condition{"service.archived": {Equals: []string{"yes"}}}, false, "service.archived", `"true" or "false"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := crit(tt.m).Validate(tt.forFilter)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Field != tt.field || !strings.Contains(e.Message, tt.contains) || !strings.HasPrefix(e.Error(), "The request is rejected") {
				t.Errorf("err = %+v", e)
			}
			if tt.field != "criterion" && !strings.Contains(e.Error(), tt.field) {
				t.Errorf("message %q does not name %s", e.Error(), tt.field)
			}
		})
	}
	ok := crit(map[string]Condition{"type": {Matches: many(5)}, "service.additionalInfo.unusual.port": {Equals: []string{"x"}},
		"service.detection.sequence.uid": {Equals: []string{"u"}}})
	if err := ok.Validate(true); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if err := crit(nil).Validate(false); err != nil {
		t.Errorf("empty criteria: %v", err)
	}
}

func TestAttributes(t *testing.T) {
	attrs := Attributes()
	if len(attrs) < 150 || !slices.IsSorted(attrs) {
		t.Fatalf("%d attributes", len(attrs))
	}
	for _, a := range []string{"severity", "resource.instanceDetails.tags.key", "service.additionalInfo.*",
		"service.action.portProbeAction.portProbeDetails.remoteIpDetails.organization.asnOrg"} {
		if !slices.Contains(attrs, a) {
			t.Errorf("missing %s", a)
		}
	}
	// Every attribute the model has resolves to a struct path, and
	// GuardDuty's shapes map to Vigil's struct where Vigil has the field.
	var inModel int
	for _, name := range attributeNames {
		a, ok := Lookup(name)
		if !ok {
			t.Fatalf("Lookup(%s) failed", name)
		}
		if a.InModel {
			inModel++
		}
	}
	for _, name := range []string{"accountId", "resource.instanceDetails.networkInterfaces.securityGroups.groupId",
		"service.action.awsApiCallAction.remoteIpDetails.city.cityName", "resource.s3BucketDetails.createdAt",
		"service.evidence.threatIntelligenceDetails.threatNames", "confidence"} {
		if a, _ := Lookup(name); !a.InModel {
			t.Errorf("%s is not in the model", name)
		}
	}
	kinds := map[string]Kind{"severity": KindNumber, "updatedAt": KindTime, "service.archived": KindBool, "type": KindString,
		"resource.s3BucketDetails.createdAt": KindTime, "service.additionalInfo.x": KindDynamic,
		"service.action.portProbeAction.portProbeDetails.localPortDetails.port": KindNumber}
	for n, k := range kinds {
		if a, _ := Lookup(n); a.Kind != k {
			t.Errorf("%s: kind %d, want %d", n, a.Kind, k)
		}
	}
	if a, _ := Lookup("resource.instanceDetails.tags.key"); !a.Repeated {
		t.Error("tags.key not repeated")
	}
	t.Logf("%d attributes, %d in Vigil's model", len(attributeNames), inModel)

	for name, want := range map[string]bool{"updatedAt": true, "severity": true, "service.count": true,
		"resource.resourceType": true, "resource.instanceDetails.tags.key": false, "service.additionalInfo.x": false,
		"bogus": false, "service.action.networkConnectionAction.localPortDetails.port": true} {
		if got := ValidSortAttribute(name); got != want {
			t.Errorf("ValidSortAttribute(%s) = %v", name, got)
		}
	}
}

// TestFastAccessors checks the hand-written accessors against the struct
// walk on random findings.
func TestFastAccessors(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 500 {
		f := criteriatest.Finding(rng, i)
		for name, fast := range fastAccessors {
			d := attrTable()[name]
			if d == nil || !d.InModel {
				t.Fatalf("%s: fast accessor for an attribute outside the model", name)
			}
			got := fast(f, &state{}, nil)
			want := walkAccessor(d)(f, &state{}, nil)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s on finding %d: fast %v, walk %v", name, i, got, want)
			}
		}
	}
}

func TestWildcard(t *testing.T) {
	for _, tt := range []struct {
		p, s string
		want bool
	}{
		{"", "", true}, {"", "a", false}, {"*", "", true}, {"*", "abc", true}, {"a*", "abc", true},
		{"*c", "abc", true}, {"a*c", "abbbc", true}, {"a*c", "abcd", false}, {"?", "é", true}, {"??", "é", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"*a*b*", "xxaxxbxx", true}, {"*a*b", "ba", false},
		{"Recon:EC2/*", "Recon:EC2/PortProbeUnprotectedPort", true}, {"[a]", "[a]", true}, {"**", "x", true},
		{"*é?", "aéé", true}, {"a*a*a*a*b", strings.Repeat("a", 50), false},
	} {
		if got := Wildcard(tt.p, tt.s); got != tt.want {
			t.Errorf("Wildcard(%q, %q) = %v", tt.p, tt.s, got)
		}
	}
}

func TestConcurrentMatch(t *testing.T) {
	c := crit(map[string]Condition{"severity": {Gte: i64(7)}, "service.additionalInfo.threatListName": {Equals: []string{"ProofPoint"}}})
	f := sample()
	done := make(chan bool)
	for range 8 {
		go func() {
			ok := true
			for range 200 {
				ok = ok && c.Match(f)
			}
			done <- ok
		}()
	}
	for range 8 {
		if !<-done {
			t.Error("concurrent Match failed")
		}
	}
}

func TestMatchAllocs(t *testing.T) {
	c := crit(map[string]Condition{
		"accountId": {Equals: []string{"111122223333"}}, "severity": {GreaterThanOrEqual: i64(7)},
		"type": {Equals: []string{"UnauthorizedAccess:EC2/SSHBruteForce"}}, "updatedAt": {GreaterThan: i64(0)},
		"resource.instanceDetails.tags.key": {Equals: []string{"env"}},
	})
	f := sample()
	if err := c.Validate(false); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { c.Match(f) }); n > 0 {
		t.Errorf("Match allocates %v times", n)
	}
}

// BenchmarkMatch measures a suppression rule on the common attributes and
// one on struct-walked and additionalInfo attributes:
//
//	go test ./criteria -run '^$' -bench Match -benchmem
func BenchmarkMatch(b *testing.B) {
	f := sample()
	for _, bc := range []struct {
		name string
		c    *Criteria
	}{
		{"common", crit(map[string]Condition{
			"accountId": {Equals: []string{"111122223333"}}, "severity": {GreaterThanOrEqual: i64(7)},
			"type": {Equals: []string{"UnauthorizedAccess:EC2/SSHBruteForce"}}, "updatedAt": {GreaterThan: i64(0)},
			"resource.instanceDetails.tags.key": {Equals: []string{"env"}},
		})},
		{"walk", crit(map[string]Condition{
			"service.action.networkConnectionAction.remoteIpDetails.country.countryCode": {Equals: []string{"NL"}},
			"service.action.networkConnectionAction.localPortDetails.port":               {Equals: []string{"22"}},
		})},
		{"additionalInfo", crit(map[string]Condition{
			"service.additionalInfo.threatListName": {Equals: []string{"ProofPoint"}},
		})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !bc.c.Match(f) {
					b.Fatal("no match")
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "findings/s")
		})
	}
}

func FuzzCriteria(f *testing.F) {
	for _, s := range []string{
		`{"criterion":{"severity":{"gte":7},"type":{"eq":["a","b"]}}}`,
		`{"criterion":{"service.additionalInfo.unusual.port":{"equals":["22"],"greaterThan":1}}}`,
		`{"criterion":{"region":{"matches":["us-*-?"],"notMatches":["*"]}}}`,
		`{"criterion":{"updatedAt":{"equals":["2026-03-01T12:00:00Z"],"lessThan":-1}}}`,
		`{"criterion":{"resource.instanceDetails.tags.key":{"notEquals":[""]}}}`,
		`{"criterion":{"service.archived":{"equals":["TRUE"]}}}`,
		`{"criterion":{}}`, `{}`, `null`,
	} {
		f.Add(s)
	}
	fd := sample()
	rng := rand.New(rand.NewPCG(1, 1))
	fs := []*finding.Finding{fd, criteriatest.Finding(rng, 1), criteriatest.Finding(rng, 2), {}}
	f.Fuzz(func(t *testing.T, in string) {
		var c Criteria
		if json.Unmarshal([]byte(in), &c) != nil {
			return
		}
		before := make([]bool, len(fs))
		for i, x := range fs {
			before[i] = c.Match(x)
		}
		if err := c.Validate(true); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T", err)
			}
			return
		}
		for i, x := range fs {
			if got := c.Match(x); got != before[i] {
				t.Fatalf("Match changed by Validate on finding %d", i)
			}
		}
	})
}
