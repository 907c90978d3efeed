package partnerlink

// ResourceGroup is a resource group of a subscription.
type ResourceGroup struct {
	SubscriptionID string
	Name           string
	Location       string
}

// RoleAssignmentFilter narrows RoleAssignments; empty fields match all.
type RoleAssignmentFilter struct {
	TenantID     string
	ID           string
	PrincipalIDs []string
	// ScopeKeys limits to assignments whose lower-cased scope is one of these.
	ScopeKeys []string
	// ScopePrefix limits to assignments at this scope key or below it.
	ScopePrefix string
	CurrentOnly bool
}

// ManagementGroup is a management group of a tenant. Parent is the name of
// the group it sits under, "" for the tenant root.
type ManagementGroup struct {
	TenantID string
	Name     string
	Parent   string
}

// Subscription sits in one tenant, under at most one management group
// (ManagementGroup "" is the tenant root).
type Subscription struct {
	SubscriptionID  string
	TenantID        string
	Name            string
	ManagementGroup string
}

// RoleDefinition is a custom role of one tenant; the built-in roles exist in
// every tenant without being stored (docs/rules.md, "Role definitions and
// management groups").
type RoleDefinition struct {
	TenantID   string
	ID         string
	Name       string
	Actions    []string
	NotActions []string
	// DataActions are kept for completeness; they never make a role a writer.
	DataActions []string
}

// RoleAssignment gives a principal (or a group) a role, by name or id, at
// a scope over a period.
type RoleAssignment struct {
	TenantID       string
	ID             string
	PrincipalID    string
	RoleDefinition string
	Scope          string
	Period         Period
}

// Delegation is an Azure Lighthouse authorization: a customer scope
// delegated to a principal (or group) of the managing tenant with a role,
// over a period.
type Delegation struct {
	ID               string
	CustomerTenantID string
	ManagingTenantID string
	Scope            string
	PrincipalID      string
	RoleDefinition   string
	Period           Period
}
