package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/onboarding"
)

// docs/clients.md, "Onboarding a service principal": concurrent runs of
// the accelerator for one app in one tenant make one service principal,
// one role assignment and one link; exactly one run creates the principal,
// none issues it a secret, and every run succeeds.
func testOnboardConcurrent(t *testing.T, s Store) {
	ctx := context.Background()
	Seed(t, s)
	const app = "a11ce000-0000-4000-8000-0000000000b1"
	must(t, s.PutPrincipal(ctx, partnerlink.Principal{TenantID: TenantB, ObjectID: "c0ffee00-0000-4000-8000-0000000000b1",
		Type: partnerlink.PrincipalServicePrincipal, DisplayName: "tailspin-ops", AppID: app, HomeTenantID: TenantB}))
	_, err := s.CreateRoleAssignment(ctx, partnerlink.RoleAssignment{TenantID: TenantA, ID: "0a000000-0000-4000-8000-0000000000b1",
		PrincipalID: UserA, RoleDefinition: "Owner", Scope: "/", Period: partnerlink.Period{From: t0}}, UserA,
		func(_, _ []partnerlink.RoleAssignment) (bool, error) { return true, nil })
	must(t, err)
	svc := &onboarding.Service{Store: s}
	admin := partnerlink.Caller{TenantID: TenantA, ObjectID: UserA}
	req := onboarding.Request{TenantID: TenantA, AppID: app, Role: "Contributor", Scope: "/", PartnerID: Location}

	const runs = 8
	results := make([]*onboarding.Result, runs)
	errs := make([]error, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = svc.Onboard(ctx, admin, req)
		}()
	}
	wg.Wait()
	created := 0
	for i := range runs {
		if errs[i] != nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
		if results[i].PrincipalCreated {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d runs created the service principal, want 1", created)
	}
	var mine []partnerlink.Principal
	sps, err := s.ServicePrincipalsByAppID(ctx, app)
	must(t, err)
	for _, p := range sps {
		if p.TenantID == TenantA {
			mine = append(mine, p)
		}
	}
	if len(mine) != 1 {
		t.Fatalf("%d service principals of the app in tenant A, want 1: %+v", len(mine), mine)
	}
	if hashes, err := s.SecretHashes(ctx, TenantA, mine[0].ObjectID); err != nil || len(hashes) != 0 {
		t.Errorf("the onboarded service principal has secrets of its own: %d %v", len(hashes), err)
	}
	ras, err := s.RoleAssignments(ctx, partnerlink.RoleAssignmentFilter{TenantID: TenantA, PrincipalIDs: []string{mine[0].ObjectID}})
	must(t, err)
	if len(ras) != 1 {
		t.Errorf("%d role assignments, want 1: %+v", len(ras), ras)
	}
	l, err := s.CurrentLink(ctx, TenantA, mine[0].ObjectID)
	if err != nil || l.PartnerID != Location {
		t.Errorf("the link: %+v %v", l, err)
	}
}
