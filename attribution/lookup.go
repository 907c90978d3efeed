package attribution

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/focus"
)

// The lookup machinery of a run: how a usage row finds its resource and the
// grants that may credit it, fast. Workers share one registry of resources;
// each predicts a row's resource from the order of the previous day's rows
// (FOCUS files list resources in the same order every day) and falls back to
// a 4-way cache the workers share, then the registry. Ids are compared case-insensitively
// eight bytes at a time. None of this changes what is credited: the rule is
// worker.add in run.go (docs/rules.md#credit).

// resource is one resource of the usage, shared by the run's workers: the
// grants that may credit it (resolved once per run) and the casing and
// ServiceName of its earliest row. Workers keep their credits for it apart,
// by id (worker.credits), so the hot path takes no lock.
type resource struct {
	id int32
	// fold is the id as the row that registered the resource wrote it (for
	// a row without ResourceId, the subscription's lower-cased id): the
	// resource's spellings are the ids equal to it under foldEqual. It
	// never changes, so workers compare with it without a lock; raw is the
	// same string until an earlier row of another spelling turns up.
	fold     string
	h        uint64    // foldHash of the id (resourceCache)
	shard    uint8     // the registry's shard that holds it
	sameHash *resource // the next resource of the shard under the same key hash
	sub      *subscription
	grants   []grant
	beside   []grant // the grants of the run's Beside world (Options.Beside)
	// Guarded by the registry shard's lock while workers run.
	raw     string // the resource id as first seen
	service string // its ServiceName at that first row
	first   position
}

type position struct{ file, line int64 }

func (p position) before(q position) bool {
	return p.file < q.file || p.file == q.file && p.line < q.line
}

// registry holds the resources a run has seen, under the hash of their
// lower-cased key (subscription GUID bytes + lower-cased resource id,
// docs/rules.md#identifiers-and-time), in shards so that workers rarely
// wait for each other. It keeps no key: a resource is told from others
// under the same hash by its subscription and fold, which saves a copy of
// every id (a few tens of megabytes at a few hundred thousand resources).
type registry struct {
	seed   maphash.Seed
	shards [64]struct {
		mu sync.Mutex
		m  map[uint64]*resource
	}
	mu  sync.Mutex
	all []*resource  // by id
	n   atomic.Int32 // len(all), for workers sizing their caches
}

func newRegistry() *registry {
	g := &registry{seed: maphash.MakeSeed()}
	for i := range g.shards {
		g.shards[i].m = map[uint64]*resource{}
	}
	return g
}

