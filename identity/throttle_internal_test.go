package identity

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var throttleNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Attempts made at the same time cannot all pass the check before any of
// them fails: of 50 concurrent guesses at one name from one address, at
// most the limit (5) get to check the password (docs/operations.md,
// "Sign-in throttling").
func TestThrottleConcurrentGuesses(t *testing.T) {
	th := newThrottle(ThrottleConfig{})
	keys := newSignInKeys(SignInPassword, "ana@fabrikam.example", "192.0.2.7")
	var mu sync.Mutex
	checked := 0
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if th.begin(keys, throttleNow) > 0 {
				return
			}
			mu.Lock()
			checked++
			mu.Unlock()
			time.Sleep(time.Millisecond) // the password check
			th.end(keys, attemptFailed)
		}()
	}
	close(start)
	wg.Wait()
	if checked != 5 {
		t.Fatalf("%d of 50 concurrent guesses were checked; want 5", checked)
	}
	if f, th := th.failures[SignInPassword].Load(), th.throttled[SignInPassword].Load(); f != 5 || th != 45 {
		t.Errorf("counts: %d failures, %d throttled; want 5 and 45", f, th)
	}
}

// An attempt that could not be checked (an internal error) and a success
// are taken back: neither counts towards a window.
func TestThrottleEndTakesBack(t *testing.T) {
	th := newThrottle(ThrottleConfig{})
	keys := newSignInKeys(SignInPassword, "ana@fabrikam.example", "192.0.2.7")
	for i := 0; i < 20; i++ {
		if w := th.begin(keys, throttleNow); w > 0 {
			t.Fatalf("attempt %d held up %s after errors", i+1, w)
		}
		th.end(keys, attemptErrored)
	}
	if len(th.entries) != 0 {
		t.Errorf("errored attempts left %d counts", len(th.entries))
	}
	for i := 0; i < 4; i++ {
		th.begin(keys, throttleNow)
		th.end(keys, attemptFailed)
	}
	th.begin(keys, throttleNow)
	th.end(keys, attemptSucceeded)
	if e := th.entries[keys.ip]; e == nil || e.failures != 4 {
		t.Errorf("address count after 4 failures and a success: %+v; want 4", e)
	}
	if th.entries[keys.pip] != nil || th.entries[keys.account] != nil {
		t.Errorf("a success left the principal's counts")
	}
}

// One address cannot lock a user out: its failures hold up only that name
// from that address, and the address; the same name from another address
// signs in. Failures of one name from many addresses (50 in all) hold it
// up everywhere.
func TestThrottleAccountLockoutNeedsManyAddresses(t *testing.T) {
	th := newThrottle(ThrottleConfig{})
	attacker := newSignInKeys(SignInPassword, "ana@fabrikam.example", "198.51.100.9")
	for i := 0; i < 5; i++ {
		th.begin(attacker, throttleNow)
		th.end(attacker, attemptFailed)
	}
	if th.begin(attacker, throttleNow) == 0 {
		t.Fatal("the guessing address is not held up after 5 failures")
	}
	user := newSignInKeys(SignInPassword, "ana@fabrikam.example", "192.0.2.7")
	if w := th.begin(user, throttleNow); w > 0 {
		t.Fatalf("ana from her own address is held up %s by another address's failures", w)
	}
	th.end(user, attemptSucceeded)

	for i := 0; i < 50; i++ {
		k := newSignInKeys(SignInPassword, "bob@fabrikam.example", "203.0.113."+strconv.Itoa(i))
		if w := th.begin(k, throttleNow); w > 0 {
			t.Fatalf("attempt %d from a fresh address held up %s", i+1, w)
		}
		th.end(k, attemptFailed)
	}
	if w := th.begin(newSignInKeys(SignInPassword, "BOB@fabrikam.example", "192.0.2.8"), throttleNow); w != time.Second {
		t.Fatalf("bob after 50 failures from 50 addresses: held up %s; want 1s", w)
	}
}

