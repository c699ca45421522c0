package detect

import (
	"fmt"

	"golang.org/x/net/publicsuffix"

	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/finding"
	"github.com/vigilsec/vigil/intel"
	"github.com/vigilsec/vigil/inventory"
)

// Finding types from DNS query logs.
const (
	TypeBitcoinToolBDNS     = "CryptoCurrency:EC2/BitcoinTool.B!DNS"
	TypeCCActivityBDNS      = "Backdoor:EC2/C&CActivity.B!DNS"
	TypePhishingDNS         = "Trojan:EC2/PhishingDomainRequest!DNS"
	TypeDriveByDNS          = "Trojan:EC2/DriveBySourceTraffic!DNS"
	TypeDropPointDNS        = "Trojan:EC2/DropPoint!DNS"
	TypeBlackholeTrafficDNS = "Trojan:EC2/BlackholeTraffic!DNS"
	TypeMaliciousDomainCust = "Impact:EC2/MaliciousDomainRequest.Custom"
)

// DNS detects queries for domains on threat lists.
type DNS struct{ env *Env }

// NewDNS returns the DNS detector.
func NewDNS(env *Env) *DNS { return &DNS{env: env} }

// Name implements Detector.
func (d *DNS) Name() string { return "dns" }

// Observe implements Detector.
func (d *DNS) Observe(ev *event.Event, emit func(*finding.Finding)) {
	if ev.Kind != event.KindDNS {
		return
	}
	q := &ev.DNS
	if q.QueryName == "" {
		return
	}
	acct := q.AccountID
	if acct == "" {
		acct = d.env.Account
	}
	m, ok := d.env.threatDomain(acct, q.QueryName)
	if !ok || d.env.trustedDomain(acct, q.QueryName) {
		return
	}
	var typ string
	var sev float64
	switch m.Category {
	case intel.Mining:
		typ, sev = TypeBitcoinToolBDNS, SevHigh
	case intel.C2:
		typ, sev = TypeCCActivityBDNS, SevHigh
	case intel.Phishing:
		typ, sev = TypePhishingDNS, SevHigh
	case intel.Malware:
		typ, sev = TypeDriveByDNS, SevHigh
	case intel.DropPoint:
		typ, sev = TypeDropPointDNS, SevMedium
	case intel.Blackhole:
		typ, sev = TypeBlackholeTrafficDNS, SevMedium
	case intel.Custom, intel.Malicious:
		typ, sev = TypeMaliciousDomainCust, SevMedium
	default:
		return
	}
	if !d.env.Enabled(typ) {
		return
	}
	inst := d.env.dnsInstance(q)
	account, region, rid := q.AccountID, q.Region, ""
	var res finding.Resource
	if inst != nil {
		if account == "" {
			account = inst.AccountID
		}
		if region == "" {
			region = inst.Region
		}
		rid = inst.InstanceID
		det := inst.Details
		res = finding.Resource{ResourceType: finding.ResourceInstance, InstanceDetails: &det}
	} else {
		rid = q.SrcInstanceID
		if rid == "" {
			rid = q.VPCID + "/" + q.SrcAddr.String()
		}
		ni := finding.NetworkInterface{VpcID: q.VPCID}
		if q.SrcAddr.Is4() {
			ni.PrivateIPAddress = q.SrcAddr.String()
		} else if q.SrcAddr.IsValid() {
			ni.Ipv6Addresses = []string{q.SrcAddr.String()}
		}
		res = finding.Resource{ResourceType: finding.ResourceInstance, InstanceDetails: &finding.InstanceDetails{InstanceID: q.SrcInstanceID, NetworkInterfaces: []finding.NetworkInterface{ni}}}
	}
	if account == "" {
		account = d.env.Account
	}
	o := d.env.occurrence(typ, sev, account, region, q.Time, rid, q.QueryName)
	o.Resource = res
	o.Service.ResourceRole = finding.RoleActor
	suffix, err := publicsuffix.EffectiveTLDPlusOne(q.QueryName)
	if err != nil {
		suffix = ""
	}
	o.Service.Action = finding.Action{ActionType: finding.ActionDNSRequest, DNSRequestAction: &finding.DNSRequestAction{
		Domain:            q.QueryName,
		Protocol:          q.Transport,
		Blocked:           q.FirewallRuleAction == "BLOCK",
		DomainWithSuffix:  suffix,
		VpcOwnerAccountID: q.AccountID,
	}}
	o.Service.Evidence, o.Service.AdditionalInfo = threatEvidence(m)
	name := resourceName(o)
	switch typ {
	case TypeBitcoinToolBDNS:
		o.Title = fmt.Sprintf("Bitcoin-related domain name queried by EC2 instance %s.", name)
		o.Description = fmt.Sprintf("EC2 instance %s is querying %s, a domain name associated with cryptocurrency mining (list %s). Unless the instance is meant to mine, it may be compromised.", name, q.QueryName, m.List)
	case TypeCCActivityBDNS:
		o.Title = fmt.Sprintf("Command and Control server domain name queried by EC2 instance %s.", name)
		o.Description = fmt.Sprintf("EC2 instance %s is querying %s, a domain name associated with a known command and control server (list %s). The instance may be compromised.", name, q.QueryName, m.List)
	case TypePhishingDNS:
		o.Title = fmt.Sprintf("Phishing domain name queried by EC2 instance %s.", name)
		o.Description = fmt.Sprintf("EC2 instance %s is querying %s, a domain name associated with phishing (list %s).", name, q.QueryName, m.List)
	case TypeDriveByDNS:
		o.Title = fmt.Sprintf("Drive-by source domain name queried by EC2 instance %s.", name)
		o.Description = fmt.Sprintf("EC2 instance %s is querying %s, a domain name known to serve malware (list %s).", name, q.QueryName, m.List)
	case TypeDropPointDNS:
		o.Title = fmt.Sprintf("Drop point domain name queried by EC2 instance %s.", name)
		o.Description = fmt.Sprintf("EC2 instance %s is querying %s, a domain name known to hold stolen credentials or data (list %s).", name, q.QueryName, m.List)
	case TypeBlackholeTrafficDNS:
		o.Title = fmt.Sprintf("Black hole domain name queried by EC2 instance %s.", name)
		o.Description = fmt.Sprintf("EC2 instance %s is querying %s, a domain name redirected to a black hole address (list %s).", name, q.QueryName, m.List)
	case TypeMaliciousDomainCust:
		o.Title = fmt.Sprintf("Domain name on a custom threat list queried by EC2 instance %s.", name)
		o.Description = fmt.Sprintf("EC2 instance %s is querying %s, a domain name on the custom threat list %s.", name, q.QueryName, m.List)
	}
	emit(o)
}

func (e *Env) dnsInstance(q *event.DNSQuery) *inventory.Instance {
	inv := e.Inventory
	if inv == nil {
		return nil
	}
	if q.SrcInstanceID != "" {
		if i, ok := inv.ByInstanceID(q.SrcInstanceID); ok {
			return i
		}
	}
	if q.SrcAddr.IsValid() {
		if q.VPCID != "" {
			if i, ok := inv.ByVPCAddr(q.VPCID, q.SrcAddr); ok {
				return i
			}
		}
		if i, ok := inv.ByAddr(q.SrcAddr); ok {
			return i
		}
	}
	return nil
}
