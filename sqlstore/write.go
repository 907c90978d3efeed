package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

// How SQLite is written (docs/performance.md, "Links"): one writer at a time
// behind a Go mutex, link changes committed in groups, checkpoints copied
// beside the writer, and a file-system flush before the checkpoint that
// restarts the WAL. PostgreSQL needs none of it.

// checkpointAfter is how many pages a commit writes to the WAL, roughly,
// before the checkpointer is woken. SQLite's own automatic checkpoint also
// runs at 1,000 pages, but inside the commit that crosses it.
const checkpointAfter = 1000

// restartEvery is how many checkpoints run beside the writer before one
// completes under the writer lock, so that the WAL starts over: 18,000 to
// 23,000 pages (70–90 MB of WAL) in the link benchmark, as wroteWAL's
// count of pages is an estimate. Completing every checkpoint made writers
// wait for an fsync every 1,000 pages, which was most of the p99 of link
// writes; never completing one lets the WAL grow without end.
var restartEvery = 32

// wroteWAL tells the checkpointer that about pages pages went to the WAL.
func (d *DB) wroteWAL(pages int) {
	if d.checkpoints == nil {
		return
	}
	if d.walPages.Add(int64(pages)) >= checkpointAfter {
		select {
		case d.checkpoints <- struct{}{}:
		default:
		}
	}
}

// checkpointer copies the WAL back into the database file whenever about
// checkpointAfter pages were written, until ctx ends.
//
// SQLite would do it inside the commit that crosses 1,000 WAL pages, and
// that commit — with every link change queued behind it — would wait for
// the copy and its two fsyncs: on this machine that was a third of the
// writer's time and most of the p99 of link writes (bench links). Here the
// copy and its fsyncs happen beside the writer. Every restartEvery rounds a
// short second pass under the writer lock copies what arrived meanwhile, so
// the checkpoint completes and the next commit starts the WAL over.
func (d *DB) checkpointer(ctx context.Context) {
	defer close(d.checkpointsDone)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	round := 0
	lastFrames, wrote := 0, false
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.checkpoints:
		case <-t.C:
		}
		d.walPages.Store(0)
		round++
		walFrames, ok := d.checkpointPass(ctx)
		wrote = wrote || walFrames != lastFrames // the WAL changed: there was a commit
		lastFrames = walFrames
		if ok && round%restartEvery == 0 {
			if wrote { // an idle server has nothing to flush
				d.flushBeforeRestart()
				wrote = false
			}
			unlock := d.lockWrite()
			d.checkpointPass(ctx)
			unlock()
		}
	}
}

// flushBeforeRestart writes the database file's dirty pages to disk before
// the pass under the writer lock. SQLite syncs the database file only when
// a checkpoint completes, so that pass would otherwise flush every page the
// passes beside the writer copied since the last restart: 9–20 ms of
// fsync with every writer waiting, most of the p99 of link writes at
// 3,000/s. Flushed first, the pass under the lock took 3–6 ms.
func (d *DB) flushBeforeRestart() {
	if d.dir == "" {
		return
	}
	if err := flushFS(d.dir); err != nil && !d.flushWarned {
		d.flushWarned = true // once: it would fail the same way every round
		slog.Warn("store: flush before checkpoint", "dir", d.dir, "err", err)
	}
}

// flushFS is flushFilesystem, replaced by tests that count flushes.
var flushFS = flushFilesystem

// checkpointPass runs one PASSIVE checkpoint and reports whether it ran and
// how many frames the WAL holds.
func (d *DB) checkpointPass(ctx context.Context) (walFrames int, ok bool) {
	var busy, copied int
	err := d.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &walFrames, &copied)
	if err != nil && ctx.Err() == nil {
		slog.Warn("store: checkpoint failed", "err", err)
	}
	return walFrames, err == nil
}

// lockWrite takes the writer lock on SQLite; the returned func releases it.
func (d *DB) lockWrite() func() {
	if d.dialect != SQLite {
		return func() {}
	}
	d.writeMu.Lock()
	return d.writeMu.Unlock
}

