// Package storetest is the conformance suite every store must pass. The
// sqlstore tests run it against SQLite and against a real PostgreSQL.
package storetest

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/identity"
	"github.com/partnerlink/partnerlink/world"
)

// Store is everything the suite exercises.
type Store interface {
	partnerlink.UsageStore
	partnerlink.CreditStore
	ImportWorld(ctx context.Context, doc *world.Document, hash func(string) (string, error)) error
	ExportWorld(ctx context.Context) (*world.Document, error)
	UpdateWorld(ctx context.Context, change func(doc *world.Document) (bool, error), hash func(string) (string, error)) error
	partnerlink.DirectoryStore
	partnerlink.LinkStore
	partnerlink.OutboxStore
	partnerlink.RoleStore
	partnerlink.ReportStore
	identity.GrantStore
	partnerlink.PowerPlatformStore
	StateVersion(ctx context.Context) (string, error)
	Onboard(ctx context.Context, tenantID, objectID string, o partnerlink.Onboarding) (*partnerlink.Link, *partnerlink.LinkEvent, error)
	partnerlink.PartitionStore
}

// Fixture ids used throughout.
const (
	TenantA  = "0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60"
	TenantB  = "7e6d5c4b-3a29-4817-8f6e-5d4c3b2a1908"
	UserA    = "c0ffee00-0000-4000-8000-000000000001"
	SPA      = "c0ffee00-0000-4000-8000-000000000002"
	GroupA   = "c0ffee00-0000-4000-8000-000000000003"
	GuestB   = "c0ffee00-0000-4000-8000-000000000004"
	AppID    = "a11ce000-0000-4000-8000-000000000009"
	Global   = "5100000"
	Location = "5100001"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// RunAll runs every conformance test; open returns a new, empty store.
func RunAll(t *testing.T, open func(t *testing.T) Store) {
	t.Run("Directory", func(t *testing.T) { testDirectory(t, open(t)) })
	t.Run("Partners", func(t *testing.T) { testPartners(t, open(t)) })
	t.Run("LinkLifecycle", func(t *testing.T) { testLinkLifecycle(t, open(t)) })
	t.Run("LinkDecideError", func(t *testing.T) { testLinkDecideError(t, open(t)) })
	t.Run("LinkConcurrent", func(t *testing.T) { testLinkConcurrent(t, open(t)) })
	t.Run("LinkConcurrentMixed", func(t *testing.T) { testLinkConcurrentMixed(t, open(t)) })
	t.Run("LinkInstantsNeverRunBackwards", func(t *testing.T) { testLinkInstantOrder(t, open(t)) })
	t.Run("LinkHistoryConcurrent", func(t *testing.T) { testLinkHistoryConcurrent(t, open(t)) })
	t.Run("StateVersion", func(t *testing.T) { testStateVersion(t, open(t)) })
	t.Run("ViewsFollowChanges", func(t *testing.T) { s := open(t); ViewsFollowChanges(t, s, s) })
	t.Run("LinkQueries", func(t *testing.T) { testLinkQueries(t, open(t)) })
	t.Run("Outbox", func(t *testing.T) { testOutbox(t, open(t)) })
	t.Run("Grants", func(t *testing.T) { testGrants(t, open(t)) })
	t.Run("WorldRoundTrip", func(t *testing.T) { testWorldRoundTrip(t, open(t)) })
	t.Run("ExportSnapshot", func(t *testing.T) { testExportSnapshot(t, open(t)) })
	t.Run("UpdateWorldKeepsLinks", func(t *testing.T) { testUpdateWorldKeepsLinks(t, open(t)) })
	t.Run("PrincipalPeriods", func(t *testing.T) { testPrincipalPeriods(t, open(t)) })
	t.Run("UsageAndCredits", func(t *testing.T) { testUsageAndCredits(t, open(t)) })
	t.Run("PowerPlatform", func(t *testing.T) { testPowerPlatform(t, open(t)) })
	t.Run("RoleModel", func(t *testing.T) { testRoleModel(t, open(t)) })
	t.Run("ReportVersions", func(t *testing.T) { testReportVersions(t, open(t)) })
	t.Run("ExportRuns", func(t *testing.T) { testExportRuns(t, open(t)) })
	t.Run("OnboardConcurrent", func(t *testing.T) { testOnboardConcurrent(t, open(t)) })
	t.Run("Partitions", func(t *testing.T) { testPartitions(t, open(t)) })
}

// Seed fills a store with two tenants, a user, a service principal, a group,
// a guest and a partner organization with one location ID.
func Seed(t testing.TB, s Store) {
	t.Helper()
	ctx := context.Background()
	must(t, s.PutTenant(ctx, partnerlink.Tenant{ID: TenantA, Name: "Wide World Importers"}))
	must(t, s.PutTenant(ctx, partnerlink.Tenant{ID: TenantB, Name: "Tailspin Consulting"}))
	must(t, s.PutPrincipal(ctx, partnerlink.Principal{TenantID: TenantA, ObjectID: UserA, Type: partnerlink.PrincipalUser,
		DisplayName: "ana@wideworld.example"}))
	must(t, s.PutPrincipal(ctx, partnerlink.Principal{TenantID: TenantA, ObjectID: SPA, Type: partnerlink.PrincipalServicePrincipal,
		DisplayName: "automation", AppID: AppID, HomeTenantID: TenantB}))
	must(t, s.PutPrincipal(ctx, partnerlink.Principal{TenantID: TenantA, ObjectID: GroupA, Type: partnerlink.PrincipalGroup,
		DisplayName: "operators", CSPDelegated: true, Period: partnerlink.Period{From: t0}}))
	must(t, s.PutPrincipal(ctx, partnerlink.Principal{TenantID: TenantA, ObjectID: GuestB, Type: partnerlink.PrincipalGuest,
		DisplayName: "kari_tailspin.example#EXT#", HomeTenantID: TenantB, HomeObjectID: UserA}))
	must(t, s.PutPartner(ctx, partnerlink.Partner{ID: Global, Name: "Tailspin", HomeTenantIDs: []string{TenantB},
		Period: partnerlink.Period{From: t0.AddDate(-5, 0, 0)}}))
	must(t, s.PutPartner(ctx, partnerlink.Partner{ID: Location, Name: "Tailspin Oslo", GlobalID: Global,
		Period: partnerlink.Period{From: t0.AddDate(-5, 0, 0)}}))
}

func testDirectory(t *testing.T, s Store) {
	ctx := context.Background()
	Seed(t, s)
	ten, err := s.Tenant(ctx, "0B5E2F7A-8C1D-4E3F-9A0B-1C2D3E4F5A60")
	must(t, err)
	if ten.Name != "Wide World Importers" {
		t.Errorf("tenant name = %q", ten.Name)
	}
	if _, err := s.Tenant(ctx, "00000000-0000-0000-0000-000000000000"); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("unknown tenant: err = %v, want ENOTFOUND", err)
	}
	must(t, s.SetTenantWebhook(ctx, TenantA, "https://127.0.0.1:9/hook", "whsec"))
	ts, err := s.Tenants(ctx)
	must(t, err)
	if len(ts) != 2 || ts[0].ID != TenantA || ts[0].WebhookURL != "https://127.0.0.1:9/hook" {
		t.Errorf("tenants = %+v", ts)
	}
	if err := s.SetTenantWebhook(ctx, "00000000-0000-0000-0000-000000000000", "x", ""); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("webhook of unknown tenant: %v", err)
	}

	p, err := s.Principal(ctx, TenantA, UserA)
	must(t, err)
	if p.Type != partnerlink.PrincipalUser || p.SignInName != "ana@wideworld.example" || !p.Period.From.IsZero() {
		t.Errorf("user = %+v (sign-in name defaults to the display name)", p)
	}
	g, err := s.Principal(ctx, TenantA, GroupA)
	must(t, err)
	if !g.CSPDelegated || !g.Period.From.Equal(t0) || !g.Period.To.IsZero() {
		t.Errorf("group = %+v", g)
	}
	sps, err := s.ServicePrincipalsByAppID(ctx, AppID)
	must(t, err)
	if len(sps) != 1 || sps[0].ObjectID != SPA {
		t.Errorf("by app id = %+v", sps)
	}
	us, err := s.UsersBySignInName(ctx, "ANA@WideWorld.example")
	must(t, err)
	if len(us) != 1 || us[0].ObjectID != UserA {
		t.Errorf("by sign-in name (case-insensitive) = %+v", us)
	}
	gs, err := s.GuestsOf(ctx, TenantB, UserA)
	must(t, err)
	if len(gs) != 1 || gs[0].ObjectID != GuestB {
		t.Errorf("guests of = %+v", gs)
	}
	// Disable: the principal's period closes.
	p.Period.To = t0.Add(time.Hour)
	must(t, s.PutPrincipal(ctx, *p))
	p2, err := s.Principal(ctx, TenantA, UserA)
	must(t, err)
	if !p2.Period.To.Equal(t0.Add(time.Hour)) || p2.ActiveAt(t0.Add(2*time.Hour)) {
		t.Errorf("disabled user = %+v", p2)
	}
	all, err := s.Principals(ctx, "")
	must(t, err)
	if len(all) != 4 {
		t.Errorf("principals = %d, want 4", len(all))
	}

	must(t, s.AddSecret(ctx, TenantA, SPA, "hash-1"))
	must(t, s.AddSecret(ctx, TenantA, SPA, "hash-2"))
	must(t, s.AddSecret(ctx, TenantA, SPA, "hash-2")) // idempotent
	hs, err := s.SecretHashes(ctx, TenantA, SPA)
	must(t, err)
	if len(hs) != 2 {
		t.Errorf("secret hashes = %v", hs)
	}

	must(t, s.AddMembership(ctx, partnerlink.GroupMembership{TenantID: TenantA, GroupID: GroupA, MemberID: SPA,
		Period: partnerlink.Period{From: t0, To: t0.AddDate(0, 0, 1)}}))
	ms, err := s.Memberships(ctx, TenantA)
	must(t, err)
	if len(ms) != 1 || ms[0].MemberID != SPA || !ms[0].Period.To.Equal(t0.AddDate(0, 0, 1)) {
		t.Errorf("memberships = %+v", ms)
	}
}

