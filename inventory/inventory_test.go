package inventory

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/finding"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden files")

func loadFixture(t testing.TB) *Inventory {
	t.Helper()
	inv, err := LoadFile("testdata/describe-instances.json")
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// golden is the stable form of an instance written to the golden file.
type golden struct {
	AccountID       string                  `json:"accountId"`
	Region          string                  `json:"region"`
	Name            string                  `json:"name,omitempty"`
	PlatformDetails string                  `json:"platformDetails,omitempty"`
	Addrs           []netip.Addr            `json:"addrs"`
	InstanceDetails finding.InstanceDetails `json:"instanceDetails"`
}

// go test ./inventory -run TestGolden -update
func TestGolden(t *testing.T) {
	inv := loadFixture(t)
	var out []golden
	for _, in := range inv.Instances() {
		out = append(out, golden{in.AccountID, in.Region, in.Name, in.PlatformDetails, in.Addrs, in.Details})
	}
	got, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	const path = "testdata/describe-instances.golden"
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("instances differ from %s (run with -update after checking):\n%s", path, got)
	}
}

func TestLookups(t *testing.T) {
	inv := loadFixture(t)
	if inv.Len() != 3 {
		t.Fatalf("Len = %d, want 3", inv.Len())
	}
	const web, win, eu = "i-0a1b2c3d4e5f60001", "i-0b2b2c3d4e5f60002", "i-0c3c3c3d4e5f60003"
	in, ok := inv.ByInstanceID(web)
	if !ok || in.AccountID != "111122223333" || in.Region != "us-east-1" || in.Name != "web-1" {
		t.Fatalf("ByInstanceID(web) = %+v, %v", in, ok)
	}
	if d := in.Details; d.LaunchTime != "2024-02-20T08:15:30.000Z" || d.ImageDescription != "Amazon Linux 2023 AMI 2023.3.20240219.0 x86_64 HVM kernel-6.1" ||
		len(d.NetworkInterfaces) != 2 || d.NetworkInterfaces[0].NetworkInterfaceID != "eni-0primary" || d.NetworkInterfaces[0].PublicIP != "54.210.10.20" {
		t.Errorf("web details = %+v", d)
	}
	if in, _ := inv.ByInstanceID(win); in.Details.Platform != "windows" || in.Details.NetworkInterfaces[0].PublicIP != "" ||
		in.Details.ImageDescription != "Windows_Server-2022-English-Full-Base-2024.02.14" || in.Details.LaunchTime != "2024-02-21T09:00:00.000Z" {
		t.Errorf("win details = %+v", in.Details)
	}

	tests := []struct {
		name string
		got  func() (*Instance, bool)
		want string // instance id, "" for none
	}{
		{"ENI primary", func() (*Instance, bool) { return inv.ByENI("eni-0primary") }, web},
		{"ENI secondary", func() (*Instance, bool) { return inv.ByENI("eni-0second") }, web},
		{"ENI eu", func() (*Instance, bool) { return inv.ByENI("eni-0eu") }, eu},
		{"ENI unknown", func() (*Instance, bool) { return inv.ByENI("eni-0nope") }, ""},
		{"public", func() (*Instance, bool) { return inv.ByAddr(netip.MustParseAddr("54.210.10.20")) }, web},
		{"secondary EIP", func() (*Instance, bool) { return inv.ByAddr(netip.MustParseAddr("3.210.77.8")) }, web},
		{"secondary private", func() (*Instance, bool) { return inv.ByAddr(netip.MustParseAddr("10.0.1.11")) }, web},
		{"second ENI", func() (*Instance, bool) { return inv.ByAddr(netip.MustParseAddr("10.0.2.20")) }, web},
		{"IPv6", func() (*Instance, bool) { return inv.ByAddr(netip.MustParseAddr("2600:1f18:1234:5601::10")) }, web},
		{"mapped", func() (*Instance, bool) { return inv.ByAddr(netip.MustParseAddr("::ffff:10.0.3.30")) }, win},
		{"private only", func() (*Instance, bool) { return inv.ByAddr(netip.MustParseAddr("10.0.3.30")) }, win},
		{"ambiguous private", func() (*Instance, bool) { return inv.ByAddr(netip.MustParseAddr("10.0.1.10")) }, ""},
		{"VPC prod", func() (*Instance, bool) { return inv.ByVPCAddr("vpc-0prod", netip.MustParseAddr("10.0.1.10")) }, web},
		{"VPC eu", func() (*Instance, bool) { return inv.ByVPCAddr("vpc-0eu", netip.MustParseAddr("10.0.1.10")) }, eu},
		{"VPC other", func() (*Instance, bool) { return inv.ByVPCAddr("vpc-0dev", netip.MustParseAddr("10.0.1.10")) }, ""},
		{"eu IPv6", func() (*Instance, bool) { return inv.ByAddr(netip.MustParseAddr("2a05:d018:1:2::3")) }, eu},
		{"unknown", func() (*Instance, bool) { return inv.ByAddr(netip.MustParseAddr("192.0.2.1")) }, ""},
		{"unknown id", func() (*Instance, bool) { return inv.ByInstanceID("i-0nope") }, ""},
	}
	for _, tt := range tests {
		in, ok := tt.got()
		if ok != (tt.want != "") || (ok && in.InstanceID != tt.want) {
			t.Errorf("%s: got %v, %v, want %q", tt.name, in, ok, tt.want)
		}
	}
	for _, c := range []struct {
		id, addr string
		want     bool
	}{
		{web, "10.0.1.10", true}, {web, "10.0.2.20", true}, {web, "3.210.77.8", true}, {web, "2600:1f18:1234:5601::10", true},
		{eu, "10.0.1.10", true}, {win, "10.0.1.10", false}, {"i-0nope", "10.0.1.10", false},
	} {
		if got := inv.IsInstanceAddr(c.id, netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("IsInstanceAddr(%s, %s) = %v", c.id, c.addr, got)
		}
	}
	var nilInv *Inventory
	if _, ok := nilInv.ByAddr(netip.MustParseAddr("10.0.1.10")); ok || nilInv.Len() != 0 {
		t.Error("nil inventory matched")
	}
}