// The throttle's memory is bounded: names count by their first 256
// characters, IPv6 addresses by their /64, IPv4-mapped addresses as IPv4,
// and the map never grows past MaxEntries.
func TestThrottleMemoryBounded(t *testing.T) {
	long := strings.Repeat("x", 10000)
	if k := newSignInKeys(SignInPassword, long+"a", "192.0.2.7"); k != newSignInKeys(SignInPassword, long+"b", "192.0.2.7") ||
		len(k.pip) > 300 {
		t.Errorf("long names make distinct or long keys: %d bytes", len(k.pip))
	}
	if a, b := newSignInKeys(SignInPassword, "u", "2001:db8:1:2::1"), newSignInKeys(SignInPassword, "u", "2001:db8:1:2:ffff::9"); a.ip != b.ip || a.ip != "ip:2001:db8:1:2::/64" {
		t.Errorf("IPv6 keys of one /64: %q and %q", a.ip, b.ip)
	}
	if k := newSignInKeys(SignInPassword, "u", "::ffff:192.0.2.7"); k.ip != "ip:192.0.2.7" {
		t.Errorf("IPv4-mapped key %q", k.ip)
	}
	th := newThrottle(ThrottleConfig{MaxEntries: 300})
	for i := 0; i < 5000; i++ {
		k := newSignInKeys(SignInPassword, "name"+strconv.Itoa(i), "192.0.2."+strconv.Itoa(i%200))
		th.begin(k, throttleNow.Add(time.Duration(i)*time.Millisecond))
		th.end(k, attemptFailed)
		if len(th.entries) > 300 {
			t.Fatalf("attempt %d: %d entries kept; want at most 300", i+1, len(th.entries))
		}
	}
}

// Guessing spread over many addresses holds the account up, but not from
// an address where the person signed in before: an attacker cannot lock
// them out where they work (docs/operations.md, "Sign-in throttling").
func TestThrottleFamiliarAddress(t *testing.T) {
	th := newThrottle(ThrottleConfig{})
	const name = "ana@fabrikam.example"
	home := newSignInKeys(SignInPassword, name, "192.0.2.7")
	if w := th.begin(home, throttleNow); w > 0 {
		t.Fatal(w)
	}
	th.end(home, attemptSucceeded)
	now := throttleNow.Add(time.Minute)
	for i := range 10 {
		k := newSignInKeys(SignInPassword, name, "198.51.100."+strconv.Itoa(i+1))
		for range 5 {
			if w := th.begin(k, now); w == 0 {
				th.end(k, attemptFailed)
			}
		}
	}
	if w := th.begin(newSignInKeys(SignInPassword, name, "203.0.113.9"), now); w == 0 {
		t.Fatal("a new address is not held up after 50 failures of the account")
	}
	if w := th.begin(home, now); w > 0 {
		t.Fatalf("the familiar address is held up %s", w)
	}
	th.end(home, attemptSucceeded)
	// Familiarity fades after 30 days without a sign-in there.
	later := now.Add(31 * 24 * time.Hour)
	for i := range 10 {
		k := newSignInKeys(SignInPassword, name, "198.51.100."+strconv.Itoa(i+1))
		for range 5 {
			if w := th.begin(k, later); w == 0 {
				th.end(k, attemptFailed)
			}
		}
	}
	if w := th.begin(home, later); w == 0 {
		t.Fatal("an address last used 31 days ago is still familiar")
	}
}

// One account signing in from many addresses keeps a few of them, and
// cannot push out another account's familiar address (docs/operations.md,
// "Sign-in throttling").
func TestThrottleFamiliarAddressesPerAccount(t *testing.T) {
	th := newThrottle(ThrottleConfig{MaxEntries: 10})
	victim := newSignInKeys(SignInPassword, "ana@fabrikam.example", "192.0.2.7")
	th.begin(victim, throttleNow)
	th.end(victim, attemptSucceeded)
	for i := range 1000 {
		k := newSignInKeys(SignInPassword, "mallory@example.com", "198.51."+strconv.Itoa(i/250)+"."+strconv.Itoa(i%250))
		th.begin(k, throttleNow.Add(time.Duration(i)*time.Millisecond))
		th.end(k, attemptSucceeded)
	}
	if !th.isFamiliar(victim, throttleNow.Add(time.Minute)) {
		t.Error("another account's sign-ins pushed out the victim's familiar address")
	}
	if n := len(th.familiar[newSignInKeys(SignInPassword, "mallory@example.com", "").account].addrs); n != maxFamiliarPerPrincipal {
		t.Errorf("one account keeps %d familiar addresses, want %d", n, maxFamiliarPerPrincipal)
	}
}
