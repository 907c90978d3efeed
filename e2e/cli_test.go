package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink/demo"
)

// binDir holds the partnerlink binary built for this test process.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "partnerlink-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	buildOnce sync.Once
	buildErr  error
	buildOut  []byte
)

// partnerlinkBinary builds ../cmd/partnerlink once (in the main module) and
// returns its path.
func partnerlinkBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(binDir, "partnerlink")
	buildOnce.Do(func() {
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/partnerlink")
		cmd.Dir = ".."
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build ./cmd/partnerlink: %v\n%s", buildErr, buildOut)
	}
	return bin
}

// cli runs the partnerlink binary with its own config directory.
type cli struct {
	t         *testing.T
	bin       string
	configDir string
}

func newCLI(t *testing.T) *cli {
	return &cli{t: t, bin: partnerlinkBinary(t), configDir: t.TempDir()}
}

func (c *cli) run(args ...string) cmdResult {
	c.t.Helper()
	// The working directory is empty, so no ./partnerlink-data is found
	// and nothing is written next to the tests.
	return run(c.t, c.configDir, []string{"PARTNERLINK_CONFIG_DIR=" + c.configDir, "HOME=" + c.configDir}, time.Minute, c.bin, args...)
}

func (c *cli) mustRun(args ...string) cmdResult {
	c.t.Helper()
	res := c.run(args...)
	if res.ExitCode != 0 {
		c.t.Fatalf("partnerlink %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(redact(args), " "), res.ExitCode, res.Stdout, res.Stderr)
	}
	return res
}

// cliPartner is `partnerlink link` JSON output (az managementpartner's
// flattened shape).
type cliPartner struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	Etag        int    `json:"etag"`
	PartnerID   string `json:"partnerId"`
	PartnerName string `json:"partnerName"`
	TenantID    string `json:"tenantId"`
	ObjectID    string `json:"objectId"`
	Version     int    `json:"version"`
	CreatedTime string `json:"createdTime"`
	State       string `json:"state"`
}

func (c *cli) link(args ...string) cliPartner {
	c.t.Helper()
	res := c.mustRun(append([]string{"link"}, args...)...)
	var p cliPartner
	if err := json.Unmarshal([]byte(res.Stdout), &p); err != nil {
		c.t.Fatalf("partnerlink link %s output %q: %v", strings.Join(args, " "), res.Stdout, err)
	}
	return p
}

func checkCLIPartner(t *testing.T, what string, p cliPartner, partnerID, partnerName, tenant, object string) {
	t.Helper()
	if p.ID != "/providers/microsoft.managementpartner/partners/"+partnerID || p.Name != partnerID ||
		p.Type != "Microsoft.ManagementPartner/partners" || p.PartnerID != partnerID || p.PartnerName != partnerName ||
		p.TenantID != tenant || p.ObjectID != object || p.State != "Active" || p.Version < 1 || p.Etag != p.Version ||
		p.CreatedTime == "" {
		t.Errorf("%s: %+v; want partner %s (%s) for %s in %s", what, p, partnerID, partnerName, object, tenant)
	}
}

// requireCLIFailure asserts a clean failure: exit code 1, the message on
// stderr, nothing on stdout, no Go panic.
func requireCLIFailure(t *testing.T, what string, res cmdResult, wants ...string) {
	t.Helper()
	if res.ExitCode != 1 || strings.TrimSpace(res.Stdout) != "" || strings.Contains(res.Stderr, "panic") ||
		strings.Contains(res.Stderr, "goroutine ") {
		t.Errorf("%s: exit %d stdout %q stderr %q; want exit 1 with the message on stderr only", what, res.ExitCode, res.Stdout, res.Stderr)
	}
	for _, w := range wants {
		if !strings.Contains(res.Stderr, w) {
			t.Errorf("%s: stderr %q does not say %q", what, res.Stderr, w)
		}
	}
}

