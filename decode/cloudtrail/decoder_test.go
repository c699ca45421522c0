package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/decode"
	"github.com/vigilsec/vigil/event"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var _ decode.Decoder = (*Decoder)(nil)

// goldenAPI is how a decoded record is written to golden files: raw JSON
// fields stay JSON.
type goldenAPI struct {
	event.APICall
	RequestParameters   json.RawMessage `json:",omitempty"`
	ResponseElements    json.RawMessage `json:",omitempty"`
	AdditionalEventData json.RawMessage `json:",omitempty"`
	ServiceEventDetails json.RawMessage `json:",omitempty"`
}

type goldenStep struct {
	Event *goldenAPI          `json:",omitempty"`
	Error *decode.RecordError `json:",omitempty"`
	Msg   string              `json:",omitempty"` // error text
	End   string              `json:",omitempty"` // io.EOF or the final error
	Pos   decode.Position
}

// decodeAll runs d to the end, recording every step.
func decodeAll(t testing.TB, d *Decoder) []goldenStep {
	var steps []goldenStep
	var ev event.Event
	for i := 0; ; i++ {
		if i > 100000 {
			t.Fatal("decoder does not terminate")
		}
		err := d.Next(&ev)
		st := goldenStep{Pos: d.Pos()}
		var re *decode.RecordError
		switch {
		case err == nil:
			if ev.Kind != event.KindAPICall {
				t.Fatalf("Kind = %v", ev.Kind)
			}
			g := &goldenAPI{APICall: ev.API}
			g.RequestParameters = bytes.Clone(ev.API.RequestParameters)
			g.ResponseElements = bytes.Clone(ev.API.ResponseElements)
			g.AdditionalEventData = bytes.Clone(ev.API.AdditionalEventData)
			g.ServiceEventDetails = bytes.Clone(ev.API.ServiceEventDetails)
			g.APICall = cloneAPI(ev.API)
			st.Event = g
		case errors.As(err, &re):
			st.Error = re
			st.Msg = err.Error()
		case err == io.EOF:
			st.End = "EOF"
		default:
			st.End = err.Error()
		}
		steps = append(steps, st)
		if err != nil && re == nil {
			return steps
		}
	}
}

// cloneAPI deep-copies the borrowed parts of api.
func cloneAPI(a event.APICall) event.APICall {
	a.EventID = strings.Clone(a.EventID)
	a.RequestID = strings.Clone(a.RequestID)
	a.SharedEventID = strings.Clone(a.SharedEventID)
	a.ErrorMessage = strings.Clone(a.ErrorMessage)
	res := make([]event.Resource, len(a.Resources))
	for i, r := range a.Resources {
		r.ARN = strings.Clone(r.ARN)
		res[i] = r
	}
	if len(res) == 0 {
		res = nil
	}
	a.Resources = res
	a.RequestParameters = bytes.Clone(a.RequestParameters)
	a.ResponseElements = bytes.Clone(a.ResponseElements)
	a.AdditionalEventData = bytes.Clone(a.AdditionalEventData)
	a.ServiceEventDetails = bytes.Clone(a.ServiceEventDetails)
	return a
}

// oneByteReader returns one byte per Read, to exercise every refill path.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.input")
	if err != nil || len(inputs) == 0 {
		t.Fatal("no testdata/*.input files", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".input")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			steps := decodeAll(t, NewDecoder(bytes.NewReader(data)))
			got, err := json.MarshalIndent(steps, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(in, ".input") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (run with -update and review the diff):\n%s", golden, firstDiff(got, want))
			}
			// The result must not depend on how the reader splits the input.
			slow := decodeAll(t, NewDecoder(oneByteReader{bytes.NewReader(data)}))
			if !reflect.DeepEqual(steps, slow) {
				t.Errorf("one-byte reads give a different result:\n%s", firstDiff(mustJSON(slow), got))
			}
		})
	}
}

func mustJSON(v any) []byte {
	b, _ := json.MarshalIndent(v, "", "  ")
	return append(b, '\n')
}

func firstDiff(got, want []byte) string {
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			return fmt.Sprintf("line %d:\n got: %s\nwant: %s", i+1, g, w)
		}
	}
	return "(no line differs)"
}

