package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"
)

type awsPrefix struct {
	Prefix  netip.Prefix
	Region  string
	Service string
}

// ipRanges is the excerpt of AWS's ip-ranges.json the demo ships: it covers
// the estate's public addresses, the NAT gateway, the CI runner and the
// "inside AWS" attacker, and the service endpoints the instances talk to.
var ipRanges = []awsPrefix{
	{netip.MustParsePrefix("3.5.0.0/19"), "us-east-1", "AMAZON"},
	{netip.MustParsePrefix("3.5.0.0/19"), "us-east-1", "S3"},
	{netip.MustParsePrefix("3.80.0.0/12"), "us-east-1", "AMAZON"},
	{netip.MustParsePrefix("3.80.0.0/12"), "us-east-1", "EC2"},
	{netip.MustParsePrefix("13.32.0.0/15"), "GLOBAL", "AMAZON"},
	{netip.MustParsePrefix("13.32.0.0/15"), "GLOBAL", "CLOUDFRONT"},
	{netip.MustParsePrefix("18.204.0.0/14"), "us-east-1", "AMAZON"},
	{netip.MustParsePrefix("18.204.0.0/14"), "us-east-1", "EC2"},
	{netip.MustParsePrefix("34.224.0.0/12"), "us-east-1", "AMAZON"},
	{netip.MustParsePrefix("34.224.0.0/12"), "us-east-1", "EC2"},
	{netip.MustParsePrefix("44.192.0.0/11"), "us-east-1", "AMAZON"},
	{netip.MustParsePrefix("44.192.0.0/11"), "us-east-1", "EC2"},
	{netip.MustParsePrefix("52.20.0.0/14"), "us-east-1", "AMAZON"},
	{netip.MustParsePrefix("52.20.0.0/14"), "us-east-1", "EC2"},
	{netip.MustParsePrefix("52.94.0.0/22"), "us-east-1", "AMAZON"},
	{netip.MustParsePrefix("52.216.0.0/15"), "us-east-1", "AMAZON"},
	{netip.MustParsePrefix("52.216.0.0/15"), "us-east-1", "S3"},
	{netip.MustParsePrefix("54.144.0.0/14"), "us-east-1", "AMAZON"},
	{netip.MustParsePrefix("54.144.0.0/14"), "us-east-1", "EC2"},
	{netip.MustParsePrefix("2600:1f18::/33"), "us-east-1", "AMAZON"},
	{netip.MustParsePrefix("2600:1f18::/33"), "us-east-1", "EC2"},
	{netip.MustParsePrefix("2600:1fa0:8000::/39"), "us-east-1", "AMAZON"},
	{netip.MustParsePrefix("2600:1fa0:8000::/39"), "us-east-1", "S3"},
}

func ipRangesJSON(start time.Time) []byte {
	var b bytes.Buffer
	created := start.Add(-26*time.Hour - 17*time.Minute)
	fmt.Fprintf(&b, "{\n  \"syncToken\": \"%d\",\n  \"createDate\": \"%s\",\n  \"prefixes\": [", created.Unix(), created.Format("2006-01-02-15-04-05"))
	first := true
	for _, p := range ipRanges {
		if !p.Prefix.Addr().Is4() {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, "\n    {\n      \"ip_prefix\": \"%s\",\n      \"region\": \"%s\",\n      \"service\": \"%s\",\n      \"network_border_group\": \"%s\"\n    }",
			p.Prefix, p.Region, p.Service, p.Region)
	}
	b.WriteString("\n  ],\n  \"ipv6_prefixes\": [")
	first = true
	for _, p := range ipRanges {
		if p.Prefix.Addr().Is4() {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, "\n    {\n      \"ipv6_prefix\": \"%s\",\n      \"region\": \"%s\",\n      \"service\": \"%s\",\n      \"network_border_group\": \"%s\"\n    }",
			p.Prefix, p.Region, p.Service, p.Region)
	}
	b.WriteString("\n  ]\n}\n")
	return b.Bytes()
}

const configYAML = `sources:
  - {path: logs}
intel:
  - {name: tor-exit-addresses, category: tor-exit, format: tor, path: lists/tor-exit-addresses}
  - {name: tor-relays, category: tor-relay, format: txt, path: lists/tor-relays.txt}
  - {name: mining-pools, category: mining, format: txt, path: lists/mining.txt}
  - {name: c2-feed, category: c2, format: csv, column: indicator, path: lists/c2.csv}
  - {name: my-threat-list, category: custom, format: txt, path: lists/custom-threats.txt}
  - {name: known-scanners, category: scanner, format: stix2, path: lists/scanners.stix.json}
trusted:
  - {name: office, format: txt, path: lists/office.txt}
inventory: inventory/describe-instances.json
aws_ip_ranges: ip-ranges.json
store: {path: data/vigil.db}
listen: 127.0.0.1:8080
`

func hexString(r *rand.Rand, n int, upper bool) string {
	const lo, up = "0123456789abcdef", "0123456789ABCDEF"
	digits := lo
	if upper {
		digits = up
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.IntN(16)]
	}
	return string(b)
}

func alnum(r *rand.Rand, n int, set string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = set[r.IntN(len(set))]
	}
	return string(b)
}

