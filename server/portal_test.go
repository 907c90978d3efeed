package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/demo"
	"github.com/partnerlink/partnerlink/identity"
	"github.com/partnerlink/partnerlink/portal"
	"github.com/partnerlink/partnerlink/server"
	"github.com/partnerlink/partnerlink/world"
)

// demoServer is a server on the demo world; it returns the server, its
// credentials and a client that trusts it.
func demoServer(t *testing.T) (*server.Server, demo.Credentials, *http.Client) {
	t.Helper()
	srv, tlsCfg := startServer(t, server.Config{CloseEvery: -1})
	creds := demo.NewCredentials()
	doc := demo.World(creds)
	world.Normalize(doc)
	if err := srv.DB.ImportWorld(context.Background(), doc, identity.HashSecret); err != nil {
		t.Fatal(err)
	}
	return srv, creds, &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}}
}

// portalBrowser is a cookie-keeping client of the portal.
type portalBrowser struct {
	t    testing.TB
	base string
	c    *http.Client
	csrf string
}

func newPortalBrowser(t testing.TB, base string, c *http.Client) *portalBrowser {
	jar, _ := cookiejar.New(nil)
	cc := *c
	cc.Jar = jar
	return &portalBrowser{t: t, base: base, c: &cc}
}

var (
	csrfRE      = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	signInTokRE = regexp.MustCompile(`name="form_token" value="([^"]+)"`)
	formActRE   = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
)

func (b *portalBrowser) do(req *http.Request) (int, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindStringSubmatch(string(body)); m != nil {
		b.csrf = m[1]
	}
	return resp.StatusCode, string(body)
}

func (b *portalBrowser) get(path string) (int, string) {
	req, _ := http.NewRequest("GET", b.base+path, nil)
	return b.do(req)
}

