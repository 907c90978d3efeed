package server

// The negative authorization matrix (docs/api.md, "Authorization"): every
// endpoint of the ARM surface, /api/v1 and the server's own, called by
// every kind of caller, each with the status it must get. The routes are
// taken from the handlers, so an endpoint added without a row fails the
// test.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"

	"golang.org/x/crypto/bcrypt"

	"github.com/partnerlink/partnerlink/world"
)

// Callers: the columns of the matrix.
const (
	anon    = iota // no Authorization header
	admin          // the admin key as a bearer token
	other          // a service principal of tenant B, Owner at B's root
	none           // a service principal of tenant A without any role
	rdRoot         // Reader at A's root
	conRoot        // Contributor at A's root
	uaaRoot        // User Access Administrator at A's root
	ownRoot        // Owner at A's root
	ownMG          // Owner at management group mg-a (above subscription S1)
	rdSub          // Reader at S1
	conSub         // Contributor at S1
	uaaSub         // User Access Administrator at S1
	grpSub         // member of group G, which is Owner at S1
	ownRG          // Owner at resource group rg1 of S1 (below S1)
	partner        // a service principal of tenant P, the partner organization's home, Owner at P's root
	ppOwner        // a user of tenant A without roles, owner (publisher) of the Power Platform resources
	nCallers
)

var callerNames = [nCallers]string{"anon", "admin", "other", "none", "rdRoot", "conRoot", "uaaRoot", "ownRoot",
	"ownMG", "rdSub", "conSub", "uaaSub", "grpSub", "ownRG", "partner", "ppOwner"}

// st is a row's expected statuses, one per caller, in the order above.
type st [nCallers]int

const (
	mxTenantA = "a0000000-0000-4000-8000-00000000000a"
	mxTenantB = "b0000000-0000-4000-8000-00000000000b"
	mxTenantP = "c0000000-0000-4000-8000-00000000000c"
	mxSub1    = "5a000000-0000-4000-8000-000000000001" // in mg-a
	mxSub2    = "5a000000-0000-4000-8000-000000000002" // in mg-b
	mxSubB    = "5b000000-0000-4000-8000-000000000001" // tenant B's
	mxGroup   = "a1000000-0000-4000-8000-0000000000f0" // G, Owner at S1
	mxGroup2  = "a1000000-0000-4000-8000-0000000000f1" // a group without roles
	mxSpare   = "a1000000-0000-4000-8000-0000000000f2" // holds the assignment the DELETE row ends
	mxCoUser  = "a1000000-0000-4000-8000-0000000000f3" // a user, the co-owner and new owner in the Power Platform rows
	mxPartner = "2000001"                              // Contoso's ID, home tenant P
	mxOther   = "3000001"                              // another partner, linked by nobody
	mxDeleg   = "dd000000-0000-4000-8000-000000000001" // a delegation of S1 to the partner's principal
	mxRA      = "e0000000-0000-4000-8000-0000000000aa" // conSub's role assignment at S1
	mxRADel   = "e0000000-0000-4000-8000-0000000000dd" // the assignment the DELETE row ends
	mxBRole   = "bb000000-0000-4000-8000-0000000000b1" // tenant B's custom role
	readerID  = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	ppPass    = "pp-owner-password-1"
)

var mxSince = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// oid is the object id of a caller's principal, appID its application id.
func oid(c int) string   { return fmt.Sprintf("a1000000-0000-4000-8000-0000000000%02d", c) }
func appID(c int) string { return fmt.Sprintf("a2000000-0000-4000-8000-0000000000%02d", c) }

// tenantOf is the tenant a caller signs in to.
func tenantOf(c int) string {
	switch c {
	case other:
		return mxTenantB
	case partner:
		return mxTenantP
	}
	return mxTenantA
}