func uuid(r *rand.Rand) string {
	h := hexString(r, 32, false)
	v := "89ab"[r.IntN(4)]
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-" + string(v) + h[17:20] + "-" + h[20:32]
}

// torExitList writes the Tor Project's exit-addresses format.
func torExitList(r *rand.Rand, start time.Time) []byte {
	var b strings.Builder
	for i := range 5 {
		ip := netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + i)})
		last := start.Add(-time.Duration(1+r.IntN(3)) * time.Hour).Truncate(time.Hour)
		pub := last.Add(-time.Duration(1+r.IntN(18))*time.Hour - time.Duration(r.IntN(3600))*time.Second)
		seen := last.Add(time.Duration(r.IntN(3000)) * time.Second)
		fmt.Fprintf(&b, "ExitNode %s\nPublished %s\nLastStatus %s\nExitAddress %s %s\n",
			hexString(r, 40, true), pub.Format(time.DateTime), last.Format(time.DateTime), ip, seen.Format(time.DateTime))
	}
	return []byte(b.String())
}

func torRelayList(start time.Time) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Tor relays (ORPort addresses) from the consensus of %s\n", start.Add(-time.Hour).Truncate(time.Hour).Format("2006-01-02 15:04:05 UTC"))
	b.WriteString("# one address per line\n")
	for i := range numTorRelays {
		b.WriteString(torRelay(i).String())
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// Mining-pool domains (listed as the registrable domain; pools resolve as
// subdomains) and IPs.
var miningDomains = []string{"supportxmr.com", "nanopool.org", "minexmr.com", "moneroocean.stream", "2miners.com", "f2pool.com", "herominers.com"}

func miningList() []byte {
	var b strings.Builder
	b.WriteString("# cryptocurrency mining pools\n")
	for _, d := range miningDomains {
		b.WriteString(d + "\n")
	}
	b.WriteString(miningIP1.String() + "\n" + miningIP2.String() + "\n")
	return []byte(b.String())
}

func c2List() []byte {
	return []byte("indicator,type,threat\n" +
		c2IP.String() + ",ip,Cobalt Strike team server\n" +
		"198.51.100.67,ip,Sliver C2\n" +
		"guarddutyc2activityb.com,domain,GuardDuty C&C test domain\n" +
		"198.51.100.68,ip,Mythic C2\n")
}

func customThreats() []byte {
	return []byte("# IPs our SOC has seen attacking us\n" +
		customCIIP.String() + "\n" +
		customWebIP.String() + "\n" +
		officeIP.String() + "\n" +
		"198.51.100.128/29\n")
}

func officeList() []byte {
	return []byte("# office egress (NAT pool)\n203.0.113.8/29\n")
}

type stixBundle struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Objects []any  `json:"objects"`
}

type stixIdentity struct {
	Type          string `json:"type"`
	SpecVersion   string `json:"spec_version"`
	ID            string `json:"id"`
	Created       string `json:"created"`
	Modified      string `json:"modified"`
	Name          string `json:"name"`
	IdentityClass string `json:"identity_class"`
}

type stixIndicator struct {
	Type           string   `json:"type"`
	SpecVersion    string   `json:"spec_version"`
	ID             string   `json:"id"`
	CreatedByRef   string   `json:"created_by_ref"`
	Created        string   `json:"created"`
	Modified       string   `json:"modified"`
	Name           string   `json:"name"`
	Description    string   `json:"description"`
	IndicatorTypes []string `json:"indicator_types"`
	Pattern        string   `json:"pattern"`
	PatternType    string   `json:"pattern_type"`
	ValidFrom      string   `json:"valid_from"`
	Labels         []string `json:"labels"`
}

var scanners = []netip.Addr{scannerSSH, scannerES, scannerEMR, scannerWeb, scannerRejected, addr("198.51.100.28"), addr("198.51.100.29")}

func stixList(r *rand.Rand, start time.Time) []byte {
	const ts = "2006-01-02T15:04:05.000Z"
	created := start.Add(-9 * 24 * time.Hour).Truncate(time.Second)
	ident := stixIdentity{Type: "identity", SpecVersion: "2.1", ID: "identity--" + uuid(r),
		Created: created.Format(ts), Modified: created.Format(ts), Name: "Example Scanner Feed", IdentityClass: "organization"}
	bundle := stixBundle{Type: "bundle", ID: "bundle--" + uuid(r), Objects: []any{ident}}
	for i, ip := range scanners {
		c := created.Add(time.Duration(i*37+r.IntN(30)) * time.Hour)
		bundle.Objects = append(bundle.Objects, stixIndicator{
			Type: "indicator", SpecVersion: "2.1", ID: "indicator--" + uuid(r), CreatedByRef: ident.ID,
			Created: c.Format(ts), Modified: c.Format(ts),
			Name:           "Mass internet scanner " + ip.String(),
			Description:    "Host observed scanning the IPv4 internet for exposed services (SSH, Elasticsearch, Hadoop YARN).",
			IndicatorTypes: []string{"malicious-activity"},
			Pattern:        "[ipv4-addr:value = '" + ip.String() + "']",
			PatternType:    "stix",
			ValidFrom:      c.Format(ts),
			Labels:         []string{"scanner"},
		})
	}
	out, _ := json.MarshalIndent(bundle, "", "    ")
	return append(out, '\n')
}
