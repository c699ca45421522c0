package demo

import (
	"net/netip"
	"time"
)

// The demo estate: one account, one region, one VPC.
const (
	accountID     = "111122223333"
	awsRegion     = "us-east-1"
	vpcID         = "vpc-0a1b2c3d4e5f60789"
	azName        = "us-east-1a"
	azID          = "use1-az4"
	publicSubnet  = "subnet-0f3e2d1c4b5a69788" // 10.0.1.0/24
	privateSubnet = "subnet-07c6b5a4d3e2f1098" // 10.0.2.0/24

	flowLogV2 = "fl-0d2c9a41b7e3f5a68" // default format: web-01, bastion-01, emr-master, relay-01
	flowLogV5 = "fl-04e7b1c9a3d2f6e85" // custom v5 format: worker-01, es-01

	natGatewayID = "nat-0a7d3f9c2e1b58064"

	trailName     = "security-audit" // the trail whose files the demo delivers
	trailBucket   = "aws-cloudtrail-logs-111122223333-7c1e4b2a"
	attackedTrail = "management-events" // the trail the attacker stops and deletes
	attackedARN   = "arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events"

	emrClusterID = "j-3KQ8Z1W7N5YRT"

	webBucket      = "acme-web-assets-111122223333"
	tfStateBucket  = "acme-tf-state-111122223333"
	emrLogsBucket  = "acme-emr-logs-111122223333"
	artifactBucket = "acme-ci-artifacts-111122223333"
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// host is one EC2 instance with a single network interface.
type host struct {
	Name, ID, ENI, MAC, Type, AMI string
	Private, Public, IPv6         netip.Addr
	Subnet, SGName, SGID          string
	Role, ProfileID               string // instance profile (same name as the role)
	Tags                          [][2]string
	V5                            bool          // its ENI belongs to the custom-format flow log
	Age                           time.Duration // launched this long before Options.Start
}

var (
	hWeb = &host{Name: "web-01", ID: "i-0a3f5c2e9b7d14e68", ENI: "eni-0c41f7a2d9e35b816", MAC: "0e:4b:7c:21:9a:5d",
		Type: "t3.medium", AMI: "ami-0e2c8caa4b6378d8c",
		Private: addr("10.0.1.10"), Public: addr("54.145.20.17"), IPv6: addr("2600:1f18:4a3:6901:8c2e:31d7:55a0:1b2e"),
		Subnet: publicSubnet, SGName: "web-sg", SGID: "sg-0b7e4f2a9c1d35e60",
		Role: "web-role", ProfileID: "AIPA5TK3WQ7RL2M4NX8QZ",
		Tags: [][2]string{{"Name", "web-01"}, {"Environment", "prod"}, {"Service", "storefront"}},
		Age:  41*24*time.Hour + 3*time.Hour}
	hBastion = &host{Name: "bastion-01", ID: "i-0b58d1e7c3a29f406", ENI: "eni-0d93a6c1f5b27e480", MAC: "0e:91:3f:c4:06:b7",
		Type: "t3.micro", AMI: "ami-0e2c8caa4b6378d8c",
		Private: addr("10.0.1.20"), Public: addr("3.87.112.45"),
		Subnet: publicSubnet, SGName: "bastion-sg", SGID: "sg-0c2d8e5f1a7b49360",
		Tags: [][2]string{{"Name", "bastion-01"}, {"Environment", "prod"}},
		Age:  97*24*time.Hour + 5*time.Hour}
	hES = &host{Name: "es-01", ID: "i-0c7e2a9f4d6b13058", ENI: "eni-0e15b7d3a9c84f261", MAC: "0e:27:d8:5a:e1:40",
		Type: "m6i.large", AMI: "ami-0e2c8caa4b6378d8c",
		Private: addr("10.0.1.30"), Public: addr("44.202.71.9"),
		Subnet: publicSubnet, SGName: "es-sg", SGID: "sg-0d4f1a6c8e2b75930",
		Tags: [][2]string{{"Name", "es-01"}, {"Environment", "prod"}, {"Service", "search"}},
		V5:   true, Age: 63*24*time.Hour + 7*time.Hour}
	hEMR = &host{Name: "emr-master", ID: "i-0d2b6f8a1e4c97035", ENI: "eni-0f27c4e9b1d56a803", MAC: "0e:c3:60:8b:12:f9",
		Type: "m5.xlarge", AMI: "ami-0b5eea76982371e91",
		Private: addr("10.0.1.40"), Public: addr("18.206.33.154"),
		Subnet: publicSubnet, SGName: "ElasticMapReduce-master", SGID: "sg-0e6a3c9d2f8b14570",
		Role: "EMR_EC2_DefaultRole", ProfileID: "AIPA5TK3WQ7RF6D2HV9XC",
		Tags: [][2]string{{"Name", "emr-master"}, {"aws:elasticmapreduce:instance-group-role", "MASTER"},
			{"aws:elasticmapreduce:job-flow-id", emrClusterID}},
		Age: 2*24*time.Hour + 11*time.Hour}
	hRelay = &host{Name: "relay-01", ID: "i-0e94c3b7a5f28d160", ENI: "eni-01a8e5d2c7f49b036", MAC: "0e:5f:a2:39:c7:1e",
		Type: "t3.small", AMI: "ami-0e2c8caa4b6378d8c",
		Private: addr("10.0.1.50"), Public: addr("3.91.210.66"),
		Subnet: publicSubnet, SGName: "relay-sg", SGID: "sg-0f8b5e2d7a1c46390",
		Tags: [][2]string{{"Name", "relay-01"}, {"Environment", "dev"}},
		Age:  6*24*time.Hour + 20*time.Hour}
	hWorker = &host{Name: "worker-01", ID: "i-0f6d1a8c3e5b72940", ENI: "eni-02b9f6e3d8a15c047", MAC: "12:7a:e4:0d:93:b6",
		Type: "c6i.large", AMI: "ami-0e2c8caa4b6378d8c",
		Private: addr("10.0.2.20"),
		Subnet:  privateSubnet, SGName: "worker-sg", SGID: "sg-01c9f7a4e2d68b350",
		Tags: [][2]string{{"Name", "worker-01"}, {"Environment", "prod"}, {"Service", "jobs"}},
		V5:   true, Age: 19*24*time.Hour + 2*time.Hour}

	hosts = []*host{hWeb, hBastion, hES, hEMR, hRelay, hWorker}
)

// Addresses outside the estate.
var (
	natPublic  = addr("52.21.47.180") // worker-01's egress (NAT gateway EIP)
	natPrivate = addr("10.0.1.5")

	officeIP       = addr("203.0.113.10")  // office.txt (203.0.113.8/29) and custom-threats.txt
	ciRunnerIP     = addr("34.228.9.41")   // CI runner in another AWS account (inside ip-ranges)
	exfilOutsideIP = addr("203.0.113.77")  // outside AWS, on no list
	exfilInsideIP  = addr("44.211.138.5")  // another account's EC2 address, inside ip-ranges
	torExitIP      = addr("192.0.2.12")    // tor-exit-addresses
	aliceTravelIP  = addr("203.0.113.200") // on no list (Tor near miss)
	aliceHomeIP    = addr("203.0.113.45")  // on no list (CloudTrail stopped from here)
	rootAdminIP    = addr("203.0.113.150") // on no list (root console sign-in)
	devHomeIP      = addr("203.0.113.61")  // on no list (SSH to bastion-01)

	customCIIP  = addr("198.51.100.120") // custom-threats.txt: ci-deployer's key used from here
	customWebIP = addr("198.51.100.121") // custom-threats.txt: web-01 talks to it on 8080

	scannerSSH      = addr("198.51.100.23") // STIX: bastion-01:22 accepted
	scannerES       = addr("198.51.100.24") // STIX: es-01:9200/9300 accepted
	scannerEMR      = addr("198.51.100.25") // STIX: emr-master:8088 accepted
	scannerWeb      = addr("198.51.100.26") // STIX: web-01:443 accepted (near miss)
	scannerRejected = addr("198.51.100.27") // STIX: web-01:22/3389 rejected (near miss)

	miningIP1 = addr("198.51.100.80") // mining.txt: stratum on 3333
	miningIP2 = addr("198.51.100.81") // mining.txt
	c2IP      = addr("198.51.100.66") // c2.csv: beacon on 443
)

// torRelay returns the i-th address of tor-relays.txt (0 ≤ i < 32).
func torRelay(i int) netip.Addr { return netip.AddrFrom4([4]byte{192, 0, 2, byte(100 + i)}) }

const numTorRelays = 32

// Well-known AWS and internet service addresses the estate talks to.
var (
	s3Addrs     = []netip.Addr{addr("52.216.137.22"), addr("52.216.57.186"), addr("52.217.84.6"), addr("3.5.29.141")}
	ssmAddr     = addr("52.94.1.170")
	logsAddr    = addr("52.94.0.83")
	stsAddr     = addr("52.94.2.14")
	emrAPIAddr  = addr("52.94.1.32")
	sqsAddr     = addr("52.94.0.210")
	ubuntuAddrs = []netip.Addr{addr("91.189.91.81"), addr("91.189.91.82"), addr("185.125.190.36")}
	mirrorAddr  = addr("52.216.110.69") // us-east-1.ec2.archive.ubuntu.com (S3-backed)
	githubAddr  = addr("140.82.112.3")
	pypiAddr    = addr("151.101.0.223")
	pyFilesAddr = addr("151.101.1.63")
	elasticAddr = addr("34.120.127.130")
)

// IAM principals.
type principal struct {
	Name, ID, Key string
}

var (
	pAlice = principal{Name: "alice", ID: "AIDA5TK3WQ7RZB2XN4MJE", Key: "AKIA5TK3WQ7RMD4QHX2P"}
	pCI    = principal{Name: "ci-deployer", ID: "AIDA5TK3WQ7RYH6LF2CUS", Key: "AKIA5TK3WQ7RJN3B6E5W"}

	aliceNewKey      = "AKIA5TK3WQ7RPQZ7V3KC" // created by the attacker from Tor
	aliceTravelKey   = "AKIA5TK3WQ7RW8E4YB6N" // created by alice while travelling (near miss)
	aliceConsoleKey  = "ASIA5TK3WQ7RC3LW6QYF" // alice's console session
	rootConsoleKey   = "ASIA5TK3WQ7RBZ4N7PXM" // root's console session
	webRoleID        = "AROA5TK3WQ7RS4VW2LPHD"
	webRoleKey       = "ASIA5TK3WQ7RGY3MZCTA" // web-01's instance-profile credentials
	emrRoleID        = "AROA5TK3WQ7RV5NQ8JWK2"
	emrRoleKey       = "ASIA5TK3WQ7RX7JD2FLE" // emr-master's instance-profile credentials
	adminRoleID      = "AROA5TK3WQ7RKE7TXN3QB"
	adminOfficeKey   = "ASIA5TK3WQ7RUV2H6KJR" // alice's admin-role session from the office
	adminAttackerKey = "ASIA5TK3WQ7RN4C9TZ5D" // alice's admin-role session that stops CloudTrail
)

func roleARN(role string) string { return "arn:aws:iam::" + accountID + ":role/" + role }
func userARN(user string) string { return "arn:aws:iam::" + accountID + ":user/" + user }
