package attribution

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"testing"

	"github.com/partnerlink/partnerlink/focus"
)

// SPEC §8.4: WriteCSV writes one line per credit in the order given, quotes
// fields as RFC 4180 says, and keeps that order across the blocks it
// formats in parallel.
func TestWriteCSVQuotesAndKeepsOrder(t *testing.T) {
	const n = 20000 // more than two blocks
	credits := make([]Credit, n)
	for i := range credits {
		credits[i] = Credit{PartnerID: "1234567", TenantID: "t", SubAccountID: "s",
			ResourceID: fmt.Sprintf("/r/%d", i), BillingCurrency: "EUR",
			AttributedCost: sumOf(t, "1.50"), UsageRows: int64(i)}
	}
	credits[3].ResourceID = `/r/with,comma and "quote"`
	credits[4].ResourceID = "/r/with\nnewline"
	var b bytes.Buffer
	if err := WriteCSV(&b, credits); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatalf("the output is not CSV: %v", err)
	}
	if len(recs) != n+1 || fmt.Sprint(recs[0]) != fmt.Sprint([]string{"PartnerId", "TenantId", "SubAccountId",
		"ResourceId", "BillingCurrency", "AttributedCost", "IncentiveEligibleCost", "UsageRows"}) {
		t.Fatalf("got %d records, header %q", len(recs), recs[0])
	}
	for i, rec := range recs[1:] {
		if rec[3] != credits[i].ResourceID || rec[7] != fmt.Sprint(i) || rec[5] != "1.5" || rec[6] != "0" {
			t.Fatalf("line %d = %q, want resource %q, rows %d", i+2, rec, credits[i].ResourceID, i)
		}
	}
}

func sumOf(t *testing.T, s string) focus.Sum {
	t.Helper()
	a, err := focus.ParseAmount([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	var sum focus.Sum
	sum.Add(a)
	return sum
}