// matrixWorld is the small world of the matrix.
func matrixWorld() *world.Document {
	p := func(s string) *string { return &s }
	since := mxSince
	doc := &world.Document{Version: world.CurrentVersion,
		Partners: []world.Partner{
			{PartnerID: mxPartner, Name: "Contoso", HomeTenantIDs: []string{mxTenantP}, From: &since},
			{PartnerID: mxOther, Name: "Other", HomeTenantIDs: []string{mxTenantB}, From: &since},
		},
		Tenants:          []world.Tenant{{TenantID: mxTenantA, Name: "A"}, {TenantID: mxTenantB, Name: "B"}, {TenantID: mxTenantP, Name: "P"}},
		ManagementGroups: []world.ManagementGroup{{TenantID: mxTenantA, Name: "mg-a"}, {TenantID: mxTenantA, Name: "mg-b"}},
		Subscriptions: []world.Subscription{
			{SubscriptionID: mxSub1, TenantID: mxTenantA, Name: "S1", ManagementGroup: p("mg-a")},
			{SubscriptionID: mxSub2, TenantID: mxTenantA, Name: "S2", ManagementGroup: p("mg-b")},
			{SubscriptionID: mxSubB, TenantID: mxTenantB, Name: "SB"},
		},
		Principals: []world.Principal{
			{TenantID: mxTenantA, ObjectID: mxGroup, Type: "Group", DisplayName: "G", From: &since},
			{TenantID: mxTenantA, ObjectID: mxGroup2, Type: "Group", DisplayName: "G2", From: &since},
			{TenantID: mxTenantA, ObjectID: mxSpare, Type: "ServicePrincipal", DisplayName: "spare", AppID: p("a2000000-0000-4000-8000-0000000000f2"), From: &since},
			{TenantID: mxTenantA, ObjectID: mxCoUser, Type: "User", DisplayName: "co@a.example", From: &since},
			{TenantID: mxTenantA, ObjectID: oid(ppOwner), Type: "User", DisplayName: "ppowner@a.example", From: &since, Secret: ppPass},
		},
		GroupMemberships: []world.GroupMembership{{TenantID: mxTenantA, GroupID: mxGroup, MemberID: oid(grpSub), From: &since}},
		RoleDefinitions:  []world.RoleDefinition{},
		Delegations:      []world.Delegation{},
		Links:            []world.Link{},
		Environments:     []world.Environment{{TenantID: mxTenantA, EnvironmentID: "env1", Type: "Production"}},
	}
	for c := other; c < nCallers; c++ {
		if c == ppOwner {
			continue
		}
		doc.Principals = append(doc.Principals, world.Principal{TenantID: tenantOf(c), ObjectID: oid(c), Type: "ServicePrincipal",
			DisplayName: callerNames[c], AppID: p(appID(c)), HomeTenantID: p(tenantOf(c)), From: &since, Secret: "secret-" + callerNames[c]})
	}
	ra := func(id, principal, role, scope, tenant string) world.RoleAssignment {
		return world.RoleAssignment{TenantID: tenant, ID: id, PrincipalID: principal, RoleDefinition: role, Scope: scope, From: &since}
	}
	sub1, rg1 := "/subscriptions/"+mxSub1, "/subscriptions/"+mxSub1+"/resourceGroups/rg1"
	doc.RoleAssignments = []world.RoleAssignment{
		ra("e0000000-0000-4000-8000-000000000002", oid(other), "Owner", "/", mxTenantB),
		ra("e0000000-0000-4000-8000-000000000004", oid(rdRoot), "Reader", "/", mxTenantA),
		ra("e0000000-0000-4000-8000-000000000005", oid(conRoot), "Contributor", "/", mxTenantA),
		ra("e0000000-0000-4000-8000-000000000006", oid(uaaRoot), "User Access Administrator", "/", mxTenantA),
		ra("e0000000-0000-4000-8000-000000000007", oid(ownRoot), "Owner", "/", mxTenantA),
		ra("e0000000-0000-4000-8000-000000000008", oid(ownMG), "Owner", "/providers/Microsoft.Management/managementGroups/mg-a", mxTenantA),
		ra("e0000000-0000-4000-8000-000000000009", oid(rdSub), "Reader", sub1, mxTenantA),
		ra(mxRA, oid(conSub), "Contributor", sub1, mxTenantA),
		ra("e0000000-0000-4000-8000-000000000011", oid(uaaSub), "User Access Administrator", sub1, mxTenantA),
		ra("e0000000-0000-4000-8000-000000000012", mxGroup, "Owner", sub1, mxTenantA),
		ra("e0000000-0000-4000-8000-000000000013", oid(ownRG), "Owner", rg1, mxTenantA),
		ra("e0000000-0000-4000-8000-000000000014", oid(partner), "Owner", "/", mxTenantP),
		ra(mxRADel, mxSpare, "Reader", sub1, mxTenantA),
	}
	// Power Platform: for each caller its own resources, owned (published)
	// by ppOwner, so that one caller's change does not change another's row.
	doc.PowerPlatformResources = []world.PowerPlatformResource{{TenantID: mxTenantA, EnvironmentID: "env1", ID: "app1", Kind: "CanvasApp", Paid: true}}
	doc.Ownership = []world.Ownership{{ResourceID: "app1", PrincipalID: oid(ppOwner), Role: "Owner", From: &since}}
	for c := 0; c < nCallers; c++ {
		res := func(prefix, kind string, roles ...[2]string) {
			id := fmt.Sprintf("%s-%02d", prefix, c)
			doc.PowerPlatformResources = append(doc.PowerPlatformResources, world.PowerPlatformResource{TenantID: mxTenantA,
				EnvironmentID: "env1", ID: id, Kind: kind, Paid: true})
			for _, r := range roles {
				doc.Ownership = append(doc.Ownership, world.Ownership{ResourceID: id, PrincipalID: r[0], Role: r[1], From: &since})
			}
		}
		owner := [2]string{oid(ppOwner), "Owner"}
		res("flow", "Flow", owner, [2]string{oid(ppOwner), "Creator"})
		res("add", "CanvasApp", owner)
		res("rm", "CanvasApp", owner, [2]string{mxCoUser, "CoOwner"})
		res("ds", "PowerBIDataset", [2]string{oid(ppOwner), "Publisher"})
		res("sol", "Flow", owner, [2]string{oid(ppOwner), "Creator"})
	}
	return doc
}

