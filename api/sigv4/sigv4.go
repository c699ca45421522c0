// Package sigv4 verifies AWS Signature Version 4 on the server side, so that
// the unmodified AWS SDKs and the AWS CLI can talk to Vigil's GuardDuty-
// and Security Hub-compatible APIs with ordinary access keys.
//
// A Verifier is bound to one service name (the fourth element of the
// credential scope, "guardduty" or "securityhub") and a KeyStore. Verify
// accepts both forms of SigV4:
//
//   - header auth: Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...
//     with the time in X-Amz-Date (or Date);
//   - presigned URLs: X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
//     X-Amz-SignedHeaders, X-Amz-Signature and optionally X-Amz-Expires in the
//     query string.
//
// The canonical request is rebuilt exactly as the AWS SDKs build it for
// non-S3 services: the already-escaped request path is URI-encoded a second
// time (so ":" sent as "%3A" is signed as "%253A"; this matters for
// GuardDuty's /tags/{ResourceArn}), the query is decoded, re-encoded per
// RFC 3986 and sorted, and only the headers named in SignedHeaders are
// used, with host taken from Request.Host. botocore (the AWS CLI) also
// removes "." and ".." segments and repeated slashes from the path before
// signing; when the path has any, the normalized form is accepted too.
// Behind a reverse proxy, the proxy must pass the client's Host header and
// request path through unchanged, or no signature will match.
//
// Failures are *Error values carrying the code AWS would send
// (MissingAuthenticationTokenException, IncompleteSignatureException,
// UnrecognizedClientException, InvalidSignatureException); WriteError
// renders them so that SDK clients see a smithy.APIError with that code and
// the CLI prints "An error occurred (<Code>) when calling ...". Secrets and
// derived keys never appear in errors.
package sigv4

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults for the zero values of Verifier's fields.
const (
	DefaultMaxSkew      = 5 * time.Minute
	DefaultMaxBodyBytes = 10 << 20 // 10 MiB
)

const (
	algorithm       = "AWS4-HMAC-SHA256"
	timeFormat      = "20060102T150405Z"
	dateFormat      = "20060102"
	scopeTerminator = "aws4_request"
	unsignedPayload = "UNSIGNED-PAYLOAD"
	maxExpires      = 7 * 24 * 60 * 60 // seconds; AWS caps presigned URLs at one week
)

// Key is an access key: the ID clients send, the secret they sign with, and
// the account it belongs to.
type Key struct {
	ID      string
	Secret  string
	Account string
	// SessionToken, when set, makes this a temporary credential: requests
	// must carry exactly this X-Amz-Security-Token. When empty, any request
	// that carries a session token is rejected, as AWS rejects a token that
	// does not belong to the key.
	SessionToken string
}

// KeyStore looks up access keys by ID. Implementations must be safe for
// concurrent use.
type KeyStore interface {
	Key(accessKeyID string) (Key, bool)
}

// Keys is a KeyStore backed by a map from access key ID to Key. It must not
// be modified while a Verifier uses it.
type Keys map[string]Key

// Key implements KeyStore.
func (k Keys) Key(id string) (Key, bool) {
	key, ok := k[id]
	return key, ok
}

// Principal is the verified identity of a request.
type Principal struct {
	AccessKeyID string
	Account     string
	Region      string // region from the credential scope
	Service     string // service from the credential scope (== Verifier.Service)
	SignedAt    time.Time
	// UnsignedPayload reports that the client sent
	// X-Amz-Content-Sha256: UNSIGNED-PAYLOAD, so the body is not covered by
	// the signature. Handlers that change state may refuse such requests.
	UnsignedPayload bool
}

// Verifier verifies SigV4-signed requests for one service. The zero values
// of MaxSkew, MaxBodyBytes and Now select the defaults. A Verifier is safe
// for concurrent use and must not be copied after first use.
type Verifier struct {
	Service      string        // credential-scope service name, e.g. "guardduty"
	Keys         KeyStore      // access keys
	MaxSkew      time.Duration // allowed |now - request time|; default DefaultMaxSkew
	MaxBodyBytes int64         // largest body Verify will read; default DefaultMaxBodyBytes
	Now          func() time.Time

	cache keyCache
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return DefaultMaxSkew
}

func (v *Verifier) maxBody() int64 {
	if v.MaxBodyBytes > 0 {
		return v.MaxBodyBytes
	}
	return DefaultMaxBodyBytes
}

