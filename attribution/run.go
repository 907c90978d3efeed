package attribution

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/focus"
)

// Options are the settings of a run (docs/rules.md#azure-attribution).
type Options struct {
	// From and To bound the run: a row counts when its ChargePeriodStart
	// lies in [From, To). Both are required.
	From, To time.Time
	// ChargeCategory is the category of rows that count; default "Usage".
	// Compared case-insensitively.
	ChargeCategory string
	// CostColumn is the amount credited: "EffectiveCost" (default),
	// "BilledCost" or "x_EffectiveCostInUsd" (then the currency is USD).
	CostColumn string
	// Workers is how many goroutines read and credit rows; default 1.
	Workers int
	// Beside is the index of a second world over the same subscriptions
	// whose credit the run also totals, per partner and currency only
	// (Beside): the monthly close's credit of unlinked credentials. Each
	// resource is looked up once for both worlds.
	Beside *Index
	// Part, when Part.Of > 1, makes the run read only the rows of the
	// subscriptions in bucket Part.Index of Part.Of (BucketOf): the others
	// are skipped and counted nowhere. The parts' results, merged, are the
	// whole run's; a large file read in parts keeps one part's resources in
	// memory at a time (docs/performance.md, "Memory as rows grow").
	Part Part
	// StoredUsage: the files are ones an import accepted (focus.Options.Stored).
	StoredUsage bool
	// chunkSize overrides the reader's chunk size (tests use tiny chunks
	// to share a small file among workers).
	chunkSize int
}

// Part is one bucket of subscriptions: Index of Of (at most MaxParts).
// The rows of other parts are skipped as soon as their SubAccountId is
// read, unless CheckAll: then every row is read whole and checked, so that
// a bad row anywhere stops this run as it stops a run over all rows (the
// first of a run's parts sets it; docs/performance.md, "Memory as rows
// grow").
type Part struct {
	Index, Of int
	CheckAll  bool
}

// MaxParts bounds the parts a run is read in (attribute keeps a file open
// per part).
const MaxParts = 64

// Run streams usage rows through an index. Create one with NewRun, feed it
// files with Scan (or rows with Add), then take the Result. A Run is used
// by one caller at a time; its Scan is internally parallel.
type Run struct {
	ix       *Index
	opt      Options
	from, to int64
	category []byte
	cost     int // which Row amount
	workers  []*worker
	file     int64 // index of the next input, for first-occurrence order
	// resources are shared by the workers; each keeps its own credits.
	resources *registry
	cache     *resourceCache
	// Grant lists shared by resources (resolve), for the index and for
	// Options.Beside.
	memo, besideMemo *grantMemo
	// Currency codes, numbered for the run: a credit holds its number.
	curMu  sync.Mutex
	curs   []string
	curNum map[string]uint32
	done   bool    // Result was called: the run reads no more rows
	result *Result // what Result returned
}

// errResultTaken refuses rows after Result, whose credits refer to the
// run's state.
var errResultTaken = errors.New("attribution run: rows added after its result was taken")

const (
	costEffective = iota
	costBilled
	costUSD
)

