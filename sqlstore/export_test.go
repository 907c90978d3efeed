package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
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
