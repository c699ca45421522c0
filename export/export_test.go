package export

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/vigilsec/vigil/finding"
)

var exportAt = time.Date(2026, 3, 7, 15, 4, 5, 0, time.FixedZone("x", 2*3600))

// testFindings returns findings of two accounts and two regions; the one
// with id "archived" is archived.
func testFindings() []finding.Finding {
	conf := 7.5
	created := int64(1700000000)
	mk := func(account, region, id, typ, updated string) finding.Finding {
		det := finding.DetectorID(account, region)
		return finding.Finding{
			AccountID:     account,
			Arn:           finding.ARN("aws", region, account, det, id),
			CreatedAt:     "2026-03-07T12:00:00.000Z",
			Description:   "EC2 instance i-0abc is communicating with <b>evil</b> & co.",
			ID:            id,
			Partition:     "aws",
			Region:        region,
			SchemaVersion: "2.0",
			Severity:      8,
			Title:         "Outbound traffic to a malicious IP",
			Type:          typ,
			UpdatedAt:     updated,
			Resource: finding.Resource{
				ResourceType: finding.ResourceInstance,
				InstanceDetails: &finding.InstanceDetails{
					InstanceID: "i-0abc", InstanceType: "t3.micro", AvailabilityZone: region + "a",
					Tags: []finding.Tag{{Key: "Name", Value: "web"}},
					NetworkInterfaces: []finding.NetworkInterface{{
						PrivateIPAddress: "10.0.0.5", PublicIP: "203.0.113.5",
						SecurityGroups: []finding.SecurityGroup{{GroupID: "sg-1", GroupName: "web"}},
					}},
				},
			},
			Service: finding.Service{
				Action: finding.Action{
					ActionType: finding.ActionNetworkConnection,
					NetworkConnectionAction: &finding.NetworkConnectionAction{
						ConnectionDirection: finding.DirectionOutbound,
						Protocol:            "TCP",
						LocalPortDetails:    &finding.PortDetails{Port: 49152, PortName: "Unknown"},
						RemotePortDetails:   &finding.PortDetails{Port: 443, PortName: "HTTPS"},
						RemoteIPDetails: &finding.RemoteIPDetails{
							IPAddressV4: "198.51.100.7",
							Country:     &finding.Country{CountryName: "Nowhere"},
							GeoLocation: &finding.GeoLocation{Lat: 39.9289, Lon: 116.388},
							Organization: &finding.Organization{
								Asn: "64500", AsnOrg: "Example", Isp: "Example", Org: "Example",
							},
						},
					},
				},
				AdditionalInfo: &finding.AdditionalInfo{Value: `{"threatListName":"c2"}`, Type: "default"},
				Count:          3,
				DetectorID:     det,
				EventFirstSeen: "2026-03-07T12:00:00.000Z",
				EventLastSeen:  updated,
				Evidence: &finding.Evidence{ThreatIntelligenceDetails: []finding.ThreatIntelligenceDetail{
					{ThreatListName: "c2", ThreatNames: []string{"BACKDOOR.X"}},
				}},
				ResourceRole: finding.RoleActor,
				ServiceName:  "guardduty",
			},
		}
	}
	fs := []finding.Finding{
		mk("111122223333", "us-east-1", "b2", "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", "2026-03-07T13:00:00.000Z"),
		mk("111122223333", "us-east-1", "a1", "Backdoor:EC2/C&CActivity.B", "2026-03-07T13:00:00.000Z"),
		mk("111122223333", "eu-west-1", "c3", "Recon:EC2/PortProbeUnprotectedPort", "2026-03-07T12:30:00.000Z"),
		mk("444455556666", "us-east-1", "d4", "CryptoCurrency:EC2/BitcoinTool.B!DNS", "2026-03-07T12:10:00.000Z"),
		mk("111122223333", "us-east-1", "archived", "Recon:EC2/Portscan", "2026-03-07T11:00:00.000Z"),
		mk("111122223333", "us-east-1", "e5", "Recon:EC2/Portscan", "2026-03-07T12:00:00.000Z"),
	}
	fs[0].Confidence = &conf
	fs[3].Resource = finding.Resource{ResourceType: finding.ResourceS3Bucket, S3BucketDetails: []finding.S3BucketDetail{
		{Arn: "arn:aws:s3:::b", Name: "b", Type: "Destination", CreatedAt: &created, Owner: &finding.Owner{ID: "o"}},
	}}
	fs[3].Service.Action = finding.Action{ActionType: finding.ActionAWSAPICall, AwsAPICallAction: &finding.AwsAPICallAction{
		API: "GetObject", ServiceName: "s3.amazonaws.com", AffectedResources: map[string]string{"AWS::S3::Bucket": "b"},
		RemoteIPDetails: &finding.RemoteIPDetails{IPAddressV6: "2001:db8::1"},
	}}
	fs[4].Service.Archived = true
	return fs
}

