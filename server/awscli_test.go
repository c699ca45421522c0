package server

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestAWSCLI drives `vigil serve` with Debian's AWS CLI (apt-get install
// awscli; CI installs it): list-detectors, list-findings with criteria,
// get-findings, archive-findings and create-filter, through --endpoint-url.
func TestAWSCLI(t *testing.T) {
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the AWS CLI is not installed (apt-get install awscli): skipping")
	}
	g := startGuardDuty(t)
	run := func(secret string, args ...string) (string, error) {
		cmd := exec.Command(aws, append([]string{"guardduty", "--endpoint-url", "http://" + g.addr, "--output", "json"}, args...)...)
		cmd.Env = append(os.Environ(),
			"AWS_ACCESS_KEY_ID="+adminKey, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_DEFAULT_REGION=us-east-1",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	ok := func(args ...string) map[string]any {
		t.Helper()
		out, err := run(adminSecret, args...)
		if err != nil {
			t.Fatalf("aws guardduty %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		var v map[string]any
		if strings.TrimSpace(out) != "" {
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("aws guardduty %s: output is not JSON: %v\n%s", args[0], err, out)
			}
		}
		return v
	}
	dets := ok("list-detectors")["DetectorIds"].([]any)
	if len(dets) != 1 {
		t.Fatalf("list-detectors: %v", dets)
	}
	det := dets[0].(string)
	ids := ok("list-findings", "--detector-id", det, "--finding-criteria", `{"Criterion":{"severity":{"Gte":7}}}`)["FindingIds"].([]any)
	if len(ids) == 0 {
		t.Fatal("list-findings with severity >= 7 found nothing")
	}
	id := ids[0].(string)
	fs := ok("get-findings", "--detector-id", det, "--finding-ids", id)["Findings"].([]any)
	f := fs[0].(map[string]any)
	if f["Id"] != id || f["Severity"].(float64) < 7 || f["SchemaVersion"] != "2.0" {
		t.Errorf("get-findings: %v", f)
	}
	ok("archive-findings", "--detector-id", det, "--finding-ids", id)
	arch := ok("list-findings", "--detector-id", det, "--finding-criteria", `{"Criterion":{"service.archived":{"Equals":["true"]}}}`)["FindingIds"].([]any)
	if len(arch) != 1 || arch[0] != id {
		t.Errorf("archived findings: %v, want [%s]", arch, id)
	}
	name := ok("create-filter", "--detector-id", det, "--name", "cli-filter", "--action", "ARCHIVE", "--rank", "1",
		"--finding-criteria", `{"Criterion":{"type":{"Eq":["Policy:IAMUser/RootCredentialUsage"]}}}`)["Name"]
	if name != "cli-filter" {
		t.Errorf("create-filter: %v", name)
	}
	if got := ok("list-filters", "--detector-id", det)["FilterNames"].([]any); len(got) != 1 {
		t.Errorf("list-filters: %v", got)
	}
	// A wrong secret: the CLI reports the signature error.
	out, err := run("wrong-secret", "list-detectors")
	if err == nil || !strings.Contains(out, "InvalidSignatureException") {
		t.Errorf("wrong secret: err %v, output %s", err, out)
	}
}
