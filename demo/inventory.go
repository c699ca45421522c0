package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// The structures below follow `aws ec2 describe-instances` output, field
// order included.

type diOutput struct {
	Reservations []diReservation `json:"Reservations"`
}

type diReservation struct {
	Groups        []diGroup    `json:"Groups"`
	Instances     []diInstance `json:"Instances"`
	OwnerId       string       `json:"OwnerId"`
	RequesterId   string       `json:"RequesterId,omitempty"`
	ReservationId string       `json:"ReservationId"`
}

type diGroup struct {
	GroupName string `json:"GroupName"`
	GroupId   string `json:"GroupId"`
}

type diTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type diAssociation struct {
	IpOwnerId     string `json:"IpOwnerId"`
	PublicDnsName string `json:"PublicDnsName"`
	PublicIp      string `json:"PublicIp"`
}

type diPrivateIP struct {
	Association      *diAssociation `json:"Association,omitempty"`
	Primary          bool           `json:"Primary"`
	PrivateDnsName   string         `json:"PrivateDnsName"`
	PrivateIpAddress string         `json:"PrivateIpAddress"`
}

type diIPv6 struct {
	Ipv6Address   string `json:"Ipv6Address"`
	IsPrimaryIpv6 bool   `json:"IsPrimaryIpv6"`
}

type diAttachment struct {
	AttachTime          string `json:"AttachTime"`
	AttachmentId        string `json:"AttachmentId"`
	DeleteOnTermination bool   `json:"DeleteOnTermination"`
	DeviceIndex         int    `json:"DeviceIndex"`
	Status              string `json:"Status"`
	NetworkCardIndex    int    `json:"NetworkCardIndex"`
}

type diENI struct {
	Association        *diAssociation `json:"Association,omitempty"`
	Attachment         diAttachment   `json:"Attachment"`
	Description        string         `json:"Description"`
	Groups             []diGroup      `json:"Groups"`
	Ipv6Addresses      []diIPv6       `json:"Ipv6Addresses"`
	MacAddress         string         `json:"MacAddress"`
	NetworkInterfaceId string         `json:"NetworkInterfaceId"`
	OwnerId            string         `json:"OwnerId"`
	PrivateDnsName     string         `json:"PrivateDnsName"`
	PrivateIpAddress   string         `json:"PrivateIpAddress"`
	PrivateIpAddresses []diPrivateIP  `json:"PrivateIpAddresses"`
	SourceDestCheck    bool           `json:"SourceDestCheck"`
	Status             string         `json:"Status"`
	SubnetId           string         `json:"SubnetId"`
	VpcId              string         `json:"VpcId"`
	InterfaceType      string         `json:"InterfaceType"`
}

type diEBS struct {
	AttachTime          string `json:"AttachTime"`
	DeleteOnTermination bool   `json:"DeleteOnTermination"`
	Status              string `json:"Status"`
	VolumeId            string `json:"VolumeId"`
}

type diBDM struct {
	DeviceName string `json:"DeviceName"`
	Ebs        diEBS  `json:"Ebs"`
}

type diProfile struct {
	Arn string `json:"Arn"`
	Id  string `json:"Id"`
}

type diState struct {
	Code int    `json:"Code"`
	Name string `json:"Name"`
}

