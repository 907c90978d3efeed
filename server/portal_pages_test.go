package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/demo"
	"github.com/partnerlink/partnerlink/identity"
	"github.com/partnerlink/partnerlink/report"
	"github.com/partnerlink/partnerlink/server"
	"github.com/partnerlink/partnerlink/usage"
	"github.com/partnerlink/partnerlink/world"
)

// closedDemo is a server on the demo world where alice's guest account in
// Woodgrove has been linked to Contoso Germany since January, with last
// month's demo usage imported and last month closed.
func closedDemo(t testing.TB) (*server.Server, demo.Credentials, *http.Client, partnerlink.Month) {
	t.Helper()
	srv, tlsCfg := startServer(t, server.Config{CloseEvery: -1})
	ctx := context.Background()
	creds := demo.NewCredentials()
	doc := demo.World(creds)
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	doc.Links = append(doc.Links, world.Link{TenantID: demo.WoodgroveTenant, ObjectID: demo.AliceInWoodgrove, PartnerID: demo.GermanyPartnerID, From: &since})
	world.Normalize(doc)
	if err := srv.DB.ImportWorld(ctx, doc, identity.HashSecret); err != nil {
		t.Fatal(err)
	}
	month := partnerlink.MonthOf(time.Now()) - 1
	if _, err := usage.Import(ctx, srv.DB, srv.DataDir(), usage.FOCUS, "demo-usage.csv", bytes.NewReader(demo.UsageCSV(month.Start())), time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := (&report.Service{Store: srv.DB, DataDir: srv.DataDir(), Workers: 2}).Close(ctx, month, true); err != nil {
		t.Fatal(err)
	}
	return srv, creds, &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}}, month
}

// times adds amount n times, exactly.
func times(t *testing.T, amount string, n int) string {
	sum := "0"
	for range n {
		var err error
		if sum, err = partnerlink.AddDecimal(sum, amount); err != nil {
			t.Fatal(err)
		}
	}
	return sum
}

func mustContain(t *testing.T, what, page string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Errorf("%s: no %q in\n%s", what, w, page)
		}
	}
}

// instantsOneWay checks that page writes at least n instants, each the one
// way docs/portal.md gives ("2026-12-05 20:23:18 UTC" in a <time> element
// that holds the exact instant), and none as bare RFC 3339 text.
func instantsOneWay(t *testing.T, what, page string, n int) {
	t.Helper()
	written := regexp.MustCompile(`<time datetime="\d{4}-\d\d-\d\dT[0-9:.]+Z">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</time>`)
	if got := len(written.FindAllString(page, -1)); got < n {
		t.Errorf("%s: %d instants written the portal's way, want at least %d:\n%s", what, got, n, page)
	}
	if bare := regexp.MustCompile(`>[^<]*\d{4}-\d\d-\d\dT\d\d:\d\d`).FindString(written.ReplaceAllString(page, "")); bare != "" {
		t.Errorf("%s: an instant written another way: %q", what, bare)
	}
}

