package vpcflow

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/vigilsec/vigil/decode"
	"github.com/vigilsec/vigil/event"
)

const (
	hdrV3 = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status " +
		"vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr"
	hdrV4 = hdrV3 + " region az-id sublocation-type sublocation-id"
	hdrV5 = hdrV4 + " pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path"

	recV2  = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
	recV3  = "3 123456789010 eni-1235b8ca123456789 52.213.180.42 10.0.0.62 43416 5001 6 8 568 1566848875 1566848933 ACCEPT OK vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 19 IPv4 52.213.180.42 10.0.0.62"
	recV4  = "4 123456789010 eni-1235b8ca123456789 10.0.0.62 10.0.1.5 443 51000 6 10 840 1566848875 1566848933 REJECT OK vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 2 IPv4 10.0.0.62 10.0.1.5 us-west-2 usw2-az2 wavelength wlid1234"
	recV5  = "5 123456789010 eni-1235b8ca123456789 10.0.0.62 52.95.128.1 51000 443 6 10 840 1566848875 1566848933 ACCEPT OK vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 3 IPv4 10.0.0.62 52.95.128.1 us-east-1 use1-az5 - - - AMAZON egress 8"
	recV5b = "5 64111117617 eni-069xxxxxb7a490 89.160.20.156 10.200.0.0 50041 33004 17 52 1 164000066 1640000297 REJECT OK vpc-09676f97xxxxxb8a7 subnet-02d645xxxxxxxdbc0 i-0axxxxxx1ad77 1 IPv4 89.160.20.156 10.200.0.80 us-east-1 use1-az5 - - AMAZON CLOUDFRONT ingress 1"
)

var (
	flowV2 = event.Flow{
		Version: 2, AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789",
		SrcAddr: addr("172.31.16.139"), DstAddr: addr("172.31.16.21"), SrcPort: 20641, DstPort: 22, HasPorts: true,
		Protocol: 6, HasProtocol: true, Packets: 20, Bytes: 4249, Start: unix(1418530010), End: unix(1418530070),
		Action: event.ActionAccept, LogStatus: event.LogStatusOK,
	}
	flowV3 = event.Flow{
		Version: 3, AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789",
		SrcAddr: addr("52.213.180.42"), DstAddr: addr("10.0.0.62"), SrcPort: 43416, DstPort: 5001, HasPorts: true,
		Protocol: 6, HasProtocol: true, Packets: 8, Bytes: 568, Start: unix(1566848875), End: unix(1566848933),
		Action: event.ActionAccept, LogStatus: event.LogStatusOK,
		VPCID: "vpc-abcdefab012345678", SubnetID: "subnet-aaaaaaaa012345678", InstanceID: "i-01234567890123456",
		TCPFlags: 19, Type: "IPv4", PktSrcAddr: addr("52.213.180.42"), PktDstAddr: addr("10.0.0.62"),
	}
	flowV4 = event.Flow{
		Version: 4, AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789",
		SrcAddr: addr("10.0.0.62"), DstAddr: addr("10.0.1.5"), SrcPort: 443, DstPort: 51000, HasPorts: true,
		Protocol: 6, HasProtocol: true, Packets: 10, Bytes: 840, Start: unix(1566848875), End: unix(1566848933),
		Action: event.ActionReject, LogStatus: event.LogStatusOK,
		VPCID: "vpc-abcdefab012345678", SubnetID: "subnet-aaaaaaaa012345678", InstanceID: "i-01234567890123456",
		TCPFlags: 2, Type: "IPv4", PktSrcAddr: addr("10.0.0.62"), PktDstAddr: addr("10.0.1.5"),
		Region: "us-west-2", AZID: "usw2-az2", SublocationType: "wavelength", SublocationID: "wlid1234",
	}
	flowV5 = event.Flow{
		Version: 5, AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789",
		SrcAddr: addr("10.0.0.62"), DstAddr: addr("52.95.128.1"), SrcPort: 51000, DstPort: 443, HasPorts: true,
		Protocol: 6, HasProtocol: true, Packets: 10, Bytes: 840, Start: unix(1566848875), End: unix(1566848933),
		Action: event.ActionAccept, LogStatus: event.LogStatusOK,
		VPCID: "vpc-abcdefab012345678", SubnetID: "subnet-aaaaaaaa012345678", InstanceID: "i-01234567890123456",
		TCPFlags: 3, Type: "IPv4", PktSrcAddr: addr("10.0.0.62"), PktDstAddr: addr("52.95.128.1"),
		Region: "us-east-1", AZID: "use1-az5", PktDstAWSService: "AMAZON", FlowDirection: event.DirectionEgress, TrafficPath: 8,
	}
	flowV5b = event.Flow{
		Version: 5, AccountID: "64111117617", InterfaceID: "eni-069xxxxxb7a490",
		SrcAddr: addr("89.160.20.156"), DstAddr: addr("10.200.0.0"), SrcPort: 50041, DstPort: 33004, HasPorts: true,
		Protocol: 17, HasProtocol: true, Packets: 52, Bytes: 1, Start: unix(164000066), End: unix(1640000297),
		Action: event.ActionReject, LogStatus: event.LogStatusOK,
		VPCID: "vpc-09676f97xxxxxb8a7", SubnetID: "subnet-02d645xxxxxxxdbc0", InstanceID: "i-0axxxxxx1ad77",
		TCPFlags: 1, Type: "IPv4", PktSrcAddr: addr("89.160.20.156"), PktDstAddr: addr("10.200.0.80"),
		Region: "us-east-1", AZID: "use1-az5", PktSrcAWSService: "AMAZON", PktDstAWSService: "CLOUDFRONT",
		FlowDirection: event.DirectionIngress, TrafficPath: 1,
	}
)