type diInstance struct {
	AmiLaunchIndex        int               `json:"AmiLaunchIndex"`
	ImageId               string            `json:"ImageId"`
	InstanceId            string            `json:"InstanceId"`
	InstanceType          string            `json:"InstanceType"`
	KeyName               string            `json:"KeyName,omitempty"`
	LaunchTime            string            `json:"LaunchTime"`
	Monitoring            map[string]string `json:"Monitoring"`
	Placement             map[string]string `json:"Placement"`
	PrivateDnsName        string            `json:"PrivateDnsName"`
	PrivateIpAddress      string            `json:"PrivateIpAddress"`
	ProductCodes          []struct{}        `json:"ProductCodes"`
	PublicDnsName         string            `json:"PublicDnsName"`
	PublicIpAddress       string            `json:"PublicIpAddress,omitempty"`
	State                 diState           `json:"State"`
	StateTransitionReason string            `json:"StateTransitionReason"`
	SubnetId              string            `json:"SubnetId"`
	VpcId                 string            `json:"VpcId"`
	Architecture          string            `json:"Architecture"`
	BlockDeviceMappings   []diBDM           `json:"BlockDeviceMappings"`
	ClientToken           string            `json:"ClientToken"`
	EbsOptimized          bool              `json:"EbsOptimized"`
	EnaSupport            bool              `json:"EnaSupport"`
	Hypervisor            string            `json:"Hypervisor"`
	IamInstanceProfile    *diProfile        `json:"IamInstanceProfile,omitempty"`
	NetworkInterfaces     []diENI           `json:"NetworkInterfaces"`
	RootDeviceName        string            `json:"RootDeviceName"`
	RootDeviceType        string            `json:"RootDeviceType"`
	SecurityGroups        []diGroup         `json:"SecurityGroups"`
	SourceDestCheck       bool              `json:"SourceDestCheck"`
	Tags                  []diTag           `json:"Tags"`
	VirtualizationType    string            `json:"VirtualizationType"`
	CpuOptions            map[string]int    `json:"CpuOptions"`
	MetadataOptions       diMetadataOptions `json:"MetadataOptions"`
	PlatformDetails       string            `json:"PlatformDetails"`
	UsageOperation        string            `json:"UsageOperation"`
	PrivateDnsNameOptions diDNSNameOptions  `json:"PrivateDnsNameOptions"`
	MaintenanceOptions    map[string]string `json:"MaintenanceOptions"`
	BootMode              string            `json:"CurrentInstanceBootMode"`
	NetworkPerformance    map[string]string `json:"NetworkPerformanceOptions"`
	Operator              map[string]bool   `json:"Operator"`
}

type diMetadataOptions struct {
	State                   string `json:"State"`
	HttpTokens              string `json:"HttpTokens"`
	HttpPutResponseHopLimit int    `json:"HttpPutResponseHopLimit"`
	HttpEndpoint            string `json:"HttpEndpoint"`
	HttpProtocolIpv6        string `json:"HttpProtocolIpv6"`
	InstanceMetadataTags    string `json:"InstanceMetadataTags"`
}

type diDNSNameOptions struct {
	HostnameType                    string `json:"HostnameType"`
	EnableResourceNameDnsARecord    bool   `json:"EnableResourceNameDnsARecord"`
	EnableResourceNameDnsAAAARecord bool   `json:"EnableResourceNameDnsAAAARecord"`
}

func privateDNS(h *host) string {
	return "ip-" + strings.ReplaceAll(h.Private.String(), ".", "-") + ".ec2.internal"
}

func publicDNS(h *host) string {
	if !h.Public.IsValid() {
		return ""
	}
	return "ec2-" + strings.ReplaceAll(h.Public.String(), ".", "-") + ".compute-1.amazonaws.com"
}