func testPartners(t *testing.T, s Store) {
	ctx := context.Background()
	Seed(t, s)
	p, err := s.Partner(ctx, Location)
	must(t, err)
	if p.GlobalID != Global || p.Name != "Tailspin Oslo" {
		t.Errorf("partner = %+v", p)
	}
	g, err := s.Partner(ctx, Global)
	must(t, err)
	if len(g.HomeTenantIDs) != 1 || g.HomeTenantIDs[0] != TenantB {
		t.Errorf("global partner = %+v", g)
	}
	locs, err := s.LocationIDs(ctx, Global)
	must(t, err)
	if len(locs) != 1 || locs[0] != Location {
		t.Errorf("location IDs = %v", locs)
	}
	if _, err := s.Partner(ctx, "999"); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("unknown partner: %v", err)
	}
	ps, err := s.Partners(ctx)
	must(t, err)
	if len(ps) != 2 {
		t.Errorf("partners = %+v", ps)
	}
}

func link(to string) func(*partnerlink.Link) (partnerlink.LinkChange, error) {
	return func(cur *partnerlink.Link) (partnerlink.LinkChange, error) {
		switch {
		case cur == nil:
			return partnerlink.LinkChange{Action: partnerlink.LinkCreated, PartnerID: to, Notify: true}, nil
		case cur.PartnerID == to:
			return partnerlink.LinkChange{Action: partnerlink.LinkReaffirmed, PartnerID: to}, nil
		}
		return partnerlink.LinkChange{Action: partnerlink.LinkReplaced, PartnerID: to, Notify: true}, nil
	}
}

func unlink(*partnerlink.Link) (partnerlink.LinkChange, error) {
	return partnerlink.LinkChange{Action: partnerlink.LinkDeleted, Notify: true}, nil
}

