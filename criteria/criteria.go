// Package criteria implements GuardDuty's FindingCriteria: the conditions
// ListFindings, GetFindingsStatistics and filters (saved filters and
// suppression rules) select findings with.
//
// A [Criteria] maps attribute paths — the finding's JSON paths, such as
// "severity" or "resource.instanceDetails.tags.key" ([Attributes] lists them)
// — to a [Condition]. Different attributes are ANDed; the values of one
// operator are ORed.
//
// # Semantics
//
// An attribute inside a list (tags, network interfaces, port probes, buckets
// …) has one value per element. The positive operators of a condition
// (equals, greaterThan …, matches) hold when one value satisfies all of
// them; the negative ones (notEquals, notMatches) hold when no value equals
// or matches any of theirs. An absent attribute — a missing field, an empty
// string, a nil pointer — has no value, so it fails every positive operator
// and passes every negative one.
//
//   - Strings compare exactly (case-sensitive). The numeric operators
//     compare string values that parse as numbers numerically (an ASN, a
//     port in additionalInfo) and fail on the others.
//   - Numbers (severity, confidence, service.count, ports, coordinates)
//     compare numerically; equals values are their decimal text ("22").
//   - severity equals/notEquals follow GuardDuty's integer severity buckets
//     (Low "1","2","3", Medium "4","5","6", High "7","8", Critical "9","10"):
//     an integer value v matches v <= severity < v+1, so equals ["7","8"]
//     selects 7.0–8.9. A fractional value ("8.5") matches exactly.
//   - Times (createdAt, updatedAt, service.eventFirstSeen/LastSeen,
//     resource.instanceDetails.launchTime, resource.s3BucketDetails.createdAt)
//     compare as epoch milliseconds; equals takes milliseconds or an
//     RFC 3339 time.
//   - Booleans (service.archived, blocked …) equal "true" or "false",
//     ignoring case.
//   - service.additionalInfo.<key> looks inside the JSON document that
//     additionalInfo.value holds; nested objects are reached with dots
//     (service.additionalInfo.unusual.asnOrg), array elements are values
//     of their own, and JSON numbers and booleans behave as above.
//   - matches/notMatches (filters only) take wildcard patterns, GuardDuty's
//     pattern syntax as documented for filters: "*" matches any run of
//     characters (possibly empty), "?" exactly one character, everything
//     else itself, case-sensitively, against the whole value. There is no
//     escape character. Numbers match as their decimal text, times as the
//     finding's ISO-8601 string.
//
// The deprecated operators eq, neq, gt, gte, lt and lte are aliases of
// equals, notEquals, greaterThan, greaterThanOrEqual, lessThan and
// lessThanOrEqual; [Criteria.Validate] folds them onto the new names.
//
// # Evaluation
//
// [Criteria.Match] compiles the criteria once (cached on the Criteria) into
// one accessor per attribute: hand-written for the common paths, a
// precompiled walk over the struct by JSON names for the others, and a
// parse of the additionalInfo document for its keys. It does not marshal
// the finding.
package criteria

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Limits of GuardDuty's FindingCriteria.
const (
	MaxAttributes    = 50  // attributes per criteria
	MaxValues        = 50  // values of equals / notEquals
	MaxPatterns      = 5   // values of matches / notMatches
	MaxPatternLength = 512 // characters of one pattern
)

// Condition is the condition on one attribute, with GuardDuty's wire names.
type Condition struct {
	Equals             []string `json:"equals,omitempty"`
	NotEquals          []string `json:"notEquals,omitempty"`
	GreaterThan        *int64   `json:"greaterThan,omitempty"`
	GreaterThanOrEqual *int64   `json:"greaterThanOrEqual,omitempty"`
	LessThan           *int64   `json:"lessThan,omitempty"`
	LessThanOrEqual    *int64   `json:"lessThanOrEqual,omitempty"`
	Matches            []string `json:"matches,omitempty"`
	NotMatches         []string `json:"notMatches,omitempty"`

	// Deprecated aliases.
	Eq  []string `json:"eq,omitempty"`
	Neq []string `json:"neq,omitempty"`
	Gt  *int64   `json:"gt,omitempty"`
	Gte *int64   `json:"gte,omitempty"`
	Lt  *int64   `json:"lt,omitempty"`
	Lte *int64   `json:"lte,omitempty"`
}