// NewRun prepares a run over ix.
func NewRun(ix *Index, opt Options) (*Run, error) {
	if opt.From.IsZero() || opt.To.IsZero() || !opt.From.Before(opt.To) {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "attribution needs a period with from before to (got from %s, to %s)", opt.From.Format(time.RFC3339), opt.To.Format(time.RFC3339))
	}
	if ix.grantsDropped || (opt.Beside != nil && opt.Beside.grantsDropped) {
		return nil, errors.New("attribution run: the index's grants were let go (Index.DropGrants)")
	}
	if opt.Part.Of > MaxParts || opt.Part.Of > 1 && (opt.Part.Index < 0 || opt.Part.Index >= opt.Part.Of) {
		return nil, fmt.Errorf("attribution run: part %d of %d does not exist", opt.Part.Index, opt.Part.Of)
	}
	if opt.ChargeCategory == "" {
		opt.ChargeCategory = "Usage"
	}
	r := &Run{ix: ix, from: opt.From.UnixNano(), to: opt.To.UnixNano(), category: []byte(opt.ChargeCategory),
		resources: newRegistry(), cache: newResourceCache(), curNum: map[string]uint32{},
		memo: newGrantMemo(), besideMemo: newGrantMemo()}
	switch opt.CostColumn {
	case "", focus.ColEffectiveCost:
		opt.CostColumn, r.cost = focus.ColEffectiveCost, costEffective
	case focus.ColBilledCost:
		r.cost = costBilled
	case focus.ColEffectiveCostInUSD:
		r.cost = costUSD
	default:
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "cost column %q is not supported; expected %s, %s or %s", opt.CostColumn, focus.ColEffectiveCost, focus.ColBilledCost, focus.ColEffectiveCostInUSD)
	}
	opt.Workers = max(opt.Workers, 1)
	r.opt = opt
	for range opt.Workers {
		r.workers = append(r.workers, newWorker(r))
	}
	return r, nil
}

// Scan reads one FOCUS file (CSV, gzip CSV or Parquet) into the run. Files
// scanned earlier come first in input order (which decides the casing of a
// resource id seen in several spellings). A bad row stops the scan with an
// error naming the file and line; credits from the rows before it stay in
// the run, so callers that need all-or-nothing discard the run.
func (r *Run) Scan(rd io.Reader, name string) error {
	if r.done {
		return errResultTaken
	}
	file := r.file
	r.file++
	return focus.Scan(rd, name, r.scanOptions(len(r.workers), func(w int) int { return w }), r.rowFunc(file, name))
}

// scanOptions are the reader's options for a scan on workers goroutines,
// the reader's worker w being the run's worker(w): with Options.Part, rows
// of other parts are skipped unread (unless Part.CheckAll).
func (r *Run) scanOptions(workers int, worker func(w int) int) focus.Options {
	o := focus.Options{Workers: workers, ChunkSize: r.opt.chunkSize, Stored: r.opt.StoredUsage}
	if r.opt.Part.Of > 1 && !r.opt.Part.CheckAll {
		o.Keep = func(w int, sub focus.GUID) bool { return r.workers[worker(w)].inPart(sub) }
	}
	return o
}

// ScanAs reads one FOCUS file into the run on the calling goroutine, as
// worker w of Options.Workers, and returns how many rows it read. Callers
// scan several files at once this way, one goroutine per worker, where
// Scan would share each file among the workers; they number the files
// themselves (file), in the order that decides a resource's first
// spelling. Files scanned at once must not share a resource (the usage
// store's buckets hold different subscriptions), and ScanAs must not run
// beside Scan or Add.
func (r *Run) ScanAs(w int, file int64, rd io.Reader, name string) (int64, error) {
	if r.done {
		return 0, errResultTaken
	}
	if w < 0 || w >= len(r.workers) {
		return 0, fmt.Errorf("attribution run: worker %d of %d", w, len(r.workers))
	}
	before := r.workers[w].summary.rows()
	fn := r.rowFunc(file, name)
	err := focus.Scan(rd, name, r.scanOptions(1, func(int) int { return w }), func(_ int, row *focus.Row) error { return fn(w, row) })
	r.workers[w].flush()
	return r.workers[w].summary.rows() - before, err
}

// rowFunc credits rows of input number file, naming the file in errors.
func (r *Run) rowFunc(file int64, name string) focus.RowFunc {
	return func(w int, row *focus.Row) error {
		if err := r.workers[w].add(file, row); err != nil {
			return partnerlink.Errorf(partnerlink.ErrorCode(err), "%s %s", name, partnerlink.ErrorMessage(err))
		}
		return nil
	}
}

