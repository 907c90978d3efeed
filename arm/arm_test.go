package arm_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/arm"
	"github.com/partnerlink/partnerlink/linking"
	"github.com/partnerlink/partnerlink/sqlstore"
	st "github.com/partnerlink/partnerlink/sqlstore/storetest"
	"github.com/partnerlink/partnerlink/web"
)

// tokens is an Authenticator over a fixed table: these tests are about the
// wire contract; token validation has its own tests in identity and the
// end-to-end tests use real tokens.
type tokens map[string]partnerlink.Caller

func (t tokens) Validate(_ context.Context, raw string) (partnerlink.Caller, error) {
	if c, ok := t[raw]; ok {
		return c, nil
	}
	return partnerlink.Caller{}, partnerlink.ARMErrorf(partnerlink.EUNAUTHORIZED, "InvalidAuthenticationToken", "The access token is invalid.")
}

var now = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "pl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st.Seed(t, db)
	if err := db.PutPartner(context.Background(), partnerlink.Partner{ID: "1234567", Name: "Solo Partner"}); err != nil {
		t.Fatal(err)
	}
	svc := linking.New(db)
	tick := now
	svc.Now = func() time.Time { tick = tick.Add(time.Second); return tick }
	h := &arm.Handler{
		Auth: tokens{
			"user":  {TenantID: st.TenantA, ObjectID: st.UserA},
			"sp":    {TenantID: st.TenantA, ObjectID: st.SPA},
			"guest": {TenantID: st.TenantA, ObjectID: st.GuestB},
		},
		Links: svc, Directory: db, BaseURL: "https://127.0.0.1", Now: func() time.Time { return now },
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, srv *httptest.Server, method, path, token string, body io.Reader) reply {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, b}
}

const mp = "/providers/Microsoft.ManagementPartner/partners"
const v = "?api-version=2018-02-01"

func partner(t *testing.T, r reply) map[string]any {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	return m
}

// The wire contract of Microsoft.ManagementPartner (docs/api.md#arm) and the recordings.
func TestManagementPartnerWire(t *testing.T) {
	srv := newServer(t)
	// GET with nothing linked: 404 with an ARM error that says so.
	r := do(t, srv, "GET", mp+v, "user", nil)
	if r.status != 404 || !strings.Contains(string(r.body), `"code":"NotFound"`) || !strings.Contains(string(r.body), "No partner ID is linked") {
		t.Fatalf("GET without link: %d %s", r.status, r.body)
	}
	// PUT without body: 200, integer etag and version, lower-case id, plural type.
	r = do(t, srv, "PUT", mp+"/"+st.Location+v, "user", nil)
	m := partner(t, r)
	if m["id"] != "/providers/microsoft.managementpartner/partners/5100001" || m["type"] != "Microsoft.ManagementPartner/partners" ||
		m["name"] != st.Location || m["etag"] != float64(1) {
		t.Errorf("PUT = %s", r.body)
	}
	if !strings.Contains(string(r.body), `"etag":1,`) || !strings.Contains(string(r.body), `"version":1,`) {
		t.Errorf("etag/version must be JSON integers: %s", r.body)
	}
	props := m["properties"].(map[string]any)
	if props["partnerName"] != "Tailspin Oslo" || props["tenantId"] != st.TenantA || props["objectId"] != st.UserA || props["state"] != "Active" {
		t.Errorf("properties = %v", props)
	}
	created := props["createdTime"]
	if r.header.Get("Content-Type") != "application/json; charset=utf-8" || r.header.Get("x-ms-request-id") == "" ||
		r.header.Get("x-ms-correlation-request-id") == "" {
		t.Errorf("headers = %v", r.header)
	}
	// Re-PUT: 200, version +1, createdTime kept.
	m = partner(t, do(t, srv, "PUT", mp+"/"+st.Location+v, "user", nil))
	if m["etag"] != float64(2) || m["properties"].(map[string]any)["createdTime"] != created {
		t.Errorf("re-PUT = %v", m)
	}
	// PATCH to another ID replaces the single link.
	m = partner(t, do(t, srv, "PATCH", mp+"/1234567"+v, "user", nil))
	props = m["properties"].(map[string]any)
	if m["name"] != "1234567" || m["etag"] != float64(3) || props["createdTime"] != created || props["partnerName"] != "Solo Partner" {
		t.Errorf("PATCH = %v", m)
	}
	if m := partner(t, do(t, srv, "GET", mp+v, "user", nil)); m["name"] != "1234567" {
		t.Errorf("after PATCH the single link is %v", m["name"])
	}
}

