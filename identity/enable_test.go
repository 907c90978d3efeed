package identity_test

import (
	"context"
	"testing"
	"time"
)

// enableAgain enables a disabled principal again from instant from, as the
// store does (partnerlink.Principal.EnableAgain).
func (m *memStore) enableAgain(t testing.TB, tenantID, objectID string, from time.Time) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	p, err := m.principals[tenantID+"/"+objectID].EnableAgain(from)
	if err != nil {
		t.Fatal(err)
	}
	m.principals[tenantID+"/"+objectID] = p
}

// docs/rules.md "Principals: enabled periods": a disabled principal gets
// no token and its tokens stop working; enabled again, it gets tokens and
// they work again. Sign-in reads the current record, with every period.
func TestPrincipalDisabledAndEnabledAgain(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", spForm(armScope))
	if status != 200 {
		t.Fatalf("enabled: %d %v", status, body)
	}
	raw := body["access_token"].(string)

	h.store.endPrincipal(tenantA, spA, t0.Add(time.Minute))
	h.clock.Advance(2 * time.Minute)
	status, body = h.post(t, "/"+tenantA+"/oauth2/v2.0/token", spForm(armScope))
	wantOAuthError(t, status, body, 400, "unauthorized_client")
	if _, err := h.val.Validate(ctx, raw); err == nil {
		t.Fatal("the token of a disabled principal is still accepted")
	}

	h.store.enableAgain(t, tenantA, spA, t0.Add(10*time.Minute))
	h.clock.Advance(5 * time.Minute) // 7 minutes after t0: still disabled
	status, body = h.post(t, "/"+tenantA+"/oauth2/v2.0/token", spForm(armScope))
	wantOAuthError(t, status, body, 400, "unauthorized_client")

	h.clock.Advance(5 * time.Minute) // enabled again from 10 minutes after t0
	status, body = h.post(t, "/"+tenantA+"/oauth2/v2.0/token", spForm(armScope))
	if status != 200 {
		t.Fatalf("enabled again: %d %v", status, body)
	}
	if _, err := h.val.Validate(ctx, body["access_token"].(string)); err != nil {
		t.Fatalf("a new token of the principal enabled again: %v", err)
	}
	if _, err := h.val.Validate(ctx, raw); err != nil {
		t.Fatalf("its earlier token, still unexpired: %v", err)
	}
}

// A disable and an enable both ahead: until the disable the principal is in
// its earlier period, which sign-in honours too.
func TestPrincipalInItsEarlierPeriod(t *testing.T) {
	h := newHarness(t)
	h.store.endPrincipal(tenantA, anaA, t0.Add(time.Hour))
	h.store.enableAgain(t, tenantA, anaA, t0.Add(2*time.Hour))
	form := func() map[string][]string {
		return map[string][]string{"grant_type": {"password"}, "client_id": {cliClient}, "username": {"ana@fabrikam.example"},
			"password": {password}, "scope": {armScope}}
	}
	for _, step := range []struct {
		advance time.Duration
		ok      bool
	}{{0, true}, {90 * time.Minute, false}, {time.Hour, true}} {
		h.clock.Advance(step.advance)
		status, body := h.post(t, "/"+tenantA+"/oauth2/v2.0/token", form())
		if (status == 200) != step.ok {
			t.Fatalf("at %s: %d %v, want success %v", h.clock.Now().Format(time.RFC3339), status, body, step.ok)
		}
	}
}
