package cloudtrail

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
)

// Deterministic generator of realistic CloudTrail records (~1.5 KB on
// average) for the differential test, the allocation test, the benchmarks and
// the flat-memory test.

var (
	genEvents = []struct{ source, name, category string }{
		{"iam.amazonaws.com", "CreateUser", "Management"},
		{"iam.amazonaws.com", "PutRolePolicy", "Management"},
		{"iam.amazonaws.com", "CreateAccessKey", "Management"},
		{"sts.amazonaws.com", "AssumeRole", "Management"},
		{"ec2.amazonaws.com", "DescribeInstances", "Management"},
		{"ec2.amazonaws.com", "RunInstances", "Management"},
		{"s3.amazonaws.com", "GetObject", "Data"},
		{"s3.amazonaws.com", "PutObject", "Data"},
		{"s3.amazonaws.com", "PutBucketPolicy", "Management"},
		{"kms.amazonaws.com", "Decrypt", "Management"},
		{"cloudtrail.amazonaws.com", "StopLogging", "Management"},
		{"signin.amazonaws.com", "ConsoleLogin", "Management"},
		{"lambda.amazonaws.com", "Invoke", "Data"},
		{"secretsmanager.amazonaws.com", "GetSecretValue", "Management"},
	}
	genRegions = []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "eu-central-1"}
	genAgents  = []string{
		"aws-cli/2.15.30 Python/3.11.8 Linux/5.10.210-201.852.amzn2.x86_64 exe/x86_64.amzn.2 prompt/off command/s3.cp",
		"aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/sts#1.28.4",
		"Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.15.0 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69",
		"console.amazonaws.com",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
		"[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488 Linux/5.10.218-186.862.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.372-b08 java/1.8.0_372 vendor/Oracle_Corporation cfg/retry-mode/standard]",
	}
	genAccounts = []string{"111122223333", "444455556666", "123456789012"}
	genErrors   = []struct{ code, msg string }{
		{"AccessDenied", "User: arn:aws:sts::111122223333:assumed-role/dev/alice is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::111122223333:user/mallory because no identity-based policy allows the iam:CreateUser action"},
		{"NoSuchEntityException", "The role with name ci-deploy cannot be found."},
		{"Client.UnauthorizedOperation", "You are not authorized to perform this operation. Encoded authorization failure message: 4Y1Ce0Fz"},
	}
)

func genUUID(r *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, 0x4000|r.Uint32()&0x0fff, 0x8000|r.Uint32()&0x3fff, r.Uint64()&0xffffffffffff)
}

func genIP(r *rand.Rand) string {
	switch n := r.IntN(100); {
	case n < 8:
		return "AWS Internal"
	case n < 20:
		return "ec2.amazonaws.com"
	case n < 25:
		return fmt.Sprintf("2001:db8:%x::%x", r.IntN(16), r.IntN(200))
	default:
		return fmt.Sprintf("%d.%d.%d.%d", 198, 51, 100+r.IntN(4), r.IntN(50))
	}
}

