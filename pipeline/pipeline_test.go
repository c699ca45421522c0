package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/finding"
)

func TestHints(t *testing.T) {
	tests := []struct{ path, account, region string }{
		{"/d/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/11/21/x.log.gz", "111122223333", "eu-west-1"},
		{"/d/AWSLogs/o-abc123/111122223333/CloudTrail/us-gov-west-1/2026/x.json.gz", "111122223333", "us-gov-west-1"},
		{"/d/AWSLogs/111122223333/vpcdnsquerylogs/vpc-1/2026/x.log.gz", "111122223333", ""},
		{"/var/log/flows.log", "", ""},
	}
	for _, tt := range tests {
		a, r := hints(tt.path)
		if a != tt.account || r != tt.region {
			t.Errorf("hints(%q) = %q, %q; want %q, %q", tt.path, a, r, tt.account, tt.region)
		}
	}
}

const flowHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
const probe = "2 111122223333 eni-1 203.0.113.23 10.0.1.20 40000 22 6 3 180 1763700000 1763700060 ACCEPT OK\n"

// TestRunFileBadInput: malformed lines are counted and skipped, a truncated
// gzip keeps what was read, an unrecognised file is skipped by name; none of
// them stops the run.
func TestRunFileBadInput(t *testing.T) {
	dir := t.TempDir()
	scanners := filepath.Join(dir, "scanners.txt")
	os.WriteFile(scanners, []byte("203.0.113.23\n"), 0o644)
	cfg, _ := config.Parse(nil)
	cfg.Intel = []config.List{{Name: "scanners", Category: "scanner", Format: "txt", Path: scanners}}
	p, err := Build(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(flowHeader + strings.Repeat(probe, 2000)))
	zw.Close()
	files := map[string][]byte{
		"bad-lines.log": []byte(flowHeader + probe + "2 111122223333 eni-1 not-an-ip 10.0.1.20 1 2 6\n" + probe),
		"truncated.gz":  gz.Bytes()[:gz.Len()/2],
		"notes.txt":     []byte("hello, this is not a log\n"),
		"empty.log":     nil,
	}
	for name, b := range files {
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	agg := finding.NewAggregator()
	run := func(name string) FileResult {
		res, err := p.RunFile(context.Background(), filepath.Join(dir, name), FileOptions{}, agg.Add)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res
	}
	if r := run("bad-lines.log"); r.Records != 2 || r.Malformed != 1 {
		t.Errorf("bad-lines.log: %d records, %d malformed; want 2, 1", r.Records, r.Malformed)
	}
	if r := run("truncated.gz"); r.Err == nil || r.Records == 0 || r.Records >= 2000 {
		t.Errorf("truncated.gz: %d records, err %v; want some records and an error", r.Records, r.Err)
	} else if !strings.Contains(r.Err.Error(), "truncated") {
		t.Errorf("truncated.gz: error %q does not say truncated", r.Err)
	}
	if r := run("notes.txt"); r.Skipped != "unrecognised" {
		t.Errorf("notes.txt: skipped %q", r.Skipped)
	}
	if r := run("empty.log"); r.Skipped != "empty" {
		t.Errorf("empty.log: skipped %q", r.Skipped)
	}
	fs := agg.Findings()
	if len(fs) != 1 || fs[0].Type != "Recon:EC2/PortProbeUnprotectedPort" || fs[0].Service.Count < 3 {
		t.Errorf("findings = %d; want one aggregated port probe", len(fs))
	}
	if _, err := p.RunFile(context.Background(), filepath.Join(dir, "missing.log"), FileOptions{}, agg.Add); err == nil {
		t.Errorf("a missing file must be an error")
	}
}
