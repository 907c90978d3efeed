package partnerlink

import (
	"slices"
	"time"
)

// OwnershipEvent is one recorded ownership change of one resource.
type OwnershipEvent struct {
	ID          int64
	ResourceID  string
	Action      string // SetOwner, AddCoOwner, RemoveCoOwner, Publish, ImportSolution
	PrincipalID string // the principal the change names
	Actor       string // tenant/object of the caller, or "operator"
	At          time.Time
}

// The Power Platform domain (docs/rules.md#power-platform): environments,
// resources and their ownership histories. The rule itself (limits, latest
// partner, monthly active users) lives in package powerplatform.

// PowerPlatformKind is the kind of a Power Platform or Customer Insights resource.
type PowerPlatformKind string

const (
	CanvasApp                PowerPlatformKind = "CanvasApp"
	ModelDrivenApp           PowerPlatformKind = "ModelDrivenApp"
	Flow                     PowerPlatformKind = "Flow"
	PowerBIDataset           PowerPlatformKind = "PowerBIDataset"
	CustomerInsightsInstance PowerPlatformKind = "CustomerInsightsInstance"
	Bot                      PowerPlatformKind = "Bot"
)

// EnvironmentType is the type of a Power Platform environment.
type EnvironmentType string

const (
	Production EnvironmentType = "Production"
	Sandbox    EnvironmentType = "Sandbox"
	Trial      EnvironmentType = "Trial"
	Developer  EnvironmentType = "Developer"
	Default    EnvironmentType = "Default"
)

// OwnershipRole is an ownership role on a Power Platform resource.
type OwnershipRole string

const (
	RoleOwner     OwnershipRole = "Owner"
	RoleCoOwner   OwnershipRole = "CoOwner"
	RoleCreator   OwnershipRole = "Creator"
	RolePublisher OwnershipRole = "Publisher"
)

// Environment is a Power Platform environment of a tenant.
type Environment struct {
	TenantID string // lower-case GUID
	ID       string
	Type     EnvironmentType
}

// PowerPlatformResource is an app, flow, dataset, bot or Customer Insights instance.
type PowerPlatformResource struct {
	TenantID      string // lower-case GUID
	EnvironmentID string
	ID            string // as first seen; compared case-insensitively
	Kind          PowerPlatformKind
	Paid          bool
}

// PrincipalRef is who an ownership change names: its object id and type
// (User, Guest, ServicePrincipal or Group).
type PrincipalRef struct {
	ID   string
	Type PrincipalType
}

// IsUser reports whether p signs in as a person: members and guests alike.
func (p PrincipalRef) IsUser() bool {
	return p.Type == PrincipalUser || p.Type == PrincipalGuest
}

func (p PrincipalRef) String() string {
	switch p.Type {
	case PrincipalServicePrincipal:
		return "service principal " + p.ID
	case PrincipalGroup:
		return "group " + p.ID
	case PrincipalGuest:
		return "guest user " + p.ID
	}
	return "user " + p.ID
}

// Holding is one period during which a principal held an ownership role on
// a resource.
type Holding struct {
	PrincipalID string // lower-case GUID
	Role        OwnershipRole
	Period      Period
}

// OwnershipHistory is the ownership history of one resource: who was owner,
// co-owner, creator or publisher, and when. A change never edits the past:
// it closes open periods and opens new ones at the change's instant.
type OwnershipHistory []Holding

// HoldersAt returns the principals holding role at instant t, sorted.
func (h OwnershipHistory) HoldersAt(role OwnershipRole, t time.Time) []string {
	var out []string
	for _, x := range h {
		if x.Role == role && x.Period.Contains(t) {
			out = append(out, x.PrincipalID)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Holds reports whether principal id holds role at t.
func (h OwnershipHistory) Holds(id string, role OwnershipRole, t time.Time) bool {
	for _, x := range h {
		if x.PrincipalID == id && x.Role == role && x.Period.Contains(t) {
			return true
		}
	}
	return false
}

// Latest returns the latest instant recorded in the history (a start or an
// end), or the zero time for an empty history.
func (h OwnershipHistory) Latest() time.Time {
	var t time.Time
	for _, x := range h {
		if x.Period.From.After(t) {
			t = x.Period.From
		}
		if x.Period.To.After(t) {
			t = x.Period.To
		}
	}
	return t
}

// SolutionComponent is one resource of a solution, with its current history.
type SolutionComponent struct {
	Resource PowerPlatformResource
	History  OwnershipHistory
}
