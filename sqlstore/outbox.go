package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
)

// A notification is keyed by its link event (migration 00006): its id is
// the event's.
const notificationColumns = `event_id, tenant_id, event_id, payload, attempts, next_attempt_at, delivered_at, failed_at, last_error, created_at`

func scanNotifications(rows *sql.Rows, err error) ([]partnerlink.Notification, error) {
	if err != nil {
		return nil, fmt.Errorf("store: query outbox: %w", err)
	}
	defer rows.Close()
	var out []partnerlink.Notification
	for rows.Next() {
		var n partnerlink.Notification
		var payload string
		var next, created int64
		var delivered, failed sql.NullInt64
		if err := rows.Scan(&n.ID, &n.TenantID, &n.EventID, &payload, &n.Attempts, &next, &delivered, &failed,
			&n.LastError, &created); err != nil {
			return nil, err
		}
		n.Payload = []byte(payload)
		if next != math.MaxInt64 { // parked: zero
			n.NextAttemptAt = time.Unix(0, next).UTC()
		}
		n.DeliveredAt = instant(delivered)
		n.FailedAt = instant(failed)
		n.CreatedAt = time.Unix(0, created).UTC()
		out = append(out, n)
	}
	return out, rows.Err()
}

// DueNotifications returns undelivered notifications whose next attempt is
// due, oldest first, leaving out those of the tenants in except.
func (d *DB) DueNotifications(ctx context.Context, now time.Time, n int, except ...string) ([]partnerlink.Notification, error) {
	q := `SELECT ` + notificationColumns + ` FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1`
	args := []any{now.UnixNano()}
	if len(except) > 0 {
		marks := make([]string, len(except))
		for i, t := range except {
			args = append(args, strings.ToLower(t))
			marks[i] = fmt.Sprintf("$%d", len(args))
		}
		q += ` AND tenant_id NOT IN (` + strings.Join(marks, ", ") + `)`
	}
	return scanNotifications(d.db.QueryContext(ctx, q+` ORDER BY next_attempt_at, event_id`+limit(n), args...))
}

// MarkDelivered records a successful delivery.
func (d *DB) MarkDelivered(ctx context.Context, id int64, at time.Time) error {
	_, err := d.exec(ctx, `UPDATE outbox SET delivered_at = $2, attempts = attempts + 1, last_error = ''
		WHERE event_id = $1`, id, at.UnixNano())
	if err != nil {
		return fmt.Errorf("store: mark notification %d delivered: %w", id, err)
	}
	return nil
}

// MarkAttemptFailed records a failed attempt and when to try next; giveUp
// ends the retries (the notification stays visible as failed).
func (d *DB) MarkAttemptFailed(ctx context.Context, id int64, at, next time.Time, reason string, giveUp bool) error {
	var failed any
	if giveUp {
		failed = at.UnixNano()
	}
	_, err := d.exec(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3,
		failed_at = $4 WHERE event_id = $1`, id, next.UnixNano(), reason, failed)
	if err != nil {
		return fmt.Errorf("store: record failed delivery of %d: %w", id, err)
	}
	return nil
}

// Notifications of a tenant without a webhook are parked: their next
// attempt is parkedAt, which is never due, so delivery rounds pass them by
// without writing anything (rewriting each one every round was a steady
// stream of commits whenever tenants had no webhook). Setting a webhook
// wakes them (wakeParked).
const (
	parkedAt  = "9223372036854775807" // the largest BIGINT
	noWebhook = "waiting: the tenant has no webhook configured"
)

// Park sets aside the tenant's undelivered notifications until it has a
// webhook again (or a webhook secret), without counting an attempt. It
// parks nothing once the tenant has a usable webhook (one may have been
// set since the caller looked).
func (d *DB) Park(ctx context.Context, tenantID, reason string) error {
	tenantID = strings.ToLower(tenantID)
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.lockOutbox(ctx, tx, tenantID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = `+parkedAt+`, last_error = $2
			WHERE tenant_id = $1 AND delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <> `+parkedAt+`
			AND EXISTS (SELECT 1 FROM tenants WHERE tenant_id = $1 AND NOT (`+usableWebhook+`))`, tenantID, reason)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: park notifications of %s: %w", tenantID, err)
	}
	return nil
}

