package cloudtrail

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vigilsec/vigil/event"
)

// Errors a *decode.RecordError may wrap.
var (
	// ErrMissingField: a required field (eventTime, eventName) is absent,
	// null or empty.
	ErrMissingField = errors.New("required field missing")
	// ErrNotObject: a record is not a JSON object.
	ErrNotObject = errors.New("record is not a JSON object")
)

// bailOut is returned by decodeObject when a top-level object turns out to
// be a container (its Records, logEvents or logFiles array starts at
// d.bailPos).
const bailOut = -3

// containerKind says what the elements of a streamed array are.
type containerKind uint8

const (
	arrRecords   containerKind = iota + 1 // CloudTrail records
	arrLogEvents                          // CloudWatch Logs events whose message is a record
	arrSkip                               // digest logFiles: skipped
)

// fieldError is the first problem found in a known field of a record.
type fieldError struct {
	field string
	err   error
}

// recState is per-record scratch state of the record decoder.
type recState struct {
	ferr          *fieldError
	hasTime       bool
	hasName       bool
	sawDetailType bool // EventBridge envelope key seen
	digest        bool // a digest-file key seen
	control       bool // CloudWatch Logs messageType CONTROL_MESSAGE seen
	bailPos       int
	bailKind      containerKind
}

func jsonKind(c byte) string {
	switch c {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// typeErr records that field holds the wrong JSON type and skips the value.
func (d *Decoder) typeErr(b []byte, i int, field, want string) int {
	j := skipValue(b, i, 0)
	if j >= 0 && d.rs.ferr == nil {
		d.rs.ferr = &fieldError{field, fmt.Errorf("want %s, got %s", want, jsonKind(b[i]))}
	}
	return j
}

func (d *Decoder) valueErr(field string, err error) {
	if d.rs.ferr == nil {
		d.rs.ferr = &fieldError{field, err}
	}
}

// strBytes reads the string at b[i] and returns its content, unescaped into
// the arena when it holds escapes. ok is false (and j the scan result) when
// the value is not a string; null gives (nil, end, true).
func (d *Decoder) strBytes(b []byte, i int, field string) (s []byte, j int, ok bool) {
	switch b[i] {
	case '"':
		j, esc := scanString(b, i)
		if j < 0 {
			return nil, j, false
		}
		raw := b[i+1 : j-1]
		if esc {
			n := len(d.arena)
			d.arena = unescape(d.arena, raw)
			raw = d.arena[n:len(d.arena):len(d.arena)]
		}
		return raw, j, true
	case 'n':
		j = scanLiteral(b, i, "null")
		return nil, j, j >= 0
	case 't', 'f':
		// mfaAuthenticated and sessionCredentialFromConsole are strings in
		// CloudTrail but some exporters write booleans: keep the text.
		if field == fMFA || field == fSessionCredentialFromConsole {
			lit := "false"
			if b[i] == 't' {
				lit = "true"
			}
			j = scanLiteral(b, i, lit)
			if j < 0 {
				return nil, j, false
			}
			return b[i:j], j, true
		}
	}
	return nil, d.typeErr(b, i, field, "string"), false
}

// str reads a string field, interning it.
func (d *Decoder) str(b []byte, i int, field string, dst *string) int {
	s, j, ok := d.strBytes(b, i, field)
	if ok {
		*dst = d.cache.get(s)
	}
	return j
}

// strBorrow reads a high-cardinality string field without copying it: the
// string aliases the input buffer (or the arena) and is valid until the next
// call to Next.
func (d *Decoder) strBorrow(b []byte, i int, field string, dst *string) int {
	s, j, ok := d.strBytes(b, i, field)
	if ok {
		*dst = borrow(s)
	}
	return j
}

func (d *Decoder) optBool(b []byte, i int, field string, dst *event.OptBool) int {
	switch b[i] {
	case 't':
		j := scanLiteral(b, i, "true")
		if j >= 0 {
			*dst = event.True
		}
		return j
	case 'f':
		j := scanLiteral(b, i, "false")
		if j >= 0 {
			*dst = event.False
		}
		return j
	case 'n':
		return scanLiteral(b, i, "null")
	case '"':
		s, j, ok := d.strBytes(b, i, field)
		if !ok {
			return j
		}
		switch string(s) {
		case "true", "True", "TRUE":
			*dst = event.True
		case "false", "False", "FALSE":
			*dst = event.False
		case "":
		default:
			d.valueErr(field, fmt.Errorf("%q is not a boolean", s))
		}
		return j
	}
	return d.typeErr(b, i, field, "boolean")
}

// raw keeps the JSON value at b[i] as is (nil for null).
func raw(b []byte, i int, dst *[]byte) int {
	j := skipValue(b, i, 0)
	if j >= 0 {
		if j-i == 4 && b[i] == 'n' {
			*dst = nil
		} else {
			*dst = b[i:j:j]
		}
	}
	return j
}

// readKey reads `"key" :` at b[i] and returns the key's ID and the index of
// the value (which is within b).
func (d *Decoder) readKey(b []byte, i int) (keyID, int) {
	if b[i] != '"' {
		return kUnknown, badSyntax
	}
	j, esc := scanString(b, i)
	if j < 0 {
		return kUnknown, j
	}
	key := b[i+1 : j-1]
	if esc {
		d.keyBuf = unescape(d.keyBuf[:0], key)
		key = d.keyBuf
	}
	k := lookupKey(key)
	if j < len(b) && b[j] == ':' {
		j++
	} else {
		j = skipWS(b, j)
		if j >= len(b) {
			return k, needMore
		}
		if b[j] != ':' {
			return k, badSyntax
		}
		j++
	}
	j = skipWS(b, j)
	if j >= len(b) {
		return k, needMore
	}
	return k, j
}

// objNext reads what follows a member value: it returns the index of the
// next key after a comma, or the index after the closing brace and done.
func objNext(b []byte, i int) (int, bool) {
	i = skipWS(b, i)
	if i >= len(b) {
		return needMore, false
	}
	switch b[i] {
	case ',':
		i = skipWS(b, i+1)
		if i >= len(b) {
			return needMore, false
		}
		return i, false
	case '}':
		return i + 1, true
	}
	return badSyntax, false
}

// objStart steps into the object at b[i]. It returns the index of the first
// key, or the index after the brace and done for an empty object.
func objStart(b []byte, i int) (int, bool) {
	i = skipWS(b, i+1)
	if i >= len(b) {
		return needMore, false
	}
	if b[i] == '}' {
		return i + 1, true
	}
	return i, false
}

// Field paths used in errors.
const (
	fEventTime                    = "eventTime"
	fMFA                          = "userIdentity.sessionContext.attributes.mfaAuthenticated"
	fCreationDate                 = "userIdentity.sessionContext.attributes.creationDate"
	fSessionCredentialFromConsole = "sessionCredentialFromConsole"
)

// resetAPI clears api for a new record, keeping the Resources capacity.
func resetAPI(api *event.APICall) {
	res := api.Resources[:0]
	*api = event.APICall{}
	api.Resources = res
}

// decodeObject decodes the record object at b[i] into api and returns the
// index after it. A candidate is an object met at the top level (or as an
// element of a top-level array): it may also be a Records document, a
// CloudWatch Logs payload, an EventBridge envelope or a digest, which this
// function recognises by their keys.
func (d *Decoder) decodeObject(b []byte, i int, api *event.APICall, candidate bool) int {
	i, done := objStart(b, i)
	if done || i < 0 {
		return i
	}
	envelope := false
	for {
		k, j := d.readKey(b, i)
		if j < 0 {
			return j
		}
		i = j
		if envelope {
			k = kUnknown
		}
		switch k {
		case kEventVersion:
			i = d.str(b, i, "eventVersion", &api.EventVersion)
		case kEventTime:
			s, j, ok := d.strBytes(b, i, fEventTime)
			if ok && s != nil {
				if t, ok := parseTime(s); ok {
					api.EventTime = t
					d.rs.hasTime = true
				} else {
					d.valueErr(fEventTime, fmt.Errorf("%q is not a valid time", s))
				}
			}
			i = j
		case kEventSource:
			i = d.str(b, i, "eventSource", &api.EventSource)
		case kEventName:
			i = d.str(b, i, "eventName", &api.EventName)
			d.rs.hasName = api.EventName != ""
		case kAWSRegion:
			i = d.str(b, i, "awsRegion", &api.AWSRegion)
		case kSourceIPAddress:
			i = d.str(b, i, "sourceIPAddress", &api.SourceIPAddress)
			api.SourceIP = parseIP(api.SourceIPAddress)
		case kUserAgent:
			i = d.str(b, i, "userAgent", &api.UserAgent)
		case kErrorCode:
			i = d.str(b, i, "errorCode", &api.ErrorCode)
		case kErrorMessage:
			i = d.strBorrow(b, i, "errorMessage", &api.ErrorMessage)
		case kRequestID:
			i = d.strBorrow(b, i, "requestID", &api.RequestID)
		case kEventID:
			i = d.strBorrow(b, i, "eventID", &api.EventID)
		case kEventType:
			i = d.str(b, i, "eventType", &api.EventType)
		case kEventCategory:
			i = d.str(b, i, "eventCategory", &api.EventCategory)
		case kAPIVersion:
			i = d.str(b, i, "apiVersion", &api.APIVersion)
		case kReadOnly:
			i = d.optBool(b, i, "readOnly", &api.ReadOnly)
		case kManagementEvent:
			i = d.optBool(b, i, "managementEvent", &api.ManagementEvent)
		case kRecipientAccountID:
			i = d.str(b, i, "recipientAccountId", &api.RecipientAccountID)
		case kSharedEventID:
			i = d.strBorrow(b, i, "sharedEventID", &api.SharedEventID)
		case kVPCEndpointID:
			i = d.str(b, i, "vpcEndpointId", &api.VPCEndpointID)
		case kVPCEndpointAccountID:
			i = d.str(b, i, "vpcEndpointAccountId", &api.VPCEndpointAccount)
		case kSessionCredentialFromConsole:
			i = d.str(b, i, fSessionCredentialFromConsole, &api.SessionCredentialFromConsole)
		case kUserIdentity:
			switch b[i] {
			case '{':
				i = d.decodeIdentity(b, i, &api.UserIdentity)
			case 'n':
				i = scanLiteral(b, i, "null")
			default:
				i = d.typeErr(b, i, "userIdentity", "object")
			}
		case kResources:
			i = d.decodeResources(b, i, api)
		case kRequestParameters:
			i = raw(b, i, &api.RequestParameters)
		case kResponseElements:
			i = raw(b, i, &api.ResponseElements)
		case kAdditionalEventData:
			i = raw(b, i, &api.AdditionalEventData)
		case kServiceEventDetails:
			i = raw(b, i, &api.ServiceEventDetails)
		default:
			if candidate && !envelope {
				switch k {
				case kRecords, kLogEvents, kLogFiles:
					if b[i] == '[' {
						d.rs.bailPos = i
						switch k {
						case kRecords:
							d.rs.bailKind = arrRecords
						case kLogEvents:
							d.rs.bailKind = arrLogEvents
						default:
							d.rs.bailKind = arrSkip
						}
						return bailOut
					}
				case kMessageType:
					if b[i] == '"' {
						j, _ := scanString(b, i)
						if j < 0 {
							return j
						}
						d.rs.control = string(b[i+1:j-1]) == "CONTROL_MESSAGE"
						i = j
						goto next
					}
				case kDetailType:
					d.rs.sawDetailType = true
				case kDetail:
					if d.rs.sawDetailType && b[i] == '{' {
						// EventBridge envelope: the record is the detail.
						resetAPI(api)
						d.rs = recState{}
						i = d.decodeObject(b, i, api, false)
						envelope = true
						goto next
					}
				case kDigestStartTime, kDigestEndTime:
					d.rs.digest = true
				}
			}
			i = skipValue(b, i, 0)
		}
	next:
		if i < 0 {
			return i
		}
		i, done = objNext(b, i)
		if done || i < 0 {
			return i
		}
	}
}

// parseIP parses s when it looks like an IP address (CloudTrail also logs
// service names such as "ec2.amazonaws.com" and "AWS Internal" there).
// IPv4-mapped IPv6 addresses are unmapped.
func parseIP(s string) netip.Addr {
	if len(s) < 2 || len(s) > 64 {
		return netip.Addr{}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == ':' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return netip.Addr{}
		}
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func (d *Decoder) decodeIdentity(b []byte, i int, id *event.UserIdentity) int {
	i, done := objStart(b, i)
	if done || i < 0 {
		return i
	}
	for {
		k, j := d.readKey(b, i)
		if j < 0 {
			return j
		}
		i = j
		switch k {
		case kType:
			i = d.str(b, i, "userIdentity.type", &id.Type)
		case kPrincipalID:
			i = d.str(b, i, "userIdentity.principalId", &id.PrincipalID)
		case kARN:
			i = d.str(b, i, "userIdentity.arn", &id.ARN)
		case kAccountID:
			i = d.str(b, i, "userIdentity.accountId", &id.AccountID)
		case kAccessKeyID:
			i = d.str(b, i, "userIdentity.accessKeyId", &id.AccessKeyID)
		case kUserName:
			i = d.str(b, i, "userIdentity.userName", &id.UserName)
		case kInvokedBy:
			i = d.str(b, i, "userIdentity.invokedBy", &id.InvokedBy)
		case kCredentialID:
			i = d.str(b, i, "userIdentity.credentialId", &id.CredentialID)
		case kOnBehalfOf:
			i = d.decodeOnBehalfOf(b, i, id)
		case kSessionContext:
			i = d.decodeSessionContext(b, i, id)
		default:
			i = skipValue(b, i, 0)
		}
		if i < 0 {
			return i
		}
		i, done = objNext(b, i)
		if done || i < 0 {
			return i
		}
	}
}

// subObject checks that the value at b[i] is an object (or null, reported as
// done) before a nested decoder walks it.
func (d *Decoder) subObject(b []byte, i int, field string) (int, bool) {
	switch b[i] {
	case '{':
		return objStart(b, i)
	case 'n':
		return scanLiteral(b, i, "null"), true
	}
	return d.typeErr(b, i, field, "object"), true
}

func (d *Decoder) decodeOnBehalfOf(b []byte, i int, id *event.UserIdentity) int {
	i, done := d.subObject(b, i, "userIdentity.onBehalfOf")
	if done || i < 0 {
		return i
	}
	for {
		k, j := d.readKey(b, i)
		if j < 0 {
			return j
		}
		i = j
		if k == kUserID {
			i = d.str(b, i, "userIdentity.onBehalfOf.userId", &id.OnBehalfOfUserID)
		} else {
			i = skipValue(b, i, 0)
		}
		if i < 0 {
			return i
		}
		i, done = objNext(b, i)
		if done || i < 0 {
			return i
		}
	}
}

func (d *Decoder) decodeSessionContext(b []byte, i int, id *event.UserIdentity) int {
	i, done := d.subObject(b, i, "userIdentity.sessionContext")
	if done || i < 0 {
		return i
	}
	for {
		k, j := d.readKey(b, i)
		if j < 0 {
			return j
		}
		i = j
		switch k {
		case kAttributes:
			i = d.decodeAttributes(b, i, id)
		case kSourceIdentity:
			i = d.str(b, i, "userIdentity.sessionContext.sourceIdentity", &id.SourceIdentity)
		case kEC2RoleDelivery:
			i = d.str(b, i, "userIdentity.sessionContext.ec2RoleDelivery", &id.EC2RoleDelivery)
		case kSessionIssuer:
			i = d.decodeIssuer(b, i, id)
		default:
			i = skipValue(b, i, 0)
		}
		if i < 0 {
			return i
		}
		i, done = objNext(b, i)
		if done || i < 0 {
			return i
		}
	}
}

func (d *Decoder) decodeAttributes(b []byte, i int, id *event.UserIdentity) int {
	i, done := d.subObject(b, i, "userIdentity.sessionContext.attributes")
	if done || i < 0 {
		return i
	}
	for {
		k, j := d.readKey(b, i)
		if j < 0 {
			return j
		}
		i = j
		switch k {
		case kMFAAuthenticated:
			i = d.str(b, i, fMFA, &id.MFAAuthenticated)
		case kCreationDate:
			s, j, ok := d.strBytes(b, i, fCreationDate)
			if ok && len(s) > 0 {
				if t, ok := parseTime(s); ok {
					id.SessionCreated = t
				} else {
					d.valueErr(fCreationDate, fmt.Errorf("%q is not a valid time", s))
				}
			}
			i = j
		default:
			i = skipValue(b, i, 0)
		}
		if i < 0 {
			return i
		}
		i, done = objNext(b, i)
		if done || i < 0 {
			return i
		}
	}
}

func (d *Decoder) decodeIssuer(b []byte, i int, id *event.UserIdentity) int {
	i, done := d.subObject(b, i, "userIdentity.sessionContext.sessionIssuer")
	if done || i < 0 {
		return i
	}
	for {
		k, j := d.readKey(b, i)
		if j < 0 {
			return j
		}
		i = j
		switch k {
		case kType:
			i = d.str(b, i, "userIdentity.sessionContext.sessionIssuer.type", &id.IssuerType)
		case kPrincipalID:
			i = d.str(b, i, "userIdentity.sessionContext.sessionIssuer.principalId", &id.IssuerPrincipalID)
		case kARN:
			i = d.str(b, i, "userIdentity.sessionContext.sessionIssuer.arn", &id.IssuerARN)
		case kAccountID:
			i = d.str(b, i, "userIdentity.sessionContext.sessionIssuer.accountId", &id.IssuerAccountID)
		case kUserName:
			i = d.str(b, i, "userIdentity.sessionContext.sessionIssuer.userName", &id.IssuerUserName)
		default:
			i = skipValue(b, i, 0)
		}
		if i < 0 {
			return i
		}
		i, done = objNext(b, i)
		if done || i < 0 {
			return i
		}
	}
}

func (d *Decoder) decodeResources(b []byte, i int, api *event.APICall) int {
	switch b[i] {
	case '[':
	case 'n':
		return scanLiteral(b, i, "null")
	default:
		return d.typeErr(b, i, "resources", "array")
	}
	i = skipWS(b, i+1)
	if i >= len(b) {
		return needMore
	}
	if b[i] == ']' {
		return i + 1
	}
	for n := 0; ; n++ {
		switch b[i] {
		case '{':
			api.Resources = append(api.Resources, event.Resource{})
			i = d.decodeResource(b, i, &api.Resources[len(api.Resources)-1], n)
		case '"':
			// EventBridge style: the element is the ARN.
			api.Resources = append(api.Resources, event.Resource{})
			i = d.strBorrow(b, i, "resources.ARN", &api.Resources[len(api.Resources)-1].ARN)
		default:
			i = d.typeErr(b, i, fmt.Sprintf("resources[%d]", n), "object")
		}
		if i < 0 {
			return i
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return needMore
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
			if i >= len(b) {
				return needMore
			}
		case ']':
			return i + 1
		default:
			return badSyntax
		}
	}
}

func (d *Decoder) decodeResource(b []byte, i int, r *event.Resource, n int) int {
	i, done := objStart(b, i)
	if done || i < 0 {
		return i
	}
	for {
		k, j := d.readKey(b, i)
		if j < 0 {
			return j
		}
		i = j
		switch k {
		case kARN:
			if b[i] != '"' && b[i] != 'n' {
				i = d.typeErr(b, i, fmt.Sprintf("resources[%d].ARN", n), "string")
			} else {
				i = d.strBorrow(b, i, "resources.ARN", &r.ARN)
			}
		case kAccountID:
			if b[i] != '"' && b[i] != 'n' {
				i = d.typeErr(b, i, fmt.Sprintf("resources[%d].accountId", n), "string")
			} else {
				i = d.str(b, i, "resources.accountId", &r.AccountID)
			}
		case kType:
			if b[i] != '"' && b[i] != 'n' {
				i = d.typeErr(b, i, fmt.Sprintf("resources[%d].type", n), "string")
			} else {
				i = d.str(b, i, "resources.type", &r.Type)
			}
		default:
			i = skipValue(b, i, 0)
		}
		if i < 0 {
			return i
		}
		i, done = objNext(b, i)
		if done || i < 0 {
			return i
		}
	}
}