// want is one expected outcome of Next: a flow, or a record error at a line
// naming a field.
type want struct {
	flow  event.Flow
	err   bool
	line  int64
	field string
}

func ok(f event.Flow) want              { return want{flow: f} }
func bad(line int64, field string) want { return want{err: true, line: line, field: field} }

func TestDecode(t *testing.T) {
	v2nodata := event.Flow{Version: 2, AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789",
		Start: unix(1431280876), End: unix(1431280934), LogStatus: event.LogStatusNoData}
	v2skip := v2nodata
	v2skip.InterfaceID, v2skip.LogStatus = "eni-11111111aaaaaaaaa", event.LogStatusSkipData
	v6 := event.Flow{Version: 2, AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789",
		SrcAddr: addr("2001:db8:1234:a100:8d6e:3477:df66:f105"), DstAddr: addr("2001:db8:1234:a102:3304:8879:34cf:4071"),
		SrcPort: 34892, DstPort: 22, HasPorts: true, Protocol: 6, HasProtocol: true, Packets: 54, Bytes: 8855,
		Start: unix(1477913708), End: unix(1477913820), Action: event.ActionAccept, LogStatus: event.LogStatusOK}
	icmp := flowV2
	icmp.SrcPort, icmp.DstPort, icmp.Protocol = 0, 0, 1

	tests := []struct {
		name  string
		input string
		want  []want
	}{
		{"v2 default", recV2 + "\n", []want{ok(flowV2)}},
		{"v2 header", "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" + recV2 + "\n", []want{ok(flowV2)}},
		{"v2 icmp port 0", strings.Replace(recV2, "20641 22 6", "0 0 1", 1), []want{ok(icmp)}},
		{"v2 ipv6", "2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK\n", []want{ok(v6)}},
		{"nodata skipdata", "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA\n" +
			"2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA\n", []want{ok(v2nodata), ok(v2skip)}},
		{"v3 header", hdrV3 + "\n" + recV3 + "\n", []want{ok(flowV3)}},
		{"v4 header", hdrV4 + "\n" + recV4 + "\n", []want{ok(flowV4)}},
		{"v5 header", hdrV5 + "\n" + recV5 + "\n" + recV5b + "\n", []want{ok(flowV5), ok(flowV5b)}},
		{"v5 headerless all fields", recV5 + "\n", []want{ok(flowV5)}},
		{"v3 v4 headerless all fields", recV3 + "\n" + recV4 + "\n" + recV2 + "\n", []want{ok(flowV3), ok(flowV4), ok(flowV2)}},
		{"reordered subset",
			"start action dstaddr srcaddr dstport protocol\n1566848875 REJECT 10.0.0.1 2001:db8::1 3389 6\n",
			[]want{ok(event.Flow{Start: unix(1566848875), Action: event.ActionReject, DstAddr: addr("10.0.0.1"),
				SrcAddr: addr("2001:db8::1"), DstPort: 3389, HasPorts: true, Protocol: 6, HasProtocol: true})}},
		{"dash fields in custom format",
			"srcaddr srcport protocol type flow-direction traffic-path region\n- - - - - - -\n",
			[]want{ok(event.Flow{})}},
		{"v7 v8 fields and unknown names",
			"version ecs-cluster-arn ecs-cluster-name ecs-task-id reject-reason some-future-field action log-status\n" +
				"8 arn:aws:ecs:us-east-1:123456789010:cluster/prod prod 0123456789abcdef BPA whatever=1 REJECT OK\n",
			[]want{ok(event.Flow{Version: 8, ECSClusterName: "prod", ECSTaskID: "0123456789abcdef", RejectReason: "BPA",
				Action: event.ActionReject, LogStatus: event.LogStatusOK})}},
		{"underscore header",
			"version account_id interface_id srcaddr dstaddr srcport dstport protocol packets bytes start end action log_status\n" + recV2 + "\n",
			[]want{ok(flowV2)}},
		{"crlf", hdrV3 + "\r\n" + recV3 + "\r\n" + recV3 + "\r\n", []want{ok(flowV3), ok(flowV3)}},
		{"blank lines", "\n\n" + recV2 + "\n \t \n\r\n" + recV2 + "\n\n", []want{ok(flowV2), ok(flowV2)}},
		{"no final newline", recV2 + "\n" + recV2, []want{ok(flowV2), ok(flowV2)}},
		{"extra spaces", "  " + strings.ReplaceAll(recV2, " ", "  \t") + "  \n", []want{ok(flowV2)}},
		{"repeated header", hdrV3 + "\n" + recV3 + "\n" + hdrV3 + "\n" + recV3 + "\n" + hdrV5 + "\n" + recV5 + "\n" + hdrV3 + "\n" + recV3,
			[]want{ok(flowV3), ok(flowV3), ok(flowV5), ok(flowV3)}},
		{"header after default records", recV2 + "\n" + hdrV4 + "\n" + recV4 + "\n", []want{ok(flowV2), ok(flowV4)}},
		{"bom", "\ufeff" + hdrV3 + "\n" + recV3 + "\n", []want{ok(flowV3)}},
		{"malformed lines", strings.Join([]string{
			recV2,
			"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 2 ACCEPT",                       // 2: 13 fields
			"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 2 ACCEPT OK extra extra",        // 3: 16 fields
			"2 123456789010 eni-1 1.2.3.256 5.6.7.8 1 2 6 1 1 1 2 ACCEPT OK",                  // 4
			"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 2 ALLOW OK",                     // 5
			"2 123456789010 eni-1 1.2.3.4 5.6.7.8 65536 2 6 1 1 1 2 ACCEPT OK",                // 6
			"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 256 1 1 1 2 ACCEPT OK",                  // 7
			"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 -1 1 1 2 ACCEPT OK",                   // 8
			"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1x 1 2 ACCEPT OK",                   // 9
			"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1.5 2 ACCEPT OK",                  // 10
			"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 99999999999999 ACCEPT OK",       // 11
			"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 2 ACCEPT DONE",                  // 12
			"v2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 2 ACCEPT OK",                   // 13
			"2 123456789010 eni-1 1.2.3.4 2001:db8::g 1 2 6 1 1 1 2 ACCEPT OK",                // 14
			"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 99999999999999999999 1 1 2 ACCEPT OK", // 15
			recV2, // 16
		}, "\n"), []want{ok(flowV2), bad(2, "log-status"), bad(3, ""), bad(4, "srcaddr"), bad(5, "action"),
			bad(6, "srcport"), bad(7, "protocol"), bad(8, "packets"), bad(9, "bytes"), bad(10, "start"), bad(11, "end"),
			bad(12, "log-status"), bad(13, "version"), bad(14, "dstaddr"), bad(15, "packets"), ok(flowV2)}},
		{"malformed custom lines", hdrV5 + "\n" +
			strings.Replace(recV5, "egress", "sideways", 1) + "\n" +
			recV5 + " 200\n" +
			strings.Replace(recV5, "us-east-1 ", "", 1) + "\n" +
			strings.Replace(recV5, " 3 IPv4", " 0x3 IPv4", 1) + "\n" +
			strings.Replace(recV5, " 10.0.0.62 52.95.128.1 us", " 10.0.0.62 ::ffff:1.2.3 us", 1) + "\n" +
			recV2 + "\n" +
			recV5 + "\n",
			[]want{bad(2, "flow-direction"), bad(3, ""), bad(4, "traffic-path"), bad(5, "tcp-flags"), bad(6, "pkt-dstaddr"),
				bad(7, "vpc-id"), ok(flowV5)}},
		{"malformed unknown count headerless", "1 2 3\n" + recV2 + "\n", []want{bad(1, "srcaddr"), ok(flowV2)}},
		{"traffic path overflow", "traffic-path\n128\n127\n", []want{bad(2, "traffic-path"), ok(event.Flow{TrafficPath: 127})}},
		{"header only", hdrV5 + "\n", nil},
		{"empty", "", nil},
		{"only blanks", "\n\r\n   \n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeString(t, tc.input)
			if len(got) != len(tc.want) {
				for _, g := range got {
					t.Logf("got %+v", g)
				}
				t.Fatalf("got %d results, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Pos.Record != int64(i+1) {
					t.Errorf("#%d: Pos().Record = %d, want %d", i, g.Pos.Record, i+1)
				}
				if w.err {
					if g.Err == nil {
						t.Errorf("#%d: got flow %+v, want error at line %d", i, g.Flow, w.line)
						continue
					}
					if g.Err.Line != w.line || g.Err.Field != w.field || g.Err.Record != int64(i+1) {
						t.Errorf("#%d: got error %v (line %d, field %q, record %d), want line %d field %q",
							i, g.Err, g.Err.Line, g.Err.Field, g.Err.Record, w.line, w.field)
					}
					if g.Err.Line != g.Pos.Line {
						t.Errorf("#%d: error line %d, Pos().Line %d", i, g.Err.Line, g.Pos.Line)
					}
					continue
				}
				if g.Err != nil {
					t.Errorf("#%d: unexpected error %v", i, g.Err)
					continue
				}
				if g.Flow != w.flow {
					t.Errorf("#%d:\n got %+v\nwant %+v", i, g.Flow, w.flow)
				}
			}
		})
	}
}

