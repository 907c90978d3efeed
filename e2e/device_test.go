package e2e

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/partnerlink/partnerlink/demo"
)

const chromiumPath = "/usr/bin/chromium"

// userCodeRE finds the user code in the device code message.
var userCodeRE = regexp.MustCompile(`enter the code ([A-Z]{4}-[A-Z]{4})`)

// testDeviceCodeBrowser signs alice in to Fabrikam with the device code
// flow: `partnerlink login --tenant` runs as a process, a headless Chromium
// approves its code on the server's /device page, and the login finishes.
func testDeviceCodeBrowser(t *testing.T, e *env) {
	requireFile(t, chromiumPath, "chromium (apt install chromium)")
	c := newCLI(t)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	login := exec.CommandContext(ctx, c.bin, "login", "--server", e.url, "--ca-file", e.caFile, "--tenant", demo.FabrikamTenant)
	login.Dir = c.configDir
	login.Env = append(baseEnv(), "PARTNERLINK_CONFIG_DIR="+c.configDir, "HOME="+c.configDir)
	stdout, err := login.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	login.Stderr = &stderr
	if err := login.Start(); err != nil {
		t.Fatalf("start partnerlink login: %v", err)
	}
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var out []string
	var userCode string
	for userCode == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("partnerlink login ended without a device code; stdout %q stderr %q", out, stderr.String())
			}
			out = append(out, line)
			if m := userCodeRE.FindStringSubmatch(line); m != nil {
				userCode = m[1]
				if !strings.Contains(line, e.url+"/device") {
					t.Errorf("device code message %q does not name %s/device", line, e.url)
				}
			}
		case <-ctx.Done():
			t.Fatalf("no device code within the timeout; stdout %q stderr %q", out, stderr.String())
		}
	}

	// The browser: Debian's Chromium, headless, with a fresh profile.
	// The screenshot goes to the test's temp dir, or to
	// $PARTNERLINK_E2E_ARTIFACTS (kept, for CI artifacts) when set.
	pageText := approveInBrowser(t, ctx, e.url+"/device", userCode, demo.AliceSignIn, e.creds.AlicePassword, "device-approved-"+e.backend)
	if !strings.Contains(pageText, "You signed in as "+demo.AliceSignIn+" in tenant "+demo.FabrikamTenant) {
		t.Fatalf("device page after sign-in says %q", pageText)
	}

	// The waiting login sees the approval at its next poll (every 5 s).
	type ended struct {
		err  error
		rest []string
	}
	exited := make(chan ended, 1)
	go func() {
		var rest []string
		for line := range lines {
			rest = append(rest, line)
		}
		exited <- ended{login.Wait(), rest}
	}()
	select {
	case end := <-exited:
		out = append(out, end.rest...)
		if end.err != nil {
			t.Fatalf("partnerlink login: %v; stdout %q stderr %q", end.err, out, stderr.String())
		}
	case <-ctx.Done():
		t.Fatalf("partnerlink login did not finish after the approval; stdout so far %q", out)
	}
	all := strings.Join(out, "\n")
	if !strings.Contains(all, "Signed in to "+e.url+" as "+demo.AliceSignIn) || !strings.Contains(all, "default tenant "+demo.FabrikamTenant) {
		t.Errorf("login output %q does not say alice signed in to Fabrikam", all)
	}

	// The session works: her guest account in Fabrikam links and unlinks.
	created := c.link("create", "--partner-id", demo.GermanyPartnerID)
	checkCLIPartner(t, "link create after device code sign-in", created, demo.GermanyPartnerID, "Contoso Services Germany",
		demo.FabrikamTenant, demo.AliceInFabrikam)
	c.mustRun("link", "delete", "--partner-id", demo.GermanyPartnerID)
	requireCLIFailure(t, "link show after delete", c.run("link", "show"), "No partner ID is linked")
}

// approveInBrowser fills the device page in headless Chromium and submits
// it; it returns the text of the page that answers, and saves a screenshot
// of it.
func approveInBrowser(t *testing.T, ctx context.Context, pageURL, userCode, user, password, shot string) string {
	t.Helper()
	bctx := startBrowser(t, ctx)
	// A first action without a timeout of its own starts the browser.
	if err := chromedp.Do(bctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("browser: open %s: %v", pageURL, err)
	}
	title, err := chromedp.Run(bctx, chromedp.Title())
	if err != nil || title != "partnerlink sign-in" {
		t.Errorf("device page title %q (%v)", title, err)
	}
	err = chromedp.Do(bctx,
		chromedp.WaitVisible(chromedp.CSS(`input[name="user_code"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="user_code"]`), userCode),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), user),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
		chromedp.Click(chromedp.CSS(`button[value="approve"]`)),
		// The answer page says either done (p.ok) or what went wrong (p.err).
		chromedp.WaitVisible(chromedp.CSS(`p.ok, p.err`)),
	)
	if err != nil {
		t.Fatalf("browser: fill and submit the device page: %v", err)
	}
	text, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatalf("browser: read the answer page: %v", err)
	}
	screenshot(t, bctx, artifactDir(t), shot)
	return text
}

// startBrowser starts Debian's Chromium, headless, with a fresh profile;
// it stops with the test.
func startBrowser(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// The server's certificate is from its own CA, which Chromium's
		// NSS store does not hold.
		chromedp.IgnoreCertErrors,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 800),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	return bctx
}

// artifactDir is where screenshots go: $PARTNERLINK_E2E_ARTIFACTS (kept,
// for CI artifacts) when set, else the test's temp dir.
func artifactDir(t *testing.T) string {
	t.Helper()
	d := os.Getenv("PARTNERLINK_E2E_ARTIFACTS")
	if d == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// screenshot saves the page as a PNG in dir.
func screenshot(t *testing.T, bctx context.Context, dir, name string) {
	t.Helper()
	// Quality 100 gives a PNG; lower values give a JPEG.
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("browser: screenshot: %v", err)
		return
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("save screenshot: %v", err)
		return
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}

// browserSteps returns do, which runs browser actions and on failure keeps
// a screenshot named failedShot and fails the test, and text, which reads
// an element's text.
func browserSteps(t *testing.T, bctx context.Context, shots, failedShot string) (do func(string, ...chromedp.Action[chromedp.Void]), text func(string) string) {
	do = func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			screenshot(t, bctx, shots, failedShot)
			t.Fatalf("browser: %s: %v", what, err)
		}
	}
	text = func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("browser: read %s: %v", sel, err)
		}
		return s
	}
	return do, text
}
