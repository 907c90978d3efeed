// Command profile runs the attribution engine's API on a world and usage
// file, as `partnerlink attribute` does, timing each phase and writing a
// CPU profile (the attribute command has no -cpuprofile flag):
//
//	go run ./cmd/profile -world out/1000000/world.json -usage out/1000000/usage.csv -cpuprofile out/cpu.prof
//	go tool pprof -top out/cpu.prof
//
// With -close it profiles the monthly close of 2026-03 on a data directory
// that make close has filled (the close command has no -cpuprofile flag either):
//
//	go run ./cmd/profile -close out/10000000/data -cpuprofile out/close.prof
//
// With -preload it reads every usage row into memory first and then times
// the engine alone on them, on one worker (attribution.Run.Add), for the
// share of a run that is not reading (compare -workers 1 without it):
//
//	go run ./cmd/profile -world out/10000000/world.json -usage out/10000000/usage.parquet -preload
//
// With -close and -phases it runs the close's steps one by one and times
// each (it publishes nothing):
//
//	go run ./cmd/profile -close out/10000000/data -phases
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/attribution"
	"github.com/partnerlink/partnerlink/focus"
	"github.com/partnerlink/partnerlink/report"
	"github.com/partnerlink/partnerlink/server"
)

func main() {
	worldPath := flag.String("world", "", "world document")
	usagePath := flag.String("usage", "", "usage file")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here")
	memprofile := flag.String("memprofile", "", "write a heap profile here (after the scan)")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "engine workers")
	closeDir := flag.String("close", "", "profile the close of 2026-03 on this data directory")
	phases := flag.Bool("phases", false, "with -close: time the close's steps one by one (publishes nothing)")
	indexCache := flag.String("index-cache", "", "read the world's index snapshot from this folder (as partnerlink attribute --index-cache)")
	preload := flag.Bool("preload", false, "read the usage rows into memory first, then time the engine alone on one worker")
	flag.Parse()
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 1, 0)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	t, cpu := time.Now(), cpuTime()
	phase := func(name string) {
		c := cpuTime()
		fmt.Fprintf(os.Stderr, "%-14s %7.3fs cpu %6.3fs %s\n", name, time.Since(t).Seconds(), (c - cpu).Seconds(), peakRSS())
		t, cpu = time.Now(), c
	}
	if *closeDir != "" && *phases {
		closePhases(*closeDir, *workers, phase, *memprofile)
		return
	}
	if *closeDir != "" {
		profileClose(*closeDir, *workers)
		phase("Close")
		writeHeapProfile(*memprofile)
		return
	}
	// As partnerlink attribute does: decode, then check and index at once,
	// or read the index snapshot in -index-cache.
	ix, err := attribution.ReadIndexFile(*worldPath, *indexCache)
	if err != nil {
		log.Fatal(err)
	}
	phase("ReadIndex")
	debug.FreeOSMemory() // as partnerlink attribute does
	phase("FreeOSMemory")
	if *preload {
		rows := preloadRows(*usagePath)
		phase("Preload")
		*workers = 1
		run, err := attribution.NewRun(ix, attribution.Options{From: from, To: to, Workers: 1})
		if err != nil {
			log.Fatal(err)
		}
		for i := range rows {
			if err := run.Add(0, &rows[i]); err != nil {
				log.Fatal(err)
			}
		}
		phase("Engine")
		if err := run.Result().WriteCSV(io.Discard); err != nil {
			log.Fatal(err)
		}
		phase("Result+CSV")
		return
	}
	run, err := attribution.NewRun(ix, attribution.Options{From: from, To: to, Workers: *workers})
	if err != nil {
		log.Fatal(err)
	}
	uf, err := os.Open(*usagePath)
	if err != nil {
		log.Fatal(err)
	}
	err = run.Scan(uf, *usagePath)
	uf.Close()
	if err != nil {
		log.Fatal(err)
	}
	phase("Scan")
	res := run.Result()
	phase("Result")
	if err := res.WriteCSV(io.Discard); err != nil {
		log.Fatal(err)
	}
	phase("WriteCSV")
	writeHeapProfile(*memprofile)
}

