package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/partnerlink/partnerlink"
)

// testRoleModel: the role model through partnerlink.RoleStore —
// subscriptions under management groups (never in a loop), resource
// groups, custom roles per tenant (replaced only when asked), role
// assignments and delegations as periods closed at an instant.
func testRoleModel(t *testing.T, s Store) {
	ctx := context.Background()
	Seed(t, s)
	const sub = "5a100000-0000-4000-8000-0000000000a1"
	t1 := t0.AddDate(0, 0, 9)

	must(t, s.PutSubscription(ctx, partnerlink.Subscription{SubscriptionID: sub, TenantID: TenantA, Name: "prod"}))
	must(t, s.PutManagementGroup(ctx, partnerlink.ManagementGroup{TenantID: TenantA, Name: "mg1"}))
	must(t, s.PutManagementGroup(ctx, partnerlink.ManagementGroup{TenantID: TenantA, Name: "mg2", Parent: "mg1"}))
	wantCode(t, "mg1 under its own child", s.PutManagementGroup(ctx, partnerlink.ManagementGroup{TenantID: TenantA, Name: "mg1", Parent: "mg2"}), partnerlink.EINVALID)
	mgs, err := s.ManagementGroups(ctx, TenantA)
	must(t, err)
	if want := []partnerlink.ManagementGroup{{TenantID: TenantA, Name: "mg1"}, {TenantID: TenantA, Name: "mg2", Parent: "mg1"}}; !slices.Equal(mgs, want) {
		t.Errorf("management groups = %+v, want %+v", mgs, want)
	}
	must(t, s.PutSubscription(ctx, partnerlink.Subscription{SubscriptionID: sub, TenantID: TenantA, Name: "prod", ManagementGroup: "mg2"}))
	got, err := s.Subscription(ctx, sub)
	must(t, err)
	if want := (partnerlink.Subscription{SubscriptionID: sub, TenantID: TenantA, Name: "prod", ManagementGroup: "mg2"}); *got != want {
		t.Errorf("subscription = %+v, want %+v", *got, want)
	}
	_, err = s.Subscription(ctx, "5a100000-0000-4000-8000-0000000000ff")
	wantCode(t, "unknown subscription", err, partnerlink.ENOTFOUND)
	if subs, err := s.Subscriptions(ctx, TenantB); err != nil || len(subs) != 0 {
		t.Errorf("tenant B's subscriptions = %+v, %v", subs, err)
	}

	created, err := s.PutResourceGroup(ctx, partnerlink.ResourceGroup{SubscriptionID: sub, Name: "Web", Location: "westeurope"})
	must(t, err)
	again, err := s.PutResourceGroup(ctx, partnerlink.ResourceGroup{SubscriptionID: sub, Name: "WEB", Location: "norwayeast"})
	must(t, err)
	rgs, err := s.ResourceGroups(ctx, sub, "web")
	must(t, err)
	if !created || again || len(rgs) != 1 || rgs[0].Name != "Web" || rgs[0].Location != "norwayeast" {
		t.Errorf("resource groups: created %v, again %v, %+v", created, again, rgs)
	}

	const ops = "0e500000-0000-4000-8000-0000000000a1"
	must(t, s.PutRoleDefinition(ctx, partnerlink.RoleDefinition{TenantID: TenantA, ID: ops, Name: "Ops", Actions: []string{"*/read"}}, false))
	wantCode(t, "replace an existing role when replace is false", s.PutRoleDefinition(ctx, partnerlink.RoleDefinition{TenantID: TenantA, ID: ops, Name: "Ops", Actions: []string{"*"}}, false), partnerlink.EFORBIDDEN)
	must(t, s.PutRoleDefinition(ctx, partnerlink.RoleDefinition{TenantID: TenantB, ID: ops, Name: "Ops", Actions: []string{"*"}}, false))
	must(t, s.PutRoleDefinition(ctx, partnerlink.RoleDefinition{TenantID: TenantA, ID: ops, Name: "Ops", Actions: []string{"Microsoft.Compute/*"}}, true))
	roles := func(tenant string) string {
		rds, err := s.RoleDefinitions(ctx, tenant)
		must(t, err)
		return fmt.Sprint(rds)
	}
	if got, want := roles(TenantA), fmt.Sprint([]partnerlink.RoleDefinition{{TenantID: TenantA, ID: ops, Name: "Ops", Actions: []string{"Microsoft.Compute/*"},
		NotActions: []string{}, DataActions: []string{}}}); got != want {
		t.Errorf("tenant A's roles = %s, want %s", got, want)
	}
	if got := roles(TenantB); got == roles(TenantA) {
		t.Errorf("tenant B's role of the same id is A's: %s", got)
	}

	const ra = "e0000000-0000-4000-8000-0000000000a1"
	grant := partnerlink.RoleAssignment{TenantID: TenantA, ID: ra, PrincipalID: UserA, RoleDefinition: "Ops", Scope: "/subscriptions/" + sub,
		Period: partnerlink.Period{From: t0}}
	for i, want := range []bool{true, false} {
		created, err := s.CreateRoleAssignment(ctx, grant, "test", func(sameID, sameGrant []partnerlink.RoleAssignment) (bool, error) {
			return len(sameID) == 0 && len(sameGrant) == 0, nil
		})
		if err != nil || created != want {
			t.Errorf("create %d: %v, %v; want %v", i+1, created, err, want)
		}
	}
	ended, err := s.EndRoleAssignment(ctx, TenantA, ra, t1, "test")
	must(t, err)
	if ended.Period != (partnerlink.Period{From: t0, To: t1}) {
		t.Errorf("ended assignment's period = %+v", ended.Period)
	}
	_, err = s.EndRoleAssignment(ctx, TenantA, ra, t1, "test")
	wantCode(t, "end an ended assignment", err, partnerlink.ENOTFOUND)
	all, err := s.RoleAssignments(ctx, partnerlink.RoleAssignmentFilter{TenantID: TenantA})
	must(t, err)
	cur, err := s.RoleAssignments(ctx, partnerlink.RoleAssignmentFilter{TenantID: TenantA, CurrentOnly: true})
	must(t, err)
	if want := grant; len(all) != 1 || len(cur) != 0 || all[0].Period != (partnerlink.Period{From: t0, To: t1}) || all[0].Scope != want.Scope {
		t.Errorf("assignments = %+v, current %+v", all, cur)
	}

	const dl = "d0000000-0000-4000-8000-0000000000a1"
	must(t, s.PutDelegation(ctx, partnerlink.Delegation{ID: dl, CustomerTenantID: TenantA, ManagingTenantID: TenantB, Scope: "/subscriptions/" + sub,
		PrincipalID: GuestB, RoleDefinition: "Reader", Period: partnerlink.Period{From: t0}}))
	must(t, s.EndDelegation(ctx, TenantA, dl, t1))
	wantCode(t, "end an ended delegation", s.EndDelegation(ctx, TenantA, dl, t1), partnerlink.ENOTFOUND)
	dls, err := s.Delegations(ctx, TenantA, false)
	must(t, err)
	curDls, err := s.Delegations(ctx, TenantA, true)
	must(t, err)
	if len(dls) != 1 || len(curDls) != 0 || dls[0].Period != (partnerlink.Period{From: t0, To: t1}) || dls[0].ManagingTenantID != TenantB {
		t.Errorf("delegations = %+v, current %+v", dls, curDls)
	}
}
