package cloudtrail

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// The scanner works on a window b of the input. Functions that scan a value
// return the index just after it, or one of these negative results.
const (
	needMore  = -1 // the window ended inside the value
	badSyntax = -2 // the bytes are not JSON
)

// maxDepth bounds the nesting of skipped values.
const maxDepth = 512

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// specialMask flags the bytes of x that end a run of plain string bytes: '"',
// '\\' and control characters. The lowest flagged byte is always exact.
func specialMask(x uint64) uint64 {
	q := x ^ (lsb * '"')
	s := x ^ (lsb * '\\')
	return ((q - lsb) &^ q & msb) | ((s - lsb) &^ s & msb) | ((x - lsb*0x20) &^ x & msb)
}

func isWS(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// skipWS returns the index of the first non-whitespace byte at or after i.
func skipWS(b []byte, i int) int {
	for i < len(b) {
		c := b[i]
		if c > ' ' || !isWS(c) {
			return i
		}
		i++
	}
	return i
}

var hexVal = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = int8(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = int8(c - 'a' + 10)
		t[c-'a'+'A'] = int8(c - 'a' + 10)
	}
	return t
}()

// scanString scans the string whose opening quote is at b[i]. It returns the
// index after the closing quote and whether the string holds escapes. Escapes
// are validated; UTF-8 is not.
func scanString(b []byte, i int) (int, bool) {
	j := i + 1
	esc := false
	for {
		for j+8 <= len(b) {
			m := specialMask(binary.LittleEndian.Uint64(b[j:]))
			if m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				break
			}
			j += 8
		}
		if j >= len(b) {
			return needMore, esc
		}
		switch c := b[j]; {
		case c == '"':
			return j + 1, esc
		case c == '\\':
			esc = true
			if j+1 >= len(b) {
				return needMore, esc
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(b) {
					return needMore, esc
				}
				if hexVal[b[j+2]]|hexVal[b[j+3]]|hexVal[b[j+4]]|hexVal[b[j+5]] < 0 {
					return badSyntax, esc
				}
				j += 6
			default:
				return badSyntax, esc
			}
		case c < 0x20:
			return badSyntax, esc
		default:
			j++
		}
	}
}

// scanNumber scans a JSON number starting at b[i].
func scanNumber(b []byte, i int) int {
	if b[i] == '-' {
		i++
		if i >= len(b) {
			return needMore
		}
	}
	switch c := b[i]; {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		i++
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return badSyntax
	}
	if i >= len(b) {
		return needMore
	}
	if b[i] == '.' {
		i++
		if i >= len(b) {
			return needMore
		}
		if b[i] < '0' || b[i] > '9' {
			return badSyntax
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i >= len(b) {
			return needMore
		}
	}
	if b[i] == 'e' || b[i] == 'E' {
		i++
		if i >= len(b) {
			return needMore
		}
		if b[i] == '+' || b[i] == '-' {
			i++
			if i >= len(b) {
				return needMore
			}
		}
		if b[i] < '0' || b[i] > '9' {
			return badSyntax
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i >= len(b) {
			return needMore
		}
	}
	return i
}

// scanLiteral matches lit (true, false or null) at b[i].
func scanLiteral(b []byte, i int, lit string) int {
	n := len(b) - i
	if n >= len(lit) {
		if string(b[i:i+len(lit)]) == lit {
			return i + len(lit)
		}
		return badSyntax
	}
	if string(b[i:]) == lit[:n] {
		return needMore
	}
	return badSyntax
}

// skipValue scans the JSON value starting at b[i] (no leading whitespace).
func skipValue(b []byte, i int, depth int) int {
	if i >= len(b) {
		return needMore
	}
	switch c := b[i]; c {
	case '"':
		j, _ := scanString(b, i)
		return j
	case '{':
		return skipObject(b, i, depth+1)
	case '[':
		return skipArray(b, i, depth+1)
	case 't':
		return scanLiteral(b, i, "true")
	case 'f':
		return scanLiteral(b, i, "false")
	case 'n':
		return scanLiteral(b, i, "null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return scanNumber(b, i)
		}
	}
	return badSyntax
}

func skipObject(b []byte, i int, depth int) int {
	if depth > maxDepth {
		return badSyntax
	}
	i = skipWS(b, i+1)
	if i >= len(b) {
		return needMore
	}
	if b[i] == '}' {
		return i + 1
	}
	for {
		if b[i] != '"' {
			return badSyntax
		}
		i, _ = scanString(b, i)
		if i < 0 {
			return i
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return needMore
		}
		if b[i] != ':' {
			return badSyntax
		}
		i = skipWS(b, i+1)
		i = skipValue(b, i, depth)
		if i < 0 {
			return i
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return needMore
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
			if i >= len(b) {
				return needMore
			}
		case '}':
			return i + 1
		default:
			return badSyntax
		}
	}
}

func skipArray(b []byte, i int, depth int) int {
	if depth > maxDepth {
		return badSyntax
	}
	i = skipWS(b, i+1)
	if i >= len(b) {
		return needMore
	}
	if b[i] == ']' {
		return i + 1
	}
	for {
		i = skipValue(b, i, depth)
		if i < 0 {
			return i
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return needMore
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case ']':
			return i + 1
		default:
			return badSyntax
		}
	}
}

// skipBalanced finds the end of the object or array at b[i] by counting
// brackets outside strings, without checking anything else. It is used to
// step over a malformed record inside an array.
func skipBalanced(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			i++
			for i < len(b) && b[i] != '"' {
				if b[i] == '\\' {
					i++
				}
				i++
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth <= 0 {
				return i + 1
			}
		}
		i++
	}
	return needMore
}

// unescape appends the decoded content of a JSON string body (without the
// quotes, already validated by scanString) to dst. Invalid surrogates become
// U+FFFD, as in encoding/json.
func unescape(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			j := i + 1
			for j < len(s) && s[j] != '\\' {
				j++
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		if i+1 >= len(s) {
			return dst
		}
		switch s[i+1] {
		case '"', '\\', '/':
			dst = append(dst, s[i+1])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(s, i+2)
			if !ok {
				return dst
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r2, ok2 := hex4(s, i+2); ok2 && i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						dst = utf8.AppendRune(dst, dec)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		}
		i += 2
	}
	return dst
}

func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	v := rune(0)
	for _, c := range s[i : i+4] {
		h := hexVal[c]
		if h < 0 {
			return 0, false
		}
		v = v<<4 | rune(h)
	}
	return v, true
}
