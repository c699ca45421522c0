package intel

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestGuardDutyFormats(t *testing.T) {
	tests := []struct {
		name    string
		spec    ListSpec
		input   string // inline input; "" reads spec.Path
		want    loaded
		skipped int
		invalid int
		errs    []string // substrings of the reported errors, in order
		fatal   string   // substring of the AddList error
	}{
		{
			name: "alienvault-fixture",
			spec: ListSpec{Format: "alienvault", Path: "testdata/alienvault-reputation.data"},
			want: loaded{
				ips:     []string{"1.2.3.4/32", "192.0.2.200/32", "198.51.100.23/32", "2001:db8::66/128", "203.0.113.77/32"},
				threats: []string{"C&C", "Malicious Host", "Scanning Host", "Scanning Host;Malicious Host"},
			},
			invalid: 1,
			errs:    []string{`testdata/alienvault-reputation.data:9: "not-an-ip!": not an IP address`},
		},
		{
			name:  "alienvault-domain-and-cidr",
			spec:  ListSpec{Format: "alienvault"},
			input: "\uFEFFbad.example#1#1#Phishing\r\n10.1.0.0/16#2#2\n#comment\n",
			want:  loaded{ips: []string{"10.1.0.0/16"}, domains: []string{"bad.example"}, threats: []string{"Phishing"}},
		},
		{
			name:  "alienvault-nothing-valid",
			spec:  ListSpec{Format: "alienvault"},
			input: "Malicious Host#1.2.3.4\n",
			fatal: "no valid entries in alienvault format",
		},
		{
			name: "proofpoint-ip-fixture",
			spec: ListSpec{Format: "proofpoint", Path: "testdata/proofpoint-iprep.csv"},
			want: loaded{
				ips:     []string{"1.2.3.4/32", "198.51.100.0/24", "2001:db8::9/128", "203.0.113.9/32"},
				threats: []string{"1", "16", "5", "CnC"},
			},
			skipped: 1,
			invalid: 1,
			errs:    []string{`testdata/proofpoint-iprep.csv:7: "999.1.1.1"`},
		},
		{
			name: "proofpoint-domain-fixture",
			spec: ListSpec{Format: "proofpoint", Path: "testdata/proofpoint-domainrep.csv"},
			want: loaded{
				domains: []string{"bad.example.net", "drop.example.org", "evil-c2.example"},
				threats: []string{"1", "4", "7"},
			},
		},
		{
			name:  "proofpoint-domain-header-no-category",
			spec:  ListSpec{Format: "proofpoint"},
			input: "domain,category,score\nx.example\n\"y.example\",\"Spam\",\"3\"\n",
			want:  loaded{domains: []string{"x.example", "y.example"}, threats: []string{"Spam"}},
		},
		{
			name: "fireeye-fixture",
			spec: ListSpec{Format: "fireeye", Path: "testdata/fireeye-isight.csv"},
			want: loaded{
				ips:     []string{"198.51.100.10/32", "198.51.100.128/25", "203.0.113.25/32"},
				domains: []string{"c2.evil.example", "mail.phish.example"},
				threats: []string{"BACKDOOR.X", "FIN77", "Scanning Infrastructure"},
			},
			skipped: 2,
			invalid: 2,
			errs: []string{
				`testdata/fireeye-isight.csv:7: domain: "bad..name": empty label`,
				`testdata/fireeye-isight.csv:7: ip: "300.1.1.1"`,
			},
		},
		{
			name: "fireeye-other-column-names",
			spec: ListSpec{Format: "fireeye"},
			input: "Title,IPv4 Address,FQDN,Malware_Family,Threat Actor\n" +
				"t1,192.0.2.1,,Emotet,TA542\n" +
				"t2,,a.example,,TA542\n" +
				"t3,,,,\n",
			want:    loaded{ips: []string{"192.0.2.1/32"}, domains: []string{"a.example"}, threats: []string{"Emotet", "TA542"}},
			skipped: 1,
		},
		{
			name:  "fireeye-network-identifier-value",
			spec:  ListSpec{Format: "fireeye"},
			input: "networkIdentifier,actor\n192.0.2.9,X\nAttacker,Y\n",
			want:  loaded{ips: []string{"192.0.2.9/32"}, threats: []string{"X"}},
			// "Attacker" is a role with no indicator beside it.
			skipped: 1,
		},
		{
			name:  "fireeye-no-indicator-column",
			spec:  ListSpec{Format: "fireeye"},
			input: "reportId,md5,malwareFamily\n1,00,x\n",
			fatal: "no indicator column",
		},
		{
			name:  "fireeye-empty",
			spec:  ListSpec{Format: "fireeye"},
			input: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			spec.Name, spec.Category = tt.name, Custom
			if spec.Path == "" {
				spec.Path = "src"
			}
			input := tt.input
			if spec.Path != "src" {
				b, err := os.ReadFile(spec.Path)
				if err != nil {
					t.Fatal(err)
				}
				input = string(b)
			}
			got, st, err := load(t, spec, input)
			if tt.fatal != "" {
				if err == nil || !strings.Contains(err.Error(), tt.fatal) {
					t.Fatalf("AddList error = %v, want containing %q", err, tt.fatal)
				}
				return
			}
			if err != nil {
				t.Fatalf("AddList: %v", err)
			}
			if !slices.Equal(got.ips, tt.want.ips) {
				t.Errorf("ips = %q, want %q", got.ips, tt.want.ips)
			}
			if !slices.Equal(got.domains, tt.want.domains) {
				t.Errorf("domains = %q, want %q", got.domains, tt.want.domains)
			}
			if !slices.Equal(got.threats, tt.want.threats) {
				t.Errorf("threats = %q, want %q", got.threats, tt.want.threats)
			}
			if n := len(tt.want.ips) + len(tt.want.domains); st.Entries != n {
				t.Errorf("Entries = %d, want %d", st.Entries, n)
			}
			if st.Skipped != tt.skipped || st.Invalid != tt.invalid {
				t.Errorf("Skipped, Invalid = %d, %d, want %d, %d (errors %v)", st.Skipped, st.Invalid, tt.skipped, tt.invalid, st.Errors)
			}
			if len(st.Errors) != len(tt.errs) {
				t.Fatalf("errors = %v, want %d", st.Errors, len(tt.errs))
			}
			for i, e := range st.Errors {
				var ee *EntryError
				if !errors.As(e, &ee) {
					t.Errorf("error %d is %T, want *EntryError", i, e)
				}
				if !strings.Contains(e.Error(), tt.errs[i]) {
					t.Errorf("error %d = %q, want containing %q", i, e, tt.errs[i])
				}
			}
		})
	}
}