func TestLookupAllocs(t *testing.T) {
	inv := loadFixture(t)
	a, b := netip.MustParseAddr("54.210.10.20"), netip.MustParseAddr("10.0.1.10")
	if n := testing.AllocsPerRun(100, func() {
		inv.ByInstanceID("i-0a1b2c3d4e5f60001")
		inv.ByENI("eni-0second")
		inv.ByAddr(a)
		inv.ByVPCAddr("vpc-0eu", b)
		inv.IsInstanceAddr("i-0a1b2c3d4e5f60001", a)
	}); n != 0 {
		t.Errorf("%v allocs per run, want 0", n)
	}
}

func TestRegionOf(t *testing.T) {
	for az, want := range map[string]string{
		"us-east-1a": "us-east-1", "eu-west-1b": "eu-west-1", "us-gov-west-1a": "us-gov-west-1", "ap-southeast-3c": "ap-southeast-3",
		"us-west-2-lax-1a": "us-west-2", "us-east-1-wl1-bos-wlz-1": "us-east-1", "cn-north-1a": "cn-north-1", "": "", "weird": "", "1a": "",
	} {
		if got := regionOf(az); got != want {
			t.Errorf("regionOf(%q) = %q, want %q", az, got, want)
		}
	}
}

func TestLoadForms(t *testing.T) {
	one := `{"Reservations":[{"OwnerId":"1","Instances":[{"InstanceId":"i-1","Placement":{"AvailabilityZone":"us-east-1a"},"PrivateIpAddress":"10.0.0.1","PublicIpAddress":"198.51.100.1","VpcId":"vpc-1","SecurityGroups":[{"GroupId":"sg-1","GroupName":"g"}]}]}]}`
	two := `{"Reservations":[{"OwnerId":"2","Instances":[{"InstanceId":"i-2","PrivateIpAddress":"10.0.0.2"}]}]}`
	dup := `{"Reservations":[{"OwnerId":"3","Instances":[{"InstanceId":"i-1","PrivateIpAddress":"10.0.0.9","VpcId":"vpc-1"}]}]}`
	for name, doc := range map[string]string{
		"concatenated": one + "\n" + two,
		"array":        "[" + one + "," + two + "]",
		"array+doc":    "[" + one + "]\n" + two,
	} {
		inv, err := Load(strings.NewReader(doc))
		if err != nil || inv.Len() != 2 {
			t.Fatalf("%s: Load = %v, %v", name, inv.Len(), err)
		}
		// No NetworkInterfaces: one interface from the instance fields.
		in, ok := inv.ByAddr(netip.MustParseAddr("198.51.100.1"))
		if !ok || in.InstanceID != "i-1" || len(in.Details.NetworkInterfaces) != 1 ||
			in.Details.NetworkInterfaces[0].SecurityGroups[0].GroupID != "sg-1" || in.Details.NetworkInterfaces[0].PublicIP != "198.51.100.1" {
			t.Errorf("%s: ByAddr = %+v, %v", name, in, ok)
		}
	}
	// The last copy of an instance wins, in Load and in Merge.
	inv, err := Load(strings.NewReader(one + dup))
	if err != nil {
		t.Fatal(err)
	}
	if in, _ := inv.ByInstanceID("i-1"); in.AccountID != "3" || inv.Len() != 1 {
		t.Errorf("duplicate: %+v", in)
	}
	a, _ := Load(strings.NewReader(one))
	b, _ := Load(strings.NewReader(two + dup))
	m := Merge(a, nil, b)
	if m.Len() != 2 {
		t.Errorf("Merge Len = %d", m.Len())
	}
	if in, _ := m.ByInstanceID("i-1"); in.AccountID != "3" {
		t.Errorf("Merge kept %+v", in)
	}
	if _, ok := m.ByAddr(netip.MustParseAddr("198.51.100.1")); ok {
		t.Error("Merge kept the replaced instance's address")
	}
	if !slices.Equal(Merge().Instances(), nil) || Merge().Len() != 0 {
		t.Error("empty Merge")
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct{ doc, want string }{
		{`{"Reservations": [`, "decoding document 1"},
		{`{} {"Reservations": 5}`, "document 2: json: cannot unmarshal number"},
		{`{"Reservations":[{"Instances":[{}]}]}`, "document 1: Reservations[0].Instances[0].InstanceId: missing"},
		{`{"Reservations":[{"Instances":[{"InstanceId":"i-1","LaunchTime":"yesterday"}]}]}`, "Reservations[0].Instances[0].LaunchTime: parsing time"},
		{`{"Reservations":[{"Instances":[{"InstanceId":"i-1","PublicIpAddress":"2001:db8::1"}]}]}`, `Instances[0].PublicIpAddress: "2001:db8::1" is not an IPv4 address`},
		{`{"Reservations":[{},{"Instances":[{"InstanceId":"i-1"},{"InstanceId":"i-2","NetworkInterfaces":[{"PrivateIpAddresses":[{"PrivateIpAddress":"10.0.0.300"}]}]}]}]}`,
			"document 1: Reservations[1].Instances[1].NetworkInterfaces[0].PrivateIpAddresses[0].PrivateIpAddress: ParseAddr"},
		{`{"Reservations":[{"Instances":[{"InstanceId":"i-1","NetworkInterfaces":[{"Ipv6Addresses":[{"Ipv6Address":"10.0.0.1"}]}]}]}]}`, "Ipv6Addresses[0].Ipv6Address: \"10.0.0.1\" is not an IPv6 address"},
	}
	for _, tt := range tests {
		inv, err := Load(strings.NewReader(tt.doc))
		if err == nil || inv != nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%.50s) = %v, %v; want error containing %q", tt.doc, inv, err, tt.want)
		}
	}
	if _, err := LoadFile("testdata/missing.json"); err == nil {
		t.Error("missing file loaded")
	}
}

