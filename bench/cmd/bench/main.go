// Command bench compares `partnerlink attribute` with DuckDB SQL and with a
// bare encoding/csv scan on the same generated world and FOCUS file:
//
//	go run ./cmd/bench -rows 10000000
//
// It generates the data (or reuses out/<rows>/ when its parameters match),
// builds ../cmd/partnerlink, runs each contender as a subprocess (wall
// time and peak RSS from the child's rusage), asserts that DuckDB and
// partnerlink wrote byte-identical CSV, and prints the ratios and whether
// each target is met. partnerlink and the csv scan run -repeat times
// each, taking turns, and their medians are compared. The same binary is
// the DuckDB and the csv-scan subprocess (-mode duckdb, -mode csvscan).
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/partnerlink/partnerlink/bench/duck"
	"github.com/partnerlink/partnerlink/bench/gen"
)

func main() {
	var p gen.Params
	mode := flag.String("mode", "bench", "bench (the runner), close (the monthly close beside attribute), scale (the usage store and workers, docs/scale.md); gen, duckdb, toparquet, dictparquet, retypeparquet, int96parquet, csvscan, store-pass (their subprocesses) or split (-usage FILE -dir FOLDER: the usage store split alone, into an emptied FOLDER)")
	flag.IntVar(&p.Tenants, "tenants", 2000, "customer tenants")
	flag.IntVar(&p.AssignmentsPerTenant, "assignments", 100, "role assignments per customer tenant")
	flag.Int64Var(&p.Rows, "rows", 1_000_000, "usage rows")
	flag.Uint64Var(&p.Seed, "seed", 1, "random seed")
	dir := flag.String("dir", "", "data directory (default out/<rows>)")
	worldPath := flag.String("world", "", "world document (-mode duckdb)")
	usagePath := flag.String("usage", "", "usage CSV (-mode duckdb, csvscan)")
	fromS := flag.String("from", "2026-03-01", "first day (inclusive)")
	toS := flag.String("to", "2026-04-01", "last day (exclusive)")
	threads := flag.Int("threads", 2, "DuckDB threads (SET threads)")
	repeat := flag.Int("repeat", 3, "runs of partnerlink and of the csv scan, taking turns; their medians are compared")
	groupRows := flag.Int64("group-rows", 1<<20, "rows per row group (-mode dictparquet)")
	costType := flag.String("cost-type", "DOUBLE", "the SQL type of the costs (-mode retypeparquet)")
	adminDSN := flag.String("db", "", "PostgreSQL admin URL for -mode scale (a throw-away database is created on it)")
	flag.Parse()
	from, err1 := time.Parse("2006-01-02", *fromS)
	to, err2 := time.Parse("2006-01-02", *toS)
	if err := errors.Join(err1, err2); err != nil {
		log.Fatal(err)
	}
	switch *mode {
	case "duckdb", "duckdb-tuned":
		run := duck.Run
		if *mode == "duckdb-tuned" {
			run = duck.RunTuned
		}
		err := run(context.Background(), duck.Options{World: *worldPath, Usage: *usagePath, From: from, To: to, Threads: *threads, Log: os.Stderr}, os.Stdout)
		if err != nil {
			log.Fatalf("duckdb: %v", err)
		}
	case "toparquet":
		if err := duck.ToParquetFile(context.Background(), *usagePath, *dir); err != nil {
			log.Fatalf("toparquet: %v", err)
		}
	case "retypeparquet":
		if err := duck.ToParquetCostsAs(context.Background(), *usagePath, *dir, *costType); err != nil {
			log.Fatalf("retypeparquet: %v", err)
		}
	case "int96parquet":
		if err := int96Parquet(*usagePath, *dir); err != nil {
			log.Fatalf("int96parquet: %v", err)
		}
	case "dictparquet":
		if err := dictParquet(*usagePath, *dir, *groupRows); err != nil {
			log.Fatalf("dictparquet: %v", err)
		}
	case "csvscan":
		if err := csvScan(*usagePath); err != nil {
			log.Fatalf("csvscan: %v", err)
		}
	case "store-pass":
		if err := storePass(*dir, *fromS, max(1, *repeat)); err != nil {
			log.Fatalf("store-pass: %v", err)
		}
	case "split":
		if err := splitOnce(*usagePath, *dir); err != nil {
			log.Fatalf("split: %v", err)
		}
	case "scale":
		p.Month = from
		if *dir == "" {
			*dir = filepath.Join("out", fmt.Sprint(p.Rows))
		}
		if err := scaleBench(p, *dir, *fromS, max(1, *repeat), *adminDSN); err != nil {
			log.Fatal(err)
		}
	case "gen":
		p.Month = from
		start := time.Now()
		st, err := gen.Generate(*dir, p)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("  %s in %s\n", st, time.Since(start).Round(time.Millisecond))
	case "bench", "close":
		p.Month = from
		if *dir == "" {
			*dir = filepath.Join("out", fmt.Sprint(p.Rows))
		}
		run := bench
		if *mode == "close" {
			run = func(p gen.Params, dir, fromS, toS string, _, repeat int) error {
				return closeBench(p, dir, fromS, toS, repeat)
			}
		}
		if err := run(p, *dir, *fromS, *toS, *threads, max(1, *repeat)); err != nil {
			log.Fatal(err)
		}
	default:
		log.Fatalf("unknown -mode %q", *mode)
	}
}

