package attribution

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/focus"
	"github.com/partnerlink/partnerlink/world"
)

// TestAgainstOracle compares the engine with a literal reading of docs/rules.md#azure-attribution
// on random worlds: every link, every simple membership path (so cycles
// end), every role assignment and delegation, checked row by row with no
// index, no pruning and no caching.
func TestAgainstOracle(t *testing.T) {
	lines, eligibleLines, explained := 0, 0, 0
	for seed := uint64(1); seed <= 100; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		doc := randomWorld(rng)
		if err := world.Validate(doc); err != nil {
			t.Fatalf("seed %d: the generator made an invalid world: %v", seed, err)
		}
		usage := randomUsage(rng, doc)
		ix, err := NewIndex(doc)
		if err != nil {
			t.Fatal(err)
		}
		workers := 1 + int(seed%3)
		got, _ := run(t, ix, usage, func(o *Options) { o.Workers, o.chunkSize = workers, 300 })
		want := oracle(t, doc, usageHeader+usage)
		if seed%4 == 0 {
			// Explain is checked on a quarter of the worlds, to keep the
			// test short.
			explained += explainAgrees(t, seed, ix, doc)
		}
		lines += strings.Count(got, "\n")
		eligibleLines += strings.Count(got, "\n") - strings.Count(got, ",0,")
		if got != want {
			t.Fatalf("seed %d: engine and oracle differ.\nengine:\n%s\noracle:\n%s", seed, got, want)
		}
	}
	// The comparison means something only if the worlds credit often.
	if explained < 30 {
		t.Errorf("Explain agreed on only %d credited cases", explained)
	}
	if lines < 200 || eligibleLines < 50 {
		t.Errorf("random worlds credit too little: %d credit lines, %d with eligible cost", lines, eligibleLines)
	}
	t.Logf("%d credit lines compared, %d with eligible cost", lines, eligibleLines)
}

var instants = []string{"", "2026-03-01", "2026-03-02", "2026-03-02T12:00", "2026-03-03", "2026-03-04", ""}

func randomPeriod(rng *rand.Rand) (*time.Time, *time.Time) {
	for {
		a, b := instants[rng.IntN(len(instants))], instants[rng.IntN(len(instants))]
		from, to := at(a), at(b)
		if rng.IntN(3) == 0 {
			from = nil
		}
		if rng.IntN(3) == 0 {
			to = nil
		}
		if from == nil || to == nil || from.Before(*to) {
			return from, to
		}
	}
}

// randomPeriods returns n periods in order that do not overlap; they may
// touch (one ends where the next starts), the first may start "since
// always" and the last may be still in force.
func randomPeriods(rng *rand.Rand, n int) [][2]*time.Time {
	bounded := instants[1 : len(instants)-1]
	for {
		pts := make([]string, 2*n)
		for i := range pts {
			pts[i] = bounded[rng.IntN(len(bounded))]
		}
		slices.SortFunc(pts, func(a, b string) int { return at(a).Compare(*at(b)) })
		out := make([][2]*time.Time, n)
		ok := true
		for i := range out {
			out[i] = [2]*time.Time{at(pts[2*i]), at(pts[2*i+1])}
			ok = ok && out[i][0].Before(*out[i][1])
		}
		if rng.IntN(2) == 0 {
			out[0][0] = nil
		}
		if rng.IntN(2) == 0 {
			out[n-1][1] = nil
		}
		if ok {
			return out
		}
	}
}

func randomCase(rng *rand.Rand, s string) string {
	switch rng.IntN(3) {
	case 0:
		return strings.ToUpper(s)
	case 1:
		return strings.ToLower(s)
	}
	return s
}

