package detect

import (
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/finding"
)

func init() {
	specBands[TypePortscan] = "Medium"
	specBands[TypePortSweep] = "High"
	specBands[TypeSSHBruteForce] = "Low"
	specBands[TypeRDPBruteForce] = "Low"
	specBands[TypeWinRMBrute] = "Low"
}

const (
	webInstance = "i-0a1b2c3d4e5f60001"
	attackerIP  = "203.0.113.7"  // on no list
	targetIP    = "198.51.100.9" // on no list
)

// fsFlow is flow(s) ending at t0+at.
func fsFlow(s flowSpec, at time.Duration) event.Event {
	ev := flow(s)
	ev.Flow.End = t0.Add(at)
	ev.Flow.Start = ev.Flow.End.Add(-30 * time.Second)
	return ev
}

// nthAddr is the i-th address of a public /8 (11.0.0.0/8, i < 2^24).
func nthAddr(i int) string {
	return netip.AddrFrom4([4]byte{11, byte(i >> 16), byte(i >> 8), byte(i)}).String()
}

// sshAttempts: n inbound attempts from src to web-01:port, every step.
func inboundAttempts(src string, port uint16, n int, step time.Duration) []event.Event {
	var evs []event.Event
	for i := range n {
		evs = append(evs, fsFlow(flowSpec{eni: "eni-0001", src: src, dst: webPrivate, sport: uint16(40000 + i), dport: port}, time.Duration(i)*step))
	}
	return evs
}

// outboundAttempts: n attempts from web-01 to port of n distinct remotes.
func outboundAttempts(port uint16, n int, step time.Duration) []event.Event {
	var evs []event.Event
	for i := range n {
		evs = append(evs, fsFlow(flowSpec{eni: "eni-0001", src: webPrivate, dst: nthAddr(i + 1), sport: uint16(40000 + i), dport: port}, time.Duration(i)*step))
	}
	return evs
}

// scanPorts: web-01 opens connections to n ports of dst, every step.
func scanPorts(dst string, n int, step time.Duration) []event.Event {
	var evs []event.Event
	for i := range n {
		evs = append(evs, fsFlow(flowSpec{eni: "eni-0001", src: webPrivate, dst: dst, sport: 60000, dport: uint16(1000 + i), flags: 2}, time.Duration(i)*step))
	}
	return evs
}

func runFS(s *FlowState, evs []event.Event) []finding.Finding {
	var out []finding.Finding
	for i := range evs {
		s.Observe(&evs[i], func(f *finding.Finding) { out = append(out, *f) })
	}
	return out
}

func reversed(evs []event.Event) []event.Event {
	evs = slices.Clone(evs)
	slices.Reverse(evs)
	return evs
}