// request holds what Verify parsed from the Authorization header or the
// presigning query parameters.
type request struct {
	presigned bool

	// credential scope: keyID/date/region/service/terminator
	keyID, date, region, service string

	signedHeaders string // ";"-separated, as sent
	signature     string // hex, as sent
	amzDate       string // ISO 8601 basic time used in the string to sign
	t             time.Time
	expires       int64 // X-Amz-Expires in seconds, -1 when absent
	token         string

	query []queryParam // decoded and encoded query parameters
}

// Verify checks the SigV4 signature of r and returns the authenticated
// principal. To hash the payload it reads the whole body (at most
// MaxBodyBytes) and replaces r.Body with an in-memory copy, so handlers can
// read it again. Every error is an *Error; pass it to WriteError.
func (v *Verifier) Verify(r *http.Request) (Principal, error) {
	if v.Service == "" || v.Keys == nil {
		return Principal{}, newError(http.StatusInternalServerError, CodeInternalServerError,
			"Internal server error.")
	}
	var req request
	if err := parseRequest(r, &req); err != nil {
		return Principal{}, err
	}
	if err := v.checkScope(&req); err != nil {
		return Principal{}, err
	}
	if err := v.checkTime(&req); err != nil {
		return Principal{}, err
	}

	key, ok := v.Keys.Key(req.keyID)
	if !ok || key.Secret == "" {
		return Principal{}, newError(http.StatusForbidden, CodeUnrecognizedClient, msgUnrecognized)
	}
	if req.token != "" || key.SessionToken != "" {
		if key.SessionToken == "" || subtle.ConstantTimeCompare([]byte(req.token), []byte(key.SessionToken)) != 1 {
			return Principal{}, newError(http.StatusForbidden, CodeUnrecognizedClient, msgUnrecognized)
		}
	}

	body, err := v.readBody(r)
	if err != nil {
		return Principal{}, err
	}
	var phBuf [64]byte
	ph, unsigned, err := payloadHash(&phBuf, r, body)
	if err != nil {
		return Principal{}, err
	}

	signingKey := v.signingKey(req.keyID, key.Secret, req.date, req.region, req.service)
	path := canonicalPath(r)
	var want [64]byte
	req.sign(&want, &signingKey, r, path, ph)
	if !signatureEqual(want[:], req.signature) {
		// botocore removes dot segments and empty segments from the path
		// before signing; the Go SDK signs it as sent.
		norm := removeDotSegments(path)
		if norm == path {
			return Principal{}, invalidSig(msgMismatch)
		}
		req.sign(&want, &signingKey, r, norm, ph)
		if !signatureEqual(want[:], req.signature) {
			return Principal{}, invalidSig(msgMismatch)
		}
	}

	return Principal{
		AccessKeyID:     req.keyID,
		Account:         key.Account,
		Region:          req.region,
		Service:         req.service,
		SignedAt:        req.t,
		UnsignedPayload: unsigned,
	}, nil
}

func signatureEqual(want []byte, got string) bool {
	return len(got) == len(want) && subtle.ConstantTimeCompare(want, []byte(got)) == 1
}

// parseRequest fills req from the Authorization header or, for presigned
// URLs, the query string.
func parseRequest(r *http.Request, req *request) *Error {
	req.expires = -1
	authz, hasHeader := r.Header["Authorization"]
	if hasHeader && len(authz) == 1 && authz[0] == "" {
		hasHeader = false
	}
	var err *Error
	if r.URL.RawQuery != "" {
		req.query, err = parseQuery(r.URL.RawQuery)
		if err != nil {
			return err
		}
	}
	_, hasQuery := req.param("X-Amz-Algorithm")
	switch {
	case hasHeader && hasQuery:
		return incomplete("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter " +
			"or the Authorization header should be specified.")
	case hasHeader:
		if len(authz) != 1 {
			return incomplete("Only one Authorization header is allowed.")
		}
		return parseHeaderAuth(r, authz[0], req)
	case hasQuery:
		return parseQueryAuth(req)
	default:
		return newError(http.StatusForbidden, CodeMissingAuthenticationToken, msgMissingToken)
	}
}

