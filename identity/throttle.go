package identity

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ThrottleConfig sets how failed sign-ins slow down further attempts
// (docs/operations.md, "Sign-in throttling"). Zero values take the defaults.
type ThrottleConfig struct {
	// PrincipalLimit failures of one user name or client id from one
	// address (default 5), IPLimit failures from one address over any
	// names (default 20), or AccountLimit failures of one name from all
	// addresses together (default 50) start a window in which every
	// attempt for it is refused, even with the right secret. The account
	// limit is high so that one address cannot lock a user out: it is
	// held up by its own limits long before.
	PrincipalLimit, IPLimit, AccountLimit int
	// Base is the first window (default 1 s); each further failure doubles
	// it, up to Max (default 15 minutes).
	Base, Max time.Duration
	// Forget is how long after its last failure a count starts over
	// (default 1 hour). A success starts the principal's counts over at once.
	Forget time.Duration
	// MaxEntries bounds the counts kept in memory (default 100,000), and
	// the familiar addresses apart from them.
	MaxEntries int
	// Familiar is how long an address where a principal signed in stays
	// familiar to it (default 30 days): the account limit does not hold
	// up attempts from a familiar address, so that guessing from
	// elsewhere cannot lock the person out where they work.
	Familiar time.Duration
}

// Kinds of sign-in counted by the throttle.
const (
	SignInPassword     = "password"      // the password grant and the device page
	SignInClientSecret = "client_secret" // the client credentials grant
)

// throttle counts failures per key: "acct:" a principal, "pip:" a principal
// from one address, "ip:" an address.
type throttle struct {
	cfg       ThrottleConfig
	mu        sync.Mutex
	entries   map[string]*throttleEntry
	lastPrune time.Time
	// familiar holds, per principal (an "acct:" key), the addresses it
	// signed in from and when last: at most maxFamiliarPerPrincipal each,
	// so that one account's sign-ins cannot push out another's.
	familiar map[string]*familiarSet
	// failures and throttled count attempts by kind, for /metrics.
	failures, throttled map[string]*atomic.Int64
}

type throttleEntry struct {
	failures int
	last     time.Time // the last failure (or attempt in flight)
}

func newThrottle(cfg ThrottleConfig) *throttle {
	if cfg.PrincipalLimit <= 0 {
		cfg.PrincipalLimit = 5
	}
	if cfg.IPLimit <= 0 {
		cfg.IPLimit = 20
	}
	if cfg.AccountLimit <= 0 {
		cfg.AccountLimit = 50
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
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 100_000
	}
	if cfg.Familiar <= 0 {
		cfg.Familiar = 30 * 24 * time.Hour
	}
	t := &throttle{cfg: cfg, entries: map[string]*throttleEntry{}, familiar: map[string]*familiarSet{},
		failures: map[string]*atomic.Int64{}, throttled: map[string]*atomic.Int64{}}
	for _, k := range []string{SignInPassword, SignInClientSecret} {
		t.failures[k], t.throttled[k] = new(atomic.Int64), new(atomic.Int64)
	}
	return t
}

// maxNameKey bounds the part of a key taken from a user name or client id,
// so that long made-up names cannot grow the throttle's memory.
const maxNameKey = 256

// signInKeys are the throttle's keys of one attempt.
type signInKeys struct {
	kind             string
	account, pip, ip string
}

// newSignInKeys returns the keys of an attempt of kind for principal (a
// user name or client id) from address ip. IPv6 addresses count per /64,
// the block one subscriber usually holds.
func newSignInKeys(kind, principal, ip string) signInKeys {
	principal = strings.ToLower(principal)
	if len(principal) > maxNameKey {
		principal = principal[:maxNameKey]
	}
	if a, err := netip.ParseAddr(ip); err == nil {
		a = a.Unmap()
		if a.Is6() {
			p, _ := a.Prefix(64)
			ip = p.String()
		} else {
			ip = a.String()
		}
	}
	return signInKeys{kind: kind, account: "acct:" + kind + ":" + principal,
		pip: "pip:" + kind + ":" + principal + "@" + ip, ip: "ip:" + ip}
}

func (k signInKeys) all() []string { return []string{k.account, k.pip, k.ip} }

