package route53

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/vigilsec/vigil/decode"
	"github.com/vigilsec/vigil/event"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the decoder's output")

// realSamples is the Route 53 sample corpus, relative to this directory (see
// shared/eval/elastic-integrations-aws/SOURCE.md).
const realSamples = "../../../shared/eval/elastic-integrations-aws/route53_resolver"

// base is a complete record; cases append or replace keys.
const base = `"version":"1.100000","account_id":"626345947581","region":"us-east-1","vpc_id":"vpc-01e31a7c","query_timestamp":"2021-12-11T22:46:23Z","query_name":"does-not-exist.abc.com.","query_type":"A","query_class":"IN","rcode":"NXDOMAIN"`

var baseWant = event.DNSQuery{
	Version:    "1.100000",
	AccountID:  "626345947581",
	Region:     "us-east-1",
	VPCID:      "vpc-01e31a7c",
	Time:       time.Date(2021, 12, 11, 22, 46, 23, 0, time.UTC),
	QueryName:  "does-not-exist.abc.com",
	QueryType:  "A",
	QueryClass: "IN",
	RCode:      "NXDOMAIN",
}

func decodeOne(t *testing.T, line string) (event.DNSQuery, error) {
	t.Helper()
	d := NewDecoder(strings.NewReader(line + "\n"))
	var ev event.Event
	err := d.Next(&ev)
	if err == nil && ev.Kind != event.KindDNS {
		t.Fatalf("Kind = %v, want dns", ev.Kind)
	}
	if err2 := d.Next(&ev); err2 != io.EOF {
		t.Fatalf("second Next = %v, want io.EOF", err2)
	}
	return ev.DNS, err
}

func equalDNS(a, b event.DNSQuery) bool {
	if len(a.Answers) != len(b.Answers) {
		return false
	}
	for i := range a.Answers {
		if a.Answers[i] != b.Answers[i] {
			return false
		}
	}
	a.Answers, b.Answers = nil, nil
	return reflect.DeepEqual(a, b)
}

