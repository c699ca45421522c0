package awsranges

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T) *Ranges {
	t.Helper()
	r, err := LoadFile("testdata/ip-ranges.json")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLookup(t *testing.T) {
	r := load(t)
	if r.SyncToken != "1708972389" || !r.CreateDate.Equal(time.Date(2024, 2, 26, 18, 33, 9, 0, time.UTC)) {
		t.Errorf("SyncToken, CreateDate = %q, %v", r.SyncToken, r.CreateDate)
	}
	if r.Len() != 10 {
		t.Errorf("Len = %d, want 10", r.Len())
	}
	tests := []struct {
		addr                    string
		prefix, region, service string // "" prefix: not AWS
		nbg                     string
		all                     int
	}{
		{"3.5.141.7", "3.5.140.0/22", "ap-northeast-2", "S3", "ap-northeast-2", 2},
		{"52.94.1.1", "52.94.0.0/22", "us-east-1", "EC2", "us-east-1", 2},      // duplicate EC2 entry collapsed
		{"52.94.200.1", "52.94.0.0/16", "us-east-1", "AMAZON", "us-east-1", 1}, // only the covering AMAZON /16
		{"::ffff:52.94.1.1", "52.94.0.0/22", "us-east-1", "EC2", "us-east-1", 2},
		{"13.33.1.1", "13.32.0.0/15", "GLOBAL", "CLOUDFRONT", "GLOBAL", 2},
		{"15.181.232.9", "15.181.232.0/21", "us-east-1", "EC2", "us-east-1-iah-1", 1},
		{"54.239.0.3", "54.239.0.0/28", "eu-west-1", "EC2", "eu-west-1", 2}, // specific services by name
		{"2600:1f18::1", "2600:1f18::/33", "us-east-1", "EC2", "us-east-1", 2},
		{"2600:1f18:8000::1", "2600:1f00::/24", "GLOBAL", "AMAZON", "GLOBAL", 1},
		{"2a05:d07a:a0ff::1", "2a05:d07a:a000::/40", "eu-south-1", "S3", "eu-south-1", 1},
		{"8.8.8.8", "", "", "", "", 0},
		{"2001:db8::1", "", "", "", "", 0},
	}
	for _, tt := range tests {
		a := netip.MustParseAddr(tt.addr)
		got, ok := r.Lookup(a)
		if !ok {
			if tt.prefix != "" {
				t.Errorf("Lookup(%s): no match", tt.addr)
			}
		} else {
			want := Range{Prefix: netip.MustParsePrefix(tt.prefix), Region: tt.region, Service: tt.service, NetworkBorderGroup: tt.nbg}
			if tt.prefix == "" || got != want {
				t.Errorf("Lookup(%s) = %+v, want %+v", tt.addr, got, want)
			}
		}
		if r.Contains(a) != ok {
			t.Errorf("Contains(%s) = %v", tt.addr, !ok)
		}
		if all := r.LookupAll(a, nil); len(all) != tt.all || (ok && all[0] != got) {
			t.Errorf("LookupAll(%s) = %+v, want %d entries, winner first", tt.addr, all, tt.all)
		}
	}
	var nilR *Ranges
	if nilR.Contains(netip.MustParseAddr("3.5.140.1")) || nilR.Len() != 0 {
		t.Error("nil Ranges matched")
	}
}

func TestLookupAllocs(t *testing.T) {
	r := load(t)
	v4, v6, mapped := netip.MustParseAddr("52.94.1.1"), netip.MustParseAddr("2600:1f18::1"), netip.MustParseAddr("::ffff:8.8.8.8")
	if n := testing.AllocsPerRun(100, func() {
		r.Lookup(v4)
		r.Lookup(v6)
		r.Contains(mapped)
	}); n != 0 {
		t.Errorf("%v allocs per lookup, want 0", n)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"not json", `{"prefixes": [`, []string{"decoding AWS ranges JSON"}},
		{"empty", `{"syncToken": "1"}`, []string{"no prefixes and no ipv6_prefixes"}},
		{"bad entries", `{"createDate": "2024-02-26T18:33:09Z", "prefixes": [
			{"ip_prefix": "3.5.140.0/22", "region": "r", "service": "S3"},
			{"ip_prefix": "3.5.140.0", "region": "r", "service": "S3"},
			{"ip_prefix": "3.5.140.1/22", "region": "r", "service": "S3"},
			{"ip_prefix": "2600::/24", "region": "r", "service": "S3"},
			{"ip_prefix": "3.5.0.0/16", "service": "S3"},
			{"ip_prefix": "3.6.0.0/16", "region": "r"}],
			"ipv6_prefixes": [{"ipv6_prefix": "1.2.3.0/24", "region": "r", "service": "S3"}]}`,
			[]string{
				"7 bad entries",
				`createDate "2024-02-26T18:33:09Z": want YYYY-MM-DD-hh-mm-ss`,
				`prefixes[1].ip_prefix "3.5.140.0": netip.ParsePrefix`,
				`prefixes[2].ip_prefix "3.5.140.1/22": host bits set (want 3.5.140.0/22)`,
				`prefixes[3].ip_prefix "2600::/24": wrong address family`,
				`prefixes[4].region: missing`,
				`prefixes[5].service: missing`,
				`ipv6_prefixes[0].ipv6_prefix "1.2.3.0/24": wrong address family`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Load(strings.NewReader(tt.doc))
			if err == nil || r != nil {
				t.Fatalf("Load = %v, %v; want error", r, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
	if _, err := LoadFile("testdata/missing.json"); err == nil {
		t.Error("missing file loaded")
	}
	var many strings.Builder
	many.WriteString(`{"prefixes": [`)
	for i := range 25 {
		if i > 0 {
			many.WriteString(",")
		}
		many.WriteString(`{"ip_prefix": "x"}`)
	}
	many.WriteString(`]}`)
	_, err := Load(strings.NewReader(many.String()))
	if err == nil || !strings.Contains(err.Error(), "25 bad entries") || !strings.Contains(err.Error(), "and 15 more bad entries") {
		t.Errorf("error = %v", err)
	}
}

// go test ./awsranges -run '^$' -bench BenchmarkLookup -benchmem
func BenchmarkLookup(b *testing.B) {
	r, err := LoadFile("testdata/ip-ranges.json")
	if err != nil {
		b.Fatal(err)
	}
	q := []netip.Addr{netip.MustParseAddr("52.94.1.1"), netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("2600:1f18::1"), netip.MustParseAddr("13.33.1.1")}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r.Lookup(q[i%len(q)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

// go test ./awsranges -run '^$' -fuzz FuzzLoad -fuzztime 20s
func FuzzLoad(f *testing.F) {
	f.Add(`{"prefixes":[{"ip_prefix":"3.5.140.0/22","region":"r","service":"AMAZON"},{"ip_prefix":"3.5.140.0/22","region":"r","service":"S3"}],"ipv6_prefixes":[{"ipv6_prefix":"2600:1f18::/33","region":"r","service":"EC2"}]}`)
	f.Add(`{"createDate":"2024-02-26-18-33-09","prefixes":[{"ip_prefix":"0.0.0.0/0","region":"r","service":"X"}]}`)
	f.Add(`{"prefixes":[{"ip_prefix":"::ffff:1.2.3.4/128","region":"r","service":"X"}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		r, err := Load(strings.NewReader(doc))
		if err != nil {
			return
		}
		for g := range r.Len() {
			if r.off[g] >= r.off[g+1] {
				t.Fatalf("group %d is empty", g)
			}
		}
		for _, e := range r.ranges {
			if e.Prefix != e.Prefix.Masked() || e.Region == "" || e.Service == "" {
				t.Fatalf("bad range loaded: %+v", e)
			}
			got, ok := r.Lookup(e.Prefix.Addr())
			if !ok || got.Prefix.Bits() < e.Prefix.Bits() {
				t.Fatalf("Lookup(%v) = %+v, %v; want a prefix at least as specific as %v", e.Prefix.Addr(), got, ok, e.Prefix)
			}
			if got.Prefix == e.Prefix && got.Service == ServiceAmazon && e.Service != ServiceAmazon {
				t.Fatalf("Lookup(%v) preferred AMAZON over %s", e.Prefix.Addr(), e.Service)
			}
		}
	})
}
