package detect

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/vigilsec/vigil/finding"
)

// ErrUnknownType is wrapped by SampleFindings' error for finding types that
// are not in the catalogue (GuardDuty answers BadRequestException).
var ErrUnknownType = errors.New("unknown finding type")

// Values GuardDuty-style samples use. Names follow GuardDuty's own sample
// findings ("GeneratedFinding…", instance i-99999999); addresses are from the
// documentation ranges 198.51.100.0/24 and 203.0.113.0/24.
const (
	SampleInstanceID     = "i-99999999"
	SampleAccessKeyID    = "ASIASAMPLE0000000001"
	SampleUserName       = "GeneratedFindingUserName"
	SampleThreatListName = "GeneratedFindingThreatListName"
	SampleBucketName     = "generatedfindingbucketname"

	samplePrivateIP  = "10.0.0.1"
	samplePublicIP   = "198.51.100.1"
	sampleThreatName = "GeneratedFindingThreatName"
	sampleTrailName  = "GeneratedFindingTrailName"
	sampleUserAgent  = "aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0 exe/x86_64 prompt/off"
)

// SampleFindings builds GuardDuty's CreateSampleFindings output: one complete
// sample finding of each requested type, for account and region, with every
// timestamp at. nil or empty types means every type in the catalogue; a type
// named twice yields one finding. Unknown types are an error (wrapping
// ErrUnknownType) naming them, and no findings are returned.
//
// A sample has a deterministic id (from account, region, type and "sample"),
// the type's default severity, a title starting "[SAMPLE] " and
// additionalInfo.sample = true, so consoles and filters can tell it from real
// findings.
func SampleFindings(account, region string, types []string, at time.Time) ([]finding.Finding, error) {
	if account == "" {
		return nil, errors.New("sample findings: no account")
	}
	if at.IsZero() {
		return nil, errors.New("sample findings: no time")
	}
	if region == "" {
		region = DefaultRegion
	}
	var infos []TypeInfo
	if len(types) == 0 {
		infos = Catalog()
	} else {
		seen := make(map[string]bool, len(types))
		var unknown []string
		for _, t := range types {
			if seen[t] {
				continue
			}
			seen[t] = true
			ti, ok := LookupType(t)
			if !ok {
				unknown = append(unknown, strconv.Quote(t))
				continue
			}
			infos = append(infos, ti)
		}
		if len(unknown) > 0 {
			return nil, fmt.Errorf("%w: %s", ErrUnknownType, strings.Join(unknown, ", "))
		}
	}
	s := sampler{account: account, region: region, at: at}
	out := make([]finding.Finding, 0, len(infos))
	for _, ti := range infos {
		out = append(out, s.finding(ti))
	}
	return out, nil
}

type sampler struct {
	account, region string
	at              time.Time
}

// sampleUserType is the userType of a sample's accessKeyDetails: the
// credentials the real finding is about.
func sampleUserType(typ string) string {
	switch typ {
	case TypeRootCredentialUsage:
		return "Root"
	case TypeInstanceCredInsideAWS, TypeInstanceCredOutsideAWS:
		return "AssumedRole"
	}
	return "IAMUser"
}

// threatListType reports whether findings of typ come from a threat-list
// match and so carry evidence.
func threatListType(typ string) bool {
	if _, _, _, _, ok := trailSample(typ, "", "", ""); ok {
		return false
	}
	switch typ {
	case TypeInstanceCredInsideAWS, TypeInstanceCredOutsideAWS, TypeRootCredentialUsage, TypeCloudTrailLoggingDisable,
		TypePortscan, TypePortSweep, TypeSSHBruteForce, TypeRDPBruteForce, TypeWinRMBrute:
		return false
	}
	return true
}