func testLinkLifecycle(t *testing.T, s Store) {
	ctx := context.Background()
	Seed(t, s)
	actor := partnerlink.Caller{TenantID: TenantA, ObjectID: UserA}
	if _, err := s.CurrentLink(ctx, TenantA, UserA); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Fatalf("no link yet: %v", err)
	}
	t1, t2, t3, t4 := t0.Add(time.Hour), t0.Add(2*time.Hour), t0.Add(3*time.Hour), t0.Add(4*time.Hour)

	l, ev, err := s.ChangeLink(ctx, TenantA, UserA, t1, actor, link(Location))
	must(t, err)
	if l.Version != 1 || !l.CreatedTime.Equal(t1) || l.PartnerID != Location || ev.Action != partnerlink.LinkCreated {
		t.Errorf("create: %+v %+v", l, ev)
	}
	l, _, err = s.ChangeLink(ctx, TenantA, UserA, t2, actor, link(Location))
	must(t, err)
	if l.Version != 2 || !l.CreatedTime.Equal(t1) || !l.UpdatedTime.Equal(t2) || !l.Period.From.Equal(t1) {
		t.Errorf("re-affirm keeps the period and bumps the version: %+v", l)
	}
	l, ev, err = s.ChangeLink(ctx, TenantA, UserA, t3, actor, link(Global))
	must(t, err)
	if l.Version != 3 || !l.CreatedTime.Equal(t1) || !l.Period.From.Equal(t3) || ev.PrevPartnerID != Location {
		t.Errorf("replace: %+v %+v", l, ev)
	}
	cur, err := s.CurrentLink(ctx, TenantA, UserA)
	must(t, err)
	if cur.PartnerID != Global || cur.Version != 3 {
		t.Errorf("current = %+v", cur)
	}
	view, err := s.CurrentLinkView(ctx, TenantA, UserA)
	must(t, err)
	if view.Link != *cur || view.PartnerName != "Tailspin" {
		t.Errorf("current with the partner's name = %+v, want %+v named Tailspin", view, cur)
	}
	l, _, err = s.ChangeLink(ctx, TenantA, UserA, t4, actor, unlink)
	must(t, err)
	if !l.Period.To.Equal(t4) || l.Version != 4 {
		t.Errorf("delete: %+v", l)
	}
	if _, err := s.CurrentLink(ctx, TenantA, UserA); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("after delete: %v", err)
	}
	if _, err := s.CurrentLinkView(ctx, TenantA, UserA); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("view after delete: %v", err)
	}
	if _, _, err := s.ChangeLink(ctx, TenantA, UserA, t4, actor, unlink); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("delete without link: %v", err)
	}
	// History as periods: [t1,t3) Location, [t3,t4) Global — closed and opened at the same instant.
	hist, err := s.Links(ctx, partnerlink.LinkFilter{TenantID: TenantA, ObjectID: UserA})
	must(t, err)
	if len(hist) != 2 || !hist[0].Period.To.Equal(t3) || !hist[1].Period.From.Equal(t3) || !hist[1].Period.To.Equal(t4) {
		t.Errorf("history = %+v", hist)
	}
	// A new link after delete keeps counting versions up and starts a new chain.
	l, _, err = s.ChangeLink(ctx, TenantA, UserA, t4.Add(time.Hour), actor, link(Location))
	must(t, err)
	if l.Version != 5 || !l.CreatedTime.Equal(t4.Add(time.Hour)) {
		t.Errorf("re-create: %+v", l)
	}
	evs, err := s.LinkEvents(ctx, partnerlink.LinkFilter{TenantID: TenantA})
	must(t, err)
	wantActions := []partnerlink.LinkAction{"created", "reaffirmed", "replaced", "deleted", "created"}
	if len(evs) != len(wantActions) {
		t.Fatalf("events = %+v", evs)
	}
	for i, e := range evs {
		if e.Action != wantActions[i] || e.ActorObjectID != UserA || e.Version != i+1 {
			t.Errorf("event %d = %+v, want %s", i, e, wantActions[i])
		}
	}
	byPartner, err := s.LinkEvents(ctx, partnerlink.LinkFilter{PartnerIDs: []string{Global}})
	must(t, err)
	if len(byPartner) != 2 || byPartner[0].Action != partnerlink.LinkReplaced || byPartner[1].Action != partnerlink.LinkDeleted {
		t.Errorf("events of partner %s = %+v", Global, byPartner)
	}
	// The partner that lost the link sees the replacement too.
	byLocation, err := s.LinkEvents(ctx, partnerlink.LinkFilter{PartnerIDs: []string{Location}})
	must(t, err)
	if len(byLocation) != 4 {
		t.Errorf("events of partner %s = %+v, want created, reaffirmed, replaced, created", Location, byLocation)
	}
	// Notifications: create, replace, delete, create (not the re-affirm).
	ns, err := s.Notifications(ctx, TenantA, 0)
	must(t, err)
	if len(ns) != 4 {
		t.Errorf("notifications = %d, want 4", len(ns))
	}
	// A window of time, as the monthly close reads its month's: the events
	// at or after t3 and before t4 + 1h (replaced, deleted; not the create
	// at t4 + 1h), and the notifications queued then, newest first.
	window, err := s.LinkEvents(ctx, partnerlink.LinkFilter{From: t3, To: t4.Add(time.Hour)})
	must(t, err)
	if len(window) != 2 || window[0].Action != partnerlink.LinkReplaced || window[1].Action != partnerlink.LinkDeleted {
		t.Errorf("events in [t3, t4+1h) = %+v", window)
	}
	if all, err := s.LinkEvents(ctx, partnerlink.LinkFilter{From: t1}); err != nil || len(all) != 5 {
		t.Errorf("events from t1 = %d (%v), want 5", len(all), err)
	}
	queued, err := s.NotificationsQueued(ctx, t3, t4.Add(time.Hour))
	must(t, err)
	if len(queued) != 2 || !queued[0].CreatedAt.Equal(t4) || !queued[1].CreatedAt.Equal(t3) {
		t.Errorf("notifications queued in [t3, t4+1h) = %+v", queued)
	}
	if none, err := s.NotificationsQueued(ctx, t0, t1); err != nil || len(none) != 0 {
		t.Errorf("notifications queued before t1 = %+v (%v)", none, err)
	}
}

