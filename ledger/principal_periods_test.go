package ledger_test

import (
	"bytes"
	"context"
	"github.com/partnerlink/partnerlink"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink/attribution"
	"github.com/partnerlink/partnerlink/ledger"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/usage"
	"github.com/partnerlink/partnerlink/world"
)

// docs/rules.md "Principals: enabled periods": a run on the server's state
// sees every enabled period of a principal disabled and enabled again in
// the store. The guest (Reader on the web app's resource group, linked from
// March 2 12:00) is disabled on March 2 at 18:00 and enabled again on
// March 3 at 12:00: March 2 and March 3 are credited, an hour in the gap
// is not.
func TestRunSeesEveryEnabledPeriod(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "pl.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f, _ := os.Open("testdata/world.json")
	doc, err := world.Read(f, "world.json")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	doc.Links = doc.Links[:1] // only the guest's link
	if err := db.ImportWorld(ctx, doc, func(s string) (string, error) { return s, nil }); err != nil {
		t.Fatal(err)
	}
	const tenant, guest = "0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60", "c0ffee00-0000-4000-8000-000000000001"
	p, err := db.Principal(ctx, tenant, guest)
	if err != nil {
		t.Fatal(err)
	}
	p.Period.To = time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
	if err := db.PutPrincipal(ctx, *p); err != nil {
		t.Fatal(err)
	}
	if _, err := db.EnablePrincipal(ctx, tenant, guest, time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	u, _ := os.Open("testdata/usage.csv")
	if _, err := usage.Import(ctx, db, dir, usage.FOCUS, "usage.csv", u, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	u.Close()
	const shop = "/subscriptions/9d8c7b6a-5f4e-4d3c-8b2a-190807060504/resourceGroups/web/providers/Microsoft.Web/sites/shop"
	gap := "ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost\n" +
		"2026-03-03T02:00:00Z,2026-03-03T03:00:00Z,Usage," + shop + ",/subscriptions/9d8c7b6a-5f4e-4d3c-8b2a-190807060504,Azure App Service,EUR,0.5,0.5\n"
	if _, err := usage.Import(ctx, db, dir, usage.FOCUS, "gap.csv", strings.NewReader(gap), time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	from, to := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	out, err := ledger.Run(ctx, db, dir, from, to, attribution.Options{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var csv bytes.Buffer
	if err := out.Result.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	want := attribution.CSVHeader + "\n" +
		"5100001," + tenant + ",9d8c7b6a-5f4e-4d3c-8b2a-190807060504," + shop + ",EUR,8.4,0,2\n"
	if csv.String() != want {
		t.Errorf("period credits:\n%s\nwant:\n%s", csv.String(), want)
	}
	cs, err := db.Credits(ctx, partnerlink.CreditFilter{RunID: out.RunID})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Day != "2026-03-02" || cs[0].Attributed != "4.2" || cs[1].Day != "2026-03-03" || cs[1].Attributed != "4.2" {
		t.Errorf("daily credits = %+v", cs)
	}
}
