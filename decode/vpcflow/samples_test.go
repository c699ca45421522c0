package vpcflow

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vigilsec/vigil/event"
)

const samplesDir = "../../../shared/eval/elastic-integrations-aws/vpcflow"

// TestSamples decodes the Elastic integration test fixtures (see
// ../shared/eval/elastic-integrations-aws/SOURCE.md). Every line is
// well-formed there, so every record must decode:
//
//   - test-extra-samples.log: 7 default-format v2 records without header
//     (IPv6, NODATA, SKIPDATA, ICMP, REJECT), the last without newline.
//   - test-tcp-flag-sequence.log: 3 version 3 records in a custom order, each
//     after a copy of the same header line (files concatenated).
//   - test-v5-all-fields.log: 1 record with all 29 fields of version 5 in the
//     documented order and no header; it is read by its field count.
func TestSamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(samplesDir, "*.log"))
	if len(files) == 0 {
		t.Skipf("no sample files under %s (the shared eval corpus is not checked out)", samplesDir)
	}
	wantRecords := map[string]int{
		"test-extra-samples.log":     7,
		"test-tcp-flag-sequence.log": 3,
		"test-v5-all-fields.log":     1,
	}
	byFile := map[string][]result{}
	total := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		res := decodeString(t, string(data))
		byFile[name] = res
		for _, r := range res {
			if r.Err != nil {
				t.Errorf("%s: %v", name, r.Err)
			}
		}
		if w, ok := wantRecords[name]; ok && len(res) != w {
			t.Errorf("%s: %d records, want %d", name, len(res), w)
		}
		if n := len(res); n > 0 && res[n-1].Pos.Offset != int64(len(data)) {
			t.Errorf("%s: final offset %d, file has %d bytes", name, res[n-1].Pos.Offset, len(data))
		}
		total += len(res)
		t.Logf("%s: %d records", name, len(res))
	}
	t.Logf("%d files, %d records", len(files), total)

	if r := byFile["test-extra-samples.log"]; len(r) == 7 {
		counts := map[event.LogStatus]int{}
		v6 := 0
		for _, x := range r {
			counts[x.Flow.LogStatus]++
			if x.Flow.SrcAddr.Is6() {
				v6++
			}
		}
		if counts[event.LogStatusOK] != 5 || counts[event.LogStatusNoData] != 1 || counts[event.LogStatusSkipData] != 1 || v6 != 1 {
			t.Errorf("test-extra-samples.log: statuses %v, %d IPv6", counts, v6)
		}
		if f := r[4].Flow; f.DstPort != 3389 || f.Action != event.ActionReject {
			t.Errorf("test-extra-samples.log record 5: %+v", f)
		}
	}
	if r := byFile["test-tcp-flag-sequence.log"]; len(r) == 3 {
		f := r[0].Flow
		if f.Version != 3 || f.TCPFlags != 2 || f.Bytes != 568 || f.Packets != 8 || f.InstanceID != "i-01234567890123456" ||
			f.Type != "IPv4" || f.PktSrcAddr != addr("52.213.180.42") || f.LogStatus != event.LogStatusOK {
			t.Errorf("test-tcp-flag-sequence.log record 1: %+v", f)
		}
		if r[1].Flow.LogStatus != event.LogStatusSkipData || r[2].Flow.LogStatus != event.LogStatusNoData || r[2].Flow.HasPorts {
			t.Errorf("test-tcp-flag-sequence.log records 2-3: %+v %+v", r[1].Flow, r[2].Flow)
		}
		if r[2].Pos.Line != 6 {
			t.Errorf("test-tcp-flag-sequence.log: Pos().Line = %d after 3 records, want 6", r[2].Pos.Line)
		}
	}
	if r := byFile["test-v5-all-fields.log"]; len(r) == 1 && r[0].Flow != flowV5b {
		t.Errorf("test-v5-all-fields.log:\n got %+v\nwant %+v", r[0].Flow, flowV5b)
	}
	for name, r := range byFile {
		data, _ := os.ReadFile(filepath.Join(samplesDir, name))
		if len(r) > 0 && !Sniff(data) {
			t.Errorf("Sniff(%s) = false", name)
		}
	}
}
