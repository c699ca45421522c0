package route53

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/vigilsec/vigil/event"
)

// Errors for one malformed record; the RecordError names the field.
var (
	errMissing   = errors.New("missing")
	errNotString = errors.New("not a string")
	errNotObject = errors.New("not an object")
	errNotArray  = errors.New("not an array")
	errTimestamp = errors.New("invalid timestamp")
	errAddr      = errors.New("invalid IP address")
	errPort      = errors.New("invalid port")
)

// syntaxError is malformed JSON at a byte of the line.
type syntaxError struct {
	at  int
	msg string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.at+1, e.msg)
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// scanner walks one line of JSON.
type scanner struct {
	b   []byte
	i   int
	tmp []byte // unescaped strings of skipped values
}

func (s *scanner) ws() {
	if s.i < len(s.b) && s.b[s.i] > ' ' {
		return
	}
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		if c := s.b[s.i]; c > ' ' {
			return c
		}
	}
	return s.peekSlow()
}

func (s *scanner) peekSlow() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) fail(msg string) error { return &syntaxError{at: s.i, msg: msg} }

func (s *scanner) expect(c byte) error {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return nil
	}
	if s.peek() != c {
		return s.want(fmt.Sprintf("%q", c))
	}
	s.i++
	return nil
}

// want reports that what was expected at the current byte.
func (s *scanner) want(what string) error {
	if s.i >= len(s.b) {
		return s.fail("expected " + what + ", found end of line")
	}
	return s.fail(fmt.Sprintf("expected %s, found %q", what, s.b[s.i]))
}

// literal consumes null, true or false.
func (s *scanner) literal(word string) bool {
	if bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		s.i += len(word)
		return true
	}
	return false
}

// str consumes a string (the opening quote is at s.i) and returns its
// contents, unescaped into *buf when it holds escapes.
func (s *scanner) str(buf *[]byte) ([]byte, error) {
	s.i++ // opening quote
	start := s.i
	i := start
	// Eight bytes at a time until a quote or a backslash may be near.
	for i+8 <= len(s.b) {
		w := binary.LittleEndian.Uint64(s.b[i:])
		x, y := w^(ones*'"'), w^(ones*'\\')
		if ((x-ones)&^x|(y-ones)&^y)&highs != 0 {
			break
		}
		i += 8
	}
	for i < len(s.b) {
		c := s.b[i]
		if c == '"' {
			s.i = i + 1
			return s.b[start:i], nil
		}
		if c == '\\' {
			break
		}
		i++
	}
	out := append((*buf)[:0], s.b[start:i]...)
	for {
		if i >= len(s.b) {
			s.i = i
			return nil, s.fail("unterminated string")
		}
		c := s.b[i]
		switch c {
		case '"':
			s.i = i + 1
			*buf = out
			return out, nil
		case '\\':
			if i+1 >= len(s.b) {
				s.i = i
				return nil, s.fail("unterminated string")
			}
			e := s.b[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := hex4(s.b, i)
				if !ok {
					s.i = i
					return nil, s.fail(`invalid \u escape`)
				}
				i += 4
				if utf16.IsSurrogate(r) {
					r2, ok := rune(0), false
					if i+6 <= len(s.b) && s.b[i] == '\\' && s.b[i+1] == 'u' {
						r2, ok = hex4(s.b, i+2)
					}
					if d := utf16.DecodeRune(r, r2); ok && d != utf8.RuneError {
						r = d
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, r)
			default:
				s.i = i - 1
				return nil, s.fail(fmt.Sprintf("invalid escape %q", e))
			}
		default:
			out = append(out, c)
			i++
		}
	}
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skip consumes one value of any type. Nested values are walked without
// recursion, so deep nesting cannot exhaust the stack.
func (s *scanner) skip() error {
	depth := 0
	for {
		switch c := s.peek(); c {
		case '{', '[':
			s.i++
			depth++
			continue // a container may be empty: look at its first byte
		case '}', ']':
			if depth == 0 {
				return s.fail(fmt.Sprintf("unexpected %q", c))
			}
			s.i++
			depth--
		case '"':
			if _, err := s.str(&s.tmp); err != nil {
				return err
			}
			if depth > 0 && s.peek() == ':' {
				s.i++
				continue // an object key: its value follows
			}
		case 't':
			if !s.literal("true") {
				return s.fail("invalid literal")
			}
		case 'f':
			if !s.literal("false") {
				return s.fail("invalid literal")
			}
		case 'n':
			if !s.literal("null") {
				return s.fail("invalid literal")
			}
		case 0:
			return s.fail("unexpected end of line")
		default:
			if c != '-' && (c < '0' || c > '9') {
				return s.fail(fmt.Sprintf("unexpected %q", c))
			}
			if _, err := s.number(); err != nil {
				return err
			}
		}
		if depth == 0 {
			return nil
		}
		if s.peek() == ',' {
			s.i++
		}
	}
}

// number consumes a JSON number and returns its text.
func (s *scanner) number() ([]byte, error) {
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			s.i++
			continue
		}
		break
	}
	if s.i == start {
		return nil, s.fail("invalid number")
	}
	return s.b[start:s.i], nil
}

