package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
)

// testExportRuns: export runs are recorded once with their files, and of
// the runs of one export and period only the latest one's files are read
// (docs/usage-sources.md, "Superseded runs").
func testExportRuns(t *testing.T, s Store) {
	ctx := context.Background()
	at := time.Date(2026, 11, 10, 3, 0, 0, 0, time.UTC)
	file := func(hash string, rows int64) partnerlink.UsageImport {
		return partnerlink.UsageImport{Hash: hash, Kind: "focus", Name: hash + ".csv", Path: "usage/focus/" + hash + ".csv", Rows: rows,
			Totals: map[string]string{"EUR": "1"}, Months: []string{"2026-11"}, ImportedAt: at}
	}
	current := func() map[string]bool {
		t.Helper()
		ims, err := s.UsageImports(ctx, "focus", []string{"2026-11"})
		must(t, err)
		out := map[string]bool{}
		for _, im := range ims {
			out[im.Hash] = true
		}
		return out
	}
	must(t, errOf(s.RecordUsageImport(ctx, file("plain", 1))))
	run1 := partnerlink.ExportRun{Key: "e/p/run1/manifest.json@1", Source: "azblob://c/e", Export: "azblob://c/e#daily#11",
		SubmittedAt: at, ImportedAt: at, Rows: 3, Files: []string{"a", "b"}}
	created, err := s.RecordExportRun(ctx, run1, []partnerlink.UsageImport{file("a", 1), file("b", 2)})
	if err != nil || !created {
		t.Fatalf("record run 1: %v %v", created, err)
	}
	if created, err := s.RecordExportRun(ctx, run1, nil); err != nil || created {
		t.Fatalf("run 1 again: %v %v", created, err)
	}
	got, err := s.ExportRun(ctx, run1.Key)
	if err != nil || got.Rows != 3 || len(got.Files) != 2 || got.Files[0] != "a" || !got.SubmittedAt.Equal(at) || got.Export != run1.Export {
		t.Fatalf("run 1 read back: %+v %v", got, err)
	}
	if _, err := s.ExportRun(ctx, "nope"); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("unknown run: %v", err)
	}
	if c := current(); !c["plain"] || !c["a"] || !c["b"] || len(c) != 3 {
		t.Errorf("after run 1: %v", c)
	}
	// Run 2 of the same export and period keeps b and replaces a by c.
	run2 := run1
	run2.Key, run2.SubmittedAt, run2.Files = "e/p/run2/manifest.json@2", at.Add(24*time.Hour), []string{"b", "c"}
	if created, err := s.RecordExportRun(ctx, run2, []partnerlink.UsageImport{file("c", 5)}); err != nil || !created {
		t.Fatalf("record run 2: %v %v", created, err)
	}
	if c := current(); !c["plain"] || c["a"] || !c["b"] || !c["c"] || len(c) != 3 {
		t.Errorf("after run 2: %v; want plain, b and c", c)
	}
	// Another export's run beside them supersedes nothing.
	other := run1
	other.Key, other.Export, other.Files = "o/p/run1/manifest.json@3", "azblob://c/e#other#11", []string{"d"}
	must(t, errOf(s.RecordExportRun(ctx, other, []partnerlink.UsageImport{file("d", 1)})))
	if c := current(); !c["d"] || !c["c"] || len(c) != 4 {
		t.Errorf("after another export: %v", c)
	}
}

func errOf[T any](_ T, err error) error { return err }
