package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var (
	testKey  = Key{ID: "AKIDEXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", Account: "111122223333"}
	testTime = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	testARN  = "arn:aws:guardduty:us-east-1:111122223333:detector/12abc34d567e8fa901bc2d34e56789f0"
)

func testVerifier() *Verifier {
	return &Verifier{
		Service: "guardduty",
		Keys:    Keys{testKey.ID: testKey},
		Now:     func() time.Time { return testTime },
	}
}

func creds(k Key) aws.Credentials {
	return aws.Credentials{AccessKeyID: k.ID, SecretAccessKey: k.Secret, SessionToken: k.SessionToken}
}

func hashHex(b string) string {
	s := sha256.Sum256([]byte(b))
	return hex.EncodeToString(s[:])
}

// sdkReq describes a request to sign with the real SDK signer.
type sdkReq struct {
	method, target, body string
	header               map[string]string
	key                  Key
	service, region      string
	at                   time.Time
}

// signed builds the request, signs it with aws-sdk-go-v2's v4 signer and
// makes it look like one net/http's server parsed (RequestURI set).
func signed(t testing.TB, s sdkReq) *http.Request {
	t.Helper()
	if s.method == "" {
		s.method = http.MethodGet
	}
	if s.target == "" {
		s.target = "/detector"
	}
	if s.key == (Key{}) {
		s.key = testKey
	}
	if s.service == "" {
		s.service = "guardduty"
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.at.IsZero() {
		s.at = testTime
	}
	r := newReq(t, s.method, s.target, s.body)
	for k, v := range s.header {
		r.Header.Set(k, v)
	}
	payload := hashHex(s.body)
	if h := s.header["X-Amz-Content-Sha256"]; h != "" {
		payload = h
	}
	err := v4.NewSigner().SignHTTP(context.Background(), creds(s.key), r, payload, s.service, s.region, s.at)
	if err != nil {
		t.Fatal(err)
	}
	r.RequestURI = r.URL.RequestURI()
	return r
}

func newReq(t testing.TB, method, target, body string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, err := http.NewRequest(method, "http://guardduty.test:8443"+target, rd)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func wantCode(t *testing.T, err error, code string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *Error %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%q), want %s", e.Code, e.Message, code)
	}
	if e.Status != http.StatusForbidden {
		t.Errorf("status = %d, want 403", e.Status)
	}
	if strings.Contains(e.Message, testKey.Secret) || strings.Contains(e.Error(), testKey.Secret) {
		t.Errorf("error leaks the secret: %v", e)
	}
	return e
}

func TestVerifySDKSigned(t *testing.T) {
	tests := []struct {
		name string
		req  sdkReq
	}{
		{"list detectors", sdkReq{}},
		{"query", sdkReq{target: "/detector?maxResults=5&nextToken=a%2Bb%20c"}},
		{"repeated query keys", sdkReq{target: "/x?b=2&a=1&a=0&c"}},
		{"arn in path", sdkReq{target: "/tags/" + url.PathEscape(testARN)}},
		{"arn fully escaped", sdkReq{target: "/tags/arn%3Aaws%3Aguardduty%3Aus-east-1%3A111122223333%3Adetector%2Fabc"}},
		{"unicode path", sdkReq{target: "/detector/%C3%A9t%C3%A9%20x"}},
		{"json body", sdkReq{method: "POST", target: "/detector/abc/findings", body: `{"findingCriteria":{"criterion":{"severity":{"gte":7}}}}`,
			header: map[string]string{"Content-Type": "application/json"}}},
		{"header spaces", sdkReq{header: map[string]string{"X-Custom": "  a   b  c "}}},
		{"content sha256 header", sdkReq{method: "POST", body: "{}", header: map[string]string{"X-Amz-Content-Sha256": hashHex("{}")}}},
		{"unsigned payload", sdkReq{method: "POST", body: "{}", header: map[string]string{"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"}}},
		{"other region", sdkReq{region: "eu-west-1"}},
	}
	v := testVerifier()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := signed(t, tc.req)
			p, err := v.Verify(r)
			if err != nil {
				t.Fatalf("Verify: %v\nAuthorization: %s", err, r.Header.Get("Authorization"))
			}
			region := tc.req.region
			if region == "" {
				region = "us-east-1"
			}
			want := Principal{AccessKeyID: testKey.ID, Account: testKey.Account, Region: region, Service: "guardduty",
				SignedAt: testTime, UnsignedPayload: tc.req.header["X-Amz-Content-Sha256"] == "UNSIGNED-PAYLOAD"}
			if p != want {
				t.Errorf("principal = %+v, want %+v", p, want)
			}
			// The body is still readable by the handler.
			if r.Body == nil {
				return
			}
			b, err := io.ReadAll(r.Body)
			if err != nil || string(b) != tc.req.body {
				t.Errorf("body after Verify = %q, %v; want %q", b, err, tc.req.body)
			}
		})
	}
}

