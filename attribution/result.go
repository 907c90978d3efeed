package attribution

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/partnerlink/partnerlink/focus"
)

// Credit is one output row of docs/api.md#attribution-csv: what one partner is credited for
// one resource in one currency over the run's period.
type Credit struct {
	PartnerID    string
	TenantID     string // the customer tenant that owns the subscription
	SubAccountID string // bare lower-case subscription GUID
	// ResourceID keeps the casing of its first occurrence in the input
	// (without a trailing "/"); the subscription id for rows without one.
	ResourceID            string
	BillingCurrency       string
	AttributedCost        focus.Sum
	IncentiveEligibleCost focus.Sum
	UsageRows             int64

	// Not in the CSV, for reports (docs/rules.md#views-and-credits): the ServiceName of the
	// resource's first row, and Azure's x_EffectiveCostInUsd summed over
	// the credited rows that carry it (UsageRowsInUSD of UsageRows).
	ServiceName         string
	AttributedCostInUSD focus.Sum
	UsageRowsInUSD      int64
}

// Result is the outcome of a run: its credits, sorted by every column, and
// the summary of all rows read. The credits are kept as references into
// the run's state and made into Credit values when asked for (Credits,
// WriteCSV): at 10M usage rows, building all 663k of them at once and
// reading them back cost a second and 120 MB.
type Result struct {
	Summary Summary

	run    *Run
	sorted []*resource // the run's resources, sorted (compareResources)
	refs   []creditRef // the credits, in output order
	fixed  []Credit    // instead: the credits themselves (Merge, ResultOf)
}

// creditRef is one credit of a Result: a sorted resource's credit of one
// partner in one currency, summed over the workers when it is read
// (Run.sum).
type creditRef struct {
	res      int32 // index in Result.sorted
	partner  int32
	currency uint32
}

// Len is the number of credits.
func (res *Result) Len() int {
	if res.run == nil {
		return len(res.fixed)
	}
	return len(res.refs)
}

// Credits returns the credits, sorted by every column (docs/api.md#attribution-csv).
func (res *Result) Credits() []Credit {
	if res.run == nil {
		return slices.Clone(res.fixed)
	}
	out := make([]Credit, len(res.refs))
	parts := runtime.GOMAXPROCS(0)
	forEach(parts, func(i int) {
		from, to := partOf(i, parts, len(out))
		res.fill(out[from:to], from)
	})
	return out
}

// Range appends credits from to to (in Credits' order) to dst, for
// callers that go over a large result a block at a time rather than
// holding all its credits at once.
func (res *Result) Range(dst []Credit, from, to int) []Credit {
	n := len(dst)
	dst = slices.Grow(dst, to-from)[:n+to-from]
	res.fill(dst[n:], from)
	return dst
}

// ResourceNumbers makes dst a number for the resource of each credit from
// number from on (in Credits' order): the same for the credits of one
// resource, different for different resources (not negative; not every
// number below the largest is one's). It reports
// false for a result that does not know its credits' resources (Merge,
// ResultOf).
func (res *Result) ResourceNumbers(dst []int32, from int) bool {
	if res.run == nil {
		return false
	}
	for i := range dst {
		dst[i] = res.refs[from+i].res
	}
	return true
}

// fill makes dst the credits from number from on.
func (res *Result) fill(dst []Credit, from int) {
	if res.run == nil {
		copy(dst, res.fixed[from:])
		return
	}
	for i := range dst {
		ref := res.refs[from+i]
		rs := res.sorted[ref.res]
		c := res.run.sum(rs, ref.partner, ref.currency)
		dst[i] = Credit{
			PartnerID:             res.run.ix.partners[c.partner],
			TenantID:              rs.sub.tenant,
			SubAccountID:          rs.sub.id,
			ResourceID:            rs.raw,
			BillingCurrency:       res.run.currencyCode(c.currency),
			AttributedCost:        c.attributed,
			IncentiveEligibleCost: c.eligible,
			UsageRows:             c.rows,
			ServiceName:           rs.service,
			AttributedCostInUSD:   c.usd,
			UsageRowsInUSD:        c.usdRows,
		}
	}
}

// WriteCSV writes the credits as docs/api.md#attribution-csv CSV (see the function WriteCSV).
func (res *Result) WriteCSV(w io.Writer) error {
	return writeCSVBlocks(w, res.Len(), func(bb *blockBuffers, from, to int) {
		if cap(bb.credits) < to-from {
			bb.credits = make([]Credit, to-from)
		}
		cs := bb.credits[:to-from]
		res.fill(cs, from)
		bb.text = appendCSV(bb.text[:0], cs)
	})
}

