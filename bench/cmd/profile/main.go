// Command profile runs the attribution engine's API on a world and usage
// file, as `partnerlink attribute` does, timing each phase and writing a
// CPU profile (the attribute command has no -cpuprofile flag):
//
//	go run ./cmd/profile -world out/1000000/world.json -usage out/1000000/usage.csv -cpuprofile out/cpu.prof
//	go tool pprof -top out/cpu.prof
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/partnerlink/partnerlink/attribution"
)

func main() {
	worldPath := flag.String("world", "", "world document")
	usagePath := flag.String("usage", "", "usage file")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here")
	memprofile := flag.String("memprofile", "", "write a heap profile here (after the scan)")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "engine workers")
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
	t := time.Now()
	phase := func(name string) {
		fmt.Fprintf(os.Stderr, "%-14s %7.3fs\n", name, time.Since(t).Seconds())
		t = time.Now()
	}
	f, err := os.Open(*worldPath)
	if err != nil {
		log.Fatal(err)
	}
	// As partnerlink attribute does: decode, then check and index at once.
	ix, err := attribution.ReadIndex(f, *worldPath)
	f.Close()
	if err != nil {
		log.Fatal(err)
	}
	phase("ReadIndex")
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
	if *memprofile != "" {
		mf, err := os.Create(*memprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.WriteHeapProfile(mf)
		mf.Close()
	}
}
