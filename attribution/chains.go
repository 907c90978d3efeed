package attribution

import (
	"math"
	"slices"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/world"
)

// Via says how a chain reaches its scope.
type Via string

const (
	ViaRoleAssignment Via = "roleAssignment"
	ViaDelegation     Via = "delegation" // Azure Lighthouse
)

// Membership is one step of a chain from the linked principal up to the
// group that holds the role.
type Membership struct {
	TenantID string
	GroupID  string
	MemberID string
	Period   partnerlink.Period // the membership's own period
	// GroupPeriod is the period of the group's existence this step goes
	// through; GroupPeriods are all of them (a group disabled and enabled
	// again has several: docs/rules.md, "Principals: enabled periods").
	GroupPeriod  partnerlink.Period
	GroupPeriods []partnerlink.Period
}

// Chain is one way a partner may be credited: a link, the memberships from
// the linked principal to the principal holding the role, and the role
// assignment or delegation with its scope. Period is the intersection of
// every period on the chain (docs/rules.md#azure-attribution's I); a chain grants when it is not
// CSP and its Period is not empty.
type Chain struct {
	PartnerID string
	// The link: principal ObjectID of LinkTenantID linked to PartnerID.
	LinkTenantID string
	ObjectID     string
	LinkPeriod   partnerlink.Period
	// PrincipalPeriod is the period of the linked principal's existence
	// (enabled) that this chain goes through, PrincipalPeriods all of
	// them: a principal disabled and enabled again gives a chain per
	// period (docs/rules.md, "Principals: enabled periods"). PartnerPeriod
	// is when the partner ID (and its global ID) was active.
	PrincipalPeriod  partnerlink.Period
	PrincipalPeriods []partnerlink.Period
	PartnerPeriod    partnerlink.Period
	Memberships      []Membership
	// The access: a role assignment (in LinkTenantID) or a delegation (of
	// ScopeTenantID's scope to LinkTenantID, the managing tenant).
	Via              Via
	AssignmentID     string
	PrincipalID      string // who holds the role: ObjectID or a group
	Role             string
	RoleCanWrite     bool
	Scope            string // as written in the document
	ScopeTenantID    string // the tenant the scope is in
	AssignmentPeriod partnerlink.Period
	// CSPPrincipal is set when the chain passes through a CSP delegated
	// principal: such a chain never credits anyone.
	CSPPrincipal string
	Period       partnerlink.Period
	empty        bool
	// assignment is 1 + the index of the chain's role assignment in the
	// document, 0 for a delegation: an assignment reached by several
	// links has its scope parsed once (build).
	assignment int
}

// Grants reports whether the chain gives a grant at all (docs/rules.md#azure-attribution).
func (c *Chain) Grants() bool { return c.CSPPrincipal == "" && !c.empty }

// reach is a principal reached from the linked principal through
// memberships, with the intersection of the periods on the way.
type reach struct {
	principal string
	per       partnerlink.Period
	path      []Membership
	csp       string // the first CSP delegated principal on the path
}

// principalInfo is what chains need of a principal: its enabled periods,
// in the order of their starts, and its flags.
type principalInfo struct {
	pers []partnerlink.Period
	csp  bool
	kind string
}

type edge struct {
	group string
	m     Membership
}

// buildChains enumerates every chain of doc, in document order of links.
func buildChains(doc *world.Document) []Chain {
	var chains []Chain // nil when there are none, as before
	eachChain(doc, func(n int) {
		// A Chain is some 450 bytes, and growing a slice of a few
		// hundred thousand of them by appending copies it over and over.
		if n > 0 {
			chains = make([]Chain, 0, n)
		}
	}, func(c *Chain) { chains = append(chains, *c) })
	return chains
}

