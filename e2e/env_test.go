package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink/demo"
	"github.com/partnerlink/partnerlink/identity"
	"github.com/partnerlink/partnerlink/server"
	"github.com/partnerlink/partnerlink/world"
)

// mpBase is the Microsoft.ManagementPartner path prefix.
const mpBase = "/providers/Microsoft.ManagementPartner"

// armScope is the scope Azure clients ask for (audience + "/.default").
const armScope = "https://management.core.windows.net//.default"

// env is one running partnerlink server with the demo world, shared by the
// subtests of one backend.
type env struct {
	backend string
	dataDir string
	srv     *server.Server
	url     string
	caFile  string
	creds   demo.Credentials
	// client trusts the server's CA.
	client *http.Client
}

// inCI reports whether missing dependencies must fail rather than skip.
func inCI() bool { return os.Getenv("CI") == "true" }

// missing fails (CI) or skips (locally) a test whose dependency is absent.
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if inCI() {
		t.Fatalf("%s (CI=true: e2e dependencies are required)", msg)
	}
	t.Skipf("%s; skipping (set CI=true to make this a failure)", msg)
}

// requireFile checks that an executable or file exists.
func requireFile(t *testing.T, path, what string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		missing(t, "%s not found at %s (%v)", what, path, err)
	}
}

