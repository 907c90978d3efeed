package exports_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/exports"
	"github.com/partnerlink/partnerlink/sqlstore"
)

const header = "ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost\n"

// usageCSV is n days of November 2026 usage of one resource at cost each.
func usageCSV(n int, cost string) string {
	var b strings.Builder
	b.WriteString(header)
	for d := range n {
		day := time.Date(2026, 11, 1+d, 0, 0, 0, 0, time.UTC)
		fmt.Fprintf(&b, "%s,%s,Usage,/subscriptions/f0f0f0f0-0000-4000-8000-000000000001/resourceGroups/g/providers/Microsoft.Web/sites/a,/subscriptions/f0f0f0f0-0000-4000-8000-000000000001,App Service,EUR,%s,%s\n",
			day.Format(time.RFC3339), day.AddDate(0, 0, 1).Format(time.RFC3339), cost, cost)
	}
	return b.String()
}

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

// part is a file of an export run, with what its manifest says of it.
type part struct {
	name  string
	data  []byte
	rows  int64
	bytes int64 // 0: the real size
}

// writeRun writes an export run in Azure's layout under root:
// EXPORT/20261101-20261130/RUN/{parts, manifest.json}, blob names relative
// to the container (root).
func writeRun(t *testing.T, root, export, run, submitted string, parts ...part) string {
	t.Helper()
	return writeRunAt(t, root, export, export, "", run, submitted, parts...)
}

