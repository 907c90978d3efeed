package credits

import (
	"testing"

	"github.com/partnerlink/partnerlink"
)

// docs/rules.md#views-and-credits: where the partner's credentials cannot read a customer's usage,
// it sees one anonymized line per customer (here per day and currency),
// with exact sums.
func TestPartnerCreditPrivacy(t *testing.T) {
	rows := []partnerlink.CreditRow{
		{Day: "2026-03-02", PartnerID: "1", TenantID: "t-open", SubscriptionID: "s1", ResourceID: "/subscriptions/s1/r", Currency: "EUR", Attributed: "1.5", Eligible: "1.5", UsageRows: 1},
		{Day: "2026-03-02", PartnerID: "1", TenantID: "t-closed", SubscriptionID: "s2", ResourceID: "/subscriptions/s2/a", Currency: "EUR", Attributed: "0.1", Eligible: "0", UsageRows: 1},
		{Day: "2026-03-02", PartnerID: "1", TenantID: "t-closed", SubscriptionID: "s2", ResourceID: "/subscriptions/s2/b", Currency: "EUR", Attributed: "0.2", Eligible: "0.2", UsageRows: 2},
	}
	got := Fold(rows, map[string]bool{"t-open": true})
	if len(got) != 2 {
		t.Fatalf("views = %+v", got)
	}
	if got[0].ResourceID != "/subscriptions/s1/r" || got[0].Anonymized {
		t.Errorf("readable line = %+v", got[0])
	}
	a := got[1]
	if !a.Anonymized || a.TenantID != "" || a.ResourceID != "" || a.Customer != "customer 1" ||
		a.AttributedCost != "0.3" || a.IncentiveEligibleCost != "0.2" || a.UsageRows != 3 {
		t.Errorf("anonymized line = %+v", a)
	}
}
