package intel

import (
	"strings"
	"testing"
)

// fuzzList parses arbitrary input in one format and checks that it does not
// panic, that every loaded entry is valid and normalised, and that the built
// set finds every loaded entry.
func fuzzList(f *testing.F, spec ListSpec, seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		spec := spec
		spec.Name, spec.Category = "fuzz", C2
		b := NewBuilder()
		st, err := b.AddList(spec, strings.NewReader(in))
		if err != nil {
			if len(b.ips)+len(b.domains)+len(b.lists) != 0 {
				t.Fatalf("failed AddList left entries behind: %v", err)
			}
			return
		}
		if st.Entries != len(b.ips)+len(b.domains) {
			t.Fatalf("Entries = %d, have %d", st.Entries, len(b.ips)+len(b.domains))
		}
		if len(st.Errors) > MaxErrors || len(st.Errors) > st.Invalid {
			t.Fatalf("%d errors for %d invalid", len(st.Errors), st.Invalid)
		}
		for _, e := range b.ips {
			p := e.pfx
			if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
				t.Fatalf("loaded bad prefix %v", p)
			}
		}
		for _, e := range b.domains {
			if d, err := normDomain(e.name); err != nil || d != e.name {
				t.Fatalf("loaded bad domain %q: %q, %v", e.name, d, err)
			}
		}
		ips, doms := append([]ipEntry(nil), b.ips...), append([]domainEntry(nil), b.domains...)
		s := b.Build()
		for _, e := range ips {
			if m, ok := s.LookupIP(e.pfx.Addr()); !ok || m.List != "fuzz" {
				t.Fatalf("LookupIP(%v) = %+v, %v", e.pfx, m, ok)
			}
		}
		for _, e := range doms {
			if m, ok := s.LookupDomain("x." + strings.ToUpper(e.name) + "."); !ok || m.List != "fuzz" {
				t.Fatalf("LookupDomain(%q) = %+v, %v", e.name, m, ok)
			}
		}
	})
}

// go test ./intel -run '^$' -fuzz FuzzTXT -fuzztime 20s
func FuzzTXT(f *testing.F) {
	fuzzList(f, ListSpec{Format: FormatTXT},
		"1.2.3.4\n10.0.0.0/8 # c\n0.0.0.0 evil.com localhost\nevil.example.\n",
		"77.90.185.20\t10\n::ffff:1.2.3.4\nhttp://x.example/p\n*.a.b\n",
		"\uFEFF2001:db8::/32\r\nfe80::1%eth0\n999.1.1.1\nco.uk\n")
}

// go test ./intel -run '^$' -fuzz FuzzTor -fuzztime 20s
func FuzzTor(f *testing.F) {
	fuzzList(f, ListSpec{Format: FormatTor},
		"ExitNode 0011BD\nPublished 2024-02-27 03:25:44\nLastStatus 2024-02-27 05:00:00\nExitAddress 162.247.74.201 2024-02-27 05:00:29\n",
		"@type tordnsel 1.0\nExitAddress 2a0b:f4c2:2::1 x\nExitAddress\n")
}

// go test ./intel -run '^$' -fuzz FuzzCSV -fuzztime 20s
func FuzzCSV(f *testing.F) {
	fuzzList(f, ListSpec{Format: FormatCSV, Column: "ip", ThreatColumn: "2"},
		"id,ip,family\n1,1.2.3.4,x\n2,\"evil.example\",y\n# c\n3\n",
		"ip\n\"a\"\"b\",1\n1.2.3.0/24\n")
}

// go test ./intel -run '^$' -fuzz FuzzOTXCSV -fuzztime 20s
func FuzzOTXCSV(f *testing.F) {
	fuzzList(f, ListSpec{Format: FormatOTXCSV},
		"Indicator type,Indicator,Description\nIPv4,192.0.2.1,x\nCIDR,10.0.0.0/8,\ndomain,a.example,\nURL,http://b.example/x,\nFileHash-MD5,00,\n",
		"Type, Indicator\nIPv6, 2001:db8::1\nhostname, A.B.C\n")
}

