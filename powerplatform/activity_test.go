package powerplatform_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink"
	pp "github.com/partnerlink/partnerlink/powerplatform"
	"github.com/partnerlink/partnerlink/world"
)

func TestActivityReaderErrors(t *testing.T) {
	// docs/api.md#activity-csv: errors name the file, the line, the field and what is accepted.
	const h = "Date,TenantId,ResourceId,UserId,Activity\n"
	const ok = "2026-03-01," + tenant + ",app," + user1 + ",Use\n"
	const other = "7e6d5c4b-3a29-4817-8f6e-5d4c3b2a1908"
	const ph = "Month,TenantId,ResourceId,UnifiedProfiles\n"
	cases := []struct {
		name, file, want string
	}{
		{"date", h + ok + "2026/03/01," + tenant + ",app," + user1 + ",Use\n", "act.csv line 3: field Date: \"2026/03/01\" is not valid; expected a day YYYY-MM-DD"},
		{"no such day", h + "2026-02-30," + tenant + ",app," + user1 + ",Use\n", "act.csv line 2: field Date"},
		{"activity", h + ok + ok + "2026-03-01," + tenant + ",app," + user1 + ",Run\n", "act.csv line 4: field Activity: \"Run\" is not valid; accepted: Use, Create, Edit, Publish, OwnerChange, SolutionImport"},
		{"user", h + "2026-03-01," + tenant + ",app,ana@example.com,Use\n", "act.csv line 2: field UserId: \"ana@example.com\" is not valid; expected the user's object id, a GUID"},
		{"user hex digit", h + "2026-03-01," + tenant + ",app,0000000g-0000-4000-8000-000000000001,Use\n", "act.csv line 2: field UserId"},
		{"tenant", h + "2026-03-01,fabrikam,app," + user1 + ",Use\n", "act.csv line 2: field TenantId"},
		{"resource", h + "2026-03-01," + tenant + ",," + user1 + ",Use\n", "act.csv line 2: field ResourceId"},
		{"field count", h + ok + "2026-03-01," + tenant + ",app\n", "act.csv line 3: has 3 fields, expected 5 (Date,TenantId,ResourceId,UserId,Activity)"},
		{"tenant changes", h + ok + "2026-03-02," + other + ",APP," + user1 + ",Use\n", "act.csv line 3: field TenantId: resource app is in tenant " + tenant + " at act.csv line 2, not in tenant " + other},
		{"header", "Day,Tenant,Resource,User,What\n" + ok, "act.csv line 1: the header \"Day,Tenant,Resource,User,What\" is neither an activity file"},
		{"empty", "", "act.csv: the file is empty"},
		{"month", ph + "March," + tenant + ",ci,5\n", "act.csv line 2: field Month: \"March\" is not valid; expected a month YYYY-MM"},
		{"profiles", ph + "2026-03," + tenant + ",ci,-5\n", "act.csv line 2: field UnifiedProfiles: \"-5\" is not valid; expected a whole number, 0 or more"},
		{"profiles twice", ph + "2026-03," + tenant + ",ci,5\n2026-04," + tenant + ",ci,6\n2026-03," + tenant + ",CI,7\n", "act.csv line 4: instance ci already has unified profiles for 2026-03 at act.csv line 2; give one row per instance and month"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := pp.NewActivity().ReadCSV("act.csv", strings.NewReader(tc.file))
			if err == nil {
				t.Fatal("read without error")
			}
			if partnerlink.ErrorCode(err) != partnerlink.EINVALID {
				t.Fatalf("code %s (%v), want invalid", partnerlink.ErrorCode(err), err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestActivityReaderForms(t *testing.T) {
	// Headers match without regard to case or order, with a BOM and extra
	// columns; gzip is recognised by its magic number.
	csv := "\ufeffactivity,USERID,Extra,ResourceId,TenantId,Date\r\n" +
		"Use," + user2 + ",x,app," + strings.ToUpper(tenant) + ",2026-03-05\r\n" +
		"Use," + user3 + ",y,app," + tenant + ",2026-03-06\r\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(csv))
	zw.Close()
	for name, r := range map[string]*bytes.Reader{"plain": bytes.NewReader([]byte(csv)), "gzip": bytes.NewReader(gz.Bytes())} {
		a := pp.NewActivity()
		if err := a.ReadCSV(name, r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if a.Rows() != 2 || a.MAU("app", march) != 2 {
			t.Fatalf("%s: rows %d, MAU %d; want 2, 2", name, a.Rows(), a.MAU("app", march))
		}
	}
	// Events from an API land in the same place as rows.
	a := pp.NewActivity()
	if err := a.Add(pp.Event{Date: day("2026-03-07"), TenantID: tenant, ResourceID: "app", UserID: user1, Activity: pp.ActivityUse}); err != nil {
		t.Fatal(err)
	}
	if err := a.Add(pp.Event{Date: day("2026-03-07"), TenantID: tenant, ResourceID: "app", UserID: user1, Activity: "Run"}); partnerlink.ErrorCode(err) != partnerlink.EINVALID {
		t.Fatalf("bad event: %v", err)
	}
	if a.MAU("APP", march) != 1 {
		t.Fatalf("MAU %d, want 1", a.MAU("APP", march))
	}
}

func TestActivityAgainstWorld(t *testing.T) {
	in := withResource(pp.CanvasApp, "app", nil, nil)
	m := mustModel(t, in)
	other := "7e6d5c4b-3a29-4817-8f6e-5d4c3b2a1908"
	a := pp.NewActivity()
	if err := a.ReadCSV("act.csv", strings.NewReader("Date,TenantId,ResourceId,UserId,Activity\n2026-03-01,"+other+",App,"+user1+",Use\n")); err != nil {
		t.Fatal(err)
	}
	_, err := m.Credits(a, day("2026-03-01"), day("2026-04-01"))
	if want := "act.csv line 2: resource App is in tenant " + other + " there, but the world puts it in tenant " + tenant; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
	a = pp.NewActivity()
	if err := a.ReadCSV("prof.csv", strings.NewReader("Month,TenantId,ResourceId,UnifiedProfiles\n2026-03,"+tenant+",app,5\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Check(a); err == nil || !strings.Contains(err.Error(), "prof.csv line 2: unified profiles are reported for canvas app app") {
		t.Fatalf("profiles for a canvas app: %v", err)
	}
}

func TestAttributeBasic(t *testing.T) {
	// The in-process run behind `partnerlink attribute --powerplatform` on
	// the world of testdata/basic (see its README for the story).
	dir := filepath.Join("testdata", "basic")
	f, err := os.Open(filepath.Join(dir, "world.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := world.Read(f, "world.json")
	if err != nil {
		t.Fatal(err)
	}
	var sources []pp.Source
	for _, name := range []string{"profiles.csv.gz", "activity.csv"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, pp.Source{Name: name, R: bytes.NewReader(data)})
	}
	var out bytes.Buffer
	sum, err := pp.Attribute(&out, doc, sources, day("2026-03-01"), day("2026-05-01"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(dir, "expected.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != string(want) {
		t.Fatalf("output:\n%s\nwant:\n%s", got, want)
	}
	if sum.ActivityRows != 17 || sum.ProfileRows != 3 || len(sum.UnknownResources) != 1 || sum.UnknownResources[0].ID != "ghost-app" || sum.UnknownResources[0].Rows != 1 {
		t.Fatalf("summary %+v", sum)
	}
}

func TestWorldErrors(t *testing.T) {
	// What the rule relies on in the world is checked, with the entry named.
	base := func() *world.Document {
		return &world.Document{
			Version:                1,
			Principals:             []world.Principal{{TenantID: tenant, ObjectID: user1, Type: "User"}},
			Environments:           []world.Environment{{TenantID: tenant, EnvironmentID: "env", Type: "Production"}},
			PowerPlatformResources: []world.PowerPlatformResource{{TenantID: tenant, EnvironmentID: "env", ID: "app", Kind: "CanvasApp", Paid: true}},
			Ownership:              []world.Ownership{{ResourceID: "app", PrincipalID: user1, Role: "Owner"}},
		}
	}
	cases := []struct {
		name   string
		mutate func(*world.Document)
		want   string
	}{
		{"kind", func(d *world.Document) { d.PowerPlatformResources[0].Kind = "PowerApp" }, `world: powerPlatformResources[0]: resource kind "PowerApp" is not known; accepted: CanvasApp, ModelDrivenApp, Flow, PowerBIDataset, CustomerInsightsInstance, Bot`},
		{"environment type", func(d *world.Document) { d.Environments[0].Type = "Prod" }, `world: environments[0]: environment type "Prod" is not known; accepted: Production`},
		{"role", func(d *world.Document) { d.Ownership[0].Role = "Maker" }, `world: ownership[0]: ownership role "Maker" is not known`},
		{"principal type", func(d *world.Document) { d.Principals[0].Type = "Robot" }, `world: principals[0]: type "Robot" is not one of User, Guest, ServicePrincipal, Group`},
		{"unknown environment", func(d *world.Document) { d.PowerPlatformResources[0].EnvironmentID = "env-x" }, "canvas app app is in environment env-x, which tenant " + tenant + " does not have"},
		{"unknown resource", func(d *world.Document) { d.Ownership[0].ResourceID = "gone" }, "ownership names resource gone, which is not among the Power Platform resources"},
		{"role of another kind", func(d *world.Document) { d.Ownership[0].Role = "Publisher" }, "role Publisher is not one a canvas app has; accepted: Owner, CoOwner"},
		{"duplicate resource", func(d *world.Document) {
			d.PowerPlatformResources = append(d.PowerPlatformResources, d.PowerPlatformResources[0])
			d.PowerPlatformResources[1].ID = "APP"
		}, "resource APP is listed twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := base()
			tc.mutate(d)
			in, err := pp.FromWorld(d)
			if err == nil {
				_, err = pp.NewModel(in)
			}
			if partnerlink.ErrorCode(err) != partnerlink.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant invalid, containing %q", err, tc.want)
			}
		})
	}
	in, err := pp.FromWorld(base())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pp.NewModel(in); err != nil {
		t.Fatalf("the valid base world: %v", err)
	}
}
