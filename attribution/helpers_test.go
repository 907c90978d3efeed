package attribution

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink/world"
)

// The test world: customer tenants C and C2, managing (partner) tenant M;
// in C the management groups root-mg ⊃ child-mg ⊃ subscription S1, and S2
// outside any group; S3 in C2. Partner IDs A (1000001), B (2000001), and
// global G (3000000) with location L (3000001).
const (
	tC  = "0c000000-0000-4000-8000-000000000000"
	tC2 = "0c200000-0000-4000-8000-000000000000"
	tM  = "0a000000-0000-4000-8000-000000000000"
	S1  = "5a100000-0000-4000-8000-000000000000"
	S2  = "5a200000-0000-4000-8000-000000000000"
	S3  = "5a300000-0000-4000-8000-000000000000"

	uA   = "c0000000-0000-4000-8000-00000000000a" // user in C
	uB   = "c0000000-0000-4000-8000-00000000000b" // user in C
	spC  = "c0000000-0000-4000-8000-00000000005c" // service principal in C
	g1   = "c0000000-0000-4000-8000-0000000000a1" // group in C
	g2   = "c0000000-0000-4000-8000-0000000000a2" // group in C
	gCSP = "c0000000-0000-4000-8000-0000000000c5" // CSP AdminAgents in C
	mU   = "c0000000-0000-4000-8000-0000000000d1" // user in M
	mG   = "c0000000-0000-4000-8000-0000000000d2" // group in M

	pA = "1000001"
	pB = "2000001"
	pG = "3000000"
	pL = "3000001"
)

const (
	rgWeb = "/subscriptions/" + S1 + "/resourceGroups/web"
	app   = rgWeb + "/providers/Microsoft.Web/sites/shop"
	db    = "/subscriptions/" + S1 + "/resourceGroups/data/providers/Microsoft.Sql/servers/db1"
	dbX   = db + "/databases/x"
	db10  = "/subscriptions/" + S1 + "/resourceGroups/data/providers/Microsoft.Sql/servers/db10"
	vm2   = "/subscriptions/" + S2 + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
	vm3   = "/subscriptions/" + S3 + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
)

// deep is a resource 66 segments below its subscription.
var deep = rgWeb + "/providers/Microsoft.Test/things/t" + strings.Repeat("/children/c", 30)

