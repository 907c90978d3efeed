package usagestore_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/focus"
	"github.com/partnerlink/partnerlink/usagestore"
)

// recorder keeps splits in memory.
type recorder map[string][]partnerlink.UsagePart

func (r recorder) UsageParts(_ context.Context, store string, buckets int, hash string) ([]partnerlink.UsagePart, bool, error) {
	parts, ok := r[fmt.Sprint(store, buckets, hash)]
	return parts, ok, nil
}

func (r recorder) RecordUsageSplit(_ context.Context, store string, buckets int, hash string, parts []partnerlink.UsagePart, _ time.Time) error {
	if _, ok := r[fmt.Sprint(store, buckets, hash)]; !ok {
		r[fmt.Sprint(store, buckets, hash)] = parts
	}
	return nil
}

// docs/scale.md, "The usage store": a file is split once into one part per
// month and bucket, every row in exactly one part.
func TestSplitOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost\n")
	for i := range 300 {
		day := time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%30)
		sub := fmt.Sprintf("f0f0f0f0-0000-4000-8000-%012d", i%9)
		fmt.Fprintf(&b, "%s,%s,Usage,/subscriptions/%s/rg/r%d,%s,S,EUR,1.25,1.25\n", day.Format(time.RFC3339), day.AddDate(0, 0, 1).Format(time.RFC3339), sub, i%4, sub)
	}
	path := filepath.Join(dir, "u.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := usagestore.Open(ctx, "file://"+filepath.Join(dir, "store"), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec := recorder{}
	im := partnerlink.UsageImport{Hash: "h", Name: "u.csv", Rows: 300}
	parts, err := st.Parts(ctx, rec, im, path, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var rows int64
	months := map[string]bool{}
	for _, p := range parts {
		rows += p.Rows
		months[p.Month] = true
		if p.Bucket < 0 || p.Bucket >= 4 || p.Bytes == 0 || !strings.HasSuffix(p.Key, fmt.Sprintf("month=%s/bucket=%02d/h.parquet", p.Month, p.Bucket)) {
			t.Errorf("part %+v", p)
		}
		if _, err := os.Stat(filepath.Join(dir, "store", filepath.FromSlash(p.Key))); err != nil {
			t.Errorf("part %s: %v", p.Key, err)
		}
	}
	if rows != 300 || len(months) != 2 {
		t.Errorf("%d rows in %d months, want 300 in 2", rows, len(months))
	}
	// A local part is read from its file, not copied into memory.
	whole, err := st.Read(ctx, parts[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	part, buf, done, err := st.OpenPart(ctx, parts[0].Key, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := part.(*os.File)
	if !ok || buf != nil {
		t.Errorf("OpenPart gave a %T and a buffer of %d bytes, want the part's file and no buffer", part, len(buf))
	} else if got, err := io.ReadAll(f); err != nil || string(got) != string(whole) {
		t.Errorf("the part's file holds %d bytes (%v), want the %d of Read", len(got), err, len(whole))
	}
	done()
	// A store that lost its parts (not restored with the database) gets
	// them again from the imported file, the same bytes.
	lost := filepath.Join(dir, "store", filepath.FromSlash(parts[1].Key))
	if err := os.Remove(lost); err != nil {
		t.Fatal(err)
	}
	again, err := st.Parts(ctx, rec, im, path, time.Now())
	if err != nil || len(again) != len(parts) {
		t.Fatalf("parts after one was lost: %d %v", len(again), err)
	}
	if got, err := st.Read(ctx, parts[1].Key); err != nil || len(got) != int(parts[1].Bytes) {
		t.Errorf("the lost part, written again: %d bytes (%v), want the %d recorded", len(got), err, parts[1].Bytes)
	}
	// Split already and whole: the file is not read again.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	again, err = st.Parts(ctx, rec, im, path, time.Now())
	if err != nil || len(again) != len(parts) {
		t.Errorf("parts again: %d %v", len(again), err)
	}
	// Lost with the file gone too: the error names the file.
	if err := os.Remove(lost); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Parts(ctx, rec, im, path, time.Now()); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a lost part without its file: %v", err)
	}
}

// A store URL that partnerlink does not read, or that carries credentials,
// says what would be accepted.
func TestOpenRefusals(t *testing.T) {
	for url, want := range map[string]string{
		"ftp://host/x":               "usage store \"ftp://host/x\": expected azblob://CONTAINER/PREFIX",
		"azblob://user:key@c/prefix": "put no credentials in the URL",
		"azblob://":                  "names no container or bucket: expected azblob://CONTAINER/PREFIX",
		"s3:///prefix":               "names no container or bucket",
	} {
		if _, err := usagestore.Open(context.Background(), url, 4); err == nil || !strings.Contains(partnerlink.ErrorMessage(err), want) {
			t.Errorf("Open(%q): %v; want %q", url, err, want)
		}
	}
}

// A charge period the store's timestamps cannot hold is refused, naming
// the line, and nothing is recorded; parts are written beside their place
// (a temporary folder on another file system does not matter).
func TestSplitRefusesFarDates(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := os.Stat("/dev/shm"); err == nil {
		t.Setenv("TMPDIR", "/dev/shm")
	}
	st, err := usagestore.Open(ctx, "file://"+filepath.Join(dir, "store"), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	csv := "ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost\n" +
		"2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,Usage,,f0f0f0f0-0000-4000-8000-000000000001,S,EUR,1,1\n" +
		"2026-11-01T00:00:00Z,9999-12-31T00:00:00Z,Usage,,f0f0f0f0-0000-4000-8000-000000000001,S,EUR,1,1\n"
	_, err = st.Split(ctx, "h", strings.NewReader(csv), "u.csv", false)
	if err == nil || !strings.Contains(err.Error(), "u.csv line 3") || !strings.Contains(err.Error(), "outside the years the usage store keeps") {
		t.Fatalf("a far date: %v", err)
	}
	good := csv[:strings.LastIndex(strings.TrimSuffix(csv, "\n"), "\n")+1]
	parts, err := st.Split(ctx, "h", strings.NewReader(good), "u.csv", false)
	if err != nil || len(parts) != 1 || parts[0].Rows != 1 {
		t.Fatalf("split with the temporary folder elsewhere: %+v %v", parts, err)
	}
}

// docs/scale.md, "The usage store": a file's amounts are kept as INT64
// decimals of the scale its amounts need when every one fits 18 digits at
// it (delta-encoded, not compressed), else as text; either way they read
// back as they were.
func TestSplitKeepsAmountsExact(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		amounts []string // EffectiveCost, BilledCost, x_EffectiveCostInUsd of each row
		want    string   // EffectiveCost's physical and logical type
	}{
		{"decimals", []string{"1.5", "2", "0.25", "12.500000", "0.000123", "-3", "1.000000000000000000", "7", "0"}, "INT64 DECIMAL(18,6)"},
		{"whole", []string{"1", "2", "3", "1E+3", "-40", "5"}, "INT64 DECIMAL(18,0)"},
		{"more than 18 digits", []string{"1.5", "123456789012.3456789", "2", "0", "0", "0"}, "BYTE_ARRAY STRING"},
		{"beyond the fast path", []string{"1.5", "0.0000000000000000001", "2"}, "BYTE_ARRAY STRING"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost,x_EffectiveCostInUsd\n")
			for i := 0; i+3 <= len(c.amounts); i += 3 {
				fmt.Fprintf(&b, "2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,Usage,/subscriptions/f0f0f0f0-0000-4000-8000-000000000001/r%d,f0f0f0f0-0000-4000-8000-000000000001,S,EUR,%s,%s,%s\n",
					i, c.amounts[i], c.amounts[i+1], c.amounts[i+2])
			}
			st, err := usagestore.Open(ctx, "file://"+filepath.Join(t.TempDir(), "store"), 1)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			parts, err := st.Split(ctx, "h", strings.NewReader(b.String()), "u.csv", true)
			if err != nil || len(parts) != 1 {
				t.Fatalf("split: %+v %v", parts, err)
			}
			data, err := st.Read(ctx, parts[0].Key)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			for _, col := range []string{"EffectiveCost", "BilledCost", "x_EffectiveCostInUsd"} {
				leaf, _ := f.Schema().Lookup(col)
				typ := leaf.Node.Type()
				got := typ.Kind().String()
				if lt := typ.LogicalType(); lt != nil && lt.String() != "" {
					got += " " + lt.String()
				}
				if got != c.want {
					t.Errorf("%s is %s, want %s", col, got, c.want)
				}
				if !strings.HasPrefix(c.want, "INT64") {
					continue
				}
				for _, ch := range f.Metadata().RowGroups[0].Columns {
					if md := ch.MetaData; strings.Join(md.PathInSchema, ".") == col {
						if !slices.Contains(md.Encoding, format.DeltaBinaryPacked) || md.Codec != format.Uncompressed {
							t.Errorf("%s is stored with %v, %v; want DELTA_BINARY_PACKED, UNCOMPRESSED", col, md.Encoding, md.Codec)
						}
					}
				}
			}
			var read []string
			err = focus.Scan(bytes.NewReader(data), parts[0].Key, focus.Options{}, func(_ int, r *focus.Row) error {
				read = append(read, r.EffectiveCost.String(), r.BilledCost.String(), r.EffectiveCostInUSD.String())
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for i, a := range c.amounts {
				if want := focus.MustAmount(a).String(); i >= len(read) || read[i] != want {
					t.Fatalf("amounts read back %q, want %q at %d", read, want, i)
				}
			}
			// A Parquet file splits too (its amounts read twice, as any
			// file's): the part split again holds the same amounts.
			again, err := st.Split(ctx, "h2", bytes.NewReader(data), "u.parquet", true)
			if err != nil || len(again) != 1 {
				t.Fatalf("split of the part: %+v %v", again, err)
			}
			data2, err := st.Read(ctx, again[0].Key)
			if err != nil {
				t.Fatal(err)
			}
			var read2 []string
			err = focus.Scan(bytes.NewReader(data2), again[0].Key, focus.Options{}, func(_ int, r *focus.Row) error {
				read2 = append(read2, r.EffectiveCost.String(), r.BilledCost.String(), r.EffectiveCostInUSD.String())
				return nil
			})
			if err != nil || strings.Join(read2, " ") != strings.Join(read, " ") {
				t.Errorf("the part split again reads %q (%v), want %q", read2, err, read)
			}
		})
	}
}

// docs/operations.md#usage-files: a part's temporary file that a killed import left behind
// is removed when the store is next opened; one still being written is
// not.
func TestOpenSweepsStaleTemporaryFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	bucket := filepath.Join(dir, "focus", "buckets=4", "month=2026-03", "bucket=01")
	if err := os.MkdirAll(bucket, 0o700); err != nil {
		t.Fatal(err)
	}
	stale, fresh, part := filepath.Join(bucket, "abc.parquet.1a2b.tmp"), filepath.Join(bucket, "def.parquet.3c4d.tmp"), filepath.Join(bucket, "old.parquet")
	for _, f := range []string{stale, fresh, part} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-2 * time.Hour)
	for _, f := range []string{stale, part} {
		if err := os.Chtimes(f, long, long); err != nil {
			t.Fatal(err)
		}
	}
	st, err := usagestore.Open(context.Background(), "file://"+dir, 4)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	for f, want := range map[string]bool{stale: false, fresh: true, part: true} {
		if _, err := os.Stat(f); (err == nil) != want {
			t.Errorf("%s there: %v, want %v", filepath.Base(f), err == nil, want)
		}
	}
}
