package attribution

import (
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink"
)

// docs/rules.md#views-and-credits Explain: the chain that credited a partner, or the nearest
// reason why not.
func TestExplain(t *testing.T) {
	cases := []struct {
		name     string
		world    func() *builder
		partner  string
		resource string
		day      string
		credited bool
		eligible bool
		want     []string // substrings of the reason, or of the first chain
	}{
		{
			name: "credited through a group",
			world: func() *builder {
				return newWorld().link(tC, spC, pA, "", "").member(tC, g1, spC, "", "").assign(tC, g1, "Contributor", "/subscriptions/"+S1, "", "")
			},
			partner: pA, resource: app, day: "2026-03-02", credited: true, eligible: true,
			want: []string{"link of principal " + spC, "member of group " + g1, "Contributor at /subscriptions/" + S1, "can write"},
		},
		{
			name: "credited through Lighthouse",
			world: func() *builder {
				return newWorld().link(tM, mU, pA, "", "").delegate(tC, tM, rgWeb, mU, "Reader", "", "")
			},
			partner: pA, resource: app, day: "2026-03-02", credited: true,
			want: []string{"Lighthouse delegation", "Reader at " + rgWeb, "read only"},
		},
		{
			name:    "unknown partner ID",
			world:   func() *builder { return newWorld() },
			partner: "999", resource: app, day: "2026-03-02",
			want: []string{"partner ID 999 is not registered"},
		},
		{
			name:    "unknown subscription",
			world:   func() *builder { return newWorld() },
			partner: pA, resource: "/subscriptions/eeeeeeee-0000-4000-8000-000000000000/resourceGroups/x", day: "2026-03-02",
			want: []string{"subscription eeeeeeee-0000-4000-8000-000000000000 is unknown"},
		},
		{
			name:    "no link in the tenant",
			world:   func() *builder { return newWorld().link(tC2, mU, pA, "", "") },
			partner: pA, resource: app, day: "2026-03-02",
			want: []string{"no credential is linked to partner ID " + pA + " in tenant " + tC},
		},
		{
			name: "link not held that day",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "2026-03-05", "").assign(tC, uA, "Owner", app, "", "")
			},
			partner: pA, resource: app, day: "2026-03-02",
			want: []string{"link of principal " + uA, "was not held on 2026-03-02", "since 2026-03-05"},
		},
		{
			name:    "link held but no role anywhere",
			world:   func() *builder { return newWorld().link(tC, uA, pA, "", "") },
			partner: pA, resource: app, day: "2026-03-02",
			want: []string{"holds no role assignment or delegation"},
		},
		{
			name: "role not held that day",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Owner", app, "", "2026-03-02")
			},
			partner: pA, resource: app, day: "2026-03-02",
			want: []string{"role assignment", "Owner at " + app, "was not held on 2026-03-02", "until 2026-03-02"},
		},
		{
			name:    "scope does not contain the resource",
			world:   func() *builder { return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Owner", db, "", "") },
			partner: pA, resource: app, day: "2026-03-02",
			want: []string{"no scope of the linked credentials contains the resource", "Owner at " + db},
		},
		{
			name: "only via a CSP principal",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").member(tC, gCSP, uA, "", "").assign(tC, gCSP, "Owner", "/", "", "")
			},
			partner: pA, resource: app, day: "2026-03-02",
			want: []string{"only through CSP delegated principal " + gCSP},
		},
		{
			name: "link and role held the same day, never at the same time",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "2026-03-02T12:00").assign(tC, uA, "Owner", app, "2026-03-02T12:00", "")
			},
			partner: pA, resource: app, day: "2026-03-02",
			want: []string{"the link of principal " + uA + " in tenant " + tC + " (linked until 2026-03-02T12:00:00Z) ends at 2026-03-02T12:00:00Z, before role assignment",
				"begins at 2026-03-02T12:00:00Z: they never held at the same time on 2026-03-02"},
		},
		{
			// The partner ID's own period is part of the chain: its end,
			// not the link's, keeps it apart from the role (docs/rules.md#grants).
			name: "partner ID ends the day before the role begins",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Owner", app, "2026-03-02T12:00", "").partnerPeriod(pA, "", "2026-03-02T12:00")
			},
			partner: pA, resource: app, day: "2026-03-02",
			want: []string{"partner ID " + pA + " (registered, with its global ID for a location ID, until 2026-03-02T12:00:00Z) ends at 2026-03-02T12:00:00Z, before role assignment"},
		},
		{
			name: "principal disabled the day the role begins",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Owner", app, "2026-03-02T12:00", "").principalPeriod(tC, uA, "", "2026-03-02T12:00")
			},
			partner: pA, resource: app, day: "2026-03-02",
			want: []string{"principal " + uA + " (enabled until 2026-03-02T12:00:00Z) ends at 2026-03-02T12:00:00Z, before role assignment"},
		},
		{
			name: "a location ID whose global ID ended",
			world: func() *builder {
				return newWorld().link(tC, uA, pL, "", "").assign(tC, uA, "Owner", app, "", "").partnerPeriod(pG, "", "2026-03-01")
			},
			partner: pL, resource: app, day: "2026-03-02",
			want: []string{"partner ID " + pL + " is not active on 2026-03-02 (registered since always; its global ID " + pG + " registered until 2026-03-01T00:00:00Z)"},
		},
		{
			name: "identity deleted",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Owner", app, "", "").principalPeriod(tC, uA, "", "2026-03-01")
			},
			partner: pA, resource: app, day: "2026-03-02",
			want: []string{"principal " + uA + " was deleted or disabled on 2026-03-02"},
		},
		{
			name: "partner ID deleted",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Owner", app, "", "").partnerPeriod(pA, "", "2026-03-01")
			},
			partner: pA, resource: app, day: "2026-03-02",
			want: []string{"partner ID " + pA + " is not active on 2026-03-02"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := c.world().index(t).Explain(c.partner, c.resource, *at(c.day))
			if err != nil {
				t.Fatal(err)
			}
			if e.Credited != c.credited || e.IncentiveEligible != c.eligible {
				t.Fatalf("credited %v eligible %v, want %v %v (reason %q)", e.Credited, e.IncentiveEligible, c.credited, c.eligible, e.Reason)
			}
			text := e.Reason
			if e.Credited {
				if len(e.Chains) == 0 {
					t.Fatal("credited without a chain")
				}
				text = e.Chains[0].String()
			}
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("lacks %q:\n%s", w, text)
				}
			}
		})
	}
}

