package rbac_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/rbac"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/world"
)

const (
	tenant = "0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60"
	other  = "7e6d5c4b-3a29-4817-8f6e-5d4c3b2a1908"
	sub    = "9d8c7b6a-5f4e-4d3c-8b2a-190807060504"
	owner  = "c0ffee00-0000-4000-8000-000000000001"
	uaa    = "c0ffee00-0000-4000-8000-000000000002"
	contr  = "c0ffee00-0000-4000-8000-000000000003"
	reader = "c0ffee00-0000-4000-8000-000000000004"
	grpA   = "c0ffee00-0000-4000-8000-0000000000a1"
	grpB   = "c0ffee00-0000-4000-8000-0000000000b1"
	member = "c0ffee00-0000-4000-8000-000000000005"
	// deployer holds "Deployer" on the subscription: its tenant's custom
	// role, which creates resource groups only; the other tenant's role
	// of that name and GUID may do anything.
	deployer   = "c0ffee00-0000-4000-8000-000000000006"
	deployerID = "0e500000-0000-4000-8000-000000000001"
)

func setup(t *testing.T) *rbac.Authorizer {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "pl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	at := func(s string) *time.Time { v, _ := time.Parse(time.RFC3339, s); return &v }
	p := func(s string) *string { return &s }
	doc := &world.Document{Version: 1,
		Tenants:          []world.Tenant{{TenantID: tenant, Name: "T"}, {TenantID: other, Name: "O"}},
		ManagementGroups: []world.ManagementGroup{{TenantID: tenant, Name: "root-mg"}, {TenantID: tenant, Name: "prod", Parent: p("root-mg")}},
		Subscriptions:    []world.Subscription{{SubscriptionID: sub, TenantID: tenant, Name: "s", ManagementGroup: p("prod")}},
	}
	doc.RoleDefinitions = []world.RoleDefinition{
		{TenantID: other, Name: "Deployer", ID: deployerID, Actions: []string{"*"}},
		{TenantID: tenant, Name: "Deployer", ID: deployerID, Actions: []string{rbac.WriteResourceGroups}},
	}
	for _, id := range []string{owner, uaa, contr, reader, member, deployer} {
		doc.Principals = append(doc.Principals, world.Principal{TenantID: tenant, ObjectID: id, Type: "User", DisplayName: id})
	}
	for _, id := range []string{grpA, grpB} {
		doc.Principals = append(doc.Principals, world.Principal{TenantID: tenant, ObjectID: id, Type: "Group", DisplayName: id})
	}
	// member ∈ grpA ∈ grpB ∈ grpA (a cycle); grpB is Owner on the management group.
	doc.GroupMemberships = []world.GroupMembership{
		{TenantID: tenant, GroupID: grpA, MemberID: member, From: at("2020-01-01T00:00:00Z")},
		{TenantID: tenant, GroupID: grpB, MemberID: grpA, From: at("2020-01-01T00:00:00Z")},
		{TenantID: tenant, GroupID: grpA, MemberID: grpB, From: at("2020-01-01T00:00:00Z")},
	}
	ra := func(id, who, role, scope string) world.RoleAssignment {
		return world.RoleAssignment{TenantID: tenant, ID: id, PrincipalID: who, RoleDefinition: role, Scope: scope, From: at("2020-01-01T00:00:00Z")}
	}
	doc.RoleAssignments = []world.RoleAssignment{
		ra("e0000000-0000-4000-8000-000000000001", owner, "Owner", "/"),
		ra("e0000000-0000-4000-8000-000000000002", uaa, "User Access Administrator", "/subscriptions/"+sub+"/resourceGroups/web"),
		ra("e0000000-0000-4000-8000-000000000003", contr, "Contributor", "/subscriptions/"+sub),
		ra("e0000000-0000-4000-8000-000000000004", reader, "Reader", "/subscriptions/"+sub),
		ra("e0000000-0000-4000-8000-000000000005", grpB, "Owner", "/providers/Microsoft.Management/managementGroups/prod"),
		ra("e0000000-0000-4000-8000-000000000006", deployer, "deployer", "/subscriptions/"+sub),
	}
	if err := db.ImportWorld(ctx, doc, func(s string) (string, error) { return s, nil }); err != nil {
		t.Fatal(err)
	}
	return &rbac.Authorizer{Store: db, Now: func() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }}
}