// go test ./intel -run '^$' -fuzz FuzzSTIX2 -fuzztime 20s
func FuzzSTIX2(f *testing.F) {
	fuzzList(f, ListSpec{Format: FormatSTIX2},
		`{"type":"bundle","objects":[{"type":"indicator","name":"n","pattern":"[ipv4-addr:value = '1.2.3.4' OR domain-name:value = 'a.example']"},{"type":"malware"}]}`,
		`[{"type":"indicator","pattern":"[url:value = 'http://x.example/'] AND [ipv6-addr:value = '2001:db8::/48'] WITHIN 5 SECONDS"}]`,
		`{"type":"indicator","pattern":"[ipv4-addr:value IN ('10.0.0.1','10.0.0.2')]"}`)
}

// go test ./intel -run '^$' -fuzz FuzzAdblock -fuzztime 20s
func FuzzAdblock(f *testing.F) {
	fuzzList(f, ListSpec{Format: FormatAdblock},
		"[Adblock Plus 2.0]\n! c\n||2miners.com^$third-party\n||45.15.156.210^\n||x.com/a.js\n/miner.js\n@@||ok.com^\n")
}

// go test ./intel -run '^$' -fuzz FuzzSTIXPattern -fuzztime 20s
func FuzzSTIXPattern(f *testing.F) {
	for _, s := range []string{
		"[ipv4-addr:value = '1.2.3.4']",
		"([a:b = 'x' AND c:d[*].e NOT IN (1, 2)] OR [f:g.'h' MATCHES 'x']) REPEATS 2 TIMES START t'2020-01-01T00:00:00Z' STOP t'2021-01-01T00:00:00Z'",
		`[domain-name:value = 'it\'s']`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pat string) {
		vals, err := parseSTIXPattern(pat)
		if err != nil && vals != nil {
			t.Fatalf("values returned with error %v", err)
		}
		for _, v := range vals {
			if !stixNetworkPaths[v.path] {
				t.Fatalf("non-network path %q kept", v.path)
			}
		}
	})
}

// go test ./intel -run '^$' -fuzz FuzzLookupDomain -fuzztime 20s
func FuzzLookupDomain(f *testing.F) {
	s := testSet(f, inline("a", Malware, "evil.com", "x.y.example.org"))
	for _, q := range []string{"evil.com", "A.EVIL.COM.", "notevil.com", "", ".", "..", strings.Repeat("a.", 150) + "evil.com"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		_, ok := s.LookupDomain(q)
		nb := []byte(strings.TrimSuffix(q, "."))
		for i, c := range nb { // DNS case folding is ASCII only
			if 'A' <= c && c <= 'Z' {
				nb[i] = c + ('a' - 'A')
			}
		}
		n := string(nb)
		want := n == "evil.com" || strings.HasSuffix(n, ".evil.com") || n == "x.y.example.org" || strings.HasSuffix(n, ".x.y.example.org")
		if ok != want {
			t.Fatalf("LookupDomain(%q) = %v, want %v", q, ok, want)
		}
	})
}

// go test ./intel -run '^$' -fuzz FuzzAlienVault -fuzztime 20s
func FuzzAlienVault(f *testing.F) {
	fuzzList(f, ListSpec{Format: FormatAlienVault},
		"# c\n1.2.3.4#4#2#Malicious Host#CN#Beijing#39.9289,116.388#11\n2001:db8::1#1#1#Scanning Host;C&C\n",
		"10.0.0.0/8\nbad.example#1\n#\n##\nx#y#z\n")
}

// go test ./intel -run '^$' -fuzz FuzzProofpoint -fuzztime 20s
func FuzzProofpoint(f *testing.F) {
	fuzzList(f, ListSpec{Format: FormatProofpoint},
		"ip,category,score\n1.2.3.4,1,127\n198.51.100.0/24,CnC,10\n",
		"domain,category,score\nevil.example,4,95,2024-01-01,2024-02-01,80|443\n\"a\"\"b\",1\n,,\n")
}

// go test ./intel -run '^$' -fuzz FuzzFireEye -fuzztime 20s
func FuzzFireEye(f *testing.F) {
	fuzzList(f, ListSpec{Format: FormatFireEye},
		"title,networkIdentifier,cidr,domain,ip,url,malwareFamily,actor\nt,Attacker,,c2.example,192.0.2.1,http://c2.example/x,FAM,ACT\nt,Victim,,v.example,,,,\n",
		"IPv4 Address,Malware Family\n192.0.2.1,x\n\"\",\n1\n")
}