// Bits of the required keys seen in one record. A repeated key overrides the
// earlier one, as in encoding/json.
const (
	seenName = 1 << iota
	seenTime
)

// parse decodes one record from line into q.
func (d *Decoder) parse(line []byte, q *event.DNSQuery) (field string, err error) {
	s := scanner{b: line}
	*q = event.DNSQuery{}
	d.arena = d.arena[:0]
	answers := d.answers[:0]
	d.rdata = d.rdata[:0]
	var name span
	var seen int

	defer func() {
		d.answers = answers[:0]
	}()

	if err := s.expect('{'); err != nil {
		return "", err
	}
	if s.peek() == '}' {
		s.i++
	} else {
		for {
			if s.peek() != '"' {
				return "", s.want("a key")
			}
			key, err := s.str(&d.kbuf)
			if err != nil {
				return "", err
			}
			if err := s.expect(':'); err != nil {
				return "", err
			}
			c := s.peek()
			null := c == 'n' && s.literal("null")
			switch string(key) {
			case "version":
				field, err = "version", d.internField(&s, null, &q.Version, slotVersion)
			case "account_id":
				field, err = "account_id", d.internField(&s, null, &q.AccountID, slotAccountID)
			case "region":
				field, err = "region", d.internField(&s, null, &q.Region, slotRegion)
			case "vpc_id":
				field, err = "vpc_id", d.internField(&s, null, &q.VPCID, slotVPCID)
			case "query_timestamp":
				field = "query_timestamp"
				seen |= seenTime
				if null {
					return field, errMissing
				}
				var v []byte
				if v, err = d.stringValue(&s, c); err == nil {
					q.Time, err = d.parseTime(v)
				}
			case "query_name":
				field = "query_name"
				seen |= seenName
				if null {
					return field, errMissing
				}
				var v []byte
				if v, err = d.stringValue(&s, c); err == nil {
					name = d.appendName(v)
				}
			case "query_type":
				field, err = "query_type", d.internField(&s, null, &q.QueryType, slotQueryType)
			case "query_class":
				field, err = "query_class", d.internField(&s, null, &q.QueryClass, slotQueryClass)
			case "rcode":
				field, err = "rcode", d.internField(&s, null, &q.RCode, slotRCode)
			case "answers":
				field = "answers"
				answers, d.rdata = answers[:0], d.rdata[:0]
				if !null {
					answers, field, err = d.parseAnswers(&s, c, answers)
				}
			case "srcaddr":
				field = "srcaddr"
				if !null {
					var v []byte
					if v, err = d.stringValue(&s, c); err == nil {
						q.SrcAddr, err = parseAddr(v)
					}
				}
			case "srcport":
				field = "srcport"
				if !null {
					q.SrcPort, err = d.parsePort(&s, c)
				}
			case "transport":
				field, err = "transport", d.internField(&s, null, &q.Transport, slotTransport)
			case "srcids":
				if !null {
					field, err = d.parseSrcIDs(&s, c, q)
				}
			case "firewall_rule_action":
				field, err = "firewall_rule_action", d.internField(&s, null, &q.FirewallRuleAction, slotFirewallRuleAction)
			case "firewall_rule_group_id":
				field, err = "firewall_rule_group_id", d.internField(&s, null, &q.FirewallRuleGroupID, slotFirewallRuleGroupID)
			case "firewall_domain_list_id":
				field, err = "firewall_domain_list_id", d.internField(&s, null, &q.FirewallDomainListID, slotFirewallDomainListID)
			case "firewall_protection":
				field, err = "firewall_protection", d.internField(&s, null, &q.FirewallProtection, slotFirewallProtection)
			case "resolver_endpoint_id":
				field, err = "resolver_endpoint_id", d.internField(&s, null, &q.ResolverEndpointID, slotResolverEndpointID)
			case "resolver_endpoint_ip_src", "resolver_endpoint_ip":
				field, err = "resolver_endpoint_ip_src", d.internField(&s, null, &q.ResolverEndpointIPSrc, slotResolverEndpointIPSrc)
			default:
				if !null {
					err = s.skip()
				}
			}
			if err != nil {
				var se *syntaxError
				if errors.As(err, &se) {
					field = ""
				}
				return field, err
			}
			field = ""
			switch s.peek() {
			case ',':
				s.i++
				continue
			case '}':
				s.i++
			default:
				return "", s.want("',' or '}'")
			}
			break
		}
	}
	if s.peek() != 0 {
		return "", s.fail("data after the record")
	}
	if seen&seenName == 0 {
		return "query_name", errMissing
	}
	if seen&seenTime == 0 {
		return "query_timestamp", errMissing
	}

	// One string holds the query name and every Rdata.
	var all string
	if len(d.arena) > 0 {
		all = string(d.arena)
	}
	q.QueryName = all[name.beg:name.end]
	for i, sp := range d.rdata {
		answers[i].Rdata = all[sp.beg:sp.end]
	}
	if len(answers) > 0 {
		q.Answers = answers
	}
	return "", nil
}

