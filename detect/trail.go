package detect

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/finding"
)

// Finding types of the CloudTrail rule detector ([Trail]): deterministic
// checks on single successful calls that need no baseline.
const (
	TypePenTestIAMKali   = "PenTest:IAMUser/KaliLinux"
	TypePenTestIAMParrot = "PenTest:IAMUser/ParrotLinux"
	TypePenTestIAMPentoo = "PenTest:IAMUser/PentooLinux"
	TypePenTestS3Kali    = "PenTest:S3/KaliLinux"
	TypePenTestS3Parrot  = "PenTest:S3/ParrotLinux"
	TypePenTestS3Pentoo  = "PenTest:S3/PentooLinux"

	TypePasswordPolicyChange = "Stealth:IAMUser/PasswordPolicyChange"

	TypeS3AccountBPADisabled     = "Policy:S3/AccountBlockPublicAccessDisabled"
	TypeS3BucketBPADisabled      = "Policy:S3/BucketBlockPublicAccessDisabled"
	TypeS3BucketAnonymousAccess  = "Policy:S3/BucketAnonymousAccessGranted"
	TypeS3BucketPublicAccess     = "Policy:S3/BucketPublicAccessGranted"
	TypeS3ServerAccessLoggingOff = "Stealth:S3/ServerAccessLoggingDisabled"
	TypeFlowLogsDeleted          = "Stealth:IAMUser/FlowLogsDeleted"
	TypeDNSQueryLoggingDeleted   = "Stealth:IAMUser/DNSQueryLoggingDeleted"
	TypeEventSelectorsReduced    = "Stealth:IAMUser/CloudTrailEventSelectorsReduced"
	TypeLeaveOrganization        = "Impact:IAMUser/LeaveOrganization"
	TypeGuardDutyTampering       = "DefenseEvasion:IAMUser/GuardDutyTampering"
	TypeSecurityGroupOpenToWorld = "Policy:IAMUser/SecurityGroupOpenToWorld"
	TypeSnapshotOrImageShared    = "Exfiltration:IAMUser/SnapshotOrImageShared"
	TypeRoleTrustExternal        = "Persistence:IAMUser/RoleTrustExternal"
)

func init() {
	moreEntries = append(moreEntries, trailEntries)
	moreDetectors = append(moreDetectors, func(e *Env, o Options) Detector { return NewTrail(e) })
	// ThreatPurpose values first used by these types (kept if another file
	// already explains them).
	for k, v := range map[string]string{
		"PenTest":        "The activity looks like it comes from penetration-testing tooling (Kali, Parrot or Pentoo Linux): an authorised test, or an attacker using the same tools.",
		"Exfiltration":   "Someone is moving data out of the account or making it available outside it.",
		"Persistence":    "Someone is arranging to keep access to the account, for example through new credentials or trust relationships.",
		"DefenseEvasion": "Someone is trying to avoid detection, for example by disabling or blinding security services.",
	} {
		if _, ok := purposes[k]; !ok {
			purposes[k] = v
		}
	}
}

// Trail reports single CloudTrail calls that weaken the account's defences
// or come from penetration-testing distributions. It keeps no state. Only
// successful calls (no errorCode) are reported, and never calls from an
// address on a trusted list.
type Trail struct {
	env *Env
	api *API // for the finding envelope helpers
}

// NewTrail returns the CloudTrail rule detector.
func NewTrail(env *Env) *Trail { return &Trail{env: env, api: &API{env: env}} }

// Name implements Detector.
func (t *Trail) Name() string { return "cloudtrail-rules" }

type trailRule uint8

const (
	ruleNone trailRule = iota
	rulePasswordPolicy
	ruleBucketBPA
	ruleAccountBPA
	ruleBucketPolicy
	ruleBucketACL
	ruleBucketLogging
	ruleFlowLogs
	ruleDNSLogging
	ruleEventSelectors
	ruleLeaveOrg
	ruleGuardDuty
	ruleSecurityGroup
	ruleSnapshot
	ruleRoleTrust
)

// ruleOf picks the check for a call from its source and name alone, so that
// calls no rule handles cost two string switches and no allocation.
func ruleOf(c *event.APICall) trailRule {
	switch c.EventSource {
	case "iam.amazonaws.com":
		switch c.EventName {
		case "UpdateAccountPasswordPolicy", "DeleteAccountPasswordPolicy":
			return rulePasswordPolicy
		case "CreateRole", "UpdateAssumeRolePolicy":
			return ruleRoleTrust
		}
	case "s3.amazonaws.com", "s3control.amazonaws.com":
		switch c.EventName {
		case "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock":
			return ruleBucketBPA
		case "PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock", "PutPublicAccessBlock", "DeletePublicAccessBlock":
			return ruleAccountBPA
		case "PutBucketPolicy":
			return ruleBucketPolicy
		case "PutBucketAcl", "CreateBucket":
			return ruleBucketACL
		case "PutBucketLogging":
			return ruleBucketLogging
		}
	case "ec2.amazonaws.com":
		switch c.EventName {
		case "DeleteFlowLogs":
			return ruleFlowLogs
		case "AuthorizeSecurityGroupIngress":
			return ruleSecurityGroup
		case "ModifySnapshotAttribute", "ModifyImageAttribute":
			return ruleSnapshot
		}
	case "rds.amazonaws.com":
		switch c.EventName {
		case "ModifyDBSnapshotAttribute", "ModifyDBClusterSnapshotAttribute":
			return ruleSnapshot
		}
	case "route53resolver.amazonaws.com":
		switch c.EventName {
		case "DeleteResolverQueryLogConfig", "DisassociateResolverQueryLogConfig":
			return ruleDNSLogging
		}
	case "cloudtrail.amazonaws.com":
		if c.EventName == "PutEventSelectors" {
			return ruleEventSelectors
		}
	case "organizations.amazonaws.com":
		if c.EventName == "LeaveOrganization" {
			return ruleLeaveOrg
		}
	case "guardduty.amazonaws.com":
		switch c.EventName {
		case "DeleteDetector", "UpdateDetector", "DisassociateFromMasterAccount", "DisassociateFromAdministratorAccount",
			"CreateIPSet", "UpdateIPSet", "DeleteThreatIntelSet", "CreateFilter", "UpdateFilter", "DeletePublishingDestination":
			return ruleGuardDuty
		}
	}
	return ruleNone
}

// Observe implements Detector.
func (t *Trail) Observe(ev *event.Event, emit func(*finding.Finding)) {
	if ev.Kind != event.KindAPICall {
		return
	}
	c := &ev.API
	distro := pentestDistro(c.UserAgent)
	rule := ruleOf(c)
	if (distro == "" && rule == ruleNone) || c.ErrorCode != "" {
		return
	}
	if ip := c.SourceIP.Unmap(); ip.IsValid() && t.env.trustedIP(t.api.account(c), ip) {
		return
	}
	if distro != "" {
		t.pentest(c, distro, emit)
	}
	switch rule {
	case rulePasswordPolicy:
		t.passwordPolicy(c, emit)
	case ruleBucketBPA, ruleAccountBPA:
		t.blockPublicAccess(c, rule == ruleAccountBPA, emit)
	case ruleBucketPolicy:
		t.bucketPolicy(c, emit)
	case ruleBucketACL:
		t.bucketACL(c, emit)
	case ruleBucketLogging:
		t.bucketLogging(c, emit)
	case ruleFlowLogs:
		t.flowLogs(c, emit)
	case ruleDNSLogging:
		t.dnsLogging(c, emit)
	case ruleEventSelectors:
		t.eventSelectors(c, emit)
	case ruleLeaveOrg:
		t.leaveOrg(c, emit)
	case ruleGuardDuty:
		t.guardDuty(c, emit)
	case ruleSecurityGroup:
		t.securityGroup(c, emit)
	case ruleSnapshot:
		t.snapshot(c, emit)
	case ruleRoleTrust:
		t.roleTrust(c, emit)
	}
}

