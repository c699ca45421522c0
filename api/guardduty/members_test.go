package guardduty

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	gd "github.com/aws/aws-sdk-go-v2/service/guardduty"
	gdtypes "github.com/aws/aws-sdk-go-v2/service/guardduty/types"
	"github.com/aws/smithy-go"

	"github.com/vigilsec/vigil/api/sigv4"
	"github.com/vigilsec/vigil/finding"
	"github.com/vigilsec/vigil/store"
)

// Accounts of the multi-account tests. acctC starts, from config, as an
// Enabled member of acctD.
const (
	acctA       = "111111111111"
	acctB       = "222222222222"
	acctC       = "333333333333"
	acctD       = "444444444444"
	acctE       = "555555555555"
	acctUnknown = "999999999999"
	mtRegion    = "us-east-1"
)

// mtEnv is a Service behind an HTTP server, with a GuardDuty SDK client per
// account.
type mtEnv struct {
	svc    *Service
	st     *store.Store
	srv    *httptest.Server
	client map[string]*gd.Client
	keys   sigv4.Keys
	accts  []Account
}

func mtKeyID(acct string) string { return "AKIA" + acct + "XXXX" }

func newMTEnv(t *testing.T) *mtEnv {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &mtEnv{st: st, client: map[string]*gd.Client{}, keys: sigv4.Keys{}}
	e.accts = []Account{{ID: acctA}, {ID: acctB}, {ID: acctC, Administrator: acctD}, {ID: acctD}, {ID: acctE}}
	all := []string{acctA, acctB, acctC, acctD, acctE, acctUnknown}
	for _, a := range all {
		e.keys[mtKeyID(a)] = sigv4.Key{ID: mtKeyID(a), Secret: "secret-" + a, Account: a}
	}
	e.svc = e.newService(t)
	e.srv = httptest.NewServer(e.svc.Handler())
	t.Cleanup(e.srv.Close)
	for _, a := range all {
		e.client[a] = gd.New(gd.Options{
			Region:           mtRegion,
			BaseEndpoint:     aws.String(e.srv.URL),
			Credentials:      credentials.NewStaticCredentialsProvider(mtKeyID(a), "secret-"+a, ""),
			HTTPClient:       e.srv.Client(),
			RetryMaxAttempts: 1,
		})
	}
	return e
}