// Postpone makes the tenant's undelivered notifications due before until
// due at until (OutboxStore).
func (d *DB) Postpone(ctx context.Context, tenantID string, until time.Time) error {
	tenantID = strings.ToLower(tenantID)
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.lockOutbox(ctx, tx, tenantID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = $2
			WHERE tenant_id = $1 AND delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at < $2`, tenantID, until.UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: postpone notifications of %s: %w", tenantID, err)
	}
	return nil
}

// queueNotice queues the notification of a link event, parked when the
// tenant has no webhook. The transaction holds the tenant's outbox lock
// shared (lockPrincipal).
func queueNotice(ctx context.Context, q queryer, tenantID string, eventID int64, payload string, at time.Time) error {
	if _, err := q.ExecContext(ctx, qQueueNotice, tenantID, eventID, payload, at.UnixNano()); err != nil {
		return fmt.Errorf("store: queue notification: %w", err)
	}
	return nil
}

// lockOutbox orders, on PostgreSQL, setting a tenant's webhook and parking
// its notifications (this lock, exclusive) against link changes that may
// queue a notification (shared, taken by lockPrincipal), until the
// transaction ends. Under READ COMMITTED a notification queued parked while
// the webhook is being set would otherwise commit after the wake-up that
// should have woken it, and stay parked. SQLite runs one writer at a time
// and needs no lock.
func (d *DB) lockOutbox(ctx context.Context, q queryer, tenantID string) error {
	return d.lockExclusive(ctx, q, outboxLockKey(tenantID))
}

func outboxLockKey(tenantID string) string { return "outbox/" + tenantID }

// qLockPrincipal locks a principal's links and, shared, its tenant's outbox
// and the world (lockWorld).
const qLockPrincipal = `SELECT pg_advisory_xact_lock_shared(hashtextextended('` + worldLockKey + `', 0)),
	pg_advisory_xact_lock(hashtextextended($1, 0)), pg_advisory_xact_lock_shared(hashtextextended($2, 0))`

// worldLockKey names the lock a world import holds exclusive on PostgreSQL
// and every link change shared: an import replaces links, tenants and their
// webhooks, and a link change beside it could fail on a duplicate current
// link or queue a notification parked after the import woke the tenant's.
const worldLockKey = "world"

// lockWorld takes the world lock exclusive (PostgreSQL; SQLite runs one
// writer at a time).
func (d *DB) lockWorld(ctx context.Context, q queryer) error {
	return d.lockExclusive(ctx, q, worldLockKey)
}

// lockExclusive takes the transaction-scoped advisory lock named key on
// PostgreSQL; SQLite needs none.
func (d *DB) lockExclusive(ctx context.Context, q queryer, key string) error {
	if d.dialect != Postgres {
		return nil
	}
	if _, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, key); err != nil {
		return fmt.Errorf("store: lock %s: %w", key, err)
	}
	return nil
}

// usableWebhook holds for a tenant whose webhook gets deliveries: one with
// a URL and a signing secret long enough to trust (notify.CheckSecret). A
// webhook set without one still wakes parked notifications, so that the
// deliverer parks them again with that reason.
var usableWebhook = fmt.Sprintf("(webhook_url <> '' AND length(webhook_secret) >= %d)", partnerlink.MinWebhookSecretLength)

// wakeParked makes the parked notifications of tenants that now have a
// webhook due (since they were queued): of tenantID, or of every tenant when
// it is "".
func wakeParked(ctx context.Context, q queryer, tenantID string) error {
	_, err := q.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = created_at, last_error = ''
		WHERE next_attempt_at = `+parkedAt+` AND delivered_at IS NULL AND failed_at IS NULL
		AND tenant_id IN (SELECT tenant_id FROM tenants WHERE webhook_url <> '' AND ($1 = '' OR tenant_id = $1))`,
		tenantID)
	if err != nil {
		return fmt.Errorf("store: wake parked notifications: %w", err)
	}
	return nil
}

// Notifications lists a tenant's notifications, newest first, through the
// tenant's link events (the outbox has no index by tenant); every tenant's
// when tenantID is "".
func (d *DB) Notifications(ctx context.Context, tenantID string, n int) ([]partnerlink.Notification, error) {
	// Report notifications have negative event ids (queueReportNotices):
	// the primary key finds them without a tenant index too.
	// Newest first: by created_at (column 10), then event id (column 1).
	events, reports := " WHERE e.tenant_id = $1", " AND tenant_id = $1"
	args := []any{strings.ToLower(tenantID)}
	if tenantID == "" {
		events, reports, args = "", "", nil
	}
	return scanNotifications(d.db.QueryContext(ctx, `SELECT o.`+strings.ReplaceAll(notificationColumns, ", ", ", o.")+`
		FROM link_events e JOIN outbox o ON o.event_id = e.id AND o.tenant_id = e.tenant_id`+events+`
		UNION ALL SELECT `+notificationColumns+` FROM outbox WHERE event_id < 0`+reports+`
		ORDER BY 10 DESC, 1 DESC`+limit(n), args...))
}

// NotificationsQueued lists every tenant's notifications queued in
// [from, to), newest first: the monthly close reads its month's rather
// than the whole outbox, which grows with every link change and version.
func (d *DB) NotificationsQueued(ctx context.Context, from, to time.Time) ([]partnerlink.Notification, error) {
	return scanNotifications(d.db.QueryContext(ctx, qNotificationsQueued, from.UnixNano(), to.UnixNano()))
}

// qNotificationsQueued reads the notifications queued in [$1, $2) through
// the index on created_at (outbox_created).
const qNotificationsQueued = `SELECT ` + notificationColumns + ` FROM outbox
	WHERE created_at >= $1 AND created_at < $2 ORDER BY 10 DESC, 1 DESC`

// Webhook returns where a tenant's notifications go and the signing secret.
func (d *DB) Webhook(ctx context.Context, tenantID string) (url, secret string, err error) {
	return d.webhook(ctx, tenantID)
}
