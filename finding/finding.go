// Package finding is Vigil's finding model: GuardDuty's finding JSON shape
// (schemaVersion 2.0), the catalogue of finding types with their default
// severities, deterministic finding ids and the aggregation of repeated
// occurrences onto one finding.
//
// The JSON field names and nesting are GuardDuty's (see the GuardDuty API
// model's Finding shape); times are ISO-8601 strings with milliseconds in UTC,
// and absent optional fields are omitted.
package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// TimeFormat is how GuardDuty writes createdAt, updatedAt, eventFirstSeen,
// eventLastSeen and launchTime.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// FormatTime formats t as GuardDuty does (UTC, milliseconds).
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeFormat)
}

// ParseTime parses a time written by FormatTime (or any RFC 3339 time).
func ParseTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

// Finding is one GuardDuty-shaped finding.
type Finding struct {
	AccountID     string   `json:"accountId"`
	Arn           string   `json:"arn"`
	Confidence    *float64 `json:"confidence,omitempty"`
	CreatedAt     string   `json:"createdAt"`
	Description   string   `json:"description"`
	ID            string   `json:"id"`
	Partition     string   `json:"partition"`
	Region        string   `json:"region"`
	Resource      Resource `json:"resource"`
	SchemaVersion string   `json:"schemaVersion"`
	Service       Service  `json:"service"`
	Severity      float64  `json:"severity"`
	Title         string   `json:"title"`
	Type          string   `json:"type"`
	UpdatedAt     string   `json:"updatedAt"`
}

// Resource is the affected resource.
type Resource struct {
	ResourceType     string            `json:"resourceType"`
	InstanceDetails  *InstanceDetails  `json:"instanceDetails,omitempty"`
	AccessKeyDetails *AccessKeyDetails `json:"accessKeyDetails,omitempty"`
	S3BucketDetails  []S3BucketDetail  `json:"s3BucketDetails,omitempty"`
}

// Resource types.
const (
	ResourceInstance  = "Instance"
	ResourceAccessKey = "AccessKey"
	ResourceS3Bucket  = "S3Bucket"
)

// InstanceDetails describes an EC2 instance.
type InstanceDetails struct {
	AvailabilityZone   string              `json:"availabilityZone,omitempty"`
	IamInstanceProfile *IamInstanceProfile `json:"iamInstanceProfile,omitempty"`
	ImageDescription   string              `json:"imageDescription,omitempty"`
	ImageID            string              `json:"imageId,omitempty"`
	InstanceID         string              `json:"instanceId,omitempty"`
	InstanceState      string              `json:"instanceState,omitempty"`
	InstanceType       string              `json:"instanceType,omitempty"`
	OutpostArn         string              `json:"outpostArn,omitempty"`
	LaunchTime         string              `json:"launchTime,omitempty"`
	NetworkInterfaces  []NetworkInterface  `json:"networkInterfaces,omitempty"`
	Platform           string              `json:"platform,omitempty"`
	ProductCodes       []ProductCode       `json:"productCodes,omitempty"`
	Tags               []Tag               `json:"tags,omitempty"`
}

// IamInstanceProfile names an instance profile.
type IamInstanceProfile struct {
	Arn string `json:"arn,omitempty"`
	ID  string `json:"id,omitempty"`
}

// ProductCode is a marketplace product code.
type ProductCode struct {
	Code        string `json:"productCodeId,omitempty"`
	ProductType string `json:"productCodeType,omitempty"`
}

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// NetworkInterface is one network interface of an instance.
type NetworkInterface struct {
	Ipv6Addresses      []string           `json:"ipv6Addresses,omitempty"`
	NetworkInterfaceID string             `json:"networkInterfaceId,omitempty"`
	PrivateDNSName     string             `json:"privateDnsName,omitempty"`
	PrivateIPAddress   string             `json:"privateIpAddress,omitempty"`
	PrivateIPAddresses []PrivateIPAddress `json:"privateIpAddresses,omitempty"`
	PublicDNSName      string             `json:"publicDnsName,omitempty"`
	PublicIP           string             `json:"publicIp,omitempty"`
	SecurityGroups     []SecurityGroup    `json:"securityGroups,omitempty"`
	SubnetID           string             `json:"subnetId,omitempty"`
	VpcID              string             `json:"vpcId,omitempty"`
}

// PrivateIPAddress is one private address of an interface.
type PrivateIPAddress struct {
	PrivateDNSName   string `json:"privateDnsName,omitempty"`
	PrivateIPAddress string `json:"privateIpAddress,omitempty"`
}