func TestFormatFromGuardDuty(t *testing.T) {
	for enum, want := range map[string]string{
		"TXT": "txt", "STIX": "stix2", "OTX_CSV": "otx-csv",
		"ALIEN_VAULT": "alienvault", "PROOF_POINT": "proofpoint", "FIRE_EYE": "fireeye",
		" fire_eye ": "fireeye",
	} {
		got, err := FormatFromGuardDuty(enum)
		if err != nil || got != want {
			t.Errorf("FormatFromGuardDuty(%q) = %q, %v, want %q", enum, got, err, want)
		}
		if !slices.Contains(Formats, got) {
			t.Errorf("%q maps to %q, not in Formats", enum, got)
		}
		if _, ok := parsers[got]; !ok {
			t.Errorf("%q maps to %q, which has no parser", enum, got)
		}
	}
	_, err := FormatFromGuardDuty("CSV")
	if err == nil || !strings.Contains(err.Error(), `unknown GuardDuty list format "CSV" (valid: TXT, STIX, OTX_CSV, ALIEN_VAULT, PROOF_POINT, FIRE_EYE)`) {
		t.Errorf("FormatFromGuardDuty(CSV) error = %v", err)
	}
	for _, f := range Formats {
		if _, ok := parsers[f]; !ok {
			t.Errorf("format %q in Formats has no parser", f)
		}
	}
	if len(parsers) != len(Formats) {
		t.Errorf("%d parsers for %d Formats", len(parsers), len(Formats))
	}
}
