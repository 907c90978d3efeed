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
	"text/template"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/demo"
	"github.com/partnerlink/partnerlink/identity"
	"github.com/partnerlink/partnerlink/report"
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
			cfg.UsageStore, cfg.UsageBuckets = m.UsageStore, m.UsageBuckets
			if err := report.CheckCloseDay(cfg.CloseDay); err != nil {
				return err
			}
			if cfg.ReportCache == 0 {
				cfg.ReportCache = -1 // the flag's 0 keeps none; the Config's 0 is the default
			}
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
				creds, loaded, err := loadDemo(ctx, srv, m.DataDir)
				if err != nil {
					return err
				}
				if err := printDemo(m.Stdout, os.Args[0], srv.URL, m.DataDir, creds, loaded); err != nil {
					return err
				}
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
	f.IntVar(&cfg.CloseDay, "close-day", report.DefaultCloseDay, "close month m on this day of month m+1 (docs/rules.md#monthly-close)")
	f.DurationVar(&cfg.CloseEvery, "close-every", 24*time.Hour, "how often to close the months that are due and restate the last 12 (negative: never)")
	f.StringArrayVar(&cfg.UsageSources, "usage-source", nil,
		"read new cost export runs from this location: azblob://CONTAINER/PREFIX, s3://, gs:// or file:/// (repeatable; docs/usage-sources.md)")
	f.DurationVar(&cfg.UsagePoll, "usage-poll", 15*time.Minute, "how often to look for new export runs at the usage sources")
	f.IntVar(&cfg.ReportCache, "report-cache", server.DefaultReportCache,
		fmt.Sprintf("report versions whose content the requests share, parsed, each until unread for %s (0: none; docs/operations.md)", server.ReportCacheIdle))
	f.IntVar(&cfg.QueueWorkers, "queue-workers", 2, "on PostgreSQL, partitions of closes this server works at once beside the partnerlink workers (negative: none; docs/scale.md)")
	return cmd
}

// loadDemo imports the demo world into an empty store (loaded), or finds
// the credentials of the demo loaded before.
func loadDemo(ctx context.Context, srv *server.Server, dataDir string) (creds demo.Credentials, loaded bool, err error) {
	path := filepath.Join(dataDir, "demo-credentials.json")
	if b, err := os.ReadFile(path); err == nil {
		return creds, false, json.Unmarshal(b, &creds)
	}
	tenants, err := srv.DB.Tenants(ctx)
	if err != nil {
		return creds, false, err
	}
	if len(tenants) > 0 {
		return creds, false, fmt.Errorf("--demo: the data directory %s already holds a world that is not the demo; use another --data-dir", dataDir)
	}
	creds = demo.NewCredentials()
	doc := demo.World(creds)
	world.Normalize(doc)
	if err := world.Validate(doc); err != nil {
		return creds, false, err
	}
	if err := srv.DB.ImportWorld(ctx, doc, identity.HashSecret); err != nil {
		return creds, false, err
	}
	// Last month's usage, so attribution has something to credit (Northwind
	// is linked in Woodgrove since January).
	lastMonth := time.Now().UTC().AddDate(0, -1, 0)
	if _, err := usage.Import(ctx, srv.DB, dataDir, usage.FOCUS, "demo-usage.csv", bytes.NewReader(demo.UsageCSV(lastMonth)), time.Now(), nil); err != nil {
		return creds, false, err
	}
	// Last month is closed early, so the portal's dashboards and the
	// reports have a month to show (the scheduled close finds it unchanged).
	if _, err := srv.Reports().Close(ctx, partnerlink.MonthOf(lastMonth), true); err != nil {
		return creds, false, err
	}
	b, _ := json.MarshalIndent(creds, "", "  ")
	return creds, true, os.WriteFile(path, b, 0o600)
}

