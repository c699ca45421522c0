package guardduty

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"sort"

	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/export"
	"github.com/vigilsec/vigil/intel"
)

// listKind is IP sets (trusted lists) or threat intel sets.
type listKind struct {
	kind    string // "ipset" or "threatintelset"
	path    string
	op      string // IPSet, ThreatIntelSet
	idField string // ipSetId, threatIntelSetId
	idsName string // ipSetIds, threatIntelSetIds
	max     int    // per account and region
}

var (
	ipSets          = listKind{kind: "ipset", path: "ipset", op: "IPSet", idField: "ipSetId", idsName: "ipSetIds", max: 1}
	threatIntelSets = listKind{kind: "threatintelset", path: "threatintelset", op: "ThreatIntelSet", idField: "threatIntelSetId", idsName: "threatIntelSetIds", max: 6}
)

// ListSet is an IP set or a threat intel set.
type ListSet struct {
	ID                  string `json:"id"`
	Kind                string `json:"kind"`
	DetectorID          string `json:"detectorId"`
	Account             string `json:"account"`
	Region              string `json:"region"`
	Name                string `json:"name"`
	Format              string `json:"format"`
	Location            string `json:"location"`
	Active              bool   `json:"active"`
	Status              string `json:"status"` // ACTIVE, INACTIVE, ERROR
	Error               string `json:"error,omitempty"`
	ExpectedBucketOwner string `json:"expectedBucketOwner,omitempty"`
	CreatedAt           string `json:"createdAt"`
	UpdatedAt           string `json:"updatedAt"`
	ManagedBy           string `json:"managedBy,omitempty"`
	Entries             int    `json:"entries"`
}

func (l *ListSet) arn() string {
	return "arn:aws:guardduty:" + l.Region + ":" + l.Account + ":detector/" + l.DetectorID + "/" + l.Kind + "/" + l.ID
}

type setInput struct {
	Name                string            `json:"name"`
	Format              string            `json:"format"`
	Location            string            `json:"location"`
	Activate            *bool             `json:"activate"`
	ClientToken         string            `json:"clientToken"`
	Tags                map[string]string `json:"tags"`
	ExpectedBucketOwner string            `json:"expectedBucketOwner"`
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Service) createSet(k listKind) handlerFunc {
	return func(ctx context.Context, c caller, r *http.Request) (any, error) {
		d, err := s.detector(c, r)
		if err != nil {
			return nil, err
		}
		var in setInput
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		switch {
		case in.Name == "" || len(in.Name) > 300:
			return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: name must be 1 to 300 characters.")
		case in.Location == "" || len(in.Location) > 300:
			return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: location must be 1 to 300 characters.")
		case in.Activate == nil:
			return nil, badRequest("1 validation error detected: Value null at 'activate' failed to satisfy constraint: Member must not be null")
		}
		if _, err := intel.FormatFromGuardDuty(in.Format); err != nil {
			return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: %v", err)
		}
		if err := validTags(in.Tags); err != nil {
			return nil, err
		}
		if s.isMember(c.Account) {
			return nil, badRequest("The request is rejected because a member account cannot manage lists; its administrator's lists apply to it.")
		}
		st := s.state
		st.mu.Lock()
		n := 0
		for _, l := range st.Sets {
			if l.DetectorID == d.ID && l.Kind == k.kind {
				n++
				if l.Name == in.Name {
					st.mu.Unlock()
					return nil, badRequest("The request is rejected because a %s named %s already exists.", k.op, in.Name)
				}
			}
		}
		if n >= k.max {
			st.mu.Unlock()
			return nil, badRequest("The request is rejected because the number of %ss has reached the limit of %d.", k.op, k.max)
		}
		now := s.nowString()
		l := &ListSet{ID: newID(), Kind: k.kind, DetectorID: d.ID, Account: c.Account, Region: c.Region, Name: in.Name,
			Format: in.Format, Location: in.Location, Active: *in.Activate, Status: "INACTIVE", ExpectedBucketOwner: in.ExpectedBucketOwner, CreatedAt: now, UpdatedAt: now}
		st.Sets[l.ID] = l
		if len(in.Tags) > 0 {
			st.Tags[l.arn()] = in.Tags
		}
		st.mu.Unlock()
		s.rebuildLists(ctx)
		if err := s.save(ctx); err != nil {
			return nil, err
		}
		return map[string]string{k.idField: l.ID}, nil
	}
}

