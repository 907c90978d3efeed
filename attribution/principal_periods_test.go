package attribution

import (
	"strings"
	"testing"
)

// enabledAgain lists principal object of tenant once more, enabled again
// over [from, to): the world document lists a principal once per enabled
// period (docs/rules.md, "Principals: enabled periods").
func (b *builder) enabledAgain(tenant, object, from, to string) *builder {
	for _, p := range b.doc.Principals {
		if p.TenantID == tenant && p.ObjectID == object {
			p.From, p.To = at(from), at(to)
			b.doc.Principals = append(b.doc.Principals, p)
			return b
		}
	}
	panic("enabledAgain: no principal " + object)
}

// october attributes over October 2026.
func october(o *Options) { o.From, o.To = *at("2026-10-01"), *at("2026-11-01") }

// docs/rules.md "Principals: enabled periods": a principal
// disabled and enabled again credits in each of its enabled periods —
// credit before the disable stays, and credit resumes when it is enabled
// again — and never in between.
func TestPrincipalEnabledAgain(t *testing.T) {
	const mg = "/providers/Microsoft.Management/managementGroups/root-mg"
	cases := []struct {
		name  string
		world func() *builder
		usage string
		want  string
	}{
		{
			// Disabled Oct 10, enabled again Oct 20: Oct 5 and Oct 25
			// credited, Oct 15 not.
			name: "user disabled Oct 10, enabled Oct 20",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Contributor", rgWeb, "", "").
					principalPeriod(tC, uA, "", "2026-10-10").enabledAgain(tC, uA, "2026-10-20", "")
			},
			usage: day("2026-10-05", app, "1") + day("2026-10-15", app, "2") + day("2026-10-25", app, "4"),
			want:  line(pA, app, "EUR", "5", "5", 2),
		},
		{
			// Rows whose charge period spans the disable or the enable
			// instant are credited (access at some moment), but not
			// incentive-eligible (not for the whole day).
			name: "rows spanning the disable and the enable instants",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Owner", app, "", "").
					principalPeriod(tC, uA, "", "2026-10-10T12:00").enabledAgain(tC, uA, "2026-10-20T12:00", "")
			},
			usage: day("2026-10-05", app, "1") + day("2026-10-10", app, "2") + day("2026-10-15", app, "4") +
				day("2026-10-20", app, "8") + day("2026-10-25", app, "16"),
			want: line(pA, app, "EUR", "27", "17", 4),
		},
		{
			// Three periods; the link itself starts inside the second.
			name: "three periods, link from inside the second",
			world: func() *builder {
				return newWorld().link(tC, uB, pB, "2026-10-12", "").assign(tC, uB, "Reader", "/", "", "").
					principalPeriod(tC, uB, "2026-10-01", "2026-10-05").enabledAgain(tC, uB, "2026-10-10", "2026-10-15").
					enabledAgain(tC, uB, "2026-10-20", "")
			},
			usage: day("2026-10-02", vm2, "1") + day("2026-10-11", vm2, "2") + day("2026-10-13", vm2, "4") +
				day("2026-10-17", vm2, "8") + day("2026-10-21", vm2, "16"),
			want: line(pB, vm2, "EUR", "20", "0", 2),
		},
		{
			// Enabled again at the very instant it was disabled: enabled
			// all along, so the day across that instant is covered.
			name: "enabled again at the instant it was disabled",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Contributor", app, "", "").
					principalPeriod(tC, uA, "", "2026-10-10T12:00").enabledAgain(tC, uA, "2026-10-10T12:00", "")
			},
			usage: day("2026-10-09", app, "1") + day("2026-10-10", app, "2") + day("2026-10-11", app, "4"),
			want:  line(pA, app, "EUR", "7", "7", 3),
		},
		{
			// A service principal, with the entries listed newest first.
			name: "service principal",
			world: func() *builder {
				b := newWorld().link(tC, spC, pL, "", "").assign(tC, spC, "Contributor", "/subscriptions/"+S1, "", "").
					principalPeriod(tC, spC, "2026-10-20", "")
				return b.enabledAgain(tC, spC, "2026-10-01", "2026-10-10")
			},
			usage: day("2026-10-05", db, "1") + day("2026-10-15", db, "2") + day("2026-10-25", dbX, "4"),
			want:  line(pL, db, "EUR", "1", "1", 1) + line(pL, dbX, "EUR", "4", "4", 1),
		},
		{
			// The linked member of a group that holds the role is enabled
			// again.
			name: "group member enabled again",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").member(tC, g1, uA, "", "").assign(tC, g1, "Owner", mg, "", "").
					principalPeriod(tC, uA, "", "2026-10-10").enabledAgain(tC, uA, "2026-10-20", "")
			},
			usage: day("2026-10-05", app, "1") + day("2026-10-15", app, "2") + day("2026-10-25", app, "4"),
			want:  line(pA, app, "EUR", "5", "5", 2),
		},
		{
			// The group itself is deleted and restored: its members reach
			// its role in each of its periods, through nested groups too.
			name: "nested group enabled again",
			world: func() *builder {
				return newWorld().link(tC, uA, pA, "", "").member(tC, g1, uA, "", "").member(tC, g2, g1, "", "").
					assign(tC, g2, "Reader", rgWeb, "", "").
					principalPeriod(tC, g1, "", "2026-10-10").enabledAgain(tC, g1, "2026-10-20", "")
			},
			usage: day("2026-10-05", app, "1") + day("2026-10-15", app, "2") + day("2026-10-25", app, "4"),
			want:  line(pA, app, "EUR", "5", "0", 2),
		},
		{
			// Lighthouse: the managing tenant's user is enabled again.
			name: "delegated access of a user enabled again",
			world: func() *builder {
				return newWorld().link(tM, mU, pB, "", "").delegate(tC, tM, "/subscriptions/"+S2, mU, "Contributor", "", "").
					principalPeriod(tM, mU, "", "2026-10-10").enabledAgain(tM, mU, "2026-10-20", "")
			},
			usage: day("2026-10-05", vm2, "1") + day("2026-10-15", vm2, "2") + day("2026-10-25", vm2, "4"),
			want:  line(pB, vm2, "EUR", "5", "5", 2),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := run(t, tc.world().index(t), tc.usage, october)
			if got != tc.want {
				t.Errorf("got:\n%swant:\n%s", got, tc.want)
			}
		})
	}
}

