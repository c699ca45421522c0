package store

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/criteria"
)

// column is an SQL expression holding one attribute's single value.
type column struct {
	expr     string
	kind     criteria.Kind
	nullable bool // NULL when the finding has no value
}

// columns are the FindingCriteria attributes with a column of their own.
// String columns hold the empty string when the finding has no value, which criteria
// treats as absent too.
var columns = map[string]column{
	"accountId":                 {expr: "account_id"},
	"region":                    {expr: "region"},
	"type":                      {expr: "type"},
	"id":                        {expr: "id"},
	"resource.resourceType":     {expr: "resource_type"},
	"service.resourceRole":      {expr: "resource_role"},
	"service.action.actionType": {expr: "action_type"},
	"service.userFeedback":      {expr: "feedback"},
	"severity":                  {expr: "severity", kind: criteria.KindNumber},
	"service.count":             {expr: "count", kind: criteria.KindNumber},
	"createdAt":                 {expr: "created_at", kind: criteria.KindTime},
	"updatedAt":                 {expr: "updated_at", kind: criteria.KindTime},
	"service.eventFirstSeen":    {expr: "event_first_seen", kind: criteria.KindTime, nullable: true},
	"service.eventLastSeen":     {expr: "event_last_seen", kind: criteria.KindTime, nullable: true},
	"service.archived":          {expr: "archived", kind: criteria.KindBool},
}

// resourceIDAttributes are attributes that the resource_id column holds
// when the resource type is the given one and the attribute is not empty
// (see resourceID).
var resourceIDAttributes = map[string]string{
	"resource.instanceDetails.instanceId":   "Instance",
	"resource.accessKeyDetails.accessKeyId": "AccessKey",
}

// addCriteria compiles c into p: each attribute's condition becomes an SQL
// condition when its semantics can be expressed exactly there — the
// attributes with a column, the other single-valued string attributes
// through json_extract on doc, and attributes Vigil's findings never have
// (constant) — and the rest becomes p.residual, evaluated in Go.
func (p *plan) addCriteria(c *criteria.Criteria) error {
	c = c.Clone()
	if err := c.Validate(true); err != nil {
		return err
	}
	names := make([]string, 0, len(c.Criterion))
	for n := range c.Criterion {
		names = append(names, n)
	}
	slices.Sort(names)
	residual := map[string]criteria.Condition{}
	for _, name := range names {
		cond := c.Criterion[name]
		if name == "service.archived" && p.archived == nil {
			if a, ok := pinnedBool(cond); ok {
				p.archived = &a
				continue
			}
		}
		sql, args, ok := compileCondition(name, cond)
		if !ok {
			residual[name] = cond
			continue
		}
		if sql != "" {
			p.conds = append(p.conds, sql)
			p.args = append(p.args, args...)
		}
	}
	// The resource_id index narrows instance and access key ids when the
	// criteria fix the resource type.
	if rt, ok := c.Criterion["resource.resourceType"]; ok && len(rt.Equals) == 1 {
		for attr, typ := range resourceIDAttributes {
			cond, ok := c.Criterion[attr]
			vals := nonEmpty(cond.Equals)
			if !ok || rt.Equals[0] != typ || len(vals) == 0 {
				continue
			}
			p.conds = append(p.conds, "resource_id IN ("+placeholders(len(vals))+")")
			p.args = append(p.args, stringsToAny(vals)...)
		}
	}
	if len(residual) > 0 {
		p.residual = &criteria.Criteria{Criterion: residual}
		if err := p.residual.Validate(true); err != nil {
			return err
		}
	}
	return nil
}

// pinnedBool reports whether a boolean condition is exactly "equals one
// value".
func pinnedBool(c criteria.Condition) (bool, bool) {
	if len(c.NotEquals) > 0 || len(c.Matches) > 0 || len(c.NotMatches) > 0 || c.GreaterThan != nil ||
		c.GreaterThanOrEqual != nil || c.LessThan != nil || c.LessThanOrEqual != nil || len(c.Equals) == 0 {
		return false, false
	}
	v := strings.EqualFold(c.Equals[0], "true")
	for _, e := range c.Equals[1:] {
		if strings.EqualFold(e, "true") != v {
			return false, false
		}
	}
	return v, true
}

