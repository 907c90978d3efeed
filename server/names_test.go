package server_test

import (
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink/demo"
)

// docs/rules.md#names-and-ids: ids and names that pages, paths and files
// cannot carry are refused through the API and ARM, naming the field; an
// HTML-like role name is kept as given.
func TestPowerPlatformIDsAndRoleNames(t *testing.T) {
	_, tc, _, bob := startAsBob(t)
	envs := "/api/v1/tenants/" + demo.FabrikamTenant + "/environments/"
	for _, id := range []string{"%22%3E%3Cimg%20src=x%3E", strings.Repeat("e", 129), "env%09x"} {
		if status, out := tc.call("PUT", envs+id, bob, `{"type":"Production"}`); status != 400 || !strings.Contains(out, "environment id") {
			t.Errorf("environment %s: %d %s", id, status, out)
		}
	}
	if status, out := tc.call("PUT", envs+"env-prod", bob, `{"type":"Production"}`); status != 200 {
		t.Fatalf("environment env-prod: %d %s", status, out)
	}
	if status, out := tc.call("PUT", envs+"env-prod/resources/app%20one", bob, `{"kind":"CanvasApp"}`); status != 400 || !strings.Contains(out, "resource id") {
		t.Errorf("resource with a space: %d %s", status, out)
	}
	role := func(id, name string) (int, string) {
		return tc.call("PUT", "/providers/Microsoft.Authorization/roleDefinitions/"+id+"?api-version=2022-04-01", bob,
			`{"properties":{"roleName":"`+name+`","permissions":[{"actions":["Microsoft.Compute/*/read"],"notActions":[]}]}}`)
	}
	for _, name := range []string{`a\nb`, `   `, strings.Repeat("r", 257)} {
		if status, out := role("d0d0d0d0-0000-4000-8000-000000000001", name); status != 400 || !strings.Contains(out, "properties.roleName") {
			t.Errorf("role name %q: %d %s", name, status, out)
		}
	}
	if status, out := role("d0d0d0d0-0000-4000-8000-000000000002", "<b>Ops</b>"); status != 201 {
		t.Errorf("an HTML-like role name: %d %s", status, out)
	}
}
