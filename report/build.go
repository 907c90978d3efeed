package report

import (
	"cmp"
	"encoding/json"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/attribution"
	"github.com/partnerlink/partnerlink/focus"
	"github.com/partnerlink/partnerlink/powerplatform"
	"github.com/partnerlink/partnerlink/rbac"
	"github.com/partnerlink/partnerlink/world"
)

// Inputs are what a month's content is made of: the world as stored at the
// close, the month's attribution per partner ID and per organization over
// the same usage, the Power Platform credit, and the link changes.
type Inputs struct {
	Month partnerlink.Month
	Doc   *world.Document
	Index *attribution.Index // of Doc, per partner ID (its chains give the credentials, unless People)
	// People, when set, holds what the chains give (Prepared works it out
	// before the usage is read and lets go of the chains).
	People *People
	// Azure is the attribution per partner ID and, under
	// attribution.OrganizationPrefix, per organization for those with
	// several IDs linked (attribution.NewIndexWithOrganizations); every
	// other organization's credit is its one ID's.
	Azure         *attribution.Result
	PowerPlatform []powerplatform.Credit
	Events        []partnerlink.LinkEvent
	Notifications []partnerlink.Notification
	Files         []string // content hashes of the usage files read
	// WhatIf is the world with the unlinked credentials linked (newWhatIf),
	// WhatIfIndex its index and WhatIfResult its attribution over the same
	// usage; nil when there are none.
	WhatIf       *whatIf
	WhatIfIndex  *attribution.Index
	WhatIfResult *attribution.Result
}

// usageReadAction is what a role must allow for a partner to see a
// customer's detail (docs/rules.md#monthly-close, "Privacy": "*", "*/read"
// or a cost or consumption read action all allow it).
const usageReadAction = "Microsoft.Consumption/usageDetails/read"

