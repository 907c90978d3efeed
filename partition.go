package partnerlink

import (
	"context"
	"time"
)

// UsagePart is the rows of one imported usage file that fall in one month
// and one subscription bucket, kept as a Parquet object in the partitioned
// usage store (docs/scale.md).
type UsagePart struct {
	Hash   string // the imported file's content hash
	Month  string // YYYY-MM of ChargePeriodStart
	Bucket int
	Key    string // the object's key in the store
	Rows   int64
	Bytes  int64
}

// The states of a partitioned run and of its partitions.
const (
	RunRunning = "running"
	RunDone    = "done"
	RunFailed  = "failed"

	PartitionQueued  = "queued"
	PartitionRunning = "running"
	PartitionDone    = "done"
)

// PartitionRun is a close split into partitions (month × subscription
// bucket), run on goroutines or by workers (docs/scale.md).
type PartitionRun struct {
	ID         int64
	Kind       string // "close"
	Month      string
	Buckets    int
	Store      string // the usage store's URL, as shown
	State      string
	CreatedAt  time.Time
	FinishedAt time.Time
	Error      string
	Rows       int64 // usage rows in the run's partitions
	Partitions []RunPartition
}

// RunPartition is one partition's progress.
type RunPartition struct {
	Bucket     int
	State      string
	Rows       int64
	Attempts   int
	Worker     string
	StartedAt  time.Time
	FinishedAt time.Time
}

// PartitionStore keeps the usage store's index and the partitioned runs.
type PartitionStore interface {
	// UsageParts returns the parts of a file split in store with buckets
	// buckets; false when it was not split there yet.
	UsageParts(ctx context.Context, store string, buckets int, hash string) ([]UsagePart, bool, error)
	// RecordUsageSplit records that a file was split into parts; recording
	// it again changes nothing.
	RecordUsageSplit(ctx context.Context, store string, buckets int, hash string, parts []UsagePart, at time.Time) error
	// CreatePartitionRun records a running run with its partitions queued
	// and its spec (the inputs its workers read); it returns the run's ID.
	CreatePartitionRun(ctx context.Context, r PartitionRun, spec []byte) (int64, error)
	PartitionRunSpec(ctx context.Context, id int64) ([]byte, error)
	// StartPartition notes that worker started (again) on a partition.
	StartPartition(ctx context.Context, id int64, bucket int, worker string, at time.Time) error
	// FinishPartition stores a partition's result; a partition finished
	// before keeps its first result (a retried job computes the same).
	FinishPartition(ctx context.Context, id int64, bucket int, rows int64, result []byte, at time.Time) error
	// PartitionResults returns the results of the finished partitions.
	PartitionResults(ctx context.Context, id int64) (map[int][]byte, error)
	FinishPartitionRun(ctx context.Context, id int64, state, errText string, rows int64, at time.Time) error
	// AbandonPartitionRuns marks failed the runs of a kind and month still
	// running that were created before before (their closing process died),
	// and lets go of their specs; it returns how many.
	AbandonPartitionRuns(ctx context.Context, kind, month string, before, at time.Time) (int, error)
	PartitionRun(ctx context.Context, id int64) (*PartitionRun, error)    // ENOTFOUND
	PartitionRuns(ctx context.Context, limit int) ([]PartitionRun, error) // newest first
}
