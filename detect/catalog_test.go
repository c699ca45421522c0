package detect

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/finding"
)

// detectorTypes collects the finding types the package declares: constants
// named Type* whose string value contains a colon, from every non-test .go
// file. A new detector type without a catalogue entry fails the tests below.
func detectorTypes(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	out := map[string]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if !strings.HasPrefix(id.Name, "Type") || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatalf("%s: %v", id.Name, err)
					}
					if strings.Contains(v, ":") {
						out[id.Name] = v
					}
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("found no Type* constants")
	}
	return out
}

func TestCatalogCoversDetectorTypes(t *testing.T) {
	declared := detectorTypes(t)
	cat := map[string]bool{}
	for _, ti := range Catalog() {
		cat[ti.Type] = true
	}
	for name, typ := range declared {
		if !cat[typ] {
			t.Errorf("%s = %q is not in Catalog()", name, typ)
		}
	}
	values := map[string]bool{}
	for _, typ := range declared {
		values[typ] = true
	}
	for typ := range cat {
		if !values[typ] {
			t.Errorf("Catalog() lists %q, which no Type* constant declares", typ)
		}
	}
}

func TestCatalogEntries(t *testing.T) {
	cat := Catalog()
	if !slices.IsSortedFunc(cat, func(a, b TypeInfo) int { return strings.Compare(a.Type, b.Type) }) {
		t.Error("Catalog() is not sorted by type")
	}
	seen := map[string]bool{}
	for _, ti := range cat {
		if seen[ti.Type] {
			t.Errorf("%s listed twice", ti.Type)
		}
		seen[ti.Type] = true
		if ti.Purpose == "" || ti.Description == "" || len(ti.Remediation) == 0 {
			t.Errorf("%s: missing purpose, description or remediation", ti.Type)
		}
		for i, r := range ti.Remediation {
			if strings.TrimSpace(r) == "" {
				t.Errorf("%s: remediation step %d is empty", ti.Type, i)
			}
		}
		_, rest, _ := strings.Cut(ti.Type, ":")
		family, _, _ := strings.Cut(rest, "/")
		wantRes := map[string]string{"EC2": finding.ResourceInstance, "IAMUser": finding.ResourceAccessKey, "S3": finding.ResourceS3Bucket}[family]
		if ti.ResourceType != wantRes {
			t.Errorf("%s: resource type %q, want %q", ti.Type, ti.ResourceType, wantRes)
		}
		switch ti.Source {
		case SourceFlowLogs:
			if ti.ActionType != finding.ActionNetworkConnection && ti.ActionType != finding.ActionPortProbe {
				t.Errorf("%s: flow-log type with action %q", ti.Type, ti.ActionType)
			}
		case SourceDNSLogs:
			if ti.ActionType != finding.ActionDNSRequest {
				t.Errorf("%s: DNS type with action %q", ti.Type, ti.ActionType)
			}
		case SourceCloudTrail, SourceS3DataEvents:
			if ti.ActionType != finding.ActionAWSAPICall {
				t.Errorf("%s: CloudTrail type with action %q", ti.Type, ti.ActionType)
			}
			if (ti.Source == SourceS3DataEvents) != (family == "S3") {
				t.Errorf("%s: source %q", ti.Type, ti.Source)
			}
		default:
			t.Errorf("%s: source %q", ti.Type, ti.Source)
		}
		if strings.HasSuffix(ti.Type, "!DNS") && ti.Source != SourceDNSLogs {
			t.Errorf("%s: !DNS type from %q", ti.Type, ti.Source)
		}
	}
}

