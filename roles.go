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
