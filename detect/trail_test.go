package detect

import (
	"strings"
	"testing"

	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/finding"
)

func init() {
	for typ, band := range map[string]string{
		TypePenTestIAMKali:           "Medium",
		TypePenTestIAMParrot:         "Medium",
		TypePenTestIAMPentoo:         "Medium",
		TypePenTestS3Kali:            "Medium",
		TypePenTestS3Parrot:          "Medium",
		TypePenTestS3Pentoo:          "Medium",
		TypePasswordPolicyChange:     "Low",
		TypeS3AccountBPADisabled:     "Low",
		TypeS3BucketBPADisabled:      "Low",
		TypeS3BucketAnonymousAccess:  "High",
		TypeS3BucketPublicAccess:     "High",
		TypeS3ServerAccessLoggingOff: "Low",
		// Beyond GuardDuty: the bands chosen in trail.go.
		TypeFlowLogsDeleted:          "Medium",
		TypeDNSQueryLoggingDeleted:   "Medium",
		TypeEventSelectorsReduced:    "Medium",
		TypeLeaveOrganization:        "High",
		TypeGuardDutyTampering:       "High",
		TypeSecurityGroupOpenToWorld: "Medium",
		TypeSnapshotOrImageShared:    "High",
		TypeRoleTrustExternal:        "Medium",
	} {
		specBands[typ] = band
	}
}

const (
	uaKali   = "aws-cli/1.18.69 Python/3.8.5 Linux/5.7.0-kali1-amd64 botocore/1.17.16"
	uaParrot = "Boto3/1.26.0 Python/3.9.2 Linux/5.10.0-6parrot1-amd64 Botocore/1.29.0"
	uaPentoo = "aws-cli/2.13.0 Python/3.11.4 Linux/6.4.12-pentoo exe/x86_64.gentoo prompt/off command/s3.ls"
)

func withUA(ev event.Event, ua string) event.Event { ev.API.UserAgent = ua; return ev }

