package server

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/api/guardduty"
	"github.com/vigilsec/vigil/api/sigv4"
	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/finding"
	"github.com/vigilsec/vigil/pipeline"
	"github.com/vigilsec/vigil/store"
)

// Server is the long-running service: watcher plus HTTP API.
type Server struct {
	gd    *guardduty.Service // nil when no accounts are configured
	cfg   *config.Config
	log   *slog.Logger
	store *store.Store
	p     *pipeline.Pipeline
	w     *Watcher
	token string
	start time.Time
}

// New opens the store, restores the checkpoint and builds the pipeline.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	token, err := apiToken(cfg)
	if err != nil {
		return nil, err
	}
	if token == "" && !loopback(cfg.Listen) {
		return nil, fmt.Errorf("listen %s is not a loopback address: set api.token_env or api.token_file so the API is not open to the network", cfg.Listen)
	}
	p, err := pipeline.Build(cfg, log)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.Store.Path)
	if err != nil {
		return nil, fmt.Errorf("opening store: %w", err)
	}
	w, err := NewWatcher(ctx, cfg, p, st, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	srv := &Server{cfg: cfg, log: log, store: st, p: p, w: w, token: token, start: time.Now()}
	if len(cfg.Accounts) > 0 {
		gd, err := newGuardDuty(ctx, cfg, st, p, log)
		if err != nil {
			st.Close()
			return nil, err
		}
		srv.gd = gd
		w.Suppress = gd.Suppress
		w.Enabled = gd.DetectorEnabled
		w.Published = gd.Publish
	}
	return srv, nil
}

func newGuardDuty(ctx context.Context, cfg *config.Config, st *store.Store, p *pipeline.Pipeline, log *slog.Logger) (*guardduty.Service, error) {
	keys := sigv4.Keys{}
	var accts []guardduty.Account
	for _, a := range cfg.Accounts {
		accts = append(accts, guardduty.Account{ID: a.ID, Administrator: a.Administrator})
		for _, k := range a.AccessKeys {
			secret, err := k.ResolveSecret()
			if err != nil {
				return nil, err
			}
			keys[k.ID] = sigv4.Key{ID: k.ID, Secret: secret, Account: a.ID}
		}
	}
	gd, err := guardduty.New(ctx, guardduty.Options{Store: st, Keys: keys, Env: p.Env, Log: log, Accounts: accts, MembersCanArchive: cfg.GuardDuty.MembersCanArchive})
	if err != nil {
		return nil, err
	}
	if err := gd.ApplyConfig(ctx, cfg.GuardDuty); err != nil {
		return nil, err
	}
	return gd, nil
}

// Reload applies what can change in a running server from a new config:
// the GuardDuty filters and lists declared as code. A config that does not
// validate changes nothing.
func (s *Server) Reload(ctx context.Context, cfg *config.Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("reloading: invalid config, nothing changed:\n%w", err)
	}
	if s.gd == nil {
		return nil
	}
	return s.gd.ApplyConfig(ctx, cfg.GuardDuty)
}

// GuardDuty returns the GuardDuty API service, or nil.
func (s *Server) GuardDuty() *guardduty.Service { return s.gd }

// Store returns the server's store.
func (s *Server) Store() *store.Store { return s.store }

// Watcher returns the server's watcher.
func (s *Server) Watcher() *Watcher { return s.w }

func apiToken(cfg *config.Config) (string, error) {
	switch {
	case cfg.API.TokenEnv != "":
		t := os.Getenv(cfg.API.TokenEnv)
		if t == "" {
			return "", fmt.Errorf("api.token_env: environment variable %s is empty", cfg.API.TokenEnv)
		}
		return t, nil
	case cfg.API.TokenFile != "":
		b, err := os.ReadFile(cfg.API.TokenFile)
		if err != nil {
			return "", fmt.Errorf("api.token_file: %w", err)
		}
		t := strings.TrimSpace(string(b))
		if t == "" {
			return "", fmt.Errorf("api.token_file: %s is empty", cfg.API.TokenFile)
		}
		return t, nil
	}
	return "", nil
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// Run serves HTTP and watches sources until ctx ends. ready, if not nil, is
// called with the listening address once the socket is open.
func (s *Server) Run(ctx context.Context, ready func(addr string)) error {
	defer s.store.Close()
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String(), "store", s.cfg.Store.Path)
	if ready != nil {
		ready(ln.Addr().String())
	}
	werr := s.w.Run(ctx)
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return werr
}

