package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/api"
	"github.com/partnerlink/partnerlink/demo"
	"github.com/partnerlink/partnerlink/linking"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/world"
)

// tokens maps fixed bearer strings to callers; token validation itself is
// tested in identity and end to end.
type tokens map[string]partnerlink.Caller

func (t tokens) Validate(_ context.Context, raw string) (partnerlink.Caller, error) {
	if c, ok := t[raw]; ok {
		return c, nil
	}
	return partnerlink.Caller{}, partnerlink.ARMErrorf(partnerlink.EUNAUTHORIZED, "InvalidAuthenticationToken", "invalid token")
}

var (
	bob        = partnerlink.Caller{TenantID: demo.FabrikamTenant, ObjectID: demo.BobID}
	aliceGuest = partnerlink.Caller{TenantID: demo.FabrikamTenant, ObjectID: demo.AliceInFabrikam}
	alice      = partnerlink.Caller{TenantID: demo.ContosoTenant, ObjectID: demo.AliceID}
	automation = partnerlink.Caller{TenantID: demo.FabrikamTenant, ObjectID: demo.AutomationInFab}
	// A guest in Contoso's tenant, from Fabrikam (TestPartnerViewsRefuseGuests adds it).
	contosoGuest = partnerlink.Caller{TenantID: demo.ContosoTenant, ObjectID: "b0b0b0b0-0000-4000-8000-0000000000c9"}
	now          = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
)

func setup(t *testing.T) (*httptest.Server, *sqlstore.DB) {
	t.Helper()
	srv, db, _ := setupLinked(t, aliceGuest, automation)
	return srv, db
}

// setupLinked is the demo world behind the API, with callers linked to
// 4711001 at now; it returns the handler too.
func setupLinked(t *testing.T, linked ...partnerlink.Caller) (*httptest.Server, *sqlstore.DB, *api.Handler) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "pl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	doc := demo.World(demo.NewCredentials())
	world.Normalize(doc)
	if err := db.ImportWorld(ctx, doc, func(s string) (string, error) { return "h:" + s, nil }); err != nil {
		t.Fatal(err)
	}
	links := linking.New(db)
	links.Now = func() time.Time { return now }
	for _, c := range linked {
		if _, err := links.Link(ctx, c, demo.GermanyPartnerID); err != nil {
			t.Fatal(err)
		}
	}
	h := api.New(tokens{"bob": bob, "alice-guest": aliceGuest, "alice": alice, "automation": automation, "guest": contosoGuest}, db,
		api.HashAdminKey("admin-secret"), func() time.Time { return now })
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv, db, h
}