// Request parameters as CloudTrail logs them.
const (
	pPolicyPublic = `{"bucketName":"web-assets","Host":"web-assets.s3.us-east-1.amazonaws.com","policy":"",
	 "bucketPolicy":{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::web-assets/*"}]}}`
	pPolicyString   = `{"bucketName":"web-assets","bucketPolicy":"{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":[\"arn:aws:s3:::web-assets\",\"arn:aws:s3:::web-assets/*\"],\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"true\"}}}}"}`
	pPolicySourceIP = `{"bucketName":"web-assets","bucketPolicy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::web-assets/*",
	 "Condition":{"IpAddress":{"aws:SourceIp":["198.51.100.0/24"]}}}]}}`
	pPolicyOrg = `{"bucketName":"web-assets","bucketPolicy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::web-assets/*",
	 "Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}]}}`
	pPolicyNotOrg = `{"bucketName":"web-assets","bucketPolicy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::web-assets/*",
	 "Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}]}}`
	pPolicyDenyAll = `{"bucketName":"web-assets","bucketPolicy":{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::web-assets/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/web-role"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::web-assets/*"}]}}`
	pACLAllUsers = `{"bucketName":"web-assets","Host":"web-assets.s3.amazonaws.com","acl":"",
	 "AccessControlPolicy":{"AccessControlList":{"Grant":[{"Grantee":{"xsi:type":"CanonicalUser","xmlns:xsi":"http://www.w3.org/2001/XMLSchema-instance","ID":"abc123"},"Permission":"FULL_CONTROL"},
	  {"Grantee":{"xsi:type":"Group","xmlns:xsi":"http://www.w3.org/2001/XMLSchema-instance","URI":"http://acs.amazonaws.com/groups/global/AllUsers"},"Permission":"READ"}]},
	  "xmlns":"http://s3.amazonaws.com/doc/2006-03-01/","Owner":{"ID":"abc123"}}}`
	pACLAuthUsers = `{"bucketName":"web-assets","acl":[""],"x-amz-acl":["authenticated-read"]}`
	pACLCanned    = `{"bucketName":"web-assets","acl":[""],"x-amz-acl":["public-read"]}`
	pACLOwnerOnly = `{"bucketName":"web-assets","acl":"",
	 "AccessControlPolicy":{"AccessControlList":{"Grant":{"Grantee":{"xsi:type":"CanonicalUser","ID":"abc123"},"Permission":"FULL_CONTROL"}},"Owner":{"ID":"abc123"}}}`
	pACLLogDelivery = `{"bucketName":"logs","x-amz-grant-write":["uri=\"http://acs.amazonaws.com/groups/s3/LogDelivery\""],"x-amz-acl":["private"]}`
	pBPAOff         = `{"publicAccessBlock":"","bucketName":"web-assets","Host":"web-assets.s3.amazonaws.com",
	 "PublicAccessBlockConfiguration":{"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/","RestrictPublicBuckets":false,"BlockPublicPolicy":false,"BlockPublicAcls":true,"IgnorePublicAcls":true}}`
	pBPAOn = `{"publicAccessBlock":"","bucketName":"web-assets",
	 "PublicAccessBlockConfiguration":{"RestrictPublicBuckets":true,"BlockPublicPolicy":true,"BlockPublicAcls":true,"IgnorePublicAcls":true}}`
	pAccountBPAOff = `{"x-amz-account-id":"111122223333","Host":"111122223333.s3-control.us-east-1.amazonaws.com",
	 "PublicAccessBlockConfiguration":{"RestrictPublicBuckets":false,"BlockPublicPolicy":false,"BlockPublicAcls":false,"IgnorePublicAcls":false}}`
	pLoggingOff     = `{"logging":"","bucketName":"critical-data","BucketLoggingStatus":{"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/"},"Host":"critical-data.s3.amazonaws.com"}`
	pLoggingOn      = `{"logging":"","bucketName":"critical-data","BucketLoggingStatus":{"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/","LoggingEnabled":{"TargetBucket":"access-logs","TargetPrefix":"critical-data/"}}}`
	pPwWeak         = `{"minimumPasswordLength":6,"requireSymbols":false,"requireNumbers":false,"requireUppercaseCharacters":false,"requireLowercaseCharacters":false,"allowUsersToChangePassword":true}`
	pPwStrong       = `{"minimumPasswordLength":16,"requireSymbols":true,"requireNumbers":true,"requireUppercaseCharacters":true,"requireLowercaseCharacters":true,"allowUsersToChangePassword":true,"maxPasswordAge":90,"passwordReusePrevention":24}`
	pSGSSH          = `{"groupId":"sg-0123456789abcdef0","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"groups":{},"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]},"ipv6Ranges":{},"prefixListIds":{}}]}}`
	pSGAll6         = `{"groupId":"sg-0123456789abcdef0","ipPermissions":{"items":[{"ipProtocol":"-1","groups":{},"ipRanges":{},"ipv6Ranges":{"items":[{"cidrIpv6":"::/0"}]},"prefixListIds":{}}]}}`
	pSGPrivate      = `{"groupId":"sg-0123456789abcdef0","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"groups":{},"ipRanges":{"items":[{"cidrIp":"10.0.0.0/8"}]},"ipv6Ranges":{},"prefixListIds":{}}]}}`
	pSGHTTPS        = `{"groupId":"sg-0123456789abcdef0","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":443,"toPort":443,"groups":{},"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]},"ipv6Ranges":{"items":[{"cidrIpv6":"::/0"}]},"prefixListIds":{}}]}}`
	pSnapPublic     = `{"snapshotId":"snap-0123456789abcdef0","attributeType":"CREATE_VOLUME_PERMISSION","createVolumePermission":{"add":{"items":[{"group":"all"}]}}}`
	pSnapOther      = `{"snapshotId":"snap-0123456789abcdef0","attributeType":"CREATE_VOLUME_PERMISSION","createVolumePermission":{"add":{"items":[{"userId":"444455556666"}]}}}`
	pSnapSelf       = `{"snapshotId":"snap-0123456789abcdef0","attributeType":"CREATE_VOLUME_PERMISSION","createVolumePermission":{"add":{"items":[{"userId":"111122223333"}]}}}`
	pAMIPublic      = `{"imageId":"ami-0123456789abcdef0","attributeType":"launchPermission","launchPermission":{"add":{"items":[{"group":"all"}]}}}`
	pRDSOther       = `{"dBSnapshotIdentifier":"prod-db-2026-11-20","attributeName":"restore","valuesToAdd":["444455556666"]}`
	pRDSRemove      = `{"dBSnapshotIdentifier":"prod-db-2026-11-20","attributeName":"restore","valuesToRemove":["all"]}`
	pTrustExt       = `{"roleName":"ops-admin","assumeRolePolicyDocument":"{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"arn:aws:iam::444455556666:root\"}, \"Action\": \"sts:AssumeRole\"}]\n}"}`
	pTrustStar      = `{"roleName":"web-role","policyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sts:AssumeRole\",\"Condition\":{\"StringEquals\":{\"sts:ExternalId\":\"12345\"}}}]}"}`
	pTrustSelf      = `{"roleName":"ops-admin","assumeRolePolicyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam::111122223333:root\",\"111122223333\"]},\"Action\":\"sts:AssumeRole\"}]}"}`
	pTrustSvc       = `{"roleName":"web-role","assumeRolePolicyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}"}`
	pSelectorsOff   = `{"trailName":"arn:aws:cloudtrail:us-east-1:111122223333:trail/main","eventSelectors":[{"readWriteType":"All","includeManagementEvents":false,"dataResources":[],"excludeManagementEventSources":[]}]}`
	pSelectorsData  = `{"trailName":"main","eventSelectors":[{"readWriteType":"All","includeManagementEvents":true,"dataResources":[]},{"readWriteType":"All","includeManagementEvents":false,"dataResources":[{"type":"AWS::S3::Object","values":["arn:aws:s3"]}]}]}`
	pAdvancedData   = `{"trailName":"main","advancedEventSelectors":[{"name":"S3 data","fieldSelectors":[{"field":"eventCategory","equals":["Data"]},{"field":"resources.type","equals":["AWS::S3::Object"]}]}]}`
	pAdvancedMgmt   = `{"trailName":"main","advancedEventSelectors":[{"name":"Management","fieldSelectors":[{"field":"eventCategory","equals":["Management"]}]},{"name":"S3","fieldSelectors":[{"field":"eventCategory","equals":["Data"]},{"field":"resources.type","equals":["AWS::S3::Object"]}]}]}`
	pFlowLogs       = `{"DeleteFlowLogsRequest":{"FlowLogId":{"content":"fl-0ef673ef70c4f07cc","tag":1}}}`
	pDNSDelete      = `{"originSequenceNumber":0,"resolverQueryLogConfigId":"rqlc-5aa596fe3bd84ec6"}`
	pDNSDisassoc    = `{"resolverQueryLogConfigId":"rqlc-5aa596fe3bd84ec6","resourceId":"vpc-1"}`
	pGDSuspend      = `{"detectorId":"12abc34d567e8fa901bc2d34e56789f0","enable":false}`
	pGDFeatures     = `{"detectorId":"12abc34d567e8fa901bc2d34e56789f0","features":[{"name":"S3_DATA_EVENTS","status":"DISABLED"}]}`
	pGDFrequency    = `{"detectorId":"12abc34d567e8fa901bc2d34e56789f0","findingPublishingFrequency":"FIFTEEN_MINUTES"}`
	pGDIPSet        = `{"detectorId":"12abc34d567e8fa901bc2d34e56789f0","name":"ok-list","format":"TXT","location":"https://s3.amazonaws.com/attacker/ips.txt","activate":true}`
	pGDFilterArch   = `{"detectorId":"12abc34d567e8fa901bc2d34e56789f0","name":"quiet","action":"ARCHIVE","findingCriteria":{"criterion":{"severity":{"gte":1}}}}`
	pGDFilterNoop   = `{"detectorId":"12abc34d567e8fa901bc2d34e56789f0","name":"view","action":"NOOP","findingCriteria":{"criterion":{"severity":{"gte":7}}}}`
	pGDDisassociate = `{"detectorId":"12abc34d567e8fa901bc2d34e56789f0"}`
)

