package e2e

import (
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink/demo"
)

// testOnboardCLI: Fabrikam's administrator runs the service principal
// accelerator with the partnerlink CLI (docs/clients.md, "Onboarding a
// service principal"); no secret is issued, so the partner signs in
// with its app's own secret and finds its link; a second run changes
// nothing.
func testOnboardCLI(t *testing.T, e *env) {
	bob := newCLI(t)
	bob.mustRun("login", "--server", e.url, "--ca-file", e.caFile, "--tenant", demo.FabrikamTenant,
		"--username", demo.BobSignIn, "--password", e.creds.BobPassword)
	args := []string{"onboard", "service-principal", "--tenant", demo.FabrikamTenant, "--app-id", reportingAppID,
		"--role", "Contributor", "--scope", "/subscriptions/" + demo.FabrikamSub, "--partner-id", demo.GermanyPartnerID}
	out := bob.mustRun(args...).Stdout
	for _, want := range []string{"Service principal contoso-reporting (app " + reportingAppID + " of tenant " + demo.ContosoTenant + ") in tenant " + demo.FabrikamTenant + ": created",
		"Role Contributor at /subscriptions/" + demo.FabrikamSub + ": assigned", "Partner ID " + demo.GermanyPartnerID + " (Contoso Services Germany): linked",
		"its app's own secret (none was issued here)"} {
		if !strings.Contains(out, want) {
			t.Errorf("onboard output lacks %q:\n%s", want, out)
		}
	}
	// The partner, with its app's secret: its service principal in Fabrikam is linked.
	partner := newCLI(t)
	partner.mustRun("login", "--server", e.url, "--ca-file", e.caFile, "--service-principal", "-u", reportingAppID, "-p", reportingSecret, "--tenant", demo.FabrikamTenant)
	shown := partner.link("show")
	if shown.PartnerID != demo.GermanyPartnerID || shown.TenantID != demo.FabrikamTenant {
		t.Errorf("the partner's link after onboarding: %+v", shown)
	}
	again := bob.mustRun(args...).Stdout
	if !strings.Contains(again, "Nothing changed") || strings.Contains(again, "Secret") {
		t.Errorf("second run:\n%s", again)
	}
	// Alice (a guest without rights at the root) is refused, naming the step.
	alice := newCLI(t)
	alice.mustRun("login", "--server", e.url, "--ca-file", e.caFile, "--tenant", demo.FabrikamTenant,
		"--username", demo.AliceSignIn, "--password", e.creds.AlicePassword)
	if res := alice.run(args...); res.ExitCode == 0 || !strings.Contains(res.Stderr, "check the administrator") {
		t.Errorf("alice runs the accelerator: exit %d %s", res.ExitCode, res.Stderr)
	}
	partner.mustRun("link", "delete", "--partner-id", demo.GermanyPartnerID)
}
