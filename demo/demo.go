// Package demo builds the demo world that `partnerlink serve --demo` loads:
// a partner organization with a global and two location IDs, its home
// tenant with a consultant and an automation app, two customer tenants
// where the consultant is a guest and the app has service principals, a
// CSP agent, subscriptions with role assignments, and a Power Platform
// environment — enough to try every linking path by hand.
package demo

import (
	"fmt"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink/identity"
	"github.com/partnerlink/partnerlink/world"
)

// Fixed ids, so the README's commands work against any demo server.
const (
	ContosoTenant   = "11111111-1111-4111-8111-111111111111" // the partner's own tenant
	FabrikamTenant  = "22222222-2222-4222-8222-222222222222" // a customer
	WoodgroveTenant = "33333333-3333-4333-8333-333333333333" // another customer

	AliceID          = "a1a1a1a1-0000-4000-8000-000000000001" // consultant at Contoso
	AliceInFabrikam  = "a1a1a1a1-0000-4000-8000-0000000000f1" // her guest account in Fabrikam
	AliceInWoodgrove = "a1a1a1a1-0000-4000-8000-0000000000a1" // her guest account in Woodgrove
	BobID            = "b0b0b0b0-0000-4000-8000-000000000001" // Fabrikam's administrator
	AutomationAppID  = "c1c1c1c1-0000-4000-8000-00000000a991" // Contoso's automation app
	AutomationInCont = "c1c1c1c1-0000-4000-8000-000000000001"
	AutomationInFab  = "c1c1c1c1-0000-4000-8000-0000000000f1"
	AutomationInWood = "c1c1c1c1-0000-4000-8000-0000000000a1"
	CSPAgentAppID    = "d1d1d1d1-0000-4000-8000-00000000a991"
	CSPAgentInFab    = "d1d1d1d1-0000-4000-8000-0000000000f1"
	FabrikamSub      = "f0f0f0f0-0000-4000-8000-000000000001"
	WoodgroveSub     = "f0f0f0f0-0000-4000-8000-000000000002"

	GlobalPartnerID  = "1000001"                              // Contoso Services (global: has locations)
	GermanyPartnerID = "4711001"                              // Contoso Services Germany (location)
	NorwayPartnerID  = "4711002"                              // Contoso Services Norway (location)
	SoloPartnerID    = "2000001"                              // Northwind Integrators (global, no locations)
	RetiredPartnerID = "3000001"                              // deactivated
	NorthwindOps     = "e1e1e1e1-0000-4000-8000-0000000000a1" // Northwind's service principal in Woodgrove, linked since January
	NorthwindAppID   = "e1e1e1e1-0000-4000-8000-00000000a991"
	AliceSignIn      = "alice@contoso.example"
	BobSignIn        = "bob@fabrikam.example"
)

// Credentials are the demo's secrets, generated on first load.
type Credentials struct {
	AlicePassword    string `json:"alicePassword"`
	BobPassword      string `json:"bobPassword"`
	AutomationSecret string `json:"automationSecret"`
	CSPAgentSecret   string `json:"cspAgentSecret"`
}

// NewCredentials generates random secrets.
func NewCredentials() Credentials {
	return Credentials{AlicePassword: identity.NewSecret(), BobPassword: identity.NewSecret(),
		AutomationSecret: identity.NewSecret(), CSPAgentSecret: identity.NewSecret()}
}

