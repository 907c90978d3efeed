package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/demo"
)

// Issue 11 item 2: a delegation holds a role of the customer tenant (whose
// scope it delegates); a custom role of the managing tenant, or of any
// other, is unknown there.
func TestDelegationRoleOfTheCustomerTenant(t *testing.T) {
	srv, db := setup(t)
	ctx := context.Background()
	for _, rd := range []partnerlink.RoleDefinition{
		{TenantID: demo.ContosoTenant, Name: "Contoso Ops", ID: "0e500000-0000-4000-8000-000000000001", Actions: []string{"*"}},
		{TenantID: demo.FabrikamTenant, Name: "Fabrikam Ops", ID: "0e500000-0000-4000-8000-000000000002", Actions: []string{"*/read"}},
	} {
		if err := db.PutRoleDefinition(ctx, rd, true); err != nil {
			t.Fatal(err)
		}
	}
	path := "/api/v1/tenants/" + demo.FabrikamTenant + "/delegations/dddddddd-0000-4000-8000-000000000002"
	body := `{"managingTenantId":"` + demo.ContosoTenant + `","scope":"/subscriptions/` + demo.FabrikamSub + `","principalId":"` + demo.AliceID + `","roleDefinition":"ROLE"}`
	status, m := call(t, srv, "PUT", path, "bob", strings.Replace(body, "ROLE", "Contoso Ops", 1))
	if want := `roleDefinition "Contoso Ops" is neither a built-in role nor a custom role (name or GUID)`; status != 400 || m["error"].(map[string]any)["message"] != want {
		t.Errorf("delegation with the managing tenant's custom role: %d %v, want 400 %q", status, m, want)
	}
	if status, m := call(t, srv, "PUT", path, "bob", strings.Replace(body, "ROLE", "0E500000-0000-4000-8000-000000000002", 1)); status != 200 {
		t.Errorf("delegation with the customer tenant's custom role by GUID: %d %v", status, m)
	}
}