func TestTrail(t *testing.T) {
	ct := func(api, source, params string) event.Event {
		return call(callSpec{api: api, source: source, ip: cleanIP, id: alice, params: params})
	}
	s3 := func(api, params string) event.Event { return ct(api, "s3.amazonaws.com", params) }
	trusted := func(ev event.Event) event.Event {
		o := call(callSpec{api: ev.API.EventName, ip: officeIP, id: alice})
		ev.API.SourceIPAddress, ev.API.SourceIP = o.API.SourceIPAddress, o.API.SourceIP
		return ev
	}
	s3data := func(api, bucket string) event.Event {
		return call(callSpec{api: api, source: "s3.amazonaws.com", category: "Data", ip: cleanIP, id: alice, params: `{"bucketName":"` + bucket + `","key":"a.txt"}`})
	}
	tests := []struct {
		name     string
		ev       event.Event
		want     string // "" = silent
		sev      float64
		resource string // expected resource type when firing (default AccessKey)
	}{
		// 1. Penetration-testing distributions.
		{"kali cli", withUA(ct("ListUsers", "iam.amazonaws.com", ""), uaKali), TypePenTestIAMKali, 5, ""},
		{"parrot boto3", withUA(ct("DescribeInstances", "ec2.amazonaws.com", ""), uaParrot), TypePenTestIAMParrot, 5, ""},
		{"pentoo", withUA(ct("GetCallerIdentity", "sts.amazonaws.com", ""), uaPentoo), TypePenTestIAMPentoo, 5, ""},
		{"kali aws-cli v2 distro token", withUA(ct("ListUsers", "iam.amazonaws.com", ""), "aws-cli/2.15.30 Python/3.11.8 Linux/6.6.9-amd64 exe/x86_64.kali.2024 prompt/off command/iam.list-users"), TypePenTestIAMKali, 5, ""},
		{"kali on s3 data", withUA(s3data("GetObject", "secrets"), uaKali), TypePenTestS3Kali, 5, finding.ResourceS3Bucket},
		{"kali but denied", denied(withUA(ct("ListUsers", "iam.amazonaws.com", ""), uaKali)), "", 0, ""},
		{"kali from trusted ip", trusted(withUA(ct("ListUsers", "iam.amazonaws.com", ""), uaKali)), "", 0, ""},
		{"normal aws-cli", withUA(ct("ListUsers", "iam.amazonaws.com", ""), "aws-cli/2.22.4 Python/3.12.6 Linux/6.8.0-49-generic exe/x86_64.ubuntu.24 prompt/off command/iam.list-users"), "", 0, ""},
		{"kali word outside the os token", withUA(ct("ListUsers", "iam.amazonaws.com", ""), "kali-sync/1.0 aws-sdk-go/1.55.5 (go1.22.7; linux; amd64) exe/kalibrate command/s3.kali"), "", 0, ""},
		// 2. Password policy.
		{"password policy deleted", ct("DeleteAccountPasswordPolicy", "iam.amazonaws.com", ""), TypePasswordPolicyChange, 8, ""},
		{"password policy weakened", ct("UpdateAccountPasswordPolicy", "iam.amazonaws.com", pPwWeak), TypePasswordPolicyChange, 5, ""},
		{"password policy length omitted", ct("UpdateAccountPasswordPolicy", "iam.amazonaws.com", `{"requireSymbols":true}`), TypePasswordPolicyChange, 5, ""},
		{"password policy strengthened", ct("UpdateAccountPasswordPolicy", "iam.amazonaws.com", pPwStrong), TypePasswordPolicyChange, 2, ""},
		{"password policy delete denied", denied(ct("DeleteAccountPasswordPolicy", "iam.amazonaws.com", "")), "", 0, ""},
		// 3. Block Public Access.
		{"bucket bpa off", s3("PutBucketPublicAccessBlock", pBPAOff), TypeS3BucketBPADisabled, 2, finding.ResourceS3Bucket},
		{"bucket bpa deleted", s3("DeleteBucketPublicAccessBlock", `{"bucketName":"web-assets","Host":"web-assets.s3.amazonaws.com","publicAccessBlock":""}`), TypeS3BucketBPADisabled, 2, finding.ResourceS3Bucket},
		{"bucket bpa all on", s3("PutBucketPublicAccessBlock", pBPAOn), "", 0, ""},
		{"account bpa off", s3("PutAccountPublicAccessBlock", pAccountBPAOff), TypeS3AccountBPADisabled, 2, ""},
		{"account bpa deleted (s3control)", ct("DeletePublicAccessBlock", "s3control.amazonaws.com", `{"accountId":"111122223333"}`), TypeS3AccountBPADisabled, 2, ""},
		{"account bpa off denied", denied(s3("PutAccountPublicAccessBlock", pAccountBPAOff)), "", 0, ""},
		// 4. Public policies and ACLs.
		{"policy AWS:*", s3("PutBucketPolicy", pPolicyPublic), TypeS3BucketAnonymousAccess, 8, finding.ResourceS3Bucket},
		{"policy as string, SecureTransport only", s3("PutBucketPolicy", pPolicyString), TypeS3BucketAnonymousAccess, 8, finding.ResourceS3Bucket},
		{"policy limited by SourceIp", s3("PutBucketPolicy", pPolicySourceIP), "", 0, ""},
		{"policy limited by PrincipalOrgID", s3("PutBucketPolicy", pPolicyOrg), "", 0, ""},
		{"policy StringNotEquals PrincipalOrgID is public", s3("PutBucketPolicy", pPolicyNotOrg), TypeS3BucketAnonymousAccess, 8, finding.ResourceS3Bucket},
		{"policy deny * and allow a role", s3("PutBucketPolicy", pPolicyDenyAll), "", 0, ""},
		{"policy public but denied", denied(s3("PutBucketPolicy", pPolicyPublic)), "", 0, ""},
		{"policy public from trusted ip", trusted(s3("PutBucketPolicy", pPolicyPublic)), "", 0, ""},
		{"acl AllUsers grant", s3("PutBucketAcl", pACLAllUsers), TypeS3BucketAnonymousAccess, 8, finding.ResourceS3Bucket},
		{"acl canned public-read", s3("PutBucketAcl", pACLCanned), TypeS3BucketAnonymousAccess, 8, finding.ResourceS3Bucket},
		{"acl authenticated-read", s3("PutBucketAcl", pACLAuthUsers), TypeS3BucketPublicAccess, 8, finding.ResourceS3Bucket},
		{"acl owner only", s3("PutBucketAcl", pACLOwnerOnly), "", 0, ""},
		{"acl log delivery", s3("PutBucketAcl", pACLLogDelivery), "", 0, ""},
		{"create bucket public-read", s3("CreateBucket", `{"bucketName":"new-public","Host":"s3.amazonaws.com","x-amz-acl":["public-read"]}`), TypeS3BucketAnonymousAccess, 8, finding.ResourceS3Bucket},
		{"create bucket private", s3("CreateBucket", `{"bucketName":"new-private","Host":"s3.amazonaws.com"}`), "", 0, ""},
		// 5. Server access logging.
		{"logging off", s3("PutBucketLogging", pLoggingOff), TypeS3ServerAccessLoggingOff, 2, finding.ResourceS3Bucket},
		{"logging on", s3("PutBucketLogging", pLoggingOn), "", 0, ""},
		{"logging off denied", denied(s3("PutBucketLogging", pLoggingOff)), "", 0, ""},
		// 6. Beyond GuardDuty.
		{"flow logs deleted", ct("DeleteFlowLogs", "ec2.amazonaws.com", pFlowLogs), TypeFlowLogsDeleted, 5, ""},
		{"flow logs delete denied", denied(ct("DeleteFlowLogs", "ec2.amazonaws.com", pFlowLogs)), "", 0, ""},
		{"dns logging deleted", ct("DeleteResolverQueryLogConfig", "route53resolver.amazonaws.com", pDNSDelete), TypeDNSQueryLoggingDeleted, 5, ""},
		{"dns logging detached", ct("DisassociateResolverQueryLogConfig", "route53resolver.amazonaws.com", pDNSDisassoc), TypeDNSQueryLoggingDeleted, 5, ""},
		{"selectors drop management events", ct("PutEventSelectors", "cloudtrail.amazonaws.com", pSelectorsOff), TypeEventSelectorsReduced, 5, ""},
		{"selectors read only", ct("PutEventSelectors", "cloudtrail.amazonaws.com", `{"trailName":"main","eventSelectors":[{"readWriteType":"ReadOnly","includeManagementEvents":true}]}`), TypeEventSelectorsReduced, 5, ""},
		{"selectors add data events", ct("PutEventSelectors", "cloudtrail.amazonaws.com", pSelectorsData), "", 0, ""},
		{"advanced selectors data only", ct("PutEventSelectors", "cloudtrail.amazonaws.com", pAdvancedData), TypeEventSelectorsReduced, 5, ""},
		{"advanced selectors keep management", ct("PutEventSelectors", "cloudtrail.amazonaws.com", pAdvancedMgmt), "", 0, ""},
		{"leave organization", ct("LeaveOrganization", "organizations.amazonaws.com", ""), TypeLeaveOrganization, 8, ""},
		{"leave organization denied", denied(ct("LeaveOrganization", "organizations.amazonaws.com", "")), "", 0, ""},
		{"guardduty deleted", ct("DeleteDetector", "guardduty.amazonaws.com", pGDDisassociate), TypeGuardDutyTampering, 8, ""},
		{"guardduty suspended", ct("UpdateDetector", "guardduty.amazonaws.com", pGDSuspend), TypeGuardDutyTampering, 8, ""},
		{"guardduty s3 protection off", ct("UpdateDetector", "guardduty.amazonaws.com", pGDFeatures), TypeGuardDutyTampering, 8, ""},
		{"guardduty frequency change", ct("UpdateDetector", "guardduty.amazonaws.com", pGDFrequency), "", 0, ""},
		{"guardduty trusted list", ct("CreateIPSet", "guardduty.amazonaws.com", pGDIPSet), TypeGuardDutyTampering, 8, ""},
		{"guardduty archive filter", ct("CreateFilter", "guardduty.amazonaws.com", pGDFilterArch), TypeGuardDutyTampering, 8, ""},
		{"guardduty saved view filter", ct("CreateFilter", "guardduty.amazonaws.com", pGDFilterNoop), "", 0, ""},
		{"guardduty disassociate", ct("DisassociateFromAdministratorAccount", "guardduty.amazonaws.com", pGDDisassociate), TypeGuardDutyTampering, 8, ""},
		{"guardduty threat list deleted", ct("DeleteThreatIntelSet", "guardduty.amazonaws.com", `{"detectorId":"12abc34d567e8fa901bc2d34e56789f0","threatIntelSetId":"0cb0141ab9fbde177613ab9436212e90"}`), TypeGuardDutyTampering, 8, ""},
		{"guardduty delete denied", denied(ct("DeleteDetector", "guardduty.amazonaws.com", pGDDisassociate)), "", 0, ""},
		{"sg ssh to world", ct("AuthorizeSecurityGroupIngress", "ec2.amazonaws.com", pSGSSH), TypeSecurityGroupOpenToWorld, 5, ""},
		{"sg all traffic to ::/0", ct("AuthorizeSecurityGroupIngress", "ec2.amazonaws.com", pSGAll6), TypeSecurityGroupOpenToWorld, 5, ""},
		{"sg legacy flat form rdp", ct("AuthorizeSecurityGroupIngress", "ec2.amazonaws.com", `{"groupName":"default","ipProtocol":"tcp","fromPort":3389,"toPort":3389,"cidrIp":"0.0.0.0/0"}`), TypeSecurityGroupOpenToWorld, 5, ""},
		{"sg range covering postgres", ct("AuthorizeSecurityGroupIngress", "ec2.amazonaws.com", strings.Replace(strings.Replace(pSGSSH, `"fromPort":22`, `"fromPort":5000`, 1), `"toPort":22`, `"toPort":6000`, 1)), TypeSecurityGroupOpenToWorld, 5, ""},
		{"sg ssh to 10/8", ct("AuthorizeSecurityGroupIngress", "ec2.amazonaws.com", pSGPrivate), "", 0, ""},
		{"sg https to world", ct("AuthorizeSecurityGroupIngress", "ec2.amazonaws.com", pSGHTTPS), "", 0, ""},
		{"sg ssh denied", denied(ct("AuthorizeSecurityGroupIngress", "ec2.amazonaws.com", pSGSSH)), "", 0, ""},
		{"snapshot public", ct("ModifySnapshotAttribute", "ec2.amazonaws.com", pSnapPublic), TypeSnapshotOrImageShared, 8, ""},
		{"snapshot other account", ct("ModifySnapshotAttribute", "ec2.amazonaws.com", pSnapOther), TypeSnapshotOrImageShared, 5, ""},
		{"snapshot same account", ct("ModifySnapshotAttribute", "ec2.amazonaws.com", pSnapSelf), "", 0, ""},
		{"ami public", ct("ModifyImageAttribute", "ec2.amazonaws.com", pAMIPublic), TypeSnapshotOrImageShared, 8, ""},
		{"rds snapshot other account", ct("ModifyDBSnapshotAttribute", "rds.amazonaws.com", pRDSOther), TypeSnapshotOrImageShared, 5, ""},
		{"rds cluster snapshot public", ct("ModifyDBClusterSnapshotAttribute", "rds.amazonaws.com", `{"dBClusterSnapshotIdentifier":"aurora-snap","attributeName":"restore","valuesToAdd":["all"]}`), TypeSnapshotOrImageShared, 8, ""},
		{"rds snapshot unshared", ct("ModifyDBSnapshotAttribute", "rds.amazonaws.com", pRDSRemove), "", 0, ""},
		{"role trusts other account", ct("CreateRole", "iam.amazonaws.com", pTrustExt), TypeRoleTrustExternal, 5, ""},
		{"role trusts everyone (external id only)", ct("UpdateAssumeRolePolicy", "iam.amazonaws.com", pTrustStar), TypeRoleTrustExternal, 5, ""},
		{"role trusts own account", ct("CreateRole", "iam.amazonaws.com", pTrustSelf), "", 0, ""},
		{"role trusts ec2", ct("CreateRole", "iam.amazonaws.com", pTrustSvc), "", 0, ""},
		{"role trust from trusted ip", trusted(ct("CreateRole", "iam.amazonaws.com", pTrustExt)), "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []finding.Finding
			d := NewTrail(testEnv(t))
			d.Observe(&tt.ev, func(f *finding.Finding) { got = append(got, *f) })
			if tt.want == "" {
				if len(got) != 0 {
					t.Fatalf("got %q, want silence", types(got))
				}
				return
			}
			if len(got) != 1 || got[0].Type != tt.want {
				t.Fatalf("got %q, want [%s]", types(got), tt.want)
			}
			f := &got[0]
			if f.Severity != tt.sev {
				t.Errorf("severity %v, want %v", f.Severity, tt.sev)
			}
			wantRes := tt.resource
			if wantRes == "" {
				wantRes = finding.ResourceAccessKey
			}
			if f.Resource.ResourceType != wantRes || f.Resource.AccessKeyDetails == nil || f.Resource.AccessKeyDetails.AccessKeyID != alice.AccessKeyID {
				t.Errorf("resource %s %+v, want %s with alice's key", f.Resource.ResourceType, f.Resource.AccessKeyDetails, wantRes)
			}
			if a := f.Service.Action.AwsAPICallAction; a == nil || a.API != tt.ev.API.EventName {
				t.Errorf("action %+v", a)
			}
			checkShape(t, f)
			t.Log(f.Title, "|", f.Description)
		})
	}
}

