package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/attribution"
	"github.com/partnerlink/partnerlink/bench/gen"
	"github.com/partnerlink/partnerlink/report"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/usage"
	"github.com/partnerlink/partnerlink/usagestore"
)

// scaleBench measures the two claims of docs/scale.md on the generated
// month: (1) reading the month from the partitioned Parquet store against
// one pass over the CSV file (time and bytes read, in process, the same
// credits asserted), and (2) a close on PostgreSQL with one worker process
// against two (the same rows, the same report bytes asserted).
func scaleBench(p gen.Params, dir, fromS string, repeat int, adminDSN string) error {
	self, worldPath, usagePath, bin, err := prepare(p, dir, fromS)
	if err != nil {
		return err
	}
	month := fromS[:7]
	data, err := emptyDir(filepath.Join(dir, "scale-sqlite"))
	if err != nil {
		return err
	}
	fmt.Println("import into SQLite (the usage is split into the store as it is imported):")
	if _, err := measure("import", os.DevNull, exec.Command(bin, "--data-dir", data, "import", worldPath, usagePath)); err != nil {
		return err
	}
	fmt.Println("\nthe month's usage, read in process: one pass over the CSV file / the partitions of the store (2 goroutines each):")
	passes := exec.Command(self, "-mode", "store-pass", "-dir", data, "-from", fromS, "-repeat", fmt.Sprint(repeat))
	passes.Stdout, passes.Stderr = os.Stdout, os.Stderr
	if err := passes.Run(); err != nil {
		return fmt.Errorf("store-pass: %w", err)
	}
	if adminDSN == "" {
		fmt.Println("\n(no -db: the workers' part needs a PostgreSQL admin URL)")
		return nil
	}

	dsn, drop, err := freshDatabase(adminDSN)
	if err != nil {
		return err
	}
	defer drop()
	pgData, err := emptyDir(filepath.Join(dir, "scale-postgres"))
	if err != nil {
		return err
	}
	fmt.Println("\nimport into PostgreSQL:")
	if _, err := measure("import", os.DevNull, exec.Command(bin, "--data-dir", pgData, "--db", dsn, "import", worldPath, usagePath)); err != nil {
		return err
	}
	db, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Println("\nclose on PostgreSQL, its partitions on N worker processes (1 partition at a time each); the closing process only coordinates:")
	phases := map[int][]time.Duration{}
	walls := map[int][]result{}
	for i := range repeat {
		for _, n := range []int{1, 2} {
			var workers []*exec.Cmd
			for w := range n {
				cmd := exec.Command(bin, "--data-dir", pgData, "--db", dsn, "worker", "--concurrency", "1", "--name", fmt.Sprintf("w%d", w))
				cmd.Stderr = nil
				if err := cmd.Start(); err != nil {
					return err
				}
				workers = append(workers, cmd)
			}
			time.Sleep(2 * time.Second) // the workers are listening
			out := filepath.Join(dir, fmt.Sprintf("scale-close-%d-%d.txt", n, i))
			r, err := measure(fmt.Sprintf("close, %d worker(s)", n), out, exec.Command(bin, "--data-dir", pgData, "--db", dsn, "close", "--month", month, "--early", "--work=false"))
			for _, w := range workers {
				w.Process.Signal(os.Interrupt)
				w.Wait()
			}
			if err != nil {
				return err
			}
			runs, err := db.PartitionRuns(context.Background(), 1)
			if err != nil || len(runs) != 1 {
				return fmt.Errorf("the close's run: %v", err)
			}
			run, err := db.PartitionRun(context.Background(), runs[0].ID)
			if err != nil {
				return err
			}
			phase := partitionPhase(run)
			fmt.Printf("  %-18s partitions from the first start to the last finish: %.2fs\n", "", phase.Seconds())
			phases[n], walls[n] = append(phases[n], phase), append(walls[n], r)
			b, err := os.ReadFile(out)
			if err != nil {
				return err
			}
			// The first close publishes version 1; every later one computes
			// the month again and must find its content byte for byte the same.
			if want := map[bool]string{true: "Published version 1 ", false: "Nothing changed in " + month + " since version 1"}[i == 0 && n == 1]; !bytes.Contains(b, []byte(want)) {
				return fmt.Errorf("close %d with %d worker(s): %s; want %q", i+1, n, b, want)
			}
		}
	}
	m1, m2 := median(walls[1]), median(walls[2])
	p1, p2 := medianDuration(phases[1]), medianDuration(phases[2])
	fmt.Printf("\nrows %d: two workers against one (medians of %d): close %.2f× faster (%.2fs → %.2fs), partitions %.2f× faster (%.2fs → %.2fs); report bytes identical\n",
		p.Rows, repeat, m1.wall.Seconds()/m2.wall.Seconds(), m1.wall.Seconds(), m2.wall.Seconds(), p1.Seconds()/p2.Seconds(), p1.Seconds(), p2.Seconds())
	return nil
}

// partitionPhase is the time from the first partition's start to the last
// one's finish.
func partitionPhase(r *partnerlink.PartitionRun) time.Duration {
	var first, last time.Time
	for _, p := range r.Partitions {
		if first.IsZero() || p.StartedAt.Before(first) {
			first = p.StartedAt
		}
		if p.FinishedAt.After(last) {
			last = p.FinishedAt
		}
	}
	return last.Sub(first)
}

