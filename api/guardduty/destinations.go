package guardduty

import (
	"context"
	"net/http"
	"sort"
	"strings"

	"github.com/vigilsec/vigil/export"
)

// Publishing destinations (findings export): the records only. Each
// detector has at most one destination, of type S3, whose destinationArn is
// an S3 bucket ARN (arn:aws:s3:::bucket/folder/) or, in Vigil, a local
// directory (file:///abs/dir). GuardDuty requires a KMS key for S3
// destinations; Vigil stores it and reports it back.

const destinationPublishing = "PUBLISHING"

func (s *Service) routeDestinations(route func(pattern, name string, status int, h handlerFunc)) {
	route("POST /detector/{DetectorId}/publishingDestination", "CreatePublishingDestination", 200, s.createDestination)
	route("GET /detector/{DetectorId}/publishingDestination", "ListPublishingDestinations", 200, s.listDestinations)
	route("GET /detector/{DetectorId}/publishingDestination/{DestinationId}", "DescribePublishingDestination", 200, s.describeDestination)
	route("POST /detector/{DetectorId}/publishingDestination/{DestinationId}", "UpdatePublishingDestination", 200, s.updateDestination)
	route("DELETE /detector/{DetectorId}/publishingDestination/{DestinationId}", "DeletePublishingDestination", 200, s.deleteDestination)
}

func (x *Destination) arn() string {
	return "arn:aws:guardduty:" + x.Region + ":" + x.Account + ":detector/" + x.DetectorID + "/publishingDestination/" + x.ID
}

type destinationProperties struct {
	DestinationArn *string `json:"destinationArn"`
	KmsKeyArn      *string `json:"kmsKeyArn"`
}

// checkDestinationArn validates a destinationArn.
func checkDestinationArn(arn string) error {
	if arn == "" {
		return badRequest("1 validation error detected: Value null at 'destinationProperties.destinationArn' failed to satisfy constraint: Member must not be null")
	}
	if _, _, err := export.ParseDestinationArn(arn); err != nil {
		return badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: %v", err)
	}
	return nil
}

