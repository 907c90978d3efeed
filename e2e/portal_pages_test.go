package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/demo"
	"github.com/partnerlink/partnerlink/report"
	"github.com/partnerlink/partnerlink/server"
	"github.com/partnerlink/partnerlink/usage"
)

// axePath is axe-core, installed by the test command from e2e/package-lock.json.
const axePath = "node_modules/axe-core/axe.min.js"

// axeRun checks the page against the rules of WCAG 2.1 A and AA.
const axeRun = `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
  .then(r => ({passes: r.passes.length, violations: r.violations.map(v => v.id + " (" + v.impact + "): " + v.help + " at " +
    v.nodes.map(n => n.target.join(" ")).join(", "))}))`

// checkAccessible runs axe-core on the browser's current page and fails
// the test on any WCAG 2.1 A/AA violation. The script is evaluated through
// DevTools, which the page's Content Security Policy does not govern.
func checkAccessible(t *testing.T, bctx context.Context, axe, page string) {
	t.Helper()
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](axe+";true")); err != nil {
		t.Fatalf("load axe-core on %s: %v", page, err)
	}
	type result struct {
		Passes     int      `json:"passes"`
		Violations []string `json:"violations"`
	}
	res, err := chromedp.Run(bctx, chromedp.Evaluate[result](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe on %s: %v", page, err)
	}
	if res.Passes == 0 {
		t.Errorf("axe checked nothing on %s", page)
	}
	for _, v := range res.Violations {
		t.Errorf("accessibility, %s: %s", page, v)
	}
	// docs/portal.md, "Accessibility": on a phone's 390 px the page does
	// not scroll sideways (a wide table scrolls in its own box).
	if _, err := chromedp.Run(bctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatalf("a 390 px viewport on %s: %v", page, err)
	}
	over, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
	if err != nil || over > 0 {
		t.Errorf("%s is %d px wider than a 390 px screen (%v)", page, over, err)
	}
	if _, err := chromedp.Run(bctx, chromedp.ResetViewport()); err != nil {
		t.Fatalf("reset the viewport on %s: %v", page, err)
	}
}