// TestPositions checks offsets and line numbers of records and errors,
// including headers, blank lines, CRLF and a final line without newline.
func TestPositions(t *testing.T) {
	lines := []string{
		hdrV3 + "\r\n", // 1
		"\n",           // 2
		recV3 + "\r\n", // 3
		"bad line\n",   // 4: a malformed record
		hdrV3 + "\n",   // 5
		recV3,          // 6: no newline
	}
	input := strings.Join(lines, "")
	got := decodeString(t, input)
	off := func(n int) int64 { return int64(len(strings.Join(lines[:n], ""))) }
	wantPos := []decode.Position{
		{Offset: off(3), Record: 1, Line: 3},
		{Offset: off(4), Record: 2, Line: 4},
		{Offset: off(6), Record: 3, Line: 6},
	}
	if len(got) != len(wantPos) {
		t.Fatalf("got %d results, want %d", len(got), len(wantPos))
	}
	for i, w := range wantPos {
		if got[i].Pos != w {
			t.Errorf("#%d: Pos() = %+v, want %+v", i, got[i].Pos, w)
		}
	}
	if e := got[1].Err; e == nil || e.Offset != off(3) || e.Line != 4 || e.Record != 2 {
		t.Errorf("error = %+v, want offset %d line 4 record 2", e, off(3))
	}
	if e := got[1].Err; e != nil && !strings.Contains(e.Error(), "line 4") {
		t.Errorf("error message %q does not name the line", e.Error())
	}
}

