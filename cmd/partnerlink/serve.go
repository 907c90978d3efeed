package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/partnerlink/partnerlink/demo"
	"github.com/partnerlink/partnerlink/identity"
	"github.com/partnerlink/partnerlink/server"
	"github.com/partnerlink/partnerlink/usage"
	"github.com/partnerlink/partnerlink/world"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newServeCmd) }

func newServeCmd(m *Main) *cobra.Command {
	var cfg server.Config
	var withDemo bool
	var trusted []string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the API, the token service and the portal on one HTTPS address",
		Long: `Serve the ARM API (Microsoft.ManagementPartner), the per-tenant token service and the
portal on one HTTPS base URL. State lives in SQLite in the data directory unless --db names a
PostgreSQL database. On first start a local CA and server certificate are created and the CA is
written to DATA_DIR/ca.pem (point SSL_CERT_FILE / REQUESTS_CA_BUNDLE at it), unless --tls-cert
and --tls-key are given.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.DataDir, cfg.DSN, cfg.Now = m.DataDir, m.DSN, m.Now
			for _, t := range trusted {
				iss, aud, ok := strings.Cut(t, "=")
				if !ok {
					return fmt.Errorf("--trusted-issuer %q: expected ISSUER_URL=AUDIENCE", t)
				}
				cfg.TrustedIssuers = append(cfg.TrustedIssuers, identity.TrustedIssuer{Issuer: iss, Audience: aud})
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv, err := server.Open(ctx, cfg)
			if err != nil {
				return err
			}
			defer srv.Close()
			fmt.Fprintf(m.Stdout, "partnerlink %s serving %s\n", versionString(), srv.URL)
			if srv.CAFile != "" {
				abs, _ := filepath.Abs(srv.CAFile)
				fmt.Fprintf(m.Stdout, "CA certificate: %s\n  export SSL_CERT_FILE=%s REQUESTS_CA_BUNDLE=%s\n", abs, abs, abs)
			}
			if withDemo {
				creds, err := loadDemo(ctx, srv, m.DataDir)
				if err != nil {
					return err
				}
				printDemo(m.Stdout, srv.URL, m.DataDir, creds)
			}
			srv.Start()
			<-ctx.Done()
			fmt.Fprintln(m.Stderr, "shutting down")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "addr", "127.0.0.1:8443", "address to listen on")
	f.BoolVar(&withDemo, "demo", false, "load the demo world on first start and print how to sign in")
	f.StringVar(&cfg.TLSCert, "tls-cert", "", "serve this certificate (PEM) instead of one from the local CA")
	f.StringVar(&cfg.TLSKey, "tls-key", "", "the key of --tls-cert")
	f.StringSliceVar(&cfg.PublicURLs, "public-url", nil, "another base URL clients reach this server at (repeatable)")
	f.StringArrayVar(&trusted, "trusted-issuer", nil, "accept tokens of an external OIDC issuer: ISSUER_URL=AUDIENCE (repeatable)")
	f.IntVar(&cfg.MaxConnsPerIP, "max-conns-per-ip", server.DefaultMaxConnsPerIP, "most open connections from one IP address; more are closed at once")
	f.StringSliceVar(&cfg.WebhookAllow, "webhook-allow", nil,
		"let webhooks reach these non-public targets: CIDR, address or host name (repeatable or comma-separated; docs/operations.md)")
	return cmd
}

// loadDemo imports the demo world into an empty store, or finds the
// credentials of the demo loaded before.
func loadDemo(ctx context.Context, srv *server.Server, dataDir string) (demo.Credentials, error) {
	path := filepath.Join(dataDir, "demo-credentials.json")
	var creds demo.Credentials
	if b, err := os.ReadFile(path); err == nil {
		return creds, json.Unmarshal(b, &creds)
	}
	tenants, err := srv.DB.Tenants(ctx)
	if err != nil {
		return creds, err
	}
	if len(tenants) > 0 {
		return creds, fmt.Errorf("--demo: the data directory %s already holds a world that is not the demo; use another --data-dir", dataDir)
	}
	creds = demo.NewCredentials()
	doc := demo.World(creds)
	world.Normalize(doc)
	if err := world.Validate(doc); err != nil {
		return creds, err
	}
	if err := srv.DB.ImportWorld(ctx, doc, identity.HashSecret); err != nil {
		return creds, err
	}
	// Last month's usage, so attribution has something to credit (Northwind
	// is linked in Woodgrove since January).
	lastMonth := time.Now().UTC().AddDate(0, -1, 0)
	if _, err := usage.Import(ctx, srv.DB, dataDir, usage.FOCUS, "demo-usage.csv", bytes.NewReader(demo.UsageCSV(lastMonth)), time.Now(), nil); err != nil {
		return creds, err
	}
	b, _ := json.MarshalIndent(creds, "", "  ")
	return creds, os.WriteFile(path, b, 0o600)
}

func printDemo(w io.Writer, url, dataDir string, c demo.Credentials) {
	ca, _ := filepath.Abs(filepath.Join(dataDir, "ca.pem"))
	fmt.Fprintf(w, `
Demo world loaded (secrets kept in %s/demo-credentials.json).
  Partner registry: %s Contoso Services (global; link a location ID instead): %s Germany, %s Norway;
                    %s Northwind Integrators; %s Retired Partner (deactivated).
  Tenants: Contoso Services %s (the partner), Fabrikam %s and Woodgrove Bank %s (customers).

Link as Contoso's automation service principal in Fabrikam:
  partnerlink login --server %s --service-principal -u %s -p '%s' --tenant %s
  partnerlink link create --partner-id %s
  partnerlink link show

Link as the consultant alice in every customer tenant she is a guest in:
  partnerlink login --server %s --tenant %s --username %s --password '%s'
  partnerlink link create --partner-id %s --all-tenants

az CLI (2.45; the /adfs authority avoids instance discovery; /adfs tokens are always for the
credential's HOME tenant, whatever --tenant says — link in customer tenants with partnerlink,
Python or Go instead):
  export REQUESTS_CA_BUNDLE=%s
  az cloud register -n partnerlink --endpoint-resource-manager %s/ --endpoint-active-directory %s/adfs \
    --endpoint-active-directory-resource-id https://management.core.windows.net/ \
    --endpoint-active-directory-graph-resource-id https://graph.windows.net/ --endpoint-management https://management.core.windows.net/
  az cloud set -n partnerlink
  az login --service-principal -u %s -p '%s' --tenant %s --allow-no-subscriptions
  az rest --method put --url "%s/providers/Microsoft.ManagementPartner/partners/%s?api-version=2018-02-01"

Python (azure-identity + azure-mgmt-managementpartner):
  REQUESTS_CA_BUNDLE=%s /usr/bin/python3 -c "
from azure.identity import ClientSecretCredential
from azure.mgmt.managementpartner import ACEProvisioningManagementPartnerAPI
cred = ClientSecretCredential('%s', '%s', '%s', authority='%s', instance_discovery=False)
c = ACEProvisioningManagementPartnerAPI(cred, base_url='%s', credential_scopes=['https://management.core.windows.net//.default'])
print(c.partner.create('%s'))"

Attribution (last month's demo usage is loaded; Northwind 2000001 is linked in Woodgrove):
  partnerlink attribute --from %s --to %s
  partnerlink credits --partner 2000001
  partnerlink explain --partner 2000001 --resource /subscriptions/%s/resourceGroups/payments/providers/Microsoft.Web/sites/checkout --month %s

Device code sign-in page: %s/device   (Fabrikam admin: %s / %s)
`,
		dataDir, demo.GlobalPartnerID, demo.GermanyPartnerID, demo.NorwayPartnerID, demo.SoloPartnerID, demo.RetiredPartnerID,
		demo.ContosoTenant, demo.FabrikamTenant, demo.WoodgroveTenant,
		url, demo.AutomationAppID, c.AutomationSecret, demo.FabrikamTenant, demo.GermanyPartnerID,
		url, demo.ContosoTenant, demo.AliceSignIn, c.AlicePassword, demo.GermanyPartnerID,
		ca, url, url, demo.AutomationAppID, c.AutomationSecret, demo.ContosoTenant, url, demo.GermanyPartnerID,
		ca, demo.FabrikamTenant, demo.AutomationAppID, c.AutomationSecret, url, url, demo.NorwayPartnerID,
		monthStart(-1).Format("2006-01-02"), monthStart(0).Format("2006-01-02"), demo.WoodgroveSub, monthStart(-1).Format("2006-01"),
		url, demo.BobSignIn, c.BobPassword)
}

// monthStart is the first day of the month delta months from now (UTC).
func monthStart(delta int) time.Time {
	n := time.Now().UTC()
	return time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, delta, 0)
}
