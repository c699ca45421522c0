package guardduty

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigilsec/vigil/api/sigv4"
	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/finding"
	"github.com/vigilsec/vigil/store"
)

// TestApplyConfig: filters and lists declared in the config are created,
// marked as managed by config, applied (suppression, per-account lists),
// updated on the next start and removed when the config drops them.
func TestApplyConfig(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list := filepath.Join(dir, "mine.txt")
	os.WriteFile(list, []byte("192.0.2.77\n"), 0o644)
	env := &detect.Env{}
	open := func() *Service {
		s, err := New(ctx, Options{Store: st, Keys: sigv4.Keys{}, Env: env, Accounts: []Account{{ID: "111122223333"}}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	cfg := config.GuardDuty{
		Filters: []config.GDFilter{{Account: "111122223333", Region: "us-east-1", Name: "no-root", Action: "ARCHIVE", Rank: 1,
			Criteria: map[string]any{"criterion": map[string]any{"type": map[string]any{"equals": []any{"Policy:IAMUser/RootCredentialUsage"}}}}}},
		ThreatIntelSets: []config.GDListSet{{Account: "111122223333", Region: "us-east-1", Name: "mine", Format: "TXT", Location: list}},
	}
	if err := s.ApplyConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	det := finding.DetectorID("111122223333", "us-east-1")
	f := s.state.Filters[det]["no-root"]
	if f == nil || f.ManagedBy != "config" || f.Action != "ARCHIVE" {
		t.Fatalf("filter from config: %+v", f)
	}
	// Suppression applies to a matching finding only.
	root := finding.Finding{AccountID: "111122223333", Region: "us-east-1", Type: "Policy:IAMUser/RootCredentialUsage"}
	other := finding.Finding{AccountID: "111122223333", Region: "us-east-1", Type: "Recon:IAMUser/TorIPCaller"}
	s.Suppress(&root)
	s.Suppress(&other)
	if !root.Service.Archived || other.Service.Archived {
		t.Errorf("suppression: root archived %v, other archived %v", root.Service.Archived, other.Service.Archived)
	}
	// The list is active for that account's detection.
	var set *ListSet
	for _, l := range s.state.Sets {
		set = l
	}
	if set == nil || set.Status != "ACTIVE" || set.ManagedBy != "config" || set.Entries != 1 {
		t.Fatalf("list from config: %+v", set)
	}
	// A new start with the filter gone from the config removes it; the
	// list stays, deactivated.
	s = open()
	off := false
	cfg.Filters = nil
	cfg.ThreatIntelSets[0].Activate = &off
	if err := s.ApplyConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if len(s.state.Filters[det]) != 0 {
		t.Errorf("filter removed from config still there")
	}
	for _, l := range s.state.Sets {
		if l.Status != "INACTIVE" {
			t.Errorf("deactivated list has status %s", l.Status)
		}
	}
}
