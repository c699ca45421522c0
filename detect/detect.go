// Package detect turns events into GuardDuty-shaped findings.
//
// A [Detector] observes events one at a time, in the order they are read
// (event time within a file), and emits finding occurrences: a
// [finding.Finding] with count 1 whose id is the deterministic hash of its
// type and aggregation key. The caller aggregates occurrences by id
// ([finding.Aggregator] or the store). Detectors never read the wall clock:
// every time in a finding is an event time, so replaying old logs reproduces
// old timestamps and the same ids.
//
// Detectors share an [Env] of read-only lookups: threat lists, trusted lists,
// the instance inventory and AWS's address ranges. Any of them may be absent.
//
// The first set, by source:
//
//   - VPC Flow Logs ([Network]): Backdoor:EC2/C&CActivity.B,
//     CryptoCurrency:EC2/BitcoinTool.B, Recon:EC2/PortProbeUnprotectedPort,
//     Recon:EC2/PortProbeEMRUnprotectedPort, UnauthorizedAccess:EC2/TorClient,
//     UnauthorizedAccess:EC2/TorRelay, UnauthorizedAccess:EC2/MaliciousIPCaller.Custom,
//     Trojan:EC2/BlackholeTraffic, Trojan:EC2/DropPoint.
//   - Route 53 query logs ([DNS]): the !DNS threat-list types and
//     Impact:EC2/MaliciousDomainRequest.Custom.
//   - CloudTrail ([API]): the IAMUser Tor and custom-list caller types,
//     InstanceCredentialExfiltration.InsideAWS and .OutsideAWS,
//     Policy:IAMUser/RootCredentialUsage and Stealth:IAMUser/CloudTrailLoggingDisabled.
//
// docs/detections.md describes each type: trigger, defaults, severity, known
// false positives and how to suppress it.
package detect

import (
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil/awsranges"
	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/finding"
	"github.com/vigilsec/vigil/intel"
	"github.com/vigilsec/vigil/inventory"
)

// Detector observes events and emits finding occurrences.
//
// Observe is called for every event, one goroutine at a time. ev and
// everything it references are valid only during the call: a detector that
// keeps a value copies it. emit may be called any number of times; the
// finding passed to it is copied by the callee and may be reused.
type Detector interface {
	Name() string
	Observe(ev *event.Event, emit func(*finding.Finding))
}

// Stateful is a detector whose learned state must survive restarts. The
// state is saved together with file positions and findings, so that a
// restart resumes exactly where the last commit left off.
type Stateful interface {
	Detector
	Snapshot() ([]byte, error)
	Restore([]byte) error
}

// Env holds the lookups detectors share. Any field may be nil.
type Env struct {
	Intel     *intel.Set
	Trusted   *intel.Set
	Inventory *inventory.Inventory
	Ranges    *awsranges.Ranges

	// Account and Region are defaults for records that do not carry them
	// (VPC flow v2 has no region): set per file from its S3 key when known.
	Account string
	Region  string

	// Disabled finding types, or prefixes ending in "*".
	Disabled []string

	// accountLists holds lists that apply to one account only (managed
	// through the GuardDuty API), swapped whole by SetAccountLists.
	accountLists atomic.Pointer[map[string]Lists]
}

// Lists are a threat list set and a trusted list set for one account.
type Lists struct {
	Intel   *intel.Set
	Trusted *intel.Set
}

// SetAccountLists replaces the per-account lists. It is safe to call while
// detectors run: each look-up sees either the old or the new lists.
func (e *Env) SetAccountLists(m map[string]Lists) {
	e.accountLists.Store(&m)
}

func (e *Env) listsOf(account string) (Lists, bool) {
	m := e.accountLists.Load()
	if m == nil {
		return Lists{}, false
	}
	l, ok := (*m)[account]
	return l, ok
}

// DefaultRegion is used when neither the record, the inventory nor the file
// path names a region.
const DefaultRegion = "us-east-1"

func (e *Env) region(r string) string {
	switch {
	case r != "":
		return r
	case e.Region != "":
		return e.Region
	}
	return DefaultRegion
}

// Enabled reports whether findings of type typ are reported.
func (e *Env) Enabled(typ string) bool {
	for _, d := range e.Disabled {
		if d == typ || (strings.HasSuffix(d, "*") && strings.HasPrefix(typ, d[:len(d)-1])) {
			return false
		}
	}
	return true
}

// threatIP looks a up in the config's threat lists, then in the account's
// own (a user's custom lists, which lose to any configured category).
func (e *Env) threatIP(account string, a netip.Addr) (intel.Match, bool) {
	if e.Intel != nil {
		if m, ok := e.Intel.LookupIP(a); ok {
			return m, true
		}
	}
	if l, ok := e.listsOf(account); ok && l.Intel != nil {
		return l.Intel.LookupIP(a)
	}
	return intel.Match{}, false
}

func (e *Env) threatDomain(account, d string) (intel.Match, bool) {
	if e.Intel != nil {
		if m, ok := e.Intel.LookupDomain(d); ok {
			return m, true
		}
	}
	if l, ok := e.listsOf(account); ok && l.Intel != nil {
		return l.Intel.LookupDomain(d)
	}
	return intel.Match{}, false
}

