package identity_test

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// pkce returns a code verifier and its S256 challenge.
func pkce(verifier string) (string, string) {
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

const loopback = "http://127.0.0.1:53117/callback"

// authorizeURL is an authorization request at authority.
func (h *harness) authorizeURL(authority, redirect, challenge string) string {
	q := url.Values{"response_type": {"code"}, "client_id": {cliClient}, "redirect_uri": {redirect},
		"scope": {armScope + " openid offline_access"}, "state": {"st-1"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}, "nonce": {"n-1"}}
	return h.url + "/" + authority + "/oauth2/v2.0/authorize?" + q.Encode()
}

// signInAt opens the sign-in page of an authorization request and posts
// the form; it returns the response without following the redirect.
func (b *browser) signInAt(t *testing.T, authorizeURL, user, pass string) *http.Response {
	t.Helper()
	c := *b.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := formTokenRE.FindSubmatch(page)
	if resp.StatusCode != 200 || m == nil || !strings.Contains(string(page), `<label for="username">Username</label>`) ||
		!strings.Contains(string(page), `<label for="password">Password</label>`) || !strings.Contains(string(page), ">Sign in</button>") {
		t.Fatalf("sign-in page: %d %s", resp.StatusCode, page)
	}
	u, _ := url.Parse(authorizeURL)
	form := u.Query()
	form.Set("form_token", string(m[1]))
	form.Set("username", user)
	form.Set("password", pass)
	form.Set("action", "signin")
	resp, err = c.PostForm(h(b).url+u.Path, form)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func h(b *browser) *harness { return b.h }

// codeFrom is the code of a redirect to the client, checking the state.
func codeFrom(t *testing.T, resp *http.Response, redirect string) string {
	t.Helper()
	defer resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), redirect+"?") {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("sign-in: %d Location %q; %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if loc.Query().Get("state") != "st-1" || loc.Query().Get("code") == "" {
		t.Fatalf("redirect %s: want the state and a code", loc)
	}
	return loc.Query().Get("code")
}

func codeForm(code, redirect, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "client_id": {cliClient}, "code": {code}, "redirect_uri": {redirect},
		"code_verifier": {verifier}, "scope": {armScope + " openid offline_access"}}
}

// The authorization code flow with PKCE (docs/portal.md, "Sign-in"): a
// member or a guest signs in on the form, the client redeems the code once
// with the verifier, and every mistake is refused.
func TestAuthorizationCodeWithPKCE(t *testing.T) {
	hr := newHarness(t)
	verifier, challenge := pkce("a-verifier-of-at-least-43-characters-0123456789")

	t.Run("member", func(t *testing.T) {
		b := newBrowser(t, hr)
		code := codeFrom(t, b.signInAt(t, hr.authorizeURL(tenantA, loopback, challenge), "ana@fabrikam.example", password), loopback)
		status, body := hr.post(t, "/"+tenantA+"/oauth2/v2.0/token", codeForm(code, loopback, verifier))
		if status != 200 || body["refresh_token"] == nil || body["id_token"] == nil {
			t.Fatalf("redeem: %d %v", status, body)
		}
		if c := claimsOf(t, body["access_token"].(string)); c["oid"] != anaA || c["tid"] != tenantA || c["idtyp"] != "user" {
			t.Errorf("claims %v", c)
		}
		// The ID token carries the request's nonce (MSAL checks it).
		if c := claimsOf(t, body["id_token"].(string)); c["nonce"] != "n-1" || c["aud"] != cliClient {
			t.Errorf("ID token claims %v", c)
		}
		// Once only.
		if status, body := hr.post(t, "/"+tenantA+"/oauth2/v2.0/token", codeForm(code, loopback, verifier)); status != 400 || body["error"] != "invalid_grant" {
			t.Errorf("second redemption: %d %v", status, body)
		}
	})
	t.Run("guest", func(t *testing.T) {
		b := newBrowser(t, hr)
		code := codeFrom(t, b.signInAt(t, hr.authorizeURL(tenantB, loopback, challenge), "ana@fabrikam.example", password), loopback)
		status, body := hr.post(t, "/"+tenantB+"/oauth2/v2.0/token", codeForm(code, loopback, verifier))
		if status != 200 {
			t.Fatalf("redeem: %d %v", status, body)
		}
		if c := claimsOf(t, body["access_token"].(string)); c["oid"] != anaGuestB || c["tid"] != tenantB {
			t.Errorf("claims %v", c)
		}
	})
	t.Run("wrong password signs nobody in", func(t *testing.T) {
		b := newBrowser(t, hr)
		resp := b.signInAt(t, hr.authorizeURL(tenantA, loopback, challenge), "ana@fabrikam.example", "wrong")
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Location") != "" || !strings.Contains(string(page), "The username or password is not correct.") {
			t.Errorf("wrong password: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), page)
		}
	})
	t.Run("wrong verifier, redirect or client", func(t *testing.T) {
		for name, mutate := range map[string]func(url.Values){
			"verifier": func(f url.Values) { f.Set("code_verifier", "another-verifier-of-at-least-43-characters-xyz") },
			"redirect": func(f url.Values) { f.Set("redirect_uri", "http://127.0.0.1:1/other") },
			"client":   func(f url.Values) { f.Set("client_id", appID) },
		} {
			b := newBrowser(t, hr)
			code := codeFrom(t, b.signInAt(t, hr.authorizeURL(tenantA, loopback, challenge), "ana@fabrikam.example", password), loopback)
			f := codeForm(code, loopback, verifier)
			mutate(f)
			if status, body := hr.post(t, "/"+tenantA+"/oauth2/v2.0/token", f); status != 400 || body["error"] != "invalid_grant" {
				t.Errorf("%s: %d %v", name, status, body)
			}
		}
	})
	t.Run("form token required", func(t *testing.T) {
		u, _ := url.Parse(hr.authorizeURL(tenantA, loopback, challenge))
		f := u.Query()
		f.Set("username", "ana@fabrikam.example")
		f.Set("password", password)
		c := *hr.srv.Client()
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := c.PostForm(hr.url+u.Path, f)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Location") != "" {
			t.Errorf("without the form token: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("requests refused", func(t *testing.T) {
		c := *hr.srv.Client()
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		get := func(u string) (*http.Response, string) {
			resp, err := c.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp, string(b)
		}
		// A redirect URI that is neither loopback nor this server's: shown,
		// never redirected to.
		for _, bad := range []string{"https://evil.example/cb", "http://10.0.0.1/cb", "http://user@127.0.0.1/cb", "javascript:alert(1)",
			// Only the portal's callback on this server's own address, and
			// only the usual loopback addresses.
			hr.url + "/anything", hr.url + "/portal/callback?next=x", "http://127.0.0.2/cb"} {
			resp, page := get(hr.authorizeURL(tenantA, bad, challenge))
			if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.Contains(page, "is not allowed") {
				t.Errorf("redirect_uri %s: %d %q", bad, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
		// No PKCE: the client is told at its redirect URI.
		resp, _ := get(strings.Replace(hr.authorizeURL(tenantA, loopback, challenge), "code_challenge_method=S256", "code_challenge_method=plain", 1))
		if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != http.StatusSeeOther || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "st-1" {
			t.Errorf("plain PKCE: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		// This server's own https address is allowed (the portal's callback).
		if resp, _ := get(hr.authorizeURL(tenantA, hr.url+"/portal/callback", challenge)); resp.StatusCode != 200 {
			t.Errorf("own address: %d", resp.StatusCode)
		}
	})
}