func medianDuration(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// freshDatabase creates a throw-away database on the server of adminDSN.
func freshDatabase(adminDSN string) (string, func(), error) {
	adm, err := sql.Open("pgx", adminDSN)
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("plbench_%d", time.Now().UnixNano())
	if _, err := adm.Exec("CREATE DATABASE " + name); err != nil {
		adm.Close()
		return "", nil, err
	}
	u, err := url.Parse(adminDSN)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		adm.Exec("DROP DATABASE " + name + " WITH (FORCE)")
		adm.Close()
	}, nil
}

// storePass times, in process, the month's attribution read as one pass
// over the imported CSV file and as the partitions of the usage store,
// alternating, and checks that both credit the same.
func storePass(dataDir, fromS string, repeat int) error {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(dataDir, "partnerlink.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	month, err := partnerlink.ParseMonth(fromS[:7])
	if err != nil {
		return err
	}
	doc, err := db.ExportWorld(ctx)
	if err != nil {
		return err
	}
	ims, err := db.UsageImports(ctx, usage.FOCUS.Name, []string{month.String()})
	if err != nil {
		return err
	}
	start := time.Now()
	prep, err := report.Prepare(doc, month)
	if err != nil {
		return err
	}
	fmt.Printf("  the month's indexes: %.2fs (shared by both)\n", time.Since(start).Seconds())
	storeURL, err := usagestore.DefaultURL(dataDir)
	if err != nil {
		return err
	}
	store, err := usagestore.Open(ctx, storeURL, usagestore.DefaultBuckets)
	if err != nil {
		return err
	}
	defer store.Close()
	var csvBytes, storeBytes int64
	keys := make([][]string, store.Buckets)
	for _, im := range ims {
		path := filepath.Join(dataDir, im.Path)
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		csvBytes += st.Size()
		parts, err := store.Parts(ctx, db, im, path, time.Now())
		if err != nil {
			return err
		}
		for _, pt := range parts {
			if pt.Month == month.String() {
				keys[pt.Bucket] = append(keys[pt.Bucket], pt.Key)
				storeBytes += pt.Bytes
			}
		}
	}
	onePass := func() (*attribution.Result, error) {
		run, err := prep.Run(2)
		if err != nil {
			return nil, err
		}
		for _, im := range ims {
			f, err := os.Open(filepath.Join(dataDir, im.Path))
			if err != nil {
				return nil, err
			}
			err = run.Scan(f, im.Path)
			f.Close()
			if err != nil {
				return nil, err
			}
		}
		return run.Result(), nil
	}
	// The store read as a close on one process reads it (report.runLocal):
	// one run, each goroutine one of its workers taking the next bucket,
	// parts numbered in bucket order, then file order.
	first := make([]int, store.Buckets)
	nParts := 0
	for b := range keys {
		first[b], nParts = nParts, nParts+len(keys[b])
	}
	partitions := func() (*attribution.Result, error) {
		const workers = 2
		run, err := prep.Run(workers)
		if err != nil {
			return nil, err
		}
		next := make(chan int, store.Buckets)
		for b := range store.Buckets {
			next <- b
		}
		close(next)
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for b := range next {
					for i, key := range keys[b] {
						part, _, done, err := store.OpenPart(ctx, key, nil)
						if err != nil {
							errs[w] = err
							return
						}
						_, err = run.ScanAs(w, int64(first[b]+i), part, key)
						done()
						if err != nil {
							errs[w] = err
							return
						}
					}
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		return run.Result(), nil
	}
	var tCSV, tStore []time.Duration
	var want, got bytes.Buffer
	for i := range repeat {
		t0 := time.Now()
		a, err := onePass()
		if err != nil {
			return err
		}
		tCSV = append(tCSV, time.Since(t0))
		t0 = time.Now()
		b, err := partitions()
		if err != nil {
			return err
		}
		tStore = append(tStore, time.Since(t0))
		if i == 0 {
			a.WriteCSV(&want)
			b.WriteCSV(&got)
			if !bytes.Equal(want.Bytes(), got.Bytes()) {
				return errors.New("the partitions credit differently from the one pass")
			}
		}
		fmt.Printf("  run %d: CSV one pass %.2fs, store partitions %.2fs\n", i+1, tCSV[i].Seconds(), tStore[i].Seconds())
	}
	c, s := medianDuration(tCSV), medianDuration(tStore)
	fmt.Printf("  medians: CSV %.2fs reading %d MB; store %.2fs reading %d MB: %.2f× the time, %.3f× the bytes; credits identical\n",
		c.Seconds(), csvBytes>>20, s.Seconds(), storeBytes>>20, s.Seconds()/c.Seconds(), float64(storeBytes)/float64(csvBytes))
	return nil
}

// emptyDir makes dir an empty directory.
func emptyDir(dir string) (string, error) {
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	return dir, os.Mkdir(dir, 0o700)
}

// splitOnce splits a usage file into a usage store in dir (emptied first),
// as an import does, and prints the time it took (docs/scale.md; measure
// its memory with /usr/bin/time).
func splitOnce(usagePath, dir string) error {
	ctx := context.Background()
	if _, err := emptyDir(dir); err != nil {
		return err
	}
	store, err := usagestore.Open(ctx, "file://"+dir, usagestore.DefaultBuckets)
	if err != nil {
		return err
	}
	defer store.Close()
	f, err := os.Open(usagePath)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	parts, err := store.Split(ctx, "bench", f, filepath.Base(usagePath), false)
	if err != nil {
		return err
	}
	var bytes int64
	for _, p := range parts {
		bytes += p.Bytes
	}
	fmt.Printf("split %s into %d parts, %d MB, in %.2fs\n", usagePath, len(parts), bytes>>20, time.Since(start).Seconds())
	return nil
}