// TestShapes checks the key facts of each golden input directly, so that a
// careless -update cannot hide a regression.
func TestShapes(t *testing.T) {
	type want struct {
		names  []string // eventName of the good records, in order
		errs   []string // "record:field" of the RecordErrors, in order
		final  string   // "" for io.EOF, else a substring of the final error
		record int64    // Pos().Record at the end
	}
	all := []string{"CreateUser", "GetObject", "ConsoleLogin", "AssumeRole", "StopLogging"}
	tests := map[string]want{
		"records_doc":    {names: all, record: 5},
		"records_pretty": {names: all[:3], record: 3},
		"array":          {names: all[1:4], record: 3},
		"ndjson":         {names: all, record: 5},
		"ndjson_docs":    {names: all, record: 5},
		"eventbridge":    {names: []string{"CreateUser", "ConsoleLogin", "AssumeRole", "StopLogging"}, record: 4},
		"cloudwatch":     {names: all[:3], record: 3},
		"digest":         {record: 0},
		"escapes":        {names: []string{"PutRolePolicy", "ListBuckets"}, record: 2},
		"malformed": {
			names:  []string{"First", "Last"},
			errs:   []string{"2:", "3:eventTime", "4:eventTime", "5:eventName", "6:userIdentity.type", "7:resources[0].accountId", "8:", "9:readOnly", "10:", "11:"},
			record: 12,
		},
		"malformed_doc": {
			names:  []string{"A", "E"},
			errs:   []string{"2:", "3:eventTime", "4:", "5:userIdentity"},
			record: 6,
		},
		"truncated": {names: all[:3], final: "input ends inside Records array", record: 3},
	}
	for name, w := range tests {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile("testdata/" + name + ".input")
			if err != nil {
				t.Fatal(err)
			}
			steps := decodeAll(t, NewDecoder(bytes.NewReader(data)))
			var names, errs []string
			for _, s := range steps {
				if s.Event != nil {
					names = append(names, s.Event.EventName)
				}
				if s.Error != nil {
					errs = append(errs, fmt.Sprintf("%d:%s", s.Error.Record, s.Error.Field))
				}
			}
			last := steps[len(steps)-1]
			if !reflect.DeepEqual(names, w.names) {
				t.Errorf("records = %q, want %q", names, w.names)
			}
			if !reflect.DeepEqual(errs, w.errs) {
				t.Errorf("errors = %q, want %q", errs, w.errs)
			}
			if w.final == "" && last.End != "EOF" || w.final != "" && !strings.Contains(last.End, w.final) {
				t.Errorf("end = %q, want %q", last.End, w.final)
			}
			if last.Pos.Record != w.record {
				t.Errorf("Pos().Record = %d, want %d", last.Pos.Record, w.record)
			}
		})
	}
}

