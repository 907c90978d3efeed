package sqlstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
)

// The checkpointer keeps the WAL from growing without end while link
// changes are written from many goroutines at once: a checkpoint completes
// under the writer lock every restartEvery rounds and the WAL starts over,
// and nothing deadlocks between the writer lock, group commit and the
// checkpointer.
func TestCheckpointerRestartsTheWAL(t *testing.T) {
	const every = 2
	saved, savedFlush := restartEvery, flushFS
	restartEvery = every
	var flushes atomic.Int32
	flushFS = func(dir string) error { flushes.Add(1); return savedFlush(dir) }
	t.Cleanup(func() { restartEvery, flushFS = saved, savedFlush })
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "partnerlink.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	const writers, changes = 8, 400
	var wg sync.WaitGroup
	start := time.Unix(1_780_000_000, 0)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range changes {
				partner := []string{"1111111", "2222222"}[i%2]
				_, _, err := d.ChangeLink(ctx, "0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60", fmt.Sprintf("00000000-0000-4000-8000-%012d", w),
					start.Add(time.Duration(i)*time.Second), partnerlink.Caller{},
					func(cur *partnerlink.Link) (partnerlink.LinkChange, error) {
						if cur == nil {
							return partnerlink.LinkChange{Action: partnerlink.LinkCreated, PartnerID: partner}, nil
						}
						return partnerlink.LinkChange{Action: partnerlink.LinkReplaced, PartnerID: partner}, nil
					})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Every change wrote several pages: far more than restartEvery ×
	// checkpointAfter went through the WAL, so without restarts it would
	// hold them all.
	var busy, walPages, copied int
	if err := d.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &walPages, &copied); err != nil {
		t.Fatal(err)
	}
	if limit := 3 * every * checkpointAfter; walPages > limit {
		t.Errorf("the WAL holds %d pages after %d changes; it should start over every ~%d", walPages, writers*changes, every*checkpointAfter)
	}
	n, err := d.Links(ctx, partnerlink.LinkFilter{})
	if err != nil || len(n) != writers*changes {
		t.Errorf("links = %d (%v), want %d", len(n), err, writers*changes)
	}
	// The file system was flushed before the passes that restarted the
	// WAL, and is not while nothing is written.
	if flushes.Load() == 0 {
		t.Error("no flush before a checkpoint that restarts the WAL")
	}
	round := func() {
		d.checkpoints <- struct{}{}
		time.Sleep(20 * time.Millisecond)
	}
	for range 2 * every {
		round()
	}
	idle := flushes.Load()
	for range 3 * every {
		round()
	}
	if got := flushes.Load(); got != idle {
		t.Errorf("%d flushes while idle", got-idle)
	}
}

// A decide that panics fails its own change only: the changes written with
// it in one batch are retried alone, and later changes still get through.
func TestGroupCommitSurvivesAPanickingDecide(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "partnerlink.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	create := func(cur *partnerlink.Link) (partnerlink.LinkChange, error) {
		return partnerlink.LinkChange{Action: partnerlink.LinkCreated, PartnerID: "1111111"}, nil
	}
	errs := make([]error, 16)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			decide := create
			if i == 5 {
				decide = func(*partnerlink.Link) (partnerlink.LinkChange, error) { panic("boom") }
			}
			_, _, errs[i] = d.ChangeLink(ctx, "0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60", fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
				time.Unix(1_780_000_000, 0), partnerlink.Caller{}, decide)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 5) != (err != nil) {
			t.Errorf("change %d: err = %v", i, err)
		}
	}
	if _, _, err := d.ChangeLink(ctx, "0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60", "00000000-0000-4000-8000-000000000099",
		time.Unix(1_780_000_000, 0), partnerlink.Caller{}, create); err != nil {
		t.Errorf("a change after the panic: %v", err)
	}
}

// sqliteDir finds the directory to flush before a completing checkpoint,
// reading file: URIs as SQLite does.
func TestSQLiteDir(t *testing.T) {
	tmp, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cwd, _ := os.Getwd()
	cwd, _ = filepath.EvalSymlinks(cwd)
	spaced := filepath.Join(tmp, "my dir")
	linked := filepath.Join(tmp, "link")
	if err := os.Mkdir(spaced, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(spaced, linked); err != nil {
		t.Fatal(err)
	}
	for dsn, want := range map[string]string{
		tmp + "/pl.db": tmp,
		"data/pl.db":   filepath.Join(cwd, "data"),
		"pl.db":        cwd,
		"file:" + tmp + "/pl.db?_pragma=mmap_size(0)": tmp,
		"file://localhost" + tmp + "/pl.db":           tmp,
		"file://" + tmp + "/pl.db#x":                  tmp,
		"file:" + tmp + "/my%20dir/pl.db":             spaced,
		linked + "/pl.db":                             spaced,
		"file://elsewhere/pl.db":                      "",
		":memory:":                                    "",
		"file::memory:?mode=memory&cache=shared":      "",
		"file:" + tmp + "/pl.db?mode=memory":          "",
		"file:" + tmp + "/pl.db?vfs=memdb":            "",
	} {
		if got := sqliteDir(dsn); got != want {
			t.Errorf("sqliteDir(%q) = %q, want %q", dsn, got, want)
		}
	}
}