// go test ./inventory -run '^$' -bench BenchmarkByAddr -benchmem
func BenchmarkByAddr(b *testing.B) {
	inv := loadFixture(b)
	q := []netip.Addr{netip.MustParseAddr("54.210.10.20"), netip.MustParseAddr("10.0.3.30"), netip.MustParseAddr("192.0.2.1")}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		inv.ByAddr(q[i%len(q)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

// go test ./inventory -run '^$' -fuzz FuzzLoad -fuzztime 20s
func FuzzLoad(f *testing.F) {
	fix, err := os.ReadFile("testdata/describe-instances.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(fix))
	f.Add(`[{"Reservations":[{"OwnerId":"1","Instances":[{"InstanceId":"i-1","PrivateIpAddress":"10.0.0.1","Ipv6Address":"2001:db8::1"}]}]}]`)
	f.Add(`{"Images":[{"ImageId":"ami-1","Name":"n"}]}{"Reservations":[{"Instances":[{"InstanceId":"i-1","ImageId":"ami-1"}]}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		inv, err := Load(strings.NewReader(doc))
		if err != nil {
			return
		}
		for _, in := range inv.Instances() {
			if got, ok := inv.ByInstanceID(in.InstanceID); !ok || got != in {
				t.Fatalf("ByInstanceID(%q) = %v, %v", in.InstanceID, got, ok)
			}
			if !slices.IsSortedFunc(in.Addrs, netip.Addr.Compare) {
				t.Fatalf("Addrs not sorted: %v", in.Addrs)
			}
			for _, a := range in.Addrs {
				if !inv.IsInstanceAddr(in.InstanceID, a) {
					t.Fatalf("IsInstanceAddr(%s, %s) = false", in.InstanceID, a)
				}
				if got, ok := inv.ByAddr(a); ok && !inv.IsInstanceAddr(got.InstanceID, a) {
					t.Fatalf("ByAddr(%s) = %s, which does not hold it", a, got.InstanceID)
				}
			}
			if _, err := json.Marshal(in.Details); err != nil {
				t.Fatal(err)
			}
		}
	})
}
