package powerplatform_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink"
	pp "github.com/partnerlink/partnerlink/powerplatform"
	"github.com/partnerlink/partnerlink/world"
)

// docs/rules.md "Principals: enabled periods", for Power Platform: the
// candidates of a month are limited by every enabled period of a principal
// disabled and enabled again, not only its latest.
func TestQualifyingPeriodsOfAPrincipalEnabledAgain(t *testing.T) {
	// Canvas app owned by user1 from March 10 to March 20, linked to p1
	// from March 15.
	owners := []pp.OwnershipRecord{own("app", user1, pp.RoleOwner, "2026-03-10", "2026-03-20")}
	use := []string{"2026-03-15,app," + user4 + ",Use"}
	cases := []struct {
		name    string
		periods []partnerlink.Period // oldest first
		want    bool
	}{
		{"enabled again inside the overlap", []partnerlink.Period{period("", "2026-03-12"), period("2026-03-16", "")}, true},
		{"its earlier period covers the overlap, enabled again in April", []partnerlink.Period{period("", "2026-03-17"), period("2026-04-05", "")}, true},
		{"disabled before the overlap, enabled again after it", []partnerlink.Period{period("", "2026-03-12"), period("2026-03-21", "")}, false},
		{"three periods, the middle one in the overlap", []partnerlink.Period{period("", "2026-03-01"), period("2026-03-18", "2026-03-19"), period("2026-04-01", "")}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// As the store gives it: one record, earlier periods in Earlier.
			in := withResource(pp.CanvasApp, "app", owners, []partnerlink.Link{link(user1, p1, "2026-03-15", "")})
			n := len(tc.periods)
			in.Principals[0].Period, in.Principals[0].Earlier = tc.periods[n-1], tc.periods[:n-1]
			got := creditsOf(t, in, activityOf(t, use, nil))
			if credited := len(got) == 1 && strings.HasPrefix(got[0], p1+" "); credited != tc.want || len(got) > 1 {
				t.Errorf("one record: credits %v, want credited=%t", got, tc.want)
			}
			// As a world document lists it: one entry per period.
			in = withResource(pp.CanvasApp, "app", owners, []partnerlink.Link{link(user1, p1, "2026-03-15", "")})
			in.Principals[0].Period = tc.periods[0]
			for _, per := range tc.periods[1:] {
				again := in.Principals[0]
				again.Period = per
				in.Principals = append(in.Principals, again)
			}
			got = creditsOf(t, in, activityOf(t, use, nil))
			if credited := len(got) == 1 && strings.HasPrefix(got[0], p1+" "); credited != tc.want || len(got) > 1 {
				t.Errorf("one record per period: credits %v, want credited=%t", got, tc.want)
			}
		})
	}
}

// A world document listing a flow's creator once per enabled period
// (disabled March 10, enabled again May 10): March is credited through the
// period before the disable, April not at all, May through the new period.
func TestAttributePrincipalEnabledAgain(t *testing.T) {
	doc := `{"version":1,
"partners":[{"partnerId":"` + p1 + `","name":"P","globalPartnerId":null,"homeTenantIds":[],"from":null,"to":null}],
"tenants":[{"tenantId":"` + tenant + `","name":"T"}],"managementGroups":[],"subscriptions":[],
"principals":[{"tenantId":"` + tenant + `","objectId":"` + user1 + `","type":"User","displayName":"u","homeTenantId":null,"appId":null,"cspDelegated":false,"from":"2026-05-10T00:00:00Z","to":null},
 {"tenantId":"` + tenant + `","objectId":"` + user1 + `","type":"User","displayName":"u","homeTenantId":null,"appId":null,"cspDelegated":false,"from":null,"to":"2026-03-10T00:00:00Z"}],
"groupMemberships":[],"roleDefinitions":[],"roleAssignments":[],"delegations":[],
"links":[{"tenantId":"` + tenant + `","objectId":"` + user1 + `","partnerId":"` + p1 + `","from":"2026-01-01T00:00:00Z","to":null}],
"environments":[{"tenantId":"` + tenant + `","environmentId":"env","type":"Production"}],
"powerPlatformResources":[{"tenantId":"` + tenant + `","environmentId":"env","id":"flow","kind":"Flow","paid":true}],
"ownership":[{"resourceId":"flow","principalId":"` + user1 + `","role":"Creator","from":"2026-01-01T00:00:00Z","to":null}]}`
	w, err := world.Read(strings.NewReader(doc), "world.json")
	if err != nil {
		t.Fatal(err)
	}
	act := "Date,TenantId,ResourceId,UserId,Activity\n" +
		"2026-03-05," + tenant + ",flow," + user2 + ",Use\n" +
		"2026-04-05," + tenant + ",flow," + user2 + ",Use\n" +
		"2026-05-15," + tenant + ",flow," + user3 + ",Use\n"
	var out bytes.Buffer
	if _, err := pp.Attribute(&out, w, []pp.Source{{Name: "activity.csv", R: strings.NewReader(act)}}, day("2026-03-01"), day("2026-06-01")); err != nil {
		t.Fatal(err)
	}
	want := "PartnerId,TenantId,EnvironmentId,ResourceId,ResourceKind,Month,Metric,Value,Eligible\n" +
		p1 + "," + tenant + ",env,flow,Flow,2026-03,MAU,1,true\n" +
		p1 + "," + tenant + ",env,flow,Flow,2026-05,MAU,1,true\n"
	if out.String() != want {
		t.Errorf("output:\n%swant:\n%s", out.String(), want)
	}
}