func (s *sampler) finding(ti TypeInfo) finding.Finding {
	typ := ti.Type
	id := finding.ID(typ, s.account, s.region, "sample")
	det := finding.DetectorID(s.account, s.region)
	ts := finding.FormatTime(s.at)
	f := finding.Finding{
		AccountID:     s.account,
		Arn:           finding.ARN("aws", s.region, s.account, det, id),
		CreatedAt:     ts,
		ID:            id,
		Partition:     "aws",
		Region:        s.region,
		SchemaVersion: "2.0",
		Severity:      ti.Severity,
		Type:          typ,
		UpdatedAt:     ts,
		Service: finding.Service{
			Count:          1,
			DetectorID:     det,
			EventFirstSeen: ts,
			EventLastSeen:  ts,
			ResourceRole:   finding.RoleActor,
			ServiceName:    "guardduty",
		},
	}
	info := map[string]any{"sample": true}
	if threatListType(typ) {
		f.Service.Evidence = &finding.Evidence{ThreatIntelligenceDetails: []finding.ThreatIntelligenceDetail{{
			ThreatListName: SampleThreatListName,
			ThreatNames:    []string{sampleThreatName},
		}}}
		info["threatListName"] = SampleThreatListName
		info["threatName"] = sampleThreatName
	}

	switch ti.ResourceType {
	case finding.ResourceInstance:
		f.Resource = finding.Resource{ResourceType: finding.ResourceInstance, InstanceDetails: s.instance()}
	case finding.ResourceAccessKey:
		f.Resource = finding.Resource{ResourceType: finding.ResourceAccessKey, AccessKeyDetails: s.accessKey(typ)}
		f.Service.ResourceRole = finding.RoleTarget
	case finding.ResourceS3Bucket:
		f.Resource = finding.Resource{ResourceType: finding.ResourceS3Bucket, AccessKeyDetails: s.accessKey(typ), S3BucketDetails: s.bucket()}
		f.Service.ResourceRole = finding.RoleTarget
	}

	switch ti.ActionType {
	case finding.ActionNetworkConnection:
		s.connection(&f)
	case finding.ActionPortProbe:
		s.probe(&f)
	case finding.ActionDNSRequest:
		s.dnsRequest(&f)
	case finding.ActionAWSAPICall:
		s.apiCall(&f, info)
	}
	if f.Title == "" {
		// A catalogued type this file does not know yet: still a
		// complete finding, described from the catalogue.
		f.Title = fmt.Sprintf("Sample finding of type %s.", typ)
		f.Description = ti.Description
	}
	f.Title = "[SAMPLE] " + f.Title

	v, _ := json.Marshal(info) // a map of strings and bools always marshals
	f.Service.AdditionalInfo = &finding.AdditionalInfo{Value: string(v), Type: "default"}
	return f
}

func (s *sampler) internalDomain() string {
	if s.region == "us-east-1" {
		return "ec2.internal"
	}
	return s.region + ".compute.internal"
}

func (s *sampler) publicDomain() string {
	if s.region == "us-east-1" {
		return "compute-1.amazonaws.com"
	}
	return s.region + ".compute.amazonaws.com"
}

func (s *sampler) instance() *finding.InstanceDetails {
	dashed := func(ip string) string { return strings.ReplaceAll(ip, ".", "-") }
	privDNS := "ip-" + dashed(samplePrivateIP) + "." + s.internalDomain()
	return &finding.InstanceDetails{
		AvailabilityZone: s.region + "a",
		IamInstanceProfile: &finding.IamInstanceProfile{
			Arn: "arn:aws:iam::" + s.account + ":instance-profile/GeneratedFindingInstanceProfile",
			ID:  "GeneratedFindingInstanceProfileId",
		},
		ImageDescription: "GeneratedFindingInstanceImageDescription",
		ImageID:          "ami-99999999",
		InstanceID:       SampleInstanceID,
		InstanceState:    "running",
		InstanceType:     "m3.xlarge",
		LaunchTime:       finding.FormatTime(s.at.Add(-30 * 24 * time.Hour)),
		NetworkInterfaces: []finding.NetworkInterface{{
			NetworkInterfaceID: "eni-99999999",
			PrivateDNSName:     privDNS,
			PrivateIPAddress:   samplePrivateIP,
			PrivateIPAddresses: []finding.PrivateIPAddress{{PrivateDNSName: privDNS, PrivateIPAddress: samplePrivateIP}},
			PublicDNSName:      "ec2-" + dashed(samplePublicIP) + "." + s.publicDomain(),
			PublicIP:           samplePublicIP,
			SecurityGroups:     []finding.SecurityGroup{{GroupID: "sg-99999999", GroupName: "GeneratedFindingSecurityGroupName"}},
			SubnetID:           "subnet-99999999",
			VpcID:              "vpc-99999999",
		}},
		Tags: []finding.Tag{
			{Key: "GeneratedFindingInstanceTag1", Value: "GeneratedFindingInstanceValue1"},
			{Key: "GeneratedFindingInstanceTag2", Value: "GeneratedFindingInstanceValue2"},
		},
	}
}