// Build makes the month's content. It is a pure function of its inputs.
func Build(in Inputs) (*Content, error) {
	month := in.Month.Period()
	c := &Content{Month: in.Month.String(), Azure: []AzureLine{}, Organizations: []OrgLine{}, PowerPlatform: []PPLine{},
		Partners: []Partner{}, Tenants: []Tenant{}, Readable: []Pair{}, Credentials: []Credential{}, Events: []Event{}, Unlinked: []Unlinked{}}
	c.Summary.Files = append([]string{}, in.Files...)
	slices.Sort(c.Summary.Files)
	c.Summary.RowsRead = in.Azure.Summary.Read.Rows
	c.Summary.RowsCredited = in.Azure.Summary.Credited.Rows

	org := map[string]string{} // partner ID → organization
	for _, p := range in.Doc.Partners {
		g := ""
		if p.GlobalPartnerID != nil {
			g = *p.GlobalPartnerID
		}
		homes := append([]string{}, p.HomeTenantIDs...)
		slices.Sort(homes)
		c.Partners = append(c.Partners, Partner{ID: p.PartnerID, Name: p.Name, GlobalID: g, HomeTenantIDs: homes})
		org[p.PartnerID] = cmp.Or(g, p.PartnerID)
	}
	slices.SortFunc(c.Partners, func(a, b Partner) int { return strings.Compare(a.ID, b.ID) })
	for _, t := range in.Doc.Tenants {
		c.Tenants = append(c.Tenants, Tenant{ID: t.TenantID, Name: t.Name})
	}
	slices.SortFunc(c.Tenants, func(a, b Tenant) int { return strings.Compare(a.ID, b.ID) })

	// The credentials and the unlinked ones are worked out beside the
	// credit lines: they write other fields of c.
	people := make(chan error, 1)
	go func() {
		pp := in.People
		if pp == nil {
			pp = peopleOf(in.Doc, in.Index, in.WhatIf, in.WhatIfIndex, month)
		}
		c.Credentials, c.Readable = append(c.Credentials, pp.credentials...), append(c.Readable, pp.readable...)
		var err error
		if in.WhatIf != nil {
			c.Unlinked, err = in.WhatIf.unlinked(pp.unlinkedAccess, in.WhatIfResult)
		}
		people <- err
	}()

	// The organizations' credits sort after every partner ID's.
	res := in.Azure
	split := sort.Search(res.Len(), func(i int) bool {
		return strings.HasPrefix(res.Range(nil, i, i+1)[0].PartnerID, attribution.OrganizationPrefix)
	})
	// Organizations' sums are kept exact as focus.Sum and written once.
	orgs := orgSums{}
	var parts []orgSums
	c.Azure, c.table, parts = azureLines(res, split, func(id string) (string, bool) {
		return org[id], !in.Index.CreditsOrganization(id)
	})
	for _, l := range c.Azure {
		c.Summary.RowsWithoutUSD += l.UsageRows - l.USDRows
	}
	if c.table == nil {
		c.table = c.Azure.table() // a result merged from partitions' (Merge)
		c.table.share(c.Azure)    // the lines' own resources are let go
	}
	// The credits come sorted by partner ID, tenant, subscription, resource
	// and currency: a line whose resource the organization has already
	// had under an ID sorting before is a duplicate for the organization.
	// Only an organization credited apart has several IDs linked.
	// Organizations and currencies are numbered: a key of three numbers is
	// a third of one holding two strings, over hundreds of thousands of lines.
	type orgLine struct {
		org, currency, resource int32 // resource: in c.table
	}
	seen := map[orgLine]bool{}
	orgNumbers, currencies := map[string]int32{}, map[string]int32{}
	number := func(m map[string]int32, s string) int32 {
		n, ok := m[s]
		if !ok {
			n = int32(len(m))
			m[s] = n
		}
		return n
	}
	apart, orgN := false, int32(0)
	for i := range c.Azure {
		l := &c.Azure[i]
		if i == 0 || l.PartnerID != c.Azure[i-1].PartnerID {
			apart = in.Index.CreditsOrganization(l.PartnerID)
			orgN = number(orgNumbers, org[l.PartnerID])
		}
		if !apart {
			continue
		}
		k := orgLine{orgN, number(currencies, l.Currency), c.table.of[i]}
		l.DuplicateForPGA = seen[k]
		seen[k] = true
	}
	// A block at a time: a large month's organization credits are a few
	// hundred thousand.
	var block []attribution.Credit
	for from := split; from < res.Len(); from += 4096 {
		block = res.Range(block[:0], from, min(from+4096, res.Len()))
		for i := range block {
			orgs.add(strings.TrimPrefix(block[i].PartnerID, attribution.OrganizationPrefix), &block[i])
		}
	}
	// The credits are read: the run behind them (its credits, resources and
	// references, a hundred megabytes at 10M rows) is let go of before the
	// rest of the content is built and encoded.
	in.Azure, res = nil, nil
	for _, p := range parts {
		orgs.merge(p)
	}
	for k, sum := range orgs {
		c.Organizations = append(c.Organizations, OrgLine{GlobalPartnerID: k[0], TenantID: k[1], Currency: k[2],
			Attributed: sum.attributed.String(), Eligible: sum.eligible.String(), UsageRows: sum.rows})
	}
	slices.SortFunc(c.Organizations, func(a, b OrgLine) int {
		return cmp.Or(strings.Compare(a.GlobalPartnerID, b.GlobalPartnerID), strings.Compare(a.TenantID, b.TenantID), strings.Compare(a.Currency, b.Currency))
	})

	for _, x := range in.PowerPlatform {
		if x.Month != in.Month || x.Value == 0 {
			continue
		}
		c.PowerPlatform = append(c.PowerPlatform, PPLine{PartnerID: x.PartnerID, TenantID: x.TenantID, EnvironmentID: x.EnvironmentID,
			ResourceID: x.ResourceID, Kind: string(x.Kind), Metric: string(x.Metric), Value: x.Value, Eligible: x.Eligible})
	}
	slices.SortFunc(c.PowerPlatform, func(a, b PPLine) int {
		return cmp.Or(strings.Compare(a.PartnerID, b.PartnerID), strings.Compare(a.TenantID, b.TenantID),
			strings.Compare(a.EnvironmentID, b.EnvironmentID), strings.Compare(a.ResourceID, b.ResourceID), strings.Compare(a.Metric, b.Metric))
	})

	if err := <-people; err != nil {
		return nil, err
	}

	for _, e := range in.Events {
		if !month.Contains(e.At) {
			continue
		}
		c.Events = append(c.Events, Event{At: e.At.UTC().Format(time.RFC3339Nano), TenantID: e.TenantID, ObjectID: e.ObjectID,
			Action: string(e.Action), PartnerID: e.PartnerID, PreviousPartnerID: e.PrevPartnerID,
			Actor: strings.Trim(e.ActorTenantID+"/"+e.ActorObjectID, "/")})
	}
	c.Notifications = []Notice{}
	for _, n := range in.Notifications {
		if !month.Contains(n.CreatedAt) {
			continue
		}
		var body struct {
			Type string `json:"type"`
		}
		json.Unmarshal(n.Payload, &body)
		c.Notifications = append(c.Notifications, Notice{QueuedAt: n.CreatedAt.UTC().Format(time.RFC3339Nano), TenantID: n.TenantID,
			EventID: n.EventID, Type: body.Type})
	}
	slices.SortFunc(c.Notifications, func(a, b Notice) int {
		return cmp.Or(strings.Compare(a.TenantID, b.TenantID), strings.Compare(a.QueuedAt, b.QueuedAt), cmp.Compare(a.EventID, b.EventID))
	})
	slices.SortStableFunc(c.Events, func(a, b Event) int {
		return cmp.Or(strings.Compare(a.At, b.At), strings.Compare(a.TenantID, b.TenantID), strings.Compare(a.ObjectID, b.ObjectID))
	})
	return c, nil
}

