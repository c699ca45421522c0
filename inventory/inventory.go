// Package inventory loads an EC2 instance inventory from the JSON that
// `aws ec2 describe-instances` prints, and maps instance ids, network
// interface ids and addresses back to instances, so that a flow log record
// or DNS query can be attributed to the instance behind it and a finding can
// carry GuardDuty's resource.instanceDetails.
//
// Several documents may be concatenated (one per region or account, as
// `cat *.json` gives) or wrapped in a JSON array. A document printed by
// `aws ec2 describe-images` ({"Images": [...]}) in the same stream supplies
// the images' descriptions (instanceDetails.imageDescription).
//
// An Inventory is immutable once loaded and safe for concurrent lookups,
// none of which allocates.
//
// Private addresses are unique only within a VPC, and the same public
// address can show up twice when documents were taken at different times:
// [Inventory.ByAddr] answers only for addresses held by exactly one
// instance; [Inventory.ByVPCAddr] resolves an address within one VPC.
package inventory

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/vigilsec/vigil/finding"
)

// Instance is one EC2 instance.
type Instance struct {
	AccountID       string // reservation owner
	Region          string // from the availability zone
	InstanceID      string
	VpcID           string
	SubnetID        string
	Name            string // the Name tag
	PlatformDetails string // e.g. "Linux/UNIX", "Windows"
	// Details is the instance in GuardDuty's resource.instanceDetails
	// shape: interfaces in device order with their private addresses,
	// public IP, IPv6 addresses and security groups; tags; instance
	// profile; launchTime in finding.TimeFormat. Platform is set only
	// for Windows, as EC2 (and GuardDuty) report it.
	Details finding.InstanceDetails
	// Addrs holds every private, public and IPv6 address of every
	// interface, sorted and without duplicates.
	Addrs []netip.Addr

	vpcAddrs []vpcAddr // every address with its interface's VPC
}

// Inventory indexes instances by id, interface and address.
type Inventory struct {
	instances []*Instance // sorted by InstanceID
	byID      map[string]*Instance
	byENI     map[string]*Instance
	byAddr    map[netip.Addr]*Instance // nil value: held by several instances
	byVPCAddr map[vpcAddr]*Instance    // nil value: ambiguous within the VPC
	images    map[string]string        // image id -> description
}

type vpcAddr struct {
	vpc string
	a   netip.Addr
}

// The describe-instances and describe-images output, as far as it is read.
// Field names are those of the EC2 API model (and the CLI's JSON output).
type (
	document struct {
		Reservations []reservation `json:"Reservations"`
		Images       []image       `json:"Images"`
	}
	image struct {
		ImageID     string `json:"ImageId"`
		Description string `json:"Description"`
		Name        string `json:"Name"`
	}
	reservation struct {
		ReservationID string     `json:"ReservationId"`
		OwnerID       string     `json:"OwnerId"`
		Instances     []instance `json:"Instances"`
	}
	instance struct {
		InstanceID         string                            `json:"InstanceId"`
		InstanceType       string                            `json:"InstanceType"`
		ImageID            string                            `json:"ImageId"`
		LaunchTime         string                            `json:"LaunchTime"`
		Placement          struct{ AvailabilityZone string } `json:"Placement"`
		State              struct{ Name string }             `json:"State"`
		PrivateIPAddress   string                            `json:"PrivateIpAddress"`
		PublicIPAddress    string                            `json:"PublicIpAddress"`
		PrivateDNSName     string                            `json:"PrivateDnsName"`
		PublicDNSName      string                            `json:"PublicDnsName"`
		Ipv6Address        string                            `json:"Ipv6Address"`
		VpcID              string                            `json:"VpcId"`
		SubnetID           string                            `json:"SubnetId"`
		Platform           string                            `json:"Platform"`
		PlatformDetails    string                            `json:"PlatformDetails"`
		OutpostArn         string                            `json:"OutpostArn"`
		IamInstanceProfile *struct{ Arn, Id string }         `json:"IamInstanceProfile"`
		Tags               []tag                             `json:"Tags"`
		SecurityGroups     []group                           `json:"SecurityGroups"`
		ProductCodes       []productCode                     `json:"ProductCodes"`
		NetworkInterfaces  []networkInterface                `json:"NetworkInterfaces"`
	}
	tag         struct{ Key, Value string }
	group       struct{ GroupId, GroupName string }
	productCode struct {
		ProductCodeID   string `json:"ProductCodeId"`
		ProductCodeType string `json:"ProductCodeType"`
	}
	association struct {
		PublicIP      string `json:"PublicIp"`
		PublicDNSName string `json:"PublicDnsName"`
	}
	networkInterface struct {
		NetworkInterfaceID string       `json:"NetworkInterfaceId"`
		PrivateIPAddress   string       `json:"PrivateIpAddress"`
		PrivateDNSName     string       `json:"PrivateDnsName"`
		Association        *association `json:"Association"`
		Attachment         *struct {
			DeviceIndex      int
			NetworkCardIndex int
		} `json:"Attachment"`
		PrivateIPAddresses []struct {
			PrivateIPAddress string       `json:"PrivateIpAddress"`
			PrivateDNSName   string       `json:"PrivateDnsName"`
			Primary          bool         `json:"Primary"`
			Association      *association `json:"Association"`
		} `json:"PrivateIpAddresses"`
		Ipv6Addresses []struct {
			Ipv6Address string `json:"Ipv6Address"`
		} `json:"Ipv6Addresses"`
		SubnetID string  `json:"SubnetId"`
		VpcID    string  `json:"VpcId"`
		Groups   []group `json:"Groups"`
		OwnerID  string  `json:"OwnerId"`
	}
)

