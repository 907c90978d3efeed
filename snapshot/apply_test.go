package snapshot

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/world"
)

func ts(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

const readerRole = "Reader"

// baseDoc is a valid world document with three tenants:
//   - tenant1: subscriptions sub1 and subX, principal ana, and assignments
//     1 (open, in the snapshots), 2 (closed long ago, re-appears), 8 (open,
//     gone from the snapshots) and 3 on subX;
//   - tenant2: subscription sub2 and an open assignment the Resource Graph
//     snapshot does not list;
//   - tenant3: no snapshot speaks for it.
func baseDoc() *world.Document {
	return &world.Document{
		Version: 1,
		Tenants: []world.Tenant{{TenantID: tenant1, Name: "Fabrikam"}, {TenantID: tenant2, Name: "Northwind"}, {TenantID: tenant3, Name: "Tailspin"}},
		Subscriptions: []world.Subscription{
			{SubscriptionID: sub1, TenantID: tenant1, Name: "old name"},
			{SubscriptionID: subX, TenantID: tenant1, Name: "sandbox"},
			{SubscriptionID: sub2, TenantID: tenant2, Name: "dev"},
			{SubscriptionID: "4c4c4c4c-4c4c-4c4c-8c4c-4c4c4c4c4c4c", TenantID: tenant3, Name: "t3"},
		},
		Principals: []world.Principal{
			{TenantID: tenant1, ObjectID: userAna, Type: "User", DisplayName: "Ana (from the document)"},
			{TenantID: tenant2, ObjectID: user7, Type: "User", DisplayName: "Sam"},
			{TenantID: tenant3, ObjectID: user7, Type: "User", DisplayName: "Sam in T3"},
		},
		RoleAssignments: []world.RoleAssignment{
			{TenantID: tenant1, ID: ra(1), PrincipalID: userAna, RoleDefinition: "acdd72a7-3385-48ef-bd42-f606fba81ae7", Scope: "/SUBSCRIPTIONS/" + strings.ToUpper(sub1) + "/", From: ts("2026-01-01T00:00:00Z")},
			{TenantID: tenant1, ID: ra(2), PrincipalID: userAna, RoleDefinition: readerRole, Scope: "/subscriptions/" + sub1, From: ts("2025-01-01T00:00:00Z"), To: ts("2025-06-01T00:00:00Z")},
			{TenantID: tenant1, ID: ra(8), PrincipalID: userAna, RoleDefinition: readerRole, Scope: "/subscriptions/" + sub1, From: ts("2026-01-01T00:00:00Z")},
			{TenantID: tenant1, ID: ra(3), PrincipalID: userAna, RoleDefinition: readerRole, Scope: "/subscriptions/" + subX, From: ts("2026-01-01T00:00:00Z")},
			{TenantID: tenant2, ID: ra(9), PrincipalID: user7, RoleDefinition: readerRole, Scope: "/subscriptions/" + sub2, From: ts("2026-01-01T00:00:00Z")},
			{TenantID: tenant3, ID: ra(9), PrincipalID: user7, RoleDefinition: readerRole, Scope: "/subscriptions/4c4c4c4c-4c4c-4c4c-8c4c-4c4c4c4c4c4c", From: ts("2026-01-01T00:00:00Z")},
		},
	}
}

func mustValid(t *testing.T, doc *world.Document) {
	t.Helper()
	if err := world.Validate(doc); err != nil {
		t.Fatalf("base document is not valid: %v", err)
	}
}

// rows returns the document's rows for one assignment as "from..to"
// strings, in document order.
func rows(doc *world.Document, tenant, id string) []string {
	var out []string
	for _, a := range doc.RoleAssignments {
		if a.TenantID == tenant && a.ID == id {
			out = append(out, period(a.From)+".."+period(a.To))
		}
	}
	return out
}

func period(t *time.Time) string {
	if t == nil {
		return "null"
	}
	return t.UTC().Format("2006-01-02")
}

func encode(t *testing.T, doc *world.Document) string {
	t.Helper()
	var b bytes.Buffer
	if err := world.Write(&b, doc); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func without(s *Snapshot, ids ...string) *Snapshot {
	c := *s
	c.RoleAssignments = slices.DeleteFunc(slices.Clone(s.RoleAssignments), func(a RoleAssignment) bool { return slices.Contains(ids, a.ID) })
	return &c
}

func TestApplyResourceGraphPeriods(t *testing.T) {
	doc := baseDoc()
	mustValid(t, doc)
	snap := readFile(t, "arg-graph-query.json")
	march := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

	// Only tenant1: tenant2's rows are counted and left alone.
	ch, err := Apply(doc, snap, march, []string{strings.ToUpper(tenant1)})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := Changes{
		Tenants: []string{tenant1},
		Opened:  2, // 2 re-appears, 6 is new
		Closed:  2, // 8 disappeared, and 3 (on subX) is not listed
		Kept:    1, // 1 stays
		// The group and the service principal; ana is already known.
		PrincipalsAdded:       2,
		SubscriptionsUpdated:  1, // sub1's name and management group
		ManagementGroupsAdded: 2, // mg-Prod and the tenant root group
		RoleDefinitionsAdded:  1, // the custom role
		ResourceGroups:        1,
		// Assignment 7, subscription sub2 and tenant2's root group.
		OtherTenantRows: 3,
		Skipped:         1,
		SkippedRows: []Skipped{{Item: 10, Line: 224, Type: "microsoft.authorization/classicadministrators",
			Reason: "not a role assignment, role definition, subscription, resource group or management group"}},
	}
	if !changesEqual(ch, want) {
		t.Errorf("changes = %+v\nwant      %+v", ch, want)
	}
	checks := []struct {
		tenant, id string
		want       []string
	}{
		{tenant1, ra(1), []string{"2026-01-01..null"}},                           // stays
		{tenant1, ra(2), []string{"2025-01-01..2025-06-01", "2026-03-01..null"}}, // re-appears: a new row
		{tenant1, ra(8), []string{"2026-01-01..2026-03-01"}},                     // disappears
		{tenant1, ra(6), []string{"2026-03-01..null"}},                           // appears
		{tenant1, ra(3), []string{"2026-01-01..2026-03-01"}},                     // subX is in the tenant the snapshot covers whole
		{tenant2, ra(9), []string{"2026-01-01..null"}},                           // other tenant: untouched
		{tenant2, ra(7), nil},                                                    // other tenant: not opened
		{tenant3, ra(9), []string{"2026-01-01..null"}},
	}
	for _, c := range checks {
		if got := rows(doc, c.tenant, c.id); !slices.Equal(got, c.want) {
			t.Errorf("tenant %s assignment %s: periods %v, want %v", c.tenant[:4], c.id, got, c.want)
		}
	}
	var added []world.RoleAssignment
	for _, a := range doc.RoleAssignments {
		if a.ID == ra(6) {
			added = append(added, a)
		}
	}
	// The custom role is the tenant's its row names.
	if len(doc.RoleDefinitions) != 1 || doc.RoleDefinitions[0].ID != custom || doc.RoleDefinitions[0].TenantID != tenant1 {
		t.Errorf("role definitions = %+v, want the custom role of tenant1", doc.RoleDefinitions)
	}
	if a := added[0]; a.RoleDefinition != custom || a.PrincipalID != spn ||
		a.Scope != "/providers/Microsoft.Management/managementGroups/0C2F4A6E-1B3D-4C5E-8F70-A1B2C3D4E5F6" {
		t.Errorf("opened assignment = %+v", a)
	}
	principals := map[string]world.Principal{}
	for _, p := range doc.Principals {
		principals[p.TenantID+"/"+p.ObjectID] = p
	}
	if p := principals[tenant1+"/"+group]; p.Type != "Group" || p.CSPDelegated || p.From != nil || p.To != nil {
		t.Errorf("added group = %+v", p)
	}
	if p := principals[tenant1+"/"+spn]; p.Type != "ServicePrincipal" {
		t.Errorf("added service principal = %+v", p)
	}
	if p := principals[tenant1+"/"+userAna]; p.DisplayName != "Ana (from the document)" {
		t.Errorf("a known principal was changed: %+v", p)
	}
	for _, s := range doc.Subscriptions {
		if s.SubscriptionID == sub1 && (s.Name != "Fabrikam Production" || s.ManagementGroup == nil || *s.ManagementGroup != "mg-Prod") {
			t.Errorf("sub1 = %+v", s)
		}
	}

	// The same snapshot a month later changes nothing.
	before := encode(t, doc)
	again, err := Apply(doc, snap, march.AddDate(0, 1, 0), []string{tenant1})
	if err != nil {
		t.Fatalf("second Apply: %v", err)
	}
	if again.Changed() || again.Kept != 3 || again.Opened != 0 || again.Closed != 0 {
		t.Errorf("re-applying changed something: %+v", again)
	}
	if after := encode(t, doc); after != before {
		t.Errorf("re-applying changed the document:\n%s", after)
	}

	// Assignment 2 disappears in May and re-appears in June: a third row.
	if _, err := Apply(doc, without(snap, ra(2)), time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), []string{tenant1}); err != nil {
		t.Fatalf("May: %v", err)
	}
	if _, err := Apply(doc, snap, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), []string{tenant1}); err != nil {
		t.Fatalf("June: %v", err)
	}
	if got, want := rows(doc, tenant1, ra(2)), []string{"2025-01-01..2025-06-01", "2026-03-01..2026-05-01", "2026-06-01..null"}; !slices.Equal(got, want) {
		t.Errorf("assignment 2: periods %v, want %v", got, want)
	}
}

