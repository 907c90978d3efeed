// Package sqlstore is the system of record on SQL: SQLite (the embedded
// default, pure Go) and PostgreSQL (production). Both run the same queries —
// "$N" placeholders, ON CONFLICT and RETURNING mean the same on both — and
// differ only in two DDL tokens of their migrations, so there is one implementation
// to keep right and one conformance suite (storetest) proving it on both.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing/fstest"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/identity"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations
var migrations embed.FS

// Dialect names the database behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is the store. It implements the store interfaces of the root package
// and of identity.
type DB struct {
	db      *sql.DB
	dialect Dialect
	// DSN as given, for messages.
	dsn string
	// dir holds the SQLite database file; "" in memory and on PostgreSQL.
	dir         string
	flushWarned bool // the checkpointer's, alone
	// Now is the clock for bookkeeping instants (created_at); link changes
	// take their instant from the caller.
	Now func() time.Time

	// stmts caches prepared statements of the hot read path: without them
	// SQLite parses the SQL text on every query (a fifth of the CPU of an
	// authenticated GET, measured by bench links).
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt

	// writeMu queues SQLite writers in Go. SQLite has one writer at a
	// time; without this, waiting writers sleep in SQLite's busy handler
	// (1 ms growing to 100 ms naps) and wake late, which costs throughput
	// and puts 100 ms into the p99 of link writes (bench links). PostgreSQL
	// has row locks and needs none of it.
	writeMu sync.Mutex

	// pending are link changes waiting to be written together (ChangeLink).
	pendingMu sync.Mutex
	pending   []*linkChange
	writing   bool // a caller is leading (writing a batch)

	// views caches CurrentLinkView on SQLite; nil on PostgreSQL.
	views *viewCache

	// checkpoints wakes the checkpointer; stopCheckpoints ends it (Close).
	checkpoints     chan struct{}
	walPages        atomic.Int64
	stopCheckpoints context.CancelFunc
	checkpointsDone chan struct{}
}

// DB implements every store capability the services use.
var (
	_ partnerlink.DirectoryStore     = (*DB)(nil)
	_ partnerlink.LinkStore          = (*DB)(nil)
	_ partnerlink.OutboxStore        = (*DB)(nil)
	_ partnerlink.UsageStore         = (*DB)(nil)
	_ partnerlink.CreditStore        = (*DB)(nil)
	_ partnerlink.RoleStore          = (*DB)(nil)
	_ identity.Directory             = (*DB)(nil)
	_ identity.GrantStore            = (*DB)(nil)
	_ partnerlink.PowerPlatformStore = (*DB)(nil)
)

// cached returns the prepared form of a read-only query used outside
// transactions, preparing it on first use.
func (d *DB) cached(ctx context.Context, query string) (*sql.Stmt, error) {
	d.stmtMu.Lock()
	defer d.stmtMu.Unlock()
	if st, ok := d.stmts[query]; ok {
		return st, nil
	}
	st, err := d.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("store: prepare: %w", err)
	}
	if d.stmts == nil {
		d.stmts = map[string]*sql.Stmt{}
	}
	d.stmts[query] = st
	return st, nil
}

// stmt returns the prepared form of a query for use inside tx. Queries of
// transactions on the hot path are prepared when the store opens (prepare
// below), so this never needs a second connection while tx holds one.
func (d *DB) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	d.stmtMu.Lock()
	st, ok := d.stmts[query]
	d.stmtMu.Unlock()
	if !ok {
		return tx.PrepareContext(ctx, query)
	}
	return tx.StmtContext(ctx, st), nil
}

