package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// run executes one partnerlink command in process and returns its output.
func run(t *testing.T, dataDir string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Stdin: strings.NewReader(""),
		Now: func() time.Time { return time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC) }}
	root := newRootCmd(m)
	root.SetArgs(append([]string{"--data-dir", dataDir}, args...))
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.ExecuteContext(context.Background())
	return out.String() + errOut.String(), err
}

func mustRun(t *testing.T, dataDir string, args ...string) string {
	t.Helper()
	out, err := run(t, dataDir, args...)
	if err != nil {
		t.Fatalf("partnerlink %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

const (
	cT  = "22222222-2222-4222-8222-222222222222"
	pT  = "11111111-1111-4111-8111-111111111111"
	sp  = "c1c1c1c1-0000-4000-8000-0000000000f1"
	grp = "c1c1c1c1-0000-4000-8000-0000000000f2"
)

// The operator's directory commands, and import/export of what they built.
func TestDirectoryCommands(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "tenant", "add", cT, "--name", "Fabrikam")
	mustRun(t, dir, "tenant", "add", pT, "--name", "Contoso")
	if out, err := run(t, dir, "tenant", "add", "not-a-guid", "--name", "x"); err == nil || !strings.Contains(out+err.Error(), "not a GUID") {
		t.Errorf("bad tenant id: %v %s", err, out)
	}
	out := mustRun(t, dir, "principal", "add", "--tenant", cT, "--object-id", sp, "--type", "ServicePrincipal",
		"--display-name", "automation", "--app-id", "c1c1c1c1-0000-4000-8000-00000000a991", "--generate-secret")
	if !strings.Contains(out, "secret: ") {
		t.Errorf("generated secret not printed: %s", out)
	}
	// A second secret, then none: --remove-all takes every one away.
	mustRun(t, dir, "principal", "secret", "--tenant", cT, "--object-id", sp, "--secret", "second-secret-of-automation")
	if _, err := run(t, dir, "principal", "secret", "--tenant", cT, "--object-id", sp, "--secret", "x", "--remove-all"); err == nil {
		t.Error("--secret with --remove-all accepted")
	}
	if out := mustRun(t, dir, "principal", "secret", "--tenant", cT, "--object-id", sp, "--remove-all"); !strings.Contains(out, "Removed 2 secret(s)") {
		t.Errorf("remove-all: %s", out)
	}
	if out := mustRun(t, dir, "principal", "secret", "--tenant", cT, "--object-id", sp, "--remove-all"); !strings.Contains(out, "Removed 0 secret(s)") {
		t.Errorf("remove-all again: %s", out)
	}
	mustRun(t, dir, "principal", "secret", "--tenant", cT, "--object-id", sp, "--secret", "third-secret-of-automation")
	if _, err := run(t, dir, "principal", "add", "--tenant", cT, "--object-id", sp, "--type", "Robot", "--display-name", "x"); err == nil {
		t.Error("unknown principal type accepted")
	}
	mustRun(t, dir, "principal", "add", "--tenant", cT, "--object-id", grp, "--type", "Group", "--display-name", "ops")
	mustRun(t, dir, "group", "add-member", "--tenant", cT, "--group", grp, "--member", sp, "--from", "2026-01-01")
	if _, err := run(t, dir, "group", "add-member", "--tenant", cT, "--group", sp, "--member", grp); err == nil {
		t.Error("a service principal accepted as a group")
	}
	mustRun(t, dir, "partner", "add", "1000001", "--name", "Contoso Services", "--home-tenant", pT)
	mustRun(t, dir, "partner", "add", "4711001", "--name", "Contoso Germany", "--global-id", "1000001")
	if _, err := run(t, dir, "partner", "add", "4711002", "--name", "x", "--global-id", "999"); err == nil {
		t.Error("location ID under an unknown global ID accepted")
	}
	if _, err := run(t, dir, "partner", "add", "47a", "--name", "x"); err == nil {
		t.Error("malformed partner ID accepted")
	}
	mustRun(t, dir, "partner", "deactivate", "4711001", "--at", "2027-01-01")
	if out := mustRun(t, dir, "partner", "list"); !strings.Contains(out, "4711001") || !strings.Contains(out, "1000001") {
		t.Errorf("partner list: %s", out)
	}
	mustRun(t, dir, "principal", "disable", "--tenant", cT, "--object-id", sp, "--at", "2027-06-01")

	// Export, re-import, export again: byte-identical (docs/api.md#world-document).
	first := mustRun(t, dir, "export")
	if !strings.Contains(first, `"to": "2027-06-01T00:00:00Z"`) || strings.Contains(first, "secret") {
		t.Errorf("export: %s", first)
	}
	path := filepath.Join(t.TempDir(), "world.json")
	if err := os.WriteFile(path, []byte(first), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, dir, "import", path); !strings.Contains(out, "imported 2 tenants, 2 principals, 2 partner IDs") {
		t.Errorf("import: %s", out)
	}
	if second := mustRun(t, dir, "export"); second != first {
		t.Errorf("export → import → export differs:\n%s", second)
	}
	// A bad document is refused with the element named, and changes nothing.
	bad := strings.Replace(first, `"type": "Group"`, `"type": "Team"`, 1)
	os.WriteFile(path, []byte(bad), 0o600)
	if out, err := run(t, dir, "import", path); err == nil || !strings.Contains(out+err.Error(), "principals[") {
		t.Errorf("bad import: %v %s", err, out)
	}
	if third := mustRun(t, dir, "export"); third != first {
		t.Error("a refused import changed the state")
	}
}

// docs/rules.md#views-and-credits Explain from the CLI, on the data directory and offline.
func TestExplainCommand(t *testing.T) {
	dir := t.TempDir()
	example := "testdata/azure-basic/world.json"
	mustRun(t, dir, "import", example)
	web := "/subscriptions/9d8c7b6a-5f4e-4d3c-8b2a-190807060504/resourceGroups/web/providers/Microsoft.Web/sites/shop"
	db := "/subscriptions/9d8c7b6a-5f4e-4d3c-8b2a-190807060504/resourceGroups/data/providers/Microsoft.Sql/servers/shopdb"
	out := mustRun(t, dir, "explain", "--partner", "5100001", "--resource", web, "--day", "2026-03-02")
	if !strings.Contains(out, "IS credited") || !strings.Contains(out, "incentive-eligible") || !strings.Contains(out, "member of group c0ffee00-0000-4000-8000-000000000003") {
		t.Errorf("explain credited: %s", out)
	}
	out = mustRun(t, dir, "explain", "--partner", "5100001", "--resource", db, "--day", "2026-03-01")
	if !strings.Contains(out, "NOT credited") || !strings.Contains(out, "not a member") {
		t.Errorf("explain not credited: %s", out)
	}
	out = mustRun(t, dir, "explain", "--world", example, "--partner", "5100001", "--resource", web, "--day", "2026-03-03", "-o", "json")
	if !strings.Contains(out, `"credited": true`) || !strings.Contains(out, `"incentiveEligible": false`) {
		t.Errorf("explain json: %s", out)
	}
	if out, err := run(t, dir, "explain", "--partner", "5100001", "--resource", web); err == nil ||
		!strings.Contains(err.Error(), "give exactly one of --day YYYY-MM-DD or --month YYYY-MM") {
		t.Errorf("explain without a day: %v %s; want the flags named", err, out)
	}
}

// Issue 4: attribution on the data directory's state and imported usage,
// then the credits read back by day.
func TestAttributeOnDataDirectory(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "import", "testdata/azure-basic/world.json", "testdata/azure-basic/usage.csv")
	out := mustRun(t, dir, "attribute", "--from", "2026-03-01", "--to", "2026-04-01")
	want, _ := os.ReadFile("testdata/azure-basic/expected.csv")
	if !strings.HasPrefix(out, string(want)) || !strings.Contains(out, "run 1 stored") {
		t.Errorf("attribute on the data directory:\n%s", out)
	}
	// The command it prints names the data directory, to run as printed.
	if abs, _ := filepath.Abs(dir); !strings.Contains(out, " --data-dir "+abs+" credits'") {
		t.Errorf("attribute's hint does not name the data directory:\n%s", out)
	}
	out = mustRun(t, dir, "credits", "--partner", "5100000", "--day", "2026-03-03")
	if !strings.Contains(out, "2026-03-03") || !strings.Contains(out, "sites/shop") || strings.Contains(out, "shopdb") {
		t.Errorf("credits of March 3: %s", out)
	}
	// An empty answer says what the run covers.
	if out, err := run(t, dir, "credits", "--day", "2026-02-27"); err == nil || !strings.Contains(err.Error(),
		"--day 2026-02-27 is outside the latest attribution run: run 1 covers 2026-03-01 to 2026-04-01 (the end excluded)") {
		t.Errorf("credits outside the run: %v %s", err, out)
	}
	if out, err := run(t, dir, "credits", "--tenant", "99999999-9999-4999-8999-999999999999"); err == nil || !strings.Contains(err.Error(),
		"no credits match these filters in run 1; run 1 covers 2026-03-01 to 2026-04-01") {
		t.Errorf("credits of nobody: %v %s", err, out)
	}
}

// A usage file with a header and no rows imports, and says so plainly.
func TestImportHeaderOnly(t *testing.T) {
	dir := t.TempDir()
	usage, err := os.ReadFile("testdata/azure-basic/usage.csv")
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(string(usage), "\n")
	path := filepath.Join(t.TempDir(), "header.csv")
	if err := os.WriteFile(path, []byte(head+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, dir, "import", path); !strings.Contains(out, "header.csv: imported; it has no usage rows (a header only)") {
		t.Errorf("import of a header only: %s", out)
	}
}

// docs/usage-sources.md: a URL of a scheme that is no usage source is
// refused with the accepted forms, not looked for as a file.
func TestImportRefusesOtherSchemes(t *testing.T) {
	for _, u := range []string{"ftp://x/y", "http://x/y"} {
		if _, err := run(t, t.TempDir(), "import", u); err == nil ||
			!strings.Contains(err.Error(), u+" is neither a file nor a usage source URL: expected a file or azblob://CONTAINER/PREFIX") {
			t.Errorf("import %s: %v", u, err)
		}
	}
}

// docs/rules.md#world-import: a world document's tenant webhookUrl follows
// the webhook rules (https, no credentials, a public address unless
// import --webhook-allow names it); a refused one imports nothing.
func TestImportWorldWebhookRules(t *testing.T) {
	doc, err := os.ReadFile("testdata/azure-basic/world.json")
	if err != nil {
		t.Fatal(err)
	}
	var w map[string]any
	if err := json.Unmarshal(doc, &w); err != nil {
		t.Fatal(err)
	}
	tenant := w["tenants"].([]any)[0].(map[string]any)
	write := func(url string) string {
		tenant["webhookUrl"] = url
		b, _ := json.Marshal(w)
		path := filepath.Join(t.TempDir(), "world.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for url, want := range map[string]string{
		"http://hooks.example.com/x":  "a webhook must be an https:// URL",
		"https://10.0.0.1/x":          "not a public address",
		"https://u:p@hooks.example/x": "must not carry credentials",
		"https://127.0.0.1:9443/hook": "import --webhook-allow accepts a non-public target",
	} {
		dir := t.TempDir()
		if out, err := run(t, dir, "import", write(url)); err == nil || !strings.Contains(err.Error(), "webhookUrl: ") || !strings.Contains(err.Error(), want) {
			t.Errorf("import with webhookUrl %s: %v %s; want a refusal saying %q", url, err, out, want)
		}
		if out := mustRun(t, dir, "tenant", "list"); strings.Contains(out, url) {
			t.Errorf("the refused import left the webhook %s: %s", url, out)
		}
	}
	dir := t.TempDir()
	mustRun(t, dir, "import", "--webhook-allow", "127.0.0.1", write("https://127.0.0.1:9443/hook"))
	if out := mustRun(t, dir, "tenant", "list"); !strings.Contains(out, "https://127.0.0.1:9443/hook") {
		t.Errorf("the allowed webhook is not set: %s", out)
	}
}

// The views say when a tenant is unknown or nothing is linked, instead of
// printing a bare header.
func TestLinksCommandEmpty(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "import", "testdata/azure-basic/world.json")
	if out, err := run(t, dir, "links", "--tenant", "99999999-9999-4999-8999-999999999999"); err == nil ||
		!strings.Contains(err.Error(), "tenant 99999999-9999-4999-8999-999999999999 is not in the directory") {
		t.Errorf("links of an unknown tenant: %v %s", err, out)
	}
	mustRun(t, dir, "tenant", "add", "88888888-8888-4888-8888-888888888888", "--name", "Empty")
	if out := mustRun(t, dir, "links", "--tenant", "88888888-8888-4888-8888-888888888888"); out != "No credential is linked in tenant 88888888-8888-4888-8888-888888888888.\n" {
		t.Errorf("links of a tenant without links: %q", out)
	}
}

// Issue 3: real Azure snapshots; a later snapshot closes the periods of
// what disappeared at its instant.
func TestImportSnapshots(t *testing.T) {
	dir := t.TempDir()
	const tenant = "0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60"
	mustRun(t, dir, "tenant", "add", tenant, "--name", "Fabrikam")
	first := "testdata/snapshot/az-role-assignment-list.json"
	if _, err := run(t, dir, "import", first); err == nil {
		t.Error("az snapshot without --tenant accepted")
	}
	if _, err := run(t, dir, "import", "--tenant", tenant, first); err == nil {
		t.Error("assignments of an unknown custom role accepted")
	}
	mustRun(t, dir, "import", "--tenant", tenant, "--at", "2026-02-28", "testdata/snapshot/az-role-definition-list.json")
	out := mustRun(t, dir, "import", "--tenant", tenant, "--at", "2026-03-01", first)
	if !strings.Contains(out, "snapshot at 2026-03-01T00:00:00Z") {
		t.Errorf("first snapshot: %s", out)
	}
	before := mustRun(t, dir, "export")
	if strings.Count(before, `"roleDefinition":`) < 5 {
		t.Fatalf("role assignments not imported:\n%s", before)
	}
	// The custom role is the tenant's the definitions were imported for.
	if !strings.Contains(before, "\"tenantId\": \""+tenant+"\",\n   \"name\": \"Fabrikam Storage Operator\"") {
		t.Errorf("the custom role is not tenant %s's:\n%s", tenant, before)
	}
	// The same snapshot again changes nothing.
	mustRun(t, dir, "import", "--tenant", tenant, "--at", "2026-03-03", first)
	if again := mustRun(t, dir, "export"); again != before {
		t.Errorf("re-applying the same snapshot changed the state")
	}
	// A later snapshot without the first assignment closes it at its instant.
	var items []map[string]any
	data, _ := os.ReadFile(first)
	if err := json.Unmarshal(data, &items); err != nil {
		t.Fatal(err)
	}
	later := filepath.Join(t.TempDir(), "later.json")
	b, _ := json.Marshal(items[1:])
	os.WriteFile(later, b, 0o600)
	mustRun(t, dir, "import", "--tenant", tenant, "--at", "2026-03-05", later)
	after := mustRun(t, dir, "export")
	if strings.Count(after, `"to": "2026-03-05T00:00:00Z"`) != 1 {
		t.Errorf("the vanished assignment was not closed at the snapshot's instant:\n%s", after)
	}
	// Resource Graph exports are recognized by shape (they carry their tenant).
	out = mustRun(t, t.TempDir(), "import", "--at", "2026-03-06", "testdata/snapshot/arg-graph-query.json")
	if !strings.Contains(out, "snapshot at 2026-03-06") {
		t.Errorf("resource graph snapshot: %s", out)
	}
}

func TestKeysRotate(t *testing.T) {
	dir := t.TempDir()
	out := mustRun(t, dir, "keys", "rotate")
	if !strings.Contains(out, "signing key rotated: ") || !strings.Contains(out, " → ") {
		t.Errorf("keys rotate: %s", out)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "keys"))
	if len(entries) != 2 {
		t.Errorf("keys after one rotation = %d, want the retired and the active", len(entries))
	}
}

// docs/api.md#activity-csv files go through the one import command too.
func TestImportDetectsActivity(t *testing.T) {
	dir := t.TempDir()
	base := "../../powerplatform/testdata/basic/"
	out := mustRun(t, dir, "import", base+"world.json", base+"activity.csv", base+"profiles.csv.gz")
	if !strings.Contains(out, "activity.csv: imported 17 activity rows") || !strings.Contains(out, "profiles.csv.gz: imported 3") {
		t.Errorf("import: %s", out)
	}
	got := mustRun(t, dir, "powerplatform", "attribute", "--from", "2026-03-01", "--to", "2026-05-01")
	want, _ := os.ReadFile(base + "expected.csv")
	if !strings.HasPrefix(got, string(want)) || !strings.Contains(got, "ghost-app") {
		t.Errorf("powerplatform attribute after import (CSV, then the not-credited note):\n%s\nwant:\n%s", got, want)
	}
}

// tenant add --webhook applies the API's webhook rule (docs/operations.md,
// "Webhooks"): https, no credentials, public targets unless allowed, a
// secret of at least 16 characters.
func TestTenantAddWebhookPolicy(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ url, want string }{
		{"http://93.184.216.34/h", "must be an https:// URL"},
		{"https://user:pw@93.184.216.34/h", "must not carry credentials"},
		{"https://169.254.169.254/latest", "not a public address"},
		{"https://10.1.2.3/h", "not a public address"},
	} {
		out, err := run(t, dir, "tenant", "add", cT, "--name", "Fabrikam", "--webhook", c.url)
		if err == nil || !strings.Contains(err.Error(), "--webhook: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--webhook %s: %v %s; want an error with %q", c.url, err, out, c.want)
		}
	}
	if out, err := run(t, dir, "tenant", "add", cT, "--name", "Fabrikam", "--webhook", "https://10.1.2.3/h", "--webhook-allow", "10.0.0.0/8", "--webhook-secret", "short"); err == nil ||
		!strings.Contains(err.Error(), "--webhook-secret: ") || !strings.Contains(err.Error(), "at least 16 characters") {
		t.Errorf("--webhook-secret short: %v %s", err, out)
	}
	mustRun(t, dir, "tenant", "add", cT, "--name", "Fabrikam", "--webhook", "https://10.1.2.3/h", "--webhook-allow", "10.0.0.0/8", "--webhook-secret", "sixteen-chars-ok")
	if out := mustRun(t, dir, "tenant", "list"); !strings.Contains(out, "https://10.1.2.3/h") {
		t.Errorf("tenant list:\n%s", out)
	}
}

