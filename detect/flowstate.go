package detect

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/finding"
)

// Finding types of the stateful flow-log detector ([FlowState]).
const (
	TypePortscan      = "Recon:EC2/Portscan"
	TypePortSweep     = "Impact:EC2/PortSweep"
	TypeSSHBruteForce = "UnauthorizedAccess:EC2/SSHBruteForce"
	TypeRDPBruteForce = "UnauthorizedAccess:EC2/RDPBruteForce"
	TypeWinRMBrute    = "Impact:EC2/WinRMBruteForce"
)

// Defaults of [FlowState]. [FlowStateConfig] overrides them; its zero
// fields mean these values.
const (
	// DefaultFlowWindow is the event-time sliding window of every count.
	DefaultFlowWindow = 5 * time.Minute
	// DefaultPortscanPorts distinct ports of one remote host make a port
	// scan (at most maxScanPorts).
	DefaultPortscanPorts = 25
	// DefaultPortSweepHosts distinct public hosts on one port make a port
	// sweep (at most maxSweepHosts).
	DefaultPortSweepHosts = 50
	// DefaultBruteForceAttempts connection attempts make a brute-force
	// attack (at most maxBruteAttempts).
	DefaultBruteForceAttempts = 20
	// DefaultBruteForceMaxPackets: a flow record with more packets from the
	// initiator is a session, not a login attempt, and is not counted.
	DefaultBruteForceMaxPackets = 30
	// DefaultFlowStateMaxKeys caps the keys each of the three tables
	// (port scan, port sweep, brute force) tracks.
	DefaultFlowStateMaxKeys = 200000
	// maxFlowOwners caps the distinct resources (instances, interfaces)
	// tracked; past it, all state is dropped and counted as evicted.
	maxFlowOwners = 65536
)

// Capacities of the per-key windows: thresholds above them are clamped.
const (
	maxScanPorts     = 32
	maxSweepHosts    = 64
	maxBruteAttempts = 32
)

// FlowStateConfig tunes [FlowState]. Zero fields mean the defaults.
type FlowStateConfig struct {
	Window               time.Duration
	PortscanPorts        int
	PortSweepHosts       int
	BruteForceAttempts   int
	BruteForceMaxPackets int64
	MaxKeys              int
}

// bruteClass is the service a brute-force finding is about.
type bruteClass uint8

const (
	bruteNone bruteClass = iota
	bruteSSH
	bruteRDP
	bruteWinRM
)

func bruteClassOf(port uint16) bruteClass {
	switch port {
	case 22:
		return bruteSSH
	case 3389:
		return bruteRDP
	case 5985, 5986:
		return bruteWinRM
	}
	return bruteNone
}

func (b bruteClass) typ() string {
	switch b {
	case bruteSSH:
		return TypeSSHBruteForce
	case bruteRDP:
		return TypeRDPBruteForce
	case bruteWinRM:
		return TypeWinRMBrute
	}
	return ""
}

func (b bruteClass) service() string {
	switch b {
	case bruteSSH:
		return "SSH"
	case bruteRDP:
		return "RDP"
	case bruteWinRM:
		return "WinRM"
	}
	return ""
}

// FlowState detects behaviour that shows only over many flow records: port
// scans, port sweeps and SSH, RDP and WinRM brute force. Every count runs
// over an event-time sliding window (flow end times, never the wall clock),
// so replaying logs reproduces the same findings.
//
// Memory is bounded: each table holds at most MaxKeys keys in a slab
// recycled clock-wise (oldest slot first); a slot whose window has expired
// is reused silently, a live one is evicted and counted ([FlowState.Evictions]).
// Records that touch an existing key, or that no detection watches, do not
// allocate.
//
// After a finding fires for a key the key's window restarts: each further
// occurrence (same finding id) needs another full threshold of attempts,
// ports or hosts within the window. service.count therefore counts bursts
// of at least the threshold, and count × threshold never exceeds the
// activity seen.
type FlowState struct {
	env         *Env
	window      uint32 // seconds
	scanPorts   int
	sweepHosts  int
	bruteN      int
	bruteMaxPkt int64

	owners    map[flowOwnerKey]uint32
	ownerList []flowOwnerKey
	watermark uint32 // latest event time seen, in Unix seconds
	dropped   uint64 // keys lost to the owner cap

	scan  slab[scanKey, scanVal]
	sweep slab[sweepKey, sweepVal]
	brute slab[bruteKey, bruteVal]
}