// csvScan reads every record with encoding/csv (ReuseRecord) and touches
// every byte of every field, the floor for any CSV-reading attribution.
func csvScan(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	r.ReuseRecord = true
	var rows, sum int64
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		rows++
		for _, field := range rec {
			for i := 0; i < len(field); i++ {
				sum += int64(field[i])
			}
		}
	}
	fmt.Printf("%d records, byte sum %d\n", rows, sum)
	return nil
}

type result struct {
	name  string
	wall  time.Duration
	cpu   time.Duration
	rssKB int64
	// steal is the CPU time the machine's hypervisor took from it while
	// cmd ran (all cores): on a shared machine the sign of a noisy sample.
	steal time.Duration
}

// stealTime reads the machine's total steal time from /proc/stat (zero
// where there is none).
func stealTime() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line)) // cpu user nice system idle iowait irq softirq steal …
	if len(f) < 9 {
		return 0
	}
	ticks, _ := strconv.ParseInt(f[8], 10, 64)
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

// median returns the sample with the median wall time and the highest
// peak RSS of all samples.
func median(rs []result) result {
	sorted := slices.Clone(rs)
	slices.SortFunc(sorted, func(a, b result) int { return cmp.Compare(a.wall, b.wall) })
	m := sorted[len(sorted)/2]
	for _, r := range rs {
		m.rssKB = max(m.rssKB, r.rssKB)
	}
	return m
}

// measure runs cmd to completion with stdout to outPath, and reports its
// wall time and its peak RSS (ru_maxrss of the child, in KiB on Linux).
func measure(name, outPath string, cmd *exec.Cmd) (result, error) {
	out, err := os.Create(outPath)
	if err != nil {
		return result{}, err
	}
	defer out.Close()
	var stderr bytes.Buffer
	cmd.Stdout = out
	cmd.Stderr = &stderr
	steal0 := stealTime()
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	steal := stealTime() - steal0
	os.Stderr.Write(stderr.Bytes())
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", name, err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Printf("  %-18s %7.2fs wall %7.2fs cpu %6.0f MiB peak RSS %6.2fs stolen\n", name, wall.Seconds(), cpu.Seconds(), float64(ru.Maxrss)/1024, steal.Seconds())
	return result{name: name, wall: wall, cpu: cpu, rssKB: ru.Maxrss, steal: steal}, nil
}

// prepare generates the world and usage of p in dir (unless they are up to
// date) and builds partnerlink; it returns the runner's own path, the
// world, the usage and the binary.
func prepare(p gen.Params, dir, fromS string) (self, worldPath, usagePath, bin string, err error) {
	if self, err = os.Executable(); err != nil {
		return
	}
	worldPath, usagePath = filepath.Join(dir, "world.json"), filepath.Join(dir, "usage.csv")
	if gen.UpToDate(dir, p) {
		fmt.Printf("reusing %s (%s)\n", dir, p)
	} else {
		// In a subprocess: a child's peak RSS on Linux starts from its
		// parent's at exec, so the runner itself must stay small.
		fmt.Printf("generating %s (%s)\n", dir, p)
		g := exec.Command(self, "-mode", "gen", "-dir", dir, "-rows", fmt.Sprint(p.Rows), "-tenants", fmt.Sprint(p.Tenants),
			"-assignments", fmt.Sprint(p.AssignmentsPerTenant), "-seed", fmt.Sprint(p.Seed), "-from", fromS)
		g.Stdout, g.Stderr = os.Stdout, os.Stderr
		if err = g.Run(); err != nil {
			err = fmt.Errorf("generate: %w", err)
			return
		}
	}
	if bin, err = filepath.Abs(filepath.Join("out", "partnerlink")); err != nil {
		return
	}
	build := exec.Command("go", "build", "-o", bin, "./cmd/partnerlink")
	build.Dir = ".."
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err = build.Run(); err != nil {
		err = fmt.Errorf("build partnerlink: %w", err)
	}
	return
}