// testPortalPages opens the dashboards in headless Chromium: alice's
// partner dashboard with its charts drawn by the embedded bundle, a
// report downloaded as a file, the explain view; bob's customer view; the
// operator's pages; and axe-core checks every page the portal has
// (docs/portal.md, "Accessibility").
func testPortalPages(t *testing.T, e *env) {
	requireFile(t, chromiumPath, "chromium (apt install chromium)")
	requireFile(t, axePath, "axe-core (npm ci in e2e/)")
	axe, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Last month, with the demo usage, closed: Contoso's reporting service
	// principal has been linked in Woodgrove since January (env_test.go).
	month := partnerlink.MonthOf(time.Now()) - 1
	if _, err := usage.Import(ctx, e.srv.DB, e.srv.DataDir(), usage.FOCUS, "demo-usage.csv", bytes.NewReader(demo.UsageCSV(month.Start())), time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := (&report.Service{Store: e.srv.DB, DataDir: e.srv.DataDir(), Workers: 2}).Close(ctx, month, true); err != nil {
		t.Fatal(err)
	}

	tctx, cancel := context.WithTimeout(ctx, 180*time.Second)
	defer cancel()
	bctx := startBrowser(t, tctx)
	shots := artifactDir(t)
	name := func(step string) string { return "pages-" + step + "-" + e.backend }
	do, text := browserSteps(t, bctx, shots, name("failed"))
	visit := func(what, path, ready string) {
		t.Helper()
		do(what, chromedp.Navigate(e.url+path), chromedp.WaitReady(chromedp.CSS(ready)))
		checkAccessible(t, bctx, string(axe), path)
	}
	signIn := func(user, password string) {
		t.Helper()
		do("sign in as "+user,
			chromedp.Navigate(e.url+"/portal/signin"),
			chromedp.WaitVisible(chromedp.CSS(`#username`)),
			chromedp.SendKeys(chromedp.CSS(`#username`), user),
			chromedp.SendKeys(chromedp.CSS(`#password`), password),
			chromedp.Click(chromedp.CSS(`button[value="signin"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#signout`)),
		)
	}

	// Pages of a visitor: the landing page, the sign-in page (with an
	// error), the operator's sign-in, a page that does not exist.
	visit("landing", "/", `a[href="/portal/signin"]`)
	do("sign in with a wrong password",
		chromedp.Navigate(e.url+"/portal/signin"),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), demo.AliceSignIn),
		chromedp.SendKeys(chromedp.CSS(`#password`), "wrong"),
		chromedp.Click(chromedp.CSS(`button[value="signin"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#signin-error`)),
	)
	checkAccessible(t, bctx, string(axe), "sign-in page with an error")
	visit("operator sign-in", "/portal/operator", `#admin-key`)
	visit("not found", "/portal/nothing-here", `p.error`)

	// Alice, a consultant of Contoso: every page of hers.
	signIn(demo.AliceSignIn, e.creds.AlicePassword)
	do("open the partner dashboard",
		chromedp.Click(chromedp.CSS(`nav a[href^="/portal/partner"]`)),
		chromedp.WaitReady(chromedp.CSS(`.chart[data-rendered="true"]`)),
	)
	checkAccessible(t, bctx, string(axe), "partner dashboard")
	rendered, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('.chart[data-rendered="true"] canvas').length`))
	if err != nil || rendered != 3 {
		t.Errorf("charts drawn on the dashboard: %d (%v), want 3", rendered, err)
	}
	if got := text("main"); !strings.Contains(got, "Woodgrove Bank") || !strings.Contains(got, "Azure Synapse Analytics") {
		t.Errorf("dashboard: %q", got)
	}
	screenshot(t, bctx, shots, name("partner-dashboard"))

	// Download the partner report: the browser saves the API's CSV.
	dir := t.TempDir()
	progress := chromedp.Events(bctx, browser.DownloadProgress)
	do("download the partner report",
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: ptr(true)})
			return err
		}),
		chromedp.Click(chromedp.CSS(`a[href*="format=csv"]:not([href*="unlinked"])`)),
	)
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			b, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil || !strings.HasPrefix(string(b), "Month,") || !strings.Contains(string(b), "Woodgrove Bank") {
				t.Errorf("downloaded partner report: %v %q", err, b)
			}
			break
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatalf("download cancelled")
		}
	}

	resource := "/subscriptions/" + demo.WoodgroveSub + "/resourceGroups/payments/providers/Microsoft.Web/sites/checkout"
	do("explain a resource and day",
		chromedp.Navigate(e.url+"/portal/partner/explain"),
		chromedp.WaitVisible(chromedp.CSS(`#resource`)),
		chromedp.SendKeys(chromedp.CSS(`#resource`), resource),
		chromedp.SendKeys(chromedp.CSS(`#day`), month.Start().Format("2006-01-02")+"\r"),
		chromedp.WaitVisible(chromedp.CSS(`#h-answer-1`)),
	)
	if got := text("main"); !strings.Contains(got, "Partner ID "+demo.GermanyPartnerID+": credited") {
		t.Errorf("explain: %q", got)
	}
	checkAccessible(t, bctx, string(axe), "explain")
	visit("overview", "/portal", `#signout`)
	visit("link page", "/portal/link?directory="+demo.FabrikamTenant, `#partner-id`)
	visit("dashboard in a customer directory", "/portal/partner?directory="+demo.FabrikamTenant, `#no-partner`)
	visit("the wrong partner", "/portal/partner?partner="+demo.SoloPartnerID, `p.error`)
	if got := text("p.error"); !strings.Contains(got, "Only principals of Northwind Integrators") {
		t.Errorf("the wrong partner's dashboard says %q", got)
	}
	do("sign out", chromedp.Click(chromedp.CSS(`#signout`)), chromedp.WaitVisible(chromedp.CSS(`a[href="/portal/signin"]`)))

	// Bob, Fabrikam's administrator: the customer view.
	signIn(demo.BobSignIn, e.creds.BobPassword)
	visit("customer view", "/portal/customer", `#customer-credits`)
	do("customer chart", chromedp.WaitReady(chromedp.CSS(`.chart[data-rendered="true"]`)))
	screenshot(t, bctx, shots, name("customer-view"))
	visit("onboard a partner app", "/portal/onboard", `#app-id`)
	do("sign out", chromedp.Click(chromedp.CSS(`#signout`)), chromedp.WaitVisible(chromedp.CSS(`a[href="/portal/signin"]`)))

	// The operator.
	key, err := os.ReadFile(server.AdminKeyFile(e.dataDir))
	if err != nil {
		t.Fatal(err)
	}
	do("operator signs in",
		chromedp.Navigate(e.url+"/portal/operator"),
		chromedp.WaitVisible(chromedp.CSS(`#admin-key`)),
		chromedp.SendKeys(chromedp.CSS(`#admin-key`), strings.TrimSpace(string(key))+"\r"),
		chromedp.WaitVisible(chromedp.CSS(`#closes`)),
	)
	checkAccessible(t, bctx, string(axe), "monthly close")
	visit("versions", "/portal/operator/month?month="+month.String(), `#versions`)
	visit("a version", "/portal/operator/version?month="+month.String()+"&version=1", `dl`)
	screenshot(t, bctx, shots, name("operator"))
}

func ptr[T any](v T) *T { return &v }
