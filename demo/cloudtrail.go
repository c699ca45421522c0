package demo

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"time"
)

type ctAttributes struct {
	CreationDate     string `json:"creationDate"`
	MFAAuthenticated string `json:"mfaAuthenticated"`
}

type ctIssuer struct {
	Type        string `json:"type,omitempty"`
	PrincipalID string `json:"principalId,omitempty"`
	ARN         string `json:"arn,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	UserName    string `json:"userName,omitempty"`
}

type ctSession struct {
	SessionIssuer       *ctIssuer    `json:"sessionIssuer,omitempty"`
	WebIDFederationData *struct{}    `json:"webIdFederationData,omitempty"`
	Attributes          ctAttributes `json:"attributes"`
	EC2RoleDelivery     string       `json:"ec2RoleDelivery,omitempty"`
}

type ctIdentity struct {
	Type           string     `json:"type,omitempty"`
	PrincipalID    string     `json:"principalId,omitempty"`
	ARN            string     `json:"arn,omitempty"`
	AccountID      string     `json:"accountId,omitempty"`
	AccessKeyID    string     `json:"accessKeyId,omitempty"`
	UserName       string     `json:"userName,omitempty"`
	SessionContext *ctSession `json:"sessionContext,omitempty"`
	InvokedBy      string     `json:"invokedBy,omitempty"`
}

type ctResource struct {
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type"`
	ARN       string `json:"ARN"`
}

