package guardduty

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/vigilsec/vigil/finding"
)

// Multi-account operations: GuardDuty's invitation model (CreateMembers →
// InviteMembers → AcceptAdministratorInvitation), the deprecated *Master*
// variants, and a simple organization model.
//
// Memberships are per account, not per region: State keys them by
// administrator and member account only. A member is associated with its
// administrator when its relationship is Enabled (the administrator sees its
// findings) or Disabled (monitoring stopped by the administrator); only
// Enabled members' findings are visible to the administrator
// (Service.visibleAccounts).
//
// The organization is the set of accounts in Vigil's config. Any of them may
// act as the management account: the first to call
// EnableOrganizationAdminAccount becomes it, and only it may then name or
// remove the delegated administrator (one per region). CreateMembers by the
// delegated administrator of the caller's region associates the named
// accounts at once (Enabled), as GuardDuty does for organization members;
// other administrators go through invitations.

func (s *Service) routeMembers(route func(pattern, name string, status int, h handlerFunc)) {
	route("POST /detector/{DetectorId}/member", "CreateMembers", 200, s.createMembers)
	route("GET /detector/{DetectorId}/member", "ListMembers", 200, s.listMembers)
	route("POST /detector/{DetectorId}/member/invite", "InviteMembers", 200, s.inviteMembers)
	route("POST /detector/{DetectorId}/member/get", "GetMembers", 200, s.getMembers)
	route("POST /detector/{DetectorId}/member/delete", "DeleteMembers", 200, s.memberOp(memberDelete))
	route("POST /detector/{DetectorId}/member/disassociate", "DisassociateMembers", 200, s.memberOp(memberDisassociate))
	route("POST /detector/{DetectorId}/member/start", "StartMonitoringMembers", 200, s.memberOp(memberStart))
	route("POST /detector/{DetectorId}/member/stop", "StopMonitoringMembers", 200, s.memberOp(memberStop))
	route("POST /detector/{DetectorId}/member/detector/get", "GetMemberDetectors", 200, s.getMemberDetectors)
	route("POST /detector/{DetectorId}/member/detector/update", "UpdateMemberDetectors", 200, s.updateMemberDetectors)

	route("POST /detector/{DetectorId}/administrator", "AcceptAdministratorInvitation", 200, s.acceptInvitation("administratorId"))
	route("POST /detector/{DetectorId}/master", "AcceptInvitation", 200, s.acceptInvitation("masterId"))
	route("GET /detector/{DetectorId}/administrator", "GetAdministratorAccount", 200, s.getAdministrator("administrator"))
	route("GET /detector/{DetectorId}/master", "GetMasterAccount", 200, s.getAdministrator("master"))
	route("POST /detector/{DetectorId}/administrator/disassociate", "DisassociateFromAdministratorAccount", 200, s.disassociateFromAdministrator)
	route("POST /detector/{DetectorId}/master/disassociate", "DisassociateFromMasterAccount", 200, s.disassociateFromAdministrator)

	route("GET /invitation", "ListInvitations", 200, s.listInvitations)
	route("GET /invitation/count", "GetInvitationsCount", 200, s.getInvitationsCount)
	route("POST /invitation/decline", "DeclineInvitations", 200, s.removeInvitations)
	route("POST /invitation/delete", "DeleteInvitations", 200, s.removeInvitations)

	route("POST /admin/enable", "EnableOrganizationAdminAccount", 200, s.enableOrgAdmin)
	route("POST /admin/disable", "DisableOrganizationAdminAccount", 200, s.disableOrgAdmin)
	route("GET /admin", "ListOrganizationAdminAccounts", 200, s.listOrgAdmins)
}

// unprocessedAccount is GuardDuty's UnprocessedAccount.
type unprocessedAccount struct {
	AccountID string `json:"accountId"`
	Result    string `json:"result"`
}

func unprocessedOut(u []unprocessedAccount) map[string]any {
	if u == nil {
		u = []unprocessedAccount{}
	}
	return map[string]any{"unprocessedAccounts": u}
}

