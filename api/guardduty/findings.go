package guardduty

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/criteria"
	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/finding"
	"github.com/vigilsec/vigil/store"
)

type sortCriteria struct {
	AttributeName string `json:"attributeName"`
	OrderBy       string `json:"orderBy"`
}

type listFindingsInput struct {
	FindingCriteria *criteria.Criteria `json:"findingCriteria"`
	SortCriteria    *sortCriteria      `json:"sortCriteria"`
	MaxResults      *int               `json:"maxResults"`
	NextToken       string             `json:"nextToken"`
}

// query builds the store query of a findings operation: the accounts the
// caller sees, its region, the criteria and the sort.
func (s *Service) query(c caller, crit *criteria.Criteria, sc *sortCriteria) (store.Query, error) {
	q := store.Query{Accounts: s.visibleAccounts(c), Region: c.Region, Sort: store.SortUpdatedAt, Desc: true}
	if crit != nil && len(crit.Criterion) > 0 {
		if err := crit.Validate(false); err != nil {
			return q, badRequest("%v", err)
		}
		q.Criteria = crit
	}
	if sc != nil && sc.AttributeName != "" {
		if !criteria.ValidSortAttribute(sc.AttributeName) {
			return q, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: sortCriteria.attributeName %q cannot be sorted on.", sc.AttributeName)
		}
		q.SortAttribute = sc.AttributeName
		q.Sort = ""
		switch strings.ToUpper(sc.OrderBy) {
		case "", "ASC":
			q.Desc = false
		case "DESC":
			q.Desc = true
		default:
			return q, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: sortCriteria.orderBy must be ASC or DESC.")
		}
	}
	return q, nil
}

func (s *Service) listFindings(ctx context.Context, c caller, r *http.Request) (any, error) {
	if _, err := s.detector(c, r); err != nil {
		return nil, err
	}
	var in listFindingsInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	q, err := s.query(c, in.FindingCriteria, in.SortCriteria)
	if err != nil {
		return nil, err
	}
	q.Limit = 50
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 50 {
			return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: maxResults must be between 1 and 50.")
		}
		q.Limit = *in.MaxResults
	}
	q.PageToken = in.NextToken
	ids, next, err := s.store.ListIDs(ctx, q)
	if err != nil {
		if errors.Is(err, store.ErrInvalidPageToken) {
			return nil, badRequest("The request is rejected because the nextToken is invalid.")
		}
		return nil, err
	}
	if ids == nil {
		ids = []string{}
	}
	out := map[string]any{"findingIds": ids}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

type findingIDsInput struct {
	FindingIDs   []string      `json:"findingIds"`
	SortCriteria *sortCriteria `json:"sortCriteria"`
	Feedback     string        `json:"feedback"`
	Comments     string        `json:"comments"`
}

func (in *findingIDsInput) check() error {
	if in.FindingIDs == nil {
		return badRequest("1 validation error detected: Value null at 'findingIds' failed to satisfy constraint: Member must not be null")
	}
	if len(in.FindingIDs) > 50 {
		return badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: findingIds has %d entries, at most 50 are allowed.", len(in.FindingIDs))
	}
	for _, id := range in.FindingIDs {
		if id == "" || len(id) > 300 {
			return badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: finding id %q.", id)
		}
	}
	return nil
}

// visibleFindings returns the findings with these ids that the caller may
// see, in the order asked.
func (s *Service) visibleFindings(ctx context.Context, c caller, ids []string) ([]finding.Finding, error) {
	fs, err := s.store.Get(ctx, "", ids)
	if err != nil {
		return nil, err
	}
	accts := s.visibleAccounts(c)
	out := fs[:0]
	for _, f := range fs {
		if slices.Contains(accts, f.AccountID) && f.Region == c.Region {
			out = append(out, f)
		}
	}
	return out, nil
}

// visibleByAccount groups the ids the caller may see by the account that
// owns them: changes go to the store one account at a time, so the store's
// own tenancy check holds too.
func (s *Service) visibleByAccount(ctx context.Context, c caller, ids []string) (map[string][]string, error) {
	fs, err := s.visibleFindings(ctx, c, ids)
	if err != nil {
		return nil, err
	}
	byAcct := map[string][]string{}
	for _, f := range fs {
		byAcct[f.AccountID] = append(byAcct[f.AccountID], f.ID)
	}
	return byAcct, nil
}

func (s *Service) getFindings(ctx context.Context, c caller, r *http.Request) (any, error) {
	if _, err := s.detector(c, r); err != nil {
		return nil, err
	}
	var in findingIDsInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	fs, err := s.visibleFindings(ctx, c, in.FindingIDs)
	if err != nil {
		return nil, err
	}
	if sc := in.SortCriteria; sc != nil && sc.AttributeName != "" {
		if !criteria.ValidSortAttribute(sc.AttributeName) {
			return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: sortCriteria.attributeName %q cannot be sorted on.", sc.AttributeName)
		}
		sortFindings(fs, sc.AttributeName, strings.EqualFold(sc.OrderBy, "DESC"))
	}
	if fs == nil {
		fs = []finding.Finding{}
	}
	return map[string]any{"findings": fs}, nil
}

type statisticsInput struct {
	FindingStatisticTypes []string           `json:"findingStatisticTypes"`
	FindingCriteria       *criteria.Criteria `json:"findingCriteria"`
	GroupBy               string             `json:"groupBy"`
	OrderBy               string             `json:"orderBy"`
	MaxResults            *int               `json:"maxResults"`
}

