package powerplatform_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	pp "github.com/partnerlink/partnerlink/powerplatform"
)

const (
	tenant = "0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60"
	user1  = "00000000-0000-4000-8000-000000000001"
	user2  = "00000000-0000-4000-8000-000000000002"
	user3  = "00000000-0000-4000-8000-000000000003"
	user4  = "00000000-0000-4000-8000-000000000004"
	sp1    = "00000000-0000-4000-8000-0000000000a1"
	group1 = "00000000-0000-4000-8000-0000000000b1"
)

var (
	t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func user(id string) pp.PrincipalRef { return pp.PrincipalRef{ID: id, Type: partnerlink.PrincipalUser} }
func sp(id string) pp.PrincipalRef {
	return pp.PrincipalRef{ID: id, Type: partnerlink.PrincipalServicePrincipal}
}

func res(k pp.Kind) pp.Resource {
	return pp.Resource{TenantID: tenant, EnvironmentID: "env-prod", ID: "res-" + string(k), Kind: k, Paid: true}
}

// initial is a history in which user1 holds every role the kind has since t0.
func initial(k pp.Kind) pp.History {
	var roles []pp.Role
	switch k {
	case pp.CanvasApp, pp.ModelDrivenApp:
		roles = []pp.Role{pp.RoleOwner}
	case pp.Flow, pp.Bot:
		roles = []pp.Role{pp.RoleOwner, pp.RoleCreator}
	case pp.PowerBIDataset:
		roles = []pp.Role{pp.RolePublisher}
	}
	var h pp.History
	for _, r := range roles {
		h = append(h, pp.Holding{PrincipalID: user1, Role: r, Period: partnerlink.Period{From: t0}})
	}
	return h
}

// holdersAfter lists "Role=principal" held right after the change.
func holdersAfter(h pp.History, at time.Time) []string {
	var out []string
	for _, r := range pp.Roles {
		for _, p := range h.HoldersAt(r, at) {
			out = append(out, string(r)+"="+p)
		}
	}
	return out
}

func TestOwnershipChangesPerKind(t *testing.T) {
	type op int
	const (
		setOwnerUser op = iota
		setOwnerSP
		addCoOwner
		solutionImport
	)
	cases := []struct {
		name string
		kind pp.Kind
		op   op
		// want lists the holders after an accepted change; refused, the
		// code and words of the message that say what to do instead.
		want     []string
		code     string
		instead  string
		rulePart string
	}{
		// docs/rules.md#power-platform: CanvasApp | set owner to a user: yes
		{name: "canvas/owner user", kind: pp.CanvasApp, op: setOwnerUser, want: []string{"Owner=" + user2}},
		// docs/rules.md#power-platform: CanvasApp | set owner to a service principal: no (import the app in a solution as the service principal)
		{name: "canvas/owner sp", kind: pp.CanvasApp, op: setOwnerSP, code: partnerlink.EINVALID, instead: "import the app in a solution as service principal"},
		// docs/rules.md#power-platform: CanvasApp | co-owners: users, yes
		{name: "canvas/co-owner", kind: pp.CanvasApp, op: addCoOwner, want: []string{"Owner=" + user1, "CoOwner=" + user2}},
		// docs/rules.md#power-platform: CanvasApp | solution import: importer becomes owner
		{name: "canvas/solution", kind: pp.CanvasApp, op: solutionImport, want: []string{"Owner=" + sp1}},

		// docs/rules.md#power-platform: ModelDrivenApp | set owner to a user: no (only by solution import)
		{name: "model-driven/owner user", kind: pp.ModelDrivenApp, op: setOwnerUser, code: partnerlink.EINVALID, instead: "import the app in a solution as user"},
		// docs/rules.md#power-platform: ModelDrivenApp | set owner to a service principal: no (only by solution import)
		{name: "model-driven/owner sp", kind: pp.ModelDrivenApp, op: setOwnerSP, code: partnerlink.EINVALID, instead: "import the app in a solution as service principal"},
		// docs/rules.md#power-platform: ModelDrivenApp | co-owners: none exist
		{name: "model-driven/co-owner", kind: pp.ModelDrivenApp, op: addCoOwner, code: partnerlink.EINVALID, instead: "have no co-owners; to attribute the app to user " + user2 + ", import it in a solution"},
		// docs/rules.md#power-platform: ModelDrivenApp | solution import: importer becomes owner
		{name: "model-driven/solution", kind: pp.ModelDrivenApp, op: solutionImport, want: []string{"Owner=" + sp1}},

		// docs/rules.md#power-platform: Flow | set owner to a user: yes (the new owner is the creator from then on)
		{name: "flow/owner user", kind: pp.Flow, op: setOwnerUser, want: []string{"Owner=" + user2, "Creator=" + user2}},
		// docs/rules.md#power-platform: Flow | set owner to a service principal: yes
		{name: "flow/owner sp", kind: pp.Flow, op: setOwnerSP, want: []string{"Owner=" + sp1, "Creator=" + sp1}},
		// docs/rules.md#power-platform: Flow | co-owners: — (attribution follows the single creator)
		{name: "flow/co-owner", kind: pp.Flow, op: addCoOwner, code: partnerlink.EINVALID, instead: "set the flow's owner to user " + user2},
		// docs/rules.md#power-platform: Flow | solution import: importer becomes owner (and creator)
		{name: "flow/solution", kind: pp.Flow, op: solutionImport, want: []string{"Owner=" + sp1, "Creator=" + sp1}},

		// docs/rules.md#power-platform: PowerBIDataset | set owner to a user: no: publishing sets the publisher
		{name: "dataset/owner user", kind: pp.PowerBIDataset, op: setOwnerUser, code: partnerlink.EINVALID, instead: "publish the dataset as user"},
		// docs/rules.md#power-platform: PowerBIDataset | set owner to a service principal: no: publishing sets the publisher
		{name: "dataset/owner sp", kind: pp.PowerBIDataset, op: setOwnerSP, code: partnerlink.EINVALID, instead: "publish the dataset as service principal"},
		// docs/rules.md#power-platform: PowerBIDataset | co-owners: —
		{name: "dataset/co-owner", kind: pp.PowerBIDataset, op: addCoOwner, code: partnerlink.EINVALID, instead: "publish the dataset as user"},
		// docs/rules.md#power-platform: PowerBIDataset | solution import: not possible (refused)
		{name: "dataset/solution", kind: pp.PowerBIDataset, op: solutionImport, code: partnerlink.EINVALID, instead: "publish a Power BI dataset as service principal"},

		// docs/rules.md#power-platform: CustomerInsightsInstance | set owner to a user: no owner concept
		{name: "ci/owner user", kind: pp.CustomerInsightsInstance, op: setOwnerUser, code: partnerlink.EINVALID, instead: "every user active on the instance in a month is attributed, so have user"},
		// docs/rules.md#power-platform: CustomerInsightsInstance | set owner to a service principal: no owner concept
		{name: "ci/owner sp", kind: pp.CustomerInsightsInstance, op: setOwnerSP, code: partnerlink.EINVALID, instead: "have service principal " + sp1 + " work in the instance"},
		// docs/rules.md#power-platform: CustomerInsightsInstance | co-owners: —
		{name: "ci/co-owner", kind: pp.CustomerInsightsInstance, op: addCoOwner, code: partnerlink.EINVALID, instead: "work in the instance instead"},
		// docs/rules.md#power-platform: CustomerInsightsInstance | solution import: not possible (refused)
		{name: "ci/solution", kind: pp.CustomerInsightsInstance, op: solutionImport, code: partnerlink.EINVALID, instead: "a Customer Insights instance credits every user active on it"},

		// docs/rules.md#power-platform: Bot | set owner to a user: no (only by solution import)
		{name: "bot/owner user", kind: pp.Bot, op: setOwnerUser, code: partnerlink.EINVALID, instead: "import the bot in a solution as user"},
		// docs/rules.md#power-platform: Bot | set owner to a service principal: no (only by solution import)
		{name: "bot/owner sp", kind: pp.Bot, op: setOwnerSP, code: partnerlink.EINVALID, instead: "import the bot in a solution as service principal"},
		// docs/rules.md#power-platform: Bot | co-owners: —
		{name: "bot/co-owner", kind: pp.Bot, op: addCoOwner, code: partnerlink.EINVALID, instead: "import the bot in a solution as user"},
		// docs/rules.md#power-platform: Bot | solution import: importer becomes owner (and creator)
		{name: "bot/solution", kind: pp.Bot, op: solutionImport, want: []string{"Owner=" + sp1, "Creator=" + sp1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := res(tc.kind)
			before := initial(tc.kind)
			saved := slices.Clone(before)
			var got pp.History
			var err error
			switch tc.op {
			case setOwnerUser:
				got, err = pp.SetOwner(r, before, user(user2), t1)
			case setOwnerSP:
				got, err = pp.SetOwner(r, before, sp(sp1), t1)
			case addCoOwner:
				got, err = pp.AddCoOwner(r, before, user(user2), t1)
			case solutionImport:
				var hs []pp.History
				hs, err = pp.ImportSolution([]pp.Component{{Resource: r, History: before}}, sp(sp1), t1)
				if err == nil {
					got = hs[0]
				}
			}
			if !slices.Equal(before, saved) {
				t.Fatalf("the caller's history was modified: %v", before)
			}
			if tc.code != "" {
				if err == nil {
					t.Fatalf("accepted, want refusal %s; history %v", tc.code, got)
				}
				if c := partnerlink.ErrorCode(err); c != tc.code {
					t.Fatalf("code %s, want %s (%v)", c, tc.code, err)
				}
				if !strings.Contains(err.Error(), tc.instead) {
					t.Fatalf("message %q does not say what to do instead (%q)", err, tc.instead)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if h := holdersAfter(got, t1); !slices.Equal(h, tc.want) {
				t.Fatalf("holders after the change %v, want %v", h, tc.want)
			}
			// History: what held before still holds up to the change.
			if h := holdersAfter(got, t1.Add(-time.Nanosecond)); !slices.Equal(h, holdersAfter(saved, t1.Add(-time.Nanosecond))) {
				t.Fatalf("holders before the change %v, want them unchanged %v", h, holdersAfter(saved, t1.Add(-time.Nanosecond)))
			}
			if err := pp.ValidateHistory(r, got); err != nil {
				t.Fatalf("the new history breaks the kind's limits: %v", err)
			}
		})
	}
}

func TestOwnershipIsHistory(t *testing.T) {
	// docs/rules.md#power-platform: a change closes the old period and opens a new one at the same instant.
	r := res(pp.CanvasApp)
	h, err := pp.SetOwner(r, initial(pp.CanvasApp), user(user2), t1)
	if err != nil {
		t.Fatal(err)
	}
	want := pp.History{
		{PrincipalID: user1, Role: pp.RoleOwner, Period: partnerlink.Period{From: t0, To: t1}},
		{PrincipalID: user2, Role: pp.RoleOwner, Period: partnerlink.Period{From: t1}},
	}
	if !slices.Equal(h, want) {
		t.Fatalf("history %v, want %v", h, want)
	}
}

func TestFlowReownKeepsOneCreator(t *testing.T) {
	// docs/rules.md#power-platform: Flow | creator (exactly one at a time; an owner change or
	// solution import makes the new principal the creator from then on).
	r := res(pp.Flow)
	h := initial(pp.Flow)
	var err error
	steps := []struct {
		at   time.Time
		do   func(pp.History, time.Time) (pp.History, error)
		want string
	}{
		{day("2026-02-01"), func(h pp.History, at time.Time) (pp.History, error) { return pp.SetOwner(r, h, user(user2), at) }, user2},
		{day("2026-02-10"), func(h pp.History, at time.Time) (pp.History, error) { return pp.SetOwner(r, h, sp(sp1), at) }, sp1},
		{day("2026-03-01"), func(h pp.History, at time.Time) (pp.History, error) {
			hs, err := pp.ImportSolution([]pp.Component{{Resource: r, History: h}}, user(user3), at)
			if err != nil {
				return nil, err
			}
			return hs[0], nil
		}, user3},
	}
	for _, s := range steps {
		h, err = s.do(h, s.at)
		if err != nil {
			t.Fatal(err)
		}
		if c := h.HoldersAt(pp.RoleCreator, s.at); !slices.Equal(c, []string{s.want}) {
			t.Fatalf("creators at %s: %v, want exactly %s", s.at, c, s.want)
		}
	}
	// Each earlier creator is still the creator of its own past.
	if c := h.HoldersAt(pp.RoleCreator, day("2026-02-05")); !slices.Equal(c, []string{user2}) {
		t.Fatalf("creator on 2026-02-05: %v, want %s", c, user2)
	}
	if err := pp.ValidateHistory(r, h); err != nil {
		t.Fatal(err)
	}
}

func TestPublishSetsPublisher(t *testing.T) {
	// docs/rules.md#power-platform: PowerBIDataset | publisher (the last principal to publish it).
	r := res(pp.PowerBIDataset)
	h, err := pp.Publish(r, nil, user(user1), day("2026-03-01"))
	if err != nil {
		t.Fatal(err)
	}
	h, err = pp.Publish(r, h, sp(sp1), day("2026-03-05"))
	if err != nil {
		t.Fatal(err)
	}
	h, err = pp.Publish(r, h, user(user2), day("2026-03-09"))
	if err != nil {
		t.Fatal(err)
	}
	if p := h.HoldersAt(pp.RolePublisher, day("2026-03-20")); !slices.Equal(p, []string{user2}) {
		t.Fatalf("publisher %v, want the last to publish, %s", p, user2)
	}
	if p := h.HoldersAt(pp.RolePublisher, day("2026-03-06")); !slices.Equal(p, []string{sp1}) {
		t.Fatalf("publisher on 03-06 %v, want %s", p, sp1)
	}
	// A republish by the publisher keeps it publisher and records the instant.
	h2, err := pp.Publish(r, h, user(user2), day("2026-03-15"))
	if err != nil {
		t.Fatal(err)
	}
	if len(h2) != len(h)+1 || !h2[len(h2)-1].Period.From.Equal(day("2026-03-15")) {
		t.Fatalf("republish history %v", h2)
	}
	// docs/rules.md#power-platform-ownership-changes, "Two changes at one
	// instant": a republish replaced at its own instant never held; the
	// history keeps the republisher's earlier period, the other's new one.
	h3, err := pp.Publish(r, h2, user(user1), day("2026-03-15"))
	if err != nil {
		t.Fatalf("a publish at the instant of the latest change: %v", err)
	}
	if len(h3) != len(h2) || !h3[len(h3)-1].Period.From.Equal(day("2026-03-15")) || h3[len(h3)-1].PrincipalID != user1 ||
		!h3[len(h3)-2].Period.To.Equal(day("2026-03-15")) || h3[len(h3)-2].PrincipalID != user2 ||
		h3[len(h3)-2].Period.From.Equal(day("2026-03-15")) {
		t.Fatalf("the republish replaced at its instant: %v", h3)
	}
	// Only datasets have a publisher.
	if _, err := pp.Publish(res(pp.Flow), initial(pp.Flow), user(user2), t1); partnerlink.ErrorCode(err) != partnerlink.EINVALID ||
		!strings.Contains(err.Error(), "set the flow's owner to user "+user2) {
		t.Fatalf("publishing a flow: %v", err)
	}
}

func TestCoOwnerLimits(t *testing.T) {
	// docs/rules.md#power-platform: CanvasApp | co-owners: users, yes.
	r := res(pp.CanvasApp)
	h, err := pp.AddCoOwner(r, initial(pp.CanvasApp), pp.PrincipalRef{ID: user2, Type: partnerlink.PrincipalGuest}, t1)
	if err != nil {
		t.Fatalf("a guest user is a user: %v", err)
	}
	if _, err := pp.AddCoOwner(r, h, user(user2), t1.Add(time.Hour)); partnerlink.ErrorCode(err) != partnerlink.ECONFLICT {
		t.Fatalf("adding a co-owner twice: %v, want ECONFLICT", err)
	}
	if _, err := pp.AddCoOwner(r, h, user(user1), t1.Add(time.Hour)); partnerlink.ErrorCode(err) != partnerlink.ECONFLICT {
		t.Fatalf("adding the owner as co-owner: %v, want ECONFLICT", err)
	}
	_, err = pp.AddCoOwner(r, h, sp(sp1), t1.Add(time.Hour))
	if partnerlink.ErrorCode(err) != partnerlink.EINVALID || !strings.Contains(err.Error(), "import the app in a solution as the service principal") {
		t.Fatalf("a service principal as co-owner: %v", err)
	}
	_, err = pp.AddCoOwner(r, h, pp.PrincipalRef{ID: group1, Type: partnerlink.PrincipalGroup}, t1.Add(time.Hour))
	if partnerlink.ErrorCode(err) != partnerlink.EINVALID || !strings.Contains(err.Error(), "add each of the group's users") {
		t.Fatalf("a group as co-owner: %v", err)
	}
	h2, err := pp.RemoveCoOwner(r, h, user(user2), day("2026-03-20"))
	if err != nil {
		t.Fatal(err)
	}
	if c := h2.HoldersAt(pp.RoleCoOwner, day("2026-03-20")); len(c) != 0 {
		t.Fatalf("co-owners after removal %v", c)
	}
	if c := h2.HoldersAt(pp.RoleCoOwner, day("2026-03-15")); !slices.Equal(c, []string{user2}) {
		t.Fatalf("co-owners before removal %v: the past must stay", c)
	}
	if _, err := pp.RemoveCoOwner(r, h2, user(user2), day("2026-03-21")); partnerlink.ErrorCode(err) != partnerlink.ECONFLICT {
		t.Fatalf("removing a non co-owner: %v, want ECONFLICT", err)
	}
	// A co-owner made owner stops being a co-owner.
	h3, err := pp.SetOwner(r, h, user(user2), day("2026-03-20"))
	if err != nil {
		t.Fatal(err)
	}
	if got := holdersAfter(h3, day("2026-03-20")); !slices.Equal(got, []string{"Owner=" + user2}) {
		t.Fatalf("holders %v", got)
	}
}

func TestChangeConflicts(t *testing.T) {
	r := res(pp.CanvasApp)
	h := initial(pp.CanvasApp)
	if _, err := pp.SetOwner(r, h, user(user1), t1); partnerlink.ErrorCode(err) != partnerlink.ECONFLICT {
		t.Fatalf("owner to the current owner: %v, want ECONFLICT", err)
	}
	h2, err := pp.SetOwner(r, h, user(user2), t1)
	if err != nil {
		t.Fatal(err)
	}
	// History is never rewritten: a change before the last recorded one is refused.
	_, err = pp.SetOwner(r, h2, user(user3), day("2026-02-01"))
	if partnerlink.ErrorCode(err) != partnerlink.ECONFLICT || !strings.Contains(err.Error(), "apply this change at or after 2026-03-10T12:00:00Z") {
		t.Fatalf("change in the past: %v", err)
	}
	if _, err := pp.SetOwner(r, h2, user(user3), time.Time{}); partnerlink.ErrorCode(err) != partnerlink.EINVALID {
		t.Fatalf("change without an instant: %v", err)
	}
	if _, err := pp.SetOwner(r, h2, user("not-a-guid"), t1); partnerlink.ErrorCode(err) != partnerlink.EINVALID {
		t.Fatalf("malformed principal id: %v", err)
	}
	// Two changes at one instant: the first owner never held.
	h3, err := pp.SetOwner(r, h2, user(user3), t1)
	if err != nil {
		t.Fatal(err)
	}
	if got := holdersAfter(h3, t1); !slices.Equal(got, []string{"Owner=" + user3}) {
		t.Fatalf("holders %v", got)
	}
	for _, x := range h3 {
		if x.Period.Empty() {
			t.Fatalf("empty period left in history: %v", h3)
		}
	}
}

func TestSolutionRefusalChangesNothing(t *testing.T) {
	// docs/rules.md#power-platform: a solution containing a Power BI dataset or a Customer
	// Insights instance is refused whole, changing nothing.
	for _, bad := range []pp.Kind{pp.PowerBIDataset, pp.CustomerInsightsInstance} {
		comps := []pp.Component{
			{Resource: res(pp.CanvasApp), History: initial(pp.CanvasApp)},
			{Resource: res(pp.Flow), History: initial(pp.Flow)},
			{Resource: res(bad), History: initial(bad)},
		}
		saved := make([]pp.History, len(comps))
		for i, c := range comps {
			saved[i] = slices.Clone(c.History)
		}
		hs, err := pp.ImportSolution(comps, sp(sp1), t1)
		if partnerlink.ErrorCode(err) != partnerlink.EINVALID || hs != nil {
			t.Fatalf("%s in a solution: %v, %v; want a refusal", bad, hs, err)
		}
		if !strings.Contains(err.Error(), "nothing was changed") || !strings.Contains(err.Error(), "remove them from the solution and import the rest") {
			t.Fatalf("message %q does not say what to do instead", err)
		}
		for i, c := range comps {
			if !slices.Equal(c.History, saved[i]) {
				t.Fatalf("%s's history changed by a refused import: %v", c.Resource.ID, c.History)
			}
		}
	}
	// An accepted import changes every component at the same instant.
	comps := []pp.Component{
		{Resource: res(pp.CanvasApp), History: initial(pp.CanvasApp)},
		{Resource: res(pp.ModelDrivenApp), History: initial(pp.ModelDrivenApp)},
		{Resource: res(pp.Bot), History: nil},
	}
	hs, err := pp.ImportSolution(comps, user(user4), t1)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hs {
		if o := h.HoldersAt(pp.RoleOwner, t1); !slices.Equal(o, []string{user4}) {
			t.Fatalf("%s owner %v, want the importer", comps[i].Resource.ID, o)
		}
	}
	if _, err := pp.ImportSolution(nil, user(user4), t1); partnerlink.ErrorCode(err) != partnerlink.EINVALID {
		t.Fatalf("empty solution: %v", err)
	}
	if _, err := pp.ImportSolution(comps[:1], pp.PrincipalRef{ID: group1, Type: partnerlink.PrincipalGroup}, t1); partnerlink.ErrorCode(err) != partnerlink.EINVALID {
		t.Fatalf("import by a group: %v", err)
	}
}

func TestValidateHistory(t *testing.T) {
	p := func(from, to string) partnerlink.Period {
		var q partnerlink.Period
		q.From = day(from)
		if to != "" {
			q.To = day(to)
		}
		return q
	}
	cases := []struct {
		name string
		kind pp.Kind
		h    pp.History
		want string // part of the error; "" for valid
	}{
		{"owners in turn", pp.CanvasApp, pp.History{{PrincipalID: user1, Role: pp.RoleOwner, Period: p("2026-01-01", "2026-02-01")}, {PrincipalID: user2, Role: pp.RoleOwner, Period: p("2026-02-01", "")}}, ""},
		{"two owners at once", pp.CanvasApp, pp.History{{PrincipalID: user1, Role: pp.RoleOwner, Period: p("2026-01-01", "")}, {PrincipalID: user2, Role: pp.RoleOwner, Period: p("2026-02-01", "")}}, "one Owner at a time"},
		{"two creators at once", pp.Flow, pp.History{{PrincipalID: user1, Role: pp.RoleCreator, Period: p("2026-01-01", "")}, {PrincipalID: user2, Role: pp.RoleCreator, Period: p("2026-02-01", "")}}, "one Creator at a time"},
		{"many co-owners", pp.CanvasApp, pp.History{{PrincipalID: user1, Role: pp.RoleCoOwner, Period: p("2026-01-01", "")}, {PrincipalID: user2, Role: pp.RoleCoOwner, Period: p("2026-01-01", "")}}, ""},
		{"co-owner on a model-driven app", pp.ModelDrivenApp, pp.History{{PrincipalID: user1, Role: pp.RoleCoOwner, Period: p("2026-01-01", "")}}, "accepted: Owner"},
		{"owner of an instance", pp.CustomerInsightsInstance, pp.History{{PrincipalID: user1, Role: pp.RoleOwner, Period: p("2026-01-01", "")}}, "has no ownership roles"},
		{"owner of a dataset", pp.PowerBIDataset, pp.History{{PrincipalID: user1, Role: pp.RoleOwner, Period: p("2026-01-01", "")}}, "accepted: Publisher"},
		{"backwards period", pp.Bot, pp.History{{PrincipalID: user1, Role: pp.RoleCreator, Period: p("2026-02-01", "2026-01-01")}}, "ends before it starts"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := pp.ValidateHistory(res(tc.kind), tc.h)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}