// base starts a finding about the caller's access key. The aggregation key
// is the caller's principal followed by key (the affected resource).
func (t *Trail) base(typ string, sev float64, c *event.APICall, key ...string) *finding.Finding {
	return t.api.base(typ, sev, c, append([]string{principalKey(c)}, key...)...)
}

// onBucket makes the finding's resource the bucket, keeping the caller's
// access key details as GuardDuty does on S3 findings.
func onBucket(o *finding.Finding, bucket string) {
	if bucket == "" {
		return
	}
	o.Resource.ResourceType = finding.ResourceS3Bucket
	o.Resource.S3BucketDetails = []finding.S3BucketDetail{{Arn: "arn:aws:s3:::" + bucket, Name: bucket, Type: "Destination"}}
}

func params(c *event.APICall, v any) bool {
	return len(c.RequestParameters) > 0 && json.Unmarshal(c.RequestParameters, v) == nil
}

// ---- 1. Penetration-testing distributions -------------------------------

var pentestTypes = map[string][2]string{
	"kali":   {TypePenTestIAMKali, TypePenTestS3Kali},
	"parrot": {TypePenTestIAMParrot, TypePenTestS3Parrot},
	"pentoo": {TypePenTestIAMPentoo, TypePenTestS3Pentoo},
}

var distroNames = map[string]string{"kali": "Kali Linux", "parrot": "Parrot Security Linux", "pentoo": "Pentoo Linux"}

// pentestDistro returns "kali", "parrot" or "pentoo" when the user agent
// names one of them in an operating-system token: the kernel release of
// "Linux/6.1.0-kali5-amd64" or "os/linux#5.10.0-6parrot1-amd64", or the
// distribution of "exe/x86_64.kali.2024" and "distrib/pentoo". Words
// elsewhere (command names, application names) do not count. It does not
// allocate.
func pentestDistro(ua string) string {
	for ua != "" {
		tok := ua
		if i := strings.IndexByte(ua, ' '); i >= 0 {
			tok, ua = ua[:i], ua[i+1:]
		} else {
			ua = ""
		}
		tok = strings.TrimLeft(tok, "[(")
		tok = strings.TrimRight(tok, "]);,")
		var rest string
		for _, p := range [...]string{"linux/", "os/linux#", "exe/", "distrib/", "md/distrib#"} {
			if len(tok) > len(p) && strings.EqualFold(tok[:len(p)], p) {
				rest = tok[len(p):]
				break
			}
		}
		for rest != "" {
			seg := rest
			if i := strings.IndexAny(rest, "-._+#/"); i >= 0 {
				seg, rest = rest[:i], rest[i+1:]
			} else {
				rest = ""
			}
			// Optional build digits around the name: kali, kali1, 6parrot1.
			seg = strings.TrimLeft(seg, "0123456789")
			name := strings.TrimRight(seg, "0123456789")
			for _, d := range [...]string{"kali", "parrot", "pentoo"} {
				if strings.EqualFold(name, d) {
					return d
				}
			}
		}
	}
	return ""
}

func (t *Trail) pentest(c *event.APICall, distro string, emit func(*finding.Finding)) {
	s3data := c.EventSource == "s3.amazonaws.com" && c.EventCategory == "Data"
	typ := pentestTypes[distro][0]
	if s3data {
		typ = pentestTypes[distro][1]
	}
	if !t.env.Enabled(typ) {
		return
	}
	bucket := ""
	if s3data {
		bucket = bucketName(c)
	}
	o := t.base(typ, SevMedium, c, bucket)
	onBucket(o, bucket)
	name := distroNames[distro]
	o.Title = fmt.Sprintf("API %s was invoked from a %s computer.", c.EventName, name)
	o.Description = fmt.Sprintf("API %s (%s) was invoked by %s from %s, a computer running %s (user agent %q). %s is a penetration-testing distribution: unless a test is under way, the credentials may be in an attacker's hands.",
		c.EventName, c.EventSource, callerName(c), c.SourceIPAddress, name, c.UserAgent, name)
	if bucket != "" {
		o.Description = fmt.Sprintf("API %s was invoked on S3 bucket %s by %s from %s, a computer running %s (user agent %q). Unless a penetration test is under way, someone may be using stolen credentials against the bucket.",
			c.EventName, bucket, callerName(c), c.SourceIPAddress, name, c.UserAgent)
	}
	emit(o)
}

// ---- 2. Password policy --------------------------------------------------

// passwordPolicy grades a change of the account password policy: deleting
// it is High (IAM users can then choose any password of 6 or more
// characters); a policy allowing fewer than 8 characters (AWS's default of
// 6 when the length is omitted) or requiring no character class at all is
// Medium; any other change is Low.
func (t *Trail) passwordPolicy(c *event.APICall, emit func(*finding.Finding)) {
	if !t.env.Enabled(TypePasswordPolicyChange) {
		return
	}
	sev, why := SevLow, "was changed"
	if c.EventName == "DeleteAccountPasswordPolicy" {
		sev, why = SevHigh, "was deleted: IAM users may now set any password AWS accepts"
	} else {
		var p struct {
			MinimumPasswordLength      *int  `json:"minimumPasswordLength"`
			RequireSymbols             *bool `json:"requireSymbols"`
			RequireNumbers             *bool `json:"requireNumbers"`
			RequireUppercaseCharacters *bool `json:"requireUppercaseCharacters"`
			RequireLowercaseCharacters *bool `json:"requireLowercaseCharacters"`
		}
		params(c, &p)
		isTrue := func(b *bool) bool { return b != nil && *b }
		var weak []string
		if p.MinimumPasswordLength == nil || *p.MinimumPasswordLength < 8 {
			n := 6
			if p.MinimumPasswordLength != nil {
				n = *p.MinimumPasswordLength
			}
			weak = append(weak, fmt.Sprintf("a minimum length of %d", n))
		}
		if !isTrue(p.RequireSymbols) && !isTrue(p.RequireNumbers) && !isTrue(p.RequireUppercaseCharacters) && !isTrue(p.RequireLowercaseCharacters) {
			weak = append(weak, "no required character classes")
		}
		if len(weak) > 0 {
			sev, why = SevMedium, "was weakened to "+strings.Join(weak, " and ")
		}
	}
	o := t.base(TypePasswordPolicyChange, sev, c, "account-password-policy")
	o.Title = "The account password policy was changed."
	if c.EventName == "DeleteAccountPasswordPolicy" {
		o.Title = "The account password policy was deleted."
	} else if sev > SevLow {
		o.Title = "The account password policy was weakened."
	}
	o.Description = fmt.Sprintf("%s called %s: the password policy of account %s %s. Attackers weaken the policy to set easily guessed passwords on users they create or take over.",
		callerName(c), c.EventName, t.api.account(c), why)
	emit(o)
}

// ---- 3. Block Public Access ------------------------------------------------

