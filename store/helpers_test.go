package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigilsec/vigil/finding"
)

// t0 is the base time of generated findings.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// mkFinding returns a realistic SSH brute-force finding (about 2 KB of JSON)
// for instance inst of account, seen once at t.
func mkFinding(account, inst string, sev float64, t time.Time) finding.Finding {
	region := "eu-west-1"
	typ := "UnauthorizedAccess:EC2/SSHBruteForce"
	id := finding.ID(typ, account, inst)
	det := finding.DetectorID(account, region)
	ts := finding.FormatTime(t)
	remote := &finding.RemoteIPDetails{
		City:         &finding.City{CityName: "Amsterdam"},
		Country:      &finding.Country{CountryCode: "NL", CountryName: "Netherlands"},
		GeoLocation:  &finding.GeoLocation{Lat: 52.37, Lon: 4.89},
		IPAddressV4:  "198.51.100.7",
		Organization: &finding.Organization{Asn: "64500", AsnOrg: "Example Hosting", Isp: "Example Hosting", Org: "Example Hosting"},
	}
	return finding.Finding{
		AccountID:     account,
		Arn:           finding.ARN("aws", region, account, det, id),
		CreatedAt:     ts,
		Description:   "198.51.100.7 is performing SSH brute force attacks against " + inst + ". Brute force attacks are used to gain unauthorized access to your instance by guessing the SSH password.",
		ID:            id,
		Partition:     "aws",
		Region:        region,
		SchemaVersion: "2.0",
		Severity:      sev,
		Title:         "198.51.100.7 is performing SSH brute force attacks against " + inst + ".",
		Type:          typ,
		UpdatedAt:     ts,
		Resource: finding.Resource{
			ResourceType: finding.ResourceInstance,
			InstanceDetails: &finding.InstanceDetails{
				AvailabilityZone:   region + "a",
				IamInstanceProfile: &finding.IamInstanceProfile{Arn: "arn:aws:iam::" + account + ":instance-profile/web", ID: "AIPAEXAMPLEPROFILE01"},
				ImageDescription:   "Amazon Linux 2023 AMI 2023.4.20240429.0 x86_64 HVM kernel-6.1",
				ImageID:            "ami-0abcdef1234567890",
				InstanceID:         inst,
				InstanceState:      "running",
				InstanceType:       "m5.large",
				LaunchTime:         finding.FormatTime(t0.Add(-720 * time.Hour)),
				NetworkInterfaces: []finding.NetworkInterface{{
					NetworkInterfaceID: "eni-0123456789abcdef0",
					PrivateDNSName:     "ip-10-0-1-23." + region + ".compute.internal",
					PrivateIPAddress:   "10.0.1.23",
					PrivateIPAddresses: []finding.PrivateIPAddress{{PrivateDNSName: "ip-10-0-1-23." + region + ".compute.internal", PrivateIPAddress: "10.0.1.23"}},
					PublicDNSName:      "ec2-203-0-113-5." + region + ".compute.amazonaws.com",
					PublicIP:           "203.0.113.5",
					SecurityGroups:     []finding.SecurityGroup{{GroupID: "sg-0123456789abcdef0", GroupName: "web-ssh"}},
					SubnetID:           "subnet-0123456789abcdef0",
					VpcID:              "vpc-0123456789abcdef0",
				}},
				Platform: "Linux/UNIX",
				Tags:     []finding.Tag{{Key: "Name", Value: "web-" + inst}, {Key: "env", Value: "prod"}, {Key: "team", Value: "platform"}},
			},
		},
		Service: finding.Service{
			Action: finding.Action{
				ActionType: finding.ActionNetworkConnection,
				NetworkConnectionAction: &finding.NetworkConnectionAction{
					ConnectionDirection: finding.DirectionInbound,
					LocalPortDetails:    &finding.PortDetails{Port: 22, PortName: "SSH"},
					Protocol:            "TCP",
					LocalIPDetails:      &finding.LocalIPDetails{IPAddressV4: "10.0.1.23"},
					RemoteIPDetails:     remote,
					RemotePortDetails:   &finding.PortDetails{Port: 49152, PortName: "Unknown"},
				},
			},
			AdditionalInfo: &finding.AdditionalInfo{Value: `{"unusualProtocol":"TCP","inBytes":"123456","outBytes":"7890"}`, Type: "default"},
			Count:          1,
			DetectorID:     det,
			EventFirstSeen: ts,
			EventLastSeen:  ts,
			ResourceRole:   finding.RoleTarget,
			ServiceName:    "guardduty",
			FeatureName:    "FlowLogs",
		},
	}
}

// withType changes f's type and recomputes its id.
func withType(f finding.Finding, typ string) finding.Finding {
	f.Type = typ
	f.ID = finding.ID(typ, f.AccountID, f.Resource.InstanceDetails.InstanceID)
	return f
}

func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), t.TempDir()+"/db/findings.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func mustUpsert(t testing.TB, s *Store, fs ...finding.Finding) UpsertResult {
	t.Helper()
	res, err := s.Upsert(context.Background(), fs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func mustGet(t testing.TB, s *Store, id string) finding.Finding {
	t.Helper()
	fs, err := s.Get(context.Background(), "", []string{id})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 {
		t.Fatalf("Get(%s) = %d findings, want 1", id, len(fs))
	}
	return fs[0]
}

func inst(i int) string { return fmt.Sprintf("i-%017x", i) }
