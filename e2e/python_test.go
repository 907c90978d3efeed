package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink/demo"
)

const python = "/usr/bin/python3"

// pyStep is one line of testdata/managementpartner.py's output.
type pyStep struct {
	Step   string          `json:"step"`
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  struct {
		Type    string `json:"type"`
		Status  int    `json:"status"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// pyPartner is a PartnerResponse as the Python SDK decoded it.
type pyPartner struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	Etag        int    `json:"etag"`
	PartnerID   string `json:"partnerId"`
	PartnerName string `json:"partnerName"`
	TenantID    string `json:"tenantId"`
	ObjectID    string `json:"objectId"`
	Version     int    `json:"version"`
	CreatedTime string `json:"createdTime"`
	UpdatedTime string `json:"updatedTime"`
	State       string `json:"state"`
}

func requirePythonSDK(t *testing.T) {
	t.Helper()
	requireFile(t, python, "python3")
	res := run(t, "", nil, 30*time.Second, python, "-c", "import azure.identity, azure.mgmt.managementpartner, msal")
	if res.ExitCode != 0 {
		missing(t, "the Azure Python SDK is not importable by %s (apt install python3-azure): %s", python, res.Stderr)
	}
}

// runPython runs the script with the given sign-in environment and steps,
// and returns its steps by name.
func runPython(t *testing.T, e *env, signIn []string, steps ...string) map[string]pyStep {
	t.Helper()
	return runPythonScript(t, e, "testdata/managementpartner.py", signIn, steps...)
}

// runPythonScript runs one of the testdata scripts that print a JSON step
// per line.
func runPythonScript(t *testing.T, e *env, name string, signIn []string, steps ...string) map[string]pyStep {
	t.Helper()
	script, err := filepath.Abs(name)
	if err != nil {
		t.Fatal(err)
	}
	env := append([]string{"PL_URL=" + e.url, "REQUESTS_CA_BUNDLE=" + e.caFile, "HOME=" + t.TempDir()}, signIn...)
	res := mustRun(t, t.TempDir(), env, 90*time.Second, python, append([]string{script}, steps...)...)
	out := map[string]pyStep{}
	for _, line := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
		var s pyStep
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("python output line %q: %v\nstderr:\n%s", line, err, res.Stderr)
		}
		out[s.Step] = s
	}
	if len(out) != len(steps) {
		t.Fatalf("python ran %d of %d steps\nstdout:\n%s\nstderr:\n%s", len(out), len(steps), res.Stdout, res.Stderr)
	}
	return out
}

func (s pyStep) partner(t *testing.T) pyPartner {
	t.Helper()
	if !s.OK {
		t.Fatalf("python %s failed: %s %d %s %s", s.Step, s.Error.Type, s.Error.Status, s.Error.Code, s.Error.Message)
	}
	var p pyPartner
	if err := json.Unmarshal(s.Result, &p); err != nil {
		t.Fatalf("python %s result %s: %v", s.Step, s.Result, err)
	}
	return p
}

// requireNotFound asserts a step failed with ResourceNotFoundError and the
// server's message.
func (s pyStep) requireNotFound(t *testing.T, message string) {
	t.Helper()
	if s.OK || s.Error.Type != "ResourceNotFoundError" || s.Error.Status != 404 || s.Error.Code != "NotFound" ||
		!strings.Contains(s.Error.Message, message) {
		t.Errorf("python %s: ok=%v error %+v; want ResourceNotFoundError 404 NotFound %q", s.Step, s.OK, s.Error, message)
	}
}

func checkPyPartner(t *testing.T, step string, p pyPartner, partnerID, partnerName, tenant, object string) {
	t.Helper()
	if p.ID != "/providers/microsoft.managementpartner/partners/"+partnerID || p.Name != partnerID ||
		p.Type != "Microsoft.ManagementPartner/partners" || p.PartnerID != partnerID || p.PartnerName != partnerName ||
		p.TenantID != tenant || p.ObjectID != object || p.State != "Active" || p.Version < 1 || p.Etag != p.Version ||
		p.CreatedTime == "" || p.UpdatedTime == "" {
		t.Errorf("python %s: %+v; want partner %s (%s) for %s in %s", step, p, partnerID, partnerName, object, tenant)
	}
}

// testPython drives the Python SDK: a service principal (client
// credentials) in Woodgrove, and alice, a guest in Fabrikam, signing in
// with her home password.
func testPython(t *testing.T, e *env) {
	requirePythonSDK(t)

	t.Run("ServicePrincipal", func(t *testing.T) {
		sp := []string{"PL_KIND=sp", "PL_TENANT=" + demo.WoodgroveTenant, "PL_CLIENT_ID=" + demo.AutomationAppID,
			"PL_SECRET=" + e.creds.AutomationSecret}
		out := runPython(t, e, sp, "current", "create:"+demo.GermanyPartnerID, "get:"+demo.GermanyPartnerID,
			"update:"+demo.NorwayPartnerID, "delete:"+demo.NorwayPartnerID, "get:"+demo.NorwayPartnerID, "operations")
		out["current"].requireNotFound(t, "No partner ID is linked")
		created := out["create:"+demo.GermanyPartnerID].partner(t)
		checkPyPartner(t, "create", created, demo.GermanyPartnerID, "Contoso Services Germany", demo.WoodgroveTenant, demo.AutomationInWood)
		got := out["get:"+demo.GermanyPartnerID].partner(t)
		checkPyPartner(t, "get", got, demo.GermanyPartnerID, "Contoso Services Germany", demo.WoodgroveTenant, demo.AutomationInWood)
		updated := out["update:"+demo.NorwayPartnerID].partner(t)
		checkPyPartner(t, "update", updated, demo.NorwayPartnerID, "Contoso Services Norway", demo.WoodgroveTenant, demo.AutomationInWood)
		if updated.Version != created.Version+1 || updated.CreatedTime != created.CreatedTime {
			t.Errorf("python update: version %d created %s; want %d and the original %s",
				updated.Version, updated.CreatedTime, created.Version+1, created.CreatedTime)
		}
		if d := out["delete:"+demo.NorwayPartnerID]; !d.OK {
			t.Errorf("python delete: %+v", d.Error)
		}
		out["get:"+demo.NorwayPartnerID].requireNotFound(t, "No partner ID is linked")
		var ops []struct{ Name, Provider, Operation string }
		if s := out["operations"]; !s.OK || json.Unmarshal(s.Result, &ops) != nil || len(ops) != 4 ||
			ops[0].Name != "Microsoft.ManagementPartner/partners/read" || ops[0].Provider != "Microsoft ManagementPartner" {
			t.Errorf("python operations: %s %+v", s.Result, s.Error)
		}
	})

	t.Run("UsernamePassword", func(t *testing.T) {
		user := []string{"PL_KIND=user", "PL_TENANT=" + demo.FabrikamTenant, "PL_USERNAME=" + demo.AliceSignIn,
			"PL_PASSWORD=" + e.creds.AlicePassword}
		out := runPython(t, e, user, "current", "create:"+demo.SoloPartnerID, "get:"+demo.SoloPartnerID,
			"get:"+demo.GermanyPartnerID, "delete:"+demo.SoloPartnerID)
		out["current"].requireNotFound(t, "No partner ID is linked")
		// The token is for her guest account in Fabrikam, not her home account.
		created := out["create:"+demo.SoloPartnerID].partner(t)
		checkPyPartner(t, "create", created, demo.SoloPartnerID, "Northwind Integrators", demo.FabrikamTenant, demo.AliceInFabrikam)
		checkPyPartner(t, "get", out["get:"+demo.SoloPartnerID].partner(t), demo.SoloPartnerID, "Northwind Integrators",
			demo.FabrikamTenant, demo.AliceInFabrikam)
		out["get:"+demo.GermanyPartnerID].requireNotFound(t, "linked to partner ID "+demo.SoloPartnerID)
		if d := out["delete:"+demo.SoloPartnerID]; !d.OK {
			t.Errorf("python delete: %+v", d.Error)
		}
	})
}