// World returns the demo world carrying the credentials (hashed on import).
func World(c Credentials) *world.Document {
	t := func(s string) *time.Time {
		v, _ := time.Parse(time.RFC3339, s)
		return &v
	}
	p := func(s string) *string { return &s }
	since := t("2020-01-01T00:00:00Z")
	return &world.Document{
		Version: world.CurrentVersion,
		Partners: []world.Partner{
			{PartnerID: GlobalPartnerID, Name: "Contoso Services", HomeTenantIDs: []string{ContosoTenant}, From: since},
			{PartnerID: GermanyPartnerID, Name: "Contoso Services Germany", GlobalPartnerID: p(GlobalPartnerID), HomeTenantIDs: []string{}, From: since},
			{PartnerID: NorwayPartnerID, Name: "Contoso Services Norway", GlobalPartnerID: p(GlobalPartnerID), HomeTenantIDs: []string{}, From: since},
			{PartnerID: SoloPartnerID, Name: "Northwind Integrators", HomeTenantIDs: []string{}, From: since},
			{PartnerID: RetiredPartnerID, Name: "Retired Partner", HomeTenantIDs: []string{}, From: since, To: t("2025-01-01T00:00:00Z")},
		},
		Tenants: []world.Tenant{
			{TenantID: ContosoTenant, Name: "Contoso Services"},
			{TenantID: FabrikamTenant, Name: "Fabrikam"},
			{TenantID: WoodgroveTenant, Name: "Woodgrove Bank"},
		},
		ManagementGroups: []world.ManagementGroup{{TenantID: FabrikamTenant, Name: "fabrikam-prod"}},
		Subscriptions: []world.Subscription{
			{SubscriptionID: FabrikamSub, TenantID: FabrikamTenant, Name: "fabrikam-production", ManagementGroup: p("fabrikam-prod")},
			{SubscriptionID: WoodgroveSub, TenantID: WoodgroveTenant, Name: "woodgrove-apps"},
		},
		Principals: []world.Principal{
			{TenantID: ContosoTenant, ObjectID: AliceID, Type: "User", DisplayName: AliceSignIn, Secret: c.AlicePassword},
			{TenantID: ContosoTenant, ObjectID: AutomationInCont, Type: "ServicePrincipal", DisplayName: "contoso-automation",
				AppID: p(AutomationAppID), HomeTenantID: p(ContosoTenant), Secret: c.AutomationSecret},
			{TenantID: FabrikamTenant, ObjectID: BobID, Type: "User", DisplayName: BobSignIn, Secret: c.BobPassword},
			{TenantID: FabrikamTenant, ObjectID: AliceInFabrikam, Type: "Guest", DisplayName: "alice_contoso.example#EXT#",
				HomeTenantID: p(ContosoTenant), HomeObjectID: AliceID},
			{TenantID: FabrikamTenant, ObjectID: AutomationInFab, Type: "ServicePrincipal", DisplayName: "contoso-automation",
				AppID: p(AutomationAppID), HomeTenantID: p(ContosoTenant)},
			{TenantID: FabrikamTenant, ObjectID: CSPAgentInFab, Type: "ServicePrincipal", DisplayName: "csp-admin-agent",
				AppID: p(CSPAgentAppID), CSPDelegated: true, Secret: c.CSPAgentSecret},
			{TenantID: WoodgroveTenant, ObjectID: AliceInWoodgrove, Type: "Guest", DisplayName: "alice_contoso.example#EXT#",
				HomeTenantID: p(ContosoTenant), HomeObjectID: AliceID},
			{TenantID: WoodgroveTenant, ObjectID: AutomationInWood, Type: "ServicePrincipal", DisplayName: "contoso-automation",
				AppID: p(AutomationAppID), HomeTenantID: p(ContosoTenant)},
			{TenantID: WoodgroveTenant, ObjectID: NorthwindOps, Type: "ServicePrincipal", DisplayName: "northwind-ops",
				AppID: p(NorthwindAppID)},
		},
		GroupMemberships: []world.GroupMembership{},
		RoleDefinitions:  []world.RoleDefinition{},
		RoleAssignments: []world.RoleAssignment{
			{TenantID: FabrikamTenant, ID: "e0e0e0e0-0000-4000-8000-000000000001", PrincipalID: BobID, RoleDefinition: "Owner",
				Scope: "/", From: since},
			{TenantID: FabrikamTenant, ID: "e0e0e0e0-0000-4000-8000-000000000002", PrincipalID: AliceInFabrikam, RoleDefinition: "Reader",
				Scope: "/subscriptions/" + FabrikamSub + "/resourceGroups/web", From: t("2026-01-01T00:00:00Z")},
			{TenantID: FabrikamTenant, ID: "e0e0e0e0-0000-4000-8000-000000000003", PrincipalID: AutomationInFab, RoleDefinition: "Contributor",
				Scope: "/subscriptions/" + FabrikamSub, From: t("2026-01-01T00:00:00Z")},
			{TenantID: WoodgroveTenant, ID: "e0e0e0e0-0000-4000-8000-000000000004", PrincipalID: AliceInWoodgrove, RoleDefinition: "Contributor",
				Scope: "/subscriptions/" + WoodgroveSub, From: t("2026-01-01T00:00:00Z")},
			{TenantID: WoodgroveTenant, ID: "e0e0e0e0-0000-4000-8000-000000000005", PrincipalID: NorthwindOps, RoleDefinition: "Contributor",
				Scope: "/subscriptions/" + WoodgroveSub + "/resourceGroups/payments", From: t("2026-01-01T00:00:00Z")},
		},
		Delegations:            []world.Delegation{},
		Links:                  []world.Link{{TenantID: WoodgroveTenant, ObjectID: NorthwindOps, PartnerID: SoloPartnerID, From: t("2026-01-01T00:00:00Z")}},
		Environments:           []world.Environment{{TenantID: FabrikamTenant, EnvironmentID: "fabrikam-prod-env", Type: "Production"}},
		PowerPlatformResources: []world.PowerPlatformResource{{TenantID: FabrikamTenant, EnvironmentID: "fabrikam-prod-env", ID: "expense-app", Kind: "CanvasApp", Paid: true}},
		Ownership:              []world.Ownership{{ResourceID: "expense-app", PrincipalID: AliceInFabrikam, Role: "Owner", From: t("2026-01-01T00:00:00Z")}},
	}
}

// UsageCSV is a month of FOCUS usage for the demo subscriptions: a row per
// resource and day, so attribution has something to credit.
func UsageCSV(month time.Time) []byte {
	var b strings.Builder
	b.WriteString("ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost\n")
	resources := []struct{ sub, id, service, cost string }{
		{FabrikamSub, "/subscriptions/" + FabrikamSub + "/resourceGroups/web/providers/Microsoft.Web/sites/shop", "Azure App Service", "4.20"},
		{FabrikamSub, "/subscriptions/" + FabrikamSub + "/resourceGroups/data/providers/Microsoft.Sql/servers/shopdb", "SQL Database", "11.375"},
		{WoodgroveSub, "/subscriptions/" + WoodgroveSub + "/resourceGroups/payments/providers/Microsoft.Web/sites/checkout", "Azure App Service", "7.10"},
		{WoodgroveSub, "/subscriptions/" + WoodgroveSub + "/resourceGroups/analytics/providers/Microsoft.Synapse/workspaces/insights", "Azure Synapse Analytics", "23.9"},
	}
	start := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, time.UTC)
	for d := start; d.Before(start.AddDate(0, 1, 0)); d = d.AddDate(0, 0, 1) {
		for _, r := range resources {
			fmt.Fprintf(&b, "%s,%s,Usage,%s,/subscriptions/%s,%s,EUR,%s,%s\n", d.Format(time.RFC3339), d.AddDate(0, 0, 1).Format(time.RFC3339),
				r.id, r.sub, r.service, r.cost, r.cost)
		}
	}
	return []byte(b.String())
}
