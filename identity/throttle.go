package identity

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ThrottleConfig sets how failed sign-ins slow down further attempts
// (docs/operations.md, "Sign-in throttling"). Zero values take the defaults.
type ThrottleConfig struct {
	// PrincipalLimit failures of one user name or client id (default 5), or
	// IPLimit failures from one address (default 20), start a window in
	// which every attempt for it is refused, even with the right secret.
	PrincipalLimit, IPLimit int
	// Base is the first window (default 1 s); each further failure doubles
	// it, up to Max (default 15 minutes).
	Base, Max time.Duration
	// Forget is how long after its last failure a count starts over
	// (default 1 hour). A success starts the principal's count over at once.
	Forget time.Duration
}

// Kinds of sign-in counted by the throttle.
const (
	SignInPassword     = "password"      // the password grant and the device page
	SignInClientSecret = "client_secret" // the client credentials grant
)

// throttle counts failures per key ("user:name", "client:id", "ip:addr").
type throttle struct {
	cfg     ThrottleConfig
	mu      sync.Mutex
	entries map[string]*throttleEntry
	// failures and throttled count attempts by kind, for /metrics.
	failures, throttled map[string]*atomic.Int64
}

type throttleEntry struct {
	failures int
	last     time.Time // the last failure
}

func newThrottle(cfg ThrottleConfig) *throttle {
	if cfg.PrincipalLimit <= 0 {
		cfg.PrincipalLimit = 5
	}
	if cfg.IPLimit <= 0 {
		cfg.IPLimit = 20
	}
	if cfg.Base <= 0 {
		cfg.Base = time.Second
	}
	if cfg.Max <= 0 {
		cfg.Max = 15 * time.Minute
	}
	if cfg.Forget <= 0 {
		cfg.Forget = time.Hour
	}
	t := &throttle{cfg: cfg, entries: map[string]*throttleEntry{},
		failures: map[string]*atomic.Int64{}, throttled: map[string]*atomic.Int64{}}
	for _, k := range []string{SignInPassword, SignInClientSecret} {
		t.failures[k], t.throttled[k] = new(atomic.Int64), new(atomic.Int64)
	}
	return t
}

// signInKeys are the throttle's keys of one attempt: the principal's and
// the client address's.
type signInKeys struct {
	kind, principal, ip string
}

func (t *throttle) limit(key string) int {
	if len(key) > 3 && key[:3] == "ip:" {
		return t.cfg.IPLimit
	}
	return t.cfg.PrincipalLimit
}

// until returns when the key's window ends (zero when it has none).
func (t *throttle) until(key string, now time.Time) time.Time {
	e := t.entries[key]
	if e == nil || now.Sub(e.last) > t.cfg.Forget {
		return time.Time{}
	}
	over := e.failures - t.limit(key)
	if over < 0 {
		return time.Time{}
	}
	window := t.cfg.Max
	if over < 32 {
		window = time.Duration(math.Min(float64(t.cfg.Base)*math.Pow(2, float64(over)), float64(t.cfg.Max)))
	}
	return e.last.Add(window)
}

// check returns how long the attempt must wait (zero: it may go ahead),
// counting a refused attempt as throttled.
func (t *throttle) check(k signInKeys, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for _, key := range []string{k.principal, k.ip} {
		if u := t.until(key, now); u.After(now) {
			wait = max(wait, u.Sub(now))
		}
	}
	if wait > 0 {
		t.throttled[k.kind].Add(1)
	}
	return wait
}

// fail records a failed attempt.
func (t *throttle) fail(k signInKeys, now time.Time) {
	t.failures[k.kind].Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.entries) >= 10000 {
		t.prune(now)
	}
	for _, key := range []string{k.principal, k.ip} {
		e := t.entries[key]
		if e == nil || now.Sub(e.last) > t.cfg.Forget {
			e = &throttleEntry{}
			t.entries[key] = e
		}
		e.failures++
		e.last = now
	}
}

// succeed starts the principal's count over (not the address's: one good
// account must not clear an address's failures with others).
func (t *throttle) succeed(k signInKeys) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.entries, k.principal)
}

// prune drops the entries that are forgotten.
func (t *throttle) prune(now time.Time) {
	for key, e := range t.entries {
		if now.Sub(e.last) > t.cfg.Forget {
			delete(t.entries, key)
		}
	}
}

// SignInCounts returns the failed and the throttled (refused without a
// check) sign-in attempts of a kind since the service started.
func (s *Service) SignInCounts(kind string) (failures, throttled int64) {
	f, th := s.throttle.failures[kind], s.throttle.throttled[kind]
	if f == nil {
		return 0, 0
	}
	return f.Load(), th.Load()
}

// tooManyAttempts is the OAuth error of a throttled attempt.
func tooManyAttempts(status int, code string, wait time.Duration, now time.Time) *oauthError {
	secs := int64(math.Ceil(wait.Seconds()))
	return &oauthError{status: status, code: code, retryAfter: secs, description: fmt.Sprintf(
		"Too many failed sign-in attempts for this account or from this address; retry after %s (in %d s).",
		now.Add(time.Duration(secs)*time.Second).UTC().Format(time.RFC3339), secs)}
}

func setRetryAfter(w http.ResponseWriter, secs int64) {
	if secs > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
}
