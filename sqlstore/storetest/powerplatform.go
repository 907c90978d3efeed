package storetest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/powerplatform"
)

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if partnerlink.ErrorCode(err) != code {
		t.Errorf("%s: error %v (code %q), want code %q", what, err, partnerlink.ErrorCode(err), code)
	}
}

// ev is the audit record of a change made by the test.
func ev(action string, p powerplatform.PrincipalRef, at time.Time) partnerlink.OwnershipEvent {
	return partnerlink.OwnershipEvent{Action: action, PrincipalID: p.ID, Actor: "storetest", At: at}
}

// setOwner is a change that makes p the owner at at.
func setOwner(p powerplatform.PrincipalRef, at time.Time) func([]powerplatform.Component) ([]powerplatform.History, error) {
	return func(cs []powerplatform.Component) ([]powerplatform.History, error) {
		h, err := powerplatform.SetOwner(cs[0].Resource, cs[0].History, p, at)
		return []powerplatform.History{h}, err
	}
}

// docs/rules.md#power-platform on the store: registration with case-insensitive ids, ownership
// changes that close and open periods at one instant, refusals that change
// nothing, solution imports all or nothing, the world document round trip
// and concurrent changes serialized.
func testPowerPlatform(t *testing.T, s Store) {
	ctx := context.Background()
	Seed(t, s)
	user := powerplatform.PrincipalRef{ID: UserA, Type: partnerlink.PrincipalUser}
	guest := powerplatform.PrincipalRef{ID: GuestB, Type: partnerlink.PrincipalGuest}
	sp := powerplatform.PrincipalRef{ID: SPA, Type: partnerlink.PrincipalServicePrincipal}

	// Environments.
	wantCode(t, "environment of an unknown tenant", s.PutEnvironment(ctx, powerplatform.Environment{TenantID: "99999999-0000-4000-8000-000000000000", ID: "e", Type: powerplatform.Production}), partnerlink.ENOTFOUND)
	wantCode(t, "unknown environment type", s.PutEnvironment(ctx, powerplatform.Environment{TenantID: TenantA, ID: "e", Type: "Prod"}), partnerlink.EINVALID)
	must(t, s.PutEnvironment(ctx, powerplatform.Environment{TenantID: TenantA, ID: "Env-Prod", Type: powerplatform.Sandbox}))
	must(t, s.PutEnvironment(ctx, powerplatform.Environment{TenantID: TenantA, ID: "env-prod", Type: powerplatform.Production}))
	must(t, s.PutEnvironment(ctx, powerplatform.Environment{TenantID: TenantB, ID: "env-prod", Type: powerplatform.Trial}))
	es, err := s.Environments(ctx, TenantA)
	must(t, err)
	if len(es) != 1 || es[0].ID != "Env-Prod" || es[0].Type != powerplatform.Production {
		t.Errorf("environments of A = %+v", es)
	}
	if all, _ := s.Environments(ctx, ""); len(all) != 2 {
		t.Errorf("all environments = %+v", all)
	}
	if e, err := s.Environment(ctx, TenantB, "ENV-PROD"); err != nil || e.Type != powerplatform.Trial {
		t.Errorf("environment of B = %+v %v", e, err)
	}
	_, err = s.Environment(ctx, TenantA, "nowhere")
	wantCode(t, "unknown environment", err, partnerlink.ENOTFOUND)

	// Resources.
	app := powerplatform.Resource{TenantID: TenantA, EnvironmentID: "env-prod", ID: "App-1", Kind: powerplatform.CanvasApp, Paid: true}
	flow := powerplatform.Resource{TenantID: TenantA, EnvironmentID: "ENV-PROD", ID: "flow-1", Kind: powerplatform.Flow}
	dataset := powerplatform.Resource{TenantID: TenantA, EnvironmentID: "env-prod", ID: "sales", Kind: powerplatform.PowerBIDataset}
	wantCode(t, "resource in an unknown environment", s.PutPowerPlatformResource(ctx, powerplatform.Resource{TenantID: TenantA, EnvironmentID: "x", ID: "r", Kind: powerplatform.Bot}), partnerlink.ENOTFOUND)
	wantCode(t, "unknown kind", s.PutPowerPlatformResource(ctx, powerplatform.Resource{TenantID: TenantA, EnvironmentID: "env-prod", ID: "r", Kind: "Sheet"}), partnerlink.EINVALID)
	for _, r := range []powerplatform.Resource{app, flow, dataset} {
		must(t, s.PutPowerPlatformResource(ctx, r))
	}
	err = s.PutPowerPlatformResource(ctx, powerplatform.Resource{TenantID: TenantB, EnvironmentID: "env-prod", ID: "app-1", Kind: powerplatform.CanvasApp})
	wantCode(t, "resource moved to another tenant", err, partnerlink.ECONFLICT)
	// The refusal tells tenant B nothing of tenant A (docs/api.md, "Errors").
	if msg := partnerlink.ErrorMessage(err); strings.Contains(strings.ToLower(msg), TenantA) || strings.Contains(strings.ToLower(msg), "env-prod") ||
		!strings.Contains(msg, "already in use") {
		t.Errorf("another tenant's id in use: %q; want a refusal that names neither the tenant nor the environment", msg)
	}
	r, err := s.PowerPlatformResource(ctx, "APP-1")
	must(t, err)
	if r.ID != "App-1" || r.EnvironmentID != "Env-Prod" || !r.Paid || r.Kind != powerplatform.CanvasApp {
		t.Errorf("resource = %+v", r)
	}
	if rs, _ := s.PowerPlatformResources(ctx, TenantA, "env-prod"); len(rs) != 3 || rs[0].ID != "App-1" {
		t.Errorf("resources = %+v", rs)
	}
	_, err = s.PowerPlatformResource(ctx, "nothing")
	wantCode(t, "unknown resource", err, partnerlink.ENOTFOUND)

	// Ownership: the change closes and opens periods at one instant.
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	_, err = s.ChangeOwnership(ctx, []string{"app-1"}, ev("SetOwner", user, t1), setOwner(user, t1))
	must(t, err)
	comps, err := s.ChangeOwnership(ctx, []string{"APP-1"}, ev("SetOwner", guest, t2), setOwner(guest, t2))
	must(t, err)
	h, err := s.OwnershipHistory(ctx, "app-1")
	must(t, err)
	if len(h) != 2 || len(comps) != 1 || len(comps[0].History) != 2 ||
		h[0].PrincipalID != UserA || !h[0].Period.From.Equal(t1) || !h[0].Period.To.Equal(t2) ||
		h[1].PrincipalID != GuestB || !h[1].Period.From.Equal(t2) || !h[1].Period.To.IsZero() {
		t.Errorf("history = %+v", h)
	}
	// Refusals change nothing: the product's limits, the same owner again,
	// an instant before the recorded history.
	_, err = s.ChangeOwnership(ctx, []string{"app-1"}, ev("SetOwner", sp, t2.Add(time.Hour)), setOwner(sp, t2.Add(time.Hour)))
	wantCode(t, "canvas app owned by a service principal", err, partnerlink.EINVALID)
	_, err = s.ChangeOwnership(ctx, []string{"app-1"}, ev("SetOwner", guest, t2.Add(time.Hour)), setOwner(guest, t2.Add(time.Hour)))
	wantCode(t, "same owner", err, partnerlink.ECONFLICT)
	_, err = s.ChangeOwnership(ctx, []string{"app-1"}, ev("SetOwner", user, t1), setOwner(user, t1))
	wantCode(t, "change in the past", err, partnerlink.ECONFLICT)
	_, err = s.ChangeOwnership(ctx, []string{"nothing"}, ev("SetOwner", user, t2), setOwner(user, t2))
	wantCode(t, "change of an unknown resource", err, partnerlink.ENOTFOUND)
	if after, _ := s.OwnershipHistory(ctx, "app-1"); len(after) != 2 || !after[1].Period.To.IsZero() {
		t.Errorf("refused changes changed the history: %+v", after)
	}
	// A resource with a history keeps its kind; its paid flag may change.
	wantCode(t, "kind change", s.PutPowerPlatformResource(ctx, powerplatform.Resource{TenantID: TenantA, EnvironmentID: "env-prod", ID: "app-1", Kind: powerplatform.ModelDrivenApp}), partnerlink.ECONFLICT)
	must(t, s.PutPowerPlatformResource(ctx, powerplatform.Resource{TenantID: TenantA, EnvironmentID: "env-prod", ID: "app-1", Kind: powerplatform.CanvasApp}))
	if r, _ := s.PowerPlatformResource(ctx, "app-1"); r.Paid || r.ID != "App-1" {
		t.Errorf("after paid change: %+v", r)
	}

	// A solution with a dataset is refused whole; without it, the importer
	// becomes owner of every component (and creator of the flow).
	t3 := t2.Add(time.Hour)
	importAs := func(p powerplatform.PrincipalRef, at time.Time) func([]powerplatform.Component) ([]powerplatform.History, error) {
		return func(cs []powerplatform.Component) ([]powerplatform.History, error) {
			return powerplatform.ImportSolution(cs, p, at)
		}
	}
	_, err = s.ChangeOwnership(ctx, []string{"flow-1", "app-1", "sales"}, ev("ImportSolution", sp, t3), importAs(sp, t3))
	wantCode(t, "solution with a dataset", err, partnerlink.EINVALID)
	if fh, _ := s.OwnershipHistory(ctx, "flow-1"); len(fh) != 0 {
		t.Errorf("refused solution changed the flow: %+v", fh)
	}
	comps, err = s.ChangeOwnership(ctx, []string{"flow-1", "app-1"}, ev("ImportSolution", sp, t3), importAs(sp, t3))
	must(t, err)
	if len(comps) != 2 || comps[0].Resource.ID != "flow-1" || len(comps[0].History.HoldersAt(powerplatform.RoleCreator, t3)) != 1 ||
		comps[1].History.HoldersAt(powerplatform.RoleOwner, t3)[0] != SPA {
		t.Errorf("solution import = %+v", comps)
	}
	if ah, _ := s.OwnershipHistory(ctx, "app-1"); len(ah) != 3 || !ah[1].Period.To.Equal(t3) {
		t.Errorf("app history after import = %+v", ah)
	}

	// The audit records each change made, per resource, and no refusal.
	evs, err := s.OwnershipEvents(ctx, "APP-1")
	must(t, err)
	if len(evs) != 3 || evs[0].Action != "SetOwner" || evs[0].PrincipalID != UserA || !evs[0].At.Equal(t1) ||
		evs[2].Action != "ImportSolution" || evs[2].PrincipalID != SPA || evs[2].Actor != "storetest" || evs[2].ResourceID != "App-1" {
		t.Errorf("events of app-1 = %+v", evs)
	}
	if fe, _ := s.OwnershipEvents(ctx, "flow-1"); len(fe) != 1 {
		t.Errorf("events of flow-1 = %+v", fe)
	}

	// The world document carries it all, and re-importing it keeps it.
	doc, err := s.ExportWorld(ctx)
	must(t, err)
	if len(doc.Environments) != 2 || len(doc.PowerPlatformResources) != 3 || len(doc.Ownership) != 5 {
		t.Errorf("export: environments %v, resources %v, ownership %v", doc.Environments, doc.PowerPlatformResources, doc.Ownership)
	}
	must(t, s.ImportWorld(ctx, doc, func(s string) (string, error) { return s, nil }))
	if fh, _ := s.OwnershipHistory(ctx, "FLOW-1"); len(fh) != 2 {
		t.Errorf("flow history after re-import = %+v", fh)
	}
	if evs, _ := s.OwnershipEvents(ctx, "app-1"); len(evs) != 3 {
		t.Errorf("a world import dropped the audit: %+v", evs)
	}

	// Concurrent changes of one resource are serialized: each sees the
	// previous one's history, so there is one owner at a time.
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.ChangeOwnership(ctx, []string{"flow-1"}, ev("SetOwner", user, t0), func(cs []powerplatform.Component) ([]powerplatform.History, error) {
				hist := cs[0].History
				var last time.Time
				for _, x := range hist {
					if x.Period.From.After(last) {
						last = x.Period.From
					}
				}
				at := last.Add(time.Minute)
				next := user
				if owner := hist.HoldersAt(powerplatform.RoleOwner, at); len(owner) == 1 && owner[0] == UserA {
					next = guest
				}
				h, err := powerplatform.SetOwner(cs[0].Resource, hist, next, at)
				return []powerplatform.History{h}, err
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent change: %v", err)
		}
	}
	fh, err := s.OwnershipHistory(ctx, "flow-1")
	must(t, err)
	if err := powerplatform.ValidateHistory(flow, fh); err != nil {
		t.Errorf("concurrent changes left an invalid history: %v", err)
	}
	if len(fh) != 2+2*n {
		t.Errorf("history has %d periods after %d changes, want %d", len(fh), n, 2+2*n)
	}
}
