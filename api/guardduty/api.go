// Package guardduty serves Amazon GuardDuty's REST-JSON API (version
// 2017-11-28) over Vigil's findings, so that the AWS CLI, the AWS SDKs and
// Terraform work against Vigil unchanged.
//
// Every request is authenticated with AWS Signature Version 4 (package
// sigv4); the access key names the caller's account and the credential
// scope its region. Each account has one detector per region, whose id is
// [finding.DetectorID] of the account and region, and sees only its own
// findings, plus those of its members when it is an administrator.
//
// Errors use GuardDuty's shapes: BadRequestException (400) with a __type
// such as InvalidInputException, AccessDeniedException (403) and
// InternalServerErrorException (500), with the x-amzn-ErrorType header the
// SDKs read.
package guardduty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/vigilsec/vigil/api/sigv4"
	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/finding"
	"github.com/vigilsec/vigil/store"
)

// Service is the GuardDuty API.
type Service struct {
	store    *store.Store
	verifier *sigv4.Verifier
	env      *detect.Env
	log      *slog.Logger
	state    *State
	now      func() time.Time

	// MembersCanArchive lets member accounts archive their findings
	// (GuardDuty allows only the administrator).
	MembersCanArchive bool
}

// Options configure a Service.
type Options struct {
	Store    *store.Store
	Keys     sigv4.KeyStore
	Env      *detect.Env // detection environment whose per-account lists the API manages; may be nil
	Log      *slog.Logger
	Accounts []Account // accounts from config: each starts with an enabled detector
	// MembersCanArchive: see Service.
	MembersCanArchive bool
	Now               func() time.Time
}

// Account is an account known from config.
type Account struct {
	ID            string
	Administrator string // starts as an enabled member of this administrator
}

// New loads the API's state from the store and returns the service.
func New(ctx context.Context, o Options) (*Service, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	st, err := loadState(ctx, o.Store)
	if err != nil {
		return nil, err
	}
	s := &Service{
		store:             o.Store,
		verifier:          &sigv4.Verifier{Service: "guardduty", Keys: o.Keys},
		env:               o.Env,
		log:               o.Log,
		state:             st,
		now:               o.Now,
		MembersCanArchive: o.MembersCanArchive,
	}
	s.state.seedAccounts(o.Accounts, s.now())
	if err := s.save(ctx); err != nil {
		return nil, err
	}
	s.rebuildLists(ctx)
	return s, nil
}

// caller is the authenticated principal of a request.
type caller struct {
	Account string
	Region  string
}

// apiError is an error in GuardDuty's shape.
type apiError struct {
	status int
	code   string // x-amzn-ErrorType: BadRequestException, AccessDeniedException ...
	typ    string // __type in the body, e.g. InvalidInputException
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, code: "BadRequestException", typ: "InvalidInputException", msg: fmt.Sprintf(format, args...)}
}

func accessDenied(format string, args ...any) error {
	return &apiError{status: http.StatusForbidden, code: "AccessDeniedException", typ: "AccessDeniedException", msg: fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	var se *sigv4.Error
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &se):
		ae = &apiError{status: se.Status, code: se.Code, typ: se.Code, msg: se.Message}
	default:
		ae = &apiError{status: http.StatusInternalServerError, code: "InternalServerErrorException", typ: "InternalServerErrorException", msg: "internal server error"}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", ae.code)
	w.WriteHeader(ae.status)
	json.NewEncoder(w).Encode(map[string]string{"message": ae.msg, "__type": ae.typ})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v == nil {
		v = struct{}{}
	}
	json.NewEncoder(w).Encode(v)
}

// handlerFunc is an authenticated operation.
type handlerFunc func(ctx context.Context, c caller, r *http.Request) (any, error)

// op wraps an operation: authenticate, run, answer.
func (s *Service) op(name string, status int, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.verifier.Verify(r)
		if err != nil {
			s.log.Debug("request refused", "op", name, "err", err)
			writeError(w, err)
			return
		}
		c := caller{Account: p.Account, Region: p.Region}
		out, err := h(r.Context(), c, r)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				s.log.Error("operation failed", "op", name, "account", c.Account, "err", err)
			}
			writeError(w, err)
			return
		}
		writeJSON(w, status, out)
	}
}

// decode reads a JSON request body into v. An empty body is an empty object.
func decode(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		return badRequest("reading the request body: %v", err)
	}
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return badRequest("the request body is not valid JSON for this operation: %v", err)
	}
	return nil
}

