package focus

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/partnerlink/partnerlink"
)

// usageRows is a FOCUS CSV of n one-day rows of one resource.
func usageRows(n int) []byte {
	var b strings.Builder
	b.WriteString(header + "\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "2026-03-%02dT00:00:00Z,2026-03-%02dT00:00:00Z,Usage,/subscriptions/%s/resourceGroups/rg/providers/A.B/c/r%d,%s,S,USD,1,1\n", i%28+1, i%28+2, sub, i, sub)
	}
	return []byte(b.String())
}

// gzipWithFlush compresses rows 1..20 of a 50-row file, flushes (a point
// where a cut stream still decodes cleanly up to there), then compresses
// the rest. It returns the whole stream and the offset of the flush point.
func gzipWithFlush(t *testing.T) ([]byte, int) {
	t.Helper()
	data := usageRows(50)
	lines := bytes.SplitAfter(data, []byte("\n"))
	head := bytes.Join(lines[:21], nil) // the header and 20 rows
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(head); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	flush := buf.Len()
	if _, err := w.Write(data[len(head):]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), flush
}

func countRows(r *bytes.Reader, name string, opt Options) (int64, error) {
	var n atomic.Int64
	err := Scan(r, name, opt, func(int, *Row) error { n.Add(1); return nil })
	return n.Load(), err
}

const truncatedGzip = "usage.csv.gz: the file ends early: its gzip stream is cut short (the file is truncated or was not completely written); a truncated file is refused whole, never read as a shorter one"

// docs/rules.md "Usage input": a gzip stream cut short — after a flush
// point, where the rows before it decode cleanly, or at any other byte —
// is an error naming the file, never a shorter file.
func TestScanTruncatedGzip(t *testing.T) {
	gz, flush := gzipWithFlush(t)
	n, err := countRows(bytes.NewReader(gz), "usage.csv.gz", Options{})
	if err != nil || n != 50 {
		t.Fatalf("whole file: %d rows, %v", n, err)
	}
	// Cut at the flush point: the 20 rows before it decode, then the
	// stream ends without its final block and trailer.
	for _, opt := range []Options{{}, {Workers: 3, ChunkSize: 64}} {
		_, err := countRows(bytes.NewReader(gz[:flush]), "usage.csv.gz", opt)
		if err == nil || err.Error() != truncatedGzip || partnerlink.ErrorCode(err) != partnerlink.EINVALID {
			t.Errorf("cut at the flush point (options %+v): got %v\nwant %s", opt, err, truncatedGzip)
		}
	}
	// Cut at every other byte past the magic number.
	for cut := 2; cut < len(gz); cut++ {
		_, err := countRows(bytes.NewReader(gz[:cut]), "usage.csv.gz", Options{Workers: 2, ChunkSize: 128})
		if err == nil || err.Error() != truncatedGzip {
			t.Fatalf("cut at byte %d of %d: got %v\nwant %s", cut, len(gz), err, truncatedGzip)
		}
	}
}

