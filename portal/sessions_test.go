package portal

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// docs/portal.md, "Sessions and security": an account that signs in again and again
// replaces its own oldest session; everyone else's, the operator's
// included, stay.
func TestSessionsOfOneAccountDoNotEvictOthers(t *testing.T) {
	now := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	p := &Portal{Now: func() time.Time { return now }}
	start := func(s *session) *http.Request {
		rec := httptest.NewRecorder()
		s.Expires = now.Add(SessionLifetime)
		p.startSession(rec, s)
		now = now.Add(time.Millisecond)
		r := httptest.NewRequest("GET", "/portal", nil)
		for _, c := range rec.Result().Cookies() {
			r.AddCookie(c)
		}
		return r
	}
	alice := start(&session{HomeTenantID: "t1", HomeObjectID: "alice"})
	operator := start(&session{operator: true})
	var mallory []*http.Request
	for range 3 * maxAccountSessions {
		mallory = append(mallory, start(&session{HomeTenantID: "t1", HomeObjectID: "mallory"}))
	}
	if p.current(alice) == nil || p.current(operator) == nil {
		t.Fatal("another account's sign-ins evicted alice's or the operator's session")
	}
	if len(p.sessions) != 2+maxAccountSessions {
		t.Errorf("%d sessions kept, want %d", len(p.sessions), 2+maxAccountSessions)
	}
	if p.current(mallory[0]) != nil || p.current(mallory[len(mallory)-1]) == nil {
		t.Error("mallory's oldest session should have gone and the newest stayed")
	}
}

// The operator's page words a close's refusals for its form, not for the
// command line's flags (docs/portal.md, "Operator").
func TestOperatorWords(t *testing.T) {
	for in, want := range map[string]string{
		"month 2026-11 closes on 2026-12-10 (day 10 of the next month, when late usage has arrived); pass --early to close it now":   "month 2026-11 closes on 2026-12-10 (day 10 of the next month, when late usage has arrived); tick “Close before the close day” to close it now",
		"month 2026-10 is not closed (no month is closed yet); 'partnerlink close --month 2026-10' closes it when the month is over": "month 2026-10 is not closed (no month is closed yet); the Close the month form closes it when the month is over",
	} {
		if got := operatorWords(in); got != want {
			t.Errorf("operatorWords(%q) = %q", in, got)
		}
	}
}
