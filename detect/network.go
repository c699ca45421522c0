package detect

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/finding"
	"github.com/vigilsec/vigil/intel"
	"github.com/vigilsec/vigil/inventory"
)

// Finding types from VPC Flow Logs.
const (
	TypeCCActivityB          = "Backdoor:EC2/C&CActivity.B"
	TypeBitcoinToolB         = "CryptoCurrency:EC2/BitcoinTool.B"
	TypePortProbeUnprotected = "Recon:EC2/PortProbeUnprotectedPort"
	TypePortProbeEMR         = "Recon:EC2/PortProbeEMRUnprotectedPort"
	TypeTorClient            = "UnauthorizedAccess:EC2/TorClient"
	TypeTorRelay             = "UnauthorizedAccess:EC2/TorRelay"
	TypeEC2MaliciousCustom   = "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom"
	TypeBlackholeTraffic     = "Trojan:EC2/BlackholeTraffic"
	TypeDropPoint            = "Trojan:EC2/DropPoint"
)

// DefaultEMRPorts are ports of EMR web interfaces and services that must
// never be reachable from the internet: YARN ResourceManager (8088) and
// NodeManager (8042), HDFS NameNode (9870, 50070) and DataNode (9864, 50075),
// Spark history (18080), Livy (8998), Zeppelin (8890), HBase (16010),
// MapReduce job history (19888), the EMR web proxy (20888), Hue (8888) and
// HiveServer2 (10000).
var DefaultEMRPorts = []int{8042, 8088, 8888, 8890, 8998, 9864, 9870, 10000, 16010, 18080, 19888, 20888, 50070, 50075}

// Network detects threat-list matches and probes in VPC Flow Logs.
type Network struct {
	env          *Env
	ignored      []int
	emr          []int
	relayPeers   int
	relays       map[string]*relayState // resource → inbound Tor peers per local port
	maxInstances int
}

type relayState struct {
	Peers map[uint16][]netip.Addr `json:"peers"`
	Fired bool                    `json:"fired"`
}

// NewNetwork returns the flow-log detector.
func NewNetwork(env *Env, opts Options) *Network {
	n := &Network{env: env, ignored: opts.ProbeIgnoredPorts, emr: opts.EMRPorts, relayPeers: opts.TorRelayMinPeers, relays: map[string]*relayState{}, maxInstances: 100000}
	if n.ignored == nil {
		n.ignored = []int{80, 443}
	}
	if n.emr == nil {
		n.emr = DefaultEMRPorts
	}
	if n.relayPeers <= 0 {
		n.relayPeers = 3
	}
	return n
}

// Name implements Detector.
func (n *Network) Name() string { return "network" }

// conn is a flow record seen from the monitored side.
type conn struct {
	inst          *inventory.Instance
	local, remote netip.Addr
	lport, rport  uint16
	dir           string // finding.DirectionInbound, Outbound or Unknown
}

// Observe implements Detector.
func (n *Network) Observe(ev *event.Event, emit func(*finding.Finding)) {
	if ev.Kind != event.KindFlow {
		return
	}
	f := &ev.Flow
	if f.LogStatus == event.LogStatusNoData || f.LogStatus == event.LogStatusSkipData {
		return
	}
	var c conn
	if !n.env.classify(f, &c) {
		return
	}
	// Count each connection once: the record sent by its initiator.
	switch c.dir {
	case finding.DirectionInbound:
		if f.SrcAddr != c.remote {
			return
		}
	case finding.DirectionOutbound:
		if f.SrcAddr != c.local {
			return
		}
	}
	acct := f.AccountID
	if acct == "" && c.inst != nil {
		acct = c.inst.AccountID
	}
	if acct == "" {
		acct = n.env.Account
	}
	if n.env.trustedIP(acct, c.remote) {
		return
	}
	m, ok := n.env.threatIP(acct, c.remote)
	if !ok {
		return
	}
	switch m.Category {
	case intel.C2:
		n.emitConn(f, &c, m, TypeCCActivityB, SevHigh, emit)
	case intel.Mining:
		n.emitConn(f, &c, m, TypeBitcoinToolB, SevHigh, emit)
	case intel.Blackhole:
		n.emitConn(f, &c, m, TypeBlackholeTraffic, SevMedium, emit)
	case intel.DropPoint:
		n.emitConn(f, &c, m, TypeDropPoint, SevMedium, emit)
	case intel.Custom, intel.Malicious, intel.Malware, intel.Phishing:
		n.emitConn(f, &c, m, TypeEC2MaliciousCustom, SevMedium, emit)
	case intel.Scanner:
		n.probe(f, &c, m, emit)
	case intel.TorExit, intel.TorRelay:
		n.tor(f, &c, m, emit)
	}
}