// LoadFile loads the describe-instances output in path.
func LoadFile(path string) (*Inventory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loading inventory: %w", err)
	}
	defer f.Close()
	inv, err := Load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return inv, nil
}

// Load reads one or more describe-instances documents (concatenated, or in
// a JSON array) and describe-images documents. Errors name the document
// (1-based) and the field path, e.g.
// "document 2: Reservations[0].Instances[1].LaunchTime: ...". When an
// instance appears more than once, the last occurrence wins.
func Load(r io.Reader) (*Inventory, error) {
	dec := json.NewDecoder(r)
	var (
		insts  []*Instance
		images = make(map[string]string)
		errs   []error
		docN   int
	)
	handle := func(raw json.RawMessage) {
		docN++
		var doc document
		if err := json.Unmarshal(raw, &doc); err != nil {
			errs = append(errs, fmt.Errorf("document %d: %w", docN, err))
			return
		}
		for _, im := range doc.Images {
			if im.ImageID != "" {
				d := im.Description
				if d == "" {
					d = im.Name
				}
				images[im.ImageID] = d
			}
		}
		for ri, res := range doc.Reservations {
			for ii, in := range res.Instances {
				path := fmt.Sprintf("document %d: Reservations[%d].Instances[%d]", docN, ri, ii)
				inst, err := convert(res, in)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s.%w", path, err))
					continue
				}
				insts = append(insts, inst)
			}
		}
	}
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("decoding document %d: %w", docN+1, err)
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) > 0 && raw[0] == '[' {
			var arr []json.RawMessage
			if err := json.Unmarshal(raw, &arr); err != nil {
				return nil, fmt.Errorf("decoding document %d: %w", docN+1, err)
			}
			for _, d := range arr {
				handle(d)
			}
			continue
		}
		handle(raw)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("loading inventory: %w", errors.Join(errs...))
	}
	return build(insts, images), nil
}

// Merge combines inventories; for an instance present in several, the
// last inventory's copy wins. Image descriptions are shared.
func Merge(invs ...*Inventory) *Inventory {
	var insts []*Instance
	images := make(map[string]string)
	for _, inv := range invs {
		if inv == nil {
			continue
		}
		for _, in := range inv.instances {
			c := *in
			insts = append(insts, &c)
		}
		for k, v := range inv.images {
			images[k] = v
		}
	}
	return build(insts, images)
}