func testLinkDecideError(t *testing.T, s Store) {
	ctx := context.Background()
	Seed(t, s)
	refuse := errors.New("refused")
	_, _, err := s.ChangeLink(ctx, TenantA, UserA, t0, partnerlink.Caller{}, func(*partnerlink.Link) (partnerlink.LinkChange, error) {
		return partnerlink.LinkChange{}, refuse
	})
	if !errors.Is(err, refuse) {
		t.Errorf("decide error not returned: %v", err)
	}
	evs, err := s.LinkEvents(ctx, partnerlink.LinkFilter{})
	must(t, err)
	if len(evs) != 0 {
		t.Errorf("a refused change wrote events: %+v", evs)
	}
}

// testLinkConcurrent: many writers on one principal never leave two current
// links, and every version is distinct (docs/rules.md#azure-attribution: at most one link per tenant).
func testLinkConcurrent(t *testing.T, s Store) {
	ctx := context.Background()
	Seed(t, s)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			to := Location
			if i%2 == 0 {
				to = Global
			}
			_, _, err := s.ChangeLink(ctx, TenantA, SPA, t0.Add(time.Duration(i)*time.Second), partnerlink.Caller{}, link(to))
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	cur, err := s.Links(ctx, partnerlink.LinkFilter{TenantID: TenantA, ObjectID: SPA, CurrentOnly: true})
	must(t, err)
	if len(cur) != 1 || cur[0].Version != 20 {
		t.Errorf("current links = %+v, want one at version 20", cur)
	}
}

// testLinkConcurrentMixed: changes that arrive together — and that SQLite
// commits together — keep their own outcomes: refused changes write nothing,
// a change whose statements fail takes no other change down, and every
// accepted change is recorded once.
func testLinkConcurrentMixed(t *testing.T, s Store) {
	ctx := context.Background()
	Seed(t, s)
	const n, principals = 40, 10
	refuse := errors.New("refused")
	object := func(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i%principals) }
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			decide := link(Location)
			switch {
			case i == 7:
				decide = func(*partnerlink.Link) (partnerlink.LinkChange, error) {
					return partnerlink.LinkChange{Action: "Exploded", PartnerID: Location}, nil
				}
			case i%4 == 0:
				decide = func(*partnerlink.Link) (partnerlink.LinkChange, error) { return partnerlink.LinkChange{}, refuse }
			case i%2 == 0:
				decide = link(Global)
			}
			<-start
			_, _, errs[i] = s.ChangeLink(ctx, TenantA, object(i), t0.Add(time.Duration(i)*time.Millisecond), partnerlink.Caller{}, decide)
		}()
	}
	close(start)
	wg.Wait()
	accepted := map[string]int{}
	total := 0
	for i, err := range errs {
		switch {
		case i == 7:
			if err == nil || !strings.Contains(err.Error(), "Exploded") {
				t.Errorf("change %d with an unknown action: err = %v, want it named", i, err)
			}
		case i%4 == 0:
			if !errors.Is(err, refuse) {
				t.Errorf("refused change %d: err = %v", i, err)
			}
		default:
			must(t, err)
			accepted[object(i)]++
			total++
		}
	}
	evs, err := s.LinkEvents(ctx, partnerlink.LinkFilter{TenantID: TenantA})
	must(t, err)
	if len(evs) != total {
		t.Errorf("events = %d, want one per accepted change (%d)", len(evs), total)
	}
	for obj, count := range accepted {
		cur, err := s.Links(ctx, partnerlink.LinkFilter{TenantID: TenantA, ObjectID: obj, CurrentOnly: true})
		must(t, err)
		if len(cur) != 1 || cur[0].Version != count {
			t.Errorf("%s: current links = %+v, want one at version %d", obj, cur, count)
		}
	}
}

// testLinkInstantOrder: a change that took its instant before the change
// already stored happens at that change's instant, so periods never run
// backwards (docs/rules.md#azure-attribution: a link is held over a period).
func testLinkInstantOrder(t *testing.T, s Store) {
	ctx := context.Background()
	Seed(t, s)
	_, _, err := s.ChangeLink(ctx, TenantA, UserA, t0.Add(10*time.Second), partnerlink.Caller{}, link(Location))
	must(t, err)
	l, ev, err := s.ChangeLink(ctx, TenantA, UserA, t0.Add(5*time.Second), partnerlink.Caller{}, link(Global))
	must(t, err)
	// It replaces the link created at 10 s, so it happens just after that
	// instant: the replaced period is not empty.
	if want := t0.Add(10*time.Second + time.Nanosecond); !l.Period.From.Equal(want) || !ev.At.Equal(l.Period.From) {
		t.Errorf("late change: link from %v, event at %v; want both at %v", l.Period.From, ev.At, want)
	}
	ls, err := s.Links(ctx, partnerlink.LinkFilter{TenantID: TenantA, ObjectID: UserA})
	must(t, err)
	for _, l := range ls {
		if !l.Period.To.IsZero() && l.Period.To.Before(l.Period.From) {
			t.Errorf("period runs backwards: %+v", l.Period)
		}
	}
}

func testLinkQueries(t *testing.T, s Store) {
	ctx := context.Background()
	Seed(t, s)
	_, _, err := s.ChangeLink(ctx, TenantA, UserA, t0, partnerlink.Caller{}, link(Location))
	must(t, err)
	_, _, err = s.ChangeLink(ctx, TenantA, SPA, t0, partnerlink.Caller{}, link(Global))
	must(t, err)
	ls, err := s.Links(ctx, partnerlink.LinkFilter{PartnerIDs: []string{Location, Global}, CurrentOnly: true})
	must(t, err)
	if len(ls) != 2 {
		t.Errorf("links of both IDs = %+v", ls)
	}
	ls, err = s.Links(ctx, partnerlink.LinkFilter{PartnerIDs: []string{Location}})
	must(t, err)
	if len(ls) != 1 || ls[0].ObjectID != UserA {
		t.Errorf("links of %s = %+v", Location, ls)
	}
	ls, err = s.Links(ctx, partnerlink.LinkFilter{TenantID: TenantB})
	must(t, err)
	if len(ls) != 0 {
		t.Errorf("links in tenant B = %+v", ls)
	}
}