func bench(p gen.Params, dir, fromS, toS string, threads, repeat int) error {
	self, worldPath, usagePath, bin, err := prepare(p, dir, fromS)
	if err != nil {
		return err
	}
	fi, err := os.Stat(usagePath)
	if err != nil {
		return err
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("usage file %s: %.0f MB; GOMAXPROCS %d; load before: %s", usagePath, float64(fi.Size())/1e6, runtime.GOMAXPROCS(0), load)

	// Warm the page cache so that the first contender does not pay for
	// the disk alone.
	if _, err := measure("warm-up csv scan", os.DevNull, exec.Command(self, "-mode", "csvscan", "-usage", usagePath)); err != nil {
		return err
	}
	// The same rows as Parquet, typed as a cost export's parts are.
	parquetPath := filepath.Join(dir, "usage.parquet")
	if _, err := os.Stat(parquetPath); err != nil {
		if _, err := measure("write usage.parquet", os.DevNull, exec.Command(self, "-mode", "toparquet", "-usage", usagePath, "-dir", parquetPath)); err != nil {
			return err
		}
	}
	// And again as Arrow and parquet-mr write by default: dictionaries
	// that fill up and go on in plain pages (docs/performance.md,
	// "Parquet as other writers make it").
	dictPath := filepath.Join(dir, "usage-dict.parquet")
	if _, err := os.Stat(dictPath); err != nil {
		if _, err := measure("write usage-dict.parquet", os.DevNull, exec.Command(self, "-mode", "dictparquet", "-usage", parquetPath, "-dir", dictPath)); err != nil {
			return err
		}
	}
	plOut, pqOut, duckOut := filepath.Join(dir, "partnerlink.csv"), filepath.Join(dir, "partnerlink-parquet.csv"), filepath.Join(dir, "duckdb.csv")
	// partnerlink (on CSV and on Parquet) and the scan take turns, repeat
	// times each, and the medians are compared: on a shared machine one
	// sample of each can land in a noisy second (see the stolen time).
	// Each partnerlink contender reads the world document every time
	// (--index-cache off), and again with the index snapshot its first
	// run kept (docs/performance.md, "Index snapshots").
	cache := filepath.Join(dir, "index-cache")
	if err := os.RemoveAll(cache); err != nil {
		return err
	}
	attribute := func(name, out, usage, cache string) (result, error) {
		return measure(name, out, exec.Command(bin, "attribute", "--world", worldPath, "--usage", usage, "--from", fromS, "--to", toS, "--index-cache", cache))
	}
	snapOut, snapPqOut := filepath.Join(dir, "partnerlink-snapshot.csv"), filepath.Join(dir, "partnerlink-parquet-snapshot.csv")
	if _, err := attribute("keep the index snapshot", snapOut, usagePath, cache); err != nil {
		return err
	}
	// The fair peer takes its turns too: DuckDB written the way it is fast,
	// on CSV and on Parquet (duck.RunTuned); its output must be
	// partnerlink's.
	tunedOut, tunedPqOut := filepath.Join(dir, "duckdb-tuned.csv"), filepath.Join(dir, "duckdb-tuned-parquet.csv")
	tuned := func(name, out, usage string) (result, error) {
		return measure(name, out, exec.Command(self, "-mode", "duckdb-tuned", "-world", worldPath, "-usage", usage, "-from", fromS, "-to", toS, "-threads", fmt.Sprint(threads)))
	}
	dictOut, tunedDictOut := filepath.Join(dir, "partnerlink-dict-parquet.csv"), filepath.Join(dir, "duckdb-tuned-dict-parquet.csv")
	var pls, pqs, snaps, snapPqs, scans, dts, dtps, dicts, dtds []result
	for range repeat {
		pl, err := attribute("partnerlink", plOut, usagePath, "off")
		if err != nil {
			return err
		}
		pq, err := attribute("partnerlink parquet", pqOut, parquetPath, "off")
		if err != nil {
			return err
		}
		snap, err := attribute("pl, snapshot", snapOut, usagePath, cache)
		if err != nil {
			return err
		}
		snapPq, err := attribute("pl parquet, snapshot", snapPqOut, parquetPath, cache)
		if err != nil {
			return err
		}
		scan, err := measure("encoding/csv scan", os.DevNull, exec.Command(self, "-mode", "csvscan", "-usage", usagePath))
		if err != nil {
			return err
		}
		dt, err := tuned("duckdb tuned", tunedOut, usagePath)
		if err != nil {
			return err
		}
		dtp, err := tuned("duckdb tuned parquet", tunedPqOut, parquetPath)
		if err != nil {
			return err
		}
		dict, err := attribute("pl dict parquet, snap.", dictOut, dictPath, cache)
		if err != nil {
			return err
		}
		dtd, err := tuned("duckdb tuned dict pq", tunedDictOut, dictPath)
		if err != nil {
			return err
		}
		pls, pqs, snaps, snapPqs, scans = append(pls, pl), append(pqs, pq), append(snaps, snap), append(snapPqs, snapPq), append(scans, scan)
		dts, dtps, dicts, dtds = append(dts, dt), append(dtps, dtp), append(dicts, dict), append(dtds, dtd)
	}
	pl, pq, snap, snapPq, scan := median(pls), median(pqs), median(snaps), median(snapPqs), median(scans)
	dt, dtp, dict, dtd := median(dts), median(dtps), median(dicts), median(dtds)
	pqSame, _, pqDiff := compareFiles(plOut, pqOut)
	snapSame, _, snapDiff := compareFiles(plOut, snapOut)
	snapPqSame, _, snapPqDiff := compareFiles(plOut, snapPqOut)
	dk, err := measure("duckdb", duckOut, exec.Command(self, "-mode", "duckdb", "-world", worldPath, "-usage", usagePath, "-from", fromS, "-to", toS, "-threads", fmt.Sprint(threads)))
	if err != nil {
		return err
	}
	tunedSame, _, tunedDiff := compareFiles(plOut, tunedOut)
	tunedPqSame, _, tunedPqDiff := compareFiles(plOut, tunedPqOut)
	dictSame, _, dictDiff := compareFiles(plOut, dictOut)
	tunedDictSame, _, tunedDictDiff := compareFiles(plOut, tunedDictOut)
	load, _ = os.ReadFile("/proc/loadavg")

	same, rows, diff := compareFiles(plOut, duckOut)
	fmt.Printf("\nrows %d, tenants %d, DuckDB SET threads=%d, load after: %s", p.Rows, p.Tenants, threads, load)
	fmt.Printf("%-20s %10s %10s %10s %10s\n", "", "wall", "cpu", "peak RSS", "stolen")
	for _, r := range []result{pl, pq, snap, snapPq, dict, dk, dt, dtp, dtd, scan} {
		fmt.Printf("%-20s %9.2fs %9.2fs %7.0f MiB %9.2fs\n", r.name, r.wall.Seconds(), r.cpu.Seconds(), float64(r.rssKB)/1024, r.steal.Seconds())
	}
	if repeat > 1 {
		fmt.Printf("(partnerlink, the tuned DuckDB and the csv scan: the median of %d runs each, taking turns)\n", repeat)
	}
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "MISS"
	}
	fmt.Printf("output: partnerlink and DuckDB CSV %s (%d credit rows)%s\n", map[bool]string{true: "identical", false: "DIFFER"}[same], rows, diff)
	rDuck := dk.wall.Seconds() / pl.wall.Seconds()
	rScan := pl.wall.Seconds() / scan.wall.Seconds()
	fmt.Printf("DuckDB / partnerlink time:      %.2f×  (target ≥ 3×)    %s\n", rDuck, verdict(rDuck >= 3))
	fmt.Printf("partnerlink / csv scan time:    %.2f×  (target ≤ 1.5×)  %s\n", rScan, verdict(rScan <= 1.5))
	fmt.Printf("partnerlink peak RSS:           %.0f MiB (target < 1024) %s\n", float64(pl.rssKB)/1024, verdict(pl.rssKB < 1<<20))
	rPq := pq.wall.Seconds() / pl.wall.Seconds()
	fmt.Printf("partnerlink Parquet / CSV time: %.2f×  (target ≤ 0.6×)  %s\n", rPq, verdict(rPq <= 0.6))
	fmt.Printf("partnerlink Parquet peak RSS:   %.0f MiB (target < 512) %s\n", float64(pq.rssKB)/1024, verdict(pq.rssKB < 512<<10))
	rTuned, rTunedPq := dt.wall.Seconds()/pl.wall.Seconds(), dtp.wall.Seconds()/pq.wall.Seconds()
	fmt.Printf("tuned DuckDB / partnerlink, CSV:     %.2f×  (target ≥ 3×)  %s\n", rTuned, verdict(rTuned >= 3))
	fmt.Printf("tuned DuckDB / partnerlink, Parquet: %.2f×  (target ≥ 3×)  %s\n", rTunedPq, verdict(rTunedPq >= 3))
	fmt.Printf("partnerlink / csv scan time (issue 17): %.2f×  (target ≤ 0.8×)  %s\n", rScan, verdict(rScan <= 0.8))
	rSnap, rSnapPq, rSnapScan := dt.wall.Seconds()/snap.wall.Seconds(), dtp.wall.Seconds()/snapPq.wall.Seconds(), snap.wall.Seconds()/scan.wall.Seconds()
	fmt.Printf("with the index snapshot: tuned DuckDB / partnerlink CSV %.2f×, Parquet %.2f×; partnerlink / csv scan %.2f×; Parquet / CSV %.2f×\n",
		rSnap, rSnapPq, rSnapScan, snapPq.wall.Seconds()/snap.wall.Seconds())
	fmt.Printf("Parquet as Arrow writes it (dictionaries that fill up), with the snapshot: Parquet / CSV %.2f×, tuned DuckDB / partnerlink %.2f×, peak RSS %.0f MiB\n",
		dict.wall.Seconds()/snap.wall.Seconds(), dtd.wall.Seconds()/dict.wall.Seconds(), float64(dict.rssKB)/1024)
	fmt.Printf("index snapshot output = CSV output: CSV %s%s, Parquet %s%s, Parquet as Arrow writes it %s%s\n", verdict(snapSame), snapDiff, verdict(snapPqSame), snapPqDiff, verdict(dictSame), dictDiff)
	fmt.Printf("tuned DuckDB output = partnerlink's:  CSV %s%s, Parquet %s%s, Parquet as Arrow writes it %s%s\n", verdict(tunedSame), tunedDiff, verdict(tunedPqSame), tunedPqDiff, verdict(tunedDictSame), tunedDictDiff)
	fmt.Printf("equal rows and sums:            %s\n", verdict(same))
	fmt.Printf("Parquet output = CSV output:    %s%s\n", verdict(pqSame), pqDiff)
	if !same {
		return fmt.Errorf("partnerlink and DuckDB disagree; see %s and %s", plOut, duckOut)
	}
	if !snapSame || !snapPqSame || !dictSame {
		return fmt.Errorf("partnerlink with its index snapshot disagrees; see %s, %s, %s and %s", plOut, snapOut, snapPqOut, dictOut)
	}
	if !pqSame {
		return fmt.Errorf("partnerlink on Parquet and on CSV disagree; see %s and %s", plOut, pqOut)
	}
	if !tunedSame || !tunedPqSame || !tunedDictSame {
		return fmt.Errorf("the tuned DuckDB and partnerlink disagree; see %s, %s, %s and %s", plOut, tunedOut, tunedPqOut, tunedDictOut)
	}
	if p.Rows <= 1_000_000 {
		return writerVariants(dir, parquetPath, plOut, func(usage, out string) error {
			_, err := attribute("attribute "+filepath.Base(usage), out, usage, cache)
			return err
		})
	}
	return nil
}

