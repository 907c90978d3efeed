package report

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/attribution"
	"github.com/partnerlink/partnerlink/world"
)

// The test world: organization G (5200000) with location IDs L1 and L2,
// and partner O (6100000). In Contoso (C1) G's guest is Reader and L1's
// service principal Contributor on S1; in Northwind (C2) L2's service
// principal holds a custom role that writes virtual machines but reads no
// usage on S2.
const (
	tC1 = "c1000000-0000-4000-8000-000000000000"
	tC2 = "c2000000-0000-4000-8000-000000000000"
	tM  = "aa000000-0000-4000-8000-000000000000"
	S1  = "5a100000-0000-4000-8000-000000000001"
	S2  = "5a200000-0000-4000-8000-000000000002"
	pG  = "5200000"
	pL1 = "5200001"
	pL2 = "5200002"
	pO  = "6100000"
	ga  = "0b000000-0000-4000-8000-0000000000a1"
	sp1 = "0b000000-0000-4000-8000-0000000000b1"
	sp2 = "0b000000-0000-4000-8000-0000000000b2"

	resA = "/subscriptions/" + S1 + "/resourceGroups/web/providers/Microsoft.Web/sites/shop"
	resB = "/subscriptions/" + S1 + "/resourceGroups/data/providers/Microsoft.Sql/servers/db"
	resC = "/subscriptions/" + S2 + "/resourceGroups/vm/providers/Microsoft.Compute/virtualMachines/vm1"
)

func ptr(s string) *string { return &s }

func testWorld() *world.Document {
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return &world.Document{Version: 1,
		Partners: []world.Partner{{PartnerID: pG, Name: "Fabrikam Partners", HomeTenantIDs: []string{tM}}, {PartnerID: pL1, Name: "Fabrikam Oslo", GlobalPartnerID: ptr(pG)},
			{PartnerID: pL2, Name: "Fabrikam Bergen", GlobalPartnerID: ptr(pG)}, {PartnerID: pO, Name: "Other"}},
		Tenants:       []world.Tenant{{TenantID: tC1, Name: "Contoso"}, {TenantID: tC2, Name: "Northwind"}, {TenantID: tM, Name: "Fabrikam"}},
		Subscriptions: []world.Subscription{{SubscriptionID: S1, TenantID: tC1, Name: "s1"}, {SubscriptionID: S2, TenantID: tC2, Name: "s2"}},
		Principals: []world.Principal{
			{TenantID: tC1, ObjectID: ga, Type: "Guest", DisplayName: "ana", HomeTenantID: ptr(tM)},
			{TenantID: tC1, ObjectID: sp1, Type: "ServicePrincipal", DisplayName: "deploy"},
			{TenantID: tC2, ObjectID: sp2, Type: "ServicePrincipal", DisplayName: "vm-ops"},
		},
		RoleDefinitions: []world.RoleDefinition{{TenantID: tC2, Name: "VM writer", ID: "e0000000-0000-4000-8000-000000000001",
			Actions: []string{"Microsoft.Compute/virtualMachines/write"}, NotActions: []string{}}},
		RoleAssignments: []world.RoleAssignment{
			{TenantID: tC1, ID: "f0000000-0000-4000-8000-000000000001", PrincipalID: ga, RoleDefinition: "Reader", Scope: "/subscriptions/" + S1, From: &since},
			{TenantID: tC1, ID: "f0000000-0000-4000-8000-000000000002", PrincipalID: sp1, RoleDefinition: "Contributor", Scope: "/subscriptions/" + S1, From: &since},
			{TenantID: tC2, ID: "f0000000-0000-4000-8000-000000000003", PrincipalID: sp2, RoleDefinition: "VM writer", Scope: "/subscriptions/" + S2, From: &since},
		},
		Links: []world.Link{
			{TenantID: tC1, ObjectID: ga, PartnerID: pG, From: &since},
			{TenantID: tC1, ObjectID: sp1, PartnerID: pL1, From: &since},
			{TenantID: tC2, ObjectID: sp2, PartnerID: pL2, From: &since},
		},
	}
}

// usageCSV is two files: one with Azure's x_EffectiveCostInUsd, one without.
const usageCSV = `ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost,x_EffectiveCostInUsd
2026-03-03T00:00:00Z,2026-03-04T00:00:00Z,Usage,` + resA + `,/subscriptions/` + S1 + `,App Service,EUR,10.5,10.5,11.25
2026-03-04T00:00:00Z,2026-03-05T00:00:00Z,Usage,` + resA + `,/subscriptions/` + S1 + `,App Service,EUR,0.25,0.25,0.3
` + fileBreak + `ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost
2026-03-04T00:00:00Z,2026-03-05T00:00:00Z,Usage,` + resB + `,/subscriptions/` + S1 + `,SQL Database,USD,2.5,2.5
2026-03-05T00:00:00Z,2026-03-06T00:00:00Z,Usage,` + resC + `,/subscriptions/` + S2 + `,Virtual Machines,EUR,3,3
2026-04-01T00:00:00Z,2026-04-02T00:00:00Z,Usage,` + resC + `,/subscriptions/` + S2 + `,Virtual Machines,EUR,99,99
`

const fileBreak = "--\n"

