package cloudtrail

import (
	"bytes"
)

// Kind is what [Sniff] makes of the start of a stream.
type Kind uint8

const (
	NotCloudTrail Kind = iota // not recognised as CloudTrail
	Records                   // CloudTrail records, in any shape the Decoder reads
	Digest                    // a CloudTrail digest file: no records
)

func (k Kind) String() string {
	switch k {
	case Records:
		return "cloudtrail"
	case Digest:
		return "cloudtrail-digest"
	}
	return "not-cloudtrail"
}

// Sniff classifies the first bytes (a few KB are enough) of decompressed
// content. It looks at the keys of the first JSON object (inside a leading
// '[' if there is one): a Records array, CloudTrail record keys, an
// EventBridge envelope of a CloudTrail event, or a CloudWatch Logs payload
// whose messages are CloudTrail records mean Records; digest keys mean
// Digest. head may end anywhere.
func Sniff(head []byte) Kind {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	i := skipWS(head, 0)
	if i < len(head) && head[i] == '[' {
		i = skipWS(head, i+1)
	}
	if i >= len(head) || head[i] != '{' {
		return NotCloudTrail
	}
	return sniffObject(head, i, 0)
}

func sniffObject(b []byte, i int, depth int) Kind {
	score := 0
	cw := false
	i, done := objStart(b, i)
	for !done && i >= 0 && i < len(b) && b[i] == '"' {
		j, _ := scanString(b, i)
		if j < 0 {
			break
		}
		key := b[i+1 : j-1]
		j = skipWS(b, j)
		if j >= len(b) || b[j] != ':' {
			break
		}
		j = skipWS(b, j+1)
		if j >= len(b) {
			break
		}
		switch string(key) {
		case "Records":
			if b[j] == '[' {
				return Records
			}
		case "eventVersion", "eventTime", "eventSource", "eventName", "userIdentity", "awsRegion",
			"eventID", "eventType", "recipientAccountId", "sourceIPAddress", "requestParameters":
			score++
		case "digestStartTime", "digestEndTime", "digestS3Bucket", "digestS3Object", "previousDigestSignature":
			return Digest
		case "detail-type":
			if e, _ := scanString(b, j); b[j] == '"' && e > 0 && bytes.HasSuffix(b[j+1:e-1], []byte("via CloudTrail")) {
				return Records
			}
		case "detail":
			if depth == 0 && b[j] == '{' && sniffObject(b, j, 1) == Records {
				return Records
			}
		case "messageType":
			cw = true
		case "logEvents":
			if cw && (bytes.Contains(b[j:], []byte(`\"eventVersion\"`)) || bytes.Contains(b[j:], []byte(`\"eventSource\"`))) {
				return Records
			}
			return NotCloudTrail
		}
		if score >= 3 {
			return Records
		}
		e := skipValue(b, j, 0)
		if e < 0 {
			break
		}
		i, done = objNext(b, e)
	}
	if score >= 2 {
		return Records
	}
	return NotCloudTrail
}
