package powerplatform

import (
	"strings"

	"github.com/partnerlink/partnerlink"
)

// The domain types live in the root package (they are what the stores and
// services share); these names keep the rule's code short.
type (
	Kind            = partnerlink.PowerPlatformKind
	EnvironmentType = partnerlink.EnvironmentType
	Role            = partnerlink.OwnershipRole
	Environment     = partnerlink.Environment
	Resource        = partnerlink.PowerPlatformResource
	PrincipalRef    = partnerlink.PrincipalRef
	Holding         = partnerlink.Holding
	History         = partnerlink.OwnershipHistory
	Component       = partnerlink.SolutionComponent
	Month           = partnerlink.Month
)

const (
	CanvasApp                = partnerlink.CanvasApp
	ModelDrivenApp           = partnerlink.ModelDrivenApp
	Flow                     = partnerlink.Flow
	PowerBIDataset           = partnerlink.PowerBIDataset
	CustomerInsightsInstance = partnerlink.CustomerInsightsInstance
	Bot                      = partnerlink.Bot

	Production = partnerlink.Production
	Sandbox    = partnerlink.Sandbox
	Trial      = partnerlink.Trial
	Developer  = partnerlink.Developer
	Default    = partnerlink.Default

	RoleOwner     = partnerlink.RoleOwner
	RoleCoOwner   = partnerlink.RoleCoOwner
	RoleCreator   = partnerlink.RoleCreator
	RolePublisher = partnerlink.RolePublisher
)

// Kinds lists every kind, in the order of the tables of docs/rules.md#power-platform.
var Kinds = []Kind{CanvasApp, ModelDrivenApp, Flow, PowerBIDataset, CustomerInsightsInstance, Bot}

// ParseKind accepts a kind's exact name.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", partnerlink.Errorf(partnerlink.EINVALID, "resource kind %q is not known; accepted: CanvasApp, ModelDrivenApp, Flow, PowerBIDataset, CustomerInsightsInstance, Bot", s)
}

// noun is how messages name a kind.
func noun(k Kind) string {
	switch k {
	case CanvasApp:
		return "canvas app"
	case ModelDrivenApp:
		return "model-driven app"
	case Flow:
		return "flow"
	case PowerBIDataset:
		return "Power BI dataset"
	case CustomerInsightsInstance:
		return "Customer Insights instance"
	case Bot:
		return "bot"
	}
	return string(k)
}

// Metric is what a resource is credited with per month.
type Metric string

const (
	MetricMAU             Metric = "MAU"
	MetricUnifiedProfiles Metric = "UnifiedProfiles"
)

// MetricOf returns the metric of kind k (docs/rules.md#power-platform, first table).
func MetricOf(k Kind) Metric {
	if k == CustomerInsightsInstance {
		return MetricUnifiedProfiles
	}
	return MetricMAU
}

// AttributedRoles returns the ownership roles whose holders are the
// attributed users of kind k (docs/rules.md#power-platform, first table). Customer Insights has
// none: its attributed users are the users active in the month.
func AttributedRoles(k Kind) []Role {
	switch k {
	case CanvasApp:
		return []Role{RoleOwner, RoleCoOwner}
	case ModelDrivenApp:
		return []Role{RoleOwner}
	case Flow, Bot:
		return []Role{RoleCreator}
	case PowerBIDataset:
		return []Role{RolePublisher}
	}
	return nil
}

// allowedRoles are the roles an ownership history of kind k may hold.
func allowedRoles(k Kind) []Role {
	switch k {
	case CanvasApp:
		return []Role{RoleOwner, RoleCoOwner}
	case ModelDrivenApp:
		return []Role{RoleOwner}
	case Flow, Bot:
		return []Role{RoleOwner, RoleCreator}
	case PowerBIDataset:
		return []Role{RolePublisher}
	}
	return nil
}

// EnvironmentTypes lists every environment type.
var EnvironmentTypes = []EnvironmentType{Production, Sandbox, Trial, Developer, Default}

// ParseEnvironmentType accepts a type's exact name.
func ParseEnvironmentType(s string) (EnvironmentType, error) {
	for _, t := range EnvironmentTypes {
		if string(t) == s {
			return t, nil
		}
	}
	return "", partnerlink.Errorf(partnerlink.EINVALID, "environment type %q is not known; accepted: Production, Sandbox, Trial, Developer, Default", s)
}

// Roles lists every ownership role.
var Roles = []Role{RoleOwner, RoleCoOwner, RoleCreator, RolePublisher}

// ParseRole accepts a role's exact name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", partnerlink.Errorf(partnerlink.EINVALID, "ownership role %q is not known; accepted: Owner, CoOwner, Creator, Publisher", s)
}

// key is the case-insensitive form of a resource or environment id.
func key(id string) string { return strings.ToLower(id) }
