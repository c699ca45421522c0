package guardduty

import (
	"context"
	"net/http"
	"regexp"
	"sort"

	"github.com/vigilsec/vigil/criteria"
	"github.com/vigilsec/vigil/finding"
)

// Filter is a saved filter; with action ARCHIVE it is a suppression rule.
type Filter struct {
	Name        string             `json:"name"`
	Description string             `json:"description,omitempty"`
	Action      string             `json:"action"`
	Rank        int                `json:"rank"`
	Criteria    *criteria.Criteria `json:"findingCriteria"`
	CreatedAt   string             `json:"createdAt"`
	UpdatedAt   string             `json:"updatedAt"`
	Version     int                `json:"version"`
	// ManagedBy is "config" for filters declared in the config file; the
	// API may read them but changes are overwritten at the next start.
	ManagedBy string `json:"managedBy,omitempty"`
	Account   string `json:"account"`
	Region    string `json:"region"`
}

func (f *Filter) arn(detectorID string) string {
	return "arn:aws:guardduty:" + f.Region + ":" + f.Account + ":detector/" + detectorID + "/filter/" + f.Name
}

var filterName = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,64}$`)

type filterInput struct {
	Name            string             `json:"name"`
	Description     *string            `json:"description"`
	Action          string             `json:"action"`
	Rank            *int               `json:"rank"`
	FindingCriteria *criteria.Criteria `json:"findingCriteria"`
	ClientToken     string             `json:"clientToken"`
	Tags            map[string]string  `json:"tags"`
}

func (in *filterInput) check(create bool) error {
	if create && !filterName.MatchString(in.Name) {
		return badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: name must be 3 to 64 letters, digits, '.', '_' or '-'.")
	}
	if in.Description != nil && len(*in.Description) > 512 {
		return badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: description is longer than 512 characters.")
	}
	switch in.Action {
	case "", "NOOP", "ARCHIVE":
	default:
		return badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: action must be NOOP or ARCHIVE.")
	}
	if in.Rank != nil && (*in.Rank < 1 || *in.Rank > 100) {
		return badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: rank must be between 1 and 100.")
	}
	if create && (in.FindingCriteria == nil || len(in.FindingCriteria.Criterion) == 0) {
		return badRequest("1 validation error detected: Value null at 'findingCriteria' failed to satisfy constraint: Member must not be null")
	}
	if in.FindingCriteria != nil {
		if err := in.FindingCriteria.Validate(true); err != nil {
			return badRequest("%v", err)
		}
	}
	return validTags(in.Tags)
}

func (s *Service) createFilter(ctx context.Context, c caller, r *http.Request) (any, error) {
	d, err := s.detector(c, r)
	if err != nil {
		return nil, err
	}
	var in filterInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := in.check(true); err != nil {
		return nil, err
	}
	if in.Action == "ARCHIVE" && s.isMember(c.Account) {
		return nil, badRequest("The request is rejected because a member account cannot create suppression rules; its administrator can.")
	}
	st := s.state
	st.mu.Lock()
	fs := st.Filters[d.ID]
	if fs == nil {
		fs = map[string]*Filter{}
		st.Filters[d.ID] = fs
	}
	if _, ok := fs[in.Name]; ok {
		st.mu.Unlock()
		return nil, badRequest("The request is rejected because the filter %s already exists.", in.Name)
	}
	if len(fs) >= 100 {
		st.mu.Unlock()
		return nil, badRequest("The request is rejected because the number of filters has reached the limit of 100.")
	}
	now := s.nowString()
	f := &Filter{Name: in.Name, Action: in.Action, Rank: len(fs) + 1, Criteria: in.FindingCriteria, CreatedAt: now, UpdatedAt: now, Version: 1, Account: c.Account, Region: c.Region}
	if f.Action == "" {
		f.Action = "NOOP"
	}
	if in.Description != nil {
		f.Description = *in.Description
	}
	if in.Rank != nil {
		f.Rank = *in.Rank
	}
	fs[in.Name] = f
	if len(in.Tags) > 0 {
		st.Tags[f.arn(d.ID)] = in.Tags
	}
	st.mu.Unlock()
	if err := s.save(ctx); err != nil {
		return nil, err
	}
	return map[string]string{"name": f.Name}, nil
}

// ManagedByTag marks, in the tags the API returns, a filter or list that
// the config file declares: changes made through the API are overwritten
// at the next start.
const ManagedByTag = "vigil:managed-by"

func managedTags(tags map[string]string, managedBy string) map[string]string {
	if managedBy != "" {
		tags[ManagedByTag] = managedBy
	}
	return tags
}

func (s *Service) filterOf(d *Detector, r *http.Request) (*Filter, error) {
	name := r.PathValue("FilterName")
	f := s.state.Filters[d.ID][name]
	if f == nil {
		return nil, badRequest("The request is rejected because the filter %s does not exist.", name)
	}
	return f, nil
}

func (s *Service) getFilter(ctx context.Context, c caller, r *http.Request) (any, error) {
	d, err := s.detector(c, r)
	if err != nil {
		return nil, err
	}
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	f, err := s.filterOf(d, r)
	if err != nil {
		return nil, err
	}
	created, _ := finding.ParseTime(f.CreatedAt)
	updated, _ := finding.ParseTime(f.UpdatedAt)
	out := map[string]any{
		"name": f.Name, "action": f.Action, "rank": f.Rank, "findingCriteria": f.Criteria,
		"tags": managedTags(s.state.tagsOf(f.arn(d.ID)), f.ManagedBy), "version": f.Version,
		// Timestamps, which rest-json writes as epoch seconds.
		"createdAt": float64(created.UnixMilli()) / 1000, "updatedAt": float64(updated.UnixMilli()) / 1000,
	}
	if f.Description != "" {
		out["description"] = f.Description
	}
	return out, nil
}

func (s *Service) listFilters(ctx context.Context, c caller, r *http.Request) (any, error) {
	d, err := s.detector(c, r)
	if err != nil {
		return nil, err
	}
	limit, offset, err := pageParams(r, 50)
	if err != nil {
		return nil, err
	}
	s.state.mu.Lock()
	names := make([]string, 0, len(s.state.Filters[d.ID]))
	for _, f := range s.sortedFilters(d.ID) {
		names = append(names, f.Name)
	}
	s.state.mu.Unlock()
	names, next := page(names, limit, offset)
	out := map[string]any{"filterNames": names}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

func (s *Service) updateFilter(ctx context.Context, c caller, r *http.Request) (any, error) {
	d, err := s.detector(c, r)
	if err != nil {
		return nil, err
	}
	var in filterInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := in.check(false); err != nil {
		return nil, err
	}
	if in.Action == "ARCHIVE" && s.isMember(c.Account) {
		return nil, badRequest("The request is rejected because a member account cannot create suppression rules; its administrator can.")
	}
	s.state.mu.Lock()
	f, err := s.filterOf(d, r)
	if err != nil {
		s.state.mu.Unlock()
		return nil, err
	}
	if in.Description != nil {
		f.Description = *in.Description
	}
	if in.Action != "" {
		f.Action = in.Action
	}
	if in.Rank != nil {
		f.Rank = *in.Rank
	}
	if in.FindingCriteria != nil && len(in.FindingCriteria.Criterion) > 0 {
		f.Criteria = in.FindingCriteria
	}
	f.UpdatedAt = s.nowString()
	f.Version++
	name := f.Name
	s.state.mu.Unlock()
	if err := s.save(ctx); err != nil {
		return nil, err
	}
	return map[string]string{"name": name}, nil
}

func (s *Service) deleteFilter(ctx context.Context, c caller, r *http.Request) (any, error) {
	d, err := s.detector(c, r)
	if err != nil {
		return nil, err
	}
	s.state.mu.Lock()
	f, err := s.filterOf(d, r)
	if err != nil {
		s.state.mu.Unlock()
		return nil, err
	}
	delete(s.state.Filters[d.ID], f.Name)
	delete(s.state.Tags, f.arn(d.ID))
	s.state.mu.Unlock()
	return struct{}{}, s.save(ctx)
}

// sortedFilters returns a detector's filters by rank, then name. Callers
// hold the state lock.
func (s *Service) sortedFilters(detectorID string) []*Filter {
	var out []*Filter
	for _, f := range s.state.Filters[detectorID] {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Rank != out[j].Rank {
			return out[i].Rank < out[j].Rank
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Suppress applies suppression rules to a finding as it is created or
// updated: when an ARCHIVE filter of the finding's account, or of its
// administrator, matches (in rank order), the finding is archived by rule.
// Archived findings are stored but not published.
func (s *Service) Suppress(f *finding.Finding) {
	if f.Service.Archived {
		return
	}
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	accts := []string{f.AccountID}
	if admin := s.state.administratorOf(f.AccountID); admin != "" {
		accts = append(accts, admin)
	}
	for _, a := range accts {
		for _, flt := range s.sortedFilters(finding.DetectorID(a, f.Region)) {
			if flt.Action == "ARCHIVE" && flt.Criteria != nil && flt.Criteria.Match(f) {
				f.Service.Archived = true
				return
			}
		}
	}
}
