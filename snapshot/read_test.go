package snapshot

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink"
)

// The fixtures under testdata are hand-written in the shapes the real tools
// print; testdata/README.md says where each shape comes from.

const (
	tenant1 = "0c2f4a6e-1b3d-4c5e-8f70-a1b2c3d4e5f6" // Fabrikam
	tenant2 = "7d8e9f00-1a2b-4c3d-9e4f-5a6b7c8d9e0f" // Northwind
	tenant3 = "2e3e4e5e-6e7e-4e8e-9eae-bececedeeefe" // in the document only
	sub1    = "3f2b8c1d-5e6a-4b7c-8d9e-0f1a2b3c4d5e"
	sub2    = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	subX    = "5b5b5b5b-5b5b-4b5b-8b5b-5b5b5b5b5b5b"
	userAna = "a1111111-1111-4111-8111-111111111111"
	group   = "b2222222-2222-4222-8222-222222222222"
	spn     = "c3333333-3333-4333-8333-333333333333"
	foreign = "d4444444-4444-4444-8444-444444444444"
	guest   = "e5555555-5555-4555-8555-555555555555"
	user7   = "a7777777-7777-4777-8777-777777777777"
	custom  = "f6666666-6666-4666-8666-666666666666"
)

// ra returns the assignment GUID numbered n in the fixtures.
func ra(n int) string { return "1a000000-0000-4000-8000-00000000000" + string(rune('0'+n)) }

func readFile(t *testing.T, name string, opts ...Option) *Snapshot {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	snap, err := Read(f, name, opts...)
	if err != nil {
		t.Fatalf("Read(%s): %v", name, err)
	}
	return snap
}

