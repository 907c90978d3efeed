package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
