package world_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/world"
)

// docs/api.md#world-document: export → import → export round-trips exactly.
func TestRoundTripExample(t *testing.T) {
	in, err := os.ReadFile("testdata/azure-basic.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := world.Read(bytes.NewReader(in), "azure-basic.json")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := world.Write(&out, doc); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), in) {
		t.Fatalf("write(read(x)) differs from x:\n%s", out.String())
	}
	doc2, err := world.Read(bytes.NewReader(out.Bytes()), "again.json")
	if err != nil {
		t.Fatal(err)
	}
	var out2 bytes.Buffer
	if err := world.Write(&out2, doc2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), out2.Bytes()) {
		t.Fatal("second export differs from the first")
	}
}

// docs/rules.md#identifiers-and-time, docs/api.md#world-document: GUIDs are written lower-case, arrays canonically sorted,
// empty arrays as [], and secrets never appear in an export.
func TestWriteCanonical(t *testing.T) {
	src := `{"version":1,"partners":[{"partnerId":"2","name":"B","globalPartnerId":null,"homeTenantIds":null,"from":null,"to":null},
{"partnerId":"1","name":"A","globalPartnerId":null,"homeTenantIds":[],"from":"2026-01-01T01:00:00+01:00","to":null}],
"tenants":[{"tenantId":"BBBBBBBB-0000-4000-8000-000000000000","name":"t2"},{"tenantId":"aaaaaaaa-0000-4000-8000-000000000000","name":"t1"}],
"principals":[{"tenantId":"aaaaaaaa-0000-4000-8000-000000000000","objectId":"C0000000-0000-4000-8000-000000000001","type":"ServicePrincipal","displayName":"sp","homeTenantId":null,"appId":null,"cspDelegated":false,"from":null,"to":null,"secret":"hunter2"}]}`
	doc, err := world.Read(strings.NewReader(src), "x.json")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := world.Write(&out, doc); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		`"tenantId": "bbbbbbbb-0000-4000-8000-000000000000"`,
		`"objectId": "c0000000-0000-4000-8000-000000000001"`,
		`"from": "2026-01-01T00:00:00Z"`,
		`"ownership": []`,
		`"homeTenantIds": []`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("export lacks %s:\n%s", want, s)
		}
	}
	if strings.Contains(s, "hunter2") || strings.Contains(s, "secret") {
		t.Errorf("export contains the secret:\n%s", s)
	}
	if strings.Index(s, `"partnerId": "1"`) > strings.Index(s, `"partnerId": "2"`) {
		t.Errorf("partners not sorted:\n%s", s)
	}
	if strings.Index(s, "aaaaaaaa-0000-4000-8000-000000000000\",\n   \"name\": \"t1\"") > strings.Index(s, "bbbbbbbb") {
		t.Errorf("tenants not sorted:\n%s", s)
	}
	if doc.Principals[0].Secret != "hunter2" {
		t.Error("Write changed the document it was given")
	}
}

const tA = "aaaaaaaa-0000-4000-8000-000000000000"
const tB = "bbbbbbbb-0000-4000-8000-000000000000"
const sub = "5ab00000-0000-4000-8000-000000000000"
const u1 = "c0000000-0000-4000-8000-000000000001"
const g1 = "c0000000-0000-4000-8000-000000000002"