// wantGroups is what testFindings exports, by key (without prefix), in
// export order.
func wantGroups(fs []finding.Finding) map[string][]finding.Finding {
	byID := map[string]finding.Finding{}
	for _, f := range fs {
		byID[f.ID] = f
	}
	pick := func(ids ...string) []finding.Finding {
		var out []finding.Finding
		for _, id := range ids {
			out = append(out, byID[id])
		}
		return out
	}
	return map[string][]finding.Finding{
		"111122223333/GuardDuty/eu-west-1": pick("c3"),
		// ordered by updatedAt, then id
		"111122223333/GuardDuty/us-east-1": pick("e5", "a1", "b2"),
		"444455556666/GuardDuty/us-east-1": pick("d4"),
	}
}

var keyRE = regexp.MustCompile(`^(?:(.+)/)?AWSLogs/(\d{12}/GuardDuty/[a-z0-9-]+)/2026/03/07/[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.jsonl\.gz$`)

// checkExport verifies keys and the objects get(key) returns.
func checkExport(t *testing.T, prefix string, keys []string, get func(key string) []byte) {
	t.Helper()
	fs := testFindings()
	want := wantGroups(fs)
	if len(keys) != len(want) {
		t.Fatalf("keys = %q, want %d", keys, len(want))
	}
	var groups []string
	for _, k := range keys {
		m := keyRE.FindStringSubmatch(k)
		if m == nil {
			t.Fatalf("key %q does not have the export layout", k)
		}
		if m[1] != prefix {
			t.Errorf("key %q: prefix %q, want %q", k, m[1], prefix)
		}
		groups = append(groups, m[2])
		body := get(k)
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: not gzip: %v", k, err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(raw, []byte("\n")); n != len(want[m[2]]) || !bytes.HasSuffix(raw, []byte("\n")) {
			t.Errorf("%s: %d lines, want %d", k, n, len(want[m[2]]))
		}
		if bytes.Contains(raw, []byte(`\u0026`)) {
			t.Errorf("%s: HTML-escaped JSON", k)
		}
		got, err := ReadObject(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("ReadObject(%s): %v", k, err)
		}
		if !reflect.DeepEqual(got, want[m[2]]) {
			t.Errorf("%s read back:\n%+v\nwant\n%+v", k, got, want[m[2]])
		}
		for _, f := range got {
			if f.Service.Archived || f.ID == "archived" {
				t.Errorf("%s: archived finding exported", k)
			}
		}
	}
	if !slices.IsSorted(groups) {
		t.Errorf("keys not in account, region order: %q", keys)
	}
}