// Add credits one row read by the caller, as input number file (callers
// feeding rows themselves number their inputs from 0, in order). It uses
// worker 0's state, so it must not run concurrently with itself or Scan.
func (r *Run) Add(file int64, row *focus.Row) error {
	if r.done {
		return errResultTaken
	}
	if file >= r.file {
		r.file = file + 1
	}
	return r.workers[0].add(file, row)
}

// credit is a worker's running credit of a partner in a currency for a
// resource: the run holds one per partner, resource, currency and worker
// (hundreds of thousands), so it is kept small, and holds no pointer, so
// that the collector never scans the slabs it is cut from
// (docs/performance.md). Its sums are read through its worker
// (worker.sums).
type credit struct {
	partner  int32
	currency uint32 // the run's number of the code (Run.currencyCode)
	rows     int64
	// The sums while they fit the fast path (focus.Fixed)...
	attributed, eligible focus.Fixed
	// ...and once one did not, 1 + the index of both in the worker's
	// slow sums (amounts beyond 18 digits or totals beyond 10^20: rare).
	slow uint32
	// 1 + the index in the worker's usd totals of x_EffectiveCostInUsd of
	// the same rows, when the input has it.
	usd uint32
}

// slowSums are a credit's sums once one left the fast path.
type slowSums struct{ attributed, eligible focus.Sum }

// usdTotal is Azure's x_EffectiveCostInUsd of a credit's rows.
type usdTotal struct {
	sum  focus.Sum
	rows int64
}

// total is a credit merged over the workers (mergeCredit).
type total struct {
	partner    int32
	currency   uint32
	rows       int64
	attributed focus.Sum
	eligible   focus.Sum
	usd        focus.Sum
	usdRows    int64
}

// worker holds one goroutine's credits and tallies; merged at the end.
type worker struct {
	run *Run
	// credits by resource id, cut from slab.
	credits [][]credit
	slab    []credit
	// The credits' slow sums and USD totals (credit.slow, credit.usd).
	slow  []slowSums
	usd   []usdTotal
	lower []byte
	// The run's currency numbers of the codes this worker has seen.
	currencies map[string]uint32
	lastCur    []byte
	lastCurNum uint32
	// seen has bit id set for each resource the worker has met (saw).
	seen []uint64
	// The subscriptions' own rows (rows without ResourceId).
	subRows map[*subscription]*resource
	// The rows waiting to be credited together (stretch).
	pending stretch
	// The previous row's resource: usage files list a resource's meters
	// one after another.
	last *resource
	// next[id] is the resource that followed resource id the last time:
	// usage files list the resources in the same order day after day.
	next    []*resource
	lastSub *subscription
	// refs[k] is the resource of entry k of the dictionary numbered refGen
	// (focus.Row.ResourceRef).
	refs     []*resource
	refGen   uint64
	lastGUID focus.GUID
	lastID   []byte
	summary  tallies
	// orgHits are the organizations the current row reaches.
	orgHits []orgHit
	// beside[p] are the totals of partner p of the Beside world, by
	// currency.
	beside [][]credit
	// The last subscription asked about (inPart) and whether it is in the
	// run's part.
	partGUID          focus.GUID
	partKnown, partIn bool
}

func newWorker(r *Run) *worker {
	return &worker{run: r, currencies: map[string]uint32{},
		subRows: map[*subscription]*resource{}, summary: newTallies()}
}