func (s *Service) setOf(k listKind, d *Detector, r *http.Request) (*ListSet, error) {
	id := r.PathValue("SetId")
	l := s.state.Sets[id]
	if l == nil || l.DetectorID != d.ID || l.Kind != k.kind {
		return nil, badRequest("The request is rejected because the input %s %s is not owned by the current account or does not exist.", k.idField, id)
	}
	return l, nil
}

func (s *Service) getSet(k listKind) handlerFunc {
	return func(ctx context.Context, c caller, r *http.Request) (any, error) {
		d, err := s.detector(c, r)
		if err != nil {
			return nil, err
		}
		s.state.mu.Lock()
		defer s.state.mu.Unlock()
		l, err := s.setOf(k, d, r)
		if err != nil {
			return nil, err
		}
		out := map[string]any{"name": l.Name, "format": l.Format, "location": l.Location, "status": l.Status, "tags": managedTags(s.state.tagsOf(l.arn()), l.ManagedBy)}
		if l.ExpectedBucketOwner != "" {
			out["expectedBucketOwner"] = l.ExpectedBucketOwner
		}
		return out, nil
	}
}

func (s *Service) listSets(k listKind) handlerFunc {
	return func(ctx context.Context, c caller, r *http.Request) (any, error) {
		d, err := s.detector(c, r)
		if err != nil {
			return nil, err
		}
		limit, offset, err := pageParams(r, 50)
		if err != nil {
			return nil, err
		}
		s.state.mu.Lock()
		var ls []*ListSet
		// A member sees its administrator's lists, as in GuardDuty.
		owner := d.ID
		if admin := s.state.administratorOf(c.Account); admin != "" {
			if ad := s.state.detectorOf(admin, c.Region); ad != nil {
				owner = ad.ID
			}
		}
		for _, l := range s.state.Sets {
			if l.DetectorID == owner && l.Kind == k.kind {
				ls = append(ls, l)
			}
		}
		s.state.mu.Unlock()
		sort.Slice(ls, func(i, j int) bool { return ls[i].CreatedAt+ls[i].ID < ls[j].CreatedAt+ls[j].ID })
		ids := make([]string, len(ls))
		for i, l := range ls {
			ids[i] = l.ID
		}
		ids, next := page(ids, limit, offset)
		out := map[string]any{k.idsName: ids}
		if next != "" {
			out["nextToken"] = next
		}
		return out, nil
	}
}

func (s *Service) updateSet(k listKind) handlerFunc {
	return func(ctx context.Context, c caller, r *http.Request) (any, error) {
		d, err := s.detector(c, r)
		if err != nil {
			return nil, err
		}
		var in setInput
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		s.state.mu.Lock()
		l, err := s.setOf(k, d, r)
		if err != nil {
			s.state.mu.Unlock()
			return nil, err
		}
		if in.Name != "" {
			l.Name = in.Name
		}
		if in.Location != "" {
			l.Location = in.Location
		}
		if in.Activate != nil {
			l.Active = *in.Activate
		}
		if in.ExpectedBucketOwner != "" {
			l.ExpectedBucketOwner = in.ExpectedBucketOwner
		}
		l.UpdatedAt = s.nowString()
		s.state.mu.Unlock()
		// Updating a list re-reads it from its location, as GuardDuty's
		// update-and-reactivate does.
		s.rebuildLists(ctx)
		return struct{}{}, s.save(ctx)
	}
}