func (n *Network) probe(f *event.Flow, c *conn, m intel.Match, emit func(*finding.Finding)) {
	if c.dir != finding.DirectionInbound || f.Action != event.ActionAccept || !f.HasPorts {
		return
	}
	if slices.Contains(n.ignored, int(c.lport)) {
		return
	}
	typ, sev := TypePortProbeUnprotected, SevLow
	switch {
	case slices.Contains(n.emr, int(c.lport)):
		typ, sev = TypePortProbeEMR, SevHigh
	case c.lport == 9200 || c.lport == 9300:
		sev = SevHigh
	}
	if !n.env.Enabled(typ) {
		return
	}
	account, region, rid := n.env.flowOwner(f, c)
	o := n.env.occurrence(typ, sev, account, region, f.End, rid, strconv.Itoa(int(c.lport)))
	o.Resource = n.env.flowResource(f, c)
	o.Service.ResourceRole = finding.RoleTarget
	o.Service.Action = finding.Action{ActionType: finding.ActionPortProbe, PortProbeAction: &finding.PortProbeAction{
		Blocked: false,
		PortProbeDetails: []finding.PortProbeDetail{{
			LocalPortDetails: portDetails(c.lport),
			LocalIPDetails:   localIP(c.local),
			RemoteIPDetails:  n.env.remoteIP(c.remote),
		}},
	}}
	o.Service.Evidence, o.Service.AdditionalInfo = threatEvidence(m)
	name := resourceName(o)
	if typ == TypePortProbeEMR {
		o.Title = fmt.Sprintf("Unprotected EMR-related port on EC2 instance %s is being probed.", name)
		o.Description = fmt.Sprintf("EMR-related sensitive port %d on EC2 instance %s is not blocked and is being probed by a known malicious host %s (list %s).", c.lport, name, c.remote, m.List)
	} else {
		o.Title = fmt.Sprintf("Unprotected port on EC2 instance %s is being probed.", name)
		o.Description = fmt.Sprintf("EC2 instance %s has an unprotected port %d (%s) which is being probed by a known malicious host %s (list %s). Close the port in the security group or network ACL unless it must be reachable from the internet.", name, c.lport, portName(c.lport), c.remote, m.List)
	}
	emit(o)
}

func (n *Network) tor(f *event.Flow, c *conn, m intel.Match, emit func(*finding.Finding)) {
	_, _, rid := n.env.flowOwner(f, c)
	switch c.dir {
	case finding.DirectionOutbound:
		// A relay talks to other relays: that is the relay finding's
		// business, not a client's.
		if st := n.relays[rid]; st != nil && st.Fired {
			return
		}
		n.emitConn(f, c, m, TypeTorClient, SevHigh, emit)
	case finding.DirectionInbound:
		// Tor exits reach services on behalf of Tor users; that alone does
		// not make the instance a relay. Relays receive connections from
		// other relays on their ORPort.
		if m.Category != intel.TorRelay || f.Action != event.ActionAccept {
			return
		}
		st := n.relays[rid]
		if st == nil {
			if len(n.relays) >= n.maxInstances {
				clear(n.relays)
			}
			st = &relayState{Peers: map[uint16][]netip.Addr{}}
			n.relays[rid] = st
		}
		peers := st.Peers[c.lport]
		if !slices.Contains(peers, c.remote) && len(peers) < 64 {
			peers = append(peers, c.remote)
			st.Peers[c.lport] = peers
		}
		if len(peers) < n.relayPeers {
			return
		}
		st.Fired = true
		n.emitConn(f, c, m, TypeTorRelay, SevHigh, emit)
	}
}

