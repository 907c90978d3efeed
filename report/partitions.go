package report

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/attribution"
	"github.com/partnerlink/partnerlink/focus"
	"github.com/partnerlink/partnerlink/usagestore"
	"github.com/partnerlink/partnerlink/world"
)

// A close runs as partitions, month × subscription bucket (docs/scale.md):
// each partition reads its own parts of the usage store into the month's
// runs, and the partitions' results merge into the month's. One process
// runs them on goroutines; with a job queue (Executor) workers on other
// machines do. Either way it is the same code, ComputePartition, and the
// same bytes.

// abandonAfter is how old a run still running must be to be taken for one
// whose closing process died: far beyond any close's time (and the
// partition timeout), so a close under way elsewhere is never touched.
const abandonAfter = 24 * time.Hour

// Spec is what a partitioned close's workers read: everything a
// partition's result depends on.
type Spec struct {
	Month   string
	Store   string // the usage store's URL
	Buckets int
	World   []byte     // the world document as JSON (only for remote workers)
	Parts   [][]string // per bucket, the keys of its parts in file order
}

// Partial is one partition's result.
type Partial struct {
	PerID  *attribution.Result
	WhatIf *attribution.Result // nil without unlinked credentials
	Rows   int64               // usage rows read
}

// Executor runs a partitioned run's partitions somewhere else than in this
// process: on the job queue's workers. It returns each bucket's partial
// result once all are done.
type Executor interface {
	Execute(ctx context.Context, runID int64, spec *Spec) (map[int]*Partial, error)
}

// ComputePartition reads the parts (keys, in file order) of one partition
// from store into the month's runs (docs/scale.md).
func ComputePartition(ctx context.Context, p *Prepared, store *usagestore.Store, keys []string) (*Partial, error) {
	run, err := p.Run(1)
	if err != nil {
		return nil, err
	}
	scan := func(_ int, r io.Reader, name string) error { return run.Scan(r, name) }
	if _, err := scanParts(ctx, store, keys, nil, scan); err != nil {
		return nil, err
	}
	out := &Partial{PerID: run.Result(), WhatIf: run.Beside()}
	out.Rows = out.PerID.Summary.Read.Rows
	return out, nil
}

