package intel

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// GuardDuty's list format enums (the format parameter of CreateIPSet,
// CreateThreatIntelSet and the entity-set calls) and the Vigil formats
// they map onto.
var guardDutyFormats = []struct{ enum, format string }{
	{"TXT", FormatTXT},
	{"STIX", FormatSTIX2},
	{"OTX_CSV", FormatOTXCSV},
	{"ALIEN_VAULT", FormatAlienVault},
	{"PROOF_POINT", FormatProofpoint},
	{"FIRE_EYE", FormatFireEye},
}

// FormatFromGuardDuty returns the Vigil list format for one of GuardDuty's
// list format enums: TXT, STIX, OTX_CSV, ALIEN_VAULT, PROOF_POINT or
// FIRE_EYE. The enum is matched without regard to case or surrounding
// space; anything else is an error listing the valid values.
func FormatFromGuardDuty(enum string) (string, error) {
	e := strings.ToUpper(strings.TrimSpace(enum))
	valid := make([]string, len(guardDutyFormats))
	for i, f := range guardDutyFormats {
		if f.enum == e {
			return f.format, nil
		}
		valid[i] = f.enum
	}
	return "", fmt.Errorf("unknown GuardDuty list format %q (valid: %s)", enum, strings.Join(valid, ", "))
}

// parseAlienVault reads the AlienVault (OTX) IP reputation feed
// ("reputation.generic" / "reputation.data"): one record per line with
// '#'-separated fields
//
//	ip#reliability#risk#activity#country#city#lat,lon#...
//
// e.g. "1.2.3.4#4#2#Malicious Host#CN#Beijing#39.9289,116.388#11". The
// first field is the indicator (an address; a CIDR prefix or domain is also
// accepted) and the fourth, the activity, is the threat name (several
// activities are written "Scanning Host;Malicious Host" and kept as one
// name). A line that starts with '#' is a comment; a line with only an
// address loads it without a threat name. Reliability, risk and location
// are not used.
func parseAlienVault(s *sink, r io.Reader) error {
	return eachLine(r, func(n int, line string) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			return
		}
		f := strings.Split(line, "#")
		v := strings.TrimSpace(f[0])
		if v == "" {
			s.fail(n, "ip", line, errors.New("empty indicator"))
			return
		}
		threat := ""
		if len(f) > 3 {
			threat = strings.TrimSpace(f[3])
		}
		s.addText(v, threat, n, "")
	})
}

// parseProofpoint reads a Proofpoint Emerging Threats reputation list
// (iprepdata / domainrepdata): CSV records "ip,category,score" or
// "domain,category,score"; the detailed lists' extra columns (first_seen,
// last_seen, ports) are ignored. A header record ("ip,category,score",
// "domain,..." and the like) may come first, and lines starting with '#'
// are comments. The category, as written (an ET category number such as
// "1" or a name such as "CnC"), is the threat name; the score is not used.
func parseProofpoint(s *sink, r io.Reader) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.TrimLeadingSpace = true
	cr.Comment = '#'
	cr.ReuseRecord = true
	first := true
	return eachCSV(s, cr, func(line int, rec []string) {
		v := strings.TrimSpace(strings.TrimPrefix(rec[0], "\uFEFF"))
		if first {
			first = false
			switch strings.ToLower(v) {
			case "ip", "ip address", "ip_address", "ipaddress", "address", "domain", "domain name", "host", "hostname":
				return
			}
		}
		if v == "" {
			s.stats.Skipped++
			return
		}
		threat := ""
		if len(rec) > 1 {
			threat = strings.TrimSpace(rec[1])
		}
		s.addText(v, threat, line, "")
	})
}

// fireEyeColumn classifies a FireEye iSIGHT CSV header cell, compared
// without case, spaces, underscores or hyphens.
func fireEyeColumn(h string) (indicatorCol, threatRank int) {
	h = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '_', '-', '\uFEFF':
			return -1
		}
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, h)
	switch h {
	case "ip", "ipv4", "ipv6", "ipaddress", "ipv4address", "ipv6address", "sourceip", "cidr",
		"domain", "domainname", "fqdn", "hostname", "host", "sourcedomain", "url", "uri":
		return 1, -1
	case "networkidentifier":
		return 2, -1
	case "malwarefamily":
		return 0, 0
	case "malware":
		return 0, 1
	case "actor", "threatactor":
		return 0, 2
	case "threatname", "threat":
		return 0, 3
	case "title", "reporttitle":
		return 0, 4
	}
	return 0, -1
}

// networkRoles are the words iSIGHT writes in its networkIdentifier column
// (the role of the row's network indicators) instead of an indicator.
var networkRoles = map[string]bool{"attacker": true, "compromised": true, "related": true, "victim": true}

// parseFireEye reads a FireEye iSIGHT indicator CSV export. The first
// record is a header naming the columns; indicators are taken from every
// column named ip, ipv4, ipv6, ipAddress, sourceIp, cidr, domain,
// domainName, fqdn, hostname, host, sourceDomain, url or uri (names compared
// without case, spaces, underscores or hyphens), and from networkIdentifier
// when it holds an address or name. iSIGHT also uses networkIdentifier for
// the role of the row's network indicators (Attacker, Compromised, Related,
// Victim): rows whose role is Victim are skipped, the other roles load. All
// indicator cells of a row load (a domain and the address it resolved to),
// each once. The threat name is the first non-empty of the columns
// malwareFamily, malware, actor (threatActor), threatName (threat) and title
// (reportTitle). Rows without any indicator (file hashes, e-mail
// indicators) are skipped; a header without an indicator column is an
// error.
func parseFireEye(s *sink, r io.Reader) error {
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
	hdr = append([]string(nil), hdr...)
	var cols []int // indicator columns
	role := -1     // networkIdentifier
	var threats [5]int
	for i := range threats {
		threats[i] = -1
	}
	for i, h := range hdr {
		ic, tr := fireEyeColumn(h)
		switch {
		case ic == 1:
			cols = append(cols, i)
		case ic == 2:
			cols = append(cols, i)
			role = i
		case tr >= 0 && threats[tr] < 0:
			threats[tr] = i
		}
	}
	if len(cols) == 0 {
		return fmt.Errorf("header %q: no indicator column (ip, ipv4, ipv6, cidr, domain, fqdn, hostname, url, networkIdentifier, ...)", hdr)
	}
	var seen []indicator
	return eachCSV(s, cr, func(line int, rec []string) {
		if role >= 0 && role < len(rec) && strings.EqualFold(strings.TrimSpace(rec[role]), "victim") {
			s.stats.Skipped++
			return
		}
		threat := ""
		for _, ti := range threats {
			if ti >= 0 && ti < len(rec) {
				if threat = strings.TrimSpace(rec[ti]); threat != "" {
					break
				}
			}
		}
		seen = seen[:0]
		found := false
		for _, ci := range cols {
			if ci >= len(rec) {
				continue
			}
			v := strings.TrimSpace(rec[ci])
			if v == "" || (ci == role && networkRoles[strings.ToLower(v)]) {
				continue
			}
			found = true
			ind, err := parseIndicator(v)
			if err != nil {
				s.fail(line, strings.TrimSpace(hdr[ci]), v, err)
				continue
			}
			dup := false
			for _, o := range seen {
				if o == ind {
					dup = true
					break
				}
			}
			if !dup {
				seen = append(seen, ind)
				s.add(ind, threat)
			}
		}
		if !found {
			s.stats.Skipped++
		}
	})
}