// flowOwnerKey identifies the resource a flow belongs to: flowOwner's
// result without allocating (Local is set only when there is no resource
// id, where flowOwner would format the address).
type flowOwnerKey struct {
	Account string     `json:"account"`
	Region  string     `json:"region"`
	RID     string     `json:"rid,omitempty"`
	Local   netip.Addr `json:"local,omitzero"`
}

type scanKey struct {
	owner  uint32
	remote [16]byte
}

type scanVal struct {
	ports [maxScanPorts]uint16
	seen  [maxScanPorts]uint32
	n     uint8
}

type sweepKey struct {
	owner uint32
	port  uint16
}

type sweepVal struct {
	hosts [maxSweepHosts]uint32 // hashes of the remote addresses
	seen  [maxSweepHosts]uint32
	n     uint8
}

type bruteKey struct {
	owner  uint32
	class  bruteClass
	actor  bool
	remote [16]byte // zero for the actor key
}

type bruteVal struct {
	conns [maxBruteAttempts]uint32
	seen  [maxBruteAttempts]uint32
	n     uint8
}

// NewFlowState returns the stateful flow-log detector with the defaults.
func NewFlowState(env *Env) *FlowState { return NewFlowStateConfig(env, FlowStateConfig{}) }

// NewFlowStateConfig returns the stateful flow-log detector tuned by cfg.
func NewFlowStateConfig(env *Env, cfg FlowStateConfig) *FlowState {
	def := func(v, d, limit int) int {
		if v <= 0 {
			v = d
		}
		return min(v, limit)
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultFlowWindow
	}
	if cfg.BruteForceMaxPackets <= 0 {
		cfg.BruteForceMaxPackets = DefaultBruteForceMaxPackets
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultFlowStateMaxKeys
	}
	s := &FlowState{
		env:         env,
		window:      uint32(max(cfg.Window/time.Second, 1)),
		scanPorts:   def(cfg.PortscanPorts, DefaultPortscanPorts, maxScanPorts),
		sweepHosts:  def(cfg.PortSweepHosts, DefaultPortSweepHosts, maxSweepHosts),
		bruteN:      def(cfg.BruteForceAttempts, DefaultBruteForceAttempts, maxBruteAttempts),
		bruteMaxPkt: cfg.BruteForceMaxPackets,
		owners:      map[flowOwnerKey]uint32{},
	}
	s.scan.init(cfg.MaxKeys)
	s.sweep.init(cfg.MaxKeys)
	s.brute.init(cfg.MaxKeys)
	return s
}

// Name implements Detector.
func (s *FlowState) Name() string { return "flowstate" }

// Evictions returns how many live keys were dropped to keep memory bounded.
func (s *FlowState) Evictions() uint64 {
	return s.scan.evicted + s.sweep.evicted + s.brute.evicted + s.dropped
}

// Keys returns the number of keys tracked, all tables together.
func (s *FlowState) Keys() int { return len(s.scan.idx) + len(s.sweep.idx) + len(s.brute.idx) }

