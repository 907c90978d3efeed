package attribution

import (
	"strings"
	"testing"
)

// Each case checks one rule of docs/rules.md#identifiers-and-time, docs/rules.md#scopes, docs/rules.md#azure-attribution over March 2026.
func TestRules(t *testing.T) {
	cases := []struct {
		name  string
		world func() *builder
		usage string
		want  string
	}{
		{
			// docs/rules.md#azure-attribution: every role counts, Reader included; Reader alone is
			// not incentive-eligible.
			name:  "reader credits but is not eligible",
			world: func() *builder { return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Reader", rgWeb, "", "") },
			usage: day("2026-03-02", app, "4.20") + day("2026-03-02", db, "1"),
			want:  line(pA, app, "EUR", "4.2", "0", 1),
		},
		{
			// docs/rules.md#azure-attribution: a writing role held for the whole day is incentive-eligible.
			name: "contributor is eligible",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Contributor", "/subscriptions/"+S1, "", "")
			},
			usage: day("2026-03-02", app, "4.20") + day("2026-03-03", app, "0.80") + day("2026-03-02", db, "1"),
			want:  line(pA, db, "EUR", "1", "1", 1) + line(pA, app, "EUR", "5", "5", 2),
		},
		{
			// docs/rules.md#identifiers-and-time: ids and scopes compare case-insensitively, a single
			// trailing "/" is ignored, output keeps the first casing seen.
			name: "case-insensitive ids, trailing slash, first casing",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Owner", strings.ToUpper(rgWeb)+"/", "", "")
			},
			usage: day("2026-03-02", strings.Replace(app, "shop", "Shop", 1), "1") + day("2026-03-03", strings.ToLower(app)+"/", "2"),
			want:  line(pA, strings.Replace(app, "shop", "Shop", 1), "EUR", "3", "3", 2),
		},
		{
			// docs/rules.md#scopes: nested child resources are inside their parent, and a
			// resource whose name merely starts with the parent's is not.
			name:  "nested child resources",
			world: func() *builder { return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Contributor", db, "", "") },
			usage: day("2026-03-02", dbX, "1") + day("2026-03-02", db, "2") + day("2026-03-02", db10, "4"),
			want:  line(pA, db, "EUR", "2", "2", 1) + line(pA, dbX, "EUR", "1", "1", 1),
		},
		{
			// docs/rules.md#azure-attribution: a writing role that ends with the run's window
			// credits a row charged past the window's end, but does not make it eligible (it
			// is not held for the whole charge period); a row inside the window is eligible.
			name: "a row charged past the window",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Contributor", rgWeb, "", "2026-04-01")
			},
			usage: "2026-03-31T00:00:00Z,2026-04-02T00:00:00Z,Usage," + app + ",/subscriptions/" + S1 + ",svc,EUR,2,2\n" + day("2026-03-30", app, "1"),
			want:  line(pA, app, "EUR", "3", "1", 2),
		},
		{
			// docs/rules.md#azure-attribution: a row's own charge period decides, also for a
			// day-long row that does not start at midnight: a role that ended at 06:00 does
			// not credit a row charged from 12:00 to 12:00 the next day.
			name: "a day-long row across midnight",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Contributor", rgWeb, "", "2026-03-02T06:00")
			},
			usage: "2026-03-02T12:00:00Z,2026-03-03T12:00:00Z,Usage," + app + ",/subscriptions/" + S1 + ",svc,EUR,1,1\n" + day("2026-03-01", app, "2"),
			want:  line(pA, app, "EUR", "2", "2", 1),
		},
		{
			// docs/rules.md#scopes: a scope contains what lies below it at any depth, a
			// deep one (more than 63 segments) included, and not its ancestors.
			name: "scopes at every depth",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Reader", dbX, "", "").assign(tC, uA, "Reader", deep, "", "")
			},
			usage: day("2026-03-02", dbX+"/children/c", "1") + day("2026-03-02", db, "2") + day("2026-03-02", deep+"/children/d", "4") +
				day("2026-03-02", deep[:strings.LastIndex(deep, "/children")], "8"),
			want: line(pA, dbX+"/children/c", "EUR", "1", "0", 1) + line(pA, deep+"/children/d", "EUR", "4", "0", 1),
		},
		{
			// docs/rules.md#scopes: a management group contains the subscriptions below it,
			// transitively; not the ones outside it.
			name: "management group transitive",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Reader", "/providers/Microsoft.Management/managementGroups/ROOT-MG", "", "")
			},
			usage: day("2026-03-02", app, "1") + day("2026-03-02", vm2, "2"),
			want:  line(pA, app, "EUR", "1", "0", 1),
		},
		{
			// docs/rules.md#scopes: the tenant root contains every subscription of its
			// tenant, and none of another tenant.
			name:  "tenant root",
			world: func() *builder { return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Owner", "/", "", "") },
			usage: day("2026-03-02", app, "1") + day("2026-03-02", vm2, "2") + day("2026-03-02", vm3, "4"),
			want:  line(pA, app, "EUR", "1", "1", 1) + line(pA, vm2, "EUR", "2", "2", 1),
		},
		{
			// docs/rules.md#azure-attribution: on a day a link changed, every partner that held it at
			// any moment is credited in full; neither for the whole day, so
			// neither is eligible that day.
			name: "link update on a change day",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "2026-03-02T12:00").link(tC, uA, pB, "2026-03-02T12:00", "").
					assign(tC, uA, "Contributor", rgWeb, "", "")
			},
			usage: day("2026-03-01", app, "1") + day("2026-03-02", app, "2") + day("2026-03-03", app, "4"),
			want:  line(pA, app, "EUR", "3", "1", 2) + line(pB, app, "EUR", "6", "4", 2),
		},
		{
			// docs/rules.md#azure-attribution: eligibility needs access for the whole charge period;
			// an assignment from 06:00 credits that day but is not eligible.
			name: "whole-day coverage for eligibility",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Owner", app, "2026-03-02T06:00", "")
			},
			usage: day("2026-03-01", app, "8") + day("2026-03-02", app, "1") + day("2026-03-03", app, "2"),
			want:  line(pA, app, "EUR", "3", "2", 2),
		},
		{
			// docs/rules.md, "Incentive eligibility": opening support requests
			// is not a write, so Billing Reader, Cost Management Reader and a
			// custom role of reads and Microsoft.Support/* credit the whole
			// amount but nothing of it is incentive-eligible.
			name: "support-only roles are not incentive-eligible",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Billing Reader", app, "", "").
					link(tC, uB, pB, "", "").assign(tC, uB, "Cost Management Reader", app, "", "").
					role(tC, "Helpdesk", "0e500000-0000-4000-8000-0000000000f1", "*/read", "Microsoft.Support/*").
					link(tC, spC, pL, "", "").assign(tC, spC, "Helpdesk", app, "", "")
			},
			usage: day("2026-03-02", app, "1.5"),
			want:  line(pA, app, "EUR", "1.5", "0", 1) + line(pB, app, "EUR", "1.5", "0", 1) + line(pL, app, "EUR", "1.5", "0", 1),
		},
		{
			// docs/rules.md#azure-attribution: a deleted partner ID stops every credit.
			name: "deleted partner ID",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Owner", app, "", "").partnerPeriod(pA, "", "2026-03-03")
			},
			usage: day("2026-03-02", app, "1") + day("2026-03-03", app, "2"),
			want:  line(pA, app, "EUR", "1", "1", 1),
		},
		{
			// docs/rules.md#azure-attribution: a location ID belongs to its global ID; when the
			// global ID is deleted, its locations stop crediting too.
			name: "deleted global ID stops its location ID",
			world: func() *builder {
				return newWorld().link(tC, uA, pL, "", "").assign(tC, uA, "Owner", app, "", "").partnerPeriod(pG, "", "2026-03-03")
			},
			usage: day("2026-03-02", app, "1") + day("2026-03-03", app, "2"),
			want:  line(pL, app, "EUR", "1", "1", 1),
		},
		{
			// docs/rules.md#azure-attribution: a deleted or disabled credential stops crediting at
			// that instant.
			name: "disabled principal",
			world: func() *builder {
				return newWorld().link(tC, spC, pA, "", "").assign(tC, spC, "Contributor", app, "", "").principalPeriod(tC, spC, "", "2026-03-02T18:00")
			},
			usage: day("2026-03-01", app, "1") + day("2026-03-02", app, "2") + day("2026-03-03", app, "4"),
			want:  line(pA, app, "EUR", "3", "1", 2),
		},
		{
			// docs/rules.md#azure-attribution: nested groups count transitively; a membership cycle
			// neither hangs nor counts twice.
			name: "nested groups with a cycle",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").member(tC, g1, uA, "", "").member(tC, g2, g1, "", "").member(tC, g1, g2, "", "").
					assign(tC, g2, "Contributor", rgWeb, "", "").assign(tC, g1, "Reader", rgWeb, "", "")
			},
			usage: day("2026-03-02", app, "1.5"),
			want:  line(pA, app, "EUR", "1.5", "1.5", 1),
		},
		{
			// docs/rules.md#azure-attribution: membership periods bound the grant; a membership that
			// started mid-day credits that day without eligibility.
			name: "membership period",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").member(tC, g1, uA, "2026-03-02T09:00", "2026-03-04").assign(tC, g1, "Owner", rgWeb, "", "")
			},
			usage: day("2026-03-01", app, "1") + day("2026-03-02", app, "2") + day("2026-03-03", app, "4") + day("2026-03-04", app, "8"),
			want:  line(pA, app, "EUR", "6", "4", 2),
		},
		{
			// docs/rules.md#azure-attribution: one partner is credited at most once per usage row,
			// however many credentials, assignments or groups qualify.
			name: "one partner once per row",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").link(tC, uB, pA, "", "").member(tC, g1, uA, "", "").
					assign(tC, uA, "Reader", app, "", "").assign(tC, uB, "Owner", "/subscriptions/"+S1, "", "").assign(tC, g1, "Contributor", rgWeb, "", "")
			},
			usage: day("2026-03-02", app, "10"),
			want:  line(pA, app, "EUR", "10", "10", 1),
		},
		{
			// docs/rules.md#azure-attribution: different partners are each credited in full.
			name: "different partners each in full",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").link(tC, uB, pB, "", "").assign(tC, uA, "Reader", app, "", "").assign(tC, uB, "Owner", app, "", "")
			},
			usage: day("2026-03-02", app, "10"),
			want:  line(pA, app, "EUR", "10", "0", 1) + line(pB, app, "EUR", "10", "10", 1),
		},
		{
			// docs/rules.md#azure-attribution: Lighthouse — the link is made once in the managing
			// tenant; a delegation to its group credits the customer's usage.
			name: "lighthouse delegation",
			world: func() *builder {
				return newWorld().link(tM, mU, pA, "", "").member(tM, mG, mU, "", "").
					delegate(tC, tM, "/subscriptions/"+S2, mG, "Contributor", "", "")
			},
			usage: day("2026-03-02", vm2, "3") + day("2026-03-02", app, "5"),
			want:  line(pA, vm2, "EUR", "3", "3", 1),
		},
		{
			// docs/rules.md#azure-attribution: a link in the customer tenant does not make a
			// delegation of another customer count.
			name: "lighthouse needs the managing tenant's link",
			world: func() *builder {
				return newWorld().link(tC2, mU, pA, "", "").delegate(tC, tM, "/subscriptions/"+S2, mU, "Contributor", "", "")
			},
			usage: day("2026-03-02", vm2, "3"),
			want:  "",
		},
		{
			// docs/rules.md#azure-attribution: access through a CSP delegated principal never credits.
			name: "CSP delegated group excluded",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").member(tC, gCSP, uA, "", "").member(tC, g1, gCSP, "", "").
					assign(tC, gCSP, "Owner", "/subscriptions/"+S1, "", "").assign(tC, g1, "Owner", "/subscriptions/"+S2, "", "")
			},
			usage: day("2026-03-02", app, "1") + day("2026-03-02", vm2, "2"),
			want:  "",
		},
		{
			// docs/rules.md#azure-attribution: the CSP exclusion is per path: the same user's own
			// assignment still credits.
			name: "CSP path excluded, direct path counts",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").member(tC, gCSP, uA, "", "").
					assign(tC, gCSP, "Owner", "/subscriptions/"+S1, "", "").assign(tC, uA, "Reader", app, "", "")
			},
			usage: day("2026-03-02", app, "1") + day("2026-03-02", db, "2"),
			want:  line(pA, app, "EUR", "1", "0", 1),
		},
		{
			// docs/rules.md#azure-attribution: a row belongs to the period containing its
			// ChargePeriodStart; usage without a resource id is the
			// subscription's.
			name: "period by ChargePeriodStart, subscription-level usage",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Owner", "/subscriptions/"+S2, "", "")
			},
			usage: day("2026-02-28", vm2, "1") + day("2026-03-31", vm2, "2") + day("2026-04-01", vm2, "4") +
				"2026-03-05T00:00:00Z,2026-03-06T00:00:00Z,Usage,,/subscriptions/" + S2 + ",support,EUR,7,7\n",
			want: line(pA, "/subscriptions/"+S2, "EUR", "7", "7", 1) + line(pA, vm2, "EUR", "2", "2", 1),
		},
		{
			// docs/rules.md: a custom role is its tenant's. Tenants M and
			// C both define "Ops" under one GUID, M's writing, C's only
			// reading; an assignment in C and a delegation of C's scope
			// to M's user both hold C's "Ops", by name or by GUID.
			name: "custom roles of the scope's tenant",
			world: func() *builder {
				return newWorld().role(tM, "Ops", "0e500000-0000-4000-8000-000000000001", "*").
					role(tC, "Ops", "0e500000-0000-4000-8000-000000000001", "*/read").
					link(tC, uA, pA, "", "").assign(tC, uA, "ops", rgWeb, "", "").
					link(tM, mU, pB, "", "").delegate(tC, tM, "/subscriptions/"+S2, mU, "0E500000-0000-4000-8000-000000000001", "", "")
			},
			usage: day("2026-03-02", app, "1") + day("2026-03-02", vm2, "2"),
			want:  line(pA, app, "EUR", "1", "0", 1) + line(pB, vm2, "EUR", "2", "0", 1),
		},
		{
			// docs/rules.md#azure-attribution, docs/api.md#attribution-csv: credits are kept per currency; sums are exact.
			name:  "currencies and exact sums",
			world: func() *builder { return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Owner", "/", "", "") },
			usage: strings.Repeat(dayIn("2026-03-02", app, "0.1", "EUR", "Usage"), 10) + dayIn("2026-03-02", app, "0.000000000000000000001", "USD", "Usage") + dayIn("2026-03-03", app, "-1", "USD", "Usage"),
			want:  line(pA, app, "EUR", "1", "1", 10) + line(pA, app, "USD", "-0.999999999999999999999", "-0.999999999999999999999", 2),
		},
		{
			// docs/rules.md#azure-attribution: sums are exact beyond any
			// fixed width. Owner from March 10th makes the rows of the 12th
			// eligible and those of the 2nd not: the eligible sum outgrows
			// 128 bits of 10^-18 (about 1.7×10^20) while the attributed one,
			// to which the rows of the 2nd take back what those of the 12th
			// add, does not.
			name: "a sum beyond the fast path",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Reader", app, "", "").assign(tC, uA, "Owner", app, "2026-03-10", "")
			},
			usage: strings.Repeat(day("2026-03-12", app, "100000000000000000")+day("2026-03-02", app, "-100000000000000000"), 1800) +
				day("2026-03-12", app, "0.5"),
			want: line(pA, app, "EUR", "0.5", "180000000000000000000.5", 3601),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _ := run(t, c.world().index(t), c.usage)
			if got != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}

