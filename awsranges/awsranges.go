// Package awsranges loads AWS's published IP address ranges (the
// ip-ranges.json document at https://ip-ranges.amazonaws.com/ip-ranges.json)
// and tells which AWS service and region an address belongs to, so that
// detectors can tell AWS infrastructure from the rest of the Internet.
//
// Lookups are longest-prefix matches in a bart routing table: they neither
// allocate nor scan, and a loaded [Ranges] is immutable and safe for
// concurrent use.
package awsranges

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gaissmai/bart"
)

// ServiceAmazon is the catch-all service AWS lists for every range it owns;
// a more specific service listed for the same prefix is preferred.
const ServiceAmazon = "AMAZON"

// createDateLayout is the layout of ip-ranges.json's createDate.
const createDateLayout = "2006-01-02-15-04-05"

// maxErrors bounds how many bad entries one Load error reports.
const maxErrors = 10

// Range is one published prefix.
type Range struct {
	Prefix             netip.Prefix
	Region             string // e.g. us-east-1, or GLOBAL
	Service            string // e.g. EC2, S3, AMAZON
	NetworkBorderGroup string // e.g. us-east-1-wl1-bos-wlz-1; may be empty
}

// Ranges is a loaded ip-ranges.json document.
type Ranges struct {
	SyncToken  string
	CreateDate time.Time // UTC

	t *bart.Table[uint32] // prefix -> group
	// Group g is ranges[off[g]:off[g+1]]: every entry of one prefix,
	// preferred first.
	ranges []Range
	off    []uint32
}

type document struct {
	SyncToken  string `json:"syncToken"`
	CreateDate string `json:"createDate"`
	Prefixes   []struct {
		IPPrefix           string `json:"ip_prefix"`
		Region             string `json:"region"`
		Service            string `json:"service"`
		NetworkBorderGroup string `json:"network_border_group"`
	} `json:"prefixes"`
	IPv6Prefixes []struct {
		IPv6Prefix         string `json:"ipv6_prefix"`
		Region             string `json:"region"`
		Service            string `json:"service"`
		NetworkBorderGroup string `json:"network_border_group"`
	} `json:"ipv6_prefixes"`
}

// LoadFile loads an ip-ranges.json file.
func LoadFile(path string) (*Ranges, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loading AWS ranges: %w", err)
	}
	defer f.Close()
	r, err := Load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Load parses an ip-ranges.json document. Every bad entry is reported, up
// to ten, by list, index and field (e.g. "prefixes[3].ip_prefix"); a
// document with any bad entry is rejected as a whole, since a half-loaded
// range list would silently misclassify addresses.
func Load(r io.Reader) (*Ranges, error) {
	var doc document
	dec := json.NewDecoder(r)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decoding AWS ranges JSON: %w", err)
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	out := &Ranges{SyncToken: doc.SyncToken, t: new(bart.Table[uint32])}
	if doc.CreateDate != "" {
		t, err := time.Parse(createDateLayout, doc.CreateDate)
		if err != nil {
			bad("createDate %q: want YYYY-MM-DD-hh-mm-ss", doc.CreateDate)
		}
		out.CreateDate = t.UTC()
	}
	if len(doc.Prefixes)+len(doc.IPv6Prefixes) == 0 {
		bad("no prefixes and no ipv6_prefixes")
	}
	all := make([]Range, 0, len(doc.Prefixes)+len(doc.IPv6Prefixes))
	check := func(list string, i int, field, pfx, region, service, nbg string, v6 bool) {
		p, err := netip.ParsePrefix(pfx)
		switch {
		case err != nil:
			bad("%s[%d].%s %q: %w", list, i, field, pfx, err)
			return
		case p.Addr().Is6() != v6 || p.Addr().Is4In6():
			bad("%s[%d].%s %q: wrong address family for %s", list, i, field, pfx, list)
			return
		case p != p.Masked():
			bad("%s[%d].%s %q: host bits set (want %s)", list, i, field, pfx, p.Masked())
			return
		case strings.TrimSpace(region) == "":
			bad("%s[%d].region: missing", list, i)
			return
		case strings.TrimSpace(service) == "":
			bad("%s[%d].service: missing", list, i)
			return
		}
		all = append(all, Range{Prefix: p, Region: region, Service: service, NetworkBorderGroup: nbg})
	}
	for i, e := range doc.Prefixes {
		check("prefixes", i, "ip_prefix", e.IPPrefix, e.Region, e.Service, e.NetworkBorderGroup, false)
	}
	for i, e := range doc.IPv6Prefixes {
		check("ipv6_prefixes", i, "ipv6_prefix", e.IPv6Prefix, e.Region, e.Service, e.NetworkBorderGroup, true)
	}
	if len(errs) > 0 {
		n := len(errs)
		if n > maxErrors {
			errs = append(errs[:maxErrors], fmt.Errorf("and %d more bad entries", n-maxErrors))
		}
		return nil, fmt.Errorf("loading AWS ranges: %d bad entries: %w", n, errors.Join(errs...))
	}

	// Group by prefix; within a prefix a specific service comes before
	// AMAZON, then services, regions and border groups sort by name.
	slices.SortFunc(all, func(x, y Range) int {
		return cmp.Or(
			x.Prefix.Addr().Compare(y.Prefix.Addr()),
			cmp.Compare(x.Prefix.Bits(), y.Prefix.Bits()),
			cmp.Compare(boolInt(x.Service == ServiceAmazon), boolInt(y.Service == ServiceAmazon)),
			strings.Compare(x.Service, y.Service),
			strings.Compare(x.Region, y.Region),
			strings.Compare(x.NetworkBorderGroup, y.NetworkBorderGroup))
	})
	all = slices.Compact(all)
	out.ranges = all
	out.off = []uint32{0}
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].Prefix == all[i].Prefix {
			j++
		}
		out.t.Insert(all[i].Prefix, uint32(len(out.off)-1))
		out.off = append(out.off, uint32(j))
		i = j
	}
	return out, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *Ranges) lookup(a netip.Addr) (uint32, bool) {
	if r == nil || r.t == nil || !a.IsValid() {
		return 0, false
	}
	if a.Is4In6() {
		a = a.Unmap()
	}
	return r.t.Lookup(a)
}

// Lookup returns the range of the most specific published prefix holding a
// (IPv4-mapped IPv6 addresses are unmapped first). When several services
// share that prefix, a specific service (EC2, S3, ...) is preferred over
// AMAZON, then the first by service and region name. It does not allocate.
func (r *Ranges) Lookup(a netip.Addr) (Range, bool) {
	g, ok := r.lookup(a)
	if !ok {
		return Range{}, false
	}
	return r.ranges[r.off[g]], true
}

// LookupAll appends to dst every entry of the most specific published
// prefix holding a (one per service, region and border group), preferred
// first.
func (r *Ranges) LookupAll(a netip.Addr, dst []Range) []Range {
	g, ok := r.lookup(a)
	if !ok {
		return dst
	}
	return append(dst, r.ranges[r.off[g]:r.off[g+1]]...)
}

// Contains reports whether a is in any published AWS range.
func (r *Ranges) Contains(a netip.Addr) bool {
	_, ok := r.lookup(a)
	return ok
}

// Len returns the number of distinct prefixes.
func (r *Ranges) Len() int {
	if r == nil {
		return 0
	}
	return len(r.off) - 1
}
