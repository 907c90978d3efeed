package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/demo"
)

// testPortalBrowser drives the portal in headless Chromium as alice: sign
// in, switch to Fabrikam's directory, open Link to a partner ID, see a
// refusal next to the field, link, update and remove, each visible to the
// API's store at once (docs/portal.md).
func testPortalBrowser(t *testing.T, e *env) {
	requireFile(t, chromiumPath, "chromium (apt install chromium)")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	bctx := startBrowser(t, ctx)
	shots := artifactDir(t)
	name := func(step string) string { return "portal-" + step + "-" + e.backend }
	do, text := browserSteps(t, bctx, shots, name("failed"))
	current := func() string {
		l, err := e.srv.DB.CurrentLink(context.Background(), demo.FabrikamTenant, demo.AliceInFabrikam)
		if partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND {
			return ""
		} else if err != nil {
			t.Fatal(err)
		}
		return l.PartnerID
	}

	// The first action starts the browser.
	do("open the portal", chromedp.Navigate(e.url+"/"))
	do("sign in",
		chromedp.Click(chromedp.CSS(`a[href="/portal/signin"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), demo.AliceSignIn),
		chromedp.SendKeys(chromedp.CSS(`#password`), "not-her-password"),
		chromedp.Click(chromedp.CSS(`button[value="signin"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#signin-error`)),
	)
	if got := text("#signin-error"); !strings.Contains(got, "not correct") {
		t.Errorf("wrong password says %q", got)
	}
	screenshot(t, bctx, shots, name("wrong-password"))
	// The page keeps the username, never the password.
	do("sign in again",
		chromedp.SendKeys(chromedp.CSS(`#password`), e.creds.AlicePassword),
		chromedp.Click(chromedp.CSS(`button[value="signin"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#directory`)),
	)
	screenshot(t, bctx, shots, name("overview"))
	do("switch directory",
		chromedp.SetValue(chromedp.CSS(`#directory`), demo.FabrikamTenant),
		chromedp.Click(chromedp.CSS(`#switch`)),
		// The new page marks the directory it shows.
		chromedp.WaitReady(chromedp.CSS(`#directory option[selected][value="`+demo.FabrikamTenant+`"]`)),
	)
	if got := text("main"); !strings.Contains(got, demo.FabrikamTenant) {
		t.Fatalf("after switching, the page says %q", got)
	}
	do("open Link to a partner ID",
		chromedp.Click(chromedp.CSS(`nav a[href^="/portal/link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#partner-id`)),
	)
	if got := text("#current-link"); !strings.Contains(got, "not linked") {
		t.Errorf("current link: %q", got)
	}

	// A global ID whose organization has location IDs is refused, naming them.
	do("link a global ID",
		chromedp.SendKeys(chromedp.CSS(`#partner-id`), demo.GlobalPartnerID),
		chromedp.Click(chromedp.CSS(`button[value="link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#partner-id-error`)),
	)
	if got := text("#partner-id-error"); !strings.Contains(got, demo.GermanyPartnerID) {
		t.Errorf("refusal of the global ID says %q", got)
	}
	screenshot(t, bctx, shots, name("refused"))
	if got := current(); got != "" {
		t.Fatalf("linked after a refusal: %s", got)
	}

	do("link",
		chromedp.Clear(chromedp.CSS(`#partner-id`)),
		chromedp.SendKeys(chromedp.CSS(`#partner-id`), demo.GermanyPartnerID),
		chromedp.Click(chromedp.CSS(`button[value="link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.ok[data-done="link"]`)),
	)
	if got := current(); got != demo.GermanyPartnerID {
		t.Fatalf("after linking in the portal the store has %q", got)
	}
	if got := text("#current-link"); !strings.Contains(got, "Contoso Services Germany") {
		t.Errorf("current link: %q", got)
	}
	screenshot(t, bctx, shots, name("linked"))
	do("update",
		chromedp.SendKeys(chromedp.CSS(`#partner-id`), demo.NorwayPartnerID),
		chromedp.Click(chromedp.CSS(`button[value="update"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.ok[data-done="update"]`)),
	)
	if got := current(); got != demo.NorwayPartnerID {
		t.Fatalf("after the update the store has %q", got)
	}
	// Remove, by keyboard: focus the button and press Enter.
	do("remove",
		chromedp.Focus(chromedp.CSS(`button[value="remove"]`)),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`p.ok[data-done="remove"]`)),
	)
	if got := text("p.ok"); !strings.Contains(got, "Removed the link to partner ID "+demo.NorwayPartnerID) {
		t.Errorf("after removing: %q", got)
	}
	if got := current(); got != "" {
		t.Fatalf("after removing the store has %q", got)
	}
	screenshot(t, bctx, shots, name("removed"))
	do("sign out",
		chromedp.Click(chromedp.CSS(`#signout`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/portal/signin"]`)),
	)
}
