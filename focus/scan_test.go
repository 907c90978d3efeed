package focus

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

const header = "ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost"

const sub = "9d8c7b6a-5f4e-4d3c-8b2a-190807060504"

// got is a row copied out of the callback.
type got struct {
	line     int64
	start    time.Time
	end      time.Time
	category string
	resource string
	sub      string
	currency string
	cost     string
	billed   string
	usd      string
}

func collect(t *testing.T, data []byte, opt Options) ([]got, error) {
	t.Helper()
	var mu sync.Mutex
	var rows []got
	err := Scan(bytes.NewReader(data), "usage.csv", opt, func(w int, r *Row) error {
		g := got{r.Line, r.ChargePeriodStart, r.ChargePeriodEnd, string(r.ChargeCategory), string(r.ResourceID),
			r.Subscription.String(), string(r.BillingCurrency), r.EffectiveCost.String(), r.BilledCost.String(), ""}
		if r.HasEffectiveCostInUSD {
			g.usd = r.EffectiveCostInUSD.String()
		}
		mu.Lock()
		rows = append(rows, g)
		mu.Unlock()
		return nil
	})
	// Workers deliver in parallel; order by line for comparison.
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && rows[j].line < rows[j-1].line; j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
	return rows, err
}

// docs/api.md#focus-usage: columns by header name in any order, other columns ignored,
// SubAccountId as /subscriptions/{guid} or bare GUID, x_EffectiveCostInUsd
// kept when present, UTF-8 BOM and CRLF accepted.
func TestScanCSV(t *testing.T) {
	in := "\xef\xbb\xbfTags,BilledCost,x_EffectiveCostInUsd,EffectiveCost,BillingCurrency,ServiceName,SubAccountId,ResourceId,ChargeCategory,ChargePeriodEnd,ChargePeriodStart\r\n" +
		`"{""env"":""prod"",""a"":1}",4.20,4.6,4.20,EUR,App Service,/subscriptions/` + strings.ToUpper(sub) + `,/subscriptions/` + sub + `/resourceGroups/web/providers/Microsoft.Web/sites/shop,Usage,2026-03-02T00:00:00Z,2026-03-01T00:00:00Z` + "\r\n" +
		"\r\n" +
		`,1.005,1.1,1.005,EUR,SQL,` + sub + `,,Purchase,2026-03-02,2026-03-01T00:00:00.000+00:00` + "\r\n"
	rows, err := collect(t, []byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	want := []got{
		{2, day, day.AddDate(0, 0, 1), "Usage", "/subscriptions/" + sub + "/resourceGroups/web/providers/Microsoft.Web/sites/shop", sub, "EUR", "4.2", "4.2", "4.6"},
		{4, day, day.AddDate(0, 0, 1), "Purchase", "", sub, "EUR", "1.005", "1.005", "1.1"},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Fatalf("rows:\n%v\nwant:\n%v", rows, want)
	}
}

// docs/api.md#focus-usage: gzip is detected by its magic bytes, not by the file name.
func TestScanGzip(t *testing.T) {
	plain := header + "\n2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,Usage,/x,/subscriptions/" + sub + ",S,USD,1,1\n"
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(plain))
	w.Close()
	rows, err := collect(t, gz.Bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].cost != "1" || rows[0].line != 2 {
		t.Fatalf("rows = %v", rows)
	}
}

