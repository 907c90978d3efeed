package identity_test

// The CLI's sign-in client (package client) against the real token service.

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/client"
)

// clientOptions writes the test server's certificate as the CA file and
// returns options for a fresh config directory.
func clientOptions(t *testing.T, h *harness) client.Options {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	return client.Options{Server: h.url, CAFile: ca, ConfigDir: filepath.Join(t.TempDir(), "config")}
}

func wantOAuthCode(t *testing.T, err error, code string) {
	t.Helper()
	var oe *client.OAuthError
	if !errors.As(err, &oe) || oe.Code != code {
		t.Fatalf("got %v, want OAuth error %s", err, code)
	}
}

func TestClientServicePrincipal(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	opts := clientOptions(t, h)
	s, err := client.LoginServicePrincipal(ctx, opts, tenantA, strings.ToUpper(appID), secret)
	if err != nil {
		t.Fatal(err)
	}
	if s.HomeTenant() != tenantA || s.Server() != h.url || s.Account() != (client.Account{Kind: client.KindServicePrincipal, Name: appID, HomeTenantID: tenantA, ObjectID: spA}) {
		t.Fatalf("session %v %v", s.HomeTenant(), s.Account())
	}
	info, err := os.Stat(filepath.Join(opts.ConfigDir, "session.json"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("session file: %v %v", info, err)
	}

	loaded, err := client.Load(opts.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := loaded.Token(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := h.val.Validate(ctx, tok); err != nil || c.ObjectID != spA || c.TenantID != tenantA {
		t.Fatalf("home token: %v %v", c, err)
	}
	tokB, err := loaded.Token(ctx, strings.ToUpper(tenantB))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := h.val.Validate(ctx, tokB); err != nil || c.ObjectID != spB || c.TenantID != tenantB {
		t.Fatalf("tenant B token: %v %v", c, err)
	}
	if again, _ := loaded.Token(ctx, tenantB); again != tokB {
		t.Fatal("the cached token was not reused")
	}
	_, err = loaded.Token(ctx, tenantC)
	wantOAuthCode(t, err, "unauthorized_client")

	// The HTTP client trusts the server's CA.
	resp, err := loaded.HTTPClient().Get(h.url + "/" + tenantA + "/v2.0/.well-known/openid-configuration")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("HTTPClient: %v %v", resp, err)
	}
	resp.Body.Close()

	_, err = client.LoginServicePrincipal(ctx, opts, tenantA, appID, "wrong")
	wantOAuthCode(t, err, "invalid_client")
}

func TestClientUserSessions(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	// A tenants listing like the ARM side's, authenticated by the validator.
	h.api = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := h.val.Validate(r.Context(), strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if err != nil || r.URL.Path != "/tenants" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"value": []map[string]string{
			{"id": "/tenants/" + c.TenantID, "tenantId": c.TenantID, "displayName": "Fabrikam"},
			{"id": "/tenants/" + tenantB, "tenantId": tenantB, "displayName": "Contoso"}}})
	})

	t.Run("password, then guest tenants by refresh token", func(t *testing.T) {
		opts := clientOptions(t, h)
		s, err := client.LoginPassword(ctx, opts, "", "ana@fabrikam.example", password)
		if err != nil {
			t.Fatal(err)
		}
		if s.HomeTenant() != tenantA || s.Account() != (client.Account{Kind: client.KindUser, Name: "ana@fabrikam.example", HomeTenantID: tenantA, ObjectID: anaA}) {
			t.Fatalf("session %v %v", s.HomeTenant(), s.Account())
		}
		// A tenant where ana has no account fails without spending the refresh token.
		_, err = s.Token(ctx, tenantC)
		wantOAuthCode(t, err, "invalid_grant")
		tokB, err := s.Token(ctx, tenantB)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := h.val.Validate(ctx, tokB); err != nil || c.ObjectID != anaGuestB || c.TenantID != tenantB {
			t.Fatalf("guest token: %v %v", c, err)
		}
		tenants, err := s.Tenants(ctx)
		if err != nil || len(tenants) != 2 || tenants[0].TenantID != tenantA || tenants[1].DisplayName != "Contoso" {
			t.Fatalf("Tenants: %v %v", tenants, err)
		}

		// Two processes with the same session: the second finds its
		// refresh token spent by the first and picks up the rotated one.
		forceRefresh(t, opts.ConfigDir)
		p1, err := client.Load(opts.ConfigDir)
		if err != nil {
			t.Fatal(err)
		}
		p2, err := client.Load(opts.ConfigDir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p1.Token(ctx, tenantB); err != nil {
			t.Fatal(err)
		}
		if _, err := p2.Token(ctx, tenantB); err != nil {
			t.Fatalf("second process: %v", err)
		}
	})
	t.Run("device code in a guest tenant", func(t *testing.T) {
		opts := clientOptions(t, h)
		var shown client.DeviceCode
		s, err := client.LoginDeviceCode(ctx, opts, tenantB, func(dc client.DeviceCode) error {
			shown = dc
			newBrowser(t, h).approve(t, dc.UserCode, "bob@fabrikam.example", "bobs password")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if shown.VerificationURI != h.url+"/device" || !strings.Contains(shown.Message, shown.UserCode) {
			t.Fatalf("prompt %+v", shown)
		}
		if s.HomeTenant() != tenantB || s.Account().HomeTenantID != tenantA || s.Account().ObjectID != bobA {
			t.Fatalf("session %v %+v", s.HomeTenant(), s.Account())
		}
		tok, err := s.Token(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if c, err := h.val.Validate(ctx, tok); err != nil || c.ObjectID != bobGuestB {
			t.Fatalf("token: %v %v", c, err)
		}
	})
	t.Run("logout", func(t *testing.T) {
		opts := clientOptions(t, h)
		if _, err := client.LoginPassword(ctx, opts, tenantB, "carol@contoso.example", "carols password"); err != nil {
			t.Fatal(err)
		}
		if err := client.Logout(opts.ConfigDir); err != nil {
			t.Fatal(err)
		}
		_, err := client.Load(opts.ConfigDir)
		if partnerlink.ErrorCode(err) != partnerlink.EUNAUTHORIZED {
			t.Fatalf("Load after logout: %v", err)
		}
	})
}

// forceRefresh drops the cached access tokens from the session file, so
// the next Token call redeems the refresh token.
func forceRefresh(t *testing.T, dir string) {
	t.Helper()
	p := filepath.Join(dir, "session.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	f["tokens"] = map[string]any{}
	b, _ = json.Marshal(f)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