// Result merges the workers' credits. The result does not depend on the
// number of workers or on how rows were shared among them: sums are exact,
// and the casing of a resource id is the one at the earliest input
// position. The result refers to the run's state, so the run reads no rows
// afterwards (Scan, ScanFile and Add fail), and Result returns the same
// result again.
func (r *Run) Result() *Result {
	if r.result != nil {
		return r.result // taken before: the run's lookup state is gone
	}
	r.done = true
	r.flush()
	t := newTallies()
	for _, w := range r.workers {
		t.merge(&w.summary)
	}
	// The output is sorted without sorting it (docs/api.md#attribution-csv): partner
	// indexes follow the sorted partner IDs, so credits go to one bucket
	// per partner, filled from the resources in (tenant, subscription,
	// resource id) order and, within a resource, in currency order.
	// (Sorting 663k credits of 200 bytes took a second at 10M rows.) The
	// sorted resources are cut into one part per worker; each part is
	// counted and its references put in place by a goroutine of its own.
	parts := max(1, min(len(r.workers), len(r.resources.all)))
	sorted := sortInParts(r.resources.all, parts)
	part := func(i int) (int, int) { return partOf(i, parts, len(sorted)) }
	counts := make([][]int, parts)
	forEach(parts, func(i int) {
		counts[i] = make([]int, len(r.ix.partners))
		var ks []creditKey
		from, to := part(i)
		for _, res := range sorted[from:to] {
			ks = r.resourceKeys(ks[:0], res)
			for _, k := range ks {
				counts[i][k.partner]++
			}
		}
	})
	// Part i of partner p's bucket starts after all of partner p's earlier
	// parts and all credits of partners before p.
	starts := make([][]int, parts)
	for i := range starts {
		starts[i] = make([]int, len(r.ix.partners))
	}
	n := 0
	for p := range r.ix.partners {
		for i := range parts {
			starts[i][p] = n
			n += counts[i][p]
		}
	}
	refs := make([]creditRef, n)
	forEach(parts, func(i int) {
		next := starts[i]
		var ks []creditKey
		from, to := part(i)
		for j := from; j < to; j++ {
			ks = r.resourceKeys(ks[:0], sorted[j])
			for _, k := range ks {
				refs[next[k.partner]] = creditRef{res: int32(j), partner: k.partner, currency: k.currency}
				next[k.partner]++
			}
		}
	})
	sum := Summary{ChargeCategory: r.opt.ChargeCategory, CostColumn: r.opt.CostColumn}
	sum.Credited, sum.NoPartner, sum.UnknownSubscription, sum.OutOfPeriod, sum.OtherCategory =
		t.credited, t.noPartner, t.unknownSubscription, t.outOfPeriod, t.otherCategory
	sum.Read = Tally{Amounts: map[string]*focus.Sum{}}
	for _, x := range []*Tally{&t.credited, &t.noPartner, &t.unknownSubscription, &t.outOfPeriod, &t.otherCategory} {
		sum.Read.merge(x)
	}
	r.release()
	r.result = &Result{Summary: sum, run: r, sorted: sorted, refs: refs}
	return r.result
}

// release lets go of what only reading rows needed (the workers' lookup
// state, the registry's maps, the resources' grant lists): a Result keeps
// its run's credits and resources alive, not those.
func (r *Run) release() {
	for _, w := range r.workers {
		w.next, w.seen, w.subRows, w.last, w.lastID, w.lower, w.slab, w.refs = nil, nil, nil, nil, nil, nil, nil, nil
	}
	for _, res := range r.resources.all {
		res.grants, res.beside = nil, nil
	}
	r.memo, r.besideMemo = nil, nil
	r.cache = nil
	for i := range r.resources.shards {
		r.resources.shards[i].m = nil
	}
	r.resources.all = nil
}

// creditKey is a partner and a currency a resource is credited in.
type creditKey struct {
	partner  int32
	currency uint32
}

// resourceKeys appends to ks the partners and currencies of res's
// credits over the workers, once each, sorted by partner, then currency
// code.
func (r *Run) resourceKeys(ks []creditKey, res *resource) []creditKey {
	for _, w := range r.workers {
		if int(res.id) < len(w.credits) {
			for i := range w.credits[res.id] {
				c := &w.credits[res.id][i]
				if k := (creditKey{c.partner, c.currency}); !slices.Contains(ks, k) {
					ks = append(ks, k)
				}
			}
		}
	}
	slices.SortFunc(ks, func(a, b creditKey) int {
		return cmp.Or(cmp.Compare(a.partner, b.partner), strings.Compare(r.curs[a.currency], r.curs[b.currency]))
	})
	return ks
}

// sum is res's credit of a partner in a currency, summed over the
// workers. Sums start from zero and are added to, so the workers' own sums
// (which may hold arbitrary-precision decimals) are never shared or
// changed.
func (r *Run) sum(res *resource, partner int32, currency uint32) total {
	t := total{partner: partner, currency: currency}
	for _, w := range r.workers {
		if int(res.id) < len(w.credits) {
			for i := range w.credits[res.id] {
				if c := &w.credits[res.id][i]; c.partner == partner && c.currency == currency {
					t.add(w, c)
				}
			}
		}
	}
	return t
}

