package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/partnerlink/partnerlink/world"
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

// docs/performance.md, "Memory as rows grow": usage read in passes, one
// bucket of subscriptions each, gives the output and summary of one pass,
// byte for byte; --passes takes auto or a number.
func TestAttributeInPasses(t *testing.T) {
	// The azure-basic world and usage over eight subscriptions, so that
	// the passes' buckets each hold some.
	src := "testdata/azure-basic"
	b, err := os.ReadFile(filepath.Join(src, "world.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc world.Document
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	usage, err := os.ReadFile(filepath.Join(src, "usage.csv"))
	if err != nil {
		t.Fatal(err)
	}
	const sub = "9d8c7b6a-5f4e-4d3c-8b2a-190807060504"
	header, rows, _ := strings.Cut(string(usage), "\n")
	more := header + "\n"
	assignments := doc.RoleAssignments
	n := 0
	for k := range 8 {
		id := fmt.Sprintf("9d8c7b6a-5f4e-4d3c-8b2a-1908070605%02d", 10+k)
		more += strings.ReplaceAll(rows, sub, id)
		s := doc.Subscriptions[0]
		s.SubscriptionID = id
		doc.Subscriptions = append(doc.Subscriptions, s)
		for _, ra := range assignments {
			if strings.Contains(ra.Scope, sub) && k%3 != 2 { // a third of them credited to no one
				ra.Scope = strings.ReplaceAll(ra.Scope, sub, id)
				n++
				ra.ID = fmt.Sprintf("f1000000-0000-4000-8000-%012d", n)
				doc.RoleAssignments = append(doc.RoleAssignments, ra)
			}
		}
	}
	dir := t.TempDir()
	if b, err = json.Marshal(&doc); err != nil {
		t.Fatal(err)
	}
	w, u, u2 := filepath.Join(dir, "world.json"), filepath.Join(dir, "u.csv"), filepath.Join(dir, "u2.csv")
	for path, data := range map[string]string{w: string(b), u: more, u2: string(usage)} {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"attribute", "--world", w, "--usage", u, "--usage", u2, "--from", "2026-02-01", "--to", "2026-04-01", "--index-cache", "off"}
	want, wantSum, err := runAttributeCmd(t, append(args, "--passes", "1")...)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(want, "\n") < 12 || !strings.Contains(wantSum, "no partner holds access: 33 rows") {
		t.Fatalf("the usage credits too little to compare:\n%s%s", want, wantSum)
	}
	for _, passes := range []string{"auto", "2", "3", "7"} {
		got, gotSum, err := runAttributeCmd(t, append(args, "--passes", passes)...)
		if err != nil || got != want || gotSum != wantSum {
			t.Fatalf("--passes %s (%v):\n%s%s\none pass:\n%s%s", passes, err, got, gotSum, want, wantSum)
		}
	}
	// A bad row stops every pass count with the error of one pass: the
	// first pass reads every row whole, whichever pass credits it.
	badRows := strings.Replace(more, ",4.20,4.20\n", ",4.20,4.2O\n", 7) // rows of several subscriptions
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte(badRows), 0o644); err != nil {
		t.Fatal(err)
	}
	badArgs := []string{"attribute", "--world", w, "--usage", bad, "--from", "2026-02-01", "--to", "2026-04-01", "--index-cache", "off"}
	_, _, wantErr := runAttributeCmd(t, append(badArgs, "--passes", "1")...)
	if wantErr == nil || !strings.Contains(wantErr.Error(), "BilledCost \"4.2O\" is not valid") {
		t.Fatalf("a bad row in one pass: %v", wantErr)
	}
	for _, passes := range []string{"2", "3", "7"} {
		if _, _, err := runAttributeCmd(t, append(badArgs, "--passes", passes)...); err == nil || err.Error() != wantErr.Error() {
			t.Errorf("a bad row, --passes %s: %v; one pass: %v", passes, err, wantErr)
		}
	}
	// auto cuts by the rows the files hold, about: with a pass per 5 rows
	// these files make many passes, and the same output.
	defer func(saved int64) { rowsPerPass = saved }(rowsPerPass)
	rowsPerPass = 5
	if n, err := attributePasses("auto", []string{u, u2}); err != nil || n < 8 {
		t.Errorf("auto at 5 rows a pass: %d passes (%v), want more than 8", n, err)
	}
	if got, gotSum, err := runAttributeCmd(t, args...); err != nil || got != want || gotSum != wantSum {
		t.Fatalf("auto at 5 rows a pass (%v):\n%s%s\none pass:\n%s%s", err, got, gotSum, want, wantSum)
	}
	// A pipe is read once: auto makes one pass, a number above 1 is
	// refused with what to do.
	fifo := filepath.Join(dir, "usage.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		if err := os.WriteFile(fifo, []byte(more), 0o600); err != nil {
			t.Error(err)
		}
	}()
	pipeArgs := []string{"attribute", "--world", w, "--usage", fifo, "--from", "2026-02-01", "--to", "2026-04-01", "--index-cache", "off"}
	oneFile, _, err := runAttributeCmd(t, "attribute", "--world", w, "--usage", u, "--from", "2026-02-01", "--to", "2026-04-01", "--index-cache", "off", "--passes", "1")
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := runAttributeCmd(t, pipeArgs...); err != nil || got != oneFile {
		t.Errorf("usage from a pipe (%v):\n%s\nwant:\n%s", err, got, oneFile)
	}
	if _, _, err := runAttributeCmd(t, append(pipeArgs, "--passes", "2")...); err == nil || !strings.Contains(err.Error(), "is not a regular file (a pipe?)") {
		t.Errorf("--passes 2 on a pipe: %v", err)
	}
	if _, _, err := runAttributeCmd(t, "attribute", "--powerplatform", "--world", w, "--usage", u, "--from", "2026-02-01", "--to", "2026-04-01", "--passes", "2"); err == nil || !strings.Contains(err.Error(), "--passes reads Azure usage files") {
		t.Errorf("--passes with --powerplatform: %v", err)
	}
	for _, bad := range []string{"0", "-1", "many", "65"} {
		_, _, err := runAttributeCmd(t, append(args, "--passes", bad)...)
		if err == nil || !strings.Contains(err.Error(), "expected auto or a number from 1 to 64") {
			t.Errorf("--passes %s: %v", bad, err)
		}
	}
}