func TestFlowStateDetections(t *testing.T) {
	type want struct {
		typ    string
		sev    float64
		dir    string
		role   string
		remote string
		lport  int
		rport  int
	}
	longSession := func() []event.Event {
		var evs []event.Event
		for i := range 30 {
			ev := fsFlow(flowSpec{eni: "eni-0001", src: attackerIP, dst: webPrivate, sport: 51515, dport: 22}, time.Duration(i)*10*time.Second)
			ev.Flow.Packets, ev.Flow.Bytes = 900, 1_200_000
			evs = append(evs, ev)
		}
		return evs
	}
	sweepPrivate := func() []event.Event {
		var evs []event.Event
		for i := range 80 {
			evs = append(evs, fsFlow(flowSpec{eni: "eni-0001", src: webPrivate, dst: fmt.Sprintf("10.9.%d.%d", i/200, 1+i%200), sport: 40000, dport: 445}, time.Duration(i)*time.Second))
		}
		return evs
	}
	trustedScan := func() []event.Event {
		evs := scanPorts(officeIP, 40, time.Second)
		return append(evs, inboundAttempts(officeIP, 22, 40, time.Second)...)
	}
	responses := func() []event.Event { // server → client records of SSH sessions
		var evs []event.Event
		for i := range 40 {
			evs = append(evs, fsFlow(flowSpec{eni: "eni-0001", src: webPrivate, dst: attackerIP, sport: 22, dport: uint16(40000 + i)}, time.Duration(i)*time.Second))
		}
		return evs
	}
	rejected := func() []event.Event {
		evs := inboundAttempts(attackerIP, 22, 30, time.Second)
		for i := range evs {
			evs[i].Flow.Action = event.ActionReject
		}
		return evs
	}
	winrmMix := func() []event.Event {
		evs := inboundAttempts(attackerIP, 5985, 10, time.Second)
		for _, ev := range inboundAttempts(attackerIP, 5986, 10, time.Second) {
			ev.Flow.End = ev.Flow.End.Add(20 * time.Second)
			evs = append(evs, ev)
		}
		return evs
	}
	tests := []struct {
		name string
		evs  []event.Event
		want []want // nil: silent
	}{
		{"portscan: 25 ports", scanPorts(targetIP, 25, 10*time.Second), []want{{TypePortscan, 5, "OUTBOUND", "ACTOR", targetIP, 60000, 1024}}},
		{"portscan: 24 ports", scanPorts(targetIP, 24, time.Second), nil},
		{"portscan: 25 ports over more than the window", scanPorts(targetIP, 25, 15*time.Second), nil},
		{"portscan: the same port 40 times", func() []event.Event {
			evs := scanPorts(targetIP, 1, 0)
			for range 39 {
				evs = append(evs, evs[0])
			}
			return evs
		}(), nil},
		{"portscan: trusted host", scanPorts(officeIP, 40, time.Second), nil},
		{"port sweep: 50 hosts", outboundAttempts(445, 50, time.Second), []want{{TypePortSweep, 8, "OUTBOUND", "ACTOR", nthAddr(50), 40049, 445}}},
		{"port sweep: 49 hosts", outboundAttempts(445, 49, time.Second), nil},
		{"port sweep: 50 hosts over more than the window", outboundAttempts(445, 50, 7*time.Second), nil},
		{"port sweep: private addresses", sweepPrivate(), nil},
		{"ssh brute force against the instance", inboundAttempts(attackerIP, 22, 20, 5*time.Second), []want{{TypeSSHBruteForce, 2, "INBOUND", "TARGET", attackerIP, 22, 40019}}},
		{"ssh: 19 attempts", inboundAttempts(attackerIP, 22, 19, time.Second), nil},
		{"ssh: 20 attempts over more than the window", inboundAttempts(attackerIP, 22, 20, 16*time.Second), nil},
		{"ssh: trusted scanner", trustedScan(), nil},
		{"ssh: one long session with large byte counts", longSession(), nil},
		{"ssh: from a private address", func() []event.Event {
			evs := inboundAttempts("10.0.5.5", 22, 30, time.Second)
			return append(evs, inboundAttempts("100.64.1.1", 22, 30, time.Second)...)
		}(), nil},
		{"ssh: server responses", responses(), nil},
		{"ssh: one connection's record repeated", func() []event.Event {
			evs := inboundAttempts(attackerIP, 22, 1, 0)
			for range 39 {
				evs = append(evs, evs[0])
			}
			return evs
		}(), nil},
		{"ssh: rejected by the security group", rejected(), nil},
		{"ssh: attempts from many addresses", func() []event.Event {
			var evs []event.Event
			for i := range 40 {
				evs = append(evs, fsFlow(flowSpec{eni: "eni-0001", src: nthAddr(i), dst: webPrivate, sport: 40000, dport: 22}, time.Second))
			}
			return evs
		}(), nil},
		{"rdp brute force against the instance", inboundAttempts(attackerIP, 3389, 20, time.Second), []want{{TypeRDPBruteForce, 2, "INBOUND", "TARGET", attackerIP, 3389, 40019}}},
		{"winrm brute force against the instance", inboundAttempts(attackerIP, 5985, 20, time.Second), []want{{TypeWinRMBrute, 2, "INBOUND", "TARGET", attackerIP, 5985, 40019}}},
		{"winrm over both ports", winrmMix(), []want{{TypeWinRMBrute, 2, "INBOUND", "TARGET", attackerIP, 5986, 40009}}},
		{"ssh brute force by the instance", outboundAttempts(22, 20, time.Second), []want{{TypeSSHBruteForce, 8, "OUTBOUND", "ACTOR", nthAddr(20), 40019, 22}}},
		{"ssh by the instance against one host", func() []event.Event {
			var evs []event.Event
			for i := range 20 {
				evs = append(evs, fsFlow(flowSpec{eni: "eni-0001", src: webPrivate, dst: targetIP, sport: uint16(40000 + i), dport: 22}, time.Duration(i)*time.Second))
			}
			return evs
		}(), []want{{TypeSSHBruteForce, 8, "OUTBOUND", "ACTOR", targetIP, 40019, 22}}},
		{"rdp brute force by the instance", outboundAttempts(3389, 20, time.Second), []want{{TypeRDPBruteForce, 8, "OUTBOUND", "ACTOR", nthAddr(20), 40019, 3389}}},
		{"winrm brute force by the instance", outboundAttempts(5986, 20, time.Second), []want{{TypeWinRMBrute, 8, "OUTBOUND", "ACTOR", nthAddr(20), 40019, 5986}}},
		{"ssh by the instance: 19 attempts", outboundAttempts(22, 19, time.Second), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, order := range []string{"in order", "reversed"} {
				evs := tt.evs
				if order == "reversed" {
					evs = reversed(evs)
				}
				got := runFS(NewFlowState(testEnv(t)), evs)
				if len(got) != len(tt.want) {
					t.Fatalf("%s: got %d findings %q, want %d", order, len(got), types(got), len(tt.want))
				}
				for i, w := range tt.want {
					f := &got[i]
					checkShape(t, f)
					nc := f.Service.Action.NetworkConnectionAction
					if f.Type != w.typ || f.Severity != w.sev || f.Service.ResourceRole != w.role || nc == nil || nc.ConnectionDirection != w.dir {
						t.Fatalf("%s: got %s sev %v role %s action %+v, want %+v", order, f.Type, f.Severity, f.Service.ResourceRole, nc, w)
					}
					if f.Service.Evidence != nil || f.Resource.InstanceDetails.InstanceID != webInstance || nc.Protocol != "TCP" || nc.LocalNetworkInterface != "eni-0001" {
						t.Errorf("%s: evidence %+v resource %+v action %+v", order, f.Service.Evidence, f.Resource.InstanceDetails, nc)
					}
					if order == "in order" && (nc.RemoteIPDetails.IPAddressV4 != w.remote || nc.LocalPortDetails.Port != w.lport || nc.RemotePortDetails.Port != w.rport) {
						t.Errorf("%s: remote %s local port %d remote port %d, want %s %d %d", order, nc.RemoteIPDetails.IPAddressV4, nc.LocalPortDetails.Port, nc.RemotePortDetails.Port, w.remote, w.lport, w.rport)
					}
				}
			}
		})
	}
}

