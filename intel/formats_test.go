package intel

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// loaded is what one list load produced, in a comparable form.
type loaded struct {
	ips     []string // prefixes, sorted
	domains []string // sorted
	threats []string // distinct threat names, sorted
}

// load parses one list into a fresh builder and returns its entries.
func load(t *testing.T, spec ListSpec, input string) (loaded, LoadStats, error) {
	t.Helper()
	b := NewBuilder()
	st, err := b.AddList(spec, strings.NewReader(input))
	var l loaded
	for _, e := range b.ips {
		l.ips = append(l.ips, e.pfx.String())
	}
	for _, e := range b.domains {
		l.domains = append(l.domains, e.name)
	}
	for _, m := range b.matches {
		if m.ThreatName != "" {
			l.threats = append(l.threats, m.ThreatName)
		}
	}
	slices.Sort(l.ips)
	slices.Sort(l.domains)
	slices.Sort(l.threats)
	return l, st, err
}

func TestFormats(t *testing.T) {
	tests := []struct {
		name    string
		spec    ListSpec
		input   string
		want    loaded
		skipped int
		invalid int
		errs    []string // substrings of the reported errors, in order
		fatal   string   // substring of the AddList error
	}{
		{
			name: "txt",
			spec: ListSpec{Format: "txt"},
			input: "# header comment\n" +
				"\n" +
				"1.2.3.4\n" +
				"  10.0.0.0/8   # trailing comment\n" +
				"192.168.1.77/24\n" +
				"2001:DB8::1\n" +
				"::ffff:5.6.7.8\n" +
				"Evil.Example.COM.\n" +
				"*.wild.example.org\n" +
				"https://phish.example.net/login?x=1\n" +
				"77.90.185.20\t10\n" +
				"not a valid entry\n" +
				"999.1.1.1\n" +
				"com\n" +
				"co.uk\n" +
				"0.0.0.0/0\n",
			want: loaded{
				ips:     []string{"1.2.3.4/32", "10.0.0.0/8", "192.168.1.0/24", "2001:db8::1/128", "5.6.7.8/32", "77.90.185.20/32"},
				domains: []string{"evil.example.com", "phish.example.net", "wild.example.org"},
			},
			invalid: 5,
			errs:    []string{`src:12: "not"`, `src:13: "999.1.1.1"`, `src:14: "com": single-label`, `src:15: "co.uk": domain is a public suffix`, `src:16: "0.0.0.0/0": prefix too short`},
		},
		{
			name: "hosts",
			spec: ListSpec{Format: "txt"},
			input: "127.0.0.1 localhost\n" +
				"::1 localhost ip6-localhost ip6-loopback\n" +
				"0.0.0.0 0.0.0.0\n" +
				"0.0.0.0 ad-miner.com\n" +
				"0.0.0.0 a.example.com b.example.com # aliases\n" +
				"0.0.0.0 bad..name\n",
			want:    loaded{domains: []string{"a.example.com", "ad-miner.com", "b.example.com"}},
			skipped: 5,
			invalid: 1,
			errs:    []string{`src:6: "bad..name": empty label`},
		},
		{
			name:    "tor",
			spec:    ListSpec{Format: "tor"},
			input:   "ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E\nPublished 2024-02-27 03:25:44\nLastStatus 2024-02-27 05:00:00\nExitAddress 162.247.74.201 2024-02-27 05:00:29\nExitAddress 10.0.0.0/8 2024-02-27\nbogus line\n",
			want:    loaded{ips: []string{"162.247.74.201/32"}},
			invalid: 2,
			errs:    []string{`src:5: ExitAddress: "10.0.0.0/8": not a single address`, `src:6: "bogus line": unexpected line`},
		},
		{
			name:    "csv-index",
			spec:    ListSpec{Format: "csv", Column: "1"},
			input:   "# comment\n1,203.0.113.9,x\n2,\"evil.example\",y\n3\n4,,z\n",
			want:    loaded{ips: []string{"203.0.113.9/32"}, domains: []string{"evil.example"}},
			skipped: 1,
			invalid: 1,
			errs:    []string{`src:4: column 1: "3": row has 1 columns`},
		},
		{
			name:  "csv-header-name",
			spec:  ListSpec{Format: "csv", Column: "ip", ThreatColumn: "family", Comment: ";", Comma: "tab"},
			input: "family\tip\n; c\nEmotet\t198.51.100.7\nQakbot\t198.51.100.0/28\n",
			want:  loaded{ips: []string{"198.51.100.0/28", "198.51.100.7/32"}, threats: []string{"Emotet", "Qakbot"}},
		},
		{
			name:  "csv-missing-column",
			spec:  ListSpec{Format: "csv", Column: "address"},
			input: "ip,family\n1.2.3.4,x\n",
			fatal: `column "address": not in header`,
		},
		{
			name: "otx-csv",
			spec: ListSpec{Format: "otx-csv"},
			input: "Indicator type, Indicator, Description\n" +
				"IPv4, 192.0.2.10, Cobalt Strike C2\n" +
				"IPv6, 2001:db8::10, \n" +
				"CIDR, 198.51.100.0/24, scanner net\n" +
				"domain, evil.example, \n" +
				"hostname, c2.evil.example, \n" +
				"URL, http://dl.bad.example:8080/x.exe, dropper\n" +
				"FileHash-SHA256, 0123456789abcdef, hash\n" +
				"IPv4, 2001:db8::11, wrong family\n" +
				"CIDR, 192.0.2.1, no length\n",
			want: loaded{
				ips:     []string{"192.0.2.10/32", "198.51.100.0/24", "2001:db8::10/128"},
				domains: []string{"c2.evil.example", "dl.bad.example", "evil.example"},
				threats: []string{"Cobalt Strike C2", "dropper", "scanner net"},
			},
			skipped: 1,
			invalid: 2,
			errs:    []string{`src:9: IPv4: "2001:db8::11": not an IPv4 address`, `src:10: CIDR: "192.0.2.1": CIDR without prefix length`},
		},
		{
			name:  "otx-csv-no-header",
			spec:  ListSpec{Format: "otx-csv"},
			input: "1.2.3.4\n",
			fatal: `need columns "Indicator type" and "Indicator"`,
		},
		{
			name: "stix2",
			spec: ListSpec{Format: "stix2"},
			input: `{"type":"bundle","id":"bundle--1","objects":[
 {"type":"identity","id":"identity--1","name":"ACME"},
 {"type":"indicator","id":"indicator--1","name":"C2 IP","pattern_type":"stix","pattern":"[ipv4-addr:value = '203.0.113.5']"},
 {"type":"indicator","id":"indicator--2","indicator_types":["malicious-activity"],"labels":["apt"],"pattern":"[domain-name:value = 'Bad.Example' OR ipv4-addr:value = '203.0.113.0/25'] AND [url:value = 'https://u.example/p'] WITHIN 60 SECONDS"},
 {"type":"indicator","id":"indicator--3","name":"v6","pattern":"([ipv6-addr:value = '2001:db8::5' AND network-traffic:dst_port = 443]) REPEATS 2 TIMES"},
 {"type":"indicator","id":"indicator--4","name":"neg","pattern":"[ipv4-addr:value != '198.51.100.1' AND ipv4-addr:value NOT = '198.51.100.2']"},
 {"type":"indicator","id":"indicator--5","name":"in","pattern":"[ipv4-addr:value IN ('198.51.100.3', '198.51.100.4')]"},
 {"type":"indicator","id":"indicator--6","name":"hash","pattern":"[file:hashes.'SHA-256' = 'ef53']"},
 {"type":"indicator","id":"indicator--7","name":"snort","pattern_type":"snort","pattern":"alert tcp any any"},
 {"type":"indicator","id":"indicator--8","name":"revoked","revoked":true,"pattern":"[ipv4-addr:value = '198.51.100.9']"},
 {"type":"indicator","id":"indicator--9","name":"broken","pattern":"[ipv4-addr:value = '1.2.3.4'"},
 {"type":"indicator","id":"indicator--10","name":"badval","pattern":"[domain-name:value = 'domain autuo.xicp.net' OR ipv4-addr:value = '60.10.1.115']"},
 {"type":"indicator","id":"indicator--11","name":"family","pattern":"[ipv4-addr:value = '2001:db8::1']"}
]}`,
			want: loaded{
				ips:     []string{"198.51.100.3/32", "198.51.100.4/32", "2001:db8::5/128", "203.0.113.0/25", "203.0.113.5/32", "60.10.1.115/32"},
				domains: []string{"bad.example", "u.example"},
				threats: []string{"C2 IP", "badval", "in", "malicious-activity,apt", "v6"},
			},
			skipped: 4,
			invalid: 3,
			errs: []string{
				`src: objects[9].pattern: "[ipv4-addr:value = '1.2.3.4'": indicator--9: pattern offset 28: expected ']'`,
				`src: objects[10].pattern: "domain-name:value = domain autuo.xicp.net": indicator--10: not an IP address`,
				`src: objects[11].pattern: "ipv4-addr:value = 2001:db8::1": indicator--11: address family does not match`,
			},
		},
		{
			name:  "stix2-not-json",
			spec:  ListSpec{Format: "stix2"},
			input: `{"objects": [`,
			fatal: "decoding STIX JSON",
		},
		{
			name: "adblock",
			spec: ListSpec{Format: "adblock"},
			input: "[Adblock Plus 2.0]\n! Title: x\n" +
				"||2miners.com^$third-party\n" +
				"||45.15.156.210^\n" +
				"||authedwebmine.cz^$third-party,domain=~webmine.cz\n" +
				"||freecontent.date\n" +
				"||minero-proxy-*.now.sh^$third-party\n" +
				"||cryptobara.com/client/worker.js\n" +
				"/authedminer.js\n" +
				"@@||ok.example^\n" +
				"example.com##.miner\n" +
				"||bad_label-.x^\n" +
				"||nodot^\n",
			want:    loaded{ips: []string{"45.15.156.210/32"}, domains: []string{"2miners.com", "authedwebmine.cz", "bad_label-.x", "freecontent.date"}},
			skipped: 5,
			invalid: 1,
			errs:    []string{`src:13: "nodot": single-label`},
		},
		{
			name:  "nothing-valid",
			spec:  ListSpec{Format: "txt"},
			input: "foo\nbar\n",
			fatal: "no valid entries",
		},
		{
			name:  "unknown-format",
			spec:  ListSpec{Format: "yaml"},
			fatal: `unknown format "yaml" (allowed: txt, tor, csv, stix2, otx-csv, adblock, alienvault, proofpoint, fireeye)`,
		},
		{
			name:  "bad-category",
			spec:  ListSpec{Category: "evil"},
			fatal: `unknown category "evil" (allowed: trusted, c2,`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			spec.Name, spec.Path = tt.name, "src"
			if spec.Category == "" {
				spec.Category = Custom
			}
			got, st, err := load(t, spec, tt.input)
			if tt.fatal != "" {
				if err == nil || !strings.Contains(err.Error(), tt.fatal) {
					t.Fatalf("AddList error = %v, want containing %q", err, tt.fatal)
				}
				return
			}
			if err != nil {
				t.Fatalf("AddList: %v", err)
			}
			if !slices.Equal(got.ips, tt.want.ips) {
				t.Errorf("ips = %q, want %q", got.ips, tt.want.ips)
			}
			if !slices.Equal(got.domains, tt.want.domains) {
				t.Errorf("domains = %q, want %q", got.domains, tt.want.domains)
			}
			if !slices.Equal(got.threats, tt.want.threats) {
				t.Errorf("threats = %q, want %q", got.threats, tt.want.threats)
			}
			if n := len(tt.want.ips) + len(tt.want.domains); st.Entries != n {
				t.Errorf("Entries = %d, want %d", st.Entries, n)
			}
			if st.Skipped != tt.skipped || st.Invalid != tt.invalid {
				t.Errorf("Skipped, Invalid = %d, %d, want %d, %d (errors %v)", st.Skipped, st.Invalid, tt.skipped, tt.invalid, st.Errors)
			}
			if len(st.Errors) != len(tt.errs) {
				t.Fatalf("errors = %v, want %d", st.Errors, len(tt.errs))
			}
			for i, e := range st.Errors {
				var ee *EntryError
				if !errors.As(e, &ee) {
					t.Errorf("error %d is %T, want *EntryError", i, e)
				}
				if !strings.Contains(e.Error(), tt.errs[i]) {
					t.Errorf("error %d = %q, want containing %q", i, e, tt.errs[i])
				}
			}
			if len(st.SHA256) != 64 {
				t.Errorf("SHA256 = %q", st.SHA256)
			}
		})
	}
}

