package lighthouse_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/lighthouse"
	"github.com/partnerlink/partnerlink/sqlstore"
	st "github.com/partnerlink/partnerlink/sqlstore/storetest"
)

// Registering a delegation checks it, and a new one under an id in force
// ends the old one at the same instant (docs/rules.md#azure-attribution):
// the API and the CLI both go through here.
func TestRegisterReplacesAndChecks(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "pl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st.Seed(t, db)
	const subA, subB = "5a100000-0000-4000-8000-0000000000a1", "5a100000-0000-4000-8000-0000000000b1"
	for sub, tenant := range map[string]string{subA: st.TenantA, subB: st.TenantB} {
		if err := db.PutSubscription(ctx, partnerlink.Subscription{SubscriptionID: sub, TenantID: tenant, Name: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	const engineer = "c0ffee00-0000-4000-8000-0000000000b9" // in the managing tenant B
	if err := db.PutPrincipal(ctx, partnerlink.Principal{TenantID: st.TenantB, ObjectID: engineer, Type: partnerlink.PrincipalUser, DisplayName: "engineer"}); err != nil {
		t.Fatal(err)
	}
	svc := &lighthouse.Service{Store: db}
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	t1 := t0.AddDate(0, 0, 5)
	d := partnerlink.Delegation{ID: "D0000000-0000-4000-8000-0000000000A1", CustomerTenantID: st.TenantA, ManagingTenantID: st.TenantB,
		Scope: "/subscriptions/" + subA, PrincipalID: engineer, RoleDefinition: "Reader"}

	for _, c := range []struct {
		change func(*partnerlink.Delegation)
		want   string
	}{
		{func(d *partnerlink.Delegation) { d.RoleDefinition = "Nope" }, `roleDefinition "Nope" is neither a built-in role nor a custom role`},
		{func(d *partnerlink.Delegation) { d.Scope = "/subscriptions/" + subB }, "is not in tenant " + st.TenantA},
		{func(d *partnerlink.Delegation) { d.Scope = "/" }, "Lighthouse delegates a subscription or a resource group"},
		{func(d *partnerlink.Delegation) { d.PrincipalID = st.UserA }, "is not a principal of the managing tenant"},
	} {
		bad := d
		c.change(&bad)
		if _, err := svc.Register(ctx, bad, t0); partnerlink.ErrorCode(err) != partnerlink.EINVALID || !strings.Contains(err.Error(), c.want) {
			t.Errorf("register %+v: %v; want %q", bad, err, c.want)
		}
	}

	if _, err := svc.Register(ctx, d, t0); err != nil {
		t.Fatal(err)
	}
	d.RoleDefinition = "Contributor"
	if _, err := svc.Register(ctx, d, t1); err != nil {
		t.Fatal(err)
	}
	dls, err := db.Delegations(ctx, st.TenantA, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(dls) != 2 || dls[0].Period != (partnerlink.Period{From: t0, To: t1}) || dls[1].Period != (partnerlink.Period{From: t1}) ||
		dls[1].RoleDefinition != "Contributor" || dls[1].ID != strings.ToLower(d.ID) {
		t.Errorf("delegation history = %+v", dls)
	}
	cur, err := svc.Current(ctx, st.TenantA, d.ID)
	if err != nil || cur.RoleDefinition != "Contributor" {
		t.Errorf("current = %+v, %v", cur, err)
	}
	if err := svc.End(ctx, st.TenantA, d.ID, t1.AddDate(0, 0, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Current(ctx, st.TenantA, d.ID); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("current after the end: %v", err)
	}
}