func TestFlowStateText(t *testing.T) {
	env := testEnv(t)
	target := runFS(NewFlowState(env), inboundAttempts(attackerIP, 22, 20, time.Second))[0]
	if want := attackerIP + " is performing SSH brute force attacks against " + webInstance + " (web-01)."; target.Title != want {
		t.Errorf("title %q, want %q", target.Title, want)
	}
	actor := runFS(NewFlowState(env), outboundAttempts(3389, 20, time.Second))[0]
	if want := webInstance + " (web-01) is performing RDP brute force attacks against " + nthAddr(20) + "."; actor.Title != want {
		t.Errorf("title %q, want %q", actor.Title, want)
	}
	if target.ID == actor.ID {
		t.Error("target and actor share an id")
	}
	scan := runFS(NewFlowState(env), scanPorts(targetIP, 25, time.Second))[0]
	if want := "EC2 instance " + webInstance + " (web-01) is performing outbound port scans against remote host " + targetIP + "."; scan.Title != want {
		t.Errorf("title %q, want %q", scan.Title, want)
	}
	sweep := runFS(NewFlowState(env), outboundAttempts(445, 50, time.Second))[0]
	if !strings.Contains(sweep.Title, "port sweep on port 445") || !strings.Contains(sweep.Description, "latest "+nthAddr(50)) {
		t.Errorf("sweep %q / %q", sweep.Title, sweep.Description)
	}
	for _, f := range []finding.Finding{target, actor, scan, sweep} {
		if f.Service.EventFirstSeen == "" || !strings.HasPrefix(f.Service.EventFirstSeen, "2026-11-21T10:0") {
			t.Errorf("%s: event time %s, want the flows'", f.Type, f.Service.EventFirstSeen)
		}
	}
}