func parseHeaderAuth(r *http.Request, authz string, req *request) *Error {
	alg, rest, _ := strings.Cut(authz, " ")
	if alg != algorithm {
		return incomplete("Authorization header must use the " + algorithm + " algorithm.")
	}
	var credential string
	var haveCred, haveSH, haveSig bool
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return incomplete("Invalid key=value pair (missing equal-sign) in Authorization header.")
		}
		var seen *bool
		switch k {
		case "Credential":
			credential, seen = val, &haveCred
		case "SignedHeaders":
			req.signedHeaders, seen = val, &haveSH
		case "Signature":
			req.signature, seen = val, &haveSig
		default:
			continue
		}
		if *seen {
			return incomplete("Authorization header has a duplicate '" + k + "' parameter.")
		}
		*seen = true
	}
	var missing []string
	for _, m := range []struct {
		ok   bool
		name string
	}{{haveCred, "Credential"}, {haveSig, "Signature"}, {haveSH, "SignedHeaders"}} {
		if !m.ok {
			missing = append(missing, "Authorization header requires '"+m.name+"' parameter.")
		}
	}

	// The request time: X-Amz-Date wins over Date, and the one used must be
	// signed, or an old signature could be replayed with a fresh date.
	dateHeader := "x-amz-date"
	if d := r.Header.Get("X-Amz-Date"); d != "" {
		t, err := time.Parse(timeFormat, d)
		if err != nil {
			return incomplete("X-Amz-Date must be in the ISO8601 basic format YYYYMMDD'T'HHMMSS'Z'.")
		}
		req.t, req.amzDate = t, d
	} else if d := r.Header.Get("Date"); d != "" {
		t, err := http.ParseTime(d)
		if err != nil {
			return incomplete("Date header must be an HTTP date.")
		}
		req.t, req.amzDate, dateHeader = t.UTC(), t.UTC().Format(timeFormat), "date"
	} else {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if missing != nil {
		return incomplete(strings.Join(missing, " "))
	}
	if err := req.parseCredential(credential); err != nil {
		return err
	}
	if err := checkSignedHeaders(req.signedHeaders); err != nil {
		return err
	}
	if !hasSignedHeader(req.signedHeaders, dateHeader) {
		return incomplete("'" + dateHeader + "' must be a 'SignedHeader' in the AWS Authorization.")
	}
	req.token = r.Header.Get("X-Amz-Security-Token")
	return nil
}

func parseQueryAuth(req *request) *Error {
	req.presigned = true
	alg, _ := req.param("X-Amz-Algorithm")
	if alg != algorithm {
		return incomplete("X-Amz-Algorithm only supports '" + algorithm + "'.")
	}
	var missing []string
	get := func(name string) string {
		val, ok := req.param(name)
		if !ok || val == "" {
			missing = append(missing, "AWS query-string parameters must include '"+name+"'.")
		}
		return val
	}
	credential := get("X-Amz-Credential")
	req.signedHeaders = get("X-Amz-SignedHeaders")
	req.signature = get("X-Amz-Signature")
	req.amzDate = get("X-Amz-Date")
	if missing != nil {
		return incomplete(strings.Join(missing, " "))
	}
	t, err := time.Parse(timeFormat, req.amzDate)
	if err != nil {
		return incomplete("X-Amz-Date must be in the ISO8601 basic format YYYYMMDD'T'HHMMSS'Z'.")
	}
	req.t = t
	if e, ok := req.param("X-Amz-Expires"); ok {
		n, err := strconv.ParseInt(e, 10, 64)
		if err != nil || n < 1 || n > maxExpires {
			return incomplete("X-Amz-Expires must be a whole number of seconds between 1 and 604800 (one week).")
		}
		req.expires = n
	}
	if err := req.parseCredential(credential); err != nil {
		return err
	}
	if err := checkSignedHeaders(req.signedHeaders); err != nil {
		return err
	}
	req.token, _ = req.param("X-Amz-Security-Token")
	return nil
}

// parseCredential splits keyID/date/region/service/aws4_request.
func (req *request) parseCredential(c string) *Error {
	var parts [5]string
	n := 0
	for rest := c; ; n++ {
		before, after, found := strings.Cut(rest, "/")
		if n < len(parts) {
			parts[n] = before
		}
		if !found {
			n++
			break
		}
		rest = after
	}
	if n != 5 {
		return incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" +
			truncate(c, 128) + "'.")
	}
	req.keyID, req.date, req.region, req.service = parts[0], parts[1], parts[2], parts[3]
	switch {
	case req.keyID == "":
		return incomplete("Credential must include an access key ID.")
	case req.region == "":
		return invalidSig("Credential should be scoped to a valid region.")
	case parts[4] != scopeTerminator:
		return invalidSig("Credential should be scoped with a valid terminator: 'aws4_request', not '" +
			truncate(parts[4], 32) + "'.")
	}
	return nil
}