// add credits one row (docs/rules.md#azure-attribution).
func (w *worker) add(file int64, row *focus.Row) error {
	r := w.run
	var amount *focus.Amount
	currency := row.BillingCurrency
	switch r.cost {
	case costEffective:
		amount = &row.EffectiveCost
	case costBilled:
		amount = &row.BilledCost
	default:
		if !row.HasEffectiveCostInUSD {
			return partnerlink.Errorf(partnerlink.EINVALID, "line %d: the file has no %s column; choose another cost column", row.Line, focus.ColEffectiveCostInUSD)
		}
		amount, currency = &row.EffectiveCostInUSD, usd
	}
	// Rows of other parts (Options.Part) count nowhere; only checked.
	if r.opt.Part.Of > 1 && !w.inPart(row.Subscription) {
		return nil
	}
	// The category as the run names it is the common case (no folding).
	if !bytes.Equal(row.ChargeCategory, r.category) && !bytes.EqualFold(row.ChargeCategory, r.category) {
		w.summary.otherCategory.add(currency, amount)
		return nil
	}
	ps, pe := row.ChargePeriodStart.UnixNano(), row.ChargePeriodEnd.UnixNano()
	if ps < r.from || ps >= r.to {
		w.summary.outOfPeriod.add(currency, amount)
		return nil
	}
	sub := w.lastSub
	if sub == nil || w.lastGUID != row.Subscription {
		sub = r.ix.subs[row.Subscription]
	}
	if sub == nil {
		w.summary.unknownSubscription.add(currency, amount)
		return nil
	}
	if sub.none && (r.opt.Beside == nil || r.besideNone(row.Subscription)) {
		// No grant reaches the subscription (markUngranted): its rows'
		// resources need not be looked up.
		w.summary.noPartner.add(currency, amount)
		return nil
	}
	res := w.lookup(sub, file, row)
	s := &w.pending
	if s.rows > 0 && (s.res != res || s.ps != ps || s.pe != pe || s.hasUSD != row.HasEffectiveCostInUSD || !bytes.Equal(s.currency, currency)) {
		w.flush()
	}
	if s.rows == 0 {
		s.res, s.ps, s.pe, s.hasUSD = res, ps, pe, row.HasEffectiveCostInUSD
		s.currency = append(s.currency[:0], currency...)
	}
	s.rows++
	s.amount.Add(*amount)
	if s.hasUSD {
		s.usd.Add(row.EffectiveCostInUSD)
	}
	return nil
}

// stretch is a run of rows that credit alike: the same resource, charge
// period and currency, one after another (a usage file lists a resource's
// meters of a day together). They are credited once, with their sums, when
// a row unlike them comes or the scan ends (worker.flush): what crediting
// costs is reaching the resource's grants and credits, not adding.
type stretch struct {
	res         *resource
	ps, pe      int64
	currency    []byte
	hasUSD      bool
	rows        int64
	amount, usd focus.Sum
}

// flush credits the pending stretch of rows (docs/rules.md#azure-attribution):
// each partner whose grants reach the resource over the charge period, and
// each organization of those partners once.
func (w *worker) flush() {
	s := &w.pending
	if s.rows == 0 {
		return
	}
	res := s.res
	credited := false
	gs := res.grants
	var cur uint32 // the currency's number, once the rows are credited
	for i := 0; i < len(gs); {
		p, hit, eligible, next := partnerHit(gs, i, s.ps, s.pe)
		if i = next; !hit {
			continue
		}
		if !credited {
			credited, cur = true, w.currency(s.currency)
		}
		w.add1(res, p, cur, eligible)
		if w.run.ix.orgOf != nil {
			if o := w.run.ix.orgOf[p]; o >= 0 {
				w.orgHit(o, eligible)
			}
		}
	}
	// Each organization reached is credited once for a row
	// (NewIndexWithOrganizations).
	for _, h := range w.orgHits {
		w.add1(res, h.org, cur, h.eligible)
	}
	w.orgHits = w.orgHits[:0]
	if len(res.beside) > 0 {
		w.besideRow(res.beside, s)
	}
	if credited {
		w.summary.credited.addSum(s.currency, &s.amount, s.rows)
	} else {
		w.summary.noPartner.addSum(s.currency, &s.amount, s.rows)
	}
	s.res, s.rows, s.amount, s.usd = nil, 0, focus.Sum{}, focus.Sum{}
}

// flush credits every worker's pending rows (worker.flush), once no
// worker reads.
func (r *Run) flush() {
	for _, w := range r.workers {
		w.flush()
	}
}