// TestFlowStateAggregation: occurrences after the first aggregate on one id,
// one per further threshold of attempts, so count × 20 ≤ attempts.
func TestFlowStateAggregation(t *testing.T) {
	for _, tc := range []struct{ attempts, want int }{{20, 1}, {39, 1}, {40, 2}, {65, 3}} {
		agg := finding.NewAggregator()
		s := NewFlowState(testEnv(t))
		evs := inboundAttempts(attackerIP, 22, tc.attempts, 2*time.Second)
		for i := range evs {
			s.Observe(&evs[i], agg.Add)
		}
		fs := agg.Findings()
		if tc.want == 0 {
			if len(fs) != 0 {
				t.Errorf("%d attempts: %d findings", tc.attempts, len(fs))
			}
			continue
		}
		if len(fs) != 1 || int(fs[0].Service.Count) != tc.want {
			t.Errorf("%d attempts: %d findings, count %v; want 1 with count %d", tc.attempts, len(fs), fs, tc.want)
		}
	}
	// Two bursts an hour apart: one finding, count 2, first and last seen
	// from the bursts.
	agg := finding.NewAggregator()
	s := NewFlowState(testEnv(t))
	evs := inboundAttempts(attackerIP, 22, 20, time.Second)
	for _, ev := range inboundAttempts(attackerIP, 22, 20, time.Second) {
		ev.Flow.End = ev.Flow.End.Add(time.Hour)
		evs = append(evs, ev)
	}
	for i := range evs {
		s.Observe(&evs[i], agg.Add)
	}
	fs := agg.Findings()
	if len(fs) != 1 || fs[0].Service.Count != 2 || fs[0].Service.EventFirstSeen != "2026-11-21T10:00:19.000Z" || fs[0].Service.EventLastSeen != "2026-11-21T11:00:19.000Z" {
		t.Errorf("bursts: %+v", fs)
	}
	// Another attacker is another finding; the instance as actor too.
	more := append(inboundAttempts(targetIP, 22, 20, time.Second), outboundAttempts(22, 20, time.Second)...)
	for i := range more {
		s.Observe(&more[i], agg.Add)
	}
	if n := agg.Len(); n != 3 {
		t.Errorf("%d findings, want 3", n)
	}
}

func TestFlowStateDisabled(t *testing.T) {
	env := testEnv(t)
	env.Disabled = []string{TypePortscan, "UnauthorizedAccess:EC2/SSH*"}
	evs := append(scanPorts(targetIP, 30, time.Second), inboundAttempts(attackerIP, 22, 30, time.Second)...)
	evs = append(evs, inboundAttempts(attackerIP, 3389, 20, time.Second)...)
	got := runFS(NewFlowState(env), evs)
	if !slices.Equal(types(got), []string{TypeRDPBruteForce}) {
		t.Errorf("got %q", types(got))
	}
}

func TestFlowStateConfig(t *testing.T) {
	s := NewFlowStateConfig(testEnv(t), FlowStateConfig{BruteForceAttempts: 5, Window: time.Minute, PortscanPorts: 1000})
	if s.scanPorts != maxScanPorts || s.bruteN != 5 || s.window != 60 {
		t.Fatalf("config: %d %d %d", s.scanPorts, s.bruteN, s.window)
	}
	if got := runFS(s, inboundAttempts(attackerIP, 22, 5, 10*time.Second)); len(got) != 1 || !strings.Contains(got[0].Description, "at least 5 SSH connection attempts") || !strings.Contains(got[0].Description, "within 1 minute") {
		t.Errorf("got %+v", got)
	}
	if got := runFS(NewFlowStateConfig(testEnv(t), FlowStateConfig{BruteForceAttempts: 5, Window: time.Minute}), inboundAttempts(attackerIP, 22, 5, 16*time.Second)); len(got) != 0 {
		t.Errorf("spread over 64s with a 1-minute window: %d findings", len(got))
	}
}