// docs/api.md#focus-usage: a missing column names the file and the column; a bad row
// names the file, its line, the field and what is accepted.
func TestScanErrors(t *testing.T) {
	good := "2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,Usage,/x,/subscriptions/" + sub + ",S,USD,1,1\n"
	cases := []struct {
		name string
		in   string
		want []string
	}{
		{"missing column", strings.Replace(header, ",BilledCost", "", 1) + "\n", []string{"usage.csv", "missing column BilledCost"}},
		{"empty", "", []string{"usage.csv", "empty"}},
		{"bad amount", header + "\n" + good + good + strings.Replace(good, ",1,1", ",1.2.3,1", 1), []string{"usage.csv line 4", "EffectiveCost", `"1.2.3"`, "decimal number"}},
		{"bad subscription", header + "\n" + strings.Replace(good, "/subscriptions/"+sub, "1234567890", 1), []string{"usage.csv line 2", "SubAccountId", "/subscriptions/{guid} or a bare GUID"}},
		{"bad time", header + "\n" + strings.Replace(good, "2026-03-01T00:00:00Z", "yesterday", 1), []string{"line 2", "ChargePeriodStart", "RFC 3339"}},
		{"end before start", header + "\n" + strings.Replace(good, "2026-03-02T00:00:00Z", "2026-03-01T00:00:00Z", 1), []string{"line 2", "ChargePeriodEnd", "after ChargePeriodStart"}},
		{"field count", header + "\n" + good + "a,b\n", []string{"line 3", "2 fields", "header has 9"}},
		{"bare quote", header + "\n" + good + strings.Replace(good, "/x", `/x"y`, 1), []string{"line 3", "quote"}},
		{"line after quoted newline", header + "\n" + strings.Replace(good, "S,", "\"two\nlines\",", 1) + strings.Replace(good, ",1,1", ",x,1", 1), []string{"line 4", "EffectiveCost"}},
	}
	for _, c := range cases {
		for _, workers := range []int{1, 3} {
			_, err := collect(t, []byte(c.in), Options{Workers: workers, ChunkSize: 64})
			if err == nil {
				t.Errorf("%s: accepted", c.name)
				continue
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s (workers %d): error lacks %q: %v", c.name, workers, w, err)
				}
			}
		}
	}
}

