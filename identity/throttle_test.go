package identity_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink/identity"
)

// postH posts a form and returns the status, the OAuth error code and
// description, and the Retry-After header.
func (h *harness) postH(t *testing.T, path string, form url.Values) (status int, code, desc, retryAfter string) {
	t.Helper()
	resp, err := h.srv.Client().PostForm(h.url+path, form)
	if err != nil {
		t.Fatal(err)
	}
	retryAfter = resp.Header.Get("Retry-After")
	status, body := decode(t, resp)
	code, _ = body["error"].(string)
	desc, _ = body["error_description"].(string)
	return status, code, desc, retryAfter
}

// Password guessing: after 5 failures of a user name, attempts are refused
// for 1 s, even with the right password (invalid_grant, Retry-After); each
// further failure doubles the window; a success starts the count over.
// Another user from the same address is not held up until the address
// has 20 failures. (docs/operations.md, "Sign-in throttling")
func TestPasswordThrottle(t *testing.T) {
	h := newHarness(t)
	token := "/" + tenantA + "/oauth2/v2.0/token"
	try := func(user, pw string) (int, string, string, string) {
		t.Helper()
		return h.postH(t, token, passwordForm(user, pw))
	}
	for i := 0; i < 5; i++ {
		if status, code, desc, ra := try("ana@fabrikam.example", "guess"); status != 400 || code != "invalid_grant" || ra != "" ||
			!strings.HasPrefix(desc, "Error validating credentials") {
			t.Fatalf("wrong password %d: %d %s %q Retry-After %q", i+1, status, code, desc, ra)
		}
	}
	wantThrottled := func(user, pw, retryAt string, secs int) {
		t.Helper()
		status, code, desc, ra := try(user, pw)
		want := "Too many failed sign-in attempts for this account or from this address; retry after " + retryAt + " (in " + strconv.Itoa(secs) + " s)."
		if status != 400 || code != "invalid_grant" || desc != want || ra != strconv.Itoa(secs) {
			t.Fatalf("%s: %d %s %q Retry-After %q; want 400 invalid_grant %q Retry-After %d", user, status, code, desc, ra, want, secs)
		}
	}
	wantThrottled("ana@fabrikam.example", password, "2026-03-01T12:00:01Z", 1)
	wantThrottled("ANA@fabrikam.example", password, "2026-03-01T12:00:01Z", 1) // names compare case-insensitively
	if status, code, _, _ := try("bob@fabrikam.example", "bobs password"); status != 200 {
		t.Fatalf("another user from the same address: %d %s", status, code)
	}
	h.clock.Advance(time.Second)
	// The window is over: one more failure doubles it (2 s).
	if status, code, _, _ := try("ana@fabrikam.example", "guess"); status != 400 || code != "invalid_grant" {
		t.Fatalf("after the window: %d %s", status, code)
	}
	wantThrottled("ana@fabrikam.example", password, "2026-03-01T12:00:03Z", 2)
	h.clock.Advance(time.Second)
	wantThrottled("ana@fabrikam.example", password, "2026-03-01T12:00:03Z", 1)
	h.clock.Advance(time.Second)
	if status, code, _, _ := try("ana@fabrikam.example", password); status != 200 {
		t.Fatalf("right password after the window: %d %s", status, code)
	}
	// The success started ana's count over: 4 failures hold nothing up.
	for i := 0; i < 4; i++ {
		try("ana@fabrikam.example", "guess")
	}
	if status, code, _, _ := try("ana@fabrikam.example", password); status != 200 {
		t.Fatalf("after a success and 4 failures: %d %s", status, code)
	}
	failures, throttled := h.svc.SignInCounts(identity.SignInPassword)
	if failures != 10 || throttled != 4 {
		t.Errorf("counts: %d failures, %d throttled; want 10 and 4", failures, throttled)
	}
	// The address: 20 failures in all (10 so far), over any names, hold up
	// every name from it, bob's right password included.
	for i := 0; i < 10; i++ {
		try("nobody"+strconv.Itoa(i)+"@fabrikam.example", "guess")
	}
	wantThrottled("bob@fabrikam.example", "bobs password", "2026-03-01T12:00:04Z", 1)
}

// Client secret guessing: the same rule per application (invalid_client).
func TestClientSecretThrottle(t *testing.T) {
	h := newHarness(t)
	token := "/" + tenantA + "/oauth2/v2.0/token"
	form := func(s string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {appID}, "client_secret": {s}, "scope": {armScope}}
	}
	for i := 0; i < 5; i++ {
		if status, code, _, _ := h.postH(t, token, form("guess")); status != http.StatusUnauthorized || code != "invalid_client" {
			t.Fatalf("wrong secret %d: %d %s", i+1, status, code)
		}
	}
	status, code, desc, ra := h.postH(t, token, form(secret))
	if status != http.StatusUnauthorized || code != "invalid_client" || ra != "1" ||
		desc != "Too many failed sign-in attempts for this account or from this address; retry after 2026-03-01T12:00:01Z (in 1 s)." {
		t.Fatalf("right secret while throttled: %d %s %q Retry-After %q", status, code, desc, ra)
	}
	h.clock.Advance(time.Second)
	if status, code, _, _ := h.postH(t, token, form(secret)); status != 200 {
		t.Fatalf("right secret after the window: %d %s", status, code)
	}
	if failures, throttled := h.svc.SignInCounts(identity.SignInClientSecret); failures != 5 || throttled != 1 {
		t.Errorf("counts: %d failures, %d throttled; want 5 and 1", failures, throttled)
	}
}

// The device page counts and throttles the same way: after 5 wrong
// passwords the right one is refused with 429 and Retry-After.
func TestDevicePageThrottle(t *testing.T) {
	h := newHarness(t)
	_, userCode := h.startDevice(t, tenantA)
	b := newBrowser(t, h)
	submit := func(pass string) (int, string) {
		return b.submit(t, url.Values{"form_token": {b.open(t)}, "user_code": {userCode}, "username": {"ana@fabrikam.example"},
			"password": {pass}, "action": {"approve"}})
	}
	for i := 0; i < 5; i++ {
		if status, _ := submit("guess"); status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i+1, status)
		}
	}
	status, page := submit(password)
	if status != http.StatusTooManyRequests || !strings.Contains(page, "Too many failed sign-in attempts") {
		t.Fatalf("right password while throttled: %d %s", status, page)
	}
	h.clock.Advance(time.Second)
	if status, page := submit(password); status != 200 {
		t.Fatalf("after the window: %d %s", status, page)
	}
}