// Handler returns the HTTP API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /metrics", s.metricsAuth(s.metrics))
	mux.HandleFunc("GET /api/findings", s.auth(s.listFindings))
	mux.HandleFunc("GET /api/findings/{id}", s.auth(s.getFinding))
	mux.HandleFunc("GET /api/status", s.auth(s.status))
	mux.HandleFunc("GET /{$}", s.index)
	if s.gd != nil {
		// Everything else is GuardDuty's REST API (SigV4-authenticated).
		mux.Handle("/", s.gd.Handler())
	}
	return mux
}

func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.token == "" && s.gd != nil {
			// With tenants configured, the operator API shows every
			// account's findings: it needs its own token. Tenants use the
			// GuardDuty API.
			writeError(w, http.StatusUnauthorized, "unauthorized", "accounts are configured: this operator API needs api.token_env or api.token_file; tenants use the GuardDuty API")
			return
		}
		if s.token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) != 1 {
				writeError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong bearer token")
				return
			}
		}
		h(w, r)
	}
}

// metricsAuth guards /metrics: counts only, no tenant data, so on loopback
// it needs no token even when accounts are configured.
func (s *Server) metricsAuth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.token != "" {
			s.auth(h)(w, r)
			return
		}
		h(w, r)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, typ, msg string) {
	writeJSON(w, code, map[string]string{"error": typ, "message": msg})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if _, err := s.store.Stats(r.Context()); err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "store unavailable")
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintln(w, "ok")
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprint(w, "Vigil\n\n  GET /api/findings         findings, worst and newest first (?severity_min=7&type=...&archived=true&limit=50&next=...)\n  GET /api/findings/{id}    one finding\n  GET /api/status           watcher state\n  GET /metrics              Prometheus metrics\n  GET /healthz              health\n")
}

// parseQuery turns URL parameters into a store query. Errors name the parameter.
func parseQuery(r *http.Request) (store.Query, error) {
	v := r.URL.Query()
	q := store.Query{Accounts: v["account"], Types: v["type"], ResourceID: v.Get("resource"), Text: v.Get("q"), PageToken: v.Get("next")}
	num := func(name string) (float64, error) {
		s := v.Get(name)
		if s == "" {
			return 0, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("parameter %s: %q is not a number", name, s)
		}
		return f, nil
	}
	var err error
	if q.MinSeverity, err = num("severity_min"); err != nil {
		return q, err
	}
	if q.MaxSeverity, err = num("severity_max"); err != nil {
		return q, err
	}
	switch a := v.Get("archived"); a {
	case "", "false":
		f := false
		q.Archived = &f
	case "true":
		t := true
		q.Archived = &t
	case "all":
	default:
		return q, fmt.Errorf("parameter archived: %q is not true, false or all", a)
	}
	for _, name := range []string{"updated_after", "updated_before"} {
		s := v.Get(name)
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return q, fmt.Errorf("parameter %s: %q is not an RFC 3339 time", name, s)
		}
		if name == "updated_after" {
			q.UpdatedAfter = t
		} else {
			q.UpdatedBefore = t
		}
	}
	switch srt := v.Get("sort"); srt {
	case "", "severity":
		q.Sort = store.SortSeverity
	case "updatedAt", "createdAt", "count", "type":
		q.Sort = store.SortField(srt)
	default:
		return q, fmt.Errorf("parameter sort: %q is not severity, updatedAt, createdAt, count or type", srt)
	}
	switch o := v.Get("order"); o {
	case "", "desc":
		q.Desc = true
	case "asc":
	default:
		return q, fmt.Errorf("parameter order: %q is not asc or desc", o)
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return q, fmt.Errorf("parameter limit: %q is not a number from 1 to 1000", l)
		}
		q.Limit = n
	}
	return q, nil
}