// trustedIP reports whether a is on a trusted list of the config or of the
// account.
func (e *Env) trustedIP(account string, a netip.Addr) bool {
	if e.Trusted != nil && e.Trusted.ContainsIP(a) {
		return true
	}
	if l, ok := e.listsOf(account); ok && l.Trusted != nil {
		return l.Trusted.ContainsIP(a)
	}
	return false
}

func (e *Env) trustedDomain(account, d string) bool {
	if e.Trusted != nil {
		if _, ok := e.Trusted.LookupDomain(d); ok {
			return true
		}
	}
	if l, ok := e.listsOf(account); ok && l.Trusted != nil {
		_, found := l.Trusted.LookupDomain(d)
		return found
	}
	return false
}

func (e *Env) inAWS(a netip.Addr) (awsranges.Range, bool) {
	if e.Ranges == nil {
		return awsranges.Range{}, false
	}
	return e.Ranges.Lookup(a)
}

// public reports whether a is a publicly routable unicast address: threat
// lists apply only to those, as in GuardDuty.
func public(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	if a.Is4() {
		b := a.As4()
		switch {
		case b[0] == 100 && b[1]&0xc0 == 64: // 100.64.0.0/10 carrier-grade NAT
			return false
		case b[0] == 169 && b[1] == 254:
			return false
		case b[0] == 0:
			return false
		}
	}
	return true
}

// occurrence starts a finding of type typ with count 1 at event time t. key
// is the aggregation key after the account and region: the resource and the
// type's discriminating parameters.
func (e *Env) occurrence(typ string, severity float64, account, region string, t time.Time, key ...string) *finding.Finding {
	region = e.region(region)
	id := finding.ID(typ, append([]string{account, region}, key...)...)
	det := finding.DetectorID(account, region)
	ts := finding.FormatTime(t)
	return &finding.Finding{
		AccountID:     account,
		Arn:           finding.ARN("aws", region, account, det, id),
		CreatedAt:     ts,
		ID:            id,
		Partition:     "aws",
		Region:        region,
		SchemaVersion: "2.0",
		Severity:      severity,
		Type:          typ,
		UpdatedAt:     ts,
		Service: finding.Service{
			Count:          1,
			DetectorID:     det,
			EventFirstSeen: ts,
			EventLastSeen:  ts,
			ServiceName:    "guardduty",
		},
	}
}

// Severities GuardDuty uses for its bands.
const (
	SevLow    = 2.0
	SevMedium = 5.0
	SevHigh   = 8.0
)

// remoteIP builds remoteIpDetails for a. Without a GeoIP database the only
// enrichment is the owning organisation when a is in AWS's ranges.
func (e *Env) remoteIP(a netip.Addr) *finding.RemoteIPDetails {
	a = a.Unmap()
	d := &finding.RemoteIPDetails{}
	if a.Is4() {
		d.IPAddressV4 = a.String()
	} else {
		d.IPAddressV6 = a.String()
	}
	if r, ok := e.inAWS(a); ok {
		d.Organization = &finding.Organization{Asn: "16509", AsnOrg: "AMAZON-02", Isp: "Amazon.com", Org: "Amazon.com"}
		_ = r
	}
	return d
}

func localIP(a netip.Addr) *finding.LocalIPDetails {
	a = a.Unmap()
	if a.Is4() {
		return &finding.LocalIPDetails{IPAddressV4: a.String()}
	}
	return &finding.LocalIPDetails{IPAddressV6: a.String()}
}

// threatEvidence returns the evidence block and additionalInfo for a match.
func threatEvidence(m intel.Match) (*finding.Evidence, *finding.AdditionalInfo) {
	d := finding.ThreatIntelligenceDetail{ThreatListName: m.List}
	if m.ThreatName != "" {
		d.ThreatNames = []string{m.ThreatName}
	}
	info := `{"threatListName":` + quote(m.List)
	if m.ThreatName != "" {
		info += `,"threatName":` + quote(m.ThreatName)
	}
	info += "}"
	return &finding.Evidence{ThreatIntelligenceDetails: []finding.ThreatIntelligenceDetail{d}},
		&finding.AdditionalInfo{Value: info, Type: "default"}
}

// quote writes s as a JSON string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r < 0x20:
			const hex = "0123456789abcdef"
			b.WriteString(`\u00`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// All returns the detectors of the first set, configured from opts.
func All(env *Env, opts Options) []Detector {
	ds := []Detector{NewNetwork(env, opts), NewDNS(env), NewAPI(env)}
	for _, mk := range moreDetectors {
		ds = append(ds, mk(env, opts))
	}
	return ds
}

// moreDetectors lets detectors in other files of the package join All
// (registered from init, in a fixed order).
var moreDetectors []func(*Env, Options) Detector

// Options tunes the detectors. Zero values mean the defaults.
type Options struct {
	// ProbeIgnoredPorts are never reported by the port-probe detectors (default 80, 443).
	ProbeIgnoredPorts []int
	// EMRPorts make a probe an EMR finding (default DefaultEMRPorts).
	EMRPorts []int
	// TorRelayMinPeers distinct inbound Tor relays make an instance a relay (default 3).
	TorRelayMinPeers int
}
