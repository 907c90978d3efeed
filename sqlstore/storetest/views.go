package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
)

// ViewsFollowChanges checks that reader's CurrentLinkView answers follow every
// committed change made through writer: the same store (RunAll), or another
// handle on the same database, as another process would write it. A store
// that caches views (SQLite) must never answer from before a change that
// had committed when the read began.
func ViewsFollowChanges(t *testing.T, reader, writer Store) {
	ctx := context.Background()
	Seed(t, writer)
	actor := partnerlink.Caller{TenantID: TenantA, ObjectID: UserA}
	want := func(step, partnerID, name string, version int) {
		t.Helper()
		for range 2 { // the second read may come from a cache
			v, err := reader.CurrentLinkView(ctx, TenantA, UserA)
			if err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			if v.PartnerID != partnerID || v.PartnerName != name || v.Version != version {
				t.Fatalf("%s: view = %s %q version %d, want %s %q version %d", step, v.PartnerID, v.PartnerName, v.Version, partnerID, name, version)
			}
		}
	}
	wantNone := func(step string) {
		t.Helper()
		for range 2 {
			if _, err := reader.CurrentLinkView(ctx, TenantA, UserA); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
				t.Fatalf("%s: want no link, got %v", step, err)
			}
		}
	}
	change := func(at time.Duration, decide func(*partnerlink.Link) (partnerlink.LinkChange, error)) {
		t.Helper()
		if _, _, err := writer.ChangeLink(ctx, TenantA, UserA, t0.Add(at), actor, decide); err != nil {
			t.Fatal(err)
		}
	}

	wantNone("before any link")
	change(time.Hour, link(Location))
	want("created", Location, "Tailspin Oslo", 1)
	change(2*time.Hour, link(Location))
	want("re-affirmed", Location, "Tailspin Oslo", 2)
	must(t, writer.PutPartner(ctx, partnerlink.Partner{ID: Location, Name: "Tailspin Bergen", GlobalID: Global,
		Period: partnerlink.Period{From: t0.AddDate(-5, 0, 0)}}))
	want("partner renamed", Location, "Tailspin Bergen", 2)
	must(t, writer.PutTenant(ctx, partnerlink.Tenant{ID: TenantB, Name: "Tailspin Consulting AS"}))
	want("another table changed", Location, "Tailspin Bergen", 2)
	change(3*time.Hour, link(Global))
	want("replaced", Global, "Tailspin", 3)
	change(4*time.Hour, unlink)
	wantNone("deleted")

	// Concurrently: once a change has returned, every read that starts
	// afterwards sees it (or a later one).
	var done atomic.Int64 // the version of the last change that returned
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				floor := done.Load()
				v, err := reader.CurrentLinkView(ctx, TenantA, UserA)
				switch {
				case partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND && floor <= 4:
				case err != nil:
					errs <- err.Error()
					return
				case int64(v.Version) < floor:
					errs <- fmt.Sprintf("read version %d after version %d had been written", v.Version, floor)
					return
				}
			}
		}()
	}
	to := []string{Location, Global}
	for i := range 200 {
		l, _, err := writer.ChangeLink(ctx, TenantA, UserA, t0.Add(time.Duration(5+i)*time.Hour), actor, link(to[i%2]))
		if err != nil {
			t.Fatal(err)
		}
		done.Store(int64(l.Version))
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
