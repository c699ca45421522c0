// Package demo generates the data set behind `vigil demo`: two hours of logs
// from a small AWS estate (account 111122223333, us-east-1, one VPC with six
// instances and a handful of IAM principals), with ordinary activity plus a
// scripted set of attacks, each next to a near miss that must not raise a
// finding.
//
// Everything is written in AWS's own formats and S3 key layout, so the real
// decoders read it: CloudTrail delivery objects (and one digest file), VPC
// Flow Logs in the default and a custom version 5 format, Route 53 Resolver
// query logs, `aws ec2 describe-instances` output, an ip-ranges.json excerpt,
// threat lists in several formats, a trusted list, and a vigil.yaml that ties
// them together. A few records are deliberately malformed so that scanning
// shows its bad-input reporting.
//
// Generation is deterministic: the same [Options] produce byte-identical
// files. Attacker and threat-list addresses are in the documentation ranges
// (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), so no real party is
// named as malicious; they are to be treated as public addresses.
//
// [WriteFlows], [WriteDNS] and [WriteCloudTrail] stream background traffic
// of one format, without the attacks, for benchmarks.
package demo

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// Options control [Generate].
type Options struct {
	Dir   string    // output directory; created if missing
	Start time.Time // time of the first event (UTC); zero means 2026-11-21T00:00:00Z
	Seed  int64
	Scale int // 1 = the small estate; larger multiplies the background volume
}

// Manifest describes what [Generate] wrote.
type Manifest struct {
	Config     string   // path of vigil.yaml
	Files      []string // every file written, under Options.Dir
	Expected   []Expect // findings the data must produce
	NearMisses []string // activity that must not produce a finding
	// Records counts the records written per format ("vpcflow", "route53",
	// "cloudtrail"), malformed ones included, flow log header lines not.
	Records   map[string]int
	Malformed map[string]int // deliberately malformed records per format
}

// DefaultStart is the start time used when Options.Start is zero.
var DefaultStart = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)

// Duration is how much activity Generate writes.
const Duration = 2 * time.Hour

const minutes = int(Duration / time.Minute)

// Format names, as in package decode.
const (
	fmtFlow  = "vpcflow"
	fmtDNS   = "route53"
	fmtTrail = "cloudtrail"
)

func normStart(t time.Time) time.Time {
	if t.IsZero() {
		return DefaultStart
	}
	return t.UTC().Truncate(time.Second)
}

type writer struct {
	dir string
	m   *Manifest
}

func (w *writer) write(rel string, data []byte) error {
	p := filepath.Join(w.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return err
	}
	w.m.Files = append(w.m.Files, p)
	return nil
}

// writeGz writes data gzipped, with an empty header (no name, no mtime) so the
// output is reproducible.
func (w *writer) writeGz(rel string, data []byte) error {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return w.write(rel, b.Bytes())
}

// Generate writes the demo data set under opts.Dir.
func Generate(opts Options) (*Manifest, error) {
	if opts.Dir == "" {
		return nil, errors.New("demo: Options.Dir is empty")
	}
	start := normStart(opts.Start)
	scale := max(opts.Scale, 1)
	m := &Manifest{
		Config:     filepath.Join(opts.Dir, "vigil.yaml"),
		Expected:   expectations(),
		NearMisses: nearMisses(),
		Records:    map[string]int{},
		Malformed:  map[string]int{},
	}
	w := &writer{dir: opts.Dir, m: m}
	rn := rand.New(rand.NewPCG(uint64(opts.Seed), 0x7a3e))

	static := []struct {
		rel  string
		data []byte
	}{
		{"vigil.yaml", []byte(configYAML)},
		{"ip-ranges.json", ipRangesJSON(start)},
		{"inventory/describe-instances.json", describeInstances(rn, start)},
		{"lists/tor-exit-addresses", torExitList(rn, start)},
		{"lists/tor-relays.txt", torRelayList(start)},
		{"lists/mining.txt", miningList()},
		{"lists/c2.csv", c2List()},
		{"lists/custom-threats.txt", customThreats()},
		{"lists/scanners.stix.json", stixList(rn, start)},
		{"lists/office.txt", officeList()},
	}
	for _, f := range static {
		if err := w.write(f.rel, f.data); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, "data"), 0o755); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}

	if err := writeFlowFiles(w, rn, opts.Seed, start, scale); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := writeDNSFiles(w, rn, opts.Seed, start, scale); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := writeTrailFiles(w, rn, opts.Seed, start, scale); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return m, nil
}

