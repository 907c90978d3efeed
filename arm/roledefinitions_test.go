package arm_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/arm"
	"github.com/partnerlink/partnerlink/linking"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/world"
)

// Tenant A (custT) and tenant B (otherT), each with a subscription and an
// Owner at its root; in B, userB holds B's custom role "Ops" (reads only)
// on B's subscription. B also has the custom role "Only B".
const (
	rdSubA   = "f1f1f1f1-0000-4000-8000-00000000000a"
	rdSubB   = "f1f1f1f1-0000-4000-8000-00000000000b"
	rdOwnerA = "d0d0d0d0-0000-4000-8000-00000000000a"
	rdOwnerB = "d0d0d0d0-0000-4000-8000-00000000000b"
	rdUserB  = "d0d0d0d0-0000-4000-8000-0000000000b1"
	rdRGB    = "d0d0d0d0-0000-4000-8000-0000000000b2" // Owner of B's resource group "web"
	opsID    = "0e500000-0000-4000-8000-000000000001" // B's "Ops"
	onlyBID  = "0e500000-0000-4000-8000-000000000002" // B's "Only B"
)

func newRoleDefinitionServer(t *testing.T) (*httptest.Server, *sqlstore.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "pl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	since := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	doc := &world.Document{Version: 1,
		Tenants: []world.Tenant{{TenantID: custT, Name: "A"}, {TenantID: otherT, Name: "B"}},
		Subscriptions: []world.Subscription{
			{SubscriptionID: rdSubA, TenantID: custT, Name: "a"},
			{SubscriptionID: rdSubB, TenantID: otherT, Name: "b"},
		},
		Principals: []world.Principal{
			{TenantID: custT, ObjectID: rdOwnerA, Type: "User", DisplayName: "owner A"},
			{TenantID: otherT, ObjectID: rdOwnerB, Type: "User", DisplayName: "owner B"},
			{TenantID: otherT, ObjectID: rdUserB, Type: "User", DisplayName: "user B"},
			{TenantID: otherT, ObjectID: rdRGB, Type: "User", DisplayName: "web owner B"},
		},
		RoleDefinitions: []world.RoleDefinition{
			{TenantID: otherT, Name: "Ops", ID: opsID, Actions: []string{"Microsoft.Compute/*/read"}, NotActions: []string{}},
			{TenantID: otherT, Name: "Only B", ID: onlyBID, Actions: []string{"*/read"}, NotActions: []string{}},
		},
		RoleAssignments: []world.RoleAssignment{
			{TenantID: custT, ID: "e2000000-0000-4000-8000-000000000001", PrincipalID: rdOwnerA, RoleDefinition: "Owner", Scope: "/", From: &since},
			{TenantID: otherT, ID: "e2000000-0000-4000-8000-000000000002", PrincipalID: rdOwnerB, RoleDefinition: "Owner", Scope: "/", From: &since},
			{TenantID: otherT, ID: "e2000000-0000-4000-8000-000000000003", PrincipalID: rdUserB, RoleDefinition: opsID, Scope: "/subscriptions/" + rdSubB, From: &since},
			{TenantID: otherT, ID: "e2000000-0000-4000-8000-000000000004", PrincipalID: rdRGB, RoleDefinition: "Owner", Scope: "/subscriptions/" + rdSubB + "/resourceGroups/web", From: &since},
		},
	}
	if err := db.ImportWorld(ctx, doc, func(s string) (string, error) { return s, nil }); err != nil {
		t.Fatal(err)
	}
	toks := tokens{
		rdOwnerA: {TenantID: custT, ObjectID: rdOwnerA},
		rdOwnerB: {TenantID: otherT, ObjectID: rdOwnerB},
		rdUserB:  {TenantID: otherT, ObjectID: rdUserB},
		rdRGB:    {TenantID: otherT, ObjectID: rdRGB},
	}
	h := &arm.Handler{Auth: toks, Links: linking.New(db), Directory: db, Roles: db, BaseURL: "https://127.0.0.1",
		Now: func() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv, db
}

type roleDefinitionBody struct {
	ID, Name   string
	Properties struct {
		RoleName, Type string
		Permissions    []struct{ Actions []string }
	}
}

func roleBody(name string, actions ...string) *strings.Reader {
	b, _ := json.Marshal(map[string]any{"properties": map[string]any{"roleName": name,
		"permissions": []map[string]any{{"actions": actions, "notActions": []string{}}}}})
	return strings.NewReader(string(b))
}