// docs/rules.md#azure-attribution: rows with an unknown subscription, rows no partner is credited
// with, other categories and rows outside the period are counted in the
// summary, with amounts by currency, never silently dropped.
func TestSummary(t *testing.T) {
	ix := newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Reader", app, "", "").index(t)
	unknown := "/subscriptions/eeeeeeee-0000-4000-8000-000000000000/resourceGroups/x/providers/A.B/c/d"
	usage := day("2026-03-02", app, "1") + day("2026-03-02", db, "2") + dayIn("2026-03-02", db, "3", "USD", "Usage") +
		day("2026-03-02", unknown, "4") + dayIn("2026-03-02", app, "8", "EUR", "Purchase") + day("2026-04-02", app, "16")
	_, s := run(t, ix, usage)
	check := func(name string, tl Tally, rows int64, amounts string) {
		t.Helper()
		if tl.Rows != rows || tl.text() != amounts {
			t.Errorf("%s: %d rows, %q; want %d rows, %q", name, tl.Rows, tl.text(), rows, amounts)
		}
	}
	check("read", s.Read, 6, "6 rows, 31 EUR, 3 USD")
	check("credited", s.Credited, 1, "1 row, 1 EUR")
	check("no partner", s.NoPartner, 2, "2 rows, 2 EUR, 3 USD")
	check("unknown subscription", s.UnknownSubscription, 1, "1 row, 4 EUR")
	check("other category", s.OtherCategory, 1, "1 row, 8 EUR")
	check("out of period", s.OutOfPeriod, 1, "1 row, 16 EUR")

	// docs/rules.md#azure-attribution: the charge category and the cost column are settings.
	got, s2 := run(t, ix, usage, func(o *Options) { o.ChargeCategory = "purchase"; o.CostColumn = "BilledCost" })
	if want := line(pA, app, "EUR", "8", "0", 1); got != want {
		t.Errorf("category Purchase: got %q want %q", got, want)
	}
	check("other category with Purchase", s2.OtherCategory, 5, "5 rows, 23 EUR, 3 USD")
}

