// Package queue runs the partitions of closes on several machines
// (docs/scale.md): a close on PostgreSQL puts one job per partition on
// River (github.com/riverqueue/river), a maintained job queue that lives in
// the same PostgreSQL database, and every `partnerlink worker` (and the
// closing process, unless told not to) takes jobs from it. A worker that
// dies mid-partition loses nothing: River gives the job to another worker
// once it is overdue, and a partition's result is stored once, so a retry
// changes no byte of the report.
package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/report"
	"github.com/partnerlink/partnerlink/usagestore"
	"github.com/partnerlink/partnerlink/world"
)

// Store is what workers read and write.
type Store interface {
	partnerlink.PartitionStore
}

// partitionArgs is a job: one partition of a run.
type partitionArgs struct {
	RunID  int64 `json:"run_id"`
	Bucket int   `json:"bucket"`
}

func (partitionArgs) Kind() string { return "partnerlink_partition" }

// Config configures a queue client.
type Config struct {
	// DSN is the PostgreSQL database (the store's).
	DSN   string
	Store Store
	// Workers is how many partitions this process works at once; 0 makes
	// a client that only puts jobs on the queue.
	Workers int
	// Name names this worker in runs show; the host name and process ID
	// by default.
	Name string
	// JobTimeout bounds a partition's work (default: the environment's
	// PARTNERLINK_PARTITION_TIMEOUT, else 15 minutes; every process of a
	// deployment should use the same). A job still running after half as
	// long again (at most a minute more) is the job of a worker that died,
	// and River gives it to another worker at its next rescue pass (every
	// 30 seconds).
	JobTimeout time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
}

// Queue is a River client over the store's database.
type Queue struct {
	cfg    Config
	pool   *pgxpool.Pool
	client *river.Client[pgx.Tx]
	runs   runCache
}

