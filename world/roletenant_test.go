package world_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink/world"
)

const (
	fabrikam = "0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60"
	contoso  = "7e6d5c4b-3a29-4817-8f6e-5d4c3b2a1908"
)

// Issue 11 item 2: a custom role belongs to its tenant; a reference by
// name or GUID finds it only in that tenant, built-in roles in every one.
func TestResolveRolePerTenant(t *testing.T) {
	doc := readTestWorld(t, "full-unsorted.json")
	cases := []struct {
		tenant, ref string
		want        world.Role
		ok          bool
	}{
		{fabrikam, "vm operator", world.Role{Name: "VM Operator", ID: "e0000000-0000-4000-8000-000000000001", CanWrite: true}, true},
		{strings.ToUpper(fabrikam), "E0000000-0000-4000-8000-000000000001", world.Role{Name: "VM Operator", ID: "e0000000-0000-4000-8000-000000000001", CanWrite: true}, true},
		{contoso, "VM Operator", world.Role{}, false},
		{contoso, "e0000000-0000-4000-8000-000000000001", world.Role{}, false},
		{contoso, "Auditor", world.Role{Name: "Auditor", ID: "e0000000-0000-4000-8000-000000000002"}, true},
		{fabrikam, "Auditor", world.Role{}, false},
		{fabrikam, "reader", world.Role{Name: "Reader", ID: "acdd72a7-3385-48ef-bd42-f606fba81ae7"}, true},
		{contoso, "Owner", world.Role{Name: "Owner", ID: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", CanWrite: true}, true},
		{"", "VM Operator", world.Role{}, false},
	}
	index := world.NewRoleIndex(doc)
	for _, tc := range cases {
		got, ok := world.ResolveRole(doc, tc.tenant, tc.ref)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ResolveRole(%s, %q) = %+v, %v; want %+v, %v", tc.tenant, tc.ref, got, ok, tc.want, tc.ok)
		}
		if got, ok := index.Resolve(tc.tenant, tc.ref); got != tc.want || ok != tc.ok {
			t.Errorf("RoleIndex.Resolve(%s, %q) = %+v, %v; want %+v, %v", tc.tenant, tc.ref, got, ok, tc.want, tc.ok)
		}
	}
	// The export names each custom role's tenant, lower-cased, and lists a
	// built-in role without one, custom roles after it, by tenant.
	var out bytes.Buffer
	if err := world.Write(&out, doc); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	roles := s[strings.Index(s, `"roleDefinitions"`):strings.Index(s, `"roleAssignments"`)]
	for _, want := range []string{
		"{\n   \"name\": \"Reader\",\n   \"id\": \"acdd72a7-3385-48ef-bd42-f606fba81ae7\"",
		"{\n   \"tenantId\": \"" + fabrikam + "\",\n   \"name\": \"VM Operator\"",
		"{\n   \"tenantId\": \"" + contoso + "\",\n   \"name\": \"Auditor\"",
	} {
		if !strings.Contains(roles, want) {
			t.Errorf("the export's roleDefinitions lack %q:\n%s", want, roles)
		}
	}
	if r, f, c := strings.Index(roles, `"Reader"`), strings.Index(roles, `"VM Operator"`), strings.Index(roles, `"Auditor"`); !(r < f && f < c) {
		t.Errorf("roleDefinitions are not ordered built-in, then by tenant:\n%s", roles)
	}
}

// A document with one tenant: the message about a custom role without a
// tenant says which tenantId to write.
func TestCustomRoleWithoutTenantHint(t *testing.T) {
	doc := &world.Document{Version: 1,
		Tenants:         []world.Tenant{{TenantID: fabrikam, Name: "Fabrikam"}},
		RoleDefinitions: []world.RoleDefinition{{Name: "Ops", ID: "e0000000-0000-4000-8000-000000000009", Actions: []string{"*/read"}}},
	}
	want := `1 problem:
  - roleDefinitions[0].tenantId: custom role "Ops" (e0000000-0000-4000-8000-000000000009) has no tenantId; expected the GUID of the tenant that owns it, such as "tenantId": "` + fabrikam + `" (a custom role belongs to one tenant; only built-in roles are listed without one)`
	if err := world.Validate(doc); err == nil || err.Error() != want {
		t.Errorf("Validate = %v\nwant %s", err, want)
	}
	doc.RoleDefinitions[0].TenantID = fabrikam
	if err := world.Validate(doc); err != nil {
		t.Errorf("with its tenant: %v", err)
	}
}
