package demo

import (
	"math/rand/v2"
	"strconv"
	"time"
)

// dnsName is one name the estate resolves and what the resolver answers.
type dnsName struct {
	name  string   // without the trailing dot
	cname []string // CNAME chain, in order
	a     []string
	aaaa  []string
	nx    bool
}

var (
	nS3       = &dnsName{name: "s3.us-east-1.amazonaws.com", a: []string{"52.216.137.22", "52.216.57.186", "52.217.84.6"}}
	nS3Web    = &dnsName{name: webBucket + ".s3.us-east-1.amazonaws.com", cname: []string{"s3-r-w.us-east-1.amazonaws.com"}, a: []string{"52.216.57.186"}}
	nSSM      = &dnsName{name: "ssm.us-east-1.amazonaws.com", a: []string{ssmAddr.String()}}
	nMessages = &dnsName{name: "ec2messages.us-east-1.amazonaws.com", a: []string{"52.94.1.171"}}
	nLogs     = &dnsName{name: "logs.us-east-1.amazonaws.com", a: []string{logsAddr.String()}}
	nSTS      = &dnsName{name: "sts.us-east-1.amazonaws.com", a: []string{stsAddr.String()}}
	nSQS      = &dnsName{name: "sqs.us-east-1.amazonaws.com", a: []string{sqsAddr.String()}}
	nEMR      = &dnsName{name: "elasticmapreduce.us-east-1.amazonaws.com", a: []string{emrAPIAddr.String()}}
	nMirror   = &dnsName{name: "us-east-1.ec2.archive.ubuntu.com", cname: []string{"us-east-1.ec2.archive.ubuntu.com.s3.amazonaws.com", "s3-1-w.amazonaws.com"}, a: []string{mirrorAddr.String()}}
	nSecurity = &dnsName{name: "security.ubuntu.com", a: []string{"91.189.91.81", "91.189.91.82", "185.125.190.36"},
		aaaa: []string{"2620:2d:4000:1::101", "2620:2d:4002:1::102"}}
	nNTP     = &dnsName{name: "ntp.ubuntu.com", a: []string{"185.125.190.56", "185.125.190.57", "91.189.91.157"}}
	nChanges = &dnsName{name: "changelogs.ubuntu.com", a: []string{"185.125.190.17"}, aaaa: []string{"2620:2d:4000:1::17"}}
	nGithub  = &dnsName{name: "github.com", a: []string{githubAddr.String()}}
	nAPIGH   = &dnsName{name: "api.github.com", a: []string{"140.82.112.5"}}
	nPyPI    = &dnsName{name: "pypi.org", a: []string{pypiAddr.String(), "151.101.64.223", "151.101.128.223", "151.101.192.223"},
		aaaa: []string{"2a04:4e42::223", "2a04:4e42:200::223"}}
	nPyFiles = &dnsName{name: "files.pythonhosted.org", cname: []string{"dualstack.python.map.fastly.net"}, a: []string{pyFilesAddr.String(), "151.101.65.63"}}
	nElastic = &dnsName{name: "artifacts.elastic.co", cname: []string{"elastic-artifacts.elastic.co.edgekey.net"}, a: []string{elasticAddr.String()}}
	nES      = &dnsName{name: "ip-10-0-1-30.ec2.internal", a: []string{hES.Private.String()}}
	nNXWpad  = &dnsName{name: "wpad.ec2.internal", nx: true}

	// Attack names and the near miss.
	nC2      = &dnsName{name: "guarddutyc2activityb.com", a: []string{c2IP.String()}}
	nPool1   = &dnsName{name: "pool.supportxmr.com", a: []string{miningIP1.String()}}
	nPool2   = &dnsName{name: "xmr-us-east1.nanopool.org", a: []string{miningIP2.String()}}
	nNotPool = &dnsName{name: "notsupportxmr.com", nx: true}
)

type dnsAnswer struct {
	Rdata string `json:"Rdata"`
	Type  string `json:"Type"`
	Class string `json:"Class"`
}

type dnsSrcIDs struct {
	Instance string `json:"instance,omitempty"`
}

// dnsRec is one Route 53 Resolver query log record; field order is AWS's.
type dnsRec struct {
	Version        string      `json:"version"`
	AccountID      string      `json:"account_id"`
	Region         string      `json:"region"`
	VPCID          string      `json:"vpc_id"`
	QueryTimestamp string      `json:"query_timestamp"`
	QueryName      string      `json:"query_name"`
	QueryType      string      `json:"query_type"`
	QueryClass     string      `json:"query_class"`
	RCode          string      `json:"rcode"`
	Answers        []dnsAnswer `json:"answers"`
	SrcAddr        string      `json:"srcaddr"`
	SrcPort        string      `json:"srcport"`
	Transport      string      `json:"transport"`
	SrcIDs         dnsSrcIDs   `json:"srcids"`

	t time.Time
}