// The partner dashboard and its downloads (docs/portal.md, "Partner
// dashboard"): amounts are the closed month's, exact, by month, customer
// and service, and every page authorizes as the partner API does.
func TestPortalPartnerDashboard(t *testing.T) {
	srv, creds, client, month := closedDemo(t)
	days := int(month.End().Sub(month.Start()).Hours() / 24)
	checkout, insights := times(t, "7.10", days), times(t, "23.9", days)
	woodgrove, _ := partnerlink.AddDecimal(checkout, insights)

	alice := newPortalBrowser(t, srv.URL, client)
	if status, page := alice.signIn(demo.AliceSignIn, creds.AlicePassword); status != 200 {
		t.Fatalf("alice signs in: %d %s", status, page)
	}
	status, page := alice.get("/portal/partner")
	if status != 200 {
		t.Fatalf("dashboard: %d %s", status, page)
	}
	page = htmlUnescape(page)
	mustContain(t, "dashboard", page, "Contoso Services (1000001)", "closed month "+month.String()+", version 1",
		"Woodgrove Bank", "Azure App Service", "Azure Synapse Analytics", `data-chart="bar"`, `data-chart="hbar"`,
		`<script src="/portal/static/charts.js" defer></script>`,
		// by month and by customer: the month's whole Woodgrove credit; by service: each service's.
		`<td class="num">`+woodgrove+`</td>`, `<td class="num">`+checkout+`</td>`, `<td class="num">`+insights+`</td>`,
		// the chart's data is the table's, as exact strings
		`"values":["`+woodgrove+`"]`,
		// linked credentials across customers, and alice's unlinked guest account in Fabrikam
		"alice_contoso.example#EXT#", "Unlinked credit")
	// The trend chart's labels are the closed months.
	if !regexp.MustCompile(`data-labels="\[&#34;` + month.String() + `&#34;\]"`).MatchString(alice.lastRaw(t, "/portal/partner")) {
		t.Errorf("by-month chart labels are not the closed month")
	}

	// Downloads are the API's bytes, as files.
	for format, head := range map[string]string{"csv": "Month,", "partner-center": report.PartnerCenterHeader, "json": "["} {
		resp, err := alice.c.Get(srv.URL + "/portal/partner/report?" + url.Values{"partner": {demo.GlobalPartnerID}, "month": {month.String()}, "format": {format}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(b.String(), head) || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("download %s: %d %q %s", format, resp.StatusCode, resp.Header.Get("Content-Disposition"), b.String())
		}
		if format == "json" {
			var reps []report.PartnerReport
			if err := json.Unmarshal(b.Bytes(), &reps); err != nil || len(reps) != 1 || len(reps[0].Lines) != 2 {
				t.Errorf("downloaded JSON: %v %+v", err, reps)
			}
		}
	}
	if status, page := alice.get("/portal/partner/report?format=xml"); status != 400 || !strings.Contains(page, "accepted: csv, json, partner-center") {
		t.Errorf("download in an unknown format: %d %s", status, page)
	}
	if status, _ := alice.get("/portal/partner/report?kind=unlinked&format=csv"); status != 200 {
		t.Errorf("unlinked download: %d", status)
	}

	// Explain a resource and day.
	resource := "/subscriptions/" + demo.WoodgroveSub + "/resourceGroups/payments/providers/Microsoft.Web/sites/checkout"
	status, page = alice.get("/portal/partner/explain?" + url.Values{"resource": {resource}, "day": {month.Start().Format("2006-01-02")}}.Encode())
	if status != 200 {
		t.Fatalf("explain: %d %s", status, page)
	}
	mustContain(t, "explain", page, "Partner ID 4711001: credited</h2>", "Partner ID 1000001: not credited</h2>", "Contributor")
	if status, page := alice.get("/portal/partner/explain?" + url.Values{"resource": {resource}, "day": {"yesterday"}}.Encode()); status != 400 ||
		!strings.Contains(page, `id="explain-error"`) {
		t.Errorf("explain with a bad day: %d %s", status, page)
	}

	// A location ID alone: named as the registry names it, and chosen in
	// the organization list (docs/portal.md, "Partner dashboard").
	status, page = alice.get("/portal/partner?partner=" + demo.GermanyPartnerID)
	if status != 200 {
		t.Fatalf("location ID's dashboard: %d %s", status, page)
	}
	mustContain(t, "location ID", htmlUnescape(page), "Contoso Services Germany (4711001): closed month",
		`<option value="4711001" selected>`, "Contoso Services Germany (4711001), this location ID only",
		"Credentials linked to Contoso Services Germany")

	// The wrong partner: Northwind's dashboard is not Contoso's to see, and
	// the page says what the API says.
	for _, path := range []string{"/portal/partner?partner=" + demo.SoloPartnerID, "/portal/partner/report?format=csv&partner=" + demo.SoloPartnerID,
		"/portal/partner/explain?partner=" + demo.SoloPartnerID + "&resource=" + url.QueryEscape(resource) + "&day=" + month.Start().Format("2006-01-02")} {
		if status, page := alice.get(path); status != 403 || !strings.Contains(htmlUnescape(page), "Only principals of Northwind Integrators") ||
			!strings.Contains(page, "<h1>Not allowed</h1>") {
			t.Errorf("alice GET %s: %d %s", path, status, page)
		}
	}
	// The wrong tenant: in Fabrikam (a guest there) alice's token is not of
	// Contoso's home tenant; the dashboard says so, and asking for Contoso
	// anyway is refused.
	if status, page := alice.get("/portal/partner?directory=" + demo.FabrikamTenant); status != 200 || !strings.Contains(page, `id="no-partner"`) {
		t.Errorf("dashboard in Fabrikam: %d %s", status, page)
	}
	for _, path := range []string{"/portal/partner?partner=" + demo.GlobalPartnerID, "/portal/partner/report?format=csv&partner=" + demo.GlobalPartnerID} {
		if status, _ := alice.get(path + "&directory=" + demo.FabrikamTenant); status != 403 {
			t.Errorf("alice in Fabrikam GET %s: %d", path, status)
		}
	}
	// Bob (Fabrikam) has no account in Contoso.
	bob := newPortalBrowser(t, srv.URL, client)
	bob.signIn(demo.BobSignIn, creds.BobPassword)
	if status, _ := bob.get("/portal/partner?directory=" + demo.ContosoTenant); status != 403 {
		t.Errorf("bob in Contoso's directory: %d", status)
	}
	if status, _ := bob.get("/portal/partner?partner=" + demo.GlobalPartnerID); status != 403 {
		t.Errorf("bob opens Contoso's dashboard: %d", status)
	}
}

// lastRaw fetches path and returns the page without unescaping.
func (b *portalBrowser) lastRaw(t *testing.T, path string) string {
	_, page := b.get(path)
	return page
}

// The customer view (docs/portal.md, "Customer view"): the partners linked
// in the tenant, their credentials, amounts and the audit trail, for those
// who can read at the tenant's root, as the API decides.
func TestPortalCustomerView(t *testing.T) {
	srv, creds, client, month := closedDemo(t)
	bob := newPortalBrowser(t, srv.URL, client)
	if status, page := bob.signIn(demo.BobSignIn, creds.BobPassword); status != 200 {
		t.Fatalf("bob signs in: %d %s", status, page)
	}
	// Bob links nothing himself; alice links her guest account in Fabrikam.
	alice := newPortalBrowser(t, srv.URL, client)
	alice.signIn(demo.AliceSignIn, creds.AlicePassword)
	alice.get("/portal/link?directory=" + demo.FabrikamTenant)
	if status, page := alice.post("/portal/link", url.Values{"csrf": {alice.csrf}, "directory": {demo.FabrikamTenant},
		"partnerId": {demo.NorwayPartnerID}, "action": {"link"}}); status != 200 {
		t.Fatalf("alice links in Fabrikam: %d %s", status, page)
	}
	status, page := bob.get("/portal/customer")
	if status != 200 {
		t.Fatalf("customer view: %d %s", status, page)
	}
	mustContain(t, "customer view", htmlUnescape(page), "Customer view: Fabrikam", "Contoso Services Norway (4711002)",
		"alice_contoso.example#EXT#", "Reader at", "created", "No partner ID was credited in "+month.String(), "<td>a link created</td>")
	// The link's start, its event and its notification (docs/portal.md).
	instantsOneWay(t, "customer view", page, 3)
	resp, err := bob.c.Get(srv.URL + "/portal/customer/report?format=csv")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Errorf("customer download: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Alice is a guest in Fabrikam and Woodgrove without a role that reads
	// at the root: the API refuses her, so does the page.
	for _, tenant := range []string{demo.FabrikamTenant, demo.WoodgroveTenant} {
		for _, path := range []string{"/portal/customer?directory=" + tenant, "/portal/customer/report?format=csv&directory=" + tenant} {
			if status, page := alice.get(path); status != 403 || (strings.HasPrefix(path, "/portal/customer?") &&
				!strings.Contains(htmlUnescape(page), "is for accounts that can read at the directory's root")) {
				t.Errorf("alice GET %s: %d %s", path, status, page)
			}
		}
	}
	if status, _ := bob.get("/portal/customer?directory=" + demo.WoodgroveTenant); status != 403 {
		t.Errorf("bob opens Woodgrove's customer view: %d", status)
	}
	if status, page := bob.get("/portal/customer?month=1999-01"); status != 400 || !strings.Contains(page, "not a closed month") {
		t.Errorf("a month that is not closed: %d %s", status, page)
	}
}

// The operator's pages (docs/portal.md, "Operator"): signed in with the
// admin key, the close status, versions and restatements, a close.
func TestPortalOperator(t *testing.T) {
	srv, creds, client, month := closedDemo(t)
	key, err := os.ReadFile(server.AdminKeyFile(srv.DataDir()))
	if err != nil {
		t.Fatal(err)
	}
	op := newPortalBrowser(t, srv.URL, client)
	formRE := regexp.MustCompile(`name="form" value="([^"]+)"`)
	_, page := op.get("/portal/operator")
	form := formRE.FindStringSubmatch(page)
	if form == nil {
		t.Fatalf("no sign-in form: %s", page)
	}
	if status, page := op.post("/portal/operator/signin", url.Values{"form": {form[1]}, "adminKey": {"wrong"}}); status != 401 || !strings.Contains(page, "The admin key is not correct.") {
		t.Errorf("wrong key: %d %s", status, page)
	}
	_, page = op.get("/portal/operator")
	form = formRE.FindStringSubmatch(page)
	if status, page := op.post("/portal/operator/signin", url.Values{"form": {"forged"}, "adminKey": {strings.TrimSpace(string(key))}}); status != 403 {
		t.Errorf("sign-in with a forged form token: %d %s", status, page)
	}
	status, page := op.post("/portal/operator/signin", url.Values{"form": {form[1]}, "adminKey": {strings.TrimSpace(string(key))}})
	if status != 200 {
		t.Fatalf("operator signs in: %d %s", status, page)
	}
	mustContain(t, "operator home", page, "<h1>Monthly close</h1>", `href="/portal/operator/month?month=`+month.String()+`"`)
	instantsOneWay(t, "operator home", page, 1)
	_, page = op.get("/portal/operator/month?month=" + month.String())
	mustContain(t, "versions", page, "Version 1")
	instantsOneWay(t, "versions", page, 1)
	status, page = op.get("/portal/operator/version?month=" + month.String() + "&version=1")
	if status != 200 || !strings.Contains(page, "Version 1 restates nothing.") {
		t.Errorf("version page: %d %s", status, page)
	}
	if status, _ := op.get("/portal/operator/version?month=" + month.String() + "&version=9"); status != 404 {
		t.Errorf("a version that does not exist: %d", status)
	}
	// A close needs the session's CSRF token; then nothing changed.
	if status, _ := op.post("/portal/operator/close", url.Values{"month": {month.String()}, "early": {"on"}}); status != 403 {
		t.Errorf("close without CSRF: %d", status)
	}
	status, page = op.post("/portal/operator/close", url.Values{"csrf": {op.csrf}, "month": {month.String()}, "early": {"on"}})
	if status != 200 || !strings.Contains(page, "nothing changed, so no version was published") {
		t.Errorf("close: %d %s", status, page)
	}
	// Late usage restates the month: version 2 lists the lines it changes.
	late := strings.ReplaceAll(string(demo.UsageCSV(month.Start())), "Azure App Service", "App Service (late)")
	if _, err := usage.Import(context.Background(), srv.DB, srv.DataDir(), usage.FOCUS, "late.csv", strings.NewReader(late), time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	op.get("/portal/operator")
	status, page = op.post("/portal/operator/close", url.Values{"csrf": {op.csrf}, "month": {month.String()}, "early": {"on"}})
	if status != 200 || !strings.Contains(page, "a new version is published") {
		t.Errorf("restating close: %d %s", status, page)
	}
	// A refusal speaks of the page's form, not of the command line.
	if _, page := op.get("/portal/operator/report?format=csv&month=2030-01"); !strings.Contains(page, "the Close the month form closes it") ||
		strings.Contains(page, "partnerlink close") {
		t.Errorf("the report of a month not closed: %s", page)
	}
	// Shown once; an address cannot make the page claim a close.
	for _, path := range []string{"/portal/operator", "/portal/operator?closed=2026-10&published=true"} {
		if _, page := op.get(path); strings.Contains(page, `class="ok"`) {
			t.Errorf("GET %s shows a close: %s", path, page)
		}
	}
	_, page = op.get("/portal/operator/version?month=" + month.String() + "&version=2")
	mustContain(t, "version 2", page, "Lines restated", "<td>azure</td>", "sites/checkout", "format=json")
	// A version's download is named for it.
	resp, err := op.c.Get(srv.URL + "/portal/operator/report?format=json&version=1&month=" + month.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Content-Disposition"); got != `attachment; filename="program-`+month.String()+`-v1.json"` {
		t.Errorf("version 1's download: %s", got)
	}
	resp, err = op.c.Get(srv.URL + "/portal/operator/report?format=csv&month=" + month.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "program-"+month.String()+".csv") {
		t.Errorf("program download: %d %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	// A directory account is not the operator, and the operator has no
	// directory pages.
	alice := newPortalBrowser(t, srv.URL, client)
	alice.signIn(demo.AliceSignIn, creds.AlicePassword)
	for _, path := range []string{"/portal/operator/month?month=" + month.String(), "/portal/operator/report?format=csv&month=" + month.String()} {
		if status, _ := alice.get(path); status != 401 {
			t.Errorf("alice GET %s: %d", path, status)
		}
	}
	if status, _ := alice.post("/portal/operator/close", url.Values{"csrf": {alice.csrf}, "month": {month.String()}}); status != 401 {
		t.Errorf("alice closes a month: %d", status)
	}
	noRedirect := *op.c
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err = noRedirect.Get(srv.URL + "/portal/partner")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/portal/operator" {
		t.Errorf("operator opens the partner dashboard: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}