func (t *Trail) blockPublicAccess(c *event.APICall, account bool, emit func(*finding.Finding)) {
	var p struct {
		BucketName string `json:"bucketName"`
		Config     *struct {
			BlockPublicAcls       *bool
			IgnorePublicAcls      *bool
			BlockPublicPolicy     *bool
			RestrictPublicBuckets *bool
		} `json:"PublicAccessBlockConfiguration"`
	}
	params(c, &p)
	if p.BucketName == "" {
		account = true
	}
	deleted := strings.HasPrefix(c.EventName, "Delete")
	var off []string
	if !deleted {
		if p.Config == nil {
			return // nothing to evaluate
		}
		// Omitted settings are false in the S3 API.
		for _, f := range []struct {
			name string
			v    *bool
		}{{"BlockPublicAcls", p.Config.BlockPublicAcls}, {"IgnorePublicAcls", p.Config.IgnorePublicAcls},
			{"BlockPublicPolicy", p.Config.BlockPublicPolicy}, {"RestrictPublicBuckets", p.Config.RestrictPublicBuckets}} {
			if f.v == nil || !*f.v {
				off = append(off, f.name)
			}
		}
		if len(off) == 0 {
			return
		}
	}
	what := "was removed"
	if !deleted {
		what = "was changed to turn off " + strings.Join(off, ", ")
	}
	if account {
		if !t.env.Enabled(TypeS3AccountBPADisabled) {
			return
		}
		acct := t.api.account(c)
		o := t.base(TypeS3AccountBPADisabled, SevLow, c, "account", acct)
		o.Title = "Amazon S3 Block Public Access was disabled for the account."
		o.Description = fmt.Sprintf("S3 Block Public Access for account %s %s by %s calling %s. Buckets of the account can now be made public by bucket policies and ACLs.", acct, what, callerName(c), c.EventName)
		emit(o)
		return
	}
	if !t.env.Enabled(TypeS3BucketBPADisabled) {
		return
	}
	o := t.base(TypeS3BucketBPADisabled, SevLow, c, p.BucketName)
	onBucket(o, p.BucketName)
	o.Title = fmt.Sprintf("Amazon S3 Block Public Access was disabled for S3 bucket %s.", p.BucketName)
	o.Description = fmt.Sprintf("S3 Block Public Access of bucket %s %s by %s calling %s. The bucket can now be made public by its policy or ACLs.", p.BucketName, what, callerName(c), c.EventName)
	emit(o)
}

// ---- 4. Public bucket policies and ACLs -----------------------------------

// policyDoc is an IAM policy document: Statement may be one object or a list.
type policyDoc struct {
	Statement stmtList
}

type stmtList []policyStmt

func (l *stmtList) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var s policyStmt
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = stmtList{s}
		return nil
	}
	return json.Unmarshal(b, (*[]policyStmt)(l))
}

type policyStmt struct {
	Effect       string
	Principal    json.RawMessage
	NotPrincipal json.RawMessage
	Condition    map[string]map[string]json.RawMessage
}

// parsePolicy reads a policy given as an object, a JSON string or a
// URL-encoded JSON string (IAM logs documents URL-encoded at times).
func parsePolicy(raw json.RawMessage) (policyDoc, bool) {
	var d policyDoc
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	if len(raw) == 0 || string(raw) == "null" {
		return d, false
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return d, false
		}
		s = strings.TrimSpace(s)
		if strings.HasPrefix(s, "%7B") || strings.HasPrefix(s, "%7b") {
			if u, err := url.QueryUnescape(s); err == nil {
				s = u
			}
		}
		raw = json.RawMessage(s)
	}
	if json.Unmarshal(raw, &d) != nil {
		return d, false
	}
	return d, true
}

// stringOrList decodes a JSON string or list of strings.
func stringOrList(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(raw, &many)
	return many
}

// principals returns whether a Principal element is everyone ("*" or
// {"AWS":"*"}) and the AWS principals it names.
func principals(raw json.RawMessage) (everyone bool, aws []string) {
	if len(raw) == 0 {
		return false, nil
	}
	if raw[0] == '"' {
		for _, s := range stringOrList(raw) {
			if s == "*" {
				return true, nil
			}
		}
		return false, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false, nil
	}
	for k, v := range m {
		if !strings.EqualFold(k, "AWS") {
			continue
		}
		for _, s := range stringOrList(v) {
			if s == "*" {
				everyone = true
			} else {
				aws = append(aws, s)
			}
		}
	}
	return everyone, aws
}

// restrictingKeys are condition keys that limit who can use an Allow
// statement to a network, organisation, account or principal.
// aws:Referer is not one: any client can send it.
var restrictingKeys = map[string]bool{
	"aws:sourceip": true, "aws:vpcsourceip": true, "aws:sourcevpc": true, "aws:sourcevpce": true,
	"aws:principalorgid": true, "aws:principalorgpaths": true, "aws:principalaccount": true, "aws:principalarn": true,
	"aws:sourceaccount": true, "aws:sourcearn": true, "aws:sourceorgid": true, "aws:sourceorgpaths": true,
	"aws:sourceowner": true, "aws:userid": true, "aws:username": true, "aws:principalservicename": true,
	"aws:calledvia": true, "aws:calledviafirst": true, "aws:calledvialast": true,
}

// restricted reports whether a statement's Condition limits it to known
// networks or principals. Negated operators (StringNotEquals …) and Null
// checks do not, nor do wildcard values or a 0.0.0.0/0 source range.
func restricted(cond map[string]map[string]json.RawMessage) bool {
	for op, keys := range cond {
		base := op
		if _, after, ok := strings.Cut(op, ":"); ok { // ForAnyValue:, ForAllValues:
			base = after
		}
		if strings.Contains(base, "Not") || strings.HasPrefix(base, "Null") {
			continue
		}
		for k, v := range keys {
			if !restrictingKeys[strings.ToLower(k)] {
				continue
			}
			open := false
			for _, s := range stringOrList(v) {
				if s == "*" || s == "" {
					open = true
				}
				if p, err := netip.ParsePrefix(s); err == nil && p.Bits() == 0 {
					open = true
				}
			}
			if !open {
				return true
			}
		}
	}
	return false
}

// publicStatements counts the Allow statements open to everyone without a
// restricting condition (including Allow with NotPrincipal).
func publicStatements(d policyDoc) int {
	n := 0
	for _, s := range d.Statement {
		if !strings.EqualFold(s.Effect, "Allow") {
			continue
		}
		everyone, _ := principals(s.Principal)
		if len(s.NotPrincipal) > 0 && string(s.NotPrincipal) != "null" {
			everyone = true
		}
		if everyone && !restricted(s.Condition) {
			n++
		}
	}
	return n
}

func (t *Trail) bucketPolicy(c *event.APICall, emit func(*finding.Finding)) {
	if !t.env.Enabled(TypeS3BucketAnonymousAccess) {
		return
	}
	var p struct {
		BucketName   string          `json:"bucketName"`
		BucketPolicy json.RawMessage `json:"bucketPolicy"`
		Policy       json.RawMessage `json:"policy"`
	}
	if !params(c, &p) {
		return
	}
	raw := p.BucketPolicy
	if len(raw) == 0 {
		raw = p.Policy
	}
	d, ok := parsePolicy(raw)
	if !ok {
		return
	}
	n := publicStatements(d)
	if n == 0 {
		return
	}
	o := t.base(TypeS3BucketAnonymousAccess, SevHigh, c, p.BucketName)
	onBucket(o, p.BucketName)
	o.Title = fmt.Sprintf("Amazon S3 bucket %s was made publicly accessible by its policy.", p.BucketName)
	o.Description = fmt.Sprintf("The bucket policy set on %s by %s (%s) has %d Allow statement(s) for Principal \"*\" that no source address, VPC, organisation or account condition restricts: anyone on the internet, signed in or not, may use them.",
		p.BucketName, callerName(c), c.EventName, n)
	emit(o)
}