// writeRunAt is writeRun with the export's folder, name and scope
// (exportConfig.resourceId) apart.
func writeRunAt(t *testing.T, root, folder, export, scope, run, submitted string, parts ...part) string {
	t.Helper()
	dir := filepath.Join(folder, "20261101-20261130", run)
	if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
		t.Fatal(err)
	}
	type blobInfo struct {
		BlobName     string `json:"blobName"`
		ByteCount    int64  `json:"byteCount"`
		DataRowCount int64  `json:"dataRowCount"`
	}
	var blobs []blobInfo
	var rows int64
	for _, p := range parts {
		if p.data != nil {
			if err := os.WriteFile(filepath.Join(root, dir, p.name), p.data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		n := p.bytes
		if n == 0 {
			n = int64(len(p.data))
		}
		blobs = append(blobs, blobInfo{filepath.ToSlash(filepath.Join(dir, p.name)), n, p.rows})
		rows += p.rows
	}
	m := map[string]any{"manifestVersion": "2024-04-01", "blobCount": len(parts), "dataRowCount": rows,
		"exportConfig": map[string]any{"exportName": export, "type": "FocusCost", "resourceId": scope},
		"runInfo":      map[string]any{"runId": run, "submittedTime": submitted, "startDate": "2026-11-01T00:00:00", "endDate": "2026-11-30T00:00:00"},
		"blobs":        blobs}
	b, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(root, dir, "manifest.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.ToSlash(filepath.Join(dir, "manifest.json"))
}

type fixture struct {
	ctx     context.Context
	root    string
	dataDir string
	db      *sqlstore.DB
}

func newFixture(t *testing.T) *fixture {
	ctx := context.Background()
	dataDir := t.TempDir()
	db, err := sqlstore.Open(ctx, filepath.Join(dataDir, "pl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &fixture{ctx: ctx, root: t.TempDir(), dataDir: dataDir, db: db}
}

// importAll imports every run at the fixture's source, stopping at the
// first error.
func (f *fixture) importAll(t *testing.T) ([]*exports.Imported, error) {
	t.Helper()
	return f.importFrom(t, "file://"+f.root)
}

// importFrom imports every run at the source URL.
func (f *fixture) importFrom(t *testing.T, source string) ([]*exports.Imported, error) {
	t.Helper()
	src, err := exports.Open(f.ctx, source)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	runs, err := src.Runs(f.ctx)
	if err != nil {
		return nil, err
	}
	var out []*exports.Imported
	for _, r := range runs {
		res, err := src.Import(f.ctx, f.db, f.dataDir, r, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), nil)
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

// novemberRows sums the rows of the files attribution reads for November.
func (f *fixture) novemberRows(t *testing.T) (int64, []string) {
	t.Helper()
	ims, err := f.db.UsageImports(f.ctx, "focus", []string{"2026-11"})
	if err != nil {
		t.Fatal(err)
	}
	var rows int64
	var totals []string
	for _, im := range ims {
		rows += im.Rows
		totals = append(totals, im.Totals["EUR"])
	}
	return rows, totals
}

// docs/usage-sources.md: a run is read through its manifest, once; the
// same content in another run counts once; a later run of the same
// export and period supersedes the earlier one.
func TestImportRunsOnceAndSupersede(t *testing.T) {
	f := newFixture(t)
	writeRun(t, f.root, "focus-daily", "run-1", "2026-11-10T03:00:00Z",
		part{name: "part_0_0001.csv.gz", data: gz(usageCSV(5, "1.50")), rows: 5},
		part{name: "part_1_0001.csv", data: []byte(usageCSV(3, "2")), rows: 3})
	res, err := f.importAll(t)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Already || res[0].Run.Rows != 8 || res[0].New != 2 || len(res[0].Run.Files) != 2 {
		t.Fatalf("first import: %+v", res[0])
	}
	if rows, _ := f.novemberRows(t); rows != 8 {
		t.Errorf("November rows after run 1: %d, want 8", rows)
	}
	// Again: nothing changes.
	res, err = f.importAll(t)
	if err != nil || len(res) != 1 || !res[0].Already {
		t.Fatalf("second import: %+v %v", res, err)
	}
	// The next day's run of the same export and period rewrites the month
	// to date: it supersedes run 1, whose files stop counting.
	writeRun(t, f.root, "focus-daily", "run-2", "2026-11-11T03:00:00Z",
		part{name: "part_0_0001.csv.gz", data: gz(usageCSV(10, "1.50")), rows: 10})
	res, err = f.importAll(t)
	if err != nil || len(res) != 2 || !res[0].Already || res[1].Already || res[1].Run.Rows != 10 {
		t.Fatalf("run 2: %+v %v", res, err)
	}
	if rows, totals := f.novemberRows(t); rows != 10 || len(totals) != 1 || totals[0] != "15" {
		t.Errorf("November after run 2: %d rows %v, want only run 2's 10 rows (15 EUR)", rows, totals)
	}
	// Another export (say, of another scope) counts beside it, and a part
	// already imported in another run is recorded once.
	writeRun(t, f.root, "focus-other", "run-a", "2026-11-11T04:00:00Z",
		part{name: "part_0_0001.csv", data: []byte(usageCSV(3, "2")), rows: 3})
	res, err = f.importAll(t)
	if err != nil || len(res) != 3 || res[2].New != 0 {
		t.Fatalf("other export: %+v %v", res, err)
	}
	if rows, _ := f.novemberRows(t); rows != 13 {
		t.Errorf("November with the other export: %d rows, want 13", rows)
	}
}

// docs/usage-sources.md, "Superseded runs": exports of one name in two
// folders or of two scopes are two exports and add up; one export's runs
// supersede each other however the source URL is spelled, and runs
// recorded under the former form of an export's name are its runs.
func TestExportsApartAndSpelledAlike(t *testing.T) {
	f := newFixture(t)
	writeRunAt(t, f.root, "scope-a/focus-daily", "focus-daily", "", "a1", "2026-11-10T03:00:00Z",
		part{name: "p.csv", data: []byte(usageCSV(2, "1")), rows: 2})
	writeRunAt(t, f.root, "scope-b/focus-daily", "focus-daily", "", "b1", "2026-11-10T03:10:00Z",
		part{name: "p.csv", data: []byte(usageCSV(3, "2")), rows: 3})
	writeRunAt(t, f.root, "shared", "focus-daily", "/subscriptions/S1", "s1", "2026-11-10T03:20:00Z",
		part{name: "p1.csv", data: []byte(usageCSV(4, "3")), rows: 4})
	writeRunAt(t, f.root, "shared", "focus-daily", "/subscriptions/S2", "s2", "2026-11-10T03:30:00Z",
		part{name: "p2.csv", data: []byte(usageCSV(5, "4")), rows: 5})
	if _, err := f.importAll(t); err != nil {
		t.Fatal(err)
	}
	if rows, _ := f.novemberRows(t); rows != 14 {
		t.Fatalf("four exports of one name: %d rows, want 2+3+4+5 = 14", rows)
	}
	// Scope A's next run, imported through another spelling of the source
	// (a trailing slash, then a narrower prefix), supersedes its first.
	writeRunAt(t, f.root, "scope-a/focus-daily", "focus-daily", "", "a2", "2026-11-11T03:00:00Z",
		part{name: "p.csv", data: []byte(usageCSV(6, "5")), rows: 6})
	if _, err := f.importFrom(t, "file://"+f.root+"/"); err != nil {
		t.Fatal(err)
	}
	if rows, _ := f.novemberRows(t); rows != 18 {
		t.Errorf("after scope A's second run: %d rows, want 6+3+4+5 = 18", rows)
	}
	writeRunAt(t, f.root, "scope-a/focus-daily", "focus-daily", "", "a3", "2026-11-12T03:00:00Z",
		part{name: "p.csv", data: []byte(usageCSV(7, "6")), rows: 7})
	if _, err := f.importFrom(t, "file://"+f.root+"/scope-a"); err != nil {
		t.Fatal(err)
	}
	if rows, _ := f.novemberRows(t); rows != 19 {
		t.Errorf("after scope A's third run, through a narrower prefix: %d rows, want 7+3+4+5 = 19", rows)
	}
	// The export's own folder as the source: the same export.
	writeRunAt(t, f.root, "scope-a/focus-daily", "focus-daily", "", "a4", "2026-11-13T03:00:00Z",
		part{name: "p.csv", data: []byte(usageCSV(8, "7")), rows: 8})
	if _, err := f.importFrom(t, "file://"+f.root+"/scope-a/focus-daily"); err != nil {
		t.Fatal(err)
	}
	if rows, _ := f.novemberRows(t); rows != 20 {
		t.Errorf("after scope A's fourth run, through the export's own folder: %d rows, want 8+3+4+5 = 20", rows)
	}
}

// Runs recorded by a release that named an export by the source URL as
// typed (before December 2026) are superseded by its next run.
func TestFormerExportNamesCarryOver(t *testing.T) {
	f := newFixture(t)
	writeRun(t, f.root, "focus-daily", "run-1", "2026-11-10T03:00:00Z",
		part{name: "p.csv", data: []byte(usageCSV(5, "1")), rows: 5})
	if _, err := f.importAll(t); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(f.dataDir, "pl.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	former := "file://" + f.root + "#focus-daily#2026-11-01T00:00:00/2026-11-30T00:00:00"
	if _, err := raw.Exec(`UPDATE export_runs SET export_key = $1`, former); err != nil {
		t.Fatal(err)
	}
	writeRun(t, f.root, "focus-daily", "run-2", "2026-11-11T03:00:00Z",
		part{name: "p.csv", data: []byte(usageCSV(8, "1")), rows: 8})
	if _, err := f.importAll(t); err != nil {
		t.Fatal(err)
	}
	if rows, _ := f.novemberRows(t); rows != 8 {
		t.Errorf("after the next run: %d rows, want run 2's 8 alone", rows)
	}
}

// docs/usage-sources.md: a run is all or nothing; a bad part names itself
// and nothing of the run is kept.
func TestImportRunAllOrNothing(t *testing.T) {
	good := part{name: "part_0_0001.csv", data: []byte(usageCSV(4, "1")), rows: 4}
	corrupt := []byte("PAR1 this is not a parquet file PAR1")
	for _, c := range []struct {
		name  string
		parts []part
		want  string
	}{
		{"missing part", []part{good, {name: "part_1_0001.csv", rows: 2}}, "part focus-daily/20261101-20261130/run-1/part_1_0001.csv is missing"},
		{"size differs", []part{good, {name: "part_1_0001.csv", data: []byte(usageCSV(2, "1")), rows: 2, bytes: 9}}, "the manifest says byteCount 9"},
		{"rows differ", []part{good, {name: "part_1_0001.csv", data: []byte(usageCSV(2, "1")), rows: 7}}, "holds 2 rows, the manifest says dataRowCount 7"},
		{"corrupt parquet", []part{good, {name: "part_1_0001.parquet", data: corrupt, rows: 1}}, "part_1_0001.parquet"},
		{"bad row", []part{good, {name: "part_1_0001.csv", data: []byte(header + "yesterday,x,Usage,/r,/s,S,EUR,1,1\n"), rows: 1}}, "part_1_0001.csv"},
		// The same rows in two parts would count twice.
		{"the same rows twice", []part{good, {name: "part_0_0001.csv.gz", data: gz(string(good.data)), rows: 4}},
			"parts focus-daily/20261101-20261130/run-1/part_0_0001.csv and focus-daily/20261101-20261130/run-1/part_0_0001.csv.gz hold the same usage rows"},
		{"a part listed twice", []part{good, good}, "lists part focus-daily/20261101-20261130/run-1/part_0_0001.csv twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			manifest := writeRun(t, f.root, "focus-daily", "run-1", "2026-11-10T03:00:00Z", c.parts...)
			_, err := f.importAll(t)
			if err == nil || !strings.Contains(partnerlink.ErrorMessage(err)+err.Error(), c.want) {
				t.Fatalf("error %v; want one naming %q", err, c.want)
			}
			if rows, _ := f.novemberRows(t); rows != 0 {
				t.Errorf("%d rows kept after a failed run", rows)
			}
			if _, err := f.db.UsageImportByHash(f.ctx, hashOf(good.data)); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
				t.Errorf("the good part of a failed run was recorded: %v", err)
			}
			kept, _ := filepath.Glob(filepath.Join(f.dataDir, "usage", "focus", "*"))
			if len(kept) != 0 {
				t.Errorf("files left in the data directory: %v", kept)
			}
			_ = manifest
		})
	}
}

// A source that is not a URL partnerlink reads, or carries credentials,
// says what would be accepted.
func TestOpenRefusals(t *testing.T) {
	ctx := context.Background()
	for url, want := range map[string]string{
		"ftp://host/x":                  "expected azblob://CONTAINER/PREFIX",
		"azblob://user:key@container/x": "put no credentials in the URL",
	} {
		if _, err := exports.Open(ctx, url); err == nil || !strings.Contains(partnerlink.ErrorMessage(err), want) {
			t.Errorf("Open(%q): %v; want %q", url, err, want)
		}
	}
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// docs/usage-sources.md, "When a run fails": a manifest that cannot be read
// and a run that cannot be imported are named, and the other runs of the
// source are imported all the same.
func TestBrokenRunDoesNotHoldBackOthers(t *testing.T) {
	f := newFixture(t)
	writeRun(t, f.root, "focus-a", "run-1", "2026-11-10T03:00:00Z", part{name: "part_0_0001.csv", rows: 2}) // its part is missing
	bad := filepath.Join(f.root, "focus-b", "20261101-20261130", "run-1")
	if err := os.MkdirAll(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "manifest.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeRun(t, f.root, "focus-c", "run-1", "2026-11-12T03:00:00Z", part{name: "part_0_0001.csv", data: []byte(usageCSV(3, "2")), rows: 3})
	var imported []string
	found, err := exports.ImportURL(f.ctx, "file://"+f.root, f.db, f.dataDir, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), nil,
		func(r exports.Run, _ *exports.Imported) { imported = append(imported, r.ManifestKey) })
	msg := fmt.Sprint(err)
	if !strings.Contains(msg, "focus-a/20261101-20261130/run-1/part_0_0001.csv is missing") || !strings.Contains(msg, "focus-b/20261101-20261130/run-1/manifest.json") {
		t.Errorf("error %v; want both broken runs named", err)
	}
	if found != 2 || len(imported) != 1 || !strings.HasPrefix(imported[0], "focus-c/") {
		t.Errorf("found %d, imported %v; want focus-c's run imported", found, imported)
	}
	if rows, _ := f.novemberRows(t); rows != 3 {
		t.Errorf("November rows: %d, want 3", rows)
	}
}
