// Package world reads, validates and writes the world document (docs/api.md#world-document):
// the complete temporal state used for import, export, backup and offline
// attribution. Field order and JSON names follow the spec exactly so that
// export → import → export is byte-identical.
package world

import "time"

// CurrentVersion is the only document version this program reads and writes.
const CurrentVersion = 1

// Document is the world document.
type Document struct {
	Version                int                     `json:"version"`
	Partners               []Partner               `json:"partners"`
	Tenants                []Tenant                `json:"tenants"`
	ManagementGroups       []ManagementGroup       `json:"managementGroups"`
	Subscriptions          []Subscription          `json:"subscriptions"`
	Principals             []Principal             `json:"principals"`
	GroupMemberships       []GroupMembership       `json:"groupMemberships"`
	RoleDefinitions        []RoleDefinition        `json:"roleDefinitions"`
	RoleAssignments        []RoleAssignment        `json:"roleAssignments"`
	Delegations            []Delegation            `json:"delegations"`
	Links                  []Link                  `json:"links"`
	Environments           []Environment           `json:"environments"`
	PowerPlatformResources []PowerPlatformResource `json:"powerPlatformResources"`
	Ownership              []Ownership             `json:"ownership"`

	// read is the shape of the document as Read returned it, valid; nil
	// for a document built otherwise (see Validated).
	read *shape
}

// Validated reports whether doc is known to be valid without validating it
// again: Read returned it, and since then neither its version nor any of
// its arrays has been replaced, appended to or resliced. A document built
// in code, or changed in those ways, is not known to be valid; neither is
// an element changed in place noticed, so a document changed that way must
// be checked with Validate again.
func Validated(doc *Document) bool {
	return doc.read != nil && *doc.read == shapeOf(doc)
}

// shape identifies a document's version and arrays.
type shape struct {
	version int
	arrays  [13]array
}

// array identifies a slice by the start of its backing array and its length.
type array struct {
	first any // *T, the backing array's first element; nil if it has none
	n     int
}

func arrayOf[T any](s []T) array {
	var first *T
	if cap(s) > 0 {
		first = &s[:1][0]
	}
	return array{first, len(s)}
}

func shapeOf(d *Document) shape {
	return shape{d.Version, [13]array{
		arrayOf(d.Partners), arrayOf(d.Tenants), arrayOf(d.ManagementGroups),
		arrayOf(d.Subscriptions), arrayOf(d.Principals), arrayOf(d.GroupMemberships),
		arrayOf(d.RoleDefinitions), arrayOf(d.RoleAssignments), arrayOf(d.Delegations),
		arrayOf(d.Links), arrayOf(d.Environments), arrayOf(d.PowerPlatformResources),
		arrayOf(d.Ownership),
	}}
}

// Partner is a registered partner ID (global, or a location of a global one).
type Partner struct {
	PartnerID       string     `json:"partnerId"`
	Name            string     `json:"name"`
	GlobalPartnerID *string    `json:"globalPartnerId"`
	HomeTenantIDs   []string   `json:"homeTenantIds"`
	From            *time.Time `json:"from"`
	To              *time.Time `json:"to"`
}

// Tenant is a directory.
type Tenant struct {
	TenantID string `json:"tenantId"`
	Name     string `json:"name"`
	// WebhookURL is an extension: where new-link notifications go.
	WebhookURL string `json:"webhookUrl,omitempty"`
}

// ManagementGroup is a node of a tenant's management group tree.
type ManagementGroup struct {
	TenantID string  `json:"tenantId"`
	Name     string  `json:"name"`
	Parent   *string `json:"parent"`
}

// Subscription sits in one tenant, under at most one management group.
type Subscription struct {
	SubscriptionID  string  `json:"subscriptionId"`
	TenantID        string  `json:"tenantId"`
	Name            string  `json:"name"`
	ManagementGroup *string `json:"managementGroup"`
}