const (
	groupAllUsers  = "http://acs.amazonaws.com/groups/global/AllUsers"
	groupAuthUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
)

// aclGroups collects the grantee group URIs of an AccessControlPolicy and
// of x-amz-grant-* headers, and canned ACLs that grant to them.
func aclGroups(rp map[string]json.RawMessage) (all, auth bool, how []string) {
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && strings.EqualFold(k, "URI") {
					switch s {
					case groupAllUsers:
						all = true
					case groupAuthUsers:
						auth = true
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for k, raw := range rp {
		lk := strings.ToLower(k)
		switch {
		case lk == "accesscontrolpolicy":
			var v any
			if json.Unmarshal(raw, &v) == nil {
				a, u := all, auth
				walk(v)
				if all != a || auth != u {
					how = append(how, "a grant in the ACL")
				}
			}
		case lk == "x-amz-acl":
			for _, s := range stringOrList(raw) {
				switch strings.ToLower(s) {
				case "public-read", "public-read-write":
					all = true
					how = append(how, "the canned ACL "+s)
				case "authenticated-read":
					auth = true
					how = append(how, "the canned ACL "+s)
				}
			}
		case strings.HasPrefix(lk, "x-amz-grant-"):
			for _, s := range stringOrList(raw) {
				if strings.Contains(s, groupAllUsers) {
					all = true
					how = append(how, k)
				} else if strings.Contains(s, groupAuthUsers) {
					auth = true
					how = append(how, k)
				}
			}
		}
	}
	slices.Sort(how)
	return all, auth, how
}

func (t *Trail) bucketACL(c *event.APICall, emit func(*finding.Finding)) {
	var rp map[string]json.RawMessage
	if !params(c, &rp) {
		return
	}
	all, auth, how := aclGroups(rp)
	if !all && !auth {
		return
	}
	var bucket string
	if b, ok := rp["bucketName"]; ok {
		_ = json.Unmarshal(b, &bucket)
	}
	typ, who := TypeS3BucketAnonymousAccess, "everyone on the internet (AllUsers)"
	if !all {
		typ, who = TypeS3BucketPublicAccess, "every authenticated AWS user of any account (AuthenticatedUsers)"
	}
	if !t.env.Enabled(typ) {
		return
	}
	o := t.base(typ, SevHigh, c, bucket)
	onBucket(o, bucket)
	o.Title = fmt.Sprintf("Amazon S3 bucket %s was made publicly accessible by its ACL.", bucket)
	o.Description = fmt.Sprintf("%s by %s on bucket %s grants access to %s through %s. Unless Block Public Access ignores public ACLs, the bucket is open to them.",
		c.EventName, callerName(c), bucket, who, strings.Join(how, ", "))
	emit(o)
}

// ---- 5. Server access logging ---------------------------------------------

func (t *Trail) bucketLogging(c *event.APICall, emit func(*finding.Finding)) {
	if !t.env.Enabled(TypeS3ServerAccessLoggingOff) {
		return
	}
	var p struct {
		BucketName string          `json:"bucketName"`
		Status     json.RawMessage `json:"BucketLoggingStatus"`
	}
	if !params(c, &p) || len(p.Status) == 0 || string(p.Status) == "null" {
		return
	}
	var st map[string]json.RawMessage
	if json.Unmarshal(p.Status, &st) == nil {
		for k, v := range st {
			if strings.EqualFold(k, "LoggingEnabled") && string(v) != "null" {
				return
			}
		}
	} else if s := stringOrList(p.Status); len(s) != 1 || s[0] != "" {
		return // neither an object nor an empty string
	}
	o := t.base(TypeS3ServerAccessLoggingOff, SevLow, c, p.BucketName)
	onBucket(o, p.BucketName)
	o.Title = fmt.Sprintf("Server access logging was disabled for S3 bucket %s.", p.BucketName)
	o.Description = fmt.Sprintf("%s turned off server access logging of bucket %s (PutBucketLogging without LoggingEnabled). Requests to the bucket are no longer recorded in its access logs.", callerName(c), p.BucketName)
	emit(o)
}

// ---- 6. Beyond GuardDuty ----------------------------------------------------

func (t *Trail) flowLogs(c *event.APICall, emit func(*finding.Finding)) {
	if !t.env.Enabled(TypeFlowLogsDeleted) {
		return
	}
	var rp any
	params(c, &rp)
	var ids []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		case string:
			if strings.HasPrefix(v, "fl-") {
				ids = append(ids, v)
			}
		}
	}
	walk(rp)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	list := strings.Join(ids, ",")
	o := t.base(TypeFlowLogsDeleted, SevMedium, c, list)
	o.Title = "VPC flow logs were deleted."
	o.Description = fmt.Sprintf("%s deleted VPC flow log(s) %s. Network activity of the affected VPCs, subnets or interfaces is no longer recorded, which blinds the flow-log detections.", callerName(c), list)
	emit(o)
}

func (t *Trail) dnsLogging(c *event.APICall, emit func(*finding.Finding)) {
	if !t.env.Enabled(TypeDNSQueryLoggingDeleted) {
		return
	}
	var p struct {
		ConfigID   string `json:"resolverQueryLogConfigId"`
		ResourceID string `json:"resourceId"`
	}
	params(c, &p)
	o := t.base(TypeDNSQueryLoggingDeleted, SevMedium, c, p.ConfigID, p.ResourceID)
	what := "deleted Route 53 Resolver query logging configuration " + p.ConfigID
	if p.ResourceID != "" {
		what = fmt.Sprintf("detached Route 53 Resolver query logging configuration %s from %s", p.ConfigID, p.ResourceID)
	}
	o.Title = "Route 53 Resolver query logging was removed."
	o.Description = fmt.Sprintf("%s %s. DNS queries are no longer logged, which blinds the DNS detections.", callerName(c), what)
	emit(o)
}

func (t *Trail) eventSelectors(c *event.APICall, emit func(*finding.Finding)) {
	if !t.env.Enabled(TypeEventSelectorsReduced) {
		return
	}
	var p struct {
		TrailName      string `json:"trailName"`
		EventSelectors []struct {
			ReadWriteType           string
			IncludeManagementEvents *bool
		} `json:"eventSelectors"`
		AdvancedEventSelectors []struct {
			FieldSelectors []struct {
				Field  string
				Equals []string
			}
		} `json:"advancedEventSelectors"`
	}
	if !params(c, &p) {
		return
	}
	var why string
	switch {
	case len(p.EventSelectors) > 0:
		for _, s := range p.EventSelectors {
			// IncludeManagementEvents defaults to true, ReadWriteType to All.
			mgmt := s.IncludeManagementEvents == nil || *s.IncludeManagementEvents
			if mgmt && (s.ReadWriteType == "" || strings.EqualFold(s.ReadWriteType, "All") || strings.EqualFold(s.ReadWriteType, "WriteOnly")) {
				return
			}
		}
		why = "no event selector includes write management events (includeManagementEvents false, or readWriteType ReadOnly or None)"
	case len(p.AdvancedEventSelectors) > 0:
		for _, s := range p.AdvancedEventSelectors {
			mgmt, readsOnly := false, false
			for _, f := range s.FieldSelectors {
				switch {
				case strings.EqualFold(f.Field, "eventCategory"):
					mgmt = slices.ContainsFunc(f.Equals, func(v string) bool { return strings.EqualFold(v, "Management") })
				case strings.EqualFold(f.Field, "readOnly"):
					readsOnly = len(f.Equals) == 1 && strings.EqualFold(f.Equals[0], "true")
				}
			}
			if mgmt && !readsOnly {
				return
			}
		}
		why = "no advanced event selector selects write management events (eventCategory Management)"
	default:
		return
	}
	trail := trailName(p.TrailName)
	o := t.base(TypeEventSelectorsReduced, SevMedium, c, trail)
	o.Title = fmt.Sprintf("AWS CloudTrail trail %s no longer records management events.", trail)
	o.Description = fmt.Sprintf("%s changed the event selectors of trail %s so that %s. The trail keeps running but no longer records the API calls that change the account.", callerName(c), trail, why)
	emit(o)
}