func findRA(t *testing.T, s *Snapshot, id string) RoleAssignment {
	t.Helper()
	for _, a := range s.RoleAssignments {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("role assignment %s not read; have %+v", id, s.RoleAssignments)
	return RoleAssignment{}
}

func TestReadFormats(t *testing.T) {
	tests := []struct {
		file     string
		opts     []Option
		format   Format
		tenants  []string
		covered  []string
		counts   [6]int // assignments, definitions, subscriptions, management groups, resource groups, skipped
		moreChks func(t *testing.T, s *Snapshot)
	}{
		{
			file: "az-role-assignment-list.json", opts: []Option{DefaultTenant(strings.ToUpper(tenant1))},
			format: FormatAzRoleAssignments, tenants: []string{tenant1}, covered: []string{sub1},
			counts: [6]int{5, 0, 0, 0, 0, 1},
			moreChks: func(t *testing.T, s *Snapshot) {
				a := findRA(t, s, ra(1))
				want := RoleAssignment{TenantID: tenant1, ID: ra(1), PrincipalID: userAna, PrincipalType: "User", PrincipalName: "ana@fabrikam.example",
					RoleDefinitionID: "acdd72a7-3385-48ef-bd42-f606fba81ae7", RoleDefinitionName: "Reader", RoleDefinition: "Reader",
					Scope: "/subscriptions/" + sub1, Item: 0}
				if a != want {
					t.Errorf("assignment 1 = %+v\nwant %+v", a, want)
				}
				c := findRA(t, s, ra(3))
				if c.RoleDefinition != custom || c.RoleDefinitionName != "Fabrikam Storage Operator" {
					t.Errorf("custom role: RoleDefinition %q (want the lower-cased GUID), name %q", c.RoleDefinition, c.RoleDefinitionName)
				}
				if c.Scope != "/subscriptions/"+sub1+"/resourceGroups/Sales-RG/providers/Microsoft.Storage/storageAccounts/salesdata" {
					t.Errorf("scope %q: want the input's casing without the trailing /", c.Scope)
				}
				if m := findRA(t, s, ra(5)); m.Scope != "/providers/Microsoft.Management/managementGroups/mg-Prod" || m.RoleDefinition != "User Access Administrator" {
					t.Errorf("inherited assignment = %+v", m)
				}
				if f := findRA(t, s, ra(4)); f.PrincipalType != "ForeignGroup" || f.RoleDefinition != "Owner" {
					t.Errorf("foreign group assignment = %+v", f)
				}
				if s.Skipped[0].Item != 5 || s.Skipped[0].Type != "classic administrator" {
					t.Errorf("skipped = %+v", s.Skipped)
				}
			},
		},
		{
			file: "az-role-assignment-list-legacy.json", opts: []Option{DefaultTenant(tenant1)},
			format: FormatAzRoleAssignments, tenants: []string{tenant1}, covered: []string{sub1},
			counts: [6]int{1, 0, 0, 0, 0, 0},
			moreChks: func(t *testing.T, s *Snapshot) {
				a := findRA(t, s, ra(1))
				if a.PrincipalID != userAna || a.PrincipalType != "" || a.RoleDefinition != "Reader" || a.PrincipalName != "ana@fabrikam.example" {
					t.Errorf("legacy assignment = %+v", a)
				}
			},
		},
		{
			file: "arg-graph-query.json", format: FormatResourceGraph, tenants: []string{tenant1, tenant2},
			counts: [6]int{4, 1, 2, 3, 1, 1},
			moreChks: func(t *testing.T, s *Snapshot) {
				root := findRA(t, s, ra(6))
				if root.TenantID != tenant1 || root.RoleDefinition != custom ||
					root.Scope != "/providers/Microsoft.Management/managementGroups/0C2F4A6E-1B3D-4C5E-8F70-A1B2C3D4E5F6" {
					t.Errorf("root group assignment = %+v (want the id lower-cased, the scope as given)", root)
				}
				if a := findRA(t, s, ra(7)); a.TenantID != tenant2 || a.PrincipalID != user7 {
					t.Errorf("tenant 2 assignment = %+v", a)
				}
				d := s.RoleDefinitions[0]
				if d.ID != custom || d.TenantID != tenant1 || d.Name != "Fabrikam Storage Operator" || d.BuiltIn || len(d.Actions) != 3 || len(d.DataActions) != 1 || d.NotActions == nil {
					t.Errorf("custom role = %+v", d)
				}
				for _, sub := range s.Subscriptions {
					want := map[string]string{sub1: "mg-Prod", sub2: tenant2}[sub.SubscriptionID]
					if !sub.ManagementGroupKnown || sub.ManagementGroup == nil || *sub.ManagementGroup != want {
						t.Errorf("subscription %s: management group %v, want %s", sub.SubscriptionID, sub.ManagementGroup, want)
					}
				}
				parents := map[string]string{}
				for _, m := range s.ManagementGroups {
					p := "<top>"
					if m.Parent != nil {
						p = *m.Parent
					}
					parents[m.TenantID+" "+m.Name] = p
				}
				want := map[string]string{
					tenant1 + " mg-Prod":    tenant1, // from the group's own row
					tenant1 + " " + tenant1: "<top>", // the tenant root group
					tenant2 + " " + tenant2: "<top>", // only named in a subscription's chain
				}
				if !mapsEqual(parents, want) {
					t.Errorf("management groups = %v, want %v", parents, want)
				}
				if rg := s.ResourceGroups[0]; rg.Name != "Sales-RG" || rg.SubscriptionID != sub1 || rg.TenantID != tenant1 {
					t.Errorf("resource group = %+v", rg)
				}
				if s.Skipped[0].Type != "microsoft.authorization/classicadministrators" || s.Skipped[0].Item != 10 {
					t.Errorf("skipped = %+v", s.Skipped)
				}
			},
		},
		{
			file: "arg-rows.json", format: FormatResourceGraph, tenants: []string{tenant1},
			counts: [6]int{0, 0, 2, 2, 0, 0},
			moreChks: func(t *testing.T, s *Snapshot) {
				if sb := s.Subscriptions[1]; sb.SubscriptionID != subX || sb.ManagementGroupKnown || sb.Name != "Fabrikam Sandbox" {
					t.Errorf("subscription without a chain = %+v; its group is unknown, not none", sb)
				}
			},
		},
		{
			file: "arg-table.json", format: FormatResourceGraph, tenants: []string{tenant1},
			counts: [6]int{2, 0, 0, 0, 0, 0},
			moreChks: func(t *testing.T, s *Snapshot) {
				if a := findRA(t, s, ra(9)); a.RoleDefinition != "Cost Management Reader" || a.PrincipalID != group || a.PrincipalType != "Group" {
					t.Errorf("table row = %+v", a)
				}
			},
		},
		{
			file: "az-role-definition-list.json", format: FormatAzRoleDefinitions,
			counts: [6]int{0, 3, 0, 0, 0, 0},
			moreChks: func(t *testing.T, s *Snapshot) {
				vm := s.RoleDefinitions[0]
				if vm.Name != "Virtual Machine Contributor" || !vm.BuiltIn || vm.ID != "9980e02c-c2be-4d73-94e8-173b1dc7cf3c" || len(vm.Actions) != 3 {
					t.Errorf("built-in definition = %+v", vm)
				}
				if c := s.RoleDefinitions[1]; c.BuiltIn || c.ID != custom || c.TenantID != "" {
					t.Errorf("custom definition = %+v (no tenant: az names none)", c)
				}
			},
		},
		{
			file: "az-role-definition-list.json", format: FormatAzRoleDefinitions, opts: []Option{DefaultTenant(tenant2)},
			tenants: []string{tenant2},
			counts:  [6]int{0, 3, 0, 0, 0, 0},
			moreChks: func(t *testing.T, s *Snapshot) {
				if c := s.RoleDefinitions[1]; c.ID != custom || c.TenantID != tenant2 {
					t.Errorf("custom definition = %+v (the default tenant's)", c)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			s := readFile(t, tc.file, tc.opts...)
			if s.Format != tc.format {
				t.Errorf("format %q, want %q", s.Format, tc.format)
			}
			if !slices.Equal(s.Tenants, tc.tenants) {
				t.Errorf("tenants %v, want %v", s.Tenants, tc.tenants)
			}
			if !slices.Equal(s.CoveredSubscriptions, tc.covered) {
				t.Errorf("covered subscriptions %v, want %v", s.CoveredSubscriptions, tc.covered)
			}
			got := [6]int{len(s.RoleAssignments), len(s.RoleDefinitions), len(s.Subscriptions), len(s.ManagementGroups), len(s.ResourceGroups), len(s.Skipped)}
			if got != tc.counts {
				t.Errorf("counts (assignments, definitions, subscriptions, management groups, resource groups, skipped) = %v, want %v", got, tc.counts)
			}
			tc.moreChks(t, s)
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// azRow is one az role assignment list row with fields replaced by over
// (a value of "<absent>" removes the field).
func azRow(over map[string]string) string {
	fields := [][2]string{
		{"name", `"` + ra(1) + `"`},
		{"principalId", `"` + userAna + `"`},
		{"principalType", `"User"`},
		{"roleDefinitionId", `"/subscriptions/` + sub1 + `/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"`},
		{"scope", `"/subscriptions/` + sub1 + `"`},
	}
	var parts []string
	for _, f := range fields {
		v := f[1]
		if o, ok := over[f[0]]; ok {
			v = o
		}
		if v != "<absent>" {
			parts = append(parts, `"`+f[0]+`": `+v)
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func TestReadErrors(t *testing.T) {
	withTenant := []Option{DefaultTenant(tenant1)}
	good := azRow(nil)
	tests := []struct {
		name  string
		input string // or file:NAME
		opts  []Option
		want  []string // substrings of the message
	}{
		{"not JSON", "this is not JSON", withTenant, []string{"snapshot in.json: not JSON: line 1 column 2"}},
		{"truncated", "[" + good + ",\n {\"name\": ", withTenant, []string{"not JSON"}},
		{"empty file", "  \n", withTenant, []string{"the file is empty"}},
		{"trailing data", "[]\n[]", withTenant, []string{"line 2 column 1: unexpected data after the JSON value"}},
		{"a number", "42", withTenant, []string{"expected a JSON array of rows", "found a number"}},
		{"unknown object", `{"subscriptions": []}`, withTenant, []string{"unknown shape", "subscriptions", `"data"`}},
		{"unknown row", "[\n" + good + ",\n {\"displayName\": \"x\"}\n]", withTenant, []string{"item 1 (line 3): unknown shape"}},
		{"row not an object", `[["a"]]`, withTenant, []string{"item 0 (line 1): a row must be a JSON object, not an array"}},
		{"missing principalId at index 3", "file:bad-missing-principal.json", withTenant,
			[]string{"snapshot bad-missing-principal.json: item 3 (line 5): principalId: is missing; expected the assigned principal's object id"}},
		{"principalId not a string", "[" + azRow(map[string]string{"principalId": "42"}) + "]", withTenant,
			[]string{"item 0 (line 1): principalId: must be a JSON string, not a number"}},
		{"bad GUID", "[" + azRow(map[string]string{"principalId": `"ana@fabrikam.example"`}) + "]", withTenant,
			[]string{"item 0 (line 1): principalId: \"ana@fabrikam.example\" is not a GUID"}},
		{"bad assignment name", "[" + azRow(map[string]string{"name": `"rg-reader"`}) + "]", withTenant,
			[]string{"item 0 (line 1): name: \"rg-reader\" is not a GUID"}},
		{"bad scope", "[" + good + ",\n" + azRow(map[string]string{"scope": `"/subscriptions/prod/resourceGroups/x"`}) + "]", withTenant,
			[]string{"item 1 (line 2): scope: scope \"/subscriptions/prod/resourceGroups/x\" is not valid: the subscription id is not a GUID"}},
		{"missing scope", "[" + azRow(map[string]string{"scope": "<absent>"}) + "]", withTenant,
			[]string{"item 0 (line 1): scope: is missing"}},
		{"bad role definition id", "[" + azRow(map[string]string{"roleDefinitionId": `"Reader"`}) + "]", withTenant,
			[]string{"roleDefinitionId: \"Reader\" is not a role definition id", "expected /subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{guid}"}},
		{"bad principal type", "[" + azRow(map[string]string{"principalType": `"Device"`}) + "]", withTenant,
			[]string{"principalType: \"Device\" is not a principal type", "ForeignGroup, Group, ServicePrincipal, User"}},
		{"no default tenant", "[" + good + "]", nil, []string{"item 0 (line 1): tenantId: the row has no tenantId (az role assignment list does not write one); name the tenant the export was taken in with --tenant TENANT_ID"}},
		{"bad default tenant", "[" + good + "]", []Option{DefaultTenant("fabrikam")}, []string{"default tenant \"fabrikam\" is not a GUID"}},
		{"one page of az graph query", `{"count": 1, "data": [], "skip_token": "ew0KICAiJGlkIjogIjEiLA0K", "total_records": 3}`, nil,
			[]string{"one page of a Resource Graph result (skip_token is set)"}},
		{"fewer rows than total", `{"count": 1, "data": [], "skip_token": null, "total_records": 5}`, nil,
			[]string{"holds 1 of 5 rows"}},
		{"truncated REST result", `{"count": 0, "data": [], "resultTruncated": "true"}`, nil, []string{"resultTruncated is true"}},
		{"ARM list page", `{"value": [], "nextLink": "https://management.azure.com/…"}`, nil, []string{"nextLink is set"}},
		{"table row too short", `{"data": {"columns": [{"name": "id"}, {"name": "type"}], "rows": [["x"]]}}`, nil,
			[]string{"item 0 (line 1): the row has 1 cells but the table has 2 columns"}},
		{"mixed exports", "[\n" + good + ",\n" + `{"id": "/subscriptions/` + sub1 + `", "type": "microsoft.resources/subscriptions", "tenantId": "` + tenant1 + `", "subscriptionId": "` + sub1 + `"}` + "\n]", withTenant,
			[]string{"item 1 (line 3): this row is Azure Resource Graph output but the rows before it are az role assignment list output"}},
		{"conflicting duplicate", "[" + good + ",\n" + azRow(map[string]string{"scope": `"/subscriptions/` + sub1 + `/resourceGroups/other"`}) + "]", withTenant,
			[]string{"role assignment " + ra(1) + " is listed twice with different contents (items 0 and 1)"}},
		{"Resource Graph row without tenant", `[{"id": "/subscriptions/` + sub1 + `", "type": "microsoft.resources/subscriptions", "subscriptionId": "` + sub1 + `"}]`, nil,
			[]string{"item 0 (line 1): tenantId: the row has no tenantId"}},
		{"Resource Graph assignment without properties", `[{"id": "x/` + ra(1) + `", "name": "` + ra(1) + `", "type": "microsoft.authorization/roleassignments", "tenantId": "` + tenant1 + `"}]`, nil,
			[]string{"item 0 (line 1): properties: is missing"}},
		{"bad ancestors chain", `[{"id": "/subscriptions/` + sub1 + `", "type": "microsoft.resources/subscriptions", "tenantId": "` + tenant1 + `", "subscriptionId": "` + sub1 + `", "properties": {"managementGroupAncestorsChain": [{"displayName": "x"}]}}]`, nil,
			[]string{"properties.managementGroupAncestorsChain[0].name: is missing"}},
		{"role definition type", `[{"name": "` + custom + `", "roleName": "X", "roleType": "Legacy", "permissions": []}]`, nil,
			[]string{"roleType: \"Legacy\" is not a role type; expected BuiltInRole or CustomRole"}},
		{"UTF-16", "\xff\xfe[\x00]\x00", nil, []string{"UTF-16"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name, input := "in.json", tc.input
			if f, ok := strings.CutPrefix(tc.input, "file:"); ok {
				b, err := os.ReadFile(filepath.Join("testdata", f))
				if err != nil {
					t.Fatal(err)
				}
				name, input = f, string(b)
			}
			s, err := Read(strings.NewReader(input), name, tc.opts...)
			if err == nil {
				t.Fatalf("Read succeeded with %+v; want an error", s)
			}
			if partnerlink.ErrorCode(err) != partnerlink.EINVALID {
				t.Errorf("error code %q, want %q (%v)", partnerlink.ErrorCode(err), partnerlink.EINVALID, err)
			}
			msg := partnerlink.ErrorMessage(err)
			if !strings.HasPrefix(msg, "snapshot "+name+": ") {
				t.Errorf("message %q does not name the file", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q\ndoes not contain %q", msg, w)
				}
			}
		})
	}
}

func TestReadAccepts(t *testing.T) {
	good := azRow(nil)
	tests := []struct {
		name        string
		input       string
		opts        []Option
		assignments int
		format      Format
	}{
		{"UTF-8 byte order mark", "\xef\xbb\xbf[" + good + "]", []Option{DefaultTenant(tenant1)}, 1, FormatAzRoleAssignments},
		{"identical duplicates from concatenated outputs", "[" + good + "," + good + "]", []Option{DefaultTenant(tenant1)}, 1, FormatAzRoleAssignments},
		{"empty array", "[]", nil, 0, FormatEmpty},
		{"ARM list of role assignments", `{"value": [{"id": "/subscriptions/` + sub1 + `/providers/Microsoft.Authorization/roleAssignments/` + ra(1) + `", "name": "` + ra(1) + `", "type": "Microsoft.Authorization/roleAssignments", "properties": {"principalId": "` + userAna + `", "principalType": "User", "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7", "scope": "/subscriptions/` + sub1 + `"}}]}`,
			[]Option{DefaultTenant(tenant1)}, 1, FormatAzRoleAssignments},
		{"name taken from id", "[" + azRow(map[string]string{"name": "<absent>"})[:1] + `"id": "/subscriptions/` + sub1 + `/providers/Microsoft.Authorization/roleAssignments/` + strings.ToUpper(ra(1)) + `", ` + azRow(map[string]string{"name": "<absent>"})[1:] + "]",
			[]Option{DefaultTenant(tenant1)}, 1, FormatAzRoleAssignments},
		{"Resource Graph row without tenant, default given", `[{"id": "x", "name": "` + ra(1) + `", "type": "microsoft.authorization/roleassignments", "properties": {"principalId": "` + userAna + `", "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7", "scope": "/"}}]`,
			[]Option{DefaultTenant(tenant1)}, 1, FormatResourceGraph},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Read(strings.NewReader(tc.input), "in.json", tc.opts...)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if len(s.RoleAssignments) != tc.assignments || s.Format != tc.format {
				t.Errorf("read %d assignments as %q, want %d as %q", len(s.RoleAssignments), s.Format, tc.assignments, tc.format)
			}
			for _, a := range s.RoleAssignments {
				if a.ID != ra(1) || a.TenantID != tenant1 {
					t.Errorf("assignment = %+v", a)
				}
			}
		})
	}
}

// Built-in role GUIDs every world knows become their names; any other GUID
// stays a GUID, lower-cased.
func TestRoleRef(t *testing.T) {
	tests := map[string]string{
		"8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
		"B24988AC-6180-42A0-AB88-20F7382DD24C": "Contributor",
		"acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
		"18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
		"72fafb9e-0641-4937-9268-a91bfd8191a3": "Cost Management Reader",
		"fa23ad8b-c56e-40d8-ac0c-ce449e1d2c64": "Billing Reader",
		"9980e02c-c2be-4d73-94e8-173b1dc7cf3c": "9980e02c-c2be-4d73-94e8-173b1dc7cf3c", // Virtual Machine Contributor: not built into worlds
		custom:                                 custom,
	}
	for guid, want := range tests {
		row := azRow(map[string]string{"roleDefinitionId": `"/providers/Microsoft.Authorization/roleDefinitions/` + guid + `"`})
		s, err := Read(strings.NewReader("["+row+"]"), "in.json", DefaultTenant(tenant1))
		if err != nil {
			t.Fatalf("%s: %v", guid, err)
		}
		if got := s.RoleAssignments[0].RoleDefinition; got != want {
			t.Errorf("role %s: RoleDefinition %q, want %q", guid, got, want)
		}
		if got := s.RoleAssignments[0].RoleDefinitionID; got != strings.ToLower(guid) {
			t.Errorf("role %s: RoleDefinitionID %q, want it lower-cased", guid, got)
		}
	}
}