func (s *Server) listFindings(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	page, next, err := s.store.List(r.Context(), q)
	if err != nil {
		if errors.Is(err, store.ErrInvalidPageToken) {
			writeError(w, http.StatusBadRequest, "bad_data", "parameter next: invalid page token")
			return
		}
		s.log.Error("listing findings", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "listing findings failed")
		return
	}
	if page == nil {
		page = []finding.Finding{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"findings": page, "nextToken": next})
}

func (s *Server) getFinding(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	fs, err := s.store.Get(r.Context(), "", []string{id})
	if err != nil {
		s.log.Error("getting finding", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "getting finding failed")
		return
	}
	if len(fs) == 0 {
		writeError(w, http.StatusNotFound, "not_found", "no finding with id "+id)
		return
	}
	writeJSON(w, http.StatusOK, fs[0])
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	st := &s.p.Stats
	writeJSON(w, http.StatusOK, map[string]any{
		"idle":         s.w.Idle(),
		"pendingFiles": s.w.PendingWork.Load(),
		"files":        st.Files.Load(),
		"filesSkipped": st.FilesSkipped.Load(),
		"records":      st.TotalRecords(),
		"malformed":    st.Malformed.Load(),
		"occurrences":  st.Occurrences.Load(),
		"commits":      s.w.Commits.Load(),
		"polls":        s.w.Polls.Load(),
	})
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	st := &s.p.Stats
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	var b strings.Builder
	metric := func(name, typ, help string, v any, labels ...string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		if len(labels) == 0 {
			fmt.Fprintf(&b, "%s %v\n", name, v)
		}
	}
	metric("vigil_files_read_total", "counter", "Log files read.", st.Files.Load())
	metric("vigil_files_skipped_total", "counter", "Files skipped: unrecognised, empty or CloudTrail digests.", st.FilesSkipped.Load())
	metric("vigil_file_errors_total", "counter", "Files that ended early (truncated gzip, broken document).", st.FileErrors.Load())
	fmt.Fprintf(&b, "# HELP vigil_records_total Records decoded, by source.\n# TYPE vigil_records_total counter\n")
	for k, name := range []string{"", "flow", "dns", "cloudtrail"} {
		if k == 0 {
			continue
		}
		fmt.Fprintf(&b, "vigil_records_total{source=%q} %d\n", name, st.Records[k].Load())
	}
	metric("vigil_records_malformed_total", "counter", "Malformed records skipped.", st.Malformed.Load())
	metric("vigil_read_bytes_total", "counter", "Bytes read from log files (as stored, compressed or not).", st.Bytes.Load())
	metric("vigil_finding_occurrences_total", "counter", "Finding occurrences emitted by detectors.", st.Occurrences.Load())
	metric("vigil_findings_created_total", "counter", "New findings stored.", s.w.Findings.Load())
	metric("vigil_findings_updated_total", "counter", "Aggregations onto stored findings.", s.w.Updates.Load())
	metric("vigil_commits_total", "counter", "Store commits of findings, positions and detector state.", s.w.Commits.Load())
	metric("vigil_polls_total", "counter", "Source polls.", s.w.Polls.Load())
	metric("vigil_pending_files", "gauge", "Files with unread data at the last poll.", s.w.PendingWork.Load())
	metric("vigil_last_commit_timestamp_seconds", "gauge", "Time of the last commit.", float64(s.w.LastCommit.Load())/1000)
	if ss, err := s.store.Stats(r.Context()); err == nil {
		metric("vigil_store_findings", "gauge", "Findings in the store.", ss.Findings)
		metric("vigil_store_findings_archived", "gauge", "Archived findings in the store.", ss.Archived)
		metric("vigil_store_bytes", "gauge", "Size of the store's database file.", ss.Bytes)
	}
	metric("vigil_uptime_seconds", "gauge", "Seconds since start.", int64(time.Since(s.start).Seconds()))
	fmt.Fprint(w, b.String())
}