// Criteria is a FindingCriteria. Do not modify Criterion after the first
// call of Validate or Match; assign a new map instead.
type Criteria struct {
	Criterion map[string]Condition `json:"criterion"`

	cache atomic.Value // of *cached
}

// cached is the compiled program of one Criterion map.
type cached struct {
	m    map[string]Condition
	prog *program
	err  error
}

// Error is a criteria validation error. Field is the attribute path (or
// "criterion" for the criteria as a whole); Message is a complete sentence
// in the style of GuardDuty's BadRequestException messages that names the
// attribute.
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Message }

func errorf(field, format string, args ...any) *Error {
	return &Error{Field: field, Message: "The request is rejected because " + fmt.Sprintf(format, args...)}
}

// Clone returns a deep copy of c (without its compiled program).
func (c *Criteria) Clone() *Criteria {
	if c == nil {
		return nil
	}
	out := &Criteria{}
	if c.Criterion != nil {
		out.Criterion = make(map[string]Condition, len(c.Criterion))
		for k, v := range c.Criterion {
			out.Criterion[k] = v.clone()
		}
	}
	return out
}

func (c Condition) clone() Condition {
	cl := func(s []string) []string {
		if s == nil {
			return nil
		}
		return slices.Clone(s)
	}
	ci := func(p *int64) *int64 {
		if p == nil {
			return nil
		}
		v := *p
		return &v
	}
	return Condition{
		Equals: cl(c.Equals), NotEquals: cl(c.NotEquals), Matches: cl(c.Matches), NotMatches: cl(c.NotMatches),
		GreaterThan: ci(c.GreaterThan), GreaterThanOrEqual: ci(c.GreaterThanOrEqual),
		LessThan: ci(c.LessThan), LessThanOrEqual: ci(c.LessThanOrEqual),
		Eq: cl(c.Eq), Neq: cl(c.Neq), Gt: ci(c.Gt), Gte: ci(c.Gte), Lt: ci(c.Lt), Lte: ci(c.Lte),
	}
}

// normalized returns the condition with the deprecated aliases folded onto
// the new names: eq values are added to equals, neq to notEquals, and of a
// bound given under both names the stricter one is kept (both must hold).
func (c Condition) normalized() Condition {
	c = c.clone()
	c.Equals = appendNew(c.Equals, c.Eq)
	c.NotEquals = appendNew(c.NotEquals, c.Neq)
	c.GreaterThan = stricter(c.GreaterThan, c.Gt, true)
	c.GreaterThanOrEqual = stricter(c.GreaterThanOrEqual, c.Gte, true)
	c.LessThan = stricter(c.LessThan, c.Lt, false)
	c.LessThanOrEqual = stricter(c.LessThanOrEqual, c.Lte, false)
	c.Eq, c.Neq, c.Gt, c.Gte, c.Lt, c.Lte = nil, nil, nil, nil, nil, nil
	return c
}

func appendNew(dst, src []string) []string {
	for _, v := range src {
		if !slices.Contains(dst, v) {
			dst = append(dst, v)
		}
	}
	return dst
}

func stricter(a, b *int64, lower bool) *int64 {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case lower == (*b > *a):
		return b
	}
	return a
}

// Validate checks c against GuardDuty's rules and folds the deprecated
// aliases onto the new operator names (eq into equals, gt into greaterThan
// …), modifying c. forFilter allows matches/notMatches, which only
// CreateFilter and UpdateFilter accept. The error is an [*Error] naming the
// attribute. An empty criteria is valid and selects every finding.
func (c *Criteria) Validate(forFilter bool) error {
	if len(c.Criterion) > MaxAttributes {
		return errorf("criterion", "the findingCriteria has %d attributes; at most %d are allowed.", len(c.Criterion), MaxAttributes)
	}
	norm := make(map[string]Condition, len(c.Criterion))
	for _, name := range sortedKeys(c.Criterion) {
		cond := c.Criterion[name].normalized()
		if err := validateCondition(name, cond, forFilter); err != nil {
			return err
		}
		norm[name] = cond
	}
	c.Criterion = norm
	p, err := compile(norm)
	c.cache.Store(&cached{m: norm, prog: p, err: err})
	return err
}

