package guardduty

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/criteria"
	"github.com/vigilsec/vigil/finding"
)

// ApplyConfig creates or updates the filters and lists the config declares,
// marked as managed by config; ones that config managed before and no
// longer declares are removed. Errors name the config entry.
func (s *Service) ApplyConfig(ctx context.Context, gd config.GuardDuty) error {
	now := s.nowString()
	st := s.state
	st.mu.Lock()
	wantFilters := map[string]bool{}
	for i, cf := range gd.Filters {
		b, err := json.Marshal(cf.Criteria)
		if err != nil {
			st.mu.Unlock()
			return fmt.Errorf("guardduty.filters[%d] (line %d): finding_criteria: %w", i, cf.Line, err)
		}
		var crit criteria.Criteria
		if err := json.Unmarshal(b, &crit); err != nil {
			st.mu.Unlock()
			return fmt.Errorf("guardduty.filters[%d] (line %d): finding_criteria: %w", i, cf.Line, err)
		}
		if err := crit.Validate(true); err != nil {
			st.mu.Unlock()
			return fmt.Errorf("guardduty.filters[%d] (line %d): finding_criteria: %w", i, cf.Line, err)
		}
		det := finding.DetectorID(cf.Account, cf.Region)
		fs := st.Filters[det]
		if fs == nil {
			fs = map[string]*Filter{}
			st.Filters[det] = fs
		}
		wantFilters[det+"/"+cf.Name] = true
		f := fs[cf.Name]
		if f == nil {
			f = &Filter{Name: cf.Name, CreatedAt: now, Account: cf.Account, Region: cf.Region}
			fs[cf.Name] = f
		}
		f.Description, f.Action, f.Rank, f.Criteria, f.UpdatedAt, f.ManagedBy = cf.Description, cf.Action, cf.Rank, &crit, now, "config"
		f.Version++
		if f.Action == "" {
			f.Action = "NOOP"
		}
		if f.Rank == 0 {
			f.Rank = i + 1
		}
	}
	for det, fs := range st.Filters {
		for name, f := range fs {
			if f.ManagedBy == "config" && !wantFilters[det+"/"+name] {
				delete(fs, name)
			}
		}
	}
	wantSets := map[string]bool{}
	apply := func(kind string, ls []config.GDListSet) {
		for _, cl := range ls {
			det := finding.DetectorID(cl.Account, cl.Region)
			var l *ListSet
			for _, x := range st.Sets {
				if x.DetectorID == det && x.Kind == kind && x.Name == cl.Name {
					l = x
				}
			}
			if l == nil {
				l = &ListSet{ID: finding.ID("config-"+kind, det, cl.Name), Kind: kind, DetectorID: det, Account: cl.Account, Region: cl.Region, Name: cl.Name, CreatedAt: now}
				st.Sets[l.ID] = l
			}
			l.Format, l.Location, l.UpdatedAt, l.ManagedBy = cl.Format, cl.Location, now, "config"
			l.Active = cl.Activate == nil || *cl.Activate
			wantSets[l.ID] = true
		}
	}
	apply("threatintelset", gd.ThreatIntelSets)
	apply("ipset", gd.IPSets)
	for id, l := range st.Sets {
		if l.ManagedBy == "config" && !wantSets[id] {
			delete(st.Sets, id)
		}
	}
	st.mu.Unlock()
	s.rebuildLists(ctx)
	return s.save(ctx)
}