// stringValue reads a string value; c is the value's first byte.
func (d *Decoder) stringValue(s *scanner, c byte) ([]byte, error) {
	if c != '"' {
		return nil, errNotString
	}
	return s.str(&d.vbuf)
}

// Intern cache slots, one per low-cardinality field.
const (
	slotVersion = iota
	slotAccountID
	slotRegion
	slotVPCID
	slotQueryType
	slotQueryClass
	slotRCode
	slotTransport
	slotFirewallRuleAction
	slotFirewallRuleGroupID
	slotFirewallDomainListID
	slotFirewallProtection
	slotResolverEndpointID
	slotResolverEndpointIPSrc
	slotType
	slotClass
	slotSrcInstanceID
	slotSrcResolverEndpoint
	slotSrcResolverNetwork
	numSlots
)

// internField reads a string value into *dst through the intern table.
// The field's last value is checked first: most repeat from record to record.
func (d *Decoder) internField(s *scanner, null bool, dst *string, slot int) error {
	if null {
		*dst = ""
		return nil
	}
	v, err := d.stringValue(s, s.peek())
	if err != nil {
		return err
	}
	if last := d.last[slot]; string(v) == last {
		*dst = last
		return nil
	}
	*dst = d.internBytes(v)
	d.last[slot] = *dst
	return nil
}

// internBytes returns b as a string, from the intern table when it was seen
// before. The table is reset when full, which bounds its memory.
func (d *Decoder) internBytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := d.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(b) > internMaxLen {
		return s
	}
	if d.intern == nil {
		d.intern = make(map[string]string, 64)
	} else if len(d.intern) >= internCap {
		clear(d.intern)
	}
	d.intern[s] = s
	return s
}