// TestVerifyCrossVerifier checks the verifier for one service never accepts
// another, and that an empty configuration fails closed.
func TestVerifyServiceScope(t *testing.T) {
	r := signed(t, sdkReq{service: "securityhub"})
	_, err := testVerifier().Verify(r)
	e := wantCode(t, err, CodeInvalidSignature)
	if !strings.Contains(e.Message, "'guardduty'") {
		t.Errorf("message %q does not name the expected service", e.Message)
	}

	sh := &Verifier{Service: "securityhub", Keys: Keys{testKey.ID: testKey}, Now: func() time.Time { return testTime }}
	if _, err := sh.Verify(signed(t, sdkReq{service: "securityhub"})); err != nil {
		t.Errorf("securityhub verifier: %v", err)
	}

	var zero Verifier
	_, err = zero.Verify(signed(t, sdkReq{}))
	var e2 *Error
	if !errors.As(err, &e2) || e2.Status != http.StatusInternalServerError {
		t.Errorf("zero Verifier: err = %v, want 500", err)
	}
}

func TestVerifyTampered(t *testing.T) {
	base := sdkReq{
		method: "POST", target: "/detector/abc/findings?maxResults=10",
		body:   `{"maxResults":10}`,
		header: map[string]string{"Content-Type": "application/json"},
	}
	tests := []struct {
		name   string
		tamper func(r *http.Request)
	}{
		{"method", func(r *http.Request) { r.Method = "PUT" }},
		{"path", func(r *http.Request) { r.URL.Path = "/detector/abd/findings" }},
		{"path escaping", func(r *http.Request) { r.URL.RawPath = "/detector/%61bc/findings" }},
		{"query value", func(r *http.Request) { r.URL.RawQuery = "maxResults=11" }},
		{"query added", func(r *http.Request) { r.URL.RawQuery += "&nextToken=x" }},
		{"query removed", func(r *http.Request) { r.URL.RawQuery = "" }},
		{"signed header", func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }},
		{"host", func(r *http.Request) { r.Host = "evil.test:8443" }},
		{"body same length", func(r *http.Request) { setBody(r, `{"maxResults":99}`) }},
		{"body longer", func(r *http.Request) { setBody(r, `{"maxResults":100}`) }},
		{"date", func(r *http.Request) { r.Header.Set("X-Amz-Date", "20261122T120001Z") }},
		{"signature", func(r *http.Request) {
			a := r.Header.Get("Authorization")
			last := a[len(a)-1]
			if last == '0' {
				last = '1'
			} else {
				last = '0'
			}
			r.Header.Set("Authorization", a[:len(a)-1]+string(last))
		}},
		{"signature uppercase", func(r *http.Request) {
			a := r.Header.Get("Authorization")
			i := strings.Index(a, "Signature=") + len("Signature=")
			r.Header.Set("Authorization", a[:i]+strings.ToUpper(a[i:]))
		}},
		{"signature truncated", func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-2])
		}},
		{"signed headers reduced", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "content-type;", "", 1))
		}},
		{"region", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "us-east-1", "us-west-2", 1))
		}},
		{"content sha256 lies", func(r *http.Request) {
			setBody(r, `{"maxResults":99}`)
			r.Header.Set("X-Amz-Content-Sha256", hashHex(`{"maxResults":10}`))
		}},
	}
	v := testVerifier()
	if _, err := v.Verify(signed(t, base)); err != nil {
		t.Fatalf("untampered request: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := signed(t, base)
			tc.tamper(r)
			r.RequestURI = r.URL.RequestURI()
			_, err := v.Verify(r)
			wantCode(t, err, CodeInvalidSignature)
		})
	}
}