type ctTLS struct {
	TLSVersion               string `json:"tlsVersion"`
	CipherSuite              string `json:"cipherSuite"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
}

// ctRec is one CloudTrail record; field order is CloudTrail's.
type ctRec struct {
	EventVersion                 string          `json:"eventVersion"`
	UserIdentity                 *ctIdentity     `json:"userIdentity"`
	EventTime                    json.RawMessage `json:"eventTime"`
	EventSource                  string          `json:"eventSource"`
	EventName                    string          `json:"eventName"`
	AWSRegion                    string          `json:"awsRegion"`
	SourceIPAddress              string          `json:"sourceIPAddress"`
	UserAgent                    string          `json:"userAgent"`
	ErrorCode                    string          `json:"errorCode,omitempty"`
	ErrorMessage                 string          `json:"errorMessage,omitempty"`
	RequestParameters            json.RawMessage `json:"requestParameters"`
	ResponseElements             json.RawMessage `json:"responseElements"`
	AdditionalEventData          json.RawMessage `json:"additionalEventData,omitempty"`
	RequestID                    string          `json:"requestID,omitempty"`
	EventID                      string          `json:"eventID"`
	ReadOnly                     bool            `json:"readOnly"`
	Resources                    []ctResource    `json:"resources,omitempty"`
	EventType                    string          `json:"eventType"`
	ManagementEvent              bool            `json:"managementEvent"`
	RecipientAccountID           string          `json:"recipientAccountId"`
	SharedEventID                string          `json:"sharedEventID,omitempty"`
	EventCategory                string          `json:"eventCategory"`
	TLSDetails                   *ctTLS          `json:"tlsDetails,omitempty"`
	SessionCredentialFromConsole string          `json:"sessionCredentialFromConsole,omitempty"`

	t        time.Time
	scenario bool // part of an attack or a near miss
}

// marshal encodes v as CloudTrail does: compact, without HTML escaping.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only fixed, known-good types are encoded
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'})
}

// obj builds a JSON object from key, value pairs, keeping their order.
func obj(kv ...any) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(marshal(kv[i].(string)))
		b.WriteByte(':')
		if raw, ok := kv[i+1].(json.RawMessage); ok {
			b.Write(raw)
		} else {
			b.Write(marshal(kv[i+1]))
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

var emptyObj = json.RawMessage("{}")

const (
	ctTime  = "2006-01-02T15:04:05Z"
	stsTime = "Jan 2, 2006, 3:04:05 PM" // how STS and IAM dates appear in responseElements
)

// User agents.
const (
	uaCLIOffice   = "aws-cli/2.22.4 Python/3.12.6 Linux/6.8.0-49-generic exe/x86_64.ubuntu.24 prompt/off command/"
	uaCLIMac      = "aws-cli/2.22.4 Python/3.12.6 Darwin/24.1.0 exe/x86_64 prompt/off command/"
	uaCLIAttacker = "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0-18-amd64 exe/x86_64.debian.12 prompt/off command/"
	uaBoto        = "Boto3/1.35.76 md/Botocore#1.35.76 ua/2.0 os/linux#6.1.115-126.197.amzn2023.x86_64 md/arch#x86_64 lang/python#3.12.7 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.76"
	uaWebApp      = "Boto3/1.34.162 md/Botocore#1.34.162 ua/2.0 os/linux#6.8.0-1016-aws md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.162"
	uaSSM         = "aws-sdk-go/1.55.5 (go1.22.7; linux; amd64) amazon-ssm-agent/3.3.1142.0"
	uaCWAgent     = "aws-sdk-go/1.48.6 (go1.22.7; linux; amd64) CWAgent/1.300049.1 (go1.22.7; linux; amd64)"
	uaTerraform   = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.80.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.6 ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/"
	uaBrowser     = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	uaTorBrowser  = "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"
	uaEMR         = "aws-sdk-java/1.12.772 Linux/5.10.228-219.884.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.13+11-LTS java/17.0.13 vendor/Amazon.com_Inc. cfg/retry-mode/standard"
	uaS3Console   = "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750 Linux/5.10.223-190.873.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.412-b09 java/1.8.0_412 vendor/Oracle_Corporation cfg/retry-mode/standard]"
	uaInternal    = "AWS Internal"
)

func eventVersion(svc string) string {
	switch svc {
	case "sts", "iam", "support", "monitoring":
		return "1.08"
	}
	return "1.09"
}

func endpoint(svc string) string {
	switch svc {
	case "iam":
		return "iam.amazonaws.com"
	case "s3":
		return "s3.us-east-1.amazonaws.com"
	}
	return svc + ".us-east-1.amazonaws.com"
}

func readOnlyName(name string) bool {
	for _, p := range []string{"Get", "List", "Describe", "Head", "Lookup", "AssumeRole"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// ctGen produces CloudTrail records from one random source.
type ctGen struct {
	r     *rand.Rand
	start time.Time
	scale int
	out   []*ctRec
}

func newCTGen(seed int64, start time.Time, scale int) *ctGen {
	return &ctGen{r: rand.New(rand.NewPCG(uint64(seed), 0xc7c7)), start: start, scale: scale}
}

// Identities.

func idUser(p principal) *ctIdentity {
	return &ctIdentity{Type: "IAMUser", PrincipalID: p.ID, ARN: userARN(p.Name), AccountID: accountID, AccessKeyID: p.Key, UserName: p.Name}
}

func idUserLogin(p principal) *ctIdentity {
	return &ctIdentity{Type: "IAMUser", PrincipalID: p.ID, ARN: userARN(p.Name), AccountID: accountID, UserName: p.Name}
}

func idUserConsole(p principal, key string, created time.Time) *ctIdentity {
	return &ctIdentity{Type: "IAMUser", PrincipalID: p.ID, ARN: userARN(p.Name), AccountID: accountID, AccessKeyID: key, UserName: p.Name,
		SessionContext: &ctSession{SessionIssuer: &ctIssuer{}, WebIDFederationData: &struct{}{},
			Attributes: ctAttributes{CreationDate: created.Format(ctTime), MFAAuthenticated: "true"}}}
}

func idRootLogin() *ctIdentity {
	return &ctIdentity{Type: "Root", PrincipalID: accountID, ARN: "arn:aws:iam::" + accountID + ":root", AccountID: accountID}
}

func idRootConsole(created time.Time) *ctIdentity {
	id := idRootLogin()
	id.AccessKeyID = rootConsoleKey
	id.SessionContext = &ctSession{SessionIssuer: &ctIssuer{}, WebIDFederationData: &struct{}{},
		Attributes: ctAttributes{CreationDate: created.Format(ctTime), MFAAuthenticated: "true"}}
	return id
}

func idRole(role, roleID, session, key string, created time.Time, mfa, ec2 bool) *ctIdentity {
	m := "false"
	if mfa {
		m = "true"
	}
	id := &ctIdentity{Type: "AssumedRole", PrincipalID: roleID + ":" + session,
		ARN:       "arn:aws:sts::" + accountID + ":assumed-role/" + role + "/" + session,
		AccountID: accountID, AccessKeyID: key,
		SessionContext: &ctSession{
			SessionIssuer:       &ctIssuer{Type: "Role", PrincipalID: roleID, ARN: roleARN(role), AccountID: accountID, UserName: role},
			WebIDFederationData: &struct{}{},
			Attributes:          ctAttributes{CreationDate: created.Format(ctTime), MFAAuthenticated: m},
		}}
	if ec2 {
		id.SessionContext.EC2RoleDelivery = "2.0"
	}
	return id
}

func (g *ctGen) webCreds() time.Time { return g.start.Add(-47*time.Minute - 13*time.Second) }
func (g *ctGen) emrCreds() time.Time { return g.start.Add(40 * time.Second) }

func (g *ctGen) idWeb() *ctIdentity {
	return idRole(hWeb.Role, webRoleID, hWeb.ID, webRoleKey, g.webCreds(), false, true)
}

func (g *ctGen) idEMR() *ctIdentity {
	return idRole(hEMR.Role, emrRoleID, hEMR.ID, emrRoleKey, g.emrCreds(), false, true)
}

func (g *ctGen) aliceLogin() time.Time { return g.start.Add(5*time.Minute + 17*time.Second) }

// Record builders.

// call appends an API call of svc (short name, e.g. "ec2") and returns it
// for adjustments.
func (g *ctGen) call(t time.Time, id *ctIdentity, src, ua, svc, name string, req, resp json.RawMessage) *ctRec {
	rec := &ctRec{
		EventVersion: eventVersion(svc), UserIdentity: id,
		EventTime:   json.RawMessage(`"` + t.UTC().Format(ctTime) + `"`),
		EventSource: svc + ".amazonaws.com", EventName: name, AWSRegion: awsRegion,
		SourceIPAddress: src, UserAgent: ua,
		RequestParameters: req, ResponseElements: resp,
		RequestID: uuid(g.r), EventID: uuid(g.r),
		ReadOnly: readOnlyName(name), EventType: "AwsApiCall", ManagementEvent: true,
		RecipientAccountID: accountID, EventCategory: "Management",
		TLSDetails: &ctTLS{TLSVersion: "TLSv1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ClientProvidedHostHeader: endpoint(svc)},
		t:          t,
	}
	if strings.HasSuffix(src, ".amazonaws.com") || src == uaInternal {
		rec.TLSDetails = nil
	}
	g.out = append(g.out, rec)
	return rec
}

func (g *ctGen) s3RequestID() string { return alnum(g.r, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") }

func (g *ctGen) amzID2() string {
	return alnum(g.r, 75, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") + "="
}

func (g *ctGen) s3Extra(in, out int) json.RawMessage {
	return obj("SignatureVersion", "SigV4", "CipherSuite", "TLS_AES_128_GCM_SHA256", "bytesTransferredIn", in,
		"AuthenticationMethod", "AuthHeader", "x-amz-id-2", g.amzID2(), "bytesTransferredOut", out)
}

// s3Object appends an S3 data event (GetObject, PutObject ...).
func (g *ctGen) s3Object(t time.Time, id *ctIdentity, src, ua, name, bucket, key string, size int) *ctRec {
	host := bucket + ".s3.us-east-1.amazonaws.com"
	rec := g.call(t, id, src, "["+strings.Trim(ua, "[]")+"]", "s3", name,
		obj("bucketName", bucket, "Host", host, "key", key), nil)
	in, out := 0, size
	if name == "PutObject" {
		in, out = size, 0
		rec.ResponseElements = obj("x-amz-server-side-encryption", "AES256")
	}
	rec.AdditionalEventData = g.s3Extra(in, out)
	rec.RequestID = g.s3RequestID()
	rec.ManagementEvent = false
	rec.EventCategory = "Data"
	rec.Resources = []ctResource{
		{Type: "AWS::S3::Object", ARN: "arn:aws:s3:::" + bucket + "/" + key},
		{AccountID: accountID, Type: "AWS::S3::Bucket", ARN: "arn:aws:s3:::" + bucket},
	}
	rec.TLSDetails.ClientProvidedHostHeader = host
	return rec
}

// listBuckets appends an S3 ListBuckets management event.
func (g *ctGen) listBuckets(t time.Time, id *ctIdentity, src, ua string) *ctRec {
	if ua != uaS3Console {
		ua = "[" + ua + "]"
	}
	rec := g.call(t, id, src, ua, "s3", "ListBuckets", obj("Host", "s3.us-east-1.amazonaws.com"), nil)
	rec.AdditionalEventData = g.s3Extra(0, 1800+g.r.IntN(900))
	rec.RequestID = g.s3RequestID()
	return rec
}

// consoleLogin appends a successful ConsoleLogin.
func (g *ctGen) consoleLogin(t time.Time, id *ctIdentity, src, ua, mfaDevice string) *ctRec {
	used := "No"
	if mfaDevice != "" {
		used = "Yes"
	}
	extra := []any{"LoginTo", "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_" + hexString(g.r, 16, false),
		"MobileVersion", "No"}
	if mfaDevice != "" {
		extra = append(extra, "MFAIdentifier", mfaDevice)
	}
	extra = append(extra, "MFAUsed", used)
	rec := g.call(t, id, src, ua, "signin", "ConsoleLogin", nil, obj("ConsoleLogin", "Success"))
	rec.AdditionalEventData = obj(extra...)
	rec.RequestID = ""
	rec.ReadOnly = false
	rec.EventType = "AwsConsoleSignIn"
	rec.TLSDetails.ClientProvidedHostHeader = "us-east-1.signin.aws.amazon.com"
	return rec
}

func (g *ctGen) token() string {
	return "IQoJb3JpZ2luX2VjE" + alnum(g.r, 180, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") + "=="
}

// assumeRole appends an sts:AssumeRole that issues key.
func (g *ctGen) assumeRole(t time.Time, id *ctIdentity, src, ua, role, roleID, session, key string, dur time.Duration) *ctRec {
	rec := g.call(t, id, src, ua, "sts", "AssumeRole",
		obj("roleArn", roleARN(role), "roleSessionName", session, "durationSeconds", int(dur.Seconds())),
		obj("credentials", obj("accessKeyId", key, "sessionToken", g.token(), "expiration", t.Add(dur).Format(stsTime)),
			"assumedRoleUser", obj("assumedRoleId", roleID+":"+session, "arn", "arn:aws:sts::"+accountID+":assumed-role/"+role+"/"+session)))
	rec.Resources = []ctResource{{AccountID: accountID, Type: "AWS::IAM::Role", ARN: roleARN(role)}}
	return rec
}

// instanceCredentials appends EC2's AssumeRole for an instance profile.
func (g *ctGen) instanceCredentials(t time.Time, h *host, key string) *ctRec {
	rec := g.call(t, &ctIdentity{Type: "AWSService", InvokedBy: "ec2.amazonaws.com"}, "ec2.amazonaws.com", "ec2.amazonaws.com", "sts", "AssumeRole",
		obj("roleArn", roleARN(h.Role), "roleSessionName", h.ID),
		obj("credentials", obj("accessKeyId", key, "sessionToken", g.token(), "expiration", t.Add(6*time.Hour).Format(stsTime))))
	rec.Resources = []ctResource{{AccountID: accountID, Type: "AWS::IAM::Role", ARN: roleARN(h.Role)}}
	rec.SharedEventID = uuid(g.r)
	return rec
}

// sec returns minute m plus s seconds.
func (g *ctGen) sec(m, s int) time.Time {
	return g.start.Add(time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
}

var webKeys = []string{"config/app.json", "config/feature-flags.json", "templates/email/order-confirmation.html",
	"static/catalog/index.json", "static/catalog/prices.json", "certs/ca-bundle.pem"}

func describeInstancesReq(ids ...string) json.RawMessage {
	if len(ids) == 0 {
		return obj("instancesSet", emptyObj, "filterSet", emptyObj)
	}
	items := make([]json.RawMessage, len(ids))
	for i, id := range ids {
		items[i] = obj("instanceId", id)
	}
	return obj("instancesSet", obj("items", items), "filterSet", emptyObj)
}

// background appends minute m's routine API activity.
func (g *ctGen) background(m int) {
	r := g.r
	webIP := hWeb.Public.String()

	// web-01's instance role.
	for range g.scale {
		if r.IntN(2) == 0 {
			g.s3Object(g.sec(m, r.IntN(60)), g.idWeb(), webIP, uaWebApp, "GetObject", webBucket, webKeys[r.IntN(len(webKeys))], 300+r.IntN(40000))
		}
	}
	if m%5 == 1 {
		g.call(g.sec(m, 7+r.IntN(3)), g.idWeb(), webIP, uaSSM, "ssm", "UpdateInstanceInformation",
			obj("instanceId", hWeb.ID, "agentVersion", "3.3.1142.0", "agentStatus", "Active", "platformType", "Linux",
				"platformName", "Ubuntu", "platformVersion", "24.04", "iPAddress", hWeb.Private.String(),
				"computerName", "ip-10-0-1-10", "agentName", "amazon-ssm-agent", "availabilityZone", azName,
				"availabilityZoneId", azID, "sSMConnectionChannel", "ssmmessages"), nil)
	}
	if m%5 == 3 {
		g.call(g.sec(m, 12+r.IntN(3)), g.idWeb(), webIP, uaSSM, "ssm", "ListInstanceAssociations",
			obj("instanceId", hWeb.ID, "maxResults", 50), nil)
	}
	if m%10 == 4 {
		g.call(g.sec(m, 30+r.IntN(5)), g.idWeb(), webIP, uaCWAgent, "logs", "DescribeLogStreams",
			obj("logGroupName", "/storefront/app", "logStreamNamePrefix", hWeb.ID), nil)
	}
	if m%60 == 7 {
		g.call(g.sec(m, 1), g.idWeb(), webIP, uaCWAgent, "logs", "CreateLogStream",
			obj("logGroupName", "/storefront/access", "logStreamName", hWeb.ID+"/"+g.sec(m, 1).Format("2006-01-02-15")), nil)
	}
	if m%15 == 9 {
		g.call(g.sec(m, r.IntN(60)), g.idWeb(), webIP, uaWebApp, "sts", "GetCallerIdentity", nil, nil)
	}

	// emr-master's instance role.
	emrIP := hEMR.Public.String()
	if m == 0 {
		g.instanceCredentials(g.emrCreds(), hEMR, emrRoleKey)
	}
	if m%5 == 2 {
		g.s3Object(g.sec(m, r.IntN(60)), g.idEMR(), emrIP, uaEMR, "PutObject", emrLogsBucket,
			emrClusterID+"/node/"+hEMR.ID+"/applications/hadoop-yarn/yarn-yarn-resourcemanager-ip-10-0-1-40.out.gz", 2000+r.IntN(20000))
	}
	if m%10 == 6 {
		g.s3Object(g.sec(m, r.IntN(60)), g.idEMR(), emrIP, uaEMR, "GetObject", emrLogsBucket, "bootstrap/install-deps.sh", 1874)
	}

	// alice: console from the office, CLI, an admin-role session.
	office := officeIP.String()
	if m == 5 {
		g.consoleLogin(g.aliceLogin(), idUserLogin(pAlice), office, uaBrowser, "arn:aws:iam::"+accountID+":mfa/alice")
	}
	if m > 5 && m < 60 && m%3 == 0 {
		id := idUserConsole(pAlice, aliceConsoleKey, g.aliceLogin())
		t := g.sec(m, r.IntN(60))
		var rec *ctRec
		switch r.IntN(5) {
		case 0:
			rec = g.call(t, id, office, uaInternal, "ec2", "DescribeInstances", describeInstancesReq(), nil)
		case 1:
			rec = g.call(t, id, office, uaInternal, "ec2", "DescribeSecurityGroups",
				obj("securityGroupSet", emptyObj, "securityGroupIdSet", emptyObj, "filterSet", emptyObj), nil)
		case 2:
			rec = g.call(t, id, office, uaInternal, "monitoring", "DescribeAlarms", obj("maxRecords", 100), nil)
		case 3:
			rec = g.call(t, id, office, uaInternal, "ec2", "DescribeVolumes", obj("volumeSet", emptyObj, "filterSet", emptyObj), nil)
		default:
			rec = g.listBuckets(t, id, office, uaS3Console)
		}
		rec.SessionCredentialFromConsole = "true"
	}
	if m%12 == 8 {
		id := idUser(pAlice)
		t := g.sec(m, r.IntN(60))
		switch r.IntN(4) {
		case 0:
			g.listBuckets(t, id, office, uaCLIOffice+"s3.ls")
		case 1:
			g.call(t, id, office, uaCLIOffice+"ec2.describe-instances", "ec2", "DescribeInstances", describeInstancesReq(), nil)
		case 2:
			g.call(t, id, office, uaCLIOffice+"sts.get-caller-identity", "sts", "GetCallerIdentity", nil, nil)
		default:
			g.call(t, id, office, uaCLIOffice+"logs.describe-log-groups", "logs", "DescribeLogGroups", nil, nil)
		}
	}
	adminStart := g.sec(15, 21)
	if m == 15 {
		g.assumeRole(adminStart, idUser(pAlice), office, uaCLIOffice+"sts.assume-role", "admin-role", adminRoleID, "alice", adminOfficeKey, time.Hour)
	}
	if m > 15 && m < 30 && m%4 == 0 {
		id := idRole("admin-role", adminRoleID, "alice", adminOfficeKey, adminStart, false, false)
		t := g.sec(m, r.IntN(60))
		switch r.IntN(3) {
		case 0:
			g.call(t, id, office, uaCLIOffice+"iam.list-roles", "iam", "ListRoles", nil, nil)
		case 1:
			g.call(t, id, office, uaCLIOffice+"cloudtrail.get-trail-status", "cloudtrail", "GetTrailStatus", obj("name", trailName), nil)
		default:
			g.call(t, id, office, uaCLIOffice+"iam.get-role", "iam", "GetRole", obj("roleName", "web-role"), nil)
		}
	}

	// ci-deployer: terraform plan every 20 minutes, artifacts every 40.
	if m%20 == 2 {
		g.terraformPlan(m)
	}
	if m%40 == 22 {
		ci := ciRunnerIP.String()
		g.s3Object(g.sec(m, 40+r.IntN(10)), idUser(pCI), ci, uaBoto, "PutObject", artifactBucket,
			"storefront/build-"+hexString(r, 7, false)+".tar.gz", 4000000+r.IntN(3000000))
	}
}

// terraformPlan appends the reads of one `terraform plan` from the CI runner.
func (g *ctGen) terraformPlan(m int) {
	id := idUser(pCI)
	ci := ciRunnerIP.String()
	s := 3 + g.r.IntN(5)
	next := func() time.Time { s += g.r.IntN(2); return g.sec(m, s) }
	g.call(next(), id, ci, uaTerraform+"sts#1.33.2", "sts", "GetCallerIdentity", nil, nil)
	g.s3Object(next(), id, ci, uaTerraform+"s3#1.71.0", "GetObject", tfStateBucket, "prod/storefront/terraform.tfstate", 48211+g.r.IntN(2000))
	g.call(next(), id, ci, uaTerraform+"ec2#1.196.0", "ec2", "DescribeVpcs",
		obj("vpcSet", obj("items", []json.RawMessage{obj("vpcId", vpcID)}), "filterSet", emptyObj), nil)
	g.call(next(), id, ci, uaTerraform+"ec2#1.196.0", "ec2", "DescribeSubnets",
		obj("subnetSet", obj("items", []json.RawMessage{obj("subnetId", publicSubnet), obj("subnetId", privateSubnet)}), "filterSet", emptyObj), nil)
	for _, h := range []*host{hWeb, hBastion, hWorker} {
		g.call(next(), id, ci, uaTerraform+"ec2#1.196.0", "ec2", "DescribeSecurityGroups",
			obj("securityGroupSet", emptyObj, "securityGroupIdSet", obj("items", []json.RawMessage{obj("groupId", h.SGID)}), "filterSet", emptyObj), nil)
		g.call(next(), id, ci, uaTerraform+"ec2#1.196.0", "ec2", "DescribeInstances", describeInstancesReq(h.ID), nil)
	}
	g.call(next(), id, ci, uaTerraform+"iam#1.38.2", "iam", "GetRole", obj("roleName", "web-role"), nil)
	g.call(next(), id, ci, uaTerraform+"iam#1.38.2", "iam", "ListAttachedRolePolicies", obj("roleName", "web-role"), nil)
	g.call(next(), id, ci, uaTerraform+"iam#1.38.2", "iam", "GetInstanceProfile", obj("instanceProfileName", "web-role"), nil)
	rec := g.call(next(), id, ci, "["+uaTerraform+"s3#1.71.0]", "s3", "GetBucketPolicy",
		obj("bucketName", webBucket, "Host", webBucket+".s3.us-east-1.amazonaws.com", "policy", ""), nil)
	rec.AdditionalEventData = g.s3Extra(0, 0)
	rec.RequestID = g.s3RequestID()
	rec.TLSDetails.ClientProvidedHostHeader = webBucket + ".s3.us-east-1.amazonaws.com"
}
