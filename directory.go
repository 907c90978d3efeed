package partnerlink

import "time"

// Tenant is a directory (an Entra ID tenant): customers and partners alike.
type Tenant struct {
	ID   string // GUID, lower-case
	Name string
	// WebhookURL receives a POST for each new link in this tenant (docs/rules.md#linking).
	WebhookURL string
}

// MinWebhookSecretLength is the fewest characters a webhook's signing
// secret may have: the receiver trusts a delivery because it is signed with
// the secret, so a guessable one lets anyone forge deliveries, and a
// webhook with a shorter one gets none (docs/operations.md, "Webhooks").
const MinWebhookSecretLength = 16

// PrincipalType is the kind of directory object.
type PrincipalType string

const (
	PrincipalUser             PrincipalType = "User"
	PrincipalGuest            PrincipalType = "Guest"
	PrincipalServicePrincipal PrincipalType = "ServicePrincipal"
	PrincipalGroup            PrincipalType = "Group"
)

// Valid reports whether t is one of the four principal types.
func (t PrincipalType) Valid() bool {
	switch t {
	case PrincipalUser, PrincipalGuest, PrincipalServicePrincipal, PrincipalGroup:
		return true
	}
	return false
}

// Principal is a user, guest, service principal or group of one tenant.
// It exists and is enabled over one or more periods that do not overlap:
// Period is the latest, Earlier the ones before it. Deleting or disabling
// it closes Period; enabling it again starts a new Period and keeps the
// old one in Earlier (docs/rules.md, "Principals: enabled periods").
type Principal struct {
	TenantID    string
	ObjectID    string
	Type        PrincipalType
	DisplayName string
	// SignInName is the name a user signs in with (a UPN). For users it
	// defaults to DisplayName.
	SignInName string
	// HomeTenantID is the guest's home tenant, or a service principal's app
	// home tenant; empty otherwise.
	HomeTenantID string
	// HomeObjectID is, for a guest, the object id of the user in its home
	// tenant that signs in as this guest.
	HomeObjectID string
	AppID        string // service principals only
	CSPDelegated bool
	Period       Period
	// Earlier are the principal's earlier enabled periods, oldest first,
	// each ending at or before the next one starts (and before Period).
	Earlier []Period
}

// ActiveAt reports whether the principal exists and is enabled at t: in
// Period or in one of the Earlier periods.
func (p Principal) ActiveAt(t time.Time) bool {
	if p.Period.Contains(t) {
		return true
	}
	for _, e := range p.Earlier {
		if e.Contains(t) {
			return true
		}
	}
	return false
}

// Periods returns every enabled period of the principal, oldest first.
func (p Principal) Periods() []Period {
	out := make([]Period, 0, len(p.Earlier)+1)
	return append(append(out, p.Earlier...), p.Period)
}

// Partner is an entry of the partner registry: a global partner ID, or a
// location ID that belongs to a global one.
type Partner struct {
	ID            string
	Name          string
	GlobalID      string   // empty for a global ID
	HomeTenantIDs []string // the partner organization's own tenants
	Period        Period
}

// ActiveAt reports whether the partner ID is registered and active at t.
func (p Partner) ActiveAt(t time.Time) bool { return p.Period.Contains(t) }

// GroupMembership puts a member (any principal, groups included) in a group
// of the same tenant over a period.
type GroupMembership struct {
	TenantID string
	GroupID  string
	MemberID string
	Period   Period
}
