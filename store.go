package partnerlink

import (
	"context"
	"errors"
	"time"
)

// DirectoryStore keeps tenants, principals (with hashed secrets), the
// partner registry and group memberships.
type DirectoryStore interface {
	PutTenant(ctx context.Context, t Tenant) error
	Tenant(ctx context.Context, tenantID string) (*Tenant, error) // ENOTFOUND
	Tenants(ctx context.Context) ([]Tenant, error)
	SetTenantWebhook(ctx context.Context, tenantID, url, secret string) error

	// PutPrincipal creates a principal or stores p over it, keeping its
	// earlier periods (Replace); ECONFLICT when that would rewrite them.
	PutPrincipal(ctx context.Context, p Principal) error
	// EnablePrincipal enables a disabled principal again from instant from
	// (Principal.EnableAgain): ENOTFOUND, ECONFLICT, EINVALID.
	EnablePrincipal(ctx context.Context, tenantID, objectID string, from time.Time) (*Principal, error)
	// Principal returns a principal with its earlier periods; ENOTFOUND.
	Principal(ctx context.Context, tenantID, objectID string) (*Principal, error)
	Principals(ctx context.Context, tenantID string) ([]Principal, error) // all tenants when ""
	ServicePrincipalsByAppID(ctx context.Context, appID string) ([]Principal, error)
	UsersBySignInName(ctx context.Context, signInName string) ([]Principal, error)
	GuestsOf(ctx context.Context, homeTenantID, homeObjectID string) ([]Principal, error)
	AddSecret(ctx context.Context, tenantID, objectID, hash string) error
	SecretHashes(ctx context.Context, tenantID, objectID string) ([]string, error)

	PutPartner(ctx context.Context, p Partner) error
	Partner(ctx context.Context, partnerID string) (*Partner, error) // ENOTFOUND
	Partners(ctx context.Context) ([]Partner, error)
	LocationIDs(ctx context.Context, globalID string) ([]string, error)

	AddMembership(ctx context.Context, m GroupMembership) error
	Memberships(ctx context.Context, tenantID string) ([]GroupMembership, error)
}

// LinkChange is what a link write does, decided from the current link.
type LinkChange struct {
	Action    LinkAction
	PartnerID string // the new partner ID (create, replace, reaffirm)
	Notify    bool   // queue a notification to the customer tenant
}

// LinkStore keeps links as periods, their audit events and the outbox of
// notifications, changing all three in one transaction.
type LinkStore interface {
	// CurrentLink returns the link in force (valid_to IS NULL); ENOTFOUND.
	CurrentLink(ctx context.Context, tenantID, objectID string) (*Link, error)
	// CurrentLinkView is CurrentLink with the partner's registered name
	// (empty when the partner ID is not registered), in one read.
	CurrentLinkView(ctx context.Context, tenantID, objectID string) (*LinkView, error)
	// ChangeLink runs decide on the current link (nil when none) inside a
	// transaction and applies its answer at instant at, recording actor.
	ChangeLink(ctx context.Context, tenantID, objectID string, at time.Time, actor Caller,
		decide func(current *Link) (LinkChange, error)) (*Link, *LinkEvent, error)
	// Links lists link periods matching f, oldest first.
	Links(ctx context.Context, f LinkFilter) ([]Link, error)
	// LinkEvents lists audit events matching f, oldest first.
	LinkEvents(ctx context.Context, f LinkFilter) ([]LinkEvent, error)
}

// LinkFilter narrows Links and LinkEvents; empty fields match everything.
type LinkFilter struct {
	TenantID    string
	ObjectID    string
	PartnerIDs  []string
	CurrentOnly bool
	Limit       int
	// From and To, when not zero, keep the events at or after From and
	// before To (LinkEvents only: the monthly close reads its month's).
	From, To time.Time
}

// Notification is a queued message to a customer tenant's webhook.
type Notification struct {
	ID            int64
	TenantID      string
	EventID       int64
	Payload       []byte
	Attempts      int
	NextAttemptAt time.Time // zero while parked: the tenant has no webhook
	DeliveredAt   time.Time
	FailedAt      time.Time
	LastError     string
	CreatedAt     time.Time
}

