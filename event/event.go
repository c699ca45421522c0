// Package event defines the typed events that decoders produce and detectors
// consume: network flows (VPC Flow Logs), DNS queries (Route 53 Resolver query
// logs) and API calls (CloudTrail).
//
// Events hold no maps and use [netip.Addr] for addresses. A decoder fills one
// [Event] in place per record, so the hot path allocates only for high-cardinality
// strings. An Event and everything it references is owned by the decoder and is
// valid until the decoder's next call to Next: a detector that keeps a value past
// that copies it. Raw JSON fields ([APICall.RequestParameters] and friends) are
// kept undecoded and are parsed only by the detectors that need them.
package event

import (
	"net/netip"
	"time"
)

// Kind says which member of an [Event] is set.
type Kind uint8

const (
	KindNone    Kind = iota
	KindFlow         // Event.Flow: one VPC Flow Log record
	KindDNS          // Event.DNS: one Route 53 Resolver query log record
	KindAPICall      // Event.API: one CloudTrail record
)

func (k Kind) String() string {
	switch k {
	case KindFlow:
		return "flow"
	case KindDNS:
		return "dns"
	case KindAPICall:
		return "cloudtrail"
	}
	return "none"
}

// Event is one decoded record. Exactly the member named by Kind is meaningful.
type Event struct {
	Kind Kind
	Flow Flow
	DNS  DNSQuery
	API  APICall
}

// Time returns the event time of the record: the flow's end (when the
// aggregation window closed), the DNS query's timestamp or CloudTrail's eventTime.
func (e *Event) Time() time.Time {
	switch e.Kind {
	case KindFlow:
		if !e.Flow.End.IsZero() {
			return e.Flow.End
		}
		return e.Flow.Start
	case KindDNS:
		return e.DNS.Time
	case KindAPICall:
		return e.API.EventTime
	}
	return time.Time{}
}

// Action is a flow's ACCEPT or REJECT.
type Action uint8

const (
	ActionUnknown Action = iota // "-" or absent
	ActionAccept
	ActionReject
)

func (a Action) String() string {
	switch a {
	case ActionAccept:
		return "ACCEPT"
	case ActionReject:
		return "REJECT"
	}
	return "-"
}

// LogStatus is a flow record's log-status.
type LogStatus uint8

const (
	LogStatusUnknown  LogStatus = iota // absent from the format
	LogStatusOK                        // OK: data is logged normally
	LogStatusNoData                    // NODATA: no traffic in the window
	LogStatusSkipData                  // SKIPDATA: records were skipped in the window
)

func (s LogStatus) String() string {
	switch s {
	case LogStatusOK:
		return "OK"
	case LogStatusNoData:
		return "NODATA"
	case LogStatusSkipData:
		return "SKIPDATA"
	}
	return "-"
}

// Direction is a flow's flow-direction field (version 5).
type Direction uint8

const (
	DirectionUnknown Direction = iota
	DirectionIngress
	DirectionEgress
)

func (d Direction) String() string {
	switch d {
	case DirectionIngress:
		return "ingress"
	case DirectionEgress:
		return "egress"
	}
	return "-"
}

// Protocol numbers used by detectors (IANA).
const (
	ProtoICMP   = 1
	ProtoIGMP   = 2
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
)

// Flow is one VPC Flow Logs record. Fields absent from the log format, or
// written as "-", are zero: an invalid netip.Addr, 0, "" or the Unknown enum
// value. HasPorts reports whether srcport/dstport were present, since 0 is a
// real port number for some protocols.
type Flow struct {
	Version     int
	AccountID   string
	InterfaceID string
	SrcAddr     netip.Addr
	DstAddr     netip.Addr
	SrcPort     uint16
	DstPort     uint16
	HasPorts    bool
	Protocol    uint8 // IANA protocol number; 0 when absent (check HasProtocol)
	HasProtocol bool
	Packets     int64
	Bytes       int64
	Start       time.Time // start of the aggregation window (UTC)
	End         time.Time // end of the aggregation window (UTC)
	Action      Action
	LogStatus   LogStatus

	VPCID      string
	SubnetID   string
	InstanceID string
	TCPFlags   uint16 // OR of the TCP flags seen in the window
	Type       string // IPv4, IPv6 or EFA
	PktSrcAddr netip.Addr
	PktDstAddr netip.Addr

	Region           string
	AZID             string
	SublocationType  string
	SublocationID    string
	PktSrcAWSService string
	PktDstAWSService string
	FlowDirection    Direction
	TrafficPath      int8 // 1..8 per the docs; 0 when absent

	// Later-version fields (v7+: ECS), kept as text when present.
	ECSClusterName string
	ECSTaskID      string
	RejectReason   string
}

