package criteria

import (
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/vigilsec/vigil/finding"
)

// Kind is how an attribute's values compare.
type Kind uint8

// Attribute kinds.
const (
	// KindString values compare as strings; greaterThan and friends
	// compare values that parse as numbers numerically.
	KindString Kind = iota
	// KindNumber values are numbers (severity, service.count, ports …).
	KindNumber
	// KindTime values are instants compared as epoch milliseconds.
	KindTime
	// KindBool values are "true" or "false".
	KindBool
	// KindDynamic values are whatever the JSON document holds: the keys
	// under service.additionalInfo.
	KindDynamic
)

// Attribute describes one filterable attribute path.
type Attribute struct {
	Name string
	Kind Kind
	// Repeated is true when the path crosses a list (tags, network
	// interfaces, buckets, port probes …): a finding then has any number
	// of values, and a condition holds when any of them satisfies it.
	Repeated bool
	// InModel is false for the paths GuardDuty accepts that Vigil's
	// findings never carry (userIdentity, publicAccess, detection …):
	// such an attribute is always absent.
	InModel bool
}

// Prefixes of attribute families whose keys are open-ended.
const (
	additionalInfoPrefix = "service.additionalInfo."
	sequencePrefix       = "service.detection.sequence."
)

func expand(prefix string, names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}

var remoteIP = []string{
	"city.cityName", "country.countryCode", "country.countryName", "geoLocation.lat", "geoLocation.lon",
	"ipAddressV4", "ipAddressV6", "organization.asn", "organization.asnOrg", "organization.isp", "organization.org",
}

var blockPublicAccess = []string{"ignorePublicAcls", "restrictPublicBuckets", "blockPublicAcls", "blockPublicPolicy"}

