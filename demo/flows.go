package demo

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
)

const (
	headerV2 = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
	headerV5 = headerV2 + " vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path"
)

// TCP flag modes of one connection's pair of records within one window.
const (
	whole   = iota // opened and closed in the window: SYN|FIN / SYN-ACK|FIN
	open           // opened, still up: SYN / SYN-ACK
	mid            // long-lived, nothing but data: 0 / 0
	closing        // closed in the window: FIN / FIN
)

// flowRec is one VPC flow log record, seen on the ENI of h.
type flowRec struct {
	h            *host
	src, dst     netip.Addr
	sport, dport int
	proto        int
	packets      int64
	bytes        int64
	start, end   int64
	reject       bool
	nodata       bool
	flags        int
	ingress      bool
}

// flowGen produces flow records from one random source.
type flowGen struct {
	r       *rand.Rand
	start   int64 // unix seconds of Options.Start
	scale   int
	clients []netip.Addr
	out     []flowRec
}

func newFlowGen(seed int64, start int64, scale int) *flowGen {
	r := rand.New(rand.NewPCG(uint64(seed), 0xf10f))
	g := &flowGen{r: r, start: start, scale: scale}
	g.clients = clientPool(r, 60*scale)
	return g
}

// First octets of ordinary internet clients: none is in ip-ranges.json, a
// threat list or a documentation range.
var clientOctets = []byte{24, 38, 45, 50, 62, 67, 71, 73, 76, 81, 82, 86, 88, 90, 92, 98, 99, 104, 108, 109,
	112, 118, 121, 122, 136, 142, 149, 168, 173, 174, 176, 177, 178, 181, 186, 187, 188, 189, 190, 197, 201, 212, 213, 217}

func clientPool(r *rand.Rand, n int) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		out[i] = netip.AddrFrom4([4]byte{clientOctets[r.IntN(len(clientOctets))], byte(r.IntN(256)), byte(r.IntN(256)), byte(1 + r.IntN(253))})
	}
	return out
}

func (g *flowGen) client() netip.Addr { return g.clients[g.r.IntN(len(g.clients))] }

// eph returns an ephemeral port in Linux's default range.
func (g *flowGen) eph() int { return 32768 + g.r.IntN(60999-32768+1) }

func (g *flowGen) window(m int) int64 { return g.start + int64(m)*60 }

// conn appends the two records of one connection seen on h's ENI: the
// initiator's direction and the responder's. inbound means the initiator is
// remote.
func (g *flowGen) conn(h *host, src, dst netip.Addr, sport, dport, proto int, m int, p1, b1, p2, b2 int64, inbound bool, mode int) {
	base := g.window(m)
	st := base + int64(g.r.IntN(12))
	en := base + 60 + int64(g.r.IntN(5))
	if mode == mid || mode == closing {
		st = base + int64(g.r.IntN(2))
	}
	f1, f2 := 0, 0
	if proto == 6 {
		switch mode {
		case whole:
			f1, f2 = 3, 19
		case open:
			f1, f2 = 2, 18
		case closing:
			f1, f2 = 1, 1
		}
	}
	g.out = append(g.out,
		flowRec{h: h, src: src, dst: dst, sport: sport, dport: dport, proto: proto, packets: p1, bytes: b1, start: st, end: en, flags: f1, ingress: inbound},
		flowRec{h: h, src: dst, dst: src, sport: dport, dport: sport, proto: proto, packets: p2, bytes: b2, start: st + int64(g.r.IntN(2)), end: en, flags: f2, ingress: !inbound})
}

// reject appends one inbound attempt dropped by the security group.
func (g *flowGen) reject(h *host, src netip.Addr, dport, proto int, m int) {
	base := g.window(m)
	st := base + int64(g.r.IntN(50))
	sport := g.eph()
	if proto == 1 {
		sport, dport = 0, 0
	}
	pk := int64(1 + g.r.IntN(2))
	size := int64(40 + 4*g.r.IntN(6))
	if proto == 1 {
		size = 84
	}
	g.out = append(g.out, flowRec{h: h, src: src, dst: h.Private, sport: sport, dport: dport, proto: proto,
		packets: pk, bytes: pk * size, start: st, end: base + 60 + int64(g.r.IntN(5)), reject: true, flags: 2, ingress: true})
}

