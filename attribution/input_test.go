package attribution

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
)

// docs/rules.md "Usage input": the charge category that counts (Usage by
// default, or the one chosen) is compared case-insensitively.
func TestChargeCategoryCaseInsensitive(t *testing.T) {
	ix := newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Reader", app, "", "").index(t)
	usage := dayIn("2026-03-02", app, "1", "EUR", "Usage") + dayIn("2026-03-03", app, "2", "EUR", "usage") +
		dayIn("2026-03-04", app, "4", "EUR", "USAGE") + dayIn("2026-03-05", app, "8", "EUR", "Purchase")
	got, s := run(t, ix, usage)
	if want := line(pA, app, "EUR", "7", "0", 3); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if s.OtherCategory.Rows != 1 || s.OtherCategory.text() != "1 row, 8 EUR" {
		t.Errorf("other category: %q", s.OtherCategory.text())
	}
	got, _ = run(t, ix, usage, func(o *Options) { o.ChargeCategory = "PURCHASE" })
	if want := line(pA, app, "EUR", "8", "0", 1); got != want {
		t.Errorf("category PURCHASE: got %q\nwant %q", got, want)
	}
}

// docs/rules.md "Usage input": a row whose ResourceId names another
// subscription than its SubAccountId is an input error with its line
// (before, its credit depended on which of the two was read).
func TestRowInAnotherSubscriptionIsAnError(t *testing.T) {
	ix := newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Owner", "/subscriptions/"+S1, "", "").
		link(tC2, mU, pB, "", "").assign(tC2, mU, "Owner", "/subscriptions/"+S3, "", "").index(t)
	bad := strings.Replace(day("2026-03-02", app, "1"), ",/subscriptions/"+S1+",", ",/subscriptions/"+S3+",", 1)
	usage := usageHeader + day("2026-03-02", app, "1") + bad
	for _, workers := range []int{1, 2} {
		r, err := NewRun(ix, Options{From: *at("2026-03-01"), To: *at("2026-04-01"), Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		err = r.Scan(strings.NewReader(usage), "usage.csv")
		want := `usage.csv line 3: ResourceId "` + app + `" names subscription ` + S1 + ` but SubAccountId is /subscriptions/` + S3 + `; a row's resource must be in its own subscription`
		if err == nil || err.Error() != want {
			t.Errorf("workers %d:\ngot  %v\nwant %s", workers, err, want)
		}
	}
}

// docs/rules.md "Usage input": a gzip file cut short is an error naming
// the file, not a shorter file.
func TestTruncatedGzipUsageIsAnError(t *testing.T) {
	ix := newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Reader", app, "", "").index(t)
	var first, rest strings.Builder
	first.WriteString(usageHeader)
	for i := 0; i < 20; i++ {
		first.WriteString(day("2026-03-02", app, "1"))
	}
	for i := 0; i < 30; i++ {
		rest.WriteString(day("2026-03-03", app, "1"))
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(first.String()))
	w.Flush()
	cut := gz.Len()
	w.Write([]byte(rest.String()))
	w.Close()

	r, err := NewRun(ix, Options{From: *at("2026-03-01"), To: *at("2026-04-01")})
	if err != nil {
		t.Fatal(err)
	}
	err = r.Scan(bytes.NewReader(gz.Bytes()[:cut]), "usage.csv.gz")
	want := "usage.csv.gz: the file ends early: its gzip stream is cut short (the file is truncated or was not completely written); a truncated file is refused whole, never read as a shorter one"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

// docs/rules.md "Usage input": a run over files an import accepted
// (Options.StoredUsage: the server's runs and closes) reads one imported
// before BillingCurrency's form was checked; a run over a file given to
// it (attribute) refuses it.
func TestStoredUsageReadsFilesImportedBefore(t *testing.T) {
	ix := newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Reader", app, "", "").index(t)
	usage := usageHeader + dayIn("2026-03-02", app, "1", "eur", "Usage")
	for _, stored := range []bool{false, true} {
		r, err := NewRun(ix, Options{From: *at("2026-03-01"), To: *at("2026-04-01"), StoredUsage: stored})
		if err != nil {
			t.Fatal(err)
		}
		err = r.Scan(strings.NewReader(usage), "u.csv")
		if (err == nil) != stored {
			t.Errorf("StoredUsage %v: %v", stored, err)
		}
	}
}
