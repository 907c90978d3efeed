package api_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/api"
	"github.com/partnerlink/partnerlink/demo"
	"github.com/partnerlink/partnerlink/linking"
	"github.com/partnerlink/partnerlink/powerplatform"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/usage"
	"github.com/partnerlink/partnerlink/world"
)

// ppServer is the demo world (Bob is Owner at Fabrikam's root; Alice's
// guest account owns the canvas app expense-app; Alice's guest and the
// automation service principal are linked to 4711001 at now) behind the
// API, with a clock the test moves and a data directory for activity.
type ppServer struct {
	srv   *httptest.Server
	db    *sqlstore.DB
	dir   string
	clock time.Time
}

func newPPServer(t *testing.T) *ppServer {
	t.Helper()
	ctx := context.Background()
	s := &ppServer{dir: t.TempDir(), clock: now}
	db, err := sqlstore.Open(ctx, filepath.Join(s.dir, "pl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s.db = db
	doc := demo.World(demo.NewCredentials())
	world.Normalize(doc)
	if err := db.ImportWorld(ctx, doc, func(s string) (string, error) { return "h:" + s, nil }); err != nil {
		t.Fatal(err)
	}
	links := linking.New(db)
	links.Now = func() time.Time { return now }
	for _, c := range []partnerlink.Caller{aliceGuest, automation} {
		if _, err := links.Link(ctx, c, demo.GermanyPartnerID); err != nil {
			t.Fatal(err)
		}
	}
	h := api.New(tokens{"bob": bob, "alice-guest": aliceGuest, "alice": alice, "automation": automation}, db,
		api.HashAdminKey("admin-secret"), func() time.Time { return s.clock })
	h.DataDir = s.dir
	s.srv = httptest.NewTLSServer(h)
	t.Cleanup(s.srv.Close)
	return s
}

// tick moves the clock one minute: each change is a new instant.
func (s *ppServer) tick() { s.clock = s.clock.Add(time.Minute) }

const (
	fab     = "/api/v1/tenants/" + demo.FabrikamTenant
	prodEnv = fab + "/environments/fabrikam-prod-env"
)

// expect calls the API and checks the status and that the body contains
// each of wants (the JSON as text, for error messages and fields).
func (s *ppServer) expect(t *testing.T, method, path, token, body string, status int, wants ...string) map[string]any {
	t.Helper()
	got, m := call(t, s.srv, method, path, token, body)
	text := ""
	if e, ok := m["error"].(map[string]any); ok {
		text = e["code"].(string) + ": " + e["message"].(string)
	}
	if got != status {
		t.Errorf("%s %s as %s: status %d, want %d (%s)", method, path, token, got, status, text)
		return m
	}
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s %s as %s: error %q lacks %q", method, path, token, text, w)
		}
	}
	return m
}

func owners(m map[string]any, role string) []string {
	var out []string
	list, _ := m["ownership"].([]any)
	for _, x := range list {
		o := x.(map[string]any)
		if o["role"] == role && o["to"] == nil {
			out = append(out, o["principalId"].(string))
		}
	}
	return out
}

