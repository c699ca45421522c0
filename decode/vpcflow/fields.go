package vpcflow

// fieldID names a column of a flow log format. fIgnore marks columns that are
// read past: documented fields that [event.Flow] does not keep and
// undocumented names that merely look like field names.
type fieldID uint8

const (
	fIgnore fieldID = iota
	// version 2
	fVersion
	fAccountID
	fInterfaceID
	fSrcAddr
	fDstAddr
	fSrcPort
	fDstPort
	fProtocol
	fPackets
	fBytes
	fStart
	fEnd
	fAction
	fLogStatus
	// version 3
	fVPCID
	fSubnetID
	fInstanceID
	fTCPFlags
	fType
	fPktSrcAddr
	fPktDstAddr
	// version 4
	fRegion
	fAZID
	fSublocationType
	fSublocationID
	// version 5
	fPktSrcAWSService
	fPktDstAWSService
	fFlowDirection
	fTrafficPath
	// version 7 and later
	fECSClusterName
	fECSTaskID
	fRejectReason

	numFieldIDs
)

// fieldNames holds the documented (hyphenated) name of each mapped field.
var fieldNames = [numFieldIDs]string{
	fIgnore:           "",
	fVersion:          "version",
	fAccountID:        "account-id",
	fInterfaceID:      "interface-id",
	fSrcAddr:          "srcaddr",
	fDstAddr:          "dstaddr",
	fSrcPort:          "srcport",
	fDstPort:          "dstport",
	fProtocol:         "protocol",
	fPackets:          "packets",
	fBytes:            "bytes",
	fStart:            "start",
	fEnd:              "end",
	fAction:           "action",
	fLogStatus:        "log-status",
	fVPCID:            "vpc-id",
	fSubnetID:         "subnet-id",
	fInstanceID:       "instance-id",
	fTCPFlags:         "tcp-flags",
	fType:             "type",
	fPktSrcAddr:       "pkt-srcaddr",
	fPktDstAddr:       "pkt-dstaddr",
	fRegion:           "region",
	fAZID:             "az-id",
	fSublocationType:  "sublocation-type",
	fSublocationID:    "sublocation-id",
	fPktSrcAWSService: "pkt-src-aws-service",
	fPktDstAWSService: "pkt-dst-aws-service",
	fFlowDirection:    "flow-direction",
	fTrafficPath:      "traffic-path",
	fECSClusterName:   "ecs-cluster-name",
	fECSTaskID:        "ecs-task-id",
	fRejectReason:     "reject-reason",
}

// ignoredNames are documented fields that event.Flow does not keep.
var ignoredNames = []string{
	"ecs-cluster-arn",
	"ecs-container-instance-arn",
	"ecs-container-instance-id",
	"ecs-container-id",
	"ecs-second-container-id",
	"ecs-service-name",
	"ecs-task-definition-arn",
	"ecs-task-arn",
	"resource-id",
	"encryption-status",
}

// knownFields maps every documented field name to its fieldID (fIgnore for
// the documented fields that are not kept).
var knownFields = func() map[string]fieldID {
	m := make(map[string]fieldID, int(numFieldIDs)+len(ignoredNames))
	for id := fVersion; id < numFieldIDs; id++ {
		m[fieldNames[id]] = id
	}
	for _, n := range ignoredNames {
		m[n] = fIgnore
	}
	return m
}()

// The formats used when no header line has been seen, chosen by field count:
// the default version 2 format, and all fields of versions 3, 4 and 5 in the
// documented order (the order the console offers and AWS examples use).
var (
	formatV2 = column(fVersion, fAccountID, fInterfaceID, fSrcAddr, fDstAddr,
		fSrcPort, fDstPort, fProtocol, fPackets, fBytes, fStart, fEnd, fAction, fLogStatus)
	formatV3 = column(append(formatV2.ids[:14:14], fVPCID, fSubnetID, fInstanceID, fTCPFlags,
		fType, fPktSrcAddr, fPktDstAddr)...)
	formatV4 = column(append(formatV3.ids[:21:21], fRegion, fAZID, fSublocationType, fSublocationID)...)
	formatV5 = column(append(formatV4.ids[:25:25], fPktSrcAWSService, fPktDstAWSService,
		fFlowDirection, fTrafficPath)...)
)

// format is the column layout of the records that follow a header line (or
// one of the default layouts).
type format struct {
	ids   []fieldID
	names []string // per column, for errors; the header's spelling for ignored columns
}

func column(ids ...fieldID) *format {
	f := &format{ids: ids, names: make([]string, len(ids))}
	for i, id := range ids {
		f.names[i] = fieldNames[id]
	}
	return f
}

// defaultFormat returns the layout for a headerless record of n fields, or nil.
func defaultFormat(n int) *format {
	switch n {
	case 14:
		return formatV2
	case 21:
		return formatV3
	case 25:
		return formatV4
	case 29:
		return formatV5
	}
	return nil
}

// isFieldName reports whether b looks like a flow log field name:
// a lowercase letter followed by lowercase letters, digits, hyphens or
// underscores.
func isFieldName(b []byte) bool {
	if len(b) == 0 || b[0] < 'a' || b[0] > 'z' {
		return false
	}
	for _, c := range b[1:] {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// lookupField finds the field a header token names, accepting the
// underscore spelling (account_id) used by Athena and some exports.
func lookupField(b []byte) (fieldID, bool) {
	if id, ok := knownFields[string(b)]; ok {
		return id, true
	}
	var tmp [64]byte
	if len(b) > len(tmp) {
		return fIgnore, false
	}
	n := copy(tmp[:], b)
	for i := range n {
		if tmp[i] == '_' {
			tmp[i] = '-'
		}
	}
	id, ok := knownFields[string(tmp[:n])]
	return id, ok
}

// headerFields reports whether the fields of line form a header line, and
// how many of them are documented field names. A header line is made of
// tokens that all look like field names, at least one of which is documented.
func headerFields(line []byte, sp *fieldSpans) (known int, ok bool) {
	for k := range sp.n {
		t := sp.field(line, k)
		if !isFieldName(t) {
			return 0, false
		}
		if _, k := lookupField(t); k {
			known++
		}
	}
	return known, known > 0
}

// parseHeader builds the column layout of a header line already accepted by
// headerFields.
func parseHeader(line []byte, sp *fieldSpans) *format {
	f := &format{ids: make([]fieldID, sp.n), names: make([]string, sp.n)}
	for i := range sp.n {
		t := sp.field(line, i)
		id, _ := lookupField(t)
		f.ids[i] = id
		if id != fIgnore {
			f.names[i] = fieldNames[id]
		} else {
			f.names[i] = string(t)
		}
	}
	return f
}