// writerVariants checks, on small worlds (make check, make bench-1m),
// that the usage read as Parquet files other writers may make — every
// codec, data pages V1 and V2, amounts as DECIMAL and as DOUBLE — credits
// as the CSV does (docs/rules.md, "Usage input"): parquet-go v0.32.0 read some
// LZ4_RAW pages wrong without an error.
func writerVariants(dir, parquetPath, plOut string, attribute func(usage, out string) error) error {
	vdir := filepath.Join(dir, "variants")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}
	n := 0
	for _, version := range []string{"V1", "V2"} {
		for _, codec := range []string{"uncompressed", "snappy", "gzip", "zstd", "lz4", "brotli"} {
			for _, double := range []bool{false, true} {
				name := version + "-" + codec
				if double {
					name += "-double"
				}
				usage, out := filepath.Join(vdir, name+".parquet"), filepath.Join(vdir, name+".csv")
				if err := duck.ToParquetVariant(context.Background(), parquetPath, usage, codec, version, double); err != nil {
					return err
				}
				if err := attribute(usage, out); err != nil {
					return err
				}
				if same, _, diff := compareFiles(plOut, out); !same {
					return fmt.Errorf("partnerlink on %s and on the CSV disagree:%s", usage, diff)
				}
				n++
			}
		}
	}
	fmt.Printf("Parquet as other writers may make it (%d files: 6 codecs, pages V1 and V2, DECIMAL and DOUBLE amounts) = CSV output: PASS\n", n)
	return os.RemoveAll(vdir)
}

