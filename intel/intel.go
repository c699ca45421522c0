// Package intel loads threat intelligence lists of IP addresses, CIDR
// prefixes and domains, and answers "is this address or domain listed, and
// by which list?" fast enough for every flow and DNS record.
//
// A list has a name, a [Category] and a format (see [Formats]): plain text
// (one IP, CIDR or domain per line, hosts files, IPsum-style scored lines),
// the Tor Project's exit-addresses, CSV, STIX 2.1 bundles, AlienVault OTX CSV
// exports, Adblock filter lists (domain rules only), the AlienVault
// reputation feed, Proofpoint Emerging Threats reputation CSV and FireEye
// iSIGHT CSV exports. [FormatFromGuardDuty] maps GuardDuty's format enums
// (TXT, STIX, OTX_CSV, ALIEN_VAULT, PROOF_POINT, FIRE_EYE) onto these, and
// [Open] reads a list from a path, a file:// URL or an http(s) URL. A
// [Builder] parses lists and [Builder.Build] freezes them into a [Set]: an
// immutable value, safe for concurrent lookups, to be swapped in atomically
// when lists change.
//
// Addresses are matched by longest prefix in a bart routing table; domains
// match themselves and all their subdomains through a hash map, guarded by a
// Bloom filter, probed once per label suffix of the query. Neither lookup
// allocates nor scans.
//
// When an entry is on several lists every list is kept ([Set.LookupIPAll],
// [Set.LookupDomainAll]); [Set.LookupIP] and [Set.LookupDomain] return one
// deterministic winner: the match whose category comes first in
// [Categories] (trusted, then c2, drop-point, phishing, malware, mining,
// blackhole, tor-exit, tor-relay, scanner, malicious, custom), then the list
// added first, then the first threat name. All lists covering an address
// compete, not only those of its most specific prefix: 10.0.0.0/8 on a C2
// list beats 10.1.2.3/32 on a scanner list.
package intel

import (
	"errors"
	"fmt"
	"strings"
)

// Formats lists the list formats [Builder.AddList] understands.
var Formats = []string{FormatTXT, FormatTor, FormatCSV, FormatSTIX2, FormatOTXCSV, FormatAdblock, FormatAlienVault, FormatProofpoint, FormatFireEye}

// List formats.
const (
	FormatTXT     = "txt"     // one IP, CIDR, domain or URL per line; hosts files; "IP<TAB>score"
	FormatTor     = "tor"     // Tor Project exit-addresses (ExitAddress lines)
	FormatCSV     = "csv"     // one column of a CSV file (ListSpec.Column)
	FormatSTIX2   = "stix2"   // STIX 2.1 bundle: indicator patterns on ipv4/ipv6/domain/url
	FormatOTXCSV  = "otx-csv" // AlienVault OTX CSV export (Indicator type, Indicator, Description)
	FormatAdblock = "adblock" // Adblock Plus filters: only "||domain^" rules are used

	FormatAlienVault = "alienvault" // AlienVault reputation feed: ip#reliability#risk#activity#... (GuardDuty ALIEN_VAULT)
	FormatProofpoint = "proofpoint" // Proofpoint ET reputation CSV: ip|domain,category,score (GuardDuty PROOF_POINT)
	FormatFireEye    = "fireeye"    // FireEye iSIGHT CSV export with a header row (GuardDuty FIRE_EYE)
)

// MaxErrors is how many per-entry errors [LoadStats.Errors] keeps; the rest
// are only counted in [LoadStats.Invalid].
const MaxErrors = 20

// ListSpec describes one list to load.
type ListSpec struct {
	Name     string   // unique list name, reported as threatListName
	Category Category // what the entries are
	Format   string   // one of Formats; "" means txt
	Path     string   // file to read (LoadFile); also names the source in errors

	// CSV options (format csv).
	Column       string // column holding the indicator: 0-based index or header name; "" means 0
	ThreatColumn string // optional column holding a threat name: index or header name
	Header       bool   // the first record is a header (implied when a column is named)
	Comment      string // lines starting with this character are comments; "" means '#'
	Comma        string // field separator; "" means ','
}

// source names the list's origin in errors.
func (s ListSpec) source() string {
	if s.Path != "" {
		return s.Path
	}
	return s.Name
}

// Match is what a lookup returns: which list matched and why.
type Match struct {
	List       string   // list name
	Category   Category // list category
	ThreatName string   // per-entry threat name when the format has one (STIX, OTX, CSV), else ""
}

// LoadStats reports what loading one list did.
type LoadStats struct {
	Entries int     // indicators loaded (an IP, prefix or domain each)
	Skipped int     // lines or objects deliberately ignored (placeholders, non-network patterns, path rules)
	Invalid int     // entries that parsed as nothing usable
	Errors  []error // the first MaxErrors invalid entries, each an *EntryError
	SHA256  string  // hex SHA-256 of the list's bytes (GuardDuty's threatFileSha256)
}

func (st *LoadStats) addErr(e *EntryError) {
	st.Invalid++
	if len(st.Errors) < MaxErrors {
		st.Errors = append(st.Errors, e)
	}
}

// EntryError is one invalid entry of a list.
type EntryError struct {
	File  string // list source (path or name)
	Line  int    // 1-based line, 0 when the format has no lines (STIX)
	Field string // location inside a structured document, e.g. objects[3].pattern
	Value string // the offending text, truncated
	Err   error
}

func (e *EntryError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	if e.Value != "" {
		fmt.Fprintf(&b, ": %q", e.Value)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *EntryError) Unwrap() error { return e.Err }

// Sentinel causes of EntryErrors.
var (
	ErrNotIndicator = errors.New("not an IP address, CIDR prefix, domain or URL")
	ErrPublicSuffix = errors.New("domain is a public suffix (would match a whole TLD)")
	ErrPrefixTooBig = errors.New("prefix too short (IPv4 below /8 or IPv6 below /16 would match too much)")
)

func truncate(s string) string {
	const max = 120
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
