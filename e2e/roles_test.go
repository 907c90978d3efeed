package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink/demo"
)

// Issue 3 with unmodified clients. Debian bookworm's az CLI 2.45 cannot run
// `az role assignment …` against Debian's python3-azure at all (it reads
// assignments_client.config, which that SDK names _config, and fails before
// any request), so role assignments go through `az rest`; resource groups
// and management groups through az's own commands; and the Python
// azure-mgmt-authorization client end to end.

const rgData = "/subscriptions/" + demo.FabrikamSub + "/resourceGroups/data"

// testRolesPython: Fabrikam's administrator (Owner at the root) grants and
// revokes Reader with azure-mgmt-authorization; a Contributor is refused.
func testRolesPython(t *testing.T, e *env) {
	requirePythonSDK(t)
	if res := run(t, "", nil, 30*time.Second, python, "-c", "import azure.mgmt.authorization"); res.ExitCode != 0 {
		missing(t, "azure.mgmt.authorization is not importable: %s", res.Stderr)
	}
	const name = "e2e00000-0000-4000-8000-000000000001"
	common := []string{"PL_SUBSCRIPTION=" + demo.FabrikamSub, "PL_SCOPE=" + rgData, "PL_PRINCIPAL=" + demo.AutomationInFab}
	bob := append([]string{"PL_KIND=user", "PL_TENANT=adfs", "PL_USERNAME=" + demo.BobSignIn, "PL_PASSWORD=" + e.creds.BobPassword}, common...)
	out := runPythonScript(t, e, "testdata/authorization.py", bob,
		"roledef:Reader", "create:"+name, "get:"+name, "list", "delete:"+name, "gone:"+name)
	if s := out["roledef:Reader"]; !s.OK || !strings.Contains(string(s.Result), "acdd72a7-3385-48ef-bd42-f606fba81ae7") {
		t.Fatalf("role definition lookup: %+v %s", s.Error, s.Result)
	}
	var ra struct{ Name, Scope, PrincipalID, PrincipalType, RoleDefinitionID string }
	if s := out["create:"+name]; !s.OK {
		t.Fatalf("create: %+v", s.Error)
	} else if json.Unmarshal(s.Result, &ra); ra.Name != name || ra.Scope != rgData || ra.PrincipalID != demo.AutomationInFab ||
		ra.PrincipalType != "ServicePrincipal" || !strings.HasSuffix(ra.RoleDefinitionID, "acdd72a7-3385-48ef-bd42-f606fba81ae7") {
		t.Errorf("created assignment = %s", s.Result)
	}
	if s := out["list"]; !s.OK || !strings.Contains(string(s.Result), name) || !strings.Contains(string(s.Result), `"scope": "/"`) {
		t.Errorf("atScope() list must hold the new assignment and the root Owner: %+v %s", s.Error, s.Result)
	}
	if s := out["delete:"+name]; !s.OK {
		t.Errorf("delete: %+v", s.Error)
	}
	if s := out["get:"+name]; !s.OK || !strings.Contains(string(s.Result), name) {
		t.Errorf("get: %+v", s.Error)
	}
	if s := out["gone:"+name]; s.OK || s.Error.Status != 404 || s.Error.Code != "RoleAssignmentNotFound" {
		t.Errorf("get after delete: ok=%v %+v", s.OK, s.Error)
	}
	// The automation service principal is Contributor on the subscription:
	// it may not write role assignments (Microsoft.Authorization/*/Write is a notAction).
	sp := append([]string{"PL_KIND=sp", "PL_TENANT=" + demo.FabrikamTenant, "PL_CLIENT_ID=" + demo.AutomationAppID,
		"PL_SECRET=" + e.creds.AutomationSecret}, common...)
	out = runPythonScript(t, e, "testdata/authorization.py", sp, "roledef:Reader", "create:e2e00000-0000-4000-8000-000000000002")
	if s := out["create:e2e00000-0000-4000-8000-000000000002"]; s.OK || s.Error.Status != 403 || s.Error.Code != "AuthorizationFailed" {
		t.Errorf("Contributor creates a role assignment: ok=%v %+v", s.OK, s.Error)
	}
}

