package arm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/arm"
	"github.com/partnerlink/partnerlink/linking"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/web"
	"github.com/partnerlink/partnerlink/world"
)

const (
	custT      = "22222222-2222-4222-8222-222222222222"
	otherT     = "33333333-3333-4333-8333-333333333333"
	sub        = "f0f0f0f0-0000-4000-8000-000000000001"
	admin      = "b0b0b0b0-0000-4000-8000-000000000001" // Owner at the tenant root
	uaa        = "b0b0b0b0-0000-4000-8000-000000000002" // User Access Administrator on rg web
	contr      = "b0b0b0b0-0000-4000-8000-000000000003" // Contributor on the subscription
	reader     = "b0b0b0b0-0000-4000-8000-000000000004" // Reader on the subscription
	guest      = "b0b0b0b0-0000-4000-8000-000000000005" // no role
	group      = "b0b0b0b0-0000-4000-8000-000000000006"
	member     = "b0b0b0b0-0000-4000-8000-000000000007" // in group, which is Owner of the management group
	outsider   = "b0b0b0b0-0000-4000-8000-000000000008" // Owner in another tenant
	readerRole = "/subscriptions/" + sub + "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
	av         = "?api-version=2022-04-01"
)

func newRoleServer(t *testing.T) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "pl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	since := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	p := func(s string) *string { return &s }
	doc := &world.Document{Version: 1,
		Tenants:          []world.Tenant{{TenantID: custT, Name: "Fabrikam"}, {TenantID: otherT, Name: "Other"}},
		ManagementGroups: []world.ManagementGroup{{TenantID: custT, Name: "prod"}},
		Subscriptions:    []world.Subscription{{SubscriptionID: sub, TenantID: custT, Name: "production", ManagementGroup: p("prod")}},
		Principals: []world.Principal{
			{TenantID: custT, ObjectID: admin, Type: "User", DisplayName: "admin"},
			{TenantID: custT, ObjectID: uaa, Type: "User", DisplayName: "uaa"},
			{TenantID: custT, ObjectID: contr, Type: "User", DisplayName: "contributor"},
			{TenantID: custT, ObjectID: reader, Type: "User", DisplayName: "reader"},
			{TenantID: custT, ObjectID: guest, Type: "Guest", DisplayName: "guest"},
			{TenantID: custT, ObjectID: group, Type: "Group", DisplayName: "ops"},
			{TenantID: custT, ObjectID: member, Type: "ServicePrincipal", DisplayName: "ops-sp", AppID: p("a0000000-0000-4000-8000-000000000001")},
			{TenantID: otherT, ObjectID: outsider, Type: "User", DisplayName: "outsider"},
		},
		GroupMemberships: []world.GroupMembership{{TenantID: custT, GroupID: group, MemberID: member, From: &since}},
		RoleAssignments: []world.RoleAssignment{
			{TenantID: custT, ID: "e0000000-0000-4000-8000-000000000001", PrincipalID: admin, RoleDefinition: "Owner", Scope: "/", From: &since},
			{TenantID: custT, ID: "e0000000-0000-4000-8000-000000000002", PrincipalID: uaa, RoleDefinition: "User Access Administrator", Scope: "/subscriptions/" + sub + "/resourceGroups/web", From: &since},
			{TenantID: custT, ID: "e0000000-0000-4000-8000-000000000003", PrincipalID: contr, RoleDefinition: "Contributor", Scope: "/subscriptions/" + sub, From: &since},
			{TenantID: custT, ID: "e0000000-0000-4000-8000-000000000004", PrincipalID: reader, RoleDefinition: "Reader", Scope: "/subscriptions/" + sub, From: &since},
			{TenantID: custT, ID: "e0000000-0000-4000-8000-000000000005", PrincipalID: group, RoleDefinition: "Owner", Scope: "/providers/Microsoft.Management/managementGroups/prod", From: &since},
			{TenantID: otherT, ID: "e0000000-0000-4000-8000-000000000006", PrincipalID: outsider, RoleDefinition: "Owner", Scope: "/", From: &since},
		},
	}
	if err := db.ImportWorld(ctx, doc, func(s string) (string, error) { return s, nil }); err != nil {
		t.Fatal(err)
	}
	toks := tokens{}
	for _, id := range []string{admin, uaa, contr, reader, guest, member} {
		toks[id] = partnerlink.Caller{TenantID: custT, ObjectID: id}
	}
	toks[outsider] = partnerlink.Caller{TenantID: otherT, ObjectID: outsider}
	h := &arm.Handler{Auth: toks, Links: linking.New(db), Directory: db, Roles: db, BaseURL: "https://127.0.0.1",
		Now: func() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func assignmentBody(principal string) *strings.Reader {
	return strings.NewReader(`{"properties":{"roleDefinitionId":"` + readerRole + `","principalId":"` + principal + `","principalType":"User"}}`)
}

func armCode(t *testing.T, r reply) string {
	t.Helper()
	var e web.ErrorBody
	json.Unmarshal(r.body, &e)
	return e.Error.Code
}

// Issue 3: only a principal allowed to write role assignments at the scope
// (Owner, User Access Administrator, inherited from above) may create or
// delete them; everyone else gets the ARM authorization error.
func TestRoleAssignmentAuthorizationMatrix(t *testing.T) {
	srv := newRoleServer(t)
	scopes := map[string]string{
		"root":     "",
		"mg":       "/providers/Microsoft.Management/managementGroups/prod",
		"sub":      "/subscriptions/" + sub,
		"rg web":   "/subscriptions/" + sub + "/resourceGroups/web",
		"resource": "/subscriptions/" + sub + "/resourceGroups/web/providers/Microsoft.Web/sites/shop",
	}
	allowed := map[string][]string{
		admin:  {"root", "mg", "sub", "rg web", "resource"},
		uaa:    {"rg web", "resource"},
		member: {"mg", "sub", "rg web", "resource"}, // through its group, Owner of the management group
		contr:  nil,
		reader: nil,
		guest:  nil,
	}
	n := 0
	for who, ok := range allowed {
		for name, scope := range scopes {
			n++
			id := fmt.Sprintf("a0000000-0000-4000-8000-%012d", n)
			r := do(t, srv, "PUT", scope+"/providers/Microsoft.Authorization/roleAssignments/"+id+av, who, assignmentBody(guest))
			want := contains(ok, name)
			if want && r.status != 201 {
				t.Errorf("%s at %s: %d %s, want 201", who, name, r.status, r.body)
			}
			if !want && (r.status != 403 || armCode(t, r) != "AuthorizationFailed") {
				t.Errorf("%s at %s: %d %s, want 403 AuthorizationFailed", who, name, r.status, r.body)
			}
			if want { // and delete it again, with the same right
				if d := do(t, srv, "DELETE", scope+"/providers/Microsoft.Authorization/roleAssignments/"+id+av, who, nil); d.status != 200 {
					t.Errorf("%s delete at %s: %d %s", who, name, d.status, d.body)
				}
			}
		}
	}
	// A token of another tenant is refused on this tenant's subscription.
	r := do(t, srv, "PUT", "/subscriptions/"+sub+"/providers/Microsoft.Authorization/roleAssignments/a0000000-0000-4000-8000-0000000000ff"+av,
		outsider, assignmentBody(guest))
	if r.status != 401 || armCode(t, r) != "InvalidAuthenticationTokenTenant" {
		t.Errorf("other tenant's Owner: %d %s", r.status, r.body)
	}
	// Reader cannot delete the admin's assignment.
	r = do(t, srv, "DELETE", "/providers/Microsoft.Authorization/roleAssignments/e0000000-0000-4000-8000-000000000001"+av, reader, nil)
	if r.status != 403 {
		t.Errorf("reader deletes the Owner assignment: %d %s", r.status, r.body)
	}
}

func TestRoleAssignmentLifecycle(t *testing.T) {
	srv := newRoleServer(t)
	rg := "/subscriptions/" + sub + "/resourceGroups/Data"
	path := rg + "/providers/Microsoft.Authorization/roleAssignments/"
	const name = "c0000000-0000-4000-8000-000000000001"
	r := do(t, srv, "PUT", path+name+av, admin, assignmentBody(guest))
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var ra struct {
		ID, Name, Type string
		Properties     struct{ RoleDefinitionID, PrincipalID, PrincipalType, Scope string }
	}
	json.Unmarshal(r.body, &ra)
	if ra.ID != path+name || ra.Properties.Scope != rg || ra.Properties.PrincipalType != "User" ||
		ra.Properties.RoleDefinitionID != readerRole || ra.Type != "Microsoft.Authorization/roleAssignments" {
		t.Errorf("created = %s", r.body)
	}
	// Idempotent: the same PUT again answers 200 with the same assignment.
	if r := do(t, srv, "PUT", path+name+av, admin, assignmentBody(guest)); r.status != 200 {
		t.Errorf("repeat PUT: %d %s", r.status, r.body)
	}
	// The same name with other values: 409 RoleAssignmentUpdateNotPermitted.
	if r := do(t, srv, "PUT", path+name+av, admin, assignmentBody(reader)); r.status != 409 || armCode(t, r) != "RoleAssignmentUpdateNotPermitted" {
		t.Errorf("conflicting name re-use: %d %s", r.status, r.body)
	}
	// Another name for the same grant: 409 RoleAssignmentExists.
	if r := do(t, srv, "PUT", path+"c0000000-0000-4000-8000-000000000002"+av, admin, assignmentBody(guest)); r.status != 409 || armCode(t, r) != "RoleAssignmentExists" {
		t.Errorf("duplicate grant: %d %s", r.status, r.body)
	}
	// Unknown principal and unknown role.
	if r := do(t, srv, "PUT", path+"c0000000-0000-4000-8000-000000000003"+av, admin,
		assignmentBody("99999999-0000-4000-8000-000000000000")); r.status != 400 || armCode(t, r) != "PrincipalNotFound" {
		t.Errorf("unknown principal: %d %s", r.status, r.body)
	}
	bad := strings.NewReader(`{"properties":{"roleDefinitionId":"/providers/Microsoft.Authorization/roleDefinitions/99999999-0000-4000-8000-000000000000","principalId":"` + guest + `"}}`)
	if r := do(t, srv, "PUT", path+"c0000000-0000-4000-8000-000000000004"+av, admin, bad); r.status != 400 || armCode(t, r) != "RoleDefinitionDoesNotExist" {
		t.Errorf("unknown role: %d %s", r.status, r.body)
	}
	if r := do(t, srv, "PUT", path+"not-a-guid"+av, admin, assignmentBody(guest)); r.status != 400 {
		t.Errorf("name not a GUID: %d %s", r.status, r.body)
	}
	// GET (case-insensitive scope), list filters.
	if r := do(t, srv, "GET", strings.ToLower(path)+name+av, admin, nil); r.status != 200 {
		t.Errorf("get: %d %s", r.status, r.body)
	}
	list := func(scope, filter string) []string {
		t.Helper()
		q := av
		if filter != "" {
			q += "&$filter=" + filter
		}
		r := do(t, srv, "GET", scope+"/providers/Microsoft.Authorization/roleAssignments"+strings.ReplaceAll(q, " ", "%20"), admin, nil)
		var l struct{ Value []struct{ Name string } }
		if err := json.Unmarshal(r.body, &l); err != nil || r.status != 200 {
			t.Fatalf("list %s %s: %d %s", scope, filter, r.status, r.body)
		}
		var names []string
		for _, v := range l.Value {
			names = append(names, v.Name[len(v.Name)-2:])
		}
		return names
	}
	// At the subscription: above (root 01, mg 05), at (03, 04), below (rg web 02, rg Data "01" of c000…).
	if got := list("/subscriptions/"+sub, ""); len(got) != 6 {
		t.Errorf("list at subscription = %v, want 6 (above, at and below)", got)
	}
	if got := list("/subscriptions/"+sub, "atScope()"); len(got) != 4 {
		t.Errorf("atScope() = %v, want root, mg and the two at the subscription", got)
	}
	if got := list("/subscriptions/"+sub, "principalId eq '"+guest+"'"); len(got) != 1 {
		t.Errorf("principalId filter = %v", got)
	}
	if got := list("/subscriptions/"+sub, "assignedTo('"+member+"')"); len(got) != 1 || got[0] != "05" {
		t.Errorf("assignedTo includes the member's group = %v", got)
	}
	// DELETE closes the period; a second DELETE is 204; GET is 404.
	if r := do(t, srv, "DELETE", path+name+av, admin, nil); r.status != 200 {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if r := do(t, srv, "DELETE", path+name+av, admin, nil); r.status != 204 {
		t.Errorf("second delete: %d %s", r.status, r.body)
	}
	if r := do(t, srv, "GET", path+name+av, admin, nil); r.status != 404 || armCode(t, r) != "RoleAssignmentNotFound" {
		t.Errorf("get after delete: %d %s", r.status, r.body)
	}
}

func TestRoleDefinitionsAndResources(t *testing.T) {
	srv := newRoleServer(t)
	r := do(t, srv, "GET", "/subscriptions/"+sub+"/providers/Microsoft.Authorization/roleDefinitions"+av+"&$filter=roleName%20eq%20'Reader'", reader, nil)
	var l struct {
		Value []struct {
			ID, Name   string
			Properties struct{ RoleName, Type string }
		}
	}
	if json.Unmarshal(r.body, &l); r.status != 200 || len(l.Value) != 1 || l.Value[0].ID != readerRole || l.Value[0].Properties.Type != "BuiltInRole" {
		t.Errorf("role definitions by name: %d %s", r.status, r.body)
	}
	// type filters: the six built-ins, and no custom role yet.
	for filter, n := range map[string]int{"type%20eq%20'BuiltInRole'": 6, "type%20eq%20'CustomRole'": 0} {
		r := do(t, srv, "GET", "/subscriptions/"+sub+"/providers/Microsoft.Authorization/roleDefinitions"+av+"&$filter="+filter, reader, nil)
		var l struct{ Value []any }
		if json.Unmarshal(r.body, &l); r.status != 200 || len(l.Value) != n {
			t.Errorf("filter %s: %d roles, want %d: %s", filter, len(l.Value), n, r.body)
		}
	}
	if r := do(t, srv, "GET", "/subscriptions/"+sub+"/providers/Microsoft.Authorization/roleDefinitions"+av+"&$filter=bogus", reader, nil); r.status != 400 {
		t.Errorf("unsupported filter: %d", r.status)
	}
	// Custom role: Owner may create it, Contributor may not.
	custom := `{"properties":{"roleName":"VM Operator","permissions":[{"actions":["Microsoft.Compute/virtualMachines/*"],"notActions":[]}]}}`
	rd := "/subscriptions/" + sub + "/providers/Microsoft.Authorization/roleDefinitions/d0000000-0000-4000-8000-000000000001" + av
	if r := do(t, srv, "PUT", rd, contr, strings.NewReader(custom)); r.status != 403 {
		t.Errorf("contributor creates a role: %d %s", r.status, r.body)
	}
	if r := do(t, srv, "PUT", rd, admin, strings.NewReader(custom)); r.status != 201 {
		t.Errorf("owner creates a role: %d %s", r.status, r.body)
	}
	if r := do(t, srv, "GET", rd, reader, nil); r.status != 200 || !strings.Contains(string(r.body), "CustomRole") {
		t.Errorf("get custom role: %d %s", r.status, r.body)
	}
	// Subscriptions visible to whoever holds a role on them.
	for who, n := range map[string]int{admin: 1, reader: 1, member: 1, guest: 0} {
		r := do(t, srv, "GET", "/subscriptions?api-version=2022-12-01", who, nil)
		var subs struct {
			Value []struct{ SubscriptionID string }
		}
		if json.Unmarshal(r.body, &subs); len(subs.Value) != n {
			t.Errorf("%s sees %d subscriptions, want %d: %s", who, len(subs.Value), n, r.body)
		}
	}
	// Resource groups: Contributor creates, Reader reads but cannot create.
	rgPath := "/subscriptions/" + sub + "/resourcegroups/Web?api-version=2022-09-01"
	if r := do(t, srv, "PUT", rgPath, reader, strings.NewReader(`{"location":"westeurope"}`)); r.status != 403 {
		t.Errorf("reader creates rg: %d %s", r.status, r.body)
	}
	if r := do(t, srv, "PUT", rgPath, contr, strings.NewReader(`{"location":"westeurope"}`)); r.status != 201 {
		t.Errorf("contributor creates rg: %d %s", r.status, r.body)
	}
	if r := do(t, srv, "PUT", rgPath, contr, strings.NewReader(`{"location":"northeurope"}`)); r.status != 200 || !strings.Contains(string(r.body), "northeurope") {
		t.Errorf("update rg: %d %s", r.status, r.body)
	}
	if r := do(t, srv, "GET", "/subscriptions/"+sub+"/resourcegroups?api-version=2022-09-01", reader, nil); r.status != 200 || !strings.Contains(string(r.body), `"name":"Web"`) {
		t.Errorf("list rgs: %d %s", r.status, r.body)
	}
	// Management groups: the root Owner creates one and moves the subscription under it.
	mg := "/providers/Microsoft.Management/managementGroups/"
	if r := do(t, srv, "PUT", mg+"child?api-version=2021-04-01", contr, strings.NewReader(`{}`)); r.status != 403 {
		t.Errorf("contributor creates mg: %d %s", r.status, r.body)
	}
	body := `{"properties":{"details":{"parent":{"id":"/providers/Microsoft.Management/managementGroups/prod"}}}}`
	if r := do(t, srv, "PUT", mg+"child?api-version=2021-04-01", admin, strings.NewReader(body)); r.status != 200 {
		t.Errorf("owner creates mg: %d %s", r.status, r.body)
	}
	if r := do(t, srv, "PUT", mg+"child/subscriptions/"+sub+"?api-version=2021-04-01", admin, nil); r.status != 200 {
		t.Errorf("move subscription: %d %s", r.status, r.body)
	}
	// The group (Owner of prod) still reaches the subscription through child → prod.
	r = do(t, srv, "PUT", "/subscriptions/"+sub+"/providers/Microsoft.Authorization/roleAssignments/a1000000-0000-4000-8000-000000000001"+av,
		member, assignmentBody(guest))
	if r.status != 201 {
		t.Errorf("owner of the grandparent management group: %d %s", r.status, r.body)
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
