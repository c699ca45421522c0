package intel

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// evalDir is the shared evaluation corpus (see ../../shared/eval/README.md).
const evalDir = "../../shared/eval"

// evalFile returns the path of a snapshot file, skipping the test when the
// corpus is not checked out next to the repository.
func evalFile(t *testing.T, dataset, file string) string {
	t.Helper()
	p := filepath.Join(evalDir, dataset, file)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("snapshot %s not available (%v); it lives in the shared eval corpus next to the repository", p, err)
	}
	return p
}

// TestSnapshots loads the real threat-intel snapshots of the shared eval
// corpus and checks counts (from each SOURCE.md) and known members.
func TestSnapshots(t *testing.T) {
	tests := []struct {
		dataset, file string
		spec          ListSpec
		entries       int // loaded
		invalid       int
		skipped       int
		ips, domains  int // distinct, after Build
		members       []string
		nonMembers    []string
	}{
		// SecOps-Institute's Tor lists are plain one-address-per-line
		// files (txt), not the Tor Project's exit-addresses format.
		{dataset: "ti-tor-exit-nodes", file: "tor-exit-nodes.lst", spec: ListSpec{Category: TorExit},
			entries: 1746, ips: 1746, members: []string{"101.99.92.179", "102.130.113.9"}},
		{dataset: "ti-tor-exit-nodes", file: "tor-nodes.lst", spec: ListSpec{Category: TorRelay},
			entries: 8054, ips: 8054, members: []string{"1.1.168.51", "2001:418:8006::9", "2001:470:b:a5::beef"}},
		// IPsum: "IP<TAB>count" lines under # comments.
		{dataset: "ti-ipsum", file: "ipsum.txt", spec: ListSpec{Category: Malicious},
			entries: 120430, ips: 120430, members: []string{"77.90.185.20", "45.154.244.193", "::ffff:2.57.122.53"}},
		{dataset: "ti-ipsum", file: "levels-3.txt", spec: ListSpec{Category: Malicious},
			entries: 14217, ips: 14217, members: []string{"77.239.124.108"}},
		// The Block List Project: a hosts file of domains and a plain IP list.
		{dataset: "ti-blocklistproject", file: "crypto.txt", spec: ListSpec{Category: Mining},
			entries: 1274, domains: 1274, members: []string{"2miners.com", "eth.2miners.com", "1pool.org", "x.f2pool.com"}, nonMembers: []string{"miners.com"}},
		{dataset: "ti-blocklistproject", file: "malware.ip", spec: ListSpec{Category: Malware},
			entries: 20907, ips: 20907, members: []string{"1.109.105.144", "1.160.58.107"}},
		// NoCoin: hosts file and Adblock filter list.
		{dataset: "ti-nocoin", file: "hosts.txt", spec: ListSpec{Category: Mining},
			entries: 313, domains: 313, members: []string{"api.miner.beeppool.org", "authedmine.com", "www.ad-miner.com"}},
		{dataset: "ti-nocoin", file: "nocoin.txt", spec: ListSpec{Category: Mining, Format: FormatAdblock},
			entries: 198, skipped: 119, ips: 7, domains: 190, members: []string{"2miners.com", "45.15.156.210", "freecontent.date", "cryptobara.com"},
			nonMembers: []string{"shrink-service.it", "sleeptimer.org"}}, // path-only rules are skipped
		// STIX 2.1 examples: every indicator with an IP or domain pattern.
		{dataset: "ti-stix2-examples", file: "indicator-for-c2-ip-address.json", spec: ListSpec{Category: C2, Format: FormatSTIX2},
			entries: 1, ips: 1, members: []string{"10.0.0.0"}},
		{dataset: "ti-stix2-examples", file: "indicator-to-campaign-relationship.json", spec: ListSpec{Category: C2, Format: FormatSTIX2},
			entries: 1, ips: 1, members: []string{"10.0.0.0"}},
		{dataset: "ti-stix2-examples", file: "indicators-for-C2-with-COA.json", spec: ListSpec{Category: C2, Format: FormatSTIX2},
			entries: 1, skipped: 1, ips: 1, members: []string{"10.0.0.0"}},
		{dataset: "ti-stix2-examples", file: "threat-reports/apt1.json", spec: ListSpec{Category: C2, Format: FormatSTIX2},
			entries: 7, skipped: 5, ips: 4, domains: 3, members: []string{"223.167.1.1", "58.247.255.255", "112.64.0.1", "139.226.9.9", "hugesoft.org", "www.arrowservice.net", "msnhome.org"}},
		// poisonivy: 25 indicators, 2 file-name patterns skipped, one value
		// ("domain autuo.xicp.net") is not a domain.
		{dataset: "ti-stix2-examples", file: "threat-reports/poisonivy.json", spec: ListSpec{Category: C2, Format: FormatSTIX2},
			entries: 64, skipped: 2, invalid: 1, ips: 18, domains: 24,
			members:    []string{"219.76.208.163", "60.10.1.115", "microsofta.byinter.net", "3q.wubangtu.info", "98.126.148.114"},
			nonMembers: []string{"autuo.xicp.net", "byinter.net"}},
	}
	for _, tt := range tests {
		t.Run(tt.dataset+"/"+tt.file, func(t *testing.T) {
			spec := tt.spec
			spec.Name, spec.Path = tt.file, evalFile(t, tt.dataset, tt.file)
			b := NewBuilder()
			st, err := b.LoadFile(spec)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("entries %d, skipped %d, invalid %d, errors %v", st.Entries, st.Skipped, st.Invalid, st.Errors)
			if st.Entries != tt.entries || st.Invalid != tt.invalid || st.Skipped != tt.skipped {
				t.Errorf("entries, invalid, skipped = %d, %d, %d, want %d, %d, %d", st.Entries, st.Invalid, st.Skipped, tt.entries, tt.invalid, tt.skipped)
			}
			s := b.Build()
			if ips, doms := s.Len(); ips != tt.ips || doms != tt.domains {
				t.Errorf("Len = %d, %d, want %d, %d", ips, doms, tt.ips, tt.domains)
			}
			lookup := func(q string) (Match, bool) {
				if a, err := netip.ParseAddr(q); err == nil {
					return s.LookupIP(a)
				}
				return s.LookupDomain(q)
			}
			for _, q := range tt.members {
				if m, ok := lookup(q); !ok || m.List != spec.Name || m.Category != spec.Category {
					t.Errorf("lookup(%s) = %+v, %v", q, m, ok)
				}
			}
			for _, q := range tt.nonMembers {
				if m, ok := lookup(q); ok {
					t.Errorf("lookup(%s) = %+v, want no match", q, m)
				}
			}
		})
	}
}