func call(t *testing.T, srv *httptest.Server, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

// linkAs links c to each partner ID in turn, at now.
func linkAs(t *testing.T, db *sqlstore.DB, c partnerlink.Caller, partnerIDs ...string) {
	t.Helper()
	links := linking.New(db)
	links.Now = func() time.Time { return now }
	for _, id := range partnerIDs {
		if _, err := links.Link(context.Background(), c, id); err != nil {
			t.Fatal(err)
		}
	}
}

func values(m map[string]any) []map[string]any {
	var out []map[string]any
	for _, v := range m["value"].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

// docs/rules.md#views-and-credits (and docs/rules.md#linking): every credential in the tenant linked to a
// partner, with partner, since when and role assignments — for the
// tenant's administrators only.
func TestCustomerView(t *testing.T) {
	srv, db := setup(t)
	// The automation's service principal is Contributor at Fabrikam's root too.
	if _, err := db.CreateRoleAssignment(context.Background(), partnerlink.RoleAssignment{TenantID: demo.FabrikamTenant,
		ID: "e0e0e0e0-0000-4000-8000-0000000000c1", PrincipalID: demo.AutomationInFab, RoleDefinition: "Contributor", Scope: "/", Period: partnerlink.Period{From: now}},
		"test", func(_, _ []partnerlink.RoleAssignment) (bool, error) { return true, nil }); err != nil {
		t.Fatal(err)
	}
	status, m := call(t, srv, "GET", "/api/v1/tenants/"+demo.FabrikamTenant+"/links", "bob", "")
	if status != 200 {
		t.Fatalf("bob: %d %v", status, m)
	}
	vs := values(m)
	if len(vs) != 2 {
		t.Fatalf("links = %v", vs)
	}
	byObject := map[string]map[string]any{}
	for _, v := range vs {
		byObject[v["objectId"].(string)] = v
	}
	g := byObject[demo.AliceInFabrikam]
	if g["partnerName"] != "Contoso Services Germany" || g["principalType"] != "Guest" || len(g["roleAssignments"].([]any)) != 1 ||
		g["principalState"] != "enabled" || g["disabledSince"] != nil {
		t.Errorf("guest's link = %v", g)
	}
	// A disabled principal's link is still listed, shown disabled since the
	// instant its credit stopped.
	p, err := db.Principal(context.Background(), demo.FabrikamTenant, demo.AliceInFabrikam)
	if err != nil {
		t.Fatal(err)
	}
	disabledAt := now.Add(-time.Hour)
	p.Period.To = disabledAt
	if err := db.PutPrincipal(context.Background(), *p); err != nil {
		t.Fatal(err)
	}
	_, m = call(t, srv, "GET", "/api/v1/tenants/"+demo.FabrikamTenant+"/links", "bob", "")
	for _, v := range values(m) {
		if v["objectId"] == demo.AliceInFabrikam && (v["principalState"] != "disabled" || v["disabledSince"] != disabledAt.Format(time.RFC3339)) {
			t.Errorf("disabled guest's link = %v; want principalState disabled since %s", v, disabledAt.Format(time.RFC3339))
		}
	}
	// Alice's guest account holds only Reader on a resource group: no root role, no view.
	if status, _ := call(t, srv, "GET", "/api/v1/tenants/"+demo.FabrikamTenant+"/links", "alice-guest", ""); status != 403 {
		t.Errorf("guest sees the customer view: %d", status)
	}
	// Another tenant's token: refused.
	if status, _ := call(t, srv, "GET", "/api/v1/tenants/"+demo.FabrikamTenant+"/links", "alice", ""); status != 403 {
		t.Errorf("other tenant sees the customer view: %d", status)
	}
	if status, _ := call(t, srv, "GET", "/api/v1/tenants/"+demo.FabrikamTenant+"/links", "", ""); status != 401 {
		t.Errorf("anonymous: %d", status)
	}
	// Events and the outbox of notifications (two new links).
	status, m = call(t, srv, "GET", "/api/v1/tenants/"+demo.FabrikamTenant+"/link-events", "bob", "")
	if status != 200 || len(values(m)) != 2 {
		t.Errorf("events: %d %v", status, m)
	}
	status, m = call(t, srv, "GET", "/api/v1/tenants/"+demo.FabrikamTenant+"/notifications", "bob", "")
	if status != 200 || len(values(m)) != 2 || values(m)[0]["status"] != "waiting" || values(m)[0]["nextAttempt"] != nil {
		t.Errorf("notifications waiting for a webhook: %d %v", status, m)
	}
	// Only an Owner (or User Access Administrator) at the root sets the
	// webhook; a Contributor at the root may not.
	if status, m := call(t, srv, "PUT", "/api/v1/tenants/"+demo.FabrikamTenant+"/webhook", "automation", `{"url":"https://93.184.216.34:9/h"}`); status != 403 {
		t.Errorf("contributor at the root sets webhook: %d %v", status, m)
	}
	if status, _ := call(t, srv, "PUT", "/api/v1/tenants/"+demo.FabrikamTenant+"/webhook", "alice-guest", `{"url":"https://127.0.0.1:9/h"}`); status != 403 {
		t.Errorf("guest sets webhook: %d", status)
	}
	if status, m := call(t, srv, "PUT", "/api/v1/tenants/"+demo.FabrikamTenant+"/webhook", "bob", `{"url":"ftp://x"}`); status != 400 {
		t.Errorf("bad webhook url: %d %v", status, m)
	}
	// Not to the server's own network (docs/operations.md, "Webhooks").
	if status, m := call(t, srv, "PUT", "/api/v1/tenants/"+demo.FabrikamTenant+"/webhook", "bob", `{"url":"https://127.0.0.1:9/h","secret":"s"}`); status != 400 ||
		!strings.Contains(m["error"].(map[string]any)["message"].(string), "not a public address") {
		t.Errorf("webhook to loopback: %d %v", status, m)
	}
	if status, m := call(t, srv, "PUT", "/api/v1/tenants/"+demo.FabrikamTenant+"/webhook", "bob", `{"url":"https://93.184.216.34:9/h","secret":"s"}`); status != 400 ||
		!strings.Contains(m["error"].(map[string]any)["message"].(string), "at least 16 characters") {
		t.Errorf("webhook with a one-character secret: %d %v", status, m)
	}
	if status, m := call(t, srv, "PUT", "/api/v1/tenants/"+demo.FabrikamTenant+"/webhook", "bob", `{"url":"https://93.184.216.34:9/h"}`); status != 400 {
		t.Errorf("webhook without a secret: %d %v", status, m)
	}
	if status, m := call(t, srv, "PUT", "/api/v1/tenants/"+demo.FabrikamTenant+"/webhook", "bob", `{"url":"https://93.184.216.34:9/h","secret":"sixteen-chars-ok"}`); status != 200 {
		t.Errorf("bob sets webhook: %d %v", status, m)
	}
	// With a webhook they are due (since they were queued).
	status, m = call(t, srv, "GET", "/api/v1/tenants/"+demo.FabrikamTenant+"/notifications", "bob", "")
	if status != 200 || len(values(m)) != 2 || values(m)[0]["status"] != "pending" || values(m)[0]["nextAttempt"] != "2026-03-02T12:00:00Z" {
		t.Errorf("notifications after the webhook is set: %d %v", status, m)
	}
}

// docs/rules.md#views-and-credits: the partner sees every credential linked to its IDs in every
// customer tenant, with its scopes; nobody else does.
func TestPartnerView(t *testing.T) {
	srv, _ := setup(t)
	for _, id := range []string{demo.GlobalPartnerID, demo.GermanyPartnerID} {
		status, m := call(t, srv, "GET", "/api/v1/partners/"+id+"/links", "alice", "")
		if status != 200 || len(values(m)) != 2 {
			t.Errorf("partner view of %s: %d %v", id, status, m)
		}
	}
	status, m := call(t, srv, "GET", "/api/v1/partners/"+demo.GlobalPartnerID+"/links", "bob", "")
	if status != 403 {
		t.Errorf("customer sees the partner view: %d %v", status, m)
	}
	if status, _ := call(t, srv, "GET", "/api/v1/partners/12ab/links", "alice", ""); status != 400 {
		t.Errorf("malformed partner ID: %d", status)
	}
	status, m = call(t, srv, "GET", "/api/v1/partners/"+demo.GlobalPartnerID+"/link-events", "alice", "")
	if status != 200 || len(values(m)) != 2 {
		t.Errorf("partner events: %d %v", status, m)
	}
}

// docs/rules.md#views-and-credits: a guest in the partner's home tenant
// (someone else's account, invited in) sees none of its views.
func TestPartnerViewsRefuseGuests(t *testing.T) {
	srv, db := setup(t)
	if err := db.PutPrincipal(context.Background(), partnerlink.Principal{TenantID: contosoGuest.TenantID, ObjectID: contosoGuest.ObjectID,
		Type: partnerlink.PrincipalGuest, DisplayName: "bob_fabrikam.example#EXT#", HomeTenantID: demo.FabrikamTenant,
		Period: partnerlink.Period{From: now.AddDate(0, -1, 0)}}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"links", "link-events", "credits", "reports/2026-02"} {
		path := "/api/v1/partners/" + demo.GlobalPartnerID + "/" + v
		if status, m := call(t, srv, "GET", path, "guest", ""); status != 403 {
			t.Errorf("a guest in Contoso GET %s: %d %v", path, status, m)
		}
	}
	if status, _ := call(t, srv, "GET", "/api/v1/partners/"+demo.GlobalPartnerID+"/links", "alice", ""); status != 200 {
		t.Errorf("alice, a member: %d", status)
	}
	// /me offers the guest no partner view.
	if status, m := call(t, srv, "GET", "/api/v1/me", "guest", ""); status != 200 || len(m["partners"].([]any)) != 0 {
		t.Errorf("the guest's /me: %d %v", status, m)
	}
}

// docs/rules.md#views-and-credits: a partner's link events name its own
// IDs only; a link that moved to another organization's ID shows as
// replaced, not to whom.
func TestPartnerEventsNameOnlyItsIDs(t *testing.T) {
	srv, db := setup(t)
	ctx := context.Background()
	linkAs(t, db, alice, demo.GermanyPartnerID, demo.SoloPartnerID)
	status, m := call(t, srv, "GET", "/api/v1/partners/"+demo.GlobalPartnerID+"/link-events", "alice", "")
	var replaced map[string]any
	for _, e := range values(m) {
		if e["objectId"] == demo.AliceID && e["action"] == "replaced" {
			replaced = e
		}
		if e["partnerId"] == demo.SoloPartnerID || e["previousPartnerId"] == demo.SoloPartnerID {
			t.Errorf("Contoso sees Northwind's ID: %v", e)
		}
	}
	if status != 200 || replaced == nil || replaced["partnerId"] != "" || replaced["previousPartnerId"] != demo.GermanyPartnerID {
		t.Errorf("Contoso's events: %d %v", status, m)
	}
	// The customer's own audit names both.
	evs, err := db.LinkEvents(ctx, partnerlink.LinkFilter{TenantID: demo.ContosoTenant, ObjectID: demo.AliceID})
	if err != nil || len(evs) != 2 || evs[1].PartnerID != demo.SoloPartnerID || evs[1].PrevPartnerID != demo.GermanyPartnerID {
		t.Errorf("the tenant's events: %+v %v", evs, err)
	}
}

// Issue 3 / docs/rules.md#azure-attribution: a Lighthouse delegation registered by the customer's
// Owner shows as the managing principal's access in the partner's view.
func TestDelegations(t *testing.T) {
	srv, db := setup(t)
	ctx := context.Background()
	linkAs(t, db, alice, demo.GermanyPartnerID)
	path := "/api/v1/tenants/" + demo.FabrikamTenant + "/delegations/dddddddd-0000-4000-8000-000000000001"
	body := `{"managingTenantId":"` + demo.ContosoTenant + `","scope":"/subscriptions/` + demo.FabrikamSub + `","principalId":"` + demo.AliceID + `","roleDefinition":"Contributor"}`
	if status, m := call(t, srv, "PUT", path, "alice-guest", body); status != 403 {
		t.Errorf("guest registers a delegation: %d %v", status, m)
	}
	// The scope is authorized before the rest of the body is checked, so a
	// caller who may not delegate learns nothing of the managing tenant.
	unknownManager := strings.Replace(body, demo.ContosoTenant, "c0ffee00-0000-4000-8000-000000000098", 1)
	if status, m := call(t, srv, "PUT", path, "alice-guest", unknownManager); status != 403 {
		t.Errorf("guest registers a delegation to an unknown tenant: %d %v", status, m)
	}
	if status, m := call(t, srv, "PUT", path, "bob", strings.Replace(body, "/subscriptions/"+demo.FabrikamSub, "/subscriptions/"+demo.WoodgroveSub, 1)); status != 401 {
		t.Errorf("delegation of another tenant's subscription: %d %v", status, m)
	}
	for _, bad := range []string{
		strings.Replace(body, "Contributor", "Nope", 1),
		strings.Replace(body, demo.AliceID, "c0ffee00-0000-4000-8000-000000000099", 1),
		unknownManager,
		strings.Replace(body, "/subscriptions/"+demo.FabrikamSub, "/", 1),
	} {
		if status, m := call(t, srv, "PUT", path, "bob", bad); status != 400 {
			t.Errorf("invalid delegation %s: %d %v", bad, status, m)
		}
	}
	// A Contributor of the subscription may not delegate it (to itself,
	// with Owner): a delegation grants access, as a role assignment does.
	selfOwner := `{"managingTenantId":"` + demo.ContosoTenant + `","scope":"/subscriptions/` + demo.FabrikamSub + `","principalId":"` + demo.AutomationInCont + `","roleDefinition":"Owner"}`
	if status, m := call(t, srv, "PUT", path, "automation", selfOwner); status != 403 {
		t.Errorf("contributor delegates the subscription to itself: %d %v", status, m)
	}
	if status, m := call(t, srv, "PUT", path, "bob", body); status != 200 {
		t.Fatalf("bob registers the delegation: %d %v", status, m)
	}
	// Nor end it.
	if status, m := call(t, srv, "DELETE", path, "automation", ""); status != 403 {
		t.Errorf("contributor ends the delegation: %d %v", status, m)
	}
	status, m := call(t, srv, "GET", "/api/v1/partners/"+demo.GermanyPartnerID+"/links", "alice", "")
	if status != 200 {
		t.Fatal(status)
	}
	found := false
	for _, v := range values(m) {
		if v["objectId"] == demo.AliceID {
			dls, _ := v["delegations"].([]any)
			found = len(dls) == 1 && dls[0].(map[string]any)["tenantId"] == demo.FabrikamTenant
		}
	}
	if !found {
		t.Errorf("alice's delegated access not shown: %v", m)
	}
	if status, _ := call(t, srv, "DELETE", path, "bob", ""); status != 200 {
		t.Errorf("end delegation: %d", status)
	}
	dls, _ := db.Delegations(ctx, demo.FabrikamTenant, false)
	if len(dls) != 1 || dls[0].Period.To.IsZero() {
		t.Errorf("delegation history = %+v", dls)
	}
}

func TestAdmin(t *testing.T) {
	srv, db := setup(t)
	ctx := context.Background()
	const newT = "44444444-4444-4444-8444-444444444444"
	if status, _ := call(t, srv, "PUT", "/api/v1/admin/tenants/"+newT, "bob", `{"name":"New"}`); status != 401 {
		t.Errorf("a user token on the admin API: %d", status)
	}
	if status, m := call(t, srv, "PUT", "/api/v1/admin/tenants/"+newT, "admin-secret", `{"name":"New"}`); status != 200 {
		t.Fatalf("put tenant: %d %v", status, m)
	}
	sp := `{"type":"ServicePrincipal","displayName":"ci","appId":"ABCDEF00-0000-4000-8000-000000000001"}`
	if status, m := call(t, srv, "PUT", "/api/v1/admin/tenants/"+newT+"/principals/abcdef00-0000-4000-8000-000000000002", "admin-secret", sp); status != 200 {
		t.Fatalf("put principal: %d %v", status, m)
	}
	if status, m := call(t, srv, "PUT", "/api/v1/admin/tenants/"+newT+"/principals/abcdef00-0000-4000-8000-000000000003", "admin-secret",
		`{"type":"Robot","displayName":"x"}`); status != 400 || !strings.Contains(m["error"].(map[string]any)["message"].(string), "ServicePrincipal") {
		t.Errorf("bad type: %d %v", status, m)
	}
	status, m := call(t, srv, "POST", "/api/v1/admin/tenants/"+newT+"/principals/abcdef00-0000-4000-8000-000000000002/secrets", "admin-secret", `{}`)
	if status != 200 || m["secret"] == "" {
		t.Fatalf("add secret: %d %v", status, m)
	}
	hs, _ := db.SecretHashes(ctx, newT, "abcdef00-0000-4000-8000-000000000002")
	if len(hs) != 1 || strings.Contains(hs[0], m["secret"].(string)) {
		t.Errorf("secret not stored hashed: %v", hs)
	}
	if status, m := call(t, srv, "PUT", "/api/v1/admin/partners/4711003", "admin-secret",
		`{"name":"Contoso Services Sweden","globalPartnerId":"1000001","homeTenantIds":[]}`); status != 200 {
		t.Errorf("put partner: %d %v", status, m)
	}
	if status, _ := call(t, srv, "PUT", "/api/v1/admin/partners/4711004", "admin-secret", `{"name":"x","globalPartnerId":"999"}`); status != 404 {
		t.Errorf("partner under unknown global ID: %d", status)
	}
	locs, _ := db.LocationIDs(ctx, demo.GlobalPartnerID)
	if len(locs) != 3 {
		t.Errorf("location IDs = %v", locs)
	}
}

// docs/rules.md#views-and-credits Explain through the API: the partner asks about its own ID, the
// customer about its own resources; the chain or the reason comes back.
func TestExplain(t *testing.T) {
	srv, _ := setup(t)
	res := "/subscriptions/" + demo.FabrikamSub + "/resourceGroups/web/providers/Microsoft.Web/sites/shop"
	// Links were made on 2026-03-02 12:00 (see setup): credited that day, not the day before.
	status, m := call(t, srv, "GET", "/api/v1/partners/"+demo.GermanyPartnerID+"/explain?resource="+res+"&day=2026-03-02", "alice", "")
	if status != 200 || m["credited"] != true || len(m["chains"].([]any)) != 2 {
		t.Errorf("partner explain: %d %v", status, m)
	}
	status, m = call(t, srv, "GET", "/api/v1/tenants/"+demo.FabrikamTenant+"/explain?partner="+demo.GermanyPartnerID+"&resource="+res+"&day=2026-03-01", "bob", "")
	if status != 200 || m["credited"] != false || m["reason"] == "" {
		t.Errorf("customer explain before the link: %d %v", status, m)
	}
	if status, _ := call(t, srv, "GET", "/api/v1/partners/"+demo.GermanyPartnerID+"/explain?resource="+res+"&day=2026-03-02", "bob", ""); status != 403 {
		t.Errorf("customer on the partner's explain: %d", status)
	}
	if status, m := call(t, srv, "GET", "/api/v1/partners/"+demo.GermanyPartnerID+"/explain?resource="+res+"&day=March", "alice", ""); status != 400 {
		t.Errorf("bad day: %d %v", status, m)
	}
	// The year 9999's last month would end in the year 10000: refused, not a 500.
	if status, m := call(t, srv, "GET", "/api/v1/partners/"+demo.GermanyPartnerID+"/explain?resource="+res+"&month=9999-12", "alice", ""); status != 400 {
		t.Errorf("month 9999-12: %d %v", status, m)
	}
	other := "/subscriptions/" + demo.WoodgroveSub
	unknown := "/subscriptions/0badc0de-0000-4000-8000-000000000000"
	for _, r := range []string{other, unknown} {
		if status, _ := call(t, srv, "GET", "/api/v1/tenants/"+demo.FabrikamTenant+"/explain?partner="+demo.GermanyPartnerID+"&resource="+r+"&day=2026-03-02", "bob", ""); status != 403 {
			t.Errorf("customer explains %s, not its own: %d", r, status)
		}
	}
	// A partner learns nothing of subscriptions where it has no link: not
	// their tenant, not whether they exist (docs/rules.md#views-and-credits).
	var reasons []string
	for _, r := range []string{other, unknown} {
		status, m := call(t, srv, "GET", "/api/v1/partners/"+demo.GermanyPartnerID+"/explain?resource="+r+"&day=2026-03-02", "alice", "")
		if status != 200 || m["tenantId"] != nil || m["credited"] != false || !strings.Contains(m["reason"].(string), "reaches subscription") {
			t.Errorf("partner explains %s where it has no link: %d %v", r, status, m)
		}
		reason, _ := m["reason"].(string)
		reasons = append(reasons, strings.ReplaceAll(reason, strings.TrimPrefix(r, "/subscriptions/"), "S"))
	}
	if reasons[0] != reasons[1] {
		t.Errorf("an existing and an unknown subscription are told apart: %q", reasons)
	}
}

func TestCreditsEndpoints(t *testing.T) {
	const hiddenTenant, hiddenSub = "a0000000-0000-4000-8000-00000000000a", "5a000000-0000-4000-8000-000000000001"
	const hiddenRes = "/subscriptions/" + hiddenSub + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/secret-vm"
	srv, db := setup(t)
	ctx := context.Background()
	// No run yet: a clear 404.
	if status, m := call(t, srv, "GET", "/api/v1/partners/"+demo.GermanyPartnerID+"/credits", "alice", ""); status != 404 {
		t.Errorf("before any run: %d %v", status, m)
	}
	_, err := db.SaveRun(ctx, partnerlink.AttributionRun{From: now, To: now.AddDate(0, 0, 1), CreatedAt: now, Summary: []byte(`{}`)},
		[]partnerlink.CreditRow{{Day: "2026-03-02", PartnerID: demo.GermanyPartnerID, TenantID: demo.FabrikamTenant,
			SubscriptionID: demo.FabrikamSub, ResourceID: "/subscriptions/" + demo.FabrikamSub + "/resourceGroups/web/providers/Microsoft.Web/sites/shop",
			Currency: "EUR", Attributed: "4.2", Eligible: "4.2", UsageRows: 1},
			// A customer where none of the partner's credentials reads usage.
			{Day: "2026-03-02", PartnerID: demo.GermanyPartnerID, TenantID: hiddenTenant,
				SubscriptionID: hiddenSub, ResourceID: hiddenRes, Currency: "EUR", Attributed: "100", Eligible: "100", UsageRows: 1}})
	if err != nil {
		t.Fatal(err)
	}
	// Alice's guest account holds Reader (reads usage): full detail; the
	// other customer as one anonymized line.
	status, m := call(t, srv, "GET", "/api/v1/partners/"+demo.GermanyPartnerID+"/credits?day=2026-03-02", "alice", "")
	if v := values(m); status != 200 || len(v) != 2 || v[0]["resourceId"] == nil || v[1]["anonymized"] != true || v[1]["resourceId"] != nil {
		t.Errorf("partner credits: %d %v", status, m)
	}
	// docs/rules.md#views-and-credits: a filter within a customer never
	// reaches into an anonymized line (it would tell what it is made of).
	for _, q := range []string{"resource=" + hiddenRes, "subscription=" + hiddenSub, "tenant=" + hiddenTenant} {
		status, m := call(t, srv, "GET", "/api/v1/partners/"+demo.GermanyPartnerID+"/credits?"+q, "alice", "")
		if status != 200 || len(values(m)) != 0 {
			t.Errorf("partner credits ?%s: %d %v", q, status, m)
		}
	}
	if status, _ := call(t, srv, "GET", "/api/v1/partners/"+demo.GermanyPartnerID+"/credits", "bob", ""); status != 403 {
		t.Errorf("customer on partner credits: %d", status)
	}
	status, m = call(t, srv, "GET", "/api/v1/tenants/"+demo.FabrikamTenant+"/credits", "bob", "")
	if status != 200 || len(values(m)) != 1 || values(m)[0]["attributedCost"] != "4.2" {
		t.Errorf("customer credits: %d %v", status, m)
	}
	if status, _ := call(t, srv, "POST", "/api/v1/admin/runs", "bob", `{"from":"2026-03-01","to":"2026-04-01"}`); status != 401 {
		t.Errorf("run without the admin key: %d", status)
	}
}

// An empty key never opens the admin API, not even when the key set is
// the empty one (an empty DATA_DIR/admin-key file).
func TestAdminKeyNeverEmpty(t *testing.T) {
	for _, auth := range []string{"Bearer ", "Bearer", "Bearer   ", "bearer \t"} {
		if api.AdminKeyMatches(api.HashAdminKey(""), auth) {
			t.Errorf("empty key set, %q matches", auth)
		}
		if api.AdminKeyMatches(api.HashAdminKey("admin-secret"), auth) {
			t.Errorf("%q matches the admin key", auth)
		}
	}
	if !api.AdminKeyMatches(api.HashAdminKey("admin-secret"), "Bearer admin-secret") {
		t.Errorf("the right key does not match")
	}
	h := api.New(tokens{}, nil, api.HashAdminKey(""), func() time.Time { return now })
	srv := httptest.NewTLSServer(h)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/admin/tenants", nil)
	req.Header.Set("Authorization", "Bearer ")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("GET /api/v1/admin/tenants with an empty key: %d", resp.StatusCode)
	}
}

// docs/operations.md, "Explain": explains of an unchanged state share one
// index (eight at once build it once), and any write makes the next
// explain build a new one that sees the change.
func TestExplainIndexPerStateVersion(t *testing.T) {
	ctx := context.Background()
	srv, db, h := setupLinked(t, aliceGuest)
	links := linking.New(db)
	links.Now = func() time.Time { return now }
	res := "/subscriptions/" + demo.FabrikamSub + "/resourceGroups/web/providers/Microsoft.Web/sites/shop"
	path := "/api/v1/partners/" + demo.GermanyPartnerID + "/explain?resource=" + res + "&day=2026-03-03"
	explain := func() map[string]any {
		status, m := call(t, srv, "GET", path, "alice", "")
		if status != 200 {
			t.Errorf("explain: %d %v", status, m)
		}
		return m
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); explain() }()
	}
	wg.Wait()
	if n := h.ExplainIndexBuilds(); n != 1 {
		t.Errorf("8 explains of one state built %d indexes, want 1", n)
	}
	if m := explain(); m["credited"] != true || h.ExplainIndexBuilds() != 1 {
		t.Errorf("a ninth explain: credited %v, %d builds", m["credited"], h.ExplainIndexBuilds())
	}
	// The link is deleted: the next explain builds anew and sees it.
	if err := links.Unlink(ctx, aliceGuest, demo.GermanyPartnerID); err != nil {
		t.Fatal(err)
	}
	if m := explain(); h.ExplainIndexBuilds() != 2 || m["credited"] != false {
		t.Errorf("after a write: %d builds, explanation %v; want a new index", h.ExplainIndexBuilds(), m)
	}
}