// A gzip stream whose trailer does not match its data is corrupt: an error
// naming the file.
func TestScanCorruptGzip(t *testing.T) {
	gz, _ := gzipWithFlush(t)
	bad := bytes.Clone(gz)
	bad[len(bad)-5] ^= 0xff // the CRC-32 in the trailer
	_, err := countRows(bytes.NewReader(bad), "usage.csv.gz", Options{})
	want := "usage.csv.gz: the gzip stream is corrupt (gzip: invalid checksum); the file is refused whole"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

type pqRow struct {
	ChargePeriodStart time.Time `parquet:"ChargePeriodStart,timestamp(microsecond)"`
	ChargePeriodEnd   time.Time `parquet:"ChargePeriodEnd,timestamp(microsecond)"`
	ChargeCategory    string    `parquet:"ChargeCategory"`
	ResourceId        string    `parquet:"ResourceId,optional"`
	SubAccountId      string    `parquet:"SubAccountId"`
	ServiceName       string    `parquet:"ServiceName"`
	BillingCurrency   string    `parquet:"BillingCurrency"`
	EffectiveCost     string    `parquet:"EffectiveCost"`
	BilledCost        string    `parquet:"BilledCost"`
}

func pqRows(n int) []pqRow {
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var rows []pqRow
	for i := 0; i < n; i++ {
		rows = append(rows, pqRow{day, day.AddDate(0, 0, 1), "Usage", fmt.Sprintf("/subscriptions/%s/resourceGroups/rg/providers/A.B/c/r%d", sub, i), sub, "S", "USD", "1", "1"})
	}
	return rows
}

// docs/rules.md "Usage input": a Parquet file cut anywhere is an error
// naming the file, read from a file or from memory.
func TestScanTruncatedParquet(t *testing.T) {
	data := writeParquet(t, pqRows(50), parquet.MaxRowsPerRowGroup(10))
	if n, err := countRows(bytes.NewReader(data), "usage.parquet", Options{}); err != nil || n != 50 {
		t.Fatalf("whole file: %d rows, %v", n, err)
	}
	const want = "usage.parquet: the Parquet file ends early: it does not end with a Parquet footer (the file is truncated or was not completely written); a truncated file is refused whole, never read as a shorter one"
	for cut := 12; cut < len(data); cut++ {
		_, err := countRows(bytes.NewReader(data[:cut]), "usage.parquet", Options{Workers: 2})
		if err == nil || err.Error() != want || partnerlink.ErrorCode(err) != partnerlink.EINVALID {
			t.Fatalf("cut at byte %d of %d: got %v\nwant %s", cut, len(data), err, want)
		}
	}
	_, err := countRows(bytes.NewReader(data[:8]), "usage.parquet", Options{})
	if want := "usage.parquet: the Parquet file ends early: it has 8 bytes, too few for a Parquet footer (the file is truncated or was not completely written)"; err == nil || err.Error() != want {
		t.Errorf("cut at byte 8: got %v\nwant %s", err, want)
	}
	// From a file (read through io.ReaderAt).
	path := filepath.Join(t.TempDir(), "usage.parquet")
	if err := os.WriteFile(path, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	err = ScanFile(path, Options{}, func(int, *Row) error { return nil })
	if want := path + want[len("usage.parquet"):]; err == nil || err.Error() != want {
		t.Errorf("cut file: got %v\nwant %s", err, want)
	}
}

// docs/rules.md "Usage input": a row whose ResourceId names another
// subscription than its SubAccountId is an input error reported with its
// line (CSV) or row (Parquet). GUIDs compare case-insensitively; a row
// without ResourceId, or with one outside any subscription's path, is in
// its own subscription.
func TestScanResourceInOtherSubscription(t *testing.T) {
	const other = "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d"
	row := func(res, subAccount string) string {
		return "2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,Usage," + res + "," + subAccount + ",S,USD,1,1\n"
	}
	vm := "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
	good := row(vm, sub) + row(strings.ToUpper(vm), "/subscriptions/"+sub) + row(vm, "/SUBSCRIPTIONS/"+strings.ToUpper(sub)) +
		row("", sub) + row("/providers/Microsoft.Capacity/reservationOrders/x", sub) + row("/SUBSCRIPTIONS/"+sub, sub) + row("/x", sub)
	for _, workers := range []int{1, 3} {
		rows, err := collect(t, []byte(header+"\n"+good), Options{Workers: workers, ChunkSize: 64})
		if err != nil || len(rows) != 7 {
			t.Fatalf("consistent rows (workers %d): %d rows, %v", workers, len(rows), err)
		}
	}
	otherVM := "/subscriptions/" + other + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
	cases := []struct {
		name, rows, want string
	}{
		{"another subscription", good + row(otherVM, "/subscriptions/"+sub),
			`usage.csv line 9: ResourceId "` + otherVM + `" names subscription ` + other + ` but SubAccountId is /subscriptions/` + sub + `; a row's resource must be in its own subscription`},
		{"after rows of the same resource", row(vm, sub) + row(vm, sub) + row(vm, other),
			`usage.csv line 4: ResourceId "` + vm + `" names subscription ` + sub + ` but SubAccountId is ` + other + `; a row's resource must be in its own subscription`},
		{"not a GUID", row("/subscriptions/prod/resourceGroups/rg", sub),
			`usage.csv line 2: ResourceId "/subscriptions/prod/resourceGroups/rg" names subscription prod but SubAccountId is ` + sub + `; a row's resource must be in its own subscription`},
		{"empty segment", row("/subscriptions//resourceGroups/rg", sub),
			`usage.csv line 2: ResourceId "/subscriptions//resourceGroups/rg" names subscription "" but SubAccountId is ` + sub + `; a row's resource must be in its own subscription`},
	}
	for _, c := range cases {
		for _, workers := range []int{1, 3} {
			_, err := collect(t, []byte(header+"\n"+c.rows), Options{Workers: workers, ChunkSize: 64})
			if err == nil || err.Error() != c.want || partnerlink.ErrorCode(err) != partnerlink.EINVALID {
				t.Errorf("%s (workers %d):\ngot  %v\nwant %s", c.name, workers, err, c.want)
			}
		}
	}

	// Parquet: the same rule, the row counted from 1.
	rows := pqRows(12)
	rows[10].SubAccountId = strings.ToUpper(sub) // any case
	rows[11].SubAccountId = "/subscriptions/" + other
	_, err := countRows(bytes.NewReader(writeParquet(t, rows, parquet.MaxRowsPerRowGroup(10))), "usage.parquet", Options{Workers: 2})
	want := `usage.parquet row 12: ResourceId "/subscriptions/` + sub + `/resourceGroups/rg/providers/A.B/c/r11" names subscription ` + sub +
		` but SubAccountId is /subscriptions/` + other + `; a row's resource must be in its own subscription`
	if err == nil || err.Error() != want {
		t.Errorf("parquet:\ngot  %v\nwant %s", err, want)
	}
}

// Error messages name the file, the line where the record (or the field)
// starts and what is accepted, in plain words.
func TestScanMessages(t *testing.T) {
	good := "2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,Usage,/x,/subscriptions/" + sub + ",S,USD,1,1\n"
	cases := []struct {
		name, in, want string
	}{
		{"bad amount", header + "\n" + strings.Replace(good, ",1,1", ",abc,1", 1),
			`usage.csv line 2: EffectiveCost "abc" is not valid: expected a decimal number such as 12.34, -0.5 or 1.5E-7, below 10^40 in magnitude and with at most 60 digits after the point`},
		// An amount beyond the bounds (docs/rules.md#amounts) is refused, not
		// summed into a number of 200,000 digits (it made Sum.Add panic).
		{"huge amount", header + "\n" + strings.Replace(good, ",1,1", ",1E99999,1", 1),
			`usage.csv line 2: EffectiveCost "1E99999" is not valid: expected a decimal number such as 12.34, -0.5 or 1.5E-7, below 10^40 in magnitude and with at most 60 digits after the point`},
		{"tiny amount", header + "\n" + good + strings.Replace(good, ",1,1", ",1,-1E-99999", 1),
			`usage.csv line 3: BilledCost "-1E-99999" is not valid: expected a decimal number such as 12.34, -0.5 or 1.5E-7, below 10^40 in magnitude and with at most 60 digits after the point`},
		// A 4-line file whose third line opens a quote that never closes.
		{"unclosed quote", header + "\n" + good + strings.Replace(good, ",S,", `,"S,`, 1) + good,
			`usage.csv line 3: unclosed quote: the quoted field that starts on this line has no closing quote (") before the end of the file`},
		// The record starts on line 3, the unclosed field on line 4.
		{"unclosed quote in a multi-line record", header + "\n" + good + strings.Replace(good, ",S,USD,1,", ",\"two\nlines\",USD,\"1,", 1) + good,
			`usage.csv line 4: unclosed quote: the quoted field that starts on this line has no closing quote (") before the end of the file`},
		{"text after a closing quote", header + "\n" + good + strings.Replace(good, ",S,", `,"S"x,`, 1),
			`usage.csv line 3: a quoted field's closing quote (") is followed by something other than a comma or the end of the line; double quotes inside a quoted field`},
		// docs/rules.md#usage-input: a column given twice is refused, not
		// read from the first.
		{"a currency not in ISO 4217's form", header + "\n" + good + strings.Replace(good, ",USD,", ",euro,", 1),
			`usage.csv line 3: BillingCurrency "euro" is not valid: expected an ISO 4217 currency code: three capital letters such as EUR or USD`},
		{"a column twice", header + ",effectivecost\n" + strings.TrimSuffix(good, "\n") + ",999\n",
			`usage.csv: column EffectiveCost appears twice (columns 8 and 10); a usage file has each FOCUS column once`},
	}
	for _, c := range cases {
		for _, opt := range []Options{{}, {Workers: 3, ChunkSize: 64}} {
			_, err := collect(t, []byte(c.in), opt)
			if err == nil || err.Error() != c.want {
				t.Errorf("%s (options %+v):\ngot  %v\nwant %s", c.name, opt, err, c.want)
			}
		}
	}
	if _, err := ParseAmount([]byte("abc")); err == nil || err.Error() != "not a decimal number; expected a decimal number such as 12.34, -0.5 or 1.5E-7, below 10^40 in magnitude and with at most 60 digits after the point" {
		t.Errorf("ParseAmount: %v", err)
	}
}

// docs/rules.md#usage-input: the checks imports make since 2026-12-05 (a
// column given twice, BillingCurrency's form) are not made again on a
// file an import accepted before them (Options.Stored), so that a month
// holding one still closes; a new file is refused.
func TestStoredFilesSkipTheImportChecks(t *testing.T) {
	good := "2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,Usage,/x,/subscriptions/" + sub + ",S,eur,1,1\n"
	in := []byte(header + ",EffectiveCost\n" + strings.TrimSuffix(good, "\n") + ",2\n")
	if _, err := collect(t, in, Options{}); err == nil {
		t.Error("a new file with a column twice and a currency eur was read")
	}
	rows, err := collect(t, in, Options{Stored: true})
	if err != nil || len(rows) != 1 || rows[0].currency != "eur" || rows[0].cost != "1" {
		t.Errorf("a stored file: %+v %v", rows, err)
	}
}