// login without -p reads the password from standard input when it is not a
// terminal (as az login asks for it), and says what to do when there is none.
func TestReadSecretFromStdin(t *testing.T) {
	m := &Main{Stdin: strings.NewReader("s3cret\r\nnext\n"), Stderr: io.Discard}
	if got, err := readSecret(m, "Password: "); err != nil || got != "s3cret" {
		t.Errorf("piped password: %q %v", got, err)
	}
	m.Stdin = strings.NewReader("")
	if _, err := readSecret(m, "Password: "); err == nil || !strings.Contains(err.Error(), "give --password") {
		t.Errorf("no password: %v", err)
	}
}

// Global and worker flags that cannot work are refused, naming the flag
// and what is accepted, before anything is opened or created.
func TestScaleFlagsRefused(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "not-here", "x.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--usage-buckets", "0", "runs", "list"}, "--usage-buckets 0: expected 1 to 4096"},
		{[]string{"--usage-buckets", "-3", "close", "--month", "2026-01"}, "--usage-buckets -3: expected 1 to 4096"},
		{[]string{"--db", db, "worker"}, "--db must be a PostgreSQL URL"},
	} {
		if out, err := run(t, dir, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("partnerlink %s: %v %s; want %q", strings.Join(c.args, " "), err, out, c.want)
		}
	}
	if _, err := os.Stat(filepath.Dir(db)); err == nil {
		t.Error("the worker created a SQLite database's folder for a --db that is not PostgreSQL")
	}
}

