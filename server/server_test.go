package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/server"
)

// The assembled server: HTTPS with the generated CA, routing to the token
// service, ARM and the API, and the admin-only metrics.
func TestServer(t *testing.T) {
	dir := t.TempDir()
	srv, err := server.Open(context.Background(), server.Config{DataDir: dir, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	const tenant = "00000000-0000-4000-8000-000000000001"
	if err := srv.DB.PutTenant(context.Background(), partnerlink.Tenant{ID: tenant, Name: "T"}); err != nil {
		t.Fatal(err)
	}
	srv.Start()
	defer srv.Close()
	ca, err := os.ReadFile(srv.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	key, _ := os.ReadFile(server.AdminKeyFile(dir))
	get := func(path, bearer string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz", ""); code != 200 {
		t.Errorf("healthz: %d", code)
	}
	// ARM refuses an anonymous request with the ARM error body.
	if code, body := get("/providers/Microsoft.ManagementPartner/partners?api-version=2018-02-01", ""); code != 401 || !strings.Contains(body, `"code":"AuthenticationFailed"`) {
		t.Errorf("anonymous ARM: %d %s", code, body)
	}
	// The token service answers discovery for a tenant.
	if code, body := get("/"+tenant+"/v2.0/.well-known/openid-configuration", ""); code != 200 || !strings.Contains(body, `"issuer":"`+srv.URL) {
		t.Errorf("discovery: %d %s", code, body)
	}
	if code, _ := get("/metrics", ""); code != 401 {
		t.Errorf("metrics without the admin key: %d", code)
	}
	if code, _ := get("/metrics", "wrong"); code != 401 {
		t.Errorf("metrics with a wrong key: %d", code)
	}
	code, body := get("/metrics", strings.TrimSpace(string(key)))
	if code != 200 || !strings.Contains(body, `partnerlink_http_requests_total{area="managementpartner",code="401",method="GET"} 1`) {
		t.Errorf("metrics: %d %s", code, body)
	}
	if fi, err := os.Stat(filepath.Join(dir, "admin-key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("admin key file: %v %v", fi, err)
	}
}
