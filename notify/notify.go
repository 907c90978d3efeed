// Package notify delivers the outbox: the notifications written in the same
// transaction as each link change are POSTed to the customer tenant's
// webhook, signed, and retried with exponential backoff until delivered or
// given up (docs/rules.md#linking). Nothing is lost when the server stops: the outbox is
// in the database and delivery resumes on the next start.
package notify

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/partnerlink/partnerlink"
)

// Store is what delivery needs.
type Store interface {
	partnerlink.OutboxStore
	Webhook(ctx context.Context, tenantID string) (url, secret string, err error)
}

// Deliverer sends due notifications.
type Deliverer struct {
	Store Store
	// Policy decides which webhook URLs are delivered to; Client must
	// enforce it at connect time (Policy.Client does).
	Policy *Policy
	Client *http.Client
	Now    func() time.Time
	Log    *slog.Logger
	// MaxAttempts after which a notification is marked failed (default 12).
	MaxAttempts int
	// BaseDelay is the first retry delay, doubled per attempt up to MaxDelay.
	BaseDelay, MaxDelay time.Duration

	// busy holds the tenants whose notifications are being sent: a round
	// passes them by, so one tenant's slow or failing webhook holds up
	// only its own notifications.
	mu   sync.Mutex
	busy map[string]bool
	// held holds a tenant whose delivery failed until the failed
	// notification's next attempt: one queued meanwhile is due at once and
	// would go before it.
	held map[string]time.Time
	wg   sync.WaitGroup // the tenants' deliveries under way
}

// maxConcurrentTenants bounds the webhooks sent to at once.
const maxConcurrentTenants = 16

// New returns a Deliverer with the default policy: 12 attempts, 5 s doubling
// to at most 1 h (about 5 hours in all).
func New(store Store) *Deliverer {
	policy := &Policy{}
	return &Deliverer{Store: store, Policy: policy, Client: policy.Client(nil), Now: time.Now,
		Log: slog.Default(), MaxAttempts: 12, BaseDelay: 5 * time.Second, MaxDelay: time.Hour}
}