// inPart reports whether sub's rows belong to the run's part (Options.Part),
// remembering the last subscription's answer: rows come grouped by
// subscription.
func (w *worker) inPart(sub focus.GUID) bool {
	if !w.partKnown || sub != w.partGUID {
		w.partGUID, w.partKnown = sub, true
		w.partIn = BucketOf(sub, w.run.opt.Part.Of) == w.run.opt.Part.Index
	}
	return w.partIn
}

// partnerHit reads the grants of one partner, gs[i:next] (grants are
// grouped by partner): whether they credit a row charged over [ps, pe),
// and whether incentive-eligible: a writing role held for the whole charge
// period by one grant.
func partnerHit(gs []grant, i int, ps, pe int64) (p int32, hit, eligible bool, next int) {
	p = gs[i].partner
	for ; i < len(gs) && gs[i].partner == p; i++ {
		g := &gs[i]
		if g.from < pe && ps < g.to {
			hit = true
			if g.writer && g.from <= ps && g.to >= pe {
				eligible = true
			}
		}
	}
	return p, hit, eligible, i
}

// add1 credits the pending rows' amount to partner (or organization) p.
func (w *worker) add1(res *resource, p int32, currency uint32, eligible bool) {
	s := &w.pending
	c := w.credit(res, p, currency)
	w.addAmount(c, &s.amount, s.rows, eligible)
	if s.hasUSD {
		if c.usd == 0 {
			w.usd = append(w.usd, usdTotal{})
			c.usd = uint32(len(w.usd))
		}
		u := &w.usd[c.usd-1]
		u.sum.AddSum(s.usd)
		u.rows += s.rows
	}
}

// addAmount adds the amount a of n rows to c: to its attributed sum, and
// to its eligible one when eligible.
func (w *worker) addAmount(c *credit, a *focus.Sum, n int64, eligible bool) {
	c.rows += n
	if c.slow == 0 {
		in := c.attributed.AddSum(*a) // false: c.attributed unchanged
		if in && (!eligible || c.eligible.AddSum(*a)) {
			return
		}
		w.slow = append(w.slow, slowSums{c.attributed.Sum(), c.eligible.Sum()})
		c.slow, c.attributed, c.eligible = uint32(len(w.slow)), focus.Fixed{}, focus.Fixed{}
		if in { // only the eligible amount is left to add
			w.slow[c.slow-1].eligible.AddSum(*a)
			return
		}
	}
	s := &w.slow[c.slow-1]
	s.attributed.AddSum(*a)
	if eligible {
		s.eligible.AddSum(*a)
	}
}

// sums are c's attributed and eligible sums, c one of w's credits.
func (w *worker) sums(c *credit) (attributed, eligible focus.Sum) {
	if c.slow != 0 {
		s := &w.slow[c.slow-1]
		return s.attributed, s.eligible
	}
	return c.attributed.Sum(), c.eligible.Sum()
}

// besideRow totals the pending rows s for each partner of the Beside
// world whose grants gs credit them, by the rule of flush.
func (w *worker) besideRow(gs []grant, s *stretch) {
	for i := 0; i < len(gs); {
		p, hit, eligible, next := partnerHit(gs, i, s.ps, s.pe)
		if i = next; !hit {
			continue
		}
		if int(p) >= len(w.beside) {
			w.beside = append(w.beside, make([][]credit, int(p)+1-len(w.beside))...)
		}
		cur := w.currency(s.currency)
		k := 0
		for k < len(w.beside[p]) && w.beside[p][k].currency != cur {
			k++
		}
		if k == len(w.beside[p]) {
			w.beside[p] = append(w.beside[p], credit{partner: p, currency: cur})
		}
		w.addAmount(&w.beside[p][k], &s.amount, s.rows, eligible)
	}
}

// RowsRead is the number of rows the run has read so far (not while a
// Scan is under way).
func (r *Run) RowsRead() int64 {
	r.flush()
	n := int64(0)
	for _, w := range r.workers {
		n += w.summary.rows()
	}
	return n
}

