package linking_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/linking"
	"github.com/partnerlink/partnerlink/sqlstore"
	st "github.com/partnerlink/partnerlink/sqlstore/storetest"
)

var now = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func newService(t *testing.T) (*linking.Service, *sqlstore.DB) {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "pl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st.Seed(t, db)
	ctx := context.Background()
	// A partner organization without location IDs, an inactive ID, and a
	// deleted user.
	must(t, db.PutPartner(ctx, partnerlink.Partner{ID: "1234567", Name: "Solo Partner"}))
	must(t, db.PutPartner(ctx, partnerlink.Partner{ID: "7654321", Name: "Gone Partner",
		Period: partnerlink.Period{To: now.Add(-time.Hour)}}))
	must(t, db.PutPrincipal(ctx, partnerlink.Principal{TenantID: st.TenantA, ObjectID: "c0ffee00-0000-4000-8000-0000000000dd",
		Type: partnerlink.PrincipalUser, DisplayName: "gone@x", Period: partnerlink.Period{To: now.Add(-time.Minute)}}))
	s := linking.New(db)
	s.Now = func() time.Time { return now }
	return s, db
}

var (
	user  = partnerlink.Caller{TenantID: st.TenantA, ObjectID: st.UserA}
	sp    = partnerlink.Caller{TenantID: st.TenantA, ObjectID: st.SPA}
	guest = partnerlink.Caller{TenantID: st.TenantA, ObjectID: st.GuestB}
)

// docs/rules.md#linking: registry validation, each refusal with its own message naming what to use.
func TestLinkRefusals(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	tests := []struct {
		name      string
		caller    partnerlink.Caller
		partnerID string
		code      string
		armCode   string
		mention   string
	}{
		{"malformed: letters (docs/rules.md#identifiers-and-time)", user, "12a456", partnerlink.EINVALID, "BadRequest", "1 to 10 decimal digits"},
		{"malformed: too long (docs/rules.md#identifiers-and-time)", user, "12345678901", partnerlink.EINVALID, "BadRequest", "1 to 10 decimal digits"},
		{"malformed: empty", user, "", partnerlink.EINVALID, "BadRequest", "1 to 10 decimal digits"},
		{"unknown ID", user, "999999", partnerlink.EINVALID, "BadRequest", "no record of it"},
		{"deactivated ID", user, "7654321", partnerlink.EINVALID, "BadRequest", "not active"},
		{"global ID with location IDs names them", user, st.Global, partnerlink.EINVALID, "BadRequest", st.Location},
		{"CSP delegated principal (docs/rules.md#azure-attribution, docs/rules.md#linking)", partnerlink.Caller{TenantID: st.TenantA, ObjectID: st.GroupA}, st.Location,
			partnerlink.EFORBIDDEN, "CSPDelegatedPrincipal", "CSP channel"},
		{"unknown principal", partnerlink.Caller{TenantID: st.TenantA, ObjectID: "c0ffee00-0000-4000-8000-0000000000ee"}, st.Location,
			partnerlink.EFORBIDDEN, "AuthorizationFailed", "does not exist"},
		{"deleted principal (docs/rules.md#azure-attribution)", partnerlink.Caller{TenantID: st.TenantA, ObjectID: "c0ffee00-0000-4000-8000-0000000000dd"}, st.Location,
			partnerlink.EFORBIDDEN, "AuthorizationFailed", "deleted or disabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Link(ctx, tt.caller, tt.partnerID)
			var e *partnerlink.Error
			if err == nil || partnerlink.ErrorCode(err) != tt.code {
				t.Fatalf("err = %v, want code %s", err, tt.code)
			}
			e = err.(*partnerlink.Error)
			if e.ARMCode != tt.armCode || !strings.Contains(e.Message, tt.mention) {
				t.Errorf("err = %s %q, want %s mentioning %q", e.ARMCode, e.Message, tt.armCode, tt.mention)
			}
		})
	}
}

// The caller's principal record from authentication (Caller.Principal) is
// what the rules judge when it is the caller's; another principal's record
// is ignored and the directory read.
func TestLinkJudgesTheAuthenticatedRecord(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	// The directory says SPA may link; the record authentication read (at
	// most the liveness interval old) says it is CSP delegated.
	delegated := &partnerlink.Principal{TenantID: st.TenantA, ObjectID: st.SPA, Type: partnerlink.PrincipalServicePrincipal, CSPDelegated: true}
	c := sp
	c.Principal = delegated
	if _, err := s.Link(ctx, c, st.Location); partnerlink.ErrorCode(err) != partnerlink.EFORBIDDEN {
		t.Errorf("CSP delegated by the caller's record: %v, want EFORBIDDEN", err)
	}
	// A record of somebody else is not the caller's: the directory decides.
	c = user
	c.Principal = delegated
	if _, err := s.Link(ctx, c, st.Location); err != nil {
		t.Errorf("with another principal's record: %v", err)
	}
}

