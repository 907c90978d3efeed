package world

import (
	"github.com/partnerlink/partnerlink"
)

// The document is the file format; the services work on the root domain
// types. These convert at that boundary: a nil time is an open end of the
// period, and a nil parent or management group is the tenant root.

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Domain is the management group as the services see it.
func (m ManagementGroup) Domain() partnerlink.ManagementGroup {
	return partnerlink.ManagementGroup{TenantID: m.TenantID, Name: m.Name, Parent: str(m.Parent)}
}

// ManagementGroupFrom is a management group as the document writes it.
func ManagementGroupFrom(m partnerlink.ManagementGroup) ManagementGroup {
	return ManagementGroup{TenantID: m.TenantID, Name: m.Name, Parent: strPtr(m.Parent)}
}

// Domain is the subscription as the services see it.
func (s Subscription) Domain() partnerlink.Subscription {
	return partnerlink.Subscription{SubscriptionID: s.SubscriptionID, TenantID: s.TenantID, Name: s.Name,
		ManagementGroup: str(s.ManagementGroup)}
}

// SubscriptionFrom is a subscription as the document writes it.
func SubscriptionFrom(s partnerlink.Subscription) Subscription {
	return Subscription{SubscriptionID: s.SubscriptionID, TenantID: s.TenantID, Name: s.Name,
		ManagementGroup: strPtr(s.ManagementGroup)}
}

// Domain is the custom role as the services see it.
func (r RoleDefinition) Domain() partnerlink.RoleDefinition {
	return partnerlink.RoleDefinition{TenantID: r.TenantID, ID: r.ID, Name: r.Name, Actions: r.Actions,
		NotActions: r.NotActions, DataActions: r.DataActions}
}

// RoleDefinitionFrom is a custom role as the document writes it.
func RoleDefinitionFrom(r partnerlink.RoleDefinition) RoleDefinition {
	return RoleDefinition{TenantID: r.TenantID, ID: r.ID, Name: r.Name, Actions: r.Actions,
		NotActions: r.NotActions, DataActions: r.DataActions}
}

// Domain is the role assignment as the services see it.
func (a RoleAssignment) Domain() partnerlink.RoleAssignment {
	return partnerlink.RoleAssignment{TenantID: a.TenantID, ID: a.ID, PrincipalID: a.PrincipalID,
		RoleDefinition: a.RoleDefinition, Scope: a.Scope, Period: partnerlink.PeriodOf(a.From, a.To)}
}

// RoleAssignmentFrom is a role assignment as the document writes it.
func RoleAssignmentFrom(a partnerlink.RoleAssignment) RoleAssignment {
	from, to := partnerlink.TimesOf(a.Period)
	return RoleAssignment{TenantID: a.TenantID, ID: a.ID, PrincipalID: a.PrincipalID,
		RoleDefinition: a.RoleDefinition, Scope: a.Scope, From: from, To: to}
}

// Domain is the delegation as the services see it.
func (d Delegation) Domain() partnerlink.Delegation {
	return partnerlink.Delegation{ID: d.ID, CustomerTenantID: d.CustomerTenantID, ManagingTenantID: d.ManagingTenantID,
		Scope: d.Scope, PrincipalID: d.PrincipalID, RoleDefinition: d.RoleDefinition, Period: partnerlink.PeriodOf(d.From, d.To)}
}

// DelegationFrom is a delegation as the document writes it.
func DelegationFrom(d partnerlink.Delegation) Delegation {
	from, to := partnerlink.TimesOf(d.Period)
	return Delegation{ID: d.ID, CustomerTenantID: d.CustomerTenantID, ManagingTenantID: d.ManagingTenantID,
		Scope: d.Scope, PrincipalID: d.PrincipalID, RoleDefinition: d.RoleDefinition, From: from, To: to}
}
