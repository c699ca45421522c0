package intel

import (
	"fmt"
	"strings"
)

// Category classifies what a list's entries are. It drives which finding
// type a match produces and which match wins when an address or domain is on
// several lists.
type Category string

// Categories, in precedence order (see [Categories]).
const (
	Trusted   Category = "trusted"    // a trusted list: suppresses findings (GuardDuty IPSet semantics)
	C2        Category = "c2"         // command-and-control servers
	DropPoint Category = "drop-point" // exfiltration drop points, credential collectors
	Phishing  Category = "phishing"   // phishing sites
	Malware   Category = "malware"    // malware distribution or malware-associated hosts
	Mining    Category = "mining"     // cryptocurrency mining pools and browser miners
	Blackhole Category = "blackhole"  // sinkholed / black-holed networks
	TorExit   Category = "tor-exit"   // Tor exit nodes
	TorRelay  Category = "tor-relay"  // Tor relays (any role)
	Scanner   Category = "scanner"    // scanners, brute-forcers
	Malicious Category = "malicious"  // generic "bad" reputation feeds
	Custom    Category = "custom"     // a user's own threat list (GuardDuty ThreatIntelSet)
)

// categories is the precedence order: a lower index wins. Trusted comes
// first so that, as in GuardDuty, an address on both a trusted and a threat
// list is reported as trusted and produces no finding. Among threat
// categories the more specific and more severe purpose wins: a C2 server
// that is also a Tor relay is reported as C2; the generic "malicious" and
// "custom" categories lose to anything more telling.
var categories = [...]Category{
	Trusted, C2, DropPoint, Phishing, Malware, Mining, Blackhole,
	TorExit, TorRelay, Scanner, Malicious, Custom,
}

// Categories returns every valid category in precedence order, winner first.
func Categories() []Category {
	out := make([]Category, len(categories))
	copy(out, categories[:])
	return out
}

// rank returns c's precedence (lower wins) and whether c is valid.
func (c Category) rank() (int, bool) {
	for i, k := range categories {
		if k == c {
			return i, true
		}
	}
	return len(categories), false
}

// Valid reports whether c is one of the defined categories.
func (c Category) Valid() bool {
	_, ok := c.rank()
	return ok
}

// ParseCategory parses a category name (case-insensitive, surrounding space
// ignored). An unknown name is an error listing the allowed ones.
func ParseCategory(s string) (Category, error) {
	c := Category(strings.ToLower(strings.TrimSpace(s)))
	if c.Valid() {
		return c, nil
	}
	names := make([]string, len(categories))
	for i, k := range categories {
		names[i] = string(k)
	}
	return "", fmt.Errorf("unknown category %q (allowed: %s)", s, strings.Join(names, ", "))
}