// build dedups instances (last wins), applies image descriptions and
// builds the indexes.
func build(insts []*Instance, images map[string]string) *Inventory {
	inv := &Inventory{
		byID:      make(map[string]*Instance, len(insts)),
		byENI:     make(map[string]*Instance),
		byAddr:    make(map[netip.Addr]*Instance),
		byVPCAddr: make(map[vpcAddr]*Instance),
		images:    images,
	}
	for _, in := range insts {
		inv.byID[in.InstanceID] = in
	}
	for _, in := range inv.byID {
		if d, ok := images[in.Details.ImageID]; ok && in.Details.ImageDescription == "" {
			in.Details.ImageDescription = d
		}
		inv.instances = append(inv.instances, in)
	}
	slices.SortFunc(inv.instances, func(a, b *Instance) int { return strings.Compare(a.InstanceID, b.InstanceID) })
	// Index in id order so that ambiguity handling is deterministic.
	for _, in := range inv.instances {
		for _, ni := range in.Details.NetworkInterfaces {
			if ni.NetworkInterfaceID != "" {
				inv.byENI[ni.NetworkInterfaceID] = in
			}
		}
		for _, a := range in.Addrs {
			index(inv.byAddr, a, in)
		}
		for _, va := range in.vpcAddrs {
			index(inv.byVPCAddr, va, in)
		}
	}
	return inv
}

// index maps k to in, or to nil when another instance already holds k.
func index[K comparable](m map[K]*Instance, k K, in *Instance) {
	if prev, ok := m[k]; ok && prev != in {
		m[k] = nil
		return
	}
	m[k] = in
}

// regionOf derives the region from an availability zone or Local/Wavelength
// zone name: us-east-1a, us-west-2-lax-1a and us-east-1-wl1-bos-wlz-1 are
// all in the region ending at the first number (us-east-1, us-west-2).
func regionOf(az string) string {
	parts := strings.Split(az, "-")
	for i, p := range parts {
		if p == "" || p[0] < '0' || p[0] > '9' {
			continue
		}
		n := 0
		for n < len(p) && '0' <= p[n] && p[n] <= '9' {
			n++
		}
		if i == 0 {
			return ""
		}
		return strings.Join(parts[:i], "-") + "-" + p[:n]
	}
	return ""
}

// parseAddr parses an address field; field names it in errors.
func parseAddr(field, s string, want6 bool) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%s: %w", field, err)
	}
	if a.Zone() != "" || a.Is4In6() || a.Is6() != want6 {
		return netip.Addr{}, fmt.Errorf("%s: %q is not an IPv%s address", field, s, map[bool]string{false: "4", true: "6"}[want6])
	}
	return a, nil
}