func TestFieldValues(t *testing.T) {
	data, err := os.ReadFile("testdata/records_doc.input")
	if err != nil {
		t.Fatal(err)
	}
	steps := decodeAll(t, NewDecoder(bytes.NewReader(data)))
	get := func(i int) event.APICall { return steps[i].Event.APICall }
	iam, s3, root, svc, fail := get(0), get(1), get(2), get(3), get(4)
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	check("iam.EventTime", iam.EventTime, time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	check("iam.SourceIP", iam.SourceIP.String(), "198.51.100.7")
	check("iam.ReadOnly", iam.ReadOnly, event.False)
	check("iam.ManagementEvent", iam.ManagementEvent, event.True)
	check("iam.UserIdentity.UserName", iam.UserIdentity.UserName, "alice")
	check("s3.EventCategory", s3.EventCategory, "Data")
	check("s3.EventTime", s3.EventTime, time.Date(2024, 3, 1, 12, 0, 1, 123000000, time.UTC))
	check("s3.Resources", s3.Resources, []event.Resource{
		{ARN: "arn:aws:s3:::acme-data/reports/q1.csv", Type: "AWS::S3::Object"},
		{ARN: "arn:aws:s3:::acme-data", AccountID: "111122223333", Type: "AWS::S3::Bucket"}})
	check("s3.PrincipalID", s3.UserIdentity.PrincipalID, "AROAEXAMPLEAPP:i-0123456789abcdef0")
	check("s3.EC2RoleDelivery", s3.UserIdentity.EC2RoleDelivery, "2.0")
	check("s3.IssuerARN", s3.UserIdentity.IssuerARN, "arn:aws:iam::111122223333:role/app-role")
	check("s3.SessionCreated", s3.UserIdentity.SessionCreated, time.Date(2024, 3, 1, 11, 2, 3, 0, time.UTC))
	check("s3.ResponseElements", s3.ResponseElements, []byte(nil))
	check("s3.VPCEndpointID", s3.VPCEndpointID, "vpce-0abc1234")
	check("root.Type", root.UserIdentity.Type, "Root")
	check("root.SourceIP", root.SourceIP.String(), "2001:db8::1")
	check("root.AdditionalEventData", string(root.AdditionalEventData), `{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":"No"}`)
	check("root.RequestParameters", root.RequestParameters, []byte(nil))
	check("svc.InvokedBy", svc.UserIdentity.InvokedBy, "cloudformation.amazonaws.com")
	check("svc.SourceIP.IsValid", svc.SourceIP.IsValid(), false)
	check("svc.SharedEventID", svc.SharedEventID, "shared-0001")
	check("fail.EventTime", fail.EventTime, time.Date(2024, 3, 1, 10, 7, 0, 0, time.UTC))
	check("fail.ErrorCode", fail.ErrorCode, "AccessDenied")
	check("fail.OnBehalfOf", fail.UserIdentity.OnBehalfOfUserID, "9067-user")
	check("fail.SourceIdentity", fail.UserIdentity.SourceIdentity, "bob@example.com")
	check("fail.MFA", fail.UserIdentity.MFAAuthenticated, "true")
	check("fail.SessionCredentialFromConsole", fail.SessionCredentialFromConsole, "true")

	data, _ = os.ReadFile("testdata/escapes.input")
	steps = decodeAll(t, NewDecoder(bytes.NewReader(data)))
	e := get(0)
	check("UserAgent", e.UserAgent, "tab\there \"quoted\" back\\slash / nl\n uni é中 😀 lone \uFFFD end")
	check("SourceIP (unmapped)", e.SourceIP.String(), "192.0.2.33")
	check("EventID (eventId)", e.EventID, "evt-1")
	check("EventType (escaped key)", e.EventType, "AwsApiCall")
	check("Resources (arn)", e.Resources, []event.Resource{{ARN: "arn:aws:iam::111122223333:role/r", Type: "AWS::IAM::Role"}})
	check("ReadOnly (string)", e.ReadOnly, event.False)
	check("UserName", e.UserIdentity.UserName, "Jürgen")
	check("ErrorMessage", e.ErrorMessage, "café – ✓ 日本")
	e = get(1)
	check("EventTime (space form)", e.EventTime, time.Date(2024, 3, 1, 12, 0, 0, 250000000, time.UTC))
	check("MFA (bool)", e.UserIdentity.MFAAuthenticated, "true")
}

func TestRecordErrorDetails(t *testing.T) {
	data, _ := os.ReadFile("testdata/malformed.input")
	steps := decodeAll(t, NewDecoder(bytes.NewReader(data)))
	lines := bytes.Split(data, []byte("\n"))
	var off int64
	starts := []int64{}
	for _, l := range lines {
		starts = append(starts, off)
		off += int64(len(l)) + 1
	}
	for _, s := range steps {
		if s.Error == nil {
			continue
		}
		e := s.Error
		if e.Line != e.Record {
			t.Errorf("record %d: Line = %d, want %d", e.Record, e.Line, e.Record)
		}
		if e.Offset != starts[e.Record-1] {
			t.Errorf("record %d: Offset = %d, want %d", e.Record, e.Offset, starts[e.Record-1])
		}
	}
	if !strings.Contains(steps[1].Msg, "line 2") || !strings.Contains(steps[1].Msg, "invalid JSON: unexpected 'u'") {
		t.Errorf("syntax error message = %q", steps[1].Msg)
	}
	if !errors.Is(steps[4].Error, ErrMissingField) {
		t.Errorf("missing eventName: %v", steps[4].Error)
	}
}

func TestPos(t *testing.T) {
	data := []byte("{\"eventTime\":\"2024-03-01T12:00:00Z\",\"eventName\":\"A\"}\n{\"eventTime\":\"2024-03-01T12:00:00Z\",\"eventName\":\"B\"}\n")
	d := NewDecoder(bytes.NewReader(data))
	var ev event.Event
	if err := d.Next(&ev); err != nil {
		t.Fatal(err)
	}
	first := int64(bytes.IndexByte(data, '\n'))
	if p := d.Pos(); p != (decode.Position{Offset: first, Record: 1, Line: 0}) {
		t.Errorf("Pos = %+v", p)
	}
	if err := d.Next(&ev); err != nil {
		t.Fatal(err)
	}
	if p := d.Pos(); p != (decode.Position{Offset: int64(len(data) - 1), Record: 2, Line: 1}) {
		t.Errorf("Pos = %+v", p)
	}
	if err := d.Next(&ev); err != io.EOF {
		t.Fatalf("err = %v", err)
	}
}

// growingReader is a file being appended to.
type growingReader struct{ buf bytes.Buffer }

func (g *growingReader) Read(p []byte) (int, error) {
	if g.buf.Len() == 0 {
		return 0, io.EOF
	}
	return g.buf.Read(p)
}

func TestTailNDJSON(t *testing.T) {
	g := &growingReader{}
	d := NewDecoder(g)
	var ev event.Event
	rec := func(name string) string {
		return `{"eventTime":"2024-03-01T12:00:00Z","eventName":"` + name + `"}`
	}
	g.buf.WriteString(rec("A") + "\n" + rec("B")[:20])
	if err := d.Next(&ev); err != nil || ev.API.EventName != "A" {
		t.Fatalf("Next = %v, %q", err, ev.API.EventName)
	}
	err := d.Next(&ev)
	if !errors.Is(err, io.ErrUnexpectedEOF) || decode.IsRecordError(err) {
		t.Fatalf("partial line: err = %v, want io.ErrUnexpectedEOF", err)
	}
	g.buf.WriteString(rec("B")[20:] + "\n")
	if err := d.Next(&ev); err != nil || ev.API.EventName != "B" {
		t.Fatalf("after growth: Next = %v, %q", err, ev.API.EventName)
	}
	if err := d.Next(&ev); err != io.EOF {
		t.Fatalf("err = %v, want EOF", err)
	}
	g.buf.WriteString(rec("C") + "\n")
	if err := d.Next(&ev); err != nil || ev.API.EventName != "C" {
		t.Fatalf("after EOF: Next = %v, %q", err, ev.API.EventName)
	}
	if p := d.Pos(); p.Record != 3 || p.Line != 2 {
		t.Errorf("Pos = %+v", p)
	}
}

func TestBrokenDocument(t *testing.T) {
	tests := []struct {
		in, want string
		records  int
	}{
		{`{"Records":[{"eventTime":"2024-03-01T12:00:00Z","eventName":"A"} {"eventTime":"2024-03-01T12:00:00Z","eventName":"B"}]}`, "malformed document at offset 65: expected ',' or ']'", 1},
		{`{"Records":[{"eventTime":"2024-03-01T12:00:00Z","eventName":"A"}],"x":}`, "malformed document at offset 70: malformed value", 1},
		{`{"Records":[{"eventTime":"2024-03-01T12:00:00Z","eventName":"A"}`, "input ends inside Records array at offset 64", 1},
		{`[{"eventTime":"2024-03-01T12:00:00Z","eventName":"A"},`, "input ends inside array", 1},
		{`{"Records":[{"eventTime":"2024-03-01T12:00:00Z","eventName":"A"},{"eventTime":"2024-03-01T12:00:00Z","eventName":"B", "x":"abc`, "input ends inside Records array", 1},
	}
	for _, tc := range tests {
		steps := decodeAll(t, NewDecoder(strings.NewReader(tc.in)))
		last := steps[len(steps)-1]
		if !strings.Contains(last.End, tc.want) {
			t.Errorf("%s:\n end = %q, want %q", tc.in, last.End, tc.want)
		}
		if n := len(steps) - 1; n != tc.records {
			t.Errorf("%s: %d records before the error, want %d", tc.in, n, tc.records)
		}
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		head string
		want Kind
	}{
		{`{"Records":[{"eventVersion":"1.08"`, Records},
		{`  {"foo": 1, "Records": [`, Records},
		{"\xef\xbb\xbf[{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"Root\"},\"eventTime\":\"2024", Records},
		{`{"eventVersion":"1.08","userIdentity":{"type":"Ro`, Records},
		{`{"version":"0","id":"x","detail-type":"AWS API Call via CloudTrail","source":"aws.iam"`, Records},
		{`{"version":"0","id":"x","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","detail":{"instance-id":"i-1"}}`, NotCloudTrail},
		{`{"version":"0","detail-type":"x","detail":{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z"}}`, Records},
		{`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":1,"message":"{\"eventVersion\":\"1.08\"`, Records},
		{`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"vpc","logEvents":[{"id":"1","timestamp":1,"message":"2 123 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1 2 ACCEPT OK"}]}`, NotCloudTrail},
		{`{"awsAccountId":"111122223333","digestStartTime":"2024-03-01T11:00:00Z"`, Digest},
		{`{"version":"1.100000","account_id":"1","region":"us-east-1","vpc_id":"vpc-1","query_timestamp":"2024"`, NotCloudTrail},
		{`2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK`, NotCloudTrail},
		{``, NotCloudTrail},
		{`{"schemaVersion":"2.0","accountId":"1","type":"Recon:EC2/PortProbeUnprotectedPort"`, NotCloudTrail},
	}
	for _, tc := range tests {
		if got := Sniff([]byte(tc.head)); got != tc.want {
			t.Errorf("Sniff(%.60q) = %v, want %v", tc.head, got, tc.want)
		}
	}
	for _, name := range []string{"records_doc", "records_pretty", "array", "ndjson", "ndjson_docs", "eventbridge", "cloudwatch", "escapes"} {
		data, _ := os.ReadFile("testdata/" + name + ".input")
		if name == "cloudwatch" {
			data = data[bytes.IndexByte(data, '\n')+1:] // the first line is a control message
		}
		if got := Sniff(data[:min(len(data), 2048)]); got != Records {
			t.Errorf("Sniff(%s) = %v", name, got)
		}
	}
	data, _ := os.ReadFile("testdata/digest.input")
	if got := Sniff(data); got != Digest {
		t.Errorf("Sniff(digest) = %v", got)
	}
}

func TestKeyTable(t *testing.T) {
	for id, name := range keyNames {
		if name == "" {
			continue
		}
		if got := lookupKey([]byte(name)); got != keyID(id) {
			t.Errorf("lookupKey(%q) = %d, want %d", name, got, id)
		}
		if got := lookupKey([]byte(strings.ToUpper(name))); got != keyID(id) {
			t.Errorf("lookupKey(%q) = %d, want %d", strings.ToUpper(name), got, id)
		}
	}
}

func TestParseTime(t *testing.T) {
	for _, s := range []string{"2024-02-29T23:59:59Z", "1999-12-31T00:00:00.5Z", "2023-03-22 16:14:42.000000000", "2024-03-01T12:00:00.123456789123Z", "2000-01-01T00:00:00+05:30", "0001-01-01T00:00:00Z"} {
		got, ok := parseTime([]byte(s))
		want, err := time.Parse(time.RFC3339Nano, strings.Replace(s, " ", "T", 1)+map[bool]string{true: "Z"}[!strings.ContainsAny(s[19:], "Z+")])
		if !ok || err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("parseTime(%q) = %v, %v; want %v (%v)", s, got, ok, want, err)
		}
	}
	for _, s := range []string{"2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-01T24:00:00Z", "yesterday", "", "2024-01-01T00:00:00.Z"} {
		if _, ok := parseTime([]byte(s)); ok {
			t.Errorf("parseTime(%q) succeeded", s)
		}
	}
}