// base is a valid document that the negative tests break one piece at a time.
func base() string {
	return `{"version":1,
"partners":[{"partnerId":"1000001","name":"P","globalPartnerId":null,"homeTenantIds":[],"from":null,"to":null}],
"tenants":[{"tenantId":"` + tA + `","name":"A"},{"tenantId":"` + tB + `","name":"B"}],
"managementGroups":[{"tenantId":"` + tA + `","name":"root-mg","parent":null},{"tenantId":"` + tA + `","name":"prod","parent":"root-mg"}],
"subscriptions":[{"subscriptionId":"` + sub + `","tenantId":"` + tA + `","name":"s","managementGroup":"prod"}],
"principals":[{"tenantId":"` + tA + `","objectId":"` + u1 + `","type":"User","displayName":"u","homeTenantId":null,"appId":null,"cspDelegated":false,"from":null,"to":null},
 {"tenantId":"` + tA + `","objectId":"` + g1 + `","type":"Group","displayName":"g","homeTenantId":null,"appId":null,"cspDelegated":false,"from":null,"to":null}],
"groupMemberships":[{"tenantId":"` + tA + `","groupId":"` + g1 + `","memberId":"` + u1 + `","from":null,"to":null}],
"roleDefinitions":[],
"roleAssignments":[{"tenantId":"` + tA + `","id":"f0000000-0000-4000-8000-000000000001","principalId":"` + g1 + `","roleDefinition":"Reader","scope":"/subscriptions/` + sub + `/resourceGroups/web","from":"2026-01-01T00:00:00Z","to":null}],
"delegations":[],
"links":[{"tenantId":"` + tA + `","objectId":"` + u1 + `","partnerId":"1000001","from":"2026-01-01T00:00:00Z","to":"2026-02-01T00:00:00Z"}],
"environments":[],"powerPlatformResources":[],"ownership":[]}`
}

func TestValidBase(t *testing.T) {
	if _, err := world.Read(strings.NewReader(base()), "base.json"); err != nil {
		t.Fatal(err)
	}
}

