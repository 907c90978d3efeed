package sqlstore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/sqlstore/storetest"
)

func TestMigrateOutboxByEventSQLite(t *testing.T) {
	testMigrateOutboxByEvent(t, sqlstore.SQLite, "sqlite", "file:"+filepath.Join(t.TempDir(), "pl.db"))
}

func TestMigrateOutboxByEventPostgres(t *testing.T) {
	testMigrateOutboxByEvent(t, sqlstore.Postgres, "pgx", postgresDSN(t))
}

// testMigrateOutboxByEvent: migration 00006 keys the outbox by link event
// and keeps every notification, and its Down restores the old shape.
func testMigrateOutboxByEvent(t *testing.T, dialect sqlstore.Dialect, driver, dsn string) {
	ctx := context.Background()
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	must(t, sqlstore.MigrateTo(ctx, raw, dialect, 5))
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	exec(`INSERT INTO tenants (tenant_id, name, webhook_url) VALUES ($1, 'A', 'https://127.0.0.1:9/h')`, storetest.TenantA)
	for _, ev := range []int{1, 2} {
		exec(`INSERT INTO link_events (tenant_id, object_id, action, partner_id, version, at, actor_tenant_id, actor_object_id)
			VALUES ($1, $2, 'created', '5100001', $3, $4, $1, $2)`, storetest.TenantA, storetest.UserA, ev, at)
	}
	// Event 1 was delivered after one failure; event 2 waits.
	exec(`INSERT INTO outbox (tenant_id, event_id, payload, attempts, next_attempt_at, delivered_at, last_error, created_at)
		VALUES ($1, 1, '{"eventId":1}', 2, $2, $2, '', $2)`, storetest.TenantA, at)
	exec(`INSERT INTO outbox (tenant_id, event_id, payload, attempts, next_attempt_at, last_error, created_at)
		VALUES ($1, 2, '{"eventId":2}', 1, $2, 'connection refused', $2)`, storetest.TenantA, at)

	db, err := sqlstore.Open(ctx, dsn) // migrates to the latest version
	if err != nil {
		t.Fatal(err)
	}
	ns, err := db.Notifications(ctx, storetest.TenantA, 10)
	must(t, err)
	if len(ns) != 2 || ns[0].ID != 2 || ns[0].EventID != 2 || ns[0].Attempts != 1 || ns[0].LastError != "connection refused" ||
		string(ns[0].Payload) != `{"eventId":2}` || ns[1].ID != 1 || ns[1].DeliveredAt.IsZero() {
		t.Errorf("notifications after the migration = %+v", ns)
	}
	due, err := db.DueNotifications(ctx, time.Unix(0, at), 10)
	must(t, err)
	if len(due) != 1 || due[0].ID != 2 {
		t.Errorf("due after the migration = %+v", due)
	}
	db.Close()

	must(t, sqlstore.MigrateTo(ctx, raw, dialect, 5))
	var n int
	if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE event_id = id AND tenant_id = $1`, storetest.TenantA).Scan(&n); err != nil || n != 2 {
		t.Errorf("after migrating down: %d rows with id = event_id (%v)", n, err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestMigrateConcurrentlyPostgres: servers and workers that start together
// on one fresh PostgreSQL database all open it; one migrates while the
// others wait on goose's session lock, and the schema ends complete.
func TestMigrateConcurrentlyPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	const servers = 4
	errs := make(chan error, servers)
	for range servers {
		go func() {
			db, err := sqlstore.Open(context.Background(), dsn)
			if err == nil {
				err = db.Close()
			}
			errs <- err
		}()
	}
	for range servers {
		if err := <-errs; err != nil {
			t.Errorf("a server opening the database at the same time as %d others: %v", servers-1, err)
		}
	}
	db, err := sqlstore.Open(context.Background(), dsn)
	must(t, err)
	defer db.Close()
	storetest.Seed(t, db) // the schema is whole
}
