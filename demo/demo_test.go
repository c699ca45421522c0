package demo

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func generate(t *testing.T, opts Options) *Manifest {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	m, err := Generate(opts)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return m
}

func gunzip(t *testing.T, p string) []byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return b
}

func TestDeterministic(t *testing.T) {
	opts := Options{Seed: 42, Scale: 1, Start: time.Date(2026, 11, 21, 9, 3, 0, 0, time.UTC)}
	a, b := opts, opts
	a.Dir, b.Dir = t.TempDir(), t.TempDir()
	ma, mb := generate(t, a), generate(t, b)
	if len(ma.Files) != len(mb.Files) {
		t.Fatalf("got %d and %d files", len(ma.Files), len(mb.Files))
	}
	for i := range ma.Files {
		ra, _ := filepath.Rel(a.Dir, ma.Files[i])
		rb, _ := filepath.Rel(b.Dir, mb.Files[i])
		if ra != rb {
			t.Fatalf("file %d: %s vs %s", i, ra, rb)
		}
		da, err := os.ReadFile(ma.Files[i])
		if err != nil {
			t.Fatal(err)
		}
		db, err := os.ReadFile(mb.Files[i])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(da, db) {
			t.Errorf("%s differs between runs", ra)
		}
	}
	// A different seed changes the data.
	c := opts
	c.Dir, c.Seed = t.TempDir(), 43
	mc := generate(t, c)
	same := 0
	for i := range mc.Files {
		da, _ := os.ReadFile(ma.Files[i])
		dc, _ := os.ReadFile(mc.Files[i])
		if bytes.Equal(da, dc) {
			same++
		}
	}
	if same == len(mc.Files) {
		t.Error("seed 42 and 43 produced identical output")
	}
}