// Observe implements Detector.
func (s *FlowState) Observe(ev *event.Event, emit func(*finding.Finding)) {
	if ev.Kind != event.KindFlow {
		return
	}
	f := &ev.Flow
	if f.LogStatus == event.LogStatusNoData || f.LogStatus == event.LogStatusSkipData || !f.HasPorts {
		return
	}
	if f.Protocol != event.ProtoTCP && f.Protocol != event.ProtoUDP && f.Protocol != 132 {
		return
	}
	var c conn
	if !s.env.classify(f, &c) {
		return
	}
	t := f.End
	if t.IsZero() {
		t = f.Start
	}
	now := unixSeconds(t)
	if now > s.watermark {
		s.watermark = now
	}
	switch c.dir {
	case finding.DirectionInbound:
		// Only brute force against the instance is inbound: the attempt
		// record (sent by the remote) to a watched port, accepted, small.
		class := bruteClassOf(c.lport)
		if class == bruteNone || f.SrcAddr.Unmap() != c.remote || f.Protocol != event.ProtoTCP ||
			f.Action != event.ActionAccept || f.Packets > s.bruteMaxPkt || !s.env.Enabled(class.typ()) {
			return
		}
		acct := s.account(f, &c)
		if s.env.trustedIP(acct, c.remote) {
			return
		}
		o := s.owner(f, &c, acct)
		v := s.brute.get(bruteKey{owner: o, class: class, remote: c.remote.As16()}, now, s.watermark, s.window)
		if v.add(uint32(c.rport)|uint32(c.lport)<<16, now, s.bruteN, s.window) {
			s.emitBrute(f, &c, class, false, emit)
		}
	case finding.DirectionOutbound:
		if f.SrcAddr.Unmap() != c.local {
			return
		}
		class := bruteClassOf(c.rport)
		scan, sweep := s.env.Enabled(TypePortscan), s.env.Enabled(TypePortSweep)
		brute := class != bruteNone && f.Protocol == event.ProtoTCP && f.Packets <= s.bruteMaxPkt && s.env.Enabled(class.typ())
		if !scan && !sweep && !brute {
			return
		}
		acct := s.account(f, &c)
		if s.env.trustedIP(acct, c.remote) {
			return
		}
		o := s.owner(f, &c, acct)
		if scan {
			v := s.scan.get(scanKey{owner: o, remote: c.remote.As16()}, now, s.watermark, s.window)
			if v.add(c.rport, now, s.scanPorts, s.window) {
				s.emitScan(f, &c, TypePortscan, emit)
			}
		}
		if sweep {
			v := s.sweep.get(sweepKey{owner: o, port: c.rport}, now, s.watermark, s.window)
			if v.add(addrHash(c.remote), now, s.sweepHosts, s.window) {
				s.emitScan(f, &c, TypePortSweep, emit)
			}
		}
		if brute {
			v := s.brute.get(bruteKey{owner: o, class: class, actor: true}, now, s.watermark, s.window)
			if v.add(addrHash(c.remote)^uint32(c.lport)*2654435761, now, s.bruteN, s.window) {
				s.emitBrute(f, &c, class, true, emit)
			}
		}
	}
}

func unixSeconds(t time.Time) uint32 {
	u := t.Unix()
	switch {
	case u < 0:
		return 0
	case u > 1<<32-1:
		return 1<<32 - 1
	}
	return uint32(u)
}

// addrHash is FNV-1a over the 16-byte form of a: stable across processes,
// so snapshots restore.
func addrHash(a netip.Addr) uint32 {
	b := a.As16()
	h := uint32(2166136261)
	for _, x := range b {
		h ^= uint32(x)
		h *= 16777619
	}
	return h
}

func (s *FlowState) account(f *event.Flow, c *conn) string {
	acct := f.AccountID
	if acct == "" && c.inst != nil {
		acct = c.inst.AccountID
	}
	if acct == "" {
		acct = s.env.Account
	}
	return acct
}

// owner interns the flow's resource, as flowOwner names it.
func (s *FlowState) owner(f *event.Flow, c *conn, acct string) uint32 {
	k := flowOwnerKey{Account: acct, Region: f.Region}
	if c.inst != nil {
		if k.Region == "" {
			k.Region = c.inst.Region
		}
		k.RID = c.inst.InstanceID
	}
	if k.Region == "" {
		k.Region = s.env.Region // e.region's fallbacks, without copying
	}
	switch {
	case k.RID != "":
	case f.InstanceID != "":
		k.RID = f.InstanceID
	case f.InterfaceID != "":
		k.RID = f.InterfaceID
	default:
		k.Local = c.local
	}
	if o, ok := s.owners[k]; ok {
		return o
	}
	if len(s.ownerList) >= maxFlowOwners {
		s.dropped += uint64(s.Keys())
		s.scan.reset()
		s.sweep.reset()
		s.brute.reset()
		clear(s.owners)
		s.ownerList = s.ownerList[:0]
	}
	k.Account, k.Region, k.RID = strings.Clone(k.Account), strings.Clone(k.Region), strings.Clone(k.RID)
	o := uint32(len(s.ownerList))
	s.ownerList = append(s.ownerList, k)
	s.owners[k] = o
	return o
}

// add records a connection to port at t and reports whether the key now
// holds threshold distinct ports within the window (and restarts it).
func (v *scanVal) add(port uint16, t uint32, threshold int, window uint32) bool {
	return addDistinct(v.ports[:], v.seen[:], &v.n, port, t, threshold, window)
}