// Issue 3: only a principal allowed to write role assignments at the scope
// (Owner, User Access Administrator, inherited from above) may create them.
func TestWriteRoleAssignmentsMatrix(t *testing.T) {
	a := setup(t)
	ctx := context.Background()
	scopes := map[string]string{
		"root":     "/",
		"mg":       "/providers/Microsoft.Management/managementGroups/prod",
		"sub":      "/subscriptions/" + sub,
		"rg web":   "/subscriptions/" + sub + "/resourceGroups/web",
		"resource": "/subscriptions/" + sub + "/resourceGroups/WEB/providers/Microsoft.Web/sites/shop/slots/staging",
		"rg data":  "/subscriptions/" + sub + "/resourceGroups/data",
	}
	want := map[string]map[string]bool{
		owner:  {"root": true, "mg": true, "sub": true, "rg web": true, "resource": true, "rg data": true},
		uaa:    {"rg web": true, "resource": true},
		contr:  {},
		reader: {},
		member: {"mg": true, "sub": true, "rg web": true, "resource": true, "rg data": true}, // via nested groups
	}
	for who, allowed := range want {
		for name, raw := range scopes {
			s, err := partnerlink.ParseScope(raw)
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.Allowed(ctx, partnerlink.Caller{TenantID: tenant, ObjectID: who}, s, rbac.WriteRoleAssignments)
			if err != nil {
				t.Fatal(err)
			}
			if got != allowed[name] {
				t.Errorf("%s write role assignments at %s = %v, want %v", who, name, got, allowed[name])
			}
		}
	}
	// Contributor may create resource groups, Reader may not.
	rg, _ := partnerlink.ParseScope("/subscriptions/" + sub + "/resourceGroups/new")
	if ok, _ := a.Allowed(ctx, partnerlink.Caller{TenantID: tenant, ObjectID: contr}, rg, rbac.WriteResourceGroups); !ok {
		t.Error("Contributor cannot create a resource group")
	}
	if ok, _ := a.Allowed(ctx, partnerlink.Caller{TenantID: tenant, ObjectID: reader}, rg, rbac.WriteResourceGroups); ok {
		t.Error("Reader can create a resource group")
	}
	// A caller of another tenant is refused with the tenant error.
	err := a.Check(ctx, partnerlink.Caller{TenantID: other, ObjectID: owner}, rg, rbac.WriteRoleAssignments)
	if e, ok := err.(*partnerlink.Error); !ok || e.ARMCode != "InvalidAuthenticationTokenTenant" {
		t.Errorf("other tenant: %v", err)
	}
	err = a.Check(ctx, partnerlink.Caller{TenantID: tenant, ObjectID: reader}, rg, rbac.WriteRoleAssignments)
	if e, ok := err.(*partnerlink.Error); !ok || e.ARMCode != "AuthorizationFailed" || partnerlink.ErrorCode(err) != partnerlink.EFORBIDDEN {
		t.Errorf("reader: %v", err)
	}
}

// Issue 11 item 2: a role is looked up among the custom roles of the
// scope's tenant only, whatever another tenant calls its roles.
func TestCustomRoleOfTheTenant(t *testing.T) {
	a := setup(t)
	ctx := context.Background()
	s, _ := partnerlink.ParseScope("/subscriptions/" + sub + "/resourceGroups/new")
	for action, want := range map[string]bool{rbac.WriteResourceGroups: true, rbac.WriteRoleAssignments: false, rbac.WriteManagementGroups: false} {
		got, err := a.Allowed(ctx, partnerlink.Caller{TenantID: tenant, ObjectID: deployer}, s, action)
		if err != nil || got != want {
			t.Errorf("deployer may %s: %v (%v), want %v", action, got, err, want)
		}
	}
}

func TestAncestors(t *testing.T) {
	a := setup(t)
	s, _ := partnerlink.ParseScope("/subscriptions/" + sub + "/resourceGroups/Web/providers/Microsoft.Web/sites/shop/slots/staging")
	got, err := a.Ancestors(context.Background(), tenant, s)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/subscriptions/" + sub + "/resourcegroups/web/providers/microsoft.web/sites/shop/slots/staging",
		"/subscriptions/" + sub + "/resourcegroups/web/providers/microsoft.web/sites/shop",
		"/subscriptions/" + sub + "/resourcegroups/web",
		"/subscriptions/" + sub,
		"/providers/microsoft.management/managementgroups/prod",
		"/providers/microsoft.management/managementgroups/root-mg",
		"/",
	}
	if len(got) != len(want) {
		t.Fatalf("ancestors = %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("ancestor %d = %s, want %s", i, got[i], want[i])
		}
	}
}
