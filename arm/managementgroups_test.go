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

// The management group tree of these tests, in tenant custT:
//
//	/ ── mg-a ── mg-a-child
//	│     └─ subscription subA
//	├─ mg-b ── mg-b-child
//	│     └─ subscription subB
//	└─ subscription subRoot
const (
	subA    = "f0f0f0f0-0000-4000-8000-00000000000a"
	subB    = "f0f0f0f0-0000-4000-8000-00000000000b"
	subRoot = "f0f0f0f0-0000-4000-8000-00000000000c"

	mgRootOwner = "c0c0c0c0-0000-4000-8000-000000000001" // Owner at the tenant root
	mgOwnerA    = "c0c0c0c0-0000-4000-8000-000000000002" // Owner of mg-a only
	mgOwnerB    = "c0c0c0c0-0000-4000-8000-000000000003" // Owner of mg-b only
	mgOwnerAB   = "c0c0c0c0-0000-4000-8000-000000000004" // Owner of mg-a and of mg-b
	mgMover     = "c0c0c0c0-0000-4000-8000-000000000005" // Owner of subB and of mg-a, not of mg-b
	mgReaderA   = "c0c0c0c0-0000-4000-8000-000000000006" // Reader of mg-a
	mgOutsider  = "c0c0c0c0-0000-4000-8000-000000000007" // Owner at the root of otherT
)

func newMGServer(t *testing.T) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "pl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	since := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	p := func(s string) *string { return &s }
	mg := func(name string) string { return "/providers/Microsoft.Management/managementGroups/" + name }
	doc := &world.Document{Version: 1,
		Tenants: []world.Tenant{{TenantID: custT, Name: "Fabrikam"}, {TenantID: otherT, Name: "Other"}},
		ManagementGroups: []world.ManagementGroup{
			{TenantID: custT, Name: "mg-a"}, {TenantID: custT, Name: "mg-a-child", Parent: p("mg-a")},
			{TenantID: custT, Name: "mg-b"}, {TenantID: custT, Name: "mg-b-child", Parent: p("mg-b")},
			{TenantID: otherT, Name: "mg-b"},
		},
		Subscriptions: []world.Subscription{
			{SubscriptionID: subA, TenantID: custT, Name: "a", ManagementGroup: p("mg-a")},
			{SubscriptionID: subB, TenantID: custT, Name: "b", ManagementGroup: p("mg-b")},
			{SubscriptionID: subRoot, TenantID: custT, Name: "root"},
		},
	}
	held := map[string][][2]string{ // principal → (role, scope)
		mgRootOwner: {{"Owner", "/"}},
		mgOwnerA:    {{"Owner", mg("mg-a")}},
		mgOwnerB:    {{"Owner", mg("mg-b")}},
		mgOwnerAB:   {{"Owner", mg("mg-a")}, {"Owner", mg("mg-b")}},
		mgMover:     {{"Owner", "/subscriptions/" + subB}, {"Owner", mg("mg-a")}},
		mgReaderA:   {{"Reader", mg("mg-a")}},
	}
	toks := tokens{mgOutsider: {TenantID: otherT, ObjectID: mgOutsider}}
	n := 0
	for _, who := range []string{mgRootOwner, mgOwnerA, mgOwnerB, mgOwnerAB, mgMover, mgReaderA} {
		doc.Principals = append(doc.Principals, world.Principal{TenantID: custT, ObjectID: who, Type: "User", DisplayName: who})
		toks[who] = partnerlink.Caller{TenantID: custT, ObjectID: who}
		for _, rs := range held[who] {
			n++
			doc.RoleAssignments = append(doc.RoleAssignments, world.RoleAssignment{TenantID: custT,
				ID: fmt.Sprintf("e1000000-0000-4000-8000-%012d", n), PrincipalID: who, RoleDefinition: rs[0], Scope: rs[1], From: &since})
		}
	}
	doc.Principals = append(doc.Principals, world.Principal{TenantID: otherT, ObjectID: mgOutsider, Type: "User", DisplayName: "outsider"})
	doc.RoleAssignments = append(doc.RoleAssignments, world.RoleAssignment{TenantID: otherT, ID: "e1000000-0000-4000-8000-0000000000ff",
		PrincipalID: mgOutsider, RoleDefinition: "Owner", Scope: "/", From: &since})
	if err := db.ImportWorld(ctx, doc, func(s string) (string, error) { return s, nil }); err != nil {
		t.Fatal(err)
	}
	h := &arm.Handler{Auth: toks, Links: linking.New(db), Directory: db, Roles: db, BaseURL: "https://127.0.0.1",
		Now: func() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}

const mgAPI = "?api-version=2021-04-01"

func parentBody(name string) string {
	return `{"properties":{"details":{"parent":{"id":"/providers/Microsoft.Management/managementGroups/` + name + `"}}}}`
}