func TestFormats(t *testing.T) {
	m := generate(t, Options{Seed: 1, Scale: 1})
	records := map[string]int{}
	malformed := map[string]int{}
	trailObjects := map[string][]byte{} // S3 key → uncompressed content
	var digests [][]byte
	var flowFiles, dnsFiles, trailFiles int

	for _, p := range m.Files {
		slash := filepath.ToSlash(p)
		switch {
		case strings.Contains(slash, "/CloudTrail-Digest/"):
			if !strings.HasSuffix(p, ".json.gz") {
				t.Errorf("%s: digest not .json.gz", p)
			}
			digests = append(digests, gunzip(t, p))
		case strings.Contains(slash, "/CloudTrail/"):
			trailFiles++
			if !strings.HasSuffix(p, ".json.gz") {
				t.Errorf("%s: not .json.gz", p)
			}
			data := gunzip(t, p)
			trailObjects[slash[strings.Index(slash, "AWSLogs/"):]] = data
			var doc struct{ Records []json.RawMessage }
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if len(doc.Records) == 0 {
				t.Errorf("%s: no records", p)
			}
			for _, raw := range doc.Records {
				records[fmtTrail]++
				var rec struct {
					EventVersion string `json:"eventVersion"`
					EventTime    string `json:"eventTime"`
					EventSource  string `json:"eventSource"`
					EventName    string `json:"eventName"`
					EventID      string `json:"eventID"`
					EventType    string `json:"eventType"`
					UserIdentity struct {
						Type string `json:"type"`
					} `json:"userIdentity"`
					RecipientAccountID string `json:"recipientAccountId"`
					EventCategory      string `json:"eventCategory"`
				}
				if err := json.Unmarshal(raw, &rec); err != nil {
					malformed[fmtTrail]++
					continue
				}
				if _, err := time.Parse(time.RFC3339, rec.EventTime); err != nil {
					t.Errorf("%s: eventTime %q", p, rec.EventTime)
				}
				if rec.EventVersion != "1.08" && rec.EventVersion != "1.09" || rec.EventSource == "" || rec.EventName == "" ||
					rec.EventID == "" || rec.EventType == "" || rec.UserIdentity.Type == "" || rec.RecipientAccountID != accountID ||
					(rec.EventCategory != "Management" && rec.EventCategory != "Data") {
					t.Errorf("%s: incomplete record %s", p, raw)
				}
			}
		case strings.Contains(slash, "/vpcflowlogs/"):
			flowFiles++
			if !strings.HasSuffix(p, ".log.gz") {
				t.Errorf("%s: not .log.gz", p)
			}
			sc := bufio.NewScanner(bytes.NewReader(gunzip(t, p)))
			if !sc.Scan() {
				t.Fatalf("%s: empty", p)
			}
			header := strings.Fields(sc.Text())
			if header[0] != "version" {
				t.Fatalf("%s: first line is not a header: %q", p, sc.Text())
			}
			for sc.Scan() {
				records[fmtFlow]++
				f := strings.Fields(sc.Text())
				if len(f) != len(header) {
					malformed[fmtFlow]++
					continue
				}
				if f[0] != "2" && f[0] != "5" || f[1] != accountID || !strings.HasPrefix(f[2], "eni-") {
					t.Errorf("%s: bad record %q", p, sc.Text())
				}
				if f[13] == "OK" {
					if _, err := netip.ParseAddr(f[3]); err != nil {
						t.Errorf("%s: srcaddr %q", p, f[3])
					}
				}
			}
		case strings.Contains(slash, "/vpcdnsquerylogs/"):
			dnsFiles++
			if !strings.HasSuffix(p, ".log.gz") {
				t.Errorf("%s: not .log.gz", p)
			}
			sc := bufio.NewScanner(bytes.NewReader(gunzip(t, p)))
			for sc.Scan() {
				records[fmtDNS]++
				var rec map[string]json.RawMessage
				if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
					malformed[fmtDNS]++
					continue
				}
				if len(rec) != 14 {
					t.Errorf("%s: %d keys in %s", p, len(rec), sc.Text())
				}
			}
		}
	}
	if flowFiles == 0 || dnsFiles == 0 || trailFiles == 0 {
		t.Fatalf("files: %d flow, %d dns, %d cloudtrail", flowFiles, dnsFiles, trailFiles)
	}
	for _, f := range []string{fmtFlow, fmtDNS, fmtTrail} {
		if records[f] != m.Records[f] {
			t.Errorf("%s: read %d records, manifest says %d", f, records[f], m.Records[f])
		}
		if malformed[f] != m.Malformed[f] || m.Malformed[f] == 0 {
			t.Errorf("%s: %d malformed records, manifest says %d", f, malformed[f], m.Malformed[f])
		}
	}

	if len(digests) != 1 {
		t.Fatalf("got %d digest files, want 1", len(digests))
	}
	var dg map[string]json.RawMessage
	if err := json.Unmarshal(digests[0], &dg); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"awsAccountId", "digestStartTime", "digestEndTime", "digestS3Bucket", "digestS3Object", "newestEventTime",
		"oldestEventTime", "previousDigestS3Bucket", "previousDigestS3Object", "previousDigestHashValue", "previousDigestHashAlgorithm",
		"previousDigestSignature", "digestPublicKeyFingerprint", "digestSignatureAlgorithm", "logFiles"} {
		if _, ok := dg[k]; !ok {
			t.Errorf("digest lacks %s", k)
		}
	}
	var logs []struct{ S3Object, HashValue string }
	if err := json.Unmarshal(dg["logFiles"], &logs); err != nil || len(logs) == 0 {
		t.Fatalf("digest logFiles: %v (%d)", err, len(logs))
	}
	for _, l := range logs {
		data, ok := trailObjects[l.S3Object]
		if !ok {
			t.Errorf("digest lists %s, not written", l.S3Object)
			continue
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != l.HashValue {
			t.Errorf("digest hash of %s does not match", l.S3Object)
		}
	}
}

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	m := generate(t, Options{Dir: dir, Seed: 7})
	data, err := os.ReadFile(m.Config)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != configYAML {
		t.Fatal("vigil.yaml differs from the documented shape")
	}
	base := filepath.Dir(m.Config)
	var paths []string
	for _, line := range strings.Split(string(data), "\n") {
		for _, key := range []string{"path: ", "inventory: ", "aws_ip_ranges: "} {
			i := strings.Index(line, key)
			if i < 0 {
				continue
			}
			v := line[i+len(key):]
			if j := strings.IndexAny(v, ",}"); j >= 0 {
				v = v[:j]
			}
			paths = append(paths, strings.TrimSpace(v))
		}
	}
	if len(paths) != 11 {
		t.Fatalf("found %d paths in vigil.yaml: %q", len(paths), paths)
	}
	for _, p := range paths {
		if p == "data/vigil.db" {
			p = "data"
		}
		if _, err := os.Stat(filepath.Join(base, p)); err != nil {
			t.Errorf("config path %s: %v", p, err)
		}
	}
	for _, f := range m.Files {
		if !strings.HasPrefix(f, dir) {
			t.Errorf("%s is outside %s", f, dir)
		}
		if strings.HasSuffix(f, ".gz") && !strings.HasPrefix(filepath.ToSlash(f), filepath.ToSlash(dir)+"/logs/AWSLogs/111122223333/") {
			t.Errorf("%s is not under logs/AWSLogs/<account>/", f)
		}
	}
}