// add records a connection to host (a hash) at t, as scanVal.add.
func (v *sweepVal) add(host uint32, t uint32, threshold int, window uint32) bool {
	return addDistinct(v.hosts[:], v.seen[:], &v.n, host, t, threshold, window)
}

// add records a connection attempt (conn identifies it: the initiator's
// port, with the target's address for the actor) at t, as scanVal.add.
// Repeated records of one connection count once.
func (v *bruteVal) add(conn uint32, t uint32, threshold int, window uint32) bool {
	return addDistinct(v.conns[:], v.seen[:], &v.n, conn, t, threshold, window)
}

// addDistinct adds id seen at t to the first *n entries of ids and seen
// (full-capacity arrays), after dropping entries a window or more older
// than the latest time. It reports whether threshold distinct ids now lie
// within the window; if so the set restarts empty. A full set replaces its
// oldest entry. The result does not depend on arrival order as long as
// the set does not overflow.
func addDistinct[T comparable](ids []T, seen []uint32, n *uint8, id T, t uint32, threshold int, window uint32) bool {
	k, stale := expire(seen[:*n], ids[:*n], t, window)
	*n = uint8(k)
	if stale {
		return false
	}
	for i := range k {
		if ids[i] == id {
			seen[i] = max(seen[i], t)
			return false
		}
	}
	if k < len(ids) {
		ids[k], seen[k] = id, t
		k++
	} else if i := oldest(seen[:k]); seen[i] < t {
		ids[i], seen[i] = id, t
	}
	if k >= threshold {
		*n = 0
		return true
	}
	*n = uint8(k)
	return false
}

// expire drops the entries seen a window or more before the latest of t and
// the entries' own times, keeping ids and seen aligned. It returns the new
// length, and whether t itself is too old to join the window.
func expire[T any](seen []uint32, ids []T, t, window uint32) (int, bool) {
	latest := t
	for _, x := range seen {
		latest = max(latest, x)
	}
	n := 0
	for i, x := range seen {
		if latest-x < window {
			seen[n], ids[n] = x, ids[i]
			n++
		}
	}
	return n, latest-t >= window
}

func oldest(seen []uint32) int {
	j := 0
	for i, x := range seen {
		if x < seen[j] {
			j = i
		}
	}
	return j
}

// slab is a bounded table of keys and fixed-size values. Slots are
// recycled clock-wise: the hand points at the least recently created slot;
// an expired slot (no activity for a window before the watermark) is reused
// silently, a live one is skipped a few times, then evicted and counted.
type slab[K comparable, V any] struct {
	idx     map[K]int32
	keys    []K
	vals    []V
	last    []uint32
	hand    int
	max     int
	evicted uint64
}

func (s *slab[K, V]) init(maxKeys int) {
	s.idx = map[K]int32{}
	s.max = maxKeys
}

func (s *slab[K, V]) reset() {
	clear(s.idx)
	s.keys, s.vals, s.last, s.hand = s.keys[:0], s.vals[:0], s.last[:0], 0
}

// get returns the value of k, creating a zero one.
func (s *slab[K, V]) get(k K, now, watermark, window uint32) *V {
	if i, ok := s.idx[k]; ok {
		s.last[i] = max(s.last[i], now)
		return &s.vals[i]
	}
	if len(s.keys) < s.max {
		var zero V
		s.keys, s.vals, s.last = append(s.keys, k), append(s.vals, zero), append(s.last, now)
		i := len(s.keys) - 1
		s.idx[k] = int32(i)
		return &s.vals[i]
	}
	const probes = 8
	i := s.hand
	for p := range probes {
		i = (s.hand + p) % len(s.keys)
		if watermark-min(watermark, s.last[i]) >= window {
			break // expired
		}
		if p == probes-1 {
			i = s.hand // all live: evict the oldest created
			s.evicted++
		}
	}
	s.hand = (i + 1) % len(s.keys)
	delete(s.idx, s.keys[i])
	var zero V
	s.keys[i], s.vals[i], s.last[i] = k, zero, now
	s.idx[k] = int32(i)
	return &s.vals[i]
}