func (s *Service) deleteSet(k listKind) handlerFunc {
	return func(ctx context.Context, c caller, r *http.Request) (any, error) {
		d, err := s.detector(c, r)
		if err != nil {
			return nil, err
		}
		s.state.mu.Lock()
		l, err := s.setOf(k, d, r)
		if err != nil {
			s.state.mu.Unlock()
			return nil, err
		}
		delete(s.state.Sets, l.ID)
		delete(s.state.Tags, l.arn())
		s.state.mu.Unlock()
		s.rebuildLists(ctx)
		return struct{}{}, s.save(ctx)
	}
}

// rebuildLists reads every active list from its location and hands the
// detectors, per account, the threat lists and trusted lists that apply to
// it: its own and its administrator's. Detection changes at once, without a
// restart. A list that cannot be read gets status ERROR.
func (s *Service) rebuildLists(ctx context.Context) {
	s.state.mu.Lock()
	sets := make([]*ListSet, 0, len(s.state.Sets))
	for _, l := range s.state.Sets {
		sets = append(sets, l)
	}
	accounts := make([]string, 0, len(s.state.Accounts))
	admins := map[string]string{}
	for a := range s.state.Accounts {
		accounts = append(accounts, a)
		admins[a] = s.state.administratorOf(a)
	}
	s.state.mu.Unlock()
	sort.Slice(sets, func(i, j int) bool { return sets[i].CreatedAt+sets[i].ID < sets[j].CreatedAt+sets[j].ID })

	type loaded struct {
		l       *ListSet
		content []byte
	}
	var ok []loaded
	for _, l := range sets {
		status, errText := "INACTIVE", ""
		var content []byte
		if l.Active {
			b, err := readList(ctx, l.Location)
			if err != nil {
				status, errText = "ERROR", err.Error()
			} else {
				content, status = b, "ACTIVE"
			}
		}
		s.state.mu.Lock()
		l.Status, l.Error = status, errText
		s.state.mu.Unlock()
		if status == "ACTIVE" {
			ok = append(ok, loaded{l, content})
		}
	}
	lists := map[string]detect.Lists{}
	for _, a := range accounts {
		owners := []string{a}
		if admins[a] != "" {
			owners = append(owners, admins[a])
		}
		threat, trusted := intel.NewBuilder(), intel.NewBuilder()
		nThreat, nTrusted := 0, 0
		for _, x := range ok {
			if !contains(owners, x.l.Account) {
				continue
			}
			format, _ := intel.FormatFromGuardDuty(x.l.Format)
			spec := intel.ListSpec{Name: x.l.Name, Format: format, Path: x.l.Location}
			b := threat
			if x.l.Kind == "ipset" {
				spec.Category, b = intel.Trusted, trusted
			} else {
				spec.Category = intel.Custom
			}
			stats, err := b.AddList(spec, bytesReader(x.content))
			s.state.mu.Lock()
			if err != nil {
				x.l.Status, x.l.Error = "ERROR", err.Error()
			} else {
				x.l.Entries = stats.Entries
			}
			s.state.mu.Unlock()
			if err != nil {
				continue
			}
			if x.l.Kind == "ipset" {
				nTrusted++
			} else {
				nThreat++
			}
		}
		var ls detect.Lists
		if nThreat > 0 {
			ls.Intel = threat.Build()
		}
		if nTrusted > 0 {
			ls.Trusted = trusted.Build()
		}
		if ls.Intel != nil || ls.Trusted != nil {
			lists[a] = ls
		}
	}
	if s.env != nil {
		s.env.SetAccountLists(lists)
	}
	s.log.Info("lists rebuilt", "sets", len(sets), "accounts", len(lists))
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// readList reads a list from a path, a file:// or http(s) URL, or S3
// (s3:// and GuardDuty's S3 https URL forms). S3 goes through the AWS SDK
// with the endpoint and credentials of the environment, as for the AWS CLI:
// AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL names an S3-compatible server.
func readList(ctx context.Context, location string) ([]byte, error) {
	o := &intel.Opener{S3: func(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
		return export.S3Reader(s3Client(""))(ctx, bucket, key)
	}}
	rc, err := o.Open(ctx, location)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := readAllLimit(rc, 35<<20)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", location, err)
	}
	return b, nil
}