func TestExpected(t *testing.T) {
	m := generate(t, Options{Seed: 1})
	want := []string{
		"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
		"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS",
		"UnauthorizedAccess:IAMUser/TorIPCaller",
		"Recon:IAMUser/TorIPCaller",
		"UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom",
		"Recon:IAMUser/MaliciousIPCaller.Custom",
		"CryptoCurrency:EC2/BitcoinTool.B!DNS",
		"CryptoCurrency:EC2/BitcoinTool.B",
		"Recon:EC2/PortProbeUnprotectedPort",
		"Recon:EC2/PortProbeEMRUnprotectedPort",
		"UnauthorizedAccess:EC2/TorClient",
		"UnauthorizedAccess:EC2/TorRelay",
		"UnauthorizedAccess:EC2/MaliciousIPCaller.Custom",
		"Backdoor:EC2/C&CActivity.B",
		"Backdoor:EC2/C&CActivity.B!DNS",
		"Policy:IAMUser/RootCredentialUsage",
		"Stealth:IAMUser/CloudTrailLoggingDisabled",
	}
	var got []string
	for _, e := range m.Expected {
		if e.Resource == "" || e.Note == "" {
			t.Errorf("%s: empty resource or note", e.Type)
		}
		if !strings.HasPrefix(e.Resource, "i-") && !strings.HasPrefix(e.Resource, "AKIA") && !strings.HasPrefix(e.Resource, "ASIA") {
			t.Errorf("%s: resource %q is neither an instance nor an access key", e.Type, e.Resource)
		}
		got = append(got, e.Type)
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("manifest lacks %s", w)
		}
	}
	if len(m.NearMisses) < 10 {
		t.Errorf("got %d near misses", len(m.NearMisses))
	}
}

