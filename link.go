package partnerlink

import (
	"context"
	"time"
)

// Link is one period of a Partner Admin Link: the principal ObjectID of
// TenantID linked to PartnerID over Period. At any instant a principal has at
// most one link per tenant (docs/rules.md#azure-attribution).
type Link struct {
	TenantID  string
	ObjectID  string
	PartnerID string
	Period    Period
	// Version counts every change of this principal's link in this tenant,
	// re-affirmations included; it is the ARM etag and properties.version.
	Version int
	// CreatedTime is when the current unbroken chain of link periods began
	// (kept across update); UpdatedTime is the last change.
	CreatedTime time.Time
	UpdatedTime time.Time
}

// LinkAction names what a link change did.
type LinkAction string

const (
	LinkCreated    LinkAction = "created"    // no link before
	LinkReplaced   LinkAction = "replaced"   // another partner ID before
	LinkReaffirmed LinkAction = "reaffirmed" // the same partner ID again
	LinkDeleted    LinkAction = "deleted"
)

// LinkEvent is the audit record of one link change, kept forever (docs/rules.md#linking).
type LinkEvent struct {
	ID            int64
	TenantID      string
	ObjectID      string
	Action        LinkAction
	PartnerID     string // the partner ID after the change (before, for a delete)
	PrevPartnerID string
	Version       int
	At            time.Time
	ActorTenantID string
	ActorObjectID string
}

// Caller is the authenticated credential behind a request: the token's
// tenant and object id.
type Caller struct {
	TenantID string
	ObjectID string
	AppID    string
	// Principal is the caller's directory record as the authenticator last
	// read it to check that the caller is active (at most its liveness
	// interval old, 5 s by default), or nil. Services that check what kind
	// of principal the caller is use it instead of reading it again. It is
	// shared: never modify it. Never decoded from or encoded to JSON.
	Principal *Principal `json:"-"`
}

// LinkService is the linking API behind Microsoft.ManagementPartner. Every
// method acts on the caller's own link: there is no way to name another
// principal (docs/rules.md#linking).
type LinkService interface {
	// Link creates the caller's link, replaces it with another partner ID, or
	// re-affirms it. Returns EINVALID for a malformed, unknown, inactive or
	// global-with-locations partner ID, EFORBIDDEN for CSP delegated callers.
	Link(ctx context.Context, c Caller, partnerID string) (*LinkView, error)
	// Get returns the caller's current link; ENOTFOUND when none. When
	// partnerID is non-empty it must match the linked ID.
	Get(ctx context.Context, c Caller, partnerID string) (*LinkView, error)
	// Unlink deletes the caller's link to partnerID; ENOTFOUND when the
	// caller has no link to that partner ID.
	Unlink(ctx context.Context, c Caller, partnerID string) error
}

// LinkView is a link as the API shows it, with the partner's name.
type LinkView struct {
	Link
	PartnerName string
}
