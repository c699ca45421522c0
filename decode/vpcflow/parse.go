package vpcflow

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"time"
	"unsafe"

	"github.com/vigilsec/vigil/event"
)

// maxUnix is the last second of year 9999: later start/end values are
// rejected as garbage (and could not be written as RFC 3339).
const maxUnix = 253402300799

var errTooLong = errors.New("line too long")

// fieldSpans holds where the fields of one line start and end.
type fieldSpans struct {
	n     int
	start [maxFields]int32
	end   [maxFields]int32
}

const (
	lows   = 0x7f7f7f7f7f7f7f7f
	spaces = 0x2020202020202020
	tabs   = 0x0909090909090909
)

// zeroBytes has the high bit set in exactly the bytes of v that are zero.
func zeroBytes(v uint64) uint64 {
	return ^((v&lows + lows) | v | lows)
}

// split records in sp the fields of line, separated by runs of spaces and
// tabs. It reports false when the line has more than maxFields fields.
// Lines are at most maxLineSize bytes, so offsets fit in int32.
//
// It finds the separators of 8 bytes at a time: each separator ends the
// field before it unless that field is empty.
func (sp *fieldSpans) split(line []byte) bool {
	sp.n = 0
	next := 0 // where the field after the last separator starts
	i, n := 0, len(line)
	for ; i+8 <= n; i += 8 {
		x := binary.LittleEndian.Uint64(line[i:])
		m := zeroBytes(x^spaces) | zeroBytes(x^tabs)
		for m != 0 {
			p := i + bits.TrailingZeros64(m)>>3
			m &= m - 1
			if p > next {
				if sp.n == maxFields {
					return false
				}
				sp.start[sp.n], sp.end[sp.n] = int32(next), int32(p)
				sp.n++
			}
			next = p + 1
		}
	}
	for ; i < n; i++ {
		if c := line[i]; c == ' ' || c == '\t' {
			if i > next {
				if sp.n == maxFields {
					return false
				}
				sp.start[sp.n], sp.end[sp.n] = int32(next), int32(i)
				sp.n++
			}
			next = i + 1
		}
	}
	if n > next {
		if sp.n == maxFields {
			return false
		}
		sp.start[sp.n], sp.end[sp.n] = int32(next), int32(n)
		sp.n++
	}
	return true
}

// field returns field k of line.
func (sp *fieldSpans) field(line []byte, k int) []byte {
	return line[sp.start[k]:sp.end[k]]
}

// parseUint parses a decimal number of at most max (no sign, no leading
// plus, leading zeros allowed).
func parseUint(b []byte, max uint64) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		c -= '0'
		if c > 9 {
			return 0, false
		}
		if v > (max-uint64(c))/10 {
			return 0, false
		}
		v = v*10 + uint64(c)
	}
	return v, true
}

// parseIPv4 is the fast path for dotted-quad IPv4 addresses. It accepts
// exactly what netip.ParseAddr accepts for IPv4 (four decimal octets of at most
// 255, no leading zeros) and reports false for anything else.
func parseIPv4(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	i := 0
	for n := range 4 {
		if n > 0 {
			if i >= len(b) || b[i] != '.' {
				return netip.Addr{}, false
			}
			i++
		}
		if i >= len(b) {
			return netip.Addr{}, false
		}
		c := b[i] - '0'
		if c > 9 {
			return netip.Addr{}, false
		}
		v := uint(c)
		i++
		for digits := 1; i < len(b); digits++ {
			c = b[i] - '0'
			if c > 9 {
				break
			}
			if v == 0 || digits == 3 { // leading zero, or a fourth digit
				return netip.Addr{}, false
			}
			v = v*10 + uint(c)
			i++
		}
		if v > 255 {
			return netip.Addr{}, false
		}
		ip[n] = byte(v)
	}
	if i != len(b) {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}

// parseAddr parses an IPv4 or IPv6 address, IPv4 without allocating.
func parseAddr(b []byte) (netip.Addr, error) {
	if a, ok := parseIPv4(b); ok {
		return a, nil
	}
	// netip.ParseAddr keeps no reference to its argument in the returned
	// Addr (a zone is copied by unique.Make); only its error does, and that
	// error is dropped here. So the line buffer can be viewed in place.
	a, err := netip.ParseAddr(unsafe.String(unsafe.SliceData(b), len(b)))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("invalid address %q", clip(b))
	}
	return a, nil
}

