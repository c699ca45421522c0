package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/demo"
	"github.com/vigilsec/vigil/finding"
)

// newDemoServer builds a server over the demo estate and runs one poll.
func newDemoServer(t *testing.T, mutate func(*config.Config)) *Server {
	t.Helper()
	dir := t.TempDir()
	m, err := demo.Generate(demo.Options{Dir: dir, Seed: 1, Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(m.Config)
	if err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(cfg)
	}
	s, err := New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.store.Close() })
	if err := s.w.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func get(t *testing.T, h http.Handler, url, token string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

func TestAPI(t *testing.T) {
	s := newDemoServer(t, nil)
	h := s.Handler()

	code, body := get(t, h, "/api/findings?limit=5", "")
	if code != 200 {
		t.Fatalf("list: %d %s", code, body)
	}
	var page struct {
		Findings  []finding.Finding `json:"findings"`
		NextToken string            `json:"nextToken"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Findings) != 5 || page.NextToken == "" {
		t.Fatalf("got %d findings, next %q; want a full page and a token", len(page.Findings), page.NextToken)
	}
	for i := 1; i < len(page.Findings); i++ {
		if page.Findings[i].Severity > page.Findings[i-1].Severity {
			t.Errorf("page not sorted worst first")
		}
	}
	// Paging reaches every finding exactly once.
	seen := map[string]bool{}
	url := "/api/findings?limit=7&archived=all"
	for {
		_, body := get(t, h, url, "")
		var p struct {
			Findings  []finding.Finding `json:"findings"`
			NextToken string            `json:"nextToken"`
		}
		json.Unmarshal(body, &p)
		for _, f := range p.Findings {
			if seen[f.ID] {
				t.Errorf("finding %s on two pages", f.ID)
			}
			seen[f.ID] = true
		}
		if p.NextToken == "" {
			break
		}
		url = "/api/findings?limit=7&archived=all&next=" + p.NextToken
	}
	if len(seen) < 15 {
		t.Errorf("paged through %d findings, want the demo's ~20", len(seen))
	}

	// Filters.
	_, body = get(t, h, "/api/findings?severity_min=7&limit=100", "")
	json.Unmarshal(body, &page)
	for _, f := range page.Findings {
		if f.Severity < 7 {
			t.Errorf("severity_min=7 returned severity %v", f.Severity)
		}
	}
	_, body = get(t, h, "/api/findings?type="+strings.ReplaceAll("Backdoor:EC2/C&CActivity.B!DNS", "&", "%26"), "")
	json.Unmarshal(body, &page)
	if len(page.Findings) != 1 || page.Findings[0].Type != "Backdoor:EC2/C&CActivity.B!DNS" {
		t.Errorf("type filter: got %d findings", len(page.Findings))
	}

	// One finding by id; unknown id.
	id := page.Findings[0].ID
	if code, body := get(t, h, "/api/findings/"+id, ""); code != 200 || !strings.Contains(string(body), id) {
		t.Errorf("get: %d", code)
	}
	if code, _ := get(t, h, "/api/findings/00000000000000000000000000000000", ""); code != 404 {
		t.Errorf("unknown id: %d, want 404", code)
	}

	// Bad parameters name the parameter.
	for _, bad := range []string{"severity_min=high", "archived=maybe", "limit=0", "sort=colour", "updated_after=yesterday", "next=garbage"} {
		code, body := get(t, h, "/api/findings?"+bad, "")
		name, _, _ := strings.Cut(bad, "=")
		if code != 400 || !strings.Contains(string(body), name) {
			t.Errorf("%s: %d %s, want 400 naming the parameter", bad, code, body)
		}
	}

	// Metrics and health.
	if code, body := get(t, h, "/metrics", ""); code != 200 || !strings.Contains(string(body), `vigil_records_total{source="flow"}`) {
		t.Errorf("metrics: %d %s", code, body)
	}
	if code, _ := get(t, h, "/healthz", ""); code != 200 {
		t.Errorf("healthz: %d", code)
	}
}

func TestAPIToken(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	os.WriteFile(tok, []byte("s3cret-token\n"), 0o600)
	s := newDemoServer(t, func(c *config.Config) {
		c.API.TokenFile = tok
		c.Listen = "0.0.0.0:0"
	})
	h := s.Handler()
	if code, _ := get(t, h, "/api/findings", ""); code != 401 {
		t.Errorf("no token: %d, want 401", code)
	}
	if code, _ := get(t, h, "/api/findings", "wrong"); code != 401 {
		t.Errorf("wrong token: %d, want 401", code)
	}
	if code, _ := get(t, h, "/metrics", ""); code != 401 {
		t.Errorf("metrics without token: %d, want 401", code)
	}
	if code, _ := get(t, h, "/api/findings", "s3cret-token"); code != 200 {
		t.Errorf("right token: %d, want 200", code)
	}
}

func TestNoTokenOffLoopback(t *testing.T) {
	cfg, _ := config.Parse(nil)
	cfg.Listen = "0.0.0.0:8080"
	cfg.Store.Path = filepath.Join(t.TempDir(), "v.db")
	if _, err := New(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "token") {
		t.Errorf("want a refusal to serve without a token off loopback, got %v", err)
	}
}
