package attribution

import (
	"bytes"
	"strings"
	"testing"
)

// docs/rules.md#monthly-close: an index with organizations credits a row
// that reaches an organization through its global ID and a location ID
// once to the organization, eligible when any of its chains can write,
// besides each ID; each chain keeps its own ID's rules (a location ID
// deleted before the row credits nothing through it).
func TestOrganizationIndexCountsARowOnce(t *testing.T) {
	b := newWorld().
		link(tC, uA, pL, "2026-01-01", "").assign(tC, uA, "Contributor", "/subscriptions/"+S1, "2026-01-01", "").
		link(tC, uB, pG, "2026-01-01", "").assign(tC, uB, "Reader", "/subscriptions/"+S1, "2026-01-01", "")
	usage := day("2026-03-05", app, "10.5") + day("2026-03-06", app, "2")
	perID, _ := run(t, b.index(t), usage)
	if want := line(pG, app, "EUR", "12.5", "0", 2) + line(pL, app, "EUR", "12.5", "12.5", 2); perID != want {
		t.Errorf("per partner ID:\n%s\nwant\n%s", perID, want)
	}
	orgs := map[string]string{pG: pG, pL: pG}
	org, err := NewIndexWithOrganizations(b.doc, orgs)
	if err != nil {
		t.Fatal(err)
	}
	got, sum := run(t, org, usage)
	if want := perID + line("~"+pG, app, "EUR", "12.5", "12.5", 2); got != want {
		t.Errorf("with organizations:\n%s\nwant\n%s", got, want)
	}
	if !org.CreditsOrganization(pL) || org.CreditsOrganization(pA) {
		t.Errorf("CreditsOrganization: %v for %s, %v for %s", org.CreditsOrganization(pL), pL, org.CreditsOrganization(pA), pA)
	}
	if sum.Credited.Rows != 2 {
		t.Errorf("credited rows = %d, want 2", sum.Credited.Rows)
	}

	// The location ID is deleted on March 6: from then on only the
	// global ID's reader credits the organization, not eligible.
	b.partnerPeriod(pL, "", "2026-03-06")
	org, err = NewIndexWithOrganizations(b.doc, orgs)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := run(t, org, usage); !strings.HasSuffix(got, line("~"+pG, app, "EUR", "12.5", "10.5", 2)) {
		t.Errorf("with the location ID deleted on March 6:\n%s", got)
	}
}

// ScanAll credits each row into every run as separate scans would.
func TestScanAllMatchesSeparateScans(t *testing.T) {
	b := newWorld().
		link(tC, uA, pL, "2026-01-01", "").assign(tC, uA, "Contributor", "/subscriptions/"+S1, "2026-01-01", "").
		link(tC, uB, pG, "2026-01-01", "").assign(tC, uB, "Reader", "/subscriptions/"+S1, "2026-03-06", "").
		link(tC, spC, pA, "2026-01-01", "").assign(tC, spC, "Owner", "/subscriptions/"+S2, "2026-01-01", "")
	usage := day("2026-03-05", app, "10.5") + day("2026-03-06", app, "2") + day("2026-03-07", vm2, "0.125") + day("2026-04-02", vm2, "9")
	perID, _ := run(t, b.index(t), usage)
	orgIx, err := NewIndexWithOrganizations(b.doc, map[string]string{pG: pG, pL: pG})
	if err != nil {
		t.Fatal(err)
	}
	perOrg, _ := run(t, orgIx, usage)
	opt := Options{From: *at("2026-03-01"), To: *at("2026-04-01"), Workers: 2, chunkSize: 64}
	r1, err := NewRun(b.index(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := NewRun(orgIx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := ScanAll(strings.NewReader(usageHeader+usage), "usage.csv", r1, r2); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		r    *Run
		want string
	}{{r1, perID}, {r2, perOrg}} {
		var out bytes.Buffer
		if err := c.r.Result().WriteCSV(&out); err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimPrefix(out.String(), CSVHeader+"\n"); got != c.want {
			t.Errorf("run %d:\n%s\nwant\n%s", i+1, got, c.want)
		}
	}
}
