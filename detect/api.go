package detect

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/finding"
	"github.com/vigilsec/vigil/intel"
)

// Finding types from CloudTrail.
const (
	TypeIAMTorIPCaller           = "UnauthorizedAccess:IAMUser/TorIPCaller"
	TypeReconTorIPCaller         = "Recon:IAMUser/TorIPCaller"
	TypeIAMMaliciousCustom       = "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom"
	TypeReconMaliciousCustom     = "Recon:IAMUser/MaliciousIPCaller.Custom"
	TypeS3TorIPCaller            = "UnauthorizedAccess:S3/TorIPCaller"
	TypeS3MaliciousCustom        = "UnauthorizedAccess:S3/MaliciousIPCaller.Custom"
	TypeS3DiscoveryCustom        = "Discovery:S3/MaliciousIPCaller.Custom"
	TypeInstanceCredOutsideAWS   = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"
	TypeInstanceCredInsideAWS    = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS"
	TypeRootCredentialUsage      = "Policy:IAMUser/RootCredentialUsage"
	TypeCloudTrailLoggingDisable = "Stealth:IAMUser/CloudTrailLoggingDisabled"
)

// API detects threats in CloudTrail records.
type API struct {
	env *Env
	// creds maps an instance-role session (principalId "AROA…:i-…") to
	// the source addresses learned as the instance's own.
	creds map[string]*credState
	// trailBuckets maps a bucket that receives a trail's logs to the trail.
	trailBuckets map[string]string
	maxKeys      int
}

type credState struct {
	Instance string       `json:"instance"`
	Addrs    []netip.Addr `json:"addrs"`
}

// NewAPI returns the CloudTrail detector.
func NewAPI(env *Env) *API {
	return &API{env: env, creds: map[string]*credState{}, trailBuckets: map[string]string{}, maxKeys: 100000}
}

// Name implements Detector.
func (a *API) Name() string { return "cloudtrail" }

type apiState struct {
	Creds        map[string]*credState `json:"creds"`
	TrailBuckets map[string]string     `json:"trailBuckets"`
}

// Snapshot implements Stateful.
func (a *API) Snapshot() ([]byte, error) {
	return json.Marshal(apiState{Creds: a.creds, TrailBuckets: a.trailBuckets})
}

// Restore implements Stateful.
func (a *API) Restore(b []byte) error {
	var s apiState
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("restoring cloudtrail detector: %w", err)
	}
	if s.Creds == nil {
		s.Creds = map[string]*credState{}
	}
	if s.TrailBuckets == nil {
		s.TrailBuckets = map[string]string{}
	}
	a.creds, a.trailBuckets = s.Creds, s.TrailBuckets
	return nil
}

// Observe implements Detector.
func (a *API) Observe(ev *event.Event, emit func(*finding.Finding)) {
	if ev.Kind != event.KindAPICall {
		return
	}
	c := &ev.API
	ip := c.SourceIP.Unmap()
	// GuardDuty's trusted IP lists silence every CloudTrail finding about
	// calls from those addresses.
	if ip.IsValid() && a.env.trustedIP(a.account(c), ip) {
		return
	}
	a.trail(c, emit)
	a.root(c, emit)
	if !ip.IsValid() || !public(ip) {
		return
	}
	a.instanceCreds(c, ip, emit)
	a.caller(c, ip, emit)
}

func (a *API) account(c *event.APICall) string {
	switch {
	case c.RecipientAccountID != "":
		return c.RecipientAccountID
	case c.UserIdentity.AccountID != "":
		return c.UserIdentity.AccountID
	}
	return a.env.Account
}

// principalKey is the aggregation key of the caller: the access key, else
// the principal.
func principalKey(c *event.APICall) string {
	u := &c.UserIdentity
	switch {
	case u.AccessKeyID != "":
		return u.AccessKeyID
	case u.PrincipalID != "":
		return u.PrincipalID
	case u.ARN != "":
		return u.ARN
	}
	return u.Type
}

func accessKey(c *event.APICall) *finding.AccessKeyDetails {
	u := &c.UserIdentity
	d := &finding.AccessKeyDetails{AccessKeyID: u.AccessKeyID, PrincipalID: u.PrincipalID, UserType: u.Type}
	switch u.Type {
	case "Root":
		d.UserName = "Root"
		if d.PrincipalID == "" {
			d.PrincipalID = u.AccountID
		}
	case "AssumedRole":
		d.UserName = u.IssuerUserName
		if d.UserName == "" {
			d.UserName = roleFromARN(u.ARN)
		}
	default:
		d.UserName = u.UserName
	}
	return d
}