func describeInstances(r *rand.Rand, start time.Time) []byte {
	const cliTime = "2006-01-02T15:04:05+00:00"
	var out diOutput
	for _, h := range hosts {
		launch := start.Add(-h.Age - time.Duration(r.IntN(86400))*time.Second).Truncate(time.Second)
		sg := []diGroup{{GroupName: h.SGName, GroupId: h.SGID}}
		var assoc *diAssociation
		if h.Public.IsValid() {
			assoc = &diAssociation{IpOwnerId: "amazon", PublicDnsName: publicDNS(h), PublicIp: h.Public.String()}
		}
		v6 := []diIPv6{}
		if h.IPv6.IsValid() {
			v6 = append(v6, diIPv6{Ipv6Address: h.IPv6.String()})
		}
		inst := diInstance{
			ImageId: h.AMI, InstanceId: h.ID, InstanceType: h.Type, KeyName: "ops-2026",
			LaunchTime:            launch.Format(cliTime),
			Monitoring:            map[string]string{"State": "disabled"},
			Placement:             map[string]string{"AvailabilityZone": azName, "GroupName": "", "Tenancy": "default"},
			PrivateDnsName:        privateDNS(h),
			PrivateIpAddress:      h.Private.String(),
			ProductCodes:          []struct{}{},
			PublicDnsName:         publicDNS(h),
			State:                 diState{Code: 16, Name: "running"},
			StateTransitionReason: "",
			SubnetId:              h.Subnet,
			VpcId:                 vpcID,
			Architecture:          "x86_64",
			BlockDeviceMappings: []diBDM{{DeviceName: "/dev/sda1", Ebs: diEBS{AttachTime: launch.Add(time.Second).Format(cliTime),
				DeleteOnTermination: true, Status: "attached", VolumeId: "vol-0" + hexString(r, 16, false)}}},
			ClientToken:  "terraform-" + hexString(r, 26, false),
			EbsOptimized: true, EnaSupport: true, Hypervisor: "xen",
			NetworkInterfaces: []diENI{{
				Association: assoc,
				Attachment: diAttachment{AttachTime: launch.Format(cliTime), AttachmentId: "eni-attach-0" + hexString(r, 16, false),
					DeleteOnTermination: true, Status: "attached"},
				Description:        "",
				Groups:             sg,
				Ipv6Addresses:      v6,
				MacAddress:         h.MAC,
				NetworkInterfaceId: h.ENI,
				OwnerId:            accountID,
				PrivateDnsName:     privateDNS(h),
				PrivateIpAddress:   h.Private.String(),
				PrivateIpAddresses: []diPrivateIP{{Association: assoc, Primary: true, PrivateDnsName: privateDNS(h), PrivateIpAddress: h.Private.String()}},
				SourceDestCheck:    true,
				Status:             "in-use",
				SubnetId:           h.Subnet,
				VpcId:              vpcID,
				InterfaceType:      "interface",
			}},
			RootDeviceName:     "/dev/sda1",
			RootDeviceType:     "ebs",
			SecurityGroups:     sg,
			SourceDestCheck:    true,
			VirtualizationType: "hvm",
			CpuOptions:         map[string]int{"CoreCount": 1, "ThreadsPerCore": 2},
			MetadataOptions: diMetadataOptions{State: "applied", HttpTokens: "required", HttpPutResponseHopLimit: 2,
				HttpEndpoint: "enabled", HttpProtocolIpv6: "disabled", InstanceMetadataTags: "disabled"},
			PlatformDetails: "Linux/UNIX", UsageOperation: "RunInstances",
			PrivateDnsNameOptions: diDNSNameOptions{HostnameType: "ip-name"},
			MaintenanceOptions:    map[string]string{"AutoRecovery": "default"},
			BootMode:              "legacy-bios",
			NetworkPerformance:    map[string]string{"BandwidthWeighting": "default"},
			Operator:              map[string]bool{"Managed": false},
		}
		if h.Public.IsValid() {
			inst.PublicIpAddress = h.Public.String()
		}
		if h.Role != "" {
			inst.IamInstanceProfile = &diProfile{Arn: "arn:aws:iam::" + accountID + ":instance-profile/" + h.Role, Id: h.ProfileID}
		}
		if h == hEMR {
			inst.KeyName = ""
			inst.ClientToken = fmt.Sprintf("%s-MASTER-%s", emrClusterID, hexString(r, 8, false))
			inst.CpuOptions = map[string]int{"CoreCount": 2, "ThreadsPerCore": 2}
		}
		for _, t := range h.Tags {
			inst.Tags = append(inst.Tags, diTag{Key: t[0], Value: t[1]})
		}
		res := diReservation{Groups: []diGroup{}, Instances: []diInstance{inst}, OwnerId: accountID,
			ReservationId: "r-0" + hexString(r, 16, false)}
		if h == hEMR {
			res.RequesterId = "782425451201"
		}
		out.Reservations = append(out.Reservations, res)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	_ = enc.Encode(out)
	return b.Bytes()
}