// docs/usage-sources.md: each run that fails is named, the others are
// imported, and the count of runs found is printed all the same.
func TestImportSourceNamesEveryFailure(t *testing.T) {
	src := t.TempDir()
	usage, err := os.ReadFile("testdata/azure-basic/usage.csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, export := range []string{"exp-a", "exp-b", "exp-c"} {
		dir := filepath.Join(src, export, "20260301-20260331", "run-1")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		blob := export + "/20260301-20260331/run-1/part_0.csv"
		if export == "exp-c" { // the one whole run
			if err := os.WriteFile(filepath.Join(src, filepath.FromSlash(blob)), usage, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		m := fmt.Sprintf(`{"exportConfig":{"exportName":%q},"runInfo":{"submittedTime":"2026-04-01T03:00:00Z","startDate":"2026-03-01T00:00:00","endDate":"2026-03-31T00:00:00"},"blobs":[{"blobName":%q}]}`, export, blob)
		if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	mustRun(t, dir, "import", "testdata/azure-basic/world.json")
	out, err := run(t, dir, "import", "file://"+src)
	if err == nil {
		t.Fatalf("import of a source with two broken runs succeeded:\n%s", out)
	}
	msg := partnerlinkMessage(err)
	for _, want := range []string{"exp-a/20260301-20260331/run-1/part_0.csv is missing", "exp-b/20260301-20260331/run-1/part_0.csv is missing"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not name %q:\n%s", want, msg)
		}
	}
	if !strings.Contains(out, "3 export runs found, 1 imported") {
		t.Errorf("no summary of the runs:\n%s", out)
	}
}
