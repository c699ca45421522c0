package demo

import (
	"time"
)

// The attacks and near misses, by minute after Options.Start.

// attacks appends the scenario's flow records.
func (g *flowGen) attacks() {
	r := g.r
	small := func() (int64, int64, int64, int64) {
		p1 := int64(3 + r.IntN(4))
		p2 := int64(2 + r.IntN(4))
		return p1, p1 * int64(60+r.IntN(40)), p2, p2 * int64(60+r.IntN(200))
	}

	// 13. The office (trusted, but also on the custom threat list): SSH to
	// bastion-01 and HTTPS to web-01.
	sp := g.eph()
	for m := 10; m <= 25; m++ {
		mode := mid
		switch m {
		case 10:
			mode = open
		case 25:
			mode = closing
		}
		p1 := int64(20 + r.IntN(60))
		p2 := int64(20 + r.IntN(80))
		g.conn(hBastion, officeIP, hBastion.Private, sp, 22, 6, m, p1, p1*int64(70+r.IntN(40)), p2, p2*int64(90+r.IntN(300)), true, mode)
	}
	for m := 2; m < 120; m += 10 {
		p1, b1 := g.small()
		p2, b2 := g.large(50)
		g.conn(hWeb, officeIP, hWeb.Private, g.eph(), 443, 6, m, p1, b1, p2, b2, true, whole)
	}

	// 6. Near miss: an address on no list reaches bastion-01:22.
	sp = g.eph()
	for m := 30; m <= 33; m++ {
		mode := mid
		switch m {
		case 30:
			mode = open
		case 33:
			mode = closing
		}
		p1, p2 := int64(30+r.IntN(40)), int64(30+r.IntN(60))
		g.conn(hBastion, devHomeIP, hBastion.Private, sp, 22, 6, m, p1, p1*90, p2, p2*140, true, mode)
	}

	// 10. worker-01 beacons to a C&C address every minute.
	for m := 25; m < 120; m++ {
		p1, p2 := int64(6+r.IntN(3)), int64(5+r.IntN(3))
		g.conn(hWorker, hWorker.Private, c2IP, g.eph(), 443, 6, m, p1, p1*int64(110+r.IntN(30)), p2, p2*int64(180+r.IntN(60)), false, whole)
	}

	// 5. worker-01 mines: a long-lived stratum connection, and a failover pool.
	sp = g.eph()
	for m := 35; m < 120; m++ {
		mode := mid
		if m == 35 {
			mode = open
		}
		p1, p2 := int64(24+r.IntN(12)), int64(30+r.IntN(12))
		g.conn(hWorker, hWorker.Private, miningIP1, sp, 3333, 6, m, p1, p1*int64(90+r.IntN(30)), p2, p2*int64(150+r.IntN(80)), false, mode)
	}
	g.conn(hWorker, hWorker.Private, miningIP2, g.eph(), 3333, 6, 35, 9, 1320, 7, 1604, false, whole)

	// 6, 7. Known scanners: accepted on bastion-01:22, es-01:9200/9300 and
	// emr-master:8088; near misses on web-01:443 (accepted) and web-01:22,
	// 3389 (rejected by web-sg).
	p1, b1, p2, b2 := small()
	g.conn(hBastion, scannerSSH, hBastion.Private, g.eph(), 22, 6, 50, p1, b1, p2, b2, true, whole)
	g.reject(hBastion, scannerSSH, 3389, 6, 50)
	g.reject(hBastion, scannerSSH, 23, 6, 50)
	p1, b1, p2, b2 = small()
	g.conn(hBastion, scannerSSH, hBastion.Private, g.eph(), 22, 6, 80, p1, b1, p2, b2, true, whole)

	p1, b1, p2, b2 = small()
	g.conn(hWeb, scannerWeb, hWeb.Private, g.eph(), 443, 6, 51, p1, b1, p2, b2, true, whole)

	p1, b1, p2, b2 = small()
	g.conn(hES, scannerES, hES.Private, g.eph(), 9200, 6, 52, p1, b1, p2, b2+540, true, whole)
	p1, b1, p2, b2 = small()
	g.conn(hES, scannerES, hES.Private, g.eph(), 9300, 6, 52, p1, b1, p2, b2, true, whole)

	p1, b1, p2, b2 = small()
	g.conn(hEMR, scannerEMR, hEMR.Private, g.eph(), 8088, 6, 53, p1, b1, p2, b2+2200, true, whole)

	g.reject(hWeb, scannerRejected, 22, 6, 54)
	g.reject(hWeb, scannerRejected, 3389, 6, 54)
	g.reject(hWeb, scannerRejected, 22, 6, 55)

	// 8. bastion-01 becomes a Tor client: guard connections on 9001 and 443.
	for i, port := range []int{9001, 443} {
		sp := g.eph()
		for m := 85; m <= 100; m++ {
			mode := mid
			switch m {
			case 85:
				mode = open
			case 100:
				mode = closing
			}
			p1, p2 := int64(15+r.IntN(30)), int64(20+r.IntN(60))
			g.conn(hBastion, hBastion.Private, torRelay(1+i), sp, port, 6, m, p1, p1*int64(500+r.IntN(80)), p2, p2*int64(520+r.IntN(60)), false, mode)
		}
	}
	g.conn(hBastion, hBastion.Private, torRelay(3), g.eph(), 9001, 6, 92, 14, 6710, 12, 7004, false, whole)

	// 8. relay-01 runs a Tor relay: other relays connect to its ORPort 9001
	// and it keeps circuits open to others. Connections predate the window.
	type link struct {
		peer  int
		sport int
		in    bool
	}
	var links []link
	for i := 4; i < 16; i++ {
		links = append(links, link{peer: i, sport: g.eph(), in: true})
	}
	for i := 16; i < 22; i++ {
		links = append(links, link{peer: i, sport: g.eph()})
	}
	for m := range 120 {
		for _, l := range links {
			if r.IntN(2) == 0 {
				continue
			}
			p1, p2 := int64(10+r.IntN(120)), int64(10+r.IntN(120))
			b1, b2 := p1*int64(514+r.IntN(40)), p2*int64(514+r.IntN(40))
			if l.in {
				g.conn(hRelay, torRelay(l.peer), hRelay.Private, l.sport, 9001, 6, m, p1, b1, p2, b2, true, mid)
			} else {
				g.conn(hRelay, hRelay.Private, torRelay(l.peer), l.sport, 9001, 6, m, p1, b1, p2, b2, false, mid)
			}
		}
	}

	// 9. web-01 talks to an address on the custom threat list, on 8080.
	for m := 90; m <= 92; m++ {
		g.conn(hWeb, hWeb.Private, customWebIP, g.eph(), 8080, 6, m, 9, 1610, 8, 3305, false, whole)
	}
}