// mixedStream interleaves every attack with background traffic, in event
// time order.
func mixedStream() []event.Event {
	var evs []event.Event
	add := func(more []event.Event, offset time.Duration) {
		for _, ev := range more {
			ev.Flow.End = ev.Flow.End.Add(offset)
			evs = append(evs, ev)
		}
	}
	add(scanPorts(targetIP, 60, 4*time.Second), 0)
	add(outboundAttempts(445, 120, 2*time.Second), 30*time.Second)
	add(inboundAttempts(attackerIP, 22, 70, 3*time.Second), 10*time.Second)
	add(inboundAttempts(targetIP, 3389, 25, 20*time.Second), 0) // too slow
	add(outboundAttempts(5985, 45, 5*time.Second), time.Minute)
	for i := range 300 {
		add([]event.Event{fsFlow(flowSpec{eni: "eni-0001", src: nthAddr(5000 + i%37), dst: webPrivate, sport: uint16(30000 + i), dport: 443}, time.Duration(i)*time.Second)}, 0)
		add([]event.Event{fsFlow(flowSpec{eni: "eni-0002", src: natPrivate, dst: nthAddr(9000 + i%11), sport: uint16(30000 + i), dport: 443}, time.Duration(i)*time.Second)}, 0)
	}
	slices.SortStableFunc(evs, func(a, b event.Event) int { return a.Flow.End.Compare(b.Flow.End) })
	return evs
}

func TestFlowStateSnapshotRestore(t *testing.T) {
	env := testEnv(t)
	evs := mixedStream()
	whole := runFS(NewFlowState(env), evs)
	t.Logf("%d records, findings %q", len(evs), types(whole))
	if len(whole) < 8 {
		t.Fatalf("mixed stream gave only %d findings: %q", len(whole), types(whole))
	}
	for _, cut := range []int{1, len(evs) / 3, len(evs) / 2, len(evs) - 1} {
		a := NewFlowState(env)
		got := runFS(a, evs[:cut])
		b, err := a.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		r := NewFlowState(env)
		if err := r.Restore(b); err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		got = append(got, runFS(r, evs[cut:])...)
		if len(got) != len(whole) {
			t.Fatalf("cut %d: %d findings, want %d", cut, len(got), len(whole))
		}
		for i := range got {
			if got[i].ID != whole[i].ID || got[i].UpdatedAt != whole[i].UpdatedAt || got[i].Title != whole[i].Title {
				t.Errorf("cut %d: finding %d differs: %s %s vs %s %s", cut, i, got[i].Type, got[i].UpdatedAt, whole[i].Type, whole[i].UpdatedAt)
			}
		}
	}
	// A restored detector snapshots to the same bytes.
	a := NewFlowState(env)
	runFS(a, evs[:len(evs)/2])
	b1, _ := a.Snapshot()
	r := NewFlowState(env)
	if err := r.Restore(b1); err != nil {
		t.Fatal(err)
	}
	if b2, _ := r.Snapshot(); string(b1) != string(b2) {
		t.Errorf("snapshot after restore differs:\n%s\n%s", b1, b2)
	}
	if err := NewFlowState(env).Restore([]byte(`{"version":2}`)); err == nil {
		t.Error("unknown version restored")
	}
	if err := NewFlowState(env).Restore([]byte(`{"version":1,"owners":[],"brute":[{"o":3,"c":1,"l":1,"t":[1]}]}`)); err == nil {
		t.Error("dangling owner restored")
	}
	if err := NewFlowState(env).Restore([]byte(`not json`)); err == nil {
		t.Error("garbage restored")
	}
}