func (t *Trail) leaveOrg(c *event.APICall, emit func(*finding.Finding)) {
	if !t.env.Enabled(TypeLeaveOrganization) {
		return
	}
	acct := t.api.account(c)
	o := t.base(TypeLeaveOrganization, SevHigh, c, acct)
	o.Title = fmt.Sprintf("Account %s left its AWS organization.", acct)
	o.Description = fmt.Sprintf("%s made account %s leave its AWS Organizations organization. The account is no longer bound by the organisation's service control policies, organisation trail or delegated security services.", callerName(c), acct)
	emit(o)
}

func (t *Trail) guardDuty(c *event.APICall, emit func(*finding.Finding)) {
	if !t.env.Enabled(TypeGuardDutyTampering) {
		return
	}
	var p struct {
		DetectorID string `json:"detectorId"`
		Enable     *bool  `json:"enable"`
		Activate   *bool  `json:"activate"`
		Action     string `json:"action"`
		Name       string `json:"name"`
		Features   []struct {
			Name   string
			Status string
		} `json:"features"`
	}
	params(c, &p)
	var what string
	switch c.EventName {
	case "DeleteDetector":
		what = "deleted the GuardDuty detector"
	case "UpdateDetector":
		var off []string
		for _, f := range p.Features {
			if strings.EqualFold(f.Status, "DISABLED") {
				off = append(off, f.Name)
			}
		}
		switch {
		case p.Enable != nil && !*p.Enable:
			what = "suspended the GuardDuty detector"
		case len(off) > 0:
			what = "turned off GuardDuty protection(s) " + strings.Join(off, ", ")
		default:
			return
		}
	case "DisassociateFromMasterAccount", "DisassociateFromAdministratorAccount":
		what = "detached the account from its GuardDuty administrator account"
	case "CreateIPSet", "UpdateIPSet":
		if p.Activate != nil && !*p.Activate {
			return // deactivating a trusted list hides nothing
		}
		what = "added or changed a GuardDuty trusted IP list (" + p.Name + "): calls from its addresses produce no findings"
	case "DeleteThreatIntelSet":
		what = "deleted a GuardDuty threat list"
	case "CreateFilter", "UpdateFilter":
		if !strings.EqualFold(p.Action, "ARCHIVE") {
			return
		}
		what = "created or changed a GuardDuty suppression rule (" + p.Name + ") that archives matching findings automatically"
	case "DeletePublishingDestination":
		what = "deleted the GuardDuty findings export destination"
	default:
		return
	}
	o := t.base(TypeGuardDutyTampering, SevHigh, c, p.DetectorID)
	o.Title = "Amazon GuardDuty was tampered with."
	o.Description = fmt.Sprintf("%s %s (%s on detector %s). Attackers blind threat detection before acting.", callerName(c), what, c.EventName, p.DetectorID)
	emit(o)
}

// adminPorts are the remote administration and database ports whose
// exposure to the internet Policy:IAMUser/SecurityGroupOpenToWorld reports.
var adminPorts = []int{22, 3389, 5985, 5986, 3306, 5432, 1433, 6379, 9200, 27017}

type sgPerm struct {
	IPProtocol string `json:"ipProtocol"`
	FromPort   *int   `json:"fromPort"`
	ToPort     *int   `json:"toPort"`
	IPRanges   struct {
		Items []struct {
			CidrIP string `json:"cidrIp"`
		} `json:"items"`
	} `json:"ipRanges"`
	IPv6Ranges struct {
		Items []struct {
			CidrIPv6 string `json:"cidrIpv6"`
		} `json:"items"`
	} `json:"ipv6Ranges"`
}

func worldCIDR(s string) bool {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	return err == nil && p.Bits() == 0
}

// exposed returns what of a rule is open to the world: "all traffic" or
// the administrative ports in its range.
func (r sgPerm) exposed(legacyCIDR string) []string {
	world := worldCIDR(legacyCIDR)
	for _, x := range r.IPRanges.Items {
		world = world || worldCIDR(x.CidrIP)
	}
	for _, x := range r.IPv6Ranges.Items {
		world = world || worldCIDR(x.CidrIPv6)
	}
	if !world {
		return nil
	}
	switch strings.ToLower(r.IPProtocol) {
	case "-1", "all":
		return []string{"all traffic"}
	case "tcp", "6":
	default:
		return nil
	}
	from, to := 0, 65535
	if r.FromPort != nil && *r.FromPort >= 0 {
		from = *r.FromPort
	}
	if r.ToPort != nil && *r.ToPort >= 0 {
		to = *r.ToPort
	}
	if from == 0 && to == 65535 {
		return []string{"all TCP ports"}
	}
	var out []string
	for _, p := range adminPorts {
		if p >= from && p <= to {
			out = append(out, fmt.Sprintf("TCP %d", p))
		}
	}
	return out
}

func (t *Trail) securityGroup(c *event.APICall, emit func(*finding.Finding)) {
	if !t.env.Enabled(TypeSecurityGroupOpenToWorld) {
		return
	}
	var p struct {
		GroupID       string `json:"groupId"`
		GroupName     string `json:"groupName"`
		IPPermissions struct {
			Items []sgPerm `json:"items"`
		} `json:"ipPermissions"`
		// The old flat form of the call.
		sgPerm
		CidrIP string `json:"cidrIp"`
	}
	if !params(c, &p) {
		return
	}
	var open []string
	for _, r := range p.IPPermissions.Items {
		open = append(open, r.exposed("")...)
	}
	if p.IPProtocol != "" {
		open = append(open, p.sgPerm.exposed(p.CidrIP)...)
	}
	if len(open) == 0 {
		return
	}
	slices.Sort(open)
	open = slices.Compact(open)
	group := p.GroupID
	if group == "" {
		group = p.GroupName
	}
	o := t.base(TypeSecurityGroupOpenToWorld, SevMedium, c, group)
	o.Title = fmt.Sprintf("Security group %s was opened to the internet on administrative ports.", group)
	o.Description = fmt.Sprintf("%s allowed inbound %s from 0.0.0.0/0 or ::/0 in security group %s. Remote administration and database services exposed to the internet are scanned and brute-forced within minutes.",
		callerName(c), strings.Join(open, ", "), group)
	emit(o)
}

