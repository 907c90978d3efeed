package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/partnerlink/partnerlink"
)

// viewCache remembers the answers of CurrentLinkView on SQLite for as long
// as the database is unchanged, so a GET of a link reads no table: the
// query and its rows were a third of the CPU of an authenticated GET
// (bench links).
//
// "Unchanged" is asked of SQLite itself, before every answer: PRAGMA
// data_version on a connection that never writes changes whenever any other
// connection commits — ours, or another process's on the same file (the
// partnerlink CLI, an import). So there is no window in which a committed
// change is not seen: a cached answer is used only when the version read
// after the request arrived equals the version read before the answer was
// queried. Any commit, to any table, empties the cache.
//
// PostgreSQL has no such cheap probe (and several servers may share one
// database), so it is not cached.
type viewCache struct {
	db      *sql.DB
	probeMu sync.Mutex // one probe at a time on the connection
	conn    *sql.Conn
	probe   *sql.Stmt
	// pins counts the connections pinned so far: a new connection's
	// data_version starts over, so versions carry the pin's number.
	pins    atomic.Int64
	roundMu sync.Mutex
	next    *probeRound // the round callers join; nil when none is waiting

	mu      sync.RWMutex
	version int64 // the data_version entries were read at
	entries map[viewKey]*partnerlink.LinkView
}

type viewKey struct{ tenantID, objectID string }

// maxViews bounds the cache; it starts over when full (an unchanged
// database with more callers than this is rare, and a miss costs a query).
const maxViews = 200_000

// newViewCache pins a connection of db for the version probe.
func newViewCache(ctx context.Context, db *sql.DB) (*viewCache, error) {
	c := &viewCache{db: db, entries: map[viewKey]*partnerlink.LinkView{}}
	if err := c.pin(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *viewCache) pin(ctx context.Context) error {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: pin a connection for the link cache: %w", err)
	}
	probe, err := conn.PrepareContext(ctx, `PRAGMA data_version`)
	if err != nil {
		conn.Close()
		return fmt.Errorf("store: prepare the link cache's probe: %w", err)
	}
	c.conn, c.probe = conn, probe
	c.pins.Add(1)
	return nil
}

// repin replaces the probe's connection after a failed probe (database/sql
// retires a broken connection, and every later probe would fail with it).
// The caller holds probeMu; on failure the next probe tries again.
func (c *viewCache) repin(ctx context.Context) {
	c.probe.Close()
	c.conn.Close()
	if err := c.pin(context.WithoutCancel(ctx)); err != nil {
		slog.Warn("store: link cache: cannot pin a connection", "err", err)
	}
}

// dataVersion asks SQLite for the database's version now: the answer of
// a probe that started after the call. Callers that arrive while a probe
// runs share the next one, so under load there are fewer probes than
// requests (each is a read transaction: shared-memory locks and syscalls).
func (c *viewCache) dataVersion(ctx context.Context) (int64, error) {
	c.roundMu.Lock()
	r, lead := c.next, false
	if r == nil {
		r, lead = &probeRound{done: make(chan struct{})}, true
		c.next = r
	}
	c.roundMu.Unlock()
	if !lead {
		<-r.done
		return r.version, r.err
	}
	c.probeMu.Lock() // the previous round's probe ends first
	c.roundMu.Lock()
	c.next = nil // later arrivals wait for the next round: this probe may have started before them
	c.roundMu.Unlock()
	r.err = c.probe.QueryRowContext(context.WithoutCancel(ctx)).Scan(&r.version)
	// A connection pinned anew counts data_version from the start again:
	// the pin's number in the high bits keeps versions growing, so answers
	// cached under the previous connection are never taken for current.
	r.version += c.pins.Load() << 40
	if r.err != nil {
		r.err = fmt.Errorf("store: read data_version: %w", r.err)
		c.repin(ctx)
	}
	c.probeMu.Unlock()
	close(r.done)
	return r.version, r.err
}

// probeRound is one probe and the callers waiting for it.
type probeRound struct {
	done    chan struct{}
	version int64
	err     error
}

// get returns the cached answer for key at version: a copy of the view, or
// nil for "no link". ok is false on a miss.
func (c *viewCache) get(version int64, key viewKey) (view *partnerlink.LinkView, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.version != version {
		return nil, false
	}
	v, ok := c.entries[key]
	if !ok || v == nil {
		return nil, ok
	}
	cp := *v
	return &cp, true
}

// put remembers an answer read after version was probed. A newer version
// than the cache's starts the cache over.
func (c *viewCache) put(version int64, key viewKey, view *partnerlink.LinkView) {
	if view != nil {
		cp := *view
		view = &cp
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if version < c.version { // data_version only grows: an answer from before the cache's
		return
	}
	if version != c.version || len(c.entries) >= maxViews {
		c.version = version
		c.entries = map[viewKey]*partnerlink.LinkView{}
	}
	c.entries[key] = view
}

func (c *viewCache) close() {
	c.probe.Close()
	c.conn.Close()
}

// StateVersion names the database's state: it changes whenever any
// connection, of this process or another, commits a write. A value derived
// from the whole state (explain's index) may be reused while it is
// unchanged. It is "" when the database cannot tell (derive anew).
//
// SQLite: the pinned connection's data_version (which every commit of
// another connection changes), with the connection's number in its high bits. PostgreSQL:
// the current snapshot, which fixes exactly which transactions are visible.
func (d *DB) StateVersion(ctx context.Context) (string, error) {
	if d.dialect == Postgres {
		var snap string
		if err := d.db.QueryRowContext(ctx, `SELECT pg_current_snapshot()::text`).Scan(&snap); err != nil {
			return "", fmt.Errorf("store: read the snapshot: %w", err)
		}
		return snap, nil
	}
	if d.views == nil {
		return "", nil
	}
	v, err := d.views.dataVersion(ctx)
	if err != nil { // the probe's connection broke and was pinned anew: cannot tell this time
		return "", nil
	}
	return strconv.FormatInt(v, 10), nil
}