// TestFlowStateMemoryBound feeds 1,000,000 distinct remote addresses, each
// both scanned by the instance and attacking it, all within one window:
// the key cap holds, live keys are evicted and counted, and the heap stays
// within 256 MB.
func TestFlowStateMemoryBound(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 300_000
	}
	env := testEnv(t)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	s := NewFlowState(env)
	out := flow(flowSpec{eni: "eni-0001", src: webPrivate, dst: cleanIP, sport: 40000, dport: 22})
	in := flow(flowSpec{eni: "eni-0001", src: cleanIP, dst: webPrivate, sport: 40000, dport: 22})
	emitted := 0
	emit := func(*finding.Finding) { emitted++ }
	for i := range n {
		a := netip.AddrFrom4([4]byte{11, byte(i >> 16), byte(i >> 8), byte(i)})
		end := t0.Add(time.Duration(i) * 100 * time.Microsecond)
		out.Flow.DstAddr, out.Flow.End, out.Flow.DstPort = a, end, uint16(1+i%1000)
		in.Flow.SrcAddr, in.Flow.End = a, end
		s.Observe(&out, emit)
		s.Observe(&in, emit)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d remotes: heap growth %.1f MB, keys %d, evictions %d, occurrences %d", n, float64(growth)/(1<<20), s.Keys(), s.Evictions(), emitted)
	if growth > 256<<20 {
		t.Errorf("heap grew %d MB, want ≤ 256 MB", growth>>20)
	}
	for name, l := range map[string]int{"scan": len(s.scan.idx), "sweep": len(s.sweep.idx), "brute": len(s.brute.idx)} {
		if l > DefaultFlowStateMaxKeys {
			t.Errorf("%s: %d keys, cap %d", name, l, DefaultFlowStateMaxKeys)
		}
	}
	if s.Evictions() == 0 || len(s.scan.keys) != DefaultFlowStateMaxKeys {
		t.Errorf("evictions %d, scan slots %d", s.Evictions(), len(s.scan.keys))
	}
	runtime.KeepAlive(s)
}

// TestFlowStateEvictsExpiredFirst: with a small cap, keys whose window has
// passed are recycled without counting an eviction.
func TestFlowStateEvictsExpiredFirst(t *testing.T) {
	s := NewFlowStateConfig(testEnv(t), FlowStateConfig{MaxKeys: 10})
	ev := flow(flowSpec{eni: "eni-0001", src: cleanIP, dst: webPrivate, sport: 40000, dport: 22})
	for i := range 100 {
		ev.Flow.SrcAddr = netip.MustParseAddr(nthAddr(i))
		ev.Flow.End = t0.Add(time.Duration(i) * time.Minute) // one new attacker a minute
		s.Observe(&ev, func(*finding.Finding) {})
	}
	if s.Evictions() != 0 || len(s.brute.idx) != 10 {
		t.Errorf("evictions %d keys %d, want 0 and 10", s.Evictions(), len(s.brute.idx))
	}
	for i := range 100 { // now 100 within a second
		ev.Flow.SrcAddr = netip.MustParseAddr(nthAddr(1000 + i))
		ev.Flow.End = t0.Add(200 * time.Minute)
		s.Observe(&ev, func(*finding.Finding) {})
	}
	if s.Evictions() == 0 || len(s.brute.idx) != 10 {
		t.Errorf("evictions %d keys %d", s.Evictions(), len(s.brute.idx))
	}
}

