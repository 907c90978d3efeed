package ledger_test

import (
	"bytes"
	"context"
	"github.com/partnerlink/partnerlink"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink/attribution"
	"github.com/partnerlink/partnerlink/ledger"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/usage"
	"github.com/partnerlink/partnerlink/world"
)

// The worked example (testdata/azure-basic, the contract's worked example) run on a server's state:
// the period's credits are the expected CSV byte for byte, and the daily
// credits add up to them.
func TestRunOnServerState(t *testing.T) {
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
	if err := db.ImportWorld(ctx, doc, func(s string) (string, error) { return s, nil }); err != nil {
		t.Fatal(err)
	}
	u, _ := os.Open("testdata/usage.csv")
	if _, err := usage.Import(ctx, db, dir, usage.FOCUS, "usage.csv", u, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	u.Close()
	from, to := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	out, err := ledger.Run(ctx, db, dir, from, to, attribution.Options{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var csv bytes.Buffer
	if err := out.Result.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile("testdata/expected.csv")
	if csv.String() != string(want) {
		t.Errorf("period credits:\n%s\nwant:\n%s", csv.String(), want)
	}
	cs, err := db.Credits(ctx, partnerlink.CreditFilter{RunID: out.RunID})
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ day, res, attributed, eligible string }
	got := map[key]bool{}
	for _, c := range cs {
		got[key{c.Day, c.ResourceID[len(c.ResourceID)-4:], c.Attributed, c.Eligible}] = true
	}
	// docs/rules.md#azure-attribution per day: March 1 nothing; March 2 both resources (eligible via
	// the group's Contributor for the whole day); March 3 the web app, Reader only.
	want3 := []key{{"2026-03-02", "shop", "4.2", "4.2"}, {"2026-03-02", "opdb", "1.005", "1.005"}, {"2026-03-03", "shop", "4.2", "0"}}
	if len(cs) != len(want3) {
		t.Fatalf("daily credits = %+v", cs)
	}
	for _, k := range want3 {
		if !got[k] {
			t.Errorf("missing daily credit %+v in %+v", k, cs)
		}
	}
	// Read back by resource and day.
	byDay, _ := db.Credits(ctx, partnerlink.CreditFilter{RunID: out.RunID, Day: "2026-03-03"})
	if len(byDay) != 1 {
		t.Errorf("credits of March 3 = %+v", byDay)
	}
	run, err := db.LatestRun(ctx)
	if err != nil || run.ID != out.RunID || !bytes.Contains(run.Summary, []byte(`"credited":{"rows":3`)) {
		t.Errorf("stored run = %+v %v", run, err)
	}
}
