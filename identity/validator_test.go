package identity_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/identity"
)

// claims returns valid access token claims for ana in tenant A, issued by h.
func (h *harness) claims() map[string]any {
	now := h.clock.Now()
	return map[string]any{
		"iss": h.url + "/" + tenantA + "/v2.0", "aud": "https://management.core.windows.net/",
		"exp": now.Add(time.Hour).Unix(), "nbf": now.Unix(), "iat": now.Unix(),
		"tid": tenantA, "oid": anaA, "sub": anaA, "appid": cliClient, "idtyp": "user", "ver": "2.0",
	}
}

func (h *harness) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	raw, err := h.keys.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// signWith signs claims with key under kid and algorithm alg.
func signWith(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// wantARMCode checks that err is an EUNAUTHORIZED *partnerlink.Error with armCode.
func wantARMCode(t *testing.T, err error, armCode string) {
	t.Helper()
	var e *partnerlink.Error
	if !errors.As(err, &e) || e.Code != partnerlink.EUNAUTHORIZED || e.ARMCode != armCode || e.Message == "" {
		t.Fatalf("got %#v, want EUNAUTHORIZED %s", err, armCode)
	}
}

func TestValidatorRefuses(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.val.Validate(ctx, h.sign(t, h.claims())); err != nil {
		t.Fatalf("the valid token: %v", err)
	}
	// The scheme is the adapters' to take off, once: "Bearer Bearer <token>"
	// is not a header a client sends.
	if _, err := h.val.Validate(ctx, "Bearer "+h.sign(t, h.claims())); err == nil {
		t.Fatalf("a token with the scheme still on it was accepted")
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	with := func(k string, v any) map[string]any {
		c := h.claims()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	noneToken := func() string {
		enc := base64.RawURLEncoding.EncodeToString
		p, _ := json.Marshal(h.claims())
		return enc([]byte(`{"alg":"none","typ":"JWT","kid":"`+h.keys.ActiveKID()+`"}`)) + "." + enc(p) + "."
	}
	// HS256 keyed with the public key's bytes: the classic algorithm confusion.
	pub, _ := h.keys.PublicKey(h.keys.ActiveKID())
	hmacKey, _ := json.Marshal(jose.JSONWebKey{Key: pub})
	now := h.clock.Now()

	for _, tc := range []struct {
		name, raw, code string
	}{
		{"empty", "", identity.CodeInvalidToken},
		{"garbage", "not.a.jwt", identity.CodeInvalidToken},
		{"signed by another key under our kid", signWith(t, jose.RS256, other, h.keys.ActiveKID(), h.claims()), identity.CodeInvalidToken},
		{"unknown kid", signWith(t, jose.RS256, other, "other-kid", h.claims()), identity.CodeInvalidToken},
		{"alg none", noneToken(), identity.CodeInvalidToken},
		{"HS256 confusion", signWith(t, jose.HS256, hmacKey, h.keys.ActiveKID(), h.claims()), identity.CodeInvalidToken},
		{"untrusted issuer", h.sign(t, with("iss", "https://login.example.org/"+tenantA+"/v2.0")), identity.CodeInvalidTenant},
		{"issuer of another path", h.sign(t, with("iss", h.url+"/"+tenantA+"/v3")), identity.CodeInvalidTenant},
		{"wrong audience", h.sign(t, with("aud", "https://graph.microsoft.com")), identity.CodeInvalidAudience},
		{"no audience", h.sign(t, with("aud", nil)), identity.CodeInvalidAudience},
		{"expired", h.sign(t, with("exp", now.Add(-2*time.Minute).Unix())), identity.CodeExpiredToken},
		{"no expiry", h.sign(t, with("exp", nil)), identity.CodeInvalidToken},
		{"not yet valid", h.sign(t, with("nbf", now.Add(5*time.Minute).Unix())), identity.CodeInvalidToken},
		{"tenant A token with tenant B issuer", h.sign(t, with("iss", h.url+"/"+tenantB+"/v2.0")), identity.CodeInvalidTenant},
		{"tenant A token with tenant B v1 issuer", h.sign(t, with("iss", h.url+"/"+tenantB+"/")), identity.CodeInvalidTenant},
		{"adfs token without tid", h.sign(t, with("iss", h.url+"/adfs")), ""},
		{"no oid", h.sign(t, with("oid", nil)), identity.CodeInvalidToken},
		{"unknown principal", h.sign(t, with("oid", "a0000000-0000-4000-8000-00000000dead")), identity.CodeInvalidToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.code == "" { // a valid variant
				if _, err := h.val.Validate(ctx, tc.raw); err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			_, err := h.val.Validate(ctx, tc.raw)
			wantARMCode(t, err, tc.code)
		})
	}
	t.Run("adfs token of an unknown tenant", func(t *testing.T) {
		c := with("iss", h.url+"/adfs")
		c["tid"] = "dddddddd-0000-4000-8000-000000000009"
		_, err := h.val.Validate(ctx, h.sign(t, c))
		wantARMCode(t, err, identity.CodeInvalidTenant)
	})
	t.Run("leeway", func(t *testing.T) {
		if _, err := h.val.Validate(ctx, h.sign(t, with("exp", now.Add(-30*time.Second).Unix()))); err != nil {
			t.Fatalf("30 s after exp is within the leeway: %v", err)
		}
		if _, err := h.val.Validate(ctx, h.sign(t, with("nbf", now.Add(30*time.Second).Unix()))); err != nil {
			t.Fatalf("30 s before nbf is within the leeway: %v", err)
		}
	})
}

func TestValidatorCacheAndLiveness(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	raw := h.sign(t, h.claims())
	if _, err := h.val.Validate(ctx, raw); err != nil {
		t.Fatal(err)
	}
	reads := h.store.principalReads()
	for range 100 {
		if _, err := h.val.Validate(ctx, raw); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.store.principalReads(); got != reads {
		t.Fatalf("cached validations read the directory %d times", got-reads)
	}
	// The caller comes with the principal record of the last liveness
	// check, which is read again once the liveness TTL passes.
	c, err := h.val.Validate(ctx, raw)
	if err != nil || c.Principal == nil || c.Principal.ObjectID != anaA || c.Principal.DisplayName != "ana@fabrikam.example" {
		t.Fatalf("caller's principal = %+v, %v", c.Principal, err)
	}
	h.store.renamePrincipal(tenantA, anaA, "ana (renamed)")
	if c, _ := h.val.Validate(ctx, raw); c.Principal.DisplayName != "ana@fabrikam.example" {
		t.Fatalf("principal record re-read within the liveness TTL")
	}
	h.clock.Advance(6 * time.Second)
	if c, err := h.val.Validate(ctx, raw); err != nil || c.Principal.DisplayName != "ana (renamed)" {
		t.Fatalf("principal record after the liveness TTL = %+v, %v", c.Principal, err)
	}
	// Deleting the principal stops its token once the liveness TTL passes.
	h.store.endPrincipal(tenantA, anaA, h.clock.Now())
	h.clock.Advance(6 * time.Second)
	_, err = h.val.Validate(ctx, raw)
	// A sound token of a principal that may no longer act: 403, as the
	// linking rules answer (docs/rules.md).
	var e *partnerlink.Error
	if !errors.As(err, &e) || e.Code != partnerlink.EFORBIDDEN || e.ARMCode != "AuthorizationFailed" || !strings.Contains(err.Error(), "deleted or disabled") {
		t.Fatalf("message: %v", err)
	}

	// A cached token still expires on time.
	raw = h.sign(t, map[string]any{"iss": h.url + "/" + tenantA + "/v2.0", "aud": "https://management.azure.com/",
		"exp": h.clock.Now().Add(time.Hour).Unix(), "tid": tenantA, "oid": spA})
	if _, err := h.val.Validate(ctx, raw); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Hour + 2*time.Minute)
	_, err = h.val.Validate(ctx, raw)
	wantARMCode(t, err, identity.CodeExpiredToken)

	// Flush drops cached validations at once.
	raw = h.sign(t, map[string]any{"iss": h.url + "/" + tenantA + "/v2.0", "aud": "https://management.azure.com/",
		"exp": h.clock.Now().Add(time.Hour).Unix(), "tid": tenantA, "oid": spA})
	if _, err := h.val.Validate(ctx, raw); err != nil {
		t.Fatal(err)
	}
	h.store.endPrincipal(tenantA, spA, h.clock.Now())
	h.val.Flush()
	if _, err = h.val.Validate(ctx, raw); partnerlink.ErrorCode(err) != partnerlink.EFORBIDDEN {
		t.Fatalf("disabled principal after Flush: %v, want 403", err)
	}
}

func TestKeyRotation(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", spForm(armScope))
	if status != 200 {
		t.Fatalf("%d %v", status, body)
	}
	oldToken, oldKID := body["access_token"].(string), h.keys.ActiveKID()
	if err := h.keys.Rotate(); err != nil {
		t.Fatal(err)
	}
	newKID := h.keys.ActiveKID()
	if newKID == oldKID {
		t.Fatal("Rotate kept the kid")
	}
	h.val.Flush()
	if _, err := h.val.Validate(ctx, oldToken); err != nil {
		t.Fatalf("a token of the retired key: %v", err)
	}
	_, body = h.post(t, "/"+tenantA+"/oauth2/v2.0/token", spForm(armScope))
	newToken := body["access_token"].(string)
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(newToken, ".")[0])
	if !strings.Contains(string(hdr), `"kid":"`+newKID+`"`) {
		t.Fatalf("new token header %s, want kid %s", hdr, newKID)
	}
	_, jwks := h.get(t, "/"+tenantA+"/discovery/v2.0/keys")
	if keys := jwks["keys"].([]any); len(keys) != 2 || keys[0].(map[string]any)["kid"] != newKID || keys[1].(map[string]any)["kid"] != oldKID {
		t.Fatalf("jwks after rotation: %v", jwks)
	}

	// Key files survive a restart and are private.
	dir := h.keyDir
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("key files: %v", entries)
	}
	for _, e := range entries {
		info, _ := e.Info()
		if info.Mode().Perm() != 0o600 {
			t.Fatalf("%s has mode %v", e.Name(), info.Mode().Perm())
		}
	}
	reopened, err := identity.OpenKeys(dir, identity.KeyOptions{Now: h.clock.Now})
	if err != nil || reopened.ActiveKID() != newKID {
		t.Fatalf("reopen: %v %v", reopened, err)
	}

	// Once every token of the retired key has expired, the key goes.
	h.clock.Advance(2*time.Hour + time.Minute)
	if err := h.keys.Rotate(); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.keys.PublicKey(oldKID); ok {
		t.Fatal("the old key is still published after its retention")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Fatalf("key files after pruning: %v", entries)
	}
	h.val.Flush()
	_, err = h.val.Validate(ctx, oldToken)
	wantARMCode(t, err, identity.CodeInvalidToken)
}

// externalIssuer is a second, independent OIDC issuer: an httptest TLS
// server serving discovery and JWKS, signing its own tokens.
type externalIssuer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
	iss string // the server's URL and the path given
}