// outboxSecret signs the outbox tests' deliveries (partnerlink.MinWebhookSecretLength).
const outboxSecret = "outbox-signing-secret"

func testOutbox(t *testing.T, s Store) {
	ctx := context.Background()
	Seed(t, s)
	must(t, s.SetTenantWebhook(ctx, TenantA, "https://127.0.0.1:9/hook", outboxSecret))
	_, _, err := s.ChangeLink(ctx, TenantA, UserA, t0, partnerlink.Caller{}, link(Location))
	must(t, err)
	due, err := s.DueNotifications(ctx, t0, 10)
	must(t, err)
	if len(due) != 1 || due[0].TenantID != TenantA || len(due[0].Payload) == 0 {
		t.Fatalf("due = %+v", due)
	}
	id := due[0].ID
	// Parked (the webhook was removed): not due, no attempt counted, until
	// a webhook is set again.
	must(t, s.SetTenantWebhook(ctx, TenantA, "", ""))
	must(t, s.Park(ctx, TenantA, "no webhook"))
	if due, _ := s.DueNotifications(ctx, t0.AddDate(10, 0, 0), 10); len(due) != 0 {
		t.Errorf("parked but due: %+v", due)
	}
	if ns, _ := s.Notifications(ctx, TenantA, 10); len(ns) != 1 || !ns[0].NextAttemptAt.IsZero() || ns[0].LastError != "no webhook" {
		t.Errorf("parked notification = %+v", ns)
	}
	// Queued while the tenant has no webhook: parked at once.
	_, _, err = s.ChangeLink(ctx, TenantA, UserA, t0.Add(time.Second), partnerlink.Caller{}, link(Global))
	must(t, err)
	if due, _ := s.DueNotifications(ctx, t0.AddDate(10, 0, 0), 10); len(due) != 0 {
		t.Errorf("queued without a webhook but due: %+v", due)
	}
	// A webhook without a secret to sign with (as a world document sets
	// one) wakes them, and the deliverer parks them again.
	must(t, s.SetTenantWebhook(ctx, TenantA, "https://127.0.0.1:9/hook", ""))
	must(t, s.Park(ctx, TenantA, "no secret"))
	if due, _ := s.DueNotifications(ctx, t0.AddDate(10, 0, 0), 10); len(due) != 0 {
		t.Errorf("parked for want of a secret but due: %+v", due)
	}
	must(t, s.SetTenantWebhook(ctx, TenantA, "https://127.0.0.1:9/hook", outboxSecret))
	// A deliverer that saw no webhook just before it was set parks nothing.
	must(t, s.Park(ctx, TenantA, "no webhook"))
	due, err = s.DueNotifications(ctx, t0.Add(time.Second), 10)
	must(t, err)
	if len(due) != 2 || due[0].ID != id || due[0].Attempts != 0 || due[0].LastError != "" {
		t.Errorf("after the webhook is set, both are due without an attempt counted: %+v", due)
	}
	must(t, s.MarkDelivered(ctx, due[1].ID, t0.Add(time.Second)))
	must(t, s.MarkAttemptFailed(ctx, id, t0, t0.Add(time.Minute), "connection refused", false))
	if due, _ := s.DueNotifications(ctx, t0.Add(30*time.Second), 10); len(due) != 0 {
		t.Errorf("not yet due again: %+v", due)
	}
	due, err = s.DueNotifications(ctx, t0.Add(time.Minute), 10)
	must(t, err)
	if len(due) != 1 || due[0].Attempts != 1 || due[0].LastError != "connection refused" {
		t.Fatalf("due after backoff = %+v", due)
	}
	must(t, s.MarkDelivered(ctx, id, t0.Add(time.Minute)))
	if due, _ := s.DueNotifications(ctx, t0.Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("delivered but still due: %+v", due)
	}
	ns, err := s.Notifications(ctx, TenantA, 10)
	must(t, err)
	if len(ns) != 2 || ns[1].ID != id || ns[1].DeliveredAt.IsZero() || ns[1].Attempts != 2 {
		t.Errorf("notifications = %+v", ns)
	}
	// Giving up leaves it visible as failed and no longer due.
	_, _, err = s.ChangeLink(ctx, TenantA, SPA, t0, partnerlink.Caller{}, link(Location))
	must(t, err)
	due, _ = s.DueNotifications(ctx, t0, 10)
	must(t, s.MarkAttemptFailed(ctx, due[0].ID, t0, t0, "gone", true))
	if due, _ := s.DueNotifications(ctx, t0.Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("failed notification still due: %+v", due)
	}
}

