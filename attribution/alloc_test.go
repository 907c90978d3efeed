package attribution

import (
	"testing"

	"github.com/partnerlink/partnerlink/focus"
)

// The hot path — crediting a row of a resource already seen — does not
// allocate, so memory does not grow with the number of rows.
func TestAddDoesNotAllocate(t *testing.T) {
	ix := newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Contributor", rgWeb, "", "").index(t)
	r, err := NewRun(ix, Options{From: *at("2026-03-01"), To: *at("2026-04-01")})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := focus.ParseGUID(S1)
	rows := []focus.Row{
		{ChargePeriodStart: *at("2026-03-02"), ChargePeriodEnd: *at("2026-03-03"), ChargeCategory: []byte("Usage"),
			ResourceID: []byte(app), Subscription: g, BillingCurrency: []byte("EUR"), EffectiveCost: focus.MustAmount("1.25")},
		{ChargePeriodStart: *at("2026-03-02"), ChargePeriodEnd: *at("2026-03-03"), ChargeCategory: []byte("Usage"),
			ResourceID: []byte(db), Subscription: g, BillingCurrency: []byte("USD"), EffectiveCost: focus.MustAmount("2")},
	}
	for i := range rows {
		if err := r.Add(0, &rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		i++
		_ = r.Add(0, &rows[i%2])
	})
	if allocs != 0 {
		t.Errorf("crediting a known resource allocates %v times per row", allocs)
	}
	res := r.Result()
	if res.Len() != 1 || res.Summary.NoPartner.Rows == 0 {
		t.Fatalf("unexpected result %+v", res.Credits())
	}
}
