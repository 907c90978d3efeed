package powerplatform_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	pp "github.com/partnerlink/partnerlink/powerplatform"
	"github.com/partnerlink/partnerlink/world"
)

const (
	kari = "c0ffee00-0000-4000-8000-000000000001"
	ola  = "d00d0000-0000-4000-8000-000000000001"
	ana  = "a0000000-0000-4000-8000-000000000001"
)

// loadBasic builds the model and activity of testdata/basic.
func loadBasic(t *testing.T) (*pp.Model, *pp.Activity) {
	t.Helper()
	dir := filepath.Join("testdata", "basic")
	data, err := os.ReadFile(filepath.Join(dir, "world.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := world.Read(bytes.NewReader(data), "world.json")
	if err != nil {
		t.Fatal(err)
	}
	in, err := pp.FromWorld(doc)
	if err != nil {
		t.Fatal(err)
	}
	a := pp.NewActivity()
	for _, name := range []string{"activity.csv", "profiles.csv.gz"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		err = a.ReadCSV(name, f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return mustModel(t, in), a
}

func TestExplain(t *testing.T) {
	m, a := loadBasic(t)
	april := march + 1
	cases := []struct {
		name       string
		resource   string
		month      pp.Month
		attributed []string // "principal Role"
		candidates []string // "partner lastActivity"
		credited   int64    // 0: no credit
		reason     []string
		notQual    string
	}{
		{name: "latest partner wins", resource: "expenses", month: march,
			attributed: []string{ana + " Owner", kari + " CoOwner", ola + " CoOwner"},
			candidates: []string{"5100001 2026-03-20T00:00:00Z", "6200001 2026-03-15T00:00:00Z"},
			credited:   3,
			reason:     []string{"partner 5100001 is the latest partner", "principal " + kari + " was last active on the canvas app at 2026-03-20T00:00:00Z", "partner 6200001's last activity (2026-03-15T00:00:00Z)", "credited with MAU 3"},
			notQual:    ana + " (Owner [2026-03-01T00:00:00Z, 2026-04-01T00:00:00Z)) has no partner link"},
		{name: "nobody linked", resource: "case-mgmt", month: march,
			attributed: []string{ana + " Owner"},
			reason:     []string{"no attributed user of the model-driven app was linked to an active partner ID"}},
		{name: "only candidate", resource: "ci-main", month: april,
			attributed: []string{kari + " ActiveUser"},
			candidates: []string{"5100001 2026-04-03T00:00:00Z"},
			credited:   50000,
			reason:     []string{"partner 5100001 is the only candidate; it is credited with UnifiedProfiles 50000"}},
		{name: "no active linked user", resource: "ci-main", month: april + 1,
			reason: []string{"no user linked to a partner was active on the instance in 2026-05"}},
		{name: "no creator", resource: "invoice-flow", month: march - 4,
			reason: []string{"the flow had no creator in 2025-11"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := m.Explain(a, tc.resource, tc.month)
			if err != nil {
				t.Fatal(err)
			}
			var att, cand []string
			for _, ap := range e.Attributed {
				att = append(att, ap.PrincipalID+" "+string(ap.Role))
			}
			for _, c := range e.Candidates {
				cand = append(cand, c.PartnerID+" "+fmtTime(c.LastActivity))
			}
			if !slices.Equal(att, tc.attributed) {
				t.Errorf("attributed %v, want %v", att, tc.attributed)
			}
			if !slices.Equal(cand, tc.candidates) {
				t.Errorf("candidates %v, want %v", cand, tc.candidates)
			}
			if (e.Credit == nil) != (tc.credited == 0) || (e.Credit != nil && e.Credit.Value != tc.credited) {
				t.Errorf("credit %+v, want value %d", e.Credit, tc.credited)
			}
			for _, r := range tc.reason {
				if !strings.Contains(e.Reason, r) {
					t.Errorf("reason %q\nwant it to contain %q", e.Reason, r)
				}
			}
			if tc.notQual != "" && !slices.ContainsFunc(e.NotQualified, func(s string) bool { return strings.Contains(s, tc.notQual) }) {
				t.Errorf("not qualified %q, want one containing %q", e.NotQualified, tc.notQual)
			}
			if s := e.String(); !strings.Contains(s, e.Reason) || !strings.Contains(s, tc.resource) {
				t.Errorf("rendered explanation lacks the reason or the resource:\n%s", s)
			}
		})
	}
	if _, err := m.Explain(a, "nope", march); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Fatalf("unknown resource: %v", err)
	}
}

func fmtTime(t time.Time) string { return t.Format(time.RFC3339) }

func TestExplainTiesAndMisses(t *testing.T) {
	owners := []pp.OwnershipRecord{own("app", user1, pp.RoleOwner, "2026-01-01", ""), own("app", user2, pp.RoleCoOwner, "2026-01-01", "")}
	rows := []string{"2026-03-15,app," + user4 + ",Use", "2026-03-20,app," + user1 + ",Edit", "2026-03-20,app," + user2 + ",Edit"}
	cases := []struct {
		name   string
		own    []pp.OwnershipRecord
		links  []partnerlink.Link
		reason string
		miss   string
	}{
		{name: "link creation", own: owners, links: []partnerlink.Link{link(user1, p1, "2026-02-01", ""), link(user2, p2, "2026-01-15", "")},
			reason: "partners 1000001 and 1000002 were last active at the same instant (2026-03-20T00:00:00Z); partner 1000001 wins with the most recently created link"},
		{name: "lowest ID", own: owners, links: []partnerlink.Link{link(user1, p2, "2026-01-01", ""), link(user2, p1, "2026-01-01", "")},
			reason: "the lowest partner ID, 1000001, wins"},
		{name: "no overlap", own: []pp.OwnershipRecord{own("app", user1, pp.RoleOwner, "2026-03-01", "2026-03-10")}, links: []partnerlink.Link{link(user1, p1, "2026-03-10", "")},
			reason: "no attributed user of the canvas app was linked",
			miss:   user1 + "'s link to partner 1000001 over [2026-03-10T00:00:00Z, now) does not overlap its Owner period [2026-03-01T00:00:00Z, 2026-03-10T00:00:00Z)"},
		{name: "partner ID ended", own: owners[:1], links: []partnerlink.Link{link(user1, "999", "2026-01-01", "")},
			reason: "no attributed user",
			miss:   "or the partner ID (active [2020-01-01T00:00:00Z, 2026-02-01T00:00:00Z)) was not in force then"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := withResource(pp.CanvasApp, "app", tc.own, tc.links)
			in.Partners[3].Period = period("2020-01-01", "2026-02-01") // 999 ended in February
			e, err := mustModel(t, in).Explain(activityOf(t, rows, nil), "app", march)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(e.Reason, tc.reason) {
				t.Fatalf("reason %q\nwant it to contain %q", e.Reason, tc.reason)
			}
			if tc.miss != "" && !slices.ContainsFunc(e.NotQualified, func(s string) bool { return strings.Contains(s, tc.miss) }) {
				t.Fatalf("not qualified %q\nwant one containing %q", e.NotQualified, tc.miss)
			}
		})
	}
}

func TestCreditAtRisk(t *testing.T) {
	t.Run("basic", func(t *testing.T) {
		m, a := loadBasic(t)
		risks, err := m.CreditAtRisk(a, "5100001", day("2026-03-01"), day("2026-05-01"))
		if err != nil {
			t.Fatal(err)
		}
		// kari edits case-mgmt, owned by ana; on expenses and ci-main kari
		// is an attributed user, so that work is credited.
		if len(risks) != 1 || risks[0].Resource.ID != "case-mgmt" || risks[0].Month != march ||
			!slices.Equal(risks[0].Principals, []string{kari}) || !slices.Equal(risks[0].Attributed, []string{ana}) {
			t.Fatalf("risks %+v", risks)
		}
		if want := "import the model-driven app in a solution as " + kari; !strings.Contains(risks[0].Remedy, want) {
			t.Fatalf("remedy %q, want %q", risks[0].Remedy, want)
		}
		if risks, err := m.CreditAtRisk(a, "6200001", day("2026-03-01"), day("2026-05-01")); err != nil || len(risks) != 0 {
			t.Fatalf("6200001: %+v, %v; want none", risks, err)
		}
		if _, err := m.CreditAtRisk(a, "x1", day("2026-03-01"), day("2026-05-01")); partnerlink.ErrorCode(err) != partnerlink.EINVALID {
			t.Fatalf("malformed partner ID: %v", err)
		}
	})
	// docs/rules.md#power-platform: the remedy respects each kind's limits (second table).
	cases := []struct {
		kind     pp.Kind
		who      string
		activity string
		remedy   string
	}{
		{pp.CanvasApp, user2, "Edit", "add user " + user2 + " as a co-owner of the canvas app, or set it as the owner"},
		{pp.CanvasApp, sp1, "Create", "import the canvas app in a solution as service principal " + sp1 + " (a canvas app's owner cannot be set to a service principal)"},
		{pp.ModelDrivenApp, user2, "Edit", "import the model-driven app in a solution as " + user2},
		{pp.Flow, sp1, "Edit", "set the flow's owner to " + sp1 + ", which makes it the creator from then on, or import the flow in a solution"},
		{pp.PowerBIDataset, user2, "Publish", "publish the dataset as " + user2 + ": the last principal to publish is the publisher"},
		{pp.Bot, user2, "Create", "import the bot in a solution as " + user2},
	}
	for _, tc := range cases {
		t.Run(string(tc.kind)+" "+tc.who, func(t *testing.T) {
			// user1, linked to p1, holds the attributed role; the p2
			// principal only works on the resource.
			in := withResource(tc.kind, "res", []pp.OwnershipRecord{own("res", user1, attributedRole(tc.kind), "2026-01-01", "")},
				[]partnerlink.Link{link(user1, p1, "2026-01-01", ""), link(tc.who, p2, "2026-01-01", "")})
			a := activityOf(t, []string{"2026-03-03,res," + tc.who + "," + tc.activity, "2026-03-04,res," + user4 + ",Use"}, nil)
			risks, err := mustModel(t, in).CreditAtRisk(a, p2, day("2026-03-01"), day("2026-04-01"))
			if err != nil {
				t.Fatal(err)
			}
			if len(risks) != 1 || risks[0].CreditedTo != p1 || !slices.Equal(risks[0].Attributed, []string{user1}) {
				t.Fatalf("risks %+v", risks)
			}
			if !strings.Contains(risks[0].Remedy, tc.remedy) {
				t.Fatalf("remedy %q\nwant %q", risks[0].Remedy, tc.remedy)
			}
			// Only building counts: using the resource is not work at risk.
			a = activityOf(t, []string{"2026-03-03,res," + tc.who + ",Use"}, nil)
			if risks, _ := mustModel(t, in).CreditAtRisk(a, p2, day("2026-03-01"), day("2026-04-01")); len(risks) != 0 {
				t.Fatalf("a Use row put credit at risk: %+v", risks)
			}
		})
	}
}
