package focus

import (
	"bytes"
	"fmt"
	"math/big"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"
)

// storeRow is a row as the usage store writes it: every column required.
type storeRow struct {
	ChargePeriodStart time.Time `parquet:"ChargePeriodStart,timestamp(nanosecond)"`
	ChargePeriodEnd   time.Time `parquet:"ChargePeriodEnd,timestamp(nanosecond)"`
	ChargeCategory    string    `parquet:"ChargeCategory,dict"`
	SubAccountID      string    `parquet:"SubAccountId,dict"`
	ResourceID        string    `parquet:"ResourceId,dict"`
	ServiceName       string    `parquet:"ServiceName,dict"`
	BillingCurrency   string    `parquet:"BillingCurrency,dict"`
	EffectiveCost     string    `parquet:"EffectiveCost"`
	BilledCost        string    `parquet:"BilledCost"`
}

func storeFile(t *testing.T, rows []storeRow, perGroup int) []byte {
	t.Helper()
	var b bytes.Buffer
	w := parquet.NewGenericWriter[storeRow](&b, parquet.MaxRowsPerRowGroup(int64(perGroup)), parquet.PageBufferSize(512))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// scanBoth reads data row by row and column by column and returns both
// readings (rows as text, or the error).
func scanBoth(t testing.TB, data []byte) (string, string) {
	t.Helper()
	read := func() string {
		var out strings.Builder
		err := Scan(bytes.NewReader(data), "f.parquet", Options{Workers: 1}, func(_ int, r *Row) error {
			fmt.Fprintf(&out, "%d %s %s %s %s %s %s %s %s %s\n", r.Line, r.ChargePeriodStart.Format(time.RFC3339Nano), r.ChargePeriodEnd.Format(time.RFC3339Nano),
				r.ChargeCategory, r.ResourceID, r.Subscription, r.ServiceName, r.BillingCurrency, r.EffectiveCost, r.BilledCost)
			return nil
		})
		if err != nil {
			return "error: " + err.Error()
		}
		return out.String()
	}
	fast := read()
	noColumnWise = true
	defer func() { noColumnWise = false }()
	return fast, read()
}

// writeParquet writes rows as a Parquet file with the writer's options.
func writeParquet[T any](tb testing.TB, rows []T, opts ...parquet.WriterOption) []byte {
	tb.Helper()
	var b bytes.Buffer
	w := parquet.NewGenericWriter[T](&b, opts...)
	if _, err := w.Write(rows); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// exportRows are n rows of optional columns over ids resource ids (every
// 11th row without one), for files as other writers make them.
func exportRows(n, ids int) []exportRow {
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	str := func(s string) *string { return &s }
	var rows []exportRow
	for i := range n {
		sub := fmt.Sprintf("f0f0f0f0-0000-4000-8000-%012d", i%7)
		ps, pe, cost := day.AddDate(0, 0, i%30), day.AddDate(0, 0, i%30+1), float64(i)/8
		r := exportRow{&ps, &pe, str("Usage"), str(sub), str(fmt.Sprintf("/subscriptions/%s/rg/x%d", sub, i%ids)), str("svc"), str("EUR"), &cost, &cost, nil}
		if i%11 == 0 {
			r.ResourceID = nil
		}
		rows = append(rows, r)
	}
	return rows
}

// docs/performance.md: a file of required columns (the usage store's) read
// column by column gives the rows, and the errors, of the row-by-row reader.
func TestColumnWiseParquetEqualsRowWise(t *testing.T) {
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var rows []storeRow
	for i := range 5000 {
		sub := fmt.Sprintf("f0f0f0f0-0000-4000-8000-%012d", i%7)
		rows = append(rows, storeRow{day.AddDate(0, 0, i%30), day.AddDate(0, 0, i%30+1), "Usage", sub,
			fmt.Sprintf("/subscriptions/%s/resourceGroups/G/providers/P/sites/s%d", sub, i%300), fmt.Sprintf("svc%d", i%5), "EUR",
			fmt.Sprintf("%d.%03d", i, i%1000), "1.5"})
	}
	fast, slow := scanBoth(t, storeFile(t, rows, 1000))
	if fast != slow || strings.HasPrefix(fast, "error") || strings.Count(fast, "\n") != 5000 {
		t.Fatalf("column-wise and row-wise readings differ (or failed): %.300s\n---\n%.300s", fast, slow)
	}
	for name, mutate := range map[string]func(r *storeRow){
		"bad amount":       func(r *storeRow) { r.EffectiveCost = "1,5" },
		"end before start": func(r *storeRow) { r.ChargePeriodEnd = r.ChargePeriodStart },
		"bad subscription": func(r *storeRow) { r.SubAccountID = "nope" },
		"other subscription": func(r *storeRow) {
			r.ResourceID = "/subscriptions/aaaaaaaa-0000-4000-8000-000000000000/resourceGroups/x"
		},
	} {
		bad := append([]storeRow(nil), rows...)
		mutate(&bad[3456])
		fast, slow := scanBoth(t, storeFile(t, bad, 1000))
		if fast != slow || !strings.Contains(fast, "row 3457") {
			t.Errorf("%s: column-wise %q, row-wise %q", name, fast, slow)
		}
	}
}

// docs/rules.md, "Usage input": a Parquet file reads alike whatever codec
// compresses its pages. Amounts that hardly compress once made
// parquet-go v0.32.0 decode LZ4_RAW pages into a buffer it then dropped,
// and the rows read wrong amounts without an error (parquet-go#608).
func TestParquetCodecsReadAlike(t *testing.T) {
	type row struct {
		ChargePeriodStart time.Time `parquet:"ChargePeriodStart,timestamp(microsecond)"`
		ChargePeriodEnd   time.Time `parquet:"ChargePeriodEnd,timestamp(microsecond)"`
		ChargeCategory    string    `parquet:"ChargeCategory,dict"`
		SubAccountID      string    `parquet:"SubAccountId"`
		ResourceID        string    `parquet:"ResourceId"`
		ServiceName       string    `parquet:"ServiceName,dict"`
		BillingCurrency   string    `parquet:"BillingCurrency,dict"`
		EffectiveCost     int64     `parquet:"EffectiveCost,decimal(6:18)"`
		BilledCost        int64     `parquet:"BilledCost,decimal(6:18)"`
	}
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	rnd := rand.New(rand.NewSource(1))
	var rows []row
	for i := range 20000 {
		sub := fmt.Sprintf("f0f0f0f0-0000-4000-8000-%012d", i%7)
		rows = append(rows, row{day.AddDate(0, 0, i%30), day.AddDate(0, 0, i%30+1), "Usage", sub,
			fmt.Sprintf("/subscriptions/%s/resourceGroups/G/providers/P/sites/s%d", sub, rnd.Intn(5000)), "svc", "EUR",
			rnd.Int63n(1e12), rnd.Int63n(1e9)})
	}
	want, _ := scanBoth(t, writeParquet(t, rows, parquet.Compression(&parquet.Uncompressed)))
	if strings.HasPrefix(want, "error") || strings.Count(want, "\n") != len(rows) {
		t.Fatalf("uncompressed: %.300s", want)
	}
	for _, codec := range []compress.Codec{&parquet.Snappy, &parquet.Gzip, &parquet.Brotli, &parquet.Zstd, &parquet.Lz4Raw} {
		fast, slow := scanBoth(t, writeParquet(t, rows, parquet.Compression(codec)))
		if fast != want || slow != want {
			t.Errorf("%s: the rows read differ from the uncompressed file's: %.200s", codec, fast)
		}
	}
}

// hadoopLZ4 claims the deprecated Hadoop-framed LZ4 codec, which the
// Parquet library does not read, and stores pages as they are.
type hadoopLZ4 struct{}

func (hadoopLZ4) String() string                            { return "LZ4" }
func (hadoopLZ4) CompressionCodec() format.CompressionCodec { return format.Lz4 }
func (hadoopLZ4) Encode(dst, src []byte) ([]byte, error)    { return append(dst[:0], src...), nil }
func (hadoopLZ4) Decode(dst, src []byte) ([]byte, error)    { return append(dst[:0], src...), nil }

// docs/rules.md, "Usage input": a file compressed with a codec that is not
// read is refused naming the column, the codec and the codecs read.
func TestParquetRefusesCodecNotRead(t *testing.T) {
	data := writeParquet(t, exportRows(10, 3), parquet.Compression(hadoopLZ4{}))
	err := Scan(bytes.NewReader(data), "u.parquet", Options{}, func(int, *Row) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "u.parquet: column ChargePeriodStart is compressed with LZ4, which is not read; expected Parquet pages uncompressed or compressed with SNAPPY, GZIP, BROTLI, ZSTD or LZ4_RAW") {
		t.Fatalf("got %v", err)
	}
}

// exportRow is a row with optional columns, as other writers make them.
type exportRow struct {
	ChargePeriodStart *time.Time `parquet:"ChargePeriodStart,optional,timestamp(microsecond)"`
	ChargePeriodEnd   *time.Time `parquet:"ChargePeriodEnd,optional,timestamp(microsecond)"`
	ChargeCategory    *string    `parquet:"ChargeCategory,optional,dict"`
	SubAccountID      *string    `parquet:"SubAccountId,optional"`
	ResourceID        *string    `parquet:"ResourceId,optional,dict"`
	ServiceName       *string    `parquet:"ServiceName,optional"`
	BillingCurrency   *string    `parquet:"BillingCurrency,optional"`
	EffectiveCost     *float64   `parquet:"EffectiveCost,optional"`
	BilledCost        *float64   `parquet:"BilledCost,optional"`
	Other             *string    `parquet:"x_Other,optional"`
}

// Optional columns, nulls included, read the same column by column.
func TestColumnWiseParquetOptionalColumns(t *testing.T) {
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	str := func(s string) *string { return &s }
	var rows []exportRow
	for i := range 3000 {
		sub := fmt.Sprintf("f0f0f0f0-0000-4000-8000-%012d", i%7)
		ps, pe, cost := day.AddDate(0, 0, i%30), day.AddDate(0, 0, i%30+1), float64(i)/8
		r := exportRow{&ps, &pe, str("Usage"), str(sub), str(fmt.Sprintf("/subscriptions/%s/rg/x%d", sub, i%50)), str("svc"), str("EUR"), &cost, &cost, nil}
		if i%3 == 0 {
			r.ResourceID, r.Other = nil, str("x")
		}
		rows = append(rows, r)
	}
	write := func(rows []exportRow) []byte {
		var b bytes.Buffer
		w := parquet.NewGenericWriter[exportRow](&b, parquet.MaxRowsPerRowGroup(700), parquet.PageBufferSize(256))
		if _, err := w.Write(rows); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	fast, slow := scanBoth(t, write(rows))
	if fast != slow || strings.HasPrefix(fast, "error") || strings.Count(fast, "\n") != 3000 {
		t.Fatalf("column-wise and row-wise readings differ (or failed): %.300s\n---\n%.300s", fast, slow)
	}
	rows[2345].EffectiveCost = nil
	fast, slow = scanBoth(t, write(rows))
	if fast != slow || !strings.Contains(fast, "row 2346") {
		t.Errorf("a null amount: column-wise %q, row-wise %q", fast, slow)
	}
}

// nullDictRow has a dictionary-encoded optional number column.
type nullDictRow struct {
	ChargePeriodStart time.Time `parquet:"ChargePeriodStart,timestamp(microsecond)"`
	ChargePeriodEnd   time.Time `parquet:"ChargePeriodEnd,timestamp(microsecond)"`
	ChargeCategory    string    `parquet:"ChargeCategory"`
	SubAccountID      string    `parquet:"SubAccountId"`
	ResourceID        string    `parquet:"ResourceId"`
	ServiceName       string    `parquet:"ServiceName"`
	BillingCurrency   string    `parquet:"BillingCurrency"`
	EffectiveCost     *float64  `parquet:"EffectiveCost,optional,dict"`
	BilledCost        *float64  `parquet:"BilledCost,optional,dict"`
}

// A row group whose dictionary-encoded column is all null (an empty
// dictionary) is refused the way the row reader refuses it, not by a crash.
func TestColumnWiseParquetEmptyDictionary(t *testing.T) {
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	rows := []nullDictRow{{day, day.AddDate(0, 0, 1), "Usage", "f0f0f0f0-0000-4000-8000-000000000001", "", "S", "EUR", nil, nil}}
	var b bytes.Buffer
	w := parquet.NewGenericWriter[nullDictRow](&b)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fast, slow := scanBoth(t, b.Bytes())
	if fast != slow || !strings.Contains(fast, "row 1") {
		t.Errorf("column-wise %q, row-wise %q", fast, slow)
	}
}

// docs/performance.md: a column chunk whose dictionary fills up and goes
// on in plain pages (what parquet-mr, Arrow and parquet-go write by
// default) is read column by column, a batch of rows at a time, and gives
// the rows and errors of the row-by-row reader.
func TestColumnWiseParquetDictionaryFillsUp(t *testing.T) {
	const n = 40000
	rows := exportRows(n, 9000)
	write := func(rows []exportRow) []byte {
		return writeParquet(t, rows, parquet.MaxRowsPerRowGroup(3*batchRows), parquet.PageBufferSize(2048), parquet.DictionaryMaxBytes(4096))
	}
	data := write(rows)

	// The first row group's ResourceId: dictionary rows, then plain ones,
	// read in batches that hold a bounded window of rows.
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	g := f.RowGroups()[0]
	leaf, _ := f.Schema().Lookup("ResourceId")
	var c column
	defer c.release()
	if err := c.open(g.ColumnChunks()[leaf.ColumnIndex], 0, int(g.NumRows()), int(g.NumRows()), 1); err != nil {
		t.Fatal(err)
	}
	var dictRows, plainRows, most int
	for start := 0; start < int(g.NumRows()); start += batchRows {
		end := min(start+batchRows, int(g.NumRows()))
		c.trim(start)
		if err := c.fill(end); err != nil {
			t.Fatalf("rows %d to %d: %v", start, end, err)
		}
		most = max(most, c.rows-c.base)
		for i := start; i < end; i++ {
			switch k := c.idx[i-c.base]; {
			case c.isNull(i):
			case k >= 0:
				dictRows++
			case k == plainValue:
				plainRows++
			}
		}
	}
	if dictRows == 0 || plainRows == 0 || c.rows != int(g.NumRows()) {
		t.Fatalf("%d rows from the dictionary, %d from plain pages, %d in all: the chunk does not mix both", dictRows, plainRows, c.rows)
	}
	if most > 2*batchRows+1000 {
		t.Errorf("the column held %d rows at once, reading batches of %d", most, batchRows)
	}

	fast, slow := scanBoth(t, data)
	if fast != slow || strings.HasPrefix(fast, "error") || strings.Count(fast, "\n") != n {
		t.Fatalf("column-wise and row-wise readings differ (or failed): %.300s\n---\n%.300s", fast, slow)
	}
	for _, at := range []int{5, 30001, 39000} {
		bad := append([]exportRow(nil), rows...)
		bad[at].EffectiveCost = nil
		fast, slow := scanBoth(t, write(bad))
		if want := fmt.Sprintf("row %d", at+1); fast != slow || !strings.Contains(fast, want) {
			t.Errorf("a null amount in row %d: column-wise %.200q, row-wise %.200q", at+1, fast, slow)
		}
	}
}

// flbaDictRow has SubAccountId as a bare GUID in a dictionary-encoded
// fixed-length column, whose plain pages after a full dictionary the
// column-wise reader leaves to the row-by-row one.
type flbaDictRow struct {
	ChargePeriodStart time.Time `parquet:"ChargePeriodStart,timestamp(microsecond)"`
	ChargePeriodEnd   time.Time `parquet:"ChargePeriodEnd,timestamp(microsecond)"`
	ChargeCategory    string    `parquet:"ChargeCategory"`
	SubAccountID      [36]byte  `parquet:"SubAccountId,dict"`
	ResourceID        string    `parquet:"ResourceId"`
	ServiceName       string    `parquet:"ServiceName"`
	BillingCurrency   string    `parquet:"BillingCurrency"`
	EffectiveCost     string    `parquet:"EffectiveCost"`
	BilledCost        string    `parquet:"BilledCost"`
}

// A row group the column-wise reader cannot finish (here: a fixed-length
// column goes on in plain pages after its first batches) goes on row by
// row from the batch it stopped at: every row once, in order, as the
// row-by-row reader reads them.
func TestColumnWiseParquetHandsOverMidGroup(t *testing.T) {
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	const n = 3 * batchRows
	var rows []flbaDictRow
	for i := range n {
		k := i % 7
		if i > batchRows+batchRows/2 {
			k = i // distinct subscriptions fill the dictionary up
		}
		var sub [36]byte
		copy(sub[:], fmt.Sprintf("f0f0f0f0-0000-4000-8000-%012d", k))
		rows = append(rows, flbaDictRow{day.AddDate(0, 0, i%30), day.AddDate(0, 0, i%30+1), "Usage", sub,
			fmt.Sprintf("/subscriptions/%s/rg/x%d", sub, i%50), "svc", "EUR", fmt.Sprint(i), "1"})
	}
	data := writeParquet(t, rows, parquet.MaxRowsPerRowGroup(n), parquet.PageBufferSize(4096), parquet.DictionaryMaxBytes(36*2000))
	var handedOver bool
	onHandOver = func(from int) { handedOver = handedOver || from > 0 }
	defer func() { onHandOver = nil }()
	fast, slow := scanBoth(t, data)
	if !handedOver {
		t.Fatal("the column-wise reader did not hand the row group over after its first batch")
	}
	if fast != slow || strings.HasPrefix(fast, "error") || strings.Count(fast, "\n") != n {
		t.Fatalf("column-wise and row-wise readings differ (or failed): %.300s\n---\n%.300s", fast, slow)
	}
}

// decimalRow has costs as DECIMAL(38,18) in 16 bytes, as Spark writes
// wide decimals.
type decimalRow struct {
	ChargePeriodStart time.Time `parquet:"ChargePeriodStart,timestamp(microsecond)"`
	ChargePeriodEnd   time.Time `parquet:"ChargePeriodEnd,timestamp(microsecond)"`
	ChargeCategory    string    `parquet:"ChargeCategory"`
	SubAccountID      string    `parquet:"SubAccountId,dict"`
	ResourceID        string    `parquet:"ResourceId"`
	ServiceName       string    `parquet:"ServiceName"`
	BillingCurrency   string    `parquet:"BillingCurrency"`
	EffectiveCost     [16]byte  `parquet:"EffectiveCost,decimal(18:38)"`
	BilledCost        [16]byte  `parquet:"BilledCost,decimal(18:38)"`
}

// Costs as DECIMAL(38,18) read column by column as row by row, exactly.
func TestColumnWiseParquetWideDecimals(t *testing.T) {
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	wide := func(micros int64) (b [16]byte) {
		v := new(big.Int).Mul(big.NewInt(micros), big.NewInt(1e12))
		if v.Sign() < 0 {
			v.Add(v, new(big.Int).Lsh(big.NewInt(1), 128))
		}
		v.FillBytes(b[:])
		return b
	}
	var rows []decimalRow
	for i := range 3000 {
		sub := fmt.Sprintf("f0f0f0f0-0000-4000-8000-%012d", i%7)
		rows = append(rows, decimalRow{day.AddDate(0, 0, i%30), day.AddDate(0, 0, i%30+1), "Usage", sub,
			fmt.Sprintf("/subscriptions/%s/rg/x%d", sub, i%50), "svc", "EUR", wide(int64(i*1234567 - 1000000)), wide(-7)})
	}
	fast, slow := scanBoth(t, writeParquet(t, rows, parquet.MaxRowsPerRowGroup(1000)))
	if fast != slow || strings.HasPrefix(fast, "error") || strings.Count(fast, "\n") != 3000 {
		t.Fatalf("column-wise and row-wise readings differ (or failed): %.300s\n---\n%.300s", fast, slow)
	}
	if !strings.Contains(fast, " EUR 1233.567 -0.000007\n") || !strings.Contains(fast, " EUR -1 -0.000007\n") {
		t.Errorf("DECIMAL(38,18) costs misread: %.400s", fast)
	}
}

// int96Row has Spark's legacy INT96 timestamps and DATE days.
type int96Row struct {
	ChargePeriodStart deprecated.Int96 `parquet:"ChargePeriodStart"`
	ChargePeriodEnd   int32            `parquet:"ChargePeriodEnd,date"`
	ChargeCategory    string           `parquet:"ChargeCategory"`
	SubAccountID      string           `parquet:"SubAccountId"`
	ResourceID        string           `parquet:"ResourceId"`
	ServiceName       string           `parquet:"ServiceName"`
	BillingCurrency   string           `parquet:"BillingCurrency"`
	EffectiveCost     float64          `parquet:"EffectiveCost"`
	BilledCost        float64          `parquet:"BilledCost"`
}

// INT96 timestamps and DATE days read column by column as row by row.
func TestColumnWiseParquetLegacyTimes(t *testing.T) {
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var rows []int96Row
	for i := range 2000 {
		sub := fmt.Sprintf("f0f0f0f0-0000-4000-8000-%012d", i%7)
		start := day.AddDate(0, 0, i%30).Add(time.Duration(i%5) * time.Hour)
		nanos := uint64(start.Sub(start.Truncate(24 * time.Hour)))
		julian := uint32(start.Unix()/86400 + 2440588)
		end := int32(start.Unix()/86400 + 1)
		rows = append(rows, int96Row{deprecated.Int96{uint32(nanos), uint32(nanos >> 32), julian}, end, "Usage", sub,
			fmt.Sprintf("/subscriptions/%s/rg/x%d", sub, i%50), "svc", "EUR", float64(i) / 4, 0.1})
	}
	fast, slow := scanBoth(t, writeParquet(t, rows, parquet.MaxRowsPerRowGroup(700)))
	if fast != slow || strings.HasPrefix(fast, "error") || strings.Count(fast, "\n") != 2000 {
		t.Fatalf("column-wise and row-wise readings differ (or failed): %.300s\n---\n%.300s", fast, slow)
	}
	if !strings.Contains(fast, "\n2 2026-11-02T01:00:00Z 2026-11-03T00:00:00Z ") {
		t.Errorf("INT96 and DATE misread: %.300s", fast)
	}
}

// Text in delta encodings on version 2 data pages (what parquet-mr's v2
// writer falls back to when a dictionary fills up) reads column by column
// as row by row.
func TestColumnWiseParquetDeltaEncodings(t *testing.T) {
	rows := exportRows(3000, 500)
	for name, enc := range map[string]encoding.Encoding{"DELTA_BYTE_ARRAY": &parquet.DeltaByteArray, "DELTA_LENGTH_BYTE_ARRAY": &parquet.DeltaLengthByteArray} {
		fast, slow := scanBoth(t, writeParquet(t, rows, parquet.MaxRowsPerRowGroup(1000), parquet.PageBufferSize(1024), parquet.DataPageVersion(2),
			parquet.DefaultEncodingFor(parquet.ByteArray, enc), parquet.DictionaryMaxBytes(300)))
		if fast != slow || strings.HasPrefix(fast, "error") || strings.Count(fast, "\n") != 3000 {
			t.Errorf("%s: column-wise and row-wise readings differ (or failed): %.300s\n---\n%.300s", name, fast, slow)
		}
	}
}

// A file of one large row group is cut into spans that several workers
// read, each seeking to its first row through the offset index; every row
// is read once, as the row-by-row reader reads it, and an error names its
// row.
func TestParquetRowGroupSpans(t *testing.T) {
	const n = 200000
	rows := exportRows(n, 5000)
	write := func(rows []exportRow) []byte {
		return writeParquet(t, rows, parquet.MaxRowsPerRowGroup(n), parquet.PageBufferSize(8192), parquet.DictionaryMaxBytes(4096))
	}
	data := write(rows)
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var header []string
	for _, path := range f.Schema().Columns() {
		header = append(header, path[0])
	}
	var cols [nColumns]pqColumn
	for c, leaf := range columnIndex(header) {
		cols[c].leaf = leaf
	}
	spans := groupSpans(f.RowGroups(), cols, 2)
	if len(spans) < 2 || spans[0].from != 0 || spans[len(spans)-1].to != n {
		t.Fatalf("spans %v: the row group is not cut", spans)
	}
	for i := 1; i < len(spans); i++ {
		if spans[i].from != spans[i-1].to {
			t.Fatalf("spans %v do not follow each other", spans)
		}
	}

	fast, slow := scanBoth(t, data)
	if fast != slow || strings.HasPrefix(fast, "error") || strings.Count(fast, "\n") != n {
		t.Fatalf("column-wise and row-wise readings differ (or failed): %.300s\n---\n%.300s", fast, slow)
	}
	// Two workers: the same rows, each once.
	var mu sync.Mutex
	lines := make([]int64, 0, n)
	err = Scan(bytes.NewReader(data), "f.parquet", Options{Workers: 2}, func(_ int, r *Row) error {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, r.Line)
		return nil
	})
	slices.Sort(lines)
	if err != nil || len(slices.Compact(lines)) != n || lines[0] != 1 || lines[n-1] != n {
		t.Fatalf("two workers read %d rows (%v)", len(lines), err)
	}
	bad := append([]exportRow(nil), rows...)
	bad[150000].EffectiveCost = nil
	if fast, slow := scanBoth(t, write(bad)); fast != slow || !strings.Contains(fast, "row 150001") {
		t.Errorf("a null amount in row 150001: column-wise %.200q, row-wise %.200q", fast, slow)
	}
}

// docs/rules.md#usage-input: a timestamp that reads but breaks a rule is
// shown in the error as the instant, not as its stored number.
func TestParquetTimestampErrorShowsTheInstant(t *testing.T) {
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	sub := "f0f0f0f0-0000-4000-8000-000000000001"
	row := storeRow{day, day.Add(-time.Hour), "Usage", sub, "/subscriptions/" + sub + "/rg/x", "svc", "EUR", "1", "1"}
	fast, slow := scanBoth(t, storeFile(t, []storeRow{row}, 10))
	want := `error: f.parquet row 1: ChargePeriodEnd "2026-03-01T23:00:00Z" is not valid: expected an instant after ChargePeriodStart`
	if fast != want || slow != want {
		t.Errorf("got\n%s\n%s\nwant\n%s", fast, slow, want)
	}
	// docs/rules.md#usage-input: BillingCurrency is an ISO 4217 code.
	row.ChargePeriodEnd, row.BillingCurrency = day.Add(time.Hour), "eur"
	fast, slow = scanBoth(t, storeFile(t, []storeRow{row}, 10))
	want = `error: f.parquet row 1: BillingCurrency "eur" is not valid: expected an ISO 4217 currency code: three capital letters such as EUR or USD`
	if fast != want || slow != want {
		t.Errorf("got\n%s\n%s\nwant\n%s", fast, slow, want)
	}
}