// ordered returns the slot indexes from the hand on: oldest created first.
func (s *slab[K, V]) ordered(yield func(int) bool) {
	n := len(s.keys)
	for j := range n {
		if !yield((s.hand + j) % n) {
			return
		}
	}
}

func (s *FlowState) emitScan(f *event.Flow, c *conn, typ string, emit func(*finding.Finding)) {
	account, region, rid := s.env.flowOwner(f, c)
	var o *finding.Finding
	if typ == TypePortscan {
		o = s.env.occurrence(typ, SevMedium, account, region, f.End, rid, c.remote.String())
	} else {
		o = s.env.occurrence(typ, SevHigh, account, region, f.End, rid, strconv.Itoa(int(c.rport)))
	}
	o.Resource = s.env.flowResource(f, c)
	o.Service.ResourceRole = finding.RoleActor
	o.Service.Action = s.connAction(f, c)
	name := resourceName(o)
	mins := s.windowText()
	if typ == TypePortscan {
		o.Title = fmt.Sprintf("EC2 instance %s is performing outbound port scans against remote host %s.", name, c.remote)
		o.Description = fmt.Sprintf("EC2 instance %s opened connections to at least %d distinct ports of remote host %s within %s (latest port %d, %s). The instance may be compromised and used to look for services to attack, or someone on it is running a scanner.", name, s.scanPorts, c.remote, mins, c.rport, portName(c.rport))
	} else {
		o.Title = fmt.Sprintf("EC2 instance %s is performing a port sweep on port %d.", name, c.rport)
		o.Description = fmt.Sprintf("EC2 instance %s connected to port %d (%s) on at least %d distinct public hosts within %s (latest %s). Sweeping one port across many hosts is how worms and attackers look for vulnerable services: the instance may be compromised.", name, c.rport, portName(c.rport), s.sweepHosts, mins, c.remote)
	}
	emit(o)
}

func (s *FlowState) emitBrute(f *event.Flow, c *conn, class bruteClass, actor bool, emit func(*finding.Finding)) {
	account, region, rid := s.env.flowOwner(f, c)
	typ := class.typ()
	var o *finding.Finding
	if actor {
		o = s.env.occurrence(typ, SevHigh, account, region, f.End, rid, finding.RoleActor)
	} else {
		o = s.env.occurrence(typ, SevLow, account, region, f.End, rid, finding.RoleTarget, c.remote.String())
	}
	o.Resource = s.env.flowResource(f, c)
	o.Service.Action = s.connAction(f, c)
	name := resourceName(o)
	svc := class.service()
	port := c.lport
	if actor {
		port = c.rport
	}
	if actor {
		o.Service.ResourceRole = finding.RoleActor
		o.Title = fmt.Sprintf("%s is performing %s brute force attacks against %s.", name, svc, c.remote)
		o.Description = fmt.Sprintf("EC2 instance %s made at least %d %s connection attempts (port %d) to remote hosts within %s, most recently to %s. Brute force from your instance means it is probably compromised, or someone on it runs an attack tool.", name, s.bruteN, svc, port, s.windowText(), c.remote)
	} else {
		o.Service.ResourceRole = finding.RoleTarget
		o.Title = fmt.Sprintf("%s is performing %s brute force attacks against %s.", c.remote, svc, name)
		o.Description = fmt.Sprintf("%s made at least %d %s connection attempts to EC2 instance %s (port %d) within %s, a pattern of password guessing. Check the service's logs for a successful login from this address.", c.remote, s.bruteN, svc, name, port, s.windowText())
	}
	emit(o)
}

func (s *FlowState) connAction(f *event.Flow, c *conn) finding.Action {
	return finding.Action{ActionType: finding.ActionNetworkConnection, NetworkConnectionAction: &finding.NetworkConnectionAction{
		Blocked:               f.Action == event.ActionReject,
		ConnectionDirection:   c.dir,
		LocalPortDetails:      portDetails(c.lport),
		Protocol:              protoName(f.Protocol),
		LocalIPDetails:        localIP(c.local),
		LocalNetworkInterface: f.InterfaceID,
		RemoteIPDetails:       s.env.remoteIP(c.remote),
		RemotePortDetails:     portDetails(c.rport),
	}}
}

