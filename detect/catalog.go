package detect

import (
	"slices"
	"strings"
	"sync"

	"github.com/vigilsec/vigil/finding"
)

// TypeInfo describes one finding type the detectors can emit: its default
// severity, what it is about and what to do about it. The console uses it to
// explain findings; CreateSampleFindings uses it to build samples.
type TypeInfo struct {
	// Type is the GuardDuty finding type string.
	Type string
	// Severity is the default severity (GuardDuty's bands: Low 2, Medium
	// 5, High 8). For types whose severity varies, the variants are named in
	// Description.
	Severity float64
	// ResourceType is the affected resource: finding.ResourceInstance,
	// ResourceAccessKey or ResourceS3Bucket.
	ResourceType string
	// ActionType is the action block the finding carries
	// (finding.ActionNetworkConnection, ActionPortProbe, ActionDNSRequest or
	// ActionAWSAPICall).
	ActionType string
	// Source is the log the detection reads: SourceFlowLogs, SourceDNSLogs,
	// SourceCloudTrail or SourceS3DataEvents.
	Source string
	// Purpose says, in one sentence, what the type's ThreatPurpose (the part
	// before the colon) means.
	Purpose string
	// Description says what the detection means, in terms a SOC analyst can
	// act on.
	Description string
	// Remediation lists concrete steps, in the order to take them.
	Remediation []string
}

// Data sources of the finding types.
const (
	SourceFlowLogs     = "VPC Flow Logs"
	SourceDNSLogs      = "DNS logs"
	SourceCloudTrail   = "CloudTrail management events"
	SourceS3DataEvents = "CloudTrail S3 data events"
)

// Catalog returns every finding type the detectors of this package can emit,
// sorted by type. The result is a copy: callers may modify it.
func Catalog() []TypeInfo {
	c := catalogue()
	out := make([]TypeInfo, len(c.list))
	for i, ti := range c.list {
		out[i] = ti.clone()
	}
	return out
}

// LookupType returns the catalogue entry of finding type t.
func LookupType(t string) (TypeInfo, bool) {
	c := catalogue()
	i, ok := c.index[t]
	if !ok {
		return TypeInfo{}, false
	}
	return c.list[i].clone(), true
}

func (ti TypeInfo) clone() TypeInfo {
	ti.Remediation = slices.Clone(ti.Remediation)
	return ti
}

type catalogIndex struct {
	list  []TypeInfo
	index map[string]int
}

// moreEntries lets detectors in other files of the package add their types
// to the catalogue (from init).
var moreEntries []func() []TypeInfo

var catalogue = sync.OnceValue(func() *catalogIndex {
	list := catalogEntries()
	for _, more := range moreEntries {
		list = append(list, more()...)
	}
	slices.SortFunc(list, func(a, b TypeInfo) int { return strings.Compare(a.Type, b.Type) })
	c := &catalogIndex{list: list, index: make(map[string]int, len(list))}
	for i, ti := range list {
		if _, dup := c.index[ti.Type]; dup {
			panic("detect: finding type " + ti.Type + " catalogued twice")
		}
		ti.Purpose = purposes[finding.ThreatPurpose(ti.Type)]
		list[i] = ti
		c.index[ti.Type] = i
	}
	return c
})

// purposes explains the ThreatPurpose values the catalogue uses.
var purposes = map[string]string{
	"Backdoor":           "The resource appears to be compromised and able to contact an attacker's command and control (C&C) server for further instructions.",
	"CryptoCurrency":     "The resource is running, or talking to, cryptocurrency mining software or infrastructure, usually because someone took it over to mine at your expense.",
	"Discovery":          "Someone is learning what resources and data the account holds, typically to plan what to take next.",
	"Impact":             "The activity indicates an attempt to manipulate, interrupt or destroy systems or data, or contact with infrastructure known for it.",
	"Policy":             "The activity goes against security best practice, even if it is not malicious in itself.",
	"Recon":              "Someone is performing reconnaissance: probing for open ports or listing users, resources and configuration to plan an attack.",
	"Stealth":            "Someone is trying to hide their actions, for example by turning off logging.",
	"Trojan":             "The resource appears to run a trojan: a program that silently reaches out to malicious infrastructure such as drop points, sinkholes or malware sites.",
	"UnauthorizedAccess": "An unauthorized party may be using the resource or its credentials, or hiding the activity behind an anonymising network.",
}