func (s *Service) getFindingsStatistics(ctx context.Context, c caller, r *http.Request) (any, error) {
	if _, err := s.detector(c, r); err != nil {
		return nil, err
	}
	var in statisticsInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	q, err := s.query(c, in.FindingCriteria, nil)
	if err != nil {
		return nil, err
	}
	groupBy := in.GroupBy
	switch {
	case groupBy != "" && len(in.FindingStatisticTypes) > 0:
		return nil, badRequest("The request is rejected because findingStatisticTypes and groupBy cannot both be given.")
	case groupBy == "":
		for _, t := range in.FindingStatisticTypes {
			if t != "COUNT_BY_SEVERITY" {
				return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: findingStatisticTypes %q (want COUNT_BY_SEVERITY).", t)
			}
		}
		if in.MaxResults != nil {
			return nil, badRequest("The request is rejected because maxResults is only allowed with groupBy.")
		}
	default:
		switch groupBy {
		case "ACCOUNT", "DATE", "FINDING_TYPE", "RESOURCE", "SEVERITY":
		default:
			return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: groupBy %q (want ACCOUNT, DATE, FINDING_TYPE, RESOURCE or SEVERITY).", groupBy)
		}
	}
	max := 25
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: maxResults must be between 1 and 100.")
		}
		max = *in.MaxResults
	}
	orderBy := strings.ToUpper(in.OrderBy)
	if orderBy == "" {
		orderBy = "DESC"
	}
	if orderBy != "ASC" && orderBy != "DESC" {
		return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: orderBy must be ASC or DESC.")
	}
	stats, err := s.store.Statistics(ctx, q, groupBy, orderBy, max)
	if err != nil {
		return nil, err
	}
	return map[string]any{"findingStatistics": stats}, nil
}

func (s *Service) archiveFindings(archive bool) handlerFunc {
	return func(ctx context.Context, c caller, r *http.Request) (any, error) {
		if _, err := s.detector(c, r); err != nil {
			return nil, err
		}
		var in findingIDsInput
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		if err := in.check(); err != nil {
			return nil, err
		}
		if !s.MembersCanArchive && s.isMember(c.Account) {
			return nil, badRequest("The request is rejected because a member account cannot archive findings; its administrator can.")
		}
		byAcct, err := s.visibleByAccount(ctx, c, in.FindingIDs)
		if err != nil {
			return nil, err
		}
		for acct, ids := range byAcct {
			if err := s.store.Archive(ctx, acct, ids, archive); err != nil {
				return nil, err
			}
		}
		return struct{}{}, nil
	}
}

func (s *Service) updateFindingsFeedback(ctx context.Context, c caller, r *http.Request) (any, error) {
	if _, err := s.detector(c, r); err != nil {
		return nil, err
	}
	var in findingIDsInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	if in.Feedback != store.FeedbackUseful && in.Feedback != store.FeedbackNotUseful {
		return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: feedback must be USEFUL or NOT_USEFUL.")
	}
	byAcct, err := s.visibleByAccount(ctx, c, in.FindingIDs)
	if err != nil {
		return nil, err
	}
	for acct, ids := range byAcct {
		if err := s.store.SetFeedback(ctx, acct, ids, in.Feedback); err != nil {
			return nil, err
		}
	}
	return struct{}{}, nil
}

func (s *Service) createSampleFindings(ctx context.Context, c caller, r *http.Request) (any, error) {
	if _, err := s.detector(c, r); err != nil {
		return nil, err
	}
	var in struct {
		FindingTypes []string `json:"findingTypes"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if len(in.FindingTypes) > 50 {
		return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: at most 50 finding types.")
	}
	fs, err := detect.SampleFindings(c.Account, c.Region, in.FindingTypes, s.now())
	if err != nil {
		return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: %v", err)
	}
	for i := range fs {
		s.Suppress(&fs[i])
	}
	if _, err := s.store.Upsert(ctx, fs); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// sortFindings orders GetFindings results by a sort attribute. Attributes
// without a natural order here keep the order asked for.
func sortFindings(fs []finding.Finding, attr string, desc bool) {
	key := func(f *finding.Finding) (float64, string) {
		switch attr {
		case "severity":
			return f.Severity, ""
		case "service.count":
			return float64(f.Service.Count), ""
		case "updatedAt":
			return 0, f.UpdatedAt
		case "createdAt":
			return 0, f.CreatedAt
		case "type":
			return 0, f.Type
		case "id":
			return 0, f.ID
		case "accountId":
			return 0, f.AccountID
		case "region":
			return 0, f.Region
		case "resource.resourceType":
			return 0, f.Resource.ResourceType
		case "service.eventFirstSeen":
			return 0, f.Service.EventFirstSeen
		case "service.eventLastSeen":
			return 0, f.Service.EventLastSeen
		}
		return 0, ""
	}
	slices.SortStableFunc(fs, func(a, b finding.Finding) int {
		na, sa := key(&a)
		nb, sb := key(&b)
		c := 0
		switch {
		case na < nb:
			c = -1
		case na > nb:
			c = 1
		default:
			c = strings.Compare(sa, sb)
		}
		if desc {
			c = -c
		}
		return c
	})
}