// small returns packet and byte counts for a request-sized direction.
func (g *flowGen) small() (int64, int64) {
	p := int64(4 + g.r.IntN(14))
	return p, p * int64(60+g.r.IntN(180))
}

// large returns packet and byte counts for a response-sized direction.
func (g *flowGen) large(maxPk int) (int64, int64) {
	p := int64(5 + g.r.IntN(maxPk))
	return p, p * int64(400+g.r.IntN(1048))
}

// https appends a short outbound HTTPS exchange from h to dst.
func (g *flowGen) https(h *host, dst netip.Addr, port int, m int, maxPk int) {
	p1, b1 := g.small()
	p2, b2 := g.large(maxPk)
	g.conn(h, h.Private, dst, g.eph(), port, 6, m, p1, b1, p2, b2, false, whole)
}

var noiseTCPPorts = []int{23, 445, 1433, 3389, 5900, 6379, 8080, 8443, 2375, 5432}

// background appends minute m's ordinary traffic for every ENI.
func (g *flowGen) background(m int) {
	r := g.r
	s := g.scale

	// web-01: the storefront.
	n := 3*s + r.IntN(3*s+1)
	for range n {
		p1, b1 := g.small()
		p2, b2 := g.large(60)
		g.conn(hWeb, g.client(), hWeb.Private, g.eph(), 443, 6, m, p1, b1, p2, b2, true, whole)
	}
	for range s {
		if r.IntN(2) == 0 { // plain HTTP, redirected to HTTPS
			g.conn(hWeb, g.client(), hWeb.Private, g.eph(), 80, 6, m, 5, 412, 4, 630, true, whole)
		}
	}
	if m%15 == 7 { // a couple of IPv6 visitors
		c := netip.AddrFrom16([16]byte{0x2a, 0x02, 0x81, 0x08, byte(r.IntN(256)), byte(r.IntN(256)), 0x1c, 0x00,
			byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), 0, byte(1 + r.IntN(250))})
		p1, b1 := g.small()
		p2, b2 := g.large(40)
		g.conn(hWeb, c, hWeb.IPv6, g.eph(), 443, 6, m, p1, b1, p2, b2, true, whole)
	}
	g.https(hWeb, s3Addrs[r.IntN(len(s3Addrs))], 443, m, 30)
	if m%2 == 0 {
		g.https(hWeb, ssmAddr, 443, m, 4)
	}
	if m%5 == 4 {
		g.https(hWeb, logsAddr, 443, m, 3)
	}
	if m%30 == 11 {
		g.conn(hWeb, hWeb.Private, ubuntuAddrs[r.IntN(len(ubuntuAddrs))], g.eph(), 80, 6, m, 12, 1180, 40, 52800, false, whole)
	}
	for range s {
		if r.IntN(3) == 0 { // internet background radiation, dropped by web-sg
			g.reject(hWeb, g.client(), noiseTCPPorts[r.IntN(len(noiseTCPPorts))], 6, m)
		}
	}
	if m%9 == 4 {
		g.reject(hWeb, g.client(), 0, 1, m)
	}

	// bastion-01: quiet apart from SSM and updates.
	if m%2 == 1 {
		g.https(hBastion, ssmAddr, 443, m, 4)
	}
	if m%30 == 17 {
		g.conn(hBastion, hBastion.Private, ubuntuAddrs[r.IntN(len(ubuntuAddrs))], g.eph(), 80, 6, m, 9, 860, 22, 24100, false, whole)
	}
	if r.IntN(4) == 0 {
		g.reject(hBastion, g.client(), noiseTCPPorts[r.IntN(len(noiseTCPPorts))], 6, m)
	}

	// worker-01 (private subnet, egress through the NAT gateway) and es-01.
	for range 2 * s {
		p1, b1 := g.small()
		p2, b2 := g.large(20)
		sp := g.eph()
		// The same connection is seen on both ENIs.
		g.conn(hWorker, hWorker.Private, hES.Private, sp, 9200, 6, m, p1, b1, p2, b2, false, whole)
		g.conn(hES, hWorker.Private, hES.Private, sp, 9200, 6, m, p1, b1, p2, b2, true, whole)
	}
	if m%5 == 0 {
		g.https(hWorker, sqsAddr, 443, m, 3)
	}
	if m%10 == 3 {
		g.https(hWorker, pypiAddr, 443, m, 20)
		g.https(hWorker, pyFilesAddr, 443, m, 200)
	}
	if m%20 == 13 {
		g.https(hWorker, githubAddr, 443, m, 60)
	}
	if m%3 == 1 {
		g.https(hWorker, s3Addrs[r.IntN(len(s3Addrs))], 443, m, 80)
	}
	if m%10 == 8 {
		g.https(hES, s3Addrs[r.IntN(len(s3Addrs))], 443, m, 120) // snapshot repository
	}
	if m == 47 {
		g.https(hES, elasticAddr, 443, m, 30) // artifacts.elastic.co
	}
	if r.IntN(3) == 0 {
		g.reject(hES, g.client(), []int{9200, 5601, 22, 3389}[r.IntN(4)], 6, m)
	}

	// emr-master: S3 and the EMR control plane; idle in some windows.
	if m%60 == 5 {
		g.out = append(g.out, flowRec{h: hEMR, nodata: true, start: g.window(m) + 2, end: g.window(m) + 62})
	} else {
		if m%2 == 0 {
			g.https(hEMR, s3Addrs[r.IntN(len(s3Addrs))], 443, m, 40)
		}
		if m%5 == 1 {
			g.https(hEMR, emrAPIAddr, 443, m, 4)
		}
	}
}