func TestDecodeFields(t *testing.T) {
	tests := []struct {
		name string
		line string
		edit func(q *event.DNSQuery)
	}{
		{"base", `{` + base + `}`, func(q *event.DNSQuery) {}},
		{"answers", `{` + base + `,"answers":[{"Rdata":"s3-r-w.amazonaws.com.","Type":"CNAME","Class":"IN"},{"Rdata":"67.43.156.12","Type":"A","Class":"IN"}]}`, func(q *event.DNSQuery) {
			q.Answers = []event.DNSAnswer{{Rdata: "s3-r-w.amazonaws.com.", Type: "CNAME", Class: "IN"}, {Rdata: "67.43.156.12", Type: "A", Class: "IN"}}
		}},
		{"answers lower-case keys and extra key", `{` + base + `,"answers":[{"rdata":"1.2.3.4","type":"A","class":"IN","ttl":60}]}`, func(q *event.DNSQuery) {
			q.Answers = []event.DNSAnswer{{Rdata: "1.2.3.4", Type: "A", Class: "IN"}}
		}},
		{"answers empty and null", `{` + base + `,"answers":[null,{}]}`, func(q *event.DNSQuery) {
			q.Answers = []event.DNSAnswer{{}}
		}},
		{"answers null", `{` + base + `,"answers":null}`, func(q *event.DNSQuery) {}},
		{"answers repeated", `{` + base + `,"answers":[{"Rdata":"x"},{"Rdata":"y"}],"answers":[{"Rdata":"z"}]}`, func(q *event.DNSQuery) {
			q.Answers = []event.DNSAnswer{{Rdata: "z"}}
		}},
		{"srcaddr ipv4", `{` + base + `,"srcaddr":"172.31.86.159"}`, func(q *event.DNSQuery) { q.SrcAddr = netip.MustParseAddr("172.31.86.159") }},
		{"srcaddr ipv6", `{` + base + `,"srcaddr":"2001:db8::1"}`, func(q *event.DNSQuery) { q.SrcAddr = netip.MustParseAddr("2001:db8::1") }},
		{"srcaddr ipv4-mapped", `{` + base + `,"srcaddr":"::ffff:10.1.2.3"}`, func(q *event.DNSQuery) { q.SrcAddr = netip.MustParseAddr("::ffff:10.1.2.3") }},
		{"srcaddr dash", `{` + base + `,"srcaddr":"-"}`, func(q *event.DNSQuery) {}},
		{"srcport string", `{` + base + `,"srcport":"48701"}`, func(q *event.DNSQuery) { q.SrcPort = 48701 }},
		{"srcport number", `{` + base + `,"srcport":53}`, func(q *event.DNSQuery) { q.SrcPort = 53 }},
		{"srcport max", `{` + base + `,"srcport":"65535"}`, func(q *event.DNSQuery) { q.SrcPort = 65535 }},
		{"srcport empty", `{` + base + `,"srcport":""}`, func(q *event.DNSQuery) {}},
		{"transport", `{` + base + `,"transport":"DoH"}`, func(q *event.DNSQuery) { q.Transport = "DoH" }},
		{"srcids instance", `{` + base + `,"srcids":{"instance":"i-0abc"}}`, func(q *event.DNSQuery) { q.SrcInstanceID = "i-0abc" }},
		{"srcids all", `{` + base + `,"srcids":{"instance":"i-0abc","resolver_endpoint":"rslvr-in-1","resolver_network_interface":"rni-1","future":[1]}}`, func(q *event.DNSQuery) {
			q.SrcInstanceID, q.SrcResolverEndpoint, q.SrcResolverNetwork = "i-0abc", "rslvr-in-1", "rni-1"
		}},
		{"firewall", `{` + base + `,"firewall_rule_action":"BLOCK","firewall_rule_group_id":"rslvr-frg-1","firewall_domain_list_id":"rslvr-fdl-1","firewall_protection":"DGA"}`, func(q *event.DNSQuery) {
			q.FirewallRuleAction, q.FirewallRuleGroupID, q.FirewallDomainListID, q.FirewallProtection = "BLOCK", "rslvr-frg-1", "rslvr-fdl-1", "DGA"
		}},
		{"resolver endpoint", `{` + base + `,"resolver_endpoint_id":"rslvr-out-1","resolver_endpoint_ip_src":"10.0.0.9"}`, func(q *event.DNSQuery) {
			q.ResolverEndpointID, q.ResolverEndpointIPSrc = "rslvr-out-1", "10.0.0.9"
		}},
		{"query_name case and dot", `{` + base + `,"query_name":"WWW.Example.COM."}`, func(q *event.DNSQuery) { q.QueryName = "www.example.com" }},
		{"query_name root", `{` + base + `,"query_name":"."}`, func(q *event.DNSQuery) { q.QueryName = "" }},
		{"query_name without dot", `{` + base + `,"query_name":"host"}`, func(q *event.DNSQuery) { q.QueryName = "host" }},
		{"escapes", `{` + base + `,"query_name":"a\u0041\/b\\c\"d.\ud83d\ude00.","answers":[{"Rdata":"\"v=spf1\"\t\n","Type":"T\u0058T"}]}`, func(q *event.DNSQuery) {
			q.QueryName = "aa/b\\c\"d.\U0001F600"
			q.Answers = []event.DNSAnswer{{Rdata: "\"v=spf1\"\t\n", Type: "TXT"}}
		}},
		{"lone surrogate", `{` + base + `,"query_name":"x\ud800y"}`, func(q *event.DNSQuery) { q.QueryName = "x\uFFFDy" }},
		{"escaped key", `{` + base + `,"\u0074ransport":"TCP"}`, func(q *event.DNSQuery) { q.Transport = "TCP" }},
		{"fraction", `{` + base + `,"query_timestamp":"2021-12-11T22:46:23.5Z"}`, func(q *event.DNSQuery) { q.Time = q.Time.Add(500 * time.Millisecond) }},
		{"offset", `{` + base + `,"query_timestamp":"2021-12-12T00:46:23+02:00"}`, func(q *event.DNSQuery) {}},
		{"white space", " { \"query_name\" : \"a.\" ,\t\"query_timestamp\" : \"2021-12-11T22:46:23Z\" , \"answers\" : [ { \"Rdata\" : \"x\" } ] } \r", func(q *event.DNSQuery) {
			*q = event.DNSQuery{QueryName: "a", Time: baseWant.Time, Answers: []event.DNSAnswer{{Rdata: "x"}}}
		}},
		{"nulls", `{` + base + `,"region":null,"srcaddr":null,"srcport":null,"srcids":null,"transport":null}`, func(q *event.DNSQuery) { q.Region = "" }},
		{"unknown keys", `{"a":{"b":[{"c":"}]"},true,false,null,-1.5e3]},` + base + `,"z":"\"}"}`, func(q *event.DNSQuery) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeOne(t, tt.line)
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			want := baseWant
			tt.edit(&want)
			if !equalDNS(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			if !got.Time.IsZero() && got.Time.Location() != time.UTC {
				t.Errorf("time %v not in UTC", got.Time)
			}
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		field string // RecordError.Field
		msg   string // substring of the error
	}{
		{"not json", `hello`, "", "invalid JSON at byte 1"},
		{"array", `[]`, "", "expected '{'"},
		{"truncated", `{` + base + `,"answers":[{"Rdata":"1.2`, "", "unterminated string"},
		{"truncated after comma", `{` + base + `,`, "", "expected a key"},
		{"missing colon", `{"query_name" "x"}`, "", "expected ':'"},
		{"trailing data", `{` + base + `} {}`, "", "data after the record"},
		{"missing query_name", `{"query_timestamp":"2021-12-11T22:46:23Z"}`, "query_name", "missing"},
		{"null query_name", `{"query_timestamp":"2021-12-11T22:46:23Z","query_name":null}`, "query_name", "missing"},
		{"missing query_timestamp", `{"query_name":"x."}`, "query_timestamp", "missing"},
		{"bad timestamp", `{"query_name":"x.","query_timestamp":"2021-13-11T22:46:23Z"}`, "query_timestamp", "invalid timestamp"},
		{"bad day", `{"query_name":"x.","query_timestamp":"2021-02-29T22:46:23Z"}`, "query_timestamp", "invalid timestamp"},
		{"numeric timestamp", `{"query_name":"x.","query_timestamp":1639262783}`, "query_timestamp", "not a string"},
		{"bad srcaddr", `{` + base + `,"srcaddr":"172.31.86.300"}`, "srcaddr", "invalid IP address"},
		{"srcaddr leading zero", `{` + base + `,"srcaddr":"172.031.86.1"}`, "srcaddr", "invalid IP address"},
		{"srcaddr hostname", `{` + base + `,"srcaddr":"host"}`, "srcaddr", "invalid IP address"},
		{"srcport too big", `{` + base + `,"srcport":"65536"}`, "srcport", "invalid port"},
		{"srcport negative", `{` + base + `,"srcport":-1}`, "srcport", "invalid port"},
		{"srcport fraction", `{` + base + `,"srcport":53.5}`, "srcport", "invalid port"},
		{"srcport bool", `{` + base + `,"srcport":true}`, "srcport", "invalid port"},
		{"answers string", `{` + base + `,"answers":"1.2.3.4"}`, "answers", "not an array"},
		{"answer string", `{` + base + `,"answers":["x"]}`, "answers", "not an object"},
		{"rdata number", `{` + base + `,"answers":[{"Rdata":5}]}`, "answers.Rdata", "not a string"},
		{"srcids string", `{` + base + `,"srcids":"i-1"}`, "srcids", "not an object"},
		{"srcids instance number", `{` + base + `,"srcids":{"instance":1}}`, "srcids.instance", "not a string"},
		{"version number", `{` + base + `,"version":1}`, "version", "not a string"},
		{"bad escape", `{` + base + `,"rcode":"\q"}`, "", "invalid escape"},
		{"bad unicode escape", `{` + base + `,"rcode":"\u12"}`, "", `invalid \u escape`},
		{"bad literal", `{` + base + `,"x":nul}`, "", "invalid literal"},
		{"unbalanced unknown", `{` + base + `,"x":]}`, "", "unexpected ']'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := `{` + base + `}` + "\n" + tt.line + "\n\n" + `{` + base + `}` + "\n"
			d := NewDecoder(strings.NewReader(in))
			var ev event.Event
			if err := d.Next(&ev); err != nil {
				t.Fatalf("record 1: %v", err)
			}
			err := d.Next(&ev)
			var re *decode.RecordError
			if !errors.As(err, &re) {
				t.Fatalf("record 2: got %v, want *decode.RecordError", err)
			}
			want := decode.RecordError{Line: 2, Record: 2, Offset: int64(len(base) + 3), Field: tt.field}
			if re.Line != want.Line || re.Record != want.Record || re.Offset != want.Offset || re.Field != want.Field {
				t.Errorf("got {Line:%d Record:%d Offset:%d Field:%q}, want {Line:%d Record:%d Offset:%d Field:%q}",
					re.Line, re.Record, re.Offset, re.Field, want.Line, want.Record, want.Offset, want.Field)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
			if p := d.Pos(); p.Record != 2 || p.Line != 2 || p.Offset != int64(len(base)+3+len(tt.line)+1) {
				t.Errorf("Pos after malformed record = %+v", p)
			}
			if err := d.Next(&ev); err != nil {
				t.Fatalf("record 3: %v", err)
			}
			if p := d.Pos(); p.Record != 3 || p.Line != 4 || p.Offset != int64(len(in)) {
				t.Errorf("Pos at end = %+v, want {Offset:%d Record:3 Line:4}", p, len(in))
			}
			if err := d.Next(&ev); err != io.EOF {
				t.Fatalf("at end: %v, want io.EOF", err)
			}
		})
	}
}

// growingReader returns io.EOF whenever its buffer is empty, like a file that
// is still being written.
type growingReader struct{ bytes.Buffer }

func (g *growingReader) Read(p []byte) (int, error) {
	if g.Len() == 0 {
		return 0, io.EOF
	}
	return g.Buffer.Read(p)
}

func TestTailing(t *testing.T) {
	rec := func(name string) string {
		return `{"query_timestamp":"2021-12-11T22:46:23Z","query_name":"` + name + `."}`
	}
	var g growingReader
	d := NewDecoder(&g)
	var ev event.Event
	next := func(want string) {
		t.Helper()
		err := d.Next(&ev)
		switch {
		case want == "EOF" && err != io.EOF:
			t.Fatalf("Next = %v (%q), want io.EOF", err, ev.DNS.QueryName)
		case want != "EOF" && err != nil:
			t.Fatalf("Next = %v, want %q", err, want)
		case want != "EOF" && ev.DNS.QueryName != want:
			t.Fatalf("QueryName = %q, want %q", ev.DNS.QueryName, want)
		}
	}
	next("EOF")
	g.WriteString(rec("a") + "\n")
	next("a")
	next("EOF")
	next("EOF")
	// A line written in pieces is held back until it is complete.
	r := rec("b")
	g.WriteString(r[:20])
	next("EOF")
	if d.Pending() != 20 {
		t.Errorf("Pending = %d, want 20", d.Pending())
	}
	g.WriteString(r[20:])
	// Complete but unterminated: delivered, and its newline is absorbed later.
	next("b")
	wantPos := decode.Position{Offset: int64(len(rec("a")) + 1 + len(r)), Record: 2, Line: 2}
	if d.Pos() != wantPos {
		t.Errorf("Pos = %+v, want %+v", d.Pos(), wantPos)
	}
	next("EOF")
	g.WriteString("\n" + rec("c") + "\n")
	next("c")
	wantPos = decode.Position{Offset: int64(len(rec("a"))+len(r)+len(rec("c"))) + 3, Record: 3, Line: 3}
	if d.Pos() != wantPos {
		t.Errorf("Pos = %+v, want %+v", d.Pos(), wantPos)
	}
	next("EOF")
	if d.Pending() != 0 {
		t.Errorf("Pending = %d, want 0", d.Pending())
	}
}

// errReader returns its data together with an error, then the error again.
type errReader struct {
	data []byte
	err  error
}

func (e *errReader) Read(p []byte) (int, error) {
	n := copy(p, e.data)
	e.data = e.data[n:]
	return n, e.err
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	line := `{"query_timestamp":"2021-12-11T22:46:23Z","query_name":"a."}`
	d := NewDecoder(&errReader{data: []byte(line + "\n" + line[:10]), err: boom})
	var ev event.Event
	if err := d.Next(&ev); err != nil {
		t.Fatalf("Next = %v, want the record before the error", err)
	}
	if err := d.Next(&ev); err != boom {
		t.Fatalf("Next = %v, want %v", err, boom)
	}
	if d.Pos().Record != 1 {
		t.Errorf("Pos = %+v", d.Pos())
	}
}

func TestLongLine(t *testing.T) {
	good := `{"query_timestamp":"2021-12-11T22:46:23Z","query_name":"a."}`
	long := `{"query_timestamp":"2021-12-11T22:46:23Z","query_name":"a.","pad":"` + strings.Repeat("x", MaxLine) + `"}`
	// Just under the limit: one line of MaxLine-1 bytes still decodes.
	fits := `{"query_timestamp":"2021-12-11T22:46:23Z","query_name":"b.","pad":"`
	fits += strings.Repeat("y", MaxLine-1-len(fits)-2) + `"}`
	in := good + "\n" + long + "\n" + fits + "\n" + good + "\n"
	d := NewDecoder(strings.NewReader(in))
	var ev event.Event
	if err := d.Next(&ev); err != nil {
		t.Fatal(err)
	}
	err := d.Next(&ev)
	var re *decode.RecordError
	if !errors.As(err, &re) || re.Line != 2 || re.Record != 2 || re.Offset != int64(len(good)+1) {
		t.Fatalf("long line: got %v (%+v)", err, re)
	}
	if err := d.Next(&ev); err != nil || ev.DNS.QueryName != "b" {
		t.Fatalf("line that fits: %v %q", err, ev.DNS.QueryName)
	}
	if err := d.Next(&ev); err != nil || ev.DNS.QueryName != "a" {
		t.Fatalf("after long line: %v", err)
	}
	if p := d.Pos(); p.Offset != int64(len(in)) || p.Record != 4 || p.Line != 4 {
		t.Errorf("Pos = %+v", p)
	}
	if err := d.Next(&ev); err != io.EOF {
		t.Fatal(err)
	}
}

func TestSniff(t *testing.T) {
	line := `{` + base + `,"srcaddr":"172.31.86.159"}`
	tests := []struct {
		name string
		head string
		want bool
	}{
		{"record", line + "\n", true},
		{"no newline", line, true},
		{"blank lines first", "\n\r\n  \n" + line + "\n", true},
		{"bom", "\xef\xbb\xbf" + line + "\n", true},
		{"cut off", line[:len(line)/2+40], true},
		{"malformed but keyed", `{"query_name":"x.","query_timestamp":"bad"}` + "\n", true},
		{"empty", "", false},
		{"blank", "\n\n", false},
		{"cloudtrail", `{"Records":[{"eventVersion":"1.08","eventTime":"2021-12-11T22:46:23Z"}]}`, false},
		{"vpc flow", "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n", false},
		{"other json", `{"a":1}` + "\n" + line + "\n", false},
		{"binary", "\x1f\x8b\x08\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sniff([]byte(tt.head)); got != tt.want {
				t.Errorf("Sniff = %v, want %v", got, tt.want)
			}
		})
	}
}

