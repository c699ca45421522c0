package intel

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parsers maps a format name to its parser. A parser reports bad entries
// through the sink and returns an error only when the document as a whole
// cannot be read.
var parsers = map[string]func(*sink, io.Reader) error{
	FormatTXT:     parseTXT,
	FormatTor:     parseTor,
	FormatCSV:     parseCSV,
	FormatSTIX2:   parseSTIX2,
	FormatOTXCSV:  parseOTXCSV,
	FormatAdblock: parseAdblock,

	FormatAlienVault: parseAlienVault,
	FormatProofpoint: parseProofpoint,
	FormatFireEye:    parseFireEye,
}

// maxLine bounds one line of a text list.
const maxLine = 1 << 20

// eachLine calls fn with every line (1-based number, without the line end
// and a leading UTF-8 byte order mark).
func eachLine(r io.Reader, fn func(n int, line string)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		fn(n, strings.TrimSuffix(line, "\r"))
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("line %d: longer than %d bytes", n+1, maxLine)
		}
		return fmt.Errorf("reading line %d: %w", n+1, err)
	}
	return nil
}

// hostsSinks are the addresses hosts-format blocklists point names at.
var hostsSinks = map[netip.Addr]bool{
	netip.MustParseAddr("0.0.0.0"):   true,
	netip.MustParseAddr("127.0.0.1"): true,
	netip.MustParseAddr("::"):        true,
	netip.MustParseAddr("::1"):       true,
}

// hostsPlaceholders are the names hosts files carry for the machine itself.
var hostsPlaceholders = map[string]bool{
	"localhost": true, "localhost.localdomain": true, "local": true, "broadcasthost": true,
	"ip6-localhost": true, "ip6-loopback": true, "ip6-localnet": true, "ip6-mcastprefix": true,
	"ip6-allnodes": true, "ip6-allrouters": true, "ip6-allhosts": true, "0.0.0.0": true,
}

// parseTXT reads one indicator per line. "#" starts a comment (whole line or
// trailing). A line whose first token is a sink address (0.0.0.0,
// 127.0.0.1, ::, ::1) followed by names is a hosts-file line and lists those
// names; hosts placeholders such as localhost are skipped. Otherwise only
// the first whitespace-separated token is used, so "IP<TAB>score" lines
// (IPsum) and "IP description" lines load the IP.
func parseTXT(s *sink, r io.Reader) error {
	return eachLine(r, func(n int, line string) {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			return
		}
		if len(f) >= 2 {
			if a, err := netip.ParseAddr(f[0]); err == nil && hostsSinks[a] {
				for _, name := range f[1:] {
					if hostsPlaceholders[strings.ToLower(name)] {
						s.stats.Skipped++
						continue
					}
					d, err := normDomain(name)
					if err != nil {
						s.fail(n, "", name, err)
						continue
					}
					s.add(indicator{domain: d}, "")
				}
				return
			}
		}
		s.addText(f[0], "", n, "")
	})
}

// parseTor reads the Tor Project's exit list
// (https://check.torproject.org/exit-addresses): records of "ExitNode <fp>",
// "Published <time>", "LastStatus <time>" and one or more
// "ExitAddress <ip> <time>" lines. Only ExitAddress is used; the relay
// fingerprint is not kept.
func parseTor(s *sink, r io.Reader) error {
	return eachLine(r, func(n int, line string) {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], "@") {
			return
		}
		switch f[0] {
		case "ExitAddress":
			if len(f) < 2 {
				s.fail(n, "ExitAddress", line, errors.New("missing address"))
				return
			}
			p, err := parsePrefix(f[1])
			if err != nil || !p.IsSingleIP() {
				if err == nil {
					err = errors.New("not a single address")
				}
				s.fail(n, "ExitAddress", f[1], err)
				return
			}
			s.add(indicator{pfx: p}, "")
		case "ExitNode", "Published", "LastStatus", "Downloaded":
		default:
			s.fail(n, "", line, errors.New("unexpected line in Tor exit-addresses format"))
		}
	})
}

// csvOptions resolves a CSV spec's separator and comment characters.
func csvOptions(spec ListSpec) (comma, comment rune, err error) {
	comma, comment = ',', '#'
	if spec.Comma != "" {
		if spec.Comma == `\t` || strings.EqualFold(spec.Comma, "tab") {
			spec.Comma = "\t"
		}
		c, size := utf8.DecodeRuneInString(spec.Comma)
		if size != len(spec.Comma) || c == utf8.RuneError || c == '"' || c == '\n' || c == '\r' {
			return 0, 0, fmt.Errorf("comma %q must be one character other than a quote or line end", spec.Comma)
		}
		comma = c
	}
	if spec.Comment != "" {
		c, size := utf8.DecodeRuneInString(spec.Comment)
		if size != len(spec.Comment) || c == comma || c == '"' || c == '\n' || c == '\r' || c == utf8.RuneError {
			return 0, 0, fmt.Errorf("comment %q must be one character other than the separator, a quote or line end", spec.Comment)
		}
		comment = c
	}
	return comma, comment, nil
}