func TestTorFixture(t *testing.T) {
	b := NewBuilder()
	st, err := b.LoadFile(ListSpec{Name: "tor", Category: TorExit, Format: "tor", Path: "testdata/exit-addresses.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Entries != 4 || st.Invalid != 1 {
		t.Fatalf("stats = %+v", st)
	}
	if want := `testdata/exit-addresses.txt:16: ExitAddress: "not-an-ip"`; !strings.Contains(st.Errors[0].Error(), want) {
		t.Errorf("error = %v, want containing %q", st.Errors[0], want)
	}
	s := b.Build()
	for _, a := range []string{"162.247.74.201", "185.220.101.35", "2a0b:f4c2:2::1"} {
		if m, ok := s.LookupIP(netip.MustParseAddr(a)); !ok || m.Category != TorExit || m.List != "tor" {
			t.Errorf("LookupIP(%s) = %+v, %v", a, m, ok)
		}
	}
}

func TestMaxErrors(t *testing.T) {
	var in strings.Builder
	in.WriteString("1.2.3.4\n")
	for range 50 {
		in.WriteString("bad\n")
	}
	_, st, err := load(t, ListSpec{Name: "x", Category: Custom}, in.String())
	if err != nil {
		t.Fatal(err)
	}
	if st.Invalid != 50 || len(st.Errors) != MaxErrors {
		t.Errorf("Invalid = %d, len(Errors) = %d", st.Invalid, len(st.Errors))
	}
}

func TestAddListErrors(t *testing.T) {
	b := NewBuilder()
	if _, err := b.AddList(ListSpec{Name: "a", Category: Custom}, strings.NewReader("1.2.3.4\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddList(ListSpec{Name: "a", Category: Custom}, strings.NewReader("1.2.3.5\n")); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("duplicate name: %v", err)
	}
	if _, err := b.AddList(ListSpec{Category: Custom}, strings.NewReader("1.2.3.5\n")); err == nil || !strings.Contains(err.Error(), "name is required") {
		t.Errorf("missing name: %v", err)
	}
	// A failed list leaves the builder unchanged.
	if _, err := b.AddList(ListSpec{Name: "b", Category: Custom, Format: "stix2"}, strings.NewReader(`{"objects":[{"type":"indicator","pattern":"[ipv4-addr:value = '9.9.9.9']"}`)); err == nil {
		t.Fatal("truncated STIX accepted")
	}
	if _, err := b.LoadFile(ListSpec{Name: "c", Category: Custom, Path: "testdata/does-not-exist"}); err == nil {
		t.Fatal("missing file accepted")
	}
	s := b.Build()
	if ips, doms := s.Len(); ips != 1 || doms != 0 || len(s.Lists()) != 1 {
		t.Errorf("Len = %d, %d; lists %v", ips, doms, s.Lists())
	}
}

func TestParseCategory(t *testing.T) {
	for _, c := range Categories() {
		got, err := ParseCategory(" " + strings.ToUpper(string(c)) + " ")
		if err != nil || got != c {
			t.Errorf("ParseCategory(%q) = %q, %v", c, got, err)
		}
	}
	_, err := ParseCategory("botnet")
	if err == nil || !strings.Contains(err.Error(), "allowed: trusted, c2, drop-point, phishing, malware, mining, blackhole, tor-exit, tor-relay, scanner, malicious, custom") {
		t.Errorf("ParseCategory(botnet) error = %v", err)
	}
}

func TestSTIXPattern(t *testing.T) {
	tests := []struct {
		pat  string
		want []string // path=value
		err  string
	}{
		{pat: "[ ipv4-addr:value = '10.0.0.0' ]", want: []string{"ipv4-addr:value=10.0.0.0"}},
		{pat: "[IPv4-Addr:value == '1.1.1.1']", want: []string{"ipv4-addr:value=1.1.1.1"}},
		{pat: `[domain-name:value = 'it\'s.example']`, want: []string{"domain-name:value=it's.example"}},
		{pat: "[email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']"},
		{pat: "[x509-certificate:issuer = 'CN=x' AND x509-certificate:serial_number = '0e:97']"},
		{pat: "[file:hashes.'SHA-256' = 'ef53'] FOLLOWEDBY [domain-name:value = 'a.example'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
			want: []string{"domain-name:value=a.example"}},
		{pat: "[network-traffic:dst_ref.value = '192.0.2.1' AND network-traffic:dst_port > 1024]", want: []string{"network-traffic:dst_ref.value=192.0.2.1"}},
		{pat: "[(ipv4-addr:value = '1.1.1.1' OR ipv4-addr:value = '2.2.2.2') AND EXISTS ipv4-addr:resolves_to_refs]", want: []string{"ipv4-addr:value=1.1.1.1", "ipv4-addr:value=2.2.2.2"}},
		{pat: "[ipv4-addr:value ISSUBSET '10.0.0.0/8']"},
		{pat: "", err: "expected '[' or '('"},
		{pat: "[ipv4-addr:value = ]", err: "expected a literal"},
		{pat: "[ipv4-addr:value '1']", err: "expected a comparison operator"},
		{pat: "[value = '1']", err: "expected an object path"},
		{pat: "[a:b = 'x'] junk", err: "unexpected"},
		{pat: "[a:b = 'x", err: "unterminated string"},
		{pat: strings.Repeat("(", 200) + "[a:b = 'x']" + strings.Repeat(")", 200), err: "nested too deeply"},
	}
	for _, tt := range tests {
		got, err := parseSTIXPattern(tt.pat)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseSTIXPattern(%q) error = %v, want %q", tt.pat, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseSTIXPattern(%q): %v", tt.pat, err)
			continue
		}
		var s []string
		for _, v := range got {
			s = append(s, v.path+"="+v.value)
		}
		if !slices.Equal(s, tt.want) {
			t.Errorf("parseSTIXPattern(%q) = %q, want %q", tt.pat, s, tt.want)
		}
	}
}
