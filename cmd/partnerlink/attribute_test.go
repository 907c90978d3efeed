package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runAttributeCmd runs the partnerlink command tree in process.
func runAttributeCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := NewMain()
	m.Stdout, m.Stderr, m.Stdin = &out, &errOut, strings.NewReader("")
	root := newRootCmd(m)
	root.SetArgs(args)
	root.SetOut(&errOut)
	root.SetErr(&errOut)
	err := root.Execute()
	return out.String(), errOut.String(), err
}

// docs/api.md#attribution-csv, README.md#commands: `partnerlink attribute` on the shared azure-basic
// example prints exactly its expected.csv on standard output, and the
// summary of rows not credited on standard error.
func TestAttributeGolden(t *testing.T) {
	dir := "testdata/azure-basic"
	want, err := os.ReadFile(filepath.Join(dir, "expected.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, period := range [][2]string{{"2026-03-01", "2026-04-01"}, {"2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"}} {
		out, stderr, err := runAttributeCmd(t, "attribute", "--world", filepath.Join(dir, "world.json"), "--usage", filepath.Join(dir, "usage.csv"),
			"--from", period[0], "--to", period[1])
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		if out != string(want) {
			t.Fatalf("stdout:\n%s\nwant:\n%s", out, want)
		}
		if !strings.Contains(stderr, "not credited, no partner holds access: 3 rows, 6.21 EUR") {
			t.Errorf("stderr lacks the summary:\n%s", stderr)
		}
	}
}

// README.md#commands: --usage repeats; a bad argument or row is a clear error.
func TestAttributeErrors(t *testing.T) {
	dir := "testdata/azure-basic"
	w, u := filepath.Join(dir, "world.json"), filepath.Join(dir, "usage.csv")
	// The same file twice doubles every credit.
	out, _, err := runAttributeCmd(t, "attribute", "--world", w, "--usage", u, "--usage", u, "--from", "2026-03-01", "--to", "2026-04-01")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, ",EUR,16.8,8.4,4\n") {
		t.Errorf("two --usage files not both read:\n%s", out)
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	data, _ := os.ReadFile(u)
	os.WriteFile(bad, bytes.Replace(data, []byte(",1.005,1.005"), []byte(",one,1.005"), 1), 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--world", w, "--usage", u, "--from", "March", "--to", "2026-04-01"}, `--from "March" is not a day`},
		{[]string{"--world", w, "--usage", u, "--from", "2026-04-01", "--to", "2026-03-01"}, "must be before --to"},
		{[]string{"--world", w, "--from", "2026-03-01", "--to", "2026-04-01"}, "give both --world FILE and --usage FILE"},
		{[]string{"--world", w, "--usage", bad, "--from", "2026-03-01", "--to", "2026-04-01"}, "bad.csv line 3: EffectiveCost \"one\" is not valid"},
	}
	for _, c := range cases {
		_, _, err := runAttributeCmd(t, append([]string{"attribute"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error with %q", c.args, err, c.want)
		}
	}
}

// The attribute command's index snapshots go to a folder of the tests'
// own, not the user's cache.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "partnerlink-index-cache")
	if err != nil {
		panic(err)
	}
	os.Setenv("PARTNERLINK_INDEX_CACHE", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// docs/performance.md, "Index snapshots": a world document read again is
// read from its snapshot, with the same credits; a changed document is
// indexed anew, and --index-cache off keeps nothing.
func TestAttributeIndexSnapshots(t *testing.T) {
	dir := "testdata/azure-basic"
	want, err := os.ReadFile(filepath.Join(dir, "expected.csv"))
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	w := filepath.Join(t.TempDir(), "world.json")
	doc, _ := os.ReadFile(filepath.Join(dir, "world.json"))
	os.WriteFile(w, doc, 0o644)
	attribute := func(cache string) string {
		t.Helper()
		out, stderr, err := runAttributeCmd(t, "attribute", "--world", w, "--usage", filepath.Join(dir, "usage.csv"),
			"--from", "2026-03-01", "--to", "2026-04-01", "--index-cache", cache)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		return out
	}
	snapshots := func() []string {
		m, _ := filepath.Glob(filepath.Join(cache, "index-*.snapshot"))
		return m
	}
	if out := attribute(cache); out != string(want) || len(snapshots()) != 1 {
		t.Fatalf("first run: %d snapshots, stdout:\n%s", len(snapshots()), out)
	}
	// Read from the snapshot: the document is not even parsed (a snapshot
	// whose bytes are damaged is not read, and is replaced).
	if out := attribute(cache); out != string(want) || len(snapshots()) != 1 {
		t.Fatalf("from the snapshot: %d snapshots, stdout:\n%s", len(snapshots()), out)
	}
	snap := snapshots()[0]
	b, _ := os.ReadFile(snap)
	b[len(b)/2] ^= 0xff
	os.WriteFile(snap, b, 0o600)
	if out := attribute(cache); out != string(want) {
		t.Fatalf("over a damaged snapshot:\n%s", out)
	}
	if fixed, _ := os.ReadFile(snap); bytes.Equal(fixed, b) {
		t.Errorf("the damaged snapshot was not replaced")
	}
	// Another document (a link that ends earlier): another snapshot,
	// other credits.
	os.WriteFile(w, bytes.Replace(doc, []byte(`"to": "2026-03-03T00:00:00Z"`), []byte(`"to": "2026-03-02T00:00:00Z"`), 1), 0o644)
	if out := attribute(cache); out == string(want) || len(snapshots()) != 2 {
		t.Errorf("a changed world document: %d snapshots, stdout:\n%s", len(snapshots()), out)
	}
	os.WriteFile(w, doc, 0o644)
	if out := attribute("off"); out != string(want) {
		t.Fatalf("--index-cache off:\n%s", out)
	}
}