// scanParts reads the parts (keys, in file order) into a run through scan
// (file: the part's number among them), one after the other: from their
// files on a local bucket, else in buf's memory (usagestore.OpenPart); it
// returns the buffer.
func scanParts(ctx context.Context, store *usagestore.Store, keys []string, buf []byte, scan func(file int, r io.Reader, name string) error) ([]byte, error) {
	for i, key := range keys {
		if err := ctx.Err(); err != nil {
			return buf, err
		}
		part, b, done, err := store.OpenPart(ctx, key, buf)
		if buf = b; err != nil {
			return buf, err
		}
		err = scan(i, part, key)
		done()
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// computePartitioned is the month's attribution as a partitioned run: the
// imported files are split into the usage store (once), the partitions
// run locally or on the executor, and their results merge.
func (s *Service) computePartitioned(ctx context.Context, doc *world.Document, month partnerlink.Month, ims []partnerlink.UsageImport, step func(string)) (*Inputs, error) {
	store, storeURL, err := s.openStore(ctx)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	spec := &Spec{Month: month.String(), Store: storeURL, Buckets: store.Buckets, Parts: make([][]string, store.Buckets)}
	var total, inMonth int64
	for _, im := range ims {
		parts, err := store.Parts(ctx, s.Store, im, filepath.Join(s.DataDir, im.Path), s.now())
		if err != nil {
			return nil, err
		}
		total += im.Rows
		for _, pt := range parts {
			if pt.Month == spec.Month {
				spec.Parts[pt.Bucket] = append(spec.Parts[pt.Bucket], pt.Key)
				inMonth += pt.Rows
			}
		}
	}
	step("split the usage")
	p, err := prepare(doc, month, true)
	if err != nil {
		return nil, err
	}
	step("check and index the worlds")
	if s.Executor != nil {
		if spec.World, err = json.Marshal(doc); err != nil {
			return nil, err
		}
	}
	packed, err := packGob(spec)
	if err != nil {
		return nil, err
	}
	spec.World = nil
	// A run of this month still "running" after a day is one whose closing
	// process died: nothing of it was published, and it would show as under
	// way for ever (runs list, /metrics).
	if _, err := s.Store.AbandonPartitionRuns(ctx, "close", spec.Month, s.now().Add(-abandonAfter), s.now()); err != nil {
		return nil, err
	}
	id, err := s.Store.CreatePartitionRun(ctx, partnerlink.PartitionRun{Kind: "close", Month: spec.Month, Buckets: spec.Buckets,
		Store: store.URL, CreatedAt: s.now(), Rows: inMonth}, packed)
	if err != nil {
		return nil, err
	}
	var partials []*Partial
	if s.Executor != nil {
		var byBucket map[int]*Partial
		if byBucket, err = s.Executor.Execute(ctx, id, spec); err == nil {
			for b := range spec.Buckets {
				if byBucket[b] == nil {
					err = fmt.Errorf("report: partition %d of run %d has no result", b, id)
					break
				}
				partials = append(partials, byBucket[b])
			}
		}
	} else {
		partials, err = s.runLocal(ctx, id, p, store, spec)
	}
	fail := func(err error) error {
		if ferr := s.Store.FinishPartitionRun(context.WithoutCancel(ctx), id, partnerlink.RunFailed, partnerlink.ErrorMessage(err), inMonth, s.now()); ferr != nil {
			return fmt.Errorf("%w (and recording the run's failure: %v)", err, ferr)
		}
		return err
	}
	if err != nil {
		return nil, fail(err)
	}
	step("credit the partitions")
	var perID, whatIf []*attribution.Result
	for _, pt := range partials {
		perID = append(perID, pt.PerID)
		if pt.WhatIf != nil {
			whatIf = append(whatIf, pt.WhatIf)
		}
	}
	merged := mergeResults(perID)
	// Every row of the month's files is read, as one pass over the whole
	// files would: the rows of other months count as read too. (Only the
	// row counts of the summary go into a report; the amounts read and the
	// out-of-period tally cover the month's rows only.)
	merged.Summary.Read.Rows = total
	var what *attribution.Result
	if len(whatIf) > 0 {
		what = mergeResults(whatIf)
	}
	if err := s.Store.FinishPartitionRun(ctx, id, partnerlink.RunDone, "", inMonth, s.now()); err != nil {
		return nil, err
	}
	step("merge the results")
	return p.Inputs(merged, what), nil
}

// mergeResults is attribution.Merge, which a single result (a local run)
// does not need.
func mergeResults(rs []*attribution.Result) *attribution.Result {
	if len(rs) == 1 {
		return rs[0]
	}
	return attribution.Merge(rs)
}

// openStore opens the usage store (the data directory's by default).
func (s *Service) openStore(ctx context.Context) (*usagestore.Store, string, error) {
	storeURL := s.UsageStore
	if storeURL == "" {
		var err error
		if storeURL, err = usagestore.DefaultURL(s.DataDir); err != nil {
			return nil, "", err
		}
	}
	store, err := usagestore.Open(ctx, storeURL, cmp.Or(max(s.Buckets, 0), usagestore.DefaultBuckets))
	return store, storeURL, err
}

// SplitUsage lays imported FOCUS files out in the usage store now, rather
// than at the first close that reads them; it returns how many parts they
// make.
func (s *Service) SplitUsage(ctx context.Context, ims ...partnerlink.UsageImport) (int, error) {
	store, _, err := s.openStore(ctx)
	if err != nil {
		return 0, err
	}
	defer store.Close()
	n := 0
	for _, im := range ims {
		parts, err := store.Parts(ctx, s.Store, im, filepath.Join(s.DataDir, im.Path), s.now())
		if err != nil {
			return n, err
		}
		n += len(parts)
	}
	return n, nil
}

// runLocal runs the partitions on Workers goroutines, into one run: each
// goroutine is one of its workers and takes the next bucket when done with
// one. The run adds up the workers' credits as it does for one file read
// by several, so there is one result and nothing to merge.
func (s *Service) runLocal(ctx context.Context, id int64, p *Prepared, store *usagestore.Store, spec *Spec) ([]*Partial, error) {
	ctx, cancel := context.WithCancel(ctx) // the first failure stops the others
	defer cancel()
	workers := max(s.Workers, 1)
	run, err := p.Run(workers)
	if err != nil {
		return nil, err
	}
	// Parts are numbered in bucket order, then file order: within a
	// bucket, the order that decides a resource's first spelling.
	first := make([]int, spec.Buckets)
	n := 0
	for b, keys := range spec.Parts {
		first[b], n = n, n+len(keys)
	}
	next := make(chan int, spec.Buckets)
	for b := range spec.Buckets {
		next <- b
	}
	close(next)
	defer leanGC()()
	// The first failure in time is the run's error: the others are what
	// its cancellation did to them (a cancelled write says "transaction
	// has already been committed or rolled back", not the cause).
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for w := range workers {
		wg.Go(func() {
			if err := s.partitions(ctx, id, run, w, store, spec, first, next); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				cancel()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	perID := run.Result()
	return []*Partial{{PerID: perID, WhatIf: run.Beside(), Rows: perID.Summary.Read.Rows}}, nil
}

// scanGCPercent is the collector's target while a close reads its usage:
// the run's live heap grows to a few hundred megabytes while what the scan
// throws away (pages, dictionaries) dies young, so the default target (a
// heap twice the live one) set the close's peak. At 10M rows 50 took the
// peak from 615–665 to 555–575 MiB for about 3 % more time
// (docs/performance.md, "Monthly close").
const scanGCPercent = 50

// gcTarget is the collector's target as scans found it, and how many
// scans are under way: the target is process-wide, so the last scan to
// finish puts it back.
var gcTarget struct {
	sync.Mutex
	scans, saved int
}

// leanGC lowers the collector's target to scanGCPercent, unless it is
// lower already (or off), and returns the function that puts it back.
func leanGC() (restore func()) {
	gcTarget.Lock()
	defer gcTarget.Unlock()
	if gcTarget.scans == 0 {
		gcTarget.saved = debug.SetGCPercent(scanGCPercent)
		if gcTarget.saved < scanGCPercent { // off (-1) or lower
			debug.SetGCPercent(gcTarget.saved)
		}
	}
	gcTarget.scans++
	return func() {
		gcTarget.Lock()
		defer gcTarget.Unlock()
		if gcTarget.scans--; gcTarget.scans == 0 {
			debug.SetGCPercent(gcTarget.saved)
		}
	}
}

// partitions reads the buckets it takes from next into run, as its worker
// w (first[b]: the number of bucket b's first part).
func (s *Service) partitions(ctx context.Context, id int64, run *attribution.Run, w int, store *usagestore.Store, spec *Spec, first []int, next <-chan int) error {
	var buf []byte
	for b := range next {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.Store.StartPartition(ctx, id, b, "local", s.now()); err != nil {
			return err
		}
		var rows int64
		scan := func(i int, r io.Reader, name string) error {
			n, err := run.ScanAs(w, int64(first[b]+i), r, name)
			rows += n
			return err
		}
		var err error
		if buf, err = scanParts(ctx, store, spec.Parts[b], buf, scan); err != nil {
			return err
		}
		if err := s.Store.FinishPartition(ctx, id, b, rows, nil, s.now()); err != nil {
			return err
		}
	}
	return nil
}

// The wire forms of a partition's result: exact decimals as text.
type (
	wirePartial struct {
		PerID  wireResult
		WhatIf *wireResult
		Rows   int64
	}
	wireResult struct {
		Summary                    [5]wireTally // credited, no partner, unknown subscription, out of period, other category
		ChargeCategory, CostColumn string
		Credits                    []wireCredit
	}
	wireTally struct {
		Rows    int64
		Amounts map[string]string
	}
	wireCredit struct {
		PartnerID, TenantID, SubAccountID, ResourceID, BillingCurrency, ServiceName string
		Attributed, Eligible, USD                                                   string
		Rows, RowsUSD                                                               int64
	}
)

// EncodePartial writes a partition's result for the coordinator (gzip gob).
func EncodePartial(p *Partial) ([]byte, error) {
	w := wirePartial{PerID: toWire(p.PerID), Rows: p.Rows}
	if p.WhatIf != nil {
		r := toWire(p.WhatIf)
		w.WhatIf = &r
	}
	return packGob(&w)
}

// DecodePartial reads what EncodePartial wrote.
func DecodePartial(b []byte) (*Partial, error) {
	var w wirePartial
	if err := unpackGob(b, &w); err != nil {
		return nil, fmt.Errorf("report: a partition's result: %w", err)
	}
	p := &Partial{Rows: w.Rows}
	var err error
	if p.PerID, err = fromWire(w.PerID); err != nil {
		return nil, err
	}
	if w.WhatIf != nil {
		if p.WhatIf, err = fromWire(*w.WhatIf); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// DecodeSpec reads a run's spec.
func DecodeSpec(b []byte) (*Spec, error) {
	var s Spec
	if err := unpackGob(b, &s); err != nil {
		return nil, fmt.Errorf("report: a partitioned run's spec: %w", err)
	}
	return &s, nil
}

func tallies(s *attribution.Summary) [5]*attribution.Tally {
	return [5]*attribution.Tally{&s.Credited, &s.NoPartner, &s.UnknownSubscription, &s.OutOfPeriod, &s.OtherCategory}
}

func toWire(r *attribution.Result) wireResult {
	w := wireResult{ChargeCategory: r.Summary.ChargeCategory, CostColumn: r.Summary.CostColumn}
	for i, t := range tallies(&r.Summary) {
		w.Summary[i] = wireTally{Rows: t.Rows, Amounts: map[string]string{}}
		for c, s := range t.Amounts {
			w.Summary[i].Amounts[c] = s.String()
		}
	}
	for _, c := range r.Credits() {
		w.Credits = append(w.Credits, wireCredit{c.PartnerID, c.TenantID, c.SubAccountID, c.ResourceID, c.BillingCurrency, c.ServiceName,
			c.AttributedCost.String(), c.IncentiveEligibleCost.String(), c.AttributedCostInUSD.String(), c.UsageRows, c.UsageRowsInUSD})
	}
	return w
}

func sumOf(s string) (focus.Sum, error) {
	var sum focus.Sum
	a, err := focus.ParseAmount([]byte(s))
	if err != nil {
		return sum, fmt.Errorf("report: a partition's amount %q: %w", s, err)
	}
	sum.Add(a)
	return sum, nil
}

func fromWire(w wireResult) (*attribution.Result, error) {
	sum := attribution.Summary{ChargeCategory: w.ChargeCategory, CostColumn: w.CostColumn}
	for i, t := range tallies(&sum) {
		t.Rows, t.Amounts = w.Summary[i].Rows, map[string]*focus.Sum{}
		for c, a := range w.Summary[i].Amounts {
			s, err := sumOf(a)
			if err != nil {
				return nil, err
			}
			t.Amounts[c] = &s
		}
	}
	credits := make([]attribution.Credit, len(w.Credits))
	for i, c := range w.Credits {
		cr := attribution.Credit{PartnerID: c.PartnerID, TenantID: c.TenantID, SubAccountID: c.SubAccountID, ResourceID: c.ResourceID,
			BillingCurrency: c.BillingCurrency, ServiceName: c.ServiceName, UsageRows: c.Rows, UsageRowsInUSD: c.RowsUSD}
		var err error
		if cr.AttributedCost, err = sumOf(c.Attributed); err != nil {
			return nil, err
		}
		if cr.IncentiveEligibleCost, err = sumOf(c.Eligible); err != nil {
			return nil, err
		}
		if cr.AttributedCostInUSD, err = sumOf(c.USD); err != nil {
			return nil, err
		}
		credits[i] = cr
	}
	return attribution.ResultOf(sum, credits), nil
}

func packGob(v any) ([]byte, error) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err := gob.NewEncoder(zw).Encode(v); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func unpackGob(b []byte, v any) error {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return gob.NewDecoder(io.LimitReader(zr, 4<<30)).Decode(v)
}
