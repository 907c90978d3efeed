package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/attribution"
	"github.com/partnerlink/partnerlink/focus"
	"github.com/partnerlink/partnerlink/ledger"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newAttributeCmd) }

// newAttributeCmd is `partnerlink attribute`: offline attribution of usage
// files against a world document (README.md#commands), credits as CSV on standard
// output (docs/api.md#attribution-csv) and the summary of rows not credited on standard error.
func newAttributeCmd(m *Main) *cobra.Command {
	var (
		worldPath   string
		usagePaths  []string
		fromS, toS  string
		powerPlat   bool
		category    string
		costColumn  string
		workers     int
		showSummary bool
		indexCache  string
		passes      string
	)
	cmd := &cobra.Command{
		Use:   "attribute --world FILE --usage FILE [--usage FILE …] --from DAY --to DAY [--powerplatform]",
		Short: "Credit partners with usage, offline, from a world document and FOCUS usage files",
		Long: `Attribute reads a world document (links, principals, roles, memberships,
delegations and partner IDs with their periods) and FOCUS 1.0 usage files
(CSV, gzip CSV or Parquet), and writes one CSV row per partner, resource and
currency for the usage rows whose ChargePeriodStart lies in [--from, --to):

  PartnerId,TenantId,SubAccountId,ResourceId,BillingCurrency,AttributedCost,IncentiveEligibleCost,UsageRows

The rows that were not credited (unknown subscription, no partner, other
charge categories, outside the period) are counted on standard error.

Without --world and --usage it runs on the data directory's state and the
usage imported with 'partnerlink import', stores the credits per day (read
them with 'partnerlink credits') and prints the same CSV.

With --powerplatform, --usage takes Power Platform activity and Customer
Insights profile files instead, and the output is the Power Platform credit.

A world document read before (the same bytes) is not parsed again: its
index is read from a snapshot in --index-cache (docs/performance.md,
"Index snapshots").

Usage of more than about 12 million rows is read in passes, one bucket of
subscriptions each (--passes: auto, or a number), so that memory holds one
pass's resources; the output is the same (docs/performance.md, "Memory as
rows grow").`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fromS == "" || toS == "" {
				return partnerlink.Errorf(partnerlink.EINVALID, "attribute needs --from DAY and --to DAY")
			}
			if (worldPath == "") != (len(usagePaths) == 0) {
				return partnerlink.Errorf(partnerlink.EINVALID, "give both --world FILE and --usage FILE (offline), or neither (the data directory's state and imported usage)")
			}
			from, err := parseDay("--from", fromS)
			if err != nil {
				return err
			}
			to, err := parseDay("--to", toS)
			if err != nil {
				return err
			}
			if !from.Before(to) {
				return partnerlink.Errorf(partnerlink.EINVALID, "--from %s must be before --to %s (the period is [from, to))", fromS, toS)
			}
			if cmd.Flags().Changed("passes") && (worldPath == "" || powerPlat) {
				return partnerlink.Errorf(partnerlink.EINVALID, "--passes reads Azure usage files (--world and --usage) in passes; it does not apply here")
			}
			opt := attribution.Options{From: from, To: to, ChargeCategory: category, CostColumn: costColumn, Workers: workers}
			if worldPath == "" {
				if powerPlat {
					return partnerlink.Errorf(partnerlink.EINVALID, "on the data directory, run 'partnerlink powerplatform attribute'; --powerplatform here is the offline form with --world and --usage")
				}
				return runServerAttribute(cmd, m, opt, showSummary)
			}
			if powerPlat {
				return runPowerPlatformAttribute(m, cmd, worldPath, usagePaths, from, to)
			}
			if indexCache == "off" {
				indexCache = ""
			}
			n, err := attributePasses(passes, usagePaths)
			if err != nil {
				return err
			}
			return runAttribute(m, worldPath, indexCache, usagePaths, opt, n, showSummary)
		},
	}
	f := cmd.Flags()
	f.StringVar(&worldPath, "world", "", "world document (JSON, docs/api.md#world-document)")
	f.StringArrayVar(&usagePaths, "usage", nil, "usage file: FOCUS CSV, gzip CSV or Parquet (repeat for several)")
	f.StringVar(&fromS, "from", "", "first day of the period, YYYY-MM-DD or RFC 3339 (inclusive)")
	f.StringVar(&toS, "to", "", "end of the period, YYYY-MM-DD or RFC 3339 (exclusive)")
	f.BoolVar(&powerPlat, "powerplatform", false, "attribute Power Platform and Customer Insights activity instead of Azure usage")
	f.StringVar(&category, "charge-category", "Usage", "ChargeCategory of the rows that count")
	f.StringVar(&costColumn, "cost-column", "EffectiveCost", "amount credited: EffectiveCost, BilledCost or x_EffectiveCostInUsd")
	f.IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "goroutines reading and crediting usage")
	f.BoolVar(&showSummary, "summary", true, "print the summary of rows read and not credited on standard error")
	f.StringVar(&passes, "passes", "auto", "read the usage in this many passes, one bucket of subscriptions each; auto: one per ~12M rows")
	f.StringVar(&indexCache, "index-cache", envOr("PARTNERLINK_INDEX_CACHE", defaultIndexCache()),
		"folder of the world documents' index snapshots, or off (env PARTNERLINK_INDEX_CACHE; docs/performance.md)")
	return cmd
}

