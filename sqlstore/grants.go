package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/partnerlink/partnerlink"
)

// PutGrant stores a short-lived grant (device code, refresh token) under a
// hashed key, replacing any previous value.
func (d *DB) PutGrant(ctx context.Context, kind, key string, value []byte, expires time.Time) error {
	_, err := d.exec(ctx, `INSERT INTO identity_grants (kind, key, value, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
		kind, key, value, expires.UnixNano())
	if err != nil {
		return fmt.Errorf("store: put %s grant: %w", kind, err)
	}
	return nil
}

// GetGrant returns a grant that has not expired.
func (d *DB) GetGrant(ctx context.Context, kind, key string) ([]byte, error) {
	return getGrant(ctx, d.db, kind, key, d.now())
}

func getGrant(ctx context.Context, q queryer, kind, key string, now time.Time) ([]byte, error) {
	var v []byte
	err := q.QueryRowContext(ctx, `SELECT value FROM identity_grants WHERE kind = $1 AND key = $2 AND expires_at > $3`,
		kind, key, now.UnixNano()).Scan(&v)
	if err != nil {
		return nil, notFound(err, "%s grant not found or expired", kind)
	}
	return v, nil
}

// TakeGrant returns a grant and deletes it, atomically: a refresh token or
// device code can be redeemed once.
func (d *DB) TakeGrant(ctx context.Context, kind, key string) ([]byte, error) {
	var v []byte
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if v, err = getGrant(ctx, tx, kind, key, d.now()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM identity_grants WHERE kind = $1 AND key = $2`, kind, key)
		if err != nil {
			return fmt.Errorf("store: take %s grant: %w", kind, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return partnerlink.Errorf(partnerlink.ENOTFOUND, "%s grant already used", kind)
		}
		return nil
	})
	return v, err
}

// UpdateGrant replaces the value of an existing grant, keeping its expiry.
func (d *DB) UpdateGrant(ctx context.Context, kind, key string, value []byte) error {
	res, err := d.exec(ctx, `UPDATE identity_grants SET value = $3 WHERE kind = $1 AND key = $2`, kind, key, value)
	if err != nil {
		return fmt.Errorf("store: update %s grant: %w", kind, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return partnerlink.Errorf(partnerlink.ENOTFOUND, "%s grant not found", kind)
	}
	return nil
}

// DeleteExpiredGrants removes grants past their expiry.
func (d *DB) DeleteExpiredGrants(ctx context.Context, now time.Time) error {
	_, err := d.exec(ctx, `DELETE FROM identity_grants WHERE expires_at <= $1`, now.UnixNano())
	return err
}
