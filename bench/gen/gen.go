// Package gen generates synthetic worlds (docs/api.md#world-document) and FOCUS usage
// (docs/api.md#focus-usage) for the benchmark, deterministically from a seed.
//
// Shape, per customer tenant: a management group tree (root, prod, dev) in
// two tenants of three, 2–5 subscriptions, users, guests of partner
// directories, service principals, nested groups (with a membership cycle
// in some tenants) and a CSP AdminAgents group; links whose partner changes
// mid-month, links deleted mid-month, principals deleted mid-month (and
// some disabled and enabled again, listed once per period); role
// assignments at the tenant root, management groups, subscriptions,
// resource groups, resources and child resources, with built-in and custom
// roles named by name or GUID; Lighthouse delegations to partner tenants.
// One global partner ID and one location ID are deleted mid-month.
//
// Usage: one month, daily rows, one or more meters per resource, resource
// ids with mixed casing (and a few trailing "/"), nested child resources,
// rows without ResourceId, SubAccountId as /subscriptions/{guid} or a bare
// GUID in either case, rows of unknown subscriptions, non-Usage charge
// categories, a few rows of the previous month, and several currencies.
package gen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/partnerlink/partnerlink/world"
)

// Params are the generator's settings.
type Params struct {
	Tenants              int
	AssignmentsPerTenant int
	Rows                 int64
	Seed                 uint64
	Month                time.Time // first day of the usage month, UTC
}

// String is the parameter line written to params.txt.
func (p Params) String() string {
	return fmt.Sprintf("tenants=%d assignments=%d rows=%d seed=%d month=%s", p.Tenants, p.AssignmentsPerTenant, p.Rows, p.Seed, p.Month.Format("2006-01"))
}

// Stats describes what was generated.
type Stats struct {
	Tenants, Subscriptions, Principals, Memberships, Assignments, Delegations, Links, Partners int
	Resources                                                                                  int
	Rows                                                                                       int64
	UsageBytes                                                                                 int64
}

func (s Stats) String() string {
	return fmt.Sprintf("%d tenants, %d partner IDs, %d subscriptions, %d principals, %d memberships, %d role assignments, %d delegations, %d links, %d resources, %d usage rows (%.1f MB)",
		s.Tenants, s.Partners, s.Subscriptions, s.Principals, s.Memberships, s.Assignments, s.Delegations, s.Links, s.Resources, s.Rows, float64(s.UsageBytes)/1e6)
}

// Upto-date reports whether dir holds data generated with p.
func UpToDate(dir string, p Params) bool {
	b, err := os.ReadFile(filepath.Join(dir, "params.txt"))
	if err != nil || string(b) != p.String()+"\n" {
		return false
	}
	for _, f := range []string{"world.json", "usage.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

// Generate writes dir/world.json and dir/usage.csv.
func Generate(dir string, p Params) (Stats, error) {
	if p.Tenants < 1 || p.Rows < 1 {
		return Stats{}, fmt.Errorf("gen: need at least one tenant and one row")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Stats{}, err
	}
	os.Remove(filepath.Join(dir, "params.txt"))
	g := newGenerator(p)
	g.world()
	doc := &g.doc
	if err := world.Validate(doc); err != nil {
		return Stats{}, fmt.Errorf("gen: the generated world is not valid: %w", err)
	}
	if err := writeJSON(filepath.Join(dir, "world.json"), doc); err != nil {
		return Stats{}, err
	}
	n, size, err := g.usage(filepath.Join(dir, "usage.csv"))
	if err != nil {
		return Stats{}, err
	}
	st := Stats{
		Tenants: len(doc.Tenants), Subscriptions: len(doc.Subscriptions), Principals: len(doc.Principals),
		Memberships: len(doc.GroupMemberships), Assignments: len(doc.RoleAssignments), Delegations: len(doc.Delegations),
		Links: len(doc.Links), Partners: len(doc.Partners), Resources: len(g.resources), Rows: n, UsageBytes: size,
	}
	if err := os.WriteFile(filepath.Join(dir, "params.txt"), []byte(p.String()+"\n"), 0o644); err != nil {
		return st, err
	}
	return st, nil
}

func writeJSON(path string, doc *world.Document) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(doc); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// partner is a generated partner organization: a global ID, its location
// IDs and its home (managing) tenant with its Lighthouse principals.
type partner struct {
	global    string
	locations []string
	home      string
	group     string // the home tenant's group delegations name
}

// linkID is the ID a credential links: a location ID when there are some.
func (p *partner) linkID(r *rand.Rand) string {
	if len(p.locations) == 0 {
		return p.global
	}
	return p.locations[r.IntN(len(p.locations))]
}

// sub is a generated subscription with its resources.
type sub struct {
	id       string
	tenant   int
	currency string
	rgs      []string
}

// resource is a usage-bearing resource: its id in canonical casing.
type resource struct {
	sub    int
	id     string // "" for subscription-level charges
	meters int
	cost   int64 // base daily cost in micro-units
}

type generator struct {
	p         Params
	r         *rand.Rand
	doc       world.Document
	partners  []partner
	subs      []sub
	resources []resource
}

func newGenerator(p Params) *generator {
	return &generator{p: p, r: rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15))}
}