// orgSums are organizations' exact totals by organization, tenant and
// currency.
type orgSums map[[3]string]*orgSum

type orgSum struct {
	attributed, eligible focus.Sum
	rows                 int64
}

func (o orgSums) add(org string, cr *attribution.Credit) {
	k := [3]string{org, cr.TenantID, cr.BillingCurrency}
	sum := o[k]
	if sum == nil {
		sum = &orgSum{}
		o[k] = sum
	}
	sum.attributed.AddSum(cr.AttributedCost)
	sum.eligible.AddSum(cr.IncentiveEligibleCost)
	sum.rows += cr.UsageRows
}

func (o orgSums) merge(p orgSums) {
	for k, x := range p {
		sum := o[k]
		if sum == nil {
			o[k] = x
			continue
		}
		sum.attributed.AddSum(x.attributed)
		sum.eligible.AddSum(x.eligible)
		sum.rows += x.rows
	}
}

// azureLines makes the credit lines of res's first n credits, in parts
// made in parallel (a large month has hundreds of thousands), a block of
// credits at a time, and their table. Each part also sums the credits of
// the partner IDs whose organization orgOf says is totalled from its IDs'
// lines.
func azureLines(res *attribution.Result, n int, orgOf func(id string) (org string, sum bool)) ([]AzureLine, *azureTable, []orgSums) {
	const block = 4096
	out := make([]AzureLine, n)
	// The table comes first when the result numbers its resources: a line
	// points at its resource in the table, whose texts the part holding
	// the resource's first line sets. Otherwise (a result merged from
	// partitions') each line has its own until they are shared.
	var t *azureTable
	var first []int32 // the first line of each resource in the table
	if numbers := make([]int32, n); res.ResourceNumbers(numbers, 0) {
		t, first = numberTable(numbers)
		t.share(out)
	} else {
		own := make([]LineResource, n)
		for i := range out {
			out[i].LineResource = &own[i]
		}
	}
	parts := partsOf(n)
	sums := make([]orgSums, parts)
	inParts(n, parts, func(part, from, to int) {
		sums[part] = orgSums{}
		var buf []attribution.Credit
		for b := from; b < to; b += block {
			buf = res.Range(buf[:0], b, min(b+block, to))
			for j := range buf {
				cr, i := &buf[j], b+j
				l := &out[i]
				// A shared resource's texts are set once, by its first line.
				if t == nil || first[t.of[i]] == int32(i) {
					*l.LineResource = LineResource{TenantID: cr.TenantID, SubscriptionID: cr.SubAccountID, ServiceName: cr.ServiceName, ResourceID: cr.ResourceID}
				}
				l.PartnerID, l.Currency, l.UsageRows, l.USD = cr.PartnerID, cr.BillingCurrency, cr.UsageRows, "0"
				l.Attributed = cr.AttributedCost.String()
				// An eligible amount mostly equals the attributed one: one text.
				l.Eligible = l.Attributed
				if cr.IncentiveEligibleCost != cr.AttributedCost {
					l.Eligible = cr.IncentiveEligibleCost.String()
				}
				// ACR_USD (docs/rules.md#monthly-close): x_EffectiveCostInUsd where
				// the rows have it; the cost itself in USD billing.
				switch {
				case strings.EqualFold(cr.BillingCurrency, "USD") && cr.UsageRowsInUSD < cr.UsageRows:
					l.USD, l.USDRows = l.Attributed, cr.UsageRows
				case cr.UsageRowsInUSD > 0:
					l.USD, l.USDRows = cr.AttributedCostInUSD.String(), cr.UsageRowsInUSD
				}
				if o, ok := orgOf(cr.PartnerID); ok {
					sums[part].add(o, cr)
				}
			}
		}
	})
	return out, t, sums
}

