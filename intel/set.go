package intel

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/gaissmai/bart"
)

// ListInfo describes one list of a Set.
type ListInfo struct {
	Name     string
	Category Category
	Format   string
	Path     string
	Entries  int    // indicators loaded
	SHA256   string // hex SHA-256 of the list's bytes
}

// Builder collects lists and builds a [Set]. It is not safe for concurrent
// use. Build may be called more than once; later AddList calls extend the
// lists for the next Build.
type Builder struct {
	lists   []ListInfo
	byName  map[string]int
	matchID map[Match]uint32
	matches []Match
	mlist   []int // list index of each match
	ips     []ipEntry
	domains []domainEntry
}

type ipEntry struct {
	pfx netip.Prefix
	m   uint32
}

type domainEntry struct {
	name string
	m    uint32
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder { return &Builder{} }

// sink adds the entries of one list to a Builder and keeps its stats.
type sink struct {
	b     *Builder
	list  int
	spec  ListSpec
	stats *LoadStats
	base  uint32            // match id of entries without a threat name
	named map[string]uint32 // cache of threat name -> match id
}

func (s *sink) matchFor(threat string) uint32 {
	if threat == "" {
		return s.base
	}
	if id, ok := s.named[threat]; ok {
		return id
	}
	id := s.b.intern(Match{List: s.spec.Name, Category: s.spec.Category, ThreatName: threat}, s.list)
	if s.named == nil {
		s.named = make(map[string]uint32)
	}
	s.named[threat] = id
	return id
}

// add records one parsed indicator.
func (s *sink) add(ind indicator, threat string) {
	id := s.matchFor(threat)
	if ind.domain != "" {
		s.b.domains = append(s.b.domains, domainEntry{name: ind.domain, m: id})
	} else {
		s.b.ips = append(s.b.ips, ipEntry{pfx: ind.pfx, m: id})
	}
	s.stats.Entries++
}

// addText parses text as an indicator and records it, or records an error
// at line/field.
func (s *sink) addText(text string, threat string, line int, field string) bool {
	ind, err := parseIndicator(text)
	if err != nil {
		s.fail(line, field, text, err)
		return false
	}
	s.add(ind, threat)
	return true
}

func (s *sink) fail(line int, field, value string, err error) {
	s.stats.addErr(&EntryError{File: s.spec.source(), Line: line, Field: field, Value: truncate(value), Err: err})
}

func (b *Builder) intern(m Match, list int) uint32 {
	if id, ok := b.matchID[m]; ok {
		return id
	}
	if b.matchID == nil {
		b.matchID = make(map[Match]uint32)
	}
	id := uint32(len(b.matches))
	b.matches = append(b.matches, m)
	b.mlist = append(b.mlist, list)
	b.matchID[m] = id
	return id
}

// AddList parses one list from r and adds its entries. Invalid entries are
// counted and reported in LoadStats (with file and line) while the rest
// loads; the error is for problems with the list as a whole: a bad spec, an
// unreadable or undecodable document, a missing CSV column, or a list in
// which nothing was valid. When AddList returns an error the Builder is
// unchanged.
func (b *Builder) AddList(spec ListSpec, r io.Reader) (LoadStats, error) {
	var stats LoadStats
	if err := b.checkSpec(&spec); err != nil {
		return stats, err
	}
	parse, ok := parsers[spec.Format]
	if !ok {
		return stats, fmt.Errorf("list %q: unknown format %q (allowed: %s)", spec.Name, spec.Format, strings.Join(Formats, ", "))
	}
	nm, ni, nd, nl := len(b.matches), len(b.ips), len(b.domains), len(b.lists)
	rollback := func() {
		for _, m := range b.matches[nm:] {
			delete(b.matchID, m)
		}
		b.matches, b.mlist = b.matches[:nm], b.mlist[:nm]
		b.ips, b.domains = b.ips[:ni], b.domains[:nd]
		b.lists = b.lists[:nl]
	}
	b.lists = append(b.lists, ListInfo{Name: spec.Name, Category: spec.Category, Format: spec.Format, Path: spec.Path})
	s := &sink{b: b, list: nl, spec: spec, stats: &stats}
	s.base = b.intern(Match{List: spec.Name, Category: spec.Category}, nl)

	h := sha256.New()
	if err := parse(s, io.TeeReader(r, h)); err != nil {
		rollback()
		return stats, fmt.Errorf("loading list %q (%s): %w", spec.Name, spec.source(), err)
	}
	if stats.Entries == 0 && stats.Invalid > 0 {
		rollback()
		return stats, fmt.Errorf("loading list %q (%s): no valid entries in %s format (%d invalid, first: %w)",
			spec.Name, spec.source(), spec.Format, stats.Invalid, stats.Errors[0])
	}
	stats.SHA256 = hex.EncodeToString(h.Sum(nil))
	b.lists[nl].Entries = stats.Entries
	b.lists[nl].SHA256 = stats.SHA256
	if b.byName == nil {
		b.byName = make(map[string]int)
	}
	b.byName[spec.Name] = nl
	return stats, nil
}

func (b *Builder) checkSpec(spec *ListSpec) error {
	if spec.Name == "" {
		return fmt.Errorf("list (%s): name is required", spec.source())
	}
	if _, dup := b.byName[spec.Name]; dup {
		return fmt.Errorf("list %q: duplicate list name", spec.Name)
	}
	c, err := ParseCategory(string(spec.Category))
	if err != nil {
		return fmt.Errorf("list %q: category: %w", spec.Name, err)
	}
	spec.Category = c
	spec.Format = strings.ToLower(strings.TrimSpace(spec.Format))
	if spec.Format == "" {
		spec.Format = FormatTXT
	}
	return nil
}

// LoadFile opens spec.Path and adds it with AddList.
func (b *Builder) LoadFile(spec ListSpec) (LoadStats, error) {
	f, err := os.Open(spec.Path)
	if err != nil {
		return LoadStats{}, fmt.Errorf("loading list %q: %w", spec.Name, err)
	}
	defer f.Close()
	return b.AddList(spec, f)
}

// Set is a frozen collection of lists. It is immutable and safe for
// concurrent use; the zero value and nil match nothing.
type Set struct {
	lists   []ListInfo
	matches []Match
	// groups: every distinct set of match ids that an address or domain
	// resolves to, sorted winner first. Group g is ids[off[g]:off[g+1]].
	off     []uint32
	ids     []uint32
	ipt     *bart.Table[uint32] // prefix -> group (own entries plus covering prefixes')
	domains map[string]uint32   // listed domain -> group (own plus parent domains')
	nips    int
	// bloom filters domain probes: most label suffixes of a query are not
	// listed, and a bit test in a compact array is cheaper than a probe of
	// a large map (two cache misses).
	bloom     []uint64
	bloomMask uint64
	seed      maphash.Seed
}

// bloomBits returns the two bit positions of a name's hash.
func (s *Set) bloomBits(name string) (uint64, uint64) {
	h := maphash.String(s.seed, name)
	return h & s.bloomMask, (h >> 32) & s.bloomMask
}

func (s *Set) bloomAdd(name string) {
	a, b := s.bloomBits(name)
	s.bloom[a>>6] |= 1 << (a & 63)
	s.bloom[b>>6] |= 1 << (b & 63)
}

func (s *Set) mayHaveDomain(name string) bool {
	a, b := s.bloomBits(name)
	return s.bloom[a>>6]&(1<<(a&63)) != 0 && s.bloom[b>>6]&(1<<(b&63)) != 0
}

// groupInterner deduplicates match-id sets into Set groups.
type groupInterner struct {
	s     *Set
	index map[string]uint32
	key   []byte
	less  func(a, b uint32) int
}

func (gi *groupInterner) intern(ids []uint32) uint32 {
	slices.SortFunc(ids, gi.less)
	ids = slices.Compact(ids)
	gi.key = gi.key[:0]
	for _, id := range ids {
		gi.key = binary.LittleEndian.AppendUint32(gi.key, id)
	}
	if g, ok := gi.index[string(gi.key)]; ok {
		return g
	}
	g := uint32(len(gi.s.off) - 1)
	gi.s.ids = append(gi.s.ids, ids...)
	gi.s.off = append(gi.s.off, uint32(len(gi.s.ids)))
	gi.index[string(gi.key)] = g
	return g
}

// Build freezes the lists added so far into a Set.
func (b *Builder) Build() *Set {
	s := &Set{
		lists:   slices.Clone(b.lists),
		matches: slices.Clone(b.matches),
		off:     []uint32{0},
		ipt:     new(bart.Table[uint32]),
		domains: make(map[string]uint32),
	}
	rank := make([]int, len(b.matches))
	for i, m := range b.matches {
		rank[i], _ = m.Category.rank()
	}
	gi := &groupInterner{s: s, index: make(map[string]uint32)}
	gi.less = func(x, y uint32) int {
		return cmp.Or(
			cmp.Compare(rank[x], rank[y]),
			cmp.Compare(b.mlist[x], b.mlist[y]),
			strings.Compare(s.matches[x].ThreatName, s.matches[y].ThreatName),
			cmp.Compare(x, y))
	}
	var scratch []uint32

	// Addresses: sort, group equal prefixes, insert own groups.
	ips := b.ips // sorting in place is harmless: order carries no meaning
	slices.SortFunc(ips, func(x, y ipEntry) int {
		return cmp.Or(x.pfx.Addr().Compare(y.pfx.Addr()), cmp.Compare(x.pfx.Bits(), y.pfx.Bits()))
	})
	var uniq []netip.Prefix
	for i := 0; i < len(ips); {
		j := i
		scratch = scratch[:0]
		for ; j < len(ips) && ips[j].pfx == ips[i].pfx; j++ {
			scratch = append(scratch, ips[j].m)
		}
		s.ipt.Insert(ips[i].pfx, gi.intern(scratch))
		uniq = append(uniq, ips[i].pfx)
		i = j
	}
	s.nips = len(uniq)
	// Fold the matches of covering prefixes into each prefix's group so one
	// longest-prefix lookup sees every list that covers the address.
	type update struct {
		pfx netip.Prefix
		g   uint32
	}
	var updates []update
	for _, p := range uniq {
		scratch = scratch[:0]
		n := 0
		for _, g := range s.ipt.Supernets(p) {
			n++
			scratch = append(scratch, s.ids[s.off[g]:s.off[g+1]]...)
		}
		if n > 1 {
			updates = append(updates, update{p, gi.intern(scratch)})
		}
	}
	for _, u := range updates {
		s.ipt.Insert(u.pfx, u.g)
	}

	// Domains: the same with parent domains.
	doms := b.domains
	slices.SortFunc(doms, func(x, y domainEntry) int { return strings.Compare(x.name, y.name) })
	own := make(map[string]uint32, len(doms))
	var names []string
	for i := 0; i < len(doms); {
		j := i
		scratch = scratch[:0]
		for ; j < len(doms) && doms[j].name == doms[i].name; j++ {
			scratch = append(scratch, doms[j].m)
		}
		own[doms[i].name] = gi.intern(scratch)
		names = append(names, doms[i].name)
		i = j
	}
	// About 16 bits per name: with two hash functions about 1.5% of
	// probes for unlisted names reach the map.
	nbits := uint64(1024)
	for nbits < 16*uint64(len(names)) {
		nbits <<= 1
	}
	s.bloom, s.bloomMask, s.seed = make([]uint64, nbits/64), nbits-1, maphash.MakeSeed()
	for _, name := range names {
		s.bloomAdd(name)
		g := own[name]
		scratch = append(scratch[:0], s.ids[s.off[g]:s.off[g+1]]...)
		parents := false
		for rest := name; ; {
			k := strings.IndexByte(rest, '.')
			if k < 0 {
				break
			}
			rest = rest[k+1:]
			if pg, ok := own[rest]; ok {
				parents = true
				scratch = append(scratch, s.ids[s.off[pg]:s.off[pg+1]]...)
			}
		}
		if parents {
			g = gi.intern(scratch)
		}
		s.domains[name] = g
	}
	return s
}

// Len returns the number of distinct prefixes and domains in the set.
func (s *Set) Len() (ips, domains int) {
	if s == nil {
		return 0, 0
	}
	return s.nips, len(s.domains)
}

// Lists returns the set's lists in the order they were added.
func (s *Set) Lists() []ListInfo {
	if s == nil {
		return nil
	}
	return slices.Clone(s.lists)
}

// List returns the description of the named list.
func (s *Set) List(name string) (ListInfo, bool) {
	if s != nil {
		for _, l := range s.lists {
			if l.Name == name {
				return l, true
			}
		}
	}
	return ListInfo{}, false
}

func (s *Set) group(g uint32) []uint32 { return s.ids[s.off[g]:s.off[g+1]] }

func (s *Set) lookupIPGroup(a netip.Addr) (uint32, bool) {
	if s == nil || s.ipt == nil || !a.IsValid() {
		return 0, false
	}
	if a.Is4In6() {
		a = a.Unmap()
	}
	return s.ipt.Lookup(a)
}

// LookupIP returns the winning match for an address: longest-prefix match
// over all lists, IPv4-mapped IPv6 addresses unmapped first, the winner
// chosen by category precedence among all lists covering the address. It
// does not allocate.
func (s *Set) LookupIP(a netip.Addr) (Match, bool) {
	g, ok := s.lookupIPGroup(a)
	if !ok {
		return Match{}, false
	}
	return s.matches[s.ids[s.off[g]]], true
}

// ContainsIP reports whether any list covers a.
func (s *Set) ContainsIP(a netip.Addr) bool {
	_, ok := s.lookupIPGroup(a)
	return ok
}

// LookupIPAll appends to dst every match of every list covering a, winner
// first, and returns the extended slice. It allocates only to grow dst.
func (s *Set) LookupIPAll(a netip.Addr, dst []Match) []Match {
	g, ok := s.lookupIPGroup(a)
	if !ok {
		return dst
	}
	for _, id := range s.group(g) {
		dst = append(dst, s.matches[id])
	}
	return dst
}

// lookupDomainGroup finds the most specific listed suffix of name by
// probing the map with each label suffix, longest first. Suffixes are
// substrings of the query, or of a lower-cased copy in a stack buffer when
// the query has upper-case letters, so nothing is allocated.
func (s *Set) lookupDomainGroup(name string) (uint32, bool) {
	if s == nil || len(s.domains) == 0 {
		return 0, false
	}
	name = strings.TrimSuffix(name, ".")
	if len(name) > maxDomainLen {
		// No listed domain is longer than 253 bytes: only label suffixes
		// that start inside the last 253 bytes can match.
		tail := name[len(name)-maxDomainLen-1:]
		k := strings.IndexByte(tail, '.')
		if k < 0 {
			return 0, false
		}
		name = tail[k+1:]
	}
	upper := false
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			upper = true
			break
		}
	}
	if !upper {
		for q := name; q != ""; {
			if s.mayHaveDomain(q) {
				if g, ok := s.domains[q]; ok {
					return g, true
				}
			}
			k := strings.IndexByte(q, '.')
			if k < 0 {
				break
			}
			q = q[k+1:]
		}
		return 0, false
	}
	var buf [maxDomainLen]byte
	n := copy(buf[:], name)
	for i := 0; i < n; i++ {
		if c := buf[i]; 'A' <= c && c <= 'Z' {
			buf[i] = c + ('a' - 'A')
		}
	}
	for q := buf[:n]; len(q) > 0; {
		if s.mayHaveDomain(string(q)) {
			if g, ok := s.domains[string(q)]; ok {
				return g, true
			}
		}
		k := bytes.IndexByte(q, '.')
		if k < 0 {
			break
		}
		q = q[k+1:]
	}
	return 0, false
}

// LookupDomain returns the winning match for a DNS name: a listed domain
// matches itself and every subdomain ("evil.com" matches "a.b.evil.com" but
// not "notevil.com"). Case is ignored, as is a trailing dot. The most
// specific listed suffix carries the matches of its listed parents, and the
// winner is chosen by category precedence among them. It does not allocate.
func (s *Set) LookupDomain(name string) (Match, bool) {
	g, ok := s.lookupDomainGroup(name)
	if !ok {
		return Match{}, false
	}
	return s.matches[s.ids[s.off[g]]], true
}

// LookupDomainAll appends every match for name to dst, winner first.
func (s *Set) LookupDomainAll(name string, dst []Match) []Match {
	g, ok := s.lookupDomainGroup(name)
	if !ok {
		return dst
	}
	for _, id := range s.group(g) {
		dst = append(dst, s.matches[id])
	}
	return dst
}
