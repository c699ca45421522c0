package intel

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// maxDomainLen is the longest name DNS allows (without the trailing dot).
const maxDomainLen = 253

// indicator is one parsed list entry: a prefix or a domain.
type indicator struct {
	pfx    netip.Prefix // valid for addresses and prefixes
	domain string       // normalised domain otherwise
}

// parsePrefix parses an IP address or CIDR prefix. IPv4-mapped IPv6 is
// unmapped, host bits are cleared, zones are refused.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		a := p.Addr()
		if a.Is4In6() {
			if p.Bits() < 96 {
				return netip.Prefix{}, fmt.Errorf("IPv4-mapped prefix %s shorter than /96", s)
			}
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		if (p.Addr().Is4() && p.Bits() < 8) || (p.Addr().Is6() && p.Bits() < 16) {
			return netip.Prefix{}, ErrPrefixTooBig
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, errors.New("zoned address")
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// looksLikeIP reports whether s could only be meant as an address or prefix
// (so a parse failure is an address error, not "maybe a domain").
func looksLikeIP(s string) bool {
	if strings.IndexByte(s, ':') >= 0 || strings.IndexByte(s, '/') >= 0 {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// normDomain validates and normalises a domain name: lower case, no trailing
// dot, a leading "*." (wildcard) or "." stripped, LDH/underscore labels of
// 1-63 bytes, at least two labels, a non-numeric last label, and not an ICANN
// public suffix.
func normDomain(s string) (string, error) {
	s = strings.TrimSuffix(s, ".")
	s = strings.TrimPrefix(s, "*.")
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return "", errors.New("empty domain")
	}
	if len(s) > maxDomainLen {
		return "", errors.New("domain longer than 253 bytes")
	}
	lower := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			lower = false
			break
		}
	}
	if !lower {
		s = strings.ToLower(s)
	}
	labels, start, digitsOnly := 0, 0, true
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			n := i - start
			if n == 0 {
				return "", errors.New("empty label in domain")
			}
			if n > 63 {
				return "", errors.New("domain label longer than 63 bytes")
			}
			labels++
			if i < len(s) {
				digitsOnly = true
			}
			start = i + 1
			continue
		}
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', c == '-', c == '_':
			digitsOnly = false
		case '0' <= c && c <= '9':
		default:
			return "", ErrNotIndicator
		}
	}
	if labels < 2 {
		return "", errors.New("single-label name is not a domain")
	}
	if digitsOnly {
		return "", errors.New("numeric top-level label")
	}
	if ps, icann := publicsuffix.PublicSuffix(s); icann && ps == s {
		return "", ErrPublicSuffix
	}
	return s, nil
}

// hostOfURL returns the host of an absolute URL (scheme://host/...).
func hostOfURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	h := u.Hostname()
	if h == "" {
		return "", errors.New("URL without host")
	}
	return h, nil
}

// parseIndicator parses an IP address, CIDR prefix, domain or URL (whose
// host is taken).
func parseIndicator(s string) (indicator, error) {
	if strings.Contains(s, "://") {
		h, err := hostOfURL(s)
		if err != nil {
			return indicator{}, err
		}
		s = h
	}
	if looksLikeIP(s) {
		p, err := parsePrefix(s)
		if err != nil {
			return indicator{}, err
		}
		return indicator{pfx: p}, nil
	}
	d, err := normDomain(s)
	if err != nil {
		return indicator{}, err
	}
	return indicator{domain: d}, nil
}
