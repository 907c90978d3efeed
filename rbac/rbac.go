// Package rbac decides what a caller may do at a scope, as Azure RBAC does:
// the caller's own role assignments and those of every group it belongs to
// (transitively, cycles ignored), at the scope or any scope above it —
// resource, resource group, subscription, the subscription's management
// groups up to the tenant root.
package rbac

import (
	"context"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
)

// Store is what the decisions read: principals and group memberships from
// the directory, and the role model.
type Store interface {
	Principal(ctx context.Context, tenantID, objectID string) (*partnerlink.Principal, error)
	Memberships(ctx context.Context, tenantID string) ([]partnerlink.GroupMembership, error)
	partnerlink.RoleReader
}

// Authorizer answers access questions against the store at Now.
type Authorizer struct {
	Store Store
	Now   func() time.Time
}

// Actions the ARM handlers check.
const (
	WriteRoleAssignments  = "Microsoft.Authorization/roleAssignments/write"
	DeleteRoleAssignments = "Microsoft.Authorization/roleAssignments/delete"
	ReadRoleAssignments   = "Microsoft.Authorization/roleAssignments/read"
	WriteRoleDefinitions  = "Microsoft.Authorization/roleDefinitions/write"
	WriteResourceGroups   = "Microsoft.Resources/subscriptions/resourceGroups/write"
	ReadResourceGroups    = "Microsoft.Resources/subscriptions/resourceGroups/read"
	WriteManagementGroups = "Microsoft.Management/managementGroups/write"
	WriteDelegations      = "Microsoft.ManagedServices/registrationAssignments/write"
)

// ScopeTenant returns the tenant a scope belongs to: the subscription's
// tenant, or for the root and management groups the caller's own.
func (a *Authorizer) ScopeTenant(ctx context.Context, c partnerlink.Caller, s partnerlink.Scope) (string, error) {
	if s.Subscription == "" {
		return c.TenantID, nil
	}
	sub, err := a.Store.Subscription(ctx, s.Subscription)
	if err != nil {
		return "", err
	}
	return sub.TenantID, nil
}