// testRolesAzCLI: the administrator signs in with az, creates a resource
// group and a management group with az's own commands, and grants and
// revokes a role with az rest.
func testRolesAzCLI(t *testing.T, e *env) {
	az, mustAz := azSession(t, e)
	login := mustAz("login", "-u", demo.BobSignIn, "-p="+e.creds.BobPassword, "-o", "json")
	if !strings.Contains(login.Stdout, demo.FabrikamSub) {
		t.Fatalf("az login does not list the subscription bob owns: %s", login.Stdout)
	}
	rg := mustAz("group", "create", "-n", "e2e-rg", "-l", "westeurope", "-o", "json")
	if !strings.Contains(rg.Stdout, `"name": "e2e-rg"`) || !strings.Contains(rg.Stdout, `"Succeeded"`) {
		t.Errorf("az group create: %s", rg.Stdout)
	}
	if list := mustAz("group", "list", "-o", "json"); !strings.Contains(list.Stdout, "e2e-rg") {
		t.Errorf("az group list: %s", list.Stdout)
	}
	// az group exists sends HEAD (ResourceGroups_CheckExistence): 204 or 404.
	for name, want := range map[string]string{"e2e-rg": "true", "no-such-rg": "false"} {
		if out := mustAz("group", "exists", "-n", name); strings.TrimSpace(out.Stdout) != want {
			t.Errorf("az group exists -n %s: %q, want %s", name, out.Stdout, want)
		}
	}
	mustAz("account", "management-group", "create", "-n", "mg-e2e", "-o", "json")
	moved := mustAz("account", "management-group", "subscription", "add", "--name", "mg-e2e", "--subscription", demo.FabrikamSub, "-o", "json")
	if !strings.Contains(moved.Stdout, "managementGroups/mg-e2e") {
		t.Errorf("az account management-group subscription add: %s", moved.Stdout)
	}

	const name = "e2e00000-0000-4000-8000-0000000000a1"
	scope := "/subscriptions/" + demo.FabrikamSub + "/resourceGroups/e2e-rg"
	url := e.url + scope + "/providers/Microsoft.Authorization/roleAssignments/" + name + "?api-version=2022-04-01"
	body := `{"properties":{"roleDefinitionId":"/subscriptions/` + demo.FabrikamSub +
		`/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7","principalId":"` +
		demo.AliceInFabrikam + `","principalType":"User"}}`
	created := mustAz("rest", "--method", "put", "--url", url, "--body", body, "-o", "json")
	if !strings.Contains(created.Stdout, `"scope": "`+scope+`"`) || !strings.Contains(created.Stdout, demo.AliceInFabrikam) {
		t.Errorf("az rest put role assignment: %s", created.Stdout)
	}
	listURL := e.url + scope + "/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=atScope()"
	if list := mustAz("rest", "--method", "get", "--url", listURL, "-o", "json"); !strings.Contains(list.Stdout, name) {
		t.Errorf("az rest list: %s", list.Stdout)
	}
	// Bob owns the root, so the management group above reaches the new group.
	conflict := az("rest", "--method", "put", "--url", strings.Replace(url, name, "e2e00000-0000-4000-8000-0000000000a2", 1), "--body", body)
	if conflict.ExitCode == 0 || !strings.Contains(conflict.Stderr, "RoleAssignmentExists") {
		t.Errorf("duplicate grant under another name: exit %d %s", conflict.ExitCode, conflict.Stderr)
	}
	mustAz("rest", "--method", "delete", "--url", url)
	if gone := az("rest", "--method", "get", "--url", url); gone.ExitCode == 0 || !strings.Contains(gone.Stderr, "RoleAssignmentNotFound") {
		t.Errorf("get after delete: exit %d %s", gone.ExitCode, gone.Stderr)
	}
}
