// Package ownership is the application service for Power Platform
// ownership changes: set the owner, add or remove a co-owner, publish a
// dataset, import a solution. It applies the rules of the powerplatform
// package to the stored history in one transaction each. The HTTP API (a
// caller acting on its tenant) and the CLI (the operator on the data
// directory) both call it, so the flow exists once (docs/rules.md, "Power
// Platform").
package ownership

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/powerplatform"
)

// Directory is what the service reads of the directory.
type Directory interface {
	Principal(ctx context.Context, tenantID, objectID string) (*partnerlink.Principal, error)
}

// Service applies ownership changes to the stored history.
type Service struct {
	Store     partnerlink.PowerPlatformStore
	Directory Directory
}

// Actor is who makes a change. The operator and a tenant's administrators
// may change any resource of the tenant; anyone else only a resource it
// controls (its owner, or a dataset's publisher).
type Actor struct {
	// Name is recorded in the audit: "operator", or "tenant/object".
	Name string
	// ID is the acting principal's object id; empty for the operator.
	ID    string
	Admin bool
}

// Operator is the actor of the CLI on the data directory.
var Operator = Actor{Name: "operator", Admin: true}

// Op is one kind of change of one resource's history.
type Op struct {
	Action string // recorded in the audit
	Apply  func(r powerplatform.Resource, h powerplatform.History, p powerplatform.PrincipalRef, at time.Time) (powerplatform.History, error)
}

// The changes of one resource, within the product's limits.
var (
	SetOwner      = Op{"SetOwner", powerplatform.SetOwner}
	AddCoOwner    = Op{"AddCoOwner", powerplatform.AddCoOwner}
	RemoveCoOwner = Op{"RemoveCoOwner", powerplatform.RemoveCoOwner}
	Publish       = Op{"Publish", powerplatform.Publish}
)

// Principal is the principal id of tenant that a change names (field names
// the input in messages): it must be in the directory and enabled at at. A
// co-owner being removed (gone true) may have left the directory already.
func (s *Service) Principal(ctx context.Context, tenant, field, id string, at time.Time, gone bool) (powerplatform.PrincipalRef, error) {
	oid, err := partnerlink.ParseGUID(field, id)
	if err != nil {
		return powerplatform.PrincipalRef{}, err
	}
	p, err := s.Directory.Principal(ctx, tenant, oid)
	switch {
	case gone && err == nil:
		return powerplatform.PrincipalRef{ID: oid, Type: p.Type}, nil
	case gone && partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND:
		return powerplatform.PrincipalRef{ID: oid}, nil
	case partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND:
		return powerplatform.PrincipalRef{}, partnerlink.Errorf(partnerlink.EINVALID,
			"principal %s is not in tenant %s's directory; only principals of the resource's tenant can own its resources", oid, tenant)
	case err != nil:
		return powerplatform.PrincipalRef{}, err
	case !p.ActiveAt(at):
		return powerplatform.PrincipalRef{}, partnerlink.Errorf(partnerlink.EINVALID,
			"principal %s of tenant %s is deleted or disabled at %s; it cannot own resources", oid, tenant, at.UTC().Format(time.RFC3339))
	}
	return powerplatform.PrincipalRef{ID: p.ObjectID, Type: p.Type}, nil
}

// Change applies op to resource id at instant at, about principal p, by a.
// A refused change changes nothing and says what to do instead.
func (s *Service) Change(ctx context.Context, a Actor, resourceID string, op Op, p powerplatform.PrincipalRef, at time.Time) (powerplatform.Component, error) {
	ev := partnerlink.OwnershipEvent{Action: op.Action, PrincipalID: p.ID, Actor: a.Name, At: at}
	comps, err := s.Store.ChangeOwnership(ctx, []string{resourceID}, ev, func(cs []powerplatform.Component) ([]powerplatform.History, error) {
		if err := a.mayChange(cs[0], at); err != nil {
			return nil, err
		}
		next, err := op.Apply(cs[0].Resource, cs[0].History, p, at)
		if err != nil {
			return nil, err
		}
		return []powerplatform.History{next}, nil
	})
	if err != nil {
		return powerplatform.Component{}, err
	}
	return comps[0], nil
}

// MayChange refuses an actor who may not change the resource's ownership at
// at; the HTTP API asks before it reads a request's body, and Change asks
// again inside its transaction.
func (s *Service) MayChange(ctx context.Context, a Actor, resourceID string, at time.Time) error {
	if a.Admin {
		return nil
	}
	r, err := s.Store.PowerPlatformResource(ctx, resourceID)
	if err != nil {
		return err
	}
	h, err := s.Store.OwnershipHistory(ctx, r.ID)
	if err != nil {
		return err
	}
	return a.mayChange(powerplatform.Component{Resource: *r, History: h}, at)
}

// ImportSolution records that importer imported a managed solution of the
// given components into environment env of tenant at instant at: it becomes
// the owner (and creator) of each. Every component must be a registered
// resource of that environment; a solution with a Power BI dataset or a
// Customer Insights instance is refused whole, changing nothing.
func (s *Service) ImportSolution(ctx context.Context, a Actor, tenant, env string, components []string,
	importer powerplatform.PrincipalRef, at time.Time) ([]powerplatform.Component, error) {
	if len(components) == 0 {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "a solution import needs its components (resource ids)")
	}
	e, err := s.Store.Environment(ctx, tenant, env)
	if err != nil {
		return nil, err
	}
	for _, id := range components {
		r, err := s.Store.PowerPlatformResource(ctx, id)
		if partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND || err == nil && r.TenantID != e.TenantID {
			// Another tenant's resource is as unknown as one never registered.
			return nil, partnerlink.Errorf(partnerlink.EINVALID, "the solution lists %s, which is not a registered resource of tenant %s; nothing was changed", id, e.TenantID)
		} else if err != nil {
			return nil, err
		}
		if !strings.EqualFold(r.EnvironmentID, e.ID) {
			return nil, partnerlink.Errorf(partnerlink.EINVALID,
				"the solution lists %s %s of environment %s, not of %s; a solution is imported into one environment, nothing was changed",
				r.Kind, r.ID, r.EnvironmentID, e.ID)
		}
	}
	ev := partnerlink.OwnershipEvent{Action: "ImportSolution", PrincipalID: importer.ID, Actor: a.Name, At: at}
	return s.Store.ChangeOwnership(ctx, components, ev, func(cs []powerplatform.Component) ([]powerplatform.History, error) {
		for _, c := range cs {
			if err := a.mayChange(c, at); err != nil {
				return nil, err
			}
		}
		return powerplatform.ImportSolution(cs, importer, at)
	})
}

// mayChange: administrators change anything; anyone else only what it
// controls at at, as the owner (a dataset: as its publisher).
func (a Actor) mayChange(c powerplatform.Component, at time.Time) error {
	if a.Admin {
		return nil
	}
	role := powerplatform.RoleOwner
	if c.Resource.Kind == powerplatform.PowerBIDataset {
		role = powerplatform.RolePublisher
	}
	if slices.Contains(c.History.HoldersAt(role, at), a.ID) {
		return nil
	}
	return partnerlink.ARMErrorf(partnerlink.EFORBIDDEN, "AuthorizationFailed",
		"The client with object id '%s' may not change the ownership of %s %s: only its current owner or the tenant's administrators (a role that can write at the tenant root) may.",
		a.ID, c.Resource.Kind, c.Resource.ID)
}
