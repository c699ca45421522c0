package sigv4

import (
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// queryParam is one query parameter, decoded (for lookups) and encoded per
// SigV4 (for the canonical query string).
type queryParam struct {
	key, value       string // decoded
	encKey, encValue string // RFC 3986 encoded, upper-case hex
}

// parseQuery splits a raw query string into parameters sorted by encoded
// key, then encoded value, as the canonical query string requires. "+"
// decodes to a space, as net/url (and so the Go SDK signer) decodes it.
func parseQuery(raw string) ([]queryParam, *Error) {
	n := strings.Count(raw, "&") + 1
	params := make([]queryParam, 0, n)
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		if strings.IndexByte(pair, ';') >= 0 {
			return nil, incomplete("Malformed query string: ';' is not a valid separator.")
		}
		k, v, _ := strings.Cut(pair, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, incomplete("Malformed query string: invalid percent-encoding.")
		}
		params = append(params, queryParam{key: dk, value: dv, encKey: escape(dk, false), encValue: escape(dv, false)})
	}
	slices.SortFunc(params, func(a, b queryParam) int {
		if c := strings.Compare(a.encKey, b.encKey); c != 0 {
			return c
		}
		return strings.Compare(a.encValue, b.encValue)
	})
	return params, nil
}

// param returns the first value of the decoded query parameter name.
func (req *request) param(name string) (string, bool) {
	for i := range req.query {
		if req.query[i].key == name {
			return req.query[i].value, true
		}
	}
	return "", false
}

// unreserved reports whether c is in the RFC 3986 unreserved set, the only
// bytes SigV4 leaves unencoded.
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

const upperhex = "0123456789ABCDEF"

// escape percent-encodes every byte of s outside the unreserved set (and
// '/' unless keepSlash). It returns s itself when nothing needs encoding.
func escape(s string, keepSlash bool) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !unreserved(c) && !(keepSlash && c == '/') {
			return string(appendEscaped(make([]byte, 0, len(s)+16), s, keepSlash))
		}
	}
	return s
}

func appendEscaped(buf []byte, s string, keepSlash bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || keepSlash && c == '/' {
			buf = append(buf, c)
		} else {
			buf = append(buf, '%', upperhex[c>>4], upperhex[c&15])
		}
	}
	return buf
}

// canonicalPath returns the request path exactly as the client sent it, still
// escaped. For a server request that is the path part of RequestURI; the
// client signer took the same bytes from its URL.EscapedPath. r.URL is only
// consulted for requests that did not come from net/http's server.
func canonicalPath(r *http.Request) string {
	var p string
	if strings.HasPrefix(r.RequestURI, "/") {
		p = r.RequestURI
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
	} else {
		p = r.URL.EscapedPath()
	}
	if p == "" {
		p = "/"
	}
	return p
}

// removeDotSegments mirrors botocore's normalize_url_path: it removes "."
// and ".." segments (RFC 3986 §5.2.4) and empty segments, keeping a leading
// and trailing slash.
func removeDotSegments(p string) string {
	if p == "" {
		return "/"
	}
	if !strings.Contains(p, "//") && !strings.Contains(p, "/.") && !strings.HasPrefix(p, ".") {
		return p
	}
	var out []string
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	var b strings.Builder
	if p[0] == '/' {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(out, "/"))
	if p[len(p)-1] == '/' && len(out) > 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// appendCanonicalRequest appends the SigV4 canonical request:
//
//	Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash
//
// where CanonicalURI is the escaped path escaped once more (non-S3 rule) and
// CanonicalHeaders has one "name:value\n" line per signed header.
func appendCanonicalRequest(buf []byte, r *http.Request, req *request, path string, payloadHash []byte) []byte {
	buf = append(buf, r.Method...)
	buf = append(buf, '\n')
	buf = appendEscaped(buf, path, true)
	buf = append(buf, '\n')

	first := true
	for i := range req.query {
		q := &req.query[i]
		if req.presigned && q.key == "X-Amz-Signature" {
			continue
		}
		if !first {
			buf = append(buf, '&')
		}
		first = false
		buf = append(buf, q.encKey...)
		buf = append(buf, '=')
		buf = append(buf, q.encValue...)
	}
	buf = append(buf, '\n')

	for name := range strings.SplitSeq(req.signedHeaders, ";") {
		for i := 0; i < len(name); i++ {
			c := name[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf = append(buf, c)
		}
		buf = append(buf, ':')
		buf = appendHeaderValue(buf, r, name)
		buf = append(buf, '\n')
	}
	buf = append(buf, '\n')
	buf = append(buf, req.signedHeaders...)
	buf = append(buf, '\n')
	buf = append(buf, payloadHash...)
	return buf
}

// appendHeaderValue appends the canonical value of the named header: all
// values trimmed, runs of spaces collapsed, joined with ",".
func appendHeaderValue(buf []byte, r *http.Request, name string) []byte {
	key := canonicalKey(name)
	if key == "Host" {
		host := r.Host
		if host == "" {
			host = r.URL.Host
		}
		return appendTrimmed(buf, host)
	}
	vals := r.Header[key]
	if len(vals) == 0 && key == "Content-Length" && r.ContentLength >= 0 {
		// net/http's server keeps Content-Length in Header; requests built
		// in process may only have the field.
		return strconv.AppendInt(buf, r.ContentLength, 10)
	}
	for i, v := range vals {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendTrimmed(buf, v)
	}
	return buf
}

// appendTrimmed appends v without leading and trailing spaces and tabs and
// with each run of spaces collapsed to one, the SigV4 "Trimall".
func appendTrimmed(buf []byte, v string) []byte {
	v = strings.Trim(v, " \t")
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		buf = append(buf, c)
	}
	return buf
}

// canonicalKey maps a signed header name to its http.Header key. The
// common names are constants, so they cost no allocation.
func canonicalKey(name string) string {
	switch strings.ToLower(name) {
	case "host":
		return "Host"
	case "x-amz-date":
		return "X-Amz-Date"
	case "content-type":
		return "Content-Type"
	case "content-length":
		return "Content-Length"
	case "x-amz-security-token":
		return "X-Amz-Security-Token"
	case "x-amz-content-sha256":
		return "X-Amz-Content-Sha256"
	case "amz-sdk-invocation-id":
		return "Amz-Sdk-Invocation-Id"
	case "amz-sdk-request":
		return "Amz-Sdk-Request"
	case "x-amz-user-agent":
		return "X-Amz-User-Agent"
	case "date":
		return "Date"
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}
