package main

import (
	"context"
	"fmt"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/queue"
	"github.com/partnerlink/partnerlink/sqlstore"
)

func init() { commands = append(commands, newWorkerCmd, newRunsCmd) }

// openQueue opens the job queue on db's PostgreSQL database; workers > 0
// also starts working partitions.
func openQueue(ctx context.Context, m *Main, db *sqlstore.DB, workers int, name string) (*queue.Queue, error) {
	q, err := queue.Open(ctx, queue.Config{DSN: m.DSN, Store: db, Workers: workers, Name: name, Now: m.Now})
	if err != nil {
		return nil, err
	}
	if err := q.Start(ctx); err != nil {
		q.Close(ctx)
		return nil, err
	}
	return q, nil
}

// newWorkerCmd runs a worker of the job queue (docs/scale.md).
func newWorkerCmd(m *Main) *cobra.Command {
	var concurrency int
	var name string
	cmd := &cobra.Command{
		Use:   "worker --db postgres://…",
		Short: "Work partitions of closes from the production database's job queue until stopped",
		Long: `A worker takes partitions (month × subscription bucket) of closes from the job queue
(River, on the PostgreSQL database given with --db), reads their usage from the usage store
the run names, and stores each partition's result. Run as many as wanted, on as many machines;
stop one with Ctrl-C or SIGTERM (it finishes the partitions in hand). A worker that dies
mid-partition loses nothing: the partition is given to another worker. See docs/scale.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if m.DSN == "" {
				return partnerlink.Errorf(partnerlink.EINVALID, "worker: give the production database with --db postgres://… (env PARTNERLINK_DB); workers share its job queue")
			}
			// Checked before anything is opened: a path would be taken for
			// a SQLite database and created.
			if !strings.HasPrefix(m.DSN, "postgres://") && !strings.HasPrefix(m.DSN, "postgresql://") {
				return partnerlink.Errorf(partnerlink.EINVALID, "worker: --db must be a PostgreSQL URL (postgres://… or postgresql://…); workers share its job queue")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return withStoreCtx(ctx, m, func(ctx context.Context, db *sqlstore.DB) error {
				if db.Dialect() != sqlstore.Postgres {
					return partnerlink.Errorf(partnerlink.EINVALID, "worker: --db must be a PostgreSQL URL")
				}
				q, err := openQueue(ctx, m, db, concurrency, name)
				if err != nil {
					return err
				}
				fmt.Fprintf(m.Stderr, "partnerlink worker: working up to %d partitions at once; Ctrl-C stops\n", concurrency)
				<-ctx.Done()
				return q.Close(context.Background())
			})
		},
	}
	cmd.Flags().IntVar(&concurrency, "concurrency", 2, "partitions worked at once (about one per core)")
	cmd.Flags().StringVar(&name, "name", "", "this worker's name in runs show (default host/pid)")
	return cmd
}

// newRunsCmd lists partitioned runs and shows one's partitions.
func newRunsCmd(m *Main) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "Partitioned runs (closes split into partitions): their state, partitions, rows and progress",
	}
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List the latest partitioned runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				runs, err := db.PartitionRuns(ctx, limit)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tKIND\tMONTH\tSTATE\tPARTITIONS\tROWS\tSTARTED\tTOOK\tERROR")
				for _, r := range runs {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", r.ID, r.Kind, r.Month, r.State, r.Buckets, r.Rows,
						r.CreatedAt.Format(time.RFC3339), took(r.CreatedAt, r.FinishedAt), r.Error)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().IntVar(&limit, "limit", 20, "how many runs")
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a run's partitions: state, rows, attempts and worker",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return partnerlink.Errorf(partnerlink.EINVALID, "run ID %q: expected a number from partnerlink runs list", args[0])
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				r, err := db.PartitionRun(ctx, id)
				if err != nil {
					return err
				}
				done := 0
				var rows int64
				for _, p := range r.Partitions {
					if p.State == partnerlink.PartitionDone {
						done++
						rows += p.Rows
					}
				}
				fmt.Fprintf(m.Stdout, "Run %d: %s of %s, %s; %d of %d partitions done, %d of %d rows; store %s\n",
					r.ID, r.Kind, r.Month, r.State, done, len(r.Partitions), rows, r.Rows, r.Store)
				if r.Error != "" {
					fmt.Fprintf(m.Stdout, "Error: %s\n", r.Error)
				}
				tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "BUCKET\tSTATE\tROWS\tATTEMPTS\tWORKER\tTOOK")
				for _, p := range r.Partitions {
					fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%s\t%s\n", p.Bucket, p.State, p.Rows, p.Attempts, p.Worker, took(p.StartedAt, p.FinishedAt))
				}
				return tw.Flush()
			})
		},
	}
	cmd.AddCommand(list, show)
	return cmd
}

func took(from, to time.Time) string {
	if from.IsZero() || to.IsZero() {
		return "-"
	}
	return to.Sub(from).Round(time.Millisecond).String()
}
