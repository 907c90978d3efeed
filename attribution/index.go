package attribution

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/focus"
	"github.com/partnerlink/partnerlink/world"
)

// grant is one chain's credit right, flattened for the hot path: partner P
// may be credited for usage inside the scope it is filed under during
// [from, to), and the role can write or not.
type grant struct {
	partner int32 // index into Index.partners
	writer  bool
	from    int64 // Unix nanoseconds; math.MinInt64 for "since always"
	to      int64 // math.MaxInt64 for "still in force"
}

// subscription is what the index knows of one subscription.
type subscription struct {
	id     string // lower-case GUID
	tenant string
	mgs    []string // management groups above it, nearest first (lower-case names)
	// grants from scopes that contain the whole subscription: itself, its
	// management groups and its tenant root; sorted by partner.
	grants []grant
	// none: no grant of the index covers any part of the subscription, so
	// its rows are credited to nobody without looking up their resources.
	none bool
	// depths has bit d set when a scope of the index lies d segments
	// below the subscription (bit 63: 63 or more; noteScopeDepths).
	depths uint64
}

// Index is the grants index (docs/rules.md#azure-attribution): every grant of every partner, filed
// under the scope it covers, with management group and tenant root scopes
// expanded to each subscription they contain. Build it once per world with
// NewIndex; it is read-only afterwards and safe for concurrent use.
type Index struct {
	doc *world.Document
	// chains are made from doc when first asked for (Chains, Explain):
	// attribution alone needs only the grants, and at a million role
	// assignments the chains take a few hundred megabytes.
	chainsOnce sync.Once
	chains     []Chain
	partners   []string // partner IDs by index, sorted (then organization keys, NewIndexWithOrganizations)
	// orgOf maps a partner index to its organization's index in partners,
	// -1 for none; nil when organizations are not credited.
	orgOf []int32
	subs  map[focus.GUID]*subscription
	// scopes holds grants at resource group and resource scopes, keyed by
	// the lower-cased scope (without trailing "/"), sorted by partner.
	scopes map[string][]grant
	// grantsDropped: DropGrants has let the grants go; no run may use it.
	grantsDropped bool
}

// NewIndex builds the grants index of doc, which must be valid: it is
// validated (world.Validate) unless world.Read returned it and it is known
// to be unchanged (world.Validated), since validating a large world takes as
// long as indexing it. doc must not change while the index is in use.
func NewIndex(doc *world.Document) (*Index, error) { return newIndex(doc, nil) }

// NewIndexEach is NewIndex that also hands every chain of the world to
// each as it builds the index, for a caller that works something out from
// the chains without keeping them (the monthly close): Chains would go
// over the world again and hold them all. The chain is valid only during
// the call; each copies what it keeps.
func NewIndexEach(doc *world.Document, each func(*Chain)) (*Index, error) { return newIndex(doc, each) }

func newIndex(doc *world.Document, each func(*Chain)) (*Index, error) {
	if !world.Validated(doc) {
		if err := world.Validate(doc); err != nil {
			return nil, fmt.Errorf("attribution: %w", err)
		}
	}
	return build(doc, each), nil
}

// OrganizationPrefix starts the partner key of an organization's credit
// in an index built by NewIndexWithOrganizations ("~5000000"): it sorts
// after every partner ID, so those credits come last.
const OrganizationPrefix = "~"

// NewIndexWithOrganizations is NewIndex that also credits organizations:
// orgOf maps the partner IDs of organizations to credit to their
// organization's key (its global ID). A usage row is then credited, besides
// to each partner ID, once to each organization one of whose IDs it is
// credited to, eligible when any of them is (docs/rules.md#monthly-close):
// a row reaching an organization through several of its IDs counts once in
// its total, and each ID keeps its own rules. The organizations' credits
// carry the partner key OrganizationPrefix + key. each, when not nil, is
// handed every chain of the world as it is built (NewIndexEach).
func NewIndexWithOrganizations(doc *world.Document, orgOf map[string]string, each func(*Chain)) (*Index, error) {
	ix, err := newIndex(doc, each)
	if err != nil {
		return nil, err
	}
	withOrganizations(ix, orgOf)
	return ix, nil
}

// NewIndexUnchecked is NewIndexWithOrganizations without validating doc,
// for a caller that validates it meanwhile on another core (the monthly
// close: world.Check) and keeps the index only when doc is valid. Building
// an invalid document may go wrong anywhere: that is returned as an error,
// and the index is worthless then.
func NewIndexUnchecked(doc *world.Document, orgOf map[string]string, each func(*Chain)) (*Index, error) {
	ix, crash := buildUnchecked(doc, each)
	if crash != nil {
		return nil, fmt.Errorf("attribution: indexing an invalid world: %v", crash)
	}
	withOrganizations(ix, orgOf)
	return ix, nil
}

