package identity_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// browser is a cookie-keeping client for the /device page.
type browser struct {
	h      *harness
	client *http.Client
}

func newBrowser(t *testing.T, h *harness) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := *h.srv.Client()
	c.Jar = jar
	return &browser{h: h, client: &c}
}

var formTokenRE = regexp.MustCompile(`name="form_token" value="([^"]+)"`)

// open renders the form and returns its form token.
func (b *browser) open(t *testing.T) string {
	t.Helper()
	resp, err := b.client.Get(b.h.url + "/device")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	m := formTokenRE.FindSubmatch(page)
	if resp.StatusCode != 200 || m == nil || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("device page: %d %s", resp.StatusCode, page)
	}
	return string(m[1])
}

// submit posts the form and returns the status and page.
func (b *browser) submit(t *testing.T, form url.Values) (int, string) {
	t.Helper()
	resp, err := b.client.PostForm(b.h.url+"/device", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(page)
}

// approve signs in on the device page.
func (b *browser) approve(t *testing.T, userCode, user, pass string) {
	t.Helper()
	tok := b.open(t)
	status, page := b.submit(t, url.Values{"form_token": {tok}, "user_code": {userCode}, "username": {user}, "password": {pass}, "action": {"approve"}})
	if status != 200 || !strings.Contains(page, "You signed in as") {
		t.Fatalf("approve: %d %s", status, page)
	}
}

func (h *harness) startDevice(t *testing.T, authority string) (deviceCode, userCode string) {
	t.Helper()
	status, body := h.post(t, "/"+authority+"/oauth2/v2.0/devicecode",
		url.Values{"client_id": {cliClient}, "scope": {armScope + " offline_access openid profile"}})
	if status != 200 || body["verification_uri"] != h.url+"/device" || body["interval"] != float64(5) ||
		body["expires_in"] != float64(900) || !strings.Contains(body["message"].(string), body["user_code"].(string)) {
		t.Fatalf("devicecode: %d %v", status, body)
	}
	return body["device_code"].(string), body["user_code"].(string)
}

func deviceForm(code string) url.Values {
	return url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {cliClient},
		"device_code": {code}, "scope": {armScope + " offline_access openid profile"}, "client_info": {"1"}}
}

