package guardduty

import (
	"context"
	"os"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/vigilsec/vigil/export"
	"github.com/vigilsec/vigil/finding"
)

// Publish exports findings that were just stored to the publishing
// destinations that see them: the destination's own account's findings in
// its region, and, for an administrator, its enabled members'. Archived
// findings are not exported, as in GuardDuty. Delivery is best effort: a
// destination that fails is marked UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY
// with the time of the first failure, and recovers on the next success.
func (s *Service) Publish(ctx context.Context, fs []finding.Finding) {
	s.state.mu.Lock()
	type job struct {
		d     *Destination
		accts []string
	}
	var jobs []job
	for _, d := range s.state.Destinations {
		accts := []string{d.Account}
		for _, m := range s.state.membersOf(d.Account) {
			if m.RelationshipStatus == statusEnabled {
				accts = append(accts, m.AccountID)
			}
		}
		jobs = append(jobs, job{d: d, accts: accts})
	}
	s.state.mu.Unlock()
	changed := false
	for _, j := range jobs {
		var out []finding.Finding
		for _, f := range fs {
			if !f.Service.Archived && f.Region == j.d.Region && slices.Contains(j.accts, f.AccountID) {
				out = append(out, f)
			}
		}
		if len(out) == 0 {
			continue
		}
		err := s.exportTo(ctx, j.d, out)
		s.state.mu.Lock()
		switch {
		case err != nil && j.d.PublishingFailureStartTimestamp == 0:
			j.d.Status = "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY"
			j.d.PublishingFailureStartTimestamp = s.now().UnixMilli()
			changed = true
		case err == nil && j.d.Status != "PUBLISHING":
			j.d.Status, j.d.PublishingFailureStartTimestamp = "PUBLISHING", 0
			changed = true
		}
		if err == nil {
			j.d.LastExported = s.nowString()
			changed = true
		}
		s.state.mu.Unlock()
		if err != nil {
			s.log.Warn("export to publishing destination failed", "destination", j.d.ID, "account", j.d.Account, "err", err)
		}
	}
	if changed {
		if err := s.save(ctx); err != nil {
			s.log.Warn("saving destination status", "err", err)
		}
	}
}

func (s *Service) exportTo(ctx context.Context, d *Destination, fs []finding.Finding) error {
	var client *s3.Client
	if bucket, _, err := export.ParseDestinationArn(d.DestinationArn); err == nil && bucket != "" {
		client = s3Client(d.Region)
	}
	dst, prefix, err := export.DestinationFor(d.DestinationArn, client)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err = export.New(dst, prefix).Export(ctx, fs, s.now())
	return err
}

// s3Client builds an S3 client whose endpoint and credentials come from the
// environment, as for the AWS CLI: AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL
// names an S3-compatible server (then addressed path-style).
func s3Client(region string) *s3.Client {
	ep := os.Getenv("AWS_ENDPOINT_URL_S3")
	if ep == "" {
		ep = os.Getenv("AWS_ENDPOINT_URL")
	}
	return export.NewS3Client(export.S3Config{Region: region, Endpoint: ep, PathStyle: ep != ""})
}