// DNSAnswer is one answer of a Route 53 Resolver query log record.
type DNSAnswer struct {
	Rdata string
	Type  string
	Class string
}

// DNSQuery is one Route 53 Resolver query log record.
type DNSQuery struct {
	Version    string
	AccountID  string
	Region     string
	VPCID      string
	Time       time.Time // query_timestamp
	QueryName  string    // as logged, lower-cased, without the trailing dot
	QueryType  string    // A, AAAA, TXT ...
	QueryClass string
	RCode      string // NOERROR, NXDOMAIN ...
	Answers    []DNSAnswer
	SrcAddr    netip.Addr
	SrcPort    uint16
	Transport  string // UDP, TCP, DoH ...

	// srcids: the instance or resolver endpoint that sent the query.
	SrcInstanceID       string
	SrcResolverEndpoint string
	SrcResolverNetwork  string

	FirewallRuleAction    string // ALERT, BLOCK, ALLOW
	FirewallRuleGroupID   string
	FirewallDomainListID  string
	FirewallProtection    string
	ResolverEndpointID    string // outbound resolver endpoint, when logged
	ResolverEndpointIPSrc string
}

// UserIdentity is CloudTrail's userIdentity.
type UserIdentity struct {
	Type        string // Root, IAMUser, AssumedRole, FederatedUser, AWSAccount, AWSService, IdentityCenterUser ...
	PrincipalID string
	ARN         string
	AccountID   string
	AccessKeyID string
	UserName    string
	InvokedBy   string // e.g. "ec2.amazonaws.com"; set when an AWS service made the call

	// sessionContext
	MFAAuthenticated  string // "true" / "false" as logged
	SessionCreated    time.Time
	SourceIdentity    string
	EC2RoleDelivery   string // "1.0" or "2.0" on instance-role credentials
	IssuerType        string // sessionIssuer.type: Role, IAMUser, Root ...
	IssuerPrincipalID string
	IssuerARN         string
	IssuerAccountID   string
	IssuerUserName    string

	OnBehalfOfUserID string // Identity Center
	CredentialID     string
}

// Resource is one element of CloudTrail's resources array.
type Resource struct {
	ARN       string
	AccountID string
	Type      string
}

// APICall is one CloudTrail record (management or data event).
type APICall struct {
	EventVersion                 string
	EventTime                    time.Time
	EventSource                  string // e.g. iam.amazonaws.com
	EventName                    string
	AWSRegion                    string
	SourceIPAddress              string     // as logged: an address or an AWS service name
	SourceIP                     netip.Addr // SourceIPAddress parsed, when it is an address
	UserAgent                    string
	ErrorCode                    string
	ErrorMessage                 string
	RequestID                    string
	EventID                      string
	EventType                    string // AwsApiCall, AwsConsoleSignIn, AwsServiceEvent ...
	EventCategory                string // Management, Data, Insight, NetworkActivity
	APIVersion                   string
	ReadOnly                     OptBool
	ManagementEvent              OptBool
	RecipientAccountID           string
	SharedEventID                string
	VPCEndpointID                string
	VPCEndpointAccount           string
	SessionCredentialFromConsole string

	UserIdentity UserIdentity
	Resources    []Resource

	// Raw JSON, exactly as in the record (nil when absent or null). Parsed on demand.
	RequestParameters   []byte
	ResponseElements    []byte
	AdditionalEventData []byte
	ServiceEventDetails []byte
}

// OptBool is a JSON boolean that may be absent.
type OptBool uint8

const (
	Unset OptBool = iota
	False
	True
)

// IsTrue reports whether the value is present and true.
func (b OptBool) IsTrue() bool { return b == True }