// prepare fills the statement cache with queries used inside transactions.
func (d *DB) prepare(ctx context.Context, queries ...string) error {
	for _, q := range queries {
		if _, err := d.cached(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// query runs a cached read-only query.
func (d *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := d.cached(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (d *DB) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Open opens the database named by dsn — a postgres:// or postgresql:// URL,
// or a SQLite file path — and migrates it to the current schema.
func Open(ctx context.Context, dsn string) (*DB, error) {
	d := &DB{dsn: dsn}
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		d.dialect = Postgres
		d.db, err = sql.Open("pgx", dsn)
		if err == nil {
			d.db.SetMaxOpenConns(32)
			d.db.SetMaxIdleConns(32)
		}
	} else {
		d.dialect = SQLite
		d.db, err = sql.Open("sqlite", sqliteDSN(dsn))
		if err == nil {
			// WAL lets readers run beside the one writer; the writer lock is
			// taken at BEGIN (_txlock=immediate) so transactions never fail
			// half-way on a lock upgrade.
			// 8 for queries and 1 pinned by the link cache's probe.
			d.db.SetMaxOpenConns(9)
			d.db.SetMaxIdleConns(9)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", d.dialect, err)
	}
	if err := d.db.PingContext(ctx); err != nil {
		d.db.Close()
		return nil, fmt.Errorf("connect to %s database %s: %w", d.dialect, redact(dsn), err)
	}
	if err := d.migrate(ctx); err != nil {
		d.db.Close()
		return nil, err
	}
	queries := linkTxQueries
	if d.dialect == Postgres {
		queries = append(queries[:len(queries):len(queries)], qLockPrincipal)
	}
	if err := d.prepare(ctx, queries...); err != nil {
		d.Close()
		return nil, err
	}
	if d.dialect == SQLite {
		d.dir = sqliteDir(dsn) // after the first connection made the file
		if d.views, err = newViewCache(ctx, d.db); err != nil {
			d.Close()
			return nil, err
		}
		cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		d.checkpoints, d.stopCheckpoints, d.checkpointsDone = make(chan struct{}, 1), cancel, make(chan struct{})
		go d.checkpointer(cctx)
	}
	return d, nil
}

// sqliteDir is the absolute directory of the database file a SQLite DSN
// names (a path, or a file: URI as SQLite reads one), following symbolic
// links; "" for an in-memory database or a URI naming another host.
func sqliteDir(dsn string) string {
	path := dsn
	if rest, ok := strings.CutPrefix(dsn, "file:"); ok {
		rest, _, _ = strings.Cut(rest, "#")
		rest, query, _ := strings.Cut(rest, "?")
		if q, err := url.ParseQuery(query); err == nil && (q.Get("mode") == "memory" || q.Get("vfs") == "memdb") {
			return ""
		}
		if authority, ok := strings.CutPrefix(rest, "//"); ok {
			host, p, _ := strings.Cut(authority, "/")
			if host != "" && host != "localhost" {
				return ""
			}
			rest = "/" + p
		}
		if p, err := url.PathUnescape(rest); err == nil {
			rest = p
		}
		path = rest
	}
	if path == "" || path == ":memory:" {
		return ""
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return filepath.Dir(real)
	}
	dir := filepath.Dir(path) // the file does not exist (yet)
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		return real
	}
	return dir
}

// sqliteDSN adds the pragmas every connection needs: WAL for concurrent
// readers, a busy timeout instead of immediate SQLITE_BUSY, foreign keys on,
// synchronous=NORMAL (durable at checkpoints; safe with WAL), and no
// automatic checkpoints (DB.checkpointer does them).
func sqliteDSN(path string) string {
	if path == ":memory:" {
		path = "file::memory:?mode=memory&cache=shared"
	} else if !strings.HasPrefix(path, "file:") {
		path = "file:" + path
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(0)"
}

// dialectTokens fill the two places where SQLite and PostgreSQL DDL differ;
// the migrations are otherwise one text for both.
var dialectTokens = map[Dialect]*strings.Replacer{
	SQLite: strings.NewReplacer("{{IDENTITY}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{{BYTES}}", "BLOB",
		"{{ROWID}}", "INTEGER PRIMARY KEY"),
	Postgres: strings.NewReplacer("{{IDENTITY}}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "{{BYTES}}", "BYTEA",
		"{{ROWID}}", "BIGINT PRIMARY KEY"),
}

// migrationFS returns the embedded migrations written for the dialect.
func migrationFS(dialect Dialect) (fs.FS, error) {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	out := fstest.MapFS{}
	for _, e := range entries {
		b, err := fs.ReadFile(migrations, "migrations/"+e.Name())
		if err != nil {
			return nil, err
		}
		out[e.Name()] = &fstest.MapFile{Data: []byte(dialectTokens[dialect].Replace(string(b))), Mode: 0o444}
	}
	return out, nil
}

// migrator returns goose's runner of the embedded migrations on db.
func migrator(db *sql.DB, dialect Dialect) (*goose.Provider, error) {
	dir, err := migrationFS(dialect)
	if err != nil {
		return nil, err
	}
	gd := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if dialect == Postgres {
		gd = goose.DialectPostgres
		// Several servers and workers may share one PostgreSQL database and
		// start together: a session advisory lock lets one migrate while the
		// others wait (probing every second, for up to 5 minutes) and then
		// find nothing to do. SQLite serializes writers by itself.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, fmt.Errorf("prepare migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, db, dir, opts...)
	if err != nil {
		return nil, fmt.Errorf("prepare migrations: %w", err)
	}
	return p, nil
}

func (d *DB) migrate(ctx context.Context) error {
	p, err := migrator(d.db, d.dialect)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate %s database: %w", d.dialect, err)
	}
	return nil
}

// Dialect reports which database this is.
func (d *DB) Dialect() Dialect { return d.dialect }

// SQL exposes the handle for packages that keep their own tables here.
func (d *DB) SQL() *sql.DB { return d.db }

// Close closes the database.
func (d *DB) Close() error {
	if d.stopCheckpoints != nil {
		d.stopCheckpoints()
		<-d.checkpointsDone
	}
	d.stmtMu.Lock()
	for _, st := range d.stmts {
		st.Close()
	}
	d.stmts = nil
	d.stmtMu.Unlock()
	if d.views != nil {
		d.views.close()
	}
	return d.db.Close()
}

// inTx runs fn in a transaction, committing when it returns nil.
func (d *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	defer d.lockWrite()()
	return d.tx(ctx, fn)
}

// tx is inTx for a caller that holds the writer lock.
func (d *DB) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// queryer is what *sql.DB and *sql.Tx share, so helpers serve both.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// nanos stores an instant; the zero time (an open end) is NULL.
func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// instant reads what nanos stored.
func instant(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return partnerlink.Errorf(partnerlink.ENOTFOUND, format, args...)
	}
	return err
}

func redact(dsn string) string {
	if i := strings.Index(dsn, "@"); i > 0 {
		if j := strings.Index(dsn, "://"); j > 0 && j < i {
			return dsn[:j+3] + "…" + dsn[i:]
		}
	}
	return dsn
}
