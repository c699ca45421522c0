package vpcflow

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/event"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the decoder's output")

// goldenFlow is the stable JSON form of an event.Flow: zero fields are left
// out, enums are spelled, times are RFC 3339 UTC.
type goldenFlow struct {
	Version          int     `json:"version,omitempty"`
	AccountID        string  `json:"account_id,omitempty"`
	InterfaceID      string  `json:"interface_id,omitempty"`
	SrcAddr          string  `json:"srcaddr,omitempty"`
	DstAddr          string  `json:"dstaddr,omitempty"`
	SrcPort          *uint16 `json:"srcport,omitempty"`
	DstPort          *uint16 `json:"dstport,omitempty"`
	Protocol         *uint8  `json:"protocol,omitempty"`
	Packets          int64   `json:"packets,omitempty"`
	Bytes            int64   `json:"bytes,omitempty"`
	Start            string  `json:"start,omitempty"`
	End              string  `json:"end,omitempty"`
	Action           string  `json:"action,omitempty"`
	LogStatus        string  `json:"log_status,omitempty"`
	VPCID            string  `json:"vpc_id,omitempty"`
	SubnetID         string  `json:"subnet_id,omitempty"`
	InstanceID       string  `json:"instance_id,omitempty"`
	TCPFlags         uint16  `json:"tcp_flags,omitempty"`
	Type             string  `json:"type,omitempty"`
	PktSrcAddr       string  `json:"pkt_srcaddr,omitempty"`
	PktDstAddr       string  `json:"pkt_dstaddr,omitempty"`
	Region           string  `json:"region,omitempty"`
	AZID             string  `json:"az_id,omitempty"`
	SublocationType  string  `json:"sublocation_type,omitempty"`
	SublocationID    string  `json:"sublocation_id,omitempty"`
	PktSrcAWSService string  `json:"pkt_src_aws_service,omitempty"`
	PktDstAWSService string  `json:"pkt_dst_aws_service,omitempty"`
	FlowDirection    string  `json:"flow_direction,omitempty"`
	TrafficPath      int8    `json:"traffic_path,omitempty"`
	ECSClusterName   string  `json:"ecs_cluster_name,omitempty"`
	ECSTaskID        string  `json:"ecs_task_id,omitempty"`
	RejectReason     string  `json:"reject_reason,omitempty"`
}

type goldenResult struct {
	Record int64       `json:"record"`
	Line   int64       `json:"line"`
	Offset int64       `json:"offset"` // Pos().Offset after the record
	Flow   *goldenFlow `json:"flow,omitempty"`
	Error  string      `json:"error,omitempty"`
	Field  string      `json:"field,omitempty"`
	ErrOff *int64      `json:"error_offset,omitempty"` // where the malformed record starts
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

func enumString(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

func toGolden(f *event.Flow) *goldenFlow {
	g := &goldenFlow{
		Version: f.Version, AccountID: f.AccountID, InterfaceID: f.InterfaceID,
		SrcAddr: addrString(f.SrcAddr), DstAddr: addrString(f.DstAddr),
		Packets: f.Packets, Bytes: f.Bytes, Start: timeString(f.Start), End: timeString(f.End),
		Action: enumString(f.Action.String()), LogStatus: enumString(f.LogStatus.String()),
		VPCID: f.VPCID, SubnetID: f.SubnetID, InstanceID: f.InstanceID, TCPFlags: f.TCPFlags, Type: f.Type,
		PktSrcAddr: addrString(f.PktSrcAddr), PktDstAddr: addrString(f.PktDstAddr),
		Region: f.Region, AZID: f.AZID, SublocationType: f.SublocationType, SublocationID: f.SublocationID,
		PktSrcAWSService: f.PktSrcAWSService, PktDstAWSService: f.PktDstAWSService,
		FlowDirection: enumString(f.FlowDirection.String()), TrafficPath: f.TrafficPath,
		ECSClusterName: f.ECSClusterName, ECSTaskID: f.ECSTaskID, RejectReason: f.RejectReason,
	}
	if f.HasPorts {
		g.SrcPort, g.DstPort = &f.SrcPort, &f.DstPort
	}
	if f.HasProtocol {
		g.Protocol = &f.Protocol
	}
	return g
}

// TestGolden decodes testdata/*.input and compares the results with
// testdata/*.golden. Run with -update to rewrite the golden files.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.input")
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no testdata/*.input files")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".input")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			results := decodeString(t, string(data))
			out := make([]goldenResult, 0, len(results))
			for _, r := range results {
				g := goldenResult{Record: r.Pos.Record, Line: r.Pos.Line, Offset: r.Pos.Offset}
				if r.Err != nil {
					g.Line = r.Err.Line
					g.Error, g.Field, g.ErrOff = r.Err.Error(), r.Err.Field, &r.Err.Offset
				} else {
					g.Flow = toGolden(&r.Flow)
				}
				out = append(out, g)
			}
			got, err := json.MarshalIndent(out, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(in, ".input") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the decoder's output (run go test -update and review the diff):\n%s",
					golden, lineDiff(string(want), string(got)))
			}
		})
	}
}

// lineDiff lists the first lines that differ between want and got.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var sb strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			shown++
			sb.WriteString("line " + strconv.Itoa(i+1) + ":\n  -" + wl + "\n  +" + gl + "\n")
		}
	}
	return sb.String()
}
