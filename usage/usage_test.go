package usage_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/usage"
)

var now = time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)

func setup(t *testing.T) (*sqlstore.DB, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlstore.Open(context.Background(), filepath.Join(dir, "pl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dir
}

// docs/api.md#focus-usage: an import is all-or-nothing, and re-importing the same file
// (even compressed or differently named) does not count it twice.
func TestImport(t *testing.T) {
	db, dir := setup(t)
	ctx := context.Background()
	data, err := os.ReadFile("testdata/march.csv")
	if err != nil {
		t.Fatal(err)
	}
	res, err := usage.Import(ctx, db, dir, usage.FOCUS, "march.csv", bytes.NewReader(data), now, nil)
	if err != nil {
		t.Fatal(err)
	}
	im := res.Import
	if res.Already || im.Rows != 6 || im.Totals["EUR"] != "15.615" || len(im.Months) != 1 || im.Months[0] != "2026-03" {
		t.Errorf("import = %+v", res)
	}
	if _, err := os.Stat(filepath.Join(dir, im.Path)); err != nil {
		t.Errorf("file not kept: %v", err)
	}
	res, err = usage.Import(ctx, db, dir, usage.FOCUS, "again.csv", bytes.NewReader(data), now, nil)
	if err != nil || !res.Already {
		t.Errorf("second import: %+v %v", res, err)
	}
	// docs/rules.md#usage-input: the same rows in other bytes are the same
	// usage, counted once: gzip-compressed, with CRLF line ends and a byte
	// order mark, in another order.
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(data)
	w.Close()
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	reordered := append([]string{lines[0]}, lines[1:]...)
	slices.Reverse(reordered[1:])
	for name, b := range map[string][]byte{
		"march.csv.gz":    gz.Bytes(),
		"march-crlf.csv":  []byte("\uFEFF" + strings.Join(lines, "\r\n") + "\r\n"),
		"march-other.csv": []byte(strings.Join(reordered, "\n") + "\n"),
	} {
		res, err = usage.Import(ctx, db, dir, usage.FOCUS, name, bytes.NewReader(b), now, nil)
		if err != nil || !res.Already || res.Import.Name != "march.csv" {
			t.Errorf("%s, the same rows: %+v %v", name, res, err)
		}
	}
	// One amount changed (4.20 to 4.2 is no change): another file.
	changed := strings.Replace(string(data), "4.20,4.20", "4.2,4.21", 1)
	if changed == string(data) {
		t.Fatal("test bug: no amount 4.20,4.20 in testdata/march.csv")
	}
	res, err = usage.Import(ctx, db, dir, usage.FOCUS, "march-changed.csv", strings.NewReader(changed), now, nil)
	if err != nil || res.Already {
		t.Errorf("a changed file: %+v %v", res, err)
	}
	unchanged := strings.Replace(string(data), "4.20,4.20", "4.2,4.20", 1)
	if res, err = usage.Import(ctx, db, dir, usage.FOCUS, "march-4.2.csv", strings.NewReader(unchanged), now, nil); err != nil || !res.Already {
		t.Errorf("4.20 written 4.2: %+v %v", res, err)
	}
	files, err := usage.Files(ctx, db, dir, usage.FOCUS, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || len(files) != 2 {
		t.Errorf("files of March = %v %v", files, err)
	}
	if files, _ := usage.Files(ctx, db, dir, usage.FOCUS, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)); len(files) != 0 {
		t.Errorf("files of April = %v", files)
	}
}

func TestBadRowImportsNothing(t *testing.T) {
	db, dir := setup(t)
	ctx := context.Background()
	data, _ := os.ReadFile("testdata/march.csv")
	lines := strings.Split(string(data), "\n")
	lines[3] = strings.Replace(lines[3], "4.20,4.20", "4.2O,4.20", 1) // a letter O in EffectiveCost, line 4
	_, err := usage.Import(ctx, db, dir, usage.FOCUS, "broken.csv", strings.NewReader(strings.Join(lines, "\n")), now, nil)
	if err == nil || !strings.Contains(err.Error(), "broken.csv") || !strings.Contains(err.Error(), "line 4") {
		t.Fatalf("bad row error = %v, want file and line named", err)
	}
	ims, _ := db.UsageImports(ctx, "", nil)
	entries, _ := os.ReadDir(filepath.Join(dir, "usage", "focus"))
	if len(ims) != 0 || len(entries) != 0 {
		t.Errorf("a failed import left %d records and %d files", len(ims), len(entries))
	}
}