// docs/rules.md#azure-attribution: the result is a pure function of the inputs — the same inputs
// give byte-identical output, whatever the number of workers and however
// rows are shared among them; the casing kept is the first in input order.
func TestDeterminism(t *testing.T) {
	ix := newWorld().link(tC, uA, pA, "", "").link(tC, uB, pB, "2026-03-10", "").
		assign(tC, uA, "Reader", rgWeb, "", "").assign(tC, uB, "Contributor", "/subscriptions/"+S1, "", "").index(t)
	var b strings.Builder
	for i := 0; i < 3000; i++ {
		res := app
		switch i % 3 {
		case 1:
			res = strings.ToUpper(app)
		case 2:
			res = db
		}
		if i < 2 {
			res = strings.Replace(app, "shop", "SHOP", 1) // the first casing of app
		}
		b.WriteString(day("2026-03-"+[]string{"01", "09", "10", "20"}[i%4], res, []string{"0.1", "1.005", "3", "0.0001"}[i%4]))
	}
	usage := b.String()
	first, _ := run(t, ix, usage)
	for _, workers := range []int{1, 2, 4} {
		for _, chunk := range []int{100, 1000, 0} {
			got, _ := run(t, ix, usage, func(o *Options) { o.Workers, o.chunkSize = workers, chunk })
			if got != first {
				t.Fatalf("workers %d chunk %d: output differs:\n%s\nvs\n%s", workers, chunk, got, first)
			}
		}
	}
	if !strings.Contains(first, "/sites/SHOP,") || strings.Contains(first, "/SITES/SHOP") {
		t.Errorf("casing of first occurrence not kept:\n%s", first)
	}
}