// TestLists checks the addresses the scenario relies on against the files
// the detectors will read.
func TestLists(t *testing.T) {
	dir := t.TempDir()
	generate(t, Options{Dir: dir, Seed: 1})
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	lines := func(name string) []string {
		var out []string
		for _, l := range strings.Split(read(name), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				out = append(out, l)
			}
		}
		return out
	}
	var ranges struct {
		Prefixes []struct {
			IPPrefix string `json:"ip_prefix"`
			Service  string `json:"service"`
		} `json:"prefixes"`
		IPv6Prefixes []struct {
			IPv6Prefix string `json:"ipv6_prefix"`
		} `json:"ipv6_prefixes"`
	}
	if err := json.Unmarshal([]byte(read("ip-ranges.json")), &ranges); err != nil {
		t.Fatal(err)
	}
	inAWS := func(a netip.Addr) bool {
		for _, p := range ranges.Prefixes {
			if netip.MustParsePrefix(p.IPPrefix).Contains(a) {
				return true
			}
		}
		for _, p := range ranges.IPv6Prefixes {
			if netip.MustParsePrefix(p.IPv6Prefix).Contains(a) {
				return true
			}
		}
		return false
	}
	for _, h := range hosts {
		if h.Public.IsValid() && !inAWS(h.Public) {
			t.Errorf("%s's %s is not in ip-ranges.json", h.Name, h.Public)
		}
	}
	for _, a := range []netip.Addr{natPublic, ciRunnerIP, exfilInsideIP, hWeb.IPv6} {
		if !inAWS(a) {
			t.Errorf("%s is not in ip-ranges.json", a)
		}
	}
	for _, a := range []netip.Addr{exfilOutsideIP, torExitIP, customCIIP, officeIP, aliceHomeIP, rootAdminIP} {
		if inAWS(a) {
			t.Errorf("%s is in ip-ranges.json", a)
		}
	}
	if !strings.Contains(read("lists/tor-exit-addresses"), "ExitAddress "+torExitIP.String()+" ") {
		t.Error("Tor exit missing from tor-exit-addresses")
	}
	relays := lines("lists/tor-relays.txt")
	for i := 1; i < 22; i++ {
		if !slices.Contains(relays, torRelay(i).String()) {
			t.Errorf("relay %s missing", torRelay(i))
		}
	}
	custom := lines("lists/custom-threats.txt")
	for _, a := range []netip.Addr{customCIIP, customWebIP, officeIP} {
		if !slices.Contains(custom, a.String()) {
			t.Errorf("%s missing from custom-threats.txt", a)
		}
	}
	if office := lines("lists/office.txt"); !netip.MustParsePrefix(office[0]).Contains(officeIP) {
		t.Error("office IP not in office.txt")
	}
	mining := lines("lists/mining.txt")
	for _, s := range []string{"supportxmr.com", "nanopool.org", miningIP1.String(), miningIP2.String()} {
		if !slices.Contains(mining, s) {
			t.Errorf("%s missing from mining.txt", s)
		}
	}
	if slices.Contains(mining, "notsupportxmr.com") {
		t.Error("near-miss domain is listed")
	}
	c2 := read("lists/c2.csv")
	if !strings.HasPrefix(c2, "indicator,type,threat\n") || !strings.Contains(c2, "\nguarddutyc2activityb.com,") || !strings.Contains(c2, "\n"+c2IP.String()+",") {
		t.Errorf("c2.csv: %q", c2)
	}
	var bundle struct {
		Type    string
		Objects []struct {
			Type, Pattern  string
			IndicatorTypes []string `json:"indicator_types"`
		}
	}
	if err := json.Unmarshal([]byte(read("lists/scanners.stix.json")), &bundle); err != nil || bundle.Type != "bundle" {
		t.Fatalf("stix: %v %q", err, bundle.Type)
	}
	var patterns []string
	for _, o := range bundle.Objects {
		if o.Type == "indicator" {
			patterns = append(patterns, o.Pattern)
		}
	}
	for _, a := range []netip.Addr{scannerSSH, scannerES, scannerEMR, scannerWeb, scannerRejected} {
		if !slices.Contains(patterns, "[ipv4-addr:value = '"+a.String()+"']") {
			t.Errorf("scanner %s missing from STIX bundle", a)
		}
	}

	var inv struct {
		Reservations []struct {
			Instances []struct {
				InstanceId        string
				PublicIpAddress   string
				NetworkInterfaces []struct{ NetworkInterfaceId string }
				Tags              []struct{ Key, Value string }
			}
		}
	}
	if err := json.Unmarshal([]byte(read("inventory/describe-instances.json")), &inv); err != nil {
		t.Fatal(err)
	}
	if len(inv.Reservations) != len(hosts) {
		t.Fatalf("got %d reservations", len(inv.Reservations))
	}
	for i, r := range inv.Reservations {
		in := r.Instances[0]
		if in.InstanceId != hosts[i].ID || in.NetworkInterfaces[0].NetworkInterfaceId != hosts[i].ENI || in.Tags[0].Value != hosts[i].Name {
			t.Errorf("inventory entry %d: %+v", i, in)
		}
	}
}

func TestStreaming(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const n = 3000

	var b bytes.Buffer
	if err := WriteFlows(&b, n, 1, start); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != n+1 || lines[0] != headerV2 {
		t.Fatalf("flows: %d lines, header %q", len(lines), lines[0])
	}
	for _, l := range lines[1:] {
		if len(strings.Fields(l)) != 14 {
			t.Fatalf("flow line %q", l)
		}
	}

	b.Reset()
	if err := WriteDNS(&b, n, 1, start); err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("dns: %d lines", len(lines))
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("dns line %q", l)
		}
	}

	b.Reset()
	if err := WriteCloudTrail(&b, n, 1, start); err != nil {
		t.Fatal(err)
	}
	var doc struct{ Records []struct{ EventTime string } }
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Records) != n {
		t.Fatalf("cloudtrail: %d records", len(doc.Records))
	}
	if doc.Records[0].EventTime < "2026-01-02T03:04:05Z" {
		t.Errorf("first event at %s, before start", doc.Records[0].EventTime)
	}

	b.Reset()
	if err := WriteCloudTrail(&b, 0, 1, start); err != nil || b.String() != `{"Records":[]}` {
		t.Errorf("empty document: %q, %v", b.String(), err)
	}
}

func BenchmarkGenerate(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		if _, err := Generate(Options{Dir: dir, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