// matrix is the server under test with a token per caller.
type matrix struct {
	t      *testing.T
	srv    *Server
	h      http.Handler
	tokens [nCallers]string
}

func newMatrix(t *testing.T) *matrix {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	srv, err := Open(ctx, Config{DataDir: dir, Addr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	doc := matrixWorld()
	world.Normalize(doc)
	if err := world.Validate(doc); err != nil {
		t.Fatalf("matrix world: %v", err)
	}
	cheap := func(s string) (string, error) {
		b, err := bcrypt.GenerateFromPassword([]byte(s), bcrypt.MinCost)
		return string(b), err
	}
	if err := srv.DB.ImportWorld(ctx, doc, cheap); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.DB.PutResourceGroup(ctx, partnerlink.ResourceGroup{SubscriptionID: mxSub1, Name: "rg1", Location: "westeurope"}); err != nil {
		t.Fatal(err)
	}
	m := &matrix{t: t, srv: srv, h: srv.http.Handler}
	key, err := os.ReadFile(AdminKeyFile(dir))
	if err != nil {
		t.Fatal(err)
	}
	m.tokens[admin] = strings.TrimSpace(string(key))
	for c := other; c < nCallers; c++ {
		form := "grant_type=client_credentials&client_id=" + appID(c) + "&client_secret=secret-" + callerNames[c] +
			"&scope=https%3A%2F%2Fmanagement.core.windows.net%2F%2F.default"
		if c == ppOwner {
			form = "grant_type=password&client_id=04b07795-8ddb-461a-bbee-02f9e1bf7b46&username=ppowner@a.example&password=" + ppPass +
				"&scope=https%3A%2F%2Fmanagement.core.windows.net%2F%2F.default"
		}
		req := httptest.NewRequest("POST", srv.URL+"/"+tenantOf(c)+"/oauth2/v2.0/token", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		m.h.ServeHTTP(rec, req)
		var tr struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &tr); err != nil || tr.AccessToken == "" {
			t.Fatalf("token of %s: %d %s", callerNames[c], rec.Code, rec.Body)
		}
		m.tokens[c] = tr.AccessToken
	}
	// Tenant B's custom role, made by B's Owner, and an attribution run
	// for the credit views.
	if code, body := m.do(other, "PUT", "/providers/Microsoft.Authorization/roleDefinitions/"+mxBRole+"?api-version=2022-04-01",
		`{"properties":{"roleName":"B operator","permissions":[{"actions":["Microsoft.Compute/*"],"notActions":[]}]}}`); code != 201 {
		t.Fatalf("B's custom role: %d %s", code, body)
	}
	if code, body := m.do(admin, "POST", "/api/v1/admin/runs", `{"from":"2026-01-01","to":"2026-02-01"}`); code != 200 {
		t.Fatalf("attribution run: %d %s", code, body)
	}
	if code, body := m.do(admin, "POST", "/api/v1/admin/closes", `{"month":"2026-01","early":true}`); code != 200 {
		t.Fatalf("close of January: %d %s", code, body)
	}
	return m
}

// do sends one request as caller c through the server's handler.
func (m *matrix) do(c int, method, path, body string) (int, string) {
	req := httptest.NewRequest(method, m.srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c != anon {
		req.Header.Set("Authorization", "Bearer "+m.tokens[c])
	}
	rec := httptest.NewRecorder()
	m.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// row is one endpoint called with one request by every caller. In path and
// body, {c} is replaced by the caller's number and {self} by its object id,
// for requests that must not collide between callers. before runs before
// each caller's request.
type row struct {
	method, route string
	path, body    string
	before        func(m *matrix)
	want          st
}

const (
	av  = "?api-version=2022-04-01"
	mpv = "?api-version=2018-02-01"
	rsv = "?api-version=2021-04-01"
	mgv = "?api-version=2020-05-01"

	authz   = "{scope}/providers/Microsoft.Authorization/"
	mgRoute = "/providers/Microsoft.Management/managementGroups/{group}"
	mpRoute = "/providers/Microsoft.ManagementPartner/"
	rgRoute = "/subscriptions/{subscriptionId}/resourceGroups"
	tRoute  = "/api/v1/tenants/{tenant}/"
	pRoute  = "/api/v1/partners/{partner}/"
	envRt   = "/api/v1/tenants/{tenant}/environments/{env}"
	resRt   = "/api/v1/tenants/{tenant}/environments/{env}/resources/{id}"
	admRt   = "/api/v1/admin/"

	sub1    = "/subscriptions/" + mxSub1
	tA      = "/api/v1/tenants/" + mxTenantA + "/"
	pP      = "/api/v1/partners/" + mxPartner + "/"
	env1    = tA + "environments/env1"
	resA    = "/subscriptions/" + mxSub1 + "/resourceGroups/rg1/providers/Microsoft.Web/sites/shop"
	mgAID   = "/providers/Microsoft.Management/managementGroups/mg-a"
	delegPt = tA + "delegations/" + mxDeleg
)

func matrixRows() []row {
	ensureDelegation := func(m *matrix) {
		ctx := context.Background()
		dls, err := m.srv.DB.Delegations(ctx, mxTenantA, true)
		if err != nil {
			m.t.Fatal(err)
		}
		for _, d := range dls {
			if d.ID == mxDeleg {
				return
			}
		}
		now := time.Now().UTC()
		if err := m.srv.DB.PutDelegation(ctx, partnerlink.Delegation{ID: mxDeleg, CustomerTenantID: mxTenantA, ManagingTenantID: mxTenantP,
			Scope: sub1, PrincipalID: oid(partner), RoleDefinition: "Reader", Period: partnerlink.Period{From: now}}); err != nil {
			m.t.Fatal(err)
		}
	}
	ensureAssignment := func(m *matrix) {
		now := time.Now().UTC()
		if _, err := m.srv.DB.CreateRoleAssignment(context.Background(), partnerlink.RoleAssignment{TenantID: mxTenantA, ID: mxRADel,
			PrincipalID: mxSpare, RoleDefinition: "Reader", Scope: sub1, Period: partnerlink.Period{From: now}}, "matrix",
			func(sameID, sameGrant []partnerlink.RoleAssignment) (bool, error) {
				return len(sameID) == 0 && len(sameGrant) == 0, nil
			}); err != nil {
			m.t.Fatal(err)
		}
	}
	// mg-b back under the root, and S2 back in mg-b, before each move.
	resetGroups := func(m *matrix) {
		ctx := context.Background()
		if err := m.srv.DB.PutManagementGroup(ctx, partnerlink.ManagementGroup{TenantID: mxTenantA, Name: "mg-b"}); err != nil {
			m.t.Fatal(err)
		}
		s, err := m.srv.DB.Subscription(ctx, mxSub2)
		if err != nil {
			m.t.Fatal(err)
		}
		s.ManagementGroup = "mg-b"
		if err := m.srv.DB.PutSubscription(ctx, *s); err != nil {
			m.t.Fatal(err)
		}
	}
	raBody := `{"properties":{"roleDefinitionId":"/providers/Microsoft.Authorization/roleDefinitions/` + readerID + `","principalId":"{self}"}}`
	rdBody := `{"properties":{"roleName":"custom {c}","permissions":[{"actions":["Microsoft.Web/*/read"],"notActions":[]}]}}`
	delegBody := `{"managingTenantId":"` + mxTenantP + `","scope":"` + sub1 + `","principalId":"` + oid(partner) + `","roleDefinition":"Reader"}`

	return []row{
		// The server's own.
		//                                                                                anon admin other none rdR conR uaaR ownR ownMG rdS conS uaaS grpS ownRG prtn ppOwn
		{"GET", "/healthz", "/healthz", "", nil, st{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/metrics", "/metrics", "", nil, st{401, 200, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},

		// Microsoft.ManagementPartner: each principal its own link.
		{"PUT", mpRoute + "partners/{partnerId}", "/providers/Microsoft.ManagementPartner/partners/" + mxPartner + mpv, "", nil,
			st{401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", mpRoute + "partners/{partnerId}", "/providers/Microsoft.ManagementPartner/partners/" + mxPartner + mpv, "", nil,
			st{401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
		// Nobody's link is to another partner ID.
		{"GET", mpRoute + "partners/{partnerId}", "/providers/Microsoft.ManagementPartner/partners/" + mxOther + mpv, "", nil,
			st{401, 401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404}},
		{"GET", mpRoute + "partners", "/providers/Microsoft.ManagementPartner/partners" + mpv, "", nil,
			st{401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"PATCH", mpRoute + "partners/{partnerId}", "/providers/Microsoft.ManagementPartner/partners/" + mxPartner + mpv, "", nil,
			st{401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", mpRoute + "operations", "/providers/Microsoft.ManagementPartner/operations" + mpv, "", nil,
			st{401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"DELETE", mpRoute + "partners/{partnerId}", "/providers/Microsoft.ManagementPartner/partners/" + mxPartner + mpv, "", nil,
			st{401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},

		// Microsoft.Authorization at S1: read there or above; write only
		// with Owner or User Access Administrator there or above. Callers of
		// another tenant get InvalidAuthenticationTokenTenant.
		//                                                                                anon admin other none rdR conR uaaR ownR ownMG rdS conS uaaS grpS ownRG prtn ppOwn
		{"GET", authz + "roleAssignments", sub1 + "/providers/Microsoft.Authorization/roleAssignments" + av, "", nil,
			st{401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 401, 403}},
		{"GET", authz + "roleAssignments/{roleAssignmentId}", sub1 + "/providers/Microsoft.Authorization/roleAssignments/" + mxRA + av, "", nil,
			st{401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 401, 403}},
		{"PUT", authz + "roleAssignments/{roleAssignmentId}", sub1 + "/providers/Microsoft.Authorization/roleAssignments/e1000000-0000-4000-8000-0000000000{c}" + av, raBody, nil,
			st{401, 401, 401, 403, 403, 403, 201, 201, 201, 403, 403, 201, 201, 403, 401, 403}},
		{"DELETE", authz + "roleAssignments/{roleAssignmentId}", sub1 + "/providers/Microsoft.Authorization/roleAssignments/" + mxRADel + av, "", ensureAssignment,
			st{401, 401, 401, 403, 403, 403, 200, 200, 200, 403, 403, 200, 200, 403, 401, 403}},
		// A scope of another tenant is refused as for every ARM scope (docs/api.md).
		{"GET", authz + "roleDefinitions", sub1 + "/providers/Microsoft.Authorization/roleDefinitions" + av, "", nil,
			st{401, 401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 200}},
		{"GET", authz + "roleDefinitions/{roleDefinitionId}", sub1 + "/providers/Microsoft.Authorization/roleDefinitions/" + readerID + av, "", nil,
			st{401, 401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 200}},
		// Tenant B's custom role is B's alone.
		{"GET", authz + "roleDefinitions/{roleDefinitionId}", "/providers/Microsoft.Authorization/roleDefinitions/" + mxBRole + av, "", nil,
			st{401, 401, 200, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404}},
		{"PUT", authz + "roleDefinitions/{roleDefinitionId}", sub1 + "/providers/Microsoft.Authorization/roleDefinitions/e2000000-0000-4000-8000-0000000000{c}" + av, rdBody, nil,
			st{401, 401, 401, 403, 403, 403, 201, 201, 201, 403, 403, 201, 201, 403, 401, 403}},
		// Nobody outside B overwrites B's custom role: role ids are per tenant,
		// so a writer of another tenant creates its own role under that id
		// (201) and B's is untouched (checked after the table).
		{"PUT", authz + "roleDefinitions/{roleDefinitionId}", "/providers/Microsoft.Authorization/roleDefinitions/" + mxBRole + av,
			`{"properties":{"roleName":"B operator","permissions":[{"actions":["*"],"notActions":[]}]}}`, nil,
			st{401, 401, 201, 403, 403, 403, 201, 201, 403, 403, 403, 403, 403, 403, 201, 403}},

		// Subscriptions and resource providers: visible with any role at,
		// above or below the subscription; registering needs
		// {namespace}/register/action there.
		//                                                                                anon admin other none rdR conR uaaR ownR ownMG rdS conS uaaS grpS ownRG prtn ppOwn
		{"GET", "/subscriptions", "/subscriptions" + rsv, "", nil,
			st{401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/subscriptions/{subscriptionId}", sub1 + rsv, "", nil,
			st{401, 401, 404, 404, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404}},
		{"GET", "/subscriptions/{subscriptionId}/providers/{namespace}", sub1 + "/providers/Microsoft.Web" + rsv, "", nil,
			st{401, 401, 404, 404, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404}},
		{"POST", "/subscriptions/{subscriptionId}/providers/{namespace}/register", sub1 + "/providers/Microsoft.Web/register" + rsv, "", nil,
			st{401, 401, 404, 404, 403, 200, 403, 200, 200, 403, 200, 403, 200, 403, 404, 404}},
		{"GET", rgRoute, sub1 + "/resourceGroups" + rsv, "", nil,
			st{401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 401, 403}},
		{"GET", rgRoute + "/{resourceGroup}", sub1 + "/resourceGroups/rg1" + rsv, "", nil,
			st{401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401, 403}},
		// The existence check (az group exists): as GET, 204 for a group
		// that exists; 404 for one that does not, to callers who may read.
		{"HEAD", rgRoute + "/{resourceGroup}", sub1 + "/resourceGroups/rg1" + rsv, "", nil,
			st{401, 401, 401, 403, 204, 204, 204, 204, 204, 204, 204, 204, 204, 204, 401, 403}},
		{"HEAD", rgRoute + "/{resourceGroup}", sub1 + "/resourceGroups/no-such-rg" + rsv, "", nil,
			st{401, 401, 401, 403, 404, 404, 404, 404, 404, 404, 404, 404, 404, 403, 401, 403}},
		{"PUT", rgRoute + "/{resourceGroup}", sub1 + "/resourceGroups/rg1" + rsv, `{"location":"westeurope"}`, nil,
			st{401, 401, 401, 403, 403, 200, 403, 200, 200, 403, 200, 403, 200, 200, 401, 403}},
		{"GET", "/tenants", "/tenants" + rsv, "", nil,
			st{401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},

		// /api/v1, the customer's views: a role that reads at the tenant root.
		//                                                                                anon admin other none rdR conR uaaR ownR ownMG rdS conS uaaS grpS ownRG prtn ppOwn
		{"GET", tRoute + "links", tA + "links", "", nil,
			st{401, 401, 403, 403, 200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403}},
		{"GET", tRoute + "link-events", tA + "link-events", "", nil,
			st{401, 401, 403, 403, 200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403}},
		{"GET", tRoute + "notifications", tA + "notifications", "", nil,
			st{401, 401, 403, 403, 200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403}},
		{"GET", tRoute + "credits", tA + "credits", "", nil,
			st{401, 401, 403, 403, 200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403}},
		{"GET", tRoute + "reports/{month}", tA + "reports/2026-01?format=csv", "", nil,
			st{401, 401, 403, 403, 200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403}},
		{"GET", tRoute + "explain", tA + "explain?partner=" + mxPartner + "&resource=" + resA + "&day=2026-01-15", "", nil,
			st{401, 401, 403, 403, 200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403}},
		{"GET", tRoute + "delegations", tA + "delegations", "", nil,
			st{401, 401, 403, 403, 200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403}},
		// The webhook: Owner or User Access Administrator at the root.
		{"PUT", tRoute + "webhook", tA + "webhook", `{"url":"https://93.184.216.34/partnerlink","secret":"matrix-webhook-secret"}`, nil,
			st{401, 401, 403, 403, 403, 403, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403}},
		// Delegations of S1: Owner or User Access Administrator at S1 or above.
		{"PUT", tRoute + "delegations/{id}", delegPt, delegBody, nil,
			st{401, 401, 403, 403, 403, 403, 200, 200, 200, 403, 403, 200, 200, 403, 403, 403}},
		{"DELETE", tRoute + "delegations/{id}", delegPt, "", ensureDelegation,
			st{401, 401, 403, 403, 403, 403, 200, 200, 200, 403, 403, 200, 200, 403, 403, 403}},

		// The partner's views: principals of the organization's home tenants.
		//                                                                                anon admin other none rdR conR uaaR ownR ownMG rdS conS uaaS grpS ownRG prtn ppOwn
		{"GET", pRoute + "links", pP + "links", "", nil,
			st{401, 401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403}},
		{"GET", pRoute + "link-events", pP + "link-events", "", nil,
			st{401, 401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403}},
		{"GET", pRoute + "credits", pP + "credits", "", nil,
			st{401, 401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403}},
		{"GET", pRoute + "reports/{month}", pP + "reports/2026-01?format=partner-center", "", nil,
			st{401, 401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403}},
		{"GET", pRoute + "reports/{month}/unlinked", pP + "reports/2026-01/unlinked", "", nil,
			st{401, 401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403}},
		{"GET", pRoute + "explain", pP + "explain?resource=" + resA + "&day=2026-01-15", "", nil,
			st{401, 401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403}},
		{"GET", pRoute + "powerplatform/credits", pP + "powerplatform/credits?from=2026-01-01&to=2026-02-01", "", nil,
			st{401, 401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403}},
		{"GET", pRoute + "powerplatform/at-risk", pP + "powerplatform/at-risk?from=2026-01-01&to=2026-02-01", "", nil,
			st{401, 401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403}},
		{"GET", "/api/v1/me", "/api/v1/me", "", nil,
			st{401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
		// Which months are closed: any token (the portal's month choice).
		{"GET", "/api/v1/reports", "/api/v1/reports", "", nil,
			st{401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},

		// Power Platform: the tenant's administrators (write at the root)
		// register; readers at the root read; ownership changes by the
		// resource's owner (publisher) or the administrators.
		//                                                                                anon admin other none rdR conR uaaR ownR ownMG rdS conS uaaS grpS ownRG prtn ppOwn
		{"PUT", envRt, tA + "environments/env-{c}", `{"type":"Sandbox"}`, nil,
			st{401, 401, 403, 403, 403, 200, 403, 200, 403, 403, 403, 403, 403, 403, 403, 403}},
		{"GET", tRoute + "environments", tA + "environments", "", nil,
			st{401, 401, 403, 403, 200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403}},
		{"GET", envRt, env1, "", nil,
			st{401, 401, 403, 403, 200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403}},
		{"PUT", resRt, env1 + "/resources/new-{c}", `{"kind":"Flow","paid":true}`, nil,
			st{401, 401, 403, 403, 403, 200, 403, 200, 403, 403, 403, 403, 403, 403, 403, 403}},
		{"GET", envRt + "/resources", env1 + "/resources", "", nil,
			st{401, 401, 403, 403, 200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403}},
		{"GET", resRt, env1 + "/resources/app1", "", nil,
			st{401, 401, 403, 403, 200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403}},
		{"GET", tRoute + "powerplatform/resources/{id}/explain", tA + "powerplatform/resources/app1/explain?month=2026-01", "", nil,
			st{401, 401, 403, 403, 200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403}},
		{"PUT", resRt + "/owner", env1 + "/resources/flow-{c}/owner", `{"principalId":"` + mxCoUser + `"}`, nil,
			st{401, 401, 403, 403, 403, 200, 403, 200, 403, 403, 403, 403, 403, 403, 403, 200}},
		{"POST", resRt + "/co-owners", env1 + "/resources/add-{c}/co-owners", `{"principalId":"` + mxCoUser + `"}`, nil,
			st{401, 401, 403, 403, 403, 200, 403, 200, 403, 403, 403, 403, 403, 403, 403, 200}},
		{"DELETE", resRt + "/co-owners/{principal}", env1 + "/resources/rm-{c}/co-owners/" + mxCoUser, "", nil,
			st{401, 401, 403, 403, 403, 200, 403, 200, 403, 403, 403, 403, 403, 403, 403, 200}},
		{"POST", resRt + "/publish", env1 + "/resources/ds-{c}/publish", "", nil,
			st{401, 401, 403, 403, 403, 200, 403, 200, 403, 403, 403, 403, 403, 403, 403, 200}},
		{"POST", envRt + "/solutions", env1 + "/solutions", `{"components":["sol-{c}"]}`, nil,
			st{401, 401, 403, 403, 403, 200, 403, 200, 403, 403, 403, 403, 403, 403, 403, 200}},

		// The service principal accelerator: the tenant's administrators
		// (may grant at its root). The first brings the partner's app in
		// (201); the next finds everything in place (200).
		//                                                                                anon admin other none rdR conR uaaR ownR ownMG rdS conS uaaS grpS ownRG prtn ppOwn
		{"POST", tRoute + "onboarding/service-principals", tA + "onboarding/service-principals",
			`{"appId":"` + appID(partner) + `","role":"Reader","scope":"/subscriptions/` + mxSub1 + `","partnerId":"` + mxPartner + `"}`, nil,
			st{401, 401, 403, 403, 403, 403, 201, 200, 403, 403, 403, 403, 403, 403, 403, 403}},

		// The admin API: the admin key only.
		//                                                                                anon admin other none rdR conR uaaR ownR ownMG rdS conS uaaS grpS ownRG prtn ppOwn
		{"POST", admRt + "runs", "/api/v1/admin/runs", `{"from":"2026-01-01","to":"2026-02-01"}`, nil,
			st{401, 200, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
		{"POST", admRt + "closes", "/api/v1/admin/closes", `{"month":"2026-01","early":true}`, nil,
			st{401, 200, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
		{"GET", admRt + "closes", "/api/v1/admin/closes", "", nil,
			st{401, 200, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
		{"GET", admRt + "reports", "/api/v1/admin/reports?month=2026-01", "", nil,
			st{401, 200, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
		{"GET", admRt + "reports/{month}/versions/{version}", "/api/v1/admin/reports/2026-01/versions/1", "", nil,
			st{401, 200, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
		{"GET", admRt + "reports/{month}/program", "/api/v1/admin/reports/2026-01/program?format=csv", "", nil,
			st{401, 200, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
		{"GET", admRt + "reports/{month}/partners/{partner}", "/api/v1/admin/reports/2026-01/partners/" + mxPartner, "", nil,
			st{401, 200, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
		{"GET", admRt + "reports/{month}/tenants/{tenant}", "/api/v1/admin/reports/2026-01/tenants/" + mxTenantA, "", nil,
			st{401, 200, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
		{"PUT", admRt + "tenants/{tenant}", "/api/v1/admin/tenants/" + mxTenantA, `{"name":"A"}`, nil,
			st{401, 200, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
		{"PUT", admRt + "tenants/{tenant}/principals/{object}", "/api/v1/admin/tenants/" + mxTenantA + "/principals/a1000000-0000-4000-8000-0000000001{c}",
			`{"type":"ServicePrincipal","displayName":"new","appId":"a3000000-0000-4000-8000-000000000001"}`, nil,
			st{401, 200, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
		{"POST", admRt + "tenants/{tenant}/principals/{object}/secrets", "/api/v1/admin/tenants/" + mxTenantA + "/principals/" + mxSpare + "/secrets", `{}`, nil,
			st{401, 200, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
		// The spare principal is enabled: the admin key gets past
		// authorization to the rule (409 already enabled); nobody else does.
		{"POST", admRt + "tenants/{tenant}/principals/{object}/enable", "/api/v1/admin/tenants/" + mxTenantA + "/principals/" + mxSpare + "/enable", `{}`, nil,
			st{401, 409, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
		{"POST", admRt + "tenants/{tenant}/memberships", "/api/v1/admin/tenants/" + mxTenantA + "/memberships",
			`{"groupId":"` + mxGroup2 + `","memberId":"` + mxSpare + `"}`, nil,
			st{401, 200, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
		{"PUT", admRt + "partners/{partner}", "/api/v1/admin/partners/" + mxOther, `{"name":"Other","homeTenantIds":["` + mxTenantB + `"]}`, nil,
			st{401, 200, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
		{"GET", admRt + "partners", "/api/v1/admin/partners", "", nil,
			st{401, 200, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
		{"GET", admRt + "tenants", "/api/v1/admin/tenants", "", nil,
			st{401, 200, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
		{"GET", admRt + "tenants/{tenant}/principals", "/api/v1/admin/tenants/" + mxTenantA + "/principals", "", nil,
			st{401, 200, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},

		// Management groups (last: a wrong parent left by a refused move
		// would break the views above): read by the tenant's principals; create with
		// write at the parent; move with write at the group, its old and
		// its new parent; a subscription moves with write at it, its old
		// and its new group.
		//                                                                                anon admin other none rdR conR uaaR ownR ownMG rdS conS uaaS grpS ownRG prtn ppOwn
		{"GET", mgRoute, mgAID + mgv, "", nil,
			st{401, 401, 404, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 200}},
		{"PUT", mgRoute, "/providers/Microsoft.Management/managementGroups/new-{c}" + mgv, "", nil,
			st{401, 401, 200, 403, 403, 200, 403, 200, 403, 403, 403, 403, 403, 403, 200, 403}},
		// Moving mg-b under mg-a: an Owner of mg-a alone may not.
		// Another tenant cannot name A's mg-a as a parent.
		{"PUT", mgRoute, "/providers/Microsoft.Management/managementGroups/mg-b" + mgv,
			`{"properties":{"details":{"parent":{"id":"` + mgAID + `"}}}}`, resetGroups,
			st{401, 401, 400, 403, 403, 200, 403, 200, 403, 403, 403, 403, 403, 403, 400, 403}},
		{"PUT", mgRoute + "/subscriptions/{subscriptionId}", mgAID + "/subscriptions/" + mxSub2 + mgv, "", resetGroups,
			st{401, 401, 401, 403, 403, 200, 403, 200, 403, 403, 403, 403, 403, 403, 401, 403}},
	}
}

// TestAuthorizationMatrix runs every row as every caller, in order.
func TestAuthorizationMatrix(t *testing.T) {
	m := newMatrix(t)
	rows := matrixRows()

	// Every route has a row, and every row a route.
	covered := map[string]bool{}
	for _, r := range rows {
		covered[r.method+" "+r.route] = true
	}
	routes := m.srv.Routes()
	for _, rt := range routes {
		if !covered[rt] {
			t.Errorf("route %s has no row in the authorization matrix", rt)
		}
	}
	for key := range covered {
		if !slices.Contains(routes, key) {
			t.Errorf("row for %s, which is not a route", key)
		}
	}

	for _, r := range rows {
		for c := 0; c < nCallers; c++ {
			if r.before != nil {
				r.before(m)
			}
			path := strings.ReplaceAll(r.path, "{c}", fmt.Sprintf("%02d", c))
			body := strings.ReplaceAll(strings.ReplaceAll(r.body, "{c}", fmt.Sprintf("%02d", c)), "{self}", oid(c))
			code, answer := m.do(c, r.method, path, body)
			if code != r.want[c] {
				t.Errorf("%s %s as %s: %d, want %d: %s", r.method, path, callerNames[c], code, r.want[c], trim(answer))
			}
		}
	}

	// A role id of tenant B that tenant A's Owner PUTs is A's own role: B's
	// role keeps what B wrote.
	bRole := "/providers/Microsoft.Authorization/roleDefinitions/" + mxBRole + "?api-version=2022-04-01"
	if code, body := m.do(ownRoot, "PUT", bRole, `{"properties":{"roleName":"A copy","permissions":[{"actions":["Microsoft.Storage/*"]}]}}`); code != 201 {
		t.Fatalf("A's PUT of B's role id: %d %s", code, trim(body))
	}
	if code, body := m.do(other, "GET", bRole, ""); code != 200 || !strings.Contains(body, `"roleName":"B operator"`) || strings.Contains(body, "A copy") {
		t.Errorf("B's role after A's PUT of its id: %d %s; want B's own", code, trim(body))
	}
	if code, body := m.do(ownRoot, "GET", bRole, ""); code != 200 || !strings.Contains(body, `"roleName":"A copy"`) {
		t.Errorf("A's role of the same id: %d %s", code, trim(body))
	}
}

func trim(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
