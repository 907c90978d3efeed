package client_test

// Sign-in against the real token service is tested in identity
// (client_test.go), which has the in-memory directory; these tests cover
// what needs no server.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/client"
)

const tenant = "aaaaaaaa-0000-4000-8000-000000000001"

func TestLoadWithoutSession(t *testing.T) {
	dir := t.TempDir()
	_, err := client.Load(dir)
	if partnerlink.ErrorCode(err) != partnerlink.EUNAUTHORIZED || partnerlink.ErrorMessage(err) == "" {
		t.Fatalf("Load of an empty directory: %v", err)
	}
	if err := client.Logout(dir); err != nil {
		t.Fatalf("Logout when signed out: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "session.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Load(dir); err == nil {
		t.Fatal("Load of a corrupt session succeeded")
	}
}

func TestDefaultConfigDir(t *testing.T) {
	t.Setenv("PARTNERLINK_CONFIG_DIR", "/tmp/pl-config")
	if d, err := client.DefaultConfigDir(); err != nil || d != "/tmp/pl-config" {
		t.Fatalf("with the variable: %q %v", d, err)
	}
	t.Setenv("PARTNERLINK_CONFIG_DIR", "")
	t.Setenv("HOME", "/home/someone")
	if d, err := client.DefaultConfigDir(); err != nil || d != "/home/someone/.partnerlink" {
		t.Fatalf("without the variable: %q %v", d, err)
	}
}

func TestLoginRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	opts := client.Options{Server: "https://127.0.0.1:1", ConfigDir: t.TempDir()}
	for name, err := range map[string]error{
		"sp tenant not a GUID": func() error {
			_, err := client.LoginServicePrincipal(ctx, opts, "contoso", "11111111-2222-4333-8444-555555555555", "x")
			return err
		}(),
		"sp app id not a GUID": func() error {
			_, err := client.LoginServicePrincipal(ctx, opts, tenant, "deployer", "x")
			return err
		}(),
		"sp without secret": func() error {
			_, err := client.LoginServicePrincipal(ctx, opts, tenant, "11111111-2222-4333-8444-555555555555", "")
			return err
		}(),
		"user tenant not a GUID": func() error {
			_, err := client.LoginPassword(ctx, opts, "contoso.example", "ana", "pw")
			return err
		}(),
		"user without password": func() error {
			_, err := client.LoginPassword(ctx, opts, tenant, "ana", "")
			return err
		}(),
		"plain http server": func() error {
			_, err := client.LoginPassword(ctx, client.Options{Server: "http://127.0.0.1:8443", ConfigDir: t.TempDir()}, tenant, "ana", "pw")
			return err
		}(),
		"CA file without certificates": func() error {
			bad := filepath.Join(t.TempDir(), "ca.pem")
			os.WriteFile(bad, []byte("nothing"), 0o600)
			_, err := client.LoginPassword(ctx, client.Options{Server: "https://127.0.0.1:1", CAFile: bad, ConfigDir: t.TempDir()}, tenant, "ana", "pw")
			return err
		}(),
	} {
		if partnerlink.ErrorCode(err) != partnerlink.EINVALID {
			t.Errorf("%s: got %v, want EINVALID", name, err)
		}
	}
	// Nothing was saved by the refused logins.
	if _, err := os.Stat(filepath.Join(opts.ConfigDir, "session.json")); !os.IsNotExist(err) {
		t.Fatalf("a session was saved: %v", err)
	}
}

func TestUnreachableServer(t *testing.T) {
	// Port 1 on loopback refuses connections: the error says what to check.
	_, err := client.LoginPassword(context.Background(), client.Options{Server: "https://127.0.0.1:1", ConfigDir: t.TempDir()}, tenant, "ana", "pw")
	if err == nil || partnerlink.ErrorCode(err) != partnerlink.EINTERNAL {
		t.Fatalf("got %v", err)
	}
}

// A server whose certificate the CLI does not trust (no --ca-file) gets a
// message that says which file to give, not a bare TLS error.
func TestUntrustedServerNamesTheCAFile(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := client.LoginPassword(context.Background(), client.Options{Server: srv.URL, ConfigDir: t.TempDir()}, tenant, "ana", "pw")
	if partnerlink.ErrorCode(err) != partnerlink.EINVALID || !strings.Contains(partnerlink.ErrorMessage(err), "give --ca-file the server's CA certificate") {
		t.Fatalf("login to an untrusted server: %v", err)
	}
}