// checkSignedHeaders requires a well-formed, non-empty list that includes host.
func checkSignedHeaders(sh string) *Error {
	if sh == "" {
		return incomplete("SignedHeaders must not be empty.")
	}
	for name := range strings.SplitSeq(sh, ";") {
		if name == "" || strings.ContainsAny(name, " \t\r\n:") {
			return incomplete("SignedHeaders must be a ';'-separated list of header names.")
		}
	}
	if !hasSignedHeader(sh, "host") {
		return incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return nil
}

func hasSignedHeader(sh, name string) bool {
	for n := range strings.SplitSeq(sh, ";") {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

func (v *Verifier) checkScope(req *request) *Error {
	if req.service != v.Service {
		return invalidSig("Credential should be scoped to correct service: '" + v.Service + "'. ")
	}
	if d := req.amzDate[:len(dateFormat)]; req.date != d {
		return invalidSig("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
			truncate(req.date, 16) + "' != '" + d + "', from '" + req.t.UTC().Format(timeFormat) + "'.")
	}
	return nil
}

func (v *Verifier) checkTime(req *request) *Error {
	now := v.now().UTC()
	skew := v.maxSkew()
	t := req.t.UTC()
	if req.presigned && req.expires >= 0 {
		if end := t.Add(time.Duration(req.expires) * time.Second); now.After(end) {
			return invalidSig(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %d sec.)",
				t.Format(timeFormat), now.Add(-time.Duration(req.expires)*time.Second).Format(timeFormat),
				now.Format(timeFormat), req.expires))
		}
	} else if earliest := now.Add(-skew); t.Before(earliest) {
		return invalidSig(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s.)",
			t.Format(timeFormat), earliest.Format(timeFormat), now.Format(timeFormat), fmtSkew(skew)))
	}
	if latest := now.Add(skew); t.After(latest) {
		return invalidSig(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s.)",
			t.Format(timeFormat), latest.Format(timeFormat), now.Format(timeFormat), fmtSkew(skew)))
	}
	return nil
}

func fmtSkew(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min"
	}
	return d.String()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// readBody reads the body (bounded) and puts an in-memory copy back.
func (v *Verifier) readBody(r *http.Request) ([]byte, *Error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	limit := v.maxBody()
	tooLarge := func() *Error {
		return newError(http.StatusRequestEntityTooLarge, CodeRequestEntityTooLarge,
			"Request body exceeds the limit of "+strconv.FormatInt(limit, 10)+" bytes.")
	}
	if r.ContentLength > limit {
		return nil, tooLarge()
	}
	var b []byte
	var err error
	if r.ContentLength > 0 {
		// One spare byte detects a body longer than announced (net/http's
		// server cuts those off; requests built in process may not).
		b = make([]byte, r.ContentLength+1)
		var n int
		n, err = io.ReadFull(r.Body, b)
		switch {
		case err == io.ErrUnexpectedEOF && int64(n) == r.ContentLength:
			b, err = b[:n], nil
		case err == nil:
			err = errors.New("body longer than Content-Length")
		}
	} else {
		b, err = io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err == nil && int64(len(b)) > limit {
			r.Body.Close()
			return nil, tooLarge()
		}
	}
	r.Body.Close()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge()
		}
		return nil, newError(http.StatusBadRequest, CodeBadRequest, "Could not read the request body.")
	}
	rb := &replayBody{}
	rb.Reset(b)
	r.Body = rb
	return b, nil
}

// replayBody is the in-memory body Verify leaves for the handler.
type replayBody struct{ bytes.Reader }

func (*replayBody) Close() error { return nil }

// payloadHash returns the hex payload hash for the canonical request,
// using buf for storage. A client-supplied X-Amz-Content-Sha256 is used as
// is, but (unless it is UNSIGNED-PAYLOAD) must match the body, or a signed
// header would vouch for a body that was swapped in transit.
func payloadHash(buf *[64]byte, r *http.Request, body []byte) ([]byte, bool, *Error) {
	sum := sha256.Sum256(body)
	hex.Encode(buf[:], sum[:])
	claimed := r.Header.Get("X-Amz-Content-Sha256")
	switch {
	case claimed == "":
		return buf[:], false, nil
	case claimed == unsignedPayload:
		return append(buf[:0], unsignedPayload...), true, nil
	case len(claimed) == len(buf) && strings.EqualFold(claimed, string(buf[:])):
		return append(buf[:0], claimed...), false, nil // signed as sent, even in upper case
	case len(claimed) == len(buf):
		return nil, false, invalidSig("The provided 'x-amz-content-sha256' header does not match what was computed.")
	default:
		return nil, false, invalidSig("x-amz-content-sha256 must be UNSIGNED-PAYLOAD or the hex SHA-256 of the payload.")
	}
}