// Explain refuses malformed input before any lookup (docs/rules.md#identifiers-and-time).
func TestExplainInvalid(t *testing.T) {
	ix := newWorld().index(t)
	if _, err := ix.Explain("12ab", app, *at("2026-03-02")); err == nil {
		t.Error("accepted a malformed partner ID")
	}
	if _, err := ix.Explain(pA, "/providers/Microsoft.Management/managementGroups/x", *at("2026-03-02")); err == nil {
		t.Error("accepted a management group as a resource")
	}
}

// docs/rules.md#scopes: a resource id outside its subscription's path (a
// reservation) is explained with its subscription given, as attribution
// credits it: the subscription's scopes and those above contain it, a
// resource group of it does not.
func TestExplainOutsideTheSubscriptionPath(t *testing.T) {
	const ro = "/providers/Microsoft.Capacity/reservationOrders/ro1"
	ix := newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Owner", "/subscriptions/"+S1, "", "").
		link(tC, spC, pB, "", "").assign(tC, spC, "Owner", rgWeb, "", "").index(t)
	day := *at("2026-03-02")
	if _, err := ix.Explain(pA, ro, day); err == nil || !strings.Contains(err.Error(), "give its subscription") {
		t.Fatalf("without its subscription: %v", err)
	}
	period := partnerlink.Period{From: day, To: day.AddDate(0, 0, 1)}
	e, err := ix.ExplainIn(pA, S1, ro, period)
	if err != nil || !e.Credited || !e.IncentiveEligible || e.SubscriptionID != S1 {
		t.Fatalf("through the subscription's Owner: %+v %v", e, err)
	}
	if e, err := ix.ExplainIn(pB, S1, ro, period); err != nil || e.Credited {
		t.Errorf("a resource group's role reached a reservation: %+v %v", e, err)
	}
	if _, err := ix.ExplainIn(pA, S2, app, period); err == nil || !strings.Contains(err.Error(), "is in subscription") {
		t.Errorf("a resource named with another subscription: %v", err)
	}
}

// docs/rules.md#views-and-credits: Explain also answers for a whole period, such as a report's month.
func TestExplainPeriod(t *testing.T) {
	ix := newWorld().link(tC, uA, pA, "2026-03-10", "").assign(tC, uA, "Owner", app, "", "").index(t)
	month := partnerlink.Period{From: *at("2026-03-01"), To: *at("2026-04-01")}
	e, err := ix.ExplainPeriod(pA, app, month)
	if err != nil {
		t.Fatal(err)
	}
	if !e.Credited || e.IncentiveEligible {
		t.Errorf("March: credited %v eligible %v, want credited, not eligible for the whole month", e.Credited, e.IncentiveEligible)
	}
	feb := partnerlink.Period{From: *at("2026-02-01"), To: *at("2026-03-01")}
	e, err = ix.ExplainPeriod(pA, app, feb)
	if err != nil {
		t.Fatal(err)
	}
	if e.Credited || !strings.Contains(e.Reason, "between 2026-02-01T00:00:00Z and 2026-03-01T00:00:00Z") {
		t.Errorf("February: credited %v, reason %q", e.Credited, e.Reason)
	}
}