// numberTable is the table of lines whose resources the attribution
// numbers (resource[i] is line i's, attribution.Result.ResourceNumbers):
// each resource once, in the order the lines first name it, its texts
// not yet set, and the first line of each.
func numberTable(resource []int32) (*azureTable, []int32) {
	t := &azureTable{of: make([]int32, len(resource))}
	n := int32(0)
	for _, r := range resource {
		n = max(n, r+1)
	}
	number := make([]int32, n) // resource → its number in the table, plus one
	var first []int32
	for i, r := range resource {
		if number[r] == 0 {
			first = append(first, int32(i))
			number[r] = int32(len(first))
		}
		t.of[i] = number[r] - 1
	}
	t.resources = make([]LineResource, len(first)) // a large month's table, allocated once
	return t, first
}

// partsOf is how many parts inParts cuts n items into: one per processor.
func partsOf(n int) int { return max(1, min(runtime.GOMAXPROCS(0), n)) }

// inParts calls do on each of parts parts of n items, at once.
func inParts(n, parts int, do func(part, from, to int)) {
	var wg sync.WaitGroup
	for i := range parts {
		wg.Go(func() { do(i, i*n/parts, (i+1)*n/parts) })
	}
	wg.Wait()
}

// roles resolves the roles chains name, once per tenant and reference:
// the name shown and whether the role can read usage (Privacy). A large
// world has a few hundred thousand chains over a few hundred roles.
type roles struct {
	custom map[string][]partnerlink.RoleDefinition // tenant → its custom roles
	seen   map[[2]string]resolvedRole
}

type resolvedRole struct {
	name  string
	reads bool
}

func newRoles(doc *world.Document) *roles {
	r := &roles{custom: map[string][]partnerlink.RoleDefinition{}, seen: map[[2]string]resolvedRole{}}
	for _, rd := range doc.RoleDefinitions {
		r.custom[rd.TenantID] = append(r.custom[rd.TenantID], rd.Domain())
	}
	return r
}

// of is the chain's role as resolved in its scope's tenant (the reference
// as written when it resolves to no role).
func (r *roles) of(ch *attribution.Chain) resolvedRole {
	k := [2]string{ch.ScopeTenantID, ch.Role}
	if x, ok := r.seen[k]; ok {
		return x
	}
	x := resolvedRole{name: ch.Role}
	if role, ok := rbac.Resolve(r.custom[ch.ScopeTenantID], ch.Role); ok {
		x = resolvedRole{name: role.Name, reads: partnerlink.Permits(role.Actions, role.NotActions, usageReadAction)}
	}
	r.seen[k] = x
	return x
}

// access is the role a chain holds at its scope, the role named as
// resolved in the scope's tenant.
func access(ch *attribution.Chain, rs *roles) Access {
	a := Access{TenantID: ch.ScopeTenantID, Role: rs.of(ch).name, Scope: ch.Scope, Via: string(ch.Via)}
	if len(ch.Memberships) > 0 {
		a.Through = ch.Memberships[len(ch.Memberships)-1].GroupID
	}
	return a
}

func sortAccess(as []Access) {
	slices.SortFunc(as, func(a, b Access) int {
		return cmp.Or(strings.Compare(a.TenantID, b.TenantID), strings.Compare(a.Scope, b.Scope), strings.Compare(a.Role, b.Role),
			strings.Compare(a.Via, b.Via), strings.Compare(a.Through, b.Through))
	})
}

// People is what a month's chains give its content: the credentials
// with the access behind each, the pairs whose detail a partner sees, and
// the access each unlinked credential held. It needs no usage, so a close
// works it out chain by chain as it builds the indexes, and never holds
// the chains (two worlds' chains take a few hundred megabytes for a large
// program).
type People struct {
	credentials    []Credential
	readable       []Pair
	unlinkedAccess map[string][]Access // pseudo partner ID → access (whatIf.pseudo)
}

