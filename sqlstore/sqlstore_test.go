package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/sqlstore/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.RunAll(t, func(t *testing.T) storetest.Store { return OpenSQLite(t) })
}

func TestPostgres(t *testing.T) {
	storetest.RunAll(t, func(t *testing.T) storetest.Store { return OpenPostgres(t) })
}

// OpenSQLite opens a fresh SQLite store in a temporary directory.
func OpenSQLite(t testing.TB) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "partnerlink.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var pgSeq atomic.Int64

// OpenPostgres opens a store on a throw-away database (postgresDSN).
func OpenPostgres(t testing.TB) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), postgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// postgresDSN creates an empty throw-away database on the server named by
// PARTNERLINK_TEST_POSTGRES, dropped when the test ends. Without it the
// test is skipped locally and fails in CI, where the test command always
// starts a cluster.
func postgresDSN(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("PARTNERLINK_TEST_POSTGRES")
	if admin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PARTNERLINK_TEST_POSTGRES is not set: CI must run PostgreSQL tests (run ./test.sh)")
		}
		t.Skip("PARTNERLINK_TEST_POSTGRES not set; run ./test.sh to start a throw-away PostgreSQL")
	}
	name := fmt.Sprintf("pltest_%d_%d", time.Now().UnixNano(), pgSeq.Add(1))
	adm, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if _, err := adm.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if adm, err := sql.Open("pgx", admin); err == nil {
			adm.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			adm.Close()
		}
	})
	return withDatabase(admin, name)
}

// withDatabase replaces the database name in a postgres:// URL.
func withDatabase(dsn, name string) string {
	q := ""
	if i := strings.Index(dsn, "?"); i >= 0 {
		dsn, q = dsn[:i], dsn[i:]
	}
	if i := strings.LastIndex(dsn, "/"); i > len("postgres://") {
		dsn = dsn[:i]
	}
	return dsn + "/" + name + q
}

// TestSQLiteViewsFollowOtherConnections: the link-view cache of one handle
// sees changes committed through another handle on the same file, as it
// must see those of another process (the CLI writes the server's file).
func TestSQLiteViewsFollowOtherConnections(t *testing.T) {
	path := filepath.Join(t.TempDir(), "partnerlink.db")
	open := func() *sqlstore.DB {
		db, err := sqlstore.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	server, cli := open(), open()
	storetest.ViewsFollowChanges(t, server, cli)
}

// TestSQLiteLinkCacheSurvivesABrokenProbe: when the probe's connection
// breaks, GETs are answered from the database and the cache probes on a
// new connection, never answering from before a change.
func TestSQLiteLinkCacheSurvivesABrokenProbe(t *testing.T) {
	ctx := context.Background()
	db := OpenSQLite(t)
	storetest.Seed(t, db)
	actor := partnerlink.Caller{TenantID: storetest.TenantA, ObjectID: storetest.UserA}
	change := func(at time.Time, to string) {
		t.Helper()
		_, _, err := db.ChangeLink(ctx, storetest.TenantA, storetest.UserA, at, actor, func(cur *partnerlink.Link) (partnerlink.LinkChange, error) {
			if cur == nil {
				return partnerlink.LinkChange{Action: partnerlink.LinkCreated, PartnerID: to}, nil
			}
			return partnerlink.LinkChange{Action: partnerlink.LinkReplaced, PartnerID: to}, nil
		})
		must(t, err)
	}
	want := func(partnerID string) {
		t.Helper()
		for range 2 {
			v, err := db.CurrentLinkView(ctx, storetest.TenantA, storetest.UserA)
			if err != nil || v.PartnerID != partnerID {
				t.Fatalf("view = %+v, %v; want %s", v, err, partnerID)
			}
		}
	}
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	change(t0, storetest.Location)
	want(storetest.Location)
	v1, err := db.StateVersion(ctx)
	must(t, err)
	db.BreakLinkCacheProbe()
	want(storetest.Location)
	change(t0.Add(time.Hour), storetest.Global)
	want(storetest.Global)
	// The new connection counts data_version from the start again; the
	// versions still grow, so nothing cached before is taken for current.
	v2, err := db.StateVersion(ctx)
	must(t, err)
	n1, _ := strconv.ParseInt(v1, 10, 64)
	n2, _ := strconv.ParseInt(v2, 10, 64)
	if n1 == 0 || n2 <= n1 {
		t.Errorf("state version %q after a new probe connection, %q before: want it greater", v2, v1)
	}
}

// TestPostgresQueueWaitsForWebhookChange: a notification queued (parked:
// no webhook yet) by a link change still open while the tenant's webhook is
// set is woken when both have committed — setting the webhook waits for the
// change (READ COMMITTED would otherwise let the wake-up miss it).
func TestPostgresQueueWaitsForWebhookChange(t *testing.T) {
	ctx := context.Background()
	db := OpenPostgres(t)
	storetest.Seed(t, db)
	tx, ev, at := linkChangeInFlight(t, db)
	set := make(chan error, 1)
	go func() {
		set <- db.SetTenantWebhook(ctx, storetest.TenantA, "https://127.0.0.1:9/h", "postgres-signing-secret")
	}()
	select {
	case err := <-set:
		t.Fatalf("the webhook was set while a notification was being queued (%v): the wake-up cannot see it", err)
	case <-time.After(300 * time.Millisecond):
	}
	must(t, tx.Commit())
	must(t, <-set)
	due, err := db.DueNotifications(ctx, at, 10)
	must(t, err)
	if len(due) != 1 || due[0].EventID != ev {
		t.Errorf("due after the webhook was set = %+v, want event %d", due, ev)
	}
}

// TestPostgresImportWaitsForLinkChanges: a world import, which replaces the
// links and the tenants' webhooks, waits for link changes in flight (and
// they for it), so none fails half-way or queues a notification the
// import's wake-up misses.
func TestPostgresImportWaitsForLinkChanges(t *testing.T) {
	ctx := context.Background()
	db := OpenPostgres(t)
	storetest.Seed(t, db)
	doc, err := db.ExportWorld(ctx)
	must(t, err)
	tx, _, _ := linkChangeInFlight(t, db)
	imported := make(chan error, 1)
	go func() {
		imported <- db.ImportWorld(ctx, doc, func(s string) (string, error) { return "hash:" + s, nil })
	}()
	select {
	case err := <-imported:
		t.Fatalf("the import ran beside a link change in flight (%v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	must(t, tx.Commit())
	must(t, <-imported)
}

// linkChangeInFlight opens a transaction that has done what a notifying
// link change of UserA in TenantA does (its locks, its event, its queued
// notification) and not committed; the test commits it.
func linkChangeInFlight(t *testing.T, db *sqlstore.DB) (tx *sql.Tx, eventID int64, at time.Time) {
	t.Helper()
	ctx := context.Background()
	at = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tx, err := db.SQL().BeginTx(ctx, nil)
	must(t, err)
	t.Cleanup(func() { tx.Rollback() })
	must(t, tx.QueryRowContext(ctx, `INSERT INTO link_events (tenant_id, object_id, action, partner_id, version, at,
		actor_tenant_id, actor_object_id) VALUES ($1, $2, 'created', $3, 1, $4, $1, $2) RETURNING id`,
		storetest.TenantA, storetest.UserA, storetest.Location, at.UnixNano()).Scan(&eventID))
	must(t, db.QueueNotice(ctx, tx, storetest.TenantA, storetest.UserA, eventID, `{}`, at))
	return tx, eventID, at
}