func (n *Network) emitConn(f *event.Flow, c *conn, m intel.Match, typ string, sev float64, emit func(*finding.Finding)) {
	if !n.env.Enabled(typ) {
		return
	}
	account, region, rid := n.env.flowOwner(f, c)
	key := []string{rid, c.remote.String()}
	if typ == TypeTorClient || typ == TypeTorRelay {
		key = key[:1]
	}
	o := n.env.occurrence(typ, sev, account, region, f.End, key...)
	o.Resource = n.env.flowResource(f, c)
	o.Service.ResourceRole = finding.RoleActor
	if c.dir == finding.DirectionInbound && typ == TypeEC2MaliciousCustom {
		o.Service.ResourceRole = finding.RoleTarget
	}
	o.Service.Action = finding.Action{ActionType: finding.ActionNetworkConnection, NetworkConnectionAction: &finding.NetworkConnectionAction{
		Blocked:               f.Action == event.ActionReject,
		ConnectionDirection:   c.dir,
		LocalPortDetails:      portDetails(c.lport),
		Protocol:              protoName(f.Protocol),
		LocalIPDetails:        localIP(c.local),
		LocalNetworkInterface: f.InterfaceID,
		RemoteIPDetails:       n.env.remoteIP(c.remote),
		RemotePortDetails:     portDetails(c.rport),
	}}
	o.Service.Evidence, o.Service.AdditionalInfo = threatEvidence(m)
	name := resourceName(o)
	switch typ {
	case TypeCCActivityB:
		o.Title = fmt.Sprintf("EC2 instance %s is communicating with a Command & Control server.", name)
		o.Description = fmt.Sprintf("EC2 instance %s is communicating with %s, an IP address on the command and control list %s. The instance may be compromised and under an attacker's control.", name, c.remote, m.List)
	case TypeBitcoinToolB:
		o.Title = fmt.Sprintf("EC2 instance %s is communicating with Bitcoin-related IP address.", name)
		o.Description = fmt.Sprintf("EC2 instance %s is communicating with %s, an IP address associated with cryptocurrency mining (list %s). Unless the instance is meant to mine, it may be compromised.", name, c.remote, m.List)
	case TypeBlackholeTraffic:
		o.Title = fmt.Sprintf("EC2 instance %s is attempting to communicate with a black hole IP address.", name)
		o.Description = fmt.Sprintf("EC2 instance %s is attempting to communicate with %s, a black hole (sinkhole) address on list %s.", name, c.remote, m.List)
	case TypeDropPoint:
		o.Title = fmt.Sprintf("EC2 instance %s is communicating with a drop point IP address.", name)
		o.Description = fmt.Sprintf("EC2 instance %s is communicating with %s, an address known to hold stolen credentials or data (list %s).", name, c.remote, m.List)
	case TypeEC2MaliciousCustom:
		o.Title = fmt.Sprintf("EC2 instance %s is communicating with a disallowed IP address.", name)
		o.Description = fmt.Sprintf("EC2 instance %s is communicating with %s, an IP address on the custom threat list %s.", name, c.remote, m.List)
	case TypeTorClient:
		o.Title = fmt.Sprintf("EC2 instance %s is communicating with Tor Entry node.", name)
		o.Description = fmt.Sprintf("EC2 instance %s is communicating with %s on the Tor anonymizing network (list %s). Tor can hide what the instance is doing and with whom.", name, c.remote, m.List)
	case TypeTorRelay:
		o.Title = fmt.Sprintf("EC2 instance %s is communicating with Tor Relay node.", name)
		o.Description = fmt.Sprintf("EC2 instance %s accepts connections on port %d from Tor relays (latest %s, list %s): it appears to act as a Tor relay.", name, c.lport, c.remote, m.List)
	}
	emit(o)
}

// Snapshot implements Stateful.
func (n *Network) Snapshot() ([]byte, error) { return json.Marshal(n.relays) }

// Restore implements Stateful.
func (n *Network) Restore(b []byte) error {
	m := map[string]*relayState{}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("restoring network detector: %w", err)
	}
	n.relays = m
	return nil
}

