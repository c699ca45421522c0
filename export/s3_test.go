package export

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/vigilsec/vigil/intel"
)

// s3Servers are the real S3-compatible servers the S3 test runs against,
// each where installed:
//   - moto_server, moto's standalone server (the Python package moto, which
//     the Go machine image ships);
//   - s3rver, a Node.js S3 server: npm install -g s3rver@3.7.1.
var s3Servers = []struct {
	name, bin   string
	args        func(dir string, port int) []string
	key, secret string
}{
	{"moto", "moto_server", func(_ string, port int) []string {
		return []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port)}
	}, "testing", "testing"},
	{"s3rver", "s3rver", func(dir string, port int) []string {
		return []string{"-d", dir, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "--silent"}
	}, "S3RVER", "S3RVER"},
}

// startS3Server starts server i on 127.0.0.1 for the test and returns its
// endpoint, or skips the test when the server is not installed.
func startS3Server(t *testing.T, i int) string {
	t.Helper()
	srv := s3Servers[i]
	bin, err := exec.LookPath(srv.bin)
	if err != nil {
		t.Skipf("S3 test against %s skipped: %s not found in PATH", srv.name, srv.bin)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	var log bytes.Buffer
	cmd := exec.Command(bin, srv.args(t.TempDir(), port)...)
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("%s exited: %v\n%s", bin, err, log.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s within 30 s", bin, addr)
		}
	}
	return "http://" + addr
}

func TestExportS3(t *testing.T) {
	found := false
	for i, srv := range s3Servers {
		if _, err := exec.LookPath(srv.bin); err == nil {
			found = true
		}
		t.Run(srv.name, func(t *testing.T) { testExportS3(t, i) })
	}
	if !found {
		t.Log("no S3-compatible server installed: the image's moto_server or npm install -g s3rver@3.7.1")
	}
}

func testExportS3(t *testing.T, server int) {
	endpoint := startS3Server(t, server)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := NewS3Client(S3Config{
		Endpoint: endpoint, PathStyle: true, Region: "us-east-1",
		AccessKeyID: s3Servers[server].key, SecretAccessKey: s3Servers[server].secret,
	})
	const bucket = "vigil-export-test"
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}

	get := func(key string) []byte {
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GetObject(%s): %v", key, err)
		}
		defer out.Body.Close()
		if ct := aws.ToString(out.ContentType); ct != "application/gzip" {
			t.Errorf("%s: Content-Type %q", key, ct)
		}
		b, err := io.ReadAll(out.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	list := func(prefix string) []string {
		var keys []string
		p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListObjectsV2: %v", err)
			}
			for _, o := range page.Contents {
				keys = append(keys, aws.ToString(o.Key))
			}
		}
		slices.Sort(keys)
		return keys
	}

	// The destinationArn's folder as the Exporter's prefix.
	dst, prefix, err := DestinationFor(fmt.Sprintf("arn:aws:s3:::%s/guardduty/", bucket), client)
	if err != nil {
		t.Fatal(err)
	}
	e := New(dst, prefix)
	keys, err := e.Export(ctx, testFindings(), exportAt)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	checkExport(t, "guardduty", keys, get)
	if got := list("guardduty/"); !slices.Equal(got, keys) { // keys come sorted by account, region
		t.Errorf("bucket holds %q, want %q", got, keys)
	}
	// A retry overwrites: still one object per group.
	if again, err := e.Export(ctx, testFindings(), exportAt); err != nil || !slices.Equal(again, keys) {
		t.Errorf("retry: %q, %v", again, err)
	}
	if got := list("guardduty/"); len(got) != len(keys) {
		t.Errorf("after retry the bucket holds %q", got)
	}

	// The prefix on the S3 destination instead.
	d := NewS3(client, bucket, "/other/").(*S3)
	keys, err = New(d, "").Export(ctx, testFindings(), exportAt)
	if err != nil {
		t.Fatal(err)
	}
	checkExport(t, "", keys, func(k string) []byte { return get(d.ObjectKey(k)) })
	if got := list("other/AWSLogs/"); len(got) != len(keys) || got[0] != "other/"+keys[0] {
		t.Errorf("bucket holds %q for keys %q", got, keys)
	}

	// Threat lists read through the same client with intel.Opener.
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("lists/threat.txt"),
		Body: strings.NewReader("198.51.100.7\n")}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	o := &intel.Opener{S3: S3Reader(client)}
	for _, loc := range []string{"s3://" + bucket + "/lists/threat.txt", "https://s3.amazonaws.com/" + bucket + "/lists/threat.txt"} {
		rc, err := o.Open(ctx, loc)
		if err != nil {
			t.Fatalf("Open(%s): %v", loc, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || string(b) != "198.51.100.7\n" {
			t.Errorf("Open(%s) read %q, %v", loc, b, err)
		}
	}
	if _, err := o.Open(ctx, "s3://"+bucket+"/lists/missing.txt"); err == nil {
		t.Error("missing list object opened")
	}

	// A missing bucket is an error naming the object.
	_, err = New(NewS3(client, "no-such-bucket", ""), "").Export(ctx, testFindings(), exportAt)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("s3://no-such-bucket/AWSLogs/")) {
		t.Errorf("missing bucket: %v", err)
	}
}
