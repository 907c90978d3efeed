package api_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
)

// docs/rules.md "Principals: enabled periods": the admin API disables a
// principal (PUT with "to") and enables it again (POST …/enable), keeping
// its earlier periods; a PUT never rewrites them.
func TestAdminEnablePrincipal(t *testing.T) {
	srv, db := setup(t)
	ctx := context.Background()
	const tenant = "44444444-4444-4444-8444-444444444444"
	const sp = "abcdef00-0000-4000-8000-000000000002"
	base := "/api/v1/admin/tenants/" + tenant + "/principals/" + sp
	message := func(m map[string]any) string {
		e, _ := m["error"].(map[string]any)
		s, _ := e["message"].(string)
		return s
	}
	if status, m := call(t, srv, "PUT", "/api/v1/admin/tenants/"+tenant, "admin-secret", `{"name":"New"}`); status != 200 {
		t.Fatalf("put tenant: %d %v", status, m)
	}
	body := func(to string) string {
		return `{"type":"ServicePrincipal","displayName":"ci","appId":"abcdef00-0000-4000-8000-000000000001","from":"2026-10-01T00:00:00Z"` + to + `}`
	}
	if status, m := call(t, srv, "PUT", base, "admin-secret", body("")); status != 200 {
		t.Fatalf("put principal: %d %v", status, m)
	}
	if status, m := call(t, srv, "POST", base+"/enable", "admin-secret", `{"from":"2026-10-20T00:00:00Z"}`); status != 409 ||
		!strings.Contains(message(m), "is enabled (since 2026-10-01T00:00:00Z); only a disabled principal can be enabled again") {
		t.Errorf("enable an enabled principal: %d %v", status, m)
	}
	// Disabled on Oct 10.
	if status, m := call(t, srv, "PUT", base, "admin-secret", body(`,"to":"2026-10-10T00:00:00Z"`)); status != 200 {
		t.Fatalf("disable: %d %v", status, m)
	}
	if status, m := call(t, srv, "POST", base+"/enable", "admin-secret", `{"from":"2026-10-09T00:00:00Z"}`); status != 400 ||
		!strings.Contains(message(m), "enable it at 2026-10-10T00:00:00Z or later") {
		t.Errorf("enable before the end of the last period: %d %v", status, m)
	}
	// Reopening the disabled period with a PUT is refused, pointing at enable.
	if status, m := call(t, srv, "PUT", base, "admin-secret", body("")); status != 409 || !strings.Contains(message(m), "POST "+base+"/enable") {
		t.Errorf("PUT over a disabled period: %d %v", status, m)
	}
	status, m := call(t, srv, "POST", base+"/enable", "admin-secret", `{"from":"2026-10-20T00:00:00Z"}`)
	if status != 200 {
		t.Fatalf("enable: %d %v", status, m)
	}
	periods, _ := m["periods"].([]any)
	if m["from"] != "2026-10-20T00:00:00Z" || m["to"] != nil || len(periods) != 2 ||
		periods[0].(map[string]any)["from"] != "2026-10-01T00:00:00Z" || periods[0].(map[string]any)["to"] != "2026-10-10T00:00:00Z" ||
		periods[1].(map[string]any)["from"] != "2026-10-20T00:00:00Z" || periods[1].(map[string]any)["to"] != nil {
		t.Errorf("enabled again: %v", m)
	}
	p, err := db.Principal(ctx, tenant, sp)
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return time.Date(2026, 10, d, 0, 0, 0, 0, time.UTC) }
	if want := []partnerlink.Period{{From: day(1), To: day(10)}, {From: day(20)}}; !slices.Equal(p.Periods(), want) {
		t.Errorf("stored periods %v, want %v", p.Periods(), want)
	}
	// Without a body, a principal is enabled again from now.
	const other = "abcdef00-0000-4000-8000-000000000003"
	if status, m := call(t, srv, "PUT", "/api/v1/admin/tenants/"+tenant+"/principals/"+other, "admin-secret",
		`{"type":"User","displayName":"eve","to":"2026-02-01T00:00:00Z"}`); status != 200 {
		t.Fatalf("put a disabled user: %d %v", status, m)
	}
	if status, m := call(t, srv, "POST", "/api/v1/admin/tenants/"+tenant+"/principals/"+other+"/enable", "admin-secret", ""); status != 200 ||
		m["from"] != now.Format(time.RFC3339) || len(m["periods"].([]any)) != 2 {
		t.Errorf("enable without a body: %d %v", status, m)
	}
	if status, m := call(t, srv, "POST", "/api/v1/admin/tenants/"+tenant+"/principals/abcdef00-0000-4000-8000-0000000000ff/enable", "admin-secret", ""); status != 404 {
		t.Errorf("enable an unknown principal: %d %v", status, m)
	}
	if status, m := call(t, srv, "POST", base+"/enable", "bob", `{}`); status != 401 {
		t.Errorf("a user token on enable: %d %v", status, m)
	}
}