func roleFromARN(arn string) string {
	// arn:aws:sts::111122223333:assumed-role/ROLE/SESSION
	_, rest, ok := strings.Cut(arn, ":assumed-role/")
	if !ok {
		return ""
	}
	role, _, _ := strings.Cut(rest, "/")
	return role
}

func (a *API) apiCall(c *event.APICall) *finding.AwsAPICallAction {
	act := &finding.AwsAPICallAction{API: c.EventName, ServiceName: c.EventSource, UserAgent: c.UserAgent, ErrorCode: c.ErrorCode}
	if ip := c.SourceIP.Unmap(); ip.IsValid() {
		act.CallerType = "Remote IP"
		act.RemoteIPDetails = a.env.remoteIP(ip)
	} else if c.SourceIPAddress != "" {
		act.CallerType = "Domain"
		act.DomainDetails = &finding.DomainDetails{Domain: c.SourceIPAddress}
	}
	return act
}

func (a *API) base(typ string, sev float64, c *event.APICall, key ...string) *finding.Finding {
	o := a.env.occurrence(typ, sev, a.account(c), c.AWSRegion, c.EventTime, key...)
	o.Resource = finding.Resource{ResourceType: finding.ResourceAccessKey, AccessKeyDetails: accessKey(c)}
	o.Service.ResourceRole = finding.RoleTarget
	o.Service.Action = finding.Action{ActionType: finding.ActionAWSAPICall, AwsAPICallAction: a.apiCall(c)}
	return o
}

func callerName(c *event.APICall) string {
	d := accessKey(c)
	if d.UserName != "" {
		return d.UserName
	}
	return principalKey(c)
}

// caller reports calls from Tor exits and from addresses on threat lists.
func (a *API) caller(c *event.APICall, ip netip.Addr, emit func(*finding.Finding)) {
	m, ok := a.env.threatIP(a.account(c), ip)
	if !ok {
		return
	}
	tor := m.Category == intel.TorExit
	switch m.Category {
	case intel.TorExit, intel.Custom, intel.Malicious, intel.C2,
		intel.Scanner, intel.Malware, intel.Phishing, intel.DropPoint:
	default:
		return
	}
	recon := isRecon(c.EventName)
	var typ string
	sev := SevMedium
	s3data := c.EventSource == "s3.amazonaws.com" && c.EventCategory == "Data"
	switch {
	case s3data && tor:
		typ, sev = TypeS3TorIPCaller, SevHigh
	case s3data && recon:
		typ, sev = TypeS3DiscoveryCustom, SevHigh
	case s3data:
		typ, sev = TypeS3MaliciousCustom, SevHigh
	case tor && recon:
		typ = TypeReconTorIPCaller
	case tor:
		typ = TypeIAMTorIPCaller
	case recon:
		typ = TypeReconMaliciousCustom
	default:
		typ = TypeIAMMaliciousCustom
	}
	if !a.env.Enabled(typ) {
		return
	}
	o := a.base(typ, sev, c, principalKey(c))
	if s3data {
		if b := bucketName(c); b != "" {
			o.Resource.ResourceType = finding.ResourceS3Bucket
			o.Resource.S3BucketDetails = []finding.S3BucketDetail{{Arn: "arn:aws:s3:::" + b, Name: b, Type: "Destination"}}
		}
	}
	o.Service.Evidence, o.Service.AdditionalInfo = threatEvidence(m)
	who := callerName(c)
	switch {
	case tor && recon:
		o.Title = fmt.Sprintf("A reconnaissance API %s was invoked from a Tor exit node IP address.", c.EventName)
		o.Description = fmt.Sprintf("The reconnaissance API %s was invoked by %s from %s, a Tor exit node (list %s). Tor hides who made the call: the credentials may be in an attacker's hands.", c.EventName, who, ip, m.List)
	case tor:
		o.Title = fmt.Sprintf("The API %s was invoked from a Tor exit node IP address.", c.EventName)
		o.Description = fmt.Sprintf("The API %s was invoked by %s from %s, a Tor exit node (list %s). Tor hides who made the call: the credentials may be in an attacker's hands.", c.EventName, who, ip, m.List)
	case recon:
		o.Title = fmt.Sprintf("A reconnaissance API %s was invoked from an IP address on a custom threat list.", c.EventName)
		o.Description = fmt.Sprintf("The reconnaissance API %s was invoked by %s from %s, an IP address on the threat list %s.", c.EventName, who, ip, m.List)
	default:
		o.Title = fmt.Sprintf("The API %s was invoked from an IP address on a custom threat list.", c.EventName)
		o.Description = fmt.Sprintf("The API %s was invoked by %s from %s, an IP address on the threat list %s.", c.EventName, who, ip, m.List)
	}
	emit(o)
}

