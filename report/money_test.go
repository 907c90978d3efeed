package report

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/attribution"
	"github.com/partnerlink/partnerlink/world"
)

// randomMonth generates a world of organizations with a global ID and
// location IDs whose guests and service principals hold roles at
// subscriptions and resource groups of customer tenants, linked to one of
// their organization's IDs (or not at all), and a month of usage in
// several currencies.
func randomMonth(seed uint64) (*world.Document, string) {
	r := rand.New(rand.NewPCG(seed, 7))
	guid := func(kind, i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", kind, i) }
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	doc := &world.Document{Version: 1}
	var partnerIDs [][]string // per organization: global ID, then location IDs
	for o := 0; o < 3; o++ {
		home := guid(0xa0, o)
		doc.Tenants = append(doc.Tenants, world.Tenant{TenantID: home, Name: fmt.Sprint("org ", o)})
		g := fmt.Sprint(5000000 + o*100)
		doc.Partners = append(doc.Partners, world.Partner{PartnerID: g, Name: "org " + g, HomeTenantIDs: []string{home}})
		ids := []string{g}
		for l := 1; l <= 2; l++ {
			id := fmt.Sprint(5000000 + o*100 + l)
			doc.Partners = append(doc.Partners, world.Partner{PartnerID: id, Name: "loc " + id, GlobalPartnerID: ptr(g)})
			ids = append(ids, id)
		}
		partnerIDs = append(partnerIDs, ids)
	}
	var resources []string
	roles := []string{"Owner", "Contributor", "Reader", "Billing Reader"}
	n := 0
	for c := 0; c < 6; c++ {
		tenant := guid(0xc0, c)
		doc.Tenants = append(doc.Tenants, world.Tenant{TenantID: tenant, Name: fmt.Sprint("customer ", c)})
		for s := 0; s < 2; s++ {
			sub := guid(0x5a, c*10+s)
			doc.Subscriptions = append(doc.Subscriptions, world.Subscription{SubscriptionID: sub, TenantID: tenant, Name: "s"})
			for g := 0; g < 2; g++ {
				for x := 0; x < 3; x++ {
					resources = append(resources, fmt.Sprintf("/subscriptions/%s/resourceGroups/rg%d/providers/Microsoft.Web/sites/app%d", sub, g, x))
				}
			}
			for k := 0; k < 4; k++ {
				n++
				o := r.IntN(3)
				obj := guid(0xb0, n)
				typ, home := "Guest", guid(0xa0, o)
				if r.IntN(2) == 0 {
					typ = "ServicePrincipal"
				}
				doc.Principals = append(doc.Principals, world.Principal{TenantID: tenant, ObjectID: obj, Type: typ, DisplayName: obj[:8], HomeTenantID: ptr(home)})
				scope := "/subscriptions/" + sub
				if r.IntN(2) == 0 {
					scope += fmt.Sprintf("/resourceGroups/rg%d", r.IntN(2))
				}
				doc.RoleAssignments = append(doc.RoleAssignments, world.RoleAssignment{TenantID: tenant, ID: guid(0xe0, n), PrincipalID: obj,
					RoleDefinition: roles[r.IntN(len(roles))], Scope: scope, From: &since})
				if r.IntN(4) > 0 {
					from := time.Date(2026, 3, 1+r.IntN(20), r.IntN(24), 0, 0, 0, time.UTC)
					doc.Links = append(doc.Links, world.Link{TenantID: tenant, ObjectID: obj, PartnerID: partnerIDs[o][r.IntN(3)], From: &from})
				}
			}
		}
	}
	var b strings.Builder
	b.WriteString("ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost\n")
	currencies := []string{"EUR", "USD", "NOK"}
	for i := 0; i < 3000; i++ {
		res := resources[r.IntN(len(resources))]
		day := time.Date(2026, 3, 1+r.IntN(31), 0, 0, 0, 0, time.UTC)
		cost := fmt.Sprintf("%d.%06d", r.IntN(50), r.IntN(1000000))
		fmt.Fprintf(&b, "%s,%s,Usage,%s,/subscriptions/%s,Web,%s,%s,%s\n", day.Format(time.RFC3339), day.AddDate(0, 0, 1).Format(time.RFC3339),
			res, strings.Split(res, "/")[2], currencies[r.IntN(3)], cost, cost)
	}
	return doc, b.String()
}

// sums adds up the attribution of doc over usage per key(credit).
func sums(t *testing.T, doc *world.Document, usage string, key func(attribution.Credit) string) map[string][2]string {
	t.Helper()
	ix, err := attribution.NewIndex(doc)
	if err != nil {
		t.Fatal(err)
	}
	month, _ := partnerlink.ParseMonth("2026-03")
	run, _ := attribution.NewRun(ix, attribution.Options{From: month.Start(), To: month.End()})
	if err := run.Scan(strings.NewReader(usage), "usage.csv"); err != nil {
		t.Fatal(err)
	}
	out := map[string][2]string{}
	for _, c := range run.Result().Credits() {
		k := key(c)
		s := out[k]
		s[0], _ = partnerlink.AddDecimal(zero(s[0]), c.AttributedCost.String())
		s[1], _ = partnerlink.AddDecimal(zero(s[1]), c.IncentiveEligibleCost.String())
		out[k] = s
	}
	return out
}

func zero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// docs/rules.md#monthly-close: on generated months, the partner reports
// add up exactly to the attribution per partner ID and currency, the
// customer reports to it per partner ID, customer and currency, and the
// program report to a separate attribution with every link made to its
// organization's global ID.
func TestReportTotalsAreExact(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		doc, usage := randomMonth(seed)
		c := build(t, doc, usage)
		want := sums(t, doc, usage, func(cr attribution.Credit) string { return cr.PartnerID + " " + cr.BillingCurrency })
		got := map[string][2]string{}
		for _, p := range c.Partners {
			r, err := ForPartner(c, 1, []string{p.ID})
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range r.Lines {
				k := l.PartnerID + " " + l.Currency
				s := got[k]
				s[0], _ = partnerlink.AddDecimal(zero(s[0]), l.Attributed)
				s[1], _ = partnerlink.AddDecimal(zero(s[1]), l.Eligible)
				got[k] = s
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("seed %d: partner report totals\n%v\nattribution\n%v", seed, got, want)
		}

		want = sums(t, doc, usage, func(cr attribution.Credit) string { return cr.PartnerID + " " + cr.TenantID + " " + cr.BillingCurrency })
		got = map[string][2]string{}
		for _, tn := range c.Tenants {
			r, err := ForCustomer(c, 1, tn.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range r.Credits {
				got[l.PartnerID+" "+tn.ID+" "+l.Currency] = [2]string{l.Attributed, l.Eligible}
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("seed %d: customer report totals\n%v\nattribution\n%v", seed, got, want)
		}

		orgDoc := *doc
		orgDoc.Links = nil
		for _, l := range doc.Links {
			l.PartnerID = l.PartnerID[:5] + "00"
			orgDoc.Links = append(orgDoc.Links, l)
		}
		want = sums(t, &orgDoc, usage, func(cr attribution.Credit) string { return cr.PartnerID + " " + cr.BillingCurrency })
		p, err := ForProgram(c, 1)
		if err != nil {
			t.Fatal(err)
		}
		got = map[string][2]string{}
		for _, l := range p.Lines {
			got[l.GlobalPartnerID+" "+l.Currency] = [2]string{l.Attributed, l.Eligible}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("seed %d: program totals\n%v\nattribution keyed by organization\n%v", seed, got, want)
		}
	}
}