// OutboxStore hands out due notifications and records delivery attempts.
type OutboxStore interface {
	// DueNotifications lists the notifications due at now, oldest first,
	// but those of the tenants in except.
	DueNotifications(ctx context.Context, now time.Time, limit int, except ...string) ([]Notification, error)
	MarkDelivered(ctx context.Context, id int64, at time.Time) error
	MarkAttemptFailed(ctx context.Context, id int64, at, next time.Time, reason string, giveUp bool) error
	// Park sets aside the tenant's undelivered notifications, without
	// counting an attempt, until the tenant has a webhook again: they are
	// not due meanwhile, and setting the webhook makes them due at once.
	// (Notifications of a tenant without a webhook are queued parked.)
	Park(ctx context.Context, tenantID, reason string) error
	// Postpone makes the tenant's undelivered notifications that are due
	// before until due at until, without counting an attempt: after a
	// failed attempt the later ones wait with it, so a failing webhook is
	// not sent one of them every round, nor gets them out of order.
	Postpone(ctx context.Context, tenantID string, until time.Time) error
	// Notifications lists a tenant's notifications, newest first (every
	// tenant's when tenantID is "").
	Notifications(ctx context.Context, tenantID string, limit int) ([]Notification, error)
	// NotificationsQueued lists every tenant's notifications queued at or
	// after from and before to, newest first (the monthly close reads its
	// month's, not the whole history).
	NotificationsQueued(ctx context.Context, from, to time.Time) ([]Notification, error)
}

// LinkNotification is the JSON body posted to a customer tenant's webhook
// when a partner links (or changes or removes the link of) a credential in it.
type LinkNotification struct {
	Type          string    `json:"type"` // "partnerlink.link.created", ".replaced", ".deleted"
	EventID       int64     `json:"eventId"`
	TenantID      string    `json:"tenantId"`
	ObjectID      string    `json:"objectId"`
	PartnerID     string    `json:"partnerId"`
	PrevPartnerID string    `json:"previousPartnerId,omitempty"`
	Version       int       `json:"version"`
	At            time.Time `json:"at"`
}

// UsageStore records imported usage and activity files by content hash, so
// an import is counted once, and finds them by the months they cover.
type UsageStore interface {
	// UsageImportByHash returns the import of a file with this content; ENOTFOUND.
	UsageImportByHash(ctx context.Context, hash string) (*UsageImport, error)
	// UsageImportByContent returns the import of a kind whose rows are
	// content's (UsageImport.Content); ENOTFOUND.
	UsageImportByContent(ctx context.Context, kind, content string) (*UsageImport, error)
	// RecordUsageImport records im; false when a file with its hash was
	// recorded before (nothing changes then).
	RecordUsageImport(ctx context.Context, im UsageImport) (bool, error)
	// UsageImports lists the imports of a kind ("" for all) covering any of
	// months (all when empty), leaving out files that belong only to export
	// runs superseded by a later run of the same export and period.
	UsageImports(ctx context.Context, kind string, months []string) ([]UsageImport, error)
	// ExportRun returns a recorded export run by key; ENOTFOUND.
	ExportRun(ctx context.Context, key string) (*ExportRun, error)
	// RecordExportRun records run and the usage imports of its files not
	// recorded before, in one transaction; false (and nothing changes)
	// when a run with its key was recorded before.
	RecordExportRun(ctx context.Context, run ExportRun, files []UsageImport) (bool, error)
}

// CreditStore keeps attribution runs and their daily credits.
type CreditStore interface {
	// SaveRun stores a run and its credits in one transaction.
	SaveRun(ctx context.Context, run AttributionRun, credits []CreditRow) (int64, error)
	// LatestRun returns the most recent run; ENOTFOUND when none.
	LatestRun(ctx context.Context) (*AttributionRun, error)
	// Credits lists the credits of f.RunID matching f.
	Credits(ctx context.Context, f CreditFilter) ([]CreditRow, error)
}

// RoleReader answers the questions of the role model: who holds which role
// where, and where a scope sits in its tenant's tree.
type RoleReader interface {
	// RoleAssignments lists role assignment periods matching f, oldest first.
	RoleAssignments(ctx context.Context, f RoleAssignmentFilter) ([]RoleAssignment, error)
	// RoleDefinitions lists the custom roles of one tenant, by name.
	RoleDefinitions(ctx context.Context, tenantID string) ([]RoleDefinition, error)
	Subscription(ctx context.Context, id string) (*Subscription, error) // ENOTFOUND
	ManagementGroups(ctx context.Context, tenantID string) ([]ManagementGroup, error)
}