func (s *FlowState) windowText() string {
	d := time.Duration(s.window) * time.Second
	if d%time.Minute == 0 {
		if d == time.Minute {
			return "1 minute"
		}
		return strconv.Itoa(int(d/time.Minute)) + " minutes"
	}
	return d.String()
}

// flowStateSnapshot is FlowState's saved form: live keys only, oldest
// first, with owners by index into Owners.
type flowStateSnapshot struct {
	Version   int            `json:"version"`
	Watermark uint32         `json:"watermark"`
	Evictions uint64         `json:"evictions"`
	Owners    []flowOwnerKey `json:"owners"`
	Scan      []windowRec    `json:"scan"`
	Sweep     []windowRec    `json:"sweep"`
	Brute     []windowRec    `json:"brute"`
}

// windowRec is one key and its window. IDs are ports (scan), remote hashes
// (sweep) or connection ids (brute).
type windowRec struct {
	Owner  uint32     `json:"o"`
	Remote netip.Addr `json:"r,omitzero"`
	Port   uint16     `json:"p,omitempty"`
	Class  uint8      `json:"c,omitempty"`
	Actor  bool       `json:"a,omitempty"`
	Last   uint32     `json:"l"`
	IDs    []uint32   `json:"ids,omitempty"`
	Times  []uint32   `json:"t"`
}

func addrFrom16(b [16]byte) netip.Addr { return netip.AddrFrom16(b).Unmap() }

// Snapshot implements Stateful: every key, as JSON. Keys whose window has
// closed relative to the watermark are kept too: records can arrive with
// older event times (AWS's S3 layout sorts a day's flow logs by flow log id
// before time), and such a record still counts against a key's earlier
// attempts, so a restored detector must have them to behave exactly like
// one that ran on.
func (s *FlowState) Snapshot() ([]byte, error) {
	snap := flowStateSnapshot{Version: 1, Watermark: s.watermark, Evictions: s.Evictions(), Owners: s.ownerList}
	if snap.Owners == nil {
		snap.Owners = []flowOwnerKey{}
	}
	for i := range s.scan.ordered {
		k, v := s.scan.keys[i], &s.scan.vals[i]
		r := windowRec{Owner: k.owner, Remote: addrFrom16(k.remote), Last: s.scan.last[i], Times: append([]uint32{}, v.seen[:v.n]...)}
		for _, p := range v.ports[:v.n] {
			r.IDs = append(r.IDs, uint32(p))
		}
		snap.Scan = append(snap.Scan, r)
	}
	for i := range s.sweep.ordered {
		k, v := s.sweep.keys[i], &s.sweep.vals[i]
		snap.Sweep = append(snap.Sweep, windowRec{Owner: k.owner, Port: k.port, Last: s.sweep.last[i],
			IDs: append([]uint32{}, v.hosts[:v.n]...), Times: append([]uint32{}, v.seen[:v.n]...)})
	}
	for i := range s.brute.ordered {
		k, v := s.brute.keys[i], &s.brute.vals[i]
		r := windowRec{Owner: k.owner, Class: uint8(k.class), Actor: k.actor, Last: s.brute.last[i],
			IDs: append([]uint32{}, v.conns[:v.n]...), Times: append([]uint32{}, v.seen[:v.n]...)}
		if !k.actor {
			r.Remote = addrFrom16(k.remote)
		}
		snap.Brute = append(snap.Brute, r)
	}
	return json.Marshal(snap)
}

