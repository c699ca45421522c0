package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/vigilsec/vigil/decode"
	"github.com/vigilsec/vigil/event"
)

// Fixture generators: n well-formed records of each format.

func route53Log(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"version":"1.100000","account_id":"111122223333","region":"us-east-1","vpc_id":"vpc-0abc","query_timestamp":"2021-12-11T22:%02d:%02dZ","query_name":"host-%d.example.com.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"10.0.%d.%d","Type":"A","Class":"IN"}],"srcaddr":"172.31.86.%d","srcport":"%d","transport":"UDP","srcids":{"instance":"i-0abc"}}`+"\n",
			i/60%60, i%60, i, i/256%256, i%256, i%250+1, 1024+i%60000)
	}
	return b.Bytes()
}

func vpcflowLog(n int) []byte {
	var b bytes.Buffer
	b.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	for i := range n {
		fmt.Fprintf(&b, "2 123456789010 eni-1235b8ca123456789 172.31.16.%d 172.31.16.21 %d 22 6 20 4249 %d %d ACCEPT OK\n",
			i%250+1, 1024+i%60000, 1418530010+i, 1418530070+i)
	}
	return b.Bytes()
}

func cloudtrailLog(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"Records":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE","userName":"alice"},"eventTime":"2021-12-11T22:%02d:%02dZ","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.%d","userAgent":"aws-cli/2.0","requestParameters":null,"responseElements":null,"requestID":"req-%d","eventID":"evt-%d","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`,
			i/60%60, i%60, i%250+1, i, i)
	}
	b.WriteString("]}\n")
	return b.Bytes()
}

const digestJSON = `{"awsAccountId":"111122223333","digestStartTime":"2021-12-11T21:00:00Z","digestEndTime":"2021-12-11T22:00:00Z","digestS3Bucket":"trail-bucket","digestS3Object":"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2021/12/11/x.json.gz","digestPublicKeyFingerprint":"abc","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":"2021-12-11T21:59:00Z","oldestEventTime":"2021-12-11T21:00:00Z","previousDigestS3Bucket":"trail-bucket","previousDigestS3Object":"prev","previousDigestHashValue":"00","previousDigestHashAlgorithm":"SHA-256","previousDigestSignature":"00","logFiles":[]}`

var fixtures = []struct {
	format decode.Format
	gen    func(n int) []byte
}{
	{decode.FormatRoute53, route53Log},
	{decode.FormatVPCFlow, vpcflowLog},
	{decode.FormatCloudTrail, cloudtrailLog},
}

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// multiGz compresses data as several gzip members, cut at arbitrary bytes.
func multiGz(t testing.TB, data []byte, members int) []byte {
	var out []byte
	size := len(data)/members + 1
	for len(data) > 0 {
		k := min(size, len(data))
		out = append(out, gz(t, data[:k])...)
		data = data[k:]
	}
	return out
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// summary renders one event or error for comparisons.
func summary(ev *event.Event, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	switch ev.Kind {
	case event.KindDNS:
		return fmt.Sprintf("%+v", ev.DNS)
	case event.KindFlow:
		return fmt.Sprintf("%+v", ev.Flow)
	case event.KindAPICall:
		return fmt.Sprintf("%+v", ev.API)
	}
	return "none"
}

// readAll reads s to io.EOF or a stream error, returning the summaries of the
// records and record errors, and the final error (nil at io.EOF).
func readAll(t testing.TB, s *Stream) ([]string, error) {
	t.Helper()
	var out []string
	var ev event.Event
	for i := 0; ; i++ {
		if i > 1e7 {
			t.Fatal("stream does not end")
		}
		err := s.Next(&ev)
		switch {
		case err == io.EOF:
			return out, nil
		case err == nil || decode.IsRecordError(err):
			out = append(out, summary(&ev, err))
		default:
			return out, err
		}
	}
}

func TestOpenFormats(t *testing.T) {
	const n = 500
	dir := t.TempDir()
	for _, fx := range fixtures {
		data := fx.gen(n)
		want := ""
		for _, enc := range []struct {
			name       string
			data       []byte
			compressed bool
		}{
			{"plain.log", data, false},
			{"gzip.log.gz", gz(t, data), true},
			{"multi.gz", multiGz(t, data, 7), true},
			{"noext", gz(t, data), true},
		} {
			t.Run(string(fx.format)+"/"+enc.name, func(t *testing.T) {
				path := writeFile(t, dir, string(fx.format)+"/"+enc.name, enc.data)
				s, err := Open(path, Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				if s.Format() != fx.format || s.Compressed() != enc.compressed || s.Name() != path || s.Empty() {
					t.Errorf("Format %q Compressed %v Name %q Empty %v", s.Format(), s.Compressed(), s.Name(), s.Empty())
				}
				got, err := readAll(t, s)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != n {
					t.Fatalf("%d records, want %d", len(got), n)
				}
				for i, g := range got {
					if strings.HasPrefix(g, "error") {
						t.Fatalf("record %d: %s", i+1, g)
					}
				}
				if p := s.Pos(); p.Record != n {
					t.Errorf("Pos = %+v, want Record %d", p, n)
				}
				if s.BytesRead() != int64(len(enc.data)) {
					t.Errorf("BytesRead = %d, want %d", s.BytesRead(), len(enc.data))
				}
				all := strings.Join(got, "\n")
				if want == "" {
					want = all
				} else if all != want {
					t.Errorf("decoded records differ from the plain file's")
				}
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		}
	}
}

func TestTruncatedGzip(t *testing.T) {
	dir := t.TempDir()
	for _, fx := range fixtures {
		t.Run(string(fx.format), func(t *testing.T) {
			const n = 5000
			data := fx.gen(n)
			full := writeFile(t, dir, string(fx.format)+"-full.gz", gz(t, data))
			s, err := Open(full, Options{})
			if err != nil {
				t.Fatal(err)
			}
			want, err := readAll(t, s)
			s.Close()
			if err != nil || len(want) != n {
				t.Fatalf("full file: %d records, %v", len(want), err)
			}

			z := gz(t, data)
			cut := z[:len(z)*6/10]
			path := writeFile(t, dir, string(fx.format)+"-cut.gz", cut)
			s, err = Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got, err := readAll(t, s)
			if err == nil {
				t.Fatalf("no error after %d records of a truncated file", len(got))
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("error %v does not wrap io.ErrUnexpectedEOF", err)
			}
			msg := fmt.Sprintf("gzip stream truncated at compressed offset %d", len(cut))
			if !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q, want it to name %s and say %q", err, path, msg)
			}
			if len(got) == 0 || len(got) >= n {
				t.Fatalf("%d records before the truncation, want some and fewer than %d", len(got), n)
			}
			if !slices.Equal(got, want[:len(got)]) {
				t.Errorf("records before the truncation differ from the full file's")
			}
			if p := s.Pos(); p.Record != int64(len(got)) {
				t.Errorf("Pos = %+v after %d records", p, len(got))
			}
		})
	}
}

func TestTruncatedGzipHeader(t *testing.T) {
	dir := t.TempDir()
	z := gz(t, route53Log(10))
	for _, cut := range []int{2, 5, 10} {
		path := writeFile(t, dir, fmt.Sprintf("cut%d.gz", cut), z[:cut])
		s, err := Open(path, Options{})
		if err == nil {
			_, err = readAll(t, s)
			s.Close()
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), path) {
			t.Errorf("cut at %d: %v, want a truncation error naming the file", cut, err)
		}
	}
}

func TestWalk(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{"b.log", "a/2.log", "a/10.log", "a/sub/z.gz", ".hidden/x.log", ".dot.log", "c/d/e.log", "c/.git/config"} {
		writeFile(t, root, name, []byte("x"))
	}
	if err := os.Symlink(filepath.Join(root, "b.log"), filepath.Join(root, "link.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "a"), filepath.Join(root, "linkdir")); err != nil {
		t.Fatal(err)
	}
	single := writeFile(t, t.TempDir(), ".explicit.log", []byte("x"))

	var got []string
	err := Walk([]string{single, root}, func(path string, info fs.FileInfo) error {
		if !info.Mode().IsRegular() || info.Size() != 1 {
			t.Errorf("%s: info %v size %d", path, info.Mode(), info.Size())
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || strings.HasPrefix(rel, "..") {
			rel = "single:" + filepath.Base(path)
		}
		got = append(got, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"single:.explicit.log", "a/10.log", "a/2.log", "a/sub/z.gz", "b.log", "c/d/e.log", "link.log"}
	if !slices.Equal(got, want) {
		t.Errorf("Walk visited\n%q\nwant\n%q", got, want)
	}

	t.Run("symlinked root", func(t *testing.T) {
		link := filepath.Join(t.TempDir(), "logs")
		if err := os.Symlink(filepath.Join(root, "c"), link); err != nil {
			t.Fatal(err)
		}
		var got []string
		err := Walk([]string{link}, func(path string, _ fs.FileInfo) error {
			got = append(got, path)
			return nil
		})
		if want := []string{filepath.Join(link, "d", "e.log")}; err != nil || !slices.Equal(got, want) {
			t.Errorf("got %q, %v; want %q", got, err, want)
		}
	})
	t.Run("missing root", func(t *testing.T) {
		missing := filepath.Join(root, "nope")
		err := Walk([]string{root, missing}, func(string, fs.FileInfo) error { return nil })
		if err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("got %v, want an error naming %s", err, missing)
		}
	})
	t.Run("unreadable subdirectory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads any directory")
		}
		dir := t.TempDir()
		locked := filepath.Join(dir, "locked")
		writeFile(t, locked, "f.log", []byte("x"))
		os.Chmod(locked, 0)
		defer os.Chmod(locked, 0o755)
		err := Walk([]string{dir}, func(string, fs.FileInfo) error { return nil })
		if err == nil || !strings.Contains(err.Error(), locked) {
			t.Errorf("got %v, want an error naming %s", err, locked)
		}
	})
	t.Run("callback error", func(t *testing.T) {
		boom := errors.New("boom")
		n := 0
		err := Walk([]string{root}, func(string, fs.FileInfo) error { n++; return boom })
		if err != boom || n != 1 {
			t.Errorf("got %v after %d calls, want boom after 1", err, n)
		}
	})
	t.Run("SkipAll and SkipDir", func(t *testing.T) {
		n := 0
		err := Walk([]string{root, root}, func(string, fs.FileInfo) error { n++; return fs.SkipAll })
		if err != nil || n != 1 {
			t.Errorf("SkipAll: got %v after %d calls", err, n)
		}
		var seen []string
		err = Walk([]string{root}, func(p string, _ fs.FileInfo) error {
			seen = append(seen, p)
			return fs.SkipDir
		})
		if err != fs.SkipDir || len(seen) != 1 {
			t.Errorf("SkipDir from fn: got %v after %d calls, want it returned as an error", err, len(seen))
		}
	})
}

func TestUnrecognized(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"junk.txt":    []byte("hello world\nthis is not a log\n"),
		"junk.txt.gz": gz(t, []byte("hello world\nthis is not a log\n")),
		"binary.bin":  {0, 1, 2, 3, 0xff, 0xfe, '\n'},
		"other.json":  []byte(`{"findings":[]}` + "\n"),
	} {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, dir, name, data)
			s, err := Open(path, Options{})
			if err == nil {
				s.Close()
				t.Fatalf("Open succeeded with format %q", s.Format())
			}
			if !errors.Is(err, ErrUnrecognized) || !strings.Contains(err.Error(), path) {
				t.Errorf("got %v, want ErrUnrecognized naming %s", err, path)
			}
		})
	}
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("Open(directory) = %v", err)
	}
	if _, err := Open(filepath.Join(dir, "missing"), Options{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) = %v", err)
	}
}

func TestEmpty(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"empty.log":    nil,
		"empty.log.gz": gz(t, nil),
	} {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, dir, name, data)
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if !s.Empty() || s.Format() != decode.FormatUnknown {
				t.Errorf("Empty %v Format %q", s.Empty(), s.Format())
			}
			var ev event.Event
			if err := s.Next(&ev); err != io.EOF {
				t.Errorf("Next = %v, want io.EOF", err)
			}
			if s.Pos() != (decode.Position{}) {
				t.Errorf("Pos = %+v", s.Pos())
			}
		})
	}
}

// TestEmptyThenWritten: a file that is empty at Open is sniffed once data is
// appended, and its records follow.
func TestEmptyThenWritten(t *testing.T) {
	path := writeFile(t, t.TempDir(), "grow.log", nil)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ev event.Event
	if err := s.Next(&ev); err != io.EOF {
		t.Fatalf("Next = %v", err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := route53Log(3)
	first := bytes.IndexByte(lines, '\n') + 1
	f.Write(lines[:20]) // the start of a line: not enough to choose
	if err := s.Next(&ev); err != io.EOF || !s.Empty() {
		t.Fatalf("start of a line: Next = %v, Empty %v", err, s.Empty())
	}
	f.Write(lines[20 : first/2]) // enough to choose, not a whole record
	if err := s.Next(&ev); err != io.EOF || s.Format() != decode.FormatRoute53 {
		t.Fatalf("half a line: Next = %v, Format %q", err, s.Format())
	}
	f.Write(lines[first/2:])
	got, err := readAll(t, s)
	if err != nil || len(got) != 3 || s.Format() != decode.FormatRoute53 || s.Empty() {
		t.Fatalf("after writing: %d records, %v, format %q", len(got), err, s.Format())
	}
}

func TestTailing(t *testing.T) {
	for _, fx := range fixtures {
		if fx.format == decode.FormatCloudTrail {
			continue // one JSON document per file: not a line format
		}
		t.Run(string(fx.format), func(t *testing.T) {
			data := fx.gen(10)
			nl := bytes.Count(data, []byte{'\n'})
			cut := bytes.Index(data, []byte{'\n'}) + 1
			for range (nl - 6) / 2 {
				cut += bytes.IndexByte(data[cut:], '\n') + 1
			}
			path := writeFile(t, t.TempDir(), "tail.log", data[:cut])
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			first, err := readAll(t, s)
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			f.Write(data[cut:])
			rest, err := readAll(t, s)
			if err != nil {
				t.Fatal(err)
			}
			if len(first) == 0 || len(first)+len(rest) != 10 {
				t.Errorf("read %d then %d records, want 10 in all", len(first), len(rest))
			}
		})
	}
}

func TestDigest(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"digest.json":    []byte(digestJSON),
		"digest.json.gz": gz(t, []byte(digestJSON)),
	} {
		path := writeFile(t, dir, name, data)
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Format() != decode.FormatCloudTrailDigest {
			t.Errorf("%s: Format = %q", name, s.Format())
		}
		var ev event.Event
		if err := s.Next(&ev); err != io.EOF {
			t.Errorf("%s: Next = %v, want io.EOF", name, err)
		}
		if err := s.Skip(0); err != nil {
			t.Errorf("%s: Skip(0) = %v", name, err)
		}
		s.Close()
	}
}

func TestTypeOverride(t *testing.T) {
	dir := t.TempDir()
	// A Route 53 log whose first line is damaged does not sniff...
	data := append([]byte("garbage line\n"), route53Log(5)...)
	path := writeFile(t, dir, "damaged.log", data)
	if _, err := Open(path, Options{}); !errors.Is(err, ErrUnrecognized) {
		t.Fatalf("without --type: %v, want ErrUnrecognized", err)
	}
	// ...but decodes with --type, the damaged line as a record error.
	s, err := Open(path, Options{Type: decode.FormatRoute53})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := readAll(t, s)
	if err != nil || len(got) != 6 || !strings.HasPrefix(got[0], "error: line 1") || strings.HasPrefix(got[1], "error") {
		t.Fatalf("with --type: %v, %q", err, got)
	}
	// The type wins over the content.
	s2, err := Open(writeFile(t, dir, "r53.log", route53Log(3)), Options{Type: decode.FormatVPCFlow})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.Format() != decode.FormatVPCFlow {
		t.Errorf("Format = %q", s2.Format())
	}
	got, err = readAll(t, s2)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range got {
		if !strings.HasPrefix(g, "error") {
			t.Errorf("Route 53 line decoded as a flow: %s", g)
		}
	}
	if _, err := Open(path, Options{Type: "syslog"}); err == nil || !strings.Contains(err.Error(), `"syslog"`) {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := Open(path, Options{Type: decode.FormatCloudTrailDigest}); err == nil {
		t.Errorf("digest type accepted")
	}
}

func TestSkip(t *testing.T) {
	dir := t.TempDir()
	for _, fx := range fixtures {
		data := fx.gen(50)
		if fx.format != decode.FormatCloudTrail {
			// Malformed records count too.
			lines := bytes.SplitAfter(data, []byte{'\n'})
			lines = slices.Insert(lines, 5, []byte("x y z\n"))
			lines = slices.Insert(lines, 20, []byte("{\"broken\n"))
			data = bytes.Join(lines, nil)
		}
		for _, compressed := range []bool{false, true} {
			name := string(fx.format) + ".log"
			content := data
			if compressed {
				name += ".gz"
				content = gz(t, data)
			}
			path := writeFile(t, dir, name, content)
			t.Run(name, func(t *testing.T) {
				s, err := Open(path, Options{})
				if err != nil {
					t.Fatal(err)
				}
				all, err := readAll(t, s)
				total := s.Pos().Record
				s.Close()
				if err != nil || int64(len(all)) != total {
					t.Fatalf("full read: %d records, Pos %d, %v", len(all), total, err)
				}
				for _, k := range []int64{0, 1, 5, 6, 19, 20, 21, total - 1, total} {
					s, err := Open(path, Options{})
					if err != nil {
						t.Fatal(err)
					}
					if err := s.Skip(k); err != nil {
						t.Fatalf("Skip(%d): %v", k, err)
					}
					if s.Pos().Record != k {
						t.Errorf("Skip(%d): Pos = %+v", k, s.Pos())
					}
					rest, err := readAll(t, s)
					s.Close()
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(rest, all[k:]) {
						t.Errorf("Skip(%d) then read: %d records, want the last %d of the full read", k, len(rest), int64(len(all))-k)
					}
				}
				s, err = Open(path, Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				if err := s.Skip(total + 1); !errors.Is(err, io.EOF) || !strings.Contains(err.Error(), path) {
					t.Errorf("Skip past the end: %v", err)
				}
			})
		}
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		want decode.Format
	}{
		{"route53", route53Log(2), decode.FormatRoute53},
		{"vpcflow", vpcflowLog(2), decode.FormatVPCFlow},
		{"cloudtrail", cloudtrailLog(2), decode.FormatCloudTrail},
		{"digest", []byte(digestJSON), decode.FormatCloudTrailDigest},
		{"cut cloudtrail", cloudtrailLog(2)[:300], decode.FormatCloudTrail},
		{"empty", nil, decode.FormatUnknown},
		{"text", []byte("hello\n"), decode.FormatUnknown},
	}
	for _, tt := range tests {
		if got := Sniff(tt.head); got != tt.want {
			t.Errorf("%s: Sniff = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestRealSamples opens the shared sample corpus through ingest: each file
// must be recognised as the format of its directory.
func TestRealSamples(t *testing.T) {
	root := "../../shared/eval/elastic-integrations-aws"
	dirs := map[string]decode.Format{"route53_resolver": decode.FormatRoute53, "vpcflow": decode.FormatVPCFlow}
	n := 0
	for dir, want := range dirs {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.log"))
		for _, f := range files {
			n++
			s, err := Open(f, Options{})
			if err != nil {
				t.Errorf("%v", err)
				continue
			}
			if s.Format() != want {
				t.Errorf("%s: Format = %q, want %q", f, s.Format(), want)
			}
			got, err := readAll(t, s)
			s.Close()
			if err != nil || len(got) == 0 {
				t.Errorf("%s: %d records, %v", f, len(got), err)
			}
		}
	}
	if n == 0 {
		t.Skipf("no sample logs under %s (shared/eval corpus absent)", root)
	}
}

func FuzzSniff(f *testing.F) {
	for _, fx := range fixtures {
		f.Add(fx.gen(2))
	}
	f.Add([]byte(digestJSON))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, head []byte) {
		got := Sniff(head)
		if got != decode.FormatUnknown && got != decode.FormatCloudTrailDigest && !slices.Contains(decode.Formats, got) {
			t.Fatalf("Sniff = %q", got)
		}
	})
}

func FuzzOpen(f *testing.F) {
	for _, fx := range fixtures {
		f.Add(fx.gen(3), false)
		f.Add(fx.gen(3), true)
	}
	f.Add([]byte(digestJSON), false)
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}, false)
	f.Fuzz(func(t *testing.T, data []byte, compress bool) {
		if compress {
			data = gz(t, data)
		}
		s, err := OpenReader("fuzz", bytes.NewReader(data), Options{})
		if err != nil {
			return
		}
		var ev event.Event
		for i := 0; ; i++ {
			if i > len(data)+10 {
				t.Fatalf("no end after %d calls on %d bytes", i, len(data))
			}
			err := s.Next(&ev)
			if err == io.EOF || (err != nil && !decode.IsRecordError(err)) {
				break
			}
		}
		s.Close()
	})
}