const (
	resultNotMember  = "The request is rejected because the input account ID is not associated with the current account as a member."
	resultUnknown    = "The request is rejected because the account is not configured in Vigil, so it has no detector."
	resultSelf       = "The request is rejected because the current account cannot be its own member."
	resultIsAdmin    = "The request is rejected because the account is an administrator account and cannot be a member."
	resultOtherAdmin = "The request is rejected because the account is already associated with another administrator account."
	resultAssociated = "The request is rejected because the account is already associated with the current account."
	resultNotAssoc   = "The request is rejected because the member account is not associated with the current account."
	resultNoInvite   = "The request is rejected because there is no pending invitation from the account."
	resultNoDetector = "The request is rejected because the member account has no detector in this region."
)

// validAccountID reports whether id is a 12-digit AWS account ID.
func validAccountID(id string) bool {
	if len(id) != 12 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

// checkAccountIDs validates an account ID list of a request: 1 to 50
// 12-digit IDs. It returns the IDs without duplicates, in request order.
func checkAccountIDs(field string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, badRequest("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length greater than or equal to 1", field)
	}
	if len(ids) > 50 {
		return nil, badRequest("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to 50", field)
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !validAccountID(id) {
			return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: %s contains %q, which is not a 12-digit account ID.", field, id)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// associated reports whether a relationship is an accepted one: the member
// is Enabled or its monitoring was stopped (Disabled).
func associated(status string) bool {
	return status == statusEnabled || status == statusDisabled
}

// associatedAdmin returns the administrator the account is associated with,
// and its member record, or "" and nil. Callers hold st.mu.
func (st *State) associatedAdmin(account string) (string, *Member) {
	admins := make([]string, 0, len(st.Members))
	for admin := range st.Members {
		admins = append(admins, admin)
	}
	sort.Strings(admins)
	for _, admin := range admins {
		if m := st.Members[admin][account]; m != nil && associated(m.RelationshipStatus) {
			return admin, m
		}
	}
	return "", nil
}

// hasAssociatedMembers reports whether the account administers at least one
// associated member. Callers hold st.mu.
func (st *State) hasAssociatedMembers(account string) bool {
	for _, m := range st.Members[account] {
		if associated(m.RelationshipStatus) {
			return true
		}
	}
	return false
}

// removeInvitation drops the invitations the account received from admin.
// Callers hold st.mu.
func (st *State) removeInvitation(account, admin string) bool {
	invs := st.Invitations[account]
	n := len(invs)
	invs = slices.DeleteFunc(invs, func(i *Invitation) bool { return i.AccountID == admin })
	if len(invs) == 0 {
		delete(st.Invitations, account)
	} else {
		st.Invitations[account] = invs
	}
	return len(invs) != n
}

// memberJSON is GuardDuty's Member shape for a member seen from region.
func memberJSON(m *Member, region string) map[string]any {
	out := map[string]any{
		"accountId":          m.AccountID,
		"detectorId":         finding.DetectorID(m.AccountID, region),
		"masterId":           m.AdministratorID,
		"administratorId":    m.AdministratorID,
		"email":              m.Email,
		"relationshipStatus": m.RelationshipStatus,
		"updatedAt":          m.UpdatedAt,
	}
	if m.InvitedAt != "" {
		out["invitedAt"] = m.InvitedAt
	}
	return out
}

type accountDetail struct {
	AccountID string `json:"accountId"`
	Email     string `json:"email"`
}

func (s *Service) createMembers(ctx context.Context, c caller, r *http.Request) (any, error) {
	if _, err := s.detector(c, r); err != nil {
		return nil, err
	}
	var in struct {
		AccountDetails []accountDetail `json:"accountDetails"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	ids := make([]string, len(in.AccountDetails))
	for i, a := range in.AccountDetails {
		ids[i] = a.AccountID
		if len(a.Email) > 64 || (a.Email != "" && !strings.Contains(a.Email, "@")) {
			return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: email %q of account %s is not a valid email address.", a.Email, a.AccountID)
		}
	}
	if _, err := checkAccountIDs("accountDetails", ids); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.Lock()
	if admin, _ := st.associatedAdmin(c.Account); admin != "" {
		st.mu.Unlock()
		return nil, badRequest("The request is rejected because the current account is a member of administrator account %s and cannot have members of its own.", admin)
	}
	org := st.orgAdmin(c.Region) == c.Account
	now := s.nowString()
	var un []unprocessedAccount
	changed := false
	seen := map[string]bool{}
	for _, a := range in.AccountDetails {
		if seen[a.AccountID] {
			continue
		}
		seen[a.AccountID] = true
		reason := ""
		switch other, _ := st.associatedAdmin(a.AccountID); {
		case a.AccountID == c.Account:
			reason = resultSelf
		case !st.Accounts[a.AccountID]:
			reason = resultUnknown
		case st.hasAssociatedMembers(a.AccountID):
			reason = resultIsAdmin
		case other != "" && other != c.Account:
			reason = resultOtherAdmin
		}
		if reason != "" {
			un = append(un, unprocessedAccount{a.AccountID, reason})
			continue
		}
		email := a.Email
		if email == "" {
			email = a.AccountID + "@vigil.invalid"
		}
		ms := st.Members[c.Account]
		if ms == nil {
			ms = map[string]*Member{}
			st.Members[c.Account] = ms
		}
		m := ms[a.AccountID]
		switch {
		case m == nil:
			m = &Member{AccountID: a.AccountID, AdministratorID: c.Account}
			ms[a.AccountID] = m
		case m.RelationshipStatus == statusRemoved || m.RelationshipStatus == statusResigned:
			// Re-created after a disassociation: starts over.
			m.InvitationID, m.InvitedAt = "", ""
		default:
			// Already a member: creating it again changes only its email
			// (and, for the organization's administrator, associates it).
			if a.Email != "" && m.Email != a.Email {
				m.Email, m.UpdatedAt = a.Email, now
				changed = true
			}
			if !org || associated(m.RelationshipStatus) {
				continue
			}
			email = m.Email
		}
		m.Email = email
		m.RelationshipStatus = statusCreated
		if org {
			// Organization members are associated without an invitation;
			// their pending invitations go, as when accepting one.
			m.RelationshipStatus = statusEnabled
			delete(st.Invitations, a.AccountID)
		}
		m.UpdatedAt = now
		changed = true
	}
	st.mu.Unlock()
	if changed {
		if err := s.save(ctx); err != nil {
			return nil, err
		}
		if org {
			s.rebuildLists(ctx)
		}
	}
	return unprocessedOut(un), nil
}

func (s *Service) inviteMembers(ctx context.Context, c caller, r *http.Request) (any, error) {
	if _, err := s.detector(c, r); err != nil {
		return nil, err
	}
	var in struct {
		AccountIDs               []string `json:"accountIds"`
		DisableEmailNotification bool     `json:"disableEmailNotification"`
		Message                  string   `json:"message"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	ids, err := checkAccountIDs("accountIds", in.AccountIDs)
	if err != nil {
		return nil, err
	}
	st := s.state
	st.mu.Lock()
	if admin, _ := st.associatedAdmin(c.Account); admin != "" {
		st.mu.Unlock()
		return nil, badRequest("The request is rejected because the current account is a member of administrator account %s and cannot invite members.", admin)
	}
	now := s.nowString()
	var un []unprocessedAccount
	changed := false
	for _, id := range ids {
		m := st.Members[c.Account][id]
		other, _ := st.associatedAdmin(id)
		switch {
		case m == nil:
			un = append(un, unprocessedAccount{id, resultNotMember})
			continue
		case associated(m.RelationshipStatus):
			un = append(un, unprocessedAccount{id, resultAssociated})
			continue
		case other != "":
			un = append(un, unprocessedAccount{id, resultOtherAdmin})
			continue
		case st.hasAssociatedMembers(id):
			un = append(un, unprocessedAccount{id, resultIsAdmin})
			continue
		}
		inv := &Invitation{AccountID: c.Account, InvitationID: newID(), RelationshipStatus: statusInvited, InvitedAt: now}
		st.removeInvitation(id, c.Account) // a new invitation replaces the pending one
		st.Invitations[id] = append(st.Invitations[id], inv)
		m.RelationshipStatus = statusInvited
		m.InvitationID = inv.InvitationID
		m.InvitedAt = now
		m.UpdatedAt = now
		changed = true
	}
	st.mu.Unlock()
	if changed {
		if err := s.save(ctx); err != nil {
			return nil, err
		}
	}
	return unprocessedOut(un), nil
}

type accountIDsInput struct {
	AccountIDs []string `json:"accountIds"`
}

func (s *Service) getMembers(ctx context.Context, c caller, r *http.Request) (any, error) {
	ids, err := s.accountIDsRequest(c, r)
	if err != nil {
		return nil, err
	}
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	members := []map[string]any{}
	var un []unprocessedAccount
	for _, id := range ids {
		m := s.state.Members[c.Account][id]
		if m == nil {
			un = append(un, unprocessedAccount{id, resultNotMember})
			continue
		}
		members = append(members, memberJSON(m, c.Region))
	}
	out := unprocessedOut(un)
	out["members"] = members
	return out, nil
}

func (s *Service) listMembers(ctx context.Context, c caller, r *http.Request) (any, error) {
	if _, err := s.detector(c, r); err != nil {
		return nil, err
	}
	limit, offset, err := pageParams(r, 50)
	if err != nil {
		return nil, err
	}
	onlyAssociated := true
	switch v := strings.ToLower(r.URL.Query().Get("onlyAssociated")); v {
	case "", "true":
	case "false":
		onlyAssociated = false
	default:
		return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: onlyAssociated must be true or false.")
	}
	s.state.mu.Lock()
	var ms []*Member
	for _, m := range s.state.Members[c.Account] {
		if !onlyAssociated || associated(m.RelationshipStatus) {
			ms = append(ms, m)
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].AccountID < ms[j].AccountID })
	ms, next := page(ms, limit, offset)
	members := make([]map[string]any, len(ms))
	for i, m := range ms {
		members[i] = memberJSON(m, c.Region)
	}
	s.state.mu.Unlock()
	out := map[string]any{"members": members}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

// memberAction is what DeleteMembers, DisassociateMembers and
// Start/StopMonitoringMembers do to one member. It returns an unprocessed
// reason, or "" when done. Callers hold st.mu.
type memberAction func(st *State, admin string, m *Member, now string) string

func memberDelete(st *State, admin string, m *Member, now string) string {
	st.removeInvitation(m.AccountID, admin)
	delete(st.Members[admin], m.AccountID)
	if len(st.Members[admin]) == 0 {
		delete(st.Members, admin)
	}
	return ""
}

func memberDisassociate(st *State, admin string, m *Member, now string) string {
	st.removeInvitation(m.AccountID, admin)
	if m.RelationshipStatus != statusRemoved {
		m.RelationshipStatus = statusRemoved
		m.UpdatedAt = now
	}
	return ""
}

func memberStart(st *State, admin string, m *Member, now string) string {
	switch m.RelationshipStatus {
	case statusEnabled:
	case statusDisabled:
		m.RelationshipStatus = statusEnabled
		m.UpdatedAt = now
	default:
		return resultNotAssoc
	}
	return ""
}

func memberStop(st *State, admin string, m *Member, now string) string {
	switch m.RelationshipStatus {
	case statusDisabled:
	case statusEnabled:
		m.RelationshipStatus = statusDisabled
		m.UpdatedAt = now
	default:
		return resultNotAssoc
	}
	return ""
}

func (s *Service) memberOp(act memberAction) handlerFunc {
	return func(ctx context.Context, c caller, r *http.Request) (any, error) {
		ids, err := s.accountIDsRequest(c, r)
		if err != nil {
			return nil, err
		}
		st := s.state
		st.mu.Lock()
		now := s.nowString()
		var un []unprocessedAccount
		changed := false
		for _, id := range ids {
			m := st.Members[c.Account][id]
			if m == nil {
				un = append(un, unprocessedAccount{id, resultNotMember})
				continue
			}
			if reason := act(st, c.Account, m, now); reason != "" {
				un = append(un, unprocessedAccount{id, reason})
				continue
			}
			changed = true
		}
		st.mu.Unlock()
		if changed {
			if err := s.save(ctx); err != nil {
				return nil, err
			}
			// The lists and suppression rules that apply to the members
			// follow their relationship.
			s.rebuildLists(ctx)
		}
		return unprocessedOut(un), nil
	}
}

// detectorFeature is a feature of a detector as CreateDetector,
// UpdateDetector and UpdateMemberDetectors take it.
type detectorFeature struct {
	Name                    string          `json:"name"`
	Status                  string          `json:"status"`
	AdditionalConfiguration json.RawMessage `json:"additionalConfiguration,omitempty"`
}

// memberDetectorJSON is GuardDuty's MemberDataSourceConfiguration of a
// member's detector. Callers hold st.mu.
func memberDetectorJSON(d *Detector) map[string]any {
	base := "ENABLED"
	if d.Status != "ENABLED" {
		base = "DISABLED"
	}
	var ds struct {
		S3Logs *struct {
			Enable bool `json:"enable"`
		} `json:"s3Logs"`
	}
	if len(d.DataSources) > 0 {
		json.Unmarshal(d.DataSources, &ds)
	}
	var stored []detectorFeature
	if len(d.Features) > 0 {
		json.Unmarshal(d.Features, &stored)
	}
	updated := 0.0
	if t, err := finding.ParseTime(d.UpdatedAt); err == nil {
		updated = float64(t.UnixMilli()) / 1000
	}
	status := map[string]string{"CLOUD_TRAIL": base, "DNS_LOGS": base, "FLOW_LOGS": base, "S3_DATA_EVENTS": base}
	names := []string{"CLOUD_TRAIL", "DNS_LOGS", "FLOW_LOGS", "S3_DATA_EVENTS"}
	if ds.S3Logs != nil && !ds.S3Logs.Enable {
		status["S3_DATA_EVENTS"] = "DISABLED"
	}
	extra := map[string]json.RawMessage{}
	for _, f := range stored {
		if f.Name == "" {
			continue
		}
		if _, ok := status[f.Name]; !ok {
			names = append(names, f.Name)
		}
		st := f.Status
		if base == "DISABLED" {
			st = "DISABLED"
		}
		status[f.Name] = st
		if len(f.AdditionalConfiguration) > 0 {
			extra[f.Name] = f.AdditionalConfiguration
		}
	}
	features := make([]map[string]any, 0, len(names))
	for _, n := range names {
		f := map[string]any{"name": n, "status": status[n], "updatedAt": updated}
		if ac := extra[n]; len(ac) > 0 {
			f["additionalConfiguration"] = ac
		}
		features = append(features, f)
	}
	on := func(n string) map[string]string { return map[string]string{"status": status[n]} }
	return map[string]any{
		"accountId": d.Account,
		"dataSources": map[string]any{
			"cloudTrail": on("CLOUD_TRAIL"), "dnsLogs": on("DNS_LOGS"), "flowLogs": on("FLOW_LOGS"), "s3Logs": on("S3_DATA_EVENTS"),
		},
		"features": features,
	}
}

func (s *Service) getMemberDetectors(ctx context.Context, c caller, r *http.Request) (any, error) {
	ids, err := s.accountIDsRequest(c, r)
	if err != nil {
		return nil, err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	members := []map[string]any{}
	var un []unprocessedAccount
	for _, id := range ids {
		d, why := st.associatedDetector(c.Account, id, c.Region)
		if d == nil {
			un = append(un, unprocessedAccount{id, why})
			continue
		}
		members = append(members, memberDetectorJSON(d))
	}
	out := unprocessedOut(un)
	out["members"] = members
	return out, nil
}

func (s *Service) updateMemberDetectors(ctx context.Context, c caller, r *http.Request) (any, error) {
	if _, err := s.detector(c, r); err != nil {
		return nil, err
	}
	var in struct {
		AccountIDs  []string          `json:"accountIds"`
		DataSources json.RawMessage   `json:"dataSources"`
		Features    []detectorFeature `json:"features"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	ids, err := checkAccountIDs("accountIds", in.AccountIDs)
	if err != nil {
		return nil, err
	}
	for _, f := range in.Features {
		if f.Name == "" {
			return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: features[].name is required.")
		}
		if f.Status != "ENABLED" && f.Status != "DISABLED" {
			return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: the status of feature %s must be ENABLED or DISABLED.", f.Name)
		}
	}
	if len(in.DataSources) > 0 && string(in.DataSources) != "null" {
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(in.DataSources, &probe); err != nil {
			return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: dataSources must be an object.")
		}
	} else {
		in.DataSources = nil
	}
	st := s.state
	st.mu.Lock()
	now := s.nowString()
	var un []unprocessedAccount
	changed := false
	for _, id := range ids {
		d, why := st.associatedDetector(c.Account, id, c.Region)
		if d == nil {
			un = append(un, unprocessedAccount{id, why})
			continue
		}
		if in.DataSources != nil {
			d.DataSources = in.DataSources
		}
		if len(in.Features) > 0 {
			var cur []detectorFeature
			if len(d.Features) > 0 {
				json.Unmarshal(d.Features, &cur)
			}
			for _, f := range in.Features {
				i := slices.IndexFunc(cur, func(x detectorFeature) bool { return x.Name == f.Name })
				if i < 0 {
					cur = append(cur, f)
				} else {
					cur[i] = f
				}
			}
			b, _ := json.Marshal(cur)
			d.Features = b
		}
		d.UpdatedAt = now
		changed = true
	}
	st.mu.Unlock()
	if changed {
		if err := s.save(ctx); err != nil {
			return nil, err
		}
	}
	return unprocessedOut(un), nil
}

// acceptInvitation is AcceptAdministratorInvitation (field
// "administratorId") and the deprecated AcceptInvitation ("masterId").
func (s *Service) acceptInvitation(adminField string) handlerFunc {
	return func(ctx context.Context, c caller, r *http.Request) (any, error) {
		if _, err := s.detector(c, r); err != nil {
			return nil, err
		}
		var in map[string]any
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		admin, _ := in[adminField].(string)
		invitationID, _ := in["invitationId"].(string)
		if admin == "" {
			return nil, badRequest("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", adminField)
		}
		if invitationID == "" {
			return nil, badRequest("1 validation error detected: Value null at 'invitationId' failed to satisfy constraint: Member must not be null")
		}
		if !validAccountID(admin) {
			return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: %s %q is not a 12-digit account ID.", adminField, admin)
		}
		st := s.state
		st.mu.Lock()
		i := slices.IndexFunc(st.Invitations[c.Account], func(x *Invitation) bool {
			return x.AccountID == admin && x.InvitationID == invitationID
		})
		m := st.Members[admin][c.Account]
		if i < 0 || m == nil || m.InvitationID != invitationID || m.RelationshipStatus != statusInvited {
			st.mu.Unlock()
			return nil, badRequest("The request is rejected because the invitation %s from account %s does not exist or is no longer valid.", invitationID, admin)
		}
		if cur, _ := st.associatedAdmin(c.Account); cur != "" {
			st.mu.Unlock()
			return nil, badRequest("The request is rejected because the current account is already associated with administrator account %s; disassociate from it first.", cur)
		}
		if st.hasAssociatedMembers(c.Account) {
			st.mu.Unlock()
			return nil, badRequest("The request is rejected because the current account is an administrator account and cannot become a member.")
		}
		if up, _ := st.associatedAdmin(admin); up != "" {
			st.mu.Unlock()
			return nil, badRequest("The request is rejected because account %s is now a member of another administrator and cannot be an administrator.", admin)
		}
		m.RelationshipStatus = statusEnabled
		m.UpdatedAt = s.nowString()
		// An account accepts at most one invitation: the others go.
		delete(st.Invitations, c.Account)
		st.mu.Unlock()
		if err := s.save(ctx); err != nil {
			return nil, err
		}
		s.rebuildLists(ctx)
		return struct{}{}, nil
	}
}

// getAdministrator is GetAdministratorAccount (key "administrator") and the
// deprecated GetMasterAccount ("master"). An account with no associated
// administrator gets an empty answer, as in GuardDuty.
func (s *Service) getAdministrator(key string) handlerFunc {
	return func(ctx context.Context, c caller, r *http.Request) (any, error) {
		if _, err := s.detector(c, r); err != nil {
			return nil, err
		}
		s.state.mu.Lock()
		defer s.state.mu.Unlock()
		admin, m := s.state.associatedAdmin(c.Account)
		if admin == "" {
			return struct{}{}, nil
		}
		a := map[string]any{"accountId": admin, "relationshipStatus": m.RelationshipStatus}
		if m.InvitationID != "" {
			a["invitationId"] = m.InvitationID
		}
		if m.InvitedAt != "" {
			a["invitedAt"] = m.InvitedAt
		}
		return map[string]any{key: a}, nil
	}
}

func (s *Service) disassociateFromAdministrator(ctx context.Context, c caller, r *http.Request) (any, error) {
	if _, err := s.detector(c, r); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.Lock()
	admin, m := st.associatedAdmin(c.Account)
	if admin == "" {
		st.mu.Unlock()
		return nil, badRequest("The request is rejected because the current account is not associated with an administrator account.")
	}
	m.RelationshipStatus = statusResigned
	m.UpdatedAt = s.nowString()
	st.mu.Unlock()
	if err := s.save(ctx); err != nil {
		return nil, err
	}
	s.rebuildLists(ctx)
	return struct{}{}, nil
}

func (s *Service) listInvitations(ctx context.Context, c caller, r *http.Request) (any, error) {
	limit, offset, err := pageParams(r, 50)
	if err != nil {
		return nil, err
	}
	s.state.mu.Lock()
	invs := make([]Invitation, 0, len(s.state.Invitations[c.Account]))
	for _, i := range s.state.Invitations[c.Account] {
		invs = append(invs, *i)
	}
	s.state.mu.Unlock()
	sort.SliceStable(invs, func(i, j int) bool { return invs[i].InvitedAt < invs[j].InvitedAt })
	invs, next := page(invs, limit, offset)
	out := map[string]any{"invitations": invs}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

func (s *Service) getInvitationsCount(ctx context.Context, c caller, r *http.Request) (any, error) {
	s.state.mu.Lock()
	n := len(s.state.Invitations[c.Account])
	s.state.mu.Unlock()
	return map[string]int{"invitationsCount": n}, nil
}

// removeInvitations is DeclineInvitations and DeleteInvitations: the
// caller's pending invitations from the named accounts go. The inviting
// administrator's member record stays Invited; it may invite again.
func (s *Service) removeInvitations(ctx context.Context, c caller, r *http.Request) (any, error) {
	var in accountIDsInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	ids, err := checkAccountIDs("accountIds", in.AccountIDs)
	if err != nil {
		return nil, err
	}
	s.state.mu.Lock()
	var un []unprocessedAccount
	changed := false
	for _, id := range ids {
		if !s.state.removeInvitation(c.Account, id) {
			un = append(un, unprocessedAccount{id, resultNoInvite})
			continue
		}
		changed = true
	}
	s.state.mu.Unlock()
	if changed {
		if err := s.save(ctx); err != nil {
			return nil, err
		}
	}
	return unprocessedOut(un), nil
}

// The organization's delegated administrators live in State.Organization:
// "admin/<region>" → admin account, plus "management" → the management
// account.
const orgManagement = "management"

// orgAdmin returns the delegated administrator of region, or "". Callers
// hold st.mu.
func (st *State) orgAdmin(region string) string {
	return st.Organization["admin/"+region]
}

func (st *State) orgState() map[string]string {
	if st.Organization == nil {
		st.Organization = map[string]string{}
	}
	return st.Organization
}

// checkManagement refuses a caller that is not the organization's
// management account. Callers hold st.mu.
func (st *State) checkManagement(c caller) error {
	if !st.Accounts[c.Account] {
		return accessDenied("The request is rejected because account %s is not configured in Vigil.", c.Account)
	}
	if mg := st.Organization[orgManagement]; mg != "" && mg != c.Account {
		return badRequest("The request is rejected because the current account is not the organization's management account (%s).", mg)
	}
	return nil
}

type adminAccountInput struct {
	AdminAccountID string `json:"adminAccountId"`
}

func (in *adminAccountInput) check() error {
	if in.AdminAccountID == "" {
		return badRequest("1 validation error detected: Value null at 'adminAccountId' failed to satisfy constraint: Member must not be null")
	}
	if !validAccountID(in.AdminAccountID) {
		return badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: adminAccountId %q is not a 12-digit account ID.", in.AdminAccountID)
	}
	return nil
}

func (s *Service) enableOrgAdmin(ctx context.Context, c caller, r *http.Request) (any, error) {
	var in adminAccountInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.Lock()
	if err := st.checkManagement(c); err != nil {
		st.mu.Unlock()
		return nil, err
	}
	a := in.AdminAccountID
	cur := st.orgAdmin(c.Region)
	member, _ := st.associatedAdmin(a)
	switch {
	case cur == a:
		st.mu.Unlock()
		return struct{}{}, nil
	case cur != "":
		st.mu.Unlock()
		return nil, badRequest("The request is rejected because account %s is already the delegated administrator in %s; disable it first.", cur, c.Region)
	case !st.Accounts[a]:
		st.mu.Unlock()
		return nil, badRequest("The request is rejected because account %s is not configured in Vigil.", a)
	case member != "":
		st.mu.Unlock()
		return nil, badRequest("The request is rejected because account %s is a member of administrator account %s.", a, member)
	}
	o := st.orgState()
	o[orgManagement] = c.Account
	o["admin/"+c.Region] = a
	st.mu.Unlock()
	return struct{}{}, s.save(ctx)
}

func (s *Service) disableOrgAdmin(ctx context.Context, c caller, r *http.Request) (any, error) {
	var in adminAccountInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.Lock()
	if err := st.checkManagement(c); err != nil {
		st.mu.Unlock()
		return nil, err
	}
	if st.orgAdmin(c.Region) != in.AdminAccountID {
		st.mu.Unlock()
		return nil, badRequest("The request is rejected because account %s is not the delegated administrator in %s.", in.AdminAccountID, c.Region)
	}
	delete(st.orgState(), "admin/"+c.Region)
	st.mu.Unlock()
	return struct{}{}, s.save(ctx)
}

func (s *Service) listOrgAdmins(ctx context.Context, c caller, r *http.Request) (any, error) {
	limit, offset, err := pageParams(r, 50)
	if err != nil {
		return nil, err
	}
	st := s.state
	st.mu.Lock()
	if err := st.checkManagement(c); err != nil {
		st.mu.Unlock()
		return nil, err
	}
	var admins []map[string]string
	if a := st.orgAdmin(c.Region); a != "" {
		admins = append(admins, map[string]string{"adminAccountId": a, "adminStatus": "ENABLED"})
	}
	st.mu.Unlock()
	admins, next := page(admins, limit, offset)
	out := map[string]any{"adminAccounts": admins}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

// associatedDetector returns the detector of an associated member of admin
// in region, or the unprocessed-account result saying why there is none.
// Callers hold st.mu.
func (st *State) associatedDetector(admin, id, region string) (*Detector, string) {
	m := st.Members[admin][id]
	switch {
	case m == nil:
		return nil, resultNotMember
	case !associated(m.RelationshipStatus):
		return nil, resultNotAssoc
	}
	if d := st.detectorOf(id, region); d != nil {
		return d, ""
	}
	return nil, resultNoDetector
}

// accountIDsRequest reads the body of an operation on the caller's detector
// that takes accountIds: the detector must be the caller's and the ids
// valid account ids (1 to 50).
func (s *Service) accountIDsRequest(c caller, r *http.Request) ([]string, error) {
	if _, err := s.detector(c, r); err != nil {
		return nil, err
	}
	var in accountIDsInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	return checkAccountIDs("accountIds", in.AccountIDs)
}