const window = 5 * time.Minute

func stamp(t time.Time) string { return t.UTC().Format("20060102T1504Z") }

func datePath(t time.Time) string { return t.UTC().Format("2006/01/02") }

func writeFlowFiles(w *writer, rn *rand.Rand, seed int64, start time.Time, scale int) error {
	g := newFlowGen(seed, start.Unix(), scale)
	for m := range minutes {
		g.background(m)
	}
	g.attacks()
	recs := g.out
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].start < recs[j].start })

	for _, fl := range []struct {
		id     string
		v5     bool
		header string
	}{{flowLogV2, false, headerV2}, {flowLogV5, true, headerV5}} {
		var (
			buf     []byte
			cur     time.Time
			nwin    int
			pending bool
		)
		flush := func() error {
			if !pending {
				return nil
			}
			rel := path.Join("logs/AWSLogs", accountID, "vpcflowlogs", awsRegion, datePath(cur),
				fmt.Sprintf("%s_vpcflowlogs_%s_%s_%s_%s.log.gz", accountID, awsRegion, fl.id, stamp(cur), hexString(rn, 8, false)))
			pending = false
			nwin++
			return w.writeGz(rel, buf)
		}
		for i := range recs {
			r := &recs[i]
			if r.h.V5 != fl.v5 {
				continue
			}
			win := time.Unix(r.start, 0).UTC().Truncate(window)
			if !pending || !win.Equal(cur) {
				if err := flush(); err != nil {
					return err
				}
				cur = win
				buf = append(buf[:0], fl.header...)
				buf = append(buf, '\n')
				pending = true
			}
			buf = appendFlow(buf, r, fl.v5)
			buf = append(buf, '\n')
			w.m.Records[fmtFlow]++
			// One corrupt line (a record cut short) in the fourth default-format file.
			if !fl.v5 && nwin == 3 && w.m.Malformed[fmtFlow] == 0 && r.h == hWeb && !r.nodata {
				line := appendFlow(nil, r, false)
				buf = append(buf, line[:bytes.LastIndexByte(line[:len(line)-20], ' ')]...)
				buf = append(buf, '\n')
				w.m.Records[fmtFlow]++
				w.m.Malformed[fmtFlow]++
			}
		}
		if err := flush(); err != nil {
			return err
		}
	}
	return nil
}

func writeDNSFiles(w *writer, rn *rand.Rand, seed int64, start time.Time, scale int) error {
	g := newDNSGen(seed, start, scale)
	for m := range minutes {
		g.background(m)
	}
	g.attacks()
	recs := g.out
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].t.Before(recs[j].t) })

	var (
		buf     []byte
		cur     time.Time
		nwin    int
		pending bool
	)
	flush := func() error {
		if !pending {
			return nil
		}
		rel := path.Join("logs/AWSLogs", accountID, "vpcdnsquerylogs", vpcID, datePath(cur),
			fmt.Sprintf("%s_vpcdnsquerylogs_%s_%s_%s.log.gz", vpcID, accountID, stamp(cur), hexString(rn, 8, false)))
		pending = false
		nwin++
		return w.writeGz(rel, buf)
	}
	for i := range recs {
		r := &recs[i]
		win := r.t.UTC().Truncate(window)
		if !pending || !win.Equal(cur) {
			if err := flush(); err != nil {
				return err
			}
			cur = win
			buf = buf[:0]
			pending = true
		}
		line := marshal(r)
		buf = append(buf, line...)
		buf = append(buf, '\n')
		w.m.Records[fmtDNS]++
		// One line cut off mid-record in the ninth file.
		if nwin == 8 && w.m.Malformed[fmtDNS] == 0 {
			buf = append(buf, line[:len(line)*2/3]...)
			buf = append(buf, '\n')
			w.m.Records[fmtDNS]++
			w.m.Malformed[fmtDNS]++
		}
	}
	return flush()
}