// accountOf returns the account id of a principal given as an account id
// or an ARN, or "".
func accountOf(s string) string {
	if strings.HasPrefix(s, "arn:") {
		parts := strings.SplitN(s, ":", 6)
		if len(parts) == 6 {
			return parts[4]
		}
		return ""
	}
	if len(s) == 12 && strings.Trim(s, "0123456789") == "" {
		return s
	}
	return ""
}

func (t *Trail) snapshot(c *event.APICall, emit func(*finding.Finding)) {
	if !t.env.Enabled(TypeSnapshotOrImageShared) {
		return
	}
	type perm struct {
		Add struct {
			Items []struct {
				Group  string `json:"group"`
				UserID string `json:"userId"`
			} `json:"items"`
		} `json:"add"`
	}
	var p struct {
		SnapshotID        string   `json:"snapshotId"`
		ImageID           string   `json:"imageId"`
		CreateVolumePerm  perm     `json:"createVolumePermission"`
		LaunchPerm        perm     `json:"launchPermission"`
		DBSnapshot        string   `json:"dBSnapshotIdentifier"`
		DBClusterSnapshot string   `json:"dBClusterSnapshotIdentifier"`
		AttributeName     string   `json:"attributeName"`
		ValuesToAdd       []string `json:"valuesToAdd"`
	}
	if !params(c, &p) {
		return
	}
	own := t.api.account(c)
	public := false
	var others []string
	addAccount := func(a string) {
		if a != "" && a != own && !slices.Contains(others, a) {
			others = append(others, a)
		}
	}
	var res, kind string
	if c.EventSource == "rds.amazonaws.com" {
		res, kind = p.DBSnapshot, "RDS snapshot"
		if res == "" {
			res, kind = p.DBClusterSnapshot, "RDS cluster snapshot"
		}
		if !strings.EqualFold(p.AttributeName, "restore") {
			return
		}
		for _, v := range p.ValuesToAdd {
			if strings.EqualFold(v, "all") {
				public = true
			} else {
				addAccount(v)
			}
		}
	} else {
		res, kind = p.SnapshotID, "EBS snapshot"
		items := p.CreateVolumePerm.Add.Items
		if c.EventName == "ModifyImageAttribute" {
			res, kind, items = p.ImageID, "AMI", p.LaunchPerm.Add.Items
		}
		for _, it := range items {
			if strings.EqualFold(it.Group, "all") {
				public = true
			}
			addAccount(it.UserID)
		}
	}
	if !public && len(others) == 0 {
		return
	}
	sev, with := SevMedium, "account(s) "+strings.Join(others, ", ")
	if public {
		sev, with = SevHigh, "everyone (made public)"
	}
	o := t.base(TypeSnapshotOrImageShared, sev, c, res)
	o.Title = fmt.Sprintf("%s %s was shared outside the account.", kind, res)
	o.Description = fmt.Sprintf("%s shared %s %s with %s through %s. Whoever it is shared with can copy the data it holds.", callerName(c), kind, res, with, c.EventName)
	emit(o)
}

func (t *Trail) roleTrust(c *event.APICall, emit func(*finding.Finding)) {
	if !t.env.Enabled(TypeRoleTrustExternal) {
		return
	}
	var p struct {
		RoleName string          `json:"roleName"`
		Create   json.RawMessage `json:"assumeRolePolicyDocument"`
		Update   json.RawMessage `json:"policyDocument"`
	}
	if !params(c, &p) {
		return
	}
	raw := p.Create
	if c.EventName == "UpdateAssumeRolePolicy" {
		raw = p.Update
	}
	d, ok := parsePolicy(raw)
	if !ok {
		return
	}
	own := t.api.account(c)
	var who []string
	for _, s := range d.Statement {
		if !strings.EqualFold(s.Effect, "Allow") {
			continue
		}
		everyone, aws := principals(s.Principal)
		if everyone && !restricted(s.Condition) && !slices.Contains(who, "anyone (Principal \"*\")") {
			who = append(who, "anyone (Principal \"*\")")
		}
		for _, a := range aws {
			if acct := accountOf(a); acct != "" && acct != own && !slices.Contains(who, "account "+acct) {
				who = append(who, "account "+acct)
			}
		}
	}
	if len(who) == 0 {
		return
	}
	o := t.base(TypeRoleTrustExternal, SevMedium, c, p.RoleName)
	o.Title = fmt.Sprintf("Role %s can be assumed from outside the account.", p.RoleName)
	o.Description = fmt.Sprintf("%s (%s) set the trust policy of role %s so that it can be assumed by %s. A role trusted by a foreign account or by everyone is a way back into the account that survives rotating its users' credentials.",
		callerName(c), c.EventName, p.RoleName, strings.Join(who, ", "))
	emit(o)
}