// buildUnchecked is build on a document not yet known to be valid: what
// building an invalid one runs into is recovered and returned as crash. A
// panic of each is the caller's own, not the document's: it goes on.
func buildUnchecked(doc *world.Document, each func(*Chain)) (ix *Index, crash any) {
	defer func() {
		crash = recover()
		if p, ok := crash.(eachPanic); ok {
			panic(p.v)
		}
	}()
	return build(doc, each), nil
}

// eachPanic carries a panic of build's each through buildUnchecked.
type eachPanic struct{ v any }

// withOrganizations makes ix credit the organizations of orgOf
// (NewIndexWithOrganizations).
func withOrganizations(ix *Index, orgOf map[string]string) {
	var keys []string
	for _, o := range orgOf {
		keys = append(keys, o)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	n := int32(len(ix.partners))
	ix.orgOf = make([]int32, n)
	for i, p := range ix.partners {
		ix.orgOf[i] = -1
		if o, ok := orgOf[p]; ok {
			k, _ := slices.BinarySearch(keys, o)
			ix.orgOf[i] = n + int32(k)
		}
	}
	for _, k := range keys {
		ix.partners = append(ix.partners, OrganizationPrefix+k)
	}
}

// ReadIndex reads a world document (world.Decode) and builds its index,
// checking the document (world.Check, with world.Read's messages) on
// another core meanwhile: for a large world each takes about half a
// second. The index is kept only when the document is valid.
func ReadIndex(r io.Reader, name string) (*Index, error) {
	doc, err := world.Decode(r, name)
	if err != nil {
		return nil, err
	}
	checked := make(chan error, 1)
	go func() { checked <- world.Check(doc, name) }()
	// An invalid document may break what building assumes; the check's
	// error is what the caller needs then.
	ix, crash := buildUnchecked(doc, nil)
	if err := <-checked; err != nil {
		return nil, err
	}
	if crash != nil {
		panic(crash)
	}
	return ix, nil
}

// build indexes a valid document, handing each chain to each when it is
// not nil.
func build(doc *world.Document, each func(*Chain)) *Index {
	ix := &Index{
		doc:  doc,
		subs: make(map[focus.GUID]*subscription, len(doc.Subscriptions)),
		// Most role assignments are held at a scope below a subscription
		// (half of them at scopes of their own in the bench's world):
		// sized for that, the map is not rebuilt as it grows.
		scopes: make(map[string][]grant, len(doc.RoleAssignments)/2),
	}
	partnerIdx := map[string]int32{}
	for _, p := range doc.Partners {
		ix.partners = append(ix.partners, p.PartnerID)
	}
	slices.Sort(ix.partners)
	for i, p := range ix.partners {
		partnerIdx[p] = int32(i)
	}

	parents := map[string]string{} // tenant/mg → parent mg (lower-case)
	for _, m := range doc.ManagementGroups {
		if m.Parent != nil {
			parents[m.TenantID+"/"+partnerlink.ToLower(m.Name)] = partnerlink.ToLower(*m.Parent)
		}
	}
	mgSubs := map[string][]*subscription{}     // tenant/mg → subscriptions below it
	tenantSubs := map[string][]*subscription{} // tenant → its subscriptions
	for _, s := range doc.Subscriptions {
		g, ok := focus.ParseGUID(s.SubscriptionID)
		if !ok {
			continue
		}
		sub := &subscription{id: partnerlink.ToLower(s.SubscriptionID), tenant: s.TenantID}
		if s.ManagementGroup != nil {
			seen := map[string]bool{}
			for mg := partnerlink.ToLower(*s.ManagementGroup); mg != "" && !seen[mg]; mg = parents[s.TenantID+"/"+mg] {
				seen[mg] = true
				sub.mgs = append(sub.mgs, mg)
				mgSubs[s.TenantID+"/"+mg] = append(mgSubs[s.TenantID+"/"+mg], sub)
			}
		}
		ix.subs[g] = sub
		tenantSubs[s.TenantID] = append(tenantSubs[s.TenantID], sub)
	}

	// Where each role assignment's grants go, worked out for its first
	// chain: the subscriptions of a root, management group or
	// subscription scope, or the key of a scope inside a subscription.
	type target struct {
		subs  []*subscription
		key   string
		known bool
	}
	targets := make([]target, len(doc.RoleAssignments))
	eachChain(doc, nil, func(c *Chain) {
		if each != nil {
			func() {
				defer func() {
					if p := recover(); p != nil {
						panic(eachPanic{p})
					}
				}()
				each(c)
			}()
		}
		if !c.Grants() {
			return
		}
		pi, ok := partnerIdx[c.PartnerID]
		if !ok {
			return // Validate refuses links to unlisted partner IDs.
		}
		from, to := nanos(c.Period)
		g := grant{partner: pi, writer: c.RoleCanWrite, from: from, to: to}
		var t *target
		if c.assignment > 0 {
			t = &targets[c.assignment-1]
		} else {
			t = new(target)
		}
		if !t.known {
			sc, err := partnerlink.ParseScope(c.Scope)
			if err != nil {
				return // Validate refuses such documents.
			}
			switch sc.Kind {
			case partnerlink.ScopeRoot:
				t.subs = tenantSubs[c.ScopeTenantID]
			case partnerlink.ScopeManagementGroup:
				t.subs = mgSubs[c.ScopeTenantID+"/"+sc.ManagementGroup]
			case partnerlink.ScopeSubscription:
				if gs, ok := focus.ParseGUID(sc.Subscription); ok && ix.subs[gs] != nil {
					t.subs = []*subscription{ix.subs[gs]}
				}
			default:
				t.key = sc.Key
			}
			t.known = true
		}
		if t.key != "" {
			ix.scopes[t.key] = append(ix.scopes[t.key], g)
			return
		}
		for _, s := range t.subs {
			s.grants = append(s.grants, g)
		}
	})
	for _, s := range ix.subs {
		s.grants = normalizeGrants(s.grants)
	}
	for k, gs := range ix.scopes {
		ix.scopes[k] = normalizeGrants(gs)
	}
	markUngranted(ix)
	noteScopeDepths(ix)
	return ix
}

// markUngranted marks the subscriptions no grant reaches: none at or above
// them and none at a scope inside them. Any scope outside every
// subscription's path (which resolve matches against resource ids
// exactly) leaves every subscription unmarked.
func markUngranted(ix *Index) {
	inner := map[focus.GUID]bool{}
	const p = "/subscriptions/"
	for k := range ix.scopes {
		seg, ok := strings.CutPrefix(k, p)
		if !ok {
			return
		}
		seg, _, _ = strings.Cut(seg, "/")
		g, ok := focus.ParseGUID(seg)
		if !ok {
			return
		}
		inner[g] = true
	}
	for g, s := range ix.subs {
		s.none = len(s.grants) == 0 && !inner[g]
	}
}

// normalizeGrants sorts grants by partner (so one pass credits each partner
// once) and drops exact duplicates.
func normalizeGrants(gs []grant) []grant {
	slices.SortFunc(gs, compareGrants)
	return slices.Compact(gs)
}

// compareGrants is normalizeGrants' order.
func compareGrants(a, b grant) int {
	return cmp.Or(cmp.Compare(a.partner, b.partner), cmp.Compare(a.from, b.from), cmp.Compare(a.to, b.to), compareBool(b.writer, a.writer))
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// DropWorld lets go of the world document and the chains, which only
// Explain, Chains and Document use: a run over a large world then holds a
// few hundred megabytes less. Afterwards Document and Chains return nil and
// Explain an error. Call it while no other goroutine uses the index.
func (ix *Index) DropWorld() {
	ix.chainsOnce.Do(func() {}) // never built from here on
	ix.doc, ix.chains = nil, nil
}

// DropGrants lets go of the grants (the scopes and the subscriptions'
// lists) once the runs over the index are done: their results still name
// partners and subscriptions through it, but a large world's grants (tens
// of megabytes) are no longer held while a close builds its content. A
// run can no longer be made with the index (NewRun refuses). Call it
// while no other goroutine uses the index.
func (ix *Index) DropGrants() {
	ix.grantsDropped, ix.scopes = true, nil
	for _, s := range ix.subs {
		s.grants, s.mgs = nil, nil
	}
}

// Document returns the world the index was built from.
func (ix *Index) Document() *world.Document { return ix.doc }

// Chains returns every chain of the world (granting or not), for reports
// that show the credentials and scopes behind each customer (docs/rules.md#views-and-credits).
func (ix *Index) Chains() []Chain {
	ix.chainsOnce.Do(func() {
		if ix.doc != nil {
			ix.chains = buildChains(ix.doc)
		}
	})
	return ix.chains
}

// resolve returns the grants whose scope contains the resource with the
// lower-cased key res (no trailing "/") in subscription sub: the
// subscription's own grants plus those filed under every ancestor scope of
// the resource inside it. The result is sorted by partner, and read-only:
// with a memo, resources that share their deepest scope with grants share
// one list.
func (ix *Index) resolve(sub *subscription, res []byte, memo *grantMemo) []grant {
	var buf [8][]grant
	own := buf[:0]     // grants filed under scopes inside the subscription
	var deepest []byte // the last scope of own
	const p = "/subscriptions/"
	n := len(p) + len(sub.id)
	if bytes.HasPrefix(res, []byte(p)) && bytes.HasPrefix(res[len(p):], []byte(sub.id)) && (len(res) == n || res[n] == '/') {
		// Every "/" boundary below the subscription is a candidate ancestor;
		// only real scopes are in the map, so the others simply miss. Only
		// the depths at which the subscription has scopes are looked up.
		depth := 0
		for i := n; i < len(res); i++ {
			if res[i] != '/' {
				continue
			}
			if depth > 0 && sub.scopeAt(depth) {
				if gs := ix.scopes[string(res[:i])]; len(gs) > 0 {
					own, deepest = append(own, gs), res[:i]
				}
			}
			depth++
		}
		if len(res) > n && sub.scopeAt(depth) {
			if gs := ix.scopes[string(res)]; len(gs) > 0 {
				own, deepest = append(own, gs), res
			}
		}
	} else if gs := ix.scopes[string(res)]; len(gs) > 0 {
		// A resource id outside its subscription's path (a reservation, a
		// marketplace order): only the subscription's own scopes and an
		// exact match contain it.
		own, deepest = append(own, gs), res
	}
	if len(own) == 0 {
		// Most resources have no grants below their subscription: they
		// share its (normalized, read-only) list instead of a copy each.
		return sub.grants
	}
	if len(own) == 1 && len(sub.grants) == 0 {
		return own[0] // a scope's list is normalized already; shared, read-only
	}
	if memo == nil || len(deepest) == len(res) {
		// (A resource with grants of its own shares its list with no
		// other: nothing to remember.)
		return mergeGrants(sub.grants, own)
	}
	// The scopes with grants above the deepest one are the same for every
	// resource below it, so the list depends on that scope alone.
	memo.mu.Lock()
	defer memo.mu.Unlock()
	m := memo.m[sub]
	if m == nil {
		m = map[string][]grant{}
		memo.m[sub] = m
	}
	gs, ok := m[string(deepest)]
	if !ok {
		gs = mergeGrants(sub.grants, own)
		m[string(deepest)] = gs
	}
	return gs
}

// scopeAt reports whether the subscription may have a scope d segments
// below it (noteScopeDepths): resolve looks up no other ancestor.
func (s *subscription) scopeAt(d int) bool {
	return s.depths&(1<<min(d, 63)) != 0
}

// noteScopeDepths records, per subscription, the depths below it at which
// the index has scopes, counted in "/" after the subscription's id
// ("/resourcegroups/rg" is 2). A scope whose subscription segment is not a
// subscription's id as the index writes it marks every depth of every
// subscription, so that resolve looks it up as it would without the marks.
func noteScopeDepths(ix *Index) {
	const p = "/subscriptions/"
	for _, s := range ix.subs {
		s.depths = 0
	}
	for k := range ix.scopes {
		rest, ok := strings.CutPrefix(k, p)
		if !ok {
			continue // matched whole, outside any subscription's path
		}
		seg, below, _ := strings.Cut(rest, "/")
		g, ok := focus.ParseGUID(seg)
		s := ix.subs[g]
		if !ok || s == nil || s.id != seg {
			for _, s := range ix.subs {
				s.depths = ^uint64(0)
			}
			return
		}
		s.depths |= 1 << min(strings.Count(below, "/")+1, 63)
	}
}

// mergeGrants is the normalized union of the subscription's grants and
// those of the scopes inside it. Each list is normalized already, so they
// are merged, not sorted again: the union of the lists sorted
// (normalizeGrants' order is total) without repeats.
func mergeGrants(sub []grant, own [][]grant) []grant {
	var buf [9][]grant
	lists := append(append(buf[:0], sub), own...)
	n := 0
	for _, gs := range lists {
		n += len(gs)
	}
	out := make([]grant, 0, n)
	for {
		best := -1
		for i, gs := range lists {
			if len(gs) > 0 && (best < 0 || compareGrants(gs[0], lists[best][0]) < 0) {
				best = i
			}
		}
		if best < 0 {
			return out
		}
		if g := lists[best][0]; len(out) == 0 || out[len(out)-1] != g {
			out = append(out, g)
		}
		lists[best] = lists[best][1:]
	}
}

// grantMemo holds a run's grant lists by subscription and deepest scope
// with grants (resolve): a resource group's resources share one list
// rather than holding a sorted copy each.
type grantMemo struct {
	mu sync.Mutex
	m  map[*subscription]map[string][]grant
}

func newGrantMemo() *grantMemo { return &grantMemo{m: map[*subscription]map[string][]grant{}} }

// CreditsOrganization reports whether the index credits partnerID's
// organization apart (NewIndexWithOrganizations).
func (ix *Index) CreditsOrganization(partnerID string) bool {
	if ix.orgOf == nil {
		return false
	}
	i, ok := slices.BinarySearch(ix.partners[:len(ix.orgOf)], partnerID)
	return ok && ix.orgOf[i] >= 0
}