type digestLog struct {
	S3Bucket        string `json:"s3Bucket"`
	S3Object        string `json:"s3Object"`
	HashValue       string `json:"hashValue"`
	HashAlgorithm   string `json:"hashAlgorithm"`
	NewestEventTime string `json:"newestEventTime"`
	OldestEventTime string `json:"oldestEventTime"`
}

type digest struct {
	AWSAccountID                string      `json:"awsAccountId"`
	DigestStartTime             string      `json:"digestStartTime"`
	DigestEndTime               string      `json:"digestEndTime"`
	DigestS3Bucket              string      `json:"digestS3Bucket"`
	DigestS3Object              string      `json:"digestS3Object"`
	DigestPublicKeyFingerprint  string      `json:"digestPublicKeyFingerprint"`
	DigestSignatureAlgorithm    string      `json:"digestSignatureAlgorithm"`
	NewestEventTime             string      `json:"newestEventTime"`
	OldestEventTime             string      `json:"oldestEventTime"`
	PreviousDigestS3Bucket      string      `json:"previousDigestS3Bucket"`
	PreviousDigestS3Object      string      `json:"previousDigestS3Object"`
	PreviousDigestHashValue     string      `json:"previousDigestHashValue"`
	PreviousDigestHashAlgorithm string      `json:"previousDigestHashAlgorithm"`
	PreviousDigestSignature     string      `json:"previousDigestSignature"`
	LogFiles                    []digestLog `json:"logFiles"`
}

func digestKey(t time.Time) string {
	return path.Join("AWSLogs", accountID, "CloudTrail-Digest", awsRegion, datePath(t),
		fmt.Sprintf("%s_CloudTrail-Digest_%s_%s_%s_%s.json.gz", accountID, awsRegion, trailName, awsRegion, t.UTC().Format("20060102T150405Z")))
}

