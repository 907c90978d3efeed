package snapshot

// Format names the kind of export a snapshot was read from.
type Format string

const (
	// FormatAzRoleAssignments is `az role assignment list` output.
	FormatAzRoleAssignments Format = "az role assignment list"
	// FormatAzRoleDefinitions is `az role definition list` output.
	FormatAzRoleDefinitions Format = "az role definition list"
	// FormatResourceGraph is Azure Resource Graph rows (authorizationresources,
	// resourcecontainers), in any of the shapes Read accepts.
	FormatResourceGraph Format = "Azure Resource Graph"
	// FormatEmpty is an export with no rows at all: its shape says nothing
	// about what it would have listed.
	FormatEmpty Format = "empty"
)

// Snapshot is what one export says about Azure at the moment it was taken.
// Every GUID is lower-case; scopes keep the input's casing.
type Snapshot struct {
	// Name is the file name given to Read, for messages.
	Name   string
	Format Format
	// Tenants are the tenants the snapshot covers, sorted.
	Tenants []string
	// CoveredSubscriptions, when not empty, limits what the snapshot covers
	// to these subscriptions (and the scopes above them): an az role
	// assignment list is listed in one subscription. Empty means the
	// snapshot covers its tenants whole.
	CoveredSubscriptions []string

	RoleAssignments  []RoleAssignment
	RoleDefinitions  []RoleDefinition
	Subscriptions    []Subscription
	ManagementGroups []ManagementGroup
	ResourceGroups   []ResourceGroup
	// Skipped lists rows recognized as part of the export but deliberately
	// not imported, with why.
	Skipped []Skipped
}

// RoleAssignment is one role assignment as the snapshot lists it.
type RoleAssignment struct {
	TenantID string
	// ID is the assignment's GUID (its resource name).
	ID          string
	PrincipalID string
	// PrincipalType is Azure's: User, Group, ServicePrincipal or
	// ForeignGroup; empty when the export does not say.
	PrincipalType string
	// PrincipalName is az's principalName (UPN, service principal name or
	// group display name); empty when unknown.
	PrincipalName string
	// RoleDefinitionID is the role definition's GUID.
	RoleDefinitionID string
	// RoleDefinitionName is the role's name as the export gives it (az
	// only); empty when unknown.
	RoleDefinitionName string
	// RoleDefinition is how the world document names the role: a built-in
	// role's name, or the GUID.
	RoleDefinition string
	// Scope is the assignment's scope as given, without a trailing "/".
	Scope string
	// Item is the row's index in the export, for messages.
	Item int
}

// RoleDefinition is a role definition the snapshot defines.
type RoleDefinition struct {
	// TenantID is the tenant the row names (Resource Graph's tenantId),
	// else the default tenant, else "": Apply then gives the role to every
	// tenant it applies the snapshot to.
	TenantID string
	ID       string
	Name     string
	// BuiltIn is true for Azure's built-in roles (roleType/type BuiltInRole).
	BuiltIn     bool
	Actions     []string
	NotActions  []string
	DataActions []string
	Item        int
}

// Subscription is a subscription of a tenant.
type Subscription struct {
	TenantID       string
	SubscriptionID string
	Name           string
	// ManagementGroup is the management group the subscription sits directly
	// under, or nil for none; meaningful only when ManagementGroupKnown
	// (the export listed the ancestors chain).
	ManagementGroup      *string
	ManagementGroupKnown bool
	Item                 int
}

// ManagementGroup is a management group of a tenant.
type ManagementGroup struct {
	TenantID    string
	Name        string
	DisplayName string
	// Parent is the parent group's name, or nil at the top; meaningful only
	// when ParentKnown.
	Parent      *string
	ParentKnown bool
	Item        int
}

// ResourceGroup is a resource group of a subscription. The world document
// has no resource groups; they are read so that Apply can count them and so
// that callers can check scopes against them.
type ResourceGroup struct {
	TenantID       string
	SubscriptionID string
	Name           string
	Item           int
}

// Skipped is a row Read recognized but did not import.
type Skipped struct {
	Item   int
	Line   int
	Type   string
	Reason string
}
