package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/partnerlink/partnerlink"
)

// UsageParts returns the parts of a file split in store with buckets
// buckets; false when it was not split there yet.
func (d *DB) UsageParts(ctx context.Context, store string, buckets int, hash string) ([]partnerlink.UsagePart, bool, error) {
	var n int
	if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM usage_splits WHERE store = $1 AND buckets = $2 AND hash = $3`,
		store, buckets, hash).Scan(&n); err != nil {
		return nil, false, fmt.Errorf("store: read usage split: %w", err)
	}
	if n == 0 {
		return nil, false, nil
	}
	rows, err := d.db.QueryContext(ctx, `SELECT month, bucket, part_key, rows, bytes FROM usage_parts
		WHERE store = $1 AND buckets = $2 AND hash = $3 ORDER BY month, bucket`, store, buckets, hash)
	if err != nil {
		return nil, false, fmt.Errorf("store: read usage parts: %w", err)
	}
	defer rows.Close()
	var out []partnerlink.UsagePart
	for rows.Next() {
		p := partnerlink.UsagePart{Hash: hash}
		if err := rows.Scan(&p.Month, &p.Bucket, &p.Key, &p.Rows, &p.Bytes); err != nil {
			return nil, false, fmt.Errorf("store: read usage parts: %w", err)
		}
		out = append(out, p)
	}
	return out, true, rows.Err()
}

// RecordUsageSplit records a file's parts once.
func (d *DB) RecordUsageSplit(ctx context.Context, store string, buckets int, hash string, parts []partnerlink.UsagePart, at time.Time) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO usage_splits (store, buckets, hash, split_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (store, buckets, hash) DO NOTHING`, store, buckets, hash, at.UnixNano())
		if err != nil {
			return fmt.Errorf("store: record usage split: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		for _, p := range parts {
			if _, err := tx.ExecContext(ctx, `INSERT INTO usage_parts (store, buckets, hash, month, bucket, part_key, rows, bytes)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, store, buckets, hash, p.Month, p.Bucket, p.Key, p.Rows, p.Bytes); err != nil {
				return fmt.Errorf("store: record usage part: %w", err)
			}
		}
		return nil
	})
}

// CreatePartitionRun records a running run with its partitions queued.
func (d *DB) CreatePartitionRun(ctx context.Context, r partnerlink.PartitionRun, spec []byte) (int64, error) {
	var id int64
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		q := `INSERT INTO partition_runs (kind, month, buckets, store, state, created_at, rows, spec) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
		args := []any{r.Kind, r.Month, r.Buckets, r.Store, partnerlink.RunRunning, r.CreatedAt.UnixNano(), r.Rows, spec}
		if d.dialect == Postgres {
			if err := tx.QueryRowContext(ctx, q+` RETURNING id`, args...).Scan(&id); err != nil {
				return fmt.Errorf("store: create partition run: %w", err)
			}
		} else {
			res, err := tx.ExecContext(ctx, q, args...)
			if err != nil {
				return fmt.Errorf("store: create partition run: %w", err)
			}
			if id, err = res.LastInsertId(); err != nil {
				return err
			}
		}
		for b := range r.Buckets {
			if _, err := tx.ExecContext(ctx, `INSERT INTO run_partitions (run_id, bucket, state) VALUES ($1, $2, $3)`,
				id, b, partnerlink.PartitionQueued); err != nil {
				return fmt.Errorf("store: create run partition: %w", err)
			}
		}
		return nil
	})
	return id, err
}

// PartitionRunSpec returns a run's spec; ENOTFOUND.
func (d *DB) PartitionRunSpec(ctx context.Context, id int64) ([]byte, error) {
	var spec []byte
	err := d.db.QueryRowContext(ctx, `SELECT spec FROM partition_runs WHERE id = $1`, id).Scan(&spec)
	if err != nil {
		return nil, notFound(err, "no partitioned run %d", id)
	}
	return spec, nil
}

// StartPartition notes that worker started (again) on a partition that is
// not done.
func (d *DB) StartPartition(ctx context.Context, id int64, bucket int, worker string, at time.Time) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE run_partitions SET state = $1, worker = $2, started_at = $3, attempts = attempts + 1
			WHERE run_id = $4 AND bucket = $5 AND state <> $6`,
			partnerlink.PartitionRunning, worker, at.UnixNano(), id, bucket, partnerlink.PartitionDone); err != nil {
			return fmt.Errorf("store: start partition: %w", err)
		}
		return nil
	})
}

// FinishPartition stores a partition's result once.
func (d *DB) FinishPartition(ctx context.Context, id int64, bucket int, rows int64, result []byte, at time.Time) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE run_partitions SET state = $1, rows = $2, result = $3, finished_at = $4
			WHERE run_id = $5 AND bucket = $6 AND state <> $1`,
			partnerlink.PartitionDone, rows, result, at.UnixNano(), id, bucket); err != nil {
			return fmt.Errorf("store: finish partition: %w", err)
		}
		return nil
	})
}

