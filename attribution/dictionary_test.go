package attribution

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

// dictRow is a usage row as the usage store writes it: ResourceId
// dictionary-encoded (docs/scale.md).
type dictRow struct {
	ChargePeriodStart time.Time `parquet:"ChargePeriodStart,timestamp(nanosecond)"`
	ChargePeriodEnd   time.Time `parquet:"ChargePeriodEnd,timestamp(nanosecond)"`
	ChargeCategory    string    `parquet:"ChargeCategory,dict"`
	ResourceID        string    `parquet:"ResourceId,dict"`
	SubAccountID      string    `parquet:"SubAccountId,dict"`
	ServiceName       string    `parquet:"ServiceName,dict"`
	BillingCurrency   string    `parquet:"BillingCurrency,dict"`
	EffectiveCost     string    `parquet:"EffectiveCost"`
	BilledCost        string    `parquet:"BilledCost"`
}

// docs/rules.md#credit: rows whose resource ids come from a Parquet
// dictionary (each entry resolved once per row group) are credited as the
// same rows in CSV: casings, subscription rows and row groups mixed.
func TestDictionaryEncodedResourcesCreditAsCSV(t *testing.T) {
	b := newWorld().
		link(tC, uA, pL, "2026-01-01", "").assign(tC, uA, "Contributor", "/subscriptions/"+S1, "2026-01-01", "").
		link(tC, uB, pG, "2026-01-01", "").assign(tC, uB, "Reader", app, "2026-03-06", "").
		link(tC, spC, pA, "2026-01-01", "").assign(tC, spC, "Owner", "/subscriptions/"+S2, "2026-01-01", "")
	ids := []string{app, strings.ToUpper(app), db, dbX, strings.Replace(db10, "data", "DATA", 1), vm2, vm2 + "/", vm3, ""}
	subs := []string{S1, S1, S1, S1, S1, S2, S2, S3, S2}
	var csv strings.Builder
	csv.WriteString(usageHeader)
	var rows []dictRow
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3000 {
		k := (i + 3*(i/250)) % len(ids) // each row group lists the ids from another one on
		ps := start.AddDate(0, 0, i%31)
		cost := fmt.Sprintf("%d.%02d", i%13, i%100)
		rows = append(rows, dictRow{ps, ps.AddDate(0, 0, 1), "Usage", ids[k], "/subscriptions/" + subs[k], fmt.Sprintf("svc%d", i%3), "EUR", cost, cost})
		fmt.Fprintf(&csv, "%s,%s,Usage,%s,/subscriptions/%s,svc%d,EUR,%s,%s\n", ps.Format(time.RFC3339), ps.AddDate(0, 0, 1).Format(time.RFC3339), ids[k], subs[k], i%3, cost, cost)
	}
	write := func(opts ...parquet.WriterOption) []byte {
		var pq bytes.Buffer
		w := parquet.NewGenericWriter[dictRow](&pq, opts...)
		if _, err := w.Write(rows); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return pq.Bytes()
	}
	pq := bytes.NewBuffer(write(parquet.MaxRowsPerRowGroup(250), parquet.PageBufferSize(1024)))
	// Dictionaries that fill up and go on in plain pages, as parquet-mr
	// and Arrow write them.
	filled := write(parquet.MaxRowsPerRowGroup(1500), parquet.PageBufferSize(256), parquet.DictionaryMaxBytes(200))
	attribute := func(data []byte, workers int) string {
		r, err := NewRun(b.index(t), Options{From: start, To: start.AddDate(0, 1, 0), Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Scan(bytes.NewReader(data), "usage"); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := r.Result().WriteCSV(&out); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	want := attribute([]byte(csv.String()), 1)
	if strings.Count(want, "\n") < 6 {
		t.Fatalf("the test data credits too little:\n%s", want)
	}
	for _, workers := range []int{1, 2} {
		if got := attribute(pq.Bytes(), workers); got != want {
			t.Errorf("%d workers: Parquet with a dictionary credits\n%s\nCSV credits\n%s", workers, got, want)
		}
		if got := attribute(filled, workers); got != want {
			t.Errorf("%d workers: Parquet whose dictionaries fill up credits\n%s\nCSV credits\n%s", workers, got, want)
		}
	}
	// Read in parts (Options.Part), each skipping the rows of the others'
	// subscriptions unread, the Parquet file credits what the CSV does
	// (docs/performance.md, "Memory as rows grow").
	split := false
	for _, of := range []int{2, 3} {
		var parts []*Result
		nonEmpty := 0
		for i := range of {
			r, err := NewRun(b.index(t), Options{From: start, To: start.AddDate(0, 1, 0), Workers: 2, Part: Part{Index: i, Of: of}})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Scan(bytes.NewReader(pq.Bytes()), "usage"); err != nil {
				t.Fatal(err)
			}
			res := r.Result()
			if res.Len() > 0 {
				nonEmpty++
			}
			parts = append(parts, res)
		}
		split = split || nonEmpty > 1
		if got := csvOf(t, Merge(parts)); got != want {
			t.Errorf("%d parts of the Parquet file credit\n%s\nCSV credits\n%s", of, got, want)
		}
	}
	if !split {
		t.Error("no cut put the subscriptions' credits in more than one part")
	}
}

// flbaRow has SubAccountId as a bare GUID in a fixed-length column
// (FIXED_LEN_BYTE_ARRAY(36)).
type flbaRow struct {
	ChargePeriodStart time.Time `parquet:"ChargePeriodStart,timestamp(nanosecond)"`
	ChargePeriodEnd   time.Time `parquet:"ChargePeriodEnd,timestamp(nanosecond)"`
	ChargeCategory    string    `parquet:"ChargeCategory"`
	ResourceID        string    `parquet:"ResourceId"`
	SubAccountID      [36]byte  `parquet:"SubAccountId"`
	ServiceName       string    `parquet:"ServiceName"`
	BillingCurrency   string    `parquet:"BillingCurrency"`
	EffectiveCost     string    `parquet:"EffectiveCost"`
	BilledCost        string    `parquet:"BilledCost"`
}

// A Parquet file whose SubAccountId is a fixed-length column, read in
// parts, credits what it credits in one pass (the parts' skip reads only
// text columns; the run skips the others' rows).
func TestFixedLengthSubscriptionsInParts(t *testing.T) {
	b := newWorld().
		link(tC, uA, pL, "2026-01-01", "").assign(tC, uA, "Contributor", "/subscriptions/"+S1, "2026-01-01", "").
		link(tC, spC, pA, "2026-01-01", "").assign(tC, spC, "Owner", "/subscriptions/"+S2, "2026-01-01", "")
	ids := []string{app, db, vm2, vm3}
	subs := []string{S1, S1, S2, S3}
	var rows []flbaRow
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 400 {
		k := i % len(ids)
		ps := start.AddDate(0, 0, i%31)
		var sub [36]byte
		copy(sub[:], subs[k])
		rows = append(rows, flbaRow{ps, ps.AddDate(0, 0, 1), "Usage", ids[k], sub, "svc", "EUR", "1.5", "1.5"})
	}
	var pq bytes.Buffer
	w := parquet.NewGenericWriter[flbaRow](&pq, parquet.MaxRowsPerRowGroup(100))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	run := func(part Part) *Result {
		r, err := NewRun(b.index(t), Options{From: start, To: start.AddDate(0, 1, 0), Workers: 2, Part: part})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Scan(bytes.NewReader(pq.Bytes()), "usage.parquet"); err != nil {
			t.Fatal(err)
		}
		return r.Result()
	}
	want := csvOf(t, run(Part{}))
	if strings.Count(want, "\n") < 3 {
		t.Fatalf("the test data credits too little:\n%s", want)
	}
	for _, of := range []int{2, 3} {
		var parts []*Result
		for i := range of {
			parts = append(parts, run(Part{Index: i, Of: of}))
		}
		if got := csvOf(t, Merge(parts)); got != want {
			t.Errorf("%d parts credit\n%s\none pass credits\n%s", of, got, want)
		}
	}
}
