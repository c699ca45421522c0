// Package criteriatest generates random findings for differential tests of
// FindingCriteria evaluation: every field draws from a small vocabulary, so
// that random conditions built from [Values] select a fair share of them.
package criteriatest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/vigilsec/vigil/finding"
)

// T0 is the latest time of generated findings; they spread over the 90 days
// before it.
var T0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var (
	accounts   = []string{"111111111111", "222222222222", "333333333333"}
	regions    = []string{"us-east-1", "eu-west-1"}
	severities = []float64{2, 5, 8, 2.5, 7.5, 9, 10, 1}
	types      = []string{
		"UnauthorizedAccess:EC2/SSHBruteForce", "Recon:EC2/PortProbeUnprotectedPort", "CryptoCurrency:EC2/BitcoinTool.B!DNS",
		"Recon:IAMUser/MaliciousIPCaller", "Discovery:S3/MaliciousIPCaller", "UnauthorizedAccess:IAMUser/TorIPCaller",
	}
	tagKeys   = []string{"Name", "env", "team", "Env"}
	tagValues = []string{"prod", "dev", "web-01", "web-02", ""}
	ips       = []string{"198.51.100.7", "203.0.113.5", "192.0.2.44", "198.51.100.70"}
	countries = []string{"NL", "US", "DE"}
	asns      = []string{"64500", "64501", "7922"}
	users     = []string{"alice", "bob", "deploy-role"}
	userTypes = []string{"IAMUser", "AssumedRole", "Root"}
	apis      = []string{"ListBuckets", "GetObject", "DescribeInstances"}
	domains   = []string{"pool.example.com", "evil.example.net"}
	roles     = []string{finding.RoleTarget, finding.RoleActor, ""}
	feedbacks = []string{"", "", "USEFUL", "NOT_USEFUL"}
	infos     = []string{
		"", `{}`, `{"threatListName":"ProofPoint","inBytes":"123456"}`,
		`{"threatListName":"Amazon","unusual":{"asnOrg":"Evil Corp","port":[22,2222]},"sample":true}`,
		`{"inBytes":500,"userAgent":{"fullUserAgent":"curl/8.0"}}`, `not json`,
	}
)

// Values returns values worth comparing attr with in random conditions:
// values some generated findings have, and one none has.
func Values(attr string) []string {
	switch attr {
	case "accountId":
		return append(accounts, "999999999999")
	case "region":
		return append(regions, "ap-south-1")
	case "type":
		return append(types, "Impact:EC2/Nothing")
	case "severity":
		return []string{"1", "2", "5", "7", "8", "9", "10", "2.5", "7.5", "3"}
	case "resource.resourceType":
		return []string{finding.ResourceInstance, finding.ResourceAccessKey, finding.ResourceS3Bucket, "Lambda"}
	case "service.resourceRole":
		return append(roles[:2:2], "OTHER")
	case "service.userFeedback":
		return []string{"USEFUL", "NOT_USEFUL", "MAYBE"}
	case "service.archived", "service.action.networkConnectionAction.blocked":
		return []string{"true", "false", "TRUE"}
	case "service.count":
		return []string{"1", "2", "3", "7", "40"}
	case "service.action.actionType":
		return []string{finding.ActionNetworkConnection, finding.ActionPortProbe, finding.ActionDNSRequest, finding.ActionAWSAPICall, "X"}
	case "resource.instanceDetails.instanceId", "resource.accessKeyDetails.accessKeyId", "resource.s3BucketDetails.name":
		return []string{"i-0000000000000001", "i-0000000000000002", "AKIA0001", "AKIA0002", "bucket-1", "bucket-2", "eni-1"}
	case "resource.instanceDetails.tags.key":
		return tagKeys
	case "resource.instanceDetails.tags.value":
		return tagValues[:4]
	case "resource.accessKeyDetails.userName":
		return users
	case "resource.accessKeyDetails.userType":
		return userTypes
	case "service.action.networkConnectionAction.remoteIpDetails.ipAddressV4",
		"service.action.awsApiCallAction.remoteIpDetails.ipAddressV4",
		"service.action.portProbeAction.portProbeDetails.remoteIpDetails.ipAddressV4":
		return ips
	case "service.action.networkConnectionAction.remoteIpDetails.country.countryCode":
		return countries
	case "service.action.networkConnectionAction.remoteIpDetails.organization.asn":
		return asns
	case "service.action.networkConnectionAction.localPortDetails.port":
		return []string{"22", "80", "3389"}
	case "service.action.awsApiCallAction.api":
		return apis
	case "service.action.dnsRequestAction.domain":
		return domains
	case "service.additionalInfo.threatListName":
		return []string{"ProofPoint", "Amazon"}
	case "service.additionalInfo.inBytes":
		return []string{"123456", "500"}
	case "service.additionalInfo.unusual.port":
		return []string{"22", "2222"}
	case "service.additionalInfo.userAgent.fullUserAgent":
		return []string{"curl/8.0"}
	}
	return []string{"x"}
}

