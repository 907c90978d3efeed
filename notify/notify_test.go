package notify_test

import (
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/linking"
	"github.com/partnerlink/partnerlink/notify"
	"github.com/partnerlink/partnerlink/sqlstore"
	st "github.com/partnerlink/partnerlink/sqlstore/storetest"
)

// localDeliverer delivers to the test's receiver on 127.0.0.1, which the
// operator must allow (serve --webhook-allow 127.0.0.1), trusting its
// certificate.
func localDeliverer(t *testing.T, db *sqlstore.DB, hook *httptest.Server) *notify.Deliverer {
	t.Helper()
	policy, err := notify.ParsePolicy([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	d := notify.New(db)
	d.Policy, d.Client = policy, policy.Client(rootsOf(hook))
	d.Log = slog.New(slog.DiscardHandler)
	return d
}

// seededStore is a SQLite store at path with the store tests' directory
// (storetest.Seed), closed when the test ends.
func seededStore(t *testing.T, path string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st.Seed(t, db)
	return db
}

// linkAt links user A of the tenant to st.Location at the given time,
// which queues the tenant's notification.
func linkAt(t *testing.T, db *sqlstore.DB, tenant string, at time.Time) {
	t.Helper()
	svc := linking.New(db)
	svc.Now = func() time.Time { return at }
	if _, err := svc.Link(context.Background(), partnerlink.Caller{TenantID: tenant, ObjectID: st.UserA}, st.Location); err != nil {
		t.Fatal(err)
	}
}

func rootsOf(hook *httptest.Server) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(hook.Certificate())
	return pool
}

// docs/rules.md#linking: the customer tenant is notified of a new link through a durable
// outbox, delivered to its webhook with retries and backoff.
func TestDeliveryWithRetries(t *testing.T) {
	ctx := context.Background()
	db := seededStore(t, filepath.Join(t.TempDir(), "pl.db"))

	var calls atomic.Int32
	var got partnerlink.LinkNotification
	var sig, ts string
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 { // the receiver is down twice
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &got)
		sig, ts = r.Header.Get("X-Partnerlink-Signature"), r.Header.Get("X-Partnerlink-Timestamp")
		if sig != "sha256="+notify.Sign("whsec-0123456789abcdef", ts, body) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()

	clock := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	linkAt(t, db, st.TenantA, clock)

	d := localDeliverer(t, db, hook)
	d.Now = func() time.Time { return clock }
	// No webhook yet: waits without using up attempts.
	if n, err := d.DeliverDue(ctx); err != nil || n != 0 {
		t.Fatalf("without webhook: %d %v", n, err)
	}
	ns, _ := db.Notifications(ctx, st.TenantA, 1)
	if ns[0].Attempts != 0 || ns[0].LastError == "" {
		t.Errorf("waiting notification = %+v", ns[0])
	}
	if err := db.SetTenantWebhook(ctx, st.TenantA, hook.URL, "whsec-0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	// Due at once now; attempt 1 and 2 fail; each waits longer (5 s, then 10 s).
	delays := []time.Duration{0, 5 * time.Second, 10 * time.Second}
	for i, delay := range delays {
		clock = clock.Add(delay)
		n, err := d.DeliverDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := i == len(delays)-1; (n == 1) != want {
			t.Fatalf("round %d delivered %d", i, n)
		}
		if i < len(delays)-1 {
			// Not due before the backoff has passed.
			clock = clock.Add(time.Second)
			if n, _ := d.DeliverDue(ctx); n != 0 {
				t.Fatalf("delivered before the backoff elapsed")
			}
			clock = clock.Add(-time.Second)
		}
	}
	if calls.Load() != 3 || got.Type != "partnerlink.link.created" || got.PartnerID != st.Location || got.ObjectID != st.UserA {
		t.Errorf("calls=%d notification=%+v", calls.Load(), got)
	}
	ns, _ = db.Notifications(ctx, st.TenantA, 1)
	if ns[0].DeliveredAt.IsZero() {
		t.Errorf("not marked delivered: %+v", ns[0])
	}
}

func TestGiveUp(t *testing.T) {
	ctx := context.Background()
	db := seededStore(t, filepath.Join(t.TempDir(), "pl.db"))
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer hook.Close()
	db.SetTenantWebhook(ctx, st.TenantA, hook.URL, "give-up-signing-secret")
	clock := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	linkAt(t, db, st.TenantA, clock)
	d := localDeliverer(t, db, hook)
	d.MaxAttempts = 3
	d.Now = func() time.Time { return clock }
	for i := 0; i < 5; i++ {
		d.DeliverDue(ctx)
		clock = clock.Add(2 * time.Hour)
	}
	ns, _ := db.Notifications(ctx, st.TenantA, 1)
	if ns[0].Attempts != 3 || ns[0].FailedAt.IsZero() || ns[0].LastError == "" {
		t.Errorf("after giving up: %+v", ns[0])
	}
}

// A notification of a tenant that no longer exists (removed by a world
// import) fails at once, and the round goes on to the other tenants'.
func TestRemovedTenant(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pl.db")
	db := seededStore(t, path)
	var calls atomic.Int32
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer hook.Close()
	for _, tenant := range []string{st.TenantA, st.TenantB} {
		if err := db.SetTenantWebhook(ctx, tenant, hook.URL, "removed-tenant-secret"); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.PutPrincipal(ctx, partnerlink.Principal{TenantID: st.TenantB, ObjectID: st.UserA, Type: partnerlink.PrincipalUser,
		DisplayName: "kari@tailspin.example"}); err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	for _, tenant := range []string{st.TenantA, st.TenantB} { // A's is queued first
		linkAt(t, db, tenant, clock)
	}
	// As a world import leaves it: the tenant gone, its outbox kept.
	raw, err := sql.Open("sqlite", "file:"+path) // foreign keys off
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `DELETE FROM tenants WHERE tenant_id = $1`, st.TenantA); err != nil {
		t.Fatal(err)
	}
	d := localDeliverer(t, db, hook)
	d.Now = func() time.Time { return clock }
	if n, err := d.DeliverDue(ctx); err != nil || n != 1 || calls.Load() != 1 {
		t.Fatalf("round: delivered %d (%d calls), %v; want the other tenant's delivered", n, calls.Load(), err)
	}
	ns, err := db.Notifications(ctx, st.TenantA, 1)
	if err != nil || len(ns) != 1 || ns[0].FailedAt.IsZero() {
		t.Errorf("removed tenant's notification = %+v, %v; want failed", ns, err)
	}
}

// docs/operations.md#webhooks: a webhook without a signing secret of at
// least notify.MinSecretLength characters (a world document's webhookUrl
// brings none) gets no delivery: its notifications wait, using up no
// attempt, until a secret is set, and are then delivered signed with it.
func TestUnsignedWebhookWaits(t *testing.T) {
	ctx := context.Background()
	db := seededStore(t, filepath.Join(t.TempDir(), "pl.db"))
	const secret = "set-after-the-import"
	var calls, signed atomic.Int32
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Partnerlink-Signature") == "sha256="+notify.Sign(secret, r.Header.Get("X-Partnerlink-Timestamp"), body) {
			signed.Add(1)
		}
	}))
	defer hook.Close()
	clock := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	linkAt(t, db, st.TenantA, clock)
	d := localDeliverer(t, db, hook)
	d.Now = func() time.Time { return clock }
	for _, weak := range []string{"", "fifteen-chars.."} {
		if err := db.SetTenantWebhook(ctx, st.TenantA, hook.URL, weak); err != nil {
			t.Fatal(err)
		}
		if n, err := d.DeliverDue(ctx); err != nil || n != 0 || calls.Load() != 0 {
			t.Fatalf("secret %q: delivered %d (%d calls), %v; want none", weak, n, calls.Load(), err)
		}
		ns, _ := db.Notifications(ctx, st.TenantA, 1)
		if ns[0].Attempts != 0 || !strings.Contains(ns[0].LastError, "signing secret of at least 16 characters") {
			t.Errorf("secret %q: notification %+v; want waiting, no attempt, the reason", weak, ns[0])
		}
	}
	if err := db.SetTenantWebhook(ctx, st.TenantA, hook.URL, secret); err != nil {
		t.Fatal(err)
	}
	if n, err := d.DeliverDue(ctx); err != nil || n != 1 || signed.Load() != 1 {
		t.Fatalf("with a secret: delivered %d (%d signed), %v", n, signed.Load(), err)
	}
}