// SecurityGroup names a security group.
type SecurityGroup struct {
	GroupID   string `json:"groupId,omitempty"`
	GroupName string `json:"groupName,omitempty"`
}

// AccessKeyDetails describes the credentials behind an API call.
type AccessKeyDetails struct {
	AccessKeyID string `json:"accessKeyId,omitempty"`
	PrincipalID string `json:"principalId,omitempty"`
	UserName    string `json:"userName,omitempty"`
	UserType    string `json:"userType,omitempty"`
}

// S3BucketDetail describes a bucket.
type S3BucketDetail struct {
	Arn       string `json:"arn,omitempty"`
	Name      string `json:"name,omitempty"`
	Type      string `json:"type,omitempty"`
	CreatedAt *int64 `json:"createdAt,omitempty"` // epoch seconds, as the model's timestamp type
	Owner     *Owner `json:"owner,omitempty"`
	Tags      []Tag  `json:"tags,omitempty"`
}

// Owner is a bucket owner.
type Owner struct {
	ID string `json:"id,omitempty"`
}

// Service holds what GuardDuty saw.
type Service struct {
	Action         Action          `json:"action"`
	AdditionalInfo *AdditionalInfo `json:"additionalInfo,omitempty"`
	Archived       bool            `json:"archived"`
	Count          int64           `json:"count"`
	DetectorID     string          `json:"detectorId"`
	EventFirstSeen string          `json:"eventFirstSeen"`
	EventLastSeen  string          `json:"eventLastSeen"`
	Evidence       *Evidence       `json:"evidence,omitempty"`
	ResourceRole   string          `json:"resourceRole"`
	ServiceName    string          `json:"serviceName"`
	UserFeedback   string          `json:"userFeedback,omitempty"`
	FeatureName    string          `json:"featureName,omitempty"`
}

// Resource roles.
const (
	RoleTarget = "TARGET"
	RoleActor  = "ACTOR"
)

// AdditionalInfo is GuardDuty's {value, type} pair. Value holds a JSON
// document (as a string) with type-specific keys such as threatListName.
type AdditionalInfo struct {
	Value string `json:"value"`
	Type  string `json:"type"`
}

// Evidence lists the threat intelligence that matched.
type Evidence struct {
	ThreatIntelligenceDetails []ThreatIntelligenceDetail `json:"threatIntelligenceDetails"`
}

// ThreatIntelligenceDetail names one matching list.
type ThreatIntelligenceDetail struct {
	ThreatListName   string   `json:"threatListName,omitempty"`
	ThreatNames      []string `json:"threatNames,omitempty"`
	ThreatFileSha256 string   `json:"threatFileSha256,omitempty"`
}

// Action types.
const (
	ActionNetworkConnection = "NETWORK_CONNECTION"
	ActionPortProbe         = "PORT_PROBE"
	ActionDNSRequest        = "DNS_REQUEST"
	ActionAWSAPICall        = "AWS_API_CALL"
)

// Action is what happened: actionType plus one detail block.
type Action struct {
	ActionType              string                   `json:"actionType"`
	NetworkConnectionAction *NetworkConnectionAction `json:"networkConnectionAction,omitempty"`
	PortProbeAction         *PortProbeAction         `json:"portProbeAction,omitempty"`
	DNSRequestAction        *DNSRequestAction        `json:"dnsRequestAction,omitempty"`
	AwsAPICallAction        *AwsAPICallAction        `json:"awsApiCallAction,omitempty"`
}

// Connection directions.
const (
	DirectionInbound  = "INBOUND"
	DirectionOutbound = "OUTBOUND"
	DirectionUnknown  = "UNKNOWN"
)

// NetworkConnectionAction details a connection.
type NetworkConnectionAction struct {
	Blocked               bool             `json:"blocked"`
	ConnectionDirection   string           `json:"connectionDirection"`
	LocalPortDetails      *PortDetails     `json:"localPortDetails,omitempty"`
	Protocol              string           `json:"protocol"`
	LocalIPDetails        *LocalIPDetails  `json:"localIpDetails,omitempty"`
	LocalNetworkInterface string           `json:"localNetworkInterface,omitempty"`
	RemoteIPDetails       *RemoteIPDetails `json:"remoteIpDetails,omitempty"`
	RemotePortDetails     *PortDetails     `json:"remotePortDetails,omitempty"`
}

// PortProbeAction details probes of local ports.
type PortProbeAction struct {
	Blocked          bool              `json:"blocked"`
	PortProbeDetails []PortProbeDetail `json:"portProbeDetails"`
}