func changesEqual(a, b Changes) bool {
	return slices.Equal(a.Tenants, b.Tenants) && a.String() == b.String() &&
		a.Opened == b.Opened && a.Closed == b.Closed && a.Kept == b.Kept && a.PrincipalsAdded == b.PrincipalsAdded &&
		a.TenantsAdded == b.TenantsAdded && a.SubscriptionsAdded == b.SubscriptionsAdded && a.SubscriptionsUpdated == b.SubscriptionsUpdated &&
		a.ManagementGroupsAdded == b.ManagementGroupsAdded && a.ManagementGroupsUpdated == b.ManagementGroupsUpdated &&
		a.RoleDefinitionsAdded == b.RoleDefinitionsAdded && a.RoleDefinitionsUpdated == b.RoleDefinitionsUpdated &&
		a.ResourceGroups == b.ResourceGroups && a.OtherTenantRows == b.OtherTenantRows && a.Skipped == b.Skipped
}

// Without scopeTenants a snapshot covers the tenants of its rows: tenant2's
// unlisted assignment closes and its listed one opens; tenant3 is untouched.
func TestApplyAllSnapshotTenants(t *testing.T) {
	doc := baseDoc()
	snap := readFile(t, "arg-graph-query.json")
	ch, err := Apply(doc, snap, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), nil)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if !slices.Equal(ch.Tenants, []string{tenant1, tenant2}) || ch.OtherTenantRows != 0 {
		t.Errorf("changes = %+v", ch)
	}
	if got := rows(doc, tenant2, ra(9)); !slices.Equal(got, []string{"2026-01-01..2026-03-01"}) {
		t.Errorf("tenant2 assignment 9: %v", got)
	}
	if got := rows(doc, tenant2, ra(7)); !slices.Equal(got, []string{"2026-03-01..null"}) {
		t.Errorf("tenant2 assignment 7: %v", got)
	}
	if got := rows(doc, tenant3, ra(9)); !slices.Equal(got, []string{"2026-01-01..null"}) {
		t.Errorf("tenant3 assignment 9: %v", got)
	}
}