// at parses "2026-03-02" or "2026-03-02T12:00"; "" is nil (unbounded).
func at(s string) *time.Time {
	if s == "" {
		return nil
	}
	layout := "2006-01-02"
	if len(s) > 10 {
		layout = "2006-01-02T15:04"
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func str(s string) *string { return &s }

type builder struct{ doc *world.Document }

func newWorld() *builder {
	d := &world.Document{Version: 1}
	d.Tenants = []world.Tenant{{TenantID: tC, Name: "C"}, {TenantID: tC2, Name: "C2"}, {TenantID: tM, Name: "M"}}
	d.Partners = []world.Partner{
		{PartnerID: pA, Name: "A"}, {PartnerID: pB, Name: "B"},
		{PartnerID: pG, Name: "G"}, {PartnerID: pL, Name: "L", GlobalPartnerID: str(pG)},
	}
	d.ManagementGroups = []world.ManagementGroup{{TenantID: tC, Name: "root-mg"}, {TenantID: tC, Name: "child-mg", Parent: str("root-mg")}}
	d.Subscriptions = []world.Subscription{
		{SubscriptionID: S1, TenantID: tC, Name: "s1", ManagementGroup: str("child-mg")},
		{SubscriptionID: S2, TenantID: tC, Name: "s2"},
		{SubscriptionID: S3, TenantID: tC2, Name: "s3"},
	}
	pr := func(t, id, typ string, csp bool) world.Principal {
		return world.Principal{TenantID: t, ObjectID: id, Type: typ, DisplayName: id[len(id)-4:], CSPDelegated: csp}
	}
	d.Principals = []world.Principal{
		pr(tC, uA, "User", false), pr(tC, uB, "Guest", false), pr(tC, spC, "ServicePrincipal", false),
		pr(tC, g1, "Group", false), pr(tC, g2, "Group", false), pr(tC, gCSP, "Group", true),
		pr(tM, mU, "User", false), pr(tM, mG, "Group", false),
		pr(tC2, mU, "Guest", false),
	}
	return &builder{doc: d}
}

func (b *builder) link(tenant, object, partner, from, to string) *builder {
	b.doc.Links = append(b.doc.Links, world.Link{TenantID: tenant, ObjectID: object, PartnerID: partner, From: at(from), To: at(to)})
	return b
}

func (b *builder) assign(tenant, principal, role, scope, from, to string) *builder {
	id := fmt.Sprintf("f0000000-0000-4000-8000-%012d", len(b.doc.RoleAssignments)+1)
	b.doc.RoleAssignments = append(b.doc.RoleAssignments, world.RoleAssignment{TenantID: tenant, ID: id, PrincipalID: principal, RoleDefinition: role, Scope: scope, From: at(from), To: at(to)})
	return b
}

// role defines a custom role of tenant.
func (b *builder) role(tenant, name, id string, actions ...string) *builder {
	b.doc.RoleDefinitions = append(b.doc.RoleDefinitions, world.RoleDefinition{TenantID: tenant, Name: name, ID: id, Actions: actions, NotActions: []string{}})
	return b
}

func (b *builder) member(tenant, group, member, from, to string) *builder {
	b.doc.GroupMemberships = append(b.doc.GroupMemberships, world.GroupMembership{TenantID: tenant, GroupID: group, MemberID: member, From: at(from), To: at(to)})
	return b
}

func (b *builder) delegate(customer, managing, scope, principal, role, from, to string) *builder {
	id := fmt.Sprintf("de000000-0000-4000-8000-%012d", len(b.doc.Delegations)+1)
	b.doc.Delegations = append(b.doc.Delegations, world.Delegation{ID: id, CustomerTenantID: customer, ManagingTenantID: managing, Scope: scope, PrincipalID: principal, RoleDefinition: role, From: at(from), To: at(to)})
	return b
}

func (b *builder) principalPeriod(tenant, object, from, to string) *builder {
	for i := range b.doc.Principals {
		p := &b.doc.Principals[i]
		if p.TenantID == tenant && p.ObjectID == object {
			p.From, p.To = at(from), at(to)
		}
	}
	return b
}

func (b *builder) partnerPeriod(id, from, to string) *builder {
	for i := range b.doc.Partners {
		if b.doc.Partners[i].PartnerID == id {
			b.doc.Partners[i].From, b.doc.Partners[i].To = at(from), at(to)
		}
	}
	return b
}

func (b *builder) index(t *testing.T) *Index {
	t.Helper()
	ix, err := NewIndex(b.doc)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

const usageHeader = "ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost\n"

// day is a usage row for one UTC day of resource res (its subscription is
// taken from the id) in EUR.
func day(d, res, cost string) string {
	return dayIn(d, res, cost, "EUR", "Usage")
}

func dayIn(d, res, cost, currency, category string) string {
	start := at(d)
	sub := strings.Split(res, "/")[2]
	return fmt.Sprintf("%s,%s,%s,%s,/subscriptions/%s,svc,%s,%s,%s\n", start.Format(time.RFC3339), start.AddDate(0, 0, 1).Format(time.RFC3339), category, res, sub, currency, cost, cost)
}

// run attributes usage over March 2026 and returns the CSV and summary.
func run(t *testing.T, ix *Index, usage string, opts ...func(*Options)) (string, Summary) {
	t.Helper()
	opt := Options{From: *at("2026-03-01"), To: *at("2026-04-01")}
	for _, f := range opts {
		f(&opt)
	}
	r, err := NewRun(ix, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Scan(strings.NewReader(usageHeader+usage), "usage.csv"); err != nil {
		t.Fatal(err)
	}
	res := r.Result()
	var out bytes.Buffer
	if err := res.WriteCSV(&out); err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(out.String(), CSVHeader+"\n"), res.Summary
}

// line is one expected output row.
func line(partner, res, currency, attributed, eligible string, rows int) string {
	sub := strings.Split(res, "/")[2]
	tenant := tC
	if sub == S3 {
		tenant = tC2
	}
	return fmt.Sprintf("%s,%s,%s,%s,%s,%s,%s,%d\n", partner, tenant, sub, res, currency, attributed, eligible, rows)
}