// isRecon reports whether an API only reads configuration: the calls an
// intruder makes to learn the account. Reads of data or secrets are not
// reconnaissance.
func isRecon(api string) bool {
	switch api {
	case "GetObject", "GetObjectAcl", "GetSecretValue", "BatchGetSecretValue", "GetPasswordData", "GetParameter",
		"GetParameters", "GetParametersByPath", "GetSessionToken", "GetFederationToken", "GetAuthorizationToken",
		"GetObjectTorrent", "GetRecords", "GetItem", "BatchGetItem", "GetQueryResults", "GetLogEvents",
		"GetDataKey", "GenerateDataKey", "GenerateDbAuthToken", "GetSigninToken":
		return false
	}
	for _, p := range [...]string{"Describe", "List", "Get", "Lookup", "Search", "Head"} {
		if strings.HasPrefix(api, p) {
			return true
		}
	}
	return false
}

func bucketName(c *event.APICall) string {
	if len(c.RequestParameters) > 0 {
		var p struct {
			BucketName string `json:"bucketName"`
		}
		if json.Unmarshal(c.RequestParameters, &p) == nil && p.BucketName != "" {
			return p.BucketName
		}
	}
	for _, r := range c.Resources {
		if r.Type == "AWS::S3::Bucket" {
			if _, b, ok := strings.Cut(r.ARN, ":::"); ok {
				// Resource ARNs alias the decoder's buffer: copy what the finding keeps.
				return strings.Clone(b)
			}
		}
	}
	return ""
}

// instanceID returns the instance whose role credentials made the call, or
// "" when the credentials are not an EC2 instance's.
func instanceID(c *event.APICall) string {
	u := &c.UserIdentity
	if u.Type != "AssumedRole" || u.InvokedBy != "" {
		return ""
	}
	_, session, ok := strings.Cut(u.PrincipalID, ":")
	if !ok {
		if i := strings.LastIndexByte(u.ARN, '/'); i >= 0 {
			session = u.ARN[i+1:]
		}
	}
	if isInstanceID(session) {
		return session
	}
	if u.EC2RoleDelivery != "" {
		return session
	}
	return ""
}