// goldenRecord is one line of a .golden file.
type goldenRecord struct {
	Pos   decode.Position
	Error string          `json:",omitempty"`
	DNS   *event.DNSQuery `json:",omitempty"`
}

func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.input")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no testdata/*.input: %v", err)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			d := NewDecoder(bytes.NewReader(data))
			var ev event.Event
			for {
				err := d.Next(&ev)
				if err == io.EOF {
					break
				}
				g := goldenRecord{Pos: d.Pos()}
				switch {
				case err == nil:
					q := ev.DNS
					g.DNS = &q
				case decode.IsRecordError(err):
					g.Error = err.Error()
				default:
					t.Fatal(err)
				}
				b, err := json.Marshal(g)
				if err != nil {
					t.Fatal(err)
				}
				out.Write(b)
				out.WriteByte('\n')
			}
			golden := strings.TrimSuffix(in, ".input") + ".golden"
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("output differs from %s (go test -update rewrites it):\n%s", golden, lineDiff(string(want), out.String()))
			}
		})
	}
}

// lineDiff lists the lines that differ between want and got.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}

// TestRealSamples decodes the Elastic integration test corpus: every
// well-formed JSON line must decode, and agree with encoding/json on the
// fields both read.
func TestRealSamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(realSamples, "*.log"))
	if len(files) == 0 {
		t.Skipf("no Route 53 sample logs in %s (shared/eval corpus absent)", realSamples)
	}
	total := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !Sniff(data) {
			t.Errorf("%s: Sniff = false", f)
		}
		var lines []string
		for l := range strings.Lines(string(data)) {
			if strings.TrimSpace(l) != "" {
				lines = append(lines, l)
			}
		}
		d := NewDecoder(bytes.NewReader(data))
		var ev event.Event
		for i, l := range lines {
			var ref struct {
				QueryName string `json:"query_name"`
				Timestamp string `json:"query_timestamp"`
				SrcAddr   string `json:"srcaddr"`
				Answers   []struct{ Rdata, Type, Class string }
				Action    string `json:"firewall_rule_action"`
			}
			wellFormed := json.Unmarshal([]byte(l), &ref) == nil
			err := d.Next(&ev)
			if !wellFormed {
				if !decode.IsRecordError(err) {
					t.Errorf("%s: line %d is not JSON, got %v", f, i+1, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: line %d: %v", f, i+1, err)
				continue
			}
			total++
			q := ev.DNS
			wantName := strings.TrimSuffix(strings.ToLower(ref.QueryName), ".")
			if q.QueryName != wantName || q.SrcAddr.String() != ref.SrcAddr ||
				q.Time.Format(time.RFC3339) != ref.Timestamp || len(q.Answers) != len(ref.Answers) ||
				q.FirewallRuleAction != ref.Action {
				t.Errorf("%s: line %d: decoded %+v, encoding/json read %+v", f, i+1, q, ref)
				continue
			}
			for j, a := range ref.Answers {
				if q.Answers[j] != (event.DNSAnswer{Rdata: a.Rdata, Type: a.Type, Class: a.Class}) {
					t.Errorf("%s: line %d: answer %d = %+v, want %+v", f, i+1, j, q.Answers[j], a)
				}
			}
		}
		if err := d.Next(&ev); err != io.EOF {
			t.Errorf("%s: after the last line: %v", f, err)
		}
		if p := d.Pos(); p.Offset != int64(len(data)) || p.Record != int64(len(lines)) {
			t.Errorf("%s: Pos = %+v, want Offset %d Record %d", f, p, len(data), len(lines))
		}
	}
	t.Logf("%d records from %d files", total, len(files))
}