// docs/rules.md#identifiers-and-time, docs/rules.md#scopes, docs/rules.md#azure-attribution, docs/api.md#world-document: invalid documents are refused with the element's
// path and what would be accepted.
func TestValidateNegative(t *testing.T) {
	cases := []struct {
		name      string
		old, new  string
		wantParts []string
	}{
		{"unknown field", `"version":1,`, `"version":1,"colour":"red",`, []string{`unknown field "colour"`}},
		{"version", `"version":1,`, `"version":2,`, []string{"version is 2"}},
		{"unknown nested field", `"roleDefinition":"Reader","scope"`, `"roleDefinition":"Reader","scop":"/","scope"`, []string{`roleAssignments[0]: unknown field "scop"`, "expected tenantId, id, principalId, roleDefinition, scope, from, to"}},
		{"bad GUID", `"tenantId":"` + tB + `","name":"B"`, `"tenantId":"not-a-guid","name":"B"`, []string{"tenants[1].tenantId", "not a GUID"}},
		{"bad partner ID", `"partnerId":"1000001","name":"P"`, `"partnerId":"10a","name":"P"`, []string{"partners[0].partnerId", "1 to 10 decimal digits"}},
		{"unknown partner in link", `"partnerId":"1000001","from":"2026-01-01`, `"partnerId":"42","from":"2026-01-01`, []string{"links[0].partnerId", "not listed in partners"}},
		{"unknown tenant", `"subscriptionId":"` + sub + `","tenantId":"` + tA, `"subscriptionId":"` + sub + `","tenantId":"cccccccc-0000-4000-8000-000000000000`, []string{"subscriptions[0].tenantId", "not listed in tenants"}},
		{"unknown MG", `"managementGroup":"prod"`, `"managementGroup":"nope"`, []string{"subscriptions[0].managementGroup", `"nope"`}},
		{"unknown parent MG", `"name":"prod","parent":"root-mg"`, `"name":"prod","parent":"ghost"`, []string{"managementGroups[1].parent", `"ghost"`}},
		{"MG cycle", `"name":"root-mg","parent":null`, `"name":"root-mg","parent":"prod"`, []string{"cycle"}},
		{"unknown subscription in scope", `"scope":"/subscriptions/` + sub, `"scope":"/subscriptions/eeeeeeee-0000-4000-8000-000000000000`, []string{"roleAssignments[0].scope", "not listed in subscriptions"}},
		{"bad scope", `"scope":"/subscriptions/` + sub + `/resourceGroups/web"`, `"scope":"subscriptions/x"`, []string{"roleAssignments[0].scope", "does not start with /"}},
		{"unknown role", `"roleDefinition":"Reader"`, `"roleDefinition":"Janitor"`, []string{"roleAssignments[0].roleDefinition", `"Janitor"`, "Owner, Contributor, Reader"}},
		{"principal in other tenant", `"principalId":"` + g1 + `","roleDefinition"`, `"principalId":"c0000000-0000-4000-8000-000000000009","roleDefinition"`, []string{"roleAssignments[0].principalId", "not listed in principals of tenant"}},
		{"group member of non-group", `"groupId":"` + g1 + `","memberId":"` + u1 + `"`, `"groupId":"` + u1 + `","memberId":"` + g1 + `"`, []string{"groupMemberships[0].groupId", "not a Group"}},
		{"principal type", `"type":"User"`, `"type":"Robot"`, []string{"principals[0].type", "User, Guest, ServicePrincipal or Group"}},
		{"to before from", `"from":"2026-01-01T00:00:00Z","to":"2026-02-01T00:00:00Z"`, `"from":"2026-01-01T00:00:00Z","to":"2026-01-01T00:00:00Z"`, []string{"links[0].to", "not after from"}},
		{"overlapping links", `"to":"2026-02-01T00:00:00Z"}]`, `"to":"2026-02-01T00:00:00Z"},{"tenantId":"` + tA + `","objectId":"` + u1 + `","partnerId":"1000001","from":"2026-01-31T00:00:00Z","to":null}]`, []string{"links[1]", "at most one link per tenant"}},
		{"duplicate tenant", `"tenantId":"` + tB + `","name":"B"`, `"tenantId":"` + tA + `","name":"B"`, []string{"tenants[1].tenantId", "listed twice"}},
		{"global partner unknown", `"globalPartnerId":null,"homeTenantIds":[],"from":null`, `"globalPartnerId":"999","homeTenantIds":[],"from":null`, []string{"partners[0].globalPartnerId", `"999"`}},
		// Reading is strict where encoding/json is lax: a repeated member
		// (it would take the last), a name in another case, bytes that are
		// not UTF-8 (it would replace them).
		{"repeated member", `"partnerId":"1000001","from":"2026-01-01`, `"partnerId":"1000001","partnerId":"1000001","from":"2026-01-01`, []string{"line 12 column 133", "links[0].partnerId appears twice"}},
		{"repeated section", `"version":1,`, `"version":1,"links":[],`, []string{"links appears twice"}},
		{"name in another case", `"type":"User"`, `"Type":"User"`, []string{`principals[0]: unknown field "Type"`}},
		{"not UTF-8", `"name":"B"`, "\"name\":\"B\xff\"", []string{"tenants[1].name", "not UTF-8"}},
		{"instant not RFC 3339", `"from":"2026-01-01T00:00:00Z","to":"2026-02-01T00:00:00Z"`, `"from":"2026-01-01 00:00","to":"2026-02-01T00:00:00Z"`, []string{"line 12 column 140", "links[0].from", `instant "2026-01-01 00:00" is not RFC 3339`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := base()
			if !strings.Contains(src, c.old) {
				t.Fatalf("test bug: %q not in base", c.old)
			}
			src = strings.Replace(src, c.old, c.new, 1)
			_, err := world.Read(strings.NewReader(src), "bad.json")
			if err == nil {
				t.Fatal("accepted an invalid document")
			}
			for _, w := range c.wantParts {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if !strings.Contains(err.Error(), "bad.json") {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
}

// Validate reports several problems at once, not just the first.
func TestValidateCollectsSeveral(t *testing.T) {
	src := strings.Replace(base(), `"type":"User"`, `"type":"Robot"`, 1)
	src = strings.Replace(src, `"roleDefinition":"Reader"`, `"roleDefinition":"Janitor"`, 1)
	_, err := world.Read(strings.NewReader(src), "bad.json")
	if err == nil || !strings.Contains(err.Error(), "2 problems") || !strings.Contains(err.Error(), "Robot") || !strings.Contains(err.Error(), "Janitor") {
		t.Fatalf("want both problems, got %v", err)
	}
}

// docs/rules.md#azure-attribution: a role can write when an action is "*" or does not end in
// /read, unless notActions remove it; data actions never count.
func TestCanWrite(t *testing.T) {
	cases := []struct {
		name       string
		actions    []string
		notActions []string
		want       bool
	}{
		{"star", []string{"*"}, nil, true},
		{"reader", []string{"*/read"}, nil, false},
		{"read upper case", []string{"Microsoft.Compute/*/READ"}, nil, false},
		{"write action", []string{"Microsoft.Compute/virtualMachines/write"}, nil, true},
		{"contributor notActions do not remove *", []string{"*"}, []string{"Microsoft.Authorization/*/Write"}, true},
		{"fully negated", []string{"Microsoft.Support/*"}, []string{"Microsoft.Support/*"}, false},
		{"negated by star", []string{"Microsoft.Web/sites/write"}, []string{"*"}, false},
		{"negated by wider pattern", []string{"Microsoft.Web/sites/write"}, []string{"microsoft.web/*"}, false},
		{"no actions", nil, nil, false},
		// docs/rules.md, "Incentive eligibility": support requests are not writes.
		{"support only", []string{"Microsoft.Support/*"}, nil, false},
		{"reads and support", []string{"*/read", "Microsoft.Support/*"}, nil, false},
		{"support in another case", []string{"MICROSOFT.SUPPORT/supportTickets/write"}, nil, false},
		{"support beside a write", []string{"Microsoft.Support/*", "Microsoft.Web/sites/write"}, nil, true},
		{"star stays a writer despite a support notAction", []string{"*"}, []string{"Microsoft.Support/*"}, true},
		{"a write taken away, support left", []string{"Microsoft.Web/sites/write", "Microsoft.Support/*"}, []string{"Microsoft.Web/*"}, false},
		{"not quite support", []string{"Microsoft.SupportPlans/write"}, nil, true},
	}
	for _, c := range cases {
		if got := partnerlink.CanWrite(c.actions, c.notActions); got != c.want {
			t.Errorf("%s: CanWrite = %v, want %v", c.name, got, c.want)
		}
	}
	want := map[string]bool{"Owner": true, "Contributor": true, "Reader": false, "User Access Administrator": true, "Cost Management Reader": false, "Billing Reader": false}
	ids := map[string]string{"Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c", "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7", "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "Cost Management Reader": "72fafb9e-0641-4937-9268-a91bfd8191a3", "Billing Reader": "fa23ad8b-c56e-40d8-ac0c-ce449e1d2c64"}
	roles := partnerlink.BuiltinRoles()
	if len(roles) != len(want) {
		t.Fatalf("%d built-in roles, want %d", len(roles), len(want))
	}
	for _, r := range roles {
		if got := partnerlink.CanWrite(r.Actions, r.NotActions); got != want[r.Name] {
			t.Errorf("built-in %s: CanWrite = %v, want %v", r.Name, got, want[r.Name])
		}
		if r.ID != ids[r.Name] {
			t.Errorf("built-in %s: id %s, want %s", r.Name, r.ID, ids[r.Name])
		}
	}
}

// docs/rules.md#identifiers-and-time, docs/api.md#world-document: Write normalizes documents that did not come from Read
// (the server's own state) without changing them.
func TestWriteNormalizesWithoutChanging(t *testing.T) {
	home := "AAAAAAAA-0000-4000-8000-000000000000"
	from := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	doc := &world.Document{Version: 1,
		Tenants:    []world.Tenant{{TenantID: "BBBBBBBB-0000-4000-8000-000000000000", Name: "b"}},
		Principals: []world.Principal{{TenantID: "BBBBBBBB-0000-4000-8000-000000000000", ObjectID: "C0000000-0000-4000-8000-000000000001", Type: "Guest", HomeTenantID: &home, From: &from}},
	}
	var out bytes.Buffer
	if err := world.Write(&out, doc); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"homeTenantId": "aaaaaaaa-0000-4000-8000-000000000000"`, `"from": "2026-03-01T11:00:00Z"`, `"tenantId": "bbbbbbbb-0000-4000-8000-000000000000"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("lacks %s:\n%s", want, out.String())
		}
	}
	if home != "AAAAAAAA-0000-4000-8000-000000000000" || doc.Tenants[0].TenantID[0] != 'B' || doc.Principals[0].From.Location().String() != "CET" {
		t.Error("Write changed the document it was given")
	}
}

// docs/api.md#world-document: every section round-trips: read(any order and case) → write →
// read → write gives the same bytes, sorted, lower-case, UTC, no secret.
func TestRoundTripFull(t *testing.T) {
	in, err := os.ReadFile("testdata/full-unsorted.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := world.Read(bytes.NewReader(in), "full-unsorted.json")
	if err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	if err := world.Write(&first, doc); err != nil {
		t.Fatal(err)
	}
	doc2, err := world.Read(bytes.NewReader(first.Bytes()), "export.json")
	if err != nil {
		t.Fatalf("the export does not read back: %v\n%s", err, first.String())
	}
	var second bytes.Buffer
	if err := world.Write(&second, doc2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Fatalf("export → import → export differs:\n%s\n---\n%s", first.String(), second.String())
	}
	s := first.String()
	for _, want := range []string{`"name": "Contoso <Services> & Co"`, `"from": "2025-12-31T22:00:00.5Z"`, `"appId": "a11ce000-0000-4000-8000-000000000009"`,
		`"roleDefinition": "b24988ac-6180-42a0-ab88-20f7382dd24c"`, `"notActions": []`, `"dataActions": [`} {
		if !strings.Contains(s, want) {
			t.Errorf("export lacks %s", want)
		}
	}
	if strings.Contains(s, "pa55") {
		t.Error("the export contains a secret")
	}
	order := []string{`"partnerId": "1000001"`, `"partnerId": "4711001"`, `"environmentId": "Default-0b5e"`, `"environmentId": "env-prod"`,
		`"id": "f0000000-0000-4000-8000-000000000001"`, `"id": "f0000000-0000-4000-8000-000000000002"`}
	for i := 0; i+1 < len(order); i += 2 {
		if strings.Index(s, order[i]) > strings.Index(s, order[i+1]) {
			t.Errorf("%s should come before %s", order[i], order[i+1])
		}
	}
	// Links of one principal are ordered by from.
	if !strings.Contains(s, `"from": "2026-02-01T00:00:00Z",
   "to": "2026-03-01T00:00:00Z"`) {
		t.Errorf("link periods not written as expected:\n%s", s)
	}
}

// docs/rules.md "Principals: enabled periods": a principal disabled and
// enabled again is listed once per period; the export writes its entries in
// the order of their starts (null first) and round-trips exactly.
func TestPrincipalPeriodsRoundTrip(t *testing.T) {
	entry := func(from, to string) string {
		return `{"tenantId":"` + tA + `","objectId":"` + u1 + `","type":"User","displayName":"u","homeTenantId":null,"appId":null,"cspDelegated":false,"from":` + from + `,"to":` + to + `}`
	}
	src := strings.Replace(base(), entry("null", "null"),
		entry(`"2026-10-20T00:00:00Z"`, "null")+","+entry("null", `"2026-10-10T00:00:00Z"`), 1)
	if src == base() {
		t.Fatal("test bug: the principal entry is not in base")
	}
	doc, err := world.Read(strings.NewReader(src), "reenabled.json")
	if err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	if err := world.Write(&first, doc); err != nil {
		t.Fatal(err)
	}
	want := `"principals": [
  {
   "tenantId": "` + tA + `",
   "objectId": "` + u1 + `",
   "type": "User",
   "displayName": "u",
   "homeTenantId": null,
   "appId": null,
   "cspDelegated": false,
   "from": null,
   "to": "2026-10-10T00:00:00Z"
  },
  {
   "tenantId": "` + tA + `",
   "objectId": "` + u1 + `",
   "type": "User",
   "displayName": "u",
   "homeTenantId": null,
   "appId": null,
   "cspDelegated": false,
   "from": "2026-10-20T00:00:00Z",
   "to": null
  },
  {
   "tenantId": "` + tA + `",
   "objectId": "` + g1 + `",`
	if !strings.Contains(first.String(), want) {
		t.Fatalf("export lacks, in this order:\n%s\ngot:\n%s", want, first.String())
	}
	doc2, err := world.Read(bytes.NewReader(first.Bytes()), "export.json")
	if err != nil {
		t.Fatal(err)
	}
	var second bytes.Buffer
	if err := world.Write(&second, doc2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Fatalf("export → import → export differs:\n%s\n---\n%s", first.String(), second.String())
	}
}
