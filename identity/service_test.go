package identity_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/identity"
)

// get fetches path and decodes the JSON answer.
func (h *harness) get(t *testing.T, path string) (int, map[string]any) {
	t.Helper()
	resp, err := h.srv.Client().Get(h.url + path)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

// post posts a form and decodes the JSON answer.
func (h *harness) post(t *testing.T, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := h.srv.Client().PostForm(h.url+path, form)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

func decode(t *testing.T, resp *http.Response) (int, map[string]any) {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("status %d, body not JSON: %s", resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

// wantOAuthError checks an OAuth error answer.
func wantOAuthError(t *testing.T, status int, body map[string]any, wantStatus int, wantCode string) {
	t.Helper()
	if status != wantStatus || body["error"] != wantCode {
		t.Fatalf("got %d %v, want %d %s", status, body, wantStatus, wantCode)
	}
	if d, _ := body["error_description"].(string); d == "" {
		t.Fatalf("error %s has no description", wantCode)
	}
}

// claimsOf decodes a JWT's payload without verifying it.
func claimsOf(t *testing.T, raw string) map[string]any {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	var m map[string]any
	if err := tok.UnsafeClaimsWithoutVerification(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func spForm(tenantScope string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {appID}, "client_secret": {secret},
		"scope": {tenantScope + " openid offline_access profile"}, "client_info": {"1"}}
}

func TestDiscovery(t *testing.T) {
	h := newHarness(t)
	status, cfg := h.get(t, "/"+tenantA+"/v2.0/.well-known/openid-configuration")
	if status != 200 || cfg["issuer"] != h.url+"/"+tenantA+"/v2.0" ||
		cfg["token_endpoint"] != h.url+"/"+tenantA+"/oauth2/v2.0/token" ||
		cfg["device_authorization_endpoint"] != h.url+"/"+tenantA+"/oauth2/v2.0/devicecode" ||
		cfg["authorization_endpoint"] == nil || cfg["jwks_uri"] != h.url+"/"+tenantA+"/discovery/v2.0/keys" {
		t.Fatalf("v2 configuration: %d %v", status, cfg)
	}
	_, cfg = h.get(t, "/"+tenantA+"/.well-known/openid-configuration")
	if cfg["issuer"] != h.url+"/"+tenantA+"/" || cfg["token_endpoint"] != h.url+"/"+tenantA+"/oauth2/token" {
		t.Fatalf("v1 configuration: %v", cfg)
	}
	_, cfg = h.get(t, "/adfs/.well-known/openid-configuration")
	if cfg["issuer"] != h.url+"/adfs" || cfg["token_endpoint"] != h.url+"/adfs/oauth2/token" {
		t.Fatalf("adfs configuration: %v", cfg)
	}
	// {base}/adfs/{label}/{tenant} (docs/clients.md, "az CLI"): the
	// tenant's own v2 document, so MSAL then uses the tenant's endpoints.
	for _, p := range []string{"/adfs/partnerlink/" + tenantA + "/.well-known/openid-configuration",
		"/ADFS/any/" + strings.ToUpper(tenantA) + "/v2.0/.well-known/openid-configuration"} {
		status, cfg = h.get(t, p)
		if status != 200 || cfg["issuer"] != h.url+"/"+tenantA+"/v2.0" || cfg["token_endpoint"] != h.url+"/"+tenantA+"/oauth2/v2.0/token" ||
			cfg["device_authorization_endpoint"] != h.url+"/"+tenantA+"/oauth2/v2.0/devicecode" {
			t.Fatalf("%s: %d %v", p, status, cfg)
		}
	}
	status, body := h.get(t, "/adfs/partnerlink/dddddddd-0000-4000-8000-000000000009/.well-known/openid-configuration")
	wantOAuthError(t, status, body, 400, "invalid_tenant")
	_, cfg = h.get(t, "/organizations/v2.0/.well-known/openid-configuration")
	if cfg["issuer"] != h.url+"/{tenantid}/v2.0" {
		t.Fatalf("organizations configuration: %v", cfg)
	}
	for _, p := range []string{"/" + tenantA + "/discovery/v2.0/keys", "/" + tenantA + "/discovery/keys", "/adfs/discovery/keys"} {
		status, jwks := h.get(t, p)
		keys, _ := jwks["keys"].([]any)
		if status != 200 || len(keys) != 1 || keys[0].(map[string]any)["kid"] != h.keys.ActiveKID() || keys[0].(map[string]any)["d"] != nil {
			t.Fatalf("%s: %d %v", p, status, jwks)
		}
	}
	status, body = h.get(t, "/dddddddd-0000-4000-8000-000000000009/v2.0/.well-known/openid-configuration")
	wantOAuthError(t, status, body, 400, "invalid_tenant")
	status, realm := h.get(t, "/common/userrealm/ana@fabrikam.example?api-version=1.0")
	if status != 200 || realm["account_type"] != "Managed" || realm["domain_name"] != "fabrikam.example" ||
		realm["cloud_audience_urn"] != "urn:federation:MicrosoftOnline" || realm["ver"] != "1.0" || realm["cloud_instance_name"] == "" {
		t.Fatalf("userrealm: %d %v", status, realm)
	}
	if status, _ := h.get(t, "/common/UserRealm/ana@fabrikam.example?api-version=1.0"); status != 200 {
		t.Fatalf("UserRealm (MSAL Go's casing): %d", status)
	}
	// The authorization endpoint is a page (authorize_test.go).
	if resp, err := h.srv.Client().Get(h.url + "/" + tenantA + "/oauth2/v2.0/authorize?client_id=x"); err != nil || resp.StatusCode != 400 ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("authorize with a bad client id: %v %v", resp, err)
	}

	for path, want := range map[string]bool{
		"/" + tenantA + "/oauth2/v2.0/token": true, "/adfs/oauth2/token": true, "/device": true,
		"/common/userrealm/x@y": true, "/organizations/oauth2/v2.0/devicecode": true,
		"/subscriptions/" + tenantA: false, "/providers/Microsoft.ManagementPartner/partners": false,
		"/tenants": false, "/" + tenantA + "/other": false, "/": false,
		"/adfs/partnerlink/" + tenantA + "/.well-known/openid-configuration": true,
		"/adfs/partnerlink/" + tenantA + "/oauth2/v2.0/token":                false, // the document names the tenant's own
		"/adfs/partnerlink/adfs/.well-known/openid-configuration":            false,
	} {
		if got := identity.IsIdentityPath(path); got != want {
			t.Errorf("IsIdentityPath(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestClientCredentials(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()

	t.Run("home tenant", func(t *testing.T) {
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", spForm(armScope))
		if status != 200 || body["token_type"] != "Bearer" || body["expires_in"] != float64(3600) || body["ext_expires_in"] == nil {
			t.Fatalf("%d %v", status, body)
		}
		if body["refresh_token"] != nil || body["id_token"] != nil {
			t.Fatalf("an app token comes without refresh or ID token: %v", body)
		}
		c := claimsOf(t, body["access_token"].(string))
		if c["iss"] != h.url+"/"+tenantA+"/v2.0" || c["aud"] != "https://management.core.windows.net/" || c["tid"] != tenantA ||
			c["oid"] != spA || c["sub"] != spA || c["appid"] != appID || c["azp"] != appID || c["idtyp"] != "app" || c["ver"] != "2.0" {
			t.Fatalf("claims: %v", c)
		}
		caller, err := h.val.Validate(ctx, body["access_token"].(string))
		if err != nil || caller.Principal == nil || caller.Principal.ObjectID != spA {
			t.Fatalf("Validate: %+v %v; want the caller's principal record", caller, err)
		}
		if caller.Principal = nil; caller != (partnerlink.Caller{TenantID: tenantA, ObjectID: spA, AppID: appID}) {
			t.Fatalf("Validate: %v %v", caller, err)
		}
	})
	t.Run("other tenant with the app's home secret", func(t *testing.T) {
		status, body := h.post(t, "/"+tenantB+"/oauth2/v2.0/token", spForm("https://management.azure.com/.default"))
		if status != 200 {
			t.Fatalf("%d %v", status, body)
		}
		c := claimsOf(t, body["access_token"].(string))
		if c["tid"] != tenantB || c["oid"] != spB || c["aud"] != "https://management.azure.com" {
			t.Fatalf("claims: %v", c)
		}
	})
	t.Run("v1 endpoint with resource and basic auth", func(t *testing.T) {
		form := url.Values{"grant_type": {"client_credentials"}, "resource": {"https://management.core.windows.net/"}}
		req, _ := http.NewRequest("POST", h.url+"/"+tenantA+"/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(appID, url.QueryEscape(secret))
		resp, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		status, body := decode(t, resp)
		if status != 200 || body["resource"] != "https://management.core.windows.net/" || body["expires_on"] == nil {
			t.Fatalf("%d %v", status, body)
		}
		c := claimsOf(t, body["access_token"].(string))
		if c["iss"] != h.url+"/"+tenantA+"/" || c["ver"] != "1.0" {
			t.Fatalf("claims: %v", c)
		}
		if _, err := h.val.Validate(ctx, body["access_token"].(string)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("adfs authority is the app's home tenant", func(t *testing.T) {
		status, body := h.post(t, "/adfs/oauth2/token", spForm(armScope))
		if status != 200 {
			t.Fatalf("%d %v", status, body)
		}
		c := claimsOf(t, body["access_token"].(string))
		if c["iss"] != h.url+"/adfs" || c["tid"] != tenantA || c["oid"] != spA {
			t.Fatalf("claims: %v", c)
		}
		if caller, err := h.val.Validate(ctx, body["access_token"].(string)); err != nil || caller.TenantID != tenantA {
			t.Fatalf("Validate: %v %v", caller, err)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		f := spForm(armScope)
		f.Set("client_secret", "wrong")
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", f)
		wantOAuthError(t, status, body, 401, "invalid_client")
	})
	t.Run("missing secret", func(t *testing.T) {
		f := spForm(armScope)
		f.Del("client_secret")
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", f)
		wantOAuthError(t, status, body, 401, "invalid_client")
	})
	t.Run("no service principal in tenant", func(t *testing.T) {
		status, body := h.post(t, "/"+tenantC+"/oauth2/v2.0/token", spForm(armScope))
		wantOAuthError(t, status, body, 400, "unauthorized_client")
	})
	t.Run("disabled service principal", func(t *testing.T) {
		f := spForm(armScope)
		f.Set("client_id", disabledID)
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", f)
		wantOAuthError(t, status, body, 400, "unauthorized_client")
	})
	t.Run("unknown resource", func(t *testing.T) {
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", spForm("https://graph.microsoft.com/.default"))
		wantOAuthError(t, status, body, 400, "invalid_scope")
		f := url.Values{"grant_type": {"client_credentials"}, "client_id": {appID}, "client_secret": {secret}, "resource": {"https://vault.azure.net"}}
		status, body = h.post(t, "/"+tenantA+"/oauth2/token", f)
		wantOAuthError(t, status, body, 400, "invalid_resource")
	})
	t.Run("no resource", func(t *testing.T) {
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", spForm(""))
		wantOAuthError(t, status, body, 400, "invalid_scope")
	})
	t.Run("bad requests", func(t *testing.T) {
		f := spForm(armScope)
		f.Set("grant_type", "implicit")
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", f)
		wantOAuthError(t, status, body, 400, "unsupported_grant_type")
		f = spForm(armScope)
		f.Set("client_id", "not-a-guid")
		status, body = h.post(t, "/"+tenantA+"/oauth2/v2.0/token", f)
		wantOAuthError(t, status, body, 400, "invalid_request")
		status, body = h.post(t, "/organizations/oauth2/v2.0/token", spForm(armScope))
		wantOAuthError(t, status, body, 400, "invalid_request")
		status, body = h.get(t, "/"+tenantA+"/oauth2/v2.0/token")
		wantOAuthError(t, status, body, 405, "invalid_request")
	})
}

func passwordForm(user, pass string) url.Values {
	return url.Values{"grant_type": {"password"}, "client_id": {cliClient}, "username": {user}, "password": {pass},
		"scope": {armScope + " offline_access openid profile"}, "client_info": {"1"}}
}

// clientInfo decodes the client_info of a token response as MSAL Go does
// (base64url without padding).
func clientInfo(t *testing.T, body map[string]any) map[string]string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(body["client_info"].(string))
	if err != nil {
		t.Fatalf("client_info: %v", err)
	}
	var ci map[string]string
	if err := json.Unmarshal(b, &ci); err != nil {
		t.Fatal(err)
	}
	return ci
}

func TestPasswordGrant(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()

	t.Run("own tenant", func(t *testing.T) {
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", passwordForm("Ana@Fabrikam.example", password))
		if status != 200 || body["refresh_token"] == nil || body["id_token"] == nil || body["scope"] != armScope {
			t.Fatalf("%d %v", status, body)
		}
		if ci := clientInfo(t, body); ci["uid"] != anaA || ci["utid"] != tenantA {
			t.Fatalf("client_info %v", ci)
		}
		c := claimsOf(t, body["access_token"].(string))
		if c["oid"] != anaA || c["tid"] != tenantA || c["idtyp"] != "user" || c["upn"] != "ana@fabrikam.example" || c["appid"] != cliClient {
			t.Fatalf("claims %v", c)
		}
		idt := claimsOf(t, body["id_token"].(string))
		if idt["aud"] != cliClient || idt["oid"] != anaA || idt["tid"] != tenantA || idt["preferred_username"] != "ana@fabrikam.example" ||
			idt["iss"] != h.url+"/"+tenantA+"/v2.0" || idt["sub"] == nil || idt["exp"] == nil {
			t.Fatalf("id token %v", idt)
		}
		if caller, err := h.val.Validate(ctx, body["access_token"].(string)); err != nil || caller.ObjectID != anaA {
			t.Fatalf("Validate: %v %v", caller, err)
		}
	})
	t.Run("guest by home object id", func(t *testing.T) {
		status, body := h.post(t, "/"+tenantB+"/oauth2/v2.0/token", passwordForm("ana@fabrikam.example", password))
		if status != 200 {
			t.Fatalf("%d %v", status, body)
		}
		c := claimsOf(t, body["access_token"].(string))
		if c["oid"] != anaGuestB || c["tid"] != tenantB {
			t.Fatalf("claims %v", c)
		}
		// MSAL keys its account on the home account, also for guest tokens.
		if ci := clientInfo(t, body); ci["uid"] != anaA || ci["utid"] != tenantA {
			t.Fatalf("client_info %v", ci)
		}
	})
	t.Run("guest by naming convention", func(t *testing.T) {
		status, body := h.post(t, "/"+tenantB+"/oauth2/v2.0/token", passwordForm("bob@fabrikam.example", "bobs password"))
		if status != 200 {
			t.Fatalf("%d %v", status, body)
		}
		if c := claimsOf(t, body["access_token"].(string)); c["oid"] != bobGuestB || c["tid"] != tenantB {
			t.Fatalf("claims %v", c)
		}
	})
	t.Run("organizations resolves to the home tenant", func(t *testing.T) {
		status, body := h.post(t, "/organizations/oauth2/v2.0/token", passwordForm("carol@contoso.example", "carols password"))
		if status != 200 {
			t.Fatalf("%d %v", status, body)
		}
		c := claimsOf(t, body["access_token"].(string))
		if c["oid"] != carolB || c["tid"] != tenantB || c["iss"] != h.url+"/"+tenantB+"/v2.0" {
			t.Fatalf("claims %v", c)
		}
	})
	t.Run("adfs resolves to the home tenant", func(t *testing.T) {
		status, body := h.post(t, "/adfs/oauth2/token", passwordForm("ana@fabrikam.example", password))
		if status != 200 {
			t.Fatalf("%d %v", status, body)
		}
		if c := claimsOf(t, body["access_token"].(string)); c["oid"] != anaA || c["iss"] != h.url+"/adfs" {
			t.Fatalf("claims %v", c)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", passwordForm("ana@fabrikam.example", "nope"))
		wantOAuthError(t, status, body, 400, "invalid_grant")
	})
	t.Run("unknown user", func(t *testing.T) {
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", passwordForm("eve@fabrikam.example", password))
		wantOAuthError(t, status, body, 400, "invalid_grant")
	})
	t.Run("not a guest in the tenant", func(t *testing.T) {
		status, body := h.post(t, "/"+tenantC+"/oauth2/v2.0/token", passwordForm("ana@fabrikam.example", password))
		wantOAuthError(t, status, body, 400, "invalid_grant")
	})
	t.Run("deleted user", func(t *testing.T) {
		h.store.endPrincipal(tenantA, bobA, h.clock.Now())
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", passwordForm("bob@fabrikam.example", "bobs password"))
		wantOAuthError(t, status, body, 400, "invalid_grant")
	})
}

func refreshForm(tenantScope, rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "client_id": {cliClient}, "refresh_token": {rt},
		"scope": {tenantScope + " offline_access openid profile"}, "client_info": {"1"}}
}

func TestRefreshToken(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	signIn := func(t *testing.T) string {
		t.Helper()
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", passwordForm("ana@fabrikam.example", password))
		if status != 200 {
			t.Fatalf("%d %v", status, body)
		}
		return body["refresh_token"].(string)
	}

	t.Run("rotation", func(t *testing.T) {
		rt := signIn(t)
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", refreshForm(armScope, rt))
		if status != 200 || body["refresh_token"] == nil || body["refresh_token"] == rt {
			t.Fatalf("%d %v", status, body)
		}
		status, body = h.post(t, "/"+tenantA+"/oauth2/v2.0/token", refreshForm(armScope, rt))
		wantOAuthError(t, status, body, 400, "invalid_grant")
	})
	t.Run("redeemed at a guest tenant", func(t *testing.T) {
		rt := signIn(t)
		status, body := h.post(t, "/"+tenantB+"/oauth2/v2.0/token", refreshForm(armScope, rt))
		if status != 200 {
			t.Fatalf("%d %v", status, body)
		}
		c := claimsOf(t, body["access_token"].(string))
		if c["oid"] != anaGuestB || c["tid"] != tenantB || c["iss"] != h.url+"/"+tenantB+"/v2.0" {
			t.Fatalf("claims %v", c)
		}
		caller, err := h.val.Validate(ctx, body["access_token"].(string))
		if err != nil || caller.TenantID != tenantB || caller.ObjectID != anaGuestB {
			t.Fatalf("Validate: %v %v", caller, err)
		}
		// The new refresh token works back home.
		status, body = h.post(t, "/"+tenantA+"/oauth2/v2.0/token", refreshForm(armScope, body["refresh_token"].(string)))
		if status != 200 || claimsOf(t, body["access_token"].(string))["oid"] != anaA {
			t.Fatalf("%d %v", status, body)
		}
	})
	t.Run("a tenant without the person leaves the token usable", func(t *testing.T) {
		rt := signIn(t)
		status, body := h.post(t, "/"+tenantC+"/oauth2/v2.0/token", refreshForm(armScope, rt))
		wantOAuthError(t, status, body, 400, "invalid_grant")
		if status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", refreshForm(armScope, rt)); status != 200 {
			t.Fatalf("the probe consumed the refresh token: %d %v", status, body)
		}
	})
	t.Run("other client", func(t *testing.T) {
		rt := signIn(t)
		f := refreshForm(armScope, rt)
		f.Set("client_id", appID)
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", f)
		wantOAuthError(t, status, body, 400, "invalid_grant")
	})
	t.Run("expired", func(t *testing.T) {
		rt := signIn(t)
		h.clock.Advance(91 * 24 * time.Hour)
		defer h.clock.Advance(-91 * 24 * time.Hour)
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", refreshForm(armScope, rt))
		wantOAuthError(t, status, body, 400, "invalid_grant")
	})
	t.Run("unknown", func(t *testing.T) {
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", refreshForm(armScope, "made-up"))
		wantOAuthError(t, status, body, 400, "invalid_grant")
	})
	t.Run("deleted user", func(t *testing.T) {
		rt := signIn(t)
		h.store.endPrincipal(tenantA, anaA, h.clock.Now())
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", refreshForm(armScope, rt))
		wantOAuthError(t, status, body, 400, "invalid_grant")
	})
}

// A refresh token is revoked for good by disabling its user or changing
// its password: enabling the user again, or the old password coming
// back, does not revive it (docs/api.md, "Identity").
func TestRefreshTokenRevoked(t *testing.T) {
	setup := func(t *testing.T) (*harness, func(pw string) string) {
		h := newHarness(t)
		return h, func(pw string) string {
			t.Helper()
			status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", passwordForm("ana@fabrikam.example", pw))
			if status != 200 {
				t.Fatalf("sign-in: %d %v", status, body)
			}
			return body["refresh_token"].(string)
		}
	}
	revoked := func(t *testing.T, h *harness, rt string) {
		t.Helper()
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", refreshForm(armScope, rt))
		wantOAuthError(t, status, body, 400, "invalid_grant")
		if !strings.Contains(body["error_description"].(string), "revoked") {
			t.Errorf("description: %v", body["error_description"])
		}
	}
	works := func(t *testing.T, h *harness, rt string) string {
		t.Helper()
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", refreshForm(armScope, rt))
		if status != 200 {
			t.Fatalf("refresh: %d %v", status, body)
		}
		return body["refresh_token"].(string)
	}
	t.Run("disabled and enabled again", func(t *testing.T) {
		h, signIn := setup(t)
		rt := works(t, h, signIn(password)) // a rotated token too
		h.store.endPrincipal(tenantA, anaA, h.clock.Now().Add(time.Minute))
		h.store.enableAgain(t, tenantA, anaA, h.clock.Now().Add(2*time.Minute))
		h.clock.Advance(3 * time.Minute)
		revoked(t, h, rt)
		works(t, h, signIn(password)) // a sign-in after it is not
	})
	t.Run("password changed", func(t *testing.T) {
		h, signIn := setup(t)
		rt, kept := works(t, h, signIn(password)), signIn(password)
		h.store.setSecret(t, tenantA, anaA, "a-new-password")
		revoked(t, h, rt)
		works(t, h, signIn("a-new-password"))
		// The old password set again is another change, not a way back.
		h.store.setSecret(t, tenantA, anaA, password)
		revoked(t, h, kept)
	})
}

// Generated secrets are pasted into command lines: never a leading "-".
func TestNewSecretNoLeadingDash(t *testing.T) {
	for i := 0; i < 2000; i++ {
		if s := identity.NewSecret(); s[0] == '-' || len(s) != 24 {
			t.Fatalf("secret %q", s)
		}
	}
}