// Findings aggregate per caller and resource: the same change repeated is
// one finding, another bucket or another caller is another.
func TestTrailAggregationKey(t *testing.T) {
	env := testEnv(t)
	bob := alice
	bob.UserName, bob.PrincipalID, bob.AccessKeyID, bob.ARN = "bob", "AIDABOB", "AKIABOB000000000001", "arn:aws:iam::111122223333:user/bob"
	pol := func(id event.UserIdentity, bucket string) event.Event {
		return call(callSpec{api: "PutBucketPolicy", source: "s3.amazonaws.com", ip: cleanIP, id: id, params: strings.ReplaceAll(pPolicyPublic, "web-assets", bucket)})
	}
	got := run(t, env, pol(alice, "a"), pol(alice, "a"), pol(alice, "b"), pol(bob, "a"))
	var ids []string
	for _, f := range got {
		if f.Type == TypeS3BucketAnonymousAccess {
			ids = append(ids, f.ID)
		}
	}
	if len(ids) != 4 || ids[0] != ids[1] || ids[0] == ids[2] || ids[0] == ids[3] || ids[2] == ids[3] {
		t.Errorf("ids %q: want the repeat to share its id and the others to differ", ids)
	}
	if b := got[0].Resource.S3BucketDetails; len(b) != 1 || b[0].Name != "a" || b[0].Arn != "arn:aws:s3:::a" {
		t.Errorf("bucket details %+v", b)
	}
}