func (g *generator) guid() string {
	r := g.r
	a, b := r.Uint64(), r.Uint64()
	b = b&^(0xc<<60) | 0x8<<60
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", uint32(a>>32), uint16(a>>16), uint16(a)&0xfff, uint16(b>>48), b&0xffffffffffff)
}

func (g *generator) at(day int, hour int) *time.Time {
	t := g.p.Month.AddDate(0, 0, day).Add(time.Duration(hour) * time.Hour)
	return &t
}

func ptr[T any](v T) *T { return &v }

var (
	currencies = []string{"USD", "EUR", "GBP", "NOK"}
	// custom roles, which every tenant with role assignments defines: one
	// that writes, one made of reads, one whose notActions remove everything.
	customRoles = []world.RoleDefinition{
		{Name: "VM Operator", ID: "5a1e0000-0000-4000-8000-000000000001", Actions: []string{"Microsoft.Compute/virtualMachines/read", "Microsoft.Compute/virtualMachines/start/action"}, NotActions: []string{}},
		{Name: "Compute Auditor", ID: "5a1e0000-0000-4000-8000-000000000002", Actions: []string{"Microsoft.Compute/*/read", "Microsoft.Insights/*/read"}, NotActions: []string{}, DataActions: []string{"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"}},
		{Name: "Nothing Really", ID: "5a1e0000-0000-4000-8000-000000000003", Actions: []string{"Microsoft.Web/*"}, NotActions: []string{"*"}},
	}
	// roles as assignments name them: by name or by GUID, any case.
	roleRefs = []string{"Reader", "Contributor", "Owner", "acdd72a7-3385-48ef-bd42-f606fba81ae7", "b24988ac-6180-42a0-ab88-20f7382dd24c",
		"Cost Management Reader", "72fafb9e-0641-4937-9268-a91bfd8191a3", "billing reader", "User Access Administrator",
		"VM Operator", "Compute Auditor", "5A1E0000-0000-4000-8000-000000000003"}
)

func (g *generator) role() string { return roleRefs[g.r.IntN(len(roleRefs))] }

