package guardduty

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/vigilsec/vigil/finding"
)

var publishingFrequencies = []string{"FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"}

func validFrequency(f string) bool {
	for _, x := range publishingFrequencies {
		if f == x {
			return true
		}
	}
	return false
}

type createDetectorInput struct {
	Enable                     *bool             `json:"enable"`
	ClientToken                string            `json:"clientToken"`
	FindingPublishingFrequency string            `json:"findingPublishingFrequency"`
	DataSources                json.RawMessage   `json:"dataSources"`
	Features                   json.RawMessage   `json:"features"`
	Tags                       map[string]string `json:"tags"`
}

func (s *Service) createDetector(ctx context.Context, c caller, r *http.Request) (any, error) {
	var in createDetectorInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.Enable == nil {
		return nil, badRequest("1 validation error detected: Value null at 'enable' failed to satisfy constraint: Member must not be null")
	}
	if in.FindingPublishingFrequency != "" && !validFrequency(in.FindingPublishingFrequency) {
		return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: findingPublishingFrequency must be one of FIFTEEN_MINUTES, ONE_HOUR, SIX_HOURS.")
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.Lock()
	if !st.Accounts[c.Account] {
		st.mu.Unlock()
		return nil, accessDenied("account %s is not configured", c.Account)
	}
	key := c.Account + "/" + c.Region
	if d := st.Detectors[key]; d == nil || !d.Deleted {
		if d := st.detectorOf(c.Account, c.Region); d != nil {
			st.mu.Unlock()
			return nil, badRequest("The request is rejected because a detector already exists for the current account.")
		}
	}
	now := s.nowString()
	d := &Detector{ID: finding.DetectorID(c.Account, c.Region), Account: c.Account, Region: c.Region, Status: "ENABLED",
		CreatedAt: now, UpdatedAt: now, FindingPublishingFrequency: "SIX_HOURS", DataSources: in.DataSources, Features: in.Features}
	if !*in.Enable {
		d.Status = "DISABLED"
	}
	if in.FindingPublishingFrequency != "" {
		d.FindingPublishingFrequency = in.FindingPublishingFrequency
	}
	st.Detectors[key] = d
	if len(in.Tags) > 0 {
		st.Tags[d.arn()] = in.Tags
	}
	st.mu.Unlock()
	if err := s.save(ctx); err != nil {
		return nil, err
	}
	return map[string]any{"detectorId": d.ID, "unprocessedDataSources": map[string]any{}}, nil
}

// pageParams reads ?maxResults and ?nextToken for list operations whose
// results fit in memory; the token is the offset.
func pageParams(r *http.Request, max int) (limit, offset int, err error) {
	limit = max
	if v := r.URL.Query().Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > max {
			return 0, 0, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: maxResults must be between 1 and %d.", max)
		}
		limit = n
	}
	if v := r.URL.Query().Get("nextToken"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, badRequest("The request is rejected because the nextToken is invalid.")
		}
		offset = n
	}
	return limit, offset, nil
}

// page slices items for a list operation and returns the next token.
func page[T any](items []T, limit, offset int) ([]T, string) {
	if offset > len(items) {
		offset = len(items)
	}
	end := min(offset+limit, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	out := items[offset:end]
	if out == nil {
		out = []T{}
	}
	return out, next
}

func (s *Service) listDetectors(ctx context.Context, c caller, r *http.Request) (any, error) {
	limit, offset, err := pageParams(r, 50)
	if err != nil {
		return nil, err
	}
	var ids []string
	s.state.mu.Lock()
	if d := s.state.detectorOf(c.Account, c.Region); d != nil {
		ids = append(ids, d.ID)
	}
	s.state.mu.Unlock()
	ids, next := page(ids, limit, offset)
	out := map[string]any{"detectorIds": ids}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

func (s *Service) getDetector(ctx context.Context, c caller, r *http.Request) (any, error) {
	d, err := s.detector(c, r)
	if err != nil {
		return nil, err
	}
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	upd, _ := finding.ParseTime(d.UpdatedAt)
	updSecs := float64(upd.UnixMilli()) / 1000 // a timestamp member: epoch seconds on the wire
	on := map[string]string{"status": "ENABLED"}
	if d.Status != "ENABLED" {
		on = map[string]string{"status": "DISABLED"}
	}
	out := map[string]any{
		"createdAt":                  d.CreatedAt,
		"findingPublishingFrequency": d.FindingPublishingFrequency,
		"serviceRole":                "arn:aws:iam::" + d.Account + ":role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty",
		"status":                     d.Status,
		"updatedAt":                  d.UpdatedAt,
		"dataSources": map[string]any{
			"cloudTrail": on, "dnsLogs": on, "flowLogs": on, "s3Logs": on,
		},
		"features": []map[string]any{
			{"name": "CLOUD_TRAIL", "status": d.Status, "updatedAt": updSecs},
			{"name": "DNS_LOGS", "status": d.Status, "updatedAt": updSecs},
			{"name": "FLOW_LOGS", "status": d.Status, "updatedAt": updSecs},
			{"name": "S3_DATA_EVENTS", "status": d.Status, "updatedAt": updSecs},
		},
		"tags": s.state.tagsOf(d.arn()),
	}
	return out, nil
}

func (s *Service) updateDetector(ctx context.Context, c caller, r *http.Request) (any, error) {
	d, err := s.detector(c, r)
	if err != nil {
		return nil, err
	}
	var in createDetectorInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.FindingPublishingFrequency != "" && !validFrequency(in.FindingPublishingFrequency) {
		return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: findingPublishingFrequency must be one of FIFTEEN_MINUTES, ONE_HOUR, SIX_HOURS.")
	}
	s.state.mu.Lock()
	if in.Enable != nil {
		d.Status = "ENABLED"
		if !*in.Enable {
			d.Status = "DISABLED"
		}
	}
	if in.FindingPublishingFrequency != "" {
		d.FindingPublishingFrequency = in.FindingPublishingFrequency
	}
	if len(in.DataSources) > 0 {
		d.DataSources = in.DataSources
	}
	if len(in.Features) > 0 {
		d.Features = in.Features
	}
	d.UpdatedAt = s.nowString()
	s.state.mu.Unlock()
	return struct{}{}, s.save(ctx)
}

func (s *Service) deleteDetector(ctx context.Context, c caller, r *http.Request) (any, error) {
	d, err := s.detector(c, r)
	if err != nil {
		return nil, err
	}
	s.state.mu.Lock()
	d.Deleted = true
	d.UpdatedAt = s.nowString()
	delete(s.state.Filters, d.ID)
	for id, set := range s.state.Sets {
		if set.DetectorID == d.ID {
			delete(s.state.Sets, id)
			delete(s.state.Tags, set.arn())
		}
	}
	for id, dst := range s.state.Destinations {
		if dst.DetectorID == d.ID {
			delete(s.state.Destinations, id)
		}
	}
	delete(s.state.Tags, d.arn())
	s.state.mu.Unlock()
	if err := s.save(ctx); err != nil {
		return nil, err
	}
	s.rebuildLists(ctx)
	return struct{}{}, nil
}

// DetectorEnabled reports whether findings of account in region are
// detected: false once its detector is disabled or deleted.
func (s *Service) DetectorEnabled(account, region string) bool {
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	if !s.state.Accounts[account] {
		return true // accounts not in config: the operator's logs, always on
	}
	d := s.state.detectorOf(account, region)
	return d != nil && d.Status == "ENABLED"
}