// TestFlowStateAllocs extends TestObserveAllocs: records no detection
// watches, and records of known keys, do not allocate; nor do new keys once
// the tables are full (beyond the map's occasional rehash).
func TestFlowStateAllocs(t *testing.T) {
	// Counting must not allocate; emitting a finding may, so keep the
	// brute-force keys below their threshold.
	s := NewFlowStateConfig(testEnv(t), FlowStateConfig{BruteForceAttempts: maxBruteAttempts})
	evs := []event.Event{
		flow(flowSpec{eni: "eni-0001", src: cleanIP, dst: webPrivate, sport: 50000, dport: 443}),   // inbound web
		flow(flowSpec{eni: "eni-0001", src: webPrivate, dst: natPrivate, sport: 50000, dport: 22}), // east-west
		flow(flowSpec{eni: "eni-0001", src: webPrivate, dst: cleanIP, sport: 443, dport: 50000}),   // a response
		flow(flowSpec{eni: "eni-0001", src: webPrivate, dst: cleanIP, sport: 50000, dport: 443}),   // known key
		flow(flowSpec{eni: "eni-0001", src: attackerIP, dst: webPrivate, sport: 50000, dport: 22}), // known attacker
		flow(flowSpec{eni: "eni-0001", src: webPrivate, dst: targetIP, sport: 50000, dport: 22}),   // known actor key
		flow(flowSpec{eni: "eni-0001", src: officeIP, dst: webPrivate, sport: 50000, dport: 22}),   // trusted
		{Kind: event.KindFlow, Flow: event.Flow{Version: 2, AccountID: acct, InterfaceID: "eni-0001", LogStatus: event.LogStatusNoData}},
	}
	for i := range evs {
		evs[i].Flow.End = t0
	}
	emit := func(*finding.Finding) {}
	for i := range evs {
		s.Observe(&evs[i], emit) // create the keys
	}
	for i := range evs {
		if n := testing.AllocsPerRun(20, func() { s.Observe(&evs[i], emit) }); n != 0 {
			t.Errorf("record %d: %v allocs, want 0", i, n)
		}
	}

	small := NewFlowStateConfig(testEnv(t), FlowStateConfig{MaxKeys: 1000})
	ev := flow(flowSpec{eni: "eni-0001", src: cleanIP, dst: webPrivate, sport: 40000, dport: 22})
	i := 0
	next := func() {
		ev.Flow.SrcAddr = netip.AddrFrom4([4]byte{11, byte(i >> 16), byte(i >> 8), byte(i)})
		ev.Flow.End = t0.Add(time.Duration(i) * time.Second)
		i++
		small.Observe(&ev, emit)
	}
	for range 5000 {
		next()
	}
	if n := testing.AllocsPerRun(20000, next); n > 0.01 {
		t.Errorf("new keys in a full table: %v allocs per record, want ~0", n)
	}
}

// BenchmarkFlowState measures FlowState alone on a mix of background traffic
// (outbound HTTPS to 5,000 hosts, inbound web clients) and attacks:
//
//	go test -run '^$' -bench FlowState -benchmem -cpu 1 ./detect/
func BenchmarkFlowState(b *testing.B) {
	env := testEnv(b)
	const n = 100000
	evs := make([]event.Event, n)
	for i := range evs {
		var s flowSpec
		switch i % 10 {
		case 0, 1, 2, 3:
			s = flowSpec{eni: "eni-0001", src: webPrivate, dst: nthAddr(i % 5000), sport: uint16(30000 + i%30000), dport: 443}
		case 4, 5, 6:
			s = flowSpec{eni: "eni-0001", src: nthAddr(100000 + i%20000), dst: webPrivate, sport: uint16(30000 + i%30000), dport: 443}
		case 7:
			s = flowSpec{eni: "eni-0001", src: webPrivate, dst: nthAddr(100000 + i%20000), sport: 443, dport: uint16(30000 + i%30000)}
		case 8:
			s = flowSpec{eni: "eni-0001", src: nthAddr(200000 + i%300), dst: webPrivate, sport: uint16(30000 + i%30000), dport: 22}
		case 9:
			s = flowSpec{eni: "eni-0002", src: natPrivate, dst: targetIP, sport: 40000, dport: uint16(1 + i%2000)}
		}
		evs[i] = flow(s)
		evs[i].Flow.End = t0.Add(time.Duration(i) * 5 * time.Millisecond)
	}
	emit := func(*finding.Finding) {}
	b.ReportAllocs()
	b.ResetTimer()
	var s *FlowState
	for i := 0; i < b.N; i++ {
		if i%n == 0 {
			b.StopTimer()
			s = NewFlowState(env)
			b.StartTimer()
		}
		s.Observe(&evs[i%n], emit)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