// Restore implements Stateful.
func (s *FlowState) Restore(b []byte) error {
	var snap flowStateSnapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return fmt.Errorf("restoring flowstate detector: %w", err)
	}
	if snap.Version != 1 {
		return fmt.Errorf("restoring flowstate detector: unknown snapshot version %d", snap.Version)
	}
	if len(snap.Owners) > maxFlowOwners {
		return fmt.Errorf("restoring flowstate detector: %d owners", len(snap.Owners))
	}
	fresh := NewFlowStateConfig(s.env, FlowStateConfig{
		Window: time.Duration(s.window) * time.Second, PortscanPorts: s.scanPorts, PortSweepHosts: s.sweepHosts,
		BruteForceAttempts: s.bruteN, BruteForceMaxPackets: s.bruteMaxPkt, MaxKeys: s.scan.max,
	})
	fresh.watermark = snap.Watermark
	fresh.dropped = snap.Evictions
	for i, k := range snap.Owners {
		fresh.owners[k] = uint32(i)
	}
	fresh.ownerList = snap.Owners
	bad := func(r *windowRec, ids int) bool {
		return int(r.Owner) >= len(snap.Owners) || len(r.Times) != ids
	}
	for _, r := range snap.Scan {
		if bad(&r, len(r.IDs)) || len(r.IDs) > maxScanPorts {
			return fmt.Errorf("restoring flowstate detector: bad scan entry")
		}
		v := fresh.scan.get(scanKey{owner: r.Owner, remote: r.Remote.As16()}, r.Last, fresh.watermark, fresh.window)
		for j, p := range r.IDs {
			v.ports[j], v.seen[j] = uint16(p), r.Times[j]
		}
		v.n = uint8(len(r.IDs))
	}
	for _, r := range snap.Sweep {
		if bad(&r, len(r.IDs)) || len(r.IDs) > maxSweepHosts {
			return fmt.Errorf("restoring flowstate detector: bad sweep entry")
		}
		v := fresh.sweep.get(sweepKey{owner: r.Owner, port: r.Port}, r.Last, fresh.watermark, fresh.window)
		copy(v.hosts[:], r.IDs)
		copy(v.seen[:], r.Times)
		v.n = uint8(len(r.IDs))
	}
	for _, r := range snap.Brute {
		if bad(&r, len(r.IDs)) || len(r.IDs) > maxBruteAttempts || r.Class == 0 || r.Class > uint8(bruteWinRM) {
			return fmt.Errorf("restoring flowstate detector: bad brute-force entry")
		}
		k := bruteKey{owner: r.Owner, class: bruteClass(r.Class), actor: r.Actor}
		if !r.Actor {
			k.remote = r.Remote.As16()
		}
		v := fresh.brute.get(k, r.Last, fresh.watermark, fresh.window)
		copy(v.conns[:], r.IDs)
		copy(v.seen[:], r.Times)
		v.n = uint8(len(r.IDs))
	}
	fresh.scan.evicted, fresh.sweep.evicted, fresh.brute.evicted = 0, 0, 0
	*s = *fresh
	return nil
}

func init() {
	moreEntries = append(moreEntries, flowStateEntries)
	moreDetectors = append(moreDetectors, func(e *Env, o Options) Detector { return NewFlowState(e) })
}

func flowStateEntries() []TypeInfo {
	ec2 := func(typ string, sev float64, desc string, rem ...[]string) TypeInfo {
		return TypeInfo{Type: typ, Severity: sev, ResourceType: finding.ResourceInstance, ActionType: finding.ActionNetworkConnection,
			Source: SourceFlowLogs, Description: desc, Remediation: steps(rem...)}
	}
	bruteRem := func(svc, where string) [][]string {
		return [][]string{
			{
				"resourceRole TARGET (Low): the address in remoteIpDetails tried many " + svc + " logins. Check " + where + " for a successful login from it; if there is one, treat the instance as compromised (below).",
				"Take the port off the internet: remove 0.0.0.0/0 and ::/0 rules for it from the security group, and reach the instance through Systems Manager Session Manager, a VPN or a bastion restricted to known addresses.",
			},
			remBlockIP,
			{"resourceRole ACTOR (High): the instance itself is attacking other hosts; find the process that makes the connections."},
			remFindProcessConn,
			remInstanceCompromised,
		}
	}
	return []TypeInfo{
		ec2(TypePortscan, SevMedium,
			"An EC2 instance opened connections to many ports (25 or more by default) of one remote host within a few minutes: an outbound port scan. The instance may be compromised and used for reconnaissance, or someone runs a scanner on it. Authorised vulnerability scanners cause this too.",
			[]string{"Ask the instance's owner whether scanning is expected (a vulnerability scanner, a penetration test); if so, put the scanned hosts on a trusted list or archive with a suppression rule on the instance id."},
			remFindProcessConn, remInstanceCompromised),
		ec2(TypePortSweep, SevHigh,
			"An EC2 instance connected to one port on many public hosts (50 or more by default) within a few minutes, the way worms and attackers look for vulnerable services. Only the latest remote host is in the finding. The instance is probably compromised.",
			[]string{"Rule out legitimate fan-out on that port first: a forward proxy, crawler or recursive DNS resolver talks to many hosts; archive such instances with a suppression rule on the instance id and port."},
			remFindProcessConn, remInstanceCompromised),
		ec2(TypeSSHBruteForce, SevLow,
			"SSH brute force (port 22). Low (2) with resourceRole TARGET when a public address made many small connection attempts to the instance's SSH port; High (8) with resourceRole ACTOR when the instance made many SSH attempts to other hosts, which means it is probably compromised.",
			bruteRem("SSH", "/var/log/auth.log or journalctl -u ssh")...),
		ec2(TypeRDPBruteForce, SevLow,
			"RDP brute force (port 3389). Low (2) with resourceRole TARGET when a public address made many small connection attempts to the instance's RDP port; High (8) with resourceRole ACTOR when the instance made many RDP attempts to other hosts, which means it is probably compromised.",
			bruteRem("RDP", "the Windows Security event log (event ids 4625 and 4624, logon type 10)")...),
		ec2(TypeWinRMBrute, SevLow,
			"WinRM brute force (ports 5985 and 5986). Low (2) with resourceRole TARGET when a public address made many small connection attempts to the instance's WinRM ports; High (8) with resourceRole ACTOR when the instance made many WinRM attempts to other hosts, which means it is probably compromised.",
			bruteRem("WinRM", "the Windows Security event log (event ids 4625 and 4624) and the WinRM operational log")...),
	}
}