// attacks appends the scenario's DNS queries.
func (g *dnsGen) attacks() {
	sec := func(m, s int) time.Time {
		return g.start.Add(time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}
	// 10. The C&C test domain, re-resolved as its TTL expires.
	g.query(hWorker, nC2, "A", sec(24, 50))
	for m := 34; m < 120; m += 10 {
		g.query(hWorker, nC2, "A", sec(m, 50+g.r.IntN(8)))
	}
	// 5. Mining pools (subdomains of listed domains) and the near miss.
	g.lookup(hWorker, nPool1, sec(34, 55))
	g.lookup(hWorker, nPool2, sec(35, 10))
	for m := 50; m < 120; m += 15 {
		g.query(hWorker, nPool1, "A", sec(m, 55))
	}
	g.lookup(hWorker, nNotPool, sec(36, 20))
}

// attacks appends the scenario's CloudTrail records.
func (g *ctGen) attacks() {
	first := len(g.out)
	root := "arn:aws:iam::" + accountID + ":root"

	// 11. Root signs in to the console and uses it.
	rootIP := rootAdminIP.String()
	login := g.sec(20, 8)
	g.consoleLogin(login, idRootLogin(), rootIP, uaBrowser, "arn:aws:iam::"+accountID+":mfa/root-account-mfa-device")
	rec := g.listBuckets(g.sec(21, 2), idRootConsole(login), rootIP, uaS3Console)
	rec.SessionCredentialFromConsole = "true"
	rec = g.call(g.sec(22, 40), idRootConsole(login), rootIP, uaInternal, "iam", "GetAccountSummary", nil, nil)
	rec.SessionCredentialFromConsole = "true"
	// Near miss: AWS Support acting with the root identity.
	g.call(g.sec(30, 12), &ctIdentity{Type: "Root", PrincipalID: accountID, ARN: root, AccountID: accountID, InvokedBy: "support.amazonaws.com"},
		"support.amazonaws.com", "support.amazonaws.com", "support", "DescribeTrustedAdvisorChecks", obj("language", "en"), nil)

	// 3. alice's credentials used from a Tor exit; near miss from an
	// unlisted address.
	for _, v := range []struct {
		m       int
		ip, ua  string
		browser string
		mfa     string
		newKey  string
	}{
		{40, torExitIP.String(), uaCLIAttacker, uaTorBrowser, "", aliceNewKey},
		{55, aliceTravelIP.String(), uaCLIMac, uaBrowser, "arn:aws:iam::" + accountID + ":mfa/alice", aliceTravelKey},
	} {
		g.consoleLogin(g.sec(v.m, 5), idUserLogin(pAlice), v.ip, v.browser, v.mfa)
		id := idUser(pAlice)
		g.call(g.sec(v.m+1, 10), id, v.ip, v.ua+"iam.list-users", "iam", "ListUsers", nil, nil)
		g.call(g.sec(v.m+1, 34), id, v.ip, v.ua+"iam.get-account-authorization-details", "iam", "GetAccountAuthorizationDetails", nil, nil)
		g.listBuckets(g.sec(v.m+2, 3), id, v.ip, v.ua+"s3.ls")
		g.call(g.sec(v.m+2, 20), id, v.ip, v.ua+"ec2.describe-instances", "ec2", "DescribeInstances", describeInstancesReq(), nil)
		created := g.sec(v.m+3, 5)
		g.call(created, id, v.ip, v.ua+"iam.create-access-key", "iam", "CreateAccessKey", obj("userName", pAlice.Name),
			obj("accessKey", obj("userName", pAlice.Name, "accessKeyId", v.newKey, "status", "Active", "createDate", created.Format(stsTime))))
	}

	// 1. web-01's instance credentials used outside AWS.
	out := exfilOutsideIP.String()
	g.call(g.sec(60, 14), g.idWeb(), out, uaCLIAttacker+"sts.get-caller-identity", "sts", "GetCallerIdentity", nil, nil)
	g.listBuckets(g.sec(60, 31), g.idWeb(), out, uaCLIAttacker+"s3.ls")
	g.call(g.sec(61, 2), g.idWeb(), out, uaCLIAttacker+"ec2.describe-instances", "ec2", "DescribeInstances", describeInstancesReq(), nil)
	g.s3Object(g.sec(61, 40), g.idWeb(), out, uaCLIAttacker+"s3.cp", "GetObject", webBucket, "config/app.json", 2210)
	g.s3Object(g.sec(61, 42), g.idWeb(), out, uaCLIAttacker+"s3.cp", "GetObject", webBucket, "certs/ca-bundle.pem", 219473)

	// 2. ... and from another AWS account's EC2 address.
	in := exfilInsideIP.String()
	g.call(g.sec(70, 3), g.idWeb(), in, uaBoto, "sts", "GetCallerIdentity", nil, nil)
	g.listBuckets(g.sec(70, 9), g.idWeb(), in, uaBoto)
	g.s3Object(g.sec(70, 30), g.idWeb(), in, uaBoto, "GetObject", webBucket, "config/app.json", 2210)

	// 4. ci-deployer's key used from an address on the custom threat list.
	ci := customCIIP.String()
	g.call(g.sec(75, 12), idUser(pCI), ci, uaBoto, "iam", "ListRoles", nil, nil)
	g.call(g.sec(75, 40), idUser(pCI), ci, uaBoto, "ec2", "DescribeSecurityGroups",
		obj("securityGroupSet", emptyObj, "securityGroupIdSet", emptyObj, "filterSet", emptyObj), nil)
	g.call(g.sec(76, 20), idUser(pCI), ci, uaBoto, "iam", "AttachUserPolicy",
		obj("userName", pCI.Name, "policyArn", "arn:aws:iam::aws:policy/AdministratorAccess"), nil)

	// 12. Near miss: a StopLogging that is denied.
	rec = g.call(g.sec(80, 44), idUser(pCI), ciRunnerIP.String(), uaBoto, "cloudtrail", "StopLogging", obj("name", attackedARN), nil)
	rec.ErrorCode = "AccessDenied"
	rec.ErrorMessage = "User: " + userARN(pCI.Name) + " is not authorized to perform: cloudtrail:StopLogging on resource: " +
		attackedARN + " because no identity-based policy allows the cloudtrail:StopLogging action"

	// 12. alice's admin-role session stops, then deletes, the trail.
	home := aliceHomeIP.String()
	assumed := g.sec(98, 11)
	g.assumeRole(assumed, idUser(pAlice), home, uaCLIMac+"sts.assume-role", "admin-role", adminRoleID, "alice", adminAttackerKey, time.Hour)
	adm := idRole("admin-role", adminRoleID, "alice", adminAttackerKey, assumed, false, false)
	g.call(g.sec(99, 2), adm, home, uaCLIMac+"cloudtrail.describe-trails", "cloudtrail", "DescribeTrails", obj("trailNameList", []string{}, "includeShadowTrails", true), nil)
	g.call(g.sec(100, 15), adm, home, uaCLIMac+"cloudtrail.stop-logging", "cloudtrail", "StopLogging", obj("name", attackedARN), nil)
	g.call(g.sec(103, 40), adm, home, uaCLIMac+"cloudtrail.delete-trail", "cloudtrail", "DeleteTrail", obj("name", attackedARN), nil)

	for _, rec := range g.out[first:] {
		rec.scenario = true
	}
}

// Expect is one finding the demo data must produce.
type Expect struct {
	Type     string // GuardDuty finding type
	Resource string // instance id or access key id
	Note     string
}

func expectations() []Expect {
	return []Expect{
		{"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", webRoleKey,
			"web-01's web-role credentials used from " + exfilOutsideIP.String() + " (outside ip-ranges): GetCallerIdentity, ListBuckets, DescribeInstances, GetObject"},
		{"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS", webRoleKey,
			"web-01's web-role credentials used from " + exfilInsideIP.String() + ", an EC2 address that is not web-01"},
		{"UnauthorizedAccess:IAMUser/TorIPCaller", pAlice.Key,
			"alice's key calls CreateAccessKey (and alice signs in) from Tor exit " + torExitIP.String()},
		{"Recon:IAMUser/TorIPCaller", pAlice.Key,
			"alice's key calls ListUsers, GetAccountAuthorizationDetails, ListBuckets, DescribeInstances from Tor exit " + torExitIP.String()},
		{"UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", pCI.Key,
			"ci-deployer's key calls AttachUserPolicy from " + customCIIP.String() + " (my-threat-list)"},
		{"Recon:IAMUser/MaliciousIPCaller.Custom", pCI.Key,
			"ci-deployer's key calls ListRoles, DescribeSecurityGroups from " + customCIIP.String() + " (my-threat-list)"},
		{"CryptoCurrency:EC2/BitcoinTool.B!DNS", hWorker.ID,
			"worker-01 resolves pool.supportxmr.com and xmr-us-east1.nanopool.org (subdomains of mining-pools entries)"},
		{"CryptoCurrency:EC2/BitcoinTool.B", hWorker.ID,
			"worker-01 holds a stratum connection to " + miningIP1.String() + ":3333 (and tries " + miningIP2.String() + ":3333)"},
		{"Recon:EC2/PortProbeUnprotectedPort", hBastion.ID,
			"known scanner " + scannerSSH.String() + " accepted on bastion-01:22 (Low)"},
		{"Recon:EC2/PortProbeUnprotectedPort", hES.ID,
			"known scanner " + scannerES.String() + " accepted on es-01:9200 and 9300 (High)"},
		{"Recon:EC2/PortProbeEMRUnprotectedPort", hEMR.ID,
			"known scanner " + scannerEMR.String() + " accepted on emr-master:8088 (YARN ResourceManager)"},
		{"UnauthorizedAccess:EC2/TorClient", hBastion.ID,
			"bastion-01 connects out to Tor relays " + torRelay(1).String() + ":9001, " + torRelay(2).String() + ":443, " + torRelay(3).String() + ":9001"},
		{"UnauthorizedAccess:EC2/TorRelay", hRelay.ID,
			"relay-01 accepts Tor relays on ORPort 9001 (" + torRelay(4).String() + "-" + torRelay(15).String() + ") and connects out to " + torRelay(16).String() + "-" + torRelay(21).String()},
		{"UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", hWeb.ID,
			"web-01 connects to " + customWebIP.String() + ":8080 (my-threat-list)"},
		{"Backdoor:EC2/C&CActivity.B", hWorker.ID,
			"worker-01 beacons to " + c2IP.String() + ":443 (c2-feed) every minute"},
		{"Backdoor:EC2/C&CActivity.B!DNS", hWorker.ID,
			"worker-01 resolves guarddutyc2activityb.com (c2-feed)"},
		{"Policy:IAMUser/RootCredentialUsage", rootConsoleKey,
			"root signs in to the console from " + rootAdminIP.String() + " and calls ListBuckets, GetAccountSummary"},
		{"Stealth:IAMUser/CloudTrailLoggingDisabled", adminAttackerKey,
			"alice's admin-role session (from " + aliceHomeIP.String() + ") calls StopLogging then DeleteTrail on " + attackedTrail},
	}
}

func nearMisses() []string {
	return []string{
		"web-01's instance credentials used from web-01's own public IP " + hWeb.Public.String() + " (all routine web-role calls)",
		"alice signs in and calls ListUsers, GetAccountAuthorizationDetails, ListBuckets, DescribeInstances, CreateAccessKey from " + aliceTravelIP.String() + ", on no list",
		"ci-deployer's routine Terraform calls from the CI runner " + ciRunnerIP.String() + " (inside AWS, on no list)",
		"worker-01 resolves notsupportxmr.com (NXDOMAIN): contains the listed supportxmr.com only as a substring",
		"known scanner " + scannerWeb.String() + " accepted on web-01:443 (80/443 never raise PortProbeUnprotectedPort)",
		"known scanner " + scannerRejected.String() + " probes web-01:22 and 3389, REJECTed by web-sg; " + scannerSSH.String() + "'s probes of bastion-01:3389/23 are REJECTed too",
		devHomeIP.String() + " (on no list) holds an SSH session to bastion-01:22",
		"root identity used by AWS Support (userIdentity.invokedBy support.amazonaws.com, DescribeTrustedAdvisorChecks)",
		"ci-deployer's StopLogging on " + attackedTrail + " fails with AccessDenied",
		"the office " + officeIP.String() + " is in my-threat-list but also in the trusted list office (203.0.113.8/29): its SSH to bastion-01, HTTPS to web-01 and alice's console/CLI/admin-role calls raise nothing",
	}
}