// sortInParts returns rs sorted (compareResources), cutting it into parts
// sorted at once and merged two by two.
func sortInParts(rs []*resource, parts int) []*resource {
	runs := make([][]*resource, parts)
	forEach(parts, func(i int) {
		from, to := partOf(i, parts, len(rs))
		runs[i] = slices.Clone(rs[from:to])
		slices.SortFunc(runs[i], compareResources)
	})
	for len(runs) > 1 {
		merged := make([][]*resource, (len(runs)+1)/2)
		forEach(len(merged), func(i int) {
			if 2*i+1 == len(runs) {
				merged[i] = runs[2*i]
				return
			}
			a, b := runs[2*i], runs[2*i+1]
			out := make([]*resource, 0, len(a)+len(b))
			for len(a) > 0 && len(b) > 0 {
				if compareResources(b[0], a[0]) < 0 {
					out, b = append(out, b[0]), b[1:]
				} else {
					out, a = append(out, a[0]), a[1:]
				}
			}
			merged[i] = append(append(out, a...), b...)
		})
		runs = merged
	}
	return runs[0]
}

// compareResources orders resources as the output's columns do: tenant,
// subscription, resource id as written.
func compareResources(a, b *resource) int {
	return cmp.Or(strings.Compare(a.sub.tenant, b.sub.tenant), strings.Compare(a.sub.id, b.sub.id),
		strings.Compare(a.raw, b.raw))
}

// partOf returns the bounds of part i when n items are cut into parts
// parts of (nearly) equal size.
func partOf(i, parts, n int) (from, to int) { return i * n / parts, (i + 1) * n / parts }

// forEach runs fn(0) … fn(n-1) in goroutines and waits for them.
func forEach(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(i)
		}()
	}
	wg.Wait()
}

// mergeCredit adds c, one of w's credits, to the credit of the same
// partner and currency in cs, or appends it.
func mergeCredit(cs []total, w *worker, c *credit) []total {
	i := 0
	for i < len(cs) && (cs[i].partner != c.partner || cs[i].currency != c.currency) {
		i++
	}
	if i == len(cs) {
		cs = append(cs, total{partner: c.partner, currency: c.currency})
	}
	cs[i].add(w, c)
	return cs
}

// add adds c, one of w's credits, to t.
func (t *total) add(w *worker, c *credit) {
	attributed, eligible := w.sums(c)
	t.attributed.AddSum(attributed)
	t.eligible.AddSum(eligible)
	t.rows += c.rows
	if c.usd != 0 {
		u := &w.usd[c.usd-1]
		t.usd.AddSum(u.sum)
		t.usdRows += u.rows
	}
}

// SortCredits sorts by every column in order, comparing the written text
// byte by byte (docs/api.md#attribution-csv). The first five columns are a key, so they
// decide.
func SortCredits(cs []Credit) {
	slices.SortFunc(cs, compareCredits)
}

// compareCredits compares column by column, stopping at the first that
// differs (amounts are formatted only when every key column is equal,
// which Result never produces).
func compareCredits(a, b Credit) int {
	if c := strings.Compare(a.PartnerID, b.PartnerID); c != 0 {
		return c
	}
	if c := strings.Compare(a.TenantID, b.TenantID); c != 0 {
		return c
	}
	if c := strings.Compare(a.SubAccountID, b.SubAccountID); c != 0 {
		return c
	}
	if c := strings.Compare(a.ResourceID, b.ResourceID); c != 0 {
		return c
	}
	if c := strings.Compare(a.BillingCurrency, b.BillingCurrency); c != 0 {
		return c
	}
	return cmp.Or(
		strings.Compare(a.AttributedCost.String(), b.AttributedCost.String()),
		strings.Compare(a.IncentiveEligibleCost.String(), b.IncentiveEligibleCost.String()),
		cmp.Compare(a.UsageRows, b.UsageRows),
	)
}

// CSVHeader is the header line of the attribution output (docs/api.md#attribution-csv).
const CSVHeader = "PartnerId,TenantId,SubAccountId,ResourceId,BillingCurrency,AttributedCost,IncentiveEligibleCost,UsageRows"

// WriteCSV writes credits as docs/api.md#attribution-csv CSV, in the order given (Result's
// credits are already sorted). Fields holding a comma, quote or newline are
// quoted as RFC 4180 says. Blocks of lines are formatted on all cores and
// written in order.
func WriteCSV(w io.Writer, credits []Credit) error {
	return writeCSVBlocks(w, len(credits), func(bb *blockBuffers, from, to int) {
		bb.text = appendCSV(bb.text[:0], credits[from:to])
	})
}