// rows is how many rows the tallies counted.
func (t *tallies) rows() int64 {
	return t.credited.Rows + t.otherCategory.Rows + t.outOfPeriod.Rows + t.unknownSubscription.Rows + t.noPartner.Rows
}

// besideNone reports whether no grant of the Beside world reaches the
// subscription.
func (r *Run) besideNone(g focus.GUID) bool {
	s := r.opt.Beside.subs[g]
	return s == nil || s.none
}

// Beside returns the run's totals for the Beside world (Options.Beside),
// one credit per partner and currency (with no tenant, subscription or
// resource), sorted; nil when the run has no Beside world.
func (r *Run) Beside() *Result {
	if r.opt.Beside == nil {
		return nil
	}
	r.flush()
	var cs []total
	for _, w := range r.workers {
		for _, pcs := range w.beside {
			for i := range pcs {
				cs = mergeCredit(cs, w, &pcs[i])
			}
		}
	}
	out := make([]Credit, len(cs))
	for i, c := range cs {
		out[i] = Credit{PartnerID: r.opt.Beside.partners[c.partner], BillingCurrency: r.curs[c.currency],
			AttributedCost: c.attributed, IncentiveEligibleCost: c.eligible, UsageRows: c.rows}
	}
	slices.SortFunc(out, func(a, b Credit) int { return CompareCredits(&a, &b) })
	return ResultOf(Summary{ChargeCategory: r.opt.ChargeCategory, CostColumn: r.opt.CostColumn}, out)
}

// orgHit notes that the row reaches organization o, eligible or not.
func (w *worker) orgHit(o int32, eligible bool) {
	for i := range w.orgHits {
		if w.orgHits[i].org == o {
			w.orgHits[i].eligible = w.orgHits[i].eligible || eligible
			return
		}
	}
	w.orgHits = append(w.orgHits, orgHit{org: o, eligible: eligible})
}

type orgHit struct {
	org      int32
	eligible bool
}

var usd = []byte("USD")

// currency returns the run's number of a currency code.
func (w *worker) currency(b []byte) uint32 {
	if w.lastCur != nil && bytes.Equal(b, w.lastCur) {
		return w.lastCurNum
	}
	n, ok := w.currencies[string(b)]
	if !ok {
		n = w.run.currencyNumber(string(b))
		w.currencies[string(b)] = n
	}
	w.lastCur, w.lastCurNum = append(w.lastCur[:0], b...), n
	return n
}

// currencyNumber numbers a currency code for the run (workers ask once per
// code).
func (r *Run) currencyNumber(code string) uint32 {
	r.curMu.Lock()
	defer r.curMu.Unlock()
	n, ok := r.curNum[code]
	if !ok {
		n = uint32(len(r.curs))
		r.curs = append(r.curs, code)
		r.curNum[code] = n
	}
	return n
}

// currencyCode is the code of a currency number (once no worker adds).
func (r *Run) currencyCode(n uint32) string { return r.curs[n] }

// credit returns the worker's running credit of a partner in a currency
// for a resource.
func (w *worker) credit(res *resource, partner int32, currency uint32) *credit {
	if int(res.id) >= len(w.credits) {
		w.credits = append(w.credits, make([][]credit, int(res.id)+1-len(w.credits))...)
	}
	cs := w.credits[res.id]
	for i := range cs {
		if c := &cs[i]; c.partner == partner && c.currency == currency {
			return c
		}
	}
	switch {
	case cs == nil:
		// Room for one credit per partner that may be credited: a
		// resource's rows mostly share a currency.
		cs = w.newCredits(w.run.ix.creditKeys(res.grants))
	case len(cs) == cap(cs):
		// Another currency or an organization: twice the room, from the
		// slab too (growing with append cost a heap allocation each).
		cs = append(w.newCredits(2*len(cs)), cs...)
	}
	w.credits[res.id] = append(cs, credit{partner: partner, currency: currency})
	return &w.credits[res.id][len(cs)]
}

