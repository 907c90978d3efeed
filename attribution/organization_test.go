package attribution

import (
	"testing"
)

// docs/rules.md#monthly-close: in the organization index a row that
// reaches an organization through its global ID and a location ID counts
// once, under the global ID, eligible when any of its chains can write;
// each chain keeps its own ID's rules (a location ID deleted before the
// row credits nothing through it).
func TestOrganizationIndexCountsARowOnce(t *testing.T) {
	b := newWorld().
		link(tC, uA, pL, "2026-01-01", "").assign(tC, uA, "Contributor", "/subscriptions/"+S1, "2026-01-01", "").
		link(tC, uB, pG, "2026-01-01", "").assign(tC, uB, "Reader", "/subscriptions/"+S1, "2026-01-01", "")
	usage := day("2026-03-05", app, "10.5") + day("2026-03-06", app, "2")
	perID, _ := run(t, b.index(t), usage)
	if want := line(pG, app, "EUR", "12.5", "0", 2) + line(pL, app, "EUR", "12.5", "12.5", 2); perID != want {
		t.Errorf("per partner ID:\n%s\nwant\n%s", perID, want)
	}
	org, err := NewOrganizationIndex(b.doc)
	if err != nil {
		t.Fatal(err)
	}
	got, sum := run(t, org, usage)
	if want := line(pG, app, "EUR", "12.5", "12.5", 2); got != want {
		t.Errorf("per organization:\n%s\nwant\n%s", got, want)
	}
	if sum.Credited.Rows != 2 {
		t.Errorf("credited rows = %d, want 2", sum.Credited.Rows)
	}

	// The location ID is deleted on March 6: from then on only the
	// global ID's reader credits the organization, not eligible.
	b.partnerPeriod(pL, "", "2026-03-06")
	org, err = NewOrganizationIndex(b.doc)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := run(t, org, usage); got != line(pG, app, "EUR", "12.5", "10.5", 2) {
		t.Errorf("with the location ID deleted on March 6:\n%s", got)
	}
}