// genRecord appends record number n as JSON to dst.
func genRecord(dst []byte, n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 0x5eed))
	ev := genEvents[r.IntN(len(genEvents))]
	acct := genAccounts[r.IntN(len(genAccounts))]
	region := genRegions[r.IntN(len(genRegions))]
	sec := 1700000000 + n*7
	ts := timeString(int64(sec))
	q := strconv.Quote
	b := dst
	b = append(b, `{"eventVersion":"1.09","userIdentity":`...)
	switch k := r.IntN(10); {
	case k < 6:
		role := []string{"ci-deploy", "dev", "admin", "ec2-app"}[r.IntN(4)]
		session := []string{"alice", "bob", "i-0123456789abcdef0", "i-0fedcba9876543210", "GitHubActions"}[r.IntN(5)]
		b = fmt.Appendf(b, `{"type":"AssumedRole","principalId":"AROAEXAMPLEID%d:%s","arn":"arn:aws:sts::%s:assumed-role/%s/%s","accountId":"%s","accessKeyId":"ASIAEXAMPLE%05d","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLEID%d","arn":"arn:aws:iam::%s:role/%s","accountId":"%s","userName":"%s"},"webIdFederationData":{},"attributes":{"creationDate":"%s","mfaAuthenticated":"false"}`,
			len(role), session, acct, role, session, acct, r.IntN(40), len(role), acct, role, acct, role, timeString(int64(sec-r.IntN(3600))))
		if session[0] == 'i' {
			b = append(b, `,"ec2RoleDelivery":"2.0"`...)
		}
		b = append(b, `}}`...)
	case k < 8:
		user := []string{"alice", "bob", "deploy-bot"}[r.IntN(3)]
		b = fmt.Appendf(b, `{"type":"IAMUser","principalId":"AIDAEXAMPLE%s","arn":"arn:aws:iam::%s:user/%s","accountId":"%s","accessKeyId":"AKIAEXAMPLE%03d","userName":"%s"}`,
			user, acct, user, acct, r.IntN(10), user)
	case k < 9:
		b = fmt.Appendf(b, `{"type":"Root","principalId":"%s","arn":"arn:aws:iam::%s:root","accountId":"%s","accessKeyId":""}`, acct, acct, acct)
	default:
		b = append(b, `{"type":"AWSService","invokedBy":"cloudformation.amazonaws.com"}`...)
	}
	b = fmt.Appendf(b, `,"eventTime":"%s","eventSource":"%s","eventName":"%s","awsRegion":"%s","sourceIPAddress":"%s","userAgent":%s`,
		ts, ev.source, ev.name, region, genIP(r), q(genAgents[r.IntN(len(genAgents))]))
	if r.IntN(10) == 0 {
		e := genErrors[r.IntN(len(genErrors))]
		b = fmt.Appendf(b, `,"errorCode":"%s","errorMessage":%s`, e.code, q(e.msg))
	}
	// requestParameters: nested, with an escaped policy document.
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"Stmt%d","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::bucket-%d/*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}`, r.IntN(1000), r.IntN(50))
	b = fmt.Appendf(b, `,"requestParameters":{"bucketName":"bucket-%d","key":"logs/2024/%02d/%02d/object-%d.json.gz","policyName":"inline-%d","policyDocument":%s,"tags":[{"key":"team","value":"platform"},{"key":"env","value":"prod"}],"maxResults":%d,"dryRun":false}`,
		r.IntN(50), 1+r.IntN(12), 1+r.IntN(28), r.IntN(100000), r.IntN(100), q(policy), r.IntN(1000))
	if r.IntN(3) == 0 {
		b = fmt.Appendf(b, `,"responseElements":{"credentials":{"accessKeyId":"ASIAEXAMPLE%05d","sessionToken":"IQoJb3JpZ2luX2VjEXAMPLE%d","expiration":"Nov 14, 2023, 11:13:20 PM"},"assumedRoleUser":{"assumedRoleId":"AROAEXAMPLE:s%d","arn":"arn:aws:sts::%s:assumed-role/ci/s%d"}}`,
			r.IntN(100000), r.Uint64(), n, acct, n)
	} else {
		b = append(b, `,"responseElements":null`...)
	}
	if ev.name == "ConsoleLogin" {
		b = append(b, `,"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":"No"}`...)
	} else if r.IntN(3) == 0 {
		b = append(b, `,"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"Tq1n2K4bQyEXAMPLE/abc+def=","bytesTransferredOut":1234}`...)
	}
	b = fmt.Appendf(b, `,"requestID":"%s","eventID":"%s","readOnly":%v`, genUUID(r), genUUID(r), r.IntN(2) == 0)
	if ev.category == "Data" || r.IntN(4) == 0 {
		bucket := r.IntN(50)
		b = fmt.Appendf(b, `,"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::bucket-%d/logs/object-%d.json.gz"},{"accountId":"%s","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::bucket-%d"}]`,
			bucket, r.IntN(100000), acct, bucket)
	}
	b = fmt.Appendf(b, `,"eventType":"AwsApiCall","managementEvent":%v,"recipientAccountId":"%s"`, ev.category == "Management", acct)
	if r.IntN(5) == 0 {
		b = fmt.Appendf(b, `,"sharedEventID":"%s","vpcEndpointId":"vpce-0abc%04d","vpcEndpointAccountId":"%s"`, genUUID(r), r.IntN(5), acct)
	}
	b = fmt.Appendf(b, `,"eventCategory":"%s","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"%s.%s.amazonaws.com"}`,
		ev.category, ev.source[:len(ev.source)-len(".amazonaws.com")], region)
	if r.IntN(8) == 0 {
		b = append(b, `,"sessionCredentialFromConsole":"true"`...)
	}
	b = append(b, '}')
	return b
}

func timeString(sec int64) string {
	days := sec / 86400
	rem := sec % 86400
	// civil from days (Hinnant)
	z := days + 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, rem/3600, rem/60%60, rem%60)
}

// genDoc returns a {"Records":[...]} document of n records.
func genDoc(n int) []byte {
	b := []byte(`{"Records":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = genRecord(b, i)
	}
	return append(b, "]}"...)
}

// genNDJSON returns n records, one per line.
func genNDJSON(n int) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		b = genRecord(b, i)
		b = append(b, '\n')
	}
	return b
}

// docReader streams a {"Records":[...]} document of at least size bytes
// without holding it in memory.
type docReader struct {
	size    int64
	written int64
	n       int
	pending []byte
	done    bool
}

func (g *docReader) Read(p []byte) (int, error) {
	for len(g.pending) == 0 {
		switch {
		case g.done:
			return 0, io.EOF
		case g.n == 0 && g.written == 0:
			g.pending = append(g.pending[:0], `{"Records":[`...)
		case g.written >= g.size:
			g.pending = append(g.pending[:0], "]}"...)
			g.done = true
		default:
			g.pending = g.pending[:0]
			if g.n > 0 {
				g.pending = append(g.pending, ',')
			}
			g.pending = genRecord(g.pending, g.n)
			g.n++
		}
	}
	n := copy(p, g.pending)
	g.pending = g.pending[n:]
	g.written += int64(n)
	return n, nil
}
