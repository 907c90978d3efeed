package e2e

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/partnerlink/partnerlink/demo"
)

// testMSALCodeFlow: MSAL for Python, unmodified, signs alice in with the
// authorization code flow and PKCE through a loopback redirect URI, the
// way a desktop app or a CLI does (docs/portal.md, "Sign-in"): MSAL makes
// the request and verifies the answer (state, nonce, ID token), Chromium
// is the user's browser, and the access token it gets works on ARM.
func testMSALCodeFlow(t *testing.T, e *env) {
	requirePythonSDK(t)
	requireFile(t, chromiumPath, "chromium (apt install chromium)")
	script, err := filepath.Abs("testdata/msal_codeflow.py")
	if err != nil {
		t.Fatal(err)
	}
	// The loopback redirect target, as MSAL's own listener would be.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.URL.RawQuery:
		default:
		}
		w.Write([]byte("<!doctype html><title>Signed in</title><p id=done>You can close this window.</p>"))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	redirect := "http://localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")

	flow := filepath.Join(t.TempDir(), "flow.json")
	env := []string{"PL_URL=" + e.url, "PL_CLIENT_ID=04b07795-8ddb-461a-bbee-02f9e1bf7b46", "REQUESTS_CA_BUNDLE=" + e.caFile, "HOME=" + t.TempDir()}
	start := mustRun(t, t.TempDir(), env, 60*time.Second, python, script, "start", flow, redirect)
	authURI := strings.TrimSpace(start.Stdout)
	if !strings.HasPrefix(authURI, e.url+"/organizations/oauth2/v2.0/authorize?") || !strings.Contains(authURI, "code_challenge_method=S256") {
		t.Fatalf("MSAL's authorization address: %q\n%s", authURI, start.Stderr)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bctx := startBrowser(t, ctx)
	if err := chromedp.Do(bctx,
		chromedp.Navigate(authURI),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), demo.AliceSignIn),
		chromedp.SendKeys(chromedp.CSS(`#password`), e.creds.AlicePassword),
		chromedp.Click(chromedp.CSS(`button[value="signin"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#done`)),
	); err != nil {
		screenshot(t, bctx, artifactDir(t), "msal-failed-"+e.backend)
		t.Fatalf("browser: %v", err)
	}
	var query string
	select {
	case query = <-got:
	case <-ctx.Done():
		t.Fatal("the browser never came back to the loopback address")
	}
	finish := mustRun(t, t.TempDir(), env, 60*time.Second, python, script, "finish", flow, query)
	var res struct {
		Error           string `json:"error"`
		AccessToken     string `json:"access_token"`
		HasRefreshToken bool   `json:"has_refresh_token"`
		Claims          struct {
			TenantID string `json:"tid"`
			Nonce    string `json:"nonce"`
		} `json:"id_token_claims"`
	}
	if err := json.Unmarshal([]byte(finish.Stdout), &res); err != nil {
		t.Fatalf("MSAL's answer %q: %v\n%s", finish.Stdout, err, finish.Stderr)
	}
	if res.Error != "" || res.AccessToken == "" || !res.HasRefreshToken || res.Claims.TenantID != demo.ContosoTenant || res.Claims.Nonce == "" {
		t.Fatalf("MSAL redeemed the code: %s\n%s", finish.Stdout, finish.Stderr)
	}
	// The token is alice's, on ARM: her (absent) link in Contoso.
	req, _ := http.NewRequest("GET", e.url+"/providers/Microsoft.ManagementPartner/partners?api-version=2018-02-01", nil)
	req.Header.Set("Authorization", "Bearer "+res.AccessToken)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusOK {
		t.Errorf("ARM with MSAL's token: %d", resp.StatusCode)
	}
	// A second redemption of the same code fails: codes are single-use.
	again := mustRun(t, t.TempDir(), env, 60*time.Second, python, script, "finish", flow, query)
	if !strings.Contains(again.Stdout, `"error": "invalid_grant"`) {
		t.Errorf("the code redeemed twice: %s", again.Stdout)
	}
}