// TestSnapshotsTogether loads every snapshot into one Set and checks that
// category precedence picks the expected winner across lists.
func TestSnapshotsTogether(t *testing.T) {
	b := NewBuilder()
	for _, l := range []struct {
		dataset, file string
		spec          ListSpec
	}{
		{"ti-tor-exit-nodes", "tor-exit-nodes.lst", ListSpec{Name: "tor-exit", Category: TorExit}},
		{"ti-tor-exit-nodes", "tor-nodes.lst", ListSpec{Name: "tor-relay", Category: TorRelay}},
		{"ti-ipsum", "ipsum.txt", ListSpec{Name: "ipsum", Category: Malicious}},
		{"ti-blocklistproject", "malware.ip", ListSpec{Name: "blp-malware", Category: Malware}},
	} {
		l.spec.Path = evalFile(t, l.dataset, l.file)
		if _, err := b.LoadFile(l.spec); err != nil {
			t.Fatal(err)
		}
	}
	s := b.Build()
	// Every exit node is also a relay; tor-exit outranks tor-relay.
	exit := netip.MustParseAddr("101.99.92.179")
	all := s.LookupIPAll(exit, nil)
	if len(all) < 2 || all[0].List != "tor-exit" {
		t.Errorf("LookupIPAll(%s) = %+v", exit, all)
	}
	for _, m := range all[1:] {
		if m.List == "tor-exit" {
			t.Errorf("tor-exit listed twice: %+v", all)
		}
	}
	ips, _ := s.Len()
	t.Logf("combined: %d distinct prefixes; %s on %d lists", ips, exit, len(all))
}
