package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// MigrateTo migrates the database behind db (of the given dialect) up or
// down to version, for tests of the migrations themselves.
func MigrateTo(ctx context.Context, db *sql.DB, dialect Dialect, version int64) error {
	p, err := migrator(db, dialect)
	if err != nil {
		return err
	}
	cur, err := p.GetDBVersion(ctx)
	if err != nil {
		return err
	}
	if version >= cur {
		_, err = p.UpTo(ctx, version)
	} else {
		_, err = p.DownTo(ctx, version)
	}
	if err != nil {
		return fmt.Errorf("migrate to %d: %w", version, err)
	}
	return nil
}

// BreakLinkCacheProbe closes the connection the link cache probes on, as
// database/sql does with a broken one.
func (d *DB) BreakLinkCacheProbe() { d.views.conn.Close() }

// QueueNotice runs the locking and the queueing steps of a notifying link
// change in tx.
func (d *DB) QueueNotice(ctx context.Context, tx *sql.Tx, tenantID, objectID string, eventID int64, payload string, at time.Time) error {
	if err := d.lockPrincipal(ctx, tx, tenantID, objectID); err != nil {
		return err
	}
	return queueNotice(ctx, tx, tenantID, eventID, payload, at)
}

// LinkEventsQuery and NotificationsQueuedQuery are the queries a close
// reads its month with, for the tests of their plans.
var LinkEventsQuery, NotificationsQueuedQuery = linkEventsQuery, qNotificationsQueued

// QueryPlan is how the database would run query: SQLite's EXPLAIN QUERY
// PLAN, or PostgreSQL's EXPLAIN with sequential scans made a last resort
// (a test's tables are too small for the planner to prefer an index).
func (d *DB) QueryPlan(ctx context.Context, query string, args ...any) (string, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	explain := "EXPLAIN QUERY PLAN "
	if d.dialect == Postgres {
		explain = "EXPLAIN "
		if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
			return "", err
		}
	}
	rows, err := tx.QueryContext(ctx, explain+query, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var plan []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		plan = append(plan, fmt.Sprint(vals[len(vals)-1]))
	}
	return strings.Join(plan, "\n"), rows.Err()
}