// resolveColumn finds a column given as a 0-based index or a header name.
func resolveColumn(col string, header []string) (int, error) {
	if i, err := strconv.Atoi(strings.TrimSpace(col)); err == nil {
		if i < 0 {
			return 0, fmt.Errorf("column %d: negative index", i)
		}
		return i, nil
	}
	if header == nil {
		return 0, fmt.Errorf("column %q: a named column needs a header row", col)
	}
	want := strings.TrimSpace(col)
	for i, h := range header {
		if strings.EqualFold(strings.TrimSpace(h), want) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("column %q: not in header %q", col, header)
}

func isIndex(col string) bool {
	_, err := strconv.Atoi(strings.TrimSpace(col))
	return err == nil
}

// parseCSV reads the indicator from one column of a CSV file (ListSpec
// Column, Header, Comment, Comma, ThreatColumn). Rows too short to have the
// column are errors; an empty cell is skipped.
func parseCSV(s *sink, r io.Reader) error {
	spec := s.spec
	comma, comment, err := csvOptions(spec)
	if err != nil {
		return err
	}
	col := spec.Column
	if col == "" {
		col = "0"
	}
	header := spec.Header || !isIndex(col) || (spec.ThreatColumn != "" && !isIndex(spec.ThreatColumn))
	cr := csv.NewReader(r)
	cr.Comma, cr.Comment = comma, comment
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true

	var hdr []string
	if header {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading header: %w", err)
		}
		hdr = append([]string(nil), rec...)
	}
	ci, err := resolveColumn(col, hdr)
	if err != nil {
		return err
	}
	ti := -1
	if spec.ThreatColumn != "" {
		if ti, err = resolveColumn(spec.ThreatColumn, hdr); err != nil {
			return fmt.Errorf("threat %w", err)
		}
	}
	return eachCSV(s, cr, func(line int, rec []string) {
		if ci >= len(rec) {
			s.fail(line, "column "+strconv.Itoa(ci), strings.Join(rec, string(comma)), fmt.Errorf("row has %d columns", len(rec)))
			return
		}
		v := strings.TrimSpace(rec[ci])
		if v == "" {
			s.stats.Skipped++
			return
		}
		threat := ""
		if ti >= 0 && ti < len(rec) {
			threat = strings.TrimSpace(rec[ti])
		}
		s.addText(v, threat, line, "")
	})
}

// eachCSV calls fn with each remaining record and its line. Malformed
// records are reported and skipped.
func eachCSV(s *sink, cr *csv.Reader, fn func(line int, rec []string)) error {
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				s.fail(pe.StartLine, "", "", pe.Err)
				continue
			}
			return err
		}
		line, _ := cr.FieldPos(0)
		fn(line, rec)
	}
}

// parseOTXCSV reads an AlienVault OTX pulse export: a header naming the
// columns "Indicator type" (or "Type"), "Indicator" and optionally
// "Description" (the threat name). Types IPv4, IPv6, CIDR, domain, hostname
// and URL/URI are loaded and checked against the value; hashes, e-mail
// addresses and other types are skipped.
func parseOTXCSV(s *sink, r io.Reader) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.TrimLeadingSpace = true
	cr.Comment = '#'
	cr.ReuseRecord = true
	hdr, err := cr.Read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading header: %w", err)
	}
	typ, ind, desc := -1, -1, -1
	for i, h := range hdr {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))) {
		case "indicator type", "type", "indicator_type":
			typ = i
		case "indicator":
			ind = i
		case "description":
			desc = i
		}
	}
	if typ < 0 || ind < 0 {
		return fmt.Errorf("header %q: need columns \"Indicator type\" and \"Indicator\"", hdr)
	}
	return eachCSV(s, cr, func(line int, rec []string) {
		if typ >= len(rec) || ind >= len(rec) {
			s.fail(line, "", strings.Join(rec, ","), fmt.Errorf("row has %d columns", len(rec)))
			return
		}
		t, v := strings.ToLower(strings.TrimSpace(rec[typ])), strings.TrimSpace(rec[ind])
		threat := ""
		if desc >= 0 && desc < len(rec) {
			threat = strings.TrimSpace(rec[desc])
		}
		var ind indicator
		var err error
		switch t {
		case "ipv4", "ipv6":
			var a netip.Addr
			if a, err = netip.ParseAddr(v); err == nil {
				a = a.Unmap()
				if a.Zone() != "" || (t == "ipv4") != a.Is4() {
					err = fmt.Errorf("not an %s address", rec[typ])
				}
				ind.pfx = netip.PrefixFrom(a, a.BitLen())
			}
		case "cidr":
			if !strings.Contains(v, "/") {
				err = errors.New("CIDR without prefix length")
			} else {
				ind.pfx, err = parsePrefix(v)
			}
		case "domain", "hostname", "fqdn":
			ind.domain, err = normDomain(v)
		case "url", "uri":
			var h string
			if h, err = hostOfURL(v); err == nil {
				ind, err = parseIndicator(h)
			}
		default:
			s.stats.Skipped++
			return
		}
		if err != nil {
			s.fail(line, rec[typ], v, err)
			return
		}
		s.add(ind, threat)
	})
}

