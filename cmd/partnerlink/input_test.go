package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cutGzipUsage writes the azure-basic usage as a 50-row gzip file cut
// right after a flush that follows row 20: the 20 rows before the cut
// decode cleanly, the stream then ends without its last block and trailer.
// It returns the paths of the cut file and of the whole file.
func cutGzipUsage(t *testing.T) (cut, whole string) {
	t.Helper()
	data, err := os.ReadFile("testdata/azure-basic/usage.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
	rows := lines[1:]
	var head, tail strings.Builder
	head.WriteString(lines[0])
	for i := 0; i < 50; i++ {
		r := strings.TrimSuffix(rows[i%len(rows)], "\n") + "\n"
		if i < 20 {
			head.WriteString(r)
		} else {
			tail.WriteString(r)
		}
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(head.String()))
	w.Flush()
	at := gz.Len()
	w.Write([]byte(tail.String()))
	w.Close()
	dir := t.TempDir()
	cut, whole = filepath.Join(dir, "cut.csv.gz"), filepath.Join(dir, "whole.csv.gz")
	if err := os.WriteFile(cut, gz.Bytes()[:at], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(whole, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return cut, whole
}

const endsEarly = ": the file ends early: its gzip stream is cut short (the file is truncated or was not completely written); a truncated file is refused whole, never read as a shorter one"

// docs/rules.md "Usage input": `partnerlink attribute` on a truncated gzip
// usage file fails naming the file and writes no credits (before, it
// credited the 20 rows before the cut and exited 0).
func TestAttributeTruncatedGzip(t *testing.T) {
	cut, whole := cutGzipUsage(t)
	w := "testdata/azure-basic/world.json"
	out, _, err := runAttributeCmd(t, "attribute", "--world", w, "--usage", whole, "--from", "2026-03-01", "--to", "2026-04-01")
	if err != nil || !strings.Contains(out, ",EUR,") {
		t.Fatalf("whole file: %v\n%s", err, out)
	}
	for _, usage := range [][]string{{cut}, {whole, cut}} {
		args := []string{"attribute", "--world", w, "--from", "2026-03-01", "--to", "2026-04-01"}
		for _, u := range usage {
			args = append(args, "--usage", u)
		}
		out, stderr, err := runAttributeCmd(t, args...)
		if err == nil || err.Error() != cut+endsEarly {
			t.Errorf("%v: got %v\nwant %s", usage, err, cut+endsEarly)
		}
		if out != "" || strings.Contains(stderr, "credited") {
			t.Errorf("%v: output written for a truncated file:\n%s\n%s", usage, out, stderr)
		}
	}
}

// docs/rules.md "Usage input": importing a truncated gzip file, or a file
// with a row in another subscription than its resource's, fails naming
// the file (and the line) and keeps nothing.
func TestImportRefusesTruncatedAndInconsistentUsage(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "import", "testdata/azure-basic/world.json")
	cut, _ := cutGzipUsage(t)
	if _, err := run(t, dir, "import", cut); err == nil || err.Error() != "cut.csv.gz"+endsEarly {
		t.Errorf("truncated import: got %v\nwant %s", err, "cut.csv.gz"+endsEarly)
	}

	// Cut before the end of the header line: refused before it is sniffed.
	data, _ := os.ReadFile(cut)
	early := filepath.Join(t.TempDir(), "early.csv.gz")
	os.WriteFile(early, data[:20], 0o644)
	if _, err := run(t, dir, "import", early); err == nil ||
		err.Error() != early+": the file ends early: its gzip stream is cut short (the file is truncated or was not completely written)" {
		t.Errorf("import cut in the header: %v", err)
	}

	const s1 = "9d8c7b6a-5f4e-4d3c-8b2a-190807060504"
	const other = "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d"
	usage, _ := os.ReadFile("testdata/azure-basic/usage.csv")
	lines := strings.Split(string(usage), "\n")
	lines[4] = strings.Replace(lines[4], ",/subscriptions/"+s1+",", ",/subscriptions/"+other+",", 1)
	mixed := filepath.Join(t.TempDir(), "mixed.csv")
	os.WriteFile(mixed, []byte(strings.Join(lines, "\n")), 0o644)
	want := `mixed.csv line 5: ResourceId "/subscriptions/` + s1 + `/resourceGroups/data/providers/Microsoft.Sql/servers/shopdb" names subscription ` + s1 +
		` but SubAccountId is /subscriptions/` + other + `; a row's resource must be in its own subscription`
	if _, err := run(t, dir, "import", mixed); err == nil || err.Error() != want {
		t.Errorf("inconsistent import:\ngot  %v\nwant %s", err, want)
	}

	entries, _ := os.ReadDir(filepath.Join(dir, "usage", "focus"))
	if len(entries) != 0 {
		t.Errorf("refused imports left files: %v", entries)
	}
	out := mustRun(t, dir, "attribute", "--from", "2026-03-01", "--to", "2026-04-01")
	if !strings.Contains(out, "run 1 stored (0 usage files)") {
		t.Errorf("refused imports left usage to attribute:\n%s", out)
	}
}