// Run delivers due notifications every interval until ctx ends. A round
// starts the tenants' deliveries and does not wait for them: a tenant still
// being sent to when the next round comes is passed by.
func (d *Deliverer) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	defer d.wg.Wait()
	for {
		if _, err := d.start(ctx, nil); err != nil && ctx.Err() == nil {
			d.Log.Warn("notify: delivery round failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DeliverDue makes one attempt at every due notification of the tenants
// not already being sent to, waits for them, and reports how many were
// delivered.
func (d *Deliverer) DeliverDue(ctx context.Context) (int, error) {
	var r round
	started, err := d.start(ctx, &r)
	started.Wait()
	if err != nil {
		return int(r.delivered.Load()), err
	}
	return int(r.delivered.Load()), r.err()
}

// round gathers the outcome of a round's deliveries, for DeliverDue.
type round struct {
	delivered atomic.Int64
	mu        sync.Mutex
	errs      []error
}

func (r *round) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return errors.Join(r.errs...)
}

// start reads the due notifications and starts, per tenant not busy, the
// delivery of its notifications in order (at most maxConcurrentTenants
// tenants at once); it returns the deliveries it started. A tenant's
// round ends at its first failed attempt, so a failing webhook costs one
// timeout a round and its later notifications are not sent before it.
func (d *Deliverer) start(ctx context.Context, r *round) (*sync.WaitGroup, error) {
	started := &sync.WaitGroup{}
	now := d.Now()
	// Tenants being sent to, or held after a failure, are left out of the
	// read: a backlog of one does not fill it.
	d.mu.Lock()
	if d.busy == nil {
		d.busy, d.held = map[string]bool{}, map[string]time.Time{}
	}
	var except []string
	for t := range d.busy {
		except = append(except, t)
	}
	for t, until := range d.held {
		if now.Before(until) {
			except = append(except, t)
		} else {
			delete(d.held, t)
		}
	}
	d.mu.Unlock()
	slices.Sort(except)
	due, err := d.Store.DueNotifications(ctx, now, 100, except...)
	if err != nil {
		return started, err
	}
	var tenants []string
	byTenant := map[string][]partnerlink.Notification{}
	for _, n := range due {
		if byTenant[n.TenantID] == nil {
			tenants = append(tenants, n.TenantID)
		}
		byTenant[n.TenantID] = append(byTenant[n.TenantID], n)
	}
	for _, ns := range byTenant {
		// In the order of their events: a retried one goes before those
		// queued after it.
		slices.SortFunc(ns, func(a, b partnerlink.Notification) int { return cmp.Compare(a.ID, b.ID) })
	}
	d.mu.Lock()
	var mine []string
	for _, t := range tenants {
		if !d.busy[t] && len(d.busy) < maxConcurrentTenants {
			d.busy[t] = true
			mine = append(mine, t)
		}
	}
	d.mu.Unlock()
	for _, t := range mine {
		started.Add(1)
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			defer started.Done()
			defer func() {
				d.mu.Lock()
				delete(d.busy, t)
				d.mu.Unlock()
			}()
			for _, n := range byTenant[t] {
				ok, err := d.deliver(ctx, n)
				if err != nil {
					if r == nil {
						d.Log.Warn("notify: delivery failed", "tenant", t, "event", n.EventID, "err", err)
					} else {
						r.mu.Lock()
						r.errs = append(r.errs, err)
						r.mu.Unlock()
					}
					return
				}
				if !ok {
					return
				}
				if r != nil {
					r.delivered.Add(1)
				}
			}
		}()
	}
	return started, nil
}

// deliver makes one attempt at n and reports whether it was delivered;
// false without an error when it failed or was parked.
func (d *Deliverer) deliver(ctx context.Context, n partnerlink.Notification) (bool, error) {
	url, secret, err := d.Store.Webhook(ctx, n.TenantID)
	now := d.Now()
	if partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND {
		// The tenant was removed (a world import): nobody to deliver to.
		// Failing it keeps it from heading every later round.
		return false, d.Store.MarkAttemptFailed(ctx, n.ID, now, now, "the tenant no longer exists", true)
	} else if err != nil {
		return false, err
	}
	if url == "" {
		// The tenant's webhook was removed. Not an attempt: its
		// notifications wait, visible in the portal, until it has one
		// again (new ones are queued parked).
		return false, d.Store.Park(ctx, n.TenantID, "waiting: the tenant has no webhook configured")
	}
	if CheckSecret(secret) != nil {
		// A webhook without a proper secret (a world document's
		// webhookUrl, or one set before secrets were checked): an unsigned
		// or weakly signed delivery could be forged by anyone, so its
		// notifications wait, as without a webhook, until one is set.
		return false, d.Store.Park(ctx, n.TenantID, fmt.Sprintf("waiting: the tenant's webhook has no signing secret of at least %d characters; set one with its URL (PUT /api/v1/tenants/{tenantId}/webhook)", MinSecretLength))
	}
	if err := d.post(ctx, url, secret, n); err != nil {
		attempts := n.Attempts + 1
		giveUp := attempts >= d.MaxAttempts
		d.Log.Warn("notify: delivery failed", "tenant", n.TenantID, "event", n.EventID, "attempt", attempts, "err", err, "giveUp", giveUp)
		next := now.Add(d.backoff(attempts))
		if err := d.Store.MarkAttemptFailed(ctx, n.ID, now, next, FailureMessage(attempts, giveUp), giveUp); err != nil {
			return false, err
		}
		if giveUp {
			return false, nil
		}
		// The tenant's later notifications wait for this one's next
		// attempt, those queued later too (held).
		d.mu.Lock()
		if d.held == nil {
			d.held = map[string]time.Time{}
		}
		d.held[n.TenantID] = next
		d.mu.Unlock()
		return false, d.Store.Postpone(ctx, n.TenantID, next)
	}
	return true, d.Store.MarkDelivered(ctx, n.ID, now)
}

// FailureMessage is what the tenant sees of a failed attempt. It says
// neither why nor how the attempt failed (refused, unreachable, a non-2xx
// answer): told apart, those would make the webhook a probe of the
// server's network. The server's log has the cause.
func FailureMessage(attempt int, gaveUp bool) string {
	if gaveUp {
		return fmt.Sprintf("delivery failed (attempt %d); no more attempts", attempt)
	}
	return fmt.Sprintf("delivery failed (attempt %d)", attempt)
}

// backoff is the wait after the given number of failed attempts.
func (d *Deliverer) backoff(attempts int) time.Duration {
	delay := d.BaseDelay
	for i := 1; i < attempts && delay < d.MaxDelay; i++ {
		delay *= 2
	}
	return min(delay, d.MaxDelay)
}

// post sends one notification. The body is signed with the tenant's secret:
// X-Partnerlink-Signature is "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
func (d *Deliverer) post(ctx context.Context, url, secret string, n partnerlink.Notification) error {
	if _, err := d.Policy.CheckSyntax(url); err != nil {
		return err
	}
	ts := strconv.FormatInt(d.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(n.Payload))
	if err != nil {
		return fmt.Errorf("bad webhook URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "partnerlink-webhook/"+partnerlink.Version)
	req.Header.Set("X-Partnerlink-Delivery", strconv.FormatInt(n.ID, 10))
	req.Header.Set("X-Partnerlink-Timestamp", ts)
	if secret != "" {
		req.Header.Set("X-Partnerlink-Signature", "sha256="+Sign(secret, ts, n.Payload))
	}
	resp, err := d.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

// Sign computes the signature a receiver checks.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}