// Handler returns the API's routes. Requests that match no operation get
// GuardDuty's answer for an unknown operation.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern, name string, status int, h handlerFunc) {
		mux.HandleFunc(pattern, s.op(name, status, h))
	}
	// Detectors.
	route("POST /detector", "CreateDetector", 200, s.createDetector)
	route("GET /detector", "ListDetectors", 200, s.listDetectors)
	route("GET /detector/{DetectorId}", "GetDetector", 200, s.getDetector)
	route("POST /detector/{DetectorId}", "UpdateDetector", 200, s.updateDetector)
	route("DELETE /detector/{DetectorId}", "DeleteDetector", 200, s.deleteDetector)
	// Findings.
	route("POST /detector/{DetectorId}/findings", "ListFindings", 200, s.listFindings)
	route("POST /detector/{DetectorId}/findings/get", "GetFindings", 200, s.getFindings)
	route("POST /detector/{DetectorId}/findings/statistics", "GetFindingsStatistics", 200, s.getFindingsStatistics)
	route("POST /detector/{DetectorId}/findings/archive", "ArchiveFindings", 200, s.archiveFindings(true))
	route("POST /detector/{DetectorId}/findings/unarchive", "UnarchiveFindings", 200, s.archiveFindings(false))
	route("POST /detector/{DetectorId}/findings/feedback", "UpdateFindingsFeedback", 200, s.updateFindingsFeedback)
	route("POST /detector/{DetectorId}/findings/create", "CreateSampleFindings", 200, s.createSampleFindings)
	// Filters.
	route("POST /detector/{DetectorId}/filter", "CreateFilter", 200, s.createFilter)
	route("GET /detector/{DetectorId}/filter", "ListFilters", 200, s.listFilters)
	route("GET /detector/{DetectorId}/filter/{FilterName}", "GetFilter", 200, s.getFilter)
	route("POST /detector/{DetectorId}/filter/{FilterName}", "UpdateFilter", 200, s.updateFilter)
	route("DELETE /detector/{DetectorId}/filter/{FilterName}", "DeleteFilter", 200, s.deleteFilter)
	// IP sets and threat intel sets.
	for _, k := range []listKind{ipSets, threatIntelSets} {
		route("POST /detector/{DetectorId}/"+k.path, "Create"+k.op, 200, s.createSet(k))
		route("GET /detector/{DetectorId}/"+k.path, "List"+k.op+"s", 200, s.listSets(k))
		route("GET /detector/{DetectorId}/"+k.path+"/{SetId}", "Get"+k.op, 200, s.getSet(k))
		route("POST /detector/{DetectorId}/"+k.path+"/{SetId}", "Update"+k.op, 200, s.updateSet(k))
		route("DELETE /detector/{DetectorId}/"+k.path+"/{SetId}", "Delete"+k.op, 200, s.deleteSet(k))
	}
	s.routeMembers(route)
	s.routeTags(route)
	s.routeDestinations(route)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.verifier.Verify(r); err != nil {
			writeError(w, err)
			return
		}
		writeError(w, &apiError{status: http.StatusNotFound, code: "UnknownOperationException", typ: "UnknownOperationException", msg: "no GuardDuty operation at " + r.Method + " " + r.URL.Path + " in this implementation"})
	})
	return mux
}

// detector resolves the {DetectorId} of a request: it must be the caller's
// own detector in the request's region, and not deleted. GuardDuty answers
// a detector that is not the caller's with 400 BadRequestException.
func (s *Service) detector(c caller, r *http.Request) (*Detector, error) {
	id := r.PathValue("DetectorId")
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	d := s.state.detectorOf(c.Account, c.Region)
	if d == nil || d.ID != id {
		return nil, badRequest("The request is rejected because the input detectorId is not owned by the current account.")
	}
	return d, nil
}

// visibleAccounts are the accounts whose findings the caller sees in its
// region: itself, and the members it administers whose relationship is
// Enabled.
func (s *Service) visibleAccounts(c caller) []string {
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	out := []string{c.Account}
	for _, m := range s.state.membersOf(c.Account) {
		if m.RelationshipStatus == statusEnabled && !slices.Contains(out, m.AccountID) {
			out = append(out, m.AccountID)
		}
	}
	slices.Sort(out)
	return out
}

// isMember reports whether the account is an enabled member of another
// account's administrator.
func (s *Service) isMember(account string) bool {
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	return s.state.administratorOf(account) != ""
}

func (s *Service) nowString() string { return finding.FormatTime(s.now()) }
