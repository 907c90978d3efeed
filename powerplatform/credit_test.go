package powerplatform_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	pp "github.com/partnerlink/partnerlink/powerplatform"
	"github.com/partnerlink/partnerlink/world"
)

const (
	p1 = "1000001"
	p2 = "1000002"
	p3 = "1000003"
)

var march = partnerlink.MonthOf(day("2026-03-01"))

func period(from, to string) partnerlink.Period {
	var p partnerlink.Period
	if from != "" {
		p.From = instant(from)
	}
	if to != "" {
		p.To = instant(to)
	}
	return p
}

// instant reads a day or an RFC 3339 instant.
func instant(s string) time.Time {
	if len(s) == len(time.DateOnly) {
		return day(s)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// baseInput is a tenant with one environment of each type, three partner
// IDs, four users and a service principal, all in force, and no resources.
func baseInput() pp.Input {
	in := pp.Input{}
	for _, id := range []string{p1, p2, p3, "999"} {
		in.Partners = append(in.Partners, partnerlink.Partner{ID: id, Period: period("2020-01-01", "")})
	}
	for _, id := range []string{user1, user2, user3, user4} {
		in.Principals = append(in.Principals, partnerlink.Principal{TenantID: tenant, ObjectID: id, Type: partnerlink.PrincipalUser})
	}
	in.Principals = append(in.Principals, partnerlink.Principal{TenantID: tenant, ObjectID: sp1, Type: partnerlink.PrincipalServicePrincipal})
	for _, t := range pp.EnvironmentTypes {
		in.Environments = append(in.Environments, pp.Environment{TenantID: tenant, ID: envOf(t), Type: t})
	}
	return in
}

func envOf(t pp.EnvironmentType) string { return "env-" + strings.ToLower(string(t)) }

func link(obj, partner, from, to string) partnerlink.Link {
	return partnerlink.Link{TenantID: tenant, ObjectID: obj, PartnerID: partner, Period: period(from, to)}
}

func own(resID, principal string, role pp.Role, from, to string) pp.OwnershipRecord {
	return pp.OwnershipRecord{ResourceID: resID, Holding: pp.Holding{PrincipalID: principal, Role: role, Period: period(from, to)}}
}

// activityOf reads activity rows "Date,ResourceId,UserId,Activity" (the
// tenant is added) and profile rows "Month,ResourceId,UnifiedProfiles".
func activityOf(t testing.TB, rows, profiles []string) *pp.Activity {
	t.Helper()
	a := pp.NewActivity()
	var b strings.Builder
	b.WriteString("Date,TenantId,ResourceId,UserId,Activity\n")
	for _, r := range rows {
		f := strings.SplitN(r, ",", 2)
		fmt.Fprintf(&b, "%s,%s,%s\n", f[0], tenant, f[1])
	}
	if err := a.ReadCSV("activity.csv", strings.NewReader(b.String())); err != nil {
		t.Fatal(err)
	}
	if len(profiles) > 0 {
		b.Reset()
		b.WriteString("Month,TenantId,ResourceId,UnifiedProfiles\n")
		for _, r := range profiles {
			f := strings.SplitN(r, ",", 2)
			fmt.Fprintf(&b, "%s,%s,%s\n", f[0], tenant, f[1])
		}
		if err := a.ReadCSV("profiles.csv", strings.NewReader(b.String())); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func mustModel(t testing.TB, in pp.Input) *pp.Model {
	t.Helper()
	m, err := pp.NewModel(in)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// creditsOf returns "partner metric value" per credited row of March 2026.
func creditsOf(t testing.TB, in pp.Input, a *pp.Activity) []string {
	t.Helper()
	cs, err := mustModel(t, in).Credits(a, day("2026-03-01"), day("2026-04-01"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s %s %s %d", c.PartnerID, c.ResourceID, c.Metric, c.Value))
	}
	return out
}

// withResource adds one paid resource of kind k in the production
// environment, with its ownership and links.
func withResource(k pp.Kind, id string, own []pp.OwnershipRecord, links []partnerlink.Link) pp.Input {
	in := baseInput()
	in.Resources = append(in.Resources, pp.Resource{TenantID: tenant, EnvironmentID: envOf(pp.Production), ID: id, Kind: k, Paid: true})
	in.Ownership = own
	in.Links = links
	return in
}

// attributedRole is the role that makes a principal an attributed user.
func attributedRole(k pp.Kind) pp.Role {
	if r := pp.AttributedRoles(k); len(r) > 0 {
		return r[0]
	}
	return ""
}

func TestMetricPerKind(t *testing.T) {
	// Three distinct users use the resource in March (one of them twice),
	// one only edits it, one uses it in February: MAU is 3.
	rows := []string{
		"2026-03-02,app,%[2]s,Use",
		"2026-03-03,app,%[3]s,Use",
		"2026-03-20,app,%[3]s,Use",
		"2026-03-04,app,%[4]s,Use",
		"2026-03-05,app,%[1]s,Edit",
		"2026-02-27,app,%[1]s,Use",
	}
	for i := range rows {
		rows[i] = fmt.Sprintf(rows[i], user1, user2, user3, user4)
	}
	cases := []struct {
		kind     pp.Kind
		profiles []string
		want     string
	}{
		// docs/rules.md#power-platform: CanvasApp | MAU: distinct users with a Use activity on the app in the month
		{pp.CanvasApp, nil, p1 + " app MAU 3"},
		// docs/rules.md#power-platform: ModelDrivenApp | MAU
		{pp.ModelDrivenApp, nil, p1 + " app MAU 3"},
		// docs/rules.md#power-platform: Flow | MAU
		{pp.Flow, nil, p1 + " app MAU 3"},
		// docs/rules.md#power-platform: PowerBIDataset | MAU
		{pp.PowerBIDataset, nil, p1 + " app MAU 3"},
		// docs/rules.md#power-platform: CustomerInsightsInstance | unified profiles (a reported count), not MAU
		{pp.CustomerInsightsInstance, []string{"2026-03,app,48211", "2026-02,app,40000"}, p1 + " app UnifiedProfiles 48211"},
		// docs/rules.md#power-platform: Bot | MAU
		{pp.Bot, nil, p1 + " app MAU 3"},
	}
	for _, tc := range cases {
		t.Run(string(tc.kind), func(t *testing.T) {
			var owners []pp.OwnershipRecord
			if r := attributedRole(tc.kind); r != "" {
				owners = append(owners, own("app", user1, r, "2026-01-01", ""))
			}
			in := withResource(tc.kind, "app", owners, []partnerlink.Link{link(user1, p1, "2026-01-01", "")})
			got := creditsOf(t, in, activityOf(t, rows, tc.profiles))
			if !slices.Equal(got, []string{tc.want}) {
				t.Fatalf("credits %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("CustomerInsightsInstance without a profiles row", func(t *testing.T) {
		// docs/rules.md#power-platform: unified profiles is a reported count; unreported, nothing is credited.
		in := withResource(pp.CustomerInsightsInstance, "app", nil, []partnerlink.Link{link(user1, p1, "2026-01-01", "")})
		if got := creditsOf(t, in, activityOf(t, rows, nil)); len(got) != 0 {
			t.Fatalf("credits %v, want none", got)
		}
	})
}

func TestAttributedUsersPerKind(t *testing.T) {
	// user1 is linked to p1, user2 to p2, user3 to p3 throughout; user4 uses
	// the resource, so MAU is 1.
	links := []partnerlink.Link{link(user1, p1, "2026-01-01", ""), link(user2, p2, "2026-01-01", ""), link(user3, p3, "2026-01-01", "")}
	use := []string{"2026-03-10,res," + user4 + ",Use"}
	cases := []struct {
		name string
		kind pp.Kind
		own  []pp.OwnershipRecord
		rows []string
		prof []string
		want []string
	}{
		// docs/rules.md#power-platform: CanvasApp | owner and co-owners: a co-owner's partner is credited when the owner is not linked
		{name: "canvas co-owner", kind: pp.CanvasApp,
			own:  []pp.OwnershipRecord{own("res", user4, pp.RoleOwner, "2026-01-01", ""), own("res", user2, pp.RoleCoOwner, "2026-02-01", "")},
			want: []string{p2 + " res MAU 1"}},
		// docs/rules.md#power-platform: CanvasApp | owner and co-owners: the owner's partner is credited
		{name: "canvas owner", kind: pp.CanvasApp,
			own:  []pp.OwnershipRecord{own("res", user1, pp.RoleOwner, "2026-01-01", "")},
			want: []string{p1 + " res MAU 1"}},
		// docs/rules.md#power-platform: ModelDrivenApp | owner (no co-owners exist): a linked user who only edits the app is not attributed
		{name: "model-driven owner", kind: pp.ModelDrivenApp,
			own:  []pp.OwnershipRecord{own("res", user4, pp.RoleOwner, "2026-01-01", "")},
			rows: []string{"2026-03-11,res," + user2 + ",Edit"},
			want: nil},
		{name: "model-driven owner linked", kind: pp.ModelDrivenApp,
			own:  []pp.OwnershipRecord{own("res", user3, pp.RoleOwner, "2026-01-01", "")},
			want: []string{p3 + " res MAU 1"}},
		// docs/rules.md#power-platform: Flow | creator: the owner alone is not an attributed user, the creator is
		{name: "flow creator", kind: pp.Flow,
			own:  []pp.OwnershipRecord{own("res", user2, pp.RoleOwner, "2026-01-01", ""), own("res", user1, pp.RoleCreator, "2026-01-01", "")},
			want: []string{p1 + " res MAU 1"}},
		// docs/rules.md#power-platform: PowerBIDataset | publisher (the last principal to publish it): an earlier publisher is not attributed in March
		{name: "dataset publisher", kind: pp.PowerBIDataset,
			own:  []pp.OwnershipRecord{own("res", user1, pp.RolePublisher, "2026-01-01", "2026-02-15"), own("res", user2, pp.RolePublisher, "2026-02-15", "")},
			want: []string{p2 + " res MAU 1"}},
		// docs/rules.md#power-platform: CustomerInsightsInstance | every user active on the instance in the month: user3 is linked but inactive
		{name: "instance active users", kind: pp.CustomerInsightsInstance,
			rows: []string{"2026-03-12,res," + user2 + ",Edit"},
			prof: []string{"2026-03,res,900"},
			want: []string{p2 + " res UnifiedProfiles 900"}},
		{name: "instance no linked user active", kind: pp.CustomerInsightsInstance,
			rows: []string{"2026-02-12,res," + user2 + ",Edit"},
			prof: []string{"2026-03,res,900"},
			want: nil},
		// docs/rules.md#power-platform: Bot | creator: the owner alone is not an attributed user
		{name: "bot creator", kind: pp.Bot,
			own:  []pp.OwnershipRecord{own("res", user3, pp.RoleOwner, "2026-01-01", ""), own("res", user4, pp.RoleCreator, "2026-01-01", "")},
			want: nil},
		{name: "bot creator linked", kind: pp.Bot,
			own:  []pp.OwnershipRecord{own("res", user3, pp.RoleCreator, "2026-01-01", "")},
			want: []string{p3 + " res MAU 1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := withResource(tc.kind, "res", tc.own, links)
			got := creditsOf(t, in, activityOf(t, append(slices.Clone(use), tc.rows...), tc.prof))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("credits %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMAUDistinct(t *testing.T) {
	// docs/rules.md#power-platform: MAU = distinct users with a Use activity in the month: one
	// user counts once however many days, casings or activities.
	in := withResource(pp.CanvasApp, "App-1", []pp.OwnershipRecord{own("App-1", user1, pp.RoleOwner, "2026-01-01", "")}, []partnerlink.Link{link(user1, p1, "2026-01-01", "")})
	rows := []string{
		"2026-03-01,App-1," + user2 + ",Use",
		"2026-03-02,app-1," + strings.ToUpper(user2) + ",Use",
		"2026-03-31,APP-1," + user2 + ",Use",
		"2026-03-05,App-1," + user2 + ",Edit",
		"2026-03-05,App-1," + user3 + ",Use",
		"2026-03-05,App-1," + user3 + ",Use",
		"2026-03-06,App-1," + user4 + ",Publish",
		"2026-04-01,App-1," + user4 + ",Use",
		"2026-02-28,App-1," + user4 + ",Use",
	}
	a := activityOf(t, rows, nil)
	if n := a.MAU("app-1", march); n != 2 {
		t.Fatalf("MAU %d, want 2", n)
	}
	if n := a.ActiveUsers("App-1", march); n != 3 {
		t.Fatalf("active users %d, want 3", n)
	}
	cs, err := mustModel(t, in).Credits(a, day("2026-03-01"), day("2026-04-01"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Value != 2 || cs[0].ResourceID != "App-1" {
		t.Fatalf("credits %+v, want MAU 2 on App-1 (the world's casing)", cs)
	}
}

func TestLatestPartner(t *testing.T) {
	// Canvas app owned by user1 (linked to p1), co-owned by user2 (linked to
	// p2) since January, both in force all March.
	owners := []pp.OwnershipRecord{own("app", user1, pp.RoleOwner, "2026-01-01", ""), own("app", user2, pp.RoleCoOwner, "2026-01-01", "")}
	use := "2026-03-15,app," + user4 + ",Use"
	cases := []struct {
		name  string
		own   []pp.OwnershipRecord
		links []partnerlink.Link
		rows  []string
		want  string
	}{
		// docs/rules.md#power-platform: the latest partner wins: most recent activity on X at or before the end of m.
		{name: "most recent activity", own: owners,
			links: []partnerlink.Link{link(user1, p1, "2026-01-01", ""), link(user2, p2, "2026-01-01", "")},
			rows:  []string{"2026-03-20,app," + user1 + ",Edit", "2026-03-21,app," + user2 + ",Edit"},
			want:  p2},
		{name: "most recent activity, other way", own: owners,
			links: []partnerlink.Link{link(user1, p1, "2026-01-01", ""), link(user2, p2, "2026-01-01", "")},
			rows:  []string{"2026-03-22,app," + user1 + ",Edit", "2026-03-21,app," + user2 + ",Edit"},
			want:  p1},
		// docs/rules.md#power-platform: activity at or before the end of m: an earlier month's activity counts, the next month's does not.
		{name: "activity before the month counts, after does not", own: owners,
			links: []partnerlink.Link{link(user1, p1, "2026-01-01", ""), link(user2, p2, "2026-01-01", "")},
			rows:  []string{"2026-02-20,app," + user1 + ",Edit", "2026-02-10,app," + user2 + ",Edit", "2026-04-01,app," + user2 + ",Edit"},
			want:  p1},
		// docs/rules.md#power-platform: activity also comes from the ownership history (an owner change by user2, no rows).
		{name: "activity from ownership history",
			own:   []pp.OwnershipRecord{own("app", user1, pp.RoleOwner, "2026-01-01", "2026-03-25T09:00:00Z"), own("app", user2, pp.RoleOwner, "2026-03-25T09:00:00Z", "")},
			links: []partnerlink.Link{link(user1, p1, "2026-01-01", ""), link(user2, p2, "2026-01-01", "")},
			rows:  []string{"2026-03-24,app," + user1 + ",Edit"},
			want:  p2},
		// docs/rules.md#power-platform: ties go to the most recently created link.
		{name: "tie: most recently created link", own: owners,
			links: []partnerlink.Link{link(user1, p1, "2026-02-01", ""), link(user2, p2, "2026-01-15", "")},
			rows:  []string{"2026-03-20,app," + user1 + ",Edit", "2026-03-20,app," + user2 + ",Edit"},
			want:  p1},
		// A re-affirmed link (a new period to the same partner ID) is as old as its chain.
		{name: "tie: a re-affirmed link keeps its creation", own: owners,
			links: []partnerlink.Link{link(user1, p1, "2026-01-01", "2026-02-20"), link(user1, p1, "2026-02-20", ""), link(user2, p2, "2026-02-01", "")},
			rows:  []string{"2026-03-20,app," + user1 + ",Edit", "2026-03-20,app," + user2 + ",Edit"},
			want:  p2},
		// docs/rules.md, "Power Platform": the tie-break looks at the links
		// of the principals with the most recent activity only. p1's user1
		// and p2's user2 tie on March 20; p1 also has user3, linked most
		// recently of all (March 1) but last active on March 10: it does not
		// count, so p2 (user2 linked Feb 1) beats p1 (user1 linked Jan 15).
		{name: "tie: only the links of the principals with the latest activity",
			own: append(owners[:2:2], own("app", user3, pp.RoleCoOwner, "2026-01-01", "")),
			links: []partnerlink.Link{link(user1, p1, "2026-01-15", ""), link(user2, p2, "2026-02-01", ""),
				link(user3, p1, "2026-03-01", "")},
			rows: []string{"2026-03-20,app," + user1 + ",Edit", "2026-03-20,app," + user2 + ",Edit", "2026-03-10,app," + user3 + ",Edit"},
			want: p2},
		// Two principals of one partner share the latest activity: the newer
		// of their links counts.
		{name: "tie: the newest link among the latest-active principals",
			own: append(owners[:2:2], own("app", user3, pp.RoleCoOwner, "2026-01-01", "")),
			links: []partnerlink.Link{link(user1, p1, "2026-01-15", ""), link(user2, p2, "2026-02-01", ""),
				link(user3, p1, "2026-03-01", "")},
			rows: []string{"2026-03-20,app," + user1 + ",Edit", "2026-03-20,app," + user2 + ",Edit", "2026-03-20,app," + user3 + ",Edit"},
			want: p1},
		// docs/rules.md#power-platform: then the lowest partner ID (as a number: 999 < 1000002).
		{name: "tie: lowest partner ID", own: owners,
			links: []partnerlink.Link{link(user1, p2, "2026-01-01", ""), link(user2, "999", "2026-01-01", "")},
			rows:  []string{"2026-03-20,app," + user1 + ",Edit", "2026-03-20,app," + user2 + ",Edit"},
			want:  "999"},
		// One partner per resource and month, even with two of its principals.
		{name: "two principals of one partner", own: owners,
			links: []partnerlink.Link{link(user1, p3, "2026-01-01", ""), link(user2, p3, "2026-01-01", "")},
			want:  p3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := withResource(pp.CanvasApp, "app", tc.own, tc.links)
			got := creditsOf(t, in, activityOf(t, append([]string{use}, tc.rows...), nil))
			if want := []string{tc.want + " app MAU 1"}; !slices.Equal(got, want) {
				t.Fatalf("credits %v, want %v", got, want)
			}
		})
	}
}

func TestQualifyingPeriods(t *testing.T) {
	// Canvas app owned by user1 from March 10 to March 20.
	owners := []pp.OwnershipRecord{own("app", user1, pp.RoleOwner, "2026-03-10", "2026-03-20")}
	use := []string{"2026-03-15,app," + user4 + ",Use"}
	cases := []struct {
		name   string
		mutate func(*pp.Input)
		want   bool
	}{
		{"link overlaps the attributed period", func(in *pp.Input) { in.Links = []partnerlink.Link{link(user1, p1, "2026-03-19", "")} }, true},
		// docs/rules.md#power-platform: the link's period must overlap the period during which c was an attributed user.
		{"link starts when ownership ends", func(in *pp.Input) { in.Links = []partnerlink.Link{link(user1, p1, "2026-03-20", "")} }, false},
		{"link ends when ownership starts", func(in *pp.Input) { in.Links = []partnerlink.Link{link(user1, p1, "2026-01-01", "2026-03-10")} }, false},
		{"link and ownership overlap outside the month", func(in *pp.Input) {
			in.Ownership = []pp.OwnershipRecord{own("app", user1, pp.RoleOwner, "2026-02-01", "2026-03-01")}
			in.Links = []partnerlink.Link{link(user1, p1, "2026-01-01", "")}
		}, false},
		// docs/rules.md#azure-attribution applied to docs/rules.md#power-platform: a disabled principal stops crediting at that instant.
		{"principal disabled before the overlap", func(in *pp.Input) {
			in.Links = []partnerlink.Link{link(user1, p1, "2026-03-15", "")}
			in.Principals[0].Period = period("", "2026-03-12")
		}, false},
		{"principal disabled after the overlap starts", func(in *pp.Input) {
			in.Links = []partnerlink.Link{link(user1, p1, "2026-03-15", "")}
			in.Principals[0].Period = period("", "2026-03-16")
		}, true},
		// docs/rules.md#azure-attribution applied to docs/rules.md#power-platform: no credit flows to a partner ID outside its period.
		{"partner ID deleted before the overlap", func(in *pp.Input) {
			in.Links = []partnerlink.Link{link(user1, p1, "2026-03-15", "")}
			in.Partners[0].Period = period("2020-01-01", "2026-03-14")
		}, false},
		{"partner ID not registered", func(in *pp.Input) { in.Links = []partnerlink.Link{link(user1, "4242", "2026-01-01", "")} }, false},
		{"principal not in the directory", func(in *pp.Input) {
			in.Links = []partnerlink.Link{link(user1, p1, "2026-01-01", "")}
			in.Principals = in.Principals[1:]
		}, false},
		{"link in another tenant", func(in *pp.Input) {
			l := link(user1, p1, "2026-01-01", "")
			l.TenantID = "7e6d5c4b-3a29-4817-8f6e-5d4c3b2a1908"
			in.Links = []partnerlink.Link{l}
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := withResource(pp.CanvasApp, "app", owners, nil)
			tc.mutate(&in)
			got := creditsOf(t, in, activityOf(t, use, nil))
			if credited := len(got) == 1 && strings.HasPrefix(got[0], p1+" "); credited != tc.want || len(got) > 1 {
				t.Fatalf("credits %v, want credited=%t", got, tc.want)
			}
		})
	}
}

func TestEligible(t *testing.T) {
	// docs/rules.md#power-platform: program-eligible when the environment is Production and the
	// resource is paid; ineligible resources are still reported, flagged.
	for _, env := range pp.EnvironmentTypes {
		for _, paid := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s paid=%t", env, paid), func(t *testing.T) {
				in := baseInput()
				in.Resources = []pp.Resource{{TenantID: tenant, EnvironmentID: envOf(env), ID: "app", Kind: pp.CanvasApp, Paid: paid}}
				in.Ownership = []pp.OwnershipRecord{own("app", user1, pp.RoleOwner, "2026-01-01", "")}
				in.Links = []partnerlink.Link{link(user1, p1, "2026-01-01", "")}
				cs, err := mustModel(t, in).Credits(activityOf(t, []string{"2026-03-02,app," + user2 + ",Use"}, nil), day("2026-03-01"), day("2026-04-01"))
				if err != nil {
					t.Fatal(err)
				}
				if len(cs) != 1 {
					t.Fatalf("credits %+v, want one row, flagged", cs)
				}
				if want := env == pp.Production && paid; cs[0].Eligible != want {
					t.Fatalf("eligible %t, want %t", cs[0].Eligible, want)
				}
			})
		}
	}
}

func TestMonthsAndZeroValues(t *testing.T) {
	// docs/api.md#attribution-csv: one row per credited resource and month, for the months
	// whose first day lies in [from, to); rows whose Value is 0 are not written.
	in := withResource(pp.CanvasApp, "app", []pp.OwnershipRecord{own("app", user1, pp.RoleOwner, "2026-01-01", "")}, []partnerlink.Link{link(user1, p1, "2026-01-01", "")})
	a := activityOf(t, []string{
		"2026-01-20,app," + user2 + ",Use",
		"2026-02-20,app," + user2 + ",Use",
		"2026-03-20,app," + user2 + ",Edit",
		"2026-04-20,app," + user2 + ",Use",
		"2026-04-21,app," + user3 + ",Use",
	}, nil)
	cs, err := mustModel(t, in).Credits(a, day("2026-01-15"), day("2026-04-02"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, fmt.Sprintf("%s=%d", c.Month, c.Value))
	}
	if want := []string{"2026-02=1", "2026-04=2"}; !slices.Equal(got, want) {
		t.Fatalf("months %v, want %v (January starts before from, March has no Use)", got, want)
	}
	// Without activity every metric is 0: nothing is written.
	if cs, err := mustModel(t, in).Credits(nil, day("2026-01-01"), day("2027-01-01")); err != nil || len(cs) != 0 {
		t.Fatalf("credits without activity: %v, %v", cs, err)
	}
	if ms := partnerlink.MonthsIn(day("2026-03-01"), day("2026-03-01")); len(ms) != 0 {
		t.Fatalf("empty range gave months %v", ms)
	}
}

func TestDeterministic(t *testing.T) {
	// docs/rules.md#azure-attribution (and docs/api.md#attribution-csv): the same inputs give byte-identical output,
	// whatever the order of the world's lists and of the rows.
	build := func(reverse bool) string {
		in := baseInput()
		for i := 0; i < 12; i++ {
			k := pp.Kinds[i%len(pp.Kinds)]
			id := fmt.Sprintf("res-%02d", i)
			in.Resources = append(in.Resources, pp.Resource{TenantID: tenant, EnvironmentID: envOf(pp.EnvironmentTypes[i%5]), ID: id, Kind: k, Paid: i%3 != 0})
			if r := attributedRole(k); r != "" {
				in.Ownership = append(in.Ownership, own(id, []string{user1, user2, user3}[i%3], r, "2026-01-01", ""))
			}
		}
		in.Links = []partnerlink.Link{link(user1, p1, "2026-01-01", ""), link(user2, p2, "2026-01-01", ""), link(user3, p3, "2026-02-01", "")}
		var rows, prof []string
		for i := 0; i < 12; i++ {
			id := fmt.Sprintf("res-%02d", i)
			for d, u := range []string{user1, user2, user3, user4} {
				rows = append(rows, fmt.Sprintf("2026-0%d-%02d,%s,%s,Use", 2+d%2, 3+i, id, u))
			}
			if pp.Kinds[i%len(pp.Kinds)] == pp.CustomerInsightsInstance {
				prof = append(prof, fmt.Sprintf("2026-03,%s,%d", id, 100+i))
			}
		}
		if reverse {
			slices.Reverse(in.Resources)
			slices.Reverse(in.Ownership)
			slices.Reverse(in.Links)
			slices.Reverse(in.Principals)
			slices.Reverse(rows)
		}
		m := mustModel(t, in)
		cs, err := m.Credits(activityOf(t, rows, prof), day("2026-02-01"), day("2026-04-01"))
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := pp.WriteCSV(&b, cs); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	first := build(false)
	if strings.Count(first, "\n") < 10 {
		t.Fatalf("too few rows to show anything:\n%s", first)
	}
	for i := 0; i < 3; i++ {
		if again := build(i%2 == 1); again != first {
			t.Fatalf("run %d differs:\n%s\nfirst:\n%s", i, again, first)
		}
	}
	lines := strings.Split(strings.TrimSpace(first), "\n")[1:]
	if !slices.IsSorted(lines) {
		t.Fatalf("rows not sorted:\n%s", first)
	}
}

// docs/rules.md, "Power Platform": a location ID is a candidate only while
// its global ID is active too, as in the Azure rule. user1 (linked to the
// location ID L of global ID G) and user2 (linked to p2) own the app all
// March, and user1's activity is the later: with G active L wins; with G
// deleted before or at the start of March, L is no candidate and p2 wins.
func TestLocationIDNeedsItsGlobalID(t *testing.T) {
	const g, l = "3000000", "3000001"
	owners := []pp.OwnershipRecord{own("app", user1, pp.RoleOwner, "2026-01-01", ""), own("app", user2, pp.RoleCoOwner, "2026-01-01", "")}
	rows := []string{"2026-03-15,app," + user4 + ",Use", "2026-03-20,app," + user1 + ",Edit", "2026-03-05,app," + user2 + ",Edit"}
	for _, tc := range []struct {
		name     string
		globalTo string
		want     string
	}{
		{"global ID active", "", l},
		{"global ID deleted on March 1", "2026-03-01", p2},
		{"global ID deleted before the month", "2026-02-01", p2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := withResource(pp.CanvasApp, "app", owners, []partnerlink.Link{link(user1, l, "2026-01-01", ""), link(user2, p2, "2026-01-01", "")})
			in.Partners = append(in.Partners, partnerlink.Partner{ID: g, Period: period("2020-01-01", tc.globalTo)},
				partnerlink.Partner{ID: l, GlobalID: g, Period: period("2020-01-01", "")})
			got := creditsOf(t, in, activityOf(t, rows, nil))
			if want := []string{tc.want + " app MAU 1"}; !slices.Equal(got, want) {
				t.Fatalf("credits %v, want %v", got, want)
			}
		})
	}
	// Alone, the location ID keeps nothing once its global ID is deleted.
	in := withResource(pp.CanvasApp, "app", owners[:1], []partnerlink.Link{link(user1, l, "2026-01-01", "")})
	in.Partners = append(in.Partners, partnerlink.Partner{ID: g, Period: period("2020-01-01", "2026-03-01")},
		partnerlink.Partner{ID: l, GlobalID: g, Period: period("2020-01-01", "")})
	if got := creditsOf(t, in, activityOf(t, rows, nil)); len(got) != 0 {
		t.Errorf("credits %v; a location ID whose global ID is deleted gets none", got)
	}
}

// FromWorld keeps a location ID's global ID, which the rule above needs.
func TestFromWorldKeepsGlobalIDs(t *testing.T) {
	g := "3000000"
	in, err := pp.FromWorld(&world.Document{Version: 1, Partners: []world.Partner{
		{PartnerID: g, Name: "G"}, {PartnerID: "3000001", Name: "L", GlobalPartnerID: &g}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Partners) != 2 || in.Partners[0].GlobalID != "" || in.Partners[1].GlobalID != g {
		t.Errorf("partners %+v; want the location ID's global ID kept", in.Partners)
	}
}
