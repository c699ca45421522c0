package intel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// Limits of remote list fetches.
const (
	// MaxListBytes is the largest list Open fetches over HTTP or S3: 35 MB,
	// GuardDuty's limit for IP and threat lists. Local files are not limited.
	MaxListBytes = 35 << 20
	// DefaultOpenTimeout bounds a whole remote fetch, body included.
	DefaultOpenTimeout = 30 * time.Second
)

// ErrS3Unsupported is the cause of the error Open returns for an S3
// location when the [Opener] has no S3 reader.
var ErrS3Unsupported = errors.New("S3 locations are not supported here: give a file path or an http(s) URL")

// ErrTooLarge is returned while reading a remote list that exceeds the
// Opener's size limit.
var ErrTooLarge = errors.New("list exceeds the size limit")

// Opener opens list locations. The zero value is ready to use and is what
// [Open] uses.
type Opener struct {
	// Client fetches http(s) locations; nil means http.DefaultClient.
	Client *http.Client
	// Timeout bounds a remote fetch, reading the body included; 0 means
	// DefaultOpenTimeout.
	Timeout time.Duration
	// MaxBytes limits a remote list's size; 0 means MaxListBytes.
	MaxBytes int64
	// S3 reads an object, for s3:// locations and the S3 https URL forms.
	// Nil makes those locations an error wrapping ErrS3Unsupported. A
	// caller with an S3 client (the AWS SDK's GetObject, with its own
	// endpoint and credentials; export.S3Reader makes one) plugs it in
	// here; the timeout and size limit apply to it as to HTTP.
	S3 func(ctx context.Context, bucket, key string) (io.ReadCloser, error)
}

// Open opens a list location with the zero [Opener]: a local path, a
// file:// URL (file:///abs/path or file://localhost/abs/path) or an http(s)
// URL. HTTP locations are fetched with GET under ctx, bounded by a 30 s
// timeout (which covers reading the body) and a 35 MB size limit (reading
// past it fails with ErrTooLarge); a non-2xx status is an error naming it.
// S3 locations, s3://bucket/key and the URL forms GuardDuty accepts
// (https://s3.amazonaws.com/bucket/key, https://s3-region.amazonaws.com/...,
// https://bucket.s3.amazonaws.com/key, https://bucket.s3-region.amazonaws.com/...)
// are an error wrapping ErrS3Unsupported; set [Opener.S3] to read them.
// The caller closes the returned reader.
func Open(ctx context.Context, location string) (io.ReadCloser, error) {
	var o Opener
	return o.Open(ctx, location)
}

// s3Host matches S3 endpoint host names, capturing the bucket of
// virtual-hosted names: s3.amazonaws.com, s3-eu-west-1.amazonaws.com,
// s3.eu-west-1.amazonaws.com, bucket.s3.amazonaws.com,
// bucket.s3-eu-west-1.amazonaws.com, ... (and .amazonaws.com.cn).
var s3Host = regexp.MustCompile(`^(?:(.+)\.)?s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?$`)

// Open opens a list location; see the package function [Open].
func (o *Opener) Open(ctx context.Context, location string) (io.ReadCloser, error) {
	loc := strings.TrimSpace(location)
	if loc == "" {
		return nil, errors.New("list location is empty")
	}
	scheme, _, isURL := strings.Cut(loc, ":")
	scheme = strings.ToLower(scheme)
	if !isURL || (scheme != "file" && !strings.Contains(loc, "://")) {
		return openFile(loc)
	}
	u, err := url.Parse(loc)
	if err != nil {
		return nil, fmt.Errorf("list location %q: %w", location, err)
	}
	switch scheme {
	case "file":
		if u.Opaque != "" || (u.Host != "" && !strings.EqualFold(u.Host, "localhost")) || u.Path == "" {
			return nil, fmt.Errorf("list location %q: a file URL must be file:///absolute/path", location)
		}
		return openFile(u.Path)
	case "s3":
		if u.Host == "" || strings.Trim(u.Path, "/") == "" {
			return nil, fmt.Errorf("list location %q: an S3 URL must be s3://bucket/key", location)
		}
		return o.openS3(ctx, u.Redacted(), u.Host, strings.TrimPrefix(u.Path, "/"))
	case "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("list location %q: URL without host", u.Redacted())
		}
		if m := s3Host.FindStringSubmatch(strings.ToLower(u.Hostname())); m != nil {
			bucket, key := m[1], strings.TrimPrefix(u.Path, "/")
			if bucket == "" {
				bucket, key, _ = strings.Cut(key, "/")
			}
			if bucket == "" || key == "" {
				return nil, fmt.Errorf("list location %q: S3 URL without bucket and key", u.Redacted())
			}
			return o.openS3(ctx, u.Redacted(), bucket, key)
		}
		return o.openHTTP(ctx, u)
	default:
		return nil, fmt.Errorf("list location %q: unsupported scheme %q: give a file path or an http(s) URL", u.Redacted(), u.Scheme)
	}
}

func openFile(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError names the path
	}
	return f, nil
}

func (o *Opener) limits() (time.Duration, int64) {
	t, n := o.Timeout, o.MaxBytes
	if t <= 0 {
		t = DefaultOpenTimeout
	}
	if n <= 0 {
		n = MaxListBytes
	}
	return t, n
}

func (o *Opener) openS3(ctx context.Context, loc, bucket, key string) (io.ReadCloser, error) {
	if o.S3 == nil {
		return nil, fmt.Errorf("list location %q: %w", loc, ErrS3Unsupported)
	}
	timeout, max := o.limits()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	rc, err := o.S3(ctx, bucket, key)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("list location %q: %w", loc, err)
	}
	return &limitedBody{r: rc, c: rc, cancel: cancel, max: max, loc: loc}, nil
}

func (o *Opener) openHTTP(ctx context.Context, u *url.URL) (io.ReadCloser, error) {
	timeout, max := o.limits()
	loc := u.Redacted()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("list location %q: %w", loc, err)
	}
	req.Header.Set("User-Agent", "vigil-intel")
	c := o.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("GET %s: %w", loc, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("GET %s: HTTP status %s", loc, resp.Status)
	}
	if resp.ContentLength > max {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("GET %s: %d bytes: %w of %d bytes", loc, resp.ContentLength, ErrTooLarge, max)
	}
	return &limitedBody{r: resp.Body, c: resp.Body, cancel: cancel, max: max, loc: "GET " + loc}, nil
}

// limitedBody reads a remote body, failing once more than max bytes arrive,
// and releases the fetch's context on Close.
type limitedBody struct {
	r      io.Reader
	c      io.Closer
	cancel context.CancelFunc
	max, n int64
	loc    string
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.n > l.max {
		return 0, l.tooLarge()
	}
	if rest := l.max - l.n + 1; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		return n - int(l.n-l.max), l.tooLarge()
	}
	return n, err
}

func (l *limitedBody) tooLarge() error {
	return fmt.Errorf("%s: %w of %d bytes", l.loc, ErrTooLarge, l.max)
}

func (l *limitedBody) Close() error {
	err := l.c.Close()
	l.cancel()
	return err
}
