package intel

import (
	"errors"
	"fmt"
	"strings"
)

// stixValue is one network observable found in a STIX pattern.
type stixValue struct {
	path  string // e.g. ipv4-addr:value
	value string // the literal, unescaped
}

// stixNetworkPaths are the object paths whose equality tests become list
// entries. network-traffic references point at ipv4/ipv6/domain objects.
var stixNetworkPaths = map[string]bool{
	"ipv4-addr:value":               true,
	"ipv6-addr:value":               true,
	"domain-name:value":             true,
	"url:value":                     true,
	"network-traffic:dst_ref.value": true,
	"network-traffic:src_ref.value": true,
}

// parseSTIXPattern parses a STIX 2.1 patterning expression and returns the
// values of equality (=) and IN tests on network observable paths. It
// accepts the whole grammar's shape - observation expressions joined with
// AND, OR and FOLLOWEDBY, parentheses, qualifiers (WITHIN, REPEATS,
// START/STOP), comparison expressions joined with AND and OR, and every
// comparison operator - but keeps only the positive tests on network paths:
// an indicator "[ipv4-addr:value = 'x' AND network-traffic:dst_port = 443]"
// still lists x. Negated tests (NOT, !=) and other operators are ignored.
func parseSTIXPattern(pat string) ([]stixValue, error) {
	p := &stixParser{s: pat}
	if err := p.obsOr(0); err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, p.errorf("unexpected %q", p.rest())
	}
	return p.out, nil
}

type stixParser struct {
	s   string
	i   int
	out []stixValue
}

// maxDepth bounds parenthesis nesting so hostile input cannot exhaust the
// stack.
const maxDepth = 100