// TestReaders checks that the result does not depend on how the reader
// splits its data, nor on the buffer size (lines longer than the buffer).
func TestReaders(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(recV2 + "\n\n" + hdrV5 + "\r\n")
	for i := range 200 {
		if i%7 == 0 {
			sb.WriteString("garbage line\n")
		}
		sb.WriteString(strings.Replace(recV5, "51000", fmt.Sprint(i), 1))
		sb.WriteString("\n")
	}
	sb.WriteString(recV5)
	input := sb.String()
	want := decodeString(t, input)
	if len(want) != 1+200+29+1 {
		t.Fatalf("got %d results", len(want))
	}
	readers := map[string]func() io.Reader{
		"onebyte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(input)) },
		"half":    func() io.Reader { return iotest.HalfReader(strings.NewReader(input)) },
		"dataerr": func() io.Reader { return iotest.DataErrReader(strings.NewReader(input)) },
	}
	for name, mk := range readers {
		for _, size := range []int{1, 7, 64, 4096} {
			t.Run(fmt.Sprintf("%s/buf=%d", name, size), func(t *testing.T) {
				got, err := decodeAll(t, newDecoder(mk(), size, maxLineSize))
				if err != nil {
					t.Fatal(err)
				}
				compareResults(t, got, want)
			})
		}
	}
}

