package usage_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
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
// (even compressed differently named) does not count it twice.
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
	// The same rows gzip-compressed are another file (another hash): the
	// store keeps it, and the run decides; but identical bytes never twice.
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(data)
	w.Close()
	res, err = usage.Import(ctx, db, dir, usage.FOCUS, "march.csv.gz", bytes.NewReader(gz.Bytes()), now, nil)
	if err != nil || res.Already || !strings.HasSuffix(res.Import.Path, ".csv.gz") {
		t.Errorf("gzip import: %+v %v", res, err)
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