// demoText is what serve --demo prints: every command in it runs as printed
// (e2e TestSQLite/DemoCommands runs them), from the directory serve ran in.
var demoText = template.Must(template.New("demo").Parse(`
{{if .Loaded}}Demo world loaded{{else}}Demo world kept from an earlier start{{end}} (secrets in {{.DataDir}}/demo-credentials.json).
  Partner registry: {{.Global}} Contoso Services (global; link a location ID instead): {{.Germany}} Germany, {{.Norway}} Norway;
                    {{.Solo}} Northwind Integrators; {{.Retired}} Retired Partner (deactivated).
  Tenants: Contoso Services {{.Contoso}} (the partner), Fabrikam {{.Fabrikam}} and Woodgrove Bank {{.Woodgrove}} (customers).
  The commands below run the partnerlink CLI as {{.Cmd}}{{if .GoRun}} (from this directory; or build it once:
  go build -o partnerlink ./cmd/partnerlink){{end}}.

In a browser: open {{.URL}}/ (trust the CA certificate above, or accept the warning), sign in
as {{.Alice}} with her password (in the login command for alice below), choose Fabrikam under
Switch directory and open Link to a partner ID. The Partner dashboard shows Contoso's closed
months ({{.Month}} is closed for the demo); the operator's pages are at {{.URL}}/portal/operator
(sign in with the admin key).

Link as Contoso's automation service principal in Fabrikam:
  {{.Cmd}} login --server {{.URL}} --ca-file {{.CA}} --service-principal -u {{.AppID}} -p '{{.AppSecret}}' --tenant {{.Fabrikam}}
  {{.Cmd}} link create --partner-id {{.Germany}}
  {{.Cmd}} link show -o table

Link as the consultant alice in every tenant she can sign in to (her home tenant Contoso, and
Fabrikam and Woodgrove where she is a guest):
  {{.Cmd}} login --server {{.URL}} --ca-file {{.CA}} --tenant {{.Contoso}} --username {{.Alice}} --password '{{.AlicePassword}}'
  {{.Cmd}} link create --partner-id {{.Germany}} --all-tenants

az CLI (2.45), in its own configuration directory so your own az setup is untouched (unset
AZURE_CONFIG_DIR to go back). With the AD endpoint {{.URL}}/adfs/partnerlink az sends the tenant
it logs into and skips instance discovery: the link is made in that tenant (here the automation
app's service principal in Woodgrove; a guest such as alice links the same way after az login).
  export AZURE_CONFIG_DIR={{.AzDir}} REQUESTS_CA_BUNDLE={{.CA}}
  az cloud register -n partnerlink --endpoint-resource-manager {{.URL}}/ --endpoint-active-directory {{.URL}}/adfs/partnerlink --endpoint-active-directory-resource-id https://management.core.windows.net/ --endpoint-active-directory-graph-resource-id https://graph.windows.net/ --endpoint-management https://management.core.windows.net/
  az cloud set -n partnerlink
  az login --service-principal -u {{.AppID}} -p '{{.AppSecret}}' --tenant {{.Woodgrove}} --allow-no-subscriptions
  az rest --method put --url "{{.URL}}/providers/Microsoft.ManagementPartner/partners/{{.Germany}}?api-version=2018-02-01"

Python (azure-identity + azure-mgmt-managementpartner):
  REQUESTS_CA_BUNDLE={{.CA}} /usr/bin/python3 -c "
from azure.identity import ClientSecretCredential
from azure.mgmt.managementpartner import ACEProvisioningManagementPartnerAPI
cred = ClientSecretCredential('{{.Fabrikam}}', '{{.AppID}}', '{{.AppSecret}}', authority='{{.URL}}', instance_discovery=False)
c = ACEProvisioningManagementPartnerAPI(cred, base_url='{{.URL}}', credential_scopes=['https://management.core.windows.net//.default'])
print(c.partner.create('{{.Norway}}'))"

Attribution (last month's demo usage is loaded; Northwind {{.Solo}} is linked in Woodgrove):
  {{.Cmd}}{{.DataDirFlag}} attribute --from {{.From}} --to {{.To}}
  {{.Cmd}}{{.DataDirFlag}} credits --partner {{.Solo}}
  {{.Cmd}}{{.DataDirFlag}} explain --partner {{.Solo}} --resource /subscriptions/{{.WoodgroveSub}}/resourceGroups/payments/providers/Microsoft.Web/sites/checkout --month {{.Month}}

Device code sign-in page: {{.URL}}/device   (Fabrikam admin: {{.Bob}} / {{.BobPassword}})
`))

// invokedAs is how the user ran this binary (arg0: os.Args[0]), for
// commands printed to run as printed: "go run ./cmd/partnerlink" under go
// run, else the name as typed ("partnerlink" on the PATH, "./partnerlink").
func invokedAs(arg0 string) string {
	if strings.Contains(arg0, "go-build") {
		return "go run ./cmd/partnerlink"
	}
	return arg0
}

// dataDirFlag is the --data-dir flag a printed command needs: none for
// the default data directory.
func dataDirFlag(dataDir string) string {
	if filepath.Clean(dataDir) == filepath.Clean(defaultDataDir) {
		return ""
	}
	abs, _ := filepath.Abs(dataDir)
	return " --data-dir " + abs
}

// printDemo writes demoText. cmd is how the user ran this binary, so the
// printed commands run as printed: "go run ./cmd/partnerlink" under go run,
// else the name as typed ("partnerlink" on the PATH, "./partnerlink").
func printDemo(w io.Writer, cmd, url, dataDir string, c demo.Credentials, loaded bool) error {
	ca, _ := filepath.Abs(filepath.Join(dataDir, "ca.pem"))
	absData, _ := filepath.Abs(dataDir)
	goRun := strings.Contains(cmd, "go-build")
	cmd = invokedAs(cmd)
	dataDirFlag := dataDirFlag(dataDir)
	return demoText.Execute(w, map[string]any{
		"Loaded": loaded, "DataDir": dataDir, "Cmd": cmd, "GoRun": goRun, "DataDirFlag": dataDirFlag,
		"Global": demo.GlobalPartnerID, "Germany": demo.GermanyPartnerID, "Norway": demo.NorwayPartnerID,
		"Solo": demo.SoloPartnerID, "Retired": demo.RetiredPartnerID,
		"Contoso": demo.ContosoTenant, "Fabrikam": demo.FabrikamTenant, "Woodgrove": demo.WoodgroveTenant,
		"URL": url, "CA": ca, "AzDir": filepath.Join(absData, "az-config"),
		"AppID": demo.AutomationAppID, "AppSecret": c.AutomationSecret,
		"Alice": demo.AliceSignIn, "AlicePassword": c.AlicePassword, "Bob": demo.BobSignIn, "BobPassword": c.BobPassword,
		"From": monthStart(-1).Format("2006-01-02"), "To": monthStart(0).Format("2006-01-02"),
		"Month": monthStart(-1).Format("2006-01"), "WoodgroveSub": demo.WoodgroveSub,
	})
}

// monthStart is the first day of the month delta months from now (UTC).
func monthStart(delta int) time.Time {
	n := time.Now().UTC()
	return time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, delta, 0)
}