func testGrants(t *testing.T, s Store) {
	ctx := context.Background()
	now := time.Now()
	must(t, s.PutGrant(ctx, "refresh", "k1", []byte("v1"), now.Add(time.Hour)))
	v, err := s.GetGrant(ctx, "refresh", "k1")
	must(t, err)
	if string(v) != "v1" {
		t.Errorf("get = %q", v)
	}
	must(t, s.UpdateGrant(ctx, "refresh", "k1", []byte("v2")))
	v, err = s.TakeGrant(ctx, "refresh", "k1")
	must(t, err)
	if string(v) != "v2" {
		t.Errorf("take = %q", v)
	}
	if _, err := s.TakeGrant(ctx, "refresh", "k1"); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("second take: %v", err)
	}
	must(t, s.PutGrant(ctx, "device", "old", []byte("x"), now.Add(-time.Second)))
	if _, err := s.GetGrant(ctx, "device", "old"); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("expired grant: %v", err)
	}
	if err := s.UpdateGrant(ctx, "device", "none", nil); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("update of missing grant: %v", err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

//go:embed testdata/world-in.json
var worldIn []byte

//go:embed testdata/world-export.json
var worldExport []byte

// docs/api.md#world-document: export → import → export round-trips exactly; secrets are
// stored hashed and never exported; an import is all-or-nothing.
func testWorldRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	hash := func(secret string) (string, error) { return "hashed:" + secret, nil }
	doc, err := world.Read(bytes.NewReader(worldIn), "world-in.json")
	must(t, err)
	must(t, s.ImportWorld(ctx, doc, hash))
	export := func() []byte { return exportBytes(t, s) }
	first := export()
	if !bytes.Equal(first, worldExport) {
		t.Fatalf("export differs from testdata/world-export.json:\n%s", first)
	}
	if bytes.Contains(first, []byte("secret")) {
		t.Error("export contains a secret")
	}
	hs, err := s.SecretHashes(ctx, "0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60", "c0ffee00-0000-4000-8000-000000000002")
	must(t, err)
	if len(hs) != 1 || hs[0] != "hashed:sp-secret" {
		t.Errorf("secret hashes = %v", hs)
	}
	// Re-import the export (no secrets in it): same bytes, secrets kept.
	doc2, err := world.Read(bytes.NewReader(first), "export.json")
	must(t, err)
	must(t, s.ImportWorld(ctx, doc2, hash))
	if second := export(); !bytes.Equal(first, second) {
		t.Errorf("export → import → export differs:\n%s", second)
	}
	if hs, _ := s.SecretHashes(ctx, "0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60", "c0ffee00-0000-4000-8000-000000000002"); len(hs) != 1 {
		t.Errorf("re-import lost secrets: %v", hs)
	}
	// Imported links carry versions and chain creation times.
	l, err := s.CurrentLink(ctx, "7e6d5c4b-3a29-4817-8f6e-5d4c3b2a1908", "c0ffee00-0000-4000-8000-000000000010")
	must(t, err)
	if l.Version != 1 || l.PartnerID != "5100001" || l.CreatedTime.Nanosecond() != 123456700 {
		t.Errorf("imported link = %+v", l)
	}
	// A failing import changes nothing: a membership of an unknown tenant
	// violates nothing in SQL, so break it with a duplicate primary key.
	bad, err := world.Read(bytes.NewReader(first), "export.json")
	must(t, err)
	bad.Tenants = append(bad.Tenants, bad.Tenants[0])
	if err := s.ImportWorld(ctx, bad, hash); err == nil {
		t.Fatal("import of a duplicate tenant succeeded")
	}
	if after := export(); !bytes.Equal(first, after) {
		t.Errorf("failed import changed the state:\n%s", after)
	}
}

// docs/api.md#focus-usage: re-importing the same file does not count it twice; the store
// records each import with its rows and totals and the months it covers.
func testUsageAndCredits(t *testing.T, s Store) {
	ctx := context.Background()
	im := partnerlink.UsageImport{Hash: "abc", Kind: "focus", Name: "march.csv", Path: "usage/files/abc.csv", Rows: 6,
		Totals: map[string]string{"EUR": "15.615"}, Months: []string{"2026-03"}, ImportedAt: t0, Content: "rows-v1:6:ab"}
	created, err := s.RecordUsageImport(ctx, im)
	must(t, err)
	if !created {
		t.Fatal("first import not created")
	}
	again := im
	again.Name = "copy-of-march.csv"
	if created, err := s.RecordUsageImport(ctx, again); err != nil || created {
		t.Errorf("same content recorded twice: %v %v", created, err)
	}
	_, err = s.RecordUsageImport(ctx, partnerlink.UsageImport{Hash: "def", Kind: "activity", Name: "april.csv", Path: "p", Rows: 1,
		Totals: map[string]string{"USD": "1"}, Months: []string{"2026-04", "2026-05"}, ImportedAt: t0.Add(time.Hour)})
	must(t, err)
	got, err := s.UsageImports(ctx, "focus", []string{"2026-03"})
	must(t, err)
	if len(got) != 1 || got[0].Name != "march.csv" || got[0].Totals["EUR"] != "15.615" || got[0].Months[0] != "2026-03" {
		t.Errorf("imports of March = %+v", got)
	}
	if got, _ := s.UsageImports(ctx, "", []string{"2026-05", "2026-03"}); len(got) != 2 {
		t.Errorf("imports of March and May = %+v", got)
	}
	if got, _ := s.UsageImports(ctx, "activity", nil); len(got) != 1 || got[0].Hash != "def" {
		t.Errorf("activity imports = %+v", got)
	}
	if _, err := s.UsageImportByHash(ctx, "zzz"); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("unknown hash: %v", err)
	}
	// docs/rules.md#usage-input: the same rows in other bytes are found by
	// their content, of the same kind.
	if got, err := s.UsageImportByContent(ctx, "focus", "rows-v1:6:ab"); err != nil || got.Hash != "abc" || got.Content != "rows-v1:6:ab" {
		t.Errorf("import by content: %+v %v", got, err)
	}
	// Two imports of the same rows at once: the store records one.
	twin := im
	twin.Hash, twin.Name, twin.Path = "abd", "march.csv.gz", "usage/files/abd.csv.gz"
	if created, err := s.RecordUsageImport(ctx, twin); err != nil || created {
		t.Errorf("the same rows recorded twice: %v %v", created, err)
	}
	for _, c := range [][2]string{{"activity", "rows-v1:6:ab"}, {"focus", "rows-v1:6:ac"}, {"activity", ""}} {
		if _, err := s.UsageImportByContent(ctx, c[0], c[1]); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
			t.Errorf("import by content %q of kind %s: %v", c[1], c[0], err)
		}
	}
	if _, err := s.LatestRun(ctx); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("no run yet: %v", err)
	}
	id, err := s.SaveRun(ctx, partnerlink.AttributionRun{From: t0, To: t0.AddDate(0, 1, 0), CreatedAt: t0, Summary: []byte(`{"rows":6}`)},
		[]partnerlink.CreditRow{
			{Day: "2026-03-02", PartnerID: Location, TenantID: TenantA, SubscriptionID: "s", ResourceID: "/subscriptions/s/x/Web", Currency: "EUR", Attributed: "4.2", Eligible: "0", UsageRows: 1},
			{Day: "2026-03-01", PartnerID: Location, TenantID: TenantA, SubscriptionID: "s", ResourceID: "/subscriptions/s/x/Web", Currency: "EUR", Attributed: "1.005", Eligible: "1.005", UsageRows: 1},
			{Day: "2026-03-02", PartnerID: Global, TenantID: TenantB, SubscriptionID: "t", ResourceID: "/subscriptions/t", Currency: "USD", Attributed: "7", Eligible: "7", UsageRows: 2},
		})
	must(t, err)
	run, err := s.LatestRun(ctx)
	must(t, err)
	if run.ID != id || !run.To.Equal(t0.AddDate(0, 1, 0)) || string(run.Summary) != `{"rows":6}` {
		t.Errorf("latest run = %+v", run)
	}
	cs, err := s.Credits(ctx, partnerlink.CreditFilter{RunID: id, PartnerIDs: []string{Location}})
	must(t, err)
	if len(cs) != 2 || cs[0].Day != "2026-03-01" || cs[0].Attributed != "1.005" {
		t.Errorf("credits of %s = %+v", Location, cs)
	}
	if cs, _ := s.Credits(ctx, partnerlink.CreditFilter{RunID: id, ResourceID: "/SUBSCRIPTIONS/s/x/web/", Day: "2026-03-02"}); len(cs) != 1 {
		t.Errorf("credits by resource (case-insensitive) and day = %+v", cs)
	}
	if cs, _ := s.Credits(ctx, partnerlink.CreditFilter{RunID: id, TenantID: TenantB}); len(cs) != 1 || cs[0].Currency != "USD" {
		t.Errorf("credits by tenant = %+v", cs)
	}
}

