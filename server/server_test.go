package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/server"
)

// The assembled server: HTTPS with the generated CA, routing to the token
// service, ARM and the API, and the admin-only metrics.
func TestServer(t *testing.T) {
	dir := privateDir(t)
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
	if code != 200 || !strings.Contains(body, `partnerlink_http_requests_total{area="managementpartner",code="401",method="GET"} 1`) ||
		!strings.Contains(body, `partnerlink_signin_failures_total{kind="password"} 0`) ||
		!strings.Contains(body, `partnerlink_signin_throttled_total{kind="client_secret"} 0`) {
		t.Errorf("metrics: %d %s", code, body)
	}
	if fi, err := os.Stat(filepath.Join(dir, "admin-key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("admin key file: %v %v", fi, err)
	}
}

// An empty (or short) admin key file stops the start, naming the file: an
// empty key would open the admin API and /metrics to "Bearer " with
// nothing after it.
func TestEmptyAdminKeyRefused(t *testing.T) {
	for _, content := range []string{"", "\n", "  short \n"} {
		dir := privateDir(t)
		path := server.AdminKeyFile(dir)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		srv, err := server.Open(context.Background(), server.Config{DataDir: dir, Addr: "127.0.0.1:0"})
		if err == nil {
			srv.Close()
			t.Fatalf("started with admin key file %q", content)
		}
		if !strings.Contains(err.Error(), "admin key file "+path) || !strings.Contains(err.Error(), "at least 16 characters") {
			t.Errorf("admin key %q: %v", content, err)
		}
	}
}

// Every error of /api/v1, /metrics and unknown paths is the JSON error
// body with its status: 404, 405 with Allow, 401, 413; and every answer
// keeps browsers on HTTPS (docs/operations.md, "TLS").
func TestJSONErrors(t *testing.T) {
	dir := privateDir(t)
	srv, err := server.Open(context.Background(), server.Config{DataDir: dir, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	defer srv.Close()
	ca, _ := os.ReadFile(srv.CAFile)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	key, _ := os.ReadFile(server.AdminKeyFile(dir))
	admin := "Bearer " + strings.TrimSpace(string(key))
	cases := []struct {
		method, path, auth, body string
		status                   int
		code, allow              string
	}{
		{"GET", "/api/v1/nothing-here", "", "", 404, "NotFound", ""},
		{"GET", "/api/v1/tenants/00000000-0000-4000-8000-000000000001/webhook", "", "", 405, "MethodNotAllowed", "PUT"},
		{"POST", "/api/v1/admin/tenants", admin, "", 405, "MethodNotAllowed", "GET"},
		{"PATCH", "/api/v1/tenants/00000000-0000-4000-8000-000000000001/delegations/00000000-0000-4000-8000-000000000002", "", "", 405, "MethodNotAllowed", "PUT, DELETE"},
		{"GET", "/metrics", "", "", 401, "AuthenticationFailed", ""},
		{"GET", "/metrics", "Bearer ", "", 401, "AuthenticationFailed", ""},
		{"POST", "/metrics", admin, "", 405, "MethodNotAllowed", "GET, HEAD"},
		{"GET", "/no-such-thing", "", "", 404, "NotFound", ""},
		{"PUT", "/api/v1/admin/tenants/00000000-0000-4000-8000-000000000001", admin, `{"name":"` + strings.Repeat("x", 1<<20) + `"}`, 413, "RequestEntityTooLarge", ""},
		{"PUT", "/api/v1/admin/tenants/00000000-0000-4000-8000-000000000001", "Bearer ", `{"name":"T"}`, 401, "AuthenticationFailed", ""},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		jsonErr := json.Unmarshal(b, &e)
		if resp.StatusCode != c.status || jsonErr != nil || e.Error.Code != c.code || e.Error.Message == "" ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || resp.Header.Get("Allow") != c.allow ||
			resp.Header.Get("Strict-Transport-Security") != "max-age=31536000" {
			t.Errorf("%s %s: %d %s %q Allow %q; want %d %s Allow %q", c.method, c.path, resp.StatusCode,
				resp.Header.Get("Content-Type"), b, resp.Header.Get("Allow"), c.status, c.code, c.allow)
		}
	}
}

// The database and its -wal and -shm files are the owner's alone, whatever
// the umask, and serve refuses a data directory open to group or others.
func TestDataDirectoryPermissions(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	srv, err := server.Open(context.Background(), server.Config{DataDir: dir, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// A write makes sure the WAL is in use.
	if err := srv.DB.PutTenant(context.Background(), partnerlink.Tenant{ID: "00000000-0000-4000-8000-000000000001", Name: "T"}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{"": 0o700, "partnerlink.db": 0o600, "partnerlink.db-wal": 0o600, "partnerlink.db-shm": 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s/%s: %v %v; want mode %04o", dir, name, fi.Mode(), err, want)
		}
	}

	open := t.TempDir()
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	srv2, err := server.Open(context.Background(), server.Config{DataDir: open, Addr: "127.0.0.1:0"})
	if err == nil {
		srv2.Close()
		t.Fatal("served a data directory with mode 0755")
	}
	want := "data directory " + open + " is open to group or others (mode 0755); it holds the signing keys, the admin key and the database: run chmod 700 " + open
	if err.Error() != want {
		t.Errorf("error %q; want %q", err, want)
	}
}

// privateDir is a data directory serve accepts: t.TempDir() is 0755.
func privateDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// docs/rules.md#monthly-close, "Scheduled closes": from the close day the
// server closes the previous month by itself.
func TestScheduledClose(t *testing.T) {
	dir := privateDir(t)
	now := func() time.Time { return time.Date(2026, 4, 10, 1, 0, 0, 0, time.UTC) }
	srv, err := server.Open(context.Background(), server.Config{DataDir: dir, Addr: "127.0.0.1:0", Now: now, CloseEvery: time.Hour,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.DB.PutTenant(context.Background(), partnerlink.Tenant{ID: "00000000-0000-4000-8000-000000000001", Name: "T"}); err != nil {
		t.Fatal(err)
	}
	srv.Start()
	defer srv.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		v, err := srv.DB.ReportVersion(context.Background(), "2026-03", 0)
		if err == nil {
			if v.Version != 1 {
				t.Errorf("scheduled close published version %d", v.Version)
			}
			break
		}
		if partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND || time.Now().After(deadline) {
			t.Fatalf("no scheduled close of March: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := srv.DB.ReportVersion(context.Background(), "2026-02", 0); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("a month before the previous one, never closed, was closed: %v", err)
	}
}