// testPartnerlinkCLI drives the partnerlink binary: a service principal in
// Fabrikam through create/show/update/delete and the refusals, then alice
// linking in every tenant she can reach.
func testPartnerlinkCLI(t *testing.T, e *env) {
	t.Run("ServicePrincipal", func(t *testing.T) {
		c := newCLI(t)
		login := c.mustRun("login", "--server", e.url, "--ca-file", e.caFile, "--service-principal",
			"-u", demo.AutomationAppID, "-p="+e.creds.AutomationSecret, "--tenant", demo.FabrikamTenant)
		if !strings.Contains(login.Stdout, "Signed in to "+e.url+" as app "+demo.AutomationAppID+" (its service principal "+demo.AutomationInFab+" in tenant "+demo.FabrikamTenant+")") {
			t.Errorf("login output %q does not name the server and object %s", login.Stdout, demo.AutomationInFab)
		}

		requireCLIFailure(t, "link show with nothing linked", c.run("link", "show"), "No partner ID is linked")
		requireCLIFailure(t, "link create of a global ID", c.run("link", "create", "--partner-id", demo.GlobalPartnerID),
			demo.GlobalPartnerID, demo.GermanyPartnerID, demo.NorwayPartnerID)
		requireCLIFailure(t, "link create of a retired ID", c.run("link", "create", "--partner-id", demo.RetiredPartnerID),
			demo.RetiredPartnerID, "not active")

		created := c.link("create", "--partner-id", demo.GermanyPartnerID)
		checkCLIPartner(t, "link create", created, demo.GermanyPartnerID, "Contoso Services Germany", demo.FabrikamTenant, demo.AutomationInFab)
		shown := c.link("show")
		checkCLIPartner(t, "link show", shown, demo.GermanyPartnerID, "Contoso Services Germany", demo.FabrikamTenant, demo.AutomationInFab)
		updated := c.link("update", "--partner-id", demo.NorwayPartnerID)
		checkCLIPartner(t, "link update", updated, demo.NorwayPartnerID, "Contoso Services Norway", demo.FabrikamTenant, demo.AutomationInFab)
		if updated.Version != created.Version+1 || updated.CreatedTime != created.CreatedTime {
			t.Errorf("link update: version %d created %s; want %d %s", updated.Version, updated.CreatedTime, created.Version+1, created.CreatedTime)
		}
		del := c.mustRun("link", "delete", "--partner-id", demo.NorwayPartnerID)
		if strings.TrimSpace(del.Stdout) != "" {
			t.Errorf("link delete printed %q", del.Stdout)
		}
		requireCLIFailure(t, "link show after delete", c.run("link", "show"), "No partner ID is linked")

		// The CLI says what a create or an update did, where the wire answers alike.
		res := c.mustRun("link", "update", "--partner-id", demo.GermanyPartnerID)
		if !strings.Contains(res.Stderr, "Nothing was linked in tenant "+demo.FabrikamTenant+": linked partner ID "+demo.GermanyPartnerID) {
			t.Errorf("link update with nothing linked: stderr %q; want it to say that it linked", res.Stderr)
		}
		res = c.mustRun("link", "create", "--partner-id", demo.NorwayPartnerID)
		if !strings.Contains(res.Stderr, "Replaced the link to partner ID "+demo.GermanyPartnerID+" (Contoso Services Germany) with "+demo.NorwayPartnerID) {
			t.Errorf("link create over another ID: stderr %q; want it to name the replaced link", res.Stderr)
		}
		res = c.mustRun("link", "create", "--partner-id", demo.NorwayPartnerID)
		if !strings.Contains(res.Stderr, "was already linked") {
			t.Errorf("link create of the linked ID: stderr %q; want 'already linked'", res.Stderr)
		}
		// -o/--output as az: a table, tab-separated values, nothing.
		res = c.mustRun("link", "show", "-o", "table")
		if lines := strings.Split(strings.TrimSpace(res.Stdout), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "PartnerId") ||
			strings.Join(strings.Fields(lines[1])[:4], " ") != demo.NorwayPartnerID+" Contoso Services Norway" {
			t.Errorf("link show -o table printed %q", res.Stdout)
		}
		res = c.mustRun("link", "show", "--output", "tsv")
		if f := strings.Split(strings.TrimSpace(res.Stdout), "\t"); len(f) != 8 || f[0] != demo.NorwayPartnerID || f[3] != demo.AutomationInFab {
			t.Errorf("link show --output tsv printed %q", res.Stdout)
		}
		requireCLIFailure(t, "link show -o yaml", c.run("link", "show", "-o", "yaml"), `--output "yaml" is not a format`, "json, table, tsv, none")
		if res = c.mustRun("link", "delete", "--partner-id", demo.NorwayPartnerID, "-o", "none"); res.Stdout != "" {
			t.Errorf("link delete -o none printed %q", res.Stdout)
		}
	})

	t.Run("AllTenants", func(t *testing.T) {
		c := newCLI(t)
		login := c.mustRun("login", "--server", e.url, "--ca-file", e.caFile, "--tenant", demo.ContosoTenant,
			"--username", demo.AliceSignIn, "--password", e.creds.AlicePassword)
		if !strings.Contains(login.Stdout, demo.AliceSignIn) || !strings.Contains(login.Stdout, demo.AliceID) {
			t.Errorf("login output %q does not name alice", login.Stdout)
		}
		want := []struct{ tenant, name, object string }{
			{demo.ContosoTenant, "Contoso Services", demo.AliceID},
			{demo.FabrikamTenant, "Fabrikam", demo.AliceInFabrikam},
			{demo.WoodgroveTenant, "Woodgrove Bank", demo.AliceInWoodgrove},
		}
		// Nothing linked yet is an answer in every tenant, not a failure.
		res := c.mustRun("link", "show", "--all-tenants")
		lines := tableRows(res.Stdout)
		for _, w := range want {
			if !strings.Contains(lines[w.tenant], "not linked") {
				t.Errorf("link show --all-tenants before any link, row of %s: %q; want 'not linked'", w.name, lines[w.tenant])
			}
		}
		res = c.mustRun("link", "create", "--partner-id", demo.GermanyPartnerID, "--all-tenants")
		lines = tableRows(res.Stdout)
		if len(lines) != len(want) {
			t.Fatalf("link create --all-tenants printed %d rows, want %d:\n%s", len(lines), len(want), res.Stdout)
		}
		for _, w := range want {
			row := lines[w.tenant]
			if !strings.Contains(row, w.name) || !strings.Contains(row, " linked ") || !strings.Contains(row, demo.GermanyPartnerID) ||
				!strings.Contains(row, w.object) {
				t.Errorf("row of %s (%s): %q; want linked to %s by %s", w.name, w.tenant, row, demo.GermanyPartnerID, w.object)
			}
		}
		// Each link exists for her account in that tenant, as the API sees it.
		tok := e.userToken(t, demo.WoodgroveTenant, demo.AliceSignIn, e.creds.AlicePassword)
		r := e.partnerCall(t, "GET", "", tok)
		if r.Status != 200 {
			t.Fatalf("GET partners as alice in Woodgrove: %d %s", r.Status, r.Body)
		}
		checkWirePartner(t, "alice in Woodgrove", r.partner(t), demo.GermanyPartnerID, "Contoso Services Germany", demo.WoodgroveTenant, demo.AliceInWoodgrove)

		res = c.mustRun("link", "delete", "--partner-id", demo.GermanyPartnerID, "--all-tenants")
		lines = tableRows(res.Stdout)
		for _, w := range want {
			if !strings.Contains(lines[w.tenant], "deleted") {
				t.Errorf("link delete --all-tenants, row of %s: %q", w.name, lines[w.tenant])
			}
		}
		e.requireNoLink(t, tok, "alice in Woodgrove after delete --all-tenants")
	})
}

// tableRows indexes the data rows of a --all-tenants table by tenant id.
func tableRows(out string) map[string]string {
	rows := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == "TENANT" {
			continue
		}
		rows[f[0]] = line
	}
	return rows
}