func writeTrailFiles(w *writer, rn *rand.Rand, seed int64, start time.Time, scale int) error {
	g := newCTGen(seed, start, scale)
	for m := range minutes {
		g.background(m)
	}
	g.attacks()
	recs := g.out
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].t.Before(recs[j].t) })

	// The digest covers the delivery hour after its start; its end time is
	// a few seconds past the hour, as CloudTrail writes them.
	digestEnd := start.Add(time.Hour + 31*time.Second)
	dg := digest{
		AWSAccountID:                accountID,
		DigestStartTime:             start.Add(31 * time.Second).Format(ctTime),
		DigestEndTime:               digestEnd.Format(ctTime),
		DigestS3Bucket:              trailBucket,
		DigestS3Object:              digestKey(digestEnd),
		DigestPublicKeyFingerprint:  hexString(rn, 32, false),
		DigestSignatureAlgorithm:    "SHA256withRSA",
		PreviousDigestS3Bucket:      trailBucket,
		PreviousDigestS3Object:      digestKey(digestEnd.Add(-time.Hour)),
		PreviousDigestHashValue:     hexString(rn, 64, false),
		PreviousDigestHashAlgorithm: "SHA-256",
		PreviousDigestSignature:     hexString(rn, 512, false),
		LogFiles:                    []digestLog{},
	}

	var nwin int
	for i := 0; i < len(recs); {
		win := recs[i].t.UTC().Truncate(window)
		j := i
		for j < len(recs) && recs[j].t.UTC().Truncate(window).Equal(win) {
			j++
		}
		var b bytes.Buffer
		b.WriteString(`{"Records":[`)
		malformed := false
		for k, rec := range recs[i:j] {
			if k > 0 {
				b.WriteByte(',')
			}
			// One record whose eventTime is a number, in the seventh object.
			if nwin == 6 && !malformed && !rec.scenario && w.m.Malformed[fmtTrail] == 0 {
				saved := rec.EventTime
				rec.EventTime = json.RawMessage(strconv.FormatInt(rec.t.Unix(), 10))
				b.Write(marshal(rec))
				rec.EventTime = saved
				malformed = true
				w.m.Malformed[fmtTrail]++
			} else {
				b.Write(marshal(rec))
			}
			w.m.Records[fmtTrail]++
		}
		b.WriteString("]}")
		delivered := win.Add(window)
		key := path.Join("AWSLogs", accountID, "CloudTrail", awsRegion, datePath(delivered),
			fmt.Sprintf("%s_CloudTrail_%s_%s_%s.json.gz", accountID, awsRegion, stamp(delivered),
				alnum(rn, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")))
		if err := w.writeGz("logs/"+key, b.Bytes()); err != nil {
			return err
		}
		if !delivered.After(digestEnd) {
			sum := sha256.Sum256(b.Bytes())
			newest, oldest := recs[j-1].t.Format(ctTime), recs[i].t.Format(ctTime)
			dg.LogFiles = append(dg.LogFiles, digestLog{S3Bucket: trailBucket, S3Object: key, HashValue: hex.EncodeToString(sum[:]),
				HashAlgorithm: "SHA-256", NewestEventTime: newest, OldestEventTime: oldest})
			if dg.OldestEventTime == "" {
				dg.OldestEventTime = oldest
			}
			dg.NewestEventTime = newest
		}
		nwin++
		i = j
	}
	return w.writeGz("logs/"+dg.DigestS3Object, marshal(dg))
}

// WriteFlows writes a default-format (version 2) VPC Flow Logs file: the
// header line, then n records of the estate's background traffic starting at
// start, one minute window after another. It holds one minute of records at
// a time.
func WriteFlows(w io.Writer, n int, seed int64, start time.Time) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(headerV2 + "\n")
	g := newFlowGen(seed, normStart(start).Unix(), 1)
	var line []byte
	for m := 0; n > 0; m++ {
		g.out = g.out[:0]
		g.background(m)
		for i := range g.out {
			if n == 0 {
				break
			}
			line = appendFlow(line[:0], &g.out[i], false)
			line = append(line, '\n')
			if _, err := bw.Write(line); err != nil {
				return err
			}
			n--
		}
	}
	return bw.Flush()
}

// WriteDNS writes n Route 53 Resolver query log records (JSON lines) of the
// estate's background lookups starting at start.
func WriteDNS(w io.Writer, n int, seed int64, start time.Time) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	g := newDNSGen(seed, normStart(start), 1)
	for m := 0; n > 0; m++ {
		g.out = g.out[:0]
		g.background(m)
		sort.SliceStable(g.out, func(i, j int) bool { return g.out[i].t.Before(g.out[j].t) })
		for i := range g.out {
			if n == 0 {
				break
			}
			bw.Write(marshal(&g.out[i]))
			if err := bw.WriteByte('\n'); err != nil {
				return err
			}
			n--
		}
	}
	return bw.Flush()
}

// WriteCloudTrail writes one CloudTrail delivery document, {"Records":[...]},
// holding n records of the estate's routine API activity starting at start.
func WriteCloudTrail(w io.Writer, n int, seed int64, start time.Time) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(`{"Records":[`)
	g := newCTGen(seed, normStart(start), 1)
	first := true
	for m := 0; n > 0; m++ {
		g.out = g.out[:0]
		g.background(m)
		sort.SliceStable(g.out, func(i, j int) bool { return g.out[i].t.Before(g.out[j].t) })
		for _, rec := range g.out {
			if n == 0 {
				break
			}
			if !first {
				bw.WriteByte(',')
			}
			first = false
			if _, err := bw.Write(marshal(rec)); err != nil {
				return err
			}
			n--
		}
	}
	bw.WriteString("]}")
	return bw.Flush()
}