func TestTrailDisabledType(t *testing.T) {
	env := testEnv(t)
	env.Disabled = []string{"Policy:S3/*"}
	ev := call(callSpec{api: "PutBucketPolicy", source: "s3.amazonaws.com", ip: cleanIP, id: alice, params: pPolicyPublic})
	var got []finding.Finding
	NewTrail(env).Observe(&ev, func(f *finding.Finding) { got = append(got, *f) })
	if len(got) != 0 {
		t.Errorf("disabled type reported: %q", types(got))
	}
}

func TestPentestDistro(t *testing.T) {
	for ua, want := range map[string]string{
		uaKali:   "kali",
		uaParrot: "parrot",
		uaPentoo: "pentoo",
		"[aws-cli/1.18.69 Python/3.8.5 Linux/5.7.0-KALI1-amd64 botocore/1.17.16]":                      "kali",
		"Boto3/1.35.76 md/Botocore#1.35.76 ua/2.0 os/linux#6.1.0-kali5-amd64 md/arch#x86_64":           "kali",
		"aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0-18-amd64 exe/x86_64.debian.12 prompt/off":           "",
		"Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0":                       "",
		"aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0-amd64 exe/x86_64.debian.12 command/s3.cp.kalilinux": "",
		"Linux/5.10.0-parrotsec-amd64": "",
		"":                             "",
	} {
		if got := pentestDistro(ua); got != want {
			t.Errorf("pentestDistro(%q) = %q, want %q", ua, got, want)
		}
	}
}