// stixObject is the part of a STIX object the loader reads.
type stixObject struct {
	Type           string   `json:"type"`
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Labels         []string `json:"labels"`
	IndicatorTypes []string `json:"indicator_types"`
	Pattern        string   `json:"pattern"`
	PatternType    string   `json:"pattern_type"`
	Revoked        bool     `json:"revoked"`
}

// maxSTIXBytes bounds a STIX document.
const maxSTIXBytes = 1 << 30

// parseSTIX2 reads a STIX 2.x bundle ({"type":"bundle","objects":[...]}),
// a TAXII envelope ({"objects":[...]}) or a bare array of objects. Every
// indicator with a STIX pattern is parsed; equality tests on ipv4-addr,
// ipv6-addr, domain-name and url values become entries whose threat name is
// the indicator's name (or, without one, its indicator_types and labels).
// Revoked indicators, other pattern languages and patterns with no network
// observable are skipped; the validity window is not evaluated.
func parseSTIX2(s *sink, r io.Reader) error {
	data, err := io.ReadAll(io.LimitReader(r, maxSTIXBytes+1))
	if err != nil {
		return err
	}
	if len(data) > maxSTIXBytes {
		return fmt.Errorf("STIX document larger than %d bytes", maxSTIXBytes)
	}
	var objs []json.RawMessage
	trimmed := strings.TrimLeft(string(data[:min(len(data), 64)]), " \t\r\n\uFEFF")
	if strings.HasPrefix(trimmed, "[") {
		err = json.Unmarshal(data, &objs)
	} else {
		var env struct {
			Type    string            `json:"type"`
			Objects []json.RawMessage `json:"objects"`
		}
		err = json.Unmarshal(data, &env)
		objs = env.Objects
		if err == nil && env.Type != "" && env.Type != "bundle" {
			// A single object rather than a bundle.
			objs = []json.RawMessage{data}
		}
	}
	if err != nil {
		return fmt.Errorf("decoding STIX JSON: %w", err)
	}
	for i, raw := range objs {
		var o stixObject
		field := "objects[" + strconv.Itoa(i) + "]"
		if err := json.Unmarshal(raw, &o); err != nil {
			s.fail(0, field, "", err)
			continue
		}
		if o.Type != "indicator" {
			continue
		}
		if o.Revoked || (o.PatternType != "" && o.PatternType != "stix") {
			s.stats.Skipped++
			continue
		}
		vals, err := parseSTIXPattern(o.Pattern)
		if err != nil {
			s.fail(0, field+".pattern", o.Pattern, fmt.Errorf("%s: %w", o.ID, err))
			continue
		}
		if len(vals) == 0 {
			s.stats.Skipped++
			continue
		}
		threat := o.Name
		if threat == "" {
			threat = strings.Join(append(append([]string(nil), o.IndicatorTypes...), o.Labels...), ",")
		}
		for _, v := range vals {
			ind, err := stixIndicator(v)
			if err != nil {
				s.fail(0, field+".pattern", v.path+" = "+v.value, fmt.Errorf("%s: %w", o.ID, err))
				continue
			}
			s.add(ind, threat)
		}
	}
	return nil
}

// stixIndicator checks a pattern value against its object type.
func stixIndicator(v stixValue) (indicator, error) {
	switch v.path {
	case "ipv4-addr:value", "ipv6-addr:value":
		p, err := parsePrefix(v.value)
		if err != nil {
			return indicator{}, err
		}
		if p.Addr().Is4() != (v.path == "ipv4-addr:value") {
			return indicator{}, fmt.Errorf("address family does not match %s", v.path)
		}
		return indicator{pfx: p}, nil
	case "domain-name:value":
		d, err := normDomain(v.value)
		return indicator{domain: d}, err
	case "url:value":
		h, err := hostOfURL(v.value)
		if err != nil {
			return indicator{}, err
		}
		return parseIndicator(h)
	default: // network-traffic references: an address or a name
		return parseIndicator(v.value)
	}
}

// parseAdblock reads an Adblock Plus filter list and keeps the rules that
// block a whole host: "||host^" with optional "$options". Rules with a path
// or wildcard, exception rules (@@), element hiding rules and comments are
// skipped, since they do not name a host to watch.
func parseAdblock(s *sink, r io.Reader) error {
	return eachLine(r, func(n int, line string) {
		line = strings.TrimSpace(line)
		switch {
		case line == "", line[0] == '!', line[0] == '[':
			return
		case !strings.HasPrefix(line, "||"):
			s.stats.Skipped++
			return
		}
		rule := line[2:]
		if i := strings.IndexByte(rule, '$'); i >= 0 {
			rule = rule[:i]
		}
		rule = strings.TrimSuffix(strings.TrimSuffix(rule, "|"), "^")
		if rule == "" || strings.ContainsAny(rule, "/*^|:?=") {
			s.stats.Skipped++
			return
		}
		s.addText(rule, "", n, "")
	})
}