// An az role assignment list snapshot speaks for its subscription and what
// is above it, not for the rest of the tenant. Its custom role must be
// defined first; az role definition list provides it.
func TestApplyAzRoleAssignmentList(t *testing.T) {
	doc := baseDoc()
	// mg-Prod holds sub1; mg-Other holds nothing the snapshot was listed in.
	prod, other := "mg-Prod", "mg-Other"
	doc.ManagementGroups = []world.ManagementGroup{{TenantID: tenant1, Name: prod}, {TenantID: tenant1, Name: other}}
	doc.Subscriptions[0].ManagementGroup = &prod
	doc.RoleAssignments = append(doc.RoleAssignments,
		world.RoleAssignment{TenantID: tenant1, ID: "2b000000-0000-4000-8000-000000000001", PrincipalID: userAna, RoleDefinition: readerRole,
			Scope: "/providers/Microsoft.Management/managementGroups/mg-prod", From: ts("2026-01-01T00:00:00Z")},
		world.RoleAssignment{TenantID: tenant1, ID: "2b000000-0000-4000-8000-000000000002", PrincipalID: userAna, RoleDefinition: readerRole,
			Scope: "/providers/Microsoft.Management/managementGroups/mg-Other", From: ts("2026-01-01T00:00:00Z")},
		world.RoleAssignment{TenantID: tenant1, ID: "2b000000-0000-4000-8000-000000000003", PrincipalID: userAna, RoleDefinition: readerRole,
			Scope: "/", From: ts("2026-01-01T00:00:00Z")},
	)
	mustValid(t, doc)
	snap := readFile(t, "az-role-assignment-list.json", DefaultTenant(tenant1))
	march := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

	before := encode(t, doc)
	_, err := Apply(doc, snap, march, nil)
	if err == nil || !strings.Contains(partnerlink.ErrorMessage(err), custom+` ("Fabrikam Storage Operator") are neither built in nor in the document`) {
		t.Fatalf("Apply with an undefined custom role: %v", err)
	}
	if encode(t, doc) != before {
		t.Fatal("a failed Apply changed the document")
	}

	// az role definition list names no tenant: the roles need one.
	_, err = Apply(doc, readFile(t, "az-role-definition-list.json"), march, nil)
	if want := "snapshot az-role-definition-list.json: role definition 9980e02c-c2be-4d73-94e8-173b1dc7cf3c (item 0) names no tenant; a custom role belongs to the tenant it was defined in: name the tenant the export was taken in (partnerlink import --tenant T)"; err == nil || err.Error() != want {
		t.Fatalf("Apply definitions without a tenant: %v\nwant %s", err, want)
	}
	if encode(t, doc) != before {
		t.Fatal("a failed Apply changed the document")
	}
	// Defined in tenant2, the custom role is still unknown to tenant1.
	if _, err := Apply(doc, readFile(t, "az-role-definition-list.json", DefaultTenant(tenant2)), march, nil); err != nil {
		t.Fatalf("Apply tenant2's definitions: %v", err)
	}
	_, err = Apply(doc, snap, march, nil)
	if err == nil || !strings.Contains(partnerlink.ErrorMessage(err), custom+` ("Fabrikam Storage Operator") are neither built in nor in the document`) {
		t.Fatalf("Apply with the custom role defined in another tenant: %v", err)
	}

	defs := readFile(t, "az-role-definition-list.json", DefaultTenant(tenant1))
	ch, err := Apply(doc, defs, march, nil)
	if err != nil {
		t.Fatalf("Apply definitions: %v", err)
	}
	// Virtual Machine Contributor and the custom role; Reader is built in.
	if ch.RoleDefinitionsAdded != 2 || ch.Opened+ch.Closed+ch.Kept != 0 || !slices.Equal(ch.Tenants, []string{tenant1}) {
		t.Errorf("definitions changes = %+v", ch)
	}
	var roles []string
	for _, r := range doc.RoleDefinitions {
		roles = append(roles, r.TenantID+" "+r.ID+" "+r.Name)
	}
	if want := []string{
		tenant2 + " 9980e02c-c2be-4d73-94e8-173b1dc7cf3c Virtual Machine Contributor", tenant2 + " " + custom + " Fabrikam Storage Operator",
		tenant1 + " 9980e02c-c2be-4d73-94e8-173b1dc7cf3c Virtual Machine Contributor", tenant1 + " " + custom + " Fabrikam Storage Operator",
	}; !slices.Equal(roles, want) {
		t.Errorf("role definitions = %q\nwant %q", roles, want)
	}

	ch, err = Apply(doc, snap, march, nil)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	// Opened: 2, 3, 4 and 5; kept: 1. Closed: 8 on sub1, the assignments at
	// mg-prod (above sub1) and at the tenant root, and the document's 3,
	// whose id the snapshot lists at another scope.
	if ch.Opened != 4 || ch.Kept != 1 || ch.Closed != 4 || ch.Skipped != 1 {
		t.Errorf("changes = %+v", ch)
	}
	// A skipped row is named with why, not only counted.
	if s := ch.String(); !strings.Contains(s, "; 1 row skipped: item ") || !strings.Contains(s, "classic administrators (--include-classic-administrators) are not role assignments") {
		t.Errorf("summary %q does not say which row was skipped and why", s)
	}
	checks := []struct {
		id   string
		want []string
	}{
		{ra(8), []string{"2026-01-01..2026-03-01"}},
		{"2b000000-0000-4000-8000-000000000001", []string{"2026-01-01..2026-03-01"}}, // mg-prod, above sub1
		{"2b000000-0000-4000-8000-000000000002", []string{"2026-01-01..null"}},       // mg-Other: not listed
		{"2b000000-0000-4000-8000-000000000003", []string{"2026-01-01..2026-03-01"}}, // tenant root: inherited by sub1
		// The document's assignment 3 was on subX; the snapshot's 3 is on
		// sub1's storage account: same id, other scope: closed and reopened.
		{ra(3), []string{"2026-01-01..2026-03-01", "2026-03-01..null"}},
		{ra(5), []string{"2026-03-01..null"}},
	}
	for _, c := range checks {
		if got := rows(doc, tenant1, c.id); !slices.Equal(got, c.want) {
			t.Errorf("assignment %s: periods %v, want %v", c.id, got, c.want)
		}
	}
	principals := map[string]world.Principal{}
	for _, p := range doc.Principals {
		principals[p.ObjectID] = p
	}
	tests := []struct {
		id, typ, name string
		csp           bool
	}{
		{group, "Group", "Platform Operators", false},
		{spn, "ServicePrincipal", "5e0a1b2c-3d4e-4f5a-8b6c-7d8e9f0a1b2c", false},
		{foreign, "Group", "", true},
		{guest, "Guest", "bo_contoso.example#EXT#@fabrikam.onmicrosoft.com", false},
	}
	for _, tc := range tests {
		p, ok := principals[tc.id]
		if !ok || p.TenantID != tenant1 || p.Type != tc.typ || p.DisplayName != tc.name || p.CSPDelegated != tc.csp {
			t.Errorf("principal %s = %+v (found %v), want type %s, name %q, cspDelegated %v", tc.id, p, ok, tc.typ, tc.name, tc.csp)
		}
	}
	if ch.PrincipalsAdded != 4 {
		t.Errorf("principals added = %d, want 4", ch.PrincipalsAdded)
	}
	// The document's subX assignment keeps its row closed; no other row of
	// subX was touched, and the az listing added no subscription.
	if ch.SubscriptionsAdded != 0 {
		t.Errorf("subscriptions added = %d", ch.SubscriptionsAdded)
	}
}