// attributeNames is the list of FindingCriteria attributes (GuardDuty's
// ListFindings documentation), without the open-ended prefixes.
var attributeNames = func() []string {
	var a []string
	add := func(names ...string) { a = append(a, names...) }
	add("accountId", "arn", "associatedAttackSequenceArn", "confidence", "createdAt", "id", "partition",
		"region", "schemaVersion", "severity", "type", "updatedAt")

	ak := "resource.accessKeyDetails."
	add(expand(ak, "accessKeyId", "principalId", "userName", "userType")...)
	add(expand(ak+"userIdentity.", "accessKeyId", "accountId", "arn", "principalId", "type", "userName",
		"sessionContext.attributes.mfaAuthenticated", "sessionContext.ec2RoleDelivery", "sessionContext.invokedBy",
		"sessionContext.sessionIssuer.accountId", "sessionContext.sessionIssuer.arn",
		"sessionContext.sessionIssuer.principalId", "sessionContext.sessionIssuer.type",
		"sessionContext.sessionIssuer.userName", "sessionContext.sourceIdentity",
		"sessionContext.webIdFederationData.attributes", "sessionContext.webIdFederationData.federatedProvider")...)

	in := "resource.instanceDetails."
	add(expand(in, "availabilityZone", "iamInstanceProfile.arn", "iamInstanceProfile.id", "imageDescription",
		"imageId", "instanceId", "instanceState", "instanceType", "launchTime", "outpostArn", "platform",
		"productCodes.productCodeId", "productCodes.productCodeType", "tags.key", "tags.value")...)
	add(expand(in+"networkInterfaces.", "ipv6Addresses", "networkInterfaceId", "privateDnsName",
		"privateIpAddress", "privateIpAddresses.privateDnsName", "privateIpAddresses.privateIpAddress",
		"publicDnsName", "publicIp", "securityGroups.groupId", "securityGroups.groupName", "subnetId", "vpcId")...)
	add("resource.resourceType")

	s3 := "resource.s3BucketDetails."
	add(expand(s3, "arn", "createdAt", "name", "owner.id", "type", "tags.key", "tags.value",
		"defaultServerSideEncryption.encryptionType", "defaultServerSideEncryption.kmsMasterKeyArn",
		"publicAccess.effectivePermission",
		"s3ObjectDetails.eTag", "s3ObjectDetails.hash", "s3ObjectDetails.key", "s3ObjectDetails.objectArn",
		"s3ObjectDetails.versionId")...)
	pc := s3 + "publicAccess.permissionConfiguration."
	for _, p := range []string{"accessControlList.allowsPublicReadAccess", "accessControlList.allowsPublicWriteAccess",
		"bucketPolicy.allowsPublicReadAccess", "bucketPolicy.allowsPublicWriteAccess"} {
		add(pc + "bucketLevelPermissions." + p)
	}
	add(expand(pc+"bucketLevelPermissions.blockPublicAccess.", blockPublicAccess...)...)
	add(expand(pc+"accountLevelPermissions.blockPublicAccess.", blockPublicAccess...)...)

	add("service.action.actionType")
	api := "service.action.awsApiCallAction."
	add(expand(api, "api", "callerType", "domainDetails.domain", "errorCode", "remoteAccountDetails.accountId",
		"remoteAccountDetails.affiliated", "remoteAccountDetails.awsServiceName", "serviceName", "userAgent")...)
	add(expand(api+"remoteIpDetails.", remoteIP...)...)
	add(expand("service.action.dnsRequestAction.", "blocked", "domain", "domainWithSuffix", "protocol", "vpcOwnerAccountId")...)
	nc := "service.action.networkConnectionAction."
	add(expand(nc, "blocked", "connectionDirection", "localIpDetails.ipAddressV4", "localIpDetails.ipAddressV6",
		"localNetworkInterface", "localPortDetails.port", "localPortDetails.portName", "protocol",
		"remotePortDetails.port", "remotePortDetails.portName")...)
	add(expand(nc+"remoteIpDetails.", remoteIP...)...)
	pp := "service.action.portProbeAction."
	add(pp + "blocked")
	add(expand(pp+"portProbeDetails.", "localIpDetails.ipAddressV4", "localIpDetails.ipAddressV6",
		"localPortDetails.port", "localPortDetails.portName")...)
	add(expand(pp+"portProbeDetails.remoteIpDetails.", remoteIP...)...)

	add(expand("service.", "archived", "count", "detectorId", "eventFirstSeen", "eventLastSeen",
		"evidence.threatIntelligenceDetails.threatFileSha256", "evidence.threatIntelligenceDetails.threatListName",
		"evidence.threatIntelligenceDetails.threatNames", "featureName", "resourceRole", "serviceName",
		"userFeedback")...)
	slices.Sort(a)
	return slices.Compact(a)
}()

// timeAttributes hold instants: ISO-8601 strings in the finding, epoch
// milliseconds in criteria. resource.s3BucketDetails.createdAt is epoch
// seconds in the finding.
var timeAttributes = map[string]bool{
	"createdAt": true, "updatedAt": true, "service.eventFirstSeen": true, "service.eventLastSeen": true,
	"resource.instanceDetails.launchTime": true, "resource.s3BucketDetails.createdAt": true,
}

// epochSecondsAttributes are time attributes the finding stores as epoch
// seconds.
var epochSecondsAttributes = map[string]bool{"resource.s3BucketDetails.createdAt": true}

// attrTable maps every exact attribute name to its description and
// compiled struct path.
var attrTable = sync.OnceValue(func() map[string]*attrDef {
	m := make(map[string]*attrDef, len(attributeNames))
	for _, n := range attributeNames {
		m[n] = newAttrDef(n)
	}
	return m
})

// attrDef is an attribute with the struct path that reaches it.
type attrDef struct {
	Attribute
	steps []step // nil when !InModel
}

func newAttrDef(name string) *attrDef {
	d := &attrDef{Attribute: Attribute{Name: name}}
	steps, leaf, repeated, ok := compilePath(reflect.TypeFor[finding.Finding](), strings.Split(name, "."))
	if ok {
		d.steps, d.InModel, d.Repeated = steps, true, repeated
		switch leaf.Kind() {
		case reflect.Bool:
			d.Kind = KindBool
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
			reflect.Float32, reflect.Float64:
			d.Kind = KindNumber
		}
	}
	if timeAttributes[name] {
		d.Kind = KindTime
	}
	return d
}