// Calls no rule handles cost no allocation.
func TestTrailObserveAllocs(t *testing.T) {
	d := NewTrail(testEnv(t))
	evs := []event.Event{
		call(callSpec{api: "DescribeInstances", source: "ec2.amazonaws.com", ip: cleanIP, id: alice}),
		call(callSpec{api: "GetObject", source: "s3.amazonaws.com", category: "Data", ip: cleanIP, id: alice, params: `{"bucketName":"b","key":"k"}`}),
		withUA(call(callSpec{api: "ListRoles", ip: cleanIP, id: alice}), "aws-cli/2.22.4 Python/3.12.6 Linux/6.8.0-49-generic exe/x86_64.ubuntu.24 prompt/off command/iam.list-roles"),
		denied(call(callSpec{api: "PutBucketPolicy", source: "s3.amazonaws.com", ip: cleanIP, id: alice, params: pPolicyPublic})),
		flow(flowSpec{eni: "eni-0001", src: webPrivate, dst: cleanIP, sport: 50000, dport: 443}),
	}
	emit := func(*finding.Finding) {}
	for i := range evs {
		if n := testing.AllocsPerRun(200, func() { d.Observe(&evs[i], emit) }); n != 0 {
			t.Errorf("event %d: %v allocs per event, want 0", i, n)
		}
	}
}

func denied(ev event.Event) event.Event { ev.API.ErrorCode = "AccessDenied"; return ev }