// appendName appends the normalised query name to the arena: lower-case ASCII,
// without the trailing dot of the root.
func (d *Decoder) appendName(v []byte) span {
	if n := len(v); n > 0 && v[n-1] == '.' {
		v = v[:n-1]
	}
	beg := len(d.arena)
	d.arena = append(d.arena, v...)
	name := d.arena[beg:]
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			name[i] = c + 'a' - 'A'
		}
	}
	return span{beg, len(d.arena)}
}

// parseAnswers reads the answers array; c is its first byte.
//
// AWS writes an array. Normalising pipelines (Panther, some Firehose
// transforms) write a lone answer as an object; that is read as one answer.
func (d *Decoder) parseAnswers(s *scanner, c byte, answers []event.DNSAnswer) ([]event.DNSAnswer, string, error) {
	single := c == '{'
	if !single {
		if c != '[' {
			return answers, "answers", errNotArray
		}
		s.i++
		if s.peek() == ']' {
			s.i++
			return answers, "", nil
		}
	}
	for {
		c := s.peek()
		switch {
		case c == 'n' && s.literal("null"):
		case c != '{':
			return answers, "answers", errNotObject
		default:
			s.i++
			answers = append(answers, event.DNSAnswer{})
			a := &answers[len(answers)-1]
			rd := span{len(d.arena), len(d.arena)}
			if s.peek() == '}' {
				s.i++
			} else {
				for {
					if s.peek() != '"' {
						return answers, "", s.want("a key")
					}
					key, err := s.str(&d.kbuf)
					if err != nil {
						return answers, "", err
					}
					if err := s.expect(':'); err != nil {
						return answers, "", err
					}
					c := s.peek()
					null := c == 'n' && s.literal("null")
					var field string
					switch string(key) {
					case "Rdata", "rdata":
						field = "answers.Rdata"
						if !null {
							var v []byte
							if v, err = d.stringValue(s, c); err == nil {
								rd.beg = len(d.arena)
								d.arena = append(d.arena, v...)
								rd.end = len(d.arena)
							}
						}
					case "Type", "type":
						field, err = "answers.Type", d.internField(s, null, &a.Type, slotType)
					case "Class", "class":
						field, err = "answers.Class", d.internField(s, null, &a.Class, slotClass)
					default:
						if !null {
							err = s.skip()
						}
					}
					if err != nil {
						var se *syntaxError
						if errors.As(err, &se) {
							field = ""
						}
						return answers, field, err
					}
					switch s.peek() {
					case ',':
						s.i++
						continue
					case '}':
						s.i++
					default:
						return answers, "", s.want("',' or '}'")
					}
					break
				}
			}
			d.rdata = append(d.rdata, rd)
		}
		if single {
			return answers, "", nil
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return answers, "", nil
		default:
			return answers, "", s.want("',' or ']'")
		}
	}
}

// parseSrcIDs reads the srcids object; c is its first byte.
func (d *Decoder) parseSrcIDs(s *scanner, c byte, q *event.DNSQuery) (string, error) {
	if c != '{' {
		return "srcids", errNotObject
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return "", nil
	}
	for {
		if s.peek() != '"' {
			return "", s.want("a key")
		}
		key, err := s.str(&d.kbuf)
		if err != nil {
			return "", err
		}
		if err := s.expect(':'); err != nil {
			return "", err
		}
		c := s.peek()
		null := c == 'n' && s.literal("null")
		var field string
		switch string(key) {
		case "instance":
			field, err = "srcids.instance", d.internField(s, null, &q.SrcInstanceID, slotSrcInstanceID)
		case "resolver_endpoint":
			field, err = "srcids.resolver_endpoint", d.internField(s, null, &q.SrcResolverEndpoint, slotSrcResolverEndpoint)
		case "resolver_network_interface":
			field, err = "srcids.resolver_network_interface", d.internField(s, null, &q.SrcResolverNetwork, slotSrcResolverNetwork)
		default:
			if !null {
				err = s.skip()
			}
		}
		if err != nil {
			var se *syntaxError
			if errors.As(err, &se) {
				field = ""
			}
			return field, err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return "", nil
		default:
			return "", s.want("',' or '}'")
		}
	}
}

