package guardduty

import (
	"context"
	"maps"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	gd "github.com/aws/aws-sdk-go-v2/service/guardduty"
	gdtypes "github.com/aws/aws-sdk-go-v2/service/guardduty/types"
)

const testKmsKey = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"

func TestDestinationCRUD(t *testing.T) {
	e := newMTEnv(t)
	ctx := context.Background()
	a := e.c(acctA)

	// Nothing yet.
	l := must[*gd.ListPublishingDestinationsOutput](t)(a.ListPublishingDestinations(ctx, &gd.ListPublishingDestinationsInput{DetectorId: det(acctA)}))
	if l.Destinations == nil || len(l.Destinations) != 0 {
		t.Fatalf("destinations = %+v", l.Destinations)
	}

	// Refused inputs.
	for _, p := range []gdtypes.DestinationProperties{
		{KmsKeyArn: aws.String(testKmsKey)},                                                        // no destination
		{DestinationArn: aws.String("arn:aws:s3:::my-bucket/findings/")},                           // S3 without a key
		{DestinationArn: aws.String("arn:aws:s3:::my-bucket"), KmsKeyArn: aws.String("not-a-key")}, // bad key
		{DestinationArn: aws.String("arn:aws:s3:::B!"), KmsKeyArn: aws.String(testKmsKey)},         // bad bucket
		{DestinationArn: aws.String("s3://my-bucket/x"), KmsKeyArn: aws.String(testKmsKey)},        // not an ARN
		{DestinationArn: aws.String("file://relative/dir")},                                        // not absolute
	} {
		_, err := a.CreatePublishingDestination(ctx, &gd.CreatePublishingDestinationInput{DetectorId: det(acctA), DestinationType: gdtypes.DestinationTypeS3, DestinationProperties: &p})
		wantAPIError(t, err, "BadRequestException")
	}
	_, err := a.CreatePublishingDestination(ctx, &gd.CreatePublishingDestinationInput{DetectorId: det(acctA), DestinationType: "SQS",
		DestinationProperties: &gdtypes.DestinationProperties{DestinationArn: aws.String("arn:aws:s3:::my-bucket"), KmsKeyArn: aws.String(testKmsKey)}})
	wantAPIError(t, err, "BadRequestException")

	// Create.
	cr := must[*gd.CreatePublishingDestinationOutput](t)(a.CreatePublishingDestination(ctx, &gd.CreatePublishingDestinationInput{
		DetectorId: det(acctA), DestinationType: gdtypes.DestinationTypeS3,
		DestinationProperties: &gdtypes.DestinationProperties{DestinationArn: aws.String("arn:aws:s3:::my-bucket/findings/"), KmsKeyArn: aws.String(testKmsKey)},
		Tags:                  map[string]string{"purpose": "siem"},
	}))
	id := aws.ToString(cr.DestinationId)
	if id == "" {
		t.Fatal("no destinationId")
	}
	// One per detector.
	_, err = a.CreatePublishingDestination(ctx, &gd.CreatePublishingDestinationInput{DetectorId: det(acctA), DestinationType: gdtypes.DestinationTypeS3,
		DestinationProperties: &gdtypes.DestinationProperties{DestinationArn: aws.String("arn:aws:s3:::other-bucket"), KmsKeyArn: aws.String(testKmsKey)}})
	wantAPIError(t, err, "BadRequestException")

	d := must[*gd.DescribePublishingDestinationOutput](t)(a.DescribePublishingDestination(ctx, &gd.DescribePublishingDestinationInput{DetectorId: det(acctA), DestinationId: aws.String(id)}))
	if aws.ToString(d.DestinationId) != id || d.DestinationType != gdtypes.DestinationTypeS3 || d.Status != gdtypes.PublishingStatusPublishing ||
		aws.ToInt64(d.PublishingFailureStartTimestamp) != 0 || d.DestinationProperties == nil ||
		aws.ToString(d.DestinationProperties.DestinationArn) != "arn:aws:s3:::my-bucket/findings/" ||
		aws.ToString(d.DestinationProperties.KmsKeyArn) != testKmsKey || !maps.Equal(d.Tags, map[string]string{"purpose": "siem"}) {
		t.Fatalf("describe = %+v", d)
	}
	if d.PublishingFailureStartTimestamp == nil {
		t.Errorf("publishingFailureStartTimestamp missing")
	}

	l = must[*gd.ListPublishingDestinationsOutput](t)(a.ListPublishingDestinations(ctx, &gd.ListPublishingDestinationsInput{DetectorId: det(acctA), MaxResults: aws.Int32(1)}))
	if len(l.Destinations) != 1 || aws.ToString(l.Destinations[0].DestinationId) != id || l.Destinations[0].Status != gdtypes.PublishingStatusPublishing ||
		l.Destinations[0].DestinationType != gdtypes.DestinationTypeS3 || l.NextToken != nil {
		t.Fatalf("list = %+v next %v", l.Destinations, l.NextToken)
	}

	// Tags through the tag operations.
	destArn := detectorArn(acctA) + "/publishingDestination/" + id
	e.tagRoundTrip(t, acctA, destArn, map[string]string{"purpose": "siem"})

	// Update to a local directory; the KMS key is kept.
	dir := "file://" + filepath.ToSlash(t.TempDir())
	must[*gd.UpdatePublishingDestinationOutput](t)(a.UpdatePublishingDestination(ctx, &gd.UpdatePublishingDestinationInput{DetectorId: det(acctA), DestinationId: aws.String(id),
		DestinationProperties: &gdtypes.DestinationProperties{DestinationArn: aws.String(dir)}}))
	d = must[*gd.DescribePublishingDestinationOutput](t)(a.DescribePublishingDestination(ctx, &gd.DescribePublishingDestinationInput{DetectorId: det(acctA), DestinationId: aws.String(id)}))
	if aws.ToString(d.DestinationProperties.DestinationArn) != dir || aws.ToString(d.DestinationProperties.KmsKeyArn) != testKmsKey {
		t.Fatalf("after update: %+v", d.DestinationProperties)
	}
	_, err = a.UpdatePublishingDestination(ctx, &gd.UpdatePublishingDestinationInput{DetectorId: det(acctA), DestinationId: aws.String(id),
		DestinationProperties: &gdtypes.DestinationProperties{DestinationArn: aws.String("ftp://x")}})
	wantAPIError(t, err, "BadRequestException")

	// The record survives a restart.
	svc2 := e.newService(t)
	svc2.state.mu.Lock()
	x := svc2.state.Destinations[id]
	svc2.state.mu.Unlock()
	if x == nil || x.DestinationArn != dir || x.DetectorID != *det(acctA) || x.Account != acctA || x.Region != mtRegion || x.KmsKeyArn != testKmsKey {
		t.Fatalf("after restart: %+v", x)
	}

	// Another account can neither see nor change it.
	b := e.c(acctB)
	_, err = b.DescribePublishingDestination(ctx, &gd.DescribePublishingDestinationInput{DetectorId: det(acctB), DestinationId: aws.String(id)})
	wantAPIError(t, err, "BadRequestException")
	_, err = b.DescribePublishingDestination(ctx, &gd.DescribePublishingDestinationInput{DetectorId: det(acctA), DestinationId: aws.String(id)})
	wantAPIError(t, err, "BadRequestException")
	_, err = b.DeletePublishingDestination(ctx, &gd.DeletePublishingDestinationInput{DetectorId: det(acctB), DestinationId: aws.String(id)})
	wantAPIError(t, err, "BadRequestException")
	_, err = b.TagResource(ctx, &gd.TagResourceInput{ResourceArn: aws.String(destArn), Tags: map[string]string{"k": "v"}})
	wantAPIError(t, err, "BadRequestException")
	lb := must[*gd.ListPublishingDestinationsOutput](t)(b.ListPublishingDestinations(ctx, &gd.ListPublishingDestinationsInput{DetectorId: det(acctB)}))
	if len(lb.Destinations) != 0 {
		t.Fatalf("B sees %+v", lb.Destinations)
	}
	// B has its own, without a KMS key for a local directory.
	must[*gd.CreatePublishingDestinationOutput](t)(b.CreatePublishingDestination(ctx, &gd.CreatePublishingDestinationInput{DetectorId: det(acctB), DestinationType: gdtypes.DestinationTypeS3,
		DestinationProperties: &gdtypes.DestinationProperties{DestinationArn: aws.String(dir + "/b")}}))

	// Delete.
	must[*gd.DeletePublishingDestinationOutput](t)(a.DeletePublishingDestination(ctx, &gd.DeletePublishingDestinationInput{DetectorId: det(acctA), DestinationId: aws.String(id)}))
	_, err = a.DescribePublishingDestination(ctx, &gd.DescribePublishingDestinationInput{DetectorId: det(acctA), DestinationId: aws.String(id)})
	wantAPIError(t, err, "BadRequestException")
	_, err = a.ListTagsForResource(ctx, &gd.ListTagsForResourceInput{ResourceArn: aws.String(destArn)})
	wantAPIError(t, err, "BadRequestException")
	l = must[*gd.ListPublishingDestinationsOutput](t)(a.ListPublishingDestinations(ctx, &gd.ListPublishingDestinationsInput{DetectorId: det(acctA)}))
	if len(l.Destinations) != 0 {
		t.Fatalf("after delete: %+v", l.Destinations)
	}
	e.svc.state.mu.Lock()
	_, tagged := e.svc.state.Tags[destArn]
	e.svc.state.mu.Unlock()
	if tagged {
		t.Error("tags of the deleted destination remain")
	}
	// A new one can be created.
	must[*gd.CreatePublishingDestinationOutput](t)(a.CreatePublishingDestination(ctx, &gd.CreatePublishingDestinationInput{DetectorId: det(acctA), DestinationType: gdtypes.DestinationTypeS3,
		DestinationProperties: &gdtypes.DestinationProperties{DestinationArn: aws.String("arn:aws:s3:::my-bucket"), KmsKeyArn: aws.String(testKmsKey)}}))
}
