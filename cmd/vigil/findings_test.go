package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/demo"
	"github.com/vigilsec/vigil/server"
)

// TestFindingsCommands runs `vigil findings` and `vigil filters` with no
// server running: they serve the GuardDuty API in-process over the store.
func TestFindingsCommands(t *testing.T) {
	dir := t.TempDir()
	m, err := demo.Generate(demo.Options{Dir: dir, Seed: 1, Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(m.Config)
	conf := strings.Replace(string(raw), "listen: 127.0.0.1:8080", "listen: 127.0.0.1:1", 1) + `accounts:
  - id: "111122223333"
    access_keys:
      - {id: AKIAVIGILADMIN000001, secret: test-secret-value-0123456789}
`
	path := filepath.Join(dir, "cli.yaml")
	os.WriteFile(path, []byte(conf), 0o644)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := server.New(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Watcher().Poll(ctx); err != nil {
		t.Fatal(err)
	}
	s.Store().Close()

	vigil := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(ctx, args, &out, &errb); code != 0 {
			t.Fatalf("vigil %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
		}
		return out.String()
	}
	var high []map[string]any
	if err := json.Unmarshal([]byte(vigil("findings", "list", "--config", path, "--severity-min", "7", "--json")), &high); err != nil {
		t.Fatal(err)
	}
	if len(high) < 5 {
		t.Fatalf("findings list --severity-min 7: %d findings", len(high))
	}
	for _, f := range high {
		if f["severity"].(float64) < 7 || f["schemaVersion"] != "2.0" {
			t.Errorf("listed %v %v", f["type"], f["severity"])
		}
	}
	id := high[0]["id"].(string)
	if out := vigil("findings", "get", "--config", path, id); !strings.Contains(out, id) {
		t.Errorf("findings get: %s", out)
	}
	vigil("findings", "archive", "--config", path, id)
	if out := vigil("findings", "list", "--config", path, "--archived"); !strings.Contains(out, id) {
		t.Errorf("archived list does not show %s:\n%s", id, out)
	}
	vigil("findings", "unarchive", "--config", path, id)
	vigil("filters", "create", "--config", path, "--name", "no-root", "--action", "ARCHIVE", "--criteria", `{"criterion":{"type":{"equals":["Policy:IAMUser/RootCredentialUsage"]}}}`)
	if out := vigil("filters", "list", "--config", path); !strings.Contains(out, "no-root") || !strings.Contains(out, "ARCHIVE") {
		t.Errorf("filters list:\n%s", out)
	}
	exp := filepath.Join(dir, "export.jsonl")
	vigil("findings", "export", "--config", path, "--output", exp)
	b, _ := os.ReadFile(exp)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 15 {
		t.Errorf("export wrote %d lines", len(lines))
	}
	var f map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &f); err != nil || f["arn"] == nil {
		t.Errorf("export line is not a finding: %v", err)
	}
}