// RoleStore keeps the role model: subscriptions, management groups,
// resource groups, custom roles, role assignments and Lighthouse
// delegations, each assignment and delegation as periods.
type RoleStore interface {
	RoleReader
	PutSubscription(ctx context.Context, s Subscription) error
	Subscriptions(ctx context.Context, tenantID string) ([]Subscription, error) // all tenants when ""
	// PutManagementGroup creates or re-parents a group; a parent below the
	// group itself is EINVALID.
	PutManagementGroup(ctx context.Context, mg ManagementGroup) error
	PutResourceGroup(ctx context.Context, rg ResourceGroup) (created bool, err error)
	ResourceGroups(ctx context.Context, subscriptionID, name string) ([]ResourceGroup, error)
	// PutRoleDefinition creates a custom role, or replaces one when replace
	// is true (EFORBIDDEN otherwise).
	PutRoleDefinition(ctx context.Context, rd RoleDefinition, replace bool) error
	// CreateRoleAssignment opens an assignment period at ra.Period.From when
	// decide, run in the write's transaction on the assignments in force
	// with the same id or the same principal and scope, says so.
	CreateRoleAssignment(ctx context.Context, ra RoleAssignment, actor string,
		decide func(sameID, sameGrant []RoleAssignment) (create bool, err error)) (bool, error)
	// EndRoleAssignment closes the assignment in force with this id; ENOTFOUND.
	EndRoleAssignment(ctx context.Context, tenantID, id string, at time.Time, actor string) (*RoleAssignment, error)
	PutDelegation(ctx context.Context, dl Delegation) error
	// EndDelegation closes the delegation in force with this id; ENOTFOUND.
	EndDelegation(ctx context.Context, customerTenantID, id string, at time.Time) error
	// Delegations lists a customer tenant's delegations (all when ""), oldest first.
	Delegations(ctx context.Context, customerTenantID string, currentOnly bool) ([]Delegation, error)
}

// PowerPlatformStore keeps the Power Platform state: environments,
// resources and their ownership history, changed in transactions with an
// audit of each change.
type PowerPlatformStore interface {
	PutEnvironment(ctx context.Context, e Environment) error
	Environments(ctx context.Context, tenantID string) ([]Environment, error)
	Environment(ctx context.Context, tenantID, environmentID string) (*Environment, error) // ENOTFOUND
	PutPowerPlatformResource(ctx context.Context, r PowerPlatformResource) error
	PowerPlatformResource(ctx context.Context, id string) (*PowerPlatformResource, error) // ENOTFOUND
	PowerPlatformResources(ctx context.Context, tenantID, environmentID string) ([]PowerPlatformResource, error)
	OwnershipHistory(ctx context.Context, resourceID string) (OwnershipHistory, error)
	// ChangeOwnership reads each resource and its history, asks decide for
	// the new histories (an error refuses the change and changes nothing),
	// writes the difference and records ev for each resource.
	ChangeOwnership(ctx context.Context, resourceIDs []string, ev OwnershipEvent,
		decide func(components []SolutionComponent) ([]OwnershipHistory, error)) ([]SolutionComponent, error)
	OwnershipEvents(ctx context.Context, resourceID string) ([]OwnershipEvent, error)
}

// Onboarding is what the service principal accelerator writes in one
// transaction (docs/clients.md, "Onboarding a service principal"): the
// principal when new (with no secret: it signs in with its application's),
// the role assignment when new, and the link decided over the principal's
// current one, made by the administrator.
//
// The accelerator decides from what it read before the transaction, so the
// store re-checks that view inside it: AppID has no service principal in
// the tenant yet when Principal is new, and the principal's current role
// assignments are still exactly SeenAssignments. Otherwise Onboard returns
// ErrOnboardingRaced, writes nothing, and the accelerator decides again.
type Onboarding struct {
	AppID           string
	Principal       *Principal      // nil: it exists
	Assignment      *RoleAssignment // nil: it is in force
	SeenAssignments []string        // IDs of the principal's current assignments the decision saw
	Actor           string          // the administrator, recorded on the assignment and as the link's actor
	At              time.Time
	Decide          func(cur *Link) (LinkChange, error)
}

// ErrOnboardingRaced says another onboarding (or a role change) of the same
// app in the same tenant committed between the accelerator's reads and its
// transaction.
var ErrOnboardingRaced = errors.New("the service principal or its role assignments changed while onboarding")
