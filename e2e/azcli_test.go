package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink/demo"
)

const azPath = "/usr/bin/az"

// testAzCLI drives az CLI 2.45: a cloud registered with the /adfs
// authority (2.45 cannot turn instance discovery off otherwise), a service
// principal login, and az rest on the ManagementPartner endpoints. /adfs
// tokens are for the app's home tenant: Contoso's automation principal.
// azSession prepares az CLI 2.45 against the server: its own config
// directory, the CA, and a registered cloud whose AD endpoint is /adfs.
func azSession(t *testing.T, e *env) (az, mustAz func(args ...string) cmdResult) {
	t.Helper()
	az, mustAz, _ = azCloud(t, e, e.url+"/adfs")
	return az, mustAz
}

// azCloud is azSession with the cloud's AD endpoint given; it also returns
// the configuration directory.
func azCloud(t *testing.T, e *env, adEndpoint string) (az, mustAz func(args ...string) cmdResult, dir string) {
	t.Helper()
	requireFile(t, azPath, "az CLI (apt install azure-cli)")
	dir = t.TempDir()
	env := []string{"AZURE_CONFIG_DIR=" + dir, "HOME=" + dir, "REQUESTS_CA_BUNDLE=" + e.caFile,
		"AZURE_CORE_COLLECT_TELEMETRY=false", "AZURE_CORE_NO_COLOR=true", "AZURE_CORE_SURVEY_MESSAGE=false"}
	az = func(args ...string) cmdResult {
		t.Helper()
		return run(t, dir, env, 90*time.Second, azPath, args...)
	}
	mustAz = func(args ...string) cmdResult {
		t.Helper()
		return mustRun(t, dir, env, 90*time.Second, azPath, args...)
	}
	mustAz("cloud", "register", "-n", "partnerlink", "--endpoint-resource-manager", e.url+"/",
		"--endpoint-active-directory", adEndpoint,
		"--endpoint-active-directory-resource-id", "https://management.core.windows.net/",
		"--endpoint-active-directory-graph-resource-id", "https://graph.windows.net/",
		"--endpoint-management", "https://management.core.windows.net/")
	mustAz("cloud", "set", "-n", "partnerlink")
	return az, mustAz, dir
}