// PartitionResults returns the results of the finished partitions.
func (d *DB) PartitionResults(ctx context.Context, id int64) (map[int][]byte, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT bucket, result FROM run_partitions WHERE run_id = $1 AND state = $2`, id, partnerlink.PartitionDone)
	if err != nil {
		return nil, fmt.Errorf("store: read partition results: %w", err)
	}
	defer rows.Close()
	out := map[int][]byte{}
	for rows.Next() {
		var b int
		var res []byte
		if err := rows.Scan(&b, &res); err != nil {
			return nil, fmt.Errorf("store: read partition results: %w", err)
		}
		out[b] = res
	}
	return out, rows.Err()
}

// FinishPartitionRun ends a run and lets go of the partitions' results
// (kept only until merged) and its spec.
func (d *DB) FinishPartitionRun(ctx context.Context, id int64, state, errText string, rows int64, at time.Time) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE partition_runs SET state = $1, error = $2, rows = $3, finished_at = $4, spec = $5 WHERE id = $6`,
			state, errText, rows, at.UnixNano(), []byte{}, id); err != nil {
			return fmt.Errorf("store: finish partitioned run: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE run_partitions SET result = NULL WHERE run_id = $1`, id); err != nil {
			return fmt.Errorf("store: finish partitioned run: %w", err)
		}
		return nil
	})
}

// AbandonPartitionRuns ends the old runs of a month left running.
func (d *DB) AbandonPartitionRuns(ctx context.Context, kind, month string, before, at time.Time) (int, error) {
	var n int64
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE partition_runs SET state = $1, error = $2, finished_at = $3, spec = $4
			WHERE kind = $5 AND month = $6 AND state = $7 AND created_at < $8`,
			partnerlink.RunFailed, "abandoned: its closing process stopped before the run ended", at.UnixNano(), []byte{},
			kind, month, partnerlink.RunRunning, before.UnixNano())
		if err != nil {
			return fmt.Errorf("store: abandon partitioned runs: %w", err)
		}
		n, _ = res.RowsAffected()
		// Partitions' results are kept only until their run ends, as
		// FinishPartitionRun lets go of them: so for the runs abandoned
		// now, and those a release before this rule abandoned.
		if _, err := tx.ExecContext(ctx, `UPDATE run_partitions SET result = NULL WHERE result IS NOT NULL AND run_id IN
			(SELECT id FROM partition_runs WHERE state <> $1)`, partnerlink.RunRunning); err != nil {
			return fmt.Errorf("store: let go of abandoned runs' results: %w", err)
		}
		return nil
	})
	return int(n), err
}

const partitionRunColumns = `id, kind, month, buckets, store, state, created_at, finished_at, error, rows`

// PartitionRun returns a run with its partitions; ENOTFOUND.
func (d *DB) PartitionRun(ctx context.Context, id int64) (*partnerlink.PartitionRun, error) {
	runs, err := d.partitionRuns(ctx, `WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, partnerlink.Errorf(partnerlink.ENOTFOUND, "no partitioned run %d: partnerlink runs list shows the runs", id)
	}
	r := &runs[0]
	rows, err := d.db.QueryContext(ctx, `SELECT bucket, state, rows, attempts, worker, started_at, finished_at FROM run_partitions
		WHERE run_id = $1 ORDER BY bucket`, id)
	if err != nil {
		return nil, fmt.Errorf("store: read run partitions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p partnerlink.RunPartition
		var started, finished sql.NullInt64
		if err := rows.Scan(&p.Bucket, &p.State, &p.Rows, &p.Attempts, &p.Worker, &started, &finished); err != nil {
			return nil, fmt.Errorf("store: read run partitions: %w", err)
		}
		p.StartedAt, p.FinishedAt = instant(started), instant(finished)
		r.Partitions = append(r.Partitions, p)
	}
	return r, rows.Err()
}

// PartitionRuns lists the latest runs, newest first, without partitions.
func (d *DB) PartitionRuns(ctx context.Context, n int) ([]partnerlink.PartitionRun, error) {
	return d.partitionRuns(ctx, `ORDER BY id DESC`+limit(n))
}

func (d *DB) partitionRuns(ctx context.Context, where string, args ...any) ([]partnerlink.PartitionRun, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+partitionRunColumns+` FROM partition_runs `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: read partitioned runs: %w", err)
	}
	defer rows.Close()
	var out []partnerlink.PartitionRun
	for rows.Next() {
		var r partnerlink.PartitionRun
		var created int64
		var finished sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Kind, &r.Month, &r.Buckets, &r.Store, &r.State, &created, &finished, &r.Error, &r.Rows); err != nil {
			return nil, fmt.Errorf("store: read partitioned runs: %w", err)
		}
		r.CreatedAt, r.FinishedAt = time.Unix(0, created).UTC(), instant(finished)
		out = append(out, r)
	}
	return out, rows.Err()
}
