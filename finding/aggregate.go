package finding

import (
	"sort"
)

// Merge folds occurrence src into dst, which must have the same id, the way
// GuardDuty aggregates repeated activity: the counts add up, eventFirstSeen
// and createdAt keep the earliest time, eventLastSeen and updatedAt the
// latest, and the details (severity, title, description, resource, action,
// evidence) are those of the latest occurrence. Archive state and feedback
// stay with dst. Port-probe details accumulate (distinct remote addresses and
// ports, at most MaxProbeDetails).
func Merge(dst, src *Finding) {
	dst.Service.Count += src.Service.Count
	if src.Service.EventFirstSeen != "" && (dst.Service.EventFirstSeen == "" || src.Service.EventFirstSeen < dst.Service.EventFirstSeen) {
		dst.Service.EventFirstSeen = src.Service.EventFirstSeen
	}
	if src.CreatedAt != "" && (dst.CreatedAt == "" || src.CreatedAt < dst.CreatedAt) {
		dst.CreatedAt = src.CreatedAt
	}
	if src.UpdatedAt > dst.UpdatedAt {
		dst.UpdatedAt = src.UpdatedAt
	}
	if src.Service.EventLastSeen < dst.Service.EventLastSeen {
		// An older occurrence arriving late only adds to the count, except
		// that port-probe details still accumulate.
		mergeProbes(dst, src, false)
		return
	}
	dst.Service.EventLastSeen = src.Service.EventLastSeen
	old := dst.Service.Action.PortProbeAction
	dst.Severity = src.Severity
	dst.Title = src.Title
	dst.Description = src.Description
	dst.Resource = src.Resource
	dst.Service.Action = src.Service.Action
	dst.Service.Evidence = src.Service.Evidence
	dst.Service.AdditionalInfo = src.Service.AdditionalInfo
	dst.Service.ResourceRole = src.Service.ResourceRole
	if old != nil && dst.Service.Action.PortProbeAction != nil {
		probes := &PortProbeAction{Blocked: old.Blocked, PortProbeDetails: append([]PortProbeDetail(nil), old.PortProbeDetails...)}
		dst.Service.Action.PortProbeAction = probes
		mergeProbes(dst, src, true)
	}
}

// MaxProbeDetails caps the port-probe details kept on one finding.
const MaxProbeDetails = 20

func mergeProbes(dst, src *Finding, newest bool) {
	d, s := dst.Service.Action.PortProbeAction, src.Service.Action.PortProbeAction
	if d == nil || s == nil {
		return
	}
	for _, p := range s.PortProbeDetails {
		dup := false
		for _, q := range d.PortProbeDetails {
			if probeKey(p) == probeKey(q) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		if len(d.PortProbeDetails) >= MaxProbeDetails {
			if !newest {
				continue
			}
			d.PortProbeDetails = d.PortProbeDetails[1:]
		}
		d.PortProbeDetails = append(d.PortProbeDetails, p)
	}
	if newest {
		d.Blocked = s.Blocked
	}
}

func probeKey(p PortProbeDetail) string {
	k := ""
	if p.RemoteIPDetails != nil {
		k = p.RemoteIPDetails.IPAddressV4 + p.RemoteIPDetails.IPAddressV6
	}
	if p.LocalPortDetails != nil {
		k += "/" + itoa(p.LocalPortDetails.Port)
	}
	return k
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// Aggregator collects findings by id, merging repeats. It is not safe for
// concurrent use.
type Aggregator struct {
	byID map[string]*Finding
}

// NewAggregator returns an empty Aggregator.
func NewAggregator() *Aggregator { return &Aggregator{byID: map[string]*Finding{}} }

// Add merges f into the aggregate. f is copied; the caller may reuse it.
func (a *Aggregator) Add(f *Finding) {
	if cur, ok := a.byID[f.ID]; ok {
		Merge(cur, f)
		return
	}
	c := *f
	a.byID[f.ID] = &c
}

// Len returns the number of distinct findings.
func (a *Aggregator) Len() int { return len(a.byID) }

// Findings returns the aggregated findings sorted by Sort.
func (a *Aggregator) Findings() []Finding {
	out := make([]Finding, 0, len(a.byID))
	for _, f := range a.byID {
		out = append(out, *f)
	}
	Sort(out)
	return out
}

// Reset empties the aggregator.
func (a *Aggregator) Reset() { clear(a.byID) }

// Sort orders findings worst first: severity descending, then updatedAt
// descending (newest first), then id, so output is deterministic.
func Sort(fs []Finding) {
	sort.Slice(fs, func(i, j int) bool {
		a, b := &fs[i], &fs[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.UpdatedAt != b.UpdatedAt {
			return a.UpdatedAt > b.UpdatedAt
		}
		return a.ID < b.ID
	})
}