// PortProbeDetail is one probed port.
type PortProbeDetail struct {
	LocalPortDetails *PortDetails     `json:"localPortDetails,omitempty"`
	LocalIPDetails   *LocalIPDetails  `json:"localIpDetails,omitempty"`
	RemoteIPDetails  *RemoteIPDetails `json:"remoteIpDetails,omitempty"`
}

// DNSRequestAction details a DNS query.
type DNSRequestAction struct {
	Domain            string `json:"domain"`
	Protocol          string `json:"protocol,omitempty"`
	Blocked           bool   `json:"blocked"`
	DomainWithSuffix  string `json:"domainWithSuffix,omitempty"`
	VpcOwnerAccountID string `json:"vpcOwnerAccountId,omitempty"`
}

// AwsAPICallAction details an API call.
type AwsAPICallAction struct {
	API                  string                `json:"api"`
	CallerType           string                `json:"callerType,omitempty"`
	DomainDetails        *DomainDetails        `json:"domainDetails,omitempty"`
	ErrorCode            string                `json:"errorCode,omitempty"`
	UserAgent            string                `json:"userAgent,omitempty"`
	RemoteIPDetails      *RemoteIPDetails      `json:"remoteIpDetails,omitempty"`
	ServiceName          string                `json:"serviceName,omitempty"`
	RemoteAccountDetails *RemoteAccountDetails `json:"remoteAccountDetails,omitempty"`
	AffectedResources    map[string]string     `json:"affectedResources,omitempty"`
}

// DomainDetails names a domain.
type DomainDetails struct {
	Domain string `json:"domain,omitempty"`
}

// RemoteAccountDetails names another AWS account.
type RemoteAccountDetails struct {
	AccountID  string `json:"accountId,omitempty"`
	Affiliated bool   `json:"affiliated"`
}

// PortDetails is a port and its service name.
type PortDetails struct {
	Port     int    `json:"port"`
	PortName string `json:"portName,omitempty"`
}

// LocalIPDetails is a local address.
type LocalIPDetails struct {
	IPAddressV4 string `json:"ipAddressV4,omitempty"`
	IPAddressV6 string `json:"ipAddressV6,omitempty"`
}

// RemoteIPDetails is a remote address with its enrichment.
type RemoteIPDetails struct {
	City         *City         `json:"city,omitempty"`
	Country      *Country      `json:"country,omitempty"`
	GeoLocation  *GeoLocation  `json:"geoLocation,omitempty"`
	IPAddressV4  string        `json:"ipAddressV4,omitempty"`
	IPAddressV6  string        `json:"ipAddressV6,omitempty"`
	Organization *Organization `json:"organization,omitempty"`
}

// City is a city name.
type City struct {
	CityName string `json:"cityName,omitempty"`
}

// Country is a country.
type Country struct {
	CountryCode string `json:"countryCode,omitempty"`
	CountryName string `json:"countryName,omitempty"`
}

// GeoLocation is a coordinate.
type GeoLocation struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Organization is the network that owns an address.
type Organization struct {
	Asn    string `json:"asn,omitempty"`
	AsnOrg string `json:"asnOrg,omitempty"`
	Isp    string `json:"isp,omitempty"`
	Org    string `json:"org,omitempty"`
}

// ID returns the deterministic 32-hex finding id for a finding type and its
// aggregation key (account, resource and the type's discriminating
// parameters). The same inputs always give the same id, so replaying logs
// reproduces ids.
func ID(typ string, key ...string) string {
	h := sha256.New()
	h.Write([]byte(typ))
	for _, k := range key {
		h.Write([]byte{0})
		h.Write([]byte(k))
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// DetectorID returns the deterministic detector id of an account and region:
// 32 hex characters, as GuardDuty's.
func DetectorID(account, region string) string {
	return ID("detector", account, region)
}

// ARN returns the finding ARN GuardDuty would give it.
func ARN(partition, region, account, detectorID, id string) string {
	if partition == "" {
		partition = "aws"
	}
	return "arn:" + partition + ":guardduty:" + region + ":" + account + ":detector/" + detectorID + "/finding/" + id
}

// SeverityLabel returns the band of a severity: Critical, High, Medium or Low.
func SeverityLabel(s float64) string {
	switch {
	case s >= 9:
		return "Critical"
	case s >= 7:
		return "High"
	case s >= 4:
		return "Medium"
	default:
		return "Low"
	}
}

// ThreatPurpose returns the part of a type before the colon.
func ThreatPurpose(typ string) string {
	p, _, _ := strings.Cut(typ, ":")
	return p
}