// defaultIndexCache is the user's cache folder's partnerlink/index, or off
// when the user has none.
func defaultIndexCache() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "off"
	}
	return filepath.Join(dir, "partnerlink", "index")
}

// rowsPerPass is about how many usage rows one pass of attribute reads
// (--passes auto): the bench's 10M-row month is one pass, at about the
// memory of its world's index (docs/performance.md, "Memory as rows grow").
// A variable so that tests can make it small.
var rowsPerPass int64 = 12_000_000

// attributePasses reads --passes: a number from 1, or auto (one pass per
// rowsPerPass rows the usage files hold, about: focus.EstimateRows). A
// usage file that is not a regular file (a pipe) can be read only once:
// auto makes one pass, and a number above 1 is refused.
func attributePasses(flag string, usagePaths []string) (int, error) {
	n := 0
	if flag != "auto" {
		var err error
		if n, err = strconv.Atoi(flag); err != nil || n < 1 || n > attribution.MaxParts {
			return 0, partnerlink.Errorf(partnerlink.EINVALID, "--passes %q: expected auto or a number from 1 to %d", flag, attribution.MaxParts)
		}
	}
	var rows int64
	for _, p := range usagePaths {
		st, err := os.Stat(p)
		if err != nil {
			return 0, fmt.Errorf("open usage file: %w", err)
		}
		if !st.Mode().IsRegular() {
			if n > 1 {
				return 0, partnerlink.Errorf(partnerlink.EINVALID, "--passes %d reads each usage file %d times, and %s is not a regular file (a pipe?) that can be read again; write it to a file, or pass --passes 1", n, n, p)
			}
			return 1, nil
		}
		if n == 0 {
			e, err := focus.EstimateRows(p)
			if err != nil {
				return 0, err
			}
			rows += e
		}
	}
	if n > 0 {
		return n, nil
	}
	return int(min((rows+rowsPerPass-1)/rowsPerPass, attribution.MaxParts)), nil
}

func runAttribute(m *Main, worldPath, indexCache string, usagePaths []string, opt attribution.Options, passes int, showSummary bool) error {
	ix, err := attribution.ReadIndexFile(worldPath, indexCache)
	if err != nil {
		return err
	}
	// The usage is read from what the index holds, not from the garbage of
	// decoding the world (docs/performance.md, "Memory as rows grow").
	debug.FreeOSMemory()
	if passes > 1 {
		return attributeInPasses(m, ix, usagePaths, opt, passes, showSummary)
	}
	res, err := attributeFiles(ix, opt, usagePaths)
	if err != nil {
		return err
	}
	if err := res.WriteCSV(m.Stdout); err != nil {
		return err
	}
	if showSummary {
		return res.Summary.WriteText(m.Stderr)
	}
	return nil
}

