package ownership_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/ownership"
	"github.com/partnerlink/partnerlink/powerplatform"
	"github.com/partnerlink/partnerlink/sqlstore"
	st "github.com/partnerlink/partnerlink/sqlstore/storetest"
)

var at = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func setup(t *testing.T) *ownership.Service {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "pl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st.Seed(t, db)
	for _, e := range []powerplatform.Environment{{TenantID: st.TenantA, ID: "a-prod", Type: powerplatform.Production},
		{TenantID: st.TenantB, ID: "b-secret-env", Type: powerplatform.Production}} {
		if err := db.PutEnvironment(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []powerplatform.Resource{{TenantID: st.TenantA, EnvironmentID: "a-prod", ID: "a-app", Kind: powerplatform.CanvasApp},
		{TenantID: st.TenantB, EnvironmentID: "b-secret-env", ID: "b-bot", Kind: powerplatform.Bot}} {
		if err := db.PutPowerPlatformResource(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	return &ownership.Service{Store: db, Directory: db}
}

// A caller who neither owns a resource nor administers its tenant may not
// change it; the operator and the administrators may (docs/rules.md,
// "Power Platform ownership changes").
func TestWhoMayChange(t *testing.T) {
	s := setup(t)
	ctx := context.Background()
	user := powerplatform.PrincipalRef{ID: st.UserA, Type: partnerlink.PrincipalUser}
	stranger := ownership.Actor{Name: st.TenantA + "/" + st.SPA, ID: st.SPA}
	if _, err := s.Change(ctx, stranger, "a-app", ownership.SetOwner, user, at); partnerlink.ErrorCode(err) != partnerlink.EFORBIDDEN {
		t.Fatalf("a stranger sets the owner: %v, want 403", err)
	}
	c, err := s.Change(ctx, ownership.Operator, "a-app", ownership.SetOwner, user, at)
	if err != nil || len(c.History.HoldersAt(powerplatform.RoleOwner, at)) != 1 {
		t.Fatalf("the operator sets the owner: %+v %v", c, err)
	}
	// Now the owner, user A may add a co-owner itself.
	owner := ownership.Actor{Name: st.TenantA + "/" + st.UserA, ID: st.UserA}
	guest := powerplatform.PrincipalRef{ID: st.GuestB, Type: partnerlink.PrincipalGuest}
	if err := s.MayChange(ctx, owner, "a-app", at.Add(time.Minute)); err != nil {
		t.Errorf("the owner may change: %v", err)
	}
	if _, err := s.Change(ctx, owner, "a-app", ownership.AddCoOwner, guest, at.Add(time.Minute)); err != nil {
		t.Errorf("the owner adds a co-owner: %v", err)
	}
}

// A solution import of tenant A that lists tenant B's resource is refused
// as if the resource did not exist: nothing of tenant B is told.
func TestSolutionListingAnotherTenantsResource(t *testing.T) {
	s := setup(t)
	importer := powerplatform.PrincipalRef{ID: st.UserA, Type: partnerlink.PrincipalUser}
	_, err := s.ImportSolution(context.Background(), ownership.Operator, st.TenantA, "a-prod", []string{"a-app", "b-bot"}, importer, at)
	msg := partnerlink.ErrorMessage(err)
	if partnerlink.ErrorCode(err) != partnerlink.EINVALID || !strings.Contains(msg, "b-bot, which is not a registered resource of tenant "+st.TenantA) ||
		strings.Contains(msg, "b-secret-env") || strings.Contains(msg, "Bot") || strings.Contains(msg, st.TenantB) {
		t.Errorf("solution with another tenant's resource: %v; want it refused as unknown, naming nothing of the other tenant", err)
	}
}