// Attributes returns every attribute path a FindingCriteria may name, sorted.
// Two entries end in ".*" and stand for families of paths:
// "service.additionalInfo.*" (keys inside additionalInfo's JSON document,
// nested keys joined with dots) and "service.detection.sequence.*" (accepted,
// never present on Vigil's findings).
func Attributes() []string {
	out := make([]string, 0, len(attributeNames)+2)
	out = append(out, attributeNames...)
	out = append(out, additionalInfoPrefix+"*", sequencePrefix+"*")
	slices.Sort(out)
	return out
}

// Lookup describes the attribute name, or reports false if FindingCriteria
// does not accept it.
func Lookup(name string) (Attribute, bool) {
	if d, ok := attrTable()[name]; ok {
		return d.Attribute, true
	}
	switch {
	case strings.HasPrefix(name, additionalInfoPrefix) && validSubPath(name[len(additionalInfoPrefix):]):
		return Attribute{Name: name, Kind: KindDynamic, Repeated: true, InModel: true}, true
	case strings.HasPrefix(name, sequencePrefix) && validSubPath(name[len(sequencePrefix):]):
		return Attribute{Name: name}, true
	}
	return Attribute{}, false
}

// validSubPath reports whether p is a dot-separated key path without empty
// segments.
func validSubPath(p string) bool {
	if p == "" || len(p) > 512 {
		return false
	}
	return !slices.Contains(strings.Split(p, "."), "")
}

// ValidSortAttribute reports whether name may be a SortCriteria
// attributeName: any exact attribute with at most one value per finding.
// Attributes inside lists (tags, network interfaces …) and the open-ended
// families (service.additionalInfo.*) are not sortable.
func ValidSortAttribute(name string) bool {
	d, ok := attrTable()[name]
	return ok && !d.Repeated
}

// step is one move of a compiled struct path.
type step struct {
	op    stepOp
	field int    // opField
	key   string // opMapKey
}

type stepOp uint8

const (
	opField  stepOp = iota // descend into a struct field
	opDeref                // follow a pointer; nil means absent
	opEach                 // visit every element of a slice
	opMapKey               // look up a string key of a map
)

// compilePath resolves JSON names against t. It returns the steps, the type
// of the leaf (pointers and slices removed), whether a list was crossed, and
// false if the path does not exist in the model.
func compilePath(t reflect.Type, segs []string) (steps []step, leaf reflect.Type, repeated, ok bool) {
	unwrap := func() {
		for {
			switch t.Kind() {
			case reflect.Pointer:
				steps = append(steps, step{op: opDeref})
				t = t.Elem()
			case reflect.Slice:
				steps = append(steps, step{op: opEach})
				repeated = true
				t = t.Elem()
			default:
				return
			}
		}
	}
	for _, seg := range segs {
		unwrap()
		switch t.Kind() {
		case reflect.Struct:
			i := jsonField(t, seg)
			if i < 0 {
				return nil, nil, false, false
			}
			steps = append(steps, step{op: opField, field: i})
			t = t.Field(i).Type
		case reflect.Map:
			if t.Key().Kind() != reflect.String {
				return nil, nil, false, false
			}
			steps = append(steps, step{op: opMapKey, key: seg})
			t = t.Elem()
		default:
			return nil, nil, false, false
		}
	}
	unwrap()
	switch t.Kind() {
	case reflect.Struct, reflect.Map, reflect.Interface:
		return nil, nil, false, false // not a leaf
	}
	return steps, t, repeated, true
}

// jsonField returns the index of the field of struct t whose JSON name is
// name, or -1.
func jsonField(t reflect.Type, name string) int {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" {
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		if tag == name {
			return i
		}
	}
	return -1
}