func (g *generator) world() {
	r := g.r
	d := &g.doc
	d.Version = 1
	since := ptr(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	days := g.days()

	// Partners: a global ID each, some with location IDs, each with a home
	// tenant holding a Lighthouse user and group.
	np := max(5, g.p.Tenants/20)
	for i := range np {
		pt := partner{global: strconv.Itoa(1000000 + i*7), home: g.guid()}
		if i == 3 {
			pt.global = "999" // sorts after 1000000 as text
		}
		gp := world.Partner{PartnerID: pt.global, Name: fmt.Sprintf("Partner %d", i), HomeTenantIDs: []string{pt.home}, From: since}
		if i == 1 {
			gp.To = g.at(days/2, 0) // a global ID deleted mid-month stops its locations
		}
		d.Partners = append(d.Partners, gp)
		for j := range i % 3 {
			loc := strconv.Itoa(4000000 + i*10 + j)
			lp := world.Partner{PartnerID: loc, Name: fmt.Sprintf("Partner %d location %d", i, j), GlobalPartnerID: ptr(pt.global), HomeTenantIDs: []string{}, From: since}
			if i == 2 && j == 1 {
				lp.To = g.at(11, 15) // a location ID deleted mid-day
			}
			d.Partners = append(d.Partners, lp)
			pt.locations = append(pt.locations, loc)
		}
		d.Tenants = append(d.Tenants, world.Tenant{TenantID: pt.home, Name: fmt.Sprintf("Partner %d home", i)})
		user, grp, inner := g.guid(), g.guid(), g.guid()
		pt.group = grp
		d.Principals = append(d.Principals,
			world.Principal{TenantID: pt.home, ObjectID: user, Type: "User", DisplayName: fmt.Sprintf("ops@partner%d.example", i)},
			world.Principal{TenantID: pt.home, ObjectID: grp, Type: "Group", DisplayName: "lighthouse-operators"},
			world.Principal{TenantID: pt.home, ObjectID: inner, Type: "Group", DisplayName: "lighthouse-oncall"},
		)
		d.GroupMemberships = append(d.GroupMemberships,
			world.GroupMembership{TenantID: pt.home, GroupID: inner, MemberID: user, From: since},
			world.GroupMembership{TenantID: pt.home, GroupID: grp, MemberID: inner, From: g.at(2, 9)},
		)
		d.Links = append(d.Links, world.Link{TenantID: pt.home, ObjectID: user, PartnerID: pt.linkID(r), From: since})
		g.partners = append(g.partners, pt)
	}
	for i := range g.p.Tenants {
		g.tenant(i)
	}
	// A custom role belongs to one tenant: every tenant with role
	// assignments gets its own copy of the custom roles.
	seen := map[string]bool{}
	for _, a := range d.RoleAssignments {
		if !seen[a.TenantID] {
			seen[a.TenantID] = true
			for _, cr := range customRoles {
				cr.TenantID = a.TenantID
				d.RoleDefinitions = append(d.RoleDefinitions, cr)
			}
		}
	}
}

func (g *generator) days() int { return int(g.p.Month.AddDate(0, 1, 0).Sub(g.p.Month).Hours() / 24) }

// resourcesPerSub is how many resources each subscription gets so that the
// usage has about p.Rows rows (two meters per resource on average).
func (g *generator) resourcesPerSub(nsubs int) int {
	per := g.p.Rows / int64(g.days()*2*nsubs)
	return int(max(per, 2))
}

func (g *generator) tenant(i int) {
	r := g.r
	d := &g.doc
	days := g.days()
	since := ptr(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	t := g.guid()
	d.Tenants = append(d.Tenants, world.Tenant{TenantID: t, Name: fmt.Sprintf("Customer %d", i)})

	// Management groups in two tenants of three.
	var mgs []string
	if i%3 != 0 {
		root, prod, dev := fmt.Sprintf("mg-%d", i), fmt.Sprintf("MG-Prod-%d", i), fmt.Sprintf("mg-dev-%d", i)
		d.ManagementGroups = append(d.ManagementGroups,
			world.ManagementGroup{TenantID: t, Name: root},
			world.ManagementGroup{TenantID: t, Name: prod, Parent: ptr(root)},
			world.ManagementGroup{TenantID: t, Name: dev, Parent: ptr(root)},
		)
		mgs = []string{root, prod, dev}
	}
	// Subscriptions (about 3.5 per tenant) and their resources.
	nsubs := 2 + i%4
	perSub := g.resourcesPerSub(g.p.Tenants * 7 / 2)
	cur := currencies[i%len(currencies)]
	var subIDs []string
	var resScopes []string
	for j := range nsubs {
		s := g.guid()
		var mg *string
		if len(mgs) > 0 && j < 3 {
			mg = ptr(mgs[1+j%2])
		}
		d.Subscriptions = append(d.Subscriptions, world.Subscription{SubscriptionID: s, TenantID: t, Name: fmt.Sprintf("sub-%d", j), ManagementGroup: mg})
		subIDs = append(subIDs, s)
		sb := sub{id: s, tenant: i, currency: cur, rgs: []string{"rg-web", "rg-data", "RG-Ops"}}
		g.subs = append(g.subs, sb)
		si := len(g.subs) - 1
		g.resources = append(g.resources, resource{sub: si, meters: 1, cost: 1_000_000}) // subscription-level charges
		for k := range perSub - 1 {
			rg := sb.rgs[k%3]
			var id string
			switch k % 5 {
			case 0:
				id = fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/vm-%d", s, rg, k)
			case 1:
				id = fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Sql/servers/sql-%d/databases/db-%d", s, rg, k/5, k)
			case 2:
				id = fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Storage/storageAccounts/st%d", s, rg, k)
			case 3:
				id = fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Web/sites/app-%d", s, rg, k)
			default:
				id = fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/virtualNetworks/vnet-%d/subnets/sn-%d", s, rg, k, k%3)
			}
			g.resources = append(g.resources, resource{sub: si, id: id, meters: 1 + k%3, cost: int64(10_000 + r.IntN(5_000_000))})
			if k < 40 {
				resScopes = append(resScopes, id)
			}
		}
	}

	// Principals.
	pr := func(typ, name string) string {
		id := g.guid()
		d.Principals = append(d.Principals, world.Principal{TenantID: t, ObjectID: id, Type: typ, DisplayName: name})
		return id
	}
	base := len(d.Principals)
	users := []string{pr("User", "ana"), pr("User", "bo"), pr("User", "cy"), pr("User", "dee"), pr("User", "eli")}
	pa := &g.partners[r.IntN(len(g.partners))]
	pb := &g.partners[r.IntN(len(g.partners))]
	pc := &g.partners[r.IntN(len(g.partners))]
	guest := func(p *partner) string {
		id := g.guid()
		d.Principals = append(d.Principals, world.Principal{TenantID: t, ObjectID: id, Type: "Guest", DisplayName: "ops_partner#EXT#", HomeTenantID: ptr(p.home)})
		return id
	}
	guests := []string{guest(pa), guest(pb)}
	sp := func(name string) string {
		id := g.guid()
		d.Principals = append(d.Principals, world.Principal{TenantID: t, ObjectID: id, Type: "ServicePrincipal", DisplayName: name, AppID: ptr(g.guid())})
		return id
	}
	sps := []string{sp("automation"), sp("backup")}
	groups := []string{pr("Group", "ops"), pr("Group", "platform"), pr("Group", "all-admins")}
	csp := g.guid()
	d.Principals = append(d.Principals, world.Principal{TenantID: t, ObjectID: csp, Type: "Group", DisplayName: "AdminAgents", CSPDelegated: true})
	// A user deleted mid-month in one tenant of four; a disabled SP in one of seven.
	if i%4 == 1 {
		d.Principals[base].To = g.at(20, 8) // users[0]
	}
	if i%7 == 2 {
		d.Principals[base+8].From = g.at(6, 0) // sps[1] created mid-month
	}
	// users[1] disabled on day 9 and enabled again on day 16 in one tenant
	// of five: listed once per enabled period.
	if i%5 == 3 {
		again := d.Principals[base+1]
		d.Principals[base+1].To = g.at(9, 0)
		again.From = g.at(16, 0)
		d.Principals = append(d.Principals, again)
	}

	// Memberships: users[1] ∈ ops ∈ platform ∈ all-admins (∈ ops in some
	// tenants: a cycle); sps[1] joins platform mid-month; guests[1] ∈ CSP
	// AdminAgents; users[2] leaves ops mid-month.
	mem := func(group, member string, from, to *time.Time) {
		d.GroupMemberships = append(d.GroupMemberships, world.GroupMembership{TenantID: t, GroupID: group, MemberID: member, From: from, To: to})
	}
	mem(groups[0], users[1], since, nil)
	mem(groups[1], groups[0], since, nil)
	mem(groups[2], groups[1], g.at(3, 0), nil)
	if i%5 == 0 {
		mem(groups[0], groups[2], since, nil) // cycle
	}
	mem(groups[1], sps[1], g.at(9, 14), nil)
	mem(csp, guests[1], since, nil)
	mem(groups[0], users[2], since, g.at(16, 0))
	mem(csp, groups[2], since, nil) // all-admins also inside AdminAgents: reaching AdminAgents is CSP

	// Links: users[0] → A; guests[0] → B; sps[0] → A, then C from mid-month;
	// users[1] → C; guests[1] → B (only via CSP: no credit); sps[1] → A;
	// users[2] → B deleted on day 22.
	link := func(obj, pid string, from, to *time.Time) {
		d.Links = append(d.Links, world.Link{TenantID: t, ObjectID: obj, PartnerID: pid, From: from, To: to})
	}
	if i%6 != 5 {
		link(users[0], pa.linkID(r), since, nil)
	}
	link(guests[0], pb.linkID(r), g.at(r.IntN(days), r.IntN(24)), nil)
	change := g.at(10, 13)
	link(sps[0], pa.linkID(r), since, change)
	link(sps[0], pc.linkID(r), change, nil)
	link(users[1], pc.linkID(r), since, nil)
	link(guests[1], pb.linkID(r), since, nil)
	link(sps[1], pa.linkID(r), since, nil)
	link(users[2], pb.linkID(r), since, g.at(22, 0))

	// Role assignments at every scope kind.
	assign := func(principal, role, scope string, from, to *time.Time) {
		d.RoleAssignments = append(d.RoleAssignments, world.RoleAssignment{TenantID: t, ID: g.guid(), PrincipalID: principal, RoleDefinition: role, Scope: scope, From: from, To: to})
	}
	subScope := func(j int) string { return "/subscriptions/" + subIDs[j%len(subIDs)] }
	rgScope := func(j int, rg string) string { return subScope(j) + "/resourceGroups/" + rg }
	assign(users[0], "Reader", subScope(0), since, nil)
	assign(guests[0], "Contributor", rgScope(1, "rg-web"), g.at(4, 6), nil)
	assign(guests[0], "Reader", rgScope(0, "RG-DATA"), since, g.at(25, 0))
	if len(resScopes) > 0 {
		assign(sps[0], "Owner", resScopes[0], since, nil)
		// a resource scope written with other casing and a trailing "/"
		assign(users[1], "Contributor", upperSome(resScopes[len(resScopes)/2])+"/", g.at(7, 0), g.at(19, 12))
	}
	assign(sps[0], "Contributor", rgScope(0, "rg-web"), g.at(2, 0), g.at(27, 0))
	if len(mgs) > 0 {
		assign(groups[1], "VM Operator", "/providers/Microsoft.Management/managementGroups/"+mgs[1], since, nil)
		assign(groups[2], "Reader", "/providers/Microsoft.Management/managementGroups/"+mgs[0], g.at(12, 0), nil)
	} else {
		assign(groups[1], "VM Operator", subScope(1), since, nil)
	}
	assign(groups[2], "Reader", "/", since, g.at(8, 0))
	assign(csp, "Owner", "/", since, nil)
	assign(users[2], "72fafb9e-0641-4937-9268-a91bfd8191a3", subScope(2), since, nil)
	assign(sps[1], "Compute Auditor", subScope(1), since, nil)
	assign(users[3], "Owner", subScope(0), since, nil) // not linked
	// Noise: the rest at random resource scopes, mostly to unlinked
	// principals, some to linked ones and groups.
	holders := []string{users[3], users[4], users[3], users[4], users[0], guests[0], sps[0], groups[0], groups[1], users[1]}
	for n := 12; n < g.p.AssignmentsPerTenant; n++ {
		var scope string
		switch {
		case len(resScopes) > 0 && n%4 != 0:
			scope = resScopes[r.IntN(len(resScopes))]
		case n%8 == 0:
			scope = rgScope(r.IntN(len(subIDs)), []string{"rg-web", "rg-data", "RG-Ops"}[r.IntN(3)])
		default:
			scope = subScope(r.IntN(len(subIDs)))
		}
		var from, to *time.Time = since, nil
		if r.IntN(4) == 0 {
			from = g.at(r.IntN(days), r.IntN(24))
		}
		if r.IntN(5) == 0 {
			to = g.at(r.IntN(days), r.IntN(24))
		}
		if from != nil && to != nil && !from.Before(*to) {
			to = nil
		}
		assign(holders[r.IntN(len(holders))], g.role(), scope, from, to)
	}

	// Lighthouse: one tenant of five delegates a subscription or a resource
	// group to a partner's group (or its user).
	if i%5 == 3 {
		pd := &g.partners[r.IntN(len(g.partners))]
		principal := pd.group
		scope := subScope(0)
		if i%10 == 3 {
			scope = rgScope(1, "rg-data")
		}
		d.Delegations = append(d.Delegations, world.Delegation{ID: g.guid(), CustomerTenantID: t, ManagingTenantID: pd.home, Scope: scope, PrincipalID: principal, RoleDefinition: "Contributor", From: g.at(3, 0)})
		if len(mgs) > 0 {
			d.Delegations = append(d.Delegations, world.Delegation{ID: g.guid(), CustomerTenantID: t, ManagingTenantID: pd.home, Scope: "/providers/Microsoft.Management/managementGroups/" + mgs[2], PrincipalID: pd.group, RoleDefinition: "Reader", From: since, To: g.at(17, 0)})
		}
	}
}

// upperSome returns id with its resource group and provider segments in
// other casing (same resource, docs/rules.md#identifiers-and-time).
func upperSome(id string) string {
	b := []byte(id)
	for i := 52; i < len(b) && i < 80; i++ { // past "/subscriptions/{guid}/"
		if 'a' <= b[i] && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}