// docs/rules.md#power-platform registration: environments and resources by the tenant's
// administrators only; reading needs a read role at the root.
func TestPowerPlatformRegistration(t *testing.T) {
	s := newPPServer(t)
	s.expect(t, "PUT", fab+"/environments/sandbox", "bob", `{"type":"Sandbox"}`, 200)
	s.expect(t, "PUT", fab+"/environments/sandbox", "alice-guest", `{"type":"Sandbox"}`, 403, "AuthorizationFailed")
	s.expect(t, "PUT", fab+"/environments/sandbox", "automation", `{"type":"Sandbox"}`, 403, "AuthorizationFailed")
	s.expect(t, "PUT", fab+"/environments/sandbox", "alice", `{"type":"Sandbox"}`, 403, "AuthorizationFailed")
	s.expect(t, "PUT", fab+"/environments/sandbox", "", `{"type":"Sandbox"}`, 401)
	s.expect(t, "PUT", fab+"/environments/x", "bob", `{"type":"Prod"}`, 400, "Production, Sandbox")
	m := s.expect(t, "GET", fab+"/environments", "bob", "", 200)
	if vs := values(m); len(vs) != 2 {
		t.Errorf("environments = %v", vs)
	}
	s.expect(t, "GET", fab+"/environments", "alice-guest", "", 403)
	if m := s.expect(t, "GET", fab+"/environments/SANDBOX", "bob", "", 200); m["type"] != "Sandbox" || m["environmentId"] != "sandbox" {
		t.Errorf("environment = %v", m)
	}

	m = s.expect(t, "PUT", fab+"/environments/sandbox/resources/deploy-flow", "bob", `{"kind":"Flow","paid":true}`, 200)
	if m["kind"] != "Flow" || m["paid"] != true || m["environmentId"] != "sandbox" {
		t.Errorf("resource = %v", m)
	}
	s.expect(t, "PUT", fab+"/environments/sandbox/resources/x", "bob", `{"kind":"Spreadsheet"}`, 400, "CanvasApp")
	s.expect(t, "PUT", fab+"/environments/nowhere/resources/x", "bob", `{"kind":"Bot"}`, 404, "no environment nowhere")
	s.expect(t, "PUT", fab+"/environments/sandbox/resources/x", "automation", `{"kind":"Bot"}`, 403)
	// A resource does not move between environments.
	s.expect(t, "PUT", prodEnv+"/resources/deploy-flow", "bob", `{"kind":"Flow"}`, 409, "does not move")
	if vs := values(s.expect(t, "GET", fab+"/environments/sandbox/resources", "bob", "", 200)); len(vs) != 1 || vs[0]["id"] != "deploy-flow" {
		t.Errorf("resources = %v", vs)
	}
	m = s.expect(t, "GET", prodEnv+"/resources/expense-app", "bob", "", 200)
	if o := owners(m, "Owner"); len(o) != 1 || o[0] != demo.AliceInFabrikam {
		t.Errorf("expense-app owners = %v (%v)", o, m)
	}
	s.expect(t, "GET", fab+"/environments/sandbox/resources/expense-app", "bob", "", 404)
	// The registered state is the world document's.
	doc, err := s.db.ExportWorld(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Environments) != 2 || len(doc.PowerPlatformResources) != 2 {
		t.Errorf("exported environments %v, resources %v", doc.Environments, doc.PowerPlatformResources)
	}
}

