package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// evalDir is the shared evaluation corpus beside the checkout.
const evalDir = "../../../shared/eval"

func needEval(t *testing.T, sub string) string {
	t.Helper()
	p := filepath.Join(evalDir, sub)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("evaluation data %s not present (%v): skipping", p, err)
	}
	return p
}

var summary = regexp.MustCompile(`scanned (\d+) files \((\d+) skipped\): (\d+) records, (\d+) malformed, (\d+) findings`)

type scanResult struct {
	files, skipped, records, malformed, findings int
	stderr                                       string
}

func scan(t *testing.T, args ...string) scanResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"scan"}, args...), &out, &errb)
	if code != 0 {
		t.Fatalf("vigil scan %v: exit %d\n%s", args, code, errb.String())
	}
	var fs []map[string]any
	if err := json.Unmarshal(out.Bytes(), &fs); err != nil {
		t.Fatalf("stdout is not a JSON array of findings: %v", err)
	}
	m := summary.FindStringSubmatch(errb.String())
	if m == nil {
		t.Fatalf("no summary on stderr:\n%s", errb.String())
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	r := scanResult{n(1), n(2), n(3), n(4), n(5), errb.String()}
	if r.findings != len(fs) {
		t.Errorf("summary says %d findings, stdout has %d", r.findings, len(fs))
	}
	return r
}

// TestScanElasticSamples scans Elastic's AWS format fixtures: VPC flow v2,
// v3 and v5 (with and without headers) and Route 53 Resolver query logs.
// Every record in them is well formed.
func TestScanElasticSamples(t *testing.T) {
	dir := needEval(t, "elastic-integrations-aws")
	r := scan(t, filepath.Join(dir, "vpcflow"), filepath.Join(dir, "route53_resolver"))
	// 7 + 1 + 3 flow records (header lines are not records), 34 DNS records.
	if r.files != 4 || r.records != 45 || r.malformed != 0 {
		t.Errorf("got %d files, %d records, %d malformed; want 4 files, 45 records, 0 malformed\n%s", r.files, r.records, r.malformed, r.stderr)
	}
}

// TestScanPantherEvents extracts the CloudTrail and Route 53 events embedded
// in Panther's rule tests, writes them one per line as AWS delivers them to
// CloudWatch Logs or Firehose, and scans them. Every event that carries the
// fields AWS always writes must decode; the others must be reported as
// malformed, each with its line.
func TestScanPantherEvents(t *testing.T) {
	dir := needEval(t, "panther-analysis/rules")
	var ct, dns bytes.Buffer
	var ctGood, ctBad, dnsGood, dnsBad int
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yml") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var doc struct {
			LogTypes []string `yaml:"LogTypes"`
			Tests    []struct {
				Name string         `yaml:"Name"`
				Log  map[string]any `yaml:"Log"`
			} `yaml:"Tests"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Logf("%s: %v (skipped)", path, err)
			return nil
		}
		for _, tc := range doc.Tests {
			lt, _ := tc.Log["p_log_type"].(string)
			if lt == "" && len(doc.LogTypes) == 1 {
				lt = doc.LogTypes[0]
			}
			line, err := json.Marshal(tc.Log)
			if err != nil {
				continue
			}
			str := func(k string) bool { s, ok := tc.Log[k].(string); return ok && s != "" }
			switch lt {
			case "AWS.CloudTrail":
				rec := tc.Log
				if d, ok := rec["detail"].(map[string]any); ok {
					rec = d // an EventBridge envelope: the record is its detail
				}
				// Key names are matched case-insensitively, as the decoder does
				// (some copies write "eventname").
				get := func(k string) any {
					for kk, v := range rec {
						if strings.EqualFold(kk, k) {
							return v
						}
					}
					return nil
				}
				str = func(k string) bool { s, ok := get(k).(string); return ok && s != "" }
				ct.Write(line)
				ct.WriteByte('\n')
				// The decoder requires what every AWS-written record has: a
				// parseable eventTime and an eventName.
				if str("eventName") && parseableTime(get("eventTime")) {
					ctGood++
				} else {
					ctBad++
					if os.Getenv("VIGIL_DEBUG_EVAL") != "" {
						t.Logf("partial: %s %q: eventTime %#v eventName %#v", filepath.Base(path), tc.Name, tc.Log["eventTime"], tc.Log["eventName"])
					}
				}
			case "AWS.VPCDns":
				dns.Write(line)
				dns.WriteByte('\n')
				if str("query_name") && str("query_timestamp") {
					dnsGood++
				} else {
					dnsBad++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	os.WriteFile(filepath.Join(tmp, "cloudtrail.json"), ct.Bytes(), 0o644)
	os.WriteFile(filepath.Join(tmp, "dns.json"), dns.Bytes(), 0o644)
	t.Logf("panther events: cloudtrail %d complete + %d partial, route53 %d complete + %d partial", ctGood, ctBad, dnsGood, dnsBad)
	if ctGood < 300 || dnsGood < 10 {
		t.Fatalf("extracted too few events: %d cloudtrail, %d dns", ctGood, dnsGood)
	}
	r := scan(t, "--quiet=false", tmp)
	if r.records != ctGood+dnsGood {
		t.Errorf("decoded %d records, want every complete event: %d\n%s", r.records, ctGood+dnsGood, r.stderr)
	}
	if r.malformed != ctBad+dnsBad {
		t.Errorf("reported %d malformed, want %d (the partial events)\n%s", r.malformed, ctBad+dnsBad, r.stderr)
	}
}

func parseableTime(v any) bool {
	if _, ok := v.(time.Time); ok {
		return true // an unquoted YAML timestamp: marshalled back as RFC 3339
	}
	s, ok := v.(string)
	if !ok {
		return false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05Z07:00"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}