func (s *sampler) accessKey(typ string) *finding.AccessKeyDetails {
	d := &finding.AccessKeyDetails{AccessKeyID: SampleAccessKeyID, PrincipalID: "AIDASAMPLE0000000001", UserName: SampleUserName, UserType: sampleUserType(typ)}
	switch d.UserType {
	case "Root":
		d.PrincipalID, d.UserName = s.account, "Root"
	case "AssumedRole":
		d.PrincipalID = "AROASAMPLE0000000001:" + SampleInstanceID
	}
	return d
}

func (s *sampler) bucket() []finding.S3BucketDetail {
	created := s.at.AddDate(-1, 0, 0).Unix()
	return []finding.S3BucketDetail{{
		Arn:       "arn:aws:s3:::" + SampleBucketName,
		Name:      SampleBucketName,
		Type:      "Destination",
		CreatedAt: &created,
		Owner:     &finding.Owner{ID: "GeneratedFindingCanonicalOwnerId"},
		Tags:      []finding.Tag{{Key: "GeneratedFindingBucketTag1", Value: "GeneratedFindingBucketValue1"}},
	}}
}

// sampleRemote is a remote address with GuardDuty's sample enrichment.
func sampleRemote(ip string) *finding.RemoteIPDetails {
	return &finding.RemoteIPDetails{
		City:         &finding.City{CityName: "GeneratedFindingCityName"},
		Country:      &finding.Country{CountryName: "GeneratedFindingCountryName"},
		GeoLocation:  &finding.GeoLocation{Lat: 0, Lon: 0},
		IPAddressV4:  ip,
		Organization: &finding.Organization{Asn: "64500", AsnOrg: "GeneratedFindingASNOrg", Isp: "GeneratedFindingISP", Org: "GeneratedFindingORG"},
	}
}

func (s *sampler) connection(f *finding.Finding) {
	if sampleFlowState(f) {
		return
	}
	remote, rport, lport, dir := "198.51.100.66", uint16(443), uint16(49152), finding.DirectionOutbound
	name := SampleInstanceID
	var title, desc string
	switch f.Type {
	case TypeCCActivityB:
		title = fmt.Sprintf("EC2 instance %s is communicating with a Command & Control server.", name)
		desc = fmt.Sprintf("EC2 instance %s is communicating with %s, an IP address on the command and control list %s. The instance may be compromised and under an attacker's control.", name, remote, SampleThreatListName)
	case TypeBitcoinToolB:
		remote, rport = "198.51.100.33", 3333
		title = fmt.Sprintf("EC2 instance %s is communicating with Bitcoin-related IP address.", name)
		desc = fmt.Sprintf("EC2 instance %s is communicating with %s, an IP address associated with cryptocurrency mining (list %s). Unless the instance is meant to mine, it may be compromised.", name, remote, SampleThreatListName)
	case TypeBlackholeTraffic:
		remote, rport = "198.51.100.99", 80
		title = fmt.Sprintf("EC2 instance %s is attempting to communicate with a black hole IP address.", name)
		desc = fmt.Sprintf("EC2 instance %s is attempting to communicate with %s, a black hole (sinkhole) address on list %s.", name, remote, SampleThreatListName)
	case TypeDropPoint:
		remote, rport = "203.0.113.45", 21
		title = fmt.Sprintf("EC2 instance %s is communicating with a drop point IP address.", name)
		desc = fmt.Sprintf("EC2 instance %s is communicating with %s, an address known to hold stolen credentials or data (list %s).", name, remote, SampleThreatListName)
	case TypeEC2MaliciousCustom:
		remote, rport = "198.51.100.77", 8080
		title = fmt.Sprintf("EC2 instance %s is communicating with a disallowed IP address.", name)
		desc = fmt.Sprintf("EC2 instance %s is communicating with %s, an IP address on the custom threat list %s.", name, remote, SampleThreatListName)
	case TypeTorClient:
		remote, rport = "203.0.113.101", 9001
		title = fmt.Sprintf("EC2 instance %s is communicating with Tor Entry node.", name)
		desc = fmt.Sprintf("EC2 instance %s is communicating with %s on the Tor anonymizing network (list %s). Tor can hide what the instance is doing and with whom.", name, remote, SampleThreatListName)
	case TypeTorRelay:
		remote, rport, lport, dir = "203.0.113.102", 50123, 9001, finding.DirectionInbound
		title = fmt.Sprintf("EC2 instance %s is communicating with Tor Relay node.", name)
		desc = fmt.Sprintf("EC2 instance %s accepts connections on port %d from Tor relays (latest %s, list %s): it appears to act as a Tor relay.", name, lport, remote, SampleThreatListName)
	}
	f.Title, f.Description = title, desc
	f.Service.Action = finding.Action{ActionType: finding.ActionNetworkConnection, NetworkConnectionAction: &finding.NetworkConnectionAction{
		Blocked:               false,
		ConnectionDirection:   dir,
		LocalPortDetails:      portDetails(lport),
		Protocol:              "TCP",
		LocalIPDetails:        &finding.LocalIPDetails{IPAddressV4: samplePrivateIP},
		LocalNetworkInterface: "eni-99999999",
		RemoteIPDetails:       sampleRemote(remote),
		RemotePortDetails:     portDetails(rport),
	}}
}