// compareFiles compares two CSV files line by line and describes the first
// differences.
func compareFiles(a, b string) (bool, int, string) {
	fa, err1 := os.ReadFile(a)
	fb, err2 := os.ReadFile(b)
	if err := errors.Join(err1, err2); err != nil {
		return false, 0, ": " + err.Error()
	}
	la, lb := strings.Split(string(fa), "\n"), strings.Split(string(fb), "\n")
	var d strings.Builder
	shown := 0
	for i := 0; i < max(len(la), len(lb)) && shown < 10; i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			fmt.Fprintf(&d, "\n  line %d\n    partnerlink: %s\n    duckdb:      %s", i+1, x, y)
			shown++
		}
	}
	return bytes.Equal(fa, fb), len(la) - 2, d.String()
}

// closeBench measures the monthly close of the generated month end to end
// on a data directory (the world and usage imported first, timed apart),
// beside partnerlink attribute on the same files: the first close
// publishes version 1; the later ones compute the month again and find
// nothing changed.
func closeBench(p gen.Params, dir, fromS, toS string, repeat int) error {
	_, worldPath, usagePath, bin, err := prepare(p, dir, fromS)
	if err != nil {
		return err
	}
	data := filepath.Join(dir, "data")
	if err := os.RemoveAll(data); err != nil {
		return err
	}
	if err := os.Mkdir(data, 0o700); err != nil {
		return err
	}
	month := fromS[:7]
	if _, err := measure("import", os.DevNull, exec.Command(bin, "--data-dir", data, "import", worldPath, usagePath)); err != nil {
		return err
	}
	// The import's 2.6 GB are written back to disk now, not while the
	// first close runs.
	syscall.Sync()
	var attrs, closes []result
	for i := range repeat {
		// The close reads its world from the store each time: so does
		// attribute here (no index snapshot).
		a, err := measure("attribute", os.DevNull, exec.Command(bin, "attribute", "--world", worldPath, "--usage", usagePath, "--from", fromS, "--to", toS, "--index-cache", "off"))
		if err != nil {
			return err
		}
		name := "close (publishes)"
		if i > 0 {
			name = "close (unchanged)"
		}
		c, err := measure(name, filepath.Join(dir, "close.txt"), exec.Command(bin, "--data-dir", data, "close", "--month", month, "--early"))
		if err != nil {
			return err
		}
		attrs, closes = append(attrs, a), append(closes, c)
	}
	a := median(attrs)
	fmt.Printf("\nrows %d, tenants %d: the first close published version 1; the others computed the month again\n", p.Rows, p.Tenants)
	for i, c := range closes {
		fmt.Printf("close %d / attribute (median):  %.2f× time, %.2f× peak RSS (%0.f MiB vs %0.f MiB)\n", i+1,
			c.wall.Seconds()/a.wall.Seconds(), float64(c.rssKB)/float64(a.rssKB), float64(c.rssKB)/1024, float64(a.rssKB)/1024)
	}
	return nil
}
