package vpcflow

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

// checkAddr asserts that parseAddr agrees with netip.ParseAddr on s, and that
// the IPv4 fast path only accepts what netip.ParseAddr parses as the same IPv4.
func checkAddr(t *testing.T, s string) {
	t.Helper()
	want, wantErr := netip.ParseAddr(s)
	if fast, ok := parseIPv4([]byte(s)); ok {
		if wantErr != nil || fast != want || !fast.Is4() {
			t.Fatalf("parseIPv4(%q) = %v, netip.ParseAddr = %v, %v", s, fast, want, wantErr)
		}
	}
	got, err := parseAddr([]byte(s))
	if (err != nil) != (wantErr != nil) || got != want {
		t.Fatalf("parseAddr(%q) = %v, %v; netip.ParseAddr = %v, %v", s, got, err, want, wantErr)
	}
}

// TestParseAddrDifferential compares the IPv4 fast path and its fallback
// with netip.ParseAddr on odd and random strings. A naive octet check lets a
// 4-digit IPv6 hextet or a long digit run overflow; this test keeps that out.
func TestParseAddrDifferential(t *testing.T) {
	fixed := []string{
		"", ".", "...", "0.0.0.0", "255.255.255.255", "256.0.0.0", "1.2.3", "1.2.3.4.", ".1.2.3.4",
		"1.2.3.4.5", "1..2.3", "01.2.3.4", "1.2.3.04", "1.2.3.00", "1.2.3.0", "1000.2.3.4", "1.2.3.1000",
		"4294967296.0.0.1", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4\x00", "1.2.3.-4", "1.2.3.+4", "1.2.3.4%eth0",
		"::", "::1", "1234::", "1234:5678:9abc:def0:1234:5678:9abc:def0", "::ffff:1.2.3.4", "::ffff:1.2.3",
		"1234.5678.9abc.def0", "2001:db8::1%eth0", "fe80::1%", "1.2.3.4:80", "[::1]", "0x1.2.3.4",
		"1e2.0.0.1", "١.٢.٣.٤", "999.999.999.999", "255.255.255.2550", "25.5.255.255.", "1.2.3.4/24",
	}
	for _, s := range fixed {
		checkAddr(t, s)
	}
	// Every octet spelling from 0 to 9999, with and without leading zeros, in
	// every position.
	for v := range 10000 {
		for _, o := range []string{fmt.Sprint(v), fmt.Sprintf("0%d", v), fmt.Sprintf("%04d", v)} {
			checkAddr(t, o+".1.2.3")
			checkAddr(t, "1.2.3."+o)
			checkAddr(t, "1."+o+".2.3")
			checkAddr(t, o+"::1")
			checkAddr(t, "::"+o)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "0123456789.........:::abcdefABCDEF%x "
	for range 100_000 {
		var sb strings.Builder
		for range rng.IntN(24) {
			sb.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		checkAddr(t, sb.String())
	}
	// Near-valid dotted quads.
	for range 100_000 {
		var sb strings.Builder
		n := 3 + rng.IntN(3)
		for i := range n {
			if i > 0 {
				sb.WriteByte('.')
			}
			switch rng.IntN(8) {
			case 0:
				fmt.Fprintf(&sb, "%d", rng.IntN(100000))
			case 1:
				fmt.Fprintf(&sb, "0%d", rng.IntN(300))
			case 2:
				// nothing: an empty octet
			default:
				fmt.Fprintf(&sb, "%d", rng.IntN(256))
			}
		}
		checkAddr(t, sb.String())
	}
	// Random valid addresses round-trip.
	for range 100_000 {
		var a [16]byte
		for i := range a {
			a[i] = byte(rng.Uint32())
		}
		checkAddr(t, netip.AddrFrom4([4]byte(a[:4])).String())
		checkAddr(t, netip.AddrFrom16(a).String())
		checkAddr(t, netip.AddrFrom16(a).StringExpanded())
	}
}

// checkSplit compares fieldSpans.split with strings.FieldsFunc.
func checkSplit(t *testing.T, line string) {
	t.Helper()
	want := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' })
	var sp fieldSpans
	if ok := sp.split([]byte(line)); ok != (len(want) <= maxFields) {
		t.Fatalf("split(%q) ok = %v with %d fields", line, ok, len(want))
	}
	if len(want) > maxFields {
		return
	}
	if sp.n != len(want) {
		t.Fatalf("split(%q): %d fields, want %d", line, sp.n, len(want))
	}
	for k := range sp.n {
		if got := string(sp.field([]byte(line), k)); got != want[k] {
			t.Fatalf("split(%q) field %d = %q, want %q", line, k, got, want[k])
		}
	}
}

func TestSplit(t *testing.T) {
	for _, s := range []string{"", " ", "\t\t", "a", " a ", "a b", "a  b\tc\t ", recV2, hdrV5, recV5b,
		strings.Repeat("x ", maxFields), strings.Repeat("x ", maxFields+1), strings.Repeat(" ", 17) + "y"} {
		checkSplit(t, s)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const alphabet = "ab  \t\t-\xff\x00\r"
	for range 100_000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		checkSplit(t, string(b))
	}
}