func (s *sampler) probe(f *finding.Finding) {
	name := SampleInstanceID
	port := uint16(22)
	if f.Type == TypePortProbeEMR {
		port = 8088
	}
	var details []finding.PortProbeDetail
	for _, ip := range []string{"203.0.113.23", "203.0.113.24"} {
		details = append(details, finding.PortProbeDetail{
			LocalPortDetails: portDetails(port),
			LocalIPDetails:   &finding.LocalIPDetails{IPAddressV4: samplePrivateIP},
			RemoteIPDetails:  sampleRemote(ip),
		})
	}
	f.Service.ResourceRole = finding.RoleTarget
	f.Service.Action = finding.Action{ActionType: finding.ActionPortProbe, PortProbeAction: &finding.PortProbeAction{Blocked: false, PortProbeDetails: details}}
	remote := details[0].RemoteIPDetails.IPAddressV4
	if f.Type == TypePortProbeEMR {
		f.Title = fmt.Sprintf("Unprotected EMR-related port on EC2 instance %s is being probed.", name)
		f.Description = fmt.Sprintf("EMR-related sensitive port %d on EC2 instance %s is not blocked and is being probed by a known malicious host %s (list %s).", port, name, remote, SampleThreatListName)
		return
	}
	f.Title = fmt.Sprintf("Unprotected port on EC2 instance %s is being probed.", name)
	f.Description = fmt.Sprintf("EC2 instance %s has an unprotected port %d (%s) which is being probed by a known malicious host %s (list %s). Close the port in the security group or network ACL unless it must be reachable from the internet.", name, port, portName(port), remote, SampleThreatListName)
}