// docs/rules.md#power-platform ownership changes through the API: who may, each refusal of the
// limits table with what to do instead, and a solution refused whole.
func TestPowerPlatformOwnershipChanges(t *testing.T) {
	s := newPPServer(t)
	s.expect(t, "PUT", fab+"/environments/sandbox", "bob", `{"type":"Sandbox"}`, 200)
	for id, kind := range map[string]string{"model-app": "ModelDrivenApp", "sales": "PowerBIDataset", "ci": "CustomerInsightsInstance", "helpdesk": "Bot", "deploy-flow": "Flow"} {
		s.expect(t, "PUT", prodEnv+"/resources/"+id, "bob", `{"kind":"`+kind+`","paid":true}`, 200)
	}
	s.expect(t, "PUT", fab+"/environments/sandbox/resources/sandbox-app", "bob", `{"kind":"CanvasApp"}`, 200)
	body := func(id string) string { return `{"principalId":"` + id + `"}` }
	res := func(id string) string { return prodEnv + "/resources/" + id }
	s.tick()

	// Who may: the current owner (Alice's guest) or an administrator (Bob),
	// not another principal of the tenant nor another tenant's.
	s.expect(t, "PUT", res("expense-app")+"/owner", "automation", body(demo.BobID), 403, "only its current owner or the tenant's administrators")
	s.expect(t, "PUT", res("expense-app")+"/owner", "alice", body(demo.BobID), 403)
	s.expect(t, "PUT", res("expense-app")+"/owner", "automation", `not json`, 403)
	s.expect(t, "POST", res("expense-app")+"/co-owners", "alice-guest", body(demo.BobID), 200)
	s.tick()
	m := s.expect(t, "PUT", res("expense-app")+"/owner", "alice-guest", body(demo.BobID), 200)
	if o := owners(m, "Owner"); len(o) != 1 || o[0] != demo.BobID || len(owners(m, "CoOwner")) != 0 {
		t.Errorf("after set owner: %v", m)
	}
	s.tick()
	// Alice's guest is no longer the owner.
	s.expect(t, "POST", res("expense-app")+"/co-owners", "alice-guest", body(demo.AliceInFabrikam), 403)

	// Each refusal of docs/rules.md#power-platform's table, through the API, for an administrator.
	refusals := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"PUT", res("expense-app") + "/owner", body(demo.AutomationInFab), 400, "import the app in a solution"},
		{"PUT", res("expense-app") + "/owner", body(demo.BobID), 409, "already is its owner"},
		{"POST", res("expense-app") + "/co-owners", body(demo.AutomationInFab), 400, "co-owners of a canvas app are users"},
		{"DELETE", res("expense-app") + "/co-owners/" + demo.AliceInFabrikam, "", 409, "is not a co-owner"},
		{"PUT", res("model-app") + "/owner", body(demo.BobID), 400, "cannot be set directly; import the app in a solution"},
		{"POST", res("model-app") + "/co-owners", body(demo.BobID), 400, "no co-owners"},
		{"POST", res("deploy-flow") + "/co-owners", body(demo.BobID), 400, "single creator"},
		{"PUT", res("sales") + "/owner", body(demo.BobID), 400, "publish the dataset"},
		{"PUT", res("ci") + "/owner", body(demo.BobID), 400, "no owner"},
		{"POST", res("ci") + "/publish", "", 400, "only Power BI datasets are published"},
		{"PUT", res("helpdesk") + "/owner", body(demo.BobID), 400, "import the bot in a solution"},
		{"POST", res("expense-app") + "/publish", "", 400, "only Power BI datasets have a publisher"},
		{"PUT", res("expense-app") + "/owner", body("99999999-0000-4000-8000-000000000001"), 400, "not in tenant"},
		{"PUT", res("expense-app") + "/owner", `{}`, 400, "principalId"},
		{"PUT", res("no-such-app") + "/owner", body(demo.BobID), 404, "not registered"},
	}
	for _, r := range refusals {
		s.expect(t, r.method, r.path, "bob", r.body, r.status, r.want)
	}

	// Re-own a flow to a service principal: it becomes the creator too.
	m = s.expect(t, "PUT", res("deploy-flow")+"/owner", "bob", body(demo.AutomationInFab), 200)
	if o, c := owners(m, "Owner"), owners(m, "Creator"); len(o) != 1 || o[0] != demo.AutomationInFab || len(c) != 1 || c[0] != demo.AutomationInFab {
		t.Errorf("re-owned flow: %v", m)
	}
	s.tick()
	// Publish acts as the caller: an administrator publishes and becomes the
	// publisher; a principal that is neither may not.
	s.expect(t, "POST", res("sales")+"/publish", "automation", "", 403)
	if m := s.expect(t, "POST", res("sales")+"/publish", "bob", "", 200); len(owners(m, "Publisher")) != 1 || owners(m, "Publisher")[0] != demo.BobID {
		t.Errorf("published: %v", m)
	}
	s.tick()

	// A solution with a dataset or an instance is refused whole: the other
	// components' histories are unchanged.
	before := s.expect(t, "GET", res("model-app"), "bob", "", 200)
	flowBefore := s.expect(t, "GET", res("deploy-flow"), "bob", "", 200)
	s.expect(t, "POST", prodEnv+"/solutions", "bob", `{"components":["model-app","deploy-flow","sales"]}`, 400, "nothing was changed")
	s.expect(t, "POST", prodEnv+"/solutions", "bob", `{"components":["model-app","ci"]}`, 400, "Customer Insights instance ci")
	s.expect(t, "POST", prodEnv+"/solutions", "bob", `{"components":["model-app","sandbox-app"]}`, 400, "one environment")
	s.expect(t, "POST", prodEnv+"/solutions", "bob", `{"components":[]}`, 400)
	if after := s.expect(t, "GET", res("model-app"), "bob", "", 200); len(owners(after, "Owner")) != len(owners(before, "Owner")) {
		t.Errorf("refused solution changed model-app: %v", after)
	}
	if after := s.expect(t, "GET", res("deploy-flow"), "bob", "", 200); len(after["ownership"].([]any)) != len(flowBefore["ownership"].([]any)) {
		t.Errorf("refused solution changed deploy-flow: %v", after)
	}
	// A non-administrator imports only components it owns.
	s.expect(t, "POST", prodEnv+"/solutions", "automation", `{"components":["deploy-flow","model-app"]}`, 403)
	m = s.expect(t, "POST", prodEnv+"/solutions", "automation", `{"components":["deploy-flow"]}`, 200)
	if m["importer"] != demo.AutomationInFab {
		t.Errorf("solution import: %v", m)
	}
	s.tick()
	// The importer becomes owner (and creator of bots and flows).
	m = s.expect(t, "POST", prodEnv+"/solutions", "bob", `{"components":["model-app","helpdesk"]}`, 200)
	vs := values(m)
	if len(vs) != 2 || owners(vs[0], "Owner")[0] != demo.BobID || owners(vs[1], "Creator")[0] != demo.BobID {
		t.Errorf("solution import: %v", vs)
	}
	s.tick()
	// Co-owner removal closes the period at the change's instant.
	s.expect(t, "POST", res("expense-app")+"/co-owners", "bob", body(demo.AliceInFabrikam), 200)
	s.tick()
	m = s.expect(t, "DELETE", res("expense-app")+"/co-owners/"+demo.AliceInFabrikam, "bob", "", 200)
	if len(owners(m, "CoOwner")) != 0 {
		t.Errorf("after removal: %v", m)
	}
	// The audit names each change's caller.
	evs, _ := m["events"].([]any)
	if len(evs) < 4 {
		t.Fatalf("events = %v", m["events"])
	}
	first, last := evs[0].(map[string]any), evs[len(evs)-1].(map[string]any)
	if first["action"] != "AddCoOwner" || first["actor"] != demo.FabrikamTenant+"/"+demo.AliceInFabrikam || first["principalId"] != demo.BobID ||
		last["action"] != "RemoveCoOwner" || last["actor"] != demo.FabrikamTenant+"/"+demo.BobID {
		t.Errorf("events = %v", evs)
	}
	hist, err := s.db.OwnershipHistory(context.Background(), "EXPENSE-APP")
	if err != nil {
		t.Fatal(err)
	}
	r := powerplatform.Resource{ID: "expense-app", Kind: powerplatform.CanvasApp}
	if err := powerplatform.ValidateHistory(r, hist); err != nil {
		t.Errorf("stored history is not valid: %v", err)
	}
	closedAt := hist[len(hist)-1].Period.To
	if !closedAt.Equal(s.clock) {
		t.Errorf("last co-owner period closed at %v, want %v: %v", closedAt, s.clock, hist)
	}
}