// mgParentOf returns the parent the server reports for a group ("" for
// the root), read as the root owner.
func mgParentOf(t *testing.T, srv *httptest.Server, name string) string {
	t.Helper()
	r := do(t, srv, "GET", "/providers/Microsoft.Management/managementGroups/"+name+mgAPI, mgRootOwner, nil)
	var body struct {
		Properties struct {
			Details struct{ Parent struct{ Name string } }
		}
	}
	if err := json.Unmarshal(r.body, &body); err != nil || r.status != 200 {
		t.Fatalf("GET %s: %d %s", name, r.status, r.body)
	}
	return body.Properties.Details.Parent.Name
}

func armMessage(t *testing.T, r reply) string {
	t.Helper()
	var e web.ErrorBody
	json.Unmarshal(r.body, &e)
	return e.Error.Message
}

// Issue 11 item 1: moving an existing group needs write at the group, at
// its old parent and at its new parent; creating one needs write at the
// parent; a group never moves under itself or a descendant.
func TestManagementGroupMoveAuthorization(t *testing.T) {
	srv := newMGServer(t)
	const path = "/providers/Microsoft.Management/managementGroups/"
	cases := []struct {
		name, who, group, body string
		status                 int
		code                   string
		parentAfter            string // the group's parent afterwards ("" = root)
	}{
		// The probe's finding: Owner of mg-a pulls mg-b under mg-a.
		{"take over another group", mgOwnerA, "mg-b", parentBody("mg-a"), 403, "AuthorizationFailed", ""},
		{"owner of the target group only", mgOwnerB, "mg-a", parentBody("mg-b"), 403, "AuthorizationFailed", ""},
		{"no write at the new parent", mgOwnerA, "mg-a-child", parentBody("mg-b"), 403, "AuthorizationFailed", "mg-a"},
		{"no write at the old parent (the root)", mgOwnerAB, "mg-a", parentBody("mg-b"), 403, "AuthorizationFailed", ""},
		{"reader", mgReaderA, "mg-a-child", parentBody("mg-a"), 403, "AuthorizationFailed", "mg-a"},
		{"update in place", mgOwnerA, "mg-a-child", parentBody("mg-a"), 200, "", "mg-a"},
		{"move between two groups it owns", mgOwnerAB, "mg-b-child", parentBody("mg-a"), 200, "", "mg-a"},
		{"under itself", mgRootOwner, "mg-a", parentBody("mg-a"), 400, "BadRequest", ""},
		{"under its descendant", mgRootOwner, "mg-a", parentBody("mg-b-child"), 400, "BadRequest", ""},
		{"to the root, as the root owner", mgRootOwner, "mg-b-child", `{}`, 200, "", ""},
		{"unknown parent", mgRootOwner, "mg-new", parentBody("nope"), 400, "BadRequest", ""},
		{"create under a group it owns", mgOwnerA, "mg-a-new", parentBody("mg-a"), 200, "", "mg-a"},
		{"create at the root", mgOwnerA, "mg-top", `{}`, 403, "AuthorizationFailed", ""},
		{"other tenant's group of the same name", mgOutsider, "mg-b", parentBody("mg-a"), 400, "BadRequest", ""},
	}
	for _, tc := range cases {
		r := do(t, srv, "PUT", path+tc.group+mgAPI, tc.who, strings.NewReader(tc.body))
		if r.status != tc.status || (tc.code != "" && armCode(t, r) != tc.code) {
			t.Errorf("%s: %d %s, want %d %s", tc.name, r.status, r.body, tc.status, tc.code)
		}
		if tc.status == 200 || tc.group == "mg-a" || tc.group == "mg-b" || tc.group == "mg-a-child" {
			if got := mgParentOf(t, srv, tc.group); got != tc.parentAfter {
				t.Errorf("%s: %s's parent afterwards = %q, want %q", tc.name, tc.group, got, tc.parentAfter)
			}
		}
	}
	r := do(t, srv, "PUT", path+"mg-a"+mgAPI, mgRootOwner, strings.NewReader(parentBody("MG-A-CHILD")))
	if want := "properties.details.parent.id: management group 'mg-a' cannot be placed under 'mg-a-child', which is the group itself or one of its descendants; management groups form a tree."; armMessage(t, r) != want {
		t.Errorf("cycle message = %q, want %q", armMessage(t, r), want)
	}
	// A group is found whatever the casing and keeps its name.
	r = do(t, srv, "PUT", path+"MG-A-Child"+mgAPI, mgOwnerA, strings.NewReader(parentBody("MG-A")))
	if r.status != 200 || !strings.Contains(string(r.body), `"name":"mg-a-child"`) || !strings.Contains(string(r.body), `"name":"mg-a"}`) {
		t.Errorf("update in another casing: %d %s", r.status, r.body)
	}
}