func (s *sampler) dnsRequest(f *finding.Finding) {
	name := SampleInstanceID
	var domain, title, desc string
	switch f.Type {
	case TypeBitcoinToolBDNS:
		domain = "xmr.pool.sample-mining.example"
		title = fmt.Sprintf("Bitcoin-related domain name queried by EC2 instance %s.", name)
		desc = fmt.Sprintf("EC2 instance %s is querying %s, a domain name associated with cryptocurrency mining (list %s). Unless the instance is meant to mine, it may be compromised.", name, domain, SampleThreatListName)
	case TypeCCActivityBDNS:
		domain = "guarddutyc2activityb.com"
		title = fmt.Sprintf("Command and Control server domain name queried by EC2 instance %s.", name)
		desc = fmt.Sprintf("EC2 instance %s is querying %s, a domain name associated with a known command and control server (list %s). The instance may be compromised.", name, domain, SampleThreatListName)
	case TypePhishingDNS:
		domain = "login.sample-phishing.example"
		title = fmt.Sprintf("Phishing domain name queried by EC2 instance %s.", name)
		desc = fmt.Sprintf("EC2 instance %s is querying %s, a domain name associated with phishing (list %s).", name, domain, SampleThreatListName)
	case TypeDriveByDNS:
		domain = "cdn.sample-driveby.example"
		title = fmt.Sprintf("Drive-by source domain name queried by EC2 instance %s.", name)
		desc = fmt.Sprintf("EC2 instance %s is querying %s, a domain name known to serve malware (list %s).", name, domain, SampleThreatListName)
	case TypeDropPointDNS:
		domain = "upload.sample-droppoint.example"
		title = fmt.Sprintf("Drop point domain name queried by EC2 instance %s.", name)
		desc = fmt.Sprintf("EC2 instance %s is querying %s, a domain name known to hold stolen credentials or data (list %s).", name, domain, SampleThreatListName)
	case TypeBlackholeTrafficDNS:
		domain = "beacon.sample-blackhole.example"
		title = fmt.Sprintf("Black hole domain name queried by EC2 instance %s.", name)
		desc = fmt.Sprintf("EC2 instance %s is querying %s, a domain name redirected to a black hole address (list %s).", name, domain, SampleThreatListName)
	case TypeMaliciousDomainCust:
		domain = "www.sample-custom-list.example"
		title = fmt.Sprintf("Domain name on a custom threat list queried by EC2 instance %s.", name)
		desc = fmt.Sprintf("EC2 instance %s is querying %s, a domain name on the custom threat list %s.", name, domain, SampleThreatListName)
	default:
		domain = "generatedfindingdomainname.example"
	}
	suffix, err := publicsuffix.EffectiveTLDPlusOne(domain)
	if err != nil {
		suffix = ""
	}
	f.Title, f.Description = title, desc
	f.Service.Action = finding.Action{ActionType: finding.ActionDNSRequest, DNSRequestAction: &finding.DNSRequestAction{
		Domain:            domain,
		Protocol:          "UDP",
		Blocked:           false,
		DomainWithSuffix:  suffix,
		VpcOwnerAccountID: s.account,
	}}
}

