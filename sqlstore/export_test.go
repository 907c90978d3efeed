package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
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