func setBody(r *http.Request, s string) {
	r.Body = io.NopCloser(strings.NewReader(s))
	r.ContentLength = int64(len(s))
	r.Header.Set("Content-Length", strconv.Itoa(len(s)))
}

func TestVerifyUnknownKeyAndTokens(t *testing.T) {
	withToken := Key{ID: "ASIATEMP", Secret: "tempsecret", Account: "444455556666", SessionToken: "tok-123"}
	v := &Verifier{
		Service: "guardduty",
		Keys:    Keys{testKey.ID: testKey, withToken.ID: withToken},
		Now:     func() time.Time { return testTime },
	}
	tests := []struct {
		name string
		key  Key
		code string // "" means success
	}{
		{"unknown key", Key{ID: "AKIDUNKNOWN", Secret: testKey.Secret}, CodeUnrecognizedClient},
		{"wrong secret", Key{ID: testKey.ID, Secret: "not-the-secret"}, CodeInvalidSignature},
		{"token for key without sessions", Key{ID: testKey.ID, Secret: testKey.Secret, SessionToken: "x"}, CodeUnrecognizedClient},
		{"session key with token", withToken, ""},
		{"session key wrong token", Key{ID: withToken.ID, Secret: withToken.Secret, SessionToken: "tok-124"}, CodeUnrecognizedClient},
		{"session key without token", Key{ID: withToken.ID, Secret: withToken.Secret}, CodeUnrecognizedClient},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := v.Verify(signed(t, sdkReq{key: tc.key}))
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if p.Account != withToken.Account {
					t.Errorf("account = %q", p.Account)
				}
				return
			}
			e := wantCode(t, err, tc.code)
			if tc.code == CodeUnrecognizedClient && e.Message != msgUnrecognized {
				t.Errorf("message = %q", e.Message)
			}
		})
	}
}

func TestVerifySkew(t *testing.T) {
	tests := []struct {
		offset time.Duration
		code   string
		msg    string
	}{
		{0, "", ""},
		{4 * time.Minute, "", ""},
		{-4 * time.Minute, "", ""},
		{5 * time.Minute, "", ""},
		{-5 * time.Minute, "", ""},
		{6 * time.Minute, CodeInvalidSignature,
			"Signature not yet current: 20261122T120600Z is still later than 20261122T120500Z (20261122T120000Z + 5 min.)"},
		{-6 * time.Minute, CodeInvalidSignature,
			"Signature expired: 20261122T115400Z is now earlier than 20261122T115500Z (20261122T120000Z - 5 min.)"},
		{-24 * time.Hour, CodeInvalidSignature, ""},
	}
	v := testVerifier()
	for _, tc := range tests {
		t.Run(tc.offset.String(), func(t *testing.T) {
			_, err := v.Verify(signed(t, sdkReq{at: testTime.Add(tc.offset)}))
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e := wantCode(t, err, tc.code)
			if tc.msg != "" && e.Message != tc.msg {
				t.Errorf("message = %q\nwant      %q", e.Message, tc.msg)
			}
		})
	}

	custom := &Verifier{Service: "guardduty", Keys: Keys{testKey.ID: testKey}, MaxSkew: 15 * time.Minute,
		Now: func() time.Time { return testTime }}
	if _, err := custom.Verify(signed(t, sdkReq{at: testTime.Add(-14 * time.Minute)})); err != nil {
		t.Errorf("MaxSkew 15m, 14m old: %v", err)
	}
}