func compareResults(t *testing.T, got, want []result) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d results, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Flow != w.Flow || g.Pos != w.Pos || (g.Err == nil) != (w.Err == nil) ||
			(g.Err != nil && (g.Err.Error() != w.Err.Error() || g.Err.Offset != w.Err.Offset)) {
			t.Fatalf("#%d: got %+v (err %v), want %+v (err %v)", i, g, g.Err, w, w.Err)
		}
	}
}

func TestLineTooLong(t *testing.T) {
	long := strings.Repeat("x", 300)
	input := recV2 + "\n" + long + "\n" + recV2 + "\n" + long
	got, err := decodeAll(t, newDecoder(strings.NewReader(input), 16, 128))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("got %d results, want 4", len(got))
	}
	for i, g := range got {
		if isErr := g.Err != nil; isErr != (i%2 == 1) {
			t.Errorf("#%d: err = %v", i, g.Err)
		}
	}
	if e := got[1].Err; e == nil || e.Line != 2 || e.Offset != int64(len(recV2)+1) || !errors.Is(e, errTooLong) {
		t.Errorf("error = %+v", e)
	}
	if p := got[3].Pos; p.Offset != int64(len(input)) || p.Line != 4 || p.Record != 4 {
		t.Errorf("final Pos() = %+v", p)
	}
	// A line just under the limit grows the buffer and decodes.
	pad := recV2 + strings.Repeat(" ", 127-len(recV2))
	got, err = decodeAll(t, newDecoder(strings.NewReader(pad+"\n"+pad), 16, 128))
	if err != nil || len(got) != 2 || got[0].Err != nil || got[1].Err != nil {
		t.Fatalf("got %+v, %v", got, err)
	}
}

// TestTail checks that io.EOF is not sticky: a reader that grows is read on.
func TestTail(t *testing.T) {
	var buf bytes.Buffer
	d := NewDecoder(&buf)
	var ev event.Event
	if err := d.Next(&ev); err != io.EOF {
		t.Fatalf("empty: got %v, want io.EOF", err)
	}
	buf.WriteString(hdrV3 + "\n" + recV3 + "\n")
	if err := d.Next(&ev); err != nil || ev.Flow != flowV3 {
		t.Fatalf("got %v %+v", err, ev.Flow)
	}
	if err := d.Next(&ev); err != io.EOF {
		t.Fatalf("got %v, want io.EOF", err)
	}
	if err := d.Next(&ev); err != io.EOF {
		t.Fatalf("got %v, want io.EOF again", err)
	}
	// The header still applies to appended records.
	buf.WriteString(recV3 + "\n")
	if err := d.Next(&ev); err != nil || ev.Flow != flowV3 {
		t.Fatalf("got %v %+v", err, ev.Flow)
	}
	if err := d.Next(&ev); err != io.EOF {
		t.Fatalf("got %v, want io.EOF", err)
	}
	if p := d.Pos(); p.Record != 2 || p.Line != 3 {
		t.Errorf("Pos() = %+v", p)
	}
}

type errAfter struct {
	r   io.Reader
	err error
}

func (e *errAfter) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		err = e.err
	}
	return n, err
}