// csvBlock is how many credits' lines are formatted at a time.
const csvBlock = 8192

// writeCSVBlocks writes the header and the lines of n credits, which
// format puts in bb.text a block at a time. One goroutine per core formats
// every so-many-th block, with two buffers that it takes turns filling, and
// the caller writes the blocks in order. Nothing runs on after it returns.
func writeCSVBlocks(w io.Writer, n int, format func(bb *blockBuffers, from, to int)) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(CSVHeader)
	bw.WriteByte('\n')
	blocks := (n + csvBlock - 1) / csvBlock
	workers := min(runtime.GOMAXPROCS(0), blocks)
	type lane struct{ done, free chan *blockBuffers }
	lanes := make([]lane, workers)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for k := range lanes {
		l := lane{done: make(chan *blockBuffers, 2), free: make(chan *blockBuffers, 2)}
		l.free <- &blockBuffers{}
		l.free <- &blockBuffers{}
		lanes[k] = l
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := k; i < blocks; i += workers {
				var bb *blockBuffers
				select {
				case bb = <-l.free:
				case <-stop:
					return
				}
				from, to := i*csvBlock, min((i+1)*csvBlock, n)
				if bb.text == nil {
					bb.text = make([]byte, 0, (to-from)*csvLineSize)
				}
				format(bb, from, to)
				l.done <- bb // room for both buffers: never blocks
			}
		}()
	}
	err := func() error {
		for i := range blocks {
			l := lanes[i%workers]
			bb := <-l.done
			if _, err := bw.Write(bb.text); err != nil {
				return err
			}
			l.free <- bb
		}
		return bw.Flush()
	}()
	close(stop)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("write attribution CSV: %w", err)
	}
	return nil
}

// blockBuffers are the buffers of one block of writeCSVBlocks: its text,
// and room for its Credit values when format builds them.
type blockBuffers struct {
	text    []byte
	credits []Credit
}

// csvLineSize is room for a typical line of WriteCSV's output (GUIDs, an
// ARM resource id, two amounts), so a block's buffer does not grow.
const csvLineSize = 256

// appendCSV appends the lines of credits to b.
func appendCSV(b []byte, credits []Credit) []byte {
	for i := range credits {
		c := &credits[i]
		for _, f := range [...]string{c.PartnerID, c.TenantID, c.SubAccountID, c.ResourceID, c.BillingCurrency} {
			b = appendField(b, f)
			b = append(b, ',')
		}
		// Amounts and counts never need quoting.
		b = c.AttributedCost.Append(b)
		b = append(b, ',')
		b = c.IncentiveEligibleCost.Append(b)
		b = append(b, ',')
		b = strconv.AppendInt(b, c.UsageRows, 10)
		b = append(b, '\n')
	}
	return b
}

func appendField(b []byte, s string) []byte {
	if !needsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(s, `"`, `""`)...)
	return append(b, '"')
}

// needsQuotes reports whether a CSV field must be quoted (RFC 4180): one
// table lookup per byte, where strings.ContainsAny builds its set on every
// call and four comparisons cost more.
func needsQuotes(s string) bool {
	for i := 0; i < len(s); i++ {
		if special[s[i]] {
			return true
		}
	}
	return false
}

// special marks the bytes that make a CSV field need quotes.
var special = [256]bool{',': true, '"': true, '\r': true, '\n': true}

// WriteText writes the summary for people (the CLI prints it on standard
// error): each kind of row with its count and amounts by currency.
func (s *Summary) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "usage rows read: %s\n", s.Read.text())
	fmt.Fprintf(bw, "  credited to at least one partner: %s\n", s.Credited.text())
	fmt.Fprintf(bw, "  not credited, no partner holds access: %s\n", s.NoPartner.text())
	fmt.Fprintf(bw, "  not credited, unknown subscription: %s\n", s.UnknownSubscription.text())
	fmt.Fprintf(bw, "  not counted, charge period starts outside the period: %s\n", s.OutOfPeriod.text())
	fmt.Fprintf(bw, "  not counted, ChargeCategory other than %s: %s\n", s.ChargeCategory, s.OtherCategory.text())
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write attribution summary: %w", err)
	}
	return nil
}

func (t Tally) text() string {
	if t.Rows == 0 {
		return "0 rows"
	}
	cur := make([]string, 0, len(t.Amounts))
	for c := range t.Amounts {
		cur = append(cur, c)
	}
	sort.Strings(cur)
	parts := make([]string, len(cur))
	for i, c := range cur {
		name := c
		if name == "" {
			name = "(no currency)"
		}
		parts[i] = t.Amounts[c].String() + " " + name
	}
	noun := "rows"
	if t.Rows == 1 {
		noun = "row"
	}
	return fmt.Sprintf("%d %s, %s", t.Rows, noun, strings.Join(parts, ", "))
}
