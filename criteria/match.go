package criteria

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/vigilsec/vigil/finding"
)

// Match reports whether f satisfies every condition of c. Criteria that do
// not validate (an unknown attribute …) match nothing; a nil or empty
// criteria matches everything. Match does not modify c apart from caching
// its compiled form, and is safe for concurrent use.
func (c *Criteria) Match(f *finding.Finding) bool {
	if c == nil || len(c.Criterion) == 0 {
		return true
	}
	p, err := c.program()
	if err != nil {
		return false
	}
	return p.match(f)
}

// program returns the compiled form of c, validated as for a filter
// (matches allowed), without modifying c.
func (c *Criteria) program() (*program, error) {
	if ch, _ := c.cache.Load().(*cached); ch != nil && sameMap(ch.m, c.Criterion) {
		return ch.prog, ch.err
	}
	norm := make(map[string]Condition, len(c.Criterion))
	var err error
	if len(c.Criterion) > MaxAttributes {
		err = errorf("criterion", "the findingCriteria has %d attributes; at most %d are allowed.", len(c.Criterion), MaxAttributes)
	}
	for _, name := range sortedKeys(c.Criterion) {
		if err != nil {
			break
		}
		cond := c.Criterion[name].normalized()
		err = validateCondition(name, cond, true)
		norm[name] = cond
	}
	var p *program
	if err == nil {
		p, err = compile(norm)
	}
	c.cache.Store(&cached{m: c.Criterion, prog: p, err: err})
	return p, err
}

