// Package export publishes findings the way GuardDuty's publishing
// destination (CreatePublishingDestination, destinationType S3) does:
// gzip-compressed JSON Lines, one finding per line in GuardDuty's finding
// JSON, in objects laid out as
//
//	<prefix>/AWSLogs/<accountId>/GuardDuty/<region>/<yyyy>/<mm>/<dd>/<name>.jsonl.gz
//
// An [Exporter] writes one object per account and region on each
// [Exporter.Export] call, leaving out archived findings (GuardDuty does not
// export them). The date path is the export time in UTC. The object name is
// UUID-shaped and derived from the object's content and the export time, so
// retrying the same export overwrites the same objects rather than adding
// duplicates.
//
// A [Destination] stores objects: [NewDir] a local directory (atomic
// writes), [NewS3] an S3 bucket through the AWS SDK for Go v2, which also
// reaches S3-compatible servers ([NewS3Client] with an endpoint and
// path-style addressing). [ParseDestinationArn] reads GuardDuty's
// destinationArn (arn:aws:s3:::bucket/prefix/) and Vigil's local form
// file:///abs/dir; [DestinationFor] turns either into a Destination.
// [ReadObject] reads an exported object back. [S3Reader] lends the same S3
// client to intel.Opener for threat lists stored in S3.
//
// GuardDuty encrypts exported objects with a mandatory KMS key; Vigil leaves
// encryption to the destination (set [S3.KMSKeyArn] for SSE-KMS).
package export

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/vigilsec/vigil/finding"
)

// Destination stores exported objects under keys made of '/'-separated
// segments. Put replaces any object already at key.
type Destination interface {
	Put(ctx context.Context, key string, body []byte) error
}

// Exporter writes findings to a Destination in GuardDuty's export layout.
// It holds no state between calls and is safe for concurrent use when its
// Destination is.
type Exporter struct {
	dst    Destination
	prefix string
}

// New returns an Exporter writing under prefix (GuardDuty's destination
// folder, without the bucket; "" for none; surrounding slashes are ignored)
// of dst. When dst itself adds a prefix (an [S3] with Prefix set), the two
// compose: give the destinationArn's folder to one of them, not both.
func New(dst Destination, prefix string) *Exporter {
	return &Exporter{dst: dst, prefix: strings.Trim(prefix, "/")}
}

// ObjectSuffix ends the name of every exported object.
const ObjectSuffix = ".jsonl.gz"

// Export writes the unarchived findings of fs at time at (zero means now):
// one object per account and region, holding that group's findings ordered
// by updatedAt and id, one JSON object per line. It returns the keys
// written, in order of account then region; they are the keys given to the
// Destination. Calling Export again with the same findings and time writes
// the same keys and bytes. No findings to export means no objects and no
// error. A finding without accountId or region, or with a '/' in either,
// fails the call before anything is written; if a Put fails, Export returns
// the keys written before it along with the error.
func (e *Exporter) Export(ctx context.Context, fs []finding.Finding, at time.Time) ([]string, error) {
	if at.IsZero() {
		at = time.Now()
	}
	at = at.UTC()
	type group struct {
		account, region string
		fs              []*finding.Finding
	}
	byKey := map[[2]string]*group{}
	var groups []*group
	for i := range fs {
		f := &fs[i]
		if f.Service.Archived {
			continue
		}
		if err := checkSegment("accountId", f.AccountID); err != nil {
			return nil, fmt.Errorf("export: finding %q: %w", f.ID, err)
		}
		if err := checkSegment("region", f.Region); err != nil {
			return nil, fmt.Errorf("export: finding %q: %w", f.ID, err)
		}
		k := [2]string{f.AccountID, f.Region}
		g := byKey[k]
		if g == nil {
			g = &group{account: f.AccountID, region: f.Region}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.fs = append(g.fs, f)
	}
	slices.SortFunc(groups, func(a, b *group) int {
		return cmp.Or(strings.Compare(a.account, b.account), strings.Compare(a.region, b.region))
	})

	var keys []string
	for _, g := range groups {
		slices.SortStableFunc(g.fs, func(a, b *finding.Finding) int {
			return cmp.Or(strings.Compare(a.UpdatedAt, b.UpdatedAt), strings.Compare(a.ID, b.ID))
		})
		var lines bytes.Buffer
		enc := json.NewEncoder(&lines)
		enc.SetEscapeHTML(false)
		for _, f := range g.fs {
			if err := enc.Encode(f); err != nil { // Encode ends each value with '\n'
				return keys, fmt.Errorf("export: encoding finding %q: %w", f.ID, err)
			}
		}
		body, err := gzipBytes(lines.Bytes())
		if err != nil {
			return keys, fmt.Errorf("export: %w", err)
		}
		key := e.Key(g.account, g.region, at, objectName(g.account, g.region, at, lines.Bytes()))
		if err := e.dst.Put(ctx, key, body); err != nil {
			return keys, fmt.Errorf("export: writing %s: %w", key, err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// Key returns the key of an object named name (without ObjectSuffix)
// exported at time at for an account and region:
// <prefix>/AWSLogs/<account>/GuardDuty/<region>/<yyyy>/<mm>/<dd>/<name>.jsonl.gz.
func (e *Exporter) Key(account, region string, at time.Time, name string) string {
	p := "AWSLogs/" + account + "/GuardDuty/" + region + "/" + at.UTC().Format("2006/01/02") + "/" + name + ObjectSuffix
	if e.prefix != "" {
		p = e.prefix + "/" + p
	}
	return p
}

// checkSegment refuses values that cannot be one key segment.
func checkSegment(what, v string) error {
	switch {
	case v == "":
		return fmt.Errorf("%s is empty", what)
	case v == "." || v == ".." || strings.ContainsAny(v, "/\\\x00"):
		return fmt.Errorf("%s %q cannot be a key segment", what, v)
	}
	return nil
}

// objectName derives a UUID-shaped name (RFC 9562 version 8, "custom")
// from the SHA-256 of the group, the export time and the JSON Lines content.
func objectName(account, region string, at time.Time, content []byte) string {
	h := sha256.New()
	for _, s := range []string{"vigil-export-v1", account, region, at.Format(time.RFC3339Nano)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	h.Write(content)
	var u [sha256.Size]byte
	h.Sum(u[:0])
	u[6] = u[6]&0x0f | 0x80 // version 8
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	x := hex.EncodeToString(u[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// gzipBytes compresses b deterministically (no name, no modification time).
func gzipBytes(b []byte) ([]byte, error) {
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// maxLine bounds one line of an object ReadObject reads.
const maxLine = 64 << 20

// ReadObject reads an exported object: gzip-compressed JSON Lines (several
// concatenated gzip members are read as one stream), or uncompressed JSON
// Lines when the input does not start with the gzip magic. Blank lines are
// skipped; fields the finding model does not know are ignored, so objects
// exported by GuardDuty itself also read. An error names the line.
func ReadObject(r io.Reader) ([]finding.Finding, error) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("export object: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	sc := bufio.NewScanner(src)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var out []finding.Finding
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var f finding.Finding
		if err := json.Unmarshal(line, &f); err != nil {
			return out, fmt.Errorf("export object line %d: %w", n, err)
		}
		out = append(out, f)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return out, fmt.Errorf("export object line %d: longer than %d bytes", n+1, maxLine)
		}
		return out, fmt.Errorf("export object line %d: %w", n+1, err)
	}
	return out, nil
}
