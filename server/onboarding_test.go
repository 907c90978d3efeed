package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/demo"
	"github.com/partnerlink/partnerlink/identity"
	"github.com/partnerlink/partnerlink/onboarding"
	"github.com/partnerlink/partnerlink/server"
	"github.com/partnerlink/partnerlink/world"
)

// Contoso's onboarding app, registered in Contoso only, and the secret
// only Contoso holds.
const (
	onboardApp    = "c3c3c3c3-0000-4000-8000-00000000a991"
	onboardSecret = "contoso-onboarding-app-secret-1"
)

// importOnboardWorld imports the demo world with Contoso's onboarding app,
// registered in Contoso only, and returns the demo's credentials.
func importOnboardWorld(t *testing.T, srv *server.Server) demo.Credentials {
	t.Helper()
	creds := demo.NewCredentials()
	doc := demo.World(creds)
	app, home := onboardApp, demo.ContosoTenant
	doc.Principals = append(doc.Principals, world.Principal{TenantID: demo.ContosoTenant, ObjectID: "c3c3c3c3-0000-4000-8000-000000000001",
		Type: "ServicePrincipal", DisplayName: "contoso-onboarding", AppID: &app, HomeTenantID: &home, Secret: onboardSecret})
	world.Normalize(doc)
	if err := srv.DB.ImportWorld(context.Background(), doc, identity.HashSecret); err != nil {
		t.Fatal(err)
	}
	return creds
}

// startAsBob starts a server on the onboarding world and signs in as Bob,
// Fabrikam's administrator.
func startAsBob(t *testing.T) (*server.Server, tokenClient, demo.Credentials, string) {
	srv, tlsCfg := startServer(t, server.Config{CloseEvery: -1})
	creds := importOnboardWorld(t, srv)
	tc := tokenClient{t: t, base: srv.URL, c: &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}}}
	bob := tc.token(demo.FabrikamTenant, url.Values{"grant_type": {"password"}, "client_id": {"04b07795-8ddb-461a-bbee-02f9e1bf7b46"},
		"username": {demo.BobSignIn}, "password": {creds.BobPassword}})
	return srv, tc, creds, bob
}

type tokenClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (tc tokenClient) token(tenant string, form url.Values) string {
	tc.t.Helper()
	form.Set("scope", "https://management.core.windows.net//.default")
	resp, err := tc.c.PostForm(tc.base+"/"+tenant+"/oauth2/v2.0/token", form)
	if err != nil {
		tc.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	b, _ := io.ReadAll(resp.Body)
	if json.Unmarshal(b, &tr); tr.AccessToken == "" {
		tc.t.Fatalf("token in %s: %d %s", tenant, resp.StatusCode, b)
	}
	return tr.AccessToken
}

func (tc tokenClient) call(method, path, token, body string) (int, string) {
	tc.t.Helper()
	req, _ := http.NewRequest(method, tc.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := tc.c.Do(req)
	if err != nil {
		tc.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// docs/clients.md, "Onboarding a service principal": Fabrikam's
// administrator brings Contoso's app into Fabrikam with a role and a link
// (the administrator its actor); no secret is issued, so only Contoso,
// with its app's own secret, signs in as the service principal; a second
// run changes nothing; the steps refuse with their names.
func TestOnboardServicePrincipal(t *testing.T) {
	srv, tc, creds, bob := startAsBob(t)
	path := "/api/v1/tenants/" + demo.FabrikamTenant + "/onboarding/service-principals"
	body := `{"appId":"` + onboardApp + `","role":"Contributor","scope":"/subscriptions/` + demo.FabrikamSub + `","partnerId":"` + demo.GermanyPartnerID + `"}`

	status, out := tc.call("POST", path, bob, body)
	var res onboarding.Result
	if err := json.Unmarshal([]byte(out), &res); status != 201 || err != nil || !res.PrincipalCreated || strings.Contains(out, "secret") ||
		!res.AssignmentCreated || !res.LinkChanged || !res.Changed || res.DisplayName != "contoso-onboarding" || res.Role != "Contributor" {
		t.Fatalf("first run: %d %s", status, out)
	}
	// The partner signs in to Fabrikam with its app's own secret and finds
	// its link.
	sp := tc.token(demo.FabrikamTenant, url.Values{"grant_type": {"client_credentials"}, "client_id": {onboardApp}, "client_secret": {onboardSecret}})
	status, out = tc.call("GET", "/providers/Microsoft.ManagementPartner/partners?api-version=2018-02-01", sp, "")
	if status != 200 || !strings.Contains(out, `"partnerId":"`+demo.GermanyPartnerID+`"`) || !strings.Contains(out, res.ObjectID) {
		t.Fatalf("the service principal's link: %d %s", status, out)
	}
	ev, err := srv.DB.LinkEvents(context.Background(), partnerlink.LinkFilter{TenantID: demo.FabrikamTenant, ObjectID: res.ObjectID})
	if err != nil || len(ev) != 1 || ev[0].ActorTenantID != demo.FabrikamTenant || ev[0].ActorObjectID != demo.BobID {
		t.Errorf("the link's actor is the administrator who onboarded: %+v %v", ev, err)
	}
	if hashes, err := srv.DB.SecretHashes(context.Background(), demo.FabrikamTenant, res.ObjectID); err != nil || len(hashes) != 0 {
		t.Errorf("the service principal in Fabrikam has secrets of its own: %d %v", len(hashes), err)
	}
	// Again: nothing changes.
	status, out = tc.call("POST", path, bob, body)
	var again onboarding.Result
	if json.Unmarshal([]byte(out), &again); status != 200 || again.Changed || again.ObjectID != res.ObjectID {
		t.Fatalf("second run: %d %s", status, out)
	}
	// Each step refuses with its name, and nothing is made.
	alice := tc.token(demo.FabrikamTenant, url.Values{"grant_type": {"password"}, "client_id": {"04b07795-8ddb-461a-bbee-02f9e1bf7b46"},
		"username": {demo.AliceSignIn}, "password": {creds.AlicePassword}})
	for _, c := range []struct {
		token, body string
		status      int
		want        string
	}{
		{alice, body, 403, "check the administrator"},
		{bob, strings.Replace(body, onboardApp, "c4c4c4c4-0000-4000-8000-00000000a991", 1), 404, "find the app"},
		{bob, strings.Replace(body, "Contributor", "Wizard", 1), 400, "find the role"},
		{bob, strings.Replace(body, demo.FabrikamSub, demo.WoodgroveSub, 1), 0, "check the scope"},
		{bob, strings.Replace(body, demo.GermanyPartnerID, demo.GlobalPartnerID, 1), 400, "check the partner ID"},
		// Another organization's ID: an administrator cannot send a partner's credit elsewhere.
		{bob, strings.Replace(body, demo.GermanyPartnerID, demo.SoloPartnerID, 1), 403, "is not of the organization that owns application"},
		// The link is the service principal's own to change.
		{bob, strings.Replace(body, demo.GermanyPartnerID, demo.NorwayPartnerID, 1), 409, "only the service principal itself may change its link"},
	} {
		status, out := tc.call("POST", path, c.token, c.body)
		if (c.status != 0 && status != c.status) || status < 400 || !strings.Contains(out, c.want) {
			t.Errorf("%s: %d %s", c.want, status, out)
		}
	}
	status, _ = tc.call("POST", "/api/v1/tenants/"+demo.WoodgroveTenant+"/onboarding/service-principals", bob, body)
	if status != 403 {
		t.Errorf("bob onboards in Woodgrove: %d", status)
	}
	sps, _ := srv.DB.ServicePrincipalsByAppID(context.Background(), onboardApp)
	if len(sps) != 2 {
		t.Errorf("service principals of the app: %d, want its home one and Fabrikam's", len(sps))
	}
	// docs/rules.md#linking: the partner, signed in as its app, removes
	// the link; the administrator's next run does not bring it back.
	if status, out := tc.call("DELETE", "/providers/Microsoft.ManagementPartner/partners/"+demo.GermanyPartnerID+"?api-version=2018-02-01", sp, ""); status != 200 {
		t.Fatalf("the service principal deletes its link: %d %s", status, out)
	}
	status, out = tc.call("POST", path, bob, body)
	if status != 409 || !strings.Contains(out, "the service principal removed its link (to partner ID "+demo.GermanyPartnerID) ||
		!strings.Contains(out, "only the service principal itself may link again") {
		t.Errorf("onboarding after the link was removed: %d %s", status, out)
	}
	if _, err := srv.DB.CurrentLink(context.Background(), demo.FabrikamTenant, res.ObjectID); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("the removed link is back: %v", err)
	}
}

// docs/clients.md, "Onboarding a service principal": the store writes the
// principal, the assignment and the link in one transaction;
// a refused link leaves none of them.
func TestOnboardIsAllOrNothing(t *testing.T) {
	srv, _ := startServer(t, server.Config{CloseEvery: -1})
	ctx := context.Background()
	doc := demo.World(demo.NewCredentials())
	world.Normalize(doc)
	if err := srv.DB.ImportWorld(ctx, doc, identity.HashSecret); err != nil {
		t.Fatal(err)
	}
	p := partnerlink.Principal{TenantID: demo.FabrikamTenant, ObjectID: "c5c5c5c5-0000-4000-8000-000000000001", Type: partnerlink.PrincipalServicePrincipal,
		DisplayName: "half", AppID: "c5c5c5c5-0000-4000-8000-00000000a991", HomeTenantID: demo.ContosoTenant}
	ra := partnerlink.RoleAssignment{TenantID: demo.FabrikamTenant, ID: "c5c5c5c5-0000-4000-8000-0000000000aa", PrincipalID: p.ObjectID,
		RoleDefinition: "Reader", Scope: "/"}
	_, _, err := srv.DB.Onboard(ctx, p.TenantID, p.ObjectID, partnerlink.Onboarding{Principal: &p, Assignment: &ra,
		Decide: func(*partnerlink.Link) (partnerlink.LinkChange, error) {
			return partnerlink.LinkChange{}, partnerlink.Errorf(partnerlink.EINVALID, "refused")
		}})
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("onboard with a refused link: %v", err)
	}
	if _, err := srv.DB.Principal(ctx, p.TenantID, p.ObjectID); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("the principal stayed: %v", err)
	}
	ras, _ := srv.DB.RoleAssignments(ctx, partnerlink.RoleAssignmentFilter{TenantID: p.TenantID, PrincipalIDs: []string{p.ObjectID}})
	if len(ras) != 0 {
		t.Errorf("the assignment stayed: %+v", ras)
	}
}

// The accelerator's portal page: the directory's administrator runs it,
// the page says how the partner signs in (no secret is shown), and anyone
// else gets the API's refusal.
func TestPortalOnboard(t *testing.T) {
	srv, tlsCfg := startServer(t, server.Config{CloseEvery: -1})
	creds := importOnboardWorld(t, srv)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	form := url.Values{"appId": {onboardApp}, "role": {"Reader"}, "scope": {"/"}, "partnerId": {demo.NorwayPartnerID}}
	bob := newPortalBrowser(t, srv.URL, client)
	bob.signIn(demo.BobSignIn, creds.BobPassword)
	if status, _ := bob.post("/portal/onboard", form); status != 403 {
		t.Errorf("onboard without the CSRF token: %d", status)
	}
	bob.get("/portal/onboard")
	form.Set("csrf", bob.csrf)
	status, page := bob.post("/portal/onboard", form)
	if status != 200 || !strings.Contains(page, `id="onboard-sign-in"`) || !strings.Contains(page, ": linked") {
		t.Fatalf("bob onboards: %d %s", status, page)
	}
	status, page = bob.post("/portal/onboard", form)
	if status != 200 || !strings.Contains(page, "Nothing changed") || strings.Contains(page, `id="onboard-sign-in"`) {
		t.Errorf("bob again: %d %s", status, page)
	}
	// A refusal marks the field it is about, not another.
	wrong := url.Values{"csrf": {bob.csrf}, "appId": {"c4c4c4c4-0000-4000-8000-00000000a991"}, "role": {"Reader"}, "scope": {"/"}, "partnerId": {demo.NorwayPartnerID}}
	status, page = bob.post("/portal/onboard", wrong)
	if status != 404 || !strings.Contains(page, `name="appId" value="c4c4c4c4-0000-4000-8000-00000000a991" autocomplete="off" aria-invalid="true"`) ||
		strings.Count(page, `aria-invalid="true"`) != 1 {
		t.Errorf("an unknown app: %d %s", status, page)
	}
	alice := newPortalBrowser(t, srv.URL, client)
	alice.signIn(demo.AliceSignIn, creds.AlicePassword)
	alice.get("/portal/onboard?directory=" + demo.FabrikamTenant)
	form.Set("csrf", alice.csrf)
	form.Set("directory", demo.FabrikamTenant)
	if status, page := alice.post("/portal/onboard", form); status != 403 || !strings.Contains(page, "check the administrator") {
		t.Errorf("alice onboards in Fabrikam: %d %s", status, page)
	}
	// Bob has no account in Woodgrove: neither the page nor the form
	// opens there.
	form.Set("csrf", bob.csrf)
	form.Set("directory", demo.WoodgroveTenant)
	if status, _ := bob.get("/portal/onboard?directory=" + demo.WoodgroveTenant); status != 403 {
		t.Errorf("bob opens onboarding in Woodgrove: %d", status)
	}
	if status, _ := bob.post("/portal/onboard", form); status != 403 {
		t.Errorf("bob onboards in Woodgrove: %d", status)
	}
}