// exec runs one write statement outside a transaction.
func (d *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	defer d.lockWrite()()
	return d.db.ExecContext(ctx, query, args...)
}

// inWorldTx is inTx for a change to the world's tables (worldTables): on
// PostgreSQL it holds the world lock shared, as link changes do, so that a
// world rewritten in place (UpdateWorld, holding it exclusive) neither
// loses nor undoes it. SQLite has one writer at a time already.
func (d *DB) inWorldTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		if d.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))`, worldLockKey); err != nil {
				return fmt.Errorf("store: lock %s shared: %w", worldLockKey, err)
			}
		}
		return fn(tx)
	})
}

// worldExec is exec for one statement that changes the world's tables,
// under the world lock shared as inWorldTx.
func (d *DB) worldExec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if d.dialect != Postgres {
		return d.exec(ctx, query, args...)
	}
	var res sql.Result
	err := d.inWorldTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// writer lends d's exec to helpers that take a queryer, for their writes
// outside a transaction. Its reads go straight to the pool.
type writer struct{ *DB }

// worldWriter is writer for writes to the world's tables (worldExec); its
// reads are writer's.
type worldWriter struct{ writer }

func (w worldWriter) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return w.worldExec(ctx, query, args...)
}

func (w writer) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return w.exec(ctx, query, args...)
}

func (w writer) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return w.db.QueryContext(ctx, query, args...)
}

func (w writer) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return w.db.QueryRowContext(ctx, query, args...)
}

// changeLinksGrouped queues c and waits for it to be written. One caller at
// a time leads: it writes every change queued by then in one transaction,
// tells their callers, and hands the lead to the first change that queued
// meanwhile, so no caller waits behind more than two batches.
func (d *DB) changeLinksGrouped(c *linkChange) {
	c.wake = make(chan bool, 1)
	d.pendingMu.Lock()
	d.pending = append(d.pending, c)
	lead := !d.writing
	d.writing = true
	d.pendingMu.Unlock()
	if !lead && !<-c.wake {
		return // written by another leader
	}

	d.pendingMu.Lock()
	batch := d.pending
	d.pending = nil
	d.pendingMu.Unlock()
	d.writeLinkChanges(c.ctx, batch)
	// A change writes about four pages the batch does not share (the
	// principal's link row and index entries); the shared tails add a few.
	d.wroteWAL(4*len(batch) + 8)

	// Hand the lead on first, so the next batch starts while this one's
	// callers are woken.
	d.pendingMu.Lock()
	if len(d.pending) == 0 {
		d.writing = false
		d.pendingMu.Unlock()
	} else {
		next := d.pending[0]
		d.pendingMu.Unlock()
		next.wake <- true
	}
	for _, b := range batch {
		if b != c {
			b.wake <- false
		}
	}
}

// writeLinkChanges writes a batch of changes in one transaction.
func (d *DB) writeLinkChanges(ctx context.Context, batch []*linkChange) {
	defer d.lockWrite()()
	// The batch is not one caller's: a caller that goes away must not
	// cancel the others' changes.
	ctx = context.WithoutCancel(ctx)
	write := func(changes []*linkChange) (err error) {
		// A panicking decide must not leave the callers of the batch
		// waiting for ever: it fails the batch like any error.
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("store: link change failed: %v", p)
			}
		}()
		return d.tx(ctx, func(sqlTx *sql.Tx) error {
			tx := newPreparedTx(d, sqlTx)
			for _, c := range changes {
				if c.err = c.ctx.Err(); c.err != nil {
					continue
				}
				if err := d.applyLinkChange(ctx, tx, c); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := write(batch); err != nil {
		if len(batch) == 1 {
			batch[0].err = err
		} else {
			// A statement failed and nothing of the batch was written: write
			// each change on its own, so the failure stays with its change.
			// (Savepoints would do it in one go, but cost a sub-journal
			// write for every page of every change.)
			for _, c := range batch {
				if err := write([]*linkChange{c}); err != nil {
					c.err = err
				}
			}
		}
	}
	for _, c := range batch {
		if c.err != nil {
			c.link, c.event = nil, nil
		}
	}
}