func randomWorld(rng *rand.Rand) *world.Document {
	b := newWorld()
	d := b.doc
	// Random periods on partners and principals.
	for i := range d.Partners {
		if rng.IntN(4) == 0 {
			d.Partners[i].From, d.Partners[i].To = randomPeriod(rng)
		}
	}
	for i := range d.Principals {
		switch rng.IntN(6) {
		case 0, 1:
			d.Principals[i].From, d.Principals[i].To = randomPeriod(rng)
		case 2, 3:
			// Disabled and enabled again (docs/rules.md, "Principals:
			// enabled periods"): listed once per period, the later
			// entries after every other principal.
			pers := randomPeriods(rng, 2+rng.IntN(2))
			d.Principals[i].From, d.Principals[i].To = pers[0][0], pers[0][1]
			for _, per := range pers[1:] {
				again := d.Principals[i]
				again.From, again.To = per[0], per[1]
				d.Principals = append(d.Principals, again)
			}
		}
	}
	rng.Shuffle(len(d.Principals), func(i, j int) { d.Principals[i], d.Principals[j] = d.Principals[j], d.Principals[i] })
	inC := []string{uA, uB, spC, g1, g2, gCSP}
	groupsC := []string{g1, g2, gCSP}
	for range rng.IntN(7) {
		g := groupsC[rng.IntN(len(groupsC))]
		m := inC[rng.IntN(len(inC))]
		if g == m {
			continue
		}
		from, to := randomPeriod(rng)
		dup := false
		for _, x := range d.GroupMemberships {
			dup = dup || (x.GroupID == g && x.MemberID == m)
		}
		if !dup {
			d.GroupMemberships = append(d.GroupMemberships, world.GroupMembership{TenantID: tC, GroupID: g, MemberID: m, From: from, To: to})
		}
	}
	if rng.IntN(2) == 0 {
		b.member(tM, mG, mU, "", "")
	}
	scopes := []string{"/", "/providers/Microsoft.Management/managementGroups/root-mg", "/providers/Microsoft.Management/managementGroups/CHILD-mg",
		"/subscriptions/" + S1, "/subscriptions/" + S2, rgWeb, app, db, dbX, vm2}
	// "Ops" is C's custom reading role and M's custom writing one.
	b.role(tM, "Ops", "0e500000-0000-4000-8000-000000000001", "*")
	b.role(tC, "Ops", "0e500000-0000-4000-8000-000000000001", "*/read")
	roles := []string{"Reader", "Contributor", "Owner", "Billing Reader", "Ops", "0E500000-0000-4000-8000-000000000001"}
	for range rng.IntN(8) {
		from, to := randomPeriod(rng)
		id := fmt.Sprintf("f0000000-0000-4000-8000-%012d", len(d.RoleAssignments)+1)
		d.RoleAssignments = append(d.RoleAssignments, world.RoleAssignment{TenantID: tC, ID: id, PrincipalID: inC[rng.IntN(len(inC))],
			RoleDefinition: roles[rng.IntN(len(roles))], Scope: randomCase(rng, scopes[rng.IntN(len(scopes))]), From: from, To: to})
	}
	for range rng.IntN(3) {
		from, to := randomPeriod(rng)
		id := fmt.Sprintf("de000000-0000-4000-8000-%012d", len(d.Delegations)+1)
		d.Delegations = append(d.Delegations, world.Delegation{ID: id, CustomerTenantID: tC, ManagingTenantID: tM,
			Scope: scopes[3+rng.IntN(len(scopes)-3)], PrincipalID: []string{mU, mG}[rng.IntN(2)], RoleDefinition: roles[rng.IntN(len(roles))], From: from, To: to})
	}
	// Links: per linkable principal, a sequence of non-overlapping periods.
	partners := []string{pA, pB, pL}
	for _, p := range []struct{ tenant, obj string }{{tC, uA}, {tC, uB}, {tC, spC}, {tM, mU}} {
		cut := []string{"", "2026-03-02", "2026-03-02T12:00", "2026-03-03", ""}
		for i := 0; i+1 < len(cut); i++ {
			if rng.IntN(2) == 0 {
				b.link(p.tenant, p.obj, partners[rng.IntN(len(partners))], cut[i], cut[i+1])
			}
		}
	}
	return d
}

func randomUsage(rng *rand.Rand, doc *world.Document) string {
	resources := []string{app, strings.ToUpper(app), app + "/", db, dbX, db10, vm2, vm3, "/subscriptions/" + S1}
	var b strings.Builder
	for range 40 + rng.IntN(40) {
		d := []string{"2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"}[rng.IntN(4)]
		res := resources[rng.IntN(len(resources))]
		currency := []string{"EUR", "USD"}[rng.IntN(2)]
		hour := -1
		if rng.IntN(8) == 0 {
			hour = rng.IntN(24)
		}
		// A resource's meters come one after another (the engine credits
		// such a stretch at once): up to three more rows like this one,
		// some in another spelling, currency or hour.
		for range 1 + max(0, rng.IntN(6)-2) {
			cost := fmt.Sprintf("%d.%03d", rng.IntN(20), rng.IntN(1000))
			switch rng.IntN(10) {
			case 0:
				currency = "NOK"
			case 1:
				if hour >= 0 {
					hour = (hour + 1) % 24
				}
			case 2:
				if hour < 0 { // the same start, another end
					hour = 0
				}
			case 3:
				if res == app {
					res = strings.ToUpper(app)
				}
			}
			switch {
			case hour >= 0:
				// An hourly row.
				start := at(d).Add(time.Duration(hour) * time.Hour)
				sub := strings.Split(res, "/")[2]
				fmt.Fprintf(&b, "%s,%s,Usage,%s,%s,svc,%s,%s,%s\n", start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339), res, sub, currency, cost, cost)
			case res == "/subscriptions/"+S1:
				fmt.Fprintf(&b, "%sT00:00:00Z,%s,Usage,,%s,svc,%s,%s,%s\n", d, at(d).AddDate(0, 0, 1).Format(time.RFC3339), S1, currency, cost, cost)
			default:
				b.WriteString(dayIn(d, res, cost, currency, "Usage"))
			}
		}
	}
	return b.String()
}