// attributeFiles runs the attribution of the usage files, in order.
func attributeFiles(ix *attribution.Index, opt attribution.Options, usagePaths []string) (*attribution.Result, error) {
	run, err := attribution.NewRun(ix, opt)
	if err != nil {
		return nil, err
	}
	for _, p := range usagePaths {
		if err := scanUsage(run, p); err != nil {
			return nil, err
		}
	}
	return run.Result(), nil
}

// attributeInPasses reads the usage files once per pass, each pass
// crediting one bucket of subscriptions (attribution.Part) into a CSV file
// of its own, which are merged into the output at the end: memory holds
// one pass's resources and credits.
func attributeInPasses(m *Main, ix *attribution.Index, usagePaths []string, opt attribution.Options, passes int, showSummary bool) error {
	dir, err := os.MkdirTemp("", "partnerlink-attribute-")
	if err != nil {
		return fmt.Errorf("attribute: a folder for the passes' credits: %w", err)
	}
	defer os.RemoveAll(dir)
	var sums []attribution.Summary
	var parts []io.Reader
	for i := range passes {
		// The first pass reads every row whole, so that a bad one stops
		// the run with the error one pass would give.
		opt.Part = attribution.Part{Index: i, Of: passes, CheckAll: i == 0}
		res, err := attributeFiles(ix, opt, usagePaths)
		if err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("pass-%d.csv", i)))
		if err != nil {
			return err
		}
		defer f.Close()
		bw := bufio.NewWriterSize(f, 1<<20)
		if err := res.WriteCSV(bw); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("attribute: write %s: %w", f.Name(), err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		sums, parts = append(sums, res.Summary), append(parts, f)
		// The next pass starts from what the index holds, not from this
		// pass's garbage (the peak would be the heap goal this pass set).
		debug.FreeOSMemory()
	}
	if err := attribution.MergeCSV(m.Stdout, parts); err != nil {
		return err
	}
	if showSummary {
		sum := attribution.MergeSummaries(sums)
		return sum.WriteText(m.Stderr)
	}
	return nil
}

// parseDay reads a day (YYYY-MM-DD, midnight UTC) or an RFC 3339 instant.
func parseDay(flag, s string) (time.Time, error) { return ledger.ParseDay(flag, strings.TrimSpace(s)) }

// runServerAttribute runs on the data directory (see ledger.Run).
func runServerAttribute(cmd *cobra.Command, m *Main, opt attribution.Options, showSummary bool) error {
	return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
		out, err := ledger.Run(ctx, db, m.DataDir, opt.From, opt.To, opt, m.Now())
		if err != nil {
			return err
		}
		if err := out.Result.WriteCSV(m.Stdout); err != nil {
			return err
		}
		if showSummary {
			if err := out.Result.Summary.WriteText(m.Stderr); err != nil {
				return err
			}
		}
		dbFlag := ""
		if m.DSN != "" {
			dbFlag = " --db …" // the same database; its URL may hold a password
		}
		files := fmt.Sprintf("%d usage files", len(out.Files))
		if len(out.Files) == 1 {
			files = "1 usage file"
		}
		fmt.Fprintf(m.Stderr, "run %d stored (%s); read it with '%s%s%s credits'\n", out.RunID, files, invokedAs(os.Args[0]), dataDirFlag(m.DataDir), dbFlag)
		return nil
	})
}

// scanUsage credits the usage file at path: the engine reads, the caller
// opens (a Parquet file is read through its io.ReaderAt).
func scanUsage(run *attribution.Run, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open usage file: %w", err)
	}
	defer f.Close()
	return run.Scan(f, path)
}
