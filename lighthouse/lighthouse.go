// Package lighthouse is the application service of Azure Lighthouse
// delegations: a customer tenant delegates one of its subscriptions or
// resource groups to a principal (or group) of a managing tenant with a
// role, and linking that principal once, in the managing tenant, credits
// the partner (docs/rules.md#azure-attribution). The HTTP API (which also
// authorizes the caller) and the CLI both call it.
package lighthouse

import (
	"context"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/rbac"
)

// Store is what the service reads and writes.
type Store interface {
	partnerlink.DirectoryStore
	partnerlink.RoleStore
}

// Service registers and ends delegations.
type Service struct {
	Store Store
}

// Check validates a delegation as given (ids, scope, role, the managing
// tenant's principal) and returns it with its ids lower-cased and its
// scope in the form it was given; the period is left as it is.
func (s *Service) Check(ctx context.Context, d partnerlink.Delegation) (partnerlink.Delegation, error) {
	dl := d
	var err error
	if dl.CustomerTenantID, err = partnerlink.ParseGUID("tenant", d.CustomerTenantID); err != nil {
		return dl, err
	}
	if dl.ID, err = partnerlink.ParseGUID("delegation id", d.ID); err != nil {
		return dl, err
	}
	if dl.ManagingTenantID, err = partnerlink.ParseGUID("managingTenantId", d.ManagingTenantID); err != nil {
		return dl, err
	}
	if dl.PrincipalID, err = partnerlink.ParseGUID("principalId", d.PrincipalID); err != nil {
		return dl, err
	}
	scope, err := partnerlink.ParseScope(d.Scope)
	if err != nil {
		return dl, err
	}
	if scope.Kind != partnerlink.ScopeSubscription && scope.Kind != partnerlink.ScopeResourceGroup {
		return dl, partnerlink.Errorf(partnerlink.EINVALID, "scope %q: Lighthouse delegates a subscription or a resource group", d.Scope)
	}
	sub, err := s.Store.Subscription(ctx, scope.Subscription)
	if err != nil {
		return dl, err
	}
	if sub.TenantID != dl.CustomerTenantID {
		return dl, partnerlink.Errorf(partnerlink.EINVALID, "scope %q is not in tenant %s", d.Scope, dl.CustomerTenantID)
	}
	custom, err := s.Store.RoleDefinitions(ctx, dl.CustomerTenantID) // a delegation holds a role of the customer tenant
	if err != nil {
		return dl, err
	}
	if _, ok := rbac.Resolve(custom, d.RoleDefinition); !ok {
		return dl, partnerlink.Errorf(partnerlink.EINVALID, "roleDefinition %q is neither a built-in role nor a custom role (name or GUID)", d.RoleDefinition)
	}
	// A delegation names someone; this confirms an object id the caller
	// already has, never lists one (docs/api.md#errors).
	if _, err := s.Store.Principal(ctx, dl.ManagingTenantID, dl.PrincipalID); err != nil {
		return dl, partnerlink.Errorf(partnerlink.EINVALID, "principalId %s is not a principal of the managing tenant %s", dl.PrincipalID, dl.ManagingTenantID)
	}
	dl.Scope = scope.Raw
	return dl, nil
}

// Current returns the delegation in force with this id; ENOTFOUND.
func (s *Service) Current(ctx context.Context, tenantID, id string) (*partnerlink.Delegation, error) {
	dls, err := s.Store.Delegations(ctx, tenantID, true)
	if err != nil {
		return nil, err
	}
	for _, d := range dls {
		if strings.EqualFold(d.ID, id) {
			return &d, nil
		}
	}
	return nil, partnerlink.ARMErrorf(partnerlink.ENOTFOUND, "NotFound", "Tenant %s has no delegation %s in force.", tenantID, id)
}

// Register checks d and puts it in force from instant at, ending the one
// in force with the same id (if any) at that instant.
func (s *Service) Register(ctx context.Context, d partnerlink.Delegation, at time.Time) (partnerlink.Delegation, error) {
	dl, err := s.Check(ctx, d)
	if err != nil {
		return dl, err
	}
	dl.Period = partnerlink.Period{From: at.UTC()}
	if err := s.Store.EndDelegation(ctx, dl.CustomerTenantID, dl.ID, at); err != nil && partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		return dl, err
	}
	return dl, s.Store.PutDelegation(ctx, dl)
}

// End ends the delegation in force with this id at instant at; ENOTFOUND.
func (s *Service) End(ctx context.Context, tenantID, id string, at time.Time) error {
	return s.Store.EndDelegation(ctx, tenantID, id, at)
}