func sortedKeys(m map[string]Condition) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func validateCondition(name string, c Condition, forFilter bool) error {
	attr, ok := Lookup(name)
	if !ok {
		return errorf(name, "the findingCriteria attribute %q is not a valid finding attribute.", name)
	}
	if len(c.Equals) == 0 && len(c.NotEquals) == 0 && len(c.Matches) == 0 && len(c.NotMatches) == 0 &&
		c.GreaterThan == nil && c.GreaterThanOrEqual == nil && c.LessThan == nil && c.LessThanOrEqual == nil {
		return errorf(name, "the findingCriteria condition of %q is empty: give at least one of equals, notEquals, greaterThan, greaterThanOrEqual, lessThan, lessThanOrEqual, matches or notMatches.", name)
	}
	for _, op := range []struct {
		name string
		vals []string
	}{{"equals", c.Equals}, {"notEquals", c.NotEquals}} {
		if len(op.vals) > MaxValues {
			return errorf(name, "the %s condition of %q has %d values; at most %d are allowed.", op.name, name, len(op.vals), MaxValues)
		}
		for _, v := range op.vals {
			if err := validValue(attr, v); err != "" {
				return errorf(name, "the %s value %q of %q is not valid: %s.", op.name, v, name, err)
			}
		}
	}
	for _, op := range []struct {
		name string
		vals []string
	}{{"matches", c.Matches}, {"notMatches", c.NotMatches}} {
		if len(op.vals) == 0 {
			continue
		}
		if !forFilter {
			return errorf(name, "the %s operator (on %q) is allowed only in CreateFilter/UpdateFilter.", op.name, name)
		}
		if len(op.vals) > MaxPatterns {
			return errorf(name, "the %s condition of %q has %d values; at most %d are allowed.", op.name, name, len(op.vals), MaxPatterns)
		}
		for _, v := range op.vals {
			if n := len([]rune(v)); n == 0 || n > MaxPatternLength {
				return errorf(name, "the %s value of %q must be 1 to %d characters long.", op.name, name, MaxPatternLength)
			}
		}
	}
	return nil
}

// validValue checks an equals/notEquals value of attr and returns what is
// wrong with it, or "".
func validValue(attr Attribute, v string) string {
	switch attr.Kind {
	case KindNumber:
		if _, ok := parseNumber(v); !ok {
			return "it must be a number"
		}
	case KindTime:
		if _, ok := parseTimeOperand(v); !ok {
			return "it must be epoch milliseconds or an RFC 3339 time"
		}
	case KindBool:
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return `it must be "true" or "false"`
		}
	}
	return ""
}

// parseNumber parses a finite decimal number.
func parseNumber(s string) (float64, bool) {
	if s == "" || len(s) > 64 {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	// Reject the non-decimal spellings ParseFloat accepts ("0x1p3",
	// "1_000", "Inf").
	for _, r := range s {
		if !strings.ContainsRune("0123456789+-.eE", r) {
			return 0, false
		}
	}
	return f, true
}

// parseTimeOperand parses epoch milliseconds or an RFC 3339 time into epoch
// milliseconds.
func parseTimeOperand(s string) (float64, bool) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return float64(ms), true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return float64(t.UnixMilli()), true
	}
	return 0, false
}

// TimeOperand converts an equals value of a time attribute (epoch
// milliseconds or an RFC 3339 time) to epoch milliseconds, as Match does.
func TimeOperand(s string) (int64, bool) {
	f, ok := parseTimeOperand(s)
	return int64(f), ok
}
