package intel

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readAll(rc io.ReadCloser, err error) (string, error) {
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return string(b), err
}

func TestOpenLocal(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "list one.txt")
	if err := os.WriteFile(p, []byte("1.2.3.4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, loc := range []string{p, "file://" + p, "file://localhost" + p, "file://" + strings.ReplaceAll(p, " ", "%20")} {
		got, err := readAll(Open(ctx, loc))
		if err != nil || got != "1.2.3.4\n" {
			t.Errorf("Open(%q) = %q, %v", loc, got, err)
		}
	}
	for loc, want := range map[string]string{
		"":                         "empty",
		filepath.Join(dir, "nope"): "no such file",
		"file://host.example/x":    "file:///absolute/path",
		"file:relative.txt":        "file:///absolute/path",
		"ftp://x.example/list.txt": `unsupported scheme "ftp"`,
	} {
		if _, err := Open(ctx, loc); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q) error = %v, want containing %q", loc, err, want)
		}
	}
}

func TestOpenHTTP(t *testing.T) {
	big := strings.Repeat("x", 2048)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/list.txt":
			if r.Header.Get("User-Agent") == "" {
				http.Error(w, "no UA", http.StatusBadRequest)
				return
			}
			io.WriteString(w, "1.2.3.4\n")
		case "/big-length": // declared too large
			w.Header().Set("Content-Length", "2048")
			io.WriteString(w, big)
		case "/big-chunked": // too large, length not declared
			for i := 0; i < 4; i++ {
				io.WriteString(w, big[:512])
				w.(http.Flusher).Flush()
			}
		case "/exact":
			w.(http.Flusher).Flush()
			io.WriteString(w, big[:1024])
		case "/slow":
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := context.Background()

	got, err := readAll(Open(ctx, srv.URL+"/list.txt"))
	if err != nil || got != "1.2.3.4\n" {
		t.Fatalf("Open = %q, %v", got, err)
	}

	_, err = Open(ctx, srv.URL+"/missing")
	if err == nil || !strings.Contains(err.Error(), "HTTP status 404 Not Found") || !strings.Contains(err.Error(), "/missing") {
		t.Errorf("404 error = %v", err)
	}

	o := &Opener{MaxBytes: 1024, Timeout: 200 * time.Millisecond}
	if _, err := o.Open(ctx, srv.URL+"/big-length"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("declared too large: %v", err)
	}
	got, err = readAll(o.Open(ctx, srv.URL+"/big-chunked"))
	if !errors.Is(err, ErrTooLarge) || len(got) != 1024 {
		t.Errorf("chunked too large: read %d bytes, %v", len(got), err)
	}
	got, err = readAll(o.Open(ctx, srv.URL+"/exact"))
	if err != nil || len(got) != 1024 {
		t.Errorf("exactly at the limit: read %d bytes, %v", len(got), err)
	}
	start := time.Now()
	_, err = readAll(o.Open(ctx, srv.URL+"/slow"))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Errorf("slow body: %v after %v", err, time.Since(start))
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Open(cctx, srv.URL+"/list.txt"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}

	// A list fetched over HTTP loads like a file.
	rc, err := Open(ctx, srv.URL+"/list.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b := NewBuilder()
	if st, err := b.AddList(ListSpec{Name: "remote", Category: C2, Path: srv.URL + "/list.txt"}, rc); err != nil || st.Entries != 1 {
		t.Errorf("AddList over HTTP: %+v, %v", st, err)
	}
}

func TestOpenS3(t *testing.T) {
	ctx := context.Background()
	locs := map[string][2]string{
		"s3://my-bucket/lists/threat.txt":                             {"my-bucket", "lists/threat.txt"},
		"https://s3.amazonaws.com/my-bucket/file.txt":                 {"my-bucket", "file.txt"},
		"https://s3-us-west-2.amazonaws.com/my-bucket/a/file.txt":     {"my-bucket", "a/file.txt"},
		"https://s3.eu-west-1.amazonaws.com/my-bucket/file.txt":       {"my-bucket", "file.txt"},
		"http://my-bucket.s3.amazonaws.com/file.txt":                  {"my-bucket", "file.txt"},
		"http://my.dotted.bucket.s3-us-west-2.amazonaws.com/file.txt": {"my.dotted.bucket", "file.txt"},
		"https://my-bucket.s3.eu-west-1.amazonaws.com/d/file.txt":     {"my-bucket", "d/file.txt"},
	}
	for loc := range locs {
		_, err := Open(ctx, loc)
		if !errors.Is(err, ErrS3Unsupported) || !strings.Contains(err.Error(), "not supported here: give a file path or an http(s) URL") {
			t.Errorf("Open(%q) error = %v", loc, err)
		}
	}
	var gotBucket, gotKey string
	o := &Opener{MaxBytes: 4, S3: func(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
		gotBucket, gotKey = bucket, key
		if _, ok := ctx.Deadline(); !ok {
			return nil, errors.New("no deadline")
		}
		return io.NopCloser(strings.NewReader("1.2.3.4\n")), nil
	}}
	for loc, want := range locs {
		_, err := readAll(o.Open(ctx, loc))
		if gotBucket != want[0] || gotKey != want[1] {
			t.Errorf("Open(%q) read bucket %q key %q, want %q", loc, gotBucket, gotKey, want)
		}
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("Open(%q): size limit not applied: %v", loc, err)
		}
	}
	for _, loc := range []string{"s3://bucket-only", "https://s3.amazonaws.com/bucket-only"} {
		if _, err := o.Open(ctx, loc); err == nil || errors.Is(err, ErrS3Unsupported) {
			t.Errorf("Open(%q) error = %v", loc, err)
		}
	}
}
