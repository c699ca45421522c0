package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Dir is a Destination writing files under a local directory.
type Dir struct {
	Root string
}

// NewDir returns a Destination writing each key as a file below root
// (created as needed, with any missing directories). A file is written to a
// temporary file in its directory, synced and renamed into place, so
// readers never see a partial object. Files get mode 0640.
func NewDir(root string) Destination { return &Dir{Root: root} }

// checkKey refuses keys that are not a clean relative '/'-separated path.
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "\\") || strings.ContainsRune(key, 0) ||
		path.Clean(key) != key || key == "." || key == ".." || strings.HasPrefix(key, "../") {
		return fmt.Errorf("invalid object key %q", key)
	}
	return nil
}

// Put writes body to root/key atomically.
func (d *Dir) Put(ctx context.Context, key string, body []byte) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	name := filepath.Join(d.Root, filepath.FromSlash(key))
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(name)+"-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(body); err != nil {
		return err
	}
	if err = tmp.Chmod(0o640); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), name); err != nil {
		return err
	}
	// Make the rename durable; not every platform can sync a directory.
	if df, derr := os.Open(dir); derr == nil {
		df.Sync()
		df.Close()
	}
	return nil
}

// S3 is a Destination writing objects to an S3 bucket with PutObject.
type S3 struct {
	Client *s3.Client
	Bucket string
	Prefix string // prepended to every key, joined with '/'; "" for none
	// KMSKeyArn, when set, asks for SSE-KMS with this key (GuardDuty's
	// kmsKeyArn). Empty leaves encryption to the bucket's default.
	KMSKeyArn string
}

// NewS3 returns a Destination writing each key, below prefix, as an object
// of bucket. Addressing, endpoint, region and credentials are the client's:
// see [NewS3Client] for an S3-compatible server.
func NewS3(client *s3.Client, bucket, prefix string) Destination {
	return &S3{Client: client, Bucket: bucket, Prefix: strings.Trim(prefix, "/")}
}

// ObjectKey returns the S3 object key for a Destination key.
func (d *S3) ObjectKey(key string) string {
	if p := strings.Trim(d.Prefix, "/"); p != "" {
		return p + "/" + key
	}
	return key
}

// Put stores body at the object key for key.
func (d *S3) Put(ctx context.Context, key string, body []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	in := &s3.PutObjectInput{
		Bucket:        aws.String(d.Bucket),
		Key:           aws.String(d.ObjectKey(key)),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String("application/gzip"),
	}
	if d.KMSKeyArn != "" {
		in.ServerSideEncryption = s3types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(d.KMSKeyArn)
	}
	if _, err := d.Client.PutObject(ctx, in); err != nil {
		return fmt.Errorf("s3://%s/%s: %w", d.Bucket, d.ObjectKey(key), err)
	}
	return nil
}

// S3Config configures [NewS3Client].
type S3Config struct {
	Region string // "" means us-east-1
	// Endpoint is the base URL of an S3-compatible server, e.g.
	// http://127.0.0.1:9000; "" means AWS.
	Endpoint string
	// PathStyle addresses buckets as endpoint/bucket/key rather than
	// bucket.endpoint/key, as most S3-compatible servers need.
	PathStyle bool
	// Static credentials. Without them the AWS_ACCESS_KEY_ID,
	// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN environment variables are
	// used, and without those requests are unsigned.
	AccessKeyID, SecretAccessKey, SessionToken string
}

// NewS3Client returns an S3 client for c. Request checksums are computed
// only where S3 requires them, which S3-compatible servers accept more
// widely than the SDK's default trailing checksums.
func NewS3Client(c S3Config) *s3.Client {
	o := s3.Options{
		Region:                     c.Region,
		UsePathStyle:               c.PathStyle,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if c.Endpoint != "" {
		o.BaseEndpoint = aws.String(c.Endpoint)
	}
	id, secret, token := c.AccessKeyID, c.SecretAccessKey, c.SessionToken
	if id == "" && secret == "" {
		id, secret, token = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")
	}
	if id != "" || secret != "" {
		o.Credentials = credentials.NewStaticCredentialsProvider(id, secret, token)
	} else {
		o.Credentials = aws.AnonymousCredentials{}
	}
	return s3.New(o)
}

// bucketName is S3's rule for bucket names (general purpose buckets).
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ParseDestinationArn reads a publishing destination:
//
//   - GuardDuty's destinationArn, arn:PARTITION:s3:::bucket or
//     arn:PARTITION:s3:::bucket/folder/ (partition aws, aws-cn, aws-us-gov,
//     ...): the bucket and the folder without surrounding slashes ("" for
//     none);
//   - Vigil's local form file:///abs/dir (or file://localhost/abs/dir):
//     bucket "" and prefix the absolute directory, cleaned.
func ParseDestinationArn(arn string) (bucket, prefix string, err error) {
	if rest, ok := strings.CutPrefix(arn, "file://"); ok {
		rest, _ = strings.CutPrefix(rest, "localhost")
		if !strings.HasPrefix(rest, "/") {
			return "", "", fmt.Errorf("destination %q: a file destination must be file:///absolute/dir", arn)
		}
		return "", filepath.Clean(filepath.FromSlash(rest)), nil
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "s3" || parts[3] != "" || parts[4] != "" {
		return "", "", fmt.Errorf("destination %q: want an S3 bucket ARN (arn:aws:s3:::bucket/prefix/) or file:///dir", arn)
	}
	bucket, prefix, _ = strings.Cut(parts[5], "/")
	if !bucketName.MatchString(bucket) || strings.Contains(bucket, "..") {
		return "", "", fmt.Errorf("destination %q: invalid bucket name %q", arn, bucket)
	}
	prefix = strings.Trim(prefix, "/")
	if strings.Contains(prefix, "//") {
		return "", "", fmt.Errorf("destination %q: empty folder segment in %q", arn, prefix)
	}
	return bucket, prefix, nil
}

// DestinationFor returns the Destination and Exporter prefix for a
// destination accepted by ParseDestinationArn: a Dir for file:///dir (prefix
// ""), or an S3 destination of the ARN's bucket through client with the
// ARN's folder as prefix. client may be nil for a file destination.
func DestinationFor(arn string, client *s3.Client) (dst Destination, prefix string, err error) {
	bucket, prefix, err := ParseDestinationArn(arn)
	if err != nil {
		return nil, "", err
	}
	if bucket == "" {
		return NewDir(prefix), "", nil
	}
	if client == nil {
		return nil, "", errors.New("destination " + arn + ": an S3 destination needs an S3 client")
	}
	return NewS3(client, bucket, ""), prefix, nil
}

// S3Reader returns a function reading objects with GetObject through client,
// in the shape of intel.Opener's S3 field, so threat lists at s3:// and S3
// https locations are read with the same client (endpoint, addressing,
// credentials) as exports are written.
func S3Reader(client *s3.Client) func(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	return func(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return nil, err
		}
		return out.Body, nil
	}
}