// testLogger logs the server's warnings and errors into the test log.
type testLogWriter struct {
	mu sync.Mutex
	t  *testing.T
	// done is set when the test ends; later lines are dropped (t.Log
	// after the end panics).
	done atomic.Bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	if w.done.Load() {
		return len(p), nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Log("server: " + strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startServer starts partnerlink in process on 127.0.0.1:0 with a temp data
// directory and the demo world, on SQLite (dsn "") or PostgreSQL.
func startServer(t *testing.T, backend, dsn string) *env {
	t.Helper()
	ctx := context.Background()
	lw := &testLogWriter{t: t}
	logger := slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dataDir := t.TempDir()
	if err := os.Chmod(dataDir, 0o700); err != nil { // serve refuses a data directory open to others
		t.Fatal(err)
	}
	// Webhook receivers are httptest TLS servers on 127.0.0.1, which the
	// operator must allow (serve --webhook-allow 127.0.0.1); they all serve
	// httptest's one certificate.
	probe := httptest.NewTLSServer(http.NotFoundHandler())
	hookRoots := x509.NewCertPool()
	hookRoots.AddCert(probe.Certificate())
	probe.Close()
	srv, err := server.Open(ctx, server.Config{DataDir: dataDir, DSN: dsn, Addr: "127.0.0.1:0", Logger: logger,
		WebhookAllow: []string{"127.0.0.1"}, WebhookRootCAs: hookRoots})
	if err != nil {
		t.Fatalf("open server (%s): %v", backend, err)
	}
	t.Cleanup(func() {
		srv.Close()
		lw.done.Store(true)
	})
	creds := demo.NewCredentials()
	doc := demo.World(creds)
	addReportingPrincipal(doc)
	world.Normalize(doc)
	if err := world.Validate(doc); err != nil {
		t.Fatalf("demo world: %v", err)
	}
	if err := srv.DB.ImportWorld(ctx, doc, identity.HashSecret); err != nil {
		t.Fatalf("import demo world: %v", err)
	}
	srv.Start()
	pem, err := os.ReadFile(srv.CAFile)
	if err != nil {
		t.Fatalf("read CA: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("CA file %s holds no certificate", srv.CAFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	e := &env{backend: backend, dataDir: dataDir, srv: srv, url: srv.URL, caFile: srv.CAFile, creds: creds,
		client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	// The server must answer before any client is pointed at it.
	resp, err := e.client.Get(e.url + "/healthz")
	if err != nil {
		t.Fatalf("server not reachable at %s: %v", e.url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz: %s", resp.Status)
	}
	return e
}

// postgresDSN creates a fresh database on the PARTNERLINK_TEST_POSTGRES
// server, dropped when the test ends, and returns its URL.
func postgresDSN(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("PARTNERLINK_TEST_POSTGRES")
	if admin == "" {
		missing(t, "PARTNERLINK_TEST_POSTGRES is not set (an admin URL such as postgres://postgres@127.0.0.1:54329/postgres?sslmode=disable)")
	}
	name := fmt.Sprintf("ple2e_%d", time.Now().UnixNano())
	adm, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if _, err := adm.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database on %s: %v", admin, err)
	}
	// Registered before startServer's cleanup, so it runs after the server
	// has closed its connections.
	t.Cleanup(func() {
		if adm, err := sql.Open("pgx", admin); err == nil {
			adm.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			adm.Close()
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("PARTNERLINK_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// token asks the tenant's v2 token endpoint for an ARM token with form
// (client_credentials or password fields); it returns the HTTP status and
// the decoded answer.
func (e *env) token(t *testing.T, tenant string, form url.Values) (int, tokenResponse) {
	t.Helper()
	form.Set("scope", armScope)
	resp, err := e.client.PostForm(e.url+"/"+tenant+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	var tr tokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		t.Fatalf("token response: %v", err)
	}
	return resp.StatusCode, tr
}

// spToken returns an access token of a service principal (client
// credentials) in tenant.
func (e *env) spToken(t *testing.T, tenant, appID, secret string) string {
	t.Helper()
	status, tr := e.token(t, tenant, url.Values{"grant_type": {"client_credentials"}, "client_id": {appID}, "client_secret": {secret}})
	if status != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("client credentials for app %s in %s: %d %s %s", appID, tenant, status, tr.Error, tr.Description)
	}
	return tr.AccessToken
}

// automationToken is Contoso's automation app's token in tenant.
func (e *env) automationToken(t *testing.T, tenant string) string {
	return e.spToken(t, tenant, demo.AutomationAppID, e.creds.AutomationSecret)
}

// userToken returns a user's access token in tenant (password grant).
func (e *env) userToken(t *testing.T, tenant, user, password string) string {
	t.Helper()
	status, tr := e.token(t, tenant, url.Values{"grant_type": {"password"}, "client_id": {"04b07795-8ddb-461a-bbee-02f9e1bf7b46"},
		"username": {user}, "password": {password}})
	if status != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("password grant for %s in %s: %d %s %s", user, tenant, status, tr.Error, tr.Description)
	}
	return tr.AccessToken
}

// armResult is a raw ARM answer.
type armResult struct {
	Status int
	Header http.Header
	Body   []byte
}

// armError decodes an ARM error body.
func (r armResult) armError() (code, message string) {
	var b struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	json.Unmarshal(r.Body, &b)
	return b.Error.Code, b.Error.Message
}

// partnerWire is PartnerResponse on the wire.
type partnerWire struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Name       string `json:"name"`
	Etag       int    `json:"etag"`
	Properties struct {
		PartnerID   string `json:"partnerId"`
		PartnerName string `json:"partnerName"`
		TenantID    string `json:"tenantId"`
		ObjectID    string `json:"objectId"`
		Version     int    `json:"version"`
		UpdatedTime string `json:"updatedTime"`
		CreatedTime string `json:"createdTime"`
		State       string `json:"state"`
	} `json:"properties"`
}

func (r armResult) partner(t *testing.T) partnerWire {
	t.Helper()
	var p partnerWire
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("decode PartnerResponse %s: %v", r.Body, err)
	}
	return p
}

// arm sends one request with a raw Authorization header value ("" for
// none) to path (api-version added).
func (e *env) arm(t *testing.T, method, path, authorization string) armResult {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path+"?api-version=2018-02-01", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return armResult{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// armWithBody sends a request with a bearer token and a JSON body.
func (e *env) armWithBody(t *testing.T, method, path, token, body string) armResult {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path+"?api-version=2018-02-01", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return armResult{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// partnerCall is a ManagementPartner call with a bearer token; partnerID
// "" is Partners_Get.
func (e *env) partnerCall(t *testing.T, method, partnerID, token string) armResult {
	t.Helper()
	path := mpBase + "/partners"
	if partnerID != "" {
		path += "/" + partnerID
	}
	return e.arm(t, method, path, "Bearer "+token)
}

// requireNoLink asserts that the token's principal has no link (404
// NotFound "No partner ID is linked").
func (e *env) requireNoLink(t *testing.T, token, who string) {
	t.Helper()
	r := e.partnerCall(t, http.MethodGet, "", token)
	code, msg := r.armError()
	if r.Status != http.StatusNotFound || code != "NotFound" || !strings.Contains(msg, "No partner ID is linked") {
		t.Fatalf("%s: GET partners = %d %s, want 404 NotFound 'No partner ID is linked'", who, r.Status, r.Body)
	}
}

// cmdResult is the outcome of an external command.
type cmdResult struct {
	Stdout, Stderr string
	ExitCode       int
}

// run runs a command with env added to a minimal environment and a
// timeout; it does not fail on a non-zero exit.
func run(t *testing.T, dir string, env []string, timeout time.Duration, name string, args ...string) cmdResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(baseEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cmdResult{Stdout: stdout.String(), Stderr: stderr.String()}
	if ctx.Err() != nil {
		t.Fatalf("%s %s: timed out after %s\nstdout:\n%s\nstderr:\n%s", name, strings.Join(redact(args), " "), timeout, res.Stdout, res.Stderr)
	}
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			res.ExitCode = ee.ExitCode()
		} else {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return res
}

// baseEnv is the environment external clients run with: PATH, HOME and the
// locale, nothing that could point them at a real cloud.
func baseEnv() []string {
	var out []string
	for _, k := range []string{"PATH", "LANG", "LC_ALL", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// redact hides secrets in logged command lines.
func redact(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if i > 0 && (args[i-1] == "-p" || args[i-1] == "--password") {
			out[i] = "***"
		}
		for _, flag := range []string{"-p=", "--password="} {
			if strings.HasPrefix(a, flag) {
				out[i] = flag + "***"
			}
		}
	}
	return out
}

// mustRun is run that fails the test on a non-zero exit.
func mustRun(t *testing.T, dir string, env []string, timeout time.Duration, name string, args ...string) cmdResult {
	t.Helper()
	res := run(t, dir, env, timeout, name, args...)
	if res.ExitCode != 0 {
		t.Fatalf("%s %s: exit %d\nstdout:\n%s\nstderr:\n%s", filepath.Base(name), strings.Join(redact(args), " "), res.ExitCode, res.Stdout, res.Stderr)
	}
	return res
}

// Contoso's reporting service principal in Woodgrove, linked to Contoso
// Germany since January with Contributor on Woodgrove's subscription: the
// e2e world's one link of Contoso that is older than the tests, so a closed
// month credits Contoso (portal_pages_test.go). No other test touches it.
const (
	reportingAppID  = "c2c2c2c2-0000-4000-8000-00000000a991"
	reportingInWood = "c2c2c2c2-0000-4000-8000-0000000000a1"
	reportingInCont = "c2c2c2c2-0000-4000-8000-000000000001"
	reportingSecret = "contoso-reporting-app-secret-1" // the app's, held by Contoso
)

func addReportingPrincipal(doc *world.Document) {
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	app, home := reportingAppID, demo.ContosoTenant
	doc.Principals = append(doc.Principals, world.Principal{TenantID: demo.WoodgroveTenant, ObjectID: reportingInWood,
		Type: "ServicePrincipal", DisplayName: "contoso-reporting", AppID: &app, HomeTenantID: &home},
		// The app's home service principal, in Contoso (the onboarding test
		// brings the app into Fabrikam).
		world.Principal{TenantID: demo.ContosoTenant, ObjectID: reportingInCont, Type: "ServicePrincipal",
			DisplayName: "contoso-reporting", AppID: &app, HomeTenantID: &home, Secret: reportingSecret})
	doc.RoleAssignments = append(doc.RoleAssignments, world.RoleAssignment{TenantID: demo.WoodgroveTenant,
		ID: "e0e0e0e0-0000-4000-8000-0000000000e2", PrincipalID: reportingInWood, RoleDefinition: "Contributor",
		Scope: "/subscriptions/" + demo.WoodgroveSub, From: &since})
	doc.Links = append(doc.Links, world.Link{TenantID: demo.WoodgroveTenant, ObjectID: reportingInWood,
		PartnerID: demo.GermanyPartnerID, From: &since})
}