// testLinkHistoryConcurrent is a property test of docs/rules.md, "Link
// history under concurrency": many goroutines create, replace, re-affirm and
// delete the links of two principals at once, each with an instant taken
// from a jittered clock (so they reach the store out of order). Whatever the
// interleaving: a principal's periods are non-empty and do not overlap, its
// events never run backwards and their versions count up by one, its current
// link is what its last event says, and the state exports to a world
// document that validates and imports again to the same bytes.
func testLinkHistoryConcurrent(t *testing.T, s Store) {
	ctx := context.Background()
	Seed(t, s)
	const solo = "5200000"
	must(t, s.PutPartner(ctx, partnerlink.Partner{ID: solo, Name: "Solo", Period: partnerlink.Period{From: t0.AddDate(-5, 0, 0)}}))
	principals := []string{UserA, SPA}
	const workers, changes = 8, 60
	var clock atomic.Int64 // milliseconds after t0, shared by the workers
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), 7))
			<-start
			for range changes {
				// An instant up to 10 ms behind the clock, as requests
				// that took their time and then raced.
				at := t0.Add(time.Duration(clock.Add(1)-rnd.Int64N(10)) * time.Millisecond)
				obj := principals[rnd.IntN(len(principals))]
				decide := unlink
				switch rnd.IntN(4) {
				case 0, 1:
					decide = link(Location)
				case 2:
					decide = link(solo)
				}
				_, _, err := s.ChangeLink(ctx, TenantA, obj, at, partnerlink.Caller{TenantID: TenantA, ObjectID: obj}, decide)
				if err != nil && partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND { // a delete with nothing linked
					t.Errorf("change at %v: %v", at, err)
				}
			}
		}()
	}
	close(start)
	wg.Wait()

	for _, obj := range principals {
		ls, err := s.Links(ctx, partnerlink.LinkFilter{TenantID: TenantA, ObjectID: obj})
		must(t, err)
		slices.SortFunc(ls, func(a, b partnerlink.Link) int { return a.Period.From.Compare(b.Period.From) })
		open := 0
		for i, l := range ls {
			if l.Period.To.IsZero() {
				open++
			} else if !l.Period.To.After(l.Period.From) {
				t.Errorf("%s: empty or backwards period %v – %v", obj, l.Period.From, l.Period.To)
			}
			if i > 0 && (ls[i-1].Period.To.IsZero() || ls[i-1].Period.To.After(l.Period.From)) {
				t.Errorf("%s: periods overlap: %v – %v and %v – %v", obj, ls[i-1].Period.From, ls[i-1].Period.To, l.Period.From, l.Period.To)
			}
		}
		if open > 1 {
			t.Errorf("%s: %d current links", obj, open)
		}
		evs, err := s.LinkEvents(ctx, partnerlink.LinkFilter{TenantID: TenantA, ObjectID: obj})
		must(t, err)
		if len(evs) == 0 {
			t.Fatalf("%s: no events", obj)
		}
		for i := 1; i < len(evs); i++ {
			if evs[i].At.Before(evs[i-1].At) {
				t.Errorf("%s: event %d at %v runs back before event %d at %v", obj, evs[i].ID, evs[i].At, evs[i-1].ID, evs[i-1].At)
			}
			if evs[i].Version != evs[i-1].Version+1 {
				t.Errorf("%s: event versions %d then %d", obj, evs[i-1].Version, evs[i].Version)
			}
		}
		last := evs[len(evs)-1]
		cur, err := s.CurrentLink(ctx, TenantA, obj)
		switch {
		case last.Action == partnerlink.LinkDeleted:
			if partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
				t.Errorf("%s: last event deleted the link, current = %+v %v", obj, cur, err)
			}
		case err != nil || cur.PartnerID != last.PartnerID || cur.Version != last.Version:
			t.Errorf("%s: last event %+v, current link %+v %v", obj, last, cur, err)
		}
	}

	// Backups keep restoring: the export validates and re-imports exactly.
	doc, err := s.ExportWorld(ctx)
	must(t, err)
	var first bytes.Buffer
	must(t, world.Write(&first, doc))
	doc2, err := world.Read(bytes.NewReader(first.Bytes()), "export.json") // Read validates
	if err != nil {
		t.Fatalf("the export does not import: %v", err)
	}
	must(t, s.ImportWorld(ctx, doc2, func(s string) (string, error) { return "h:" + s, nil }))
	again, err := s.ExportWorld(ctx)
	must(t, err)
	var second bytes.Buffer
	must(t, world.Write(&second, again))
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Errorf("export → import → export differs")
	}
}

