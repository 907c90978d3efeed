package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/partnerlink/partnerlink/demo"
)

// jwtClaims decodes the claims of a JWT without verifying it.
func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("JWT claims: %v", err)
	}
	return c
}

// signJWT signs claims with go-jose: RS256 with an RSA key, HS256 with a
// []byte, with kid in the header.
func signJWT(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: string(alg)}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// serverSigningKey reads the server's active signing key from its data
// directory (DATA_DIR/keys/{kid}.json), to mint tokens that only fail on
// their claims.
func serverSigningKey(t *testing.T, e *env) (*rsa.PrivateKey, string) {
	t.Helper()
	kid := e.srv.Keys.ActiveKID()
	b, err := os.ReadFile(filepath.Join(e.dataDir, "keys", kid+".json"))
	if err != nil {
		t.Fatalf("read signing key: %v", err)
	}
	var f struct {
		JWK jose.JSONWebKey `json:"jwk"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("decode signing key: %v", err)
	}
	key, ok := f.JWK.Key.(*rsa.PrivateKey)
	if !ok {
		t.Fatalf("signing key is a %T", f.JWK.Key)
	}
	return key, kid
}

// with returns a copy of claims with the given changes.
func with(claims map[string]any, changes map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range claims {
		out[k] = v
	}
	for k, v := range changes {
		out[k] = v
	}
	return out
}

// requireUnauthorized asserts a 401 ARM error with the code, a bearer
// challenge, and that no link was made.
func requireUnauthorized(t *testing.T, what string, r armResult, armCode string) {
	t.Helper()
	code, msg := r.armError()
	if r.Status != http.StatusUnauthorized || code != armCode || msg == "" {
		t.Errorf("%s: %d %s; want 401 %s", what, r.Status, r.Body, armCode)
	}
	if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer ") {
		t.Errorf("%s: WWW-Authenticate %q; want a Bearer challenge", what, r.Header.Get("WWW-Authenticate"))
	}
}

// testSecurity uses real and forged tokens against the API.
func testSecurity(t *testing.T, e *env) {
	fabToken := e.automationToken(t, demo.FabrikamTenant)
	woodToken := e.automationToken(t, demo.WoodgroveTenant)
	claims := jwtClaims(t, fabToken)
	if claims["tid"] != demo.FabrikamTenant || claims["oid"] != demo.AutomationInFab {
		t.Fatalf("Fabrikam token claims tid %v oid %v", claims["tid"], claims["oid"])
	}
	serverKey, kid := serverSigningKey(t, e)
	put := func(token string) armResult {
		t.Helper()
		return e.partnerCall(t, http.MethodPut, demo.GermanyPartnerID, token)
	}

	t.Run("TokenStaysInItsTenant", func(t *testing.T) {
		// The same app's token from Fabrikam links only its Fabrikam
		// service principal; the Woodgrove one stays unlinked.
		r := put(fabToken)
		if r.Status != http.StatusOK {
			t.Fatalf("PUT with the Fabrikam token: %d %s", r.Status, r.Body)
		}
		checkWirePartner(t, "PUT with the Fabrikam token", r.partner(t), demo.GermanyPartnerID, "Contoso Services Germany",
			demo.FabrikamTenant, demo.AutomationInFab)
		e.requireNoLink(t, woodToken, "Woodgrove service principal after the Fabrikam link")

		// The token reaches Fabrikam's subscription, not Woodgrove's.
		if r := e.arm(t, http.MethodGet, "/subscriptions/"+demo.FabrikamSub, "Bearer "+fabToken); r.Status != http.StatusOK {
			t.Errorf("GET Fabrikam's subscription with the Fabrikam token: %d %s", r.Status, r.Body)
		}
		if r := e.arm(t, http.MethodGet, "/subscriptions/"+demo.WoodgroveSub, "Bearer "+fabToken); r.Status != http.StatusNotFound {
			t.Errorf("GET Woodgrove's subscription with the Fabrikam token: %d %s; want 404", r.Status, r.Body)
		}

		// Rewriting tid/oid to Woodgrove's breaks the signature.
		parts := strings.Split(fabToken, ".")
		payload, _ := json.Marshal(with(claims, map[string]any{"tid": demo.WoodgroveTenant, "oid": demo.AutomationInWood}))
		tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
		requireUnauthorized(t, "tampered tid/oid", put(tampered), "InvalidAuthenticationToken")

		// Even the server's own key cannot make a Fabrikam-issued token
		// speak for Woodgrove: tid must be the issuer's tenant.
		crossed := signJWT(t, jose.RS256, serverKey, kid, with(claims, map[string]any{"tid": demo.WoodgroveTenant, "oid": demo.AutomationInWood}))
		requireUnauthorized(t, "Fabrikam issuer with Woodgrove tid", put(crossed), "InvalidAuthenticationTokenTenant")
		e.requireNoLink(t, woodToken, "Woodgrove service principal after the forged requests")

		// A credential gets no token where it has no account.
		status, tr := e.token(t, demo.WoodgroveTenant, url.Values{"grant_type": {"client_credentials"},
			"client_id": {demo.CSPAgentAppID}, "client_secret": {e.creds.CSPAgentSecret}})
		if status != http.StatusBadRequest || tr.Error != "unauthorized_client" || tr.AccessToken != "" {
			t.Errorf("CSP agent token at Woodgrove: %d %s %s; want 400 unauthorized_client", status, tr.Error, tr.Description)
		}
		status, tr = e.token(t, demo.WoodgroveTenant, url.Values{"grant_type": {"password"},
			"client_id": {"04b07795-8ddb-461a-bbee-02f9e1bf7b46"}, "username": {demo.BobSignIn}, "password": {e.creds.BobPassword}})
		if status != http.StatusBadRequest || tr.Error != "invalid_grant" || tr.AccessToken != "" {
			t.Errorf("bob's token at Woodgrove: %d %s %s; want 400 invalid_grant", status, tr.Error, tr.Description)
		}

		if r := e.partnerCall(t, http.MethodDelete, demo.GermanyPartnerID, fabToken); r.Status != http.StatusOK {
			t.Fatalf("DELETE: %d %s", r.Status, r.Body)
		}
	})

	t.Run("BadTokens", func(t *testing.T) {
		other, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().Unix()
		requireUnauthorized(t, "another key under the server's kid", put(signJWT(t, jose.RS256, other, kid, claims)), "InvalidAuthenticationToken")
		requireUnauthorized(t, "another key and kid", put(signJWT(t, jose.RS256, other, "not-a-server-key", claims)), "InvalidAuthenticationToken")
		requireUnauthorized(t, "HS256", put(signJWT(t, jose.HS256, []byte("0123456789abcdef0123456789abcdef"), kid, claims)),
			"InvalidAuthenticationToken")
		none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + strings.Split(fabToken, ".")[1] + "."
		requireUnauthorized(t, "alg none", put(none), "InvalidAuthenticationToken")
		expired := signJWT(t, jose.RS256, serverKey, kid, with(claims, map[string]any{"iat": now - 3*3600, "nbf": now - 3*3600, "exp": now - 2*3600}))
		requireUnauthorized(t, "expired", put(expired), "ExpiredAuthenticationToken")
		wrongAud := signJWT(t, jose.RS256, serverKey, kid, with(claims, map[string]any{"aud": "https://graph.windows.net/"}))
		requireUnauthorized(t, "wrong audience", put(wrongAud), "InvalidAuthenticationTokenAudience")
		foreignIss := signJWT(t, jose.RS256, serverKey, kid, with(claims, map[string]any{"iss": "https://login.example.invalid/" + demo.FabrikamTenant + "/v2.0"}))
		requireUnauthorized(t, "untrusted issuer", put(foreignIss), "InvalidAuthenticationTokenTenant")
		requireUnauthorized(t, "no token", e.arm(t, http.MethodPut, mpBase+"/partners/"+demo.GermanyPartnerID, ""), "AuthenticationFailed")
		// The control: the same claims, signed by the server, are accepted.
		if r := e.partnerCall(t, http.MethodGet, "", signJWT(t, jose.RS256, serverKey, kid, claims)); r.Status != http.StatusNotFound {
			t.Errorf("re-signed valid claims: %d %s; want 404 (authenticated, nothing linked)", r.Status, r.Body)
		}
		e.requireNoLink(t, fabToken, "Fabrikam service principal after the bad tokens")
	})

	t.Run("CSPDelegatedRefused", func(t *testing.T) {
		csp := e.spToken(t, demo.FabrikamTenant, demo.CSPAgentAppID, e.creds.CSPAgentSecret)
		if c := jwtClaims(t, csp); c["oid"] != demo.CSPAgentInFab {
			t.Fatalf("CSP agent token oid %v", c["oid"])
		}
		for _, method := range []string{http.MethodPut, http.MethodPatch} {
			r := e.partnerCall(t, method, demo.GermanyPartnerID, csp)
			code, msg := r.armError()
			if r.Status != http.StatusForbidden || code != "CSPDelegatedPrincipal" || !strings.Contains(msg, "CSP channel") {
				t.Errorf("%s as the CSP agent: %d %s; want 403 about the CSP channel", method, r.Status, r.Body)
			}
		}
		e.requireNoLink(t, csp, "CSP agent")
	})

	t.Run("OthersLinkUntouchable", func(t *testing.T) {
		alice := e.userToken(t, demo.FabrikamTenant, demo.AliceSignIn, e.creds.AlicePassword)
		bob := e.userToken(t, demo.FabrikamTenant, demo.BobSignIn, e.creds.BobPassword)
		r := e.partnerCall(t, http.MethodPut, demo.GermanyPartnerID, alice)
		if r.Status != http.StatusOK {
			t.Fatalf("alice PUT: %d %s", r.Status, r.Body)
		}
		before := r.partner(t)
		checkWirePartner(t, "alice PUT", before, demo.GermanyPartnerID, "Contoso Services Germany", demo.FabrikamTenant, demo.AliceInFabrikam)

		// bob (Fabrikam's Owner) and the automation principal can only
		// ever reach their own link.
		for _, who := range []struct{ name, token string }{{"bob", bob}, {"automation", fabToken}} {
			r := e.partnerCall(t, http.MethodDelete, demo.GermanyPartnerID, who.token)
			if code, msg := r.armError(); r.Status != http.StatusNotFound || code != "NotFound" || !strings.Contains(msg, "No partner ID is linked") {
				t.Errorf("%s DELETE of alice's partner ID: %d %s; want 404 for his own (absent) link", who.name, r.Status, r.Body)
			}
		}
		// A body naming alice's account is ignored: the operations take
		// no body, the caller is the token's principal.
		r = e.armWithBody(t, http.MethodPut, mpBase+"/partners/"+demo.SoloPartnerID, bob,
			`{"properties":{"tenantId":"`+demo.FabrikamTenant+`","objectId":"`+demo.AliceInFabrikam+`","partnerId":"`+demo.SoloPartnerID+`"}}`)
		if r.Status != http.StatusOK {
			t.Fatalf("bob PUT with a body naming alice: %d %s", r.Status, r.Body)
		}
		checkWirePartner(t, "bob PUT with a body naming alice", r.partner(t), demo.SoloPartnerID, "Northwind Integrators", demo.FabrikamTenant, demo.BobID)
		r = e.partnerCall(t, http.MethodPatch, demo.SoloPartnerID, bob)
		if r.Status != http.StatusOK {
			t.Fatalf("bob PATCH: %d %s", r.Status, r.Body)
		}
		checkWirePartner(t, "bob PATCH", r.partner(t), demo.SoloPartnerID, "Northwind Integrators", demo.FabrikamTenant, demo.BobID)

		r = e.partnerCall(t, http.MethodGet, "", alice)
		if r.Status != http.StatusOK {
			t.Fatalf("alice GET: %d %s", r.Status, r.Body)
		}
		after := r.partner(t)
		if after.Properties.PartnerID != demo.GermanyPartnerID || after.Properties.Version != before.Properties.Version ||
			after.Properties.UpdatedTime != before.Properties.UpdatedTime || after.Properties.ObjectID != demo.AliceInFabrikam {
			t.Errorf("alice's link changed by others: before %+v after %+v", before.Properties, after.Properties)
		}
		for _, c := range []struct{ token, id string }{{alice, demo.GermanyPartnerID}, {bob, demo.SoloPartnerID}} {
			if r := e.partnerCall(t, http.MethodDelete, c.id, c.token); r.Status != http.StatusOK {
				t.Errorf("cleanup DELETE %s: %d %s", c.id, r.Status, r.Body)
			}
		}
	})
}
