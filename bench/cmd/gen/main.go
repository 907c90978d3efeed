// Command gen writes a synthetic world document (docs/api.md#world-document) and a FOCUS CSV
// usage file (docs/api.md#focus-usage) of any size, deterministically from a seed:
//
//	go run ./cmd/gen -tenants 2000 -rows 10000000 -out out/10m
//
// It writes DIR/world.json and DIR/usage.csv, and DIR/params.txt with the
// parameters (the runner reuses a directory whose parameters match).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/partnerlink/partnerlink/bench/gen"
)

func main() {
	var p gen.Params
	flag.IntVar(&p.Tenants, "tenants", 2000, "customer tenants")
	flag.IntVar(&p.AssignmentsPerTenant, "assignments", 100, "role assignments per customer tenant (most of them noise)")
	flag.Int64Var(&p.Rows, "rows", 1_000_000, "usage rows")
	flag.Uint64Var(&p.Seed, "seed", 1, "random seed")
	month := flag.String("month", "2026-03", "the usage month, YYYY-MM")
	out := flag.String("out", "out/data", "output directory")
	flag.Parse()
	m, err := time.Parse("2006-01", *month)
	if err != nil {
		log.Fatalf("gen: -month %q: %v", *month, err)
	}
	p.Month = m
	start := time.Now()
	st, err := gen.Generate(*out, p)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "gen: %s in %s\n", st, time.Since(start).Round(time.Millisecond))
}