// docs/rules.md#linking and the wire recordings: create, re-PUT (idempotent, version +1),
// PATCH to a new ID replaces the single link, DELETE ends it.
func TestLinkLifecycle(t *testing.T) {
	s, db := newService(t)
	ctx := context.Background()
	if _, err := s.Get(ctx, user, ""); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND ||
		!strings.Contains(partnerlink.ErrorMessage(err), "No partner ID is linked") {
		t.Fatalf("get before link: %v", err)
	}
	v, err := s.Link(ctx, user, st.Location)
	must(t, err)
	if v.Version != 1 || v.PartnerName != "Tailspin Oslo" || !v.CreatedTime.Equal(now) {
		t.Errorf("create = %+v", v)
	}
	v, err = s.Link(ctx, user, st.Location)
	must(t, err)
	if v.Version != 2 || !v.CreatedTime.Equal(now) {
		t.Errorf("re-PUT = %+v", v)
	}
	v, err = s.Link(ctx, user, "1234567")
	must(t, err)
	if v.Version != 3 || v.PartnerID != "1234567" || v.PartnerName != "Solo Partner" {
		t.Errorf("update = %+v", v)
	}
	if _, err := s.Get(ctx, user, st.Location); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("get with the old ID: %v", err)
	}
	if err := s.Unlink(ctx, user, st.Location); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("delete with a different ID: %v", err)
	}
	must(t, s.Unlink(ctx, user, "1234567"))
	if _, err := s.Get(ctx, user, ""); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("get after delete: %v", err)
	}
	// Every change recorded with actor and instant (docs/rules.md#linking).
	evs, err := db.LinkEvents(ctx, partnerlink.LinkFilter{TenantID: st.TenantA})
	must(t, err)
	// All four at the same clock instant: the replace and the delete each
	// close a period that began at that instant, so each happens a
	// nanosecond later (docs/rules.md, "Link history under concurrency").
	if len(evs) != 4 || evs[3].Action != partnerlink.LinkDeleted || evs[3].ActorObjectID != st.UserA || !evs[3].At.Equal(now.Add(2*time.Nanosecond)) ||
		!evs[1].At.Equal(now) || !evs[2].At.Equal(now.Add(time.Nanosecond)) {
		t.Errorf("events = %+v", evs)
	}
}

// docs/rules.md#linking: only the credential itself changes its own link — another
// principal's request acts on its own link, never on someone else's.
func TestOnlyOwnLink(t *testing.T) {
	s, db := newService(t)
	ctx := context.Background()
	_, err := s.Link(ctx, user, st.Location)
	must(t, err)
	// The service principal deletes "5100001": it has no link, so nothing happens to the user's.
	if err := s.Unlink(ctx, sp, st.Location); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("other principal's delete: %v", err)
	}
	_, err = s.Link(ctx, sp, "1234567")
	must(t, err)
	l, err := db.CurrentLink(ctx, st.TenantA, st.UserA)
	must(t, err)
	if l.PartnerID != st.Location || l.Version != 1 {
		t.Errorf("user's link changed by another principal: %+v", l)
	}
	// A guest links in the customer tenant with its guest object id.
	g, err := s.Link(ctx, guest, st.Location)
	must(t, err)
	if g.ObjectID != st.GuestB || g.TenantID != st.TenantA {
		t.Errorf("guest link = %+v", g)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The NotFound answer names a next step the caller can take (docs/rules.md,
// "Linking"): a guest links by naming the customer tenant, a CSP delegated
// principal cannot link at all, a member gets the usual commands.
func TestNoLinkNextStep(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	cases := []struct {
		name      string
		principal *partnerlink.Principal
		want      string
		never     string
	}{
		{"member", &partnerlink.Principal{TenantID: st.TenantA, ObjectID: st.UserA, Type: partnerlink.PrincipalUser},
			"'partnerlink link create --partner-id <id>' or 'az managementpartner create --partner-id <id>'", "--tenant"},
		{"guest", &partnerlink.Principal{TenantID: st.TenantA, ObjectID: st.GuestB, Type: partnerlink.PrincipalGuest, HomeTenantID: st.TenantB},
			"'partnerlink link create --partner-id <id> --tenant " + st.TenantA + "'", "az managementpartner"},
		{"multi-tenant app", &partnerlink.Principal{TenantID: st.TenantA, ObjectID: st.SPA, Type: partnerlink.PrincipalServicePrincipal, HomeTenantID: st.TenantB},
			"--tenant " + st.TenantA, "az managementpartner"},
		{"CSP delegated", &partnerlink.Principal{TenantID: st.TenantA, ObjectID: st.SPA, Type: partnerlink.PrincipalServicePrincipal, CSPDelegated: true},
			"attributed through the CSP channel, so it cannot link", "link create"},
	}
	for _, tc := range cases {
		c := partnerlink.Caller{TenantID: tc.principal.TenantID, ObjectID: tc.principal.ObjectID, Principal: tc.principal}
		_, err := s.Get(ctx, c, "")
		msg := partnerlink.ErrorMessage(err)
		if partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND || !strings.Contains(msg, "No partner ID is linked") ||
			!strings.Contains(msg, tc.want) || strings.Contains(msg, tc.never) {
			t.Errorf("%s: %v; want NotFound naming %q and not %q", tc.name, err, tc.want, tc.never)
		}
	}
}