// eachChain calls yield with every chain of doc, in document order of
// links, in one variable that it reuses (yield copies what it keeps).
// When sized is not nil, it is told the number of chains first.
func eachChain(doc *world.Document, sized func(n int), yield func(*Chain)) {
	partners := partnerPeriods(doc)
	principals := principalInfos(doc)
	memberOf := map[principalKey][]edge{} // member → groups
	for _, m := range doc.GroupMemberships {
		g := principals[pkey(m.TenantID, m.GroupID)]
		k := pkey(m.TenantID, m.MemberID)
		// One edge per period of the group, as one per period of the
		// linked principal below.
		for _, gp := range g.pers {
			memberOf[k] = append(memberOf[k], edge{
				group: m.GroupID,
				m: Membership{TenantID: m.TenantID, GroupID: m.GroupID, MemberID: m.MemberID, Period: partnerlink.PeriodOf(m.From, m.To),
					GroupPeriod: gp, GroupPeriods: g.pers},
			})
		}
	}
	assignments := make(map[principalKey][]int, len(doc.Principals)) // principal → role assignments
	for i, a := range doc.RoleAssignments {
		k := pkey(a.TenantID, a.PrincipalID)
		assignments[k] = append(assignments[k], i)
	}
	delegations := map[principalKey][]int{} // principal of the managing tenant → delegations
	for i, d := range doc.Delegations {
		k := pkey(d.ManagingTenantID, d.PrincipalID)
		delegations[k] = append(delegations[k], i)
	}
	// A role is looked up in the tenant of the scope it is held at: a
	// custom role of another tenant never applies, whatever its name
	// (docs/rules.md, "Role definitions and management groups").
	index := world.NewRoleIndex(doc)
	type roleRef struct{ tenant, ref string }
	roles := map[roleRef]world.Role{}
	role := func(tenant, ref string) world.Role {
		k := roleRef{tenant, ref}
		r, ok := roles[k]
		if !ok {
			r, _ = index.Resolve(tenant, ref)
			if r.Name == "" {
				r.Name = ref
			}
			roles[k] = r
		}
		return r
	}

	reaches := make([][]reach, len(doc.Links))
	n := 0
	for i, l := range doc.Links {
		c := principals[pkey(l.TenantID, l.ObjectID)]
		reaches[i] = reachable(l.TenantID, l.ObjectID, c, principals, memberOf)
		if sized != nil {
			per := len(linkedPeriods(c.pers, partnerlink.PeriodOf(l.From, l.To)))
			for _, r := range reaches[i] {
				k := pkey(l.TenantID, r.principal)
				n += per * (len(assignments[k]) + len(delegations[k]))
			}
		}
	}
	if sized != nil {
		sized(n)
	}
	var ch Chain
	for li, l := range doc.Links {
		c := principals[pkey(l.TenantID, l.ObjectID)]
		linkPer := partnerlink.PeriodOf(l.From, l.To)
		// A grant's period includes the linked principal's period: a
		// principal enabled over several periods gives chains for each
		// (docs/rules.md, "Principals: enabled periods").
		for _, cp := range linkedPeriods(c.pers, linkPer) {
			base := Chain{
				PartnerID:        l.PartnerID,
				LinkTenantID:     l.TenantID,
				ObjectID:         l.ObjectID,
				LinkPeriod:       linkPer,
				PrincipalPeriod:  cp,
				PrincipalPeriods: c.pers,
				PartnerPeriod:    partners[l.PartnerID],
			}
			basePer, ok := intersect(base.LinkPeriod, base.PrincipalPeriod, base.PartnerPeriod)
			for _, r := range reaches[li] {
				per, ok2 := intersect(basePer, r.per)
				// grant completes the chain through r for one role
				// assignment or delegation.
				grant := func(via Via, assignment int, id, roleDef, scope, scopeTenant string, from, to *time.Time) {
					ch = base
					ch.assignment = assignment
					ch.Memberships = r.path
					ch.Via = via
					ch.AssignmentID = id
					ch.PrincipalID = r.principal
					rl := role(scopeTenant, roleDef)
					ch.Role, ch.RoleCanWrite = rl.Name, rl.CanWrite
					ch.Scope, ch.ScopeTenantID = scope, scopeTenant
					ch.AssignmentPeriod = partnerlink.PeriodOf(from, to)
					ch.CSPPrincipal = r.csp
					var ok3 bool
					ch.Period, ok3 = intersect(per, ch.AssignmentPeriod)
					ch.empty = !(ok && ok2 && ok3)
					if ch.empty {
						ch.Period = emptyPeriod
					}
					yield(&ch)
				}
				for _, i := range assignments[pkey(l.TenantID, r.principal)] {
					a := &doc.RoleAssignments[i]
					grant(ViaRoleAssignment, i+1, a.ID, a.RoleDefinition, a.Scope, a.TenantID, a.From, a.To)
				}
				for _, i := range delegations[pkey(l.TenantID, r.principal)] {
					d := &doc.Delegations[i]
					grant(ViaDelegation, 0, d.ID, d.RoleDefinition, d.Scope, d.CustomerTenantID, d.From, d.To)
				}
			}
		}
	}
}