func testAzCLI(t *testing.T, e *env) {
	az, mustAz := azSession(t, e)
	login := mustAz("login", "--service-principal", "-u", demo.AutomationAppID, "-p="+e.creds.AutomationSecret,
		"--tenant", demo.ContosoTenant, "--allow-no-subscriptions", "-o", "json")
	var accounts []struct {
		TenantID string `json:"tenantId"`
		User     struct{ Name, Type string }
	}
	if err := json.Unmarshal([]byte(login.Stdout), &accounts); err != nil || len(accounts) == 0 {
		t.Fatalf("az login output %q: %v", login.Stdout, err)
	}
	for _, a := range accounts {
		if a.TenantID != demo.ContosoTenant || a.User.Name != demo.AutomationAppID || a.User.Type != "servicePrincipal" {
			t.Errorf("az login account: %+v", a)
		}
	}

	partnersURL := e.url + mpBase + "/partners"
	rest := func(method, url string) cmdResult {
		t.Helper()
		return az("rest", "--method", method, "--url", url+"?api-version=2018-02-01", "-o", "json")
	}
	restPartner := func(method, partnerID string) partnerWire {
		t.Helper()
		return azPartner(t, az, e.url, method, partnerID)
	}
	notLinked := func(what string, res cmdResult) {
		t.Helper()
		if res.ExitCode == 0 || !strings.Contains(res.Stderr, "NotFound") || !strings.Contains(res.Stderr, "No partner ID is linked") {
			t.Errorf("%s with nothing linked: exit %d stdout %q stderr %q; want a failure with NotFound 'No partner ID is linked'",
				what, res.ExitCode, res.Stdout, res.Stderr)
		}
	}

	notLinked("az rest GET partners", rest("get", partnersURL))

	created := restPartner("put", demo.GermanyPartnerID)
	checkWirePartner(t, "az rest put", created, demo.GermanyPartnerID, "Contoso Services Germany", demo.ContosoTenant, demo.AutomationInCont)
	got := restPartner("get", demo.GermanyPartnerID)
	checkWirePartner(t, "az rest get", got, demo.GermanyPartnerID, "Contoso Services Germany", demo.ContosoTenant, demo.AutomationInCont)
	updated := restPartner("patch", demo.NorwayPartnerID)
	checkWirePartner(t, "az rest patch", updated, demo.NorwayPartnerID, "Contoso Services Norway", demo.ContosoTenant, demo.AutomationInCont)
	if updated.Properties.Version != created.Properties.Version+1 || updated.Properties.CreatedTime != created.Properties.CreatedTime {
		t.Errorf("az rest patch: version %d created %s; want %d and %s", updated.Properties.Version, updated.Properties.CreatedTime,
			created.Properties.Version+1, created.Properties.CreatedTime)
	}
	// az managementpartner show (no ID) sends ".../partners/" with a
	// trailing slash: the current link.
	current := restPartner("get", "")
	checkWirePartner(t, "az rest get partners/", current, demo.NorwayPartnerID, "Contoso Services Norway", demo.ContosoTenant, demo.AutomationInCont)

	del := rest("delete", partnersURL+"/"+demo.NorwayPartnerID)
	if del.ExitCode != 0 || strings.TrimSpace(del.Stdout) != "" {
		t.Errorf("az rest delete: exit %d stdout %q stderr %q; want success with no output", del.ExitCode, del.Stdout, del.Stderr)
	}
	notLinked("az rest GET after delete", rest("get", partnersURL+"/"+demo.NorwayPartnerID))

	// A user: alice signs in with her password; az lists every tenant
	// where she has an account (GET /tenants). /adfs tokens are for her
	// home tenant, so the link is her Contoso account's.
	userLogin := mustAz("login", "-u", demo.AliceSignIn, "-p="+e.creds.AlicePassword, "--allow-no-subscriptions", "-o", "json")
	var userAccounts []struct {
		TenantID string `json:"tenantId"`
		User     struct{ Name, Type string }
	}
	if err := json.Unmarshal([]byte(userLogin.Stdout), &userAccounts); err != nil {
		t.Fatalf("az login (user) output %q: %v", userLogin.Stdout, err)
	}
	seen := map[string]bool{}
	for _, a := range userAccounts {
		if a.User.Name != demo.AliceSignIn || a.User.Type != "user" {
			t.Errorf("az login (user) account: %+v", a)
		}
		seen[a.TenantID] = true
	}
	if len(seen) != 3 || !seen[demo.ContosoTenant] || !seen[demo.FabrikamTenant] || !seen[demo.WoodgroveTenant] {
		t.Errorf("az login (user) tenants %v; want Contoso, Fabrikam and Woodgrove", seen)
	}
	notLinked("az rest GET partners as alice", rest("get", partnersURL))
	aliceLink := restPartner("put", demo.SoloPartnerID)
	checkWirePartner(t, "az rest put as alice", aliceLink, demo.SoloPartnerID, "Northwind Integrators", demo.ContosoTenant, demo.AliceID)
	if del := rest("delete", partnersURL+"/"+demo.SoloPartnerID); del.ExitCode != 0 {
		t.Errorf("az rest delete as alice: exit %d %s", del.ExitCode, del.Stderr)
	}

	ops := mustAz("rest", "--method", "get", "--url", e.url+mpBase+"/operations?api-version=2018-02-01", "-o", "json")
	var list struct {
		Value []struct{ Name string } `json:"value"`
	}
	if err := json.Unmarshal([]byte(ops.Stdout), &list); err != nil || len(list.Value) != 4 {
		t.Errorf("az rest operations: %q %v", ops.Stdout, err)
	}
}

// checkWirePartner asserts a PartnerResponse body.
func checkWirePartner(t *testing.T, what string, p partnerWire, partnerID, partnerName, tenant, object string) {
	t.Helper()
	pp := p.Properties
	if p.ID != "/providers/microsoft.managementpartner/partners/"+partnerID || p.Name != partnerID ||
		p.Type != "Microsoft.ManagementPartner/partners" || p.Etag != pp.Version || pp.Version < 1 ||
		pp.PartnerID != partnerID || pp.PartnerName != partnerName || pp.TenantID != tenant || pp.ObjectID != object ||
		pp.State != "Active" || pp.CreatedTime == "" || pp.UpdatedTime == "" {
		t.Errorf("%s: %+v; want partner %s (%s) for %s in %s", what, p, partnerID, partnerName, object, tenant)
	}
}

// azPartner sends az rest METHOD .../partners/{id} and decodes the answer.
func azPartner(t *testing.T, az func(args ...string) cmdResult, base, method, partnerID string) partnerWire {
	t.Helper()
	res := az("rest", "--method", method, "--url", base+mpBase+"/partners/"+partnerID+"?api-version=2018-02-01", "-o", "json")
	if res.ExitCode != 0 {
		t.Fatalf("az rest %s %s: exit %d: %s", method, partnerID, res.ExitCode, res.Stderr)
	}
	var p partnerWire
	if err := json.Unmarshal([]byte(res.Stdout), &p); err != nil {
		t.Fatalf("az rest %s output %q: %v", method, res.Stdout, err)
	}
	return p
}