func TestExportDir(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	for _, prefix := range []string{"", "guardduty/findings"} {
		e := New(NewDir(root), "/"+prefix+"/")
		keys, err := e.Export(ctx, testFindings(), exportAt)
		if err != nil {
			t.Fatal(err)
		}
		checkExport(t, prefix, keys, func(k string) []byte {
			b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(k)))
			if err != nil {
				t.Fatal(err)
			}
			return b
		})
		// The date is the export time in UTC.
		if !strings.Contains(keys[0], "/eu-west-1/2026/03/07/") {
			t.Errorf("key %q", keys[0])
		}

		// A retry writes the same keys and bytes; a later export new ones.
		again, err := e.Export(ctx, testFindings(), exportAt)
		if err != nil || !slices.Equal(again, keys) {
			t.Errorf("retry keys = %q, %v; want %q", again, err, keys)
		}
		later, err := e.Export(ctx, testFindings(), exportAt.Add(time.Millisecond))
		if err != nil || len(later) != len(keys) || slices.ContainsFunc(later, func(k string) bool { return slices.Contains(keys, k) }) {
			t.Errorf("later keys = %q, %v", later, err)
		}
		// Input order does not matter.
		fs := testFindings()
		slices.Reverse(fs)
		if rev, err := e.Export(ctx, fs, exportAt); err != nil || !slices.Equal(rev, keys) {
			t.Errorf("reversed input keys = %q, %v", rev, err)
		}
	}
	// No temporary files are left, and files are not world-readable.
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", p)
		}
		if info, _ := d.Info(); !d.IsDir() && info.Mode().Perm()&0o007 != 0 {
			t.Errorf("%s: mode %v", p, info.Mode())
		}
		return nil
	})
}

func TestExportSkipsArchived(t *testing.T) {
	fs := testFindings()
	for i := range fs {
		fs[i].Service.Archived = true
	}
	var puts int
	e := New(putFunc(func(context.Context, string, []byte) error { puts++; return nil }), "")
	keys, err := e.Export(context.Background(), fs, exportAt)
	if err != nil || keys != nil || puts != 0 {
		t.Errorf("all archived: keys %q, %v, %d puts", keys, err, puts)
	}
	if keys, err := e.Export(context.Background(), nil, exportAt); err != nil || keys != nil {
		t.Errorf("no findings: keys %q, %v", keys, err)
	}
}

type putFunc func(ctx context.Context, key string, body []byte) error

func (f putFunc) Put(ctx context.Context, key string, body []byte) error { return f(ctx, key, body) }