// peopleOf works out People from the indexes' chains (what is nil when
// there are no unlinked credentials).
func peopleOf(doc *world.Document, ix *attribution.Index, what *whatIf, whatIx *attribution.Index, month partnerlink.Period) *People {
	pp := &People{}
	var wg sync.WaitGroup
	if what != nil {
		wg.Go(func() { pp.unlinkedAccess = what.access(whatIx, doc, month) })
	}
	pp.credentials, pp.readable = credentials(doc, ix, month)
	wg.Wait()
	return pp
}

// credentials lists the links in force during the month with the access
// behind each, and the (partner ID, customer tenant) pairs whose detail the
// partner sees: a chain of the month whose role can read usage.
func credentials(doc *world.Document, ix *attribution.Index, month partnerlink.Period) ([]Credential, []Pair) {
	c := newCredentialsOf(doc, month)
	chains := ix.Chains()
	for i := range chains {
		c.add(&chains[i]) // a chain is a few hundred bytes: not copied
	}
	return c.result()
}

// credentialsOf gathers what credentials lists, one chain at a time, so
// that a close can work it out while the index hands out its chains
// (attribution.NewIndexEach) rather than holding them all.
type credentialsOf struct {
	month      partnerlink.Period
	rs         *roles
	principals map[[2]string]principal
	byLink     map[[4]string]*Credential // tenant, object, partner ID, link start: one per link period
	readable   map[Pair]bool
}

type principal struct{ kind, name string }

func newCredentialsOf(doc *world.Document, month partnerlink.Period) *credentialsOf {
	c := &credentialsOf{month: month, rs: newRoles(doc), principals: map[[2]string]principal{},
		byLink: map[[4]string]*Credential{}, readable: map[Pair]bool{}}
	for _, p := range doc.Principals {
		c.principals[[2]string{p.TenantID, p.ObjectID}] = principal{p.Type, p.DisplayName}
	}
	// Every link in force during the month is listed, one that grants
	// nothing too (its access empty); chains add the access.
	for _, l := range doc.Links {
		if per := partnerlink.PeriodOf(l.From, l.To); per.Overlaps(month) {
			c.credential(l.TenantID, l.ObjectID, l.PartnerID, per)
		}
	}
	return c
}

// credential is the entry of a link period, made when first asked for.
func (c *credentialsOf) credential(tenant, object, partnerID string, link partnerlink.Period) *Credential {
	k := [4]string{tenant, object, partnerID, instant(link.From)}
	cr := c.byLink[k]
	if cr == nil {
		p := c.principals[[2]string{tenant, object}]
		cr = &Credential{TenantID: tenant, ObjectID: object, Type: p.kind, DisplayName: p.name,
			PartnerID: partnerID, Since: instant(link.From), Until: instant(link.To), Access: []Access{}}
		c.byLink[k] = cr
	}
	return cr
}

// add takes one chain into account; it keeps nothing of ch itself.
func (c *credentialsOf) add(ch *attribution.Chain) {
	if !ch.Grants() {
		return
	}
	if _, ok := ch.Period.Intersect(c.month); !ok {
		return
	}
	if c.rs.of(ch).reads {
		c.readable[Pair{PartnerID: ch.PartnerID, TenantID: ch.ScopeTenantID}] = true
	}
	cr := c.credential(ch.LinkTenantID, ch.ObjectID, ch.PartnerID, ch.LinkPeriod)
	if a := access(ch, c.rs); !slices.Contains(cr.Access, a) {
		cr.Access = append(cr.Access, a)
	}
}

// result is the credentials and the readable pairs, sorted.
func (c *credentialsOf) result() (creds []Credential, pairs []Pair) {
	for _, cr := range c.byLink {
		sortAccess(cr.Access)
		creds = append(creds, *cr)
	}
	slices.SortFunc(creds, func(a, b Credential) int {
		return cmp.Or(strings.Compare(a.TenantID, b.TenantID), strings.Compare(a.ObjectID, b.ObjectID),
			strings.Compare(a.PartnerID, b.PartnerID), strings.Compare(a.Since, b.Since))
	})
	for p := range c.readable {
		pairs = append(pairs, p)
	}
	slices.SortFunc(pairs, func(a, b Pair) int {
		return cmp.Or(strings.Compare(a.PartnerID, b.PartnerID), strings.Compare(a.TenantID, b.TenantID))
	})
	return creds, pairs
}

func instant(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