func TestVerifyMissingAndMalformed(t *testing.T) {
	const cred = "AKIDEXAMPLE/20261122/us-east-1/guardduty/aws4_request"
	const sig = "Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name   string
		authz  string // Authorization header; "-" means absent
		date   string // X-Amz-Date; "" means absent
		query  string
		code   string
		substr string
	}{
		{"no auth", "-", "20261122T120000Z", "", CodeMissingAuthenticationToken, "Missing Authentication Token"},
		{"empty header", "", "20261122T120000Z", "", CodeMissingAuthenticationToken, ""},
		{"basic", "Basic dXNlcjpwYXNz", "20261122T120000Z", "", CodeIncompleteSignature, ""},
		{"algorithm only", "AWS4-HMAC-SHA256", "20261122T120000Z", "", CodeIncompleteSignature, "requires 'Credential'"},
		{"sigv4a", "AWS4-ECDSA-P256-SHA256 Credential=" + cred + ", SignedHeaders=host;x-amz-date, " + sig, "20261122T120000Z", "", CodeIncompleteSignature, ""},
		{"no signature", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;x-amz-date", "20261122T120000Z", "", CodeIncompleteSignature, "requires 'Signature'"},
		{"no credential", "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, " + sig, "20261122T120000Z", "", CodeIncompleteSignature, "requires 'Credential'"},
		{"no signed headers", "AWS4-HMAC-SHA256 Credential=" + cred + ", " + sig, "20261122T120000Z", "", CodeIncompleteSignature, "requires 'SignedHeaders'"},
		{"missing equals", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders, " + sig, "20261122T120000Z", "", CodeIncompleteSignature, "missing equal-sign"},
		{"duplicate", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;x-amz-date, " + sig + ", " + sig, "20261122T120000Z", "", CodeIncompleteSignature, "duplicate"},
		{"short credential", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/guardduty, SignedHeaders=host;x-amz-date, " + sig, "20261122T120000Z", "", CodeIncompleteSignature, "exactly 5"},
		{"long credential", "AWS4-HMAC-SHA256 Credential=A/B/" + cred + ", SignedHeaders=host;x-amz-date, " + sig, "20261122T120000Z", "", CodeIncompleteSignature, "exactly 5"},
		{"empty key id", "AWS4-HMAC-SHA256 Credential=/20261122/us-east-1/guardduty/aws4_request, SignedHeaders=host;x-amz-date, " + sig, "20261122T120000Z", "", CodeIncompleteSignature, ""},
		{"bad terminator", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/guardduty/aws5_request, SignedHeaders=host;x-amz-date, " + sig, "20261122T120000Z", "", CodeInvalidSignature, "terminator"},
		{"empty region", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122//guardduty/aws4_request, SignedHeaders=host;x-amz-date, " + sig, "20261122T120000Z", "", CodeInvalidSignature, "region"},
		{"scope date mismatch", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/guardduty/aws4_request, SignedHeaders=host;x-amz-date, " + sig, "20261122T120000Z", "", CodeInvalidSignature, "Date in Credential scope"},
		{"host not signed", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=x-amz-date, " + sig, "20261122T120000Z", "", CodeIncompleteSignature, "'Host'"},
		{"date not signed", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host, " + sig, "20261122T120000Z", "", CodeIncompleteSignature, "x-amz-date"},
		{"empty signed header name", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;;x-amz-date, " + sig, "20261122T120000Z", "", CodeIncompleteSignature, ""},
		{"no date", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;x-amz-date, " + sig, "", "", CodeIncompleteSignature, "'X-Amz-Date' or a 'Date'"},
		{"bad date", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;x-amz-date, " + sig, "2026-11-22T12:00:00Z", "", CodeIncompleteSignature, "ISO8601"},
		{"header and query", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;x-amz-date, " + sig, "20261122T120000Z", "X-Amz-Algorithm=AWS4-HMAC-SHA256", CodeIncompleteSignature, "Only one auth mechanism"},
		{"bad query escape", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;x-amz-date, " + sig, "20261122T120000Z", "a=%zz", CodeIncompleteSignature, ""},
		{"presign missing parts", "-", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + url.QueryEscape(cred), CodeIncompleteSignature, "X-Amz-Signature"},
		{"presign wrong algorithm", "-", "", "X-Amz-Algorithm=HMAC", CodeIncompleteSignature, ""},
		{"presign bad expires", "-", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + url.QueryEscape(cred) +
			"&X-Amz-Date=20261122T120000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00&X-Amz-Expires=604801", CodeIncompleteSignature, "X-Amz-Expires"},
		{"wrong signature", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;x-amz-date, " + sig, "20261122T120000Z", "", CodeInvalidSignature, "does not match"},
		{"compact form", "AWS4-HMAC-SHA256 Credential=" + cred + ",SignedHeaders=host;x-amz-date," + sig, "20261122T120000Z", "", CodeInvalidSignature, "does not match"},
	}
	v := testVerifier()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newReq(t, "GET", "/detector", "")
			if tc.authz != "-" {
				r.Header.Set("Authorization", tc.authz)
			}
			if tc.date != "" {
				r.Header.Set("X-Amz-Date", tc.date)
			}
			r.URL.RawQuery = tc.query
			e := wantCode(t, func() error { _, err := v.Verify(r); return err }(), tc.code)
			if !strings.Contains(e.Message, tc.substr) {
				t.Errorf("message %q does not contain %q", e.Message, tc.substr)
			}
		})
	}
}

func TestVerifyPresigned(t *testing.T) {
	presign := func(t *testing.T, expires int, target string) *http.Request {
		t.Helper()
		r := newReq(t, "GET", target, "")
		if expires > 0 {
			q := r.URL.Query()
			q.Set("X-Amz-Expires", strconv.Itoa(expires))
			r.URL.RawQuery = q.Encode()
		}
		u, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), creds(testKey), r, hashHex(""), "guardduty", "us-east-1", testTime)
		if err != nil {
			t.Fatal(err)
		}
		out, err := http.NewRequest("GET", u, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range hdr {
			if k != "Host" {
				out.Header[k] = vs
			}
		}
		out.RequestURI = out.URL.RequestURI()
		if out.Header.Get("Authorization") != "" || !strings.Contains(u, "X-Amz-Signature=") {
			t.Fatalf("not a presigned URL: %s", u)
		}
		return out
	}
	at := func(d time.Duration) *Verifier {
		v := testVerifier()
		v.Now = func() time.Time { return testTime.Add(d) }
		return v
	}
	tests := []struct {
		name    string
		expires int
		target  string
		now     time.Duration
		tamper  func(*http.Request)
		code    string
	}{
		{"valid", 600, "/detector?maxResults=3", time.Minute, nil, ""},
		{"arn path", 600, "/tags/" + url.PathEscape(testARN), time.Minute, nil, ""},
		{"within expiry past skew", 3600, "/detector", 50 * time.Minute, nil, ""},
		{"expired", 600, "/detector", 11 * time.Minute, nil, CodeInvalidSignature},
		{"not yet valid", 600, "/detector", -6 * time.Minute, nil, CodeInvalidSignature},
		{"no expires within skew", 0, "/detector", 4 * time.Minute, nil, ""},
		{"no expires past skew", 0, "/detector", 6 * time.Minute, nil, CodeInvalidSignature},
		{"tampered query", 600, "/detector?maxResults=3", 0, func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "maxResults=3", "maxResults=4", 1)
		}, CodeInvalidSignature},
		{"extended expiry", 600, "/detector", 0, func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Expires=600", "X-Amz-Expires=6000", 1)
		}, CodeInvalidSignature},
		{"tampered path", 600, "/detector", 0, func(r *http.Request) { r.URL.Path = "/detectorx" }, CodeInvalidSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := presign(t, tc.expires, tc.target)
			if tc.tamper != nil {
				tc.tamper(r)
				r.RequestURI = r.URL.RequestURI()
			}
			p, err := at(tc.now).Verify(r)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Verify(%s): %v", r.URL, err)
				}
				if p.AccessKeyID != testKey.ID || !p.SignedAt.Equal(testTime) {
					t.Errorf("principal = %+v", p)
				}
				return
			}
			wantCode(t, err, tc.code)
		})
	}
}

// TestVerifyDateHeader covers requests timed by Date instead of X-Amz-Date,
// which the SDK signers never produce. refSign is an independent, minimal
// SigV4 signer written from the AWS documentation; it is first checked
// against the SDK signer.
func TestVerifyDateHeader(t *testing.T) {
	sdk := signed(t, sdkReq{target: "/detector?b=2&a=1"})
	hdrs := []string{"host", "x-amz-date"}
	if got, want := refSign(sdk, hdrs, testKey.Secret, hashHex("")), authSignature(sdk); got != want {
		t.Fatalf("refSign disagrees with the SDK signer: %s != %s", got, want)
	}

	r := newReq(t, "GET", "/detector", "")
	r.Header.Set("Date", testTime.Format(http.TimeFormat))
	sig := refSign(r, []string{"date", "host"}, testKey.Secret, hashHex(""))
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/guardduty/aws4_request, SignedHeaders=date;host, Signature="+sig)
	if _, err := testVerifier().Verify(r); err != nil {
		t.Fatalf("Date-header request: %v", err)
	}
	r.Header.Set("Date", testTime.Add(time.Second).Format(http.TimeFormat))
	_, err := testVerifier().Verify(r)
	wantCode(t, err, CodeInvalidSignature)
}

func authSignature(r *http.Request) string {
	a := r.Header.Get("Authorization")
	return a[strings.LastIndex(a, "=")+1:]
}

func refSign(r *http.Request, headers []string, secret, payload string) string {
	mac := func(k []byte, s string) []byte { m := hmac.New(sha256.New, k); m.Write([]byte(s)); return m.Sum(nil) }
	var t time.Time
	if d := r.Header.Get("X-Amz-Date"); d != "" {
		t, _ = time.Parse("20060102T150405Z", d)
	} else {
		t, _ = http.ParseTime(r.Header.Get("Date"))
	}
	var q []string
	for k, vs := range r.URL.Query() {
		for _, v := range vs {
			q = append(q, strings.ReplaceAll(url.QueryEscape(k), "+", "%20")+"="+strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		}
	}
	sort.Strings(q)
	var ch strings.Builder
	for _, h := range headers {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		ch.WriteString(h + ":" + v + "\n")
	}
	path := strings.ReplaceAll(url.PathEscape(r.URL.EscapedPath()), "%2F", "/")
	cr := strings.Join([]string{r.Method, path, strings.Join(q, "&"), ch.String(), strings.Join(headers, ";"), payload}, "\n")
	scope := t.Format("20060102") + "/us-east-1/guardduty/aws4_request"
	sts := "AWS4-HMAC-SHA256\n" + t.UTC().Format("20060102T150405Z") + "\n" + scope + "\n" + hashHex(cr)
	k := mac([]byte("AWS4"+secret), t.Format("20060102"))
	k = mac(k, "us-east-1")
	k = mac(k, "guardduty")
	k = mac(k, "aws4_request")
	return hex.EncodeToString(mac(k, sts))
}

// TestAWSTestSuite checks two vectors from the AWS SigV4 test suite
// (get-vanilla, get-vanilla-query-order-key-case).
func TestAWSTestSuite(t *testing.T) {
	v := &Verifier{
		Service: "service",
		Keys:    Keys{"AKIDEXAMPLE": {ID: "AKIDEXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}},
		Now:     func() time.Time { return time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC) },
	}
	tests := []struct{ target, sig string }{
		{"/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"/?Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
	}
	for _, tc := range tests {
		r := httptest.NewRequest("GET", tc.target, nil)
		r.Host = "example.amazonaws.com"
		r.Header.Set("X-Amz-Date", "20150830T123600Z")
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature="+tc.sig)
		if _, err := v.Verify(r); err != nil {
			t.Errorf("%s: %v", tc.target, err)
		}
	}
}

func TestVerifyBodyLimit(t *testing.T) {
	v := testVerifier()
	v.MaxBodyBytes = 16
	big := strings.Repeat("x", 17)

	r := signed(t, sdkReq{method: "POST", body: big})
	_, err := v.Verify(r)
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusRequestEntityTooLarge || e.Code != CodeRequestEntityTooLarge {
		t.Fatalf("err = %v, want 413", err)
	}

	// Unknown length (chunked): the limit is enforced while reading.
	r = signed(t, sdkReq{method: "POST", body: big})
	r.ContentLength = -1
	r.Body = io.NopCloser(strings.NewReader(big))
	_, err = v.Verify(r)
	if !errors.As(err, &e) || e.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked: err = %v, want 413", err)
	}

	if _, err := v.Verify(signed(t, sdkReq{method: "POST", body: big[:16]})); err != nil {
		t.Fatalf("body at the limit: %v", err)
	}
}

func TestRemoveDotSegments(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/", "/"},
		{"/a/b", "/a/b"},
		{"/a/./b", "/a/b"},
		{"/a/../b", "/b"},
		{"//a//b/", "/a/b/"},
		{"/..", "/"},
		{"/a/b/..", "/a"},
	}
	for _, tc := range tests {
		if got := removeDotSegments(tc.in); got != tc.want {
			t.Errorf("removeDotSegments(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWriteError(t *testing.T) {
	tests := []struct {
		err                error
		status             int
		code, message      string
		messageMustContain string
	}{
		{&Error{Status: 403, Code: CodeInvalidSignature, Message: msgMismatch}, 403, CodeInvalidSignature, msgMismatch, ""},
		{errors.New("open /var/lib/vigil/db: permission denied"), 500, CodeInternalServerError, "Internal server error.", ""},
	}
	for _, tc := range tests {
		w := httptest.NewRecorder()
		WriteError(w, tc.err)
		if w.Code != tc.status {
			t.Errorf("status = %d, want %d", w.Code, tc.status)
		}
		if got := w.Header().Get("x-amzn-ErrorType"); got != tc.code {
			t.Errorf("x-amzn-ErrorType = %q, want %q", got, tc.code)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		var body map[string]string
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if body["__type"] != tc.code || body["message"] != tc.message {
			t.Errorf("body = %v", body)
		}
	}
}

func TestHandlerContext(t *testing.T) {
	v := testVerifier()
	var got Principal
	h := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = FromContext(r.Context())
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, signed(t, sdkReq{method: "POST", body: "hello"}))
	if w.Code != 200 || w.Body.String() != "hello" || got.Account != testKey.Account {
		t.Errorf("code %d body %q principal %+v", w.Code, w.Body, got)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, newReq(t, "GET", "/detector", ""))
	if w.Code != 403 || w.Header().Get("X-Amzn-Errortype") != CodeMissingAuthenticationToken {
		t.Errorf("unsigned: code %d headers %v", w.Code, w.Header())
	}
}

// TestVerifyConcurrent exercises the signing-key cache under -race,
// including eviction.
func TestVerifyConcurrent(t *testing.T) {
	v := testVerifier()
	done := make(chan error)
	for g := range 8 {
		go func() {
			var err error
			for i := range 100 {
				region := "r" + strconv.Itoa((g*100+i)%(keyCacheSize+50))
				r := signed(t, sdkReq{region: region})
				if _, e := v.Verify(r); e != nil && err == nil {
					err = e
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if n := len(v.cache.m); n > keyCacheSize {
		t.Errorf("cache grew to %d entries", n)
	}
}

// FuzzVerify feeds arbitrary Authorization headers, targets, dates and
// bodies. Verify must never panic, and when it accepts a request, the same
// request must be rejected by a verifier that holds a different secret.
func FuzzVerify(f *testing.F) {
	seed := func(s sdkReq) {
		r := signed(f, s)
		f.Add(r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date"), []byte(s.body))
	}
	seed(sdkReq{})
	seed(sdkReq{target: "/tags/" + url.PathEscape(testARN) + "?a=1&b=%20"})
	seed(sdkReq{method: "POST", target: "/detector/x/findings", body: `{"maxResults":1}`})
	f.Add("GET", "/detector?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261122%2Fus-east-1%2Fguardduty%2Faws4_request&X-Amz-Date=20261122T120000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00", "", "", []byte(nil))
	f.Add("GET", "/a/../b//c", "AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;, Signature=", "x", []byte("\x00"))

	right := testVerifier()
	wrongKey := testKey
	wrongKey.Secret = "a-different-secret"
	wrong := &Verifier{Service: "guardduty", Keys: Keys{testKey.ID: wrongKey}, Now: right.Now}

	f.Fuzz(func(t *testing.T, method, target, authz, date string, body []byte) {
		u, err := url.ParseRequestURI(target)
		if err != nil || !strings.HasPrefix(target, "/") {
			return
		}
		build := func() *http.Request {
			r := &http.Request{
				Method: method, URL: u, RequestURI: target, Host: "guardduty.test:8443",
				Header: http.Header{}, Body: io.NopCloser(strings.NewReader(string(body))), ContentLength: int64(len(body)),
			}
			if authz != "" {
				r.Header.Set("Authorization", authz)
			}
			if date != "" {
				r.Header.Set("X-Amz-Date", date)
			}
			return r
		}
		_, err = right.Verify(build())
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status == 0 || e.Code == "" {
				t.Fatalf("error %v is not a well-formed *Error", err)
			}
			return
		}
		if _, err := wrong.Verify(build()); err == nil {
			t.Fatalf("request verified with a different secret: %s %s %q", method, target, authz)
		}
	})
}

// BenchmarkVerify measures header-auth verification of a typical SDK
// ListFindings request (JSON body, signing key cached).
//
//	go test -run '^$' -bench Verify -benchmem ./api/sigv4/
func BenchmarkVerify(b *testing.B) {
	body := `{"findingCriteria":{"criterion":{"severity":{"gte":7}}},"maxResults":50}`
	v := testVerifier()
	tmpl := signed(b, sdkReq{method: "POST", target: "/detector/12abc34d567e8fa901bc2d34e56789f0/findings", body: body,
		header: map[string]string{"Content-Type": "application/json", "Amz-Sdk-Invocation-Id": "5b2f9a1e-6a0e-4b8f-9d2f-0c3a1c2f7e11",
			"Amz-Sdk-Request": "attempt=1; max=3"}})
	rd := strings.NewReader(body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	nc := io.NopCloser(rd)
	for b.Loop() {
		rd.Reset(body)
		tmpl.Body = nc
		if _, err := v.Verify(tmpl); err != nil {
			b.Fatal(err)
		}
	}
}

func TestHMACSHA256(t *testing.T) {
	var key [32]byte
	for i := range key {
		key[i] = byte(i * 7)
	}
	for _, n := range []int{0, 1, 63, 64, 65, 150, 511, 512, 513, 4000} {
		msg := []byte(strings.Repeat("s", n))
		m := hmac.New(sha256.New, key[:])
		m.Write(msg)
		want := m.Sum(nil)
		if got := hmacSHA256(&key, msg); !hmac.Equal(got[:], want) {
			t.Errorf("len %d: hmacSHA256 = %x, crypto/hmac = %x", n, got, want)
		}
	}
}

func TestVerifyBodyLongerThanContentLength(t *testing.T) {
	r := signed(t, sdkReq{method: "POST", body: "abc"})
	r.Body = io.NopCloser(strings.NewReader("abcdef"))
	_, err := testVerifier().Verify(r)
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
		t.Fatalf("err = %v, want 400", err)
	}
}

// TestVerifyAllocs pins the allocations of a verified request with a body to
// the body copy and its reader.
func TestVerifyAllocs(t *testing.T) {
	body := `{"maxResults":50}`
	v := testVerifier()
	r := signed(t, sdkReq{method: "POST", target: "/detector/abc/findings", body: body,
		header: map[string]string{"Content-Type": "application/json"}})
	rd := strings.NewReader(body)
	nc := io.NopCloser(rd)
	allocs := testing.AllocsPerRun(100, func() {
		rd.Reset(body)
		r.Body = nc
		if _, err := v.Verify(r); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 {
		t.Errorf("Verify allocates %v times per request, want <= 2", allocs)
	}
}

func TestVerifyPresignedSessionToken(t *testing.T) {
	k := Key{ID: "ASIATEMP", Secret: "tempsecret", Account: "444455556666", SessionToken: "tok/+=123"}
	v := &Verifier{Service: "guardduty", Keys: Keys{k.ID: k}, Now: func() time.Time { return testTime }}
	for _, tc := range []struct {
		token string
		ok    bool
	}{{k.SessionToken, true}, {"tok/+=124", false}} {
		r := newReq(t, "GET", "/detector", "")
		u, _, err := v4.NewSigner().PresignHTTP(context.Background(),
			aws.Credentials{AccessKeyID: k.ID, SecretAccessKey: k.Secret, SessionToken: tc.token}, r, hashHex(""), "guardduty", "us-east-1", testTime)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(u, "X-Amz-Security-Token=") {
			t.Fatalf("no token in %s", u)
		}
		out, _ := http.NewRequest("GET", u, nil)
		_, err = v.Verify(out)
		if tc.ok && err != nil {
			t.Errorf("token %q: %v", tc.token, err)
		}
		if !tc.ok {
			wantCode(t, err, CodeUnrecognizedClient)
		}
	}
}