// Credit, explain and credit at risk on the server's state and the
// activity imported into its data directory.
func TestPowerPlatformCreditViews(t *testing.T) {
	s := newPPServer(t)
	ctx := context.Background()
	if err := s.db.PutPowerPlatformResource(ctx, powerplatform.Resource{TenantID: demo.FabrikamTenant, EnvironmentID: "fabrikam-prod-env",
		ID: "model-app", Kind: powerplatform.ModelDrivenApp, Paid: true}); err != nil {
		t.Fatal(err)
	}
	csv := "Date,TenantId,ResourceId,UserId,Activity\n" +
		"2026-03-03," + demo.FabrikamTenant + ",expense-app," + demo.BobID + ",Use\n" +
		"2026-03-04," + demo.FabrikamTenant + ",expense-app," + demo.AliceInFabrikam + ",Use\n" +
		"2026-03-05," + demo.FabrikamTenant + ",model-app," + demo.AutomationInFab + ",Edit\n"
	if _, err := usage.Import(ctx, s.db, s.dir, usage.Activity, "march.csv", strings.NewReader(csv), now, nil); err != nil {
		t.Fatal(err)
	}
	q := "?from=2026-03-01&to=2026-04-01"
	// The partner organization's principals (Contoso's tenant) see the
	// location ID's credit through the global ID; the customer does not.
	m := s.expect(t, "GET", "/api/v1/partners/"+demo.GlobalPartnerID+"/powerplatform/credits"+q, "alice", "", 200)
	vs := values(m)
	if len(vs) != 1 || vs[0]["partnerId"] != demo.GermanyPartnerID || vs[0]["resourceId"] != "expense-app" || vs[0]["value"] != 2.0 ||
		vs[0]["eligible"] != true || vs[0]["month"] != "2026-03" || vs[0]["metric"] != "MAU" {
		t.Errorf("credits = %v", vs)
	}
	s.expect(t, "GET", "/api/v1/partners/"+demo.GlobalPartnerID+"/powerplatform/credits"+q, "bob", "", 403)
	s.expect(t, "GET", "/api/v1/partners/"+demo.SoloPartnerID+"/powerplatform/credits"+q, "alice", "", 403)
	s.expect(t, "GET", "/api/v1/partners/"+demo.GlobalPartnerID+"/powerplatform/credits?from=2026-03", "alice", "", 400, "YYYY-MM-DD")

	m = s.expect(t, "GET", "/api/v1/partners/"+demo.GermanyPartnerID+"/powerplatform/at-risk"+q, "alice", "", 200)
	vs = values(m)
	if len(vs) != 1 || vs[0]["resourceId"] != "model-app" || !strings.Contains(vs[0]["remedy"].(string), "import the model-driven app in a solution as "+demo.AutomationInFab) {
		t.Errorf("at risk = %v", vs)
	}

	m = s.expect(t, "GET", fab+"/powerplatform/resources/EXPENSE-APP/explain?month=2026-03", "bob", "", 200)
	if m["creditedTo"] != demo.GermanyPartnerID || m["value"] != 2.0 || !strings.Contains(m["reason"].(string), "only candidate") {
		t.Errorf("explain = %v", m)
	}
	s.expect(t, "GET", fab+"/powerplatform/resources/expense-app/explain?month=2026-03", "alice-guest", "", 403)
	s.expect(t, "GET", fab+"/powerplatform/resources/expense-app/explain", "bob", "", 400, "month")
	s.expect(t, "GET", "/api/v1/tenants/"+demo.WoodgroveTenant+"/powerplatform/resources/expense-app/explain?month=2026-03", "bob", "", 403)
}

// docs/rules.md#views-and-credits: a partner's credit at risk says that
// another organization is credited instead, not which.
func TestAtRiskNamesOnlyOwnIDs(t *testing.T) {
	ids := []string{demo.GlobalPartnerID, demo.GermanyPartnerID}
	other := api.PartnerAtRiskView(powerplatform.AtRisk{PartnerID: demo.GermanyPartnerID, CreditedTo: demo.SoloPartnerID}, ids)
	if other.CreditedTo != "" || !other.CreditedElsewhere {
		t.Errorf("credited to another organization: %+v", other)
	}
	own := api.PartnerAtRiskView(powerplatform.AtRisk{PartnerID: demo.GermanyPartnerID, CreditedTo: demo.NorwayPartnerID},
		append(ids, demo.NorwayPartnerID))
	if own.CreditedTo != demo.NorwayPartnerID || own.CreditedElsewhere {
		t.Errorf("credited to its own other ID: %+v", own)
	}
}
