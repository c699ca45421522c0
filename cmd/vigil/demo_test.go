package main

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/demo"
	"github.com/vigilsec/vigil/finding"
)

// TestDemoFindings scans the demo estate and checks that every attack in it
// is found, on the right resource, and that the near misses stay silent.
func TestDemoFindings(t *testing.T) {
	dir := t.TempDir()
	m, err := demo.Generate(demo.Options{Dir: dir, Seed: 1, Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"scan", "--config", m.Config}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var fs []finding.Finding
	if err := json.Unmarshal(out.Bytes(), &fs); err != nil {
		t.Fatal(err)
	}
	resourceOf := func(f *finding.Finding) string {
		if d := f.Resource.InstanceDetails; d != nil {
			return d.InstanceID
		}
		if k := f.Resource.AccessKeyDetails; k != nil {
			return k.AccessKeyID
		}
		return ""
	}
	have := map[string]bool{}
	types := map[string]bool{}
	for i := range fs {
		have[fs[i].Type+" "+resourceOf(&fs[i])] = true
		types[fs[i].Type] = true
	}
	wantTypes := map[string]bool{}
	for _, e := range m.Expected {
		wantTypes[e.Type] = true
		if !have[e.Type+" "+e.Resource] {
			t.Errorf("missing %s on %s (%s)", e.Type, e.Resource, e.Note)
		}
	}
	for typ := range types {
		if !wantTypes[typ] {
			t.Errorf("unexpected finding type %s", typ)
		}
	}
	// Near misses: addresses that take part only in benign look-alikes.
	for _, addr := range []string{"203.0.113.200", "198.51.100.26", "198.51.100.27", "203.0.113.10", "34.228.9.41"} {
		if strings.Contains(out.String(), `"`+addr+`"`) {
			t.Errorf("a finding names near-miss address %s", addr)
		}
	}
	// Sorted worst first, then newest first.
	if !slices.IsSortedFunc(fs, func(a, b finding.Finding) int {
		if a.Severity != b.Severity {
			if a.Severity > b.Severity {
				return -1
			}
			return 1
		}
		return strings.Compare(b.UpdatedAt, a.UpdatedAt)
	}) {
		t.Errorf("findings are not sorted by severity then updatedAt, newest first")
	}
	// Malformed records are reported, with file and line, and the rest counted.
	for _, want := range []string{"line 22: field end", "field eventTime", "line 2: invalid JSON"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr does not report %q", want)
		}
	}
}

// TestScanDeterministic: replaying the same logs gives the same findings,
// byte for byte (ids, times, counts).
func TestScanDeterministic(t *testing.T) {
	dir := t.TempDir()
	m, err := demo.Generate(demo.Options{Dir: dir, Seed: 3, Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	var a, b, e bytes.Buffer
	run(context.Background(), []string{"scan", "--quiet", "--config", m.Config}, &a, &e)
	run(context.Background(), []string{"scan", "--quiet", "--config", m.Config}, &b, &e)
	if a.Len() < 100 || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("two scans of the same logs differ (%d vs %d bytes)", a.Len(), b.Len())
	}
	if !strings.Contains(a.String(), `"eventFirstSeen": "2026-11-21T`) {
		t.Errorf("findings do not carry the logs' event times")
	}
}

func TestScanExitCodes(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"scan", "/nonexistent/path"}, &out, &errb); code != 1 {
		t.Errorf("unreadable path: exit %d, want 1 (%s)", code, errb.String())
	}
	if code := run(context.Background(), []string{"scan", "--type", "syslog", "."}, &out, &errb); code != 2 {
		t.Errorf("bad --type: exit %d, want 2", code)
	}
	if code := run(context.Background(), []string{"bogus"}, &out, &errb); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
	errb.Reset()
	if code := run(context.Background(), []string{"check", "--config", "../../config/testdata/invalid.bad.yaml"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "problem(s)") {
		t.Errorf("check of a bad config: exit %d, stderr %s", code, errb.String())
	}
}