type dnsGen struct {
	r     *rand.Rand
	start time.Time
	scale int
	out   []dnsRec
}

func newDNSGen(seed int64, start time.Time, scale int) *dnsGen {
	return &dnsGen{r: rand.New(rand.NewPCG(uint64(seed), 0xd115)), start: start, scale: scale}
}

// query appends the lookup of n (type qtype) by h at t.
func (g *dnsGen) query(h *host, n *dnsName, qtype string, t time.Time) {
	rec := dnsRec{
		Version: "1.100000", AccountID: accountID, Region: awsRegion, VPCID: vpcID,
		QueryTimestamp: t.UTC().Format(time.RFC3339),
		QueryName:      n.name + ".", QueryType: qtype, QueryClass: "IN", RCode: "NOERROR",
		Answers: []dnsAnswer{},
		SrcAddr: h.Private.String(), SrcPort: strconv.Itoa(32768 + g.r.IntN(60999-32768+1)),
		Transport: "UDP", SrcIDs: dnsSrcIDs{Instance: h.ID}, t: t,
	}
	if g.r.IntN(200) == 0 {
		rec.Transport = "TCP"
	}
	switch {
	case n.nx:
		rec.RCode = "NXDOMAIN"
	case qtype == "PTR":
		rec.Answers = append(rec.Answers, dnsAnswer{Rdata: n.a[0], Type: "PTR", Class: "IN"})
	default:
		for _, c := range n.cname {
			rec.Answers = append(rec.Answers, dnsAnswer{Rdata: c + ".", Type: "CNAME", Class: "IN"})
		}
		ips := n.a
		if qtype == "AAAA" {
			ips = n.aaaa
		}
		for _, ip := range ips {
			rec.Answers = append(rec.Answers, dnsAnswer{Rdata: ip, Type: qtype, Class: "IN"})
		}
	}
	g.out = append(g.out, rec)
}

// lookup appends a glibc-style A + AAAA pair.
func (g *dnsGen) lookup(h *host, n *dnsName, t time.Time) {
	g.query(h, n, "A", t)
	g.query(h, n, "AAAA", t.Add(time.Duration(g.r.IntN(2))*time.Second))
}

func (g *dnsGen) at(m int) time.Time {
	return g.start.Add(time.Duration(m)*time.Minute + time.Duration(g.r.IntN(60))*time.Second)
}

// background appends minute m's ordinary lookups.
func (g *dnsGen) background(m int) {
	r := g.r
	for range g.scale {
		if r.IntN(2) == 0 {
			g.lookup(hWeb, nS3Web, g.at(m))
		}
	}
	if m%2 == 0 {
		g.query(hWeb, nSSM, "A", g.at(m))
		g.query(hWeb, nMessages, "A", g.at(m))
	}
	if m%5 == 4 {
		g.query(hWeb, nLogs, "A", g.at(m))
	}
	if m%15 == 9 {
		g.query(hWeb, nSTS, "A", g.at(m))
	}
	if m%30 == 11 {
		g.lookup(hWeb, nMirror, g.at(m))
		g.lookup(hWeb, nSecurity, g.at(m))
	}
	if m%2 == 1 {
		g.query(hBastion, nSSM, "A", g.at(m))
	}
	if m%30 == 17 {
		g.lookup(hBastion, nSecurity, g.at(m))
		g.lookup(hBastion, nChanges, g.at(m))
	}
	if m%60 == 23 {
		g.lookup(hBastion, nNTP, g.at(m))
		g.lookup(hRelay, nNTP, g.at(m))
	}
	// worker-01
	for range g.scale {
		g.query(hWorker, nES, "A", g.at(m))
	}
	if m%5 == 0 {
		g.query(hWorker, nSQS, "A", g.at(m))
	}
	if m%10 == 3 {
		g.lookup(hWorker, nPyPI, g.at(m))
		g.lookup(hWorker, nPyFiles, g.at(m))
	}
	if m%20 == 13 {
		g.lookup(hWorker, nGithub, g.at(m))
		g.query(hWorker, nAPIGH, "A", g.at(m))
	}
	if m%3 == 1 {
		g.query(hWorker, nS3, "A", g.at(m))
	}
	// es-01
	if m%10 == 8 {
		g.query(hES, nS3, "A", g.at(m))
	}
	if m == 47 {
		g.lookup(hES, nElastic, g.at(m))
	}
	if m%20 == 6 {
		// reverse lookup of a client seen in the access log
		g.query(hES, &dnsName{name: "20.2.0.10.in-addr.arpa", a: []string{"ip-10-0-2-20.ec2.internal."}}, "PTR", g.at(m))
	}
	// emr-master
	if m%2 == 0 && m%60 != 5 {
		g.query(hEMR, nS3, "A", g.at(m))
	}
	if m%5 == 1 {
		g.query(hEMR, nEMR, "A", g.at(m))
	}
	if m%40 == 29 {
		g.query(hEMR, nNXWpad, "A", g.at(m))
	}
}