// steps concatenates remediation step lists into a new slice.
func steps(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Remediation building blocks, after GuardDuty's "Remediating a potentially
// compromised EC2 instance / AWS credentials / S3 bucket".
var (
	remInstanceCompromised = []string{
		"Isolate the instance: detach it from its load balancer and Auto Scaling group, then replace its security groups with one that allows no inbound or outbound traffic (tracked connections survive a rule change, so also add deny entries to the subnet's network ACL if the traffic must stop at once).",
		"Preserve evidence before changing anything else: snapshot its EBS volumes and, if you can, capture memory.",
		"Rotate what the instance could reach: revoke the active sessions of its instance role, and rotate secrets, API keys and SSH keys stored on it.",
		"Terminate the instance and rebuild it from a known-good image, after fixing how the attacker got in (patch the software, close the exposed service).",
	}
	remFindProcessConn = []string{
		"Find the process behind the connection on the instance (ss -tnp or netstat -anp, lsof -i, the process tree) and how it started: cron, systemd units, user data, recently changed files in /tmp, /var/tmp and /dev/shm.",
	}
	remFindProcessDNS = []string{
		"Find the process that resolved the name on the instance (auditd or sysmon logs, a packet capture on port 53, lsof -i) and how it started: cron, systemd units, user data, recently changed files in /tmp, /var/tmp and /dev/shm.",
	}
	remBlockIP = []string{
		"Block the remote address for the whole VPC while you investigate: a deny entry in the network ACLs, or your egress firewall or proxy.",
	}
	remBlockDomain = []string{
		"Block the domain for the whole VPC while you investigate: a BLOCK rule in Route 53 Resolver DNS Firewall, or your egress proxy.",
	}
	remCheckListEntry = []string{
		"Check the match first: the list is named in evidence.threatIntelligenceDetails, the network in remoteIpDetails.organization. A shared hosting or CDN address can be listed by mistake; if it is benign, put it on a trusted list.",
	}
	remCheckDomainEntry = []string{
		"Check the match first: the list is named in evidence.threatIntelligenceDetails. If the domain is benign or the list names a shared parent domain, put it on a trusted list.",
	}
	remCredentialsCompromised = []string{
		"Ask the owner of the user or role (accessKeyDetails) whether they made the call; check the userAgent and the source address in remoteIpDetails.",
		"If they did not: deactivate the access key (aws iam update-access-key --status Inactive) or, for temporary credentials, revoke the role's active sessions (IAM console, Revoke active sessions).",
		"Review everything the principal did in CloudTrail (aws cloudtrail lookup-events --lookup-attributes AttributeKey=AccessKeyId,AttributeValue=KEY) and undo unauthorised changes: new users, access keys, policies, roles and instances.",
		"Issue new credentials and remove the old ones from wherever they leaked (source repositories, CI logs, workstations).",
		"Limit where credentials work: aws:SourceIp or aws:SourceVpc conditions in policies or an SCP.",
	}
	remBucketCompromised = []string{
		"List what was done to the bucket: CloudTrail S3 data events for the bucket and the access key in the finding (objects read, written or deleted).",
		"Restrict the bucket: keep Block Public Access on, and add a bucket policy that denies access unless aws:SourceVpce or aws:SourceIp is yours.",
		"Look for changed ACLs, bucket policies and unexpected objects, and restore damaged objects from versions or backups.",
	}
)

func catalogEntries() []TypeInfo {
	ec2 := func(typ string, sev float64, action, source, desc string, rem ...[]string) TypeInfo {
		return TypeInfo{Type: typ, Severity: sev, ResourceType: finding.ResourceInstance, ActionType: action, Source: source, Description: desc, Remediation: steps(rem...)}
	}
	iam := func(typ string, sev float64, source, desc string, rem ...[]string) TypeInfo {
		return TypeInfo{Type: typ, Severity: sev, ResourceType: finding.ResourceAccessKey, ActionType: finding.ActionAWSAPICall, Source: source, Description: desc, Remediation: steps(rem...)}
	}
	s3 := func(typ string, sev float64, desc string, rem ...[]string) TypeInfo {
		return TypeInfo{Type: typ, Severity: sev, ResourceType: finding.ResourceS3Bucket, ActionType: finding.ActionAWSAPICall, Source: SourceS3DataEvents, Description: desc, Remediation: steps(rem...)}
	}
	conn, dnsReq := finding.ActionNetworkConnection, finding.ActionDNSRequest
	return []TypeInfo{
		// VPC Flow Logs.
		ec2(TypeCCActivityB, SevHigh, conn, SourceFlowLogs,
			"An EC2 instance exchanged traffic with an IP address on a command and control list. The instance is probably compromised and may be taking orders from an attacker, for example as part of a botnet.",
			remCheckListEntry, remFindProcessConn, remBlockIP, remInstanceCompromised),
		ec2(TypeBitcoinToolB, SevHigh, conn, SourceFlowLogs,
			"An EC2 instance exchanged traffic with an IP address associated with cryptocurrency mining (a mining pool or node). Unless the instance is meant to mine, it has probably been compromised and is running a miner.",
			[]string{"If the instance is meant to mine, archive the finding with a suppression rule on resource.instanceDetails.instanceId."},
			[]string{"Otherwise look for the miner: sustained high CPU, processes such as xmrig, unknown binaries in /tmp or /dev/shm, new cron entries or systemd units."},
			remFindProcessConn, remBlockIP, remInstanceCompromised),
		ec2(TypePortProbeUnprotected, SevLow, finding.ActionPortProbe, SourceFlowLogs,
			"A port that the instance's security group and network ACL leave open to the internet was reached by a known scanner (the probers are in portProbeDetails). Low (2) by default; High (8) when the port is 9200 or 9300 (Elasticsearch); ports 80 and 443 are never reported.",
			[]string{
				"If the port need not be reachable from the internet, remove the 0.0.0.0/0 and ::/0 rules for it from the security group, or add a deny entry to the network ACL; for SSH and RDP use Systems Manager Session Manager or a bastion instead.",
				"Check the service's logs for successful logins or requests from the addresses in portProbeDetails; if any got in, treat the instance as compromised.",
				"Make sure the service is patched and requires strong authentication; never expose Elasticsearch (9200, 9300) without authentication.",
				"If the port is public on purpose (a mail server on 25), add it to detectors.probe_ignored_ports or archive with a suppression rule.",
			}),
		ec2(TypePortProbeEMR, SevHigh, finding.ActionPortProbe, SourceFlowLogs,
			"An EMR-related port (YARN ResourceManager 8088, HDFS NameNode, Spark history, Livy, Zeppelin, Hue, HiveServer2 …) on the instance is reachable from the internet and is being probed by a known scanner. Exposed YARN and Hadoop interfaces are routinely abused to run miners and arbitrary code.",
			[]string{
				"Remove internet access to the port: tighten the cluster's security groups (ElasticMapReduce-master and -slave) and turn on EMR block public access for the account and region.",
				"Reach the web interfaces through an SSH tunnel, Systems Manager port forwarding or an authenticating proxy instead.",
				"Check the YARN application history for applications nobody in your team submitted; if there are any, treat the cluster as compromised: terminate it, rebuild it and rotate the credentials of its EC2 instance role.",
			}),
		ec2(TypeTorClient, SevHigh, conn, SourceFlowLogs,
			"An EC2 instance connected to a Tor node. Tor hides where traffic goes and what it carries; malware uses it to reach command and control servers and to exfiltrate data, and servers rarely have a reason to use it.",
			[]string{"Ask the instance's owner whether Tor use is expected (a research crawler, for example); if so, archive with a suppression rule on the instance id."},
			remFindProcessConn, remInstanceCompromised),
		ec2(TypeTorRelay, SevHigh, conn, SourceFlowLogs,
			"An EC2 instance accepted connections from several Tor relays on one port: it appears to act as a Tor relay, forwarding anonymous traffic for others. Unless you run a relay on purpose, someone is abusing the instance and its bandwidth.",
			[]string{
				"Ask the instance's owner whether running a relay is intended; if so, archive with a suppression rule on the instance id.",
				"Otherwise find the tor process and its configuration (ORPort, often 9001) on the instance, and close the port in the security group.",
			},
			remInstanceCompromised),
		ec2(TypeEC2MaliciousCustom, SevMedium, conn, SourceFlowLogs,
			"An EC2 instance exchanged traffic with an IP address on one of your own threat lists (named in evidence). resourceRole ACTOR means the instance opened the connection, TARGET that the address connected to it.",
			[]string{"Check why the address is on the list and whether the traffic got through (networkConnectionAction.blocked); if the entry is stale, fix the list."},
			[]string{"Inbound (TARGET): block the address in the network ACL and check the service's logs for what it did; outbound (ACTOR): find the process that made the connection."},
			remBlockIP, remInstanceCompromised),
		ec2(TypeBlackholeTraffic, SevMedium, conn, SourceFlowLogs,
			"An EC2 instance tried to reach an IP address on a black hole list: a sinkholed or unrouted address that malware often still beacons to after its infrastructure was taken down. The instance may be infected.",
			remCheckListEntry, remFindProcessConn, remInstanceCompromised),
		ec2(TypeDropPoint, SevMedium, conn, SourceFlowLogs,
			"An EC2 instance exchanged traffic with an IP address known to collect stolen credentials and data. Data may be leaving the instance.",
			remCheckListEntry,
			[]string{"Measure what was sent: the bytes and packets of the instance's flow records to the address, by time."},
			remFindProcessConn, remBlockIP, remInstanceCompromised,
			[]string{"Review what data the instance and its role could read, and treat it as exposed."}),

		// DNS logs.
		ec2(TypeBitcoinToolBDNS, SevHigh, dnsReq, SourceDNSLogs,
			"An EC2 instance queried a domain associated with cryptocurrency mining, such as a mining pool. Unless the instance is meant to mine, it is probably running a miner installed by an attacker.",
			[]string{"If the instance is meant to mine, archive the finding with a suppression rule on resource.instanceDetails.instanceId."},
			remCheckDomainEntry, remFindProcessDNS, remBlockDomain, remInstanceCompromised),
		ec2(TypeCCActivityBDNS, SevHigh, dnsReq, SourceDNSLogs,
			"An EC2 instance queried the domain name of a known command and control server. The instance is probably compromised; guarddutyc2activityb.com is GuardDuty's test domain for this finding, so a query for it is a deliberate test.",
			remCheckDomainEntry, remFindProcessDNS, remBlockDomain, remInstanceCompromised),
		ec2(TypePhishingDNS, SevHigh, dnsReq, SourceDNSLogs,
			"An EC2 instance queried a domain used for phishing. The instance may be part of a phishing campaign (sending or hosting it), or software on it followed a phishing link.",
			remCheckDomainEntry, remFindProcessDNS, remBlockDomain,
			[]string{"Check whether the instance sends mail or serves web content it should not (outbound port 25, unexpected virtual hosts)."},
			remInstanceCompromised),
		ec2(TypeDriveByDNS, SevHigh, dnsReq, SourceDNSLogs,
			"An EC2 instance queried a domain known to serve malware through drive-by downloads. The instance may have downloaded and run malware.",
			remCheckDomainEntry, remFindProcessDNS, remBlockDomain,
			[]string{"Look for files downloaded around the time of the query and scan them."},
			remInstanceCompromised),
		ec2(TypeDropPointDNS, SevMedium, dnsReq, SourceDNSLogs,
			"An EC2 instance queried a domain known to collect stolen credentials and data. Data may be leaving the instance.",
			remCheckDomainEntry, remFindProcessDNS, remBlockDomain, remInstanceCompromised,
			[]string{"Review what data the instance and its role could read, and treat it as exposed."}),
		ec2(TypeBlackholeTrafficDNS, SevMedium, dnsReq, SourceDNSLogs,
			"An EC2 instance queried a domain that is redirected to a black hole (sinkhole) address. Malware often keeps resolving its infrastructure after it was taken down, so the instance may be infected.",
			remCheckDomainEntry, remFindProcessDNS, remInstanceCompromised),
		ec2(TypeMaliciousDomainCust, SevMedium, dnsReq, SourceDNSLogs,
			"An EC2 instance queried a domain on one of your own threat lists (named in evidence), or a subdomain of a listed domain.",
			[]string{"Check why the domain is on the list; if the entry is stale or too broad, fix the list."},
			remFindProcessDNS, remBlockDomain, remInstanceCompromised),

		// CloudTrail management events.
		iam(TypeIAMTorIPCaller, SevMedium, SourceCloudTrail,
			"An API that changes or uses resources was called with the account's credentials from a Tor exit node. Tor hides who made the call and legitimate users rarely use it, so the credentials may be in an attacker's hands.",
			remCredentialsCompromised),
		iam(TypeReconTorIPCaller, SevMedium, SourceCloudTrail,
			"A reconnaissance API (List*, Describe*, Get* of configuration) was called from a Tor exit node: someone may be mapping the account with stolen credentials before acting.",
			remCredentialsCompromised),
		iam(TypeIAMMaliciousCustom, SevMedium, SourceCloudTrail,
			"An API that changes or uses resources was called from an IP address on one of your threat lists (named in evidence). The credentials may be in an attacker's hands.",
			[]string{"Check why the address is on the list; if the entry is stale, fix the list."},
			remCredentialsCompromised),
		iam(TypeReconMaliciousCustom, SevMedium, SourceCloudTrail,
			"A reconnaissance API (List*, Describe*, Get* of configuration) was called from an IP address on one of your threat lists: someone may be mapping the account with stolen credentials.",
			[]string{"Check why the address is on the list; if the entry is stale, fix the list."},
			remCredentialsCompromised),
		iam(TypeInstanceCredOutsideAWS, SevHigh, SourceCloudTrail,
			"Temporary credentials of an EC2 instance role were used from an IP address outside AWS that is not the instance's. They were probably stolen from the instance, for example through server-side request forgery against the instance metadata service.",
			[]string{
				"Check whether the address is yours (an office, VPN or on-premises egress, a NAT address missing from the inventory); if so, refresh the inventory or put the address on a trusted list.",
				"Otherwise revoke the role's active sessions (IAM console, Revoke active sessions) so the stolen credentials stop working.",
				"Review what the credentials did in CloudTrail (the access key id in the finding) and undo unauthorised changes.",
				"Find how they left the instance: require IMDSv2 (HttpTokens=required) with a hop limit of 1, and look for SSRF in the applications it runs; if the instance itself is compromised, rebuild it.",
				"Add the aws:ec2InstanceSourceVPC and aws:ec2InstanceSourcePrivateIPv4 condition keys to the role's policies or an SCP so instance credentials only work from their instance.",
			}),
		iam(TypeInstanceCredInsideAWS, SevHigh, SourceCloudTrail,
			"Temporary credentials of an EC2 instance role were used from an AWS address that is not the instance's, that is from another EC2 instance or AWS account. High (8) by default; Medium (5) when the address belongs to another instance in your inventory (remoteAccountDetails.affiliated is true).",
			[]string{
				"Check whether the address belongs to one of your accounts (remoteAccountDetails.accountId), for example a NAT gateway or a proxy instance; if so, refresh the inventory or put the address on a trusted list.",
				"Otherwise revoke the role's active sessions (IAM console, Revoke active sessions) so the stolen credentials stop working.",
				"Review what the credentials did in CloudTrail (the access key id in the finding) and undo unauthorised changes.",
				"Find how they left the instance: require IMDSv2 (HttpTokens=required) with a hop limit of 1, and look for SSRF in the applications it runs; if the instance itself is compromised, rebuild it.",
				"Add the aws:ec2InstanceSourceVPC and aws:ec2InstanceSourcePrivateIPv4 condition keys to the role's policies or an SCP so instance credentials only work from their instance.",
			}),
		iam(TypeRootCredentialUsage, SevLow, SourceCloudTrail,
			"An API was called with the root user's credentials. Root can do anything and no IAM policy restricts it; it should be used only for the few tasks that require it, so every use deserves an explanation.",
			[]string{
				"Find out who used root and why (source address, userAgent, api); planned break-glass use can be archived.",
				"If nobody in your organisation did, treat the account as compromised: change the root password, delete root access keys, review everything root did in CloudTrail and undo unauthorised changes.",
				"Delete any root access keys (root should have none) and enable MFA on the root user, preferably a hardware key.",
				"Do everyday work with IAM Identity Center users or IAM roles instead.",
			}),
		iam(TypeCloudTrailLoggingDisable, SevLow, SourceCloudTrail,
			"A CloudTrail trail was stopped, deleted or updated, or the S3 bucket receiving its logs was deleted. Attackers turn off logging to hide what they do next; the call is only legitimate during planned trail maintenance.",
			[]string{
				"Ask the caller (accessKeyDetails) whether the change was planned maintenance; if it was, archive the finding.",
				"Restore logging at once: aws cloudtrail start-logging --name TRAIL, or recreate the trail or its bucket with the previous configuration.",
				"Review what the same principal did around that time, from an organisation trail or any other trail still logging, and undo unauthorised changes.",
				"If the change was not authorised, treat the credentials as compromised: deactivate the access key or revoke the role's sessions.",
				"Prevent it: an SCP denying cloudtrail:StopLogging, DeleteTrail and UpdateTrail outside a break-glass role, an organisation trail, and S3 Object Lock on the log bucket.",
			}),

		// CloudTrail S3 data events.
		s3(TypeS3TorIPCaller, SevHigh,
			"An S3 data API (GetObject, PutObject, DeleteObject …) was called on the bucket from a Tor exit node. An anonymous party holding the account's credentials may be reading or changing the bucket's data.",
			remBucketCompromised, remCredentialsCompromised),
		s3(TypeS3MaliciousCustom, SevHigh,
			"An S3 data API (GetObject, PutObject, DeleteObject …) was called on the bucket from an IP address on one of your threat lists. Objects may have been read, written or deleted by an attacker.",
			[]string{"Check why the address is on the list; if the entry is stale, fix the list."},
			remBucketCompromised, remCredentialsCompromised),
		s3(TypeS3DiscoveryCustom, SevHigh,
			"An S3 API that lists the bucket or reads its metadata (ListObjects, GetBucketAcl, HeadObject …) was called from an IP address on one of your threat lists: someone may be finding out what data the bucket holds before taking it.",
			[]string{"Check why the address is on the list; if the entry is stale, fix the list."},
			remBucketCompromised, remCredentialsCompromised),
	}
}
