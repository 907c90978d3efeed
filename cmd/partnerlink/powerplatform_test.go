package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The Power Platform fixture of package powerplatform (see its README).
var ppBasic = filepath.Join("..", "..", "powerplatform", "testdata", "basic")

const (
	ppTenant = "0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60"
	ppAna    = "a0000000-0000-4000-8000-000000000001" // customer user, owner of expenses
	ppKari   = "c0ffee00-0000-4000-8000-000000000001" // guest linked to 5100001
	ppSP     = "c0ffee00-0000-4000-8000-000000000002" // service principal linked to 5100001
	ppOla    = "d00d0000-0000-4000-8000-000000000001" // guest linked to 6200001
)

// importBasic imports the fixture's world and activity files into a new
// data directory.
func importBasic(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	mustRun(t, dir, "import", filepath.Join(ppBasic, "world.json"))
	out := mustRun(t, dir, "powerplatform", "import-activity", filepath.Join(ppBasic, "activity.csv"), filepath.Join(ppBasic, "profiles.csv.gz"))
	if !strings.Contains(out, "activity.csv: imported") || !strings.Contains(out, "2026-03") || !strings.Contains(out, "profiles.csv.gz: imported") {
		t.Fatalf("import-activity: %s", out)
	}
	return dir
}

// World and activity imported into a data directory give exactly the
// credit the offline command computes from the same files (docs/api.md#attribution-csv).
func TestPowerPlatformAttributeOnServerEqualsOffline(t *testing.T) {
	dir := importBasic(t)
	server, err := run(t, dir, "powerplatform", "attribute", "--from", "2026-03-01", "--to", "2026-05-01")
	if err != nil {
		t.Fatalf("powerplatform attribute: %v\n%s", err, server)
	}
	offline := mustRun(t, t.TempDir(), "attribute", "--powerplatform", "--world", filepath.Join(ppBasic, "world.json"),
		"--usage", filepath.Join(ppBasic, "activity.csv"), "--usage", filepath.Join(ppBasic, "profiles.csv.gz"),
		"--from", "2026-03-01", "--to", "2026-05-01")
	if server != offline {
		t.Errorf("on the data directory:\n%s\noffline:\n%s", server, offline)
	}
	expected, err := os.ReadFile(filepath.Join(ppBasic, "expected.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// Both print the same summary of the unregistered ghost-app on stderr,
	// which run appends; the CSV itself is the fixture's expected output.
	if !strings.HasPrefix(server, string(expected)) || !strings.Contains(server, "ghost-app") {
		t.Errorf("output is not expected.csv plus the summary:\n%s", server)
	}
}

// docs/api.md#activity-csv import: the same file twice is counted once, a bad line names
// the file and line and keeps nothing.
func TestPowerPlatformImportActivity(t *testing.T) {
	dir := importBasic(t)
	out := mustRun(t, dir, "powerplatform", "import-activity", filepath.Join(ppBasic, "activity.csv"))
	if !strings.Contains(out, "already imported") {
		t.Errorf("second import: %s", out)
	}
	data, err := os.ReadFile(filepath.Join(ppBasic, "activity.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	lines[2] = strings.Replace(lines[2], ",Use", ",Watch", 1)
	bad := filepath.Join(t.TempDir(), "bad-activity.csv")
	if err := os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, dir, "powerplatform", "import-activity", bad)
	if err == nil || !strings.Contains(err.Error(), "bad-activity.csv line 3") || !strings.Contains(err.Error(), "Activity") {
		t.Fatalf("bad line: %v\n%s", err, out)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "usage", "activity"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Errorf("files kept after a refused import: %v", entries)
	}
	// The credit did not change.
	before := mustRun(t, dir, "powerplatform", "attribute", "--from", "2026-03-01", "--to", "2026-05-01")
	expected, _ := os.ReadFile(filepath.Join(ppBasic, "expected.csv"))
	if !strings.HasPrefix(before, string(expected)) {
		t.Errorf("credit after a refused import:\n%s", before)
	}
	// Another profiles file for a month already reported is refused: one
	// count per instance and month.
	again := filepath.Join(t.TempDir(), "profiles-again.csv")
	os.WriteFile(again, []byte("Month,TenantId,ResourceId,UnifiedProfiles\n2026-03,"+ppTenant+",ci-main,50001\n"), 0o600)
	out, err = run(t, dir, "powerplatform", "import-activity", again)
	if err == nil || !strings.Contains(err.Error(), "profiles-again.csv line 2") || !strings.Contains(err.Error(), "already has unified profiles for 2026-03") {
		t.Errorf("conflicting profiles: %v\n%s", err, out)
	}
	if !isActivityHeader("Date,TenantId,ResourceId,UserId,Activity\n") || !isActivityHeader("\ufeffMonth,TenantId,ResourceId,UnifiedProfiles") ||
		isActivityHeader("ChargePeriodStart,ResourceId") {
		t.Error("isActivityHeader")
	}
}

// Registration and ownership changes on the data directory, with docs/rules.md#power-platform's
// refusals, explain and credit at risk.
func TestPowerPlatformCommands(t *testing.T) {
	dir := importBasic(t)
	mustRun(t, dir, "powerplatform", "env", "add", "env-test", "--tenant", ppTenant, "--type", "Trial")
	if out, err := run(t, dir, "powerplatform", "env", "add", "env-x", "--tenant", ppTenant, "--type", "Prod"); err == nil || !strings.Contains(out+err.Error(), "Production, Sandbox") {
		t.Errorf("bad environment type: %v %s", err, out)
	}
	if out := mustRun(t, dir, "powerplatform", "env", "list", "--tenant", ppTenant); !strings.Contains(out, "env-test") || !strings.Contains(out, "Trial") || !strings.Contains(out, "env-prod") {
		t.Errorf("env list: %s", out)
	}
	mustRun(t, dir, "powerplatform", "resource", "add", "support-bot", "--tenant", ppTenant, "--env", "env-test", "--kind", "Bot", "--paid")
	if out, err := run(t, dir, "powerplatform", "resource", "add", "x", "--tenant", ppTenant, "--env", "nowhere", "--kind", "Bot"); err == nil || !strings.Contains(out+err.Error(), "no environment nowhere") {
		t.Errorf("resource in unknown environment: %v %s", err, out)
	}
	if out := mustRun(t, dir, "powerplatform", "resource", "list", "--env", "env-test"); !strings.Contains(out, "support-bot") || !strings.Contains(out, "Bot") {
		t.Errorf("resource list: %s", out)
	}

	// Credit at risk in March: kari edited the model-driven app she does not own.
	out := mustRun(t, dir, "powerplatform", "at-risk", "--partner", "5100001", "--from", "2026-03-01", "--to", "2026-04-01")
	if !strings.Contains(out, "case-mgmt") || !strings.Contains(out, "remedy: import the model-driven app in a solution as "+ppKari) {
		t.Errorf("at-risk: %s", out)
	}
	out = mustRun(t, dir, "powerplatform", "explain", "--resource", "expenses", "--month", "2026-03")
	if !strings.Contains(out, "partner 5100001 is the latest partner") || !strings.Contains(out, "MAU 3") {
		t.Errorf("explain: %s", out)
	}

	exportBefore := mustRun(t, dir, "export")
	refusals := []struct {
		args []string
		want string
	}{
		{[]string{"set-owner", "--resource", "case-mgmt", "--as", ppKari, "--at", "2026-04-01"}, "import the app in a solution"},
		{[]string{"set-owner", "--resource", "expenses", "--as", ppSP, "--at", "2026-04-01"}, "cannot be set to a service principal"},
		{[]string{"set-owner", "--resource", "sales-dataset", "--as", ppKari, "--at", "2026-04-01"}, "publish the dataset"},
		{[]string{"add-coowner", "--resource", "invoice-flow", "--as", ppKari, "--at", "2026-04-01"}, "follows its single creator"},
		{[]string{"publish", "--resource", "expenses", "--as", ppKari, "--at", "2026-04-01"}, "only Power BI datasets"},
		{[]string{"set-owner", "--resource", "expenses", "--as", ppKari, "--at", "2026-01-01"}, "history is never rewritten"},
		{[]string{"import-solution", "--tenant", ppTenant, "--env", "env-prod", "--as", ppKari, "--at", "2026-04-02", "case-mgmt", "sales-dataset"}, "nothing was changed"},
		{[]string{"import-solution", "--tenant", ppTenant, "--env", "env-prod", "--as", ppKari, "--at", "2026-04-02", "case-mgmt", "support-bot"}, "of environment env-test, not of env-prod"},
	}
	for _, r := range refusals {
		out, err := run(t, dir, append([]string{"powerplatform"}, r.args...)...)
		if err == nil || !strings.Contains(out+err.Error(), r.want) {
			t.Errorf("%v: want refusal %q, got %v %s", r.args, r.want, err, out)
		}
	}
	if after := mustRun(t, dir, "export"); after != exportBefore {
		t.Error("a refused change changed the state")
	}

	out = mustRun(t, dir, "powerplatform", "set-owner", "--resource", "invoice-flow", "--as", ppAna, "--at", "2026-04-01")
	if !strings.Contains(out, "Owner="+ppAna) || !strings.Contains(out, "Creator="+ppAna) {
		t.Errorf("re-own flow: %s", out)
	}
	out = mustRun(t, dir, "powerplatform", "import-solution", "--tenant", ppTenant, "--env", "env-prod", "--as", ppKari, "--at", "2026-04-02", "case-mgmt")
	if !strings.Contains(out, "ModelDrivenApp case-mgmt: Owner="+ppKari) {
		t.Errorf("import-solution: %s", out)
	}
	out = mustRun(t, dir, "powerplatform", "publish", "--resource", "sales-dataset", "--as", ppKari, "--at", "2026-04-03")
	if !strings.Contains(out, "Publisher="+ppKari) {
		t.Errorf("publish: %s", out)
	}
	mustRun(t, dir, "powerplatform", "remove-coowner", "--resource", "expenses", "--as", ppOla, "--at", "2026-04-04")
	out = mustRun(t, dir, "powerplatform", "add-coowner", "--resource", "expenses", "--as", ppOla, "--at", "2026-04-05")
	if !strings.Contains(out, "CoOwner="+ppKari+"+"+ppOla) {
		t.Errorf("add-coowner: %s", out)
	}
	out = mustRun(t, dir, "powerplatform", "history", "--resource", "EXPENSES")
	if !strings.Contains(out, "2026-04-04T00:00:00Z RemoveCoOwner "+ppOla+" by operator") || !strings.Contains(out, "CoOwner  "+ppOla+"  2026-03-15T00:00:00Z  2026-04-04T00:00:00Z") {
		t.Errorf("history: %s", out)
	}
	// The changes are periods of the world document: closed and opened at
	// the same instant.
	export := mustRun(t, dir, "export")
	compact := strings.Join(strings.Fields(export), "")
	for _, want := range []string{
		`{"resourceId":"case-mgmt","principalId":"` + ppAna + `","role":"Owner","from":"2025-06-01T00:00:00Z","to":"2026-04-02T00:00:00Z"}`,
		`{"resourceId":"case-mgmt","principalId":"` + ppKari + `","role":"Owner","from":"2026-04-02T00:00:00Z","to":null}`,
		`{"resourceId":"expenses","principalId":"` + ppOla + `","role":"CoOwner","from":"2026-03-15T00:00:00Z","to":"2026-04-04T00:00:00Z"}`,
		`{"resourceId":"expenses","principalId":"` + ppOla + `","role":"CoOwner","from":"2026-04-05T00:00:00Z","to":null}`,
	} {
		if !strings.Contains(compact, want) {
			t.Errorf("export lacks %s:\n%s", want, export)
		}
	}
	// April's credit of case-mgmt now goes to kari's partner, in the offline run of the export too.
	worldPath := filepath.Join(t.TempDir(), "world.json")
	os.WriteFile(worldPath, []byte(export), 0o600)
	server := mustRun(t, dir, "powerplatform", "attribute", "--from", "2026-04-01", "--to", "2026-05-01")
	offline := mustRun(t, t.TempDir(), "attribute", "--powerplatform", "--world", worldPath,
		"--usage", filepath.Join(ppBasic, "activity.csv"), "--usage", filepath.Join(ppBasic, "profiles.csv.gz"),
		"--from", "2026-04-01", "--to", "2026-05-01")
	if server != offline {
		t.Errorf("after changes, on the data directory:\n%s\noffline:\n%s", server, offline)
	}
}