func (p *stixParser) errorf(format string, args ...any) error {
	return fmt.Errorf("pattern offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *stixParser) rest() string {
	r := p.s[p.i:]
	if len(r) > 20 {
		r = r[:20] + "..."
	}
	return r
}

func (p *stixParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *stixParser) peek() byte {
	p.space()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *stixParser) eat(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

func isWordByte(c byte) bool {
	return c == '_' || c == '-' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// keyword consumes kw (case-insensitive) when it is the next whole word.
func (p *stixParser) keyword(kw string) bool {
	p.space()
	end := p.i + len(kw)
	if end > len(p.s) || !strings.EqualFold(p.s[p.i:end], kw) {
		return false
	}
	if end < len(p.s) && isWordByte(p.s[end]) {
		return false
	}
	p.i = end
	return true
}

// obsOr := obsAnd (OR obsAnd)*
func (p *stixParser) obsOr(depth int) error {
	for {
		if err := p.obsAnd(depth); err != nil {
			return err
		}
		if !p.keyword("OR") {
			return nil
		}
	}
}

// obsAnd := obsUnit ((AND | FOLLOWEDBY) obsUnit)*
func (p *stixParser) obsAnd(depth int) error {
	for {
		if err := p.obsUnit(depth); err != nil {
			return err
		}
		if !p.keyword("AND") && !p.keyword("FOLLOWEDBY") {
			return nil
		}
	}
}

// obsUnit := ('[' comparison ']' | '(' obsOr ')') qualifier*
func (p *stixParser) obsUnit(depth int) error {
	if depth > maxDepth {
		return p.errorf("nested too deeply")
	}
	switch {
	case p.eat('['):
		if err := p.compOr(depth + 1); err != nil {
			return err
		}
		if !p.eat(']') {
			return p.errorf("expected ']'")
		}
	case p.eat('('):
		if err := p.obsOr(depth + 1); err != nil {
			return err
		}
		if !p.eat(')') {
			return p.errorf("expected ')'")
		}
	default:
		return p.errorf("expected '[' or '('")
	}
	return p.qualifiers()
}

// qualifiers := (WITHIN n SECONDS | REPEATS n TIMES | START t'..' STOP t'..')*
func (p *stixParser) qualifiers() error {
	for {
		switch {
		case p.keyword("WITHIN"):
			if err := p.number(); err != nil {
				return err
			}
			if !p.keyword("SECONDS") {
				return p.errorf("expected SECONDS")
			}
		case p.keyword("REPEATS"):
			if err := p.number(); err != nil {
				return err
			}
			if !p.keyword("TIMES") {
				return p.errorf("expected TIMES")
			}
		case p.keyword("START"):
			if _, err := p.literal(); err != nil {
				return err
			}
			if !p.keyword("STOP") {
				return p.errorf("expected STOP")
			}
			if _, err := p.literal(); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

func (p *stixParser) number() error {
	p.space()
	start := p.i
	for p.i < len(p.s) && (('0' <= p.s[p.i] && p.s[p.i] <= '9') || p.s[p.i] == '.' || p.s[p.i] == '-' || p.s[p.i] == '+') {
		p.i++
	}
	if p.i == start {
		return p.errorf("expected a number")
	}
	return nil
}

// compOr := compAnd (OR compAnd)*
func (p *stixParser) compOr(depth int) error {
	for {
		if err := p.compAnd(depth); err != nil {
			return err
		}
		if !p.keyword("OR") {
			return nil
		}
	}
}

// compAnd := compUnit (AND compUnit)*
func (p *stixParser) compAnd(depth int) error {
	for {
		if err := p.compUnit(depth); err != nil {
			return err
		}
		if !p.keyword("AND") {
			return nil
		}
	}
}

// compUnit := '(' compOr ')' | EXISTS path | path [NOT] op value
func (p *stixParser) compUnit(depth int) error {
	if depth > maxDepth {
		return p.errorf("nested too deeply")
	}
	if p.eat('(') {
		if err := p.compOr(depth + 1); err != nil {
			return err
		}
		if !p.eat(')') {
			return p.errorf("expected ')'")
		}
		return nil
	}
	if p.keyword("EXISTS") {
		_, err := p.path()
		return err
	}
	path, err := p.path()
	if err != nil {
		return err
	}
	neg := p.keyword("NOT")
	p.space()
	var op string
	switch rest := p.s[p.i:]; {
	case strings.HasPrefix(rest, "!="):
		op, neg = "=", !neg
		p.i += 2
	case strings.HasPrefix(rest, "=="):
		op = "="
		p.i += 2
	case strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, ">="):
		op = rest[:2]
		p.i += 2
	case strings.HasPrefix(rest, "="), strings.HasPrefix(rest, "<"), strings.HasPrefix(rest, ">"):
		op = rest[:1]
		p.i++
	case p.keyword("IN"):
		op = "IN"
	case p.keyword("LIKE"), p.keyword("MATCHES"), p.keyword("ISSUBSET"), p.keyword("ISSUPERSET"):
		op = "other"
	default:
		return p.errorf("expected a comparison operator after %s", path)
	}
	keep := !neg && stixNetworkPaths[path] && (op == "=" || op == "IN")
	if op == "IN" {
		if !p.eat('(') {
			return p.errorf("expected '(' after IN")
		}
		for {
			v, err := p.literal()
			if err != nil {
				return err
			}
			if keep {
				p.out = append(p.out, stixValue{path, v})
			}
			if p.eat(')') {
				return nil
			}
			if !p.eat(',') {
				return p.errorf("expected ',' or ')' in IN list")
			}
		}
	}
	v, err := p.literal()
	if err != nil {
		return err
	}
	if keep {
		p.out = append(p.out, stixValue{path, v})
	}
	return nil
}

// path reads an object path: type:property(.property|[index]|'quoted')*.
// Object types and properties are lower-cased for comparison.
func (p *stixParser) path() (string, error) {
	p.space()
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '\'':
			if _, err := p.quoted(); err != nil {
				return "", err
			}
			continue
		case c == '[':
			end := strings.IndexByte(p.s[p.i:], ']')
			if end < 0 {
				return "", p.errorf("unterminated '[' in object path")
			}
			p.i += end + 1
			continue
		case isWordByte(c), c == ':', c == '.':
			p.i++
			continue
		}
		break
	}
	path := p.s[start:p.i]
	if !strings.Contains(path, ":") {
		return "", p.errorf("expected an object path (type:property), got %q", path)
	}
	return strings.ToLower(path), nil
}

// quoted reads a '...' string with \' and \\ escapes and returns its value.
func (p *stixParser) quoted() (string, error) {
	if p.i >= len(p.s) || p.s[p.i] != '\'' {
		return "", p.errorf("expected a quoted string")
	}
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case '\\':
			if p.i+1 >= len(p.s) {
				return "", p.errorf("unterminated string")
			}
			b.WriteByte(p.s[p.i+1])
			p.i += 2
		case '\'':
			p.i++
			return b.String(), nil
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", errors.New("unterminated string")
}

// literal reads a constant: 'string', t'..', h'..', b'..', a number, true
// or false.
func (p *stixParser) literal() (string, error) {
	switch c := p.peek(); {
	case c == '\'':
		return p.quoted()
	case (c == 't' || c == 'h' || c == 'b') && p.i+1 < len(p.s) && p.s[p.i+1] == '\'':
		p.i++
		return p.quoted()
	case c == '-' || c == '+' || ('0' <= c && c <= '9'):
		start := p.i
		if err := p.number(); err != nil {
			return "", err
		}
		return p.s[start:p.i], nil
	case p.keyword("true"):
		return "true", nil
	case p.keyword("false"):
		return "false", nil
	}
	return "", p.errorf("expected a literal, got %q", p.rest())
}