// principalInfos gathers each principal's entries in doc, one per enabled
// period, with the periods in the order of their starts. Periods that touch
// (one ends where the next starts) are one: the principal was enabled all
// along, so a day across that instant is covered (incentive-eligible).
func principalInfos(doc *world.Document) map[principalKey]principalInfo {
	out := make(map[principalKey]principalInfo, len(doc.Principals))
	// The first period of each principal is a slice of one array (capacity
	// 1, so that adding a second copies): one allocation for a world.
	first := make([]partnerlink.Period, len(doc.Principals))
	var several []principalKey // principals with more than one period
	for i, p := range doc.Principals {
		k := pkey(p.TenantID, p.ObjectID)
		info, seen := out[k]
		per := partnerlink.PeriodOf(p.From, p.To)
		if !seen {
			first[i] = per
			out[k] = principalInfo{pers: first[i : i+1 : i+1], csp: p.CSPDelegated, kind: p.Type}
			continue
		}
		// Periods do not overlap (world.Validate), so starts order them;
		// an unbounded start is the earliest.
		i, _ := slices.BinarySearchFunc(info.pers, per, func(a, b partnerlink.Period) int {
			if a.From.IsZero() || b.From.IsZero() {
				return compareBool(b.From.IsZero(), a.From.IsZero())
			}
			return a.From.Compare(b.From)
		})
		info.pers = slices.Insert(info.pers, i, per)
		if len(info.pers) == 2 {
			several = append(several, k)
		}
		out[k] = info
	}
	for _, k := range several {
		info := out[k]
		merged := info.pers[:1]
		for _, p := range info.pers[1:] {
			if last := &merged[len(merged)-1]; !last.To.IsZero() && last.To.Equal(p.From) {
				last.To = p.To
				continue
			}
			merged = append(merged, p)
		}
		info.pers = merged
		out[k] = info
	}
	return out
}

// linkedPeriods returns the periods of a linked principal that overlap its
// link's period, or, when none does, its latest (a chain that never
// grants, kept so that Explain can say the principal was not enabled).
// A principal the document does not list has no period to intersect.
func linkedPeriods(pers []partnerlink.Period, link partnerlink.Period) []partnerlink.Period {
	if len(pers) == 0 {
		return []partnerlink.Period{{}}
	}
	if len(pers) == 1 {
		return pers
	}
	var out []partnerlink.Period
	for _, p := range pers {
		if p.Overlaps(link) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return pers[len(pers)-1:]
	}
	return out
}

// partnerPeriods gives each partner ID the period in which it may be
// credited: its own, intersected with its global ID's for a location ID
// (a deleted global ID stops its locations too).
func partnerPeriods(doc *world.Document) map[string]partnerlink.Period {
	own := map[string]world.Partner{}
	for _, p := range doc.Partners {
		own[p.PartnerID] = p
	}
	out := map[string]partnerlink.Period{}
	for _, p := range doc.Partners {
		per := partnerlink.PeriodOf(p.From, p.To)
		if p.GlobalPartnerID != nil {
			if g, ok := own[*p.GlobalPartnerID]; ok {
				if x, ok := per.Intersect(partnerlink.PeriodOf(g.From, g.To)); ok {
					per = x
				} else {
					per = emptyPeriod
				}
			}
		}
		out[p.PartnerID] = per
	}
	return out
}

var emptyPeriod = partnerlink.Period{From: time.Unix(1, 0).UTC(), To: time.Unix(1, 0).UTC()}

// reachable lists the linked principal itself and every group that
// contains it, transitively, each with the periods of the path. Cycles
// end because a reach whose period is covered by one already found for the
// same principal (and no worse as to CSP) adds nothing.
func reachable(tenant, object string, c principalInfo, principals map[principalKey]principalInfo, memberOf map[principalKey][]edge) []reach {
	start := reach{principal: object}
	if c.csp {
		start.csp = object
	}
	var found map[string][]reach // made for the first group: most principals are in none
	out := []reach{start}
	queue := []reach{start}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		for _, e := range memberOf[pkey(tenant, r.principal)] {
			if found == nil {
				found = map[string][]reach{object: {start}}
			}
			per, ok := intersect(r.per, e.m.Period, e.m.GroupPeriod)
			if !ok {
				continue
			}
			next := reach{principal: e.group, per: per, csp: r.csp}
			if next.csp == "" && principals[pkey(tenant, e.group)].csp {
				next.csp = e.group
			}
			if covered(found[e.group], next) {
				continue
			}
			next.path = append(append([]Membership{}, r.path...), e.m)
			found[e.group] = append(found[e.group], next)
			out = append(out, next)
			queue = append(queue, next)
		}
	}
	return out
}

func covered(have []reach, r reach) bool {
	for _, h := range have {
		if h.per.Covers(r.per) && (h.csp == "" || r.csp != "") {
			return true
		}
	}
	return false
}

func intersect(ps ...partnerlink.Period) (partnerlink.Period, bool) {
	var out partnerlink.Period
	for _, p := range ps {
		x, ok := out.Intersect(p)
		if !ok {
			return p, false
		}
		out = x
	}
	return out, true
}

// principalKey identifies a principal: its tenant and lower-case object ID.
// A struct rather than one string, so that a lookup builds no string.
type principalKey struct{ tenant, object string }

func pkey(tenant, object string) principalKey {
	return principalKey{tenant, partnerlink.ToLower(object)}
}

// nanos turns a period into [from, to) in Unix nanoseconds, unbounded ends
// as the extreme int64 values.
func nanos(p partnerlink.Period) (int64, int64) {
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if !p.From.IsZero() {
		from = p.From.UnixNano()
	}
	if !p.To.IsZero() {
		to = p.To.UnixNano()
	}
	return from, to
}