// preloadRows reads every row of the usage file into memory, each row's
// texts copied out of the reader's buffers.
func preloadRows(path string) []focus.Row {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	var rows []focus.Row
	err = focus.Scan(f, path, focus.Options{Workers: 1}, func(_ int, row *focus.Row) error {
		c := *row
		c.ChargeCategory = bytes.Clone(row.ChargeCategory)
		c.ResourceID = bytes.Clone(row.ResourceID)
		c.ServiceName = bytes.Clone(row.ServiceName)
		c.BillingCurrency = bytes.Clone(row.BillingCurrency)
		c.ResourceRef = 0 // the reader's dictionaries are gone
		rows = append(rows, c)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	return rows
}

// writeHeapProfile writes a heap profile to path unless it is "" (its
// alloc_space view shows what a close allocated).
func writeHeapProfile(path string) {
	if path == "" {
		return
	}
	mf, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	runtime.GC() // the in-use view is what is live now
	pprof.WriteHeapProfile(mf)
	mf.Close()
}

// closeService opens the store of dataDir for a close of 2026-03; done
// closes it.
func closeService(ctx context.Context, dataDir string, workers int) (s *report.Service, month partnerlink.Month, done func()) {
	db, err := server.OpenStore(ctx, dataDir, "")
	if err != nil {
		log.Fatal(err)
	}
	month, _ = partnerlink.ParseMonth("2026-03")
	return &report.Service{Store: db, DataDir: dataDir, Workers: workers}, month, func() { db.Close() }
}

// profileClose closes 2026-03 on dataDir early, as partnerlink close does.
func profileClose(dataDir string, workers int) {
	ctx := context.Background()
	s, month, done := closeService(ctx, dataDir, workers)
	defer done()
	closed, err := s.Close(ctx, month, true)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "version %d published=%v\n", closed.Version.Version, closed.Published)
}

// closePhases runs the steps of a close of 2026-03 on dataDir one by one,
// timing each: the attributions on the stored state, the content, its
// JSON, its hash and its compression as the store keeps it. A heap
// profile (memprofile) is taken once the inputs are read.
func closePhases(dataDir string, workers int, phase func(string), memprofile string) {
	ctx := context.Background()
	s, month, done := closeService(ctx, dataDir, workers)
	defer done()
	s.Step = func(name string, took time.Duration) {
		fmt.Fprintf(os.Stderr, "  %-40s %7.3fs %s\n", name, took.Seconds(), peakRSS())
	}
	phase("Open")
	in, err := s.Inputs(ctx, month)
	if err != nil {
		log.Fatal(err)
	}
	phase("Inputs")
	writeHeapProfile(memprofile) // what the content is built from
	// As the close does (report.Service.compute): the grants go, and a
	// collection returns the scan's garbage before Build.
	in.Index.DropGrants()
	if in.WhatIfIndex != nil {
		in.WhatIfIndex.DropGrants()
	}
	debug.FreeOSMemory()
	c, err := report.Build(*in)
	if err != nil {
		log.Fatal(err)
	}
	debug.FreeOSMemory()
	phase("Build")
	// As the close does: hashed and compressed as it is encoded.
	gz, _, err := report.Compressed(c)
	if err != nil {
		log.Fatal(err)
	}
	phase("Encode+SHA+gzip")
	fmt.Fprintf(os.Stderr, "%d Azure lines; stored %d bytes\n", len(c.Azure), len(gz))
}

// cpuTime is the CPU the process has used so far, user and system.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// peakRSS is the process's peak resident memory since the last call
// (Linux: VmHWM, then reset through clear_refs), or "" elsewhere.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return fmt.Sprintf("peak %4d MiB", kb>>10)
		}
	}
	return ""
}
