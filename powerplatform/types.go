package powerplatform

import (
	"fmt"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
)

// Kind is the kind of a Power Platform or Customer Insights resource.
type Kind string

const (
	CanvasApp                Kind = "CanvasApp"
	ModelDrivenApp           Kind = "ModelDrivenApp"
	Flow                     Kind = "Flow"
	PowerBIDataset           Kind = "PowerBIDataset"
	CustomerInsightsInstance Kind = "CustomerInsightsInstance"
	Bot                      Kind = "Bot"
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
func (k Kind) noun() string {
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

// EnvironmentType is the type of a Power Platform environment.
type EnvironmentType string

const (
	Production EnvironmentType = "Production"
	Sandbox    EnvironmentType = "Sandbox"
	Trial      EnvironmentType = "Trial"
	Developer  EnvironmentType = "Developer"
	Default    EnvironmentType = "Default"
)

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

// Role is an ownership role on a resource.
type Role string

const (
	RoleOwner     Role = "Owner"
	RoleCoOwner   Role = "CoOwner"
	RoleCreator   Role = "Creator"
	RolePublisher Role = "Publisher"
)

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

// Environment is an environment of a tenant.
type Environment struct {
	TenantID string // lower-case GUID
	ID       string
	Type     EnvironmentType
}

// Resource is an app, flow, dataset, bot or Customer Insights instance.
type Resource struct {
	TenantID      string // lower-case GUID
	EnvironmentID string
	ID            string // as first seen; compared case-insensitively
	Kind          Kind
	Paid          bool
}

// PrincipalRef is who an ownership change names: its object id and type
// (User, Guest, ServicePrincipal or Group).
type PrincipalRef struct {
	ID   string
	Type partnerlink.PrincipalType
}

// isUser reports whether p signs in as a person: members and guests alike.
func (p PrincipalRef) isUser() bool {
	return p.Type == partnerlink.PrincipalUser || p.Type == partnerlink.PrincipalGuest
}

func (p PrincipalRef) String() string {
	switch p.Type {
	case partnerlink.PrincipalServicePrincipal:
		return "service principal " + p.ID
	case partnerlink.PrincipalGroup:
		return "group " + p.ID
	case partnerlink.PrincipalGuest:
		return "guest user " + p.ID
	}
	return "user " + p.ID
}

// Month is a calendar month, counted as year*12 + (month-1), so that months
// compare and subtract as integers and fit compact keys.
type Month int32

// MonthOf returns the month that contains t (in UTC).
func MonthOf(t time.Time) Month {
	t = t.UTC()
	return Month(t.Year()*12 + int(t.Month()) - 1)
}

// ParseMonth reads YYYY-MM.
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || len(s) != 7 {
		return 0, fmt.Errorf("%q is not a month; expected YYYY-MM such as 2026-03", s)
	}
	return MonthOf(t), nil
}

// Start is the first instant of the month.
func (m Month) Start() time.Time {
	return time.Date(int(m)/12, time.Month(int(m)%12+1), 1, 0, 0, 0, 0, time.UTC)
}

// End is the first instant of the next month (the month is [Start, End)).
func (m Month) End() time.Time { return (m + 1).Start() }

// Period is [Start, End).
func (m Month) Period() partnerlink.Period { return partnerlink.Period{From: m.Start(), To: m.End()} }

func (m Month) String() string { return fmt.Sprintf("%04d-%02d", int(m)/12, int(m)%12+1) }

// MonthsIn returns the months whose first day lies in [from, to) (docs/api.md#attribution-csv).
func MonthsIn(from, to time.Time) []Month {
	var out []Month
	m := MonthOf(from)
	if m.Start().Before(from) {
		m++
	}
	for ; m.Start().Before(to); m++ {
		out = append(out, m)
	}
	return out
}

// key is the case-insensitive form of a resource or environment id.
func key(id string) string { return strings.ToLower(id) }
