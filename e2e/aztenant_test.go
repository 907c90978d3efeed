package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink/demo"
)

// testAzCLITenant: az CLI 2.45 with the cloud's AD endpoint at
// {base}/adfs/partnerlink (docs/clients.md, "az CLI"): az sends the tenant
// it signs in to, MSAL skips instance discovery, and tokens are for that
// tenant. A guest links in two customer tenants with az alone, a service
// principal links in the customer tenant it logged into, a device-code
// login reaches a customer tenant, and nobody gets a token for a tenant
// where they have no account.
func testAzCLITenant(t *testing.T, e *env) {
	az, mustAz, azDir := azCloud(t, e, e.url+"/adfs/partnerlink")
	partner := func(method, id string) partnerWire {
		t.Helper()
		return azPartner(t, az, e.url, method, id)
	}
	remove := func(id string) {
		t.Helper()
		if res := az("rest", "--method", "delete", "--url", e.url+mpBase+"/partners/"+id+"?api-version=2018-02-01"); res.ExitCode != 0 {
			t.Errorf("az rest delete %s: %s", id, res.Stderr)
		}
	}

	// The automation app's service principal in Woodgrove.
	login := mustAz("login", "--service-principal", "-u", demo.AutomationAppID, "-p="+e.creds.AutomationSecret,
		"--tenant", demo.WoodgroveTenant, "--allow-no-subscriptions", "-o", "json")
	if !strings.Contains(login.Stdout, demo.WoodgroveTenant) {
		t.Fatalf("az login --tenant Woodgrove: %s", login.Stdout)
	}
	checkWirePartner(t, "service principal in Woodgrove", partner("put", demo.GermanyPartnerID), demo.GermanyPartnerID,
		"Contoso Services Germany", demo.WoodgroveTenant, demo.AutomationInWood)
	remove(demo.GermanyPartnerID)

	// Alice, without --tenant: az finds every tenant where she has an
	// account, and links as her guest account in each customer tenant.
	userLogin := mustAz("login", "-u", demo.AliceSignIn, "-p="+e.creds.AlicePassword, "--allow-no-subscriptions", "-o", "json")
	var accounts []struct {
		TenantID string `json:"tenantId"`
		Name     string `json:"name"`
	}
	if err := json.Unmarshal([]byte(userLogin.Stdout), &accounts); err != nil {
		t.Fatalf("az login output %q: %v", userLogin.Stdout, err)
	}
	tenants := map[string]string{}
	for _, a := range accounts {
		tenants[a.TenantID] = a.Name
	}
	if len(tenants) != 3 || tenants[demo.FabrikamTenant] == "" || tenants[demo.WoodgroveTenant] == "" {
		t.Fatalf("az login found %v; want Contoso, Fabrikam and Woodgrove", tenants)
	}
	mustAz("account", "set", "-s", "fabrikam-production")
	checkWirePartner(t, "alice in Fabrikam", partner("put", demo.GermanyPartnerID), demo.GermanyPartnerID,
		"Contoso Services Germany", demo.FabrikamTenant, demo.AliceInFabrikam)
	patched := partner("patch", demo.NorwayPartnerID)
	checkWirePartner(t, "alice in Fabrikam, updated", patched, demo.NorwayPartnerID, "Contoso Services Norway", demo.FabrikamTenant, demo.AliceInFabrikam)
	partner("patch", demo.GermanyPartnerID)
	mustAz("account", "set", "-s", "woodgrove-apps")
	checkWirePartner(t, "alice in Woodgrove", partner("put", demo.NorwayPartnerID), demo.NorwayPartnerID,
		"Contoso Services Norway", demo.WoodgroveTenant, demo.AliceInWoodgrove)
	remove(demo.NorwayPartnerID)

	// Device code, straight into Fabrikam: the link made above is hers there.
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, azPath, "login", "--use-device-code", "--tenant", demo.FabrikamTenant, "--allow-no-subscriptions", "-o", "none")
	cmd.Env = append(baseEnv(), "AZURE_CONFIG_DIR="+azDir, "HOME="+azDir, "REQUESTS_CA_BUNDLE="+e.caFile, "AZURE_CORE_COLLECT_TELEMETRY=false")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	userCode := ""
	sc := bufio.NewScanner(stderr)
	for userCode == "" && sc.Scan() {
		if m := userCodeRE.FindStringSubmatch(sc.Text()); m != nil {
			userCode = m[1]
		}
	}
	if userCode == "" {
		cmd.Process.Kill()
		t.Fatalf("az login --use-device-code printed no code")
	}
	approveInBrowser(t, ctx, e.url+"/device", userCode, demo.AliceSignIn, e.creds.AlicePassword, "az-device-"+e.backend)
	var rest strings.Builder
	done := make(chan struct{})
	go func() {
		defer close(done)
		for sc.Scan() {
			rest.WriteString(sc.Text() + "\n")
		}
	}()
	<-done
	if err := cmd.Wait(); err != nil {
		t.Fatalf("az login --use-device-code: %v\n%s", err, rest.String())
	}
	current := partner("get", "")
	checkWirePartner(t, "alice in Fabrikam after a device-code login", current, demo.GermanyPartnerID,
		"Contoso Services Germany", demo.FabrikamTenant, demo.AliceInFabrikam)
	remove(demo.GermanyPartnerID)

	// Bob has no account in Contoso: no token there.
	res := az("login", "-u", demo.BobSignIn, "-p="+e.creds.BobPassword, "--tenant", demo.ContosoTenant, "--allow-no-subscriptions")
	if res.ExitCode == 0 {
		t.Errorf("bob signed in to Contoso with az: %s", res.Stdout)
	}
}