// parsePort reads srcport, logged as a string ("48701") or a number.
func (d *Decoder) parsePort(s *scanner, c byte) (uint16, error) {
	var v []byte
	switch {
	case c == '"':
		var err error
		if v, err = s.str(&d.vbuf); err != nil {
			return 0, err
		}
		if len(v) == 0 || (len(v) == 1 && v[0] == '-') {
			return 0, nil
		}
	case c == '-' || ('0' <= c && c <= '9'):
		var err error
		if v, err = s.number(); err != nil {
			return 0, err
		}
	default:
		return 0, errPort
	}
	if len(v) == 0 || len(v) > 5 {
		return 0, errPort
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, errPort
		}
		n = n*10 + int(c-'0')
	}
	if n > 0xFFFF {
		return 0, errPort
	}
	return uint16(n), nil
}

// parseAddr parses srcaddr. IPv4 is parsed here without allocating; anything
// else goes to netip. An empty value or "-" is the zero Addr.
func parseAddr(v []byte) (netip.Addr, error) {
	if len(v) == 0 || (len(v) == 1 && v[0] == '-') {
		return netip.Addr{}, nil
	}
	var ip [4]byte
	n, field, digits := 0, 0, 0
	for _, c := range v {
		switch {
		case '0' <= c && c <= '9':
			if digits > 0 && field == 0 {
				goto other // leading zero
			}
			field = field*10 + int(c-'0')
			digits++
			if field > 255 {
				goto other
			}
		case c == '.' && digits > 0 && n < 3:
			ip[n] = byte(field)
			n++
			field, digits = 0, 0
		default:
			goto other
		}
	}
	if n == 3 && digits > 0 {
		ip[3] = byte(field)
		return netip.AddrFrom4(ip), nil
	}
other:
	a, err := netip.ParseAddr(string(v))
	if err != nil {
		return netip.Addr{}, errAddr
	}
	return a, nil
}

// parseTime parses query_timestamp: RFC 3339 in UTC ("2021-12-11T22:46:23Z",
// optionally with a fraction) on the fast path, any RFC 3339 offset through
// package time otherwise. The result is in UTC.
func (d *Decoder) parseTime(v []byte) (time.Time, error) {
	if len(v) >= 20 && v[len(v)-1] == 'Z' && v[10] == 'T' {
		var sec time.Time
		if d.lastSec.IsZero() || !bytes.Equal(v[:19], d.lastTS[:]) {
			var ok bool
			if sec, ok = parseSeconds(v[:19]); !ok {
				goto slow
			}
			copy(d.lastTS[:], v[:19])
			d.lastSec = sec
		} else {
			sec = d.lastSec
		}
		frac := v[19 : len(v)-1]
		if len(frac) == 0 {
			return sec, nil
		}
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			goto slow
		}
		ns, scale := 0, 1000000000
		for _, c := range frac[1:] {
			if c < '0' || c > '9' {
				goto slow
			}
			ns = ns*10 + int(c-'0')
			scale /= 10
		}
		return sec.Add(time.Duration(ns * scale)), nil
	}
slow:
	t, err := time.Parse(time.RFC3339Nano, string(v))
	if err != nil {
		// Normalised copies drop the zone ("2022-06-25 00:27:53" or
		// "2022-06-25T00:27:53"); Route 53 writes UTC.
		for _, layout := range [...]string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
			if t, err = time.Parse(layout, string(v)); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, errTimestamp
	}
	return t.UTC(), nil
}

// parseSeconds parses "YYYY-MM-DDTHH:MM:SS" as UTC.
func parseSeconds(v []byte) (time.Time, bool) {
	if v[4] != '-' || v[7] != '-' || v[10] != 'T' || v[13] != ':' || v[16] != ':' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		x := 0
		for _, c := range v[i : i+n] {
			if c < '0' || c > '9' {
				return -1
			}
			x = x*10 + int(c-'0')
		}
		return x
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec := num(11, 2), num(14, 2), num(17, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 ||
		minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	if day > daysIn(time.Month(month), year) {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC), true
}

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}