// appendFlow formats r as one line (without newline) in the default or the
// custom v5 format.
func appendFlow(b []byte, r *flowRec, v5 bool) []byte {
	ver := "2"
	if v5 {
		ver = "5"
	}
	b = append(b, ver...)
	b = append(b, ' ')
	b = append(b, accountID...)
	b = append(b, ' ')
	b = append(b, r.h.ENI...)
	if r.nodata {
		b = append(b, " - - - - - - - "...)
		b = strconv.AppendInt(b, r.start, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, r.end, 10)
		b = append(b, " - NODATA"...)
		if v5 {
			b = append(b, ' ')
			b = append(b, vpcID...)
			b = append(b, ' ')
			b = append(b, r.h.Subnet...)
			b = append(b, ' ')
			b = append(b, r.h.ID...)
			b = append(b, " - - - - "...)
			b = append(b, awsRegion...)
			b = append(b, ' ')
			b = append(b, azID...)
			b = append(b, " - - - - - -"...)
		}
		return b
	}
	b = append(b, ' ')
	b = r.src.AppendTo(b)
	b = append(b, ' ')
	b = r.dst.AppendTo(b)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.sport), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.dport), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.proto), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.packets, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.bytes, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.start, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.end, 10)
	if r.reject {
		b = append(b, " REJECT OK"...)
	} else {
		b = append(b, " ACCEPT OK"...)
	}
	if !v5 {
		return b
	}
	b = append(b, ' ')
	b = append(b, vpcID...)
	b = append(b, ' ')
	b = append(b, r.h.Subnet...)
	b = append(b, ' ')
	b = append(b, r.h.ID...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.flags), 10)
	if r.src.Is4() {
		b = append(b, " IPv4 "...)
	} else {
		b = append(b, " IPv6 "...)
	}
	b = r.src.AppendTo(b)
	b = append(b, ' ')
	b = r.dst.AppendTo(b)
	b = append(b, ' ')
	b = append(b, awsRegion...)
	b = append(b, ' ')
	b = append(b, azID...)
	b = append(b, " - - "...)
	b = append(b, awsService(r.src)...)
	b = append(b, ' ')
	b = append(b, awsService(r.dst)...)
	if r.ingress {
		b = append(b, " ingress -"...)
		return b
	}
	b = append(b, " egress "...)
	switch {
	case r.dst.IsPrivate():
		b = append(b, '1') // another resource in the VPC
	case r.h.Public.IsValid():
		b = append(b, '8') // internet gateway (Nitro)
	case awsService(r.dst) == "S3":
		b = append(b, '7') // gateway VPC endpoint (Nitro)
	default:
		b = append(b, '1') // through the NAT gateway
	}
	return b
}

// awsService names the AWS service that owns a, as pkt-*-aws-service does:
// the most specific service in ip-ranges.json, AMAZON, or "-".
func awsService(a netip.Addr) string {
	amazon := false
	for _, p := range ipRanges {
		if !p.Prefix.Contains(a) {
			continue
		}
		if p.Service != "AMAZON" {
			return p.Service
		}
		amazon = true
	}
	if amazon {
		return "AMAZON"
	}
	return "-"
}