// convert turns one describe-instances instance into an Instance. The
// error starts with the failing field's path relative to the instance.
func convert(res reservation, in instance) (*Instance, error) {
	if in.InstanceID == "" {
		return nil, errors.New("InstanceId: missing")
	}
	d := finding.InstanceDetails{
		AvailabilityZone: in.Placement.AvailabilityZone,
		ImageID:          in.ImageID,
		InstanceID:       in.InstanceID,
		InstanceState:    in.State.Name,
		InstanceType:     in.InstanceType,
		OutpostArn:       in.OutpostArn,
		Platform:         in.Platform,
	}
	if in.LaunchTime != "" {
		t, err := time.Parse(time.RFC3339Nano, in.LaunchTime)
		if err != nil {
			return nil, fmt.Errorf("LaunchTime: %w", err)
		}
		d.LaunchTime = finding.FormatTime(t)
	}
	if p := in.IamInstanceProfile; p != nil && (p.Arn != "" || p.Id != "") {
		d.IamInstanceProfile = &finding.IamInstanceProfile{Arn: p.Arn, ID: p.Id}
	}
	for _, pc := range in.ProductCodes {
		d.ProductCodes = append(d.ProductCodes, finding.ProductCode{Code: pc.ProductCodeID, ProductType: pc.ProductCodeType})
	}
	inst := &Instance{
		AccountID:       res.OwnerID,
		Region:          regionOf(in.Placement.AvailabilityZone),
		InstanceID:      in.InstanceID,
		VpcID:           in.VpcID,
		SubnetID:        in.SubnetID,
		PlatformDetails: in.PlatformDetails,
	}
	for _, t := range in.Tags {
		d.Tags = append(d.Tags, finding.Tag{Key: t.Key, Value: t.Value})
		if t.Key == "Name" {
			inst.Name = t.Value
		}
	}
	slices.SortStableFunc(d.Tags, func(a, b finding.Tag) int { return strings.Compare(a.Key, b.Key) })

	nis := in.NetworkInterfaces
	if len(nis) == 0 && (in.PrivateIPAddress != "" || in.PublicIPAddress != "") {
		// No interface list (terminated instance, trimmed output): one
		// interface from the instance-level fields.
		ni := networkInterface{
			PrivateIPAddress: in.PrivateIPAddress, PrivateDNSName: in.PrivateDNSName,
			SubnetID: in.SubnetID, VpcID: in.VpcID, Groups: in.SecurityGroups,
		}
		if in.PublicIPAddress != "" {
			ni.Association = &association{PublicIP: in.PublicIPAddress, PublicDNSName: in.PublicDNSName}
		}
		if in.Ipv6Address != "" {
			ni.Ipv6Addresses = append(ni.Ipv6Addresses, struct {
				Ipv6Address string `json:"Ipv6Address"`
			}{in.Ipv6Address})
		}
		nis = []networkInterface{ni}
	}
	order := make([]int, len(nis))
	for i := range order {
		order[i] = i
	}
	devIndex := func(i int) (int, int) {
		if a := nis[i].Attachment; a != nil {
			return a.NetworkCardIndex, a.DeviceIndex
		}
		return 0, i
	}
	slices.SortStableFunc(order, func(x, y int) int {
		cx, dx := devIndex(x)
		cy, dy := devIndex(y)
		return cmp.Or(cmp.Compare(cx, cy), cmp.Compare(dx, dy))
	})

	var addrs []netip.Addr
	vpc := in.VpcID // of the interface being read
	add := func(field, s string, want6 bool) error {
		a, err := parseAddr(field, s, want6)
		if err != nil {
			return err
		}
		addrs = append(addrs, a)
		inst.vpcAddrs = append(inst.vpcAddrs, vpcAddr{vpc, a})
		return nil
	}
	// Instance-level fields first, so that errors name them rather than
	// an interface synthesised from them.
	for _, f := range []struct {
		name, val string
		v6        bool
	}{{"PrivateIpAddress", in.PrivateIPAddress, false}, {"PublicIpAddress", in.PublicIPAddress, false}, {"Ipv6Address", in.Ipv6Address, true}} {
		if f.val != "" {
			if err := add(f.name, f.val, f.v6); err != nil {
				return nil, err
			}
		}
	}
	for _, i := range order {
		ni := nis[i]
		vpc = cmp.Or(ni.VpcID, in.VpcID)
		f := fmt.Sprintf("NetworkInterfaces[%d]", i)
		out := finding.NetworkInterface{
			NetworkInterfaceID: ni.NetworkInterfaceID,
			PrivateDNSName:     ni.PrivateDNSName,
			PrivateIPAddress:   ni.PrivateIPAddress,
			SubnetID:           ni.SubnetID,
			VpcID:              ni.VpcID,
		}
		if ni.PrivateIPAddress != "" {
			if err := add(f+".PrivateIpAddress", ni.PrivateIPAddress, false); err != nil {
				return nil, err
			}
		}
		if ni.Association != nil && ni.Association.PublicIP != "" {
			if err := add(f+".Association.PublicIp", ni.Association.PublicIP, false); err != nil {
				return nil, err
			}
			out.PublicIP, out.PublicDNSName = ni.Association.PublicIP, ni.Association.PublicDNSName
		}
		for j, p := range ni.PrivateIPAddresses {
			pf := fmt.Sprintf("%s.PrivateIpAddresses[%d]", f, j)
			if err := add(pf+".PrivateIpAddress", p.PrivateIPAddress, false); err != nil {
				return nil, err
			}
			out.PrivateIPAddresses = append(out.PrivateIPAddresses, finding.PrivateIPAddress{
				PrivateDNSName: p.PrivateDNSName, PrivateIPAddress: p.PrivateIPAddress,
			})
			// Secondary private addresses can carry their own Elastic
			// IP; GuardDuty's interface shape has one publicIp, so
			// they are indexed but only the primary's is reported.
			if p.Association != nil && p.Association.PublicIP != "" {
				if err := add(pf+".Association.PublicIp", p.Association.PublicIP, false); err != nil {
					return nil, err
				}
				if p.Primary && out.PublicIP == "" {
					out.PublicIP, out.PublicDNSName = p.Association.PublicIP, p.Association.PublicDNSName
				}
			}
		}
		for j, v6 := range ni.Ipv6Addresses {
			if err := add(fmt.Sprintf("%s.Ipv6Addresses[%d].Ipv6Address", f, j), v6.Ipv6Address, true); err != nil {
				return nil, err
			}
			out.Ipv6Addresses = append(out.Ipv6Addresses, v6.Ipv6Address)
		}
		for _, g := range ni.Groups {
			out.SecurityGroups = append(out.SecurityGroups, finding.SecurityGroup{GroupID: g.GroupId, GroupName: g.GroupName})
		}
		d.NetworkInterfaces = append(d.NetworkInterfaces, out)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	inst.Addrs = slices.Compact(addrs)
	slices.SortFunc(inst.vpcAddrs, func(x, y vpcAddr) int { return cmp.Or(strings.Compare(x.vpc, y.vpc), x.a.Compare(y.a)) })
	inst.vpcAddrs = slices.Compact(inst.vpcAddrs)
	inst.Details = d
	return inst, nil
}

// Len returns the number of instances.
func (inv *Inventory) Len() int {
	if inv == nil {
		return 0
	}
	return len(inv.instances)
}

// Instances returns the instances sorted by id. The slice is shared and
// must not be modified.
func (inv *Inventory) Instances() []*Instance {
	if inv == nil {
		return nil
	}
	return inv.instances
}

// ByInstanceID returns the instance with the given id.
func (inv *Inventory) ByInstanceID(id string) (*Instance, bool) {
	if inv == nil {
		return nil, false
	}
	in, ok := inv.byID[id]
	return in, ok
}

// ByENI returns the instance an elastic network interface (eni-...) is
// attached to.
func (inv *Inventory) ByENI(eni string) (*Instance, bool) {
	if inv == nil {
		return nil, false
	}
	in, ok := inv.byENI[eni]
	return in, ok
}

// ByAddr returns the instance holding a (a private, public or IPv6 address
// of any of its interfaces; IPv4-mapped IPv6 is unmapped). It reports false
// when no instance or more than one holds a; use ByVPCAddr or ByENI to
// resolve private addresses reused across VPCs.
func (inv *Inventory) ByAddr(a netip.Addr) (*Instance, bool) {
	if inv == nil {
		return nil, false
	}
	in := inv.byAddr[a.Unmap().WithZone("")]
	return in, in != nil
}

// ByVPCAddr returns the instance holding a in the given VPC. It reports
// false when none does, or when several instances of the inventory claim
// a in that VPC (documents taken at different times).
func (inv *Inventory) ByVPCAddr(vpcID string, a netip.Addr) (*Instance, bool) {
	if inv == nil {
		return nil, false
	}
	in := inv.byVPCAddr[vpcAddr{vpcID, a.Unmap().WithZone("")}]
	return in, in != nil
}

// IsInstanceAddr reports whether a is one of the addresses of instance id.
func (inv *Inventory) IsInstanceAddr(id string, a netip.Addr) bool {
	in, ok := inv.ByInstanceID(id)
	if !ok {
		return false
	}
	_, found := slices.BinarySearchFunc(in.Addrs, a.Unmap().WithZone(""), netip.Addr.Compare)
	return found
}