// specBands are the default severity levels of guardduty.md §1.
var specBands = map[string]string{
	"Backdoor:EC2/C&CActivity.B":                                           "High",
	"Backdoor:EC2/C&CActivity.B!DNS":                                       "High",
	"CryptoCurrency:EC2/BitcoinTool.B":                                     "High",
	"CryptoCurrency:EC2/BitcoinTool.B!DNS":                                 "High",
	"Impact:EC2/MaliciousDomainRequest.Custom":                             "Medium",
	"Recon:EC2/PortProbeEMRUnprotectedPort":                                "High",
	"Recon:EC2/PortProbeUnprotectedPort":                                   "Low",
	"Trojan:EC2/BlackholeTraffic":                                          "Medium",
	"Trojan:EC2/BlackholeTraffic!DNS":                                      "Medium",
	"Trojan:EC2/DriveBySourceTraffic!DNS":                                  "High",
	"Trojan:EC2/DropPoint":                                                 "Medium",
	"Trojan:EC2/DropPoint!DNS":                                             "Medium",
	"Trojan:EC2/PhishingDomainRequest!DNS":                                 "High",
	"UnauthorizedAccess:EC2/MaliciousIPCaller.Custom":                      "Medium",
	"UnauthorizedAccess:EC2/TorClient":                                     "High",
	"UnauthorizedAccess:EC2/TorRelay":                                      "High",
	"Policy:IAMUser/RootCredentialUsage":                                   "Low",
	"Recon:IAMUser/MaliciousIPCaller.Custom":                               "Medium",
	"Recon:IAMUser/TorIPCaller":                                            "Medium",
	"Stealth:IAMUser/CloudTrailLoggingDisabled":                            "Low",
	"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS":  "High",
	"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS": "High",
	"UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom":                  "Medium",
	"UnauthorizedAccess:IAMUser/TorIPCaller":                               "Medium",
	"Discovery:S3/MaliciousIPCaller.Custom":                                "High",
	"UnauthorizedAccess:S3/MaliciousIPCaller.Custom":                       "High",
	"UnauthorizedAccess:S3/TorIPCaller":                                    "High",
}

func TestCatalogSeverityBands(t *testing.T) {
	values := map[string]float64{"High": SevHigh, "Medium": SevMedium, "Low": SevLow}
	for _, ti := range Catalog() {
		band, ok := specBands[ti.Type]
		if !ok {
			t.Errorf("%s: no severity in the spec table of this test; add it from guardduty.md §1", ti.Type)
			continue
		}
		if ti.Severity != values[band] || finding.SeverityLabel(ti.Severity) != band {
			t.Errorf("%s: severity %v, want %s (%v)", ti.Type, ti.Severity, band, values[band])
		}
	}
}

func TestCatalogDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "detections.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, ti := range Catalog() {
		if !strings.Contains(doc, "`"+ti.Type+"`") {
			t.Errorf("%s is not documented in docs/detections.md", ti.Type)
		}
	}
}

func TestLookupType(t *testing.T) {
	ti, ok := LookupType(TypeCCActivityB)
	if !ok || ti.Type != TypeCCActivityB || ti.Severity != SevHigh || ti.Source != SourceFlowLogs || ti.ActionType != finding.ActionNetworkConnection {
		t.Fatalf("LookupType(%q) = %+v, %v", TypeCCActivityB, ti, ok)
	}
	if !strings.Contains(ti.Purpose, "command and control") {
		t.Errorf("purpose %q", ti.Purpose)
	}
	if _, ok := LookupType("Backdoor:EC2/NoSuchThing"); ok {
		t.Error("unknown type found")
	}
	// Results are copies.
	ti.Remediation[0] = "changed"
	again, _ := LookupType(TypeCCActivityB)
	if again.Remediation[0] == "changed" {
		t.Error("LookupType returns shared remediation slices")
	}
	cat := Catalog()
	cat[0].Remediation[0] = "changed"
	cat[0].Type = "changed"
	if c := Catalog(); c[0].Type == "changed" || c[0].Remediation[0] == "changed" {
		t.Error("Catalog returns shared data")
	}
	for _, ti := range Catalog() {
		got, ok := LookupType(ti.Type)
		if !ok || got.Type != ti.Type || got.Description != ti.Description {
			t.Errorf("LookupType(%q) disagrees with Catalog()", ti.Type)
		}
	}
}