// docs/rules.md#azure-attribution: rows of a resource that follow one
// another (its meters of a day) are credited as the rows one by one, also
// where the stretch runs from one file into the next and the two files
// differ in their columns.
func TestStretchOfRowsAcrossFiles(t *testing.T) {
	ix := newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Owner", app, "", "").index(t)
	r, err := NewRun(ix, Options{From: *at("2026-03-01"), To: *at("2026-04-01")})
	if err != nil {
		t.Fatal(err)
	}
	withUSD := "ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost,x_EffectiveCostInUsd\n" +
		"2026-03-02T00:00:00Z,2026-03-03T00:00:00Z,Usage," + app + "," + S1 + ",svc,EUR,1.5,1.5,1.6\n" +
		"2026-03-02T00:00:00Z,2026-03-03T00:00:00Z,Usage," + strings.ToUpper(app) + "," + S1 + ",svc,EUR,2.25,2.25,2.4\n"
	if err := r.Scan(strings.NewReader(withUSD), "a.csv"); err != nil {
		t.Fatal(err)
	}
	if err := r.Scan(strings.NewReader(usageHeader+day("2026-03-02", app, "0.25")+day("2026-03-02", app, "4")), "b.csv"); err != nil {
		t.Fatal(err)
	}
	if n := r.RowsRead(); n != 4 {
		t.Fatalf("rows read: %d, want 4", n)
	}
	res := r.Result()
	got := res.Credits()
	if len(got) != 1 {
		t.Fatalf("credits %+v", got)
	}
	c := got[0]
	if c.AttributedCost.String() != "8" || c.IncentiveEligibleCost.String() != "8" || c.UsageRows != 4 ||
		c.AttributedCostInUSD.String() != "4" || c.UsageRowsInUSD != 2 || c.ResourceID != app {
		t.Errorf("credit %+v: want 8 over 4 rows, 4 USD over 2 rows, first spelling %s", c, app)
	}
	if s := res.Summary; s.Credited.Rows != 4 || s.Credited.Amounts["EUR"].String() != "8" {
		t.Errorf("credited tally %d rows, %v", s.Credited.Rows, s.Credited.Amounts["EUR"])
	}
}

