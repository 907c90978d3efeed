package partnerlink

import "time"

// OwnershipEvent is one recorded ownership change of one resource.
type OwnershipEvent struct {
	ID          int64
	ResourceID  string
	Action      string // SetOwner, AddCoOwner, RemoveCoOwner, Publish, ImportSolution
	PrincipalID string // the principal the change names
	Actor       string // tenant/object of the caller, or "operator"
	At          time.Time
}