func (s *sampler) apiCall(f *finding.Finding, info map[string]any) {
	act := &finding.AwsAPICallAction{CallerType: "Remote IP", UserAgent: sampleUserAgent}
	who := SampleUserName
	ip := ""
	var title, desc string
	switch f.Type {
	case TypeIAMTorIPCaller:
		ip, act.API, act.ServiceName = "203.0.113.200", "CreateAccessKey", "iam.amazonaws.com"
		title = fmt.Sprintf("The API %s was invoked from a Tor exit node IP address.", act.API)
		desc = fmt.Sprintf("The API %s was invoked by %s from %s, a Tor exit node (list %s). Tor hides who made the call: the credentials may be in an attacker's hands.", act.API, who, ip, SampleThreatListName)
	case TypeReconTorIPCaller:
		ip, act.API, act.ServiceName = "203.0.113.200", "ListUsers", "iam.amazonaws.com"
		title = fmt.Sprintf("A reconnaissance API %s was invoked from a Tor exit node IP address.", act.API)
		desc = fmt.Sprintf("The reconnaissance API %s was invoked by %s from %s, a Tor exit node (list %s). Tor hides who made the call: the credentials may be in an attacker's hands.", act.API, who, ip, SampleThreatListName)
	case TypeIAMMaliciousCustom:
		ip, act.API, act.ServiceName = "198.51.100.77", "AttachUserPolicy", "iam.amazonaws.com"
		title = fmt.Sprintf("The API %s was invoked from an IP address on a custom threat list.", act.API)
		desc = fmt.Sprintf("The API %s was invoked by %s from %s, an IP address on the threat list %s.", act.API, who, ip, SampleThreatListName)
	case TypeReconMaliciousCustom:
		ip, act.API, act.ServiceName = "198.51.100.77", "DescribeSecurityGroups", "ec2.amazonaws.com"
		title = fmt.Sprintf("A reconnaissance API %s was invoked from an IP address on a custom threat list.", act.API)
		desc = fmt.Sprintf("The reconnaissance API %s was invoked by %s from %s, an IP address on the threat list %s.", act.API, who, ip, SampleThreatListName)
	case TypeS3TorIPCaller:
		ip, act.API, act.ServiceName = "203.0.113.200", "GetObject", "s3.amazonaws.com"
		title = fmt.Sprintf("The API %s was invoked from a Tor exit node IP address.", act.API)
		desc = fmt.Sprintf("The API %s was invoked on S3 bucket %s by %s from %s, a Tor exit node (list %s). Tor hides who made the call: the credentials may be in an attacker's hands.", act.API, SampleBucketName, who, ip, SampleThreatListName)
	case TypeS3MaliciousCustom:
		ip, act.API, act.ServiceName = "198.51.100.77", "PutObject", "s3.amazonaws.com"
		title = fmt.Sprintf("The API %s was invoked from an IP address on a custom threat list.", act.API)
		desc = fmt.Sprintf("The API %s was invoked on S3 bucket %s by %s from %s, an IP address on the threat list %s.", act.API, SampleBucketName, who, ip, SampleThreatListName)
	case TypeS3DiscoveryCustom:
		ip, act.API, act.ServiceName = "198.51.100.77", "ListObjects", "s3.amazonaws.com"
		title = fmt.Sprintf("A reconnaissance API %s was invoked from an IP address on a custom threat list.", act.API)
		desc = fmt.Sprintf("The reconnaissance API %s was invoked on S3 bucket %s by %s from %s, an IP address on the threat list %s.", act.API, SampleBucketName, who, ip, SampleThreatListName)
	case TypeInstanceCredOutsideAWS:
		ip, act.API, act.ServiceName = "203.0.113.150", "ListBuckets", "s3.amazonaws.com"
		title = fmt.Sprintf("Credentials for instance role %s used from external IP address.", who)
		desc = fmt.Sprintf("Credentials created exclusively for EC2 instance %s through instance role %s have been used from external IP address %s, which is not the instance's and is outside AWS. The credentials may have been stolen from the instance.", SampleInstanceID, who, ip)
		info["instanceId"], info["remoteIp"] = SampleInstanceID, ip
	case TypeInstanceCredInsideAWS:
		ip, act.API, act.ServiceName = "198.51.100.200", "ListBuckets", "s3.amazonaws.com"
		act.RemoteAccountDetails = &finding.RemoteAccountDetails{AccountID: "444455556666", Affiliated: false}
		title = fmt.Sprintf("Credentials for instance role %s used from a remote AWS account.", who)
		desc = fmt.Sprintf("Credentials created exclusively for EC2 instance %s through instance role %s have been used from %s, an AWS address that is not the instance's. The credentials may have been stolen and used from another EC2 instance or AWS account.", SampleInstanceID, who, ip)
		info["instanceId"], info["remoteIp"] = SampleInstanceID, ip
	case TypeRootCredentialUsage:
		ip, act.API, act.ServiceName = "203.0.113.10", "ListBuckets", "s3.amazonaws.com"
		title = fmt.Sprintf("API %s was invoked using root credentials.", act.API)
		desc = fmt.Sprintf("API %s (%s) was invoked using root credentials from %s. The root user can do anything in the account and should not be used for everyday work.", act.API, act.ServiceName, ip)
	case TypeCloudTrailLoggingDisable:
		ip, act.API, act.ServiceName = "203.0.113.10", "StopLogging", "cloudtrail.amazonaws.com"
		act.AffectedResources = map[string]string{"AWS::CloudTrail::Trail": "arn:aws:cloudtrail:" + s.region + ":" + s.account + ":trail/" + sampleTrailName}
		title = fmt.Sprintf("AWS CloudTrail trail %s was disabled.", sampleTrailName)
		desc = fmt.Sprintf("AWS CloudTrail trail %s was stopped by %s calling %s. Attackers turn off logging to hide what they do next.", sampleTrailName, who, act.API)
	default:
		ip, act.API, act.ServiceName = "203.0.113.10", "GeneratedFindingAPIName", "GeneratedFindingAPIServiceName"
		if api, svc, t, d, ok := trailSample(f.Type, s.account, SampleBucketName, who); ok {
			act.API, act.ServiceName, title, desc = api, svc, t, d
		}
	}
	act.RemoteIPDetails = sampleRemote(ip)
	if f.Type == TypeInstanceCredInsideAWS {
		// An AWS address, enriched as remoteIP does for AWS's ranges.
		act.RemoteIPDetails.Organization = &finding.Organization{Asn: "16509", AsnOrg: "AMAZON-02", Isp: "Amazon.com", Org: "Amazon.com"}
	}
	f.Title, f.Description = title, desc
	f.Service.Action = finding.Action{ActionType: finding.ActionAWSAPICall, AwsAPICallAction: act}
}