func TestDeviceCode(t *testing.T) {
	h := newHarness(t)

	t.Run("pending, slow down, approve, redeem once", func(t *testing.T) {
		code, userCode := h.startDevice(t, tenantB)
		tokenPath := "/" + tenantB + "/oauth2/v2.0/token"
		status, body := h.post(t, tokenPath, deviceForm(code))
		wantOAuthError(t, status, body, 400, "authorization_pending")
		status, body = h.post(t, tokenPath, deviceForm(code)) // at once: too fast
		wantOAuthError(t, status, body, 400, "slow_down")
		h.clock.Advance(11 * time.Second) // the interval grew to 10 s
		status, body = h.post(t, tokenPath, deviceForm(code))
		wantOAuthError(t, status, body, 400, "authorization_pending")

		// Ana approves on the page, typing the code in lower case without the dash.
		newBrowser(t, h).approve(t, strings.ToLower(strings.ReplaceAll(userCode, "-", "")), "ana@fabrikam.example", password)
		h.clock.Advance(11 * time.Second)
		// MSAL Python polls with the device code alone: the scope is the
		// one the code was asked for.
		poll := deviceForm(code)
		poll.Del("scope")
		status, body = h.post(t, tokenPath, poll)
		if status != 200 || body["refresh_token"] == nil || body["id_token"] == nil {
			t.Fatalf("%d %v", status, body)
		}
		if c := claimsOf(t, body["access_token"].(string)); c["oid"] != anaGuestB || c["tid"] != tenantB {
			t.Fatalf("claims %v", c)
		}
		status, body = h.post(t, tokenPath, deviceForm(code))
		wantOAuthError(t, status, body, 400, "invalid_grant")
	})
	t.Run("MSAL Python sends the code as code", func(t *testing.T) {
		code, userCode := h.startDevice(t, "organizations")
		newBrowser(t, h).approve(t, userCode, "carol@contoso.example", "carols password")
		f := deviceForm("")
		f.Set("code", code)
		status, body := h.post(t, "/organizations/oauth2/v2.0/token", f)
		if status != 200 || claimsOf(t, body["access_token"].(string))["tid"] != tenantB {
			t.Fatalf("%d %v", status, body)
		}
	})
	t.Run("MSAL Go sends grant_type device_code", func(t *testing.T) {
		code, userCode := h.startDevice(t, tenantA)
		newBrowser(t, h).approve(t, userCode, "ana@fabrikam.example", password)
		f := deviceForm(code)
		f.Set("grant_type", "device_code")
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", f)
		if status != 200 || claimsOf(t, body["access_token"].(string))["oid"] != anaA {
			t.Fatalf("%d %v", status, body)
		}
	})
	t.Run("denied", func(t *testing.T) {
		code, userCode := h.startDevice(t, tenantA)
		b := newBrowser(t, h)
		status, page := b.submit(t, url.Values{"form_token": {b.open(t)}, "user_code": {userCode}, "action": {"deny"}})
		if status != 200 || !strings.Contains(page, "denied") {
			t.Fatalf("deny: %d %s", status, page)
		}
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", deviceForm(code))
		wantOAuthError(t, status, body, 400, "access_denied")
	})
	t.Run("expired", func(t *testing.T) {
		code, userCode := h.startDevice(t, tenantA)
		h.clock.Advance(16 * time.Minute)
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", deviceForm(code))
		wantOAuthError(t, status, body, 400, "expired_token")
		b := newBrowser(t, h)
		status, page := b.submit(t, url.Values{"form_token": {b.open(t)}, "user_code": {userCode},
			"username": {"ana@fabrikam.example"}, "password": {password}, "action": {"approve"}})
		if status != 400 || !strings.Contains(page, "not valid or has expired") {
			t.Fatalf("approve after expiry: %d %s", status, page)
		}
	})
	t.Run("wrong password and not a member", func(t *testing.T) {
		code, userCode := h.startDevice(t, tenantC)
		b := newBrowser(t, h)
		status, page := b.submit(t, url.Values{"form_token": {b.open(t)}, "user_code": {userCode},
			"username": {"ana@fabrikam.example"}, "password": {"nope"}, "action": {"approve"}})
		if status != 401 || !strings.Contains(page, "not correct") {
			t.Fatalf("wrong password: %d %s", status, page)
		}
		status, page = b.submit(t, url.Values{"form_token": {b.open(t)}, "user_code": {userCode},
			"username": {"ana@fabrikam.example"}, "password": {password}, "action": {"approve"}})
		if status != 403 || !strings.Contains(page, "does not exist in tenant") {
			t.Fatalf("not a guest: %d %s", status, page)
		}
		h.clock.Advance(6 * time.Second)
		status, body := h.post(t, "/"+tenantC+"/oauth2/v2.0/token", deviceForm(code))
		wantOAuthError(t, status, body, 400, "authorization_pending")
	})
	t.Run("form token required and single use", func(t *testing.T) {
		_, userCode := h.startDevice(t, tenantA)
		form := url.Values{"user_code": {userCode}, "username": {"ana@fabrikam.example"}, "password": {password}, "action": {"approve"}}
		b := newBrowser(t, h)
		if status, _ := b.submit(t, form); status != 403 {
			t.Fatalf("without a form token: %d", status)
		}
		// A token from another browser (no matching cookie) is refused.
		form.Set("form_token", newBrowser(t, h).open(t))
		b.open(t)
		if status, _ := b.submit(t, form); status != 403 {
			t.Fatalf("with another browser's token: %d", status)
		}
		tok := b.open(t)
		form.Set("form_token", tok)
		form.Set("password", "nope")
		if status, _ := b.submit(t, form); status != 401 {
			t.Fatalf("first use: %d", status)
		}
		// The re-rendered page set a new cookie; the old token is spent.
		b.client.Jar.SetCookies(mustURL(t, h.url+"/device"), []*http.Cookie{{Name: "partnerlink_device_form", Value: tok, Path: "/device"}})
		if status, _ := b.submit(t, form); status != 403 {
			t.Fatalf("reused form token: %d", status)
		}
	})
	t.Run("unknown device code", func(t *testing.T) {
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", deviceForm("made-up"))
		wantOAuthError(t, status, body, 400, "invalid_grant")
	})
	t.Run("v1 device endpoint", func(t *testing.T) {
		status, body := h.post(t, "/"+tenantA+"/oauth2/devicecode",
			url.Values{"client_id": {cliClient}, "resource": {"https://management.core.windows.net/"}})
		if status != 200 || body["verification_url"] != h.url+"/device" {
			t.Fatalf("%d %v", status, body)
		}
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
