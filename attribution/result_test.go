package attribution

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink/focus"
)

// docs/api.md#attribution-csv: WriteCSV writes one line per credit in the order given, quotes
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

// A Result's credits come out the same through Credits and WriteCSV, in
// output order (docs/api.md#attribution-csv), across more blocks than WriteCSV formats at
// once (its buffers go round); and the run takes no rows after its result.
func TestResultCreditsAndCSVAgree(t *testing.T) {
	ix := newWorld().link(tC, uA, pA, "", "").link(tC, uB, pB, "", "").
		assign(tC, uA, "Contributor", "/subscriptions/"+S1, "", "").
		assign(tC, uB, "Reader", "/subscriptions/"+S1+"/resourceGroups/rg1", "", "").index(t)
	var usage strings.Builder
	usage.WriteString(usageHeader)
	const n = 40000 // resources: 40k credits of A, 4k of B, in 6 blocks of 8192
	for d := 2; d <= 3; d++ {
		for i := range n {
			rg := "rg" + strconv.Itoa(i%10)
			usage.WriteString(dayIn(fmt.Sprintf("2026-03-%02d", d), fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/P/x/r%d", S1, rg, i), "1.25", "EUR", "Usage"))
		}
	}
	r, err := NewRun(ix, Options{From: *at("2026-03-01"), To: *at("2026-04-01"), Workers: 2, chunkSize: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Scan(strings.NewReader(usage.String()), "usage.csv"); err != nil {
		t.Fatal(err)
	}
	res := r.Result()
	credits := res.Credits()
	if res.Len() != n+n/10 || len(credits) != res.Len() {
		t.Fatalf("%d credits (Len %d), want %d", len(credits), res.Len(), n+n/10)
	}
	if !slices.IsSortedFunc(credits, compareCredits) {
		t.Error("Credits are not in output order")
	}
	for _, c := range credits {
		if c.UsageRows != 2 || c.AttributedCost.String() != "2.5" {
			t.Fatalf("credit %+v: want 2 rows, 2.5", c)
		}
	}
	var fromResult, fromCredits bytes.Buffer
	if err := res.WriteCSV(&fromResult); err != nil {
		t.Fatal(err)
	}
	if err := WriteCSV(&fromCredits, credits); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fromResult.Bytes(), fromCredits.Bytes()) {
		t.Error("Result.WriteCSV and WriteCSV(Result.Credits()) differ")
	}
	if again := r.Result(); again != res {
		t.Error("a second Result differs from the first")
	}
	if err := r.Scan(strings.NewReader(usageHeader), "more.csv"); err == nil {
		t.Error("Scan after Result: no error")
	}
	if err := r.Add(1, &focus.Row{}); err == nil {
		t.Error("Add after Result: no error")
	}
}

// failAfter accepts n bytes, then fails every write.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n < len(p) {
		return 0, fmt.Errorf("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

// When the writer fails, WriteCSV reports it and has stopped formatting
// when it returns: the caller may reuse the credits at once (go test -race
// catches a formatter still reading them).
func TestWriteCSVStopsOnWriteError(t *testing.T) {
	credits := make([]Credit, 40000)
	for i := range credits {
		credits[i] = Credit{PartnerID: "1234567", ResourceID: fmt.Sprintf("/r/%d", i), BillingCurrency: "EUR"}
	}
	err := WriteCSV(&failAfter{n: 100_000}, credits)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("WriteCSV = %v, want the writer's error", err)
	}
	for i := range credits {
		credits[i].ResourceID = ""
	}
}

// A result numbers its credits' resources (Result.ResourceNumbers): the
// same number for the credits of one resource, whatever its spelling, and
// different numbers for different resources; a merged result does not know
// them.
func TestResourceNumbers(t *testing.T) {
	ix := newWorld().link(tC, uA, pA, "2026-01-01", "").link(tC, uB, pB, "2026-01-01", "").
		assign(tC, uA, "Reader", "/subscriptions/"+S1, "2026-01-01", "").
		assign(tC, uB, "Contributor", rgWeb, "2026-01-01", "").index(t)
	r, err := NewRun(ix, Options{From: *at("2026-03-01"), To: *at("2026-04-01")})
	if err != nil {
		t.Fatal(err)
	}
	usage := day("2026-03-02", app, "1") + day("2026-03-02", strings.ToUpper(app), "2") + day("2026-03-03", db, "3") + day("2026-03-04", app, "4")
	if err := r.Scan(strings.NewReader(usageHeader+usage), "usage.csv"); err != nil {
		t.Fatal(err)
	}
	res := r.Result()
	cs := res.Credits()
	numbers := make([]int32, len(cs))
	if !res.ResourceNumbers(numbers, 0) {
		t.Fatal("a run's result does not know its resources")
	}
	if len(cs) != 3 { // A on web and db, B on web
		t.Fatalf("%d credits, want 3", len(cs))
	}
	for i := range cs {
		for j := range cs {
			if same := cs[i].ResourceID == cs[j].ResourceID; same != (numbers[i] == numbers[j]) {
				t.Errorf("credits %d (%s) and %d (%s) have resource numbers %d and %d", i, cs[i].ResourceID, j, cs[j].ResourceID, numbers[i], numbers[j])
			}
		}
	}
	tail := make([]int32, 1)
	if !res.ResourceNumbers(tail, 2) || tail[0] != numbers[2] {
		t.Errorf("numbers from credit 2: %v, want %d", tail, numbers[2])
	}
	if Merge([]*Result{res}).ResourceNumbers(tail, 0) {
		t.Error("a merged result claims to know its credits' resources")
	}
}

// An index whose grants were let go (Index.DropGrants) still names its
// partners, but no run can be made with it, nor a snapshot of it.
func TestDropGrants(t *testing.T) {
	ix := newWorld().link(tC, uA, pA, "2026-01-01", "").assign(tC, uA, "Reader", rgWeb, "2026-01-01", "").index(t)
	other := newWorld().index(t)
	ix.DropGrants()
	opt := Options{From: *at("2026-03-01"), To: *at("2026-04-01")}
	if _, err := NewRun(ix, opt); err == nil || !strings.Contains(err.Error(), "DropGrants") {
		t.Errorf("a run over an index without grants: %v", err)
	}
	opt.Beside = ix
	if _, err := NewRun(other, opt); err == nil {
		t.Error("a run beside an index without grants was made")
	}
	if ix.CreditsOrganization(pA) {
		t.Error("the index credits an organization it never had")
	}
	if _, err := ix.Explain(pA, app, *at("2026-03-02")); err == nil {
		t.Error("an index without grants explained a credit")
	}
	defer func() {
		if recover() == nil {
			t.Error("a snapshot of an index without grants was written")
		}
	}()
	ix.WriteSnapshot()
}

// A panic of the function NewIndexUnchecked hands the chains to is the
// caller's: it goes on, rather than being taken for an invalid world.
func TestEachPanicGoesOn(t *testing.T) {
	doc := newWorld().link(tC, uA, pA, "2026-01-01", "").assign(tC, uA, "Reader", rgWeb, "2026-01-01", "").doc
	defer func() {
		if p := recover(); p != "the caller's bug" {
			t.Errorf("recovered %v", p)
		}
	}()
	_, err := NewIndexUnchecked(doc, nil, func(*Chain) { panic("the caller's bug") })
	t.Errorf("no panic; error %v", err)
}
