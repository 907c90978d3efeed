package world_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink/world"
)

var update = flag.Bool("update", false, "rewrite testdata/validate-errors.golden")

// Every validation rule, broken on its own and all at once, gives exactly
// the message recorded in the golden file: messages are part of the
// interface (people fix documents by them) and must not drift when the
// validator changes.
func TestValidateMessagesGolden(t *testing.T) {
	in, err := os.ReadFile("testdata/full-unsorted.json")
	if err != nil {
		t.Fatal(err)
	}
	fresh := func() *world.Document {
		doc, err := world.Read(bytes.NewReader(in), "full-unsorted.json")
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	ptr := func(s string) *string { return &s }
	at := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	const (
		tA  = "0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60" // Fabrikam
		tC  = "7e6d5c4b-3a29-4817-8f6e-5d4c3b2a1908" // Contoso
		sub = "9d8c7b6a-5f4e-4d3c-8b2a-190807060504"
	)
	mutations := []struct {
		name string
		f    func(d *world.Document)
	}{
		{"version", func(d *world.Document) { d.Version = 2 }},
		{"tenant not a GUID", func(d *world.Document) { d.Tenants[0].TenantID = "nope" }},
		{"tenant twice", func(d *world.Document) { d.Tenants = append(d.Tenants, d.Tenants[0]) }},
		{"bad partner ID", func(d *world.Document) { d.Partners[0].PartnerID = "12x" }},
		{"partner twice", func(d *world.Document) { d.Partners = append(d.Partners, d.Partners[1]) }},
		{"partner period", func(d *world.Document) { d.Partners[1].To = at("2019-01-01T00:00:00Z") }},
		{"home tenant not a GUID", func(d *world.Document) { d.Partners[1].HomeTenantIDs = append(d.Partners[1].HomeTenantIDs, "x") }},
		{"own global ID", func(d *world.Document) { d.Partners[1].GlobalPartnerID = ptr("1000001") }},
		{"unknown global ID", func(d *world.Document) { d.Partners[0].GlobalPartnerID = ptr("999") }},
		{"global ID is a location", func(d *world.Document) {
			d.Partners = append(d.Partners, world.Partner{PartnerID: "5", Name: "x", GlobalPartnerID: ptr("4711001")})
		}},
		{"MG tenant unknown", func(d *world.Document) { d.ManagementGroups[0].TenantID = "11111111-0000-4000-8000-000000000000" }},
		{"MG name", func(d *world.Document) { d.ManagementGroups[0].Name = "a/b" }},
		{"MG name too long", func(d *world.Document) { d.ManagementGroups[0].Name = strings.Repeat("m", 91) }},
		{"MG name NUL", func(d *world.Document) { d.ManagementGroups[0].Name = "mg\x00root" }},
		{"MG name final dot", func(d *world.Document) { d.ManagementGroups[0].Name = "mg-root." }},
		{"MG twice", func(d *world.Document) {
			d.ManagementGroups = append(d.ManagementGroups, world.ManagementGroup{TenantID: tA, Name: "MG-ROOT"})
		}},
		{"MG parent unknown", func(d *world.Document) { d.ManagementGroups[0].Parent = ptr("ghost") }},
		{"MG cycle", func(d *world.Document) { d.ManagementGroups[1].Parent = ptr("mg-prod") }},
		{"subscription not a GUID", func(d *world.Document) { d.Subscriptions[0].SubscriptionID = "sub" }},
		{"subscription twice", func(d *world.Document) { d.Subscriptions = append(d.Subscriptions, d.Subscriptions[0]) }},
		{"subscription MG unknown", func(d *world.Document) { d.Subscriptions[0].ManagementGroup = ptr("ghost") }},
		{"principal tenant", func(d *world.Document) { d.Principals[0].TenantID = "bad" }},
		{"principal object", func(d *world.Document) { d.Principals[0].ObjectID = "bad" }},
		{"principal twice", func(d *world.Document) { d.Principals = append(d.Principals, d.Principals[2]) }},
		{"principal type", func(d *world.Document) { d.Principals[0].Type = "Robot" }},
		{"principal home tenant", func(d *world.Document) { d.Principals[4].HomeTenantID = ptr("h") }},
		{"principal app ID", func(d *world.Document) { d.Principals[2].AppID = ptr("a") }},
		{"principal home object", func(d *world.Document) { d.Principals[4].HomeObjectID = "o" }},
		{"principal secret", func(d *world.Document) { d.Principals[0].Secret = "s" }},
		{"principal period", func(d *world.Document) { d.Principals[2].To = d.Principals[2].From }},
		// docs/rules.md "Principals: enabled periods": listed once per period.
		{"principal enabled again", func(d *world.Document) {
			again := d.Principals[2]
			again.From, again.To = at("2027-02-01T00:00:00Z"), nil
			d.Principals = append(d.Principals, again)
		}},
		{"principal periods overlap", func(d *world.Document) {
			again := d.Principals[2]
			again.From, again.To = at("2026-06-01T00:00:00Z"), nil
			d.Principals = append(d.Principals, again)
		}},
		{"principal enabled again with another field", func(d *world.Document) {
			again := d.Principals[2]
			again.From, again.To, again.AppID = at("2027-03-01T00:00:00Z"), nil, ptr("a11ce000-0000-4000-8000-000000000008")
			d.Principals = append(d.Principals, again)
		}},
		{"membership tenant", func(d *world.Document) { d.GroupMemberships[0].TenantID = tA }},
		{"membership group unknown", func(d *world.Document) { d.GroupMemberships[0].GroupID = "d0000000-0000-4000-8000-000000000009" }},
		{"membership group not a GUID", func(d *world.Document) { d.GroupMemberships[0].GroupID = "g" }},
		{"membership group not a group", func(d *world.Document) {
			d.GroupMemberships[0].GroupID, d.GroupMemberships[0].MemberID = d.GroupMemberships[0].MemberID, d.GroupMemberships[0].GroupID
		}},
		{"membership of itself", func(d *world.Document) { d.GroupMemberships[0].MemberID = d.GroupMemberships[0].GroupID }},
		{"membership overlap", func(d *world.Document) { d.GroupMemberships[1].To = nil }},
		{"membership period", func(d *world.Document) { d.GroupMemberships[1].To = at("2025-01-01T00:00:00Z") }},
		{"role name empty", func(d *world.Document) { d.RoleDefinitions[0].Name = " " }},
		{"role name control character", func(d *world.Document) { d.RoleDefinitions[0].Name = "vm\noperator" }},
		{"role id", func(d *world.Document) { d.RoleDefinitions[0].ID = "r" }},
		{"role name twice", func(d *world.Document) { d.RoleDefinitions[1].Name, d.RoleDefinitions[1].TenantID = "vm operator", tA }},
		{"role id twice", func(d *world.Document) {
			d.RoleDefinitions[1].ID, d.RoleDefinitions[1].TenantID = d.RoleDefinitions[0].ID, tA
		}},
		{"role name and id in two tenants", func(d *world.Document) {
			d.RoleDefinitions[1].Name, d.RoleDefinitions[1].ID = d.RoleDefinitions[0].Name, d.RoleDefinitions[0].ID
		}},
		{"role without tenant", func(d *world.Document) { d.RoleDefinitions[0].TenantID = "" }},
		{"role tenant unknown", func(d *world.Document) { d.RoleDefinitions[0].TenantID = "11111111-0000-4000-8000-000000000000" }},
		{"role tenant not a GUID", func(d *world.Document) { d.RoleDefinitions[0].TenantID = "t" }},
		{"built-in role with a tenant", func(d *world.Document) { d.RoleDefinitions[2].TenantID = tA }},
		{"role built-in name", func(d *world.Document) { d.RoleDefinitions[0].Name = "reader" }},
		{"role built-in id", func(d *world.Document) { d.RoleDefinitions[0].ID = "acdd72a7-3385-48ef-bd42-f606fba81ae7" }},
		{"role empty action", func(d *world.Document) { d.RoleDefinitions[1].Actions = append(d.RoleDefinitions[1].Actions, "  ") }},
		{"assignment role unknown", func(d *world.Document) { d.RoleAssignments[0].RoleDefinition = "Janitor" }},
		{"assignment role of another tenant", func(d *world.Document) { d.RoleAssignments[0].RoleDefinition = "Auditor" }},
		{"assignment role id of another tenant", func(d *world.Document) {
			d.RoleAssignments[0].RoleDefinition = "E0000000-0000-4000-8000-000000000002"
		}},
		{"assignment role odd case", func(d *world.Document) { d.RoleAssignments[0].RoleDefinition = "vM oPERATOR" }},
		{"assignment role id upper", func(d *world.Document) { d.RoleAssignments[0].RoleDefinition = "E0000000-0000-4000-8000-000000000001" }},
		{"assignment role Kelvin", func(d *world.Document) {
			d.RoleDefinitions[0].Name = "Kube"
			d.RoleAssignments[0].RoleDefinition = "\u212Aube"
		}},
		{"assignment role long s", func(d *world.Document) {
			d.RoleDefinitions[0].Name = "Ops"
			d.RoleAssignments[0].RoleDefinition = "OP\u017F"
		}},
		{"assignment role invalid UTF-8", func(d *world.Document) {
			d.RoleDefinitions[0].Name = "Op\uFFFD"
			d.RoleAssignments[0].RoleDefinition = "op\xff"
		}},
		{"assignment role other invalid UTF-8", func(d *world.Document) { d.RoleAssignments[0].RoleDefinition = "Read\xffer" }},
		{"assignment role dotted I", func(d *world.Document) {
			d.RoleDefinitions[0].Name = "Ops i"
			d.RoleAssignments[0].RoleDefinition = "Ops \u0130"
		}},
		{"assignment id", func(d *world.Document) { d.RoleAssignments[0].ID = "i" }},
		{"assignment tenant", func(d *world.Document) { d.RoleAssignments[0].TenantID = "t" }},
		{"assignment principal", func(d *world.Document) { d.RoleAssignments[0].PrincipalID = "d0000000-0000-4000-8000-000000000001" }},
		{"assignment scope empty", func(d *world.Document) { d.RoleAssignments[0].Scope = "" }},
		{"assignment scope relative", func(d *world.Document) { d.RoleAssignments[0].Scope = "subscriptions/x" }},
		{"assignment scope MG unknown", func(d *world.Document) {
			d.RoleAssignments[1].Scope = "/providers/Microsoft.Management/managementGroups/Ghost"
		}},
		{"assignment scope subscription unknown", func(d *world.Document) {
			d.RoleAssignments[0].Scope = "/subscriptions/eeeeeeee-0000-4000-8000-000000000000"
		}},
		{"assignment scope other tenant", func(d *world.Document) {
			d.RoleAssignments[0].TenantID = tC
			d.RoleAssignments[0].PrincipalID = "d0000000-0000-4000-8000-000000000001"
		}},
		{"assignment twice", func(d *world.Document) { d.RoleAssignments = append(d.RoleAssignments, d.RoleAssignments[1]) }},
		{"assignment period", func(d *world.Document) { d.RoleAssignments[1].To = at("2026-01-01T00:00:00Z") }},
		{"delegation role", func(d *world.Document) { d.Delegations[0].RoleDefinition = "Janitor" }},
		{"delegation role of the managing tenant", func(d *world.Document) { d.Delegations[0].RoleDefinition = "auditor" }},
		{"delegation role of the customer tenant", func(d *world.Document) { d.Delegations[0].RoleDefinition = "VM Operator" }},
		{"delegation id", func(d *world.Document) { d.Delegations[0].ID = "x" }},
		{"delegation twice", func(d *world.Document) { d.Delegations = append(d.Delegations, d.Delegations[0]) }},
		{"delegation same tenant", func(d *world.Document) { d.Delegations[0].ManagingTenantID = tA }},
		{"delegation customer unknown", func(d *world.Document) { d.Delegations[0].CustomerTenantID = "22222222-0000-4000-8000-000000000000" }},
		{"delegation managing bad", func(d *world.Document) { d.Delegations[0].ManagingTenantID = "m" }},
		{"delegation scope", func(d *world.Document) { d.Delegations[0].Scope = "/subscriptions/" + sub + "/resourceGroups" }},
		{"delegation principal", func(d *world.Document) { d.Delegations[0].PrincipalID = "c0000000-0000-4000-8000-000000000001" }},
		{"link partner bad", func(d *world.Document) { d.Links[0].PartnerID = "p" }},
		{"link partner unknown", func(d *world.Document) { d.Links[0].PartnerID = "42" }},
		{"link tenant", func(d *world.Document) { d.Links[0].TenantID = "33333333-0000-4000-8000-000000000000" }},
		{"link principal", func(d *world.Document) { d.Links[0].ObjectID = "c0000000-0000-4000-8000-000000000007" }},
		{"link CSP group", func(d *world.Document) { d.Links[0].ObjectID = "c0000000-0000-4000-8000-000000000009" }},
		{"link overlap", func(d *world.Document) { d.Links[1].To = nil }},
		{"link period", func(d *world.Document) { d.Links[2].To = d.Links[2].From }},
		{"environment tenant", func(d *world.Document) { d.Environments[0].TenantID = "e" }},
		{"environment id", func(d *world.Document) { d.Environments[1].EnvironmentID = "" }},
		{"environment id characters", func(d *world.Document) { d.Environments[1].EnvironmentID = `"><script>` }},
		{"environment twice", func(d *world.Document) { d.Environments[1].EnvironmentID = "ENV-PROD" }},
		{"environment type", func(d *world.Document) { d.Environments[0].Type = "production" }},
		{"resource id characters", func(d *world.Document) { d.PowerPlatformResources[0].ID = "app one" }},
		{"resource environment", func(d *world.Document) { d.PowerPlatformResources[0].EnvironmentID = "env-test" }},
		{"resource id", func(d *world.Document) { d.PowerPlatformResources[0].ID = "" }},
		{"resource twice", func(d *world.Document) { d.PowerPlatformResources[0].ID = "APP-1" }},
		{"resource kind", func(d *world.Document) { d.PowerPlatformResources[0].Kind = "App" }},
		{"ownership role", func(d *world.Document) { d.Ownership[0].Role = "Admin" }},
		{"ownership resource", func(d *world.Document) { d.Ownership[0].ResourceID = "app-9" }},
		{"ownership principal", func(d *world.Document) { d.Ownership[1].PrincipalID = "c0000000-0000-4000-8000-000000000008" }},
		{"ownership period", func(d *world.Document) { d.Ownership[1].To = at("2025-01-01T00:00:00Z") }},
	}
	var got strings.Builder
	all := fresh()
	for _, m := range mutations {
		doc := fresh()
		m.f(doc)
		fmt.Fprintf(&got, "== %s\n%v\n", m.name, world.Validate(doc))
		m.f(all)
	}
	fmt.Fprintf(&got, "== all at once\n%v\n", world.Validate(all))

	const golden = "testdata/validate-errors.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("validation messages differ from %s (go test -update rewrites it):\n%s", golden, got.String())
	}
}