// classify finds the monitored (local) and remote ends of f and the
// direction of the connection. It returns false when there is no public
// remote end.
func (e *Env) classify(f *event.Flow, c *conn) bool {
	src, dst := f.SrcAddr.Unmap(), f.DstAddr.Unmap()
	if !src.IsValid() || !dst.IsValid() {
		return false
	}
	inv := e.Inventory
	if inv != nil {
		if f.InstanceID != "" {
			c.inst, _ = inv.ByInstanceID(f.InstanceID)
		}
		if c.inst == nil && f.InterfaceID != "" {
			c.inst, _ = inv.ByENI(f.InterfaceID)
		}
	}
	switch {
	case c.inst != nil && inv.IsInstanceAddr(c.inst.InstanceID, src):
		c.local, c.remote, c.lport, c.rport = src, dst, f.SrcPort, f.DstPort
	case c.inst != nil && inv.IsInstanceAddr(c.inst.InstanceID, dst):
		c.local, c.remote, c.lport, c.rport = dst, src, f.DstPort, f.SrcPort
	case !public(src) && public(dst):
		c.local, c.remote, c.lport, c.rport = src, dst, f.SrcPort, f.DstPort
	case public(src) && !public(dst):
		c.local, c.remote, c.lport, c.rport = dst, src, f.DstPort, f.SrcPort
	case public(src) && public(dst) && inv != nil:
		if i, ok := inv.ByAddr(src); ok {
			c.inst = i
			c.local, c.remote, c.lport, c.rport = src, dst, f.SrcPort, f.DstPort
		} else if i, ok := inv.ByAddr(dst); ok {
			c.inst = i
			c.local, c.remote, c.lport, c.rport = dst, src, f.DstPort, f.SrcPort
		} else {
			return false
		}
	default:
		return false
	}
	if !public(c.remote) {
		return false
	}
	if c.inst == nil && inv != nil {
		if f.VPCID != "" {
			c.inst, _ = inv.ByVPCAddr(f.VPCID, c.local)
		}
		if c.inst == nil {
			c.inst, _ = inv.ByAddr(c.local)
		}
	}
	c.dir = direction(f, c)
	return true
}

// direction tells who opened the connection. TCP flags decide when they are
// unambiguous (a lone SYN is the initiator's, a lone SYN-ACK the
// responder's); otherwise the end on a service port is the server.
func direction(f *event.Flow, c *conn) string {
	const syn, ack = 0x02, 0x10
	srcIsLocal := f.SrcAddr.Unmap() == c.local
	if f.Protocol == event.ProtoTCP && f.TCPFlags != 0 {
		switch {
		case f.TCPFlags&(syn|ack) == syn:
			return initiator(srcIsLocal)
		case f.TCPFlags == syn|ack:
			return initiator(!srcIsLocal)
		}
	}
	if !f.HasPorts || (f.Protocol != event.ProtoTCP && f.Protocol != event.ProtoUDP && f.Protocol != 132) {
		return finding.DirectionUnknown
	}
	ls, rs := servicePort(c.lport), servicePort(c.rport)
	switch {
	case ls && !rs:
		return finding.DirectionInbound
	case rs && !ls:
		return finding.DirectionOutbound
	case c.lport < c.rport:
		return finding.DirectionInbound
	case c.rport < c.lport:
		return finding.DirectionOutbound
	}
	return finding.DirectionUnknown
}

func initiator(local bool) string {
	if local {
		return finding.DirectionOutbound
	}
	return finding.DirectionInbound
}

// servicePort reports whether p is a port servers listen on: the system
// range, or a well-known higher port.
func servicePort(p uint16) bool {
	if p < 1024 {
		return true
	}
	_, ok := highServicePorts[p]
	return ok
}

var highServicePorts = map[uint16]struct{}{
	1433: {}, 1521: {}, 2049: {}, 2375: {}, 2376: {}, 3000: {}, 3306: {}, 3333: {}, 3389: {}, 4444: {},
	5432: {}, 5900: {}, 5985: {}, 5986: {}, 6379: {}, 6443: {}, 7001: {}, 8000: {}, 8008: {}, 8042: {},
	8080: {}, 8088: {}, 8443: {}, 8888: {}, 8890: {}, 8998: {}, 9000: {}, 9001: {}, 9030: {}, 9042: {},
	9090: {}, 9200: {}, 9300: {}, 9864: {}, 9870: {}, 10000: {}, 11211: {}, 14444: {}, 16010: {},
	18080: {}, 19888: {}, 20888: {}, 27017: {}, 45700: {}, 50070: {}, 50075: {},
}