func TestExportErrors(t *testing.T) {
	ctx := context.Background()
	var puts []string
	dst := putFunc(func(_ context.Context, key string, _ []byte) error {
		if len(puts) == 1 {
			return errors.New("disk full")
		}
		puts = append(puts, key)
		return nil
	})
	keys, err := New(dst, "p").Export(ctx, testFindings(), exportAt)
	if err == nil || !strings.Contains(err.Error(), "disk full") || len(keys) != 1 || !slices.Equal(keys, puts) {
		t.Errorf("failing Put: keys %q, %v", keys, err)
	}

	for _, bad := range []struct{ account, region, want string }{
		{"", "us-east-1", "accountId is empty"},
		{"111122223333", "", "region is empty"},
		{"../x", "us-east-1", "cannot be a key segment"},
		{"111122223333", "..", "cannot be a key segment"},
	} {
		fs := testFindings()
		fs[2].AccountID, fs[2].Region = bad.account, bad.region
		puts = nil
		keys, err := New(putFunc(func(_ context.Context, key string, _ []byte) error {
			puts = append(puts, key)
			return nil
		}), "").Export(ctx, fs, exportAt)
		if err == nil || !strings.Contains(err.Error(), bad.want) || keys != nil || puts != nil {
			t.Errorf("%+v: keys %q, puts %q, %v", bad, keys, puts, err)
		}
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := New(NewDir(t.TempDir()), "").Export(cctx, testFindings(), exportAt); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestDirPutKeys(t *testing.T) {
	root := t.TempDir()
	d := NewDir(filepath.Join(root, "new", "dir"))
	ctx := context.Background()
	if err := d.Put(ctx, "a/b/c.jsonl.gz", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "a/b/c.jsonl.gz", []byte("two")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "new", "dir", "a", "b", "c.jsonl.gz")); err != nil || string(b) != "two" {
		t.Errorf("overwrite: %q, %v", b, err)
	}
	for _, k := range []string{"", "/abs", "../up", "a/../../up", "a//b", "a/./b", "a\\b", ".", "a/"} {
		if err := d.Put(ctx, k, nil); err == nil {
			t.Errorf("Put(%q) accepted", k)
		}
	}
}

func TestReadObject(t *testing.T) {
	fs := testFindings()[:2]
	var plain bytes.Buffer
	plain.WriteString("\n")
	for i, f := range fs {
		b, _ := jsonLine(f)
		if i == 0 { // unknown fields, as GuardDuty's own exports have, are ignored
			b = bytes.Replace(b, []byte(`{`), []byte(`{"extra":{"x":[1,2]},`), 1)
		}
		plain.Write(b)
		plain.WriteString("\r\n\n")
	}
	got, err := ReadObject(bytes.NewReader(plain.Bytes()))
	if err != nil || !reflect.DeepEqual(got, fs) {
		t.Errorf("plain JSON Lines: %+v, %v", got, err)
	}
	// Two concatenated gzip members read as one stream.
	var multi bytes.Buffer
	for _, f := range fs {
		b, _ := jsonLine(f)
		z, _ := gzipBytes(b)
		multi.Write(z)
	}
	got, err = ReadObject(&multi)
	if err != nil || !reflect.DeepEqual(got, fs) {
		t.Errorf("multi-member gzip: %+v, %v", got, err)
	}
	if _, err := ReadObject(strings.NewReader("{}\n{not json\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad line: %v", err)
	}
	z, _ := gzipBytes([]byte("{}\n"))
	if _, err := ReadObject(bytes.NewReader(z[:len(z)-4])); err == nil {
		t.Error("truncated gzip accepted")
	}
	if got, err := ReadObject(strings.NewReader("")); err != nil || got != nil {
		t.Errorf("empty: %v, %v", got, err)
	}
}

func TestParseDestinationArn(t *testing.T) {
	for _, tt := range []struct{ arn, bucket, prefix, err string }{
		{arn: "arn:aws:s3:::my-bucket", bucket: "my-bucket"},
		{arn: "arn:aws:s3:::my-bucket/", bucket: "my-bucket"},
		{arn: "arn:aws:s3:::my-bucket/guardduty/findings/", bucket: "my-bucket", prefix: "guardduty/findings"},
		{arn: "arn:aws-cn:s3:::b.with.dots/x", bucket: "b.with.dots", prefix: "x"},
		{arn: "file:///var/lib/vigil/export/", prefix: filepath.FromSlash("/var/lib/vigil/export")},
		{arn: "file://localhost/srv/x", prefix: filepath.FromSlash("/srv/x")},
		{arn: "file://relative/x", err: "file:///absolute/dir"},
		{arn: "arn:aws:s3:us-east-1::b", err: "want an S3 bucket ARN"},
		{arn: "arn:aws:kms:::b", err: "want an S3 bucket ARN"},
		{arn: "s3://bucket/prefix", err: "want an S3 bucket ARN"},
		{arn: "arn:aws:s3:::Bad_Bucket/x", err: "invalid bucket name"},
		{arn: "arn:aws:s3:::a..b", err: "invalid bucket name"},
		{arn: "arn:aws:s3:::ok-bucket/a//b", err: "empty folder segment"},
	} {
		b, p, err := ParseDestinationArn(tt.arn)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseDestinationArn(%q) = %q, %q, %v; want error %q", tt.arn, b, p, err, tt.err)
			}
			continue
		}
		if err != nil || b != tt.bucket || p != tt.prefix {
			t.Errorf("ParseDestinationArn(%q) = %q, %q, %v; want %q, %q", tt.arn, b, p, err, tt.bucket, tt.prefix)
		}
	}

	dir := t.TempDir()
	dst, prefix, err := DestinationFor("file://"+filepath.ToSlash(dir), nil)
	if err != nil || prefix != "" {
		t.Fatalf("DestinationFor(file) = %v, %q, %v", dst, prefix, err)
	}
	if d, ok := dst.(*Dir); !ok || d.Root != dir {
		t.Errorf("DestinationFor(file) = %#v", dst)
	}
	if _, _, err := DestinationFor("arn:aws:s3:::bucket/x", nil); err == nil || !strings.Contains(err.Error(), "needs an S3 client") {
		t.Errorf("DestinationFor(s3, nil client): %v", err)
	}
}

func jsonLine(f finding.Finding) ([]byte, error) {
	b, err := json.Marshal(f)
	return append(b, '\n'), err
}