// get returns sub's resource under key (a reused buffer: sub's GUID bytes
// and the lower-cased id), creating it with create when it is new, and
// makes at the resource's first position when it comes before the one
// known (workers read different parts of a file at once).
func (g *registry) get(sub *subscription, key []byte, at position, raw, service []byte, create func(key []byte) *resource) *resource {
	h := maphash.Bytes(g.seed, key)
	shard := h % uint64(len(g.shards))
	sh := &g.shards[shard]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	id := key[len(focus.GUID{}):]
	first := sh.m[h]
	res := first
	for res != nil && (res.sub != sub || !foldEqual(id, res.fold)) {
		res = res.sameHash
	}
	if res == nil {
		res = create(key)
		res.shard, res.sameHash = uint8(shard), first
		res.h = foldHash(id)
		res.fold = string(raw)
		if len(raw) == 0 {
			res.fold = string(id) // "/subscriptions/" + the subscription's id
		}
		res.seenAt(at, raw, service)
		sh.m[h] = res
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

// sighted makes at the resource's first position when it comes before
// the one known, as get does for a resource found by other means than its
// key (resourceCache).
func (g *registry) sighted(res *resource, at position, raw, service []byte) {
	sh := &g.shards[res.shard]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if at.before(res.first) {
		res.seenAt(at, raw, service)
	}
}

// seenAt makes the row at position at the resource's first: its casing
// (the subscription's id for a row without ResourceId) and ServiceName.
func (res *resource) seenAt(at position, raw, service []byte) {
	res.first = at
	res.service = string(service)
	switch {
	case len(raw) == 0:
		res.raw = "/subscriptions/" + res.sub.id
	case string(raw) == res.fold:
		res.raw = res.fold // the spelling that registered it: no copy
	default:
		res.raw = string(raw)
	}
}

// lookup finds or creates the worker's state for the row's resource. The
// key is built in a reused buffer, and a map lookup with string(bytes) does
// not allocate, so only a resource's first row allocates. Rows of one
// resource mostly follow each other, so the previous row's resource is
// tried first.
func (w *worker) lookup(sub *subscription, file int64, row *focus.Row) *resource {
	ref := row.ResourceRef
	if ref == 0 {
		return w.lookupID(sub, file, row)
	}
	// A dictionary entry's resource, found once per entry (focus.Row's
	// ResourceRef): a row costs an index and a comparison.
	gen, k := ref>>32, int(uint32(ref))
	if gen != w.refGen {
		w.refGen = gen
		clear(w.refs)
	}
	if k < len(w.refs) {
		if res := w.refs[k]; res != nil && res.sub == sub {
			return res
		}
	} else {
		w.refs = append(w.refs, make([]*resource, k+1-len(w.refs))...)
	}
	res := w.lookupID(sub, file, row)
	w.refs[k] = res
	return res
}

// lookupID finds the row's resource by its id.
func (w *worker) lookupID(sub *subscription, file int64, row *focus.Row) *resource {
	id := row.ResourceID
	if n := len(id); n > 1 && id[n-1] == '/' {
		id = id[:n-1]
	}
	if w.last != nil && w.lastSub == sub && bytes.Equal(id, w.lastID) {
		return w.last
	}
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
	if w.last != nil && w.last.sub == sub && len(w.lastID) > 0 && foldEqual(id, w.last.fold) {
		// The previous row's resource in another spelling.
		res = w.last
	} else if w.last != nil && int(w.last.id) < len(w.next) {
		if p := w.next[w.last.id]; p != nil && p.sub == sub && foldEqual(id, p.fold) {
			res = p
		}
	}
	if res == nil {
		h := foldHash(id)
		cache := w.run.cache
		if res = cache.find(h, sub, id); res == nil {
			res = w.canonical(sub, row.Subscription, id, row.ServiceName, file, row.Line)
			cache.add(h, res, int(w.run.resources.n.Load()))
			w.saw(res)
		} else if !w.saw(res) {
			// Another worker registered it: this worker's first row of
			// it may still come first in the input (first spelling).
			w.run.resources.sighted(res, position{file, row.Line}, id, row.ServiceName)
		}
		w.follows(res)
	}
	w.last, w.lastSub, w.lastGUID = res, sub, row.Subscription
	w.lastID = append(w.lastID[:0], id...)
	return res
}

// saw reports whether the worker had met res before, and notes that it
// has: a worker's rows come in input order, so only its first row of a
// resource can be the resource's first (registry.get).
func (w *worker) saw(res *resource) bool {
	i, bit := int(res.id)/64, uint64(1)<<(res.id%64)
	if i >= len(w.seen) {
		w.seen = append(w.seen, make([]uint64, i+1-len(w.seen))...)
	}
	had := w.seen[i]&bit != 0
	w.seen[i] |= bit
	return had
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

// cacheSize is the initial number of entries of the run's resource cache;
// it grows to the number of resources, since usage files often cycle
// through all of them (a day at a time).
const cacheSize = 1 << 12

// cacheWays is the cache's associativity: an id may sit in any of 4
// entries, so ids that hash to the same set do not evict each other on
// every pass through the file.
const cacheWays = 4

// resourceCache finds a run's resources by the foldHash of their id as a
// row writes it: a hit costs a hash and a comparison, where the registry
// costs lower-casing, a lock and a map probe. The workers share it, so a
// resource one worker has registered is a hit for the others too. The
// comparison with the resource's own key makes a hash collision a miss,
// never a wrong resource; an entry lost to a concurrent growth is a miss
// too.
type resourceCache struct {
	grow sync.Mutex // one goroutine grows the table at a time
	tab  atomic.Pointer[[]cacheEntry]
}

// cacheEntry holds the hash beside the resource, so that a lookup reads
// the resources of its set only where the hash matches. Its two words are
// written one after the other; a reader that sees a hash with another
// entry's resource rejects it (res.h), as any mismatch.
type cacheEntry struct {
	h   atomic.Uint64
	res atomic.Pointer[resource]
}

func newResourceCache() *resourceCache {
	c := &resourceCache{}
	tab := make([]cacheEntry, cacheSize)
	c.tab.Store(&tab)
	return c
}

// find returns the resource of subscription sub whose id equals id up to
// ASCII case (h is foldHash(id)), or nil.
func (c *resourceCache) find(h uint64, sub *subscription, id []byte) *resource {
	tab := *c.tab.Load()
	set := tab[h&uint64(len(tab)-1)&^(cacheWays-1):][:cacheWays]
	for i := range set {
		if set[i].h.Load() != h {
			continue
		}
		if res := set[i].res.Load(); res != nil && res.h == h && res.sub == sub && foldEqual(id, res.fold) {
			return res
		}
	}
	return nil
}

// add files res under h (res.h), in a free entry of its set or in place of
// one chosen by h's top bits, first growing the table to hold n entries.
func (c *resourceCache) add(h uint64, res *resource, n int) {
	tab := *c.tab.Load()
	if n > len(tab) {
		tab = c.grown(n)
	}
	put(tab, h, res)
}

func put(tab []cacheEntry, h uint64, res *resource) {
	set := tab[h&uint64(len(tab)-1)&^(cacheWays-1):][:cacheWays]
	i := int(h >> 62)
	for j := range set {
		if set[j].res.Load() == nil {
			i = j
			break
		}
	}
	set[i].res.Store(res)
	set[i].h.Store(h)
}

// grown replaces the table with one of at least n entries holding the
// old one's, and returns it.
func (c *resourceCache) grown(n int) []cacheEntry {
	c.grow.Lock()
	defer c.grow.Unlock()
	old := *c.tab.Load()
	if n <= len(old) {
		return old // another worker grew it
	}
	size := len(old)
	for size < n {
		size *= 2
	}
	tab := make([]cacheEntry, size)
	for i := range old {
		if res := old[i].res.Load(); res != nil {
			put(tab, res.h, res)
		}
	}
	c.tab.Store(&tab)
	return tab
}

// foldEqual reports whether a and b are equal when A-Z in both are
// lower-cased (the same folding as the registry's keys). It compares 8
// bytes at a time, and words spelled alike at once: ids are long, this
// runs on every row, and most rows spell an id as the resource's fold.
func foldEqual(a []byte, b string) bool {
	if len(a) != len(b) {
		return false
	}
	if string(a) == b {
		return true // the same spelling, compared many bytes at a time
	}
	i := 0
	for ; i+8 <= len(a); i += 8 {
		x, y := binary.LittleEndian.Uint64(a[i:]), stringWord(b, i)
		if x == y {
			continue
		}
		if (x|y)&partnerlink.HighBits != 0 {
			break // a byte ≥ 0x80: byte by byte from here
		}
		if partnerlink.LowerWord(x) != partnerlink.LowerWord(y) {
			return false
		}
	}
	for ; i < len(a); i++ {
		c, d := a[i], b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

// foldHash hashes id so that ids equal under foldEqual hash the
// same: each byte with its 0x20 bit set, which makes A-Z a-z. The cache
// then finds a resource whatever the casing a row writes it in (usage
// files mix them), where a hash of the bytes as written missed on every
// other spelling.
func foldHash(id []byte) uint64 {
	const fold = 0x2020202020202020
	const m = 0x9e3779b97f4a7c15
	h := uint64(len(id)) * m
	i := 0
	for ; i+8 <= len(id); i += 8 {
		h = (h ^ (binary.LittleEndian.Uint64(id[i:]) | fold)) * m
		h ^= h >> 29
	}
	var tail uint64
	for j := len(id) - 1; j >= i; j-- {
		tail = tail<<8 | uint64(id[j]|0x20)
	}
	h = (h ^ tail) * m
	// Every bit of the result depends on every byte: the cache takes its
	// set from the low bits.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
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
	return w.run.resources.get(sub, w.lower, position{file, line}, id, service, func(key []byte) *resource {
		res := &resource{sub: sub, grants: w.run.ix.resolve(sub, key[len(g):], w.run.memo)}
		if b := w.run.opt.Beside; b != nil && b.subs[g] != nil {
			res.beside = b.resolve(b.subs[g], key[len(g):], w.run.besideMemo)
		}
		return res
	})
}