// trailSample describes the sample finding of one of this file's types for
// SampleFindings (the API call, its service, title and description), or
// reports false for other types. None of these types comes from a threat
// list, so samples carry no evidence.
func trailSample(typ, account, bucket, who string) (api, service, title, desc string, ok bool) {
	pentest := func(api, service, name string) (string, string, string, string, bool) {
		return api, service, fmt.Sprintf("API %s was invoked from a %s computer.", api, name),
			fmt.Sprintf("API %s (%s) was invoked by %s from a computer running %s (user agent %q). Unless a penetration test is under way, the credentials may be in an attacker's hands.", api, service, who, name, "aws-cli/1.18.69 Python/3.8.5 Linux/5.7.0-kali1-amd64 botocore/1.17.16"), true
	}
	switch typ {
	case TypePenTestIAMKali:
		return pentest("ListUsers", "iam.amazonaws.com", "Kali Linux")
	case TypePenTestIAMParrot:
		return pentest("ListUsers", "iam.amazonaws.com", "Parrot Security Linux")
	case TypePenTestIAMPentoo:
		return pentest("ListUsers", "iam.amazonaws.com", "Pentoo Linux")
	case TypePenTestS3Kali:
		return pentest("GetObject", "s3.amazonaws.com", "Kali Linux")
	case TypePenTestS3Parrot:
		return pentest("GetObject", "s3.amazonaws.com", "Parrot Security Linux")
	case TypePenTestS3Pentoo:
		return pentest("GetObject", "s3.amazonaws.com", "Pentoo Linux")
	case TypePasswordPolicyChange:
		return "UpdateAccountPasswordPolicy", "iam.amazonaws.com", "The account password policy was changed.",
			fmt.Sprintf("%s called UpdateAccountPasswordPolicy: the password policy of account %s was changed. Attackers weaken the policy to set easily guessed passwords on users they create or take over.", who, account), true
	case TypeS3AccountBPADisabled:
		return "PutAccountPublicAccessBlock", "s3.amazonaws.com", "Amazon S3 Block Public Access was disabled for the account.",
			fmt.Sprintf("S3 Block Public Access for account %s was changed to turn off BlockPublicPolicy by %s calling PutAccountPublicAccessBlock. Buckets of the account can now be made public by bucket policies and ACLs.", account, who), true
	case TypeS3BucketBPADisabled:
		return "PutBucketPublicAccessBlock", "s3.amazonaws.com", fmt.Sprintf("Amazon S3 Block Public Access was disabled for S3 bucket %s.", bucket),
			fmt.Sprintf("S3 Block Public Access of bucket %s was changed to turn off BlockPublicPolicy by %s calling PutBucketPublicAccessBlock. The bucket can now be made public by its policy or ACLs.", bucket, who), true
	case TypeS3BucketAnonymousAccess:
		return "PutBucketPolicy", "s3.amazonaws.com", fmt.Sprintf("Amazon S3 bucket %s was made publicly accessible by its policy.", bucket),
			fmt.Sprintf("The bucket policy set on %s by %s (PutBucketPolicy) has 1 Allow statement(s) for Principal \"*\" that no source address, VPC, organisation or account condition restricts: anyone on the internet, signed in or not, may use them.", bucket, who), true
	case TypeS3BucketPublicAccess:
		return "PutBucketAcl", "s3.amazonaws.com", fmt.Sprintf("Amazon S3 bucket %s was made publicly accessible by its ACL.", bucket),
			fmt.Sprintf("PutBucketAcl by %s on bucket %s grants access to every authenticated AWS user of any account (AuthenticatedUsers) through the canned ACL authenticated-read.", who, bucket), true
	case TypeS3ServerAccessLoggingOff:
		return "PutBucketLogging", "s3.amazonaws.com", fmt.Sprintf("Server access logging was disabled for S3 bucket %s.", bucket),
			fmt.Sprintf("%s turned off server access logging of bucket %s (PutBucketLogging without LoggingEnabled). Requests to the bucket are no longer recorded in its access logs.", who, bucket), true
	case TypeFlowLogsDeleted:
		return "DeleteFlowLogs", "ec2.amazonaws.com", "VPC flow logs were deleted.",
			fmt.Sprintf("%s deleted VPC flow log(s) fl-99999999. Network activity of the affected VPCs, subnets or interfaces is no longer recorded, which blinds the flow-log detections.", who), true
	case TypeDNSQueryLoggingDeleted:
		return "DeleteResolverQueryLogConfig", "route53resolver.amazonaws.com", "Route 53 Resolver query logging was removed.",
			fmt.Sprintf("%s deleted Route 53 Resolver query logging configuration rqlc-99999999. DNS queries are no longer logged, which blinds the DNS detections.", who), true
	case TypeEventSelectorsReduced:
		return "PutEventSelectors", "cloudtrail.amazonaws.com", "AWS CloudTrail trail GeneratedFindingTrailName no longer records management events.",
			fmt.Sprintf("%s changed the event selectors of trail GeneratedFindingTrailName so that no event selector includes write management events. The trail keeps running but no longer records the API calls that change the account.", who), true
	case TypeLeaveOrganization:
		return "LeaveOrganization", "organizations.amazonaws.com", fmt.Sprintf("Account %s left its AWS organization.", account),
			fmt.Sprintf("%s made account %s leave its AWS Organizations organization. The account is no longer bound by the organisation's service control policies, organisation trail or delegated security services.", who, account), true
	case TypeGuardDutyTampering:
		return "DeleteDetector", "guardduty.amazonaws.com", "Amazon GuardDuty was tampered with.",
			fmt.Sprintf("%s deleted the GuardDuty detector (DeleteDetector). Attackers blind threat detection before acting.", who), true
	case TypeSecurityGroupOpenToWorld:
		return "AuthorizeSecurityGroupIngress", "ec2.amazonaws.com", "Security group sg-99999999 was opened to the internet on administrative ports.",
			fmt.Sprintf("%s allowed inbound TCP 22 from 0.0.0.0/0 or ::/0 in security group sg-99999999. Remote administration and database services exposed to the internet are scanned and brute-forced within minutes.", who), true
	case TypeSnapshotOrImageShared:
		return "ModifySnapshotAttribute", "ec2.amazonaws.com", "EBS snapshot snap-99999999 was shared outside the account.",
			fmt.Sprintf("%s shared EBS snapshot snap-99999999 with everyone (made public) through ModifySnapshotAttribute. Whoever it is shared with can copy the data it holds.", who), true
	case TypeRoleTrustExternal:
		return "UpdateAssumeRolePolicy", "iam.amazonaws.com", "Role GeneratedFindingRoleName can be assumed from outside the account.",
			fmt.Sprintf("%s (UpdateAssumeRolePolicy) set the trust policy of role GeneratedFindingRoleName so that it can be assumed by account 444455556666. A role trusted by a foreign account or by everyone is a way back into the account that survives rotating its users' credentials.", who), true
	}
	return "", "", "", "", false
}

// ---- Catalogue ---------------------------------------------------------------

