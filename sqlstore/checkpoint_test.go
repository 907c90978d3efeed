package sqlstore

import (
	"context"
	"encoding/binary"
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
// checkpointer. The changes go on until the WAL has started over twice (its
// header's salt goes up by one each time), so a machine too busy to run the
// checkpointer in time makes the test write longer, not fail.
func TestCheckpointerRestartsTheWAL(t *testing.T) {
	const every = 2
	saved, savedFlush := restartEvery, flushFS
	restartEvery = every
	var flushes atomic.Int32
	flushFS = func(dir string) error { flushes.Add(1); return savedFlush(dir) }
	t.Cleanup(func() { restartEvery, flushFS = saved, savedFlush })
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "partnerlink.db")
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// The WAL header's salt-1 (bytes 16–19, big-endian) goes up by one each
	// time the WAL starts over (sqlite.org/fileformat.html; the checkpoint
	// sequence number beside it is the writing connection's own count). A
	// header that does not read whole (a WAL not yet written, a read beside
	// SQLite's write) is passed over; restarts counts how far salt-1 rose.
	var lastSalt, rose uint32
	seen := false
	restarts := func() uint32 {
		f, err := os.Open(path + "-wal")
		if err != nil {
			return rose
		}
		defer f.Close()
		var h [32]byte
		if _, err := f.ReadAt(h[:], 0); err != nil {
			return rose
		}
		if magic := binary.BigEndian.Uint32(h[0:4]); magic != 0x377f0682 && magic != 0x377f0683 {
			return rose
		}
		salt := binary.BigEndian.Uint32(h[16:20])
		if d := salt - lastSalt; !seen {
			lastSalt, seen = salt, true
		} else if d != 0 && d < 1<<16 { // forward (and across a wrap); anything else is a torn read
			rose, lastSalt = rose+d, salt
		}
		return rose
	}
	// The writers write without a pause (a pause would let a checkpoint
	// beside them complete) until the WAL has started over twice, or
	// maxChanges each.
	const writers, maxChanges = 8, 20_000
	restarts()
	start := time.Unix(1_780_000_000, 0)
	var stop atomic.Bool
	done := make([]int, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := 0; i < maxChanges && !stop.Load(); i++ {
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
				done[w]++
			}
		})
	}
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for !stop.Load() && restarts() < 2 {
			time.Sleep(5 * time.Millisecond)
		}
		stop.Store(true)
	}()
	wg.Wait()
	stop.Store(true)
	<-polled // restarts is the poller's until then
	changes := 0
	for _, n := range done {
		changes += n
	}
	// Every change wrote several pages: without restarts the WAL would
	// hold them all.
	if n := restarts(); n < 2 {
		t.Errorf("the WAL started over %d times in %d changes; it should every ~%d pages", n, changes, every*checkpointAfter)
	}
	n, err := d.Links(ctx, partnerlink.LinkFilter{})
	if err != nil || len(n) != changes {
		t.Errorf("links = %d (%v), want %d", len(n), err, changes)
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