// Open migrates River's tables (once, whoever comes first) and opens a
// client; Start starts working jobs when cfg.Workers > 0.
func Open(ctx context.Context, cfg Config) (*Queue, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Name == "" {
		host, _ := os.Hostname()
		cfg.Name = fmt.Sprintf("%s/%d", host, os.Getpid())
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = 15 * time.Minute
		if v := os.Getenv("PARTNERLINK_PARTITION_TIMEOUT"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return nil, partnerlink.Errorf(partnerlink.EINVALID, "PARTNERLINK_PARTITION_TIMEOUT %q: expected a duration such as 15m", v)
			}
			cfg.JobTimeout = d
		}
	}
	pool, err := pgxpool.New(ctx, cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("job queue: open the database: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	q := &Queue{cfg: cfg, pool: pool}
	rc := &river.Config{
		ID:                   strings.NewReplacer("/", "_", ".", "_").Replace(cfg.Name),
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.JobTimeout + min(cfg.JobTimeout/2, time.Minute),
		Logger:               cfg.Logger.With("component", "river"),
		FetchPollInterval:    200 * time.Millisecond,
		// A worker taking one partition at a time fetches after each: the
		// default 100 ms pause would add up over a run's partitions.
		FetchCooldown: 10 * time.Millisecond,
		MaxAttempts:   5,
	}
	if cfg.Workers > 0 {
		workers := river.NewWorkers()
		river.AddWorker(workers, &partitionWorker{q: q})
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
	}
	if q.client, err = river.NewClient(riverpgxv5.New(pool), rc); err != nil {
		pool.Close()
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return q, nil
}

// migrate brings River's tables up to date under an advisory lock, so that
// workers starting together migrate once.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	defer conn.Release()
	const key = "partnerlink/river-migrate"
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended($1, 0))`, key); err != nil {
		return fmt.Errorf("job queue: lock for migration: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, key)
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("job queue: migrate River's tables: %w", err)
	}
	return nil
}

// Start works jobs until Stop (only with Workers > 0).
func (q *Queue) Start(ctx context.Context) error {
	if q.cfg.Workers == 0 {
		return nil
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("job queue: start: %w", err)
	}
	return nil
}

// Close stops working (finishing the jobs in hand) and closes the pool.
func (q *Queue) Close(ctx context.Context) error {
	var err error
	if q.cfg.Workers > 0 {
		err = q.client.Stop(ctx)
	}
	q.pool.Close()
	return err
}

// Execute puts the run's partitions on the queue and waits for all of them
// (report.Executor).
func (q *Queue) Execute(ctx context.Context, runID int64, spec *report.Spec) (map[int]*report.Partial, error) {
	params := make([]river.InsertManyParams, spec.Buckets)
	for b := range spec.Buckets {
		params[b] = river.InsertManyParams{Args: partitionArgs{RunID: runID, Bucket: b},
			InsertOpts: &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}}
	}
	jobs, err := q.client.InsertMany(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("job queue: put run %d's partitions on the queue: %w", runID, err)
	}
	ids := make([]int64, len(jobs))
	for i, j := range jobs {
		ids[i] = j.Job.ID
	}
	// One query for all the run's jobs every 100 ms; a read that fails is
	// tried again (up to 20 times in a row) rather than failing the close.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	failures := 0
	for {
		res, err := q.client.JobList(ctx, river.NewJobListParams().IDs(ids...).First(len(ids)))
		if err != nil {
			if failures++; failures > 20 || ctx.Err() != nil {
				return nil, fmt.Errorf("job queue: read run %d's jobs: %w", runID, err)
			}
		} else {
			failures = 0
			done := 0
			for _, row := range res.Jobs {
				switch row.State {
				case rivertype.JobStateCompleted:
					done++
				case rivertype.JobStateDiscarded, rivertype.JobStateCancelled:
					return nil, partitionFailed(runID, row)
				}
			}
			if done == len(ids) {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
	raw, err := q.cfg.Store.PartitionResults(ctx, runID)
	if err != nil {
		return nil, err
	}
	out := make(map[int]*report.Partial, len(raw))
	for b, r := range raw {
		if out[b], err = report.DecodePartial(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func partitionFailed(runID int64, row *rivertype.JobRow) error {
	msg := "no error recorded"
	if n := len(row.Errors); n > 0 {
		msg = row.Errors[n-1].Error
	}
	return partnerlink.Errorf(partnerlink.EINTERNAL, "partitioned run %d: a partition failed %d times, the last with: %s", runID, row.Attempt, msg)
}

// partitionWorker works one partition.
type partitionWorker struct {
	river.WorkerDefaults[partitionArgs]
	q *Queue
}

func (w *partitionWorker) Work(ctx context.Context, job *river.Job[partitionArgs]) error {
	q := w.q
	run, release, err := q.runs.get(ctx, q.cfg.Store, job.Args.RunID)
	if err != nil {
		return err
	}
	defer release()
	b := job.Args.Bucket
	if b < 0 || b >= run.spec.Buckets {
		return river.JobCancel(fmt.Errorf("run %d has no partition %d", job.Args.RunID, b))
	}
	if err := q.cfg.Store.StartPartition(ctx, job.Args.RunID, b, q.cfg.Name, q.cfg.Now()); err != nil {
		return err
	}
	started := time.Now()
	pt, err := report.ComputePartition(ctx, run.prepared, run.store, run.spec.Parts[b])
	if err != nil {
		return err
	}
	res, err := report.EncodePartial(pt)
	if err != nil {
		return err
	}
	if err := q.cfg.Store.FinishPartition(ctx, job.Args.RunID, b, pt.Rows, res, q.cfg.Now()); err != nil {
		return err
	}
	q.cfg.Logger.Info("partition done", "run", job.Args.RunID, "bucket", b, "rows", pt.Rows, "took", time.Since(started).Round(time.Millisecond))
	return nil
}

// loadedRun is a run's inputs as a worker holds them.
type loadedRun struct {
	id       int64
	spec     *report.Spec
	prepared *report.Prepared
	store    *usagestore.Store
	users    int // jobs working on it now
}

// runCache keeps the inputs of the runs this worker works on: building
// the index of a large world takes seconds, and a worker usually takes
// many partitions of one run in a row. A run's store is closed only when
// no job uses it and a newer run came.
type runCache struct {
	mu     sync.Mutex
	runs   map[int64]*loadedRun
	latest int64
	// load reads a run's inputs (nil: the package's load; tests set it).
	load func(ctx context.Context, store Store, id int64) (*loadedRun, error)
}

// get returns run id's inputs and the function that gives them back.
func (c *runCache) get(ctx context.Context, store Store, id int64) (*loadedRun, func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.runs[id]
	if r == nil {
		loadRun := c.load
		if loadRun == nil {
			loadRun = load
		}
		var err error
		if r, err = loadRun(ctx, store, id); err != nil {
			return nil, nil, err
		}
		if c.runs == nil {
			c.runs = map[int64]*loadedRun{}
		}
		c.runs[id] = r
		c.latest = max(c.latest, id)
	}
	// Counted as used before any eviction: a run older than the latest
	// (a close that started earlier, or a retry) stays open for its job.
	r.users++
	c.evict()
	return r, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		r.users--
		c.evict()
	}, nil
}

// evict closes the runs older than the latest that no job uses.
func (c *runCache) evict() {
	for id, r := range c.runs {
		if id != c.latest && r.users == 0 {
			r.store.Close()
			delete(c.runs, id)
		}
	}
}

func load(ctx context.Context, store Store, id int64) (*loadedRun, error) {
	b, err := store.PartitionRunSpec(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, river.JobCancel(errors.New("the run is over"))
	}
	spec, err := report.DecodeSpec(b)
	if err != nil {
		return nil, err
	}
	doc, err := world.Decode(bytes.NewReader(spec.World), fmt.Sprintf("run %d's world", id))
	if err != nil {
		return nil, err
	}
	month, err := partnerlink.ParseMonth(spec.Month)
	if err != nil {
		return nil, err
	}
	p, err := report.Prepare(doc, month)
	if err != nil {
		return nil, err
	}
	st, err := usagestore.Open(ctx, spec.Store, spec.Buckets)
	if err != nil {
		return nil, err
	}
	spec.World = nil
	return &loadedRun{id: id, spec: spec, prepared: p, store: st}, nil
}
