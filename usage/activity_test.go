package usage_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/usage"
)

var ppBasic = filepath.Join("..", "powerplatform", "testdata", "basic")

// docs/api.md#activity-csv files as a usage kind: validated whole by the powerplatform
// reader, stored once by content hash, indexed by the months of their rows.
func TestImportActivity(t *testing.T) {
	db, dir := setup(t)
	ctx := context.Background()
	act, err := os.ReadFile(filepath.Join(ppBasic, "activity.csv"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := usage.Import(ctx, db, dir, usage.Activity, "activity.csv", bytes.NewReader(act), now, nil)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(strings.TrimSpace(string(act)), "\n")
	im := res.Import
	if res.Already || im.Kind != "activity" || im.Rows != int64(lines) || strings.Join(im.Months, ",") != "2026-02,2026-03,2026-04" ||
		!strings.HasPrefix(im.Path, filepath.Join("usage", "activity")) {
		t.Errorf("import = %+v (want %d rows)", im, lines)
	}
	if res, err := usage.Import(ctx, db, dir, usage.Activity, "again.csv", bytes.NewReader(act), now, nil); err != nil || !res.Already {
		t.Errorf("second import: %+v %v", res, err)
	}
	prof, err := os.ReadFile(filepath.Join(ppBasic, "profiles.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	res, err = usage.Import(ctx, db, dir, usage.Activity, "profiles.csv.gz", bytes.NewReader(prof), now, nil)
	if err != nil || !strings.HasSuffix(res.Import.Path, ".csv.gz") || len(res.Import.Months) == 0 {
		t.Fatalf("profiles import: %+v %v", res, err)
	}

	// A bad line: named by file and line, nothing kept.
	bad := strings.Replace(string(act), "2026-03-03,", "2026-03-32,", 1)
	line := strings.Count(bad[:strings.Index(bad, "2026-03-32")], "\n") + 1
	_, err = usage.Import(ctx, db, dir, usage.Activity, "broken.csv", strings.NewReader(bad), now, nil)
	if err == nil || !strings.Contains(err.Error(), "broken.csv line "+strconv.Itoa(line)) || !strings.Contains(err.Error(), "Date") {
		t.Errorf("bad line %d: %v", line, err)
	}
	ims, err := db.UsageImports(ctx, usage.Activity.Name, nil)
	if err != nil || len(ims) != 2 {
		t.Errorf("imports after a refused file: %v %v", ims, err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "usage", "activity"))
	if len(entries) != 2 {
		t.Errorf("files kept: %v", entries)
	}

	// LoadActivity reads every file with rows before to, earlier months included.
	a, files, err := usage.LoadActivity(ctx, db, dir, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
	march := partnerlink.MonthOf(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || len(files) != 2 || a.MAU("expenses", march) != 3 {
		t.Errorf("load: %v files, %v", files, err)
	} else if n, ok := a.UnifiedProfiles("ci-main", march); !ok || n != 48211 {
		t.Errorf("profiles of ci-main in March = %d %t", n, ok)
	}
	a, files, err = usage.LoadActivity(ctx, db, dir, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || len(files) != 0 || a.Rows() != 0 {
		t.Errorf("load before any row: %v %v", files, err)
	}
}