// sign writes the hex signature of the request, using path as the
// already-escaped request path, to dst.
func (req *request) sign(dst *[64]byte, signingKey *[32]byte, r *http.Request, path string, payloadHash []byte) {
	var arr [1024]byte
	buf := appendCanonicalRequest(arr[:0], r, req, path, payloadHash)
	crHash := sha256.Sum256(buf)

	// String to sign.
	buf = append(buf[:0], algorithm...)
	buf = append(buf, '\n')
	buf = append(buf, req.amzDate...)
	buf = append(buf, '\n')
	buf = append(buf, req.date...)
	buf = append(buf, '/')
	buf = append(buf, req.region...)
	buf = append(buf, '/')
	buf = append(buf, req.service...)
	buf = append(buf, "/"+scopeTerminator+"\n"...)
	buf = hex.AppendEncode(buf, crHash[:])

	sum := hmacSHA256(signingKey, buf)
	hex.Encode(dst[:], sum[:])
}

// hmacSHA256 is HMAC-SHA256 (RFC 2104) for a 32-byte key, written out so
// the per-request MAC does not allocate: H((K^opad) || H((K^ipad) || msg)).
// TestHMACSHA256 checks it against crypto/hmac.
func hmacSHA256(key *[32]byte, msg []byte) [32]byte {
	const blockSize = 64
	var arr [blockSize + 512]byte
	inner := arr[:blockSize]
	for i := range inner {
		inner[i] = 0x36
	}
	for i, k := range key {
		inner[i] ^= k
	}
	inner = append(inner, msg...)
	innerSum := sha256.Sum256(inner)

	var outer [blockSize + sha256.Size]byte
	for i := range blockSize {
		outer[i] = 0x5c
	}
	for i, k := range key {
		outer[i] ^= k
	}
	copy(outer[blockSize:], innerSum[:])
	return sha256.Sum256(outer[:])
}

// signingKey derives (or fetches from the cache) the SigV4 signing key.
func (v *Verifier) signingKey(id, secret, date, region, service string) [32]byte {
	ck := cacheKey{id: id, date: date, region: region, service: service}
	if k, ok := v.cache.get(ck, secret); ok {
		return k
	}
	k := deriveKey(secret, date, region, service)
	v.cache.put(ck, secret, k)
	return k
}

func deriveKey(secret, date, region, service string) [32]byte {
	h := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	k := h([]byte("AWS4"+secret), date)
	k = h(k, region)
	k = h(k, service)
	k = h(k, scopeTerminator)
	return [32]byte(k)
}

// keyCache is a small bounded cache of derived signing keys. Keys are
// derived per day, so a handful of entries per access key suffices.
type keyCache struct {
	mu sync.Mutex
	m  map[cacheKey]cacheEntry
}

const keyCacheSize = 512

type cacheKey struct{ id, date, region, service string }

type cacheEntry struct {
	secret string // the secret the key was derived from; a rotated secret misses
	key    [32]byte
}

func (c *keyCache) get(k cacheKey, secret string) ([32]byte, bool) {
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if !ok || e.secret != secret {
		return [32]byte{}, false
	}
	return e.key, true
}

func (c *keyCache) put(k cacheKey, secret string, key [32]byte) {
	// Clone so the cache does not pin request headers in memory.
	k = cacheKey{strings.Clone(k.id), strings.Clone(k.date), strings.Clone(k.region), strings.Clone(k.service)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[cacheKey]cacheEntry)
	}
	if _, ok := c.m[k]; !ok && len(c.m) >= keyCacheSize {
		for old := range c.m { // evict an arbitrary entry
			delete(c.m, old)
			break
		}
	}
	c.m[k] = cacheEntry{secret: secret, key: key}
}

type principalKey struct{}

// NewContext returns a copy of ctx carrying p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the Principal stored by NewContext or Handler.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Handler returns a handler that verifies each request, answers failures
// with WriteError, and otherwise calls next with the Principal in the
// request context (see FromContext).
func (v *Verifier) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := v.Verify(r)
		if err != nil {
			WriteError(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), p)))
	})
}