// Issue 11 item 1: moving a subscription needs write at the subscription,
// at its current parent (the root when none) and at the new group.
func TestManagementGroupSubscriptionMoveAuthorization(t *testing.T) {
	srv := newMGServer(t)
	move := func(who, group, sub string) reply {
		return do(t, srv, "PUT", "/providers/Microsoft.Management/managementGroups/"+group+"/subscriptions/"+sub+mgAPI, who, nil)
	}
	cases := []struct {
		name, who, group, sub string
		status                int
		code                  string
	}{
		{"no write at the subscription", mgOwnerA, "mg-a", subB, 403, "AuthorizationFailed"},
		{"no write at the old parent", mgMover, "mg-a", subB, 403, "AuthorizationFailed"},
		{"no write at the new group", mgOwnerB, "mg-a", subB, 403, "AuthorizationFailed"},
		{"a subscription at the root", mgOwnerAB, "mg-a", subRoot, 403, "AuthorizationFailed"},
		{"unknown group", mgRootOwner, "nope", subA, 404, "NotFound"},
		{"another tenant's subscription", mgOutsider, "mg-b", subA, 401, "InvalidAuthenticationTokenTenant"},
		{"bad group name", mgRootOwner, "bad%20name", subA, 400, "BadRequest"},
		{"write at all three", mgOwnerAB, "MG-A", subB, 200, ""},
	}
	for _, tc := range cases {
		r := move(tc.who, tc.group, tc.sub)
		if r.status != tc.status || (tc.code != "" && armCode(t, r) != tc.code) {
			t.Errorf("%s: %d %s, want %d %s", tc.name, r.status, r.body, tc.status, tc.code)
		}
	}
	// After the last case subB sits under mg-a (named as stored): mg-b's
	// owner no longer reaches it, mg-a's does.
	r := do(t, srv, "GET", "/subscriptions/"+subB+"/providers/Microsoft.Authorization/roleAssignments"+av+"&$filter=atScope()", mgOwnerA, nil)
	if r.status != 200 {
		t.Errorf("mg-a's owner reads subB's assignments after the move: %d %s", r.status, r.body)
	}
	r = do(t, srv, "GET", "/subscriptions/"+subB+"/providers/Microsoft.Authorization/roleAssignments"+av+"&$filter=atScope()", mgOwnerB, nil)
	if r.status != 403 {
		t.Errorf("mg-b's owner reads subB's assignments after the move: %d %s", r.status, r.body)
	}
}

// Issue 11 item 3: management group names are Azure's: 1–90 characters of
// ASCII letters, digits, -, _, (, ) and ., not ending in '.'.
func TestManagementGroupNames(t *testing.T) {
	srv := newMGServer(t)
	put := func(name, body string) reply {
		return do(t, srv, "PUT", "/providers/Microsoft.Management/managementGroups/"+name+mgAPI, mgRootOwner, strings.NewReader(body))
	}
	ok := []string{"a", strings.Repeat("x", 90), "Ok_(x).y-1"}
	for _, name := range ok {
		if r := put(name, `{}`); r.status != 200 {
			t.Errorf("name %q: %d %s, want 200", name, r.status, r.body)
		}
	}
	const rule = "expected 1 to 90 characters, each an ASCII letter, a digit, '-', '_', '(', ')' or '.', not ending with '.'."
	const where = "the management group name in the path (managementGroups/{groupId}): "
	bad := map[string]string{
		strings.Repeat("y", 10000): where + `the management group name "` + strings.Repeat("y", 40) + `"… has 10000 characters; ` + rule,
		strings.Repeat("y", 91):    where + `the management group name "` + strings.Repeat("y", 40) + `"… has 91 characters; ` + rule,
		"nul%00byte":               where + `the management group name "nul\x00byte" has '\x00' at position 4; ` + rule,
		"with%20space":             where + `the management group name "with space" has ' ' at position 5; ` + rule,
		"dot.":                     where + `the management group name "dot." ends with '.'; ` + rule,
		"caf%C3%A9":                where + `the management group name "café" has 'é' at position 4; ` + rule,
	}
	for name, want := range bad {
		r := put(name, `{}`)
		if r.status != 400 || armCode(t, r) != "BadRequest" || armMessage(t, r) != want {
			t.Errorf("name %.20q: %d %.300s, want 400 BadRequest %q", name, r.status, r.body, want)
		}
	}
	r := put("fine", parentBody("bad.")) // the parent's name is checked too
	if want := "properties.details.parent.id: the management group name \"bad.\" ends with '.'; " + rule; r.status != 400 || armMessage(t, r) != want {
		t.Errorf("bad parent name: %d %s, want 400 %q", r.status, r.body, want)
	}
}