// Explain names every enabled period when the day falls between two, and
// shows the chain of the period that credits otherwise.
func TestExplainPrincipalEnabledAgain(t *testing.T) {
	ix := newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Owner", app, "", "").
		principalPeriod(tC, uA, "", "2026-10-10").enabledAgain(tC, uA, "2026-10-20", "").index(t)
	e, err := ix.Explain(pA, app, *at("2026-10-15"))
	if err != nil {
		t.Fatal(err)
	}
	want := "principal " + uA + " was deleted or disabled on 2026-10-15 (it exists and is enabled until 2026-10-10T00:00:00Z and since 2026-10-20T00:00:00Z)"
	if e.Credited || e.Reason != want {
		t.Errorf("Oct 15: credited %v, reason %q; want %q", e.Credited, e.Reason, want)
	}
	for _, d := range []string{"2026-10-05", "2026-10-25"} {
		e, err := ix.Explain(pA, app, *at(d))
		if err != nil {
			t.Fatal(err)
		}
		if !e.Credited || !e.IncentiveEligible || len(e.Chains) != 1 {
			t.Fatalf("%s: credited %v, eligible %v, %d chains", d, e.Credited, e.IncentiveEligible, len(e.Chains))
		}
		if c := e.Chains[0]; !c.PrincipalPeriod.Contains(*at(d)) || len(c.PrincipalPeriods) != 2 {
			t.Errorf("%s: chain through principal period %v of %v", d, c.PrincipalPeriod, c.PrincipalPeriods)
		}
	}
	// A group that was deleted on the day says when it existed.
	ix = newWorld().link(tC, uA, pA, "", "").member(tC, g1, uA, "", "").assign(tC, g1, "Reader", app, "", "").
		principalPeriod(tC, g1, "", "2026-10-10").enabledAgain(tC, g1, "2026-10-20", "").index(t)
	e, err = ix.Explain(pA, app, *at("2026-10-15"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "group " + g1 + " was deleted on 2026-10-15 (it exists until 2026-10-10T00:00:00Z and since 2026-10-20T00:00:00Z)"; e.Credited || !strings.Contains(e.Reason, want) {
		t.Errorf("group deleted on Oct 15: credited %v, reason %q; want %q", e.Credited, e.Reason, want)
	}
}
