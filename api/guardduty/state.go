package guardduty

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/vigilsec/vigil/finding"
	"github.com/vigilsec/vigil/store"
)

// stateKey is where the API's state lives in the store.
const stateKey = "guardduty/state"

// State is everything the API manages besides findings: detectors,
// filters, lists, members, destinations and tags. It is small (GuardDuty's
// quotas bound it) and saved whole, as JSON, on every change.
type State struct {
	mu sync.Mutex

	Version int `json:"version"`
	// Detectors by "account/region". A detector exists for every account
	// and region in which it was not deleted (config accounts start
	// enabled everywhere); entries record what differs from that.
	Detectors map[string]*Detector `json:"detectors"`
	// Filters by detector id, then name.
	Filters map[string]map[string]*Filter `json:"filters"`
	// Sets (IP sets and threat intel sets) by id.
	Sets map[string]*ListSet `json:"sets"`
	// Members by administrator account, then member account.
	Members map[string]map[string]*Member `json:"members"`
	// Invitations by invited account.
	Invitations map[string][]*Invitation `json:"invitations"`
	// Destinations by id.
	Destinations map[string]*Destination `json:"destinations"`
	// Tags by resource ARN.
	Tags map[string]map[string]string `json:"tags"`
	// Known accounts (from config).
	Accounts map[string]bool `json:"accounts"`
	// Organization holds the AWS Organizations model: "management" → the
	// management account, "admin/<region>" → the delegated administrator.
	Organization map[string]string `json:"organization,omitempty"`
	// Seeded is when the config's accounts were first seen: the creation
	// time of their implicit detectors.
	Seeded string `json:"seeded"`
}

// Detector is one account's detector in one region.
type Detector struct {
	ID                         string          `json:"id"`
	Account                    string          `json:"account"`
	Region                     string          `json:"region"`
	Status                     string          `json:"status"` // ENABLED or DISABLED
	Deleted                    bool            `json:"deleted"`
	CreatedAt                  string          `json:"createdAt"`
	UpdatedAt                  string          `json:"updatedAt"`
	FindingPublishingFrequency string          `json:"findingPublishingFrequency"`
	DataSources                json.RawMessage `json:"dataSources,omitempty"`
	Features                   json.RawMessage `json:"features,omitempty"`
}

func (d *Detector) arn() string {
	return "arn:aws:guardduty:" + d.Region + ":" + d.Account + ":detector/" + d.ID
}

const (
	statusEnabled  = "Enabled"
	statusInvited  = "Invited"
	statusCreated  = "Created"
	statusRemoved  = "Removed"
	statusResigned = "Resigned"
	statusDisabled = "Disabled"
)

func newState() *State {
	return &State{
		Version:      1,
		Detectors:    map[string]*Detector{},
		Filters:      map[string]map[string]*Filter{},
		Sets:         map[string]*ListSet{},
		Members:      map[string]map[string]*Member{},
		Invitations:  map[string][]*Invitation{},
		Destinations: map[string]*Destination{},
		Tags:         map[string]map[string]string{},
		Accounts:     map[string]bool{},
	}
}

func loadState(ctx context.Context, st *store.Store) (*State, error) {
	s := newState()
	b, ok, err := st.State(ctx, stateKey)
	if err != nil {
		return nil, fmt.Errorf("reading GuardDuty API state: %w", err)
	}
	if !ok {
		return s, nil
	}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("GuardDuty API state in %s is corrupt: %w", st.Path(), err)
	}
	if s.Version != 1 {
		return nil, fmt.Errorf("GuardDuty API state in %s has version %d, want 1", st.Path(), s.Version)
	}
	fresh := newState()
	if s.Detectors == nil {
		s.Detectors = fresh.Detectors
	}
	if s.Filters == nil {
		s.Filters = fresh.Filters
	}
	if s.Sets == nil {
		s.Sets = fresh.Sets
	}
	if s.Members == nil {
		s.Members = fresh.Members
	}
	if s.Invitations == nil {
		s.Invitations = fresh.Invitations
	}
	if s.Destinations == nil {
		s.Destinations = fresh.Destinations
	}
	if s.Tags == nil {
		s.Tags = fresh.Tags
	}
	if s.Accounts == nil {
		s.Accounts = fresh.Accounts
	}
	return s, nil
}

// save writes the state to the store. Callers hold no lock.
func (s *Service) save(ctx context.Context) error {
	s.state.mu.Lock()
	b, err := json.Marshal(s.state)
	s.state.mu.Unlock()
	if err != nil {
		return err
	}
	if _, err := s.store.Commit(ctx, nil, map[string][]byte{stateKey: b}); err != nil {
		return fmt.Errorf("saving GuardDuty API state: %w", err)
	}
	return nil
}

// seedAccounts records the config's accounts and the memberships config
// declares (an account with an administrator starts as its Enabled member).
func (st *State) seedAccounts(accts []Account, now time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	ts := finding.FormatTime(now)
	if st.Seeded == "" {
		st.Seeded = ts
	}
	for _, a := range accts {
		st.Accounts[a.ID] = true
	}
	for _, a := range accts {
		if a.Administrator == "" {
			continue
		}
		ms := st.Members[a.Administrator]
		if ms == nil {
			ms = map[string]*Member{}
			st.Members[a.Administrator] = ms
		}
		if _, ok := ms[a.ID]; !ok {
			ms[a.ID] = &Member{AccountID: a.ID, AdministratorID: a.Administrator, RelationshipStatus: statusEnabled, InvitedAt: ts, UpdatedAt: ts, Email: a.ID + "@vigil.invalid"}
		}
	}
}

// detectorOf returns the account's detector in region, or nil when it was
// deleted or the account is unknown. Callers hold st.mu.
func (st *State) detectorOf(account, region string) *Detector {
	if !st.Accounts[account] {
		return nil
	}
	key := account + "/" + region
	d := st.Detectors[key]
	if d == nil {
		d = &Detector{ID: finding.DetectorID(account, region), Account: account, Region: region, Status: "ENABLED",
			FindingPublishingFrequency: "SIX_HOURS", CreatedAt: st.Seeded, UpdatedAt: st.Seeded}
		st.Detectors[key] = d
	}
	if d.Deleted {
		return nil
	}
	return d
}

// membersOf returns the members of an administrator. Callers hold st.mu.
func (st *State) membersOf(admin string) map[string]*Member {
	return st.Members[admin]
}

// administratorOf returns the account's administrator when the account is
// its Enabled member. Callers hold st.mu.
func (st *State) administratorOf(account string) string {
	for admin, ms := range st.Members {
		if m, ok := ms[account]; ok && m.RelationshipStatus == statusEnabled {
			return admin
		}
	}
	return ""
}