// testStateVersion: the state version stays while nothing is written and
// changes with every write, so what is derived from the state can be kept
// exactly as long as it is right (docs/operations.md, "Explain").
func testStateVersion(t *testing.T, s Store) {
	ctx := context.Background()
	Seed(t, s)
	v1, err := s.StateVersion(ctx)
	must(t, err)
	if v1 == "" {
		t.Fatal("no state version")
	}
	_, err = s.ExportWorld(ctx) // reads change nothing
	must(t, err)
	// PostgreSQL's version is the cluster's snapshot, which transactions of
	// other databases (other tests) move too: an extra rebuild, never a
	// stale answer. SQLite's (data_version with the pin number) moves only with writes.
	if v, err := s.StateVersion(ctx); err != nil || v != v1 && !strings.Contains(v1, ":") {
		t.Errorf("state version after a read: %q %v, want %q", v, err, v1)
	}
	must(t, s.PutTenant(ctx, partnerlink.Tenant{ID: TenantB, Name: "renamed"}))
	v2, err := s.StateVersion(ctx)
	must(t, err)
	if v2 == v1 {
		t.Errorf("state version %q unchanged by a write", v2)
	}
	_, _, err = s.ChangeLink(ctx, TenantA, UserA, t0, partnerlink.Caller{}, link(Location))
	must(t, err)
	if v3, err := s.StateVersion(ctx); err != nil || v3 == v2 {
		t.Errorf("state version %q unchanged by a link change (%v)", v3, err)
	}
}

// docs/operations.md#import-and-export: an export is the world as it was at
// one instant, while imports replace it: every export equals the export of
// one of the worlds imported, never a mix of two.
func testExportSnapshot(t *testing.T, s Store) {
	ctx := context.Background()
	hash := func(secret string) (string, error) { return "hashed:" + secret, nil }
	read := func() *world.Document {
		doc, err := world.Read(bytes.NewReader(worldIn), "world-in.json")
		must(t, err)
		return doc
	}
	// B differs from A in the first table an export reads and in the last.
	a, b := read(), read()
	for i := range b.Tenants {
		b.Tenants[i].Name += " (B)"
	}
	for i := range b.RoleAssignments {
		b.RoleAssignments[i].RoleDefinition = "Reader"
	}
	exportOf := func() []byte { return exportBytes(t, s) }
	must(t, s.ImportWorld(ctx, b, hash))
	wantB := exportOf()
	must(t, s.ImportWorld(ctx, a, hash))
	wantA := exportOf()
	if bytes.Equal(wantA, wantB) {
		t.Fatal("the two worlds export the same")
	}
	done := make(chan struct{})
	imported := make(chan error, 1)
	go func() {
		defer close(imported)
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			if err := s.ImportWorld(ctx, []*world.Document{a, b}[i%2], hash); err != nil {
				imported <- err
				return
			}
		}
	}()
	for range 60 {
		if got := exportOf(); !bytes.Equal(got, wantA) && !bytes.Equal(got, wantB) {
			close(done)
			t.Fatalf("an export during imports is neither world:\n%s", got)
		}
	}
	close(done)
	must(t, <-imported)
}

// A world updated in place (an Azure snapshot applied while the server
// runs) neither loses nor undoes a link change made meanwhile: the link
// written while the update is under way is kept, after it, with its own
// version (docs/operations.md, "Import and export").
func testUpdateWorldKeepsLinks(t *testing.T, s Store) {
	ctx := context.Background()
	Seed(t, s)
	actor := partnerlink.Caller{TenantID: TenantA, ObjectID: UserA}
	_, _, err := s.ChangeLink(ctx, TenantA, UserA, t0.Add(time.Hour), actor, link(Location))
	must(t, err)
	hash := func(secret string) (string, error) { return "hashed:" + secret, nil }
	changed, added := make(chan error, 1), make(chan error, 1)
	const newcomer = "c0ffee00-0000-4000-8000-0000000000ee"
	err = s.UpdateWorld(ctx, func(doc *world.Document) (bool, error) {
		// A link change and a new principal from elsewhere, started while
		// the update holds the world: they must wait for it, not be
		// overwritten by it.
		go func() {
			_, _, err := s.ChangeLink(ctx, TenantA, UserA, t0.Add(2*time.Hour), actor, link(Global))
			changed <- err
		}()
		go func() {
			added <- s.PutPrincipal(ctx, partnerlink.Principal{TenantID: TenantA, ObjectID: newcomer, Type: partnerlink.PrincipalUser,
				DisplayName: "newcomer@wideworld.example"})
		}()
		time.Sleep(100 * time.Millisecond)
		doc.RoleAssignments = append(doc.RoleAssignments, world.RoleAssignment{TenantID: TenantA,
			ID: "5eed0000-0000-4000-8000-000000000001", PrincipalID: UserA, RoleDefinition: "Reader",
			Scope: "/subscriptions/5eed0000-0000-4000-8000-0000000000aa"})
		return true, nil
	}, hash)
	must(t, err)
	must(t, <-changed)
	must(t, <-added)
	if _, err := s.Principal(ctx, TenantA, newcomer); err != nil {
		t.Errorf("the principal added during the update is gone: %v", err)
	}
	cur, err := s.CurrentLink(ctx, TenantA, UserA)
	must(t, err)
	if cur.PartnerID != Global || cur.Version != 2 {
		t.Errorf("the link changed during the update is %+v, want version 2 to %s", cur, Global)
	}
	doc, err := s.ExportWorld(ctx)
	must(t, err)
	if len(doc.RoleAssignments) != 1 || len(doc.Links) != 2 {
		t.Errorf("after the update: %d role assignments, %d link periods; want 1 and 2", len(doc.RoleAssignments), len(doc.Links))
	}
	// An update that changes nothing writes nothing.
	before := exportBytes(t, s)
	must(t, s.UpdateWorld(ctx, func(doc *world.Document) (bool, error) {
		doc.Tenants = nil
		return false, nil
	}, hash))
	if !bytes.Equal(before, exportBytes(t, s)) {
		t.Error("an update that reported no change changed the world")
	}
}

// exportBytes is the store's world as its export writes it.
func exportBytes(t *testing.T, s Store) []byte {
	t.Helper()
	out, err := s.ExportWorld(context.Background())
	must(t, err)
	var b bytes.Buffer
	must(t, world.Write(&b, out))
	return b.Bytes()
}