// build closes March 2026 of the test world in memory.
func build(t *testing.T, doc *world.Document, usage string) *Content {
	t.Helper()
	in := attribute(t, doc, usage)
	in.Files = []string{"h1"}
	c, err := Build(*in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// attribute runs March 2026's attributions of the test world over usage
// (files separated by fileBreak).
func attribute(t *testing.T, doc *world.Document, usage string) *Inputs {
	t.Helper()
	month, _ := partnerlink.ParseMonth("2026-03")
	in, err := Attribute(doc, month, 1, func(run *attribution.Run) error {
		for i, f := range strings.Split(usage, fileBreak) {
			if err := run.Scan(strings.NewReader(f), fmt.Sprintf("usage%d.csv", i+1)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func partnerOutput(t *testing.T, c *Content, id, format string) string {
	t.Helper()
	ids, err := c.Organization(id)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ForPartner(c, 1, ids)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WritePartner(&b, []*PartnerReport{r}, format); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// docs/rules.md#monthly-close, "Privacy" and "Partner Center layout": the
// detail of a customer shows only for a partner ID whose credential could
// read its usage during the month; every other customer is one anonymized
// line per ID and currency. ACR_USD is x_EffectiveCostInUsd where the rows
// have it, the cost itself in USD billing, and left out otherwise.
func TestPartnerReportPrivacyAndPartnerCenter(t *testing.T) {
	c := build(t, testWorld(), usageCSV)
	got := partnerOutput(t, c, pG, FormatPartnerCenter)
	want := PartnerCenterHeader + "\n" +
		"2026-03,,(not shown),,,5200002,Fabrikam Bergen,PAL,0\n" +
		"2026-03," + tC1 + ",Contoso," + S1 + ",App Service,5200000,Fabrikam Partners,PAL,11.55\n" +
		"2026-03," + tC1 + ",Contoso," + S1 + ",App Service,5200001,Fabrikam Oslo,PAL,11.55\n" +
		"2026-03," + tC1 + ",Contoso," + S1 + ",SQL Database,5200000,Fabrikam Partners,PAL,2.5\n" +
		"2026-03," + tC1 + ",Contoso," + S1 + ",SQL Database,5200001,Fabrikam Oslo,PAL,2.5\n"
	if got != want {
		t.Errorf("partner-center:\n%s\nwant\n%s", got, want)
	}
	csv := partnerOutput(t, c, pG, FormatCSV)
	if !strings.Contains(csv, "2026-03,5200002,Fabrikam Bergen,,(not shown) customer 1,,,,EUR,3,3,0,1\n") || strings.Contains(csv, tC2) || strings.Contains(csv, resC) {
		t.Errorf("the unreadable customer is not one anonymized line:\n%s", csv)
	}
	// A location ID's report is its own: no global ID lines.
	if l1 := partnerOutput(t, c, pL1, FormatCSV); strings.Contains(l1, ",5200000,") || !strings.Contains(l1, ",5200001,") {
		t.Errorf("location ID report:\n%s", l1)
	}
	if _, err := c.Organization("7777777"); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("unknown partner: %v", err)
	}
}

// docs/rules.md#monthly-close, "Program report": an organization's total
// counts a usage row once, however many of its IDs it was credited to,
// and the per-ID detail marks the lines counted under an earlier ID.
func TestProgramReportCountsRowsOnce(t *testing.T) {
	c := build(t, testWorld(), usageCSV)
	r, err := ForProgram(c, 1)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteProgram(&b, []*ProgramReport{r}, FormatCSV); err != nil {
		t.Fatal(err)
	}
	want := ProgramCSVHeader + "\n" +
		"2026-03,5200000,Fabrikam Partners,EUR,13.75,13.75,2\n" +
		"2026-03,5200000,Fabrikam Partners,USD,2.5,2.5,1\n"
	if b.String() != want {
		t.Errorf("program csv:\n%s\nwant\n%s", b.String(), want)
	}
	var dups []string
	for _, l := range r.Detail {
		if l.DuplicateForPGA {
			dups = append(dups, l.PartnerID+" "+l.ResourceID)
		}
	}
	if want := []string{pL1 + " " + resB, pL1 + " " + resA}; strings.Join(dups, "|") != strings.Join(want, "|") {
		t.Errorf("duplicate lines = %q, want %q", dups, want)
	}
	// The per-ID sum exceeds the organization's by the duplicates exactly.
	perID := "0"
	for _, l := range c.Azure {
		if l.Currency == "EUR" && !l.DuplicateForPGA {
			perID, _ = partnerlink.AddDecimal(perID, l.Attributed)
		}
	}
	if perID != "13.75" {
		t.Errorf("per-ID EUR lines without duplicates sum to %s, want the organization's 13.75", perID)
	}
}

// The customer sees every credential linked in its tenant, with roles and
// scopes, and each partner ID's credit there.
func TestCustomerReport(t *testing.T) {
	c := build(t, testWorld(), usageCSV)
	r, err := ForCustomer(c, 1, tC1)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteCustomer(&b, []*CustomerReport{r}, FormatCSV); err != nil {
		t.Fatal(err)
	}
	want := CustomerCSVHeader + "\n" +
		"2026-03," + tC1 + ",5200000,Fabrikam Partners,EUR,10.75,0,2\n" +
		"2026-03," + tC1 + ",5200000,Fabrikam Partners,USD,2.5,0,1\n" +
		"2026-03," + tC1 + ",5200001,Fabrikam Oslo,EUR,10.75,10.75,2\n" +
		"2026-03," + tC1 + ",5200001,Fabrikam Oslo,USD,2.5,2.5,1\n"
	if b.String() != want {
		t.Errorf("customer csv:\n%s\nwant\n%s", b.String(), want)
	}
	if len(r.Credentials) != 2 || r.Credentials[0].ObjectID != ga || r.Credentials[0].Access[0].Role != "Reader" ||
		r.Credentials[1].Access[0].Scope != "/subscriptions/"+S1 {
		t.Errorf("credentials = %+v", r.Credentials)
	}
}

// docs/rules.md#monthly-close: the credentials are the links in force
// during the month, each link period on its own: one that holds no role
// is listed without access, and a credential linked again is listed for
// each link.
func TestCredentialsAreTheMonthsLinks(t *testing.T) {
	doc := testWorld()
	const bare = "0b000000-0000-4000-8000-0000000000e1"
	mar5, mar10, mar20 := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)
	doc.Principals = append(doc.Principals, world.Principal{TenantID: tC1, ObjectID: bare, Type: "ServicePrincipal", DisplayName: "no-role"})
	doc.Links[0].To = &mar10 // ana: until March 10, then again from March 20
	doc.Links = append(doc.Links, world.Link{TenantID: tC1, ObjectID: bare, PartnerID: pG, From: &mar5},
		world.Link{TenantID: tC1, ObjectID: ga, PartnerID: pG, From: &mar20})
	r, err := ForCustomer(build(t, doc, usageCSV), 1, tC1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range r.Credentials {
		got = append(got, fmt.Sprintf("%s %s %s-%s %d", c.DisplayName, c.PartnerID, c.Since, c.Until, len(c.Access)))
	}
	want := []string{"ana 5200000 2026-01-01T00:00:00Z-2026-03-10T00:00:00Z 1", "ana 5200000 2026-03-20T00:00:00Z- 1",
		"deploy 5200001 2026-01-01T00:00:00Z- 1", "no-role 5200000 2026-03-05T00:00:00Z- 0"}
	if !slices.Equal(got, want) {
		t.Errorf("credentials:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var b bytes.Buffer
	if err := WriteCustomer(&b, []*CustomerReport{r}, FormatTable); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`no-role +ServicePrincipal +5200000 +2026-03-05T00:00:00Z +\(none\)`).MatchString(b.String()) {
		t.Errorf("the table leaves out the credential without a role:\n%s", b.String())
	}
}

// docs/rules.md#monthly-close, "Versions": a restatement covers a change
// of the incentive-eligible amounts alone, in its lines and its totals,
// Azure and Power Platform alike.
func TestRestatementOfEligibility(t *testing.T) {
	reader := testWorld()
	reader.RoleAssignments[1].RoleDefinition = "Reader" // deploy no longer writes: nothing eligible
	changes, err := Diff(build(t, testWorld(), usageCSV), build(t, reader, usageCSV))
	if err != nil {
		t.Fatal(err)
	}
	tot := Totals(changes)
	if len(changes) != 2 || len(tot) != 2 || tot[0].Unit != "EUR" || tot[0].Delta != "0" || tot[0].DeltaEligible != "-10.75" ||
		tot[1].Unit != "USD" || tot[1].DeltaEligible != "-2.5" {
		t.Errorf("changes %+v\ntotals %+v", changes, tot)
	}
	line := PPLine{PartnerID: pL1, TenantID: tC1, EnvironmentID: "env", ResourceID: "app", Kind: "CanvasApp", Metric: "MAU", Value: 3, Eligible: true}
	sandbox := line
	sandbox.Eligible = false
	changes, err = Diff(&Content{PowerPlatform: []PPLine{line}}, &Content{PowerPlatform: []PPLine{sandbox}})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Delta != "0" || changes[0].OldEligible != "3" || changes[0].NewEligible != "0" ||
		Totals(changes)[0].DeltaEligible != "-3" {
		t.Errorf("Power Platform eligibility changes: %+v", changes)
	}
}

// docs/rules.md#monthly-close, "Versions": content is canonical (the same
// inputs give the same bytes), and a restatement lists each changed line
// with old, new and delta.
func TestContentIsCanonicalAndDiffs(t *testing.T) {
	a, _ := Marshal(build(t, testWorld(), usageCSV))
	b, _ := Marshal(build(t, testWorld(), usageCSV))
	if !bytes.Equal(a, b) {
		t.Fatal("the same inputs gave different content")
	}
	old := build(t, testWorld(), usageCSV)
	late := usageCSV + "2026-03-20T00:00:00Z,2026-03-21T00:00:00Z,Usage," + resC + ",/subscriptions/" + S2 + ",Virtual Machines,EUR,1.125,1.125\n"
	changes, err := Diff(old, build(t, testWorld(), late))
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Old != "3" || changes[0].New != "4.125" || changes[0].Delta != "1.125" ||
		changes[0].DeltaEligible != "1.125" || changes[0].Key[0] != pL2 {
		t.Errorf("changes = %+v", changes)
	}
	if tot := Totals(changes); len(tot) != 1 || tot[0].Unit != "EUR" || tot[0].Delta != "1.125" || tot[0].Lines != 1 {
		t.Errorf("totals = %+v", tot)
	}
}

// docs/rules.md#monthly-close, "Versions": a tenant or partner ID the
// month names nowhere does not change what the reports say; a new name of
// one it names does.
func TestSubstanceIgnoresUnnamedEntries(t *testing.T) {
	sum := func(w *world.Document) [32]byte {
		t.Helper()
		h, err := substanceSum(build(t, w, usageCSV))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	base := sum(testWorld())
	w := testWorld()
	w.Tenants = append(w.Tenants, world.Tenant{TenantID: "55555555-5555-4555-8555-555555555555", Name: "Unrelated"})
	w.Partners = append(w.Partners, world.Partner{PartnerID: "7700001", Name: "Unrelated partner"})
	if sum(w) != base {
		t.Error("an unrelated tenant and partner ID changed the month's substance")
	}
	w = testWorld()
	w.Tenants[0].Name = "Contoso (renamed)"
	if sum(w) == base {
		t.Error("a credited customer's new name did not change the month's substance")
	}
}

// docs/rules.md#monthly-close, "Unlinked credit": a guest of the
// organization's home tenant that held a role in a customer tenant without
// a link is listed with its scopes, what linking it would have credited in
// the month, and the command that links it; one without roles is not.
func TestUnlinkedCredit(t *testing.T) {
	doc := testWorld()
	const guest2, idle = "0b000000-0000-4000-8000-0000000000c1", "0b000000-0000-4000-8000-0000000000c2"
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	doc.Principals = append(doc.Principals,
		world.Principal{TenantID: tC2, ObjectID: guest2, Type: "Guest", DisplayName: "kari", HomeTenantID: ptr(tM), SignInName: "kari@fabrikam.example"},
		world.Principal{TenantID: tC1, ObjectID: idle, Type: "ServicePrincipal", DisplayName: "idle", HomeTenantID: ptr(tM), AppID: ptr("a0000000-0000-4000-8000-000000000009")})
	doc.RoleAssignments = append(doc.RoleAssignments, world.RoleAssignment{TenantID: tC2, ID: "f0000000-0000-4000-8000-000000000009",
		PrincipalID: guest2, RoleDefinition: "Reader", Scope: "/subscriptions/" + S2, From: &since})
	c := build(t, doc, usageCSV)
	r, err := ForUnlinked(c, 1, pL2)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteUnlinked(&b, []*UnlinkedReport{r}, FormatCSV); err != nil {
		t.Fatal(err)
	}
	want := UnlinkedCSVHeader + "\n" +
		"2026-03,5200002," + tC2 + ",Northwind," + guest2 + ",Guest,kari,Reader at /subscriptions/" + S2 + ",EUR,3,0," +
		"partnerlink login --tenant " + tC2 + " -u kari@fabrikam.example && partnerlink link create --partner-id 5200002\n"
	if b.String() != want {
		t.Errorf("unlinked csv:\n%s\nwant\n%s", b.String(), want)
	}
	// The partner's own report is unchanged by the what-if.
	if got := partnerOutput(t, c, pG, FormatPartnerCenter); strings.Contains(got, "9999") {
		t.Errorf("a what-if partner ID leaked into the partner report:\n%s", got)
	}
	// Asked for by the global ID, whose organization has location IDs (the
	// global ID is never linked), the command asks for one of them.
	if g, err := ForUnlinked(c, 1, pG); err != nil || len(g.Credentials) != 1 ||
		!strings.HasSuffix(g.Credentials[0].Command, " link create --partner-id LOCATION_ID  # LOCATION_ID: one of "+pL1+", "+pL2) {
		t.Errorf("unlinked by the global ID: %+v %v", g, err)
	}
	if other, _ := ForUnlinked(c, 1, pO); len(other.Credentials) != 0 {
		t.Errorf("another organization's unlinked credentials: %+v", other.Credentials)
	}
}

// A close works out the credentials and the unlinked credentials' access
// before reading the usage and lets go of the chains (People); Build
// without People works them out from the indexes' chains. Both give the
// same bytes.
func TestPeopleBeforeTheUsage(t *testing.T) {
	doc := testWorld()
	const guest2 = "0b000000-0000-4000-8000-0000000000c1"
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	doc.Principals = append(doc.Principals,
		world.Principal{TenantID: tC2, ObjectID: guest2, Type: "Guest", DisplayName: "kari", HomeTenantID: ptr(tM), SignInName: "kari@fabrikam.example"})
	doc.RoleAssignments = append(doc.RoleAssignments, world.RoleAssignment{TenantID: tC2, ID: "f0000000-0000-4000-8000-000000000009",
		PrincipalID: guest2, RoleDefinition: "Reader", Scope: "/subscriptions/" + S2, From: &since})
	month, _ := partnerlink.ParseMonth("2026-03")
	in, err := Attribute(doc, month, 1, func(run *attribution.Run) error {
		return run.Scan(strings.NewReader(strings.Split(usageCSV, fileBreak)[0]), "usage1.csv")
	})
	if err != nil {
		t.Fatal(err)
	}
	if in.People == nil || in.Index.Chains() != nil {
		t.Fatal("the close kept its chains or worked nothing out from them")
	}
	if len(in.Doc.Principals) != 0 || len(in.Doc.RoleAssignments) != 0 || in.WhatIf.doc != nil {
		t.Fatal("the close kept the world's principals and assignments while reading the usage")
	}
	fromChains := *in
	fromChains.Doc = doc
	p, err := Prepare(doc, month) // chains built when first asked for
	if err != nil {
		t.Fatal(err)
	}
	fromChains.People, fromChains.Index, fromChains.WhatIf, fromChains.WhatIfIndex = nil, p.ix, p.what, p.whatIx
	var got [2][]byte
	for i, x := range []Inputs{*in, fromChains} {
		c, err := Build(x)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Credentials) == 0 || len(c.Unlinked) == 0 {
			t.Fatalf("build %d: %d credentials, %d unlinked: the test world should have both", i, len(c.Credentials), len(c.Unlinked))
		}
		if got[i], err = Marshal(c); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got[0], got[1]) {
		t.Errorf("content with People:\n%s\nfrom the chains:\n%s", got[0], got[1])
	}
}

// The customer report carries the month's link changes in the tenant and
// the notifications queued to its webhook (not their delivery, which
// changes after the close); other months' and tenants' are left out.
func TestCustomerReportAuditTrail(t *testing.T) {
	month, _ := partnerlink.ParseMonth("2026-03")
	in, err := Attribute(testWorld(), month, 1, func(*attribution.Run) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	in.Events = []partnerlink.LinkEvent{
		{ID: 7, TenantID: tC1, ObjectID: sp1, Action: partnerlink.LinkCreated, PartnerID: pL1, At: at, ActorTenantID: tC1, ActorObjectID: sp1},
		{ID: 8, TenantID: tC2, ObjectID: sp2, Action: partnerlink.LinkCreated, PartnerID: pL2, At: at},
		{ID: 3, TenantID: tC1, ObjectID: ga, Action: partnerlink.LinkCreated, PartnerID: pG, At: at.AddDate(0, -1, 0)},
	}
	in.Notifications = []partnerlink.Notification{
		{TenantID: tC1, EventID: 7, Payload: []byte(`{"type":"partnerlink.link.created"}`), CreatedAt: at},
		{TenantID: tC1, EventID: -1, Payload: []byte(`{"type":"partnerlink.report.published"}`), CreatedAt: at.AddDate(0, 1, 0)},
	}
	c, err := Build(*in)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ForCustomer(c, 1, tC1)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Events) != 1 || r.Events[0].ObjectID != sp1 || r.Events[0].Actor != tC1+"/"+sp1 {
		t.Errorf("events = %+v", r.Events)
	}
	if len(r.Notifications) != 1 || r.Notifications[0].EventID != 7 || r.Notifications[0].Type != "partnerlink.link.created" {
		t.Errorf("notifications = %+v", r.Notifications)
	}
}

// The hand-written encoding of the credit lines is the codec's encoding
// of each line as an array of its fields (AzureLines), the rest of the
// content is the codec's own, and a content reads back as it was written.
func TestAzureLinesEncodeAsTheCodecDoes(t *testing.T) {
	ls := AzureLines{
		{PartnerID: "1", LineResource: &LineResource{TenantID: "t", SubscriptionID: "s", ServiceName: `Quoted "name" \\ <&> ✓`, ResourceID: "/r"},
			Currency: "EUR", Attributed: "1.5", Eligible: "0", USD: "0", UsageRows: 3, DuplicateForPGA: true},
		{PartnerID: "2", LineResource: &LineResource{}, Currency: "USD", Attributed: "0", Eligible: "0", USD: "2", USDRows: 1, UsageRows: 1},
		// Escapes that need more room than Marshal sizes a line for.
		{PartnerID: "3", LineResource: &LineResource{ServiceName: strings.Repeat("\x01", 80)}, Currency: "USD", Attributed: "0", Eligible: "0", USD: "0"},
	}
	// What the codec writes for the content with its lines as a table
	// (AzureLines): resources in the order the lines first name them.
	codec := func(c *Content) []byte {
		rest := *c
		rest.Azure = AzureLines{}
		head, err := jsonv2.Marshal(&rest, jsonv2.Deterministic(true))
		if err != nil {
			t.Fatal(err)
		}
		table := struct {
			Count     int     `json:"count"`
			Resources [][]any `json:"resources"`
			Lines     [][]any `json:"lines"`
		}{Count: len(c.Azure), Resources: [][]any{}, Lines: [][]any{}}
		number := map[[4]string]int{}
		for _, l := range c.Azure {
			k := [4]string{l.TenantID, l.SubscriptionID, l.ServiceName, l.ResourceID}
			n, ok := number[k]
			if !ok {
				n = len(table.Resources)
				number[k] = n
				table.Resources = append(table.Resources, []any{k[0], k[1], k[2], k[3]})
			}
			table.Lines = append(table.Lines, []any{l.PartnerID, n, l.Currency, l.Attributed, l.Eligible, l.USD, l.USDRows, l.UsageRows, l.DuplicateForPGA})
		}
		lines, err := jsonv2.Marshal(table)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Replace(head, []byte(`"azure":[]`), append([]byte(`"azure":`), lines...), 1)
	}
	// The content with none, one, two and more lines (cut into parts
	// encoded at once) is the codec's encoding of it, with and without
	// lines that outgrow their room, and reads back as it was.
	c := build(t, testWorld(), usageCSV)
	// Build's own table (from the attribution's resources) is the one the
	// lines give.
	if got, err := Marshal(c); err != nil || c.table == nil || len(c.Azure) < 2 || !bytes.Equal(got, codec(c)) {
		t.Fatalf("the built content's table (%v, %d lines) is not the codec's:\n%s\n%s", err, len(c.Azure), got, codec(c))
	}
	for n := range 12 {
		c.Azure = nil
		for i := range n % 6 {
			c.Azure = append(c.Azure, ls[i%2])
			if n >= 6 && i == n%6-1 {
				c.Azure[i] = ls[2]
			}
		}
		if n == 0 {
			c.Azure = AzureLines{}
		}
		got, err := Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if want := codec(c); !bytes.Equal(got, want) {
			t.Errorf("%d lines: hand-written:\n%s\ncodec:\n%s", n, got, want)
		}
		back, err := Unmarshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if !sameLines(back.Azure, c.Azure) {
			t.Errorf("%d lines read back as %+v", n, back.Azure)
		}
	}
	// Lines enough for several blocks (encodeLines) come out in order, and
	// a close keeps them compressed, hashed as written.
	c.Azure = nil
	for i := range 3*8192 + 5 {
		l := ls[i%3]
		l.UsageRows = int64(i)
		c.Azure = append(c.Azure, l)
	}
	if len(c.Credentials) == 0 {
		t.Fatal("the test content has no credentials")
	}
	for i := range 2*1024 + 3 {
		cr := c.Credentials[i%len(c.Credentials)]
		cr.DisplayName = fmt.Sprint("credential ", i)
		c.Credentials = append(c.Credentials, cr)
	}
	got, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := codec(c); !bytes.Equal(got, want) {
		t.Errorf("%d lines, %d credentials: the encoding differs from the codec's", len(c.Azure), len(c.Credentials))
	}
	// A writer that fails stops the encoding with its error.
	for _, n := range []int{0, 100, len(got) / 2, len(got) - 1} {
		w := &failingWriter{left: n}
		if err := Encode(w, c); !errors.Is(err, errWriteFailed) {
			t.Errorf("a writer failing after %d bytes: %v", n, err)
		}
	}
	gz, sum, err := Compressed(c)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := Unmarshal(gz); err != nil || !gzipped(gz) || sum != sha256.Sum256(got) || !sameLines(back.Azure, c.Azure) {
		t.Errorf("compressed content: gzip %v, hash %x (want %x), error %v", gzipped(gz), sum, sha256.Sum256(got), err)
	}
	// A content's encoding reads back as it was.
	c = build(t, testWorld(), usageCSV)
	b, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Marshal(back)
	if !bytes.Equal(b, again) || len(back.Azure) != len(c.Azure) || !sameLines(back.Azure[:1], c.Azure[:1]) {
		t.Errorf("content does not round-trip:\n%s\n%s", b, again)
	}
}

var errWriteFailed = errors.New("write failed")

// failingWriter takes left bytes, then fails.
type failingWriter struct{ left int }

func (w *failingWriter) Write(b []byte) (int, error) {
	if len(b) > w.left {
		n := w.left
		w.left = 0
		return n, errWriteFailed
	}
	w.left -= len(b)
	return len(b), nil
}

// A content whose credit line table is damaged is refused with an error
// that says what is wrong, never read as other lines.
func TestAzureTableRefusesDamage(t *testing.T) {
	const res = `[["t","s","svc","/r"]]`
	const line = `["1",0,"EUR","1.5","0","0",0,3,false]`
	for _, tc := range []struct{ azure, want string }{
		{`{"count":1,"resources":` + res + `,"lines":[` + line + `]}`, ""},
		{`{"count":1,"resources":` + res + `,"lines":[["1",1,"EUR","1.5","0","0",0,3,false]]}`, "resource 1 of 1"},
		{`{"count":1,"resources":` + res + `,"lines":[["1",-1,"EUR","1.5","0","0",0,3,false]]}`, "resource -1 of 1"},
		{`{"count":2,"resources":` + res + `,"lines":[` + line + `]}`, "count is 2, but it has 1 lines"},
		{`{"count":0,"resources":` + res + `,"lines":[` + line + `]}`, "count is 0, but it has 1 lines"},
		{`{"count":-1,"resources":` + res + `,"lines":[` + line + `]}`, "count is -1, not a number of lines"},
		{`{"count":"1","resources":` + res + `,"lines":[` + line + `]}`, `count is "1", not a number of lines`},
		// Tables of the first days (on main for an afternoon) have no count.
		{`{"resources":` + res + `,"lines":[` + line + `]}`, ""},
		{`{"lines":[` + line + `],"resources":` + res + `}`, `where "count" belongs`},
		{`{"count":1,"lines":[` + line + `],"resources":` + res + `}`, `where "resources" belongs`},
		{`{"count":0,"resources":` + res + `}`, `where "lines" belongs`},
		{`{"count":0,"resources":[["t","s","svc"]],"lines":[]}`, "Azure resource 0: expected an array of 4 strings"},
		{`{"count":1,"resources":` + res + `,"lines":[["1",0,"EUR","1.5","0","0",0,3]]}`, "Azure line 1: expected an array of a string, a resource number"},
		{`{"count":1,"resources":` + res + `,"lines":[` + line + `],"more":[]}`, "more than its resources and lines"},
		{`{"count":0,"resources":{},"lines":[]}`, "resources is a JSON {, not a list"},
	} {
		c, err := Unmarshal([]byte(`{"month":"2026-03","azure":` + tc.azure + `}`))
		switch {
		case tc.want == "" && (err != nil || len(c.Azure) != 1 || c.Azure[0].ResourceID != "/r" || c.Azure[0].Attributed != "1.5"):
			t.Errorf("%s: %v, %+v", tc.azure, err, c)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one saying %q", tc.azure, err, tc.want)
		}
	}
}

// A table whose count claims more lines than its input could hold makes no
// more room than the input's lines need; lines read without a count (the
// earlier formats, or a table of the first days) come back whole however
// many blocks they fill.
func TestAzureTableRoom(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Unmarshal([]byte(`{"month":"2026-03","azure":{"count":4194304,"resources":[],"lines":[]}}`))
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "count is 4194304, but it has 0 lines") {
		t.Errorf("a count of 4194304 lines with none: %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 32<<20 {
		t.Errorf("reading a 70-byte content allocated %d MB", grew>>20)
	}

	c := build(t, testWorld(), usageCSV)
	base := c.Azure[0]
	c.Azure = nil
	for i := range 3000 {
		l := base
		l.UsageRows = int64(i)
		r := *base.LineResource // a line's resource is shared: another one
		r.ResourceID = fmt.Sprint(base.ResourceID, "/", i%700)
		l.LineResource = &r
		c.Azure = append(c.Azure, l)
	}
	table, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	withoutCount := bytes.Replace(table, []byte(`"azure":{"count":3000,`), []byte(`"azure":{`), 1)
	if bytes.Equal(withoutCount, table) {
		t.Fatal("no count in the table")
	}
	for name, b := range map[string][]byte{"table": table, "table without count": withoutCount} {
		back, err := Unmarshal(b)
		if err != nil || !sameLines(back.Azure, c.Azure) {
			t.Errorf("%s: %d lines read back, want %d (%v)", name, len(back.Azure), len(c.Azure), err)
		}
	}
}

// Build's table comes from the attribution's resources, or, for a result
// merged from partitions (which does not know them), from the lines' texts:
// the content's bytes are the same.
func TestTableOfAMergedResult(t *testing.T) {
	in := attribute(t, testWorld(), usageCSV)
	merged := *in
	merged.Azure = attribution.Merge([]*attribution.Result{in.Azure})
	var got [2][]byte
	for i, x := range []Inputs{*in, merged} {
		c, err := Build(x)
		if err != nil {
			t.Fatal(err)
		}
		if c.table == nil || len(c.Azure) < 2 {
			t.Fatalf("build %d: no table, or %d lines", i, len(c.Azure))
		}
		if got[i], err = Marshal(c); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got[0], got[1]) {
		t.Errorf("a merged result's content differs:\n%s\n%s", got[0], got[1])
	}
}

// Diff matches the lines of two versions by their keys whatever changed:
// amounts, lines only one version has, a resource's service, amounts
// written otherwise, lines out of their usual order. It gives what joining
// the keys and comparing through a map gives.
func TestDiffMatchesLinesByKey(t *testing.T) {
	line := func(p, r, svc, cur, attributed, eligible string) AzureLine {
		return AzureLine{PartnerID: p, LineResource: &LineResource{TenantID: "t", SubscriptionID: "s", ServiceName: svc, ResourceID: r},
			Currency: cur, Attributed: attributed, Eligible: eligible, USD: "0", UsageRows: 1}
	}
	old := &Content{Azure: AzureLines{
		line("1", "/a", "svc", "EUR", "1", "0"),
		line("1", "/b", "svc", "EUR", "2", "2"),
		line("1", "/c", "svc", "EUR", "3", "0"),
		line("1", "/c", "svc", "USD", "3", "0"),
		line("2", "/a", "svc", "EUR", "1.50", "0"),
		line("2", "/d", "old service", "EUR", "4", "4"),
	}}
	new := &Content{Azure: AzureLines{
		line("2", "/a", "svc", "EUR", "1.5", "0"), // the same amount, and out of order
		line("1", "/a", "svc", "EUR", "1", "0"),
		line("1", "/b", "svc", "EUR", "2", "1"),
		line("1", "/c", "svc", "USD", "3.25", "0"),
		line("1", "/e", "svc", "EUR", "5", "5"),
		line("2", "/d", "new service", "EUR", "4", "4"),
	}}
	// The reference: every key joined, matched through a map.
	type amounts struct{ old, new, oldE, newE string }
	byKey := map[string]*amounts{}
	var keys []string
	key := func(l AzureLine) string {
		return strings.Join([]string{l.PartnerID, l.TenantID, l.SubscriptionID, l.ServiceName, l.ResourceID, l.Currency}, "\x00")
	}
	for _, l := range old.Azure {
		byKey[key(l)] = &amounts{l.Attributed, "0", l.Eligible, "0"}
		keys = append(keys, key(l))
	}
	for _, l := range new.Azure {
		if a := byKey[key(l)]; a != nil {
			a.new, a.newE = l.Attributed, l.Eligible
		} else {
			byKey[key(l)] = &amounts{"0", l.Attributed, "0", l.Eligible}
			keys = append(keys, key(l))
		}
	}
	slices.Sort(keys)
	var want []Change
	for _, k := range keys {
		a := byKey[k]
		d, _ := partnerlink.SubDecimal(a.new, a.old)
		dE, _ := partnerlink.SubDecimal(a.newE, a.oldE)
		if d != "0" || dE != "0" {
			want = append(want, Change{Kind: "azure", Key: strings.Split(k, "\x00"), Old: a.old, New: a.new, Delta: d,
				OldEligible: a.oldE, NewEligible: a.newE, DeltaEligible: dE})
		}
	}
	got, err := Diff(old, new)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 6 || !reflect.DeepEqual(got, want) {
		t.Errorf("changes:\n%+v\nwant (%d):\n%+v", got, len(want), want)
	}
	// From the stored version (a restating close), its lines read one at a
	// time, compressed or not, and out of their order (read whole then).
	reversed := &Content{Azure: slices.Clone(old.Azure)}
	slices.Reverse(reversed.Azure)
	for name, c := range map[string]*Content{"in order": old, "out of order": reversed} {
		for _, stored := range storedForms(t, c) {
			if got, err := diffStored(stored, new); err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s, stored (gzip %v): %v\n%+v\nwant:\n%+v", name, gzipped(stored), err, got, want)
			}
		}
	}
}

// A restating close compares the latest version as stored with the new
// content (diffStored) as Diff compares the two contents, Power Platform
// lines included.
func TestDiffStoredIsDiff(t *testing.T) {
	old := build(t, testWorld(), usageCSV)
	old.PowerPlatform = append(old.PowerPlatform, PPLine{PartnerID: pL2, TenantID: "t", EnvironmentID: "e", ResourceID: "r", Metric: "m", Value: 3})
	late := usageCSV + "2026-03-20T00:00:00Z,2026-03-21T00:00:00Z,Usage," + resC + ",/subscriptions/" + S2 + ",Virtual Machines,EUR,1.125,1.125\n"
	new := build(t, testWorld(), late)
	want, err := Diff(old, new)
	if err != nil || len(want) != 2 || want[1].Kind != "powerPlatform" {
		t.Fatalf("Diff: %v, %+v", err, want)
	}
	forms := storedForms(t, old)
	plain, stored := forms[0], forms[1]
	if got, err := diffStored(stored, new); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("diffStored: %v\n%+v\nwant:\n%+v", err, got, want)
	}
	// A damaged version is an error, as reading it whole is: cut, its
	// gzip trailer cut or wrong, data after the content.
	wrongSum := slices.Clone(stored)
	wrongSum[len(wrongSum)-8] ^= 1
	for name, b := range map[string][]byte{
		"cut":                  stored[:len(stored)/2],
		"gzip trailer cut":     stored[:len(stored)-8],
		"gzip checksum wrong":  wrongSum,
		"data after the JSON":  append(slices.Clone(plain), `"more"`...),
		"a second JSON object": append(slices.Clone(plain), `{}`...),
		"empty":                nil,
	} {
		if _, err := diffStored(b, new); err == nil {
			t.Errorf("%s: diffed without an error", name)
		}
	}
}

// A restating close reads of the latest version only the lines it compares
// (linesOf): the same lines as the whole content, nothing else.
func TestLinesOf(t *testing.T) {
	c := build(t, testWorld(), usageCSV)
	for _, in := range storedForms(t, c) {
		got, err := linesOf(in)
		if err != nil || len(got.Azure) == 0 || !sameLines(got.Azure, c.Azure) || !slices.Equal(got.PowerPlatform, c.PowerPlatform) ||
			got.Credentials != nil || got.Partners != nil {
			t.Errorf("lines of the content: %v, %d lines (want %d), %d credentials", err, len(got.Azure), len(c.Azure), len(got.Credentials))
		}
	}
}

// A close's scan lowers the collector's target and puts it back when the
// last scan under way ends, however the scans overlap; a target set lower
// (or off) stays.
func TestLeanGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	a := leanGC()
	b := leanGC()
	if got := debug.SetGCPercent(-1); got != scanGCPercent {
		t.Errorf("during the scans the target is %d, want %d", got, scanGCPercent)
	}
	debug.SetGCPercent(scanGCPercent)
	a()
	if got := debug.SetGCPercent(scanGCPercent); got != scanGCPercent {
		t.Errorf("with one scan still under way the target is %d", got)
	}
	b()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("after the scans the target is %d, want 100", got)
	}
	for _, low := range []int{-1, 20} {
		debug.SetGCPercent(low)
		restore := leanGC()
		if got := debug.SetGCPercent(low); got != low {
			t.Errorf("a target of %d became %d", low, got)
		}
		restore()
		if got := debug.SetGCPercent(100); got != low {
			t.Errorf("a target of %d was put back as %d", low, got)
		}
	}
}

// sameLines reports whether two lists of lines hold the same lines, their
// resources compared by what they hold.
func sameLines(a, b AzureLines) bool {
	return slices.EqualFunc(a, b, func(x, y AzureLine) bool {
		rx, ry := *x.LineResource, *y.LineResource
		x.LineResource, y.LineResource = nil, nil
		return x == y && rx == ry
	})
}

// The lines Build makes point at one LineResource per resource, whether
// the attribution numbers its resources (a run's result) or not (a result
// merged from partitions', as workers return them); both encode the same.
func TestLinesShareTheirResources(t *testing.T) {
	doc := testWorld()
	fromRun := build(t, doc, usageCSV)
	in := attribute(t, doc, usageCSV)
	in.Files = []string{"h1"}
	in.Azure = attribution.Merge([]*attribution.Result{in.Azure, {}})
	if in.Azure.ResourceNumbers(nil, 0) {
		t.Fatal("a merged result numbers its resources: the test needs one that does not")
	}
	merged, err := Build(*in)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*Content{"run": fromRun, "merged": merged} {
		seen := map[LineResource]*LineResource{}
		for i, l := range c.Azure {
			if p, ok := seen[*l.LineResource]; ok && p != l.LineResource {
				t.Errorf("%s: line %d has its own copy of resource %s", name, i, l.ResourceID)
			}
			seen[*l.LineResource] = l.LineResource
		}
		if len(seen) == len(c.Azure) {
			t.Errorf("%s: %d lines over %d resources: the test needs resources with several lines", name, len(c.Azure), len(seen))
		}
	}
	a, errA := Marshal(fromRun)
	b, errB := Marshal(merged)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Errorf("the content from a merged result differs (%v, %v):\n%s\n%s", errA, errB, a, b)
	}
}

// storedForms are c's content as Marshal writes it and as a store keeps
// it (Compressed).
func storedForms(t *testing.T, c *Content) [][]byte {
	t.Helper()
	plain, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	gz, _, err := Compressed(c)
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{plain, gz}
}