// Chunking and workers do not change what is read: the same rows with the
// same line numbers, whatever the chunk size, and the first bad row is
// reported however many workers there are.
func TestScanChunksAndWorkers(t *testing.T) {
	var b strings.Builder
	b.WriteString(header + "\n")
	for i := 0; i < 500; i++ {
		svc := "S"
		if i%7 == 0 {
			svc = "\"multi\nline, quoted \"\"service\"\"\""
		}
		fmt.Fprintf(&b, "2026-03-%02dT00:00:00Z,2026-03-%02dT00:00:00Z,Usage,/subscriptions/%s/resourceGroups/rg/providers/A.B/c/r%d,%s,%s,USD,%d.%02d,1\n", i%28+1, i%28+2, sub, i, sub, svc, i, i%100)
	}
	data := []byte(b.String())
	base, err := collect(t, data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(base) != 500 {
		t.Fatalf("%d rows", len(base))
	}
	for _, opt := range []Options{{Workers: 2, ChunkSize: 1}, {Workers: 3, ChunkSize: 100}, {Workers: 4, ChunkSize: 1000}} {
		rows, err := collect(t, data, opt)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(rows) != fmt.Sprint(base) {
			t.Fatalf("options %+v read different rows", opt)
		}
	}
	bad := strings.Replace(b.String(), ",USD,300.00,", ",USD,x,", 1)
	bad = strings.Replace(bad, ",USD,400.00,", ",USD,y,", 1)
	for _, opt := range []Options{{Workers: 1}, {Workers: 4, ChunkSize: 50}} {
		_, err := collect(t, []byte(bad), opt)
		if err == nil || !strings.Contains(err.Error(), `"x"`) {
			t.Errorf("options %+v: want the first bad row (x), got %v", opt, err)
		}
	}
}

// docs/api.md#focus-usage: Parquet files are read by column name, with timestamps and
// decimals in their Parquet types.
func TestScanParquet(t *testing.T) {
	type rec struct {
		ChargePeriodStart time.Time `parquet:"ChargePeriodStart,timestamp(microsecond)"`
		ChargePeriodEnd   time.Time `parquet:"ChargePeriodEnd,timestamp(millisecond)"`
		ChargeCategory    string    `parquet:"ChargeCategory"`
		ResourceId        string    `parquet:"ResourceId,optional"`
		SubAccountId      string    `parquet:"SubAccountId"`
		ServiceName       string    `parquet:"ServiceName"`
		BillingCurrency   string    `parquet:"BillingCurrency"`
		EffectiveCost     int64     `parquet:"EffectiveCost,decimal(3:18)"`
		BilledCost        float64   `parquet:"BilledCost"`
		Extra             string    `parquet:"Extra"`
	}
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var rows []rec
	for i := 0; i < 10; i++ {
		rows = append(rows, rec{day, day.AddDate(0, 0, 1), "Usage", fmt.Sprintf("/r%d", i), "/subscriptions/" + sub, "S", "EUR", 1005, 0.1, "x"})
	}
	path := filepath.Join(t.TempDir(), "usage.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[rec](f, parquet.MaxRowsPerRowGroup(3))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var mu sync.Mutex
	var seen []string
	err = ScanFile(path, Options{Workers: 2}, func(_ int, r *Row) error {
		mu.Lock()
		defer mu.Unlock()
		if !r.ChargePeriodStart.Equal(day) || !r.ChargePeriodEnd.Equal(day.AddDate(0, 0, 1)) {
			t.Errorf("row %d: period %v–%v", r.Line, r.ChargePeriodStart, r.ChargePeriodEnd)
		}
		seen = append(seen, fmt.Sprintf("%d:%s:%s:%s:%s", r.Line, r.ResourceID, r.Subscription, r.EffectiveCost, r.BilledCost))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 10 {
		t.Fatalf("%d rows: %v", len(seen), seen)
	}
	want := fmt.Sprintf("1:/r0:%s:1.005:0.1", sub)
	found := false
	for _, s := range seen {
		found = found || s == want
	}
	if !found {
		t.Fatalf("no row %s in %v", want, seen)
	}
}

// docs/api.md#focus-usage streaming: allocations do not grow with the number of rows
// (buffers are reused; only per-file setup allocates).
func TestScanAllocationsDoNotGrowWithRows(t *testing.T) {
	file := func(n int) []byte {
		var b strings.Builder
		b.WriteString(header + "\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,Usage,/subscriptions/%s/resourceGroups/rg/providers/A.B/c/r%d,%s,S,USD,%d.5,1\n", sub, i%10, sub, i)
		}
		return []byte(b.String())
	}
	small, large := file(1000), file(20000)
	count := func(data []byte) float64 {
		return testing.AllocsPerRun(3, func() {
			if err := Scan(bytes.NewReader(data), "f.csv", Options{ChunkSize: 1 << 16}, func(int, *Row) error { return nil }); err != nil {
				t.Fatal(err)
			}
		})
	}
	a, b := count(small), count(large)
	// 20 times the rows may cost a few more chunk buffers, not per-row
	// allocations.
	if b > a+40 {
		t.Errorf("allocations grow with rows: %v for 1000 rows, %v for 20000", a, b)
	}
}

// A stray quote early in a large file is reported at its own line, and the
// reader does not grow a chunk without bound looking for the record's end.
func TestStrayQuoteInLargeFile(t *testing.T) {
	defer func(n int) { maxRecord = n }(maxRecord)
	maxRecord = 4096
	good := "2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,Usage,/x,/subscriptions/" + sub + ",S,USD,1,1\n"
	in := header + "\n" + good + strings.Replace(good, "S,USD", `5" screen,USD`, 1) + strings.Repeat(good, 2000)
	_, err := collect(t, []byte(in), Options{Workers: 2, ChunkSize: 512})
	if err == nil || !strings.Contains(err.Error(), "usage.csv line 3") || !strings.Contains(err.Error(), "quote") {
		t.Fatalf("want the stray quote at line 3, got %v", err)
	}
}

// The remembered SubAccountId texts give the same GUID as parsing, for
// every spelling, also once more spellings than it remembers go round.
func TestSubTexts(t *testing.T) {
	var c subTexts
	texts := []string{
		"/subscriptions/9c406475-3584-4259-8c6e-115b6395d173",
		"9C406475-3584-4259-8C6E-115B6395D173",
		"/SUBSCRIPTIONS/9c406475-3584-4259-8c6e-115b6395d173/",
		"11111111-2222-4333-8444-555555555555",
		"/subscriptions/11111111-2222-4333-8444-555555555555",
		"9c406475-3584-4259-8c6e-115b6395d173",
	}
	for round := range 3 {
		for _, text := range texts {
			want, ok := parseSubAccount([]byte(text))
			if !ok {
				t.Fatalf("%q does not parse", text)
			}
			if got, ok := c.parse([]byte(text)); !ok || got != want {
				t.Errorf("round %d: %q gave %v, %v; want %v", round, text, got, ok, want)
			}
		}
	}
	for _, bad := range []string{"", "/subscriptions/", "not-a-guid"} {
		if _, ok := c.parse([]byte(bad)); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}