func TestPatchDeleteAndCurrent(t *testing.T) {
	srv := newServer(t)
	partner(t, do(t, srv, "PUT", mp+"/"+st.Location+v, "sp", nil))
	// GET .../partners and .../partners/ both answer the caller's link.
	for _, path := range []string{mp + v, mp + "/" + v, strings.ToLower(mp) + v, strings.ToUpper(mp) + v} {
		m := partner(t, do(t, srv, "GET", path, "sp", nil))
		if m["name"] != st.Location {
			t.Errorf("GET %s = %v", path, m)
		}
	}
	m := partner(t, do(t, srv, "GET", mp+"/"+st.Location+v, "sp", nil))
	if m["properties"].(map[string]any)["objectId"] != st.SPA {
		t.Errorf("GET by id = %v", m)
	}
	// Another principal of the same tenant sees its own (absent) link.
	if r := do(t, srv, "GET", mp+v, "user", nil); r.status != 404 {
		t.Errorf("other principal sees a link: %d %s", r.status, r.body)
	}
	// DELETE: 200, empty body.
	r := do(t, srv, "DELETE", mp+"/"+st.Location+v, "sp", nil)
	if r.status != 200 || len(r.body) != 0 {
		t.Errorf("DELETE = %d %q", r.status, r.body)
	}
	if r := do(t, srv, "DELETE", mp+"/"+st.Location+v, "sp", nil); r.status != 404 {
		t.Errorf("second DELETE = %d %s", r.status, r.body)
	}
	// PATCH after PUT: replace with the global ID is refused (it has location
	// IDs); the link stays.
	partner(t, do(t, srv, "PUT", mp+"/"+st.Location+v, "sp", nil))
	r = do(t, srv, "PATCH", mp+"/"+st.Global+v, "sp", nil)
	if r.status != 400 || !strings.Contains(string(r.body), st.Location) {
		t.Errorf("PATCH to global ID = %d %s", r.status, r.body)
	}
}

func TestOperations(t *testing.T) {
	srv := newServer(t)
	r := do(t, srv, "GET", "/providers/Microsoft.ManagementPartner/operations"+v, "user", nil)
	var l struct {
		Value []struct {
			Name    string
			Display struct{ Provider, Resource, Operation, Description string }
		}
	}
	if err := json.Unmarshal(r.body, &l); err != nil || r.status != 200 || len(l.Value) != 4 ||
		l.Value[0].Name != "Microsoft.ManagementPartner/partners/read" || l.Value[0].Display.Operation != "Get ManagementPartner" {
		t.Errorf("operations = %d %s", r.status, r.body)
	}
}

// Negative tests: each fails closed with the right ARM error.
func TestWireErrors(t *testing.T) {
	srv := newServer(t)
	big := strings.NewReader(strings.Repeat("x", 2<<20))
	tests := []struct {
		name, method, path, token string
		body                      io.Reader
		status                    int
		code                      string
	}{
		{"no token", "GET", mp + v, "", nil, 401, "AuthenticationFailed"},
		{"bad token", "GET", mp + v, "forged", nil, 401, "InvalidAuthenticationToken"},
		{"missing api-version", "GET", mp, "user", nil, 400, "MissingApiVersionParameter"},
		{"unknown api-version", "GET", mp + "?api-version=2020-01-01", "user", nil, 400, "InvalidApiVersionParameter"},
		{"malformed partner ID", "PUT", mp + "/12ab" + v, "user", nil, 400, "BadRequest"},
		{"too long partner ID", "PUT", mp + "/12345678901" + v, "user", nil, 400, "BadRequest"},
		{"unknown partner ID", "PUT", mp + "/999999" + v, "user", nil, 400, "BadRequest"},
		{"oversized body", "PUT", mp + "/" + st.Location + v, "user", big, 413, "RequestEntityTooLarge"},
		{"unknown path", "GET", "/providers/Microsoft.Nope/things" + v, "user", nil, 404, "InvalidResourceType"},
		{"method not allowed", "POST", mp + "/" + st.Location + v, "user", nil, 405, "MethodNotAllowed"},
		{"PUT on the collection", "PUT", mp + v, "user", nil, 405, "MethodNotAllowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, srv, tt.method, tt.path, tt.token, tt.body)
			var e web.ErrorBody
			if err := json.Unmarshal(r.body, &e); err != nil {
				t.Fatalf("not an ARM error body: %s", r.body)
			}
			if r.status != tt.status || e.Error.Code != tt.code || e.Error.Message == "" {
				t.Errorf("= %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
			if tt.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
}

func TestTenants(t *testing.T) {
	srv := newServer(t)
	r := do(t, srv, "GET", "/tenants?api-version=2022-12-01", "guest", nil)
	var l struct {
		Value []struct{ TenantID, DisplayName, TenantCategory string }
	}
	if err := json.Unmarshal(r.body, &l); err != nil || r.status != 200 {
		t.Fatalf("tenants = %d %s", r.status, r.body)
	}
	// The guest's home tenant (B) and the tenant it is a guest in (A).
	if len(l.Value) != 2 || l.Value[0].TenantID != st.TenantA || l.Value[1].TenantID != st.TenantB {
		t.Errorf("tenants = %s", r.body)
	}
}