// Times returns epoch-millisecond bounds spread over the generated range.
func Times(rng *rand.Rand) int64 {
	return T0.Add(-time.Duration(rng.IntN(90*24)) * time.Hour).UnixMilli()
}

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

func remote(rng *rand.Rand) *finding.RemoteIPDetails {
	if rng.IntN(8) == 0 {
		return nil
	}
	return &finding.RemoteIPDetails{
		IPAddressV4:  pick(rng, ips),
		Country:      &finding.Country{CountryCode: pick(rng, countries)},
		Organization: &finding.Organization{Asn: pick(rng, asns), AsnOrg: "Org " + pick(rng, asns)},
		GeoLocation:  &finding.GeoLocation{Lat: float64(rng.IntN(90)), Lon: float64(rng.IntN(180))},
	}
}

// Finding returns random finding number i (its id derives from i, so ids
// are unique), with times in the 90 days before T0.
func Finding(rng *rand.Rand, i int) *finding.Finding {
	acct, region := pick(rng, accounts), pick(rng, regions)
	created := T0.Add(-time.Duration(rng.IntN(90*24*60)) * time.Minute)
	updated := created.Add(time.Duration(rng.IntN(3*24*60)) * time.Minute)
	if updated.After(T0) {
		updated = T0
	}
	id := finding.ID("criteriatest", strconv.Itoa(i))
	f := &finding.Finding{
		AccountID: acct, Arn: finding.ARN("aws", region, acct, "d", id), CreatedAt: finding.FormatTime(created),
		UpdatedAt: finding.FormatTime(updated), ID: id, Partition: "aws", Region: region, SchemaVersion: "2.0",
		Severity: pick(rng, severities), Type: pick(rng, types), Title: "finding " + strconv.Itoa(i),
		Description: "random finding",
	}
	if rng.IntN(5) == 0 {
		c := float64(rng.IntN(2))
		f.Confidence = &c
	}
	switch rng.IntN(4) {
	case 0, 1:
		f.Resource.ResourceType = finding.ResourceInstance
		d := &finding.InstanceDetails{InstanceType: "t3.micro", LaunchTime: finding.FormatTime(created.Add(-72 * time.Hour))}
		if rng.IntN(6) != 0 {
			d.InstanceID = fmt.Sprintf("i-%016x", 1+rng.IntN(3))
		}
		for range rng.IntN(4) {
			d.Tags = append(d.Tags, finding.Tag{Key: pick(rng, tagKeys), Value: pick(rng, tagValues)})
		}
		for range rng.IntN(3) {
			d.NetworkInterfaces = append(d.NetworkInterfaces, finding.NetworkInterface{
				NetworkInterfaceID: fmt.Sprintf("eni-%d", 1+rng.IntN(2)), PublicIP: pick(rng, ips),
				SecurityGroups: []finding.SecurityGroup{{GroupID: "sg-" + strconv.Itoa(rng.IntN(3)), GroupName: "web"}},
			})
		}
		f.Resource.InstanceDetails = d
	case 2:
		f.Resource.ResourceType = finding.ResourceAccessKey
		d := &finding.AccessKeyDetails{PrincipalID: "AIDA" + strconv.Itoa(rng.IntN(3)), UserName: pick(rng, users), UserType: pick(rng, userTypes)}
		if rng.IntN(5) != 0 {
			d.AccessKeyID = fmt.Sprintf("AKIA%04d", 1+rng.IntN(3))
		}
		f.Resource.AccessKeyDetails = d
		if rng.IntN(10) == 0 { // an odd finding with an instance too
			f.Resource.InstanceDetails = &finding.InstanceDetails{InstanceID: fmt.Sprintf("i-%016x", 1+rng.IntN(3))}
		}
	default:
		f.Resource.ResourceType = finding.ResourceS3Bucket
		for range 1 + rng.IntN(2) {
			sec := created.Add(-1000 * time.Hour).Unix()
			f.Resource.S3BucketDetails = append(f.Resource.S3BucketDetails, finding.S3BucketDetail{
				Name: fmt.Sprintf("bucket-%d", 1+rng.IntN(3)), Type: "Destination", CreatedAt: &sec,
				Tags: []finding.Tag{{Key: pick(rng, tagKeys), Value: pick(rng, tagValues)}},
			})
		}
		if rng.IntN(3) == 0 {
			f.Resource.AccessKeyDetails = &finding.AccessKeyDetails{AccessKeyID: fmt.Sprintf("AKIA%04d", 1+rng.IntN(3)), UserName: pick(rng, users)}
		}
	}
	a := &f.Service.Action
	switch rng.IntN(4) {
	case 0:
		a.ActionType = finding.ActionNetworkConnection
		a.NetworkConnectionAction = &finding.NetworkConnectionAction{
			Blocked: rng.IntN(2) == 0, ConnectionDirection: finding.DirectionInbound, Protocol: "TCP",
			LocalPortDetails: &finding.PortDetails{Port: pick(rng, []int{22, 80, 3389}), PortName: "SSH"},
			RemoteIPDetails:  remote(rng),
		}
	case 1:
		a.ActionType = finding.ActionPortProbe
		p := &finding.PortProbeAction{}
		for range rng.IntN(3) {
			p.PortProbeDetails = append(p.PortProbeDetails, finding.PortProbeDetail{
				LocalPortDetails: &finding.PortDetails{Port: pick(rng, []int{22, 80, 3389})}, RemoteIPDetails: remote(rng)})
		}
		a.PortProbeAction = p
	case 2:
		a.ActionType = finding.ActionDNSRequest
		a.DNSRequestAction = &finding.DNSRequestAction{Domain: pick(rng, domains), Protocol: "UDP"}
	default:
		a.ActionType = finding.ActionAWSAPICall
		a.AwsAPICallAction = &finding.AwsAPICallAction{API: pick(rng, apis), ServiceName: "s3.amazonaws.com", RemoteIPDetails: remote(rng)}
	}
	s := &f.Service
	s.Archived = rng.IntN(5) == 0
	s.Count = int64(1 + rng.IntN(4))
	s.DetectorID = finding.DetectorID(acct, region)
	s.ServiceName = "guardduty"
	s.ResourceRole = pick(rng, roles)
	s.UserFeedback = pick(rng, feedbacks)
	if rng.IntN(4) != 0 {
		s.EventFirstSeen = finding.FormatTime(created)
		s.EventLastSeen = finding.FormatTime(updated)
	}
	if v := pick(rng, infos); v != "" {
		s.AdditionalInfo = &finding.AdditionalInfo{Value: v, Type: "default"}
	}
	if rng.IntN(4) == 0 {
		s.Evidence = &finding.Evidence{ThreatIntelligenceDetails: []finding.ThreatIntelligenceDetail{
			{ThreatListName: "ProofPoint", ThreatNames: []string{"Scanner"}}}}
	}
	return f
}