// slowAndFast gives tenant A a webhook that answers only when release is
// sent to, and tenant B (with a user of its own) one that answers at once;
// they count their requests.
func slowAndFast(t *testing.T, db *sqlstore.DB) (hook *httptest.Server, slow, fast *atomic.Int32, release chan struct{}) {
	t.Helper()
	ctx := context.Background()
	release, slow, fast = make(chan struct{}), new(atomic.Int32), new(atomic.Int32)
	hook = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			slow.Add(1)
			<-release
		} else {
			fast.Add(1)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	t.Cleanup(func() { close(release) }) // before the server closes: cleanups run last first
	for _, err := range []error{
		db.PutPrincipal(ctx, partnerlink.Principal{TenantID: st.TenantB, ObjectID: st.UserA, Type: partnerlink.PrincipalUser,
			DisplayName: "kari@tailspin.example"}),
		db.SetTenantWebhook(ctx, st.TenantA, hook.URL+"/slow", "slow-webhook-signing-secret"),
		db.SetTenantWebhook(ctx, st.TenantB, hook.URL+"/fast", "fast-webhook-signing-secret"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return hook, slow, fast, release
}

// One tenant's slow webhook holds up only its own notifications: while it
// is being sent to, the deliverer goes on sending other tenants' (docs/operations.md,
// "Notification delivery").
func TestSlowWebhookHoldsUpOnlyItsTenant(t *testing.T) {
	db := seededStore(t, filepath.Join(t.TempDir(), "pl.db"))
	ctx := context.Background()
	hook, slow, fast, release := slowAndFast(t, db)
	now := time.Now()
	linkAt(t, db, st.TenantA, now.Add(-time.Second)) // the slow tenant's comes first
	d := localDeliverer(t, db, hook)
	runCtx, cancel := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { d.Run(runCtx, 10*time.Millisecond); close(ran) }()
	for slow.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	// The slow tenant's delivery is under way; the other tenant links now.
	linkAt(t, db, st.TenantB, time.Now())
	deadline := time.Now().Add(10 * time.Second)
	for fast.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if fast.Load() != 1 {
		t.Errorf("the other tenant's notification waited for the slow webhook: %d deliveries", fast.Load())
	}
	if slow.Load() != 1 {
		t.Errorf("the slow webhook was sent %d requests while its first was under way", slow.Load())
	}
	release <- struct{}{}
	cancel()
	<-ran
}

// failsOnce is tenant A's webhook: it answers 503 to its first request and
// 204 after, noting each request's event and counting them.
func failsOnce(t *testing.T, db *sqlstore.DB) (*httptest.Server, *atomic.Int32, *[]int64) {
	t.Helper()
	calls, events := new(atomic.Int32), new([]int64)
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n partnerlink.LinkNotification
		json.NewDecoder(r.Body).Decode(&n)
		*events = append(*events, n.EventID)
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	if err := db.SetTenantWebhook(context.Background(), st.TenantA, hook.URL, "failing-webhook-signing-secret"); err != nil {
		t.Fatal(err)
	}
	return hook, calls, events
}

// After a failed attempt a tenant's later notifications wait with the
// failed one: a failing webhook gets one request a round, in order.
func TestFailedAttemptHoldsTheLaterOnes(t *testing.T) {
	db := seededStore(t, filepath.Join(t.TempDir(), "pl.db"))
	ctx := context.Background()
	hook, calls, events := failsOnce(t, db)
	clock := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	linkAt(t, db, st.TenantA, clock)
	svc := linking.New(db)
	svc.Now = func() time.Time { return clock.Add(time.Second) }
	if err := svc.Unlink(ctx, partnerlink.Caller{TenantID: st.TenantA, ObjectID: st.UserA}, st.Location); err != nil {
		t.Fatal(err)
	}
	d := localDeliverer(t, db, hook)
	d.Now = func() time.Time { return clock.Add(2 * time.Second) }
	if n, err := d.DeliverDue(ctx); err != nil || n != 0 || calls.Load() != 1 {
		t.Fatalf("first round: %d delivered, %d requests, %v; want one failed request", n, calls.Load(), err)
	}
	if n, err := d.DeliverDue(ctx); err != nil || n != 0 || calls.Load() != 1 {
		t.Fatalf("before the backoff: %d delivered, %d requests, %v; want none", n, calls.Load(), err)
	}
	d.Now = func() time.Time { return clock.Add(8 * time.Second) } // past the 5 s backoff
	if n, err := d.DeliverDue(ctx); err != nil || n != 2 || calls.Load() != 3 {
		t.Fatalf("after the backoff: %d delivered, %d requests, %v; want both", n, calls.Load(), err)
	}
	if got := *events; len(got) != 3 || got[0] != got[1] || got[2] <= got[1] {
		t.Errorf("events sent %v; want the first twice, then the second", got)
	}
}

// A tenant's backlog on a slow webhook does not keep other tenants'
// notifications from being read: a round leaves out the tenants being
// sent to (docs/operations.md, "Notification delivery").
func TestBacklogHoldsUpOnlyItsTenant(t *testing.T) {
	db := seededStore(t, filepath.Join(t.TempDir(), "pl.db"))
	ctx := context.Background()
	hook, _, fast, release := slowAndFast(t, db)
	// 120 notifications of tenant A, more than a round reads, then B's one.
	svc := linking.New(db)
	at := time.Now().Add(-time.Hour)
	caller := partnerlink.Caller{TenantID: st.TenantA, ObjectID: st.UserA}
	for i := range 120 {
		svc.Now = func() time.Time { return at.Add(time.Duration(i) * time.Second) }
		var err error
		if i%2 == 0 {
			_, err = svc.Link(ctx, caller, st.Location)
		} else {
			err = svc.Unlink(ctx, caller, st.Location)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	linkAt(t, db, st.TenantB, time.Now().Add(-time.Minute))
	d := localDeliverer(t, db, hook)
	runCtx, cancel := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { d.Run(runCtx, 10*time.Millisecond); close(ran) }()
	deadline := time.Now().Add(10 * time.Second)
	for fast.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if fast.Load() != 1 {
		t.Errorf("tenant B's notification waited for tenant A's backlog: %d deliveries", fast.Load())
	}
	release <- struct{}{}
	cancel()
	<-ran
}

// A notification queued while the tenant's webhook is failing waits for
// the failed one's retry and goes after it.
func TestQueuedAfterAFailureGoesAfterIt(t *testing.T) {
	db := seededStore(t, filepath.Join(t.TempDir(), "pl.db"))
	ctx := context.Background()
	hook, calls, events := failsOnce(t, db)
	clock := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	linkAt(t, db, st.TenantA, clock)
	d := localDeliverer(t, db, hook)
	d.Now = func() time.Time { return clock.Add(time.Second) }
	if n, err := d.DeliverDue(ctx); err != nil || n != 0 {
		t.Fatalf("the failing round: %d %v", n, err)
	}
	// Queued after the failure, before its retry.
	svc := linking.New(db)
	svc.Now = func() time.Time { return clock.Add(2 * time.Second) }
	if err := svc.Unlink(ctx, partnerlink.Caller{TenantID: st.TenantA, ObjectID: st.UserA}, st.Location); err != nil {
		t.Fatal(err)
	}
	d.Now = func() time.Time { return clock.Add(3 * time.Second) }
	if n, err := d.DeliverDue(ctx); err != nil || n != 0 || calls.Load() != 1 {
		t.Fatalf("before the retry: %d delivered, %d requests, %v; want none", n, calls.Load(), err)
	}
	d.Now = func() time.Time { return clock.Add(10 * time.Second) }
	if n, err := d.DeliverDue(ctx); err != nil || n != 2 {
		t.Fatalf("at the retry: %d delivered, %v; want both", n, err)
	}
	if got := *events; len(got) != 3 || got[0] != got[1] || got[2] <= got[1] {
		t.Errorf("events sent %v; want the failed one again, then the later one", got)
	}
}