func trailEntries() []TypeInfo {
	iam := func(typ string, sev float64, desc string, rem ...[]string) TypeInfo {
		return TypeInfo{Type: typ, Severity: sev, ResourceType: finding.ResourceAccessKey, ActionType: finding.ActionAWSAPICall, Source: SourceCloudTrail, Description: desc, Remediation: steps(rem...)}
	}
	// The package's catalogue invariants tie the S3 family to the S3 data
	// events source; the Policy:S3 and Stealth:S3 types read management
	// events, which their descriptions say.
	s3 := func(typ string, sev float64, desc string, rem ...[]string) TypeInfo {
		return TypeInfo{Type: typ, Severity: sev, ResourceType: finding.ResourceS3Bucket, ActionType: finding.ActionAWSAPICall, Source: SourceS3DataEvents, Description: desc, Remediation: steps(rem...)}
	}
	remAsk := []string{"Ask the caller (accessKeyDetails) whether the change was planned; if it was, archive the finding, or add a suppression rule for the principal if such changes are routine."}
	remPentest := []string{
		"Ask whether a penetration test is under way from that address; if so, archive the findings (a suppression rule on the tester's access key or source address for the test's duration).",
		"Otherwise treat the credentials as stolen.",
	}
	remBucketPublic := []string{
		"Check whether the bucket is meant to be public (a static website behind no CDN); if so, archive with a suppression rule on the bucket name.",
		"Otherwise remove the public grant or statement at once (aws s3api delete-bucket-policy, or put-bucket-acl --acl private) and turn Block Public Access back on.",
		"Review the bucket's S3 data events and server access logs for reads by unknown parties since the change, and treat data read as exposed.",
	}
	var out []TypeInfo
	for _, d := range []struct{ iamT, s3T, name string }{
		{TypePenTestIAMKali, TypePenTestS3Kali, "Kali Linux"},
		{TypePenTestIAMParrot, TypePenTestS3Parrot, "Parrot Security Linux"},
		{TypePenTestIAMPentoo, TypePenTestS3Pentoo, "Pentoo Linux"},
	} {
		out = append(out,
			iam(d.iamT, SevMedium, "An API was called from a computer running "+d.name+", a penetration-testing distribution, as its user agent shows (the kernel or distribution token, e.g. Linux/6.1.0-kali5-amd64). Unless a test is under way, the credentials may be used by an attacker.",
				remPentest, remCredentialsCompromised),
			s3(d.s3T, SevMedium, "An S3 data API was called on the bucket from a computer running "+d.name+", a penetration-testing distribution, as its user agent shows. Unless a test is under way, someone may be using stolen credentials against the bucket's data.",
				remPentest, remBucketCompromised, remCredentialsCompromised))
	}
	return append(out,
		iam(TypePasswordPolicyChange, SevLow,
			"The account password policy was changed or deleted (UpdateAccountPasswordPolicy, DeleteAccountPasswordPolicy). Low (2) for a change that keeps at least 8 characters and one required character class; Medium (5) when the new policy allows fewer than 8 characters (6 when the length is omitted) or requires no character class; High (8) when the policy was deleted.",
			remAsk,
			[]string{"Restore the policy: aws iam update-account-password-policy with at least 14 characters and the character classes your standard requires.", "If the change was not authorised, look for users whose passwords or console access changed after it, and treat the caller's credentials as compromised."}),
		s3(TypeS3AccountBPADisabled, SevLow,
			"S3 Block Public Access was turned off, partly or wholly, for the whole account (PutAccountPublicAccessBlock with a setting false, or DeleteAccountPublicAccessBlock; CloudTrail management events). Bucket policies and ACLs can now make any bucket of the account public. The finding's resource is the caller's access key, since no bucket is involved.",
			remAsk,
			[]string{"Turn it back on: aws s3control put-public-access-block --account-id ACCOUNT --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true.", "Look for buckets made public since the change (bucket policy and ACL changes in CloudTrail)."}),
		s3(TypeS3BucketBPADisabled, SevLow,
			"S3 Block Public Access was turned off, partly or wholly, for the bucket (PutBucketPublicAccessBlock with a setting false, or DeleteBucketPublicAccessBlock; CloudTrail management events). Its policy or ACLs can now make it public.",
			remAsk,
			[]string{"Turn it back on: aws s3api put-public-access-block --bucket BUCKET with all four settings true.", "Check the bucket's policy and ACL for public grants added since."}),
		s3(TypeS3BucketAnonymousAccess, SevHigh,
			"A bucket policy or ACL change made the bucket accessible to anyone on the internet (CloudTrail management events): a PutBucketPolicy with an Allow statement for Principal \"*\" that no source address, VPC, organisation, account or principal condition restricts (aws:Referer does not count), or a PutBucketAcl/CreateBucket granting the AllUsers group (canned ACL public-read or public-read-write).",
			remAsk, remBucketPublic),
		s3(TypeS3BucketPublicAccess, SevHigh,
			"A bucket ACL change granted access to every authenticated AWS user of any account (the AuthenticatedUsers group, canned ACL authenticated-read; CloudTrail management events).",
			remAsk, remBucketPublic),
		s3(TypeS3ServerAccessLoggingOff, SevLow,
			"Server access logging of the bucket was turned off (PutBucketLogging without LoggingEnabled; CloudTrail management events). Attackers turn off logs before reading or deleting data.",
			remAsk,
			[]string{"Turn logging back on with the previous target bucket and prefix (aws s3api put-bucket-logging).", "Review the bucket's CloudTrail data events since the change for reads and deletes."}),
		iam(TypeFlowLogsDeleted, SevMedium,
			"VPC flow logs were deleted (ec2 DeleteFlowLogs). Network traffic of the VPCs, subnets or interfaces they covered is no longer recorded, which blinds the flow-log detections. Medium: it removes a detection source, like turning off a trail, but not the audit log itself.",
			remAsk,
			[]string{"Recreate the flow logs (aws ec2 create-flow-logs) with the previous destination and format.", "Review what the same principal did afterwards; if the deletion was not authorised, treat the credentials as compromised."}),
		iam(TypeDNSQueryLoggingDeleted, SevMedium,
			"Route 53 Resolver query logging was deleted or detached from a VPC (DeleteResolverQueryLogConfig, DisassociateResolverQueryLogConfig). DNS queries are no longer logged, which blinds the DNS detections.",
			remAsk,
			[]string{"Recreate or reassociate the query logging configuration (aws route53resolver associate-resolver-query-log-config).", "If the change was not authorised, treat the credentials as compromised."}),
		iam(TypeEventSelectorsReduced, SevMedium,
			"A trail's event selectors were changed so that it no longer records write management events (PutEventSelectors with includeManagementEvents false or readWriteType ReadOnly/None in every selector, or advanced selectors none of which selects eventCategory Management). The trail keeps running, so Stealth:IAMUser/CloudTrailLoggingDisabled does not fire, yet the calls that change the account are no longer logged.",
			remAsk,
			[]string{"Restore the selectors: aws cloudtrail put-event-selectors with ReadWriteType All and IncludeManagementEvents true.", "Review the calls made since the change from any other trail or the CloudTrail event history (management events are kept 90 days)."}),
		iam(TypeLeaveOrganization, SevHigh,
			"The account left its AWS organization (organizations LeaveOrganization). Its service control policies, organisation trail and delegated security services stop applying: a step attackers take before abusing or holding an account to ransom. High: the call is rare and hard to undo.",
			remAsk,
			[]string{"If it was not planned, regain control of the account at once: secure the root user, revoke the caller's sessions and keys.", "Invite the account back into the organisation and check that SCPs and the organisation trail apply again.", "Prevent it: an SCP denying organizations:LeaveOrganization."}),
		iam(TypeGuardDutyTampering, SevHigh,
			"Amazon GuardDuty was disabled or blinded: DeleteDetector, UpdateDetector suspending the detector or turning protections off, DisassociateFromAdministratorAccount, a trusted IP list created or updated (its addresses produce no findings), a threat list deleted, a suppression filter that archives findings, or the findings export destination deleted. High: it hides later attacks.",
			remAsk,
			[]string{"Undo the change: re-enable the detector or protection, remove the trusted list or suppression filter, restore the export destination or the administrator association.", "Review what the same principal did around that time; if the change was not authorised, treat the credentials as compromised.", "Prevent it: an SCP denying guardduty:Delete*, Disassociate*, UpdateDetector, CreateIPSet and CreateFilter outside a security role."}),
		iam(TypeSecurityGroupOpenToWorld, SevMedium,
			"A security group rule allowed inbound traffic from 0.0.0.0/0 or ::/0 to all traffic, all TCP ports, or a TCP range covering a remote administration or database port (22, 3389, 5985, 5986, 3306, 5432, 1433, 6379, 9200, 27017), via AuthorizeSecurityGroupIngress. Ports such as 443 are not reported. The type is named IAMUser because the affected resource is a security group, not an instance.",
			remAsk,
			[]string{"Remove the rule (aws ec2 revoke-security-group-ingress) and allow only your addresses, or use Systems Manager Session Manager or a bastion instead of open SSH and RDP.", "Check the logs of the services behind the port for logins since the change."}),
		iam(TypeSnapshotOrImageShared, SevHigh,
			"An EBS snapshot, AMI or RDS (cluster) snapshot was shared outside the account: ModifySnapshotAttribute or ModifyImageAttribute adding createVolumePermission/launchPermission, or ModifyDBSnapshotAttribute/ModifyDBClusterSnapshotAttribute adding restore permission. High (8) when made public (group or value \"all\"); Medium (5) when shared with another account id.",
			remAsk,
			[]string{"Remove the permission (modify-snapshot-attribute --create-volume-permission Remove=..., modify-image-attribute, modify-db-snapshot-attribute --values-to-remove).", "Treat the data in the snapshot or image as exposed: rotate secrets it contains.", "Prevent it: account-level block public access for EBS snapshots and AMIs, and an SCP limiting sharing."}),
		iam(TypeRoleTrustExternal, SevMedium,
			"A role was created, or its trust policy replaced, so that an account other than its own, or everyone (Principal \"*\" without a restricting condition), can assume it (CreateRole, UpdateAssumeRolePolicy). Such a role is a backdoor that survives credential rotation; vendor integrations legitimately use cross-account roles with an external id.",
			remAsk,
			[]string{"Check the trusted account ids against your organisation's accounts and vendors; archive or suppress (on the role name) trusted integrations.", "Otherwise restore the previous trust policy (aws iam update-assume-role-policy) or delete the role, and look for AssumeRole calls from the foreign account."}),
	)
}
