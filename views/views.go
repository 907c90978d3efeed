// Package views is the application service behind the customer's and the
// partner's views (docs/rules.md#views-and-credits): every linked credential
// with its partner, state, role assignments and Lighthouse delegations. The
// HTTP API and the CLI both call it.
package views

import (
	"context"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/rbac"
)

// Store is what the views read.
type Store interface {
	partnerlink.DirectoryStore
	partnerlink.LinkStore
	partnerlink.RoleStore
}

// Service builds the views.
type Service struct {
	Store Store
	Now   func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) authorizer() *rbac.Authorizer { return &rbac.Authorizer{Store: s.Store, Now: s.Now} }

// assignmentsOf lists the role assignments in force of a principal (and
// the groups it is in) in its tenant.
func (s *Service) assignmentsOf(ctx context.Context, tenantID, objectID string) ([]partnerlink.RoleAssignment, error) {
	ids, err := s.authorizer().Identities(ctx, tenantID, objectID)
	if err != nil {
		return nil, err
	}
	return s.Store.RoleAssignments(ctx, partnerlink.RoleAssignmentFilter{TenantID: tenantID, PrincipalIDs: ids, CurrentOnly: true})
}

// LinkedCredential is one linked credential with what it can reach: the
// customer's and the partner's views share it (docs/rules.md#views-and-credits).
type LinkedCredential struct {
	TenantID      string `json:"tenantId"`
	TenantName    string `json:"tenantName"`
	ObjectID      string `json:"objectId"`
	PrincipalType string `json:"principalType"`
	DisplayName   string `json:"displayName"`
	// PrincipalState is "enabled", "disabled" (its enabled period ended:
	// disabled or deleted, and its link credits nothing from then on) or
	// "unknown" (no such principal in the directory any more).
	PrincipalState  string       `json:"principalState"`
	DisabledSince   *time.Time   `json:"disabledSince,omitempty"`
	PartnerID       string       `json:"partnerId"`
	PartnerName     string       `json:"partnerName"`
	Since           time.Time    `json:"since"`
	Until           *time.Time   `json:"until,omitempty"`
	Version         int          `json:"version"`
	RoleAssignments []ScopedRole `json:"roleAssignments"`
	Delegations     []ScopedRole `json:"delegations,omitempty"`
}

// ScopedRole is a role held at a scope.
type ScopedRole struct {
	Role     string `json:"role"`
	Scope    string `json:"scope"`
	TenantID string `json:"tenantId,omitempty"`
	Via      string `json:"via,omitempty"` // a group's object id when held through it
}

func (s *Service) describe(ctx context.Context, l partnerlink.Link, names map[string]string) (LinkedCredential, error) {
	lc := LinkedCredential{TenantID: l.TenantID, ObjectID: l.ObjectID, PartnerID: l.PartnerID, Since: l.Period.From,
		Version: l.Version, RoleAssignments: []ScopedRole{}}
	if !l.Period.To.IsZero() {
		to := l.Period.To
		lc.Until = &to
	}
	if t, err := s.Store.Tenant(ctx, l.TenantID); err == nil {
		lc.TenantName = t.Name
	}
	lc.PrincipalState = "unknown"
	if p, err := s.Store.Principal(ctx, l.TenantID, l.ObjectID); err == nil {
		lc.PrincipalType, lc.DisplayName = string(p.Type), p.DisplayName
		lc.PrincipalState = "enabled"
		if now := s.now(); !p.ActiveAt(now) {
			lc.PrincipalState = "disabled"
			if !p.Period.To.IsZero() && !p.Period.To.After(now) {
				to := p.Period.To
				lc.DisabledSince = &to
			}
		}
	}
	if n, ok := names[l.PartnerID]; ok {
		lc.PartnerName = n
	} else if p, err := s.Store.Partner(ctx, l.PartnerID); err == nil {
		names[l.PartnerID], lc.PartnerName = p.Name, p.Name
	}
	ras, err := s.assignmentsOf(ctx, l.TenantID, l.ObjectID)
	if err != nil {
		return lc, err
	}
	for _, ra := range ras {
		sr := ScopedRole{Role: ra.RoleDefinition, Scope: ra.Scope}
		if ra.PrincipalID != l.ObjectID {
			sr.Via = ra.PrincipalID
		}
		lc.RoleAssignments = append(lc.RoleAssignments, sr)
	}
	// Lighthouse: delegations to this principal (or its groups) of its
	// tenant, in any customer tenant.
	ids, err := s.authorizer().Identities(ctx, l.TenantID, l.ObjectID)
	if err != nil {
		return lc, err
	}
	dls, err := s.Store.Delegations(ctx, "", true)
	if err != nil {
		return lc, err
	}
	for _, dl := range dls {
		if dl.ManagingTenantID != l.TenantID {
			continue
		}
		for _, id := range ids {
			if dl.PrincipalID == id {
				sr := ScopedRole{Role: dl.RoleDefinition, Scope: dl.Scope, TenantID: dl.CustomerTenantID}
				if id != l.ObjectID {
					sr.Via = id
				}
				lc.Delegations = append(lc.Delegations, sr)
			}
		}
	}
	return lc, nil
}

// LinkedCredentials lists the linked credentials matching f with what each
// can reach: the customer's and the partner's views, for the API and the CLI.
func (s *Service) LinkedCredentials(ctx context.Context, f partnerlink.LinkFilter) ([]LinkedCredential, error) {
	links, err := s.Store.Links(ctx, f)
	if err != nil {
		return nil, err
	}
	out := []LinkedCredential{}
	names := map[string]string{}
	for _, l := range links {
		lc, err := s.describe(ctx, l, names)
		if err != nil {
			return nil, err
		}
		out = append(out, lc)
	}
	return out, nil
}