func (t *throttle) limit(key string) int {
	switch {
	case strings.HasPrefix(key, "ip:"):
		return t.cfg.IPLimit
	case strings.HasPrefix(key, "acct:"):
		return t.cfg.AccountLimit
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

// begin returns how long the attempt must wait (zero: it may go ahead),
// counting a refused attempt as throttled. An attempt that may go ahead is
// counted as a failure at once and settled by end, so that attempts made
// at the same time cannot all pass the check before any of them fails.
func (t *throttle) begin(k signInKeys, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for _, key := range k.all() {
		if key == k.account && t.isFamiliar(k, now) {
			continue
		}
		if u := t.until(key, now); u.After(now) {
			wait = max(wait, u.Sub(now))
		}
	}
	if wait > 0 {
		t.throttled[k.kind].Add(1)
		return wait
	}
	if len(t.entries) >= t.cfg.MaxEntries || now.Sub(t.lastPrune) > time.Minute {
		t.prune(now)
	}
	for _, key := range k.all() {
		e := t.entries[key]
		if e == nil || now.Sub(e.last) > t.cfg.Forget {
			if e == nil && len(t.entries) >= t.cfg.MaxEntries {
				continue // full of live windows: fail open rather than grow
			}
			e = &throttleEntry{}
			t.entries[key] = e
		}
		e.failures++
		e.last = now
	}
	return 0
}

// Outcomes of an attempt that began.
const (
	attemptFailed    = iota // the secret was wrong
	attemptSucceeded        // the secret was right
	attemptErrored          // it could not be checked (an internal error)
)

// end settles an attempt that began: a failure stays counted; a success
// starts the principal's counts over (not the address's: one good account
// must not clear an address's failures with others) and takes the
// attempt back from the address; an attempt that could not be checked is
// taken back everywhere.
func (t *throttle) end(k signInKeys, outcome int) {
	if outcome == attemptFailed {
		t.failures[k.kind].Add(1)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.entries[k.pip]; outcome == attemptSucceeded && e != nil {
		t.markFamiliar(k, e.last) // the attempt's time, set by begin
	}
	for _, key := range k.all() {
		e := t.entries[key]
		switch {
		case e == nil:
		case outcome == attemptSucceeded && key != k.ip, e.failures <= 1:
			delete(t.entries, key)
		default:
			e.failures--
		}
	}
}

// familiarSet is a principal's familiar addresses ("ip:" keys) with the
// instant of the last sign-in from each, and the latest of them.
type familiarSet struct {
	addrs map[string]time.Time
	last  time.Time
}

// maxFamiliarPerPrincipal bounds a principal's familiar addresses: a
// person's few places of work; the oldest goes first.
const maxFamiliarPerPrincipal = 8

// isFamiliar reports whether the attempt's principal signed in from its
// address within the Familiar period.
func (t *throttle) isFamiliar(k signInKeys, now time.Time) bool {
	set := t.familiar[k.account]
	if set == nil {
		return false
	}
	at, ok := set.addrs[k.ip]
	return ok && now.Sub(at) <= t.cfg.Familiar
}

// markFamiliar notes a success of the principal from the address at at.
// When MaxEntries principals are kept, the one whose last sign-in is the
// oldest goes: only as many accounts as that, signing in, can push out
// another account's addresses.
func (t *throttle) markFamiliar(k signInKeys, at time.Time) {
	set := t.familiar[k.account]
	if set == nil {
		if len(t.familiar) >= t.cfg.MaxEntries {
			var oldest string
			var when time.Time
			for key, s := range t.familiar {
				if oldest == "" || s.last.Before(when) {
					oldest, when = key, s.last
				}
			}
			delete(t.familiar, oldest)
		}
		set = &familiarSet{addrs: map[string]time.Time{}}
		t.familiar[k.account] = set
	}
	if _, ok := set.addrs[k.ip]; !ok && len(set.addrs) >= maxFamiliarPerPrincipal {
		var oldest string
		var when time.Time
		for ip, seen := range set.addrs {
			if oldest == "" || seen.Before(when) {
				oldest, when = ip, seen
			}
		}
		delete(set.addrs, oldest)
	}
	set.addrs[k.ip] = at
	set.last = at
}

// prune drops the entries that are forgotten and, when the map is still
// full, those not holding anything up (the fewest-failure ones).
func (t *throttle) prune(now time.Time) {
	t.lastPrune = now
	for key, e := range t.entries {
		if now.Sub(e.last) > t.cfg.Forget {
			delete(t.entries, key)
		}
	}
	if len(t.entries) < t.cfg.MaxEntries {
		return
	}
	for key, e := range t.entries {
		if e.failures < t.limit(key) {
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