// customRoles lists the custom roles a caller sees at a scope, as
// "name id actions".
func customRoles(t *testing.T, srv *httptest.Server, who, scope string) []string {
	t.Helper()
	r := do(t, srv, "GET", scope+"/providers/Microsoft.Authorization/roleDefinitions"+av+"&$filter=type%20eq%20'CustomRole'", who, nil)
	var l struct{ Value []roleDefinitionBody }
	if err := json.Unmarshal(r.body, &l); err != nil || r.status != 200 {
		t.Fatalf("list custom roles as %s: %d %s", who, r.status, r.body)
	}
	out := []string{}
	for _, v := range l.Value {
		out = append(out, v.Properties.RoleName+" "+v.Name+" "+strings.Join(v.Properties.Permissions[0].Actions, ","))
	}
	return out
}

// Issue 11 item 2: a custom role is its tenant's. Another tenant neither
// sees it nor changes it by PUTting its id, and cannot assign it.
func TestCustomRolesAreTenantIsolated(t *testing.T) {
	srv, db := newRoleDefinitionServer(t)
	const defs = "/providers/Microsoft.Authorization/roleDefinitions/"

	// A sees none of B's custom roles, in the list or by id.
	if got := customRoles(t, srv, rdOwnerA, ""); len(got) != 0 {
		t.Errorf("A's custom roles = %q, want none", got)
	}
	if got := customRoles(t, srv, rdOwnerA, "/subscriptions/"+rdSubA); len(got) != 0 {
		t.Errorf("A's custom roles at its subscription = %q, want none", got)
	}
	if r := do(t, srv, "GET", defs+opsID+av, rdOwnerA, nil); r.status != 404 || armCode(t, r) != "RoleDefinitionDoesNotExist" {
		t.Errorf("A reads B's role by id: %d %s", r.status, r.body)
	}
	// B's scopes are not A's to read at all.
	if r := do(t, srv, "GET", "/subscriptions/"+rdSubB+defs[:len(defs)-1]+av, rdOwnerA, nil); r.status != 401 || armCode(t, r) != "InvalidAuthenticationTokenTenant" {
		t.Errorf("A lists role definitions at B's subscription: %d %s", r.status, r.body)
	}
	if r := do(t, srv, "PUT", "/subscriptions/"+rdSubB+defs+opsID+av, rdOwnerA, roleBody("Ops", "*")); r.status != 401 || armCode(t, r) != "InvalidAuthenticationTokenTenant" {
		t.Errorf("A writes a role at B's subscription: %d %s", r.status, r.body)
	}

	// The probe: A PUTs the id of B's role with every action. That makes
	// A's own role; B's is untouched, and B's user gains nothing.
	r := do(t, srv, "PUT", defs+opsID+av, rdOwnerA, roleBody("Ops", "*"))
	var created roleDefinitionBody
	if json.Unmarshal(r.body, &created); r.status != 201 || created.Name != opsID || created.Properties.Type != "CustomRole" {
		t.Errorf("A creates its own role with B's role's id: %d %s", r.status, r.body)
	}
	if got, want := customRoles(t, srv, rdOwnerB, ""), []string{"Only B " + onlyBID + " */read", "Ops " + opsID + " Microsoft.Compute/*/read"}; !slices.Equal(got, want) {
		t.Errorf("B's custom roles = %q, want %q", got, want)
	}
	if got, want := customRoles(t, srv, rdOwnerA, ""), []string{"Ops " + opsID + " *"}; !slices.Equal(got, want) {
		t.Errorf("A's custom roles = %q, want %q", got, want)
	}
	grant := strings.NewReader(`{"properties":{"roleDefinitionId":"/providers/Microsoft.Authorization/roleDefinitions/` + opsID + `","principalId":"` + rdUserB + `"}}`)
	if r := do(t, srv, "PUT", "/subscriptions/"+rdSubB+"/providers/Microsoft.Authorization/roleAssignments/e2000000-0000-4000-8000-0000000000b2"+av,
		rdUserB, grant); r.status != 403 || armCode(t, r) != "AuthorizationFailed" {
		t.Errorf("B's user, holding B's read-only Ops, writes a role assignment: %d %s", r.status, r.body)
	}

	// A cannot assign a role only B has, by its GUID.
	onlyB := strings.NewReader(`{"properties":{"roleDefinitionId":"/providers/Microsoft.Authorization/roleDefinitions/` + onlyBID + `","principalId":"` + rdOwnerA + `"}}`)
	if r := do(t, srv, "PUT", "/subscriptions/"+rdSubA+"/providers/Microsoft.Authorization/roleAssignments/e2000000-0000-4000-8000-0000000000a2"+av,
		rdOwnerA, onlyB); r.status != 400 || armCode(t, r) != "RoleDefinitionDoesNotExist" {
		t.Errorf("A assigns B's role: %d %s", r.status, r.body)
	}
	// Names are unique in a tenant, not across tenants.
	r = do(t, srv, "PUT", defs+"0e500000-0000-4000-8000-0000000000a3"+av, rdOwnerA, roleBody("ops", "*/read"))
	if want := "A custom role named 'ops' already exists in this tenant (id " + opsID + "); role names are unique in a tenant. Use another name, or PUT that id to change it."; r.status != 409 || armCode(t, r) != "RoleDefinitionWithSameNameExists" || armMessage(t, r) != want {
		t.Errorf("A reuses its own role's name: %d %s", r.status, r.body)
	}
	if r := do(t, srv, "PUT", defs+"0e500000-0000-4000-8000-0000000000a4"+av, rdOwnerA, roleBody("Only B", "*/read")); r.status != 201 {
		t.Errorf("A names a role like one of B's: %d %s", r.status, r.body)
	}

	// The export keeps each tenant's roles apart.
	doc, err := db.ExportWorld(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var roles []string
	for _, rd := range doc.RoleDefinitions {
		roles = append(roles, rd.TenantID+" "+rd.Name+" "+rd.ID)
	}
	slices.Sort(roles)
	want := []string{
		custT + " Only B 0e500000-0000-4000-8000-0000000000a4", custT + " Ops " + opsID,
		otherT + " Only B " + onlyBID, otherT + " Ops " + opsID,
	}
	if !slices.Equal(roles, want) {
		t.Errorf("exported roles = %q\nwant %q", roles, want)
	}
	if err := world.Validate(doc); err != nil {
		t.Errorf("the export is not valid: %v", partnerlink.ErrorMessage(err))
	}
}

// A custom role applies tenant-wide, so the Owner of one resource group
// cannot rewrite one that exists (every holder of it would gain what she
// wrote); she may create a new one at her scope. The Owner at the tenant
// root changes roles (docs/api.md, "Authorization").
func TestCustomRoleChangeNeedsTenantRoot(t *testing.T) {
	srv, _ := newRoleDefinitionServer(t)
	rg := "/subscriptions/" + rdSubB + "/resourceGroups/web/providers/Microsoft.Authorization/roleDefinitions/"
	r := do(t, srv, "PUT", rg+opsID+av, rdRGB, roleBody("Ops", "*"))
	if want := "The custom role '" + opsID + "' exists and applies tenant-wide: changing it needs 'Microsoft.Authorization/roleDefinitions/write' at the tenant root '/'."; r.status != 403 || armCode(t, r) != "AuthorizationFailed" || armMessage(t, r) != want {
		t.Errorf("resource group owner rewrites B's Ops: %d %s", r.status, r.body)
	}
	if got, want := customRoles(t, srv, rdOwnerB, ""), []string{"Only B " + onlyBID + " */read", "Ops " + opsID + " Microsoft.Compute/*/read"}; !slices.Equal(got, want) {
		t.Errorf("B's custom roles = %q, want %q", got, want)
	}
	const mine = "0e500000-0000-4000-8000-0000000000b9"
	if r := do(t, srv, "PUT", rg+mine+av, rdRGB, roleBody("Web reader", "*/read")); r.status != 201 {
		t.Errorf("resource group owner creates a role: %d %s", r.status, r.body)
	}
	if r := do(t, srv, "PUT", rg+mine+av, rdRGB, roleBody("Web reader", "*")); r.status != 403 {
		t.Errorf("resource group owner changes the role she created: %d %s", r.status, r.body)
	}
	if r := do(t, srv, "PUT", "/providers/Microsoft.Authorization/roleDefinitions/"+opsID+av, rdOwnerB, roleBody("Ops", "*/read")); r.status != 201 {
		t.Errorf("root owner changes Ops: %d %s", r.status, r.body)
	}
	if got, want := customRoles(t, srv, rdOwnerB, ""), []string{"Only B " + onlyBID + " */read", "Ops " + opsID + " */read", "Web reader " + mine + " */read"}; !slices.Equal(got, want) {
		t.Errorf("B's custom roles = %q, want %q", got, want)
	}
}