// Ancestors returns the comparison keys of every scope that contains s
// (s itself included), innermost first, ending with the tenant root "/".
func (a *Authorizer) Ancestors(ctx context.Context, tenantID string, s partnerlink.Scope) ([]string, error) {
	var keys []string
	if s.Kind >= partnerlink.ScopeSubscription {
		// Every prefix of the path that is itself a scope: the resource, its
		// parent resources, the resource group, the subscription.
		for k := s.Key; strings.Count(k, "/") >= 2; k = k[:strings.LastIndex(k, "/")] {
			if _, err := partnerlink.ParseScope(k); err == nil {
				keys = append(keys, k)
			}
		}
	}
	mg := s.ManagementGroup
	if s.Kind >= partnerlink.ScopeSubscription {
		sub, err := a.Store.Subscription(ctx, s.Subscription)
		if err != nil {
			return nil, err
		}
		mg = strings.ToLower(sub.ManagementGroup)
	}
	if mg != "" {
		mgs, err := a.Store.ManagementGroups(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		parent := map[string]string{}
		for _, g := range mgs {
			parent[strings.ToLower(g.Name)] = strings.ToLower(g.Parent)
		}
		seen := map[string]bool{}
		for g := mg; g != "" && !seen[g]; g = parent[g] {
			seen[g] = true
			keys = append(keys, "/providers/microsoft.management/managementgroups/"+g)
		}
	}
	return append(keys, "/"), nil
}

// Identities returns the caller's object id and the ids of every group it
// is a member of now, transitively (a cycle is followed once).
func (a *Authorizer) Identities(ctx context.Context, tenantID, objectID string) ([]string, error) {
	ms, err := a.Store.Memberships(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	now := a.now()
	groupsOf := map[string][]string{}
	for _, m := range ms {
		if m.Period.Contains(now) {
			groupsOf[m.MemberID] = append(groupsOf[m.MemberID], m.GroupID)
		}
	}
	seen := map[string]bool{objectID: true}
	out := []string{objectID}
	for i := 0; i < len(out); i++ {
		for _, g := range groupsOf[out[i]] {
			if !seen[g] {
				seen[g] = true
				out = append(out, g)
			}
		}
	}
	return out, nil
}

// Allowed reports whether the caller may perform action at scope s.
func (a *Authorizer) Allowed(ctx context.Context, c partnerlink.Caller, s partnerlink.Scope, action string) (bool, error) {
	tenant, err := a.ScopeTenant(ctx, c, s)
	if err != nil {
		return false, err
	}
	if tenant != c.TenantID {
		return false, nil
	}
	ancestors, err := a.Ancestors(ctx, tenant, s)
	if err != nil {
		return false, err
	}
	ids, err := a.Identities(ctx, c.TenantID, c.ObjectID)
	if err != nil {
		return false, err
	}
	held, err := a.Store.RoleAssignments(ctx, partnerlink.RoleAssignmentFilter{TenantID: tenant, PrincipalIDs: ids,
		ScopeKeys: ancestors, CurrentOnly: true})
	if err != nil {
		return false, err
	}
	if len(held) == 0 {
		return false, nil
	}
	// Only the scope's tenant's custom roles count (docs/rules.md).
	custom, err := a.Store.RoleDefinitions(ctx, tenant)
	if err != nil {
		return false, err
	}
	for _, ra := range held {
		if r, ok := Resolve(custom, ra.RoleDefinition); ok && partnerlink.Permits(r.Actions, r.NotActions, action) {
			return true, nil
		}
	}
	return false, nil
}

// CallerTenant returns the tenant of scope s when it is the caller's, and
// otherwise the ARM error for a token of the wrong tenant (401).
func (a *Authorizer) CallerTenant(ctx context.Context, c partnerlink.Caller, s partnerlink.Scope) (string, error) {
	tenant, err := a.ScopeTenant(ctx, c, s)
	if err != nil {
		return "", err
	}
	if tenant != c.TenantID {
		return "", partnerlink.ARMErrorf(partnerlink.EUNAUTHORIZED, "InvalidAuthenticationTokenTenant",
			"The access token is from the wrong issuer: it was issued for tenant '%s', but the scope '%s' belongs to tenant '%s'. Sign in to that tenant.",
			c.TenantID, s.Raw, tenant)
	}
	return tenant, nil
}

// Check is Allowed as an error: the ARM AuthorizationFailed error when the
// caller may not, naming the action and scope as ARM does.
func (a *Authorizer) Check(ctx context.Context, c partnerlink.Caller, s partnerlink.Scope, action string) error {
	if _, err := a.CallerTenant(ctx, c, s); err != nil {
		return err
	}
	ok, err := a.Allowed(ctx, c, s, action)
	if err != nil {
		return err
	}
	if !ok {
		return partnerlink.ARMErrorf(partnerlink.EFORBIDDEN, "AuthorizationFailed",
			"The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid.",
			c.ObjectID, c.ObjectID, action, s.Raw)
	}
	return nil
}

// Role is a role definition, built-in or custom.
type Role struct {
	ID, Name            string
	Actions, NotActions []string
	DataActions         []string
	Custom              bool
}

// Resolve finds a role by name or GUID among the built-ins and custom
// roles; custom must be the roles of the tenant the reference is made in.
func Resolve(custom []partnerlink.RoleDefinition, ref string) (Role, bool) {
	if b, ok := partnerlink.LookupBuiltinRole(ref); ok {
		return Role{ID: b.ID, Name: b.Name, Actions: b.Actions, NotActions: b.NotActions}, true
	}
	for _, r := range custom {
		if strings.EqualFold(r.ID, ref) || strings.EqualFold(r.Name, ref) {
			return Role{ID: r.ID, Name: r.Name, Actions: r.Actions, NotActions: r.NotActions, DataActions: r.DataActions, Custom: true}, true
		}
	}
	return Role{}, false
}

// Roles lists the built-in roles then the custom ones.
func Roles(custom []partnerlink.RoleDefinition) []Role {
	var out []Role
	for _, b := range partnerlink.BuiltinRoles() {
		out = append(out, Role{ID: b.ID, Name: b.Name, Actions: b.Actions, NotActions: b.NotActions})
	}
	for _, r := range custom {
		out = append(out, Role{ID: r.ID, Name: r.Name, Actions: r.Actions, NotActions: r.NotActions, DataActions: r.DataActions, Custom: true})
	}
	return out
}

func (a *Authorizer) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}