// newService opens another Service on the same store, as after a restart.
func (e *mtEnv) newService(t *testing.T) *Service {
	t.Helper()
	svc, err := New(context.Background(), Options{Store: e.st, Keys: e.keys, Accounts: e.accts})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func (e *mtEnv) c(acct string) *gd.Client { return e.client[acct] }

func det(acct string) *string { return aws.String(finding.DetectorID(acct, mtRegion)) }

// wantAPIError fails unless err is an API error with the given code.
func wantAPIError(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code = %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func unprocessedIDs(u []gdtypes.UnprocessedAccount) []string {
	var out []string
	for _, x := range u {
		if aws.ToString(x.Result) == "" {
			panic("unprocessed account without a result")
		}
		out = append(out, aws.ToString(x.AccountId))
	}
	return out
}

func (e *mtEnv) member(t *testing.T, admin, acct string) *gdtypes.Member {
	t.Helper()
	out := must[*gd.GetMembersOutput](t)(e.c(admin).GetMembers(context.Background(), &gd.GetMembersInput{DetectorId: det(admin), AccountIds: []string{acct}}))
	if len(out.Members) == 0 {
		return nil
	}
	return &out.Members[0]
}

func (e *mtEnv) status(t *testing.T, admin, acct string) string {
	t.Helper()
	m := e.member(t, admin, acct)
	if m == nil {
		return ""
	}
	return aws.ToString(m.RelationshipStatus)
}

func (e *mtEnv) listMembers(t *testing.T, admin string, onlyAssociated *string) []string {
	t.Helper()
	var ids []string
	p := gd.NewListMembersPaginator(e.c(admin), &gd.ListMembersInput{DetectorId: det(admin), OnlyAssociated: onlyAssociated, MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		out := must[*gd.ListMembersOutput](t)(p.NextPage(context.Background()))
		for _, m := range out.Members {
			ids = append(ids, aws.ToString(m.AccountId))
		}
	}
	return ids
}

func (e *mtEnv) visible(acct string) []string {
	return e.svc.visibleAccounts(caller{Account: acct, Region: mtRegion})
}

// inviteAndAccept makes acct an Enabled member of admin through the
// invitation flow.
func (e *mtEnv) inviteAndAccept(t *testing.T, admin, acct string) {
	t.Helper()
	ctx := context.Background()
	out := must[*gd.CreateMembersOutput](t)(e.c(admin).CreateMembers(ctx, &gd.CreateMembersInput{DetectorId: det(admin),
		AccountDetails: []gdtypes.AccountDetail{{AccountId: aws.String(acct), Email: aws.String(acct + "@example.com")}}}))
	if len(out.UnprocessedAccounts) > 0 {
		t.Fatalf("CreateMembers: unprocessed %v", unprocessedIDs(out.UnprocessedAccounts))
	}
	inv := must[*gd.InviteMembersOutput](t)(e.c(admin).InviteMembers(ctx, &gd.InviteMembersInput{DetectorId: det(admin), AccountIds: []string{acct}}))
	if len(inv.UnprocessedAccounts) > 0 {
		t.Fatalf("InviteMembers: unprocessed %v", unprocessedIDs(inv.UnprocessedAccounts))
	}
	id := e.invitationFrom(t, acct, admin)
	must[*gd.AcceptAdministratorInvitationOutput](t)(e.c(acct).AcceptAdministratorInvitation(ctx, &gd.AcceptAdministratorInvitationInput{
		DetectorId: det(acct), AdministratorId: aws.String(admin), InvitationId: aws.String(id)}))
}

func (e *mtEnv) invitationFrom(t *testing.T, acct, admin string) string {
	t.Helper()
	out := must[*gd.ListInvitationsOutput](t)(e.c(acct).ListInvitations(context.Background(), &gd.ListInvitationsInput{}))
	for _, i := range out.Invitations {
		if aws.ToString(i.AccountId) == admin {
			if aws.ToString(i.RelationshipStatus) != "Invited" || aws.ToString(i.InvitedAt) == "" {
				t.Fatalf("invitation %+v", i)
			}
			return aws.ToString(i.InvitationId)
		}
	}
	t.Fatalf("%s has no invitation from %s", acct, admin)
	return ""
}

func TestMemberInvitationFlow(t *testing.T) {
	e := newMTEnv(t)
	ctx := context.Background()
	a, b := e.c(acctA), e.c(acctB)

	// Create: the member exists with status Created, but is not associated.
	out := must[*gd.CreateMembersOutput](t)(a.CreateMembers(ctx, &gd.CreateMembersInput{DetectorId: det(acctA),
		AccountDetails: []gdtypes.AccountDetail{{AccountId: aws.String(acctB), Email: aws.String("b@example.com")}}}))
	if len(out.UnprocessedAccounts) != 0 {
		t.Fatalf("unprocessed: %v", unprocessedIDs(out.UnprocessedAccounts))
	}
	m := e.member(t, acctA, acctB)
	if m == nil || aws.ToString(m.RelationshipStatus) != "Created" || aws.ToString(m.Email) != "b@example.com" ||
		aws.ToString(m.DetectorId) != *det(acctB) || aws.ToString(m.MasterId) != acctA || aws.ToString(m.AdministratorId) != acctA ||
		aws.ToString(m.UpdatedAt) == "" {
		t.Fatalf("member after CreateMembers: %+v", m)
	}
	if got := e.listMembers(t, acctA, nil); len(got) != 0 {
		t.Errorf("ListMembers (only associated) = %v, want none", got)
	}
	if got := e.listMembers(t, acctA, aws.String("false")); !slices.Equal(got, []string{acctB}) {
		t.Errorf("ListMembers onlyAssociated=false = %v", got)
	}
	if got := e.visible(acctA); !slices.Equal(got, []string{acctA}) {
		t.Errorf("visible accounts = %v", got)
	}

	// Invite: the member receives an invitation.
	inv := must[*gd.InviteMembersOutput](t)(a.InviteMembers(ctx, &gd.InviteMembersInput{DetectorId: det(acctA), AccountIds: []string{acctB}, Message: aws.String("join")}))
	if len(inv.UnprocessedAccounts) != 0 {
		t.Fatalf("unprocessed: %v", unprocessedIDs(inv.UnprocessedAccounts))
	}
	if st := e.status(t, acctA, acctB); st != "Invited" {
		t.Fatalf("status after invite = %s", st)
	}
	if n := must[*gd.GetInvitationsCountOutput](t)(b.GetInvitationsCount(ctx, &gd.GetInvitationsCountInput{})); aws.ToInt32(n.InvitationsCount) != 1 {
		t.Fatalf("invitations count = %d", aws.ToInt32(n.InvitationsCount))
	}
	id := e.invitationFrom(t, acctB, acctA)
	if got := e.member(t, acctA, acctB); aws.ToString(got.InvitedAt) == "" {
		t.Errorf("member has no invitedAt: %+v", got)
	}

	// Accepting with a wrong id, or another account's invitation, fails.
	_, err := b.AcceptAdministratorInvitation(ctx, &gd.AcceptAdministratorInvitationInput{DetectorId: det(acctB), AdministratorId: aws.String(acctA), InvitationId: aws.String("nope")})
	wantAPIError(t, err, "BadRequestException")
	_, err = e.c(acctE).AcceptAdministratorInvitation(ctx, &gd.AcceptAdministratorInvitationInput{DetectorId: det(acctE), AdministratorId: aws.String(acctA), InvitationId: aws.String(id)})
	wantAPIError(t, err, "BadRequestException")
	// ... and so does accepting with A's detector id.
	_, err = b.AcceptAdministratorInvitation(ctx, &gd.AcceptAdministratorInvitationInput{DetectorId: det(acctA), AdministratorId: aws.String(acctA), InvitationId: aws.String(id)})
	wantAPIError(t, err, "BadRequestException")

	must[*gd.AcceptAdministratorInvitationOutput](t)(b.AcceptAdministratorInvitation(ctx, &gd.AcceptAdministratorInvitationInput{
		DetectorId: det(acctB), AdministratorId: aws.String(acctA), InvitationId: aws.String(id)}))
	if st := e.status(t, acctA, acctB); st != "Enabled" {
		t.Fatalf("status after accept = %s", st)
	}
	if n := must[*gd.GetInvitationsCountOutput](t)(b.GetInvitationsCount(ctx, &gd.GetInvitationsCountInput{})); aws.ToInt32(n.InvitationsCount) != 0 {
		t.Errorf("invitations left after accept: %d", aws.ToInt32(n.InvitationsCount))
	}
	if got := e.listMembers(t, acctA, nil); !slices.Equal(got, []string{acctB}) {
		t.Errorf("ListMembers = %v", got)
	}
	if got := e.visible(acctA); !slices.Equal(got, []string{acctA, acctB}) {
		t.Errorf("visible accounts = %v", got)
	}
	if got := e.visible(acctB); !slices.Equal(got, []string{acctB}) {
		t.Errorf("member's visible accounts = %v", got)
	}
	adm := must[*gd.GetAdministratorAccountOutput](t)(b.GetAdministratorAccount(ctx, &gd.GetAdministratorAccountInput{DetectorId: det(acctB)}))
	if adm.Administrator == nil || aws.ToString(adm.Administrator.AccountId) != acctA || aws.ToString(adm.Administrator.InvitationId) != id ||
		aws.ToString(adm.Administrator.RelationshipStatus) != "Enabled" || aws.ToString(adm.Administrator.InvitedAt) == "" {
		t.Fatalf("GetAdministratorAccount = %+v", adm.Administrator)
	}
	master := must[*gd.GetMasterAccountOutput](t)(b.GetMasterAccount(ctx, &gd.GetMasterAccountInput{DetectorId: det(acctB)}))
	if master.Master == nil || aws.ToString(master.Master.AccountId) != acctA {
		t.Fatalf("GetMasterAccount = %+v", master.Master)
	}
	// The administrator has no administrator.
	if adm := must[*gd.GetAdministratorAccountOutput](t)(a.GetAdministratorAccount(ctx, &gd.GetAdministratorAccountInput{DetectorId: det(acctA)})); adm.Administrator != nil {
		t.Errorf("administrator's GetAdministratorAccount = %+v", adm.Administrator)
	}

	// Member detectors.
	md := must[*gd.GetMemberDetectorsOutput](t)(a.GetMemberDetectors(ctx, &gd.GetMemberDetectorsInput{DetectorId: det(acctA), AccountIds: []string{acctB, acctC}}))
	if len(md.MemberDataSourceConfigurations) != 1 || !slices.Equal(unprocessedIDs(md.UnprocessedAccounts), []string{acctC}) {
		t.Fatalf("GetMemberDetectors = %+v / %v", md.MemberDataSourceConfigurations, unprocessedIDs(md.UnprocessedAccounts))
	}
	cfg := md.MemberDataSourceConfigurations[0]
	if aws.ToString(cfg.AccountId) != acctB || cfg.DataSources == nil || cfg.DataSources.CloudTrail.Status != gdtypes.DataSourceStatusEnabled ||
		cfg.DataSources.S3Logs.Status != gdtypes.DataSourceStatusEnabled || len(cfg.Features) < 4 {
		t.Fatalf("member detector = %+v", cfg)
	}
	up := must[*gd.UpdateMemberDetectorsOutput](t)(a.UpdateMemberDetectors(ctx, &gd.UpdateMemberDetectorsInput{DetectorId: det(acctA), AccountIds: []string{acctB},
		Features: []gdtypes.MemberFeaturesConfiguration{{Name: gdtypes.OrgFeatureS3DataEvents, Status: gdtypes.FeatureStatusDisabled}}}))
	if len(up.UnprocessedAccounts) != 0 {
		t.Fatalf("UpdateMemberDetectors unprocessed %v", unprocessedIDs(up.UnprocessedAccounts))
	}
	md = must[*gd.GetMemberDetectorsOutput](t)(a.GetMemberDetectors(ctx, &gd.GetMemberDetectorsInput{DetectorId: det(acctA), AccountIds: []string{acctB}}))
	for _, f := range md.MemberDataSourceConfigurations[0].Features {
		if f.Name == gdtypes.OrgFeatureS3DataEvents && (f.Status != gdtypes.FeatureStatusDisabled || f.UpdatedAt == nil || f.UpdatedAt.IsZero()) {
			t.Errorf("S3_DATA_EVENTS after update = %+v", f)
		}
	}

	// Stop and start monitoring.
	must[*gd.StopMonitoringMembersOutput](t)(a.StopMonitoringMembers(ctx, &gd.StopMonitoringMembersInput{DetectorId: det(acctA), AccountIds: []string{acctB}}))
	if st := e.status(t, acctA, acctB); st != "Disabled" {
		t.Fatalf("status after stop = %s", st)
	}
	if got := e.visible(acctA); !slices.Equal(got, []string{acctA}) {
		t.Errorf("visible accounts with monitoring stopped = %v", got)
	}
	must[*gd.StartMonitoringMembersOutput](t)(a.StartMonitoringMembers(ctx, &gd.StartMonitoringMembersInput{DetectorId: det(acctA), AccountIds: []string{acctB}}))
	if st := e.status(t, acctA, acctB); st != "Enabled" {
		t.Fatalf("status after start = %s", st)
	}

	// The state survives a restart.
	if svc2 := e.newService(t); !slices.Equal(svc2.visibleAccounts(caller{Account: acctA, Region: mtRegion}), []string{acctA, acctB}) {
		t.Errorf("after restart, visible accounts = %v", svc2.visibleAccounts(caller{Account: acctA, Region: mtRegion}))
	}

	// Disassociate: Removed, findings no longer visible, no administrator.
	dis := must[*gd.DisassociateMembersOutput](t)(a.DisassociateMembers(ctx, &gd.DisassociateMembersInput{DetectorId: det(acctA), AccountIds: []string{acctB}}))
	if len(dis.UnprocessedAccounts) != 0 {
		t.Fatalf("unprocessed %v", unprocessedIDs(dis.UnprocessedAccounts))
	}
	if st := e.status(t, acctA, acctB); st != "Removed" {
		t.Fatalf("status after disassociate = %s", st)
	}
	if got := e.visible(acctA); !slices.Equal(got, []string{acctA}) {
		t.Errorf("visible accounts after disassociate = %v", got)
	}
	if adm := must[*gd.GetAdministratorAccountOutput](t)(b.GetAdministratorAccount(ctx, &gd.GetAdministratorAccountInput{DetectorId: det(acctB)})); adm.Administrator != nil {
		t.Errorf("GetAdministratorAccount after disassociate = %+v", adm.Administrator)
	}
	stop := must[*gd.StopMonitoringMembersOutput](t)(a.StopMonitoringMembers(ctx, &gd.StopMonitoringMembersInput{DetectorId: det(acctA), AccountIds: []string{acctB}}))
	if !slices.Equal(unprocessedIDs(stop.UnprocessedAccounts), []string{acctB}) {
		t.Errorf("stopping a removed member: unprocessed %v", unprocessedIDs(stop.UnprocessedAccounts))
	}

	// Re-invite, accept, then the member resigns.
	e.inviteAndAccept(t, acctA, acctB)
	if st := e.status(t, acctA, acctB); st != "Enabled" {
		t.Fatalf("status after re-invitation = %s", st)
	}
	must[*gd.DisassociateFromAdministratorAccountOutput](t)(b.DisassociateFromAdministratorAccount(ctx, &gd.DisassociateFromAdministratorAccountInput{DetectorId: det(acctB)}))
	if st := e.status(t, acctA, acctB); st != "Resigned" {
		t.Fatalf("status after resigning = %s", st)
	}
	_, err = b.DisassociateFromMasterAccount(ctx, &gd.DisassociateFromMasterAccountInput{DetectorId: det(acctB)})
	wantAPIError(t, err, "BadRequestException")

	// Delete removes the record.
	del := must[*gd.DeleteMembersOutput](t)(a.DeleteMembers(ctx, &gd.DeleteMembersInput{DetectorId: det(acctA), AccountIds: []string{acctB, acctE}}))
	if !slices.Equal(unprocessedIDs(del.UnprocessedAccounts), []string{acctE}) {
		t.Errorf("DeleteMembers unprocessed %v", unprocessedIDs(del.UnprocessedAccounts))
	}
	if m := e.member(t, acctA, acctB); m != nil {
		t.Errorf("member after delete: %+v", m)
	}
	if got := e.listMembers(t, acctA, aws.String("false")); len(got) != 0 {
		t.Errorf("ListMembers after delete = %v", got)
	}
}

func TestMemberDeprecatedMasterOperations(t *testing.T) {
	e := newMTEnv(t)
	ctx := context.Background()
	must[*gd.CreateMembersOutput](t)(e.c(acctA).CreateMembers(ctx, &gd.CreateMembersInput{DetectorId: det(acctA),
		AccountDetails: []gdtypes.AccountDetail{{AccountId: aws.String(acctB), Email: aws.String("b@example.com")}}}))
	must[*gd.InviteMembersOutput](t)(e.c(acctA).InviteMembers(ctx, &gd.InviteMembersInput{DetectorId: det(acctA), AccountIds: []string{acctB}}))
	id := e.invitationFrom(t, acctB, acctA)
	must[*gd.AcceptInvitationOutput](t)(e.c(acctB).AcceptInvitation(ctx, &gd.AcceptInvitationInput{DetectorId: det(acctB), MasterId: aws.String(acctA), InvitationId: aws.String(id)}))
	if st := e.status(t, acctA, acctB); st != "Enabled" {
		t.Fatalf("status = %s", st)
	}
	must[*gd.DisassociateFromMasterAccountOutput](t)(e.c(acctB).DisassociateFromMasterAccount(ctx, &gd.DisassociateFromMasterAccountInput{DetectorId: det(acctB)}))
	if st := e.status(t, acctA, acctB); st != "Resigned" {
		t.Fatalf("status = %s", st)
	}
}

func TestMemberUnprocessedAndInvalid(t *testing.T) {
	e := newMTEnv(t)
	ctx := context.Background()
	a := e.c(acctA)
	detail := func(id string) gdtypes.AccountDetail {
		return gdtypes.AccountDetail{AccountId: aws.String(id), Email: aws.String("x@example.com")}
	}

	// Invalid ids fail the whole request, naming the value.
	for _, bad := range []string{"12345", "12345678901a", "1234567890123"} {
		_, err := a.CreateMembers(ctx, &gd.CreateMembersInput{DetectorId: det(acctA), AccountDetails: []gdtypes.AccountDetail{detail(acctB), detail(bad)}})
		wantAPIError(t, err, "BadRequestException")
		var ae smithy.APIError
		errors.As(err, &ae)
		if !strings.Contains(ae.ErrorMessage(), bad) {
			t.Errorf("message %q does not name %q", ae.ErrorMessage(), bad)
		}
		_, err = a.InviteMembers(ctx, &gd.InviteMembersInput{DetectorId: det(acctA), AccountIds: []string{bad}})
		wantAPIError(t, err, "BadRequestException")
		_, err = a.GetMembers(ctx, &gd.GetMembersInput{DetectorId: det(acctA), AccountIds: []string{bad}})
		wantAPIError(t, err, "BadRequestException")
		_, err = e.c(acctB).DeclineInvitations(ctx, &gd.DeclineInvitationsInput{AccountIds: []string{bad}})
		wantAPIError(t, err, "BadRequestException")
	}
	if m := e.member(t, acctA, acctB); m != nil {
		t.Fatalf("a refused request created a member: %+v", m)
	}
	var many []string
	for i := range 51 {
		many = append(many, fmt.Sprintf("%012d", 100000000000+i))
	}
	_, err := a.GetMembers(ctx, &gd.GetMembersInput{DetectorId: det(acctA), AccountIds: many})
	wantAPIError(t, err, "BadRequestException")
	_, err = a.GetMembers(ctx, &gd.GetMembersInput{DetectorId: det(acctA), AccountIds: []string{}})
	wantAPIError(t, err, "BadRequestException")

	// Unknown accounts, the caller itself, an administrator (D, which has C
	// from config) and a member of another administrator (C) are
	// unprocessed; B is created.
	out := must[*gd.CreateMembersOutput](t)(a.CreateMembers(ctx, &gd.CreateMembersInput{DetectorId: det(acctA),
		AccountDetails: []gdtypes.AccountDetail{detail(acctUnknown), detail(acctA), detail(acctD), detail(acctC), detail(acctB)}}))
	if got := unprocessedIDs(out.UnprocessedAccounts); !slices.Equal(got, []string{acctUnknown, acctA, acctD, acctC}) {
		t.Fatalf("unprocessed = %v", got)
	}
	if st := e.status(t, acctA, acctB); st != "Created" {
		t.Fatalf("B = %s", st)
	}
	// Creating again is harmless.
	out = must[*gd.CreateMembersOutput](t)(a.CreateMembers(ctx, &gd.CreateMembersInput{DetectorId: det(acctA), AccountDetails: []gdtypes.AccountDetail{detail(acctB)}}))
	if len(out.UnprocessedAccounts) != 0 || e.status(t, acctA, acctB) != "Created" {
		t.Fatalf("re-create: %v, %s", unprocessedIDs(out.UnprocessedAccounts), e.status(t, acctA, acctB))
	}

	// Operations on accounts that are not members are unprocessed.
	inv := must[*gd.InviteMembersOutput](t)(a.InviteMembers(ctx, &gd.InviteMembersInput{DetectorId: det(acctA), AccountIds: []string{acctE, acctB}}))
	if got := unprocessedIDs(inv.UnprocessedAccounts); !slices.Equal(got, []string{acctE}) {
		t.Fatalf("invite unprocessed = %v", got)
	}
	gm := must[*gd.GetMembersOutput](t)(a.GetMembers(ctx, &gd.GetMembersInput{DetectorId: det(acctA), AccountIds: []string{acctB, acctE}}))
	if len(gm.Members) != 1 || !slices.Equal(unprocessedIDs(gm.UnprocessedAccounts), []string{acctE}) {
		t.Fatalf("GetMembers = %d members, unprocessed %v", len(gm.Members), unprocessedIDs(gm.UnprocessedAccounts))
	}
	for _, call := range []func() ([]gdtypes.UnprocessedAccount, error){
		func() ([]gdtypes.UnprocessedAccount, error) {
			o, err := a.DisassociateMembers(ctx, &gd.DisassociateMembersInput{DetectorId: det(acctA), AccountIds: []string{acctE}})
			if o == nil {
				return nil, err
			}
			return o.UnprocessedAccounts, err
		},
		func() ([]gdtypes.UnprocessedAccount, error) {
			o, err := a.StartMonitoringMembers(ctx, &gd.StartMonitoringMembersInput{DetectorId: det(acctA), AccountIds: []string{acctE}})
			if o == nil {
				return nil, err
			}
			return o.UnprocessedAccounts, err
		},
		func() ([]gdtypes.UnprocessedAccount, error) {
			o, err := e.c(acctB).DeleteInvitations(ctx, &gd.DeleteInvitationsInput{AccountIds: []string{acctE}})
			if o == nil {
				return nil, err
			}
			return o.UnprocessedAccounts, err
		},
	} {
		u, err := call()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(unprocessedIDs(u), []string{acctE}) {
			t.Errorf("unprocessed = %v", unprocessedIDs(u))
		}
	}

	// ListMembers' onlyAssociated must be true or false.
	_, err = a.ListMembers(ctx, &gd.ListMembersInput{DetectorId: det(acctA), OnlyAssociated: aws.String("maybe")})
	wantAPIError(t, err, "BadRequestException")

	// A member cannot have members of its own.
	_, err = e.c(acctC).CreateMembers(ctx, &gd.CreateMembersInput{DetectorId: det(acctC), AccountDetails: []gdtypes.AccountDetail{detail(acctE)}})
	wantAPIError(t, err, "BadRequestException")
}

func TestMemberFromConfig(t *testing.T) {
	e := newMTEnv(t)
	ctx := context.Background()
	// C is D's member from config: Enabled, like an accepted invitation.
	if got := e.listMembers(t, acctD, nil); !slices.Equal(got, []string{acctC}) {
		t.Fatalf("D's members = %v", got)
	}
	if got := e.visible(acctD); !slices.Equal(got, []string{acctC, acctD}) {
		t.Fatalf("D's visible accounts = %v", got)
	}
	adm := must[*gd.GetAdministratorAccountOutput](t)(e.c(acctC).GetAdministratorAccount(ctx, &gd.GetAdministratorAccountInput{DetectorId: det(acctC)}))
	if adm.Administrator == nil || aws.ToString(adm.Administrator.AccountId) != acctD || aws.ToString(adm.Administrator.RelationshipStatus) != "Enabled" {
		t.Fatalf("C's administrator = %+v", adm.Administrator)
	}
	must[*gd.StopMonitoringMembersOutput](t)(e.c(acctD).StopMonitoringMembers(ctx, &gd.StopMonitoringMembersInput{DetectorId: det(acctD), AccountIds: []string{acctC}}))
	if got := e.visible(acctD); !slices.Equal(got, []string{acctD}) {
		t.Fatalf("D's visible accounts after stop = %v", got)
	}
	must[*gd.StartMonitoringMembersOutput](t)(e.c(acctD).StartMonitoringMembers(ctx, &gd.StartMonitoringMembersInput{DetectorId: det(acctD), AccountIds: []string{acctC}}))
	must[*gd.DisassociateFromAdministratorAccountOutput](t)(e.c(acctC).DisassociateFromAdministratorAccount(ctx, &gd.DisassociateFromAdministratorAccountInput{DetectorId: det(acctC)}))
	if st := e.status(t, acctD, acctC); st != "Resigned" {
		t.Fatalf("C = %s", st)
	}
	// A restart does not re-associate it.
	if svc2 := e.newService(t); !slices.Equal(svc2.visibleAccounts(caller{Account: acctD, Region: mtRegion}), []string{acctD}) {
		t.Fatalf("after restart: %v", svc2.visibleAccounts(caller{Account: acctD, Region: mtRegion}))
	}
	// Now free, C can be invited by A.
	e.inviteAndAccept(t, acctA, acctC)
	if got := e.visible(acctA); !slices.Equal(got, []string{acctA, acctC}) {
		t.Fatalf("A's visible accounts = %v", got)
	}
}

func TestMemberAcceptsOnlyOne(t *testing.T) {
	e := newMTEnv(t)
	ctx := context.Background()
	for _, admin := range []string{acctA, acctE} {
		must[*gd.CreateMembersOutput](t)(e.c(admin).CreateMembers(ctx, &gd.CreateMembersInput{DetectorId: det(admin),
			AccountDetails: []gdtypes.AccountDetail{{AccountId: aws.String(acctB), Email: aws.String("b@example.com")}}}))
		must[*gd.InviteMembersOutput](t)(e.c(admin).InviteMembers(ctx, &gd.InviteMembersInput{DetectorId: det(admin), AccountIds: []string{acctB}}))
	}
	b := e.c(acctB)
	invs := must[*gd.ListInvitationsOutput](t)(b.ListInvitations(ctx, &gd.ListInvitationsInput{MaxResults: aws.Int32(1)}))
	if len(invs.Invitations) != 1 || invs.NextToken == nil {
		t.Fatalf("first page: %d invitations, next %v", len(invs.Invitations), invs.NextToken)
	}
	idA, idE := e.invitationFrom(t, acctB, acctA), e.invitationFrom(t, acctB, acctE)
	must[*gd.AcceptAdministratorInvitationOutput](t)(b.AcceptAdministratorInvitation(ctx, &gd.AcceptAdministratorInvitationInput{DetectorId: det(acctB), AdministratorId: aws.String(acctA), InvitationId: aws.String(idA)}))
	if n := must[*gd.GetInvitationsCountOutput](t)(b.GetInvitationsCount(ctx, &gd.GetInvitationsCountInput{})); aws.ToInt32(n.InvitationsCount) != 0 {
		t.Fatalf("invitations after accepting one: %d", aws.ToInt32(n.InvitationsCount))
	}
	_, err := b.AcceptAdministratorInvitation(ctx, &gd.AcceptAdministratorInvitationInput{DetectorId: det(acctB), AdministratorId: aws.String(acctE), InvitationId: aws.String(idE)})
	wantAPIError(t, err, "BadRequestException")
	// E cannot re-invite a member associated with A.
	inv := must[*gd.InviteMembersOutput](t)(e.c(acctE).InviteMembers(ctx, &gd.InviteMembersInput{DetectorId: det(acctE), AccountIds: []string{acctB}}))
	if !slices.Equal(unprocessedIDs(inv.UnprocessedAccounts), []string{acctB}) {
		t.Fatalf("re-invite unprocessed = %v", unprocessedIDs(inv.UnprocessedAccounts))
	}
	// A, now an administrator, cannot become E's member.
	out := must[*gd.CreateMembersOutput](t)(e.c(acctE).CreateMembers(ctx, &gd.CreateMembersInput{DetectorId: det(acctE),
		AccountDetails: []gdtypes.AccountDetail{{AccountId: aws.String(acctA), Email: aws.String("a@example.com")}}}))
	if !slices.Equal(unprocessedIDs(out.UnprocessedAccounts), []string{acctA}) {
		t.Fatalf("unprocessed = %v", unprocessedIDs(out.UnprocessedAccounts))
	}
	// Nor can B, a member, invite.
	_, err = b.InviteMembers(ctx, &gd.InviteMembersInput{DetectorId: det(acctB), AccountIds: []string{acctE}})
	wantAPIError(t, err, "BadRequestException")
}

func TestMemberDeclineInvitation(t *testing.T) {
	e := newMTEnv(t)
	ctx := context.Background()
	must[*gd.CreateMembersOutput](t)(e.c(acctA).CreateMembers(ctx, &gd.CreateMembersInput{DetectorId: det(acctA),
		AccountDetails: []gdtypes.AccountDetail{{AccountId: aws.String(acctB), Email: aws.String("b@example.com")}}}))
	must[*gd.InviteMembersOutput](t)(e.c(acctA).InviteMembers(ctx, &gd.InviteMembersInput{DetectorId: det(acctA), AccountIds: []string{acctB}}))
	id := e.invitationFrom(t, acctB, acctA)
	out := must[*gd.DeclineInvitationsOutput](t)(e.c(acctB).DeclineInvitations(ctx, &gd.DeclineInvitationsInput{AccountIds: []string{acctA}}))
	if len(out.UnprocessedAccounts) != 0 {
		t.Fatalf("unprocessed %v", unprocessedIDs(out.UnprocessedAccounts))
	}
	if n := must[*gd.GetInvitationsCountOutput](t)(e.c(acctB).GetInvitationsCount(ctx, &gd.GetInvitationsCountInput{})); aws.ToInt32(n.InvitationsCount) != 0 {
		t.Fatalf("count = %d", aws.ToInt32(n.InvitationsCount))
	}
	_, err := e.c(acctB).AcceptAdministratorInvitation(ctx, &gd.AcceptAdministratorInvitationInput{DetectorId: det(acctB), AdministratorId: aws.String(acctA), InvitationId: aws.String(id)})
	wantAPIError(t, err, "BadRequestException")
	// A new invitation can be accepted.
	must[*gd.InviteMembersOutput](t)(e.c(acctA).InviteMembers(ctx, &gd.InviteMembersInput{DetectorId: det(acctA), AccountIds: []string{acctB}}))
	id = e.invitationFrom(t, acctB, acctA)
	must[*gd.AcceptAdministratorInvitationOutput](t)(e.c(acctB).AcceptAdministratorInvitation(ctx, &gd.AcceptAdministratorInvitationInput{DetectorId: det(acctB), AdministratorId: aws.String(acctA), InvitationId: aws.String(id)}))
	if st := e.status(t, acctA, acctB); st != "Enabled" {
		t.Fatalf("status = %s", st)
	}
}

func TestMemberCrossAccount(t *testing.T) {
	e := newMTEnv(t)
	ctx := context.Background()
	e.inviteAndAccept(t, acctA, acctB)
	x := e.c(acctE)
	// E cannot use A's detector.
	_, err := x.ListMembers(ctx, &gd.ListMembersInput{DetectorId: det(acctA)})
	wantAPIError(t, err, "BadRequestException")
	_, err = x.GetMembers(ctx, &gd.GetMembersInput{DetectorId: det(acctA), AccountIds: []string{acctB}})
	wantAPIError(t, err, "BadRequestException")
	_, err = x.DisassociateMembers(ctx, &gd.DisassociateMembersInput{DetectorId: det(acctA), AccountIds: []string{acctB}})
	wantAPIError(t, err, "BadRequestException")
	// With its own detector it sees none of A's members.
	if got := e.listMembers(t, acctE, aws.String("false")); len(got) != 0 {
		t.Fatalf("E's members = %v", got)
	}
	gm := must[*gd.GetMembersOutput](t)(x.GetMembers(ctx, &gd.GetMembersInput{DetectorId: det(acctE), AccountIds: []string{acctB}}))
	if len(gm.Members) != 0 || !slices.Equal(unprocessedIDs(gm.UnprocessedAccounts), []string{acctB}) {
		t.Fatalf("E's GetMembers = %+v", gm)
	}
	dis := must[*gd.DisassociateMembersOutput](t)(x.DisassociateMembers(ctx, &gd.DisassociateMembersInput{DetectorId: det(acctE), AccountIds: []string{acctB}}))
	if !slices.Equal(unprocessedIDs(dis.UnprocessedAccounts), []string{acctB}) {
		t.Fatalf("unprocessed = %v", unprocessedIDs(dis.UnprocessedAccounts))
	}
	if st := e.status(t, acctA, acctB); st != "Enabled" {
		t.Fatalf("B = %s", st)
	}
	// The member cannot manage its administrator's members.
	_, err = e.c(acctB).GetMemberDetectors(ctx, &gd.GetMemberDetectorsInput{DetectorId: det(acctA), AccountIds: []string{acctB}})
	wantAPIError(t, err, "BadRequestException")
	// An account unknown to Vigil has no detector.
	_, err = e.c(acctUnknown).ListMembers(ctx, &gd.ListMembersInput{DetectorId: det(acctUnknown)})
	wantAPIError(t, err, "BadRequestException")
}

func TestMemberOrganization(t *testing.T) {
	e := newMTEnv(t)
	ctx := context.Background()
	mg := e.c(acctA)
	list := func(c *gd.Client) []string {
		t.Helper()
		out := must[*gd.ListOrganizationAdminAccountsOutput](t)(c.ListOrganizationAdminAccounts(ctx, &gd.ListOrganizationAdminAccountsInput{}))
		var ids []string
		for _, a := range out.AdminAccounts {
			if a.AdminStatus != gdtypes.AdminStatusEnabled {
				t.Errorf("admin status %s", a.AdminStatus)
			}
			ids = append(ids, aws.ToString(a.AdminAccountId))
		}
		return ids
	}
	if got := list(mg); len(got) != 0 {
		t.Fatalf("admins = %v", got)
	}
	_, err := mg.EnableOrganizationAdminAccount(ctx, &gd.EnableOrganizationAdminAccountInput{AdminAccountId: aws.String(acctUnknown)})
	wantAPIError(t, err, "BadRequestException")
	_, err = mg.EnableOrganizationAdminAccount(ctx, &gd.EnableOrganizationAdminAccountInput{AdminAccountId: aws.String("1234")})
	wantAPIError(t, err, "BadRequestException")
	_, err = mg.EnableOrganizationAdminAccount(ctx, &gd.EnableOrganizationAdminAccountInput{AdminAccountId: aws.String(acctC)}) // D's member
	wantAPIError(t, err, "BadRequestException")
	must[*gd.EnableOrganizationAdminAccountOutput](t)(mg.EnableOrganizationAdminAccount(ctx, &gd.EnableOrganizationAdminAccountInput{AdminAccountId: aws.String(acctE)}))
	must[*gd.EnableOrganizationAdminAccountOutput](t)(mg.EnableOrganizationAdminAccount(ctx, &gd.EnableOrganizationAdminAccountInput{AdminAccountId: aws.String(acctE)}))
	if got := list(mg); !slices.Equal(got, []string{acctE}) {
		t.Fatalf("admins = %v", got)
	}
	_, err = mg.EnableOrganizationAdminAccount(ctx, &gd.EnableOrganizationAdminAccountInput{AdminAccountId: aws.String(acctB)})
	wantAPIError(t, err, "BadRequestException")
	// Only the management account manages it.
	_, err = e.c(acctB).DisableOrganizationAdminAccount(ctx, &gd.DisableOrganizationAdminAccountInput{AdminAccountId: aws.String(acctE)})
	wantAPIError(t, err, "BadRequestException")
	_, err = e.c(acctB).ListOrganizationAdminAccounts(ctx, &gd.ListOrganizationAdminAccountsInput{})
	wantAPIError(t, err, "BadRequestException")

	// The delegated administrator's members are associated at once.
	out := must[*gd.CreateMembersOutput](t)(e.c(acctE).CreateMembers(ctx, &gd.CreateMembersInput{DetectorId: det(acctE),
		AccountDetails: []gdtypes.AccountDetail{{AccountId: aws.String(acctB), Email: aws.String("b@example.com")}}}))
	if len(out.UnprocessedAccounts) != 0 {
		t.Fatalf("unprocessed %v", unprocessedIDs(out.UnprocessedAccounts))
	}
	if st := e.status(t, acctE, acctB); st != "Enabled" {
		t.Fatalf("org member = %s", st)
	}
	if got := e.visible(acctE); !slices.Equal(got, []string{acctB, acctE}) {
		t.Fatalf("visible = %v", got)
	}

	_, err = mg.DisableOrganizationAdminAccount(ctx, &gd.DisableOrganizationAdminAccountInput{AdminAccountId: aws.String(acctB)})
	wantAPIError(t, err, "BadRequestException")
	must[*gd.DisableOrganizationAdminAccountOutput](t)(mg.DisableOrganizationAdminAccount(ctx, &gd.DisableOrganizationAdminAccountInput{AdminAccountId: aws.String(acctE)}))
	if got := list(mg); len(got) != 0 {
		t.Fatalf("admins after disable = %v", got)
	}
	// The organization's record is not a taggable resource.
	_, err = mg.ListTagsForResource(ctx, &gd.ListTagsForResourceInput{ResourceArn: aws.String("vigil:organization")})
	wantAPIError(t, err, "BadRequestException")
}