// sampleFlowState fills f's title, description, role and action for the
// types of this file and reports whether it did. sample.go's connection
// calls it first (and threatListType lists these types as carrying no
// evidence).
func sampleFlowState(f *finding.Finding) bool {
	name := SampleInstanceID
	remote, lport, rport, dir, role := "198.51.100.9", uint16(49152), uint16(22), finding.DirectionOutbound, finding.RoleActor
	switch f.Type {
	case TypePortscan:
		rport = 3306
		f.Title = fmt.Sprintf("EC2 instance %s is performing outbound port scans against remote host %s.", name, remote)
		f.Description = fmt.Sprintf("EC2 instance %s opened connections to at least %d distinct ports of remote host %s within 5 minutes (latest port %d, %s). The instance may be compromised and used to look for services to attack, or someone on it is running a scanner.", name, DefaultPortscanPorts, remote, rport, portName(rport))
	case TypePortSweep:
		rport = 445
		f.Title = fmt.Sprintf("EC2 instance %s is performing a port sweep on port %d.", name, rport)
		f.Description = fmt.Sprintf("EC2 instance %s connected to port %d (%s) on at least %d distinct public hosts within 5 minutes (latest %s). Sweeping one port across many hosts is how worms and attackers look for vulnerable services: the instance may be compromised.", name, rport, portName(rport), DefaultPortSweepHosts, remote)
	case TypeSSHBruteForce, TypeRDPBruteForce, TypeWinRMBrute:
		// GuardDuty's samples show the common case: the instance is the
		// target (Low), the remote the attacker.
		remote, lport, rport, dir, role = "203.0.113.7", 22, 50123, finding.DirectionInbound, finding.RoleTarget
		svc := "SSH"
		switch f.Type {
		case TypeRDPBruteForce:
			lport, svc = 3389, "RDP"
		case TypeWinRMBrute:
			lport, svc = 5985, "WinRM"
		}
		f.Title = fmt.Sprintf("%s is performing %s brute force attacks against %s.", remote, svc, name)
		f.Description = fmt.Sprintf("%s made at least %d %s connection attempts to EC2 instance %s (port %d) within 5 minutes, a pattern of password guessing. Check the service's logs for a successful login from this address.", remote, DefaultBruteForceAttempts, svc, name, lport)
	default:
		return false
	}
	f.Service.ResourceRole = role
	f.Service.Action = finding.Action{ActionType: finding.ActionNetworkConnection, NetworkConnectionAction: &finding.NetworkConnectionAction{
		ConnectionDirection:   dir,
		LocalPortDetails:      portDetails(lport),
		Protocol:              "TCP",
		LocalIPDetails:        &finding.LocalIPDetails{IPAddressV4: samplePrivateIP},
		LocalNetworkInterface: "eni-99999999",
		RemoteIPDetails:       sampleRemote(remote),
		RemotePortDetails:     portDetails(rport),
	}}
	return true
}