func (b *portalBrowser) post(path string, form url.Values) (int, string) {
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// signIn goes from /portal/signin through the sign-in page.
func (b *portalBrowser) signIn(user, pass string) (int, string) {
	b.t.Helper()
	return b.signInAt("/portal/signin", user, pass)
}

// signInAt signs in through the sign-in link at path (its next page).
func (b *portalBrowser) signInAt(path, user, pass string) (int, string) {
	b.t.Helper()
	status, page := b.get(path)
	tok, act := signInTokRE.FindStringSubmatch(page), formActRE.FindStringSubmatch(page)
	if status != 200 || tok == nil || act == nil {
		b.t.Fatalf("sign-in page: %d %s", status, page)
	}
	form := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	form.Set("username", user)
	form.Set("password", pass)
	form.Set("action", "signin")
	return b.post(htmlUnescape(act[1]), form)
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// docs/portal.md: a page opened before signing in is the page the sign-in
// ends on; only a page of the portal is.
func TestPortalSignInReturnsToThePage(t *testing.T) {
	srv, creds, client := demoServer(t)
	b := newPortalBrowser(t, srv.URL, client)
	page := "/portal/customer?directory=" + demo.FabrikamTenant
	status, landing := b.get(page)
	link := regexp.MustCompile(`href="(/portal/signin\?next=[^"]+)"`).FindStringSubmatch(landing)
	if status != 401 || link == nil {
		t.Fatalf("landing of %s: %d %s", page, status, landing)
	}
	if status, after := b.signInAt(htmlUnescape(link[1]), demo.BobSignIn, creds.BobPassword); status != 200 || !strings.Contains(after, "<h1>Customer view: Fabrikam") {
		t.Errorf("signed in from %s: %d %s", page, status, after)
	}
	for _, next := range []string{"//evil.example/portal", "https://evil.example/portal", "/\\evil.example/portal", "/api/v1/me", "/portal/signin", "/portal/operator",
		"/portal/../api/v1/me", "/portal/../portal/operator", "/portal/./signin", "/portal/%2e%2e/api/v1/me", "/portal/..//evil.example"} {
		if status, after := newPortalBrowser(t, srv.URL, client).signInAt("/portal/signin?next="+url.QueryEscape(next), demo.BobSignIn, creds.BobPassword); status != 200 ||
			!strings.Contains(after, `aria-current="page">Overview`) {
			t.Errorf("next=%s: %d, want the overview: %.300s", next, status, after)
		}
	}
}

// The portal (docs/portal.md): sign in with the code flow, switch
// directory, link, update and remove a partner ID with the API's refusals
// shown next to the field, and the link is the API's at once.
func TestPortalLinkFlow(t *testing.T) {
	srv, creds, client := demoServer(t)
	ctx := context.Background()
	b := newPortalBrowser(t, srv.URL, client)

	if status, page := b.get("/"); status != 401 || !strings.Contains(page, `href="/portal/signin"`) {
		t.Fatalf("landing: %d %s", status, page)
	}
	if status, page := b.signIn(demo.AliceSignIn, "wrong"); status != 401 || !strings.Contains(page, "The username or password is not correct.") {
		t.Fatalf("wrong password: %d %s", status, page)
	}
	if status, page := b.get("/portal"); status != 401 {
		t.Fatalf("signed in after a wrong password: %d %s", status, page)
	}
	status, page := b.signIn(demo.AliceSignIn, creds.AlicePassword)
	if status != 200 || !strings.Contains(page, "Switch directory") || !strings.Contains(page, demo.AliceSignIn) {
		t.Fatalf("after sign-in: %d %s", status, page)
	}
	for _, tenant := range []string{demo.ContosoTenant, demo.FabrikamTenant, demo.WoodgroveTenant} {
		if !strings.Contains(page, `<option value="`+tenant+`"`) {
			t.Errorf("directory %s not offered:\n%s", tenant, page)
		}
	}

	fab := "/portal/link?directory=" + demo.FabrikamTenant
	status, page = b.get(fab)
	if status != 200 || !strings.Contains(page, "not linked to a partner ID in this directory") || !strings.Contains(page, "guest") {
		t.Fatalf("link page: %d %s", status, page)
	}
	linkForm := func(action, id string) url.Values {
		return url.Values{"csrf": {b.csrf}, "directory": {demo.FabrikamTenant}, "partnerId": {id}, "action": {action}}
	}
	current := func() string {
		l, err := srv.DB.CurrentLink(ctx, demo.FabrikamTenant, demo.AliceInFabrikam)
		if partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND {
			return ""
		} else if err != nil {
			t.Fatal(err)
		}
		return l.PartnerID
	}

	// Refusals, next to the field, and nothing linked.
	for id, want := range map[string]string{
		"abc":                  "partner",
		demo.GlobalPartnerID:   demo.GermanyPartnerID,
		demo.RetiredPartnerID:  "",
		"9999999":              "9999999",
		"<script>x</script>12": "partner",
	} {
		status, page := b.post("/portal/link", linkForm("link", id))
		if status < 400 || !strings.Contains(page, `id="partner-id-error"`) || !strings.Contains(page, want) || strings.Contains(page, "<script>x") {
			t.Errorf("link %q: %d, want a refusal naming %q:\n%s", id, status, want, page)
		}
	}
	if got := current(); got != "" {
		t.Fatalf("linked after refusals: %s", got)
	}

	status, page = b.post("/portal/link", linkForm("link", demo.GermanyPartnerID))
	if status != 200 || !strings.Contains(page, "Linked partner ID "+demo.GermanyPartnerID) || !strings.Contains(page, "Contoso Services Germany") {
		t.Fatalf("link: %d %s", status, page)
	}
	instantsOneWay(t, "link page", page, 2) // linked since, last changed
	if got := current(); got != demo.GermanyPartnerID {
		t.Fatalf("the API sees %q", got)
	}
	status, page = b.post("/portal/link", linkForm("update", demo.NorwayPartnerID))
	if status != 200 || !strings.Contains(page, "Updated the link to partner ID "+demo.NorwayPartnerID) || current() != demo.NorwayPartnerID {
		t.Fatalf("update: %d %s", status, page)
	}
	// A form without the session's CSRF token changes nothing.
	f := linkForm("remove", "")
	f.Set("csrf", "forged")
	if status, page := b.post("/portal/link", f); status != 403 || current() != demo.NorwayPartnerID ||
		!strings.Contains(page, `<option value="`+demo.FabrikamTenant+`" selected>`) || !strings.Contains(page, `href="/portal?directory=`+demo.FabrikamTenant+`">Back to the overview`) {
		t.Fatalf("forged form: %d, link %s: %s", status, current(), page)
	}
	status, page = b.post("/portal/link", linkForm("remove", ""))
	if status != 200 || !strings.Contains(page, "Removed the link to partner ID "+demo.NorwayPartnerID) || current() != "" {
		t.Fatalf("remove: %d %s", status, page)
	}
	// The message is shown once, by the page the form's redirect opens;
	// an address cannot make the page claim a change (docs/portal.md,
	// "Security").
	for _, path := range []string{fab, fab + "&done=update&id=" + demo.NorwayPartnerID, fab + "&done=remove&id=1234"} {
		if _, page := b.get(path); strings.Contains(page, `class="ok"`) {
			t.Errorf("GET %s shows a change: %s", path, page)
		}
	}

	// Sign out ends the session.
	if status, _ := b.post("/portal/signout", url.Values{"csrf": {b.csrf}}); status != 200 {
		t.Fatalf("sign out: %d", status)
	}
	if status, _ := b.get(fab); status != 401 {
		t.Fatalf("after sign-out: %d", status)
	}
}

// A password changed since the sign-in revokes it (docs/api.md,
// "Identity"): the portal's next token ends the session and asks to sign
// in again, back to the page.
func TestPortalSessionEndsWithItsSignIn(t *testing.T) {
	srv, creds, client := demoServer(t)
	ctx := context.Background()
	b := newPortalBrowser(t, srv.URL, client)
	if status, page := b.signIn(demo.AliceSignIn, creds.AlicePassword); status != 200 {
		t.Fatalf("sign-in: %d %s", status, page)
	}
	if _, err := srv.DB.RemoveSecrets(ctx, demo.ContosoTenant, demo.AliceID); err != nil {
		t.Fatal(err)
	}
	h, err := identity.HashSecret("a-new-password-for-alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.DB.AddSecret(ctx, demo.ContosoTenant, demo.AliceID, h); err != nil {
		t.Fatal(err)
	}
	// Fabrikam's token is not cached yet: it is redeemed now, and refused.
	page := "/portal/link?directory=" + demo.FabrikamTenant
	status, body := b.get(page)
	if status != 401 || !strings.Contains(body, "Your sign-in no longer holds") || !strings.Contains(body, `href="/portal/signin?next=`) {
		t.Fatalf("after the password change: %d %s", status, body)
	}
	if status, _ := b.get("/portal"); status != 401 {
		t.Errorf("the session outlived its sign-in: %d", status)
	}
}

// Every page authorizes as the API does: no session, another person's
// directory, a forged form (docs/portal.md, "Security").
func TestPortalRefusals(t *testing.T) {
	srv, creds, client := demoServer(t)
	bob := newPortalBrowser(t, srv.URL, client)
	if status, page := bob.signIn(demo.BobSignIn, creds.BobPassword); status != 200 {
		t.Fatalf("bob signs in: %d %s", status, page)
	}
	anon := newPortalBrowser(t, srv.URL, client)
	for _, path := range []string{"/portal", "/portal/link", "/portal/link?directory=" + demo.FabrikamTenant} {
		if status, _ := anon.get(path); status != 401 {
			t.Errorf("anonymous GET %s: %d", path, status)
		}
	}
	if status, _ := anon.post("/portal/link", url.Values{"directory": {demo.FabrikamTenant}, "partnerId": {demo.SoloPartnerID}, "action": {"link"}}); status != 401 {
		t.Errorf("anonymous POST /portal/link: %d", status)
	}
	// Every portal route, anonymously: a route without a row fails.
	anonRows := map[string]int{"GET /": 401, "GET /portal": 401, "GET /portal/signin": 200, "GET /portal/callback": 400,
		"POST /portal/signout": 200, "GET /portal/link": 401, "POST /portal/link": 401, "GET /portal/static/portal.css": 200,
		"GET /portal/partner": 401, "GET /portal/partner/explain": 401, "GET /portal/partner/report": 401,
		"GET /portal/customer": 401, "GET /portal/customer/report": 401, "GET /portal/onboard": 401, "POST /portal/onboard": 401,
		"GET /portal/operator": 200, "POST /portal/operator/signin": 403, "POST /portal/operator/close": 401,
		"GET /portal/operator/month": 401, "GET /portal/operator/version": 401, "GET /portal/operator/report": 401,
		"GET /portal/static/charts.js": 200}
	for _, rt := range portal.Routes() {
		want, ok := anonRows[rt]
		if !ok {
			t.Errorf("portal route %s has no row", rt)
			continue
		}
		method, path, _ := strings.Cut(rt, " ")
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		fresh := newPortalBrowser(t, srv.URL, client)
		if status, _ := fresh.do(req); status != want {
			t.Errorf("anonymous %s: %d, want %d", rt, status, want)
		}
	}
	// A method a page does not take: 405, Allow naming the methods it does;
	// an address that only takes a form links to the page with the form.
	for rt, want := range map[string][2]string{
		"GET /portal/operator/close": {"POST", `href="/portal/operator"`}, "GET /portal/signout": {"POST", `href="/portal"`},
		"GET /portal/operator/signin": {"POST", `href="/portal/operator"`}, "DELETE /portal/link": {"GET, POST", "DELETE is not allowed here."},
		"POST /portal/customer": {"GET", "POST is not allowed here."},
	} {
		method, path, _ := strings.Cut(rt, " ")
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != want[0] || !strings.Contains(string(body), want[1]) {
			t.Errorf("%s: %d, Allow %q, want 405, Allow %q and %q in\n%s", rt, resp.StatusCode, resp.Header.Get("Allow"), want[0], want[1], body)
		}
	}
	// A page's address with a trailing slash goes to the page, keeping the
	// query; nothing else is redirected.
	noFollow := *client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for path, want := range map[string]string{"/portal/": "/portal", "/portal/link/?directory=" + demo.FabrikamTenant: "/portal/link?directory=" + demo.FabrikamTenant,
		"/portal/nothing/": "", "//evil.example/": "", "/portal/link//": "/portal/link"} {
		resp, err := noFollow.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want == "" && (resp.StatusCode != 404 || resp.Header.Get("Location") != "") ||
			want != "" && (resp.StatusCode != 301 || resp.Header.Get("Location") != want) {
			t.Errorf("GET %s: %d %q, want %q", path, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	// Bob has no account in Contoso's or Woodgrove's directory.
	for _, tenant := range []string{demo.ContosoTenant, demo.WoodgroveTenant} {
		for _, path := range []string{"/portal?directory=" + tenant, "/portal/link?directory=" + tenant} {
			if status, page := bob.get(path); status != 403 || !strings.Contains(page, "no account in directory") {
				t.Errorf("bob GET %s: %d", path, status)
			}
		}
		if status, _ := bob.post("/portal/link", url.Values{"csrf": {bob.csrf}, "directory": {tenant}, "partnerId": {demo.SoloPartnerID}, "action": {"link"}}); status != 403 {
			t.Errorf("bob links in %s: %d", tenant, status)
		}
	}
	// Another session's CSRF token is refused.
	alice := newPortalBrowser(t, srv.URL, client)
	alice.signIn(demo.AliceSignIn, creds.AlicePassword)
	if status, _ := alice.post("/portal/link", url.Values{"csrf": {bob.csrf}, "directory": {demo.FabrikamTenant}, "partnerId": {demo.SoloPartnerID}, "action": {"link"}}); status != 403 {
		t.Errorf("alice with bob's CSRF token: %d", status)
	}
	// The pages' headers.
	resp, err := alice.c.Get(srv.URL + "/portal")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	u, _ := url.Parse(srv.URL)
	for _, c := range alice.c.Jar.Cookies(u) {
		if c.Name == "__Host-partnerlink_session" {
			return
		}
	}
	t.Errorf("no session cookie")
}