func TestReaderError(t *testing.T) {
	boom := errors.New("boom")
	d := newDecoder(&errAfter{r: strings.NewReader(recV2 + "\n" + recV2 + "\n" + "2 1 eni"), err: boom}, 64, maxLineSize)
	got, err := decodeAll(t, d)
	if !errors.Is(err, boom) || len(got) != 2 {
		t.Fatalf("got %d results and %v, want 2 and boom", len(got), err)
	}
	var ev event.Event
	if err2 := d.Next(&ev); !errors.Is(err2, boom) {
		t.Errorf("after the error: got %v, want it again", err2)
	}

	// A truncated gzip member.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	for range 1000 {
		io.WriteString(zw, recV2+"\n")
	}
	zw.Close()
	zr, err := gzip.NewReader(bytes.NewReader(gz.Bytes()[:gz.Len()-10]))
	if err != nil {
		t.Fatal(err)
	}
	got, err = decodeAll(t, NewDecoder(zr))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated gzip: got %v, want io.ErrUnexpectedEOF", err)
	}
	for _, g := range got {
		if g.Err != nil || g.Flow != flowV2 {
			t.Fatalf("truncated gzip: bad record %+v", g)
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestNoProgress(t *testing.T) {
	_, err := decodeAll(t, NewDecoder(zeroReader{}))
	if !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("got %v, want io.ErrNoProgress", err)
	}
}

// TestIntern checks that more distinct strings than the intern table holds
// still decode right, and that interned strings are shared.
func TestIntern(t *testing.T) {
	var sb strings.Builder
	n := maxInterned*2 + 10
	for i := range n {
		fmt.Fprintf(&sb, "2 123456789010 eni-%017d 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n", i)
	}
	d := NewDecoder(strings.NewReader(sb.String()))
	var ev event.Event
	for i := range n {
		if err := d.Next(&ev); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("eni-%017d", i); ev.Flow.InterfaceID != want {
			t.Fatalf("#%d: InterfaceID = %q, want %q", i, ev.Flow.InterfaceID, want)
		}
	}
	if len(d.strs) > maxInterned {
		t.Errorf("intern table has %d entries, cap %d", len(d.strs), maxInterned)
	}
	long := strings.Repeat("a", maxInternLen+1)
	d = NewDecoder(strings.NewReader("vpc-id\n" + long + "\n" + long + "\nvpc-1\n"))
	for _, want := range []string{long, long, "vpc-1"} {
		if err := d.Next(&ev); err != nil || ev.Flow.VPCID != want {
			t.Fatalf("got %v %q", err, ev.Flow.VPCID)
		}
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		head string
		want bool
	}{
		{recV2 + "\n" + recV2, true},
		{"\n\r\n" + recV2 + "\r\n", true},
		{recV5 + "\n", true},
		{hdrV5 + "\n" + recV5, true},
		{hdrV3 + "\n" + recV3[:20], true},
		{"\ufeffversion account-id\n", true},
		{"version account_id interface_id srcaddr\n", true},
		{"version srcaddr some-new-field\n", true},
		{"2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA", true},
		{"", false},
		{"\n\n", false},
		{`{"Records":[{"eventVersion":"1.08"}]}`, false},
		{`{"version":"1.100000","account_id":"123"}`, false},
		{"version\n", false},
		{"foo bar baz version\n", false},
		{"hello world\n", false},
		{"1 2 3 4 5 6 7 8 9 10 11 12 13 14\n", false},
		{strings.Replace(recV2, "ACCEPT", "ALLOW", 1), false},
		{"Jan 12 10:00:01 host sshd[1]: Accepted password for root from 1.2.3.4 port 22 ssh2\n", false},
	}
	for _, tc := range tests {
		if got := Sniff([]byte(tc.head)); got != tc.want {
			t.Errorf("Sniff(%.40q) = %v, want %v", tc.head, got, tc.want)
		}
	}
}

func TestParseUint(t *testing.T) {
	tests := []struct {
		in   string
		max  uint64
		want uint64
		ok   bool
	}{
		{"0", 255, 0, true},
		{"255", 255, 255, true},
		{"256", 255, 0, false},
		{"0065535", 65535, 65535, true},
		{"18446744073709551615", 1<<64 - 1, 1<<64 - 1, true},
		{"18446744073709551616", 1<<64 - 1, 0, false},
		{"9223372036854775807", 1<<63 - 1, 1<<63 - 1, true},
		{"9223372036854775808", 1<<63 - 1, 0, false},
		{"", 10, 0, false},
		{"+1", 10, 0, false},
		{"1 ", 10, 0, false},
		{"a", 10, 0, false},
	}
	for _, tc := range tests {
		got, ok := parseUint([]byte(tc.in), tc.max)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseUint(%q, %d) = %d, %v; want %d, %v", tc.in, tc.max, got, ok, tc.want, tc.ok)
		}
	}
}