// Scopes name subscriptions and management groups the document lacks: they
// are added to the assignment's tenant; a subscription of another tenant is
// refused.
func TestApplyAddsScopes(t *testing.T) {
	doc := &world.Document{Version: 1}
	row := azRow(map[string]string{"scope": `"/subscriptions/` + sub2 + `/resourceGroups/Web"`})
	root := azRow(map[string]string{"name": `"` + ra(3) + `"`, "principalId": `"` + spn + `"`, "principalType": `"ServicePrincipal"`, "scope": `"/providers/Microsoft.Management/managementGroups/` + strings.ToUpper(tenant2) + `"`})
	mg := azRow(map[string]string{"name": `"` + ra(2) + `"`, "principalId": `"` + spn + `"`, "principalType": `"ServicePrincipal"`, "scope": `"/providers/Microsoft.Management/managementGroups/Landing-Zones"`})
	snap, err := Read(strings.NewReader("["+row+","+mg+","+root+"]"), "in.json", DefaultTenant(tenant2))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := Apply(doc, snap, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), nil)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if ch.TenantsAdded != 1 || ch.SubscriptionsAdded != 1 || ch.ManagementGroupsAdded != 2 || ch.PrincipalsAdded != 2 || ch.Opened != 3 {
		t.Errorf("changes = %+v", ch)
	}
	// The tenant root group is named after the tenant: lower-cased.
	if doc.ManagementGroups[0].Name != "Landing-Zones" || doc.ManagementGroups[1].Name != tenant2 || doc.Subscriptions[0].TenantID != tenant2 {
		t.Errorf("added containers: %+v %+v", doc.ManagementGroups, doc.Subscriptions)
	}

	doc2 := baseDoc() // sub2 is tenant2's
	snap2, err := Read(strings.NewReader("["+row+"]"), "in.json", DefaultTenant(tenant1))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Apply(doc2, snap2, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), nil)
	if err == nil || !strings.Contains(partnerlink.ErrorMessage(err), "subscription "+sub2+" is in tenant "+tenant2+" in the document") {
		t.Errorf("assignment in another tenant's subscription: %v", err)
	}
}