func nonEmpty(vals []string) []string {
	var out []string
	for _, v := range vals {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

func hasRange(c criteria.Condition) bool {
	return c.GreaterThan != nil || c.GreaterThanOrEqual != nil || c.LessThan != nil || c.LessThanOrEqual != nil
}

func positive(c criteria.Condition) bool {
	return len(c.Equals) > 0 || len(c.Matches) > 0 || hasRange(c)
}

// compileCondition returns the SQL of one normalised condition ("" for no
// constraint) and whether SQL can evaluate it exactly as criteria does.
func compileCondition(name string, c criteria.Condition) (string, []any, bool) {
	col, ok := columns[name]
	if !ok {
		attr, known := criteria.Lookup(name)
		switch {
		case !known:
			return "", nil, false
		case !attr.InModel:
			// Never present: positive operators fail, negative ones hold.
			if positive(c) {
				return "0", nil, true
			}
			return "", nil, true
		case attr.Kind != criteria.KindString || attr.Repeated:
			return "", nil, false
		}
		col = column{expr: "json_extract(doc, " + sqlString(jsonPath(name)) + ")", nullable: true}
	}
	var conds []string
	var args []any
	add := func(sql string, a ...any) {
		conds = append(conds, sql)
		args = append(args, a...)
	}
	switch col.kind {
	case criteria.KindString:
		if hasRange(c) {
			return "", nil, false // numeric comparison of text: Go
		}
		if len(c.Equals) > 0 {
			vals := nonEmpty(c.Equals) // a value is never empty
			if len(vals) == 0 {
				return "0", nil, true
			}
			add(col.expr+" IN ("+placeholders(len(vals))+")", stringsToAny(vals)...)
		}
		if len(c.Matches) > 0 {
			g, a := globs(col.expr, c.Matches)
			add(col.expr+" <> '' AND "+g, a...)
		}
		if vals := nonEmpty(c.NotEquals); len(vals) > 0 {
			add("coalesce("+col.expr+", '') NOT IN ("+placeholders(len(vals))+")", stringsToAny(vals)...)
		}
		if len(c.NotMatches) > 0 {
			g, a := globs(col.expr, c.NotMatches)
			add("(coalesce("+col.expr+", '') = '' OR NOT "+g+")", a...)
		}
	case criteria.KindNumber, criteria.KindTime:
		if len(c.Matches) > 0 || len(c.NotMatches) > 0 {
			return "", nil, false // matched as text: Go
		}
		eq := func(vals []string) (string, []any, bool) {
			var terms []string
			var a []any
			for _, v := range vals {
				var n float64
				if col.kind == criteria.KindTime {
					ms, ok := criteria.TimeOperand(v)
					if !ok {
						return "", nil, false
					}
					n = float64(ms)
				} else {
					f, err := strconv.ParseFloat(v, 64)
					if err != nil {
						return "", nil, false
					}
					n = f
				}
				if name == "severity" && n == math.Trunc(n) {
					terms = append(terms, "("+col.expr+" >= ? AND "+col.expr+" < ?)")
					a = append(a, n, n+1)
				} else {
					terms = append(terms, col.expr+" = ?")
					a = append(a, n)
				}
			}
			return "(" + strings.Join(terms, " OR ") + ")", a, true
		}
		if len(c.Equals) > 0 {
			sql, a, ok := eq(c.Equals)
			if !ok {
				return "", nil, false
			}
			add(sql, a...)
		}
		for _, b := range []struct {
			v  *int64
			op string
		}{{c.GreaterThan, ">"}, {c.GreaterThanOrEqual, ">="}, {c.LessThan, "<"}, {c.LessThanOrEqual, "<="}} {
			if b.v != nil {
				add(col.expr+" "+b.op+" ?", *b.v)
			}
		}
		if len(c.NotEquals) > 0 {
			sql, a, ok := eq(c.NotEquals)
			if !ok {
				return "", nil, false
			}
			if col.nullable {
				add("("+col.expr+" IS NULL OR NOT "+sql+")", a...)
			} else {
				add("NOT "+sql, a...)
			}
		}
	case criteria.KindBool:
		if len(c.Matches) > 0 || len(c.NotMatches) > 0 {
			return "", nil, false
		}
		if hasRange(c) {
			return "0", nil, true // a boolean is never in a numeric range
		}
		set := func(vals []string) []any {
			var a []any
			for _, v := range vals {
				a = append(a, strings.EqualFold(v, "true"))
			}
			return a
		}
		if len(c.Equals) > 0 {
			a := set(c.Equals)
			add(col.expr+" IN ("+placeholders(len(a))+")", a...)
		}
		if len(c.NotEquals) > 0 {
			a := set(c.NotEquals)
			add(col.expr+" NOT IN ("+placeholders(len(a))+")", a...)
		}
	default:
		return "", nil, false
	}
	if len(conds) == 0 {
		return "", nil, true
	}
	return "(" + strings.Join(conds, " AND ") + ")", args, true
}

// globs returns "(expr GLOB ? OR …)" for wildcard patterns: criteria's "*"
// and "?" are GLOB's, and "[" is escaped as "[[]" since GLOB gives it a
// meaning criteria's patterns do not have.
func globs(expr string, patterns []string) (string, []any) {
	terms := make([]string, len(patterns))
	args := make([]any, len(patterns))
	for i, p := range patterns {
		terms[i] = expr + " GLOB ?"
		args[i] = strings.ReplaceAll(p, "[", "[[]")
	}
	return "(" + strings.Join(terms, " OR ") + ")", args
}