// checkKmsKeyArn validates a kmsKeyArn: required for S3 destinations (as
// GuardDuty requires one), optional for local directories.
func checkKmsKeyArn(key, destinationArn string) error {
	if key == "" {
		if strings.HasPrefix(destinationArn, "file:") {
			return nil
		}
		return badRequest("1 validation error detected: Value null at 'destinationProperties.kmsKeyArn' failed to satisfy constraint: Member must not be null")
	}
	parts := strings.SplitN(key, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "kms" || parts[5] == "" {
		return badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: kmsKeyArn %q is not a KMS key ARN.", key)
	}
	return nil
}

func (s *Service) createDestination(ctx context.Context, c caller, r *http.Request) (any, error) {
	d, err := s.detector(c, r)
	if err != nil {
		return nil, err
	}
	var in struct {
		DestinationType       string                 `json:"destinationType"`
		DestinationProperties *destinationProperties `json:"destinationProperties"`
		ClientToken           string                 `json:"clientToken"`
		Tags                  map[string]string      `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	switch in.DestinationType {
	case "":
		return nil, badRequest("1 validation error detected: Value null at 'destinationType' failed to satisfy constraint: Member must not be null")
	case "S3":
	default:
		return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: destinationType must be S3.")
	}
	if in.DestinationProperties == nil {
		return nil, badRequest("1 validation error detected: Value null at 'destinationProperties' failed to satisfy constraint: Member must not be null")
	}
	var dest, key string
	if p := in.DestinationProperties.DestinationArn; p != nil {
		dest = *p
	}
	if p := in.DestinationProperties.KmsKeyArn; p != nil {
		key = *p
	}
	if err := checkDestinationArn(dest); err != nil {
		return nil, err
	}
	if err := checkKmsKeyArn(key, dest); err != nil {
		return nil, err
	}
	if len(in.ClientToken) > 64 {
		return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: clientToken is longer than 64 characters.")
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.Lock()
	for _, x := range st.Destinations {
		if x.DetectorID == d.ID {
			st.mu.Unlock()
			return nil, badRequest("The request is rejected because the detector already has a publishing destination (%s); a detector can have only one.", x.ID)
		}
	}
	x := &Destination{ID: newID(), DetectorID: d.ID, Account: c.Account, Region: c.Region, DestinationType: in.DestinationType,
		DestinationArn: dest, KmsKeyArn: key, Status: destinationPublishing}
	st.Destinations[x.ID] = x
	if len(in.Tags) > 0 {
		st.Tags[x.arn()] = in.Tags
	}
	st.mu.Unlock()
	if err := s.save(ctx); err != nil {
		return nil, err
	}
	return map[string]string{"destinationId": x.ID}, nil
}

// destinationOf resolves {DestinationId}: a destination of detector d.
// Callers hold st.mu.
func (s *Service) destinationOf(d *Detector, r *http.Request) (*Destination, error) {
	id := r.PathValue("DestinationId")
	x := s.state.Destinations[id]
	if x == nil || x.DetectorID != d.ID {
		return nil, badRequest("The request is rejected because the input destinationId %s is not owned by the current account or does not exist.", id)
	}
	return x, nil
}

func (s *Service) describeDestination(ctx context.Context, c caller, r *http.Request) (any, error) {
	d, err := s.detector(c, r)
	if err != nil {
		return nil, err
	}
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	x, err := s.destinationOf(d, r)
	if err != nil {
		return nil, err
	}
	props := map[string]string{"destinationArn": x.DestinationArn}
	if x.KmsKeyArn != "" {
		props["kmsKeyArn"] = x.KmsKeyArn
	}
	status := x.Status
	if status == "" {
		status = destinationPublishing
	}
	return map[string]any{
		"destinationId":                   x.ID,
		"destinationType":                 x.DestinationType,
		"status":                          status,
		"publishingFailureStartTimestamp": x.PublishingFailureStartTimestamp,
		"destinationProperties":           props,
		"tags":                            s.state.tagsOf(x.arn()),
	}, nil
}

func (s *Service) listDestinations(ctx context.Context, c caller, r *http.Request) (any, error) {
	d, err := s.detector(c, r)
	if err != nil {
		return nil, err
	}
	limit, offset, err := pageParams(r, 50)
	if err != nil {
		return nil, err
	}
	type item struct {
		DestinationID   string `json:"destinationId"`
		DestinationType string `json:"destinationType"`
		Status          string `json:"status"`
	}
	s.state.mu.Lock()
	var items []item
	for _, x := range s.state.Destinations {
		if x.DetectorID == d.ID {
			status := x.Status
			if status == "" {
				status = destinationPublishing
			}
			items = append(items, item{x.ID, x.DestinationType, status})
		}
	}
	s.state.mu.Unlock()
	sort.Slice(items, func(i, j int) bool { return items[i].DestinationID < items[j].DestinationID })
	items, next := page(items, limit, offset)
	out := map[string]any{"destinations": items}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

func (s *Service) updateDestination(ctx context.Context, c caller, r *http.Request) (any, error) {
	d, err := s.detector(c, r)
	if err != nil {
		return nil, err
	}
	var in struct {
		DestinationProperties *destinationProperties `json:"destinationProperties"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.Lock()
	x, err := s.destinationOf(d, r)
	if err != nil {
		st.mu.Unlock()
		return nil, err
	}
	dest, key := x.DestinationArn, x.KmsKeyArn
	if p := in.DestinationProperties; p != nil {
		if p.DestinationArn != nil {
			dest = *p.DestinationArn
		}
		if p.KmsKeyArn != nil {
			key = *p.KmsKeyArn
		}
	}
	if err := checkDestinationArn(dest); err != nil {
		st.mu.Unlock()
		return nil, err
	}
	if err := checkKmsKeyArn(key, dest); err != nil {
		st.mu.Unlock()
		return nil, err
	}
	if dest != x.DestinationArn || key != x.KmsKeyArn {
		// New properties: publishing is retried from a clean slate. What
		// was exported so far (LastExported) is not exported again.
		x.DestinationArn, x.KmsKeyArn = dest, key
		x.Status = destinationPublishing
		x.PublishingFailureStartTimestamp = 0
	}
	st.mu.Unlock()
	return struct{}{}, s.save(ctx)
}

func (s *Service) deleteDestination(ctx context.Context, c caller, r *http.Request) (any, error) {
	d, err := s.detector(c, r)
	if err != nil {
		return nil, err
	}
	st := s.state
	st.mu.Lock()
	x, err := s.destinationOf(d, r)
	if err != nil {
		st.mu.Unlock()
		return nil, err
	}
	delete(st.Destinations, x.ID)
	delete(st.Tags, x.arn())
	st.mu.Unlock()
	return struct{}{}, s.save(ctx)
}
