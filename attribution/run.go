package attribution

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"sync"
	"sync/atomic"
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
	// chunkSize overrides the reader's chunk size (tests use tiny chunks
	// to share a small file among workers).
	chunkSize int
}

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
	done      bool    // Result was called: the run reads no more rows
	result    *Result // what Result returned
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
	if opt.ChargeCategory == "" {
		opt.ChargeCategory = "Usage"
	}
	r := &Run{ix: ix, from: opt.From.UnixNano(), to: opt.To.UnixNano(), category: []byte(opt.ChargeCategory),
		resources: newRegistry()}
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
	return focus.Scan(rd, name, focus.Options{Workers: len(r.workers), ChunkSize: r.opt.chunkSize}, r.rowFunc(file, name))
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

// ScanFile is Scan of the file at path.
func (r *Run) ScanFile(path string) error {
	if r.done {
		return errResultTaken
	}
	file := r.file
	r.file++
	return focus.ScanFile(path, focus.Options{Workers: len(r.workers), ChunkSize: r.opt.chunkSize}, r.rowFunc(file, path))
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

// resource is one resource of the usage, shared by the run's workers: the
// grants that may credit it (resolved once per run) and the casing and
// ServiceName of its earliest row. Workers keep their credits for it apart,
// by id (worker.credits), so the hot path takes no lock.
type resource struct {
	id     int32
	key    string // the registry's key: subscription GUID bytes + lower-cased id
	sub    *subscription
	grants []grant
	// Guarded by the registry shard's lock while workers run.
	raw     string // the resource id as first seen
	service string // its ServiceName at that first row
	first   position
}

type position struct{ file, line int64 }

func (p position) before(q position) bool {
	return p.file < q.file || p.file == q.file && p.line < q.line
}

type credit struct {
	partner    int32
	currency   string
	attributed focus.Sum
	eligible   focus.Sum
	rows       int64
	usd        focus.Sum // x_EffectiveCostInUsd of the same rows, when given
	usdRows    int64
}

// registry holds the resources a run has seen, under their lower-cased key
// (subscription GUID bytes + lower-cased resource id, docs/rules.md#identifiers-and-time), in shards
// so that workers rarely wait for each other.
type registry struct {
	seed   maphash.Seed
	shards [64]struct {
		mu sync.Mutex
		m  map[string]*resource
	}
	mu  sync.Mutex
	all []*resource  // by id
	n   atomic.Int32 // len(all), for workers sizing their caches
}

func newRegistry() *registry {
	g := &registry{seed: maphash.MakeSeed()}
	for i := range g.shards {
		g.shards[i].m = map[string]*resource{}
	}
	return g
}

// get returns the resource under key (a reused buffer), creating it with
// create when it is new, and makes at the resource's first position when
// it comes before the one known (workers read different parts of a file
// at once).
func (g *registry) get(key []byte, at position, raw, service []byte, create func(key string) *resource) *resource {
	sh := &g.shards[maphash.Bytes(g.seed, key)%uint64(len(g.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	res := sh.m[string(key)]
	if res == nil {
		k := string(key)
		res = create(k)
		res.key = k
		res.seenAt(at, raw, service)
		sh.m[k] = res
		g.mu.Lock()
		res.id = int32(len(g.all))
		g.all = append(g.all, res)
		g.n.Store(int32(len(g.all)))
		g.mu.Unlock()
	} else if at.before(res.first) {
		res.seenAt(at, raw, service)
	}
	return res
}

// seenAt makes the row at position at the resource's first: its casing
// (the subscription's id for a row without ResourceId) and ServiceName.
func (res *resource) seenAt(at position, raw, service []byte) {
	res.first = at
	res.raw, res.service = string(raw), string(service)
	if len(raw) == 0 {
		res.raw = "/subscriptions/" + res.sub.id
	}
}

// worker holds one goroutine's credits and tallies; merged at the end.
type worker struct {
	run *Run
	// credits by resource id, cut from slab.
	credits [][]credit
	slab    []credit
	lower   []byte
	// Currency codes, interned: a credit holds one per resource.
	currencies map[string]string
	lastCur    []byte
	lastCurStr string
	// Resources by the maphash of their id as written (lookup), and the
	// subscriptions' own rows.
	cache   []cacheEntry
	subRows map[*subscription]*resource
	// The previous row's resource: usage files list a resource's meters
	// one after another.
	last *resource
	// next[id] is the resource that followed resource id the last time:
	// usage files list the resources in the same order day after day.
	next     []*resource
	lastSub  *subscription
	lastGUID focus.GUID
	lastID   []byte
	summary  tallies
}

func newWorker(r *Run) *worker {
	return &worker{run: r, currencies: map[string]string{}, cache: make([]cacheEntry, cacheSize),
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
	if !bytes.EqualFold(row.ChargeCategory, r.category) {
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
	res := w.lookup(sub, file, row)
	credited := false
	gs := res.grants
	for i := 0; i < len(gs); {
		p := gs[i].partner
		hit, eligible := false, false
		for ; i < len(gs) && gs[i].partner == p; i++ {
			g := &gs[i]
			if g.from < pe && ps < g.to {
				hit = true
				// Incentive-eligible: a writing role held for the whole
				// charge period by this one grant.
				if g.writer && g.from <= ps && g.to >= pe {
					eligible = true
				}
			}
		}
		if !hit {
			continue
		}
		credited = true
		c := w.credit(res, p, w.currency(currency))
		c.attributed.Add(*amount)
		if eligible {
			c.eligible.Add(*amount)
		}
		c.rows++
		if row.HasEffectiveCostInUSD {
			c.usd.Add(row.EffectiveCostInUSD)
			c.usdRows++
		}
	}
	if credited {
		w.summary.credited.add(currency, amount)
	} else {
		w.summary.noPartner.add(currency, amount)
	}
	return nil
}

var usd = []byte("USD")

// currency returns the interned string of a currency code.
func (w *worker) currency(b []byte) string {
	if w.lastCurStr != "" && bytes.Equal(b, w.lastCur) {
		return w.lastCurStr
	}
	s, ok := w.currencies[string(b)]
	if !ok {
		s = string(b)
		w.currencies[s] = s
	}
	w.lastCur, w.lastCurStr = append(w.lastCur[:0], b...), s
	return s
}

// lookup finds or creates the worker's state for the row's resource. The
// key is built in a reused buffer, and a map lookup with string(bytes) does
// not allocate, so only a resource's first row allocates. Rows of one
// resource mostly follow each other, so the previous row's resource is
// tried first.
func (w *worker) lookup(sub *subscription, file int64, row *focus.Row) *resource {
	id := row.ResourceID
	if n := len(id); n > 1 && id[n-1] == '/' {
		id = id[:n-1]
	}
	if w.last != nil && w.lastSub == sub && bytes.Equal(id, w.lastID) {
		return w.last
	}
	// Then the worker's cache, by the id as written: a hit costs a hash
	// and a comparison, where the registry costs lower-casing, a lock and
	// a map probe. The comparison with the resource's own key makes a hash
	// collision a miss, never a wrong resource.
	if len(id) == 0 {
		// A row of the subscription itself (no ResourceId).
		res := w.subRows[sub]
		if res == nil {
			res = w.canonical(sub, row.Subscription, id, row.ServiceName, file, row.Line)
			w.subRows[sub] = res
		}
		w.last, w.lastSub, w.lastGUID = res, sub, row.Subscription
		w.lastID = w.lastID[:0]
		return res
	}
	// The resource that followed the previous one last time comes next,
	// mostly; checking it costs no hash and no random memory access, as
	// resources are numbered (and allocated) in the order first seen.
	var res *resource
	if w.last != nil && int(w.last.id) < len(w.next) {
		if p := w.next[w.last.id]; p != nil && p.sub == sub && asciiEqualFold(id, p.key[len(focus.GUID{}):]) {
			res = p
		}
	}
	if res == nil {
		h := maphash.Bytes(w.run.resources.seed, id)
		set := w.cache[h&uint64(len(w.cache)-1)&^(cacheWays-1):][:cacheWays]
		for i := range set {
			if e := &set[i]; e.h == h && e.res != nil && e.res.sub == sub && asciiEqualFold(id, e.res.key[len(focus.GUID{}):]) {
				res = e.res
				break
			}
		}
		if res == nil {
			res = w.canonical(sub, row.Subscription, id, row.ServiceName, file, row.Line)
			w.cacheAdd(h, res)
			if n := int(w.run.resources.n.Load()); n > len(w.cache) {
				w.growCache(n)
			}
		}
		w.follows(res)
	}
	w.last, w.lastSub, w.lastGUID = res, sub, row.Subscription
	w.lastID = append(w.lastID[:0], id...)
	return res
}

// follows records that res came after the previous row's resource.
func (w *worker) follows(res *resource) {
	if w.last == nil {
		return
	}
	if int(w.last.id) >= len(w.next) {
		n := int(w.run.resources.n.Load())
		w.next = append(w.next, make([]*resource, max(n, int(w.last.id)+1)-len(w.next))...)
	}
	w.next[w.last.id] = res
}

// cacheSize is the initial number of entries of a worker's resource cache;
// it grows to the number of resources, since usage files often cycle
// through all of them (a day at a time).
const cacheSize = 1 << 12

// cacheWays is the cache's associativity: an id may sit in any of 4
// entries (one cache line), so ids that hash to the same set do not evict
// each other on every pass through the file.
const cacheWays = 4

// cacheAdd files res under h, in a free entry of its set or in place of
// one chosen by h's top bits.
func (w *worker) cacheAdd(h uint64, res *resource) {
	set := w.cache[h&uint64(len(w.cache)-1)&^(cacheWays-1):][:cacheWays]
	i := int(h >> 62)
	for j := range set {
		if set[j].res == nil {
			i = j
			break
		}
	}
	set[i] = cacheEntry{h, res}
}

// growCache makes the cache hold at least n entries, keeping its entries.
func (w *worker) growCache(n int) {
	old := w.cache
	size := len(old)
	for size < n {
		size *= 2
	}
	w.cache = make([]cacheEntry, size)
	for _, e := range old {
		if e.res != nil {
			w.cacheAdd(e.h, e.res)
		}
	}
}

type cacheEntry struct {
	h   uint64 // maphash of the resource id as written
	res *resource
}

// asciiEqualFold reports whether a and the lower-case b are equal when A-Z
// in a are lower-cased (the same folding as the registry's keys). It
// compares 8 bytes at a time: ids are long and this runs on every row.
func asciiEqualFold(a []byte, b string) bool {
	if len(a) != len(b) {
		return false
	}
	i := 0
	for ; i+8 <= len(a); i += 8 {
		x, y := binary.LittleEndian.Uint64(a[i:]), stringWord(b, i)
		if x == y {
			continue
		}
		if x&highBits != 0 {
			break // a byte ≥ 0x80: byte by byte from here
		}
		if lowerASCII(x) != y {
			return false
		}
	}
	for ; i < len(a); i++ {
		c := a[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != b[i] {
			return false
		}
	}
	return true
}

const highBits = 0x8080808080808080

// lowerASCII lower-cases the A-Z bytes of x, whose bytes are all < 0x80:
// adding 0x3f sets a byte's high bit from 'A' up, adding 0x25 from 'Z'+1
// up (neither carries into the next byte), so their difference marks
// A-Z, and the mark moved to bit 5 is the case bit.
func lowerASCII(x uint64) uint64 {
	const ones = 0x0101010101010101
	upper := (x + 0x3f*ones) &^ (x + 0x25*ones) & highBits
	return x | upper>>2
}

// stringWord is binary.LittleEndian.Uint64 of s[i:i+8].
func stringWord(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// canonical finds or creates the resource under its lower-cased key.
func (w *worker) canonical(sub *subscription, g focus.GUID, id, service []byte, file, line int64) *resource {
	w.lower = append(w.lower[:0], g[:]...)
	if len(id) == 0 {
		w.lower = append(w.lower, "/subscriptions/"...)
		w.lower = append(w.lower, sub.id...)
	} else {
		for _, c := range id {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			w.lower = append(w.lower, c)
		}
	}
	return w.run.resources.get(w.lower, position{file, line}, id, service, func(key string) *resource {
		return &resource{sub: sub, grants: w.run.ix.resolve(sub, key[len(g):])}
	})
}

// credit returns the worker's running credit of a partner in a currency
// for a resource.
func (w *worker) credit(res *resource, partner int32, currency string) *credit {
	if int(res.id) >= len(w.credits) {
		w.credits = append(w.credits, make([][]credit, int(res.id)+1-len(w.credits))...)
	}
	cs := w.credits[res.id]
	for i := range cs {
		if c := &cs[i]; c.partner == partner && c.currency == currency {
			return c
		}
	}
	if cs == nil {
		// Room for one credit per partner that may be credited: a
		// resource's rows mostly share a currency.
		cs = w.newCredits(partnersIn(res.grants))
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

// partnersIn counts the partners of grants, which are grouped by partner.
func partnersIn(gs []grant) int {
	n := 0
	for i := range gs {
		if i == 0 || gs[i].partner != gs[i-1].partner {
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
	if t.last != nil && bytes.Equal(t.lastCur, currency) {
		t.last.Add(*a)
		return
	}
	s := t.Amounts[string(currency)]
	if s == nil {
		s = new(focus.Sum)
		t.Amounts[string(currency)] = s
	}
	t.lastCur, t.last = append(t.lastCur[:0], currency...), s
	s.Add(*a)
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