func TestApplyRefuses(t *testing.T) {
	snap := readFile(t, "arg-graph-query.json")
	tests := []struct {
		name   string
		at     time.Time
		tenant []string
		snap   *Snapshot
		want   string
	}{
		{"before an open period it would close", time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), []string{tenant1}, snap,
			"began at 2026-01-01T00:00:00Z in the document, not before the snapshot's instant 2025-12-01T00:00:00Z; apply snapshots in time order"},
		{"before a closed period it would overlap", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), []string{tenant1}, without(snap, ra(1), ra(8)),
			"was in force until 2025-06-01T00:00:00Z in the document"},
		{"no instant", time.Time{}, nil, snap, "no instant given"},
		{"bad tenant", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), []string{"fabrikam"}, snap, `tenant "fabrikam" is not a GUID`},
		{"principal type unknown", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), nil,
			&Snapshot{Name: "s", Format: FormatResourceGraph, Tenants: []string{tenant1}, RoleAssignments: []RoleAssignment{{
				TenantID: tenant1, ID: ra(4), PrincipalID: foreign, RoleDefinitionID: "acdd72a7-3385-48ef-bd42-f606fba81ae7", RoleDefinition: readerRole, Scope: "/subscriptions/" + sub1}}},
			"principal " + foreign + " is not in the document and the snapshot does not say its type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := baseDoc()
			before := encode(t, doc)
			_, err := Apply(doc, tc.snap, tc.at, tc.tenant)
			if err == nil || !strings.Contains(partnerlink.ErrorMessage(err), tc.want) {
				t.Errorf("Apply error %v\nwant one containing %q", err, tc.want)
			}
			if encode(t, doc) != before {
				t.Error("a failed Apply changed the document")
			}
		})
	}
}

