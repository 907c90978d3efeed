package sqlstore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
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

func TestMigrateRoleDefinitionsTenantSQLite(t *testing.T) {
	testMigrateRoleDefinitionsTenant(t, sqlstore.SQLite, "sqlite", "file:"+filepath.Join(t.TempDir(), "pl.db"))
}

func TestMigrateRoleDefinitionsTenantPostgres(t *testing.T) {
	testMigrateRoleDefinitionsTenant(t, sqlstore.Postgres, "pgx", postgresDSN(t))
}

// testMigrateRoleDefinitionsTenant: migration 00007 gives each role stored
// before to the tenants whose assignments (by name, any case) or
// delegations (by the customer tenant, by GUID) use it, a role nothing
// uses to every tenant, and keeps a listed built-in role tenant-less; its
// Down keeps one copy of each role.
func testMigrateRoleDefinitionsTenant(t *testing.T, dialect sqlstore.Dialect, driver, dsn string) {
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
	const (
		tenantC = "0c0c0c0c-0000-4000-8000-000000000000"
		ops     = "0e500000-0000-4000-8000-000000000001"
		unused  = "0e500000-0000-4000-8000-000000000002"
		reader  = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	)
	must(t, sqlstore.MigrateTo(ctx, raw, dialect, 6))
	for _, tn := range []string{storetest.TenantA, storetest.TenantB, tenantC} {
		exec(`INSERT INTO tenants (tenant_id, name) VALUES ($1, $1)`, tn)
	}
	exec(`INSERT INTO role_definitions (id, name, actions, not_actions) VALUES ($1, 'Ops', '["*"]', '[]'), ($2, 'Unused', '["*/read"]', '[]'),
		($3, 'Reader', '["*/read"]', '[]')`, ops, unused, reader)
	exec(`INSERT INTO role_assignments (tenant_id, id, principal_id, role_definition, scope, scope_key) VALUES ($1, $2, $3, 'OPS', '/', '/')`,
		storetest.TenantA, "e0000000-0000-4000-8000-000000000001", storetest.UserA)
	exec(`INSERT INTO delegations (id, customer_tenant_id, managing_tenant_id, scope, principal_id, role_definition)
		VALUES ($1, $2, $3, '/', $4, $5)`, "de000000-0000-4000-8000-000000000001", storetest.TenantB, storetest.TenantA, storetest.UserA, "0E500000-0000-4000-8000-000000000001")

	db, err := sqlstore.Open(ctx, dsn) // migrates to the latest version
	if err != nil {
		t.Fatal(err)
	}
	for tn, want := range map[string][]string{
		storetest.TenantA: {"Ops " + ops, "Unused " + unused},
		storetest.TenantB: {"Ops " + ops, "Unused " + unused},
		tenantC:           {"Unused " + unused},
	} {
		rds, err := db.RoleDefinitions(ctx, tn)
		must(t, err)
		var got []string
		for _, rd := range rds {
			if rd.TenantID != tn {
				t.Errorf("tenant %s lists a role of tenant %q", tn, rd.TenantID)
			}
			got = append(got, rd.Name+" "+rd.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("roles of tenant %s after the migration = %q, want %q", tn, got, want)
		}
	}
	var n int
	if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM role_definitions WHERE tenant_id = '' AND id = $1`, reader).Scan(&n); err != nil || n != 1 {
		t.Errorf("the listed built-in role: %d rows without a tenant (%v)", n, err)
	}
	// A tenant's role is its own now.
	must(t, db.PutRoleDefinition(ctx, partnerlink.RoleDefinition{TenantID: storetest.TenantA, ID: ops, Name: "Ops", Actions: []string{"*/read"}}, true))
	rds, err := db.RoleDefinitions(ctx, storetest.TenantB)
	must(t, err)
	if len(rds) != 2 || rds[0].ID != ops || !slices.Equal(rds[0].Actions, []string{"*"}) {
		t.Errorf("B's Ops after A changed its own = %+v", rds)
	}
	db.Close()

	must(t, sqlstore.MigrateTo(ctx, raw, dialect, 6))
	rows, err := raw.QueryContext(ctx, `SELECT id, name FROM role_definitions ORDER BY id`)
	must(t, err)
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, name string
		must(t, rows.Scan(&id, &name))
		got = append(got, name+" "+id)
	}
	must(t, rows.Err())
	if want := []string{"Ops " + ops, "Unused " + unused, "Reader " + reader}; !slices.Equal(got, want) {
		t.Errorf("roles after migrating down = %q, want %q", got, want)
	}
}

func TestMigratePrincipalPeriodsSQLite(t *testing.T) {
	testMigratePrincipalPeriods(t, sqlstore.SQLite, "sqlite", "file:"+filepath.Join(t.TempDir(), "pl.db"))
}

func TestMigratePrincipalPeriodsPostgres(t *testing.T) {
	testMigratePrincipalPeriods(t, sqlstore.Postgres, "pgx", postgresDSN(t))
}

// testMigratePrincipalPeriods: migration 00008 gives every existing
// principal one enabled period, its own row's, after which it can be
// enabled again; its Down keeps each principal's latest period.
func testMigratePrincipalPeriods(t *testing.T, dialect sqlstore.Dialect, driver, dsn string) {
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
	oct := func(day int) time.Time { return time.Date(2026, 10, day, 0, 0, 0, 0, time.UTC) }
	must(t, sqlstore.MigrateTo(ctx, raw, dialect, 7))
	exec(`INSERT INTO tenants (tenant_id, name) VALUES ($1, 'A')`, storetest.TenantA)
	exec(`INSERT INTO principals (tenant_id, object_id, type, display_name, sign_in_name, sign_in_key, valid_from, valid_to)
		VALUES ($1, $2, 'User', 'ana', 'ana', 'ana', $3, $4)`, storetest.TenantA, storetest.UserA, oct(1).UnixNano(), oct(10).UnixNano())

	db, err := sqlstore.Open(ctx, dsn) // migrates to the latest version
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.Principal(ctx, storetest.TenantA, storetest.UserA)
	must(t, err)
	if p.Period != (partnerlink.Period{From: oct(1), To: oct(10)}) || p.Earlier != nil {
		t.Errorf("after the migration: %v, want one period [Oct 1, Oct 10)", p.Periods())
	}
	p, err = db.EnablePrincipal(ctx, storetest.TenantA, storetest.UserA, oct(20))
	must(t, err)
	if want := []partnerlink.Period{{From: oct(1), To: oct(10)}, {From: oct(20)}}; !slices.Equal(p.Periods(), want) {
		t.Errorf("enabled again: %v, want %v", p.Periods(), want)
	}
	db.Close()

	must(t, sqlstore.MigrateTo(ctx, raw, dialect, 7))
	var from int64
	var to sql.NullInt64
	if err := raw.QueryRowContext(ctx, `SELECT valid_from, valid_to FROM principals WHERE object_id = $1`, storetest.UserA).Scan(&from, &to); err != nil ||
		from != oct(20).UnixNano() || to.Valid {
		t.Errorf("after migrating down: from %d to %v (%v), want the latest period [Oct 20, ∞)", from, to, err)
	}
	if _, err := raw.ExecContext(ctx, `SELECT 1 FROM principal_periods`); err == nil {
		t.Error("after migrating down, principal_periods is still there")
	}
}

// A close reads its month's link events and notifications by time
// (docs/performance.md, "Monthly close"): both reads go through an index,
// not a scan of the whole history.
func TestMonthReadsUseIndexes(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(testing.TB) *sqlstore.DB
	}{{"SQLite", func(t testing.TB) *sqlstore.DB { return OpenSQLite(t) }}, {"Postgres", func(t testing.TB) *sqlstore.DB { return OpenPostgres(t) }}} {
		t.Run(tc.name, func(t *testing.T) {
			db, ctx := tc.open(t), context.Background()
			from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			to := from.AddDate(0, 1, 0)
			events, args := sqlstore.LinkEventsQuery(partnerlink.LinkFilter{From: from, To: to})
			for name, q := range map[string]struct {
				query string
				args  []any
				index string
			}{
				"link events":   {events, args, "link_events_at"},
				"notifications": {sqlstore.NotificationsQueuedQuery, []any{from.UnixNano(), to.UnixNano()}, "outbox_created"},
			} {
				plan, err := db.QueryPlan(ctx, q.query, q.args...)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(plan, q.index) {
					t.Errorf("%s: the month is not read through %s:\n%s", name, q.index, plan)
				}
			}
		})
	}
}