// oracle computes the expected CSV body straight from the rule.
// canWrite looks the role up as the rule says, without the index: a custom
// role of the tenant (by name or GUID, case-insensitively), else a built-in.
func canWrite(doc *world.Document, tenant, ref string) bool {
	for _, d := range doc.RoleDefinitions {
		if d.TenantID == tenant && (strings.EqualFold(d.Name, ref) || strings.EqualFold(d.ID, ref)) {
			return partnerlink.CanWrite(d.Actions, d.NotActions)
		}
	}
	b, _ := partnerlink.LookupBuiltinRole(ref)
	return partnerlink.CanWrite(b.Actions, b.NotActions)
}

func oracle(t *testing.T, doc *world.Document, usage string) string {
	t.Helper()
	period := func(from, to *time.Time) partnerlink.Period { return partnerlink.PeriodOf(from, to) }
	principal := map[string]world.Principal{}
	// A principal is enabled over the union of its entries' periods:
	// enabledPeriods are its maximal intervals, in order.
	entries := map[string][]partnerlink.Period{}
	for _, p := range doc.Principals {
		principal[p.TenantID+"/"+p.ObjectID] = p
		entries[p.TenantID+"/"+p.ObjectID] = append(entries[p.TenantID+"/"+p.ObjectID], period(p.From, p.To))
	}
	enabledPeriods := func(key string) []partnerlink.Period {
		ps := slices.Clone(entries[key])
		start := func(p partnerlink.Period) int64 {
			if p.From.IsZero() {
				return math.MinInt64
			}
			return p.From.UnixNano()
		}
		slices.SortFunc(ps, func(a, b partnerlink.Period) int { return cmp.Compare(start(a), start(b)) })
		var out []partnerlink.Period
		for _, p := range ps {
			if n := len(out); n > 0 && !out[n-1].To.IsZero() && out[n-1].To.Equal(p.From) {
				out[n-1].To = p.To
				continue
			}
			out = append(out, p)
		}
		return out
	}
	partner := map[string]world.Partner{}
	for _, p := range doc.Partners {
		partner[p.PartnerID] = p
	}
	subTenant := map[string]string{}
	subMG := map[string]string{}
	for _, s := range doc.Subscriptions {
		subTenant[s.SubscriptionID] = s.TenantID
		if s.ManagementGroup != nil {
			subMG[s.SubscriptionID] = strings.ToLower(*s.ManagementGroup)
		}
	}
	mgParent := map[string]string{}
	for _, m := range doc.ManagementGroups {
		if m.Parent != nil {
			mgParent[strings.ToLower(m.Name)] = strings.ToLower(*m.Parent)
		}
	}
	contains := func(scope, scopeTenant, sub, res string) bool {
		if subTenant[sub] != scopeTenant {
			return false
		}
		s := strings.ToLower(strings.TrimSuffix(scope, "/"))
		if scope == "/" {
			return true
		}
		if name, ok := strings.CutPrefix(s, "/providers/microsoft.management/managementgroups/"); ok {
			for mg := subMG[sub]; mg != ""; mg = mgParent[mg] {
				if mg == name {
					return true
				}
			}
			return false
		}
		return res == s || strings.HasPrefix(res, s+"/")
	}
	type key struct{ partner, sub, res, cur string }
	type agg struct {
		attributed, eligible focus.Sum
		rows                 int
	}
	out := map[key]*agg{}
	casing := map[string]string{}
	from, to := *at("2026-03-01"), *at("2026-04-01")
	err := focus.Scan(strings.NewReader(usage), "u.csv", focus.Options{}, func(_ int, row *focus.Row) error {
		if row.ChargePeriodStart.Before(from) || !row.ChargePeriodStart.Before(to) {
			return nil
		}
		sub := row.Subscription.String()
		tenant, ok := subTenant[sub]
		if !ok {
			return nil
		}
		raw := strings.TrimSuffix(string(row.ResourceID), "/")
		if raw == "" {
			raw = "/subscriptions/" + sub
		}
		res := strings.ToLower(raw)
		if _, ok := casing[sub+res]; !ok {
			casing[sub+res] = raw
		}
		rowPer := partnerlink.Period{From: row.ChargePeriodStart, To: row.ChargePeriodEnd}
		credited := map[string]bool{}
		eligible := map[string]bool{}
		for _, l := range doc.Links {
			p := partner[l.PartnerID]
			base := []partnerlink.Period{period(l.From, l.To), period(p.From, p.To)}
			if p.GlobalPartnerID != nil {
				g := partner[*p.GlobalPartnerID]
				base = append(base, period(g.From, g.To))
			}
			// Every simple path c → … → x through memberships of l's tenant.
			var walk func(x string, pers []partnerlink.Period, seen map[string]bool, csp bool)
			walk = func(x string, pers []partnerlink.Period, seen map[string]bool, csp bool) {
				csp = csp || principal[l.TenantID+"/"+x].CSPDelegated
				grant := func(scope, scopeTenant, role string, ap partnerlink.Period) {
					if csp || !contains(scope, scopeTenant, sub, res) {
						return
					}
					all := append(slices.Clone(pers), ap)
					var I partnerlink.Period
					for _, q := range all {
						var ok bool
						if I, ok = I.Intersect(q); !ok {
							return
						}
					}
					if !I.Overlaps(rowPer) {
						return
					}
					credited[l.PartnerID] = true
					if canWrite(doc, scopeTenant, role) && I.Covers(rowPer) {
						eligible[l.PartnerID] = true
					}
				}
				for _, a := range doc.RoleAssignments {
					if a.TenantID == l.TenantID && a.PrincipalID == x {
						grant(a.Scope, a.TenantID, a.RoleDefinition, period(a.From, a.To))
					}
				}
				for _, d := range doc.Delegations {
					if d.ManagingTenantID == l.TenantID && d.PrincipalID == x {
						grant(d.Scope, d.CustomerTenantID, d.RoleDefinition, period(d.From, d.To))
					}
				}
				for _, m := range doc.GroupMemberships {
					if m.TenantID != l.TenantID || m.MemberID != x || seen[m.GroupID] {
						continue
					}
					seen[m.GroupID] = true
					// Through each enabled period of the group.
					for _, gp := range enabledPeriods(m.TenantID + "/" + m.GroupID) {
						walk(m.GroupID, append(slices.Clone(pers), period(m.From, m.To), gp), seen, csp)
					}
					delete(seen, m.GroupID)
				}
			}
			// I = … ∩ (period of c): one grant per enabled period of c.
			for _, cp := range enabledPeriods(l.TenantID + "/" + l.ObjectID) {
				walk(l.ObjectID, append(slices.Clone(base), cp), map[string]bool{l.ObjectID: true}, false)
			}
		}
		_ = tenant
		for p := range credited {
			k := key{p, sub, res, string(row.BillingCurrency)}
			if out[k] == nil {
				out[k] = &agg{}
			}
			out[k].attributed.Add(row.EffectiveCost)
			if eligible[p] {
				out[k].eligible.Add(row.EffectiveCost)
			}
			out[k].rows++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var credits []Credit
	for k, a := range out {
		credits = append(credits, Credit{PartnerID: k.partner, TenantID: subTenant[k.sub], SubAccountID: k.sub, ResourceID: casing[k.sub+k.res],
			BillingCurrency: k.cur, AttributedCost: a.attributed, IncentiveEligibleCost: a.eligible, UsageRows: int64(a.rows)})
	}
	SortCredits(credits)
	var b strings.Builder
	if err := WriteCSV(&b, credits); err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(b.String(), CSVHeader+"\n")
}

// explainAgrees checks docs/rules.md#views-and-credits Explain against the oracle for one-day rows
// and returns how many cases were credited.
func explainAgrees(t *testing.T, seed uint64, ix *Index, doc *world.Document) int {
	t.Helper()
	n := 0
	for _, p := range []string{pA, pB, pL} {
		for _, res := range []string{app, dbX, vm2, "/subscriptions/" + S1} {
			for _, d := range []string{"2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"} {
				e, err := ix.Explain(p, res, *at(d))
				if err != nil {
					t.Fatal(err)
				}
				want := oracle(t, doc, usageHeader+dayIn(d, res, "1", "EUR", "Usage"))
				credited := strings.HasPrefix(want, p+",") || strings.Contains(want, "\n"+p+",")
				eligible := strings.Contains(want, p+","+tC+","+S1) && strings.Contains(want, ",EUR,1,1,1") ||
					strings.Contains(want, p+","+tC+","+S2) && strings.Contains(want, ",EUR,1,1,1")
				if credited {
					n++
					// The oracle's line for p says whether it is eligible.
					for _, l := range strings.Split(want, "\n") {
						if strings.HasPrefix(l, p+",") {
							eligible = strings.HasSuffix(l, ",1,1,1")
						}
					}
				}
				if e.Credited != credited || (credited && e.IncentiveEligible != eligible) {
					t.Fatalf("seed %d: Explain(%s, %s, %s) credited %v eligible %v (%s); oracle:\n%s", seed, p, res, d, e.Credited, e.IncentiveEligible, e.Reason, want)
				}
				if !e.Credited && e.Reason == "" {
					t.Fatalf("seed %d: Explain(%s, %s, %s) gives no reason", seed, p, res, d)
				}
			}
		}
	}
	return n
}
