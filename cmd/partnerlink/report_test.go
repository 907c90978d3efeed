package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runAt is run with the clock at now.
func runAt(t *testing.T, dataDir string, now time.Time, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Stdin: strings.NewReader(""), Now: func() time.Time { return now }}
	root := newRootCmd(m)
	root.SetArgs(append([]string{"--data-dir", dataDir}, args...))
	root.SetOut(&out)
	root.SetErr(&out)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// docs/rules.md#monthly-close: closing on the close day or early, nothing
// published when nothing changed, a restatement when late usage arrives,
// versions that read back byte for byte, and clear errors for bad input.
func TestCloseAndReportCommands(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "import", "testdata/azure-basic/world.json", "testdata/azure-basic/usage.csv")
	april5 := time.Date(2026, 4, 5, 8, 0, 0, 0, time.UTC)
	must := func(now time.Time, args ...string) string {
		t.Helper()
		out, err := runAt(t, dir, now, args...)
		if err != nil {
			t.Fatalf("partnerlink %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	fails := func(now time.Time, want string, args ...string) {
		t.Helper()
		out, err := runAt(t, dir, now, args...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("partnerlink %s: %v %s; want an error with %q", strings.Join(args, " "), err, out, want)
		}
	}
	fails(april5, "month 2026-03 closes on 2026-04-10 (day 10 of the next month, when late usage has arrived); pass --early to close it now", "close", "--month", "2026-03")
	fails(time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC), "month 2026-03 is not over yet", "close", "--month", "2026-03", "--early")
	fails(april5, "month 2026-03 is not closed (no month is closed yet); 'partnerlink close --month 2026-03' closes it when the month is over", "report", "partner", "--partner", "5100000", "--month", "2026-03")
	if out := must(april5, "close", "--month", "2026-03", "--early"); !strings.Contains(out, "Published version 1 of 2026-03") {
		t.Errorf("early close: %s", out)
	}
	april15 := time.Date(2026, 4, 15, 0, 0, 0, 0, time.UTC)
	if out := must(april15, "close", "--month", "2026-03"); !strings.Contains(out, "Nothing changed in 2026-03 since version 1") {
		t.Errorf("second close: %s", out)
	}
	// docs/rules.md#monthly-close, "Versions": a tenant or partner ID
	// registered since, named nowhere in the month, makes no version; a
	// new name of a credited customer does.
	must(april15, "tenant", "add", "55555555-5555-4555-8555-555555555555", "--name", "Unrelated Co")
	must(april15, "partner", "add", "7700001", "--name", "Unrelated Partner")
	if out := must(april15, "close", "--month", "2026-03"); !strings.Contains(out, "Nothing changed in 2026-03 since version 1") {
		t.Errorf("close after an unrelated tenant and partner ID were added: %s", out)
	}
	if out, err := runAt(t, dir, april15, "report", "customer", "--tenant", "55555555-5555-4555-8555-555555555555", "--month", "2026-03"); err == nil ||
		!strings.Contains(err.Error(), "is not known (in the reports of 2026-03)") {
		t.Errorf("the new tenant in version 1: %v %s", err, out)
	}
	v1 := must(april15, "report", "partner", "--partner", "5100000", "--month", "2026-03", "--format", "partner-center")
	if !strings.HasPrefix(v1, "Month,CustomerTenantId,CustomerName,SubscriptionId,ServiceName,MPNId,PartnerName,PartnerAttributionType,ACR_USD\n2026-03,") {
		t.Errorf("partner-center report:\n%s", v1)
	}

	// Usage that arrives late restates the month.
	late := filepath.Join(t.TempDir(), "late.csv")
	if err := os.WriteFile(late, []byte("ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost\n"+
		"2026-03-20T00:00:00Z,2026-03-21T00:00:00Z,Usage,/subscriptions/9d8c7b6a-5f4e-4d3c-8b2a-190807060504/resourceGroups/web/providers/Microsoft.Web/sites/shop,"+
		"/subscriptions/9d8c7b6a-5f4e-4d3c-8b2a-190807060504,Azure App Service,EUR,4.20,4.20\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	must(april15, "import", late)
	out := must(april15, "close", "--month", "2026-03")
	if !strings.Contains(out, "Published version 2 of 2026-03") || !strings.Contains(out, "It restates version 1 in 1 lines") ||
		!strings.Contains(out, "8.4  12.6  4.2") {
		t.Errorf("restating close:\n%s", out)
	}
	if again := must(april15, "report", "partner", "--partner", "5100000", "--month", "2026-03", "--version", "1", "--format", "partner-center"); again != v1 {
		t.Errorf("version 1 changed:\n%s\nwas\n%s", again, v1)
	}
	versions := must(april15, "report", "versions", "--month", "2026-03")
	if !strings.Contains(versions, "2026-03  2        2026-04-15T00:00:00Z") || !strings.Contains(versions, "1 lines of version 1; EUR 4.2") {
		t.Errorf("versions:\n%s", versions)
	}
	if out := must(april15, "report", "program", "--month", "2026-03", "--format", "csv"); out !=
		"Month,GlobalPartnerId,PartnerName,BillingCurrency,AttributedCost,IncentiveEligibleCost,Customers\n2026-03,5100000,Tailspin Consulting,EUR,13.605,5.205,1\n" {
		t.Errorf("program csv:\n%s", out)
	}
	if out := must(april15, "report", "customer", "--tenant", "0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60", "--month", "2026-03", "--format", "csv"); !strings.Contains(out,
		"2026-03,0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60,5100001,Tailspin Consulting Oslo,EUR,13.605,5.205,4\n") {
		t.Errorf("customer csv:\n%s", out)
	}

	fails(april15, "month 2026-03 has no report version 7", "report", "program", "--month", "2026-03", "--version", "7")
	fails(april15, `the partner report has no format "xml"; accepted: table, csv, json, partner-center`, "report", "partner", "--partner", "5100000", "--month", "2026-03", "--format", "xml")
	fails(april15, "partner ID 7777777 is not registered", "report", "partner", "--partner", "7777777", "--month", "2026-03")
	fails(april15, `--month: "March" is not a month; expected YYYY-MM`, "report", "program", "--month", "March")
	fails(april15, "month 2026-02 is not closed (the latest closed month is 2026-03; 'partnerlink report versions' lists them)", "report", "program", "--month", "2026-02", "--to-month", "2026-03")
	fails(april15, "--version 0: versions are numbered from 1", "report", "program", "--month", "2026-03", "--version", "0")
	fails(april15, "--version names a version of one month", "report", "program", "--month", "2026-03", "--to-month", "2026-04", "--version", "1")
	fails(april15, "tenant 99999999-9999-4999-8999-999999999999 is not known", "report", "customer", "--tenant", "99999999-9999-4999-8999-999999999999", "--month", "2026-03")
}