// clip shortens a value quoted in an error message.
func clip(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

func badValue(what string, b []byte) error {
	return fmt.Errorf("invalid %s %q", what, clip(b))
}

func parseAction(b []byte) (event.Action, bool) {
	switch string(b) {
	case "ACCEPT", "accept":
		return event.ActionAccept, true
	case "REJECT", "reject":
		return event.ActionReject, true
	}
	return event.ActionUnknown, false
}

func parseLogStatus(b []byte) (event.LogStatus, bool) {
	switch string(b) {
	case "OK", "ok":
		return event.LogStatusOK, true
	case "NODATA", "nodata":
		return event.LogStatusNoData, true
	case "SKIPDATA", "skipdata":
		return event.LogStatusSkipData, true
	}
	return event.LogStatusUnknown, false
}

func parseDirection(b []byte) (event.Direction, bool) {
	switch string(b) {
	case "ingress":
		return event.DirectionIngress, true
	case "egress":
		return event.DirectionEgress, true
	}
	return event.DirectionUnknown, false
}

// parseRecord fills f from the columns of one record laid out as fm. On
// error it returns the index of the offending column.
func (d *Decoder) parseRecord(f *event.Flow, fm *format, line []byte, sp *fieldSpans) (int, error) {
	ids := fm.ids[:sp.n]
	for i, id := range ids {
		b := line[sp.start[i]:sp.end[i]]
		if id == fIgnore || (len(b) == 1 && b[0] == '-') {
			continue
		}
		switch id {
		case fVersion:
			v, ok := parseUint(b, math.MaxInt32)
			if !ok {
				return i, badValue("version", b)
			}
			f.Version = int(v)
		case fSrcAddr, fDstAddr, fPktSrcAddr, fPktDstAddr:
			a, err := parseAddr(b)
			if err != nil {
				return i, err
			}
			switch id {
			case fSrcAddr:
				f.SrcAddr = a
			case fDstAddr:
				f.DstAddr = a
			case fPktSrcAddr:
				f.PktSrcAddr = a
			default:
				f.PktDstAddr = a
			}
		case fSrcPort, fDstPort:
			v, ok := parseUint(b, math.MaxUint16)
			if !ok {
				return i, badValue("port", b)
			}
			if id == fSrcPort {
				f.SrcPort = uint16(v)
			} else {
				f.DstPort = uint16(v)
			}
			f.HasPorts = true
		case fProtocol:
			v, ok := parseUint(b, math.MaxUint8)
			if !ok {
				return i, badValue("protocol number", b)
			}
			f.Protocol, f.HasProtocol = uint8(v), true
		case fPackets, fBytes:
			v, ok := parseUint(b, math.MaxInt64)
			if !ok {
				return i, badValue("count", b)
			}
			if id == fPackets {
				f.Packets = int64(v)
			} else {
				f.Bytes = int64(v)
			}
		case fStart, fEnd:
			v, ok := parseUint(b, maxUnix)
			if !ok {
				return i, badValue("unix time", b)
			}
			t := time.Unix(int64(v), 0).UTC()
			if id == fStart {
				f.Start = t
			} else {
				f.End = t
			}
		case fAction:
			a, ok := parseAction(b)
			if !ok {
				return i, badValue("action", b)
			}
			f.Action = a
		case fLogStatus:
			s, ok := parseLogStatus(b)
			if !ok {
				return i, badValue("log status", b)
			}
			f.LogStatus = s
		case fTCPFlags:
			v, ok := parseUint(b, math.MaxUint16)
			if !ok {
				return i, badValue("tcp flags", b)
			}
			f.TCPFlags = uint16(v)
		case fFlowDirection:
			dir, ok := parseDirection(b)
			if !ok {
				return i, badValue("flow direction", b)
			}
			f.FlowDirection = dir
		case fTrafficPath:
			v, ok := parseUint(b, math.MaxInt8)
			if !ok {
				return i, badValue("traffic path", b)
			}
			f.TrafficPath = int8(v)
		case fAccountID:
			f.AccountID = d.intern(id, b)
		case fInterfaceID:
			f.InterfaceID = d.intern(id, b)
		case fVPCID:
			f.VPCID = d.intern(id, b)
		case fSubnetID:
			f.SubnetID = d.intern(id, b)
		case fInstanceID:
			f.InstanceID = d.intern(id, b)
		case fType:
			f.Type = d.intern(id, b)
		case fRegion:
			f.Region = d.intern(id, b)
		case fAZID:
			f.AZID = d.intern(id, b)
		case fSublocationType:
			f.SublocationType = d.intern(id, b)
		case fSublocationID:
			f.SublocationID = d.intern(id, b)
		case fPktSrcAWSService:
			f.PktSrcAWSService = d.intern(id, b)
		case fPktDstAWSService:
			f.PktDstAWSService = d.intern(id, b)
		case fECSClusterName:
			f.ECSClusterName = d.intern(id, b)
		case fECSTaskID:
			f.ECSTaskID = d.intern(id, b)
		case fRejectReason:
			f.RejectReason = d.intern(id, b)
		}
	}
	return 0, nil
}