// newExternalIssuer starts an OIDC issuer at path of a test server ("" for
// its root, "/{tid}/v2.0" for one that names a tenant, as Entra's do).
func newExternalIssuer(t *testing.T, path string) *externalIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	x := &externalIssuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+path+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": x.iss, "jwks_uri": x.srv.URL + "/keys",
			"authorization_endpoint": x.srv.URL + "/authorize", "token_endpoint": x.srv.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "ext-1", Algorithm: "RS256", Use: "sig"}}})
	})
	x.srv = httptest.NewTLSServer(mux)
	x.iss = x.srv.URL + path
	t.Cleanup(x.srv.Close)
	return x
}

func (x *externalIssuer) token(t *testing.T, now time.Time, aud, tid, oid string) string {
	c := map[string]any{"iss": x.iss, "aud": aud, "exp": now.Add(time.Hour).Unix(), "nbf": now.Unix(), "iat": now.Unix(),
		"sub": oid, "azp": appID}
	if tid != "" {
		c["tid"] = tid
	}
	if oid != "" {
		c["oid"] = oid
	}
	return signWith(t, jose.RS256, x.key, "ext-1", c)
}

// A guest acts for its home user: deleting or disabling that user stops
// the guest's tokens too, within the liveness TTL (docs/api.md, "Identity").
func TestGuestTokenStopsWithItsHomeUser(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	now := h.clock.Now()
	raw := h.sign(t, map[string]any{"iss": h.url + "/" + tenantB + "/v2.0", "aud": "https://management.azure.com/",
		"exp": now.Add(time.Hour).Unix(), "tid": tenantB, "oid": anaGuestB})
	if _, err := h.val.Validate(ctx, raw); err != nil {
		t.Fatalf("ana's guest in B: %v", err)
	}
	h.store.endPrincipal(tenantA, anaA, now)
	h.clock.Advance(6 * time.Second)
	_, err := h.val.Validate(ctx, raw)
	if partnerlink.ErrorCode(err) != partnerlink.EFORBIDDEN || !strings.Contains(err.Error(), "home user") {
		t.Fatalf("guest token after its home user was disabled: %v, want 403 naming the home user", err)
	}
}

