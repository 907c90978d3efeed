package attribution

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink/focus"
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
	org, err := NewIndexWithOrganizations(b.doc, orgs, nil)
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
	org, err = NewIndexWithOrganizations(b.doc, orgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := run(t, org, usage); !strings.HasSuffix(got, line("~"+pG, app, "EUR", "12.5", "10.5", 2)) {
		t.Errorf("with the location ID deleted on March 6:\n%s", got)
	}
}

// docs/rules.md#monthly-close: the organization's credit is eligible when
// any of its IDs' credit is, whichever ID sorts first.
func TestOrganizationEligibleWhenAnyIDIs(t *testing.T) {
	b := newWorld().
		link(tC, uA, pL, "2026-01-01", "").assign(tC, uA, "Reader", "/subscriptions/"+S1, "2026-01-01", "").
		link(tC, uB, pG, "2026-01-01", "").assign(tC, uB, "Contributor", "/subscriptions/"+S1, "2026-01-01", "")
	org, err := NewIndexWithOrganizations(b.doc, map[string]string{pG: pG, pL: pG}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := run(t, org, day("2026-03-05", app, "3"))
	if want := line(pG, app, "EUR", "3", "3", 1) + line(pL, app, "EUR", "3", "0", 1) + line("~"+pG, app, "EUR", "3", "3", 1); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// A run's Beside world is credited as a run of its own would credit it,
// totalled per partner and currency; the run's own credits do not change.
// (The monthly close totals the unlinked credentials this way.)
func TestBesideTotalsASeparateRun(t *testing.T) {
	b := newWorld().
		link(tC, uA, pL, "2026-01-01", "").assign(tC, uA, "Contributor", "/subscriptions/"+S1, "2026-01-01", "")
	// The other world: uB linked too, a reader of S1 from March 6, and
	// spC a reader of one resource of S2, a subscription the run's own
	// world credits nobody in.
	o := newWorld().
		link(tC, uA, pL, "2026-01-01", "").assign(tC, uA, "Contributor", "/subscriptions/"+S1, "2026-01-01", "").
		link(tC, uB, pG, "2026-01-01", "").assign(tC, uB, "Reader", "/subscriptions/"+S1, "2026-03-06", "").
		link(tC, spC, pA, "2026-01-01", "").assign(tC, spC, "Reader", vm2, "2026-01-01", "")
	usage := day("2026-03-05", app, "10.5") + day("2026-03-06", app, "2") + day("2026-03-07", vm2, "0.125") +
		day("2026-03-08", vm2, "4") + day("2026-03-09", vm3, "1.25") + day("2026-04-02", vm2, "9")
	own, _ := run(t, b.index(t), usage)
	other, _ := run(t, o.index(t), usage)
	opt := Options{From: *at("2026-03-01"), To: *at("2026-04-01"), Workers: 2, chunkSize: 64, Beside: o.index(t)}
	r, err := NewRun(b.index(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Scan(strings.NewReader(usageHeader+usage), "usage.csv"); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := r.Result().WriteCSV(&out); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimPrefix(out.String(), CSVHeader+"\n"); got != own {
		t.Errorf("the run's own credits with a Beside world:\n%s\nwant\n%s", got, own)
	}
	// The separate run's lines, totalled by partner and currency.
	type total struct {
		attributed, eligible focus.Sum
		rows                 int64
	}
	want := map[[2]string]*total{}
	var keys [][2]string
	for _, l := range strings.Split(strings.TrimSpace(other), "\n") {
		f := strings.Split(l, ",")
		k := [2]string{f[0], f[4]}
		if want[k] == nil {
			want[k] = &total{}
			keys = append(keys, k)
		}
		a, _ := focus.ParseAmount([]byte(f[5]))
		e, _ := focus.ParseAmount([]byte(f[6]))
		n, _ := strconv.Atoi(f[7])
		want[k].attributed.Add(a)
		want[k].eligible.Add(e)
		want[k].rows += int64(n)
	}
	slices.SortFunc(keys, func(a, b [2]string) int { return strings.Compare(a[0]+","+a[1], b[0]+","+b[1]) })
	got := r.Beside().Credits()
	if len(got) != len(keys) || len(keys) != 3 {
		t.Fatalf("Beside totals %d credits, want %d (of %q)", len(got), len(keys), other)
	}
	for i, c := range got {
		w := want[keys[i]]
		if c.PartnerID != keys[i][0] || c.BillingCurrency != keys[i][1] || c.AttributedCost.String() != w.attributed.String() ||
			c.IncentiveEligibleCost.String() != w.eligible.String() || c.UsageRows != w.rows || c.ResourceID != "" {
			t.Errorf("Beside credit %d: %+v, want %v %s %s %d", i, c, keys[i], w.attributed.String(), w.eligible.String(), w.rows)
		}
	}
}
