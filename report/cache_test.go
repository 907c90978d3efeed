package report_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/demo"
	"github.com/partnerlink/partnerlink/report"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/usage"
)

// contentReads is a store that counts the versions it reads with their
// content.
type contentReads struct {
	*sqlstore.DB
	n atomic.Int64
}

func (s *contentReads) ReportVersion(ctx context.Context, month string, version int) (*partnerlink.ReportVersion, error) {
	s.n.Add(1)
	return s.DB.ReportVersion(ctx, month, version)
}

// docs/operations.md, "Report cache": a server's report requests share
// the months' contents, parsed; each version is read from the store once,
// a new version is read when it is published, and what is read is what a
// reader without the cache reads.
func TestCacheReadsEachVersionOnce(t *testing.T) {
	ctx := context.Background()
	dataDir, db, now, month, _ := demoMonth(t)
	store := &contentReads{DB: db}
	cache := report.NewCache(2, time.Hour)
	svc := &report.Service{Store: store, DataDir: dataDir, Now: func() time.Time { return now }, Cache: cache}
	plain := &report.Service{Store: db, DataDir: dataDir, Now: func() time.Time { return now }}
	if _, err := svc.Close(ctx, month, true); err != nil {
		t.Fatal(err)
	}
	months := []partnerlink.Month{month}
	read := func(version int) report.Published {
		t.Helper()
		ps, err := svc.Read(ctx, months, version)
		if err != nil {
			t.Fatal(err)
		}
		want, err := plain.Read(ctx, months, version)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ps, want) {
			t.Fatalf("version %d read through the cache differs from the store's", version)
		}
		return ps[0]
	}
	reads := func(want int64) {
		t.Helper()
		if got := store.n.Load(); got != want {
			t.Fatalf("the store was read %d times, want %d", got, want)
		}
	}
	store.n.Store(0)

	first := read(0)
	reads(1)
	if again := read(0); again.Content != first.Content || again.Version.Version != 1 {
		t.Errorf("the second read parsed the content again (version %d)", again.Version.Version)
	}
	read(1) // version 1 by number is the same version
	reads(1)

	// Reads at once load the version once, and renders share it: each
	// renders every audience's report in every format (go test -race
	// finds a render that writes to the content).
	fresh := &report.Service{Store: store, DataDir: dataDir, Now: svc.Now, Cache: report.NewCache(2, time.Hour)}
	var wg sync.WaitGroup
	got := make([]*report.Content, 8)
	for i := range got {
		wg.Go(func() {
			ps, err := fresh.Read(ctx, months, 0)
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = ps[0].Content
			if err := renderAll(ps[0].Content); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	reads(2)
	for _, c := range got {
		if c != got[0] {
			t.Fatal("reads at once got different contents")
		}
	}

	// Late usage and a second close: the latest is the new version, and
	// version 1 is still the one kept.
	late := strings.SplitAfterN(string(demo.UsageCSV(month.Start())), "\n", 3)
	if _, err := usage.Import(ctx, db, dataDir, usage.FOCUS, "late.csv", bytes.NewReader([]byte(late[0]+late[1])), now, nil); err != nil {
		t.Fatal(err)
	}
	if closed, err := svc.Close(ctx, month, true); err != nil || !closed.Published {
		t.Fatalf("the second close: %+v, %v", closed, err)
	}
	second := read(0)
	if second.Version.Version != 2 || second.Content == first.Content {
		t.Errorf("after the second close the latest read is version %d", second.Version.Version)
	}
	reads(3)
	if v1 := read(1); v1.Content != first.Content {
		t.Error("version 1 was read again")
	}
	reads(3)
	if hits, misses := cache.Stats(); hits != 3 || misses != 2 {
		t.Errorf("cache stats: %d hits, %d misses; want 3, 2", hits, misses)
	}

	// A month not closed and a version that does not exist are refused as
	// without the cache.
	for _, c := range []struct {
		months  []partnerlink.Month
		version int
	}{{[]partnerlink.Month{month - 1}, 0}, {months, 3}} {
		_, err := svc.Read(ctx, c.months, c.version)
		_, want := plain.Read(ctx, c.months, c.version)
		if partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND || err.Error() != want.Error() {
			t.Errorf("%v version %d: %v, want %v", c.months, c.version, err, want)
		}
	}
}

// The cache keeps its size's most recently read versions, and lets go of
// one not read for its idle time.
func TestCacheSizeAndIdle(t *testing.T) {
	ctx := context.Background()
	dataDir, db, now, month, _ := demoMonth(t)
	store := &contentReads{DB: db}
	svc := &report.Service{Store: store, DataDir: dataDir, Now: func() time.Time { return now }, Cache: report.NewCache(1, time.Hour)}
	if _, err := svc.Close(ctx, month, true); err != nil {
		t.Fatal(err)
	}
	late := strings.SplitAfterN(string(demo.UsageCSV(month.Start())), "\n", 3)
	if _, err := usage.Import(ctx, db, dataDir, usage.FOCUS, "late.csv", bytes.NewReader([]byte(late[0]+late[1])), now, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(ctx, month, true); err != nil {
		t.Fatal(err)
	}
	months := []partnerlink.Month{month}
	store.n.Store(0)
	for _, v := range []int{1, 2, 1, 1} {
		if _, err := svc.Read(ctx, months, v); err != nil {
			t.Fatal(err)
		}
	}
	if n := store.n.Load(); n != 3 {
		t.Errorf("a cache of one version read versions 1, 2, 1, 1 from the store %d times, want 3", n)
	}

	svc.Cache = report.NewCache(2, 10*time.Millisecond)
	store.n.Store(0)
	if _, err := svc.Read(ctx, months, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // far beyond the idle time
	if _, err := svc.Read(ctx, months, 0); err != nil {
		t.Fatal(err)
	}
	if _, misses := svc.Cache.Stats(); misses != 2 || store.n.Load() != 2 {
		t.Errorf("a version unread for its idle time was kept (%d misses, %d reads)", misses, store.n.Load())
	}

	svc.Cache = report.NewCache(-1, time.Hour) // keeps nothing
	store.n.Store(0)
	for range 2 {
		if _, err := svc.Read(ctx, months, 0); err != nil {
			t.Fatal(err)
		}
	}
	if n := store.n.Load(); n != 2 {
		t.Errorf("a cache of no versions read the store %d times for two reads", n)
	}
}

// renderAll renders every report of c, for every partner ID and tenant, in
// every format.
func renderAll(c *report.Content) error {
	for _, f := range []string{report.FormatJSON, report.FormatCSV, report.FormatTable} {
		prog, err := report.ForProgram(c, 1)
		if err != nil {
			return err
		}
		if err := report.WriteProgram(io.Discard, []*report.ProgramReport{prog}, f); err != nil {
			return err
		}
		for _, p := range c.Partners {
			r, err := report.ForPartner(c, 1, []string{p.ID})
			if err != nil {
				return err
			}
			if err := report.WritePartner(io.Discard, []*report.PartnerReport{r}, f); err != nil {
				return err
			}
			u, err := report.ForUnlinked(c, 1, p.ID)
			if err != nil {
				return err
			}
			if err := report.WriteUnlinked(io.Discard, []*report.UnlinkedReport{u}, f); err != nil {
				return err
			}
		}
		for _, tn := range c.Tenants {
			r, err := report.ForCustomer(c, 1, tn.ID)
			if err != nil {
				return err
			}
			if err := report.WriteCustomer(io.Discard, []*report.CustomerReport{r}, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// waitingStore holds back content reads until release is closed, and
// closes started when the first begins.
type waitingStore struct {
	*contentReads
	started, release chan struct{}
	once             sync.Once
}

func (s *waitingStore) ReportVersion(ctx context.Context, month string, version int) (*partnerlink.ReportVersion, error) {
	s.once.Do(func() { close(s.started) })
	<-s.release
	return s.contentReads.ReportVersion(ctx, month, version)
}

// A reader that gives up while a version is read stops waiting; the read
// goes on for the others and is kept.
func TestCacheReaderGivesUp(t *testing.T) {
	ctx := context.Background()
	dataDir, db, now, month, _ := demoMonth(t)
	if _, err := (&report.Service{Store: db, DataDir: dataDir, Now: func() time.Time { return now }}).Close(ctx, month, true); err != nil {
		t.Fatal(err)
	}
	store := &waitingStore{contentReads: &contentReads{DB: db}, started: make(chan struct{}), release: make(chan struct{})}
	svc := &report.Service{Store: store, DataDir: dataDir, Now: func() time.Time { return now }, Cache: report.NewCache(2, time.Hour)}
	months := []partnerlink.Month{month}
	gone, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := svc.Read(gone, months, 0)
		done <- err
	}()
	<-store.started // the content is being read for it
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("the reader that gave up: %v", err)
	}
	close(store.release)
	if _, err := svc.Read(ctx, months, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Read(ctx, months, 0); err != nil {
		t.Fatal(err)
	}
	if n := store.n.Load(); n != 1 {
		t.Errorf("the store was read %d times; the read the first reader left went on and was kept", n)
	}
}