func isInstanceID(s string) bool {
	if !strings.HasPrefix(s, "i-") || (len(s) != 10 && len(s) != 19) {
		return false
	}
	for _, r := range s[2:] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// instanceCreds reports instance-role credentials used from an address that
// is not the instance's: its inventory addresses, or, for an instance whose
// public address the inventory does not give (private subnets behind NAT),
// the first public address its credentials were seen from.
func (a *API) instanceCreds(c *event.APICall, ip netip.Addr, emit func(*finding.Finding)) {
	id := instanceID(c)
	if id == "" || c.VPCEndpointID != "" {
		return
	}
	inv := a.env.Inventory
	hasPublic := false
	if inv != nil {
		if inv.IsInstanceAddr(id, ip) {
			return
		}
		if inst, ok := inv.ByInstanceID(id); ok {
			for _, ad := range inst.Addrs {
				if public(ad) {
					hasPublic = true
				}
			}
		}
	}
	key := c.UserIdentity.PrincipalID
	if key == "" {
		key = id
	}
	st := a.creds[key]
	if st == nil {
		if len(a.creds) >= a.maxKeys {
			clear(a.creds)
		}
		st = &credState{Instance: id}
		a.creds[key] = st
	}
	if slices.Contains(st.Addrs, ip) {
		return
	}
	if !hasPublic && len(st.Addrs) == 0 {
		// First sight of a NATed instance's credentials: learn the address.
		st.Addrs = append(st.Addrs, ip)
		return
	}
	typ, sev := TypeInstanceCredOutsideAWS, SevHigh
	var remote *finding.RemoteAccountDetails
	if _, ok := a.env.inAWS(ip); ok {
		typ = TypeInstanceCredInsideAWS
		if inv != nil {
			if other, ok := inv.ByAddr(ip); ok {
				remote = &finding.RemoteAccountDetails{AccountID: other.AccountID, Affiliated: true}
				sev = SevMedium
			}
		}
	}
	if !a.env.Enabled(typ) {
		return
	}
	o := a.base(typ, sev, c, key, ip.String())
	o.Service.Action.AwsAPICallAction.RemoteAccountDetails = remote
	role := accessKey(c).UserName
	if typ == TypeInstanceCredOutsideAWS {
		o.Title = fmt.Sprintf("Credentials for instance role %s used from external IP address.", role)
		o.Description = fmt.Sprintf("Credentials created exclusively for EC2 instance %s through instance role %s have been used from external IP address %s, which is not the instance's and is outside AWS. The credentials may have been stolen from the instance.", id, role, ip)
	} else {
		o.Title = fmt.Sprintf("Credentials for instance role %s used from a remote AWS account.", role)
		o.Description = fmt.Sprintf("Credentials created exclusively for EC2 instance %s through instance role %s have been used from %s, an AWS address that is not the instance's. The credentials may have been stolen and used from another EC2 instance or AWS account.", id, role, ip)
	}
	info, _ := json.Marshal(map[string]string{"instanceId": id, "remoteIp": ip.String()})
	o.Service.AdditionalInfo = &finding.AdditionalInfo{Value: string(info), Type: "default"}
	emit(o)
}

// root reports API calls made with the root user's credentials, except
// calls an AWS service made on the account's behalf.
func (a *API) root(c *event.APICall, emit func(*finding.Finding)) {
	u := &c.UserIdentity
	if u.Type != "Root" || u.InvokedBy != "" || c.EventType == "AwsServiceEvent" {
		return
	}
	if c.EventName == "ConsoleLogin" && (c.ErrorCode != "" || strings.Contains(string(c.ResponseElements), "Failure")) {
		return
	}
	if c.SourceIP.IsValid() == false && strings.HasSuffix(c.SourceIPAddress, ".amazonaws.com") {
		return
	}
	if !a.env.Enabled(TypeRootCredentialUsage) {
		return
	}
	o := a.base(TypeRootCredentialUsage, SevLow, c, c.EventSource, c.EventName)
	o.Title = fmt.Sprintf("API %s was invoked using root credentials.", c.EventName)
	where := c.SourceIPAddress
	o.Description = fmt.Sprintf("API %s (%s) was invoked using root credentials from %s. The root user can do anything in the account and should not be used for everyday work.", c.EventName, c.EventSource, where)
	emit(o)
}

// trail reports a trail stopped, deleted or updated, or its bucket deleted.
func (a *API) trail(c *event.APICall, emit func(*finding.Finding)) {
	switch {
	case c.EventSource == "cloudtrail.amazonaws.com":
	case c.EventSource == "s3.amazonaws.com" && c.EventName == "DeleteBucket":
	default:
		return
	}
	var p struct {
		Name         string `json:"name"`
		S3BucketName string `json:"s3BucketName"`
		BucketName   string `json:"bucketName"`
	}
	if len(c.RequestParameters) > 0 {
		_ = json.Unmarshal(c.RequestParameters, &p)
	}
	trail := trailName(p.Name)
	if c.ErrorCode == "" && p.S3BucketName != "" && (c.EventName == "CreateTrail" || c.EventName == "UpdateTrail") {
		if len(a.trailBuckets) >= a.maxKeys {
			clear(a.trailBuckets)
		}
		a.trailBuckets[p.S3BucketName] = trail
	}
	if c.ErrorCode != "" {
		return
	}
	what := ""
	switch c.EventName {
	case "StopLogging":
		what = "stopped"
	case "DeleteTrail":
		what = "deleted"
	case "UpdateTrail":
		what = "updated"
	case "DeleteBucket":
		t, ok := a.trailBuckets[p.BucketName]
		if !ok {
			return
		}
		trail, what = t, "left without its log bucket "+p.BucketName
	default:
		return
	}
	if !a.env.Enabled(TypeCloudTrailLoggingDisable) {
		return
	}
	o := a.base(TypeCloudTrailLoggingDisable, SevLow, c, principalKey(c), trail)
	o.Title = fmt.Sprintf("AWS CloudTrail trail %s was disabled.", trail)
	o.Description = fmt.Sprintf("AWS CloudTrail trail %s was %s by %s calling %s. Attackers turn off logging to hide what they do next.", trail, what, callerName(c), c.EventName)
	if c.EventName == "UpdateTrail" {
		o.Title = fmt.Sprintf("AWS CloudTrail trail %s was changed.", trail)
	}
	emit(o)
}

// trailName returns the name of a trail given by name or ARN.
func trailName(s string) string {
	if i := strings.LastIndex(s, ":trail/"); i >= 0 {
		return s[i+len(":trail/"):]
	}
	return s
}