// newCredits returns an empty slice with room for n credits, cut from a
// slab: allocating each resource's credits on its own cost more than
// crediting its rows.
func (w *worker) newCredits(n int) []credit {
	if n > len(w.slab) {
		w.slab = make([]credit, max(n, 1024))
	}
	cs := w.slab[:0:n]
	w.slab = w.slab[n:]
	return cs
}

// creditKeys counts the keys a row credited through grants gs (grouped by
// partner) may credit: their partners, and the organizations of those
// (NewIndexWithOrganizations). A resource's credits are cut from a slab
// with this much room, so that crediting its rows rarely outgrows it
// (the room outgrown stays in the slab unused: at 10M rows, a close
// that counted only partners left 650k credits' room behind).
func (ix *Index) creditKeys(gs []grant) int {
	n := 0
	var orgs [4]int32
	seen := orgs[:0]
	for i := range gs {
		if i > 0 && gs[i].partner == gs[i-1].partner {
			continue
		}
		n++
		if ix.orgOf == nil {
			continue
		}
		if o := ix.orgOf[gs[i].partner]; o >= 0 && !slices.Contains(seen, o) {
			seen = append(seen, o)
			n++
		}
	}
	return n
}

// Tally counts rows and their amounts by currency.
type Tally struct {
	Rows    int64
	Amounts map[string]*focus.Sum
	// The last currency added and its sum: rows mostly share a currency.
	lastCur []byte
	last    *focus.Sum
}

func (t *Tally) add(currency []byte, a *focus.Amount) {
	t.Rows++
	t.sum(currency).Add(*a)
}

// addSum adds n rows of the amount a.
func (t *Tally) addSum(currency []byte, a *focus.Sum, n int64) {
	t.Rows += n
	t.sum(currency).AddSum(*a)
}

// sum is the running sum of a currency.
func (t *Tally) sum(currency []byte) *focus.Sum {
	if t.last != nil && bytes.Equal(t.lastCur, currency) {
		return t.last
	}
	s := t.Amounts[string(currency)]
	if s == nil {
		s = new(focus.Sum)
		t.Amounts[string(currency)] = s
	}
	t.lastCur, t.last = append(t.lastCur[:0], currency...), s
	return s
}

func (t *Tally) merge(o *Tally) {
	t.Rows += o.Rows
	for c, s := range o.Amounts {
		if t.Amounts[c] == nil {
			t.Amounts[c] = new(focus.Sum)
		}
		t.Amounts[c].AddSum(*s)
	}
}

type tallies struct {
	credited, otherCategory, outOfPeriod, unknownSubscription, noPartner Tally
}

func newTallies() tallies {
	n := func() Tally { return Tally{Amounts: map[string]*focus.Sum{}} }
	return tallies{n(), n(), n(), n(), n()}
}

func (t *tallies) merge(o *tallies) {
	t.credited.merge(&o.credited)
	t.otherCategory.merge(&o.otherCategory)
	t.outOfPeriod.merge(&o.outOfPeriod)
	t.unknownSubscription.merge(&o.unknownSubscription)
	t.noPartner.merge(&o.noPartner)
}

// Summary accounts for every row read (docs/rules.md#azure-attribution: rows never silently
// dropped). Read = Credited + NoPartner + UnknownSubscription +
// OutOfPeriod + OtherCategory.
type Summary struct {
	ChargeCategory string
	CostColumn     string
	Read           Tally
	// Credited rows were credited to at least one partner (each row once,
	// however many partners).
	Credited Tally
	// NoPartner rows counted (right category and period, known
	// subscription) but no partner was credited.
	NoPartner Tally
	// UnknownSubscription rows name a subscription not in the world.
	UnknownSubscription Tally
	// OutOfPeriod rows start outside [From, To).
	OutOfPeriod Tally
	// OtherCategory rows have another ChargeCategory.
	OtherCategory Tally
}

func (r *Run) String() string { return fmt.Sprintf("attribution run %s–%s", r.opt.From, r.opt.To) }