var portNames = map[uint16]string{
	20: "FTP-DATA", 21: "FTP", 22: "SSH", 23: "TELNET", 25: "SMTP", 53: "DNS", 80: "HTTP", 110: "POP3",
	123: "NTP", 143: "IMAP", 389: "LDAP", 443: "HTTPS", 445: "SMB", 465: "SMTPS", 587: "SMTP", 636: "LDAPS",
	853: "DNS-over-TLS", 993: "IMAPS", 995: "POP3S", 1433: "MSSQL", 1521: "ORACLE", 2049: "NFS",
	2375: "DOCKER", 3306: "MYSQL", 3389: "RDP", 5432: "POSTGRESQL", 5900: "VNC", 5985: "WINRM",
	5986: "WINRM", 6379: "REDIS", 8080: "HTTP", 8088: "YARN", 8443: "HTTPS", 9001: "TOR", 9200: "ELASTICSEARCH",
	9300: "ELASTICSEARCH", 11211: "MEMCACHED", 27017: "MONGODB",
}

func portName(p uint16) string {
	if n, ok := portNames[p]; ok {
		return n
	}
	return "Unknown"
}

func portDetails(p uint16) *finding.PortDetails {
	return &finding.PortDetails{Port: int(p), PortName: portName(p)}
}

func protoName(p uint8) string {
	switch p {
	case event.ProtoTCP:
		return "TCP"
	case event.ProtoUDP:
		return "UDP"
	case event.ProtoICMP:
		return "ICMP"
	case event.ProtoICMPv6:
		return "ICMPV6"
	case event.ProtoIGMP:
		return "IGMP"
	case 132:
		return "SCTP"
	}
	return "Unknown"
}

// flowOwner returns the account, region and resource key of a flow.
func (e *Env) flowOwner(f *event.Flow, c *conn) (account, region, rid string) {
	account, region = f.AccountID, f.Region
	if c.inst != nil {
		if account == "" {
			account = c.inst.AccountID
		}
		if region == "" {
			region = c.inst.Region
		}
		rid = c.inst.InstanceID
	}
	if account == "" {
		account = e.Account
	}
	switch {
	case rid != "":
	case f.InstanceID != "":
		rid = f.InstanceID
	case f.InterfaceID != "":
		rid = f.InterfaceID
	default:
		rid = c.local.String()
	}
	return account, e.region(region), rid
}

// flowResource describes the instance behind a flow, or its network
// interface when the instance is unknown.
func (e *Env) flowResource(f *event.Flow, c *conn) finding.Resource {
	if c.inst != nil {
		d := c.inst.Details
		return finding.Resource{ResourceType: finding.ResourceInstance, InstanceDetails: &d}
	}
	ni := finding.NetworkInterface{NetworkInterfaceID: f.InterfaceID, VpcID: f.VPCID, SubnetID: f.SubnetID}
	if c.local.Is4() {
		ni.PrivateIPAddress = c.local.String()
	} else {
		ni.Ipv6Addresses = []string{c.local.String()}
	}
	d := &finding.InstanceDetails{InstanceID: f.InstanceID, NetworkInterfaces: []finding.NetworkInterface{ni}}
	if f.AZID != "" {
		d.AvailabilityZone = f.AZID
	}
	return finding.Resource{ResourceType: finding.ResourceInstance, InstanceDetails: d}
}

// resourceName is how titles name the resource: the instance id (with its
// Name tag), else the network interface, else the address.
func resourceName(o *finding.Finding) string {
	d := o.Resource.InstanceDetails
	if d == nil {
		return "unknown"
	}
	name := ""
	for _, t := range d.Tags {
		if t.Key == "Name" {
			name = t.Value
		}
	}
	switch {
	case d.InstanceID != "" && name != "":
		return d.InstanceID + " (" + name + ")"
	case d.InstanceID != "":
		return d.InstanceID
	case len(d.NetworkInterfaces) > 0 && d.NetworkInterfaces[0].NetworkInterfaceID != "":
		return "with network interface " + d.NetworkInterfaces[0].NetworkInterfaceID
	case len(d.NetworkInterfaces) > 0:
		return "at " + d.NetworkInterfaces[0].PrivateIPAddress
	}
	return "unknown"
}