func FuzzDecode(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/*.input")
	samples, _ := filepath.Glob(filepath.Join(realSamples, "*.log"))
	for _, name := range append(inputs, samples...) {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"query_name":"\ud83d\ude00","query_timestamp":"2021-12-11T22:46:23Z","answers":[{"Rdata":"\u0000"}]}`))
	f.Add([]byte("{\n{\"a\":[[[[[[\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Reading one byte at a time gives the same results.
		whole, bytewise := decodeAll(bytes.NewReader(data)), decodeAll(iotest.OneByteReader(bytes.NewReader(data)))
		if !slices.Equal(whole, bytewise) {
			t.Fatalf("whole read:\n%q\none byte at a time:\n%q", whole, bytewise)
		}
		d := NewDecoder(bytes.NewReader(data))
		var ev event.Event
		last := int64(0)
		// Every call consumes at least one line or ends, so the loop is
		// bounded by the line count.
		limit := bytes.Count(data, []byte{'\n'}) + 2
		for i := 0; ; i++ {
			if i > limit {
				t.Fatalf("no end after %d calls", i)
			}
			err := d.Next(&ev)
			p := d.Pos()
			if p.Record < last || p.Offset > int64(len(data)) {
				t.Fatalf("Pos went from record %d to %+v (input %d bytes)", last, p, len(data))
			}
			last = p.Record
			if err == io.EOF {
				break
			}
			if err != nil && !decode.IsRecordError(err) {
				t.Fatalf("unexpected error %v", err)
			}
			if err == nil && (ev.Kind != event.KindDNS || strings.ContainsFunc(ev.DNS.QueryName, func(r rune) bool { return 'A' <= r && r <= 'Z' })) {
				t.Fatalf("bad event %+v", ev)
			}
		}
		Sniff(data)
	})
}

// decodeAll renders every result of decoding r, up to io.EOF.
func decodeAll(r io.Reader) []string {
	d := NewDecoder(r)
	var out []string
	var ev event.Event
	for {
		err := d.Next(&ev)
		if err == io.EOF {
			return out
		}
		out = append(out, fmt.Sprintf("%+v %v %+v", d.Pos(), err, ev.DNS))
		if err != nil && !decode.IsRecordError(err) {
			return out
		}
	}
}

func TestSmallReads(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/*.input")
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		want := decodeAll(bytes.NewReader(data))
		for name, r := range map[string]io.Reader{
			"one byte":   iotest.OneByteReader(bytes.NewReader(data)),
			"half":       iotest.HalfReader(bytes.NewReader(data)),
			"data + EOF": iotest.DataErrReader(bytes.NewReader(data)),
		} {
			if got := decodeAll(r); !slices.Equal(got, want) {
				t.Errorf("%s, %s: results differ from a whole read", in, name)
			}
		}
	}
}

// benchInput is about 1 MB of the sample corpus (or the golden inputs),
// repeated.
func benchInput(tb testing.TB) ([]byte, int) {
	files, _ := filepath.Glob(filepath.Join(realSamples, "*.log"))
	if len(files) == 0 {
		files = []string{"testdata/basic.input"}
	}
	var one []byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		one = append(one, data...)
		if len(one) > 0 && one[len(one)-1] != '\n' {
			one = append(one, '\n')
		}
	}
	n := bytes.Count(one, []byte{'\n'})
	var all []byte
	records := 0
	for len(all) < 1<<20 {
		all = append(all, one...)
		records += n
	}
	return all, records
}

func TestAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are slow to measure")
	}
	data, records := benchInput(t)
	d := NewDecoder(bytes.NewReader(data))
	var ev event.Event
	// Warm up: buffers and the intern table.
	for range 100 {
		if err := d.Next(&ev); err != nil {
			t.Fatal(err)
		}
	}
	per := testing.AllocsPerRun(1, func() {
		d := NewDecoder(bytes.NewReader(data))
		d.intern, d.answers, d.arena = map[string]string{}, make([]event.DNSAnswer, 0, 8), make([]byte, 0, 512)
		for {
			if err := d.Next(&ev); err == io.EOF {
				break
			} else if err != nil && !decode.IsRecordError(err) {
				t.Fatal(err)
			}
		}
	}) / float64(records)
	t.Logf("%.3f allocs/record", per)
	if per > 2 {
		t.Errorf("%.3f allocs/record, want at most 2", per)
	}
	// A typical IPv4 record costs exactly one allocation: the string shared by
	// query_name and the answers.
	line := []byte(`{` + base + `,"answers":[{"Rdata":"s3-r-w.amazonaws.com.","Type":"CNAME","Class":"IN"},{"Rdata":"67.43.156.12","Type":"A","Class":"IN"}],"srcaddr":"172.31.86.159","srcport":"48701","transport":"UDP","srcids":{"instance":"i-0abc"}}` + "\n")
	r := bytes.NewReader(nil)
	d = NewDecoder(r)
	got := testing.AllocsPerRun(1000, func() {
		r.Reset(line)
		if err := d.Next(&ev); err != nil {
			t.Fatal(err)
		}
	})
	if got != 1 {
		t.Errorf("typical record: %v allocs, want 1", got)
	}
}

// Command: go test ./decode/route53 -run '^$' -bench Decode -benchmem -cpu 1 -count 5
func BenchmarkDecode(b *testing.B) {
	b.Run("format=route53", func(b *testing.B) {
		data, records := benchInput(b)
		r := bytes.NewReader(data)
		var ev event.Event
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			r.Reset(data)
			d := NewDecoder(r)
			for {
				if err := d.Next(&ev); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
}

// Normalising pipelines write a lone answer as an object and drop the
// timestamp's zone; both are read.
func TestNormalisedShapes(t *testing.T) {
	in := `{"query_name":"a.example.","query_timestamp":"2022-06-25 00:27:53","answers":{"Class":"IN","Rdata":"1.2.3.4","Type":"A"},"srcaddr":"10.0.0.1","srcport":"53"}` + "\n"
	d := NewDecoder(strings.NewReader(in))
	var ev event.Event
	if err := d.Next(&ev); err != nil {
		t.Fatal(err)
	}
	q := ev.DNS
	if len(q.Answers) != 1 || q.Answers[0].Rdata != "1.2.3.4" || q.Answers[0].Type != "A" {
		t.Errorf("answers = %+v", q.Answers)
	}
	if want := time.Date(2022, 6, 25, 0, 27, 53, 0, time.UTC); !q.Time.Equal(want) {
		t.Errorf("time = %v, want %v", q.Time, want)
	}
}