func TestChangesString(t *testing.T) {
	c := Changes{Opened: 2, Closed: 1, Kept: 5, PrincipalsAdded: 1, SubscriptionsAdded: 1, SubscriptionsUpdated: 2, ResourceGroups: 3, OtherTenantRows: 4}
	want := "role assignments: 2 opened, 1 closed, 5 kept; principals: 1 added; subscriptions: 1 added, 2 updated; 3 resource groups read (not stored); 4 rows of other tenants ignored"
	if got := c.String(); got != want {
		t.Errorf("String() = %q\nwant        %q", got, want)
	}
	if !c.Changed() || (Changes{Kept: 3, ResourceGroups: 1}).Changed() {
		t.Error("Changed() is wrong")
	}
}

// An export of containers only says nothing about role assignments: it
// upserts subscriptions and management groups and closes nothing.
func TestApplyContainersOnly(t *testing.T) {
	doc := baseDoc()
	ch, err := Apply(doc, readFile(t, "arg-rows.json"), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), nil)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	// sub1 gets its name and group; subX's group is unknown and its name
	// changes; mg-Prod and the root group are added.
	if ch.Closed != 0 || ch.Opened != 0 || ch.SubscriptionsUpdated != 2 || ch.ManagementGroupsAdded != 2 {
		t.Errorf("changes = %+v", ch)
	}
	for _, a := range doc.RoleAssignments {
		if a.TenantID == tenant1 && a.ID != ra(2) && a.To != nil {
			t.Errorf("assignment %s was closed by an export without assignments", a.ID)
		}
	}
	for _, s := range doc.Subscriptions {
		if s.SubscriptionID == subX && (s.ManagementGroup != nil || s.Name != "Fabrikam Sandbox") {
			t.Errorf("subX = %+v", s)
		}
	}
}