// Principal is a user, guest, service principal or group.
type Principal struct {
	TenantID     string     `json:"tenantId"`
	ObjectID     string     `json:"objectId"`
	Type         string     `json:"type"`
	DisplayName  string     `json:"displayName"`
	HomeTenantID *string    `json:"homeTenantId"`
	AppID        *string    `json:"appId"`
	CSPDelegated bool       `json:"cspDelegated"`
	From         *time.Time `json:"from"`
	To           *time.Time `json:"to"`
	// Extensions (omitted when empty, so spec documents round-trip):
	// SignInName is the user's sign-in name when it differs from displayName;
	// HomeObjectID is the home-tenant user a guest signs in as.
	SignInName   string `json:"signInName,omitempty"`
	HomeObjectID string `json:"homeObjectId,omitempty"`
	// Secret is accepted on import only (a demo or test directory); it is
	// hashed on import and never exported.
	Secret string `json:"secret,omitempty"`
}

// GroupMembership is a member of a group over a period.
type GroupMembership struct {
	TenantID string     `json:"tenantId"`
	GroupID  string     `json:"groupId"`
	MemberID string     `json:"memberId"`
	From     *time.Time `json:"from"`
	To       *time.Time `json:"to"`
}

// RoleDefinition is a custom role of one tenant (built-in roles exist in
// every tenant without being listed; one listed anyway has no tenant).
type RoleDefinition struct {
	// TenantID is the tenant that owns the custom role: only that tenant's
	// role assignments and delegations (of its scopes) can use it. Omitted
	// for a built-in role (docs/rules.md, "Role definitions and management
	// groups").
	TenantID   string   `json:"tenantId,omitempty"`
	Name       string   `json:"name"`
	ID         string   `json:"id"`
	Actions    []string `json:"actions"`
	NotActions []string `json:"notActions"`
	// DataActions are listed for completeness; they never make a role a writer.
	DataActions []string `json:"dataActions,omitempty"`
}

// RoleAssignment gives a principal a role at a scope over a period.
type RoleAssignment struct {
	TenantID       string     `json:"tenantId"`
	ID             string     `json:"id"`
	PrincipalID    string     `json:"principalId"`
	RoleDefinition string     `json:"roleDefinition"`
	Scope          string     `json:"scope"`
	From           *time.Time `json:"from"`
	To             *time.Time `json:"to"`
}

// Delegation is an Azure Lighthouse authorization: a customer scope
// delegated to a principal (or group) of the managing tenant with a role.
type Delegation struct {
	ID               string     `json:"id"`
	CustomerTenantID string     `json:"customerTenantId"`
	ManagingTenantID string     `json:"managingTenantId"`
	Scope            string     `json:"scope"`
	PrincipalID      string     `json:"principalId"`
	RoleDefinition   string     `json:"roleDefinition"`
	From             *time.Time `json:"from"`
	To               *time.Time `json:"to"`
}

// Link is one period of a principal's partner link in a tenant.
type Link struct {
	TenantID  string     `json:"tenantId"`
	ObjectID  string     `json:"objectId"`
	PartnerID string     `json:"partnerId"`
	From      *time.Time `json:"from"`
	To        *time.Time `json:"to"`
}

// Environment is a Power Platform environment of a tenant.
type Environment struct {
	TenantID      string `json:"tenantId"`
	EnvironmentID string `json:"environmentId"`
	Type          string `json:"type"`
}

// PowerPlatformResource is an app, flow, dataset, bot or Customer Insights
// instance in an environment.
type PowerPlatformResource struct {
	TenantID      string `json:"tenantId"`
	EnvironmentID string `json:"environmentId"`
	ID            string `json:"id"`
	Kind          string `json:"kind"`
	Paid          bool   `json:"paid"`
}

// Ownership says a principal held an ownership role on a Power Platform
// resource over a period.
type Ownership struct {
	ResourceID  string     `json:"resourceId"`
	PrincipalID string     `json:"principalId"`
	Role        string     `json:"role"`
	From        *time.Time `json:"from"`
	To          *time.Time `json:"to"`
}