func TestExternalIssuer(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	trusted, untrusted := newExternalIssuer(t, ""), newExternalIssuer(t, "")
	// An issuer whose URL names a tenant, as Entra's do.
	entraB := newExternalIssuer(t, "/"+tenantB+"/v2.0")
	// One client that trusts both test servers' certificates (httptest
	// servers share one certificate).
	v, err := identity.NewValidator(identity.ValidatorConfig{
		BaseURLs: []string{h.url}, Keys: h.keys, Directory: h.store, Now: h.clock.Now,
		External: []identity.TrustedIssuer{{Issuer: trusted.iss, Audience: "api://partnerlink"},
			{Issuer: entraB.iss, Audience: "api://partnerlink"}},
		HTTPClient: trusted.srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	now := h.clock.Now()
	c, err := v.Validate(ctx, trusted.token(t, now, "api://partnerlink", tenantB, carolB))
	if err != nil || c.Principal == nil || c.Principal.ObjectID != carolB {
		t.Fatalf("trusted issuer: %+v %v; want the caller's principal record", c, err)
	}
	if c.Principal = nil; c != (partnerlink.Caller{TenantID: tenantB, ObjectID: carolB, AppID: appID}) {
		t.Fatalf("trusted issuer: %v %v", c, err)
	}
	_, err = v.Validate(ctx, untrusted.token(t, now, "api://partnerlink", tenantB, carolB))
	wantARMCode(t, err, identity.CodeInvalidTenant)
	_, err = v.Validate(ctx, trusted.token(t, now, "api://other", tenantB, carolB))
	wantARMCode(t, err, identity.CodeInvalidAudience)
	_, err = v.Validate(ctx, trusted.token(t, now, "api://partnerlink", "", carolB))
	wantARMCode(t, err, identity.CodeInvalidToken)
	_, err = v.Validate(ctx, trusted.token(t, now, "api://partnerlink", tenantB, ""))
	wantARMCode(t, err, identity.CodeInvalidToken)
	// The trusted issuer's iss with another key (the untrusted one's) fails the signature.
	forged := signWith(t, jose.RS256, untrusted.key, "ext-1", map[string]any{"iss": trusted.srv.URL, "aud": "api://partnerlink",
		"exp": now.Add(time.Hour).Unix(), "tid": tenantB, "oid": carolB})
	_, err = v.Validate(ctx, forged)
	wantARMCode(t, err, identity.CodeInvalidToken)
	// An external token for a principal unknown here is refused.
	_, err = v.Validate(ctx, trusted.token(t, now, "api://partnerlink", tenantB, "b0000000-0000-4000-8000-00000000dead"))
	wantARMCode(t, err, identity.CodeInvalidToken)
	// The issuer that names tenant B speaks for B's principals only: a
	// token of it for tenant A's ana is refused (docs/api.md, "Identity").
	if _, err := v.Validate(ctx, entraB.token(t, now, "api://partnerlink", tenantB, carolB)); err != nil {
		t.Fatalf("issuer of tenant B for carol in B: %v", err)
	}
	_, err = v.Validate(ctx, entraB.token(t, now, "api://partnerlink", tenantA, anaA))
	wantARMCode(t, err, identity.CodeInvalidTenant)
	// Our own tokens are still accepted by the same validator.
	if _, err := v.Validate(ctx, h.sign(t, h.claims())); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkValidateCached(b *testing.B) {
	h := newHarness(b)
	raw, err := h.keys.Sign(h.claims())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.val.Validate(ctx, raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestRotateIfOlder(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ks, err := identity.OpenKeys(t.TempDir(), identity.KeyOptions{Now: func() time.Time { return now }, Bits: 1024})
	if err != nil {
		t.Fatal(err)
	}
	first := ks.ActiveKID()
	if rotated, err := ks.RotateIfOlder(30 * 24 * time.Hour); err != nil || rotated {
		t.Fatalf("fresh key rotated: %v %v", rotated, err)
	}
	now = now.AddDate(0, 0, 31)
	if rotated, err := ks.RotateIfOlder(30 * 24 * time.Hour); err != nil || !rotated || ks.ActiveKID() == first {
		t.Fatalf("old key not rotated: %v %v", rotated, err)
	}
}