func TestParseRecord(t *testing.T) {
	data, _ := os.ReadFile("testdata/ndjson.input")
	line := bytes.SplitN(data, []byte("\n"), 2)[0]
	var api event.APICall
	if err := ParseRecord(line, &api); err != nil {
		t.Fatal(err)
	}
	want, err := refDecode(line)
	if err != nil {
		t.Fatal(err)
	}
	if diff := diffAPI(api, want); diff != "" {
		t.Error(diff)
	}
	for in, wantErr := range map[string]string{
		`{"eventName":"A"}`: "field eventTime: required field missing",
		`{"eventTime":"2024-01-01T00:00:00Z","eventName":"A"} x`: "invalid JSON",
		`{"eventTime":"2024-01-01T00:00:00Z","eventName":"A"`:    "unexpected end of input",
		`[]`: "not a JSON object",
	} {
		if err := ParseRecord([]byte(in), &api); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("ParseRecord(%s) = %v, want %q", in, err, wantErr)
		}
	}
	var id event.UserIdentity
	err = ParseIdentity([]byte(`{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s","sessionContext":{"sessionIssuer":{"userName":"r"},"attributes":{"mfaAuthenticated":"true"}}}`), &id)
	if err != nil || id.Type != "AssumedRole" || id.IssuerUserName != "r" || id.MFAAuthenticated != "true" {
		t.Errorf("ParseIdentity = %+v, %v", id, err)
	}
	if err := ParseIdentity([]byte(`{"type":1}`), &id); err == nil || !strings.Contains(err.Error(), "userIdentity.type") {
		t.Errorf("ParseIdentity(bad type) = %v", err)
	}
}