func sameMap(a, b map[string]Condition) bool {
	return len(a) == len(b) && reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// program is compiled criteria: one clause per attribute.
type program struct {
	clauses []clause
}

type clause struct {
	get  accessor
	cond cond
	cost int
}

func cost(attr Attribute) int {
	switch {
	case fastAccessors[attr.Name] != nil:
		return 0
	case attr.Kind == KindDynamic:
		return 2
	}
	return 1
}

// accessor appends the values of one attribute of f to dst. st carries the
// parsed additionalInfo document.
type accessor func(f *finding.Finding, st *state, dst []value) []value

// value is one value of an attribute.
type value struct {
	s   string  // the text (strings, booleans, times); "" for numbers until str
	n   float64 // the number (numbers; times in epoch milliseconds)
	num bool    // n is valid
}

func (v value) str() string {
	if v.s == "" && v.num {
		return formatNumber(v.n)
	}
	return v.s
}

func formatNumber(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// operand is one value of equals or notEquals.
type operand struct {
	s   string
	n   float64
	num bool
	// bucket: severity's integer value v matches [v, v+1).
	bucket bool
}

// cond is a compiled, normalised Condition.
type cond struct {
	kind            Kind
	eq, neq         []operand
	match, notMatch []string
	lo, hi          float64
	hasLo, hasHi    bool
	loIncl, hiIncl  bool
}

func compile(m map[string]Condition) (*program, error) {
	p := &program{}
	for _, name := range sortedKeys(m) {
		attr, ok := Lookup(name)
		if !ok {
			return nil, errorf(name, "the findingCriteria attribute %q is not a valid finding attribute.", name)
		}
		cl := clause{get: accessorFor(attr), cond: compileCond(attr, m[name]), cost: cost(attr)}
		p.clauses = append(p.clauses, cl)
	}
	// Cheap clauses first: the hand-written accessors, then struct walks,
	// then additionalInfo.
	slices.SortStableFunc(p.clauses, func(a, b clause) int { return a.cost - b.cost })
	return p, nil
}

func compileCond(attr Attribute, c Condition) cond {
	k := cond{kind: attr.Kind, match: c.Matches, notMatch: c.NotMatches}
	ops := func(vals []string) []operand {
		out := make([]operand, 0, len(vals))
		for _, v := range vals {
			out = append(out, newOperand(attr, v))
		}
		return out
	}
	k.eq, k.neq = ops(c.Equals), ops(c.NotEquals)
	lower := func(v *int64, incl bool) {
		if v == nil {
			return
		}
		f := float64(*v)
		if !k.hasLo || f > k.lo || (f == k.lo && !incl) {
			k.lo, k.loIncl, k.hasLo = f, incl, true
		}
	}
	upper := func(v *int64, incl bool) {
		if v == nil {
			return
		}
		f := float64(*v)
		if !k.hasHi || f < k.hi || (f == k.hi && !incl) {
			k.hi, k.hiIncl, k.hasHi = f, incl, true
		}
	}
	lower(c.GreaterThan, false)
	lower(c.GreaterThanOrEqual, true)
	upper(c.LessThan, false)
	upper(c.LessThanOrEqual, true)
	return k
}

func newOperand(attr Attribute, v string) operand {
	o := operand{s: v}
	switch attr.Kind {
	case KindBool:
		o.s = strings.ToLower(v)
	case KindTime:
		o.n, o.num = parseTimeOperand(v)
	default:
		o.n, o.num = parseNumber(v)
		o.bucket = attr.Name == "severity" && o.num && o.n == math.Trunc(o.n)
	}
	return o
}

func (k *cond) equal(v value, o *operand) bool {
	switch {
	case k.kind == KindBool:
		return v.s == o.s
	case o.bucket:
		return v.num && v.n >= o.n && v.n < o.n+1
	case v.num && o.num:
		return v.n == o.n
	default:
		return v.str() == o.s
	}
}

func (k *cond) inRange(v value) bool {
	n, ok := v.n, v.num
	if !ok {
		if k.kind == KindBool || k.kind == KindTime {
			return false
		}
		n, ok = parseNumber(v.s)
		if !ok {
			return false
		}
	}
	if k.hasLo && (n < k.lo || (n == k.lo && !k.loIncl)) {
		return false
	}
	if k.hasHi && (n > k.hi || (n == k.hi && !k.hiIncl)) {
		return false
	}
	return true
}

func (k *cond) positive() bool {
	return len(k.eq) > 0 || len(k.match) > 0 || k.hasLo || k.hasHi
}

// pos reports whether v satisfies every positive operator.
func (k *cond) pos(v value) bool {
	if len(k.eq) > 0 {
		ok := false
		for i := range k.eq {
			if k.equal(v, &k.eq[i]) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if (k.hasLo || k.hasHi) && !k.inRange(v) {
		return false
	}
	if len(k.match) > 0 {
		s := v.str()
		ok := false
		for _, p := range k.match {
			if Wildcard(p, s) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// neg reports whether v equals or matches a value of a negative operator.
func (k *cond) neg(v value) bool {
	for i := range k.neq {
		if k.equal(v, &k.neq[i]) {
			return true
		}
	}
	if len(k.notMatch) > 0 {
		s := v.str()
		for _, p := range k.notMatch {
			if Wildcard(p, s) {
				return true
			}
		}
	}
	return false
}

// holds evaluates the condition on the values of an attribute.
func (k *cond) holds(vals []value) bool {
	if k.positive() {
		ok := false
		for _, v := range vals {
			if k.pos(v) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(k.neq) > 0 || len(k.notMatch) > 0 {
		for _, v := range vals {
			if k.neg(v) {
				return false
			}
		}
	}
	return true
}

// state is the scratch space of one match.
type state struct {
	buf      []value
	info     any // the parsed additionalInfo document
	infoDone bool
}

var statePool = sync.Pool{New: func() any { return &state{buf: make([]value, 0, 16)} }}

func (p *program) match(f *finding.Finding) bool {
	st := statePool.Get().(*state)
	ok := true
	for i := range p.clauses {
		cl := &p.clauses[i]
		vals := cl.get(f, st, st.buf[:0])
		st.buf = vals[:0]
		if !cl.cond.holds(vals) {
			ok = false
			break
		}
	}
	clear(st.buf[:cap(st.buf)])
	st.info, st.infoDone = nil, false
	statePool.Put(st)
	return ok
}

// accessorFor returns the accessor of attr: hand-written for the common
// attributes, a struct walk for the others in the model, the additionalInfo
// lookup for its keys, and nothing for paths Vigil's findings never have.
func accessorFor(attr Attribute) accessor {
	if a, ok := fastAccessors[attr.Name]; ok {
		return a
	}
	switch {
	case attr.Kind == KindDynamic:
		return infoAccessor(strings.TrimPrefix(attr.Name, additionalInfoPrefix))
	case !attr.InModel:
		return func(_ *finding.Finding, _ *state, dst []value) []value { return dst }
	}
	return walkAccessor(attrTable()[attr.Name])
}

// walkAccessor follows a compiled struct path.
func walkAccessor(d *attrDef) accessor {
	kind, seconds := d.Kind, epochSecondsAttributes[d.Name]
	steps := d.steps
	return func(f *finding.Finding, _ *state, dst []value) []value {
		return walk(reflect.ValueOf(f).Elem(), steps, kind, seconds, dst)
	}
}

func walk(v reflect.Value, steps []step, kind Kind, seconds bool, dst []value) []value {
	for i, s := range steps {
		switch s.op {
		case opField:
			v = v.Field(s.field)
		case opDeref:
			if v.IsNil() {
				return dst
			}
			v = v.Elem()
		case opMapKey:
			if v.IsNil() {
				return dst
			}
			v = v.MapIndex(reflect.ValueOf(s.key))
			if !v.IsValid() {
				return dst
			}
		case opEach:
			for j := range v.Len() {
				dst = walk(v.Index(j), steps[i+1:], kind, seconds, dst)
			}
			return dst
		}
	}
	return appendLeaf(v, kind, seconds, dst)
}

func appendLeaf(v reflect.Value, kind Kind, seconds bool, dst []value) []value {
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if s == "" {
			return dst
		}
		if kind == KindTime {
			return append(dst, timeValue(s))
		}
		return append(dst, value{s: s})
	case reflect.Bool:
		return append(dst, boolValue(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := float64(v.Int())
		if seconds {
			return append(dst, value{s: strconv.FormatInt(v.Int(), 10), n: n * 1000, num: true})
		}
		return append(dst, value{n: n, num: true})
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return append(dst, value{n: float64(v.Uint()), num: true})
	case reflect.Float32, reflect.Float64:
		return append(dst, value{n: v.Float(), num: true})
	}
	return dst
}

func timeValue(s string) value {
	v := value{s: s}
	if t, err := finding.ParseTime(s); err == nil {
		v.n, v.num = float64(t.UnixMilli()), true
	}
	return v
}

func boolValue(b bool) value {
	if b {
		return value{s: "true"}
	}
	return value{s: "false"}
}

// infoAccessor looks up a key path inside the additionalInfo document.
func infoAccessor(path string) accessor {
	return func(f *finding.Finding, st *state, dst []value) []value {
		if !st.infoDone {
			st.infoDone = true
			if ai := f.Service.AdditionalInfo; ai != nil && ai.Value != "" {
				d := json.NewDecoder(strings.NewReader(ai.Value))
				d.UseNumber()
				var doc any
				if d.Decode(&doc) == nil {
					st.info = doc
				}
			}
		}
		if st.info == nil {
			return dst
		}
		return lookupJSON(st.info, path, dst)
	}
}

// lookupJSON appends the values at the dotted key path of a decoded JSON
// document. A key may itself contain dots: at each level the longest
// matching key is tried first. Arrays are crossed element by element.
func lookupJSON(doc any, path string, dst []value) []value {
	switch d := doc.(type) {
	case []any:
		for _, e := range d {
			dst = lookupJSON(e, path, dst)
		}
		return dst
	case map[string]any:
		if path == "" {
			return dst
		}
		if v, ok := d[path]; ok {
			return appendJSON(v, dst)
		}
		for i := len(path) - 1; i > 0; i-- {
			if path[i] != '.' {
				continue
			}
			if v, ok := d[path[:i]]; ok {
				dst = lookupJSON(v, path[i+1:], dst)
			}
		}
	}
	return dst
}

func appendJSON(v any, dst []value) []value {
	switch x := v.(type) {
	case string:
		if x != "" {
			dst = append(dst, value{s: x})
		}
	case json.Number:
		if n, ok := parseNumber(string(x)); ok {
			dst = append(dst, value{s: string(x), n: n, num: true})
		}
	case bool:
		dst = append(dst, boolValue(x))
	case []any:
		for _, e := range x {
			dst = appendJSON(e, dst)
		}
	}
	return dst
}

// fastAccessors are hand-written accessors of the attributes that filters
// and suppression rules use most. They return exactly what the struct walk
// returns (a test checks it).
var fastAccessors = map[string]accessor{
	"accountId":             str(func(f *finding.Finding) string { return f.AccountID }),
	"arn":                   str(func(f *finding.Finding) string { return f.Arn }),
	"id":                    str(func(f *finding.Finding) string { return f.ID }),
	"region":                str(func(f *finding.Finding) string { return f.Region }),
	"type":                  str(func(f *finding.Finding) string { return f.Type }),
	"resource.resourceType": str(func(f *finding.Finding) string { return f.Resource.ResourceType }),
	"service.action.actionType": str(func(f *finding.Finding) string {
		return f.Service.Action.ActionType
	}),
	"service.resourceRole": str(func(f *finding.Finding) string { return f.Service.ResourceRole }),
	"service.userFeedback": str(func(f *finding.Finding) string { return f.Service.UserFeedback }),
	"service.detectorId":   str(func(f *finding.Finding) string { return f.Service.DetectorID }),
	"service.featureName":  str(func(f *finding.Finding) string { return f.Service.FeatureName }),
	"resource.instanceDetails.instanceId": str(func(f *finding.Finding) string {
		if d := f.Resource.InstanceDetails; d != nil {
			return d.InstanceID
		}
		return ""
	}),
	"resource.accessKeyDetails.accessKeyId": accessKey(func(d *finding.AccessKeyDetails) string { return d.AccessKeyID }),
	"resource.accessKeyDetails.principalId": accessKey(func(d *finding.AccessKeyDetails) string { return d.PrincipalID }),
	"resource.accessKeyDetails.userName":    accessKey(func(d *finding.AccessKeyDetails) string { return d.UserName }),
	"resource.accessKeyDetails.userType":    accessKey(func(d *finding.AccessKeyDetails) string { return d.UserType }),
	"resource.instanceDetails.tags.key":     tags(func(t *finding.Tag) string { return t.Key }),
	"resource.instanceDetails.tags.value":   tags(func(t *finding.Tag) string { return t.Value }),
	"service.action.networkConnectionAction.remoteIpDetails.ipAddressV4": str(func(f *finding.Finding) string {
		if a := f.Service.Action.NetworkConnectionAction; a != nil && a.RemoteIPDetails != nil {
			return a.RemoteIPDetails.IPAddressV4
		}
		return ""
	}),
	"service.action.awsApiCallAction.remoteIpDetails.ipAddressV4": str(func(f *finding.Finding) string {
		if a := f.Service.Action.AwsAPICallAction; a != nil && a.RemoteIPDetails != nil {
			return a.RemoteIPDetails.IPAddressV4
		}
		return ""
	}),
	"service.action.portProbeAction.portProbeDetails.remoteIpDetails.ipAddressV4": func(f *finding.Finding, _ *state, dst []value) []value {
		if a := f.Service.Action.PortProbeAction; a != nil {
			for i := range a.PortProbeDetails {
				if r := a.PortProbeDetails[i].RemoteIPDetails; r != nil && r.IPAddressV4 != "" {
					dst = append(dst, value{s: r.IPAddressV4})
				}
			}
		}
		return dst
	},
	"service.action.awsApiCallAction.api": str(func(f *finding.Finding) string {
		if a := f.Service.Action.AwsAPICallAction; a != nil {
			return a.API
		}
		return ""
	}),
	"service.action.dnsRequestAction.domain": str(func(f *finding.Finding) string {
		if a := f.Service.Action.DNSRequestAction; a != nil {
			return a.Domain
		}
		return ""
	}),
	"severity": func(f *finding.Finding, _ *state, dst []value) []value {
		return append(dst, value{n: f.Severity, num: true})
	},
	"service.count": func(f *finding.Finding, _ *state, dst []value) []value {
		return append(dst, value{n: float64(f.Service.Count), num: true})
	},
	"service.archived": func(f *finding.Finding, _ *state, dst []value) []value {
		return append(dst, boolValue(f.Service.Archived))
	},
	"createdAt":              timeAt(func(f *finding.Finding) string { return f.CreatedAt }),
	"updatedAt":              timeAt(func(f *finding.Finding) string { return f.UpdatedAt }),
	"service.eventFirstSeen": timeAt(func(f *finding.Finding) string { return f.Service.EventFirstSeen }),
	"service.eventLastSeen":  timeAt(func(f *finding.Finding) string { return f.Service.EventLastSeen }),
}

func str(get func(*finding.Finding) string) accessor {
	return func(f *finding.Finding, _ *state, dst []value) []value {
		if s := get(f); s != "" {
			dst = append(dst, value{s: s})
		}
		return dst
	}
}

func accessKey(get func(*finding.AccessKeyDetails) string) accessor {
	return func(f *finding.Finding, _ *state, dst []value) []value {
		if d := f.Resource.AccessKeyDetails; d != nil {
			if s := get(d); s != "" {
				dst = append(dst, value{s: s})
			}
		}
		return dst
	}
}

func tags(get func(*finding.Tag) string) accessor {
	return func(f *finding.Finding, _ *state, dst []value) []value {
		if d := f.Resource.InstanceDetails; d != nil {
			for i := range d.Tags {
				if s := get(&d.Tags[i]); s != "" {
					dst = append(dst, value{s: s})
				}
			}
		}
		return dst
	}
}

func timeAt(get func(*finding.Finding) string) accessor {
	return func(f *finding.Finding, _ *state, dst []value) []value {
		if s := get(f); s != "" {
			dst = append(dst, timeValue(s))
		}
		return dst
	}
}

// Wildcard reports whether s matches pattern, where "*" matches any run of
// characters (possibly empty) and "?" exactly one character; every other
// character matches itself. The whole of s must match.
func Wildcard(pattern, s string) bool {
	// Iterative matching with backtracking to the last star: linear in
	// practice, O(len(pattern)·len(s)) at worst.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		if p < len(pattern) {
			switch c := pattern[p]; c {
			case '*':
				star, mark = p, i
				p++
				continue
			case '?':
				_, w := utf8.DecodeRuneInString(s[i:])
				p++
				i += w
				continue
			default:
				if c == s[i] {
					p++
					i++
					continue
				}
			}
		}
		if star < 0 {
			return false
		}
		_, w := utf8.DecodeRuneInString(s[mark:])
		mark += w
		p, i = star+1, mark
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
