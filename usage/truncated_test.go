package usage_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink/usage"
)

// gzipCut compresses head, flushes, compresses tail, and returns the
// stream cut at the flush: head decodes cleanly, then the stream ends.
func gzipCut(head, tail string) []byte {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(head))
	w.Flush()
	at := gz.Len()
	w.Write([]byte(tail))
	w.Close()
	return gz.Bytes()[:at]
}

// docs/rules.md "Usage input": an import of a truncated gzip file — FOCUS
// usage or Power Platform activity — fails naming the file and keeps
// nothing: no record, no file.
func TestImportTruncatedGzipKeepsNothing(t *testing.T) {
	db, dir := setup(t)
	ctx := context.Background()
	focusData, err := os.ReadFile("testdata/march.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(focusData), "\n")
	activity, err := os.ReadFile(filepath.Join(ppBasic, "activity.csv"))
	if err != nil {
		t.Fatal(err)
	}
	act := strings.SplitAfter(string(activity), "\n")
	cases := []struct {
		kind usage.Kind
		name string
		data []byte
	}{
		{usage.FOCUS, "march.csv.gz", gzipCut(strings.Join(lines[:4], ""), strings.Join(lines[4:], ""))},
		{usage.Activity, "activity.csv.gz", gzipCut(strings.Join(act[:8], ""), strings.Join(act[8:], ""))},
	}
	for _, c := range cases {
		_, err := usage.Import(ctx, db, dir, c.kind, c.name, bytes.NewReader(c.data), now, nil)
		want := c.name + ": the file ends early: its gzip stream is cut short (the file is truncated or was not completely written); a truncated file is refused whole, never read as a shorter one"
		if err == nil || err.Error() != want {
			t.Errorf("%s: got %v\nwant %s", c.name, err, want)
		}
		ims, err := db.UsageImports(ctx, c.kind.Name, nil)
		entries, _ := os.ReadDir(filepath.Join(dir, "usage", c.kind.Name))
		if err != nil || len(ims) != 0 || len(entries) != 0 {
			t.Errorf("%s: a refused import left %d records and %d files (%v)", c.name, len(ims), len(entries), err)
		}
	}
}