// docs/rules.md#azure-attribution, docs/rules.md#views-and-credits: the cost column is a setting; with Azure's
// x_EffectiveCostInUsd the credit is in USD, and a file without that column
// is refused with its name.
func TestCostColumnUSD(t *testing.T) {
	ix := newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Owner", app, "", "").index(t)
	usage := "ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost,x_EffectiveCostInUsd\n" +
		"2026-03-02T00:00:00Z,2026-03-03T00:00:00Z,Usage," + app + ",/SUBSCRIPTIONS/" + strings.ToUpper(S1) + ",svc,EUR,4.20,4.20,4.5612\n"
	r, err := NewRun(ix, Options{From: *at("2026-03-01"), To: *at("2026-04-01"), CostColumn: "x_EffectiveCostInUsd"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Scan(strings.NewReader(usage), "usd.csv"); err != nil {
		t.Fatal(err)
	}
	got := r.Result().Credits()
	if len(got) != 1 || got[0].BillingCurrency != "USD" || got[0].AttributedCost.String() != "4.5612" || got[0].SubAccountID != strings.ToLower(S1) {
		t.Fatalf("credits %+v", got)
	}
	// docs/rules.md#views-and-credits: reports also get the USD amount and the service.
	if got[0].AttributedCostInUSD.String() != "4.5612" || got[0].UsageRowsInUSD != 1 || got[0].ServiceName != "svc" {
		t.Fatalf("report fields %+v", got[0])
	}
	r2, _ := NewRun(ix, Options{From: *at("2026-03-01"), To: *at("2026-04-01"), CostColumn: "x_EffectiveCostInUsd"})
	err = r2.Scan(strings.NewReader(usageHeader+day("2026-03-02", app, "1")), "eur-only.csv")
	if err == nil || !strings.Contains(err.Error(), "eur-only.csv line 2") || !strings.Contains(err.Error(), "x_EffectiveCostInUsd") {
		t.Fatalf("want an error naming the file, line and column, got %v", err)
	}
	if _, err := NewRun(ix, Options{From: *at("2026-03-01"), To: *at("2026-04-01"), CostColumn: "ListCost"}); err == nil {
		t.Error("accepted an unsupported cost column")
	}
	if _, err := NewRun(ix, Options{From: *at("2026-04-01"), To: *at("2026-03-01")}); err == nil {
		t.Error("accepted a period that ends before it starts")
	}
}
