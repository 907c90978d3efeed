// Package onboarding is the service principal accelerator (docs/clients.md,
// "Onboarding a service principal"): a customer's administrator puts the
// service principal of a partner's multi-tenant app into the customer
// tenant, gives it a role at a scope and links it to the partner's ID —
// all or nothing, and a second run changes nothing. It issues no secret:
// the service principal signs in with its application's own credentials,
// which only the partner holds.
package onboarding

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/linking"
	"github.com/partnerlink/partnerlink/rbac"
)

// Store is what the accelerator reads and writes.
type Store interface {
	linking.Store
	partnerlink.RoleStore
	// Onboard writes o in one transaction; nothing of it stays when any
	// part fails (a link o.Decide refuses included).
	Onboard(ctx context.Context, tenantID, objectID string, o partnerlink.Onboarding) (*partnerlink.Link, *partnerlink.LinkEvent, error)
}

// Service runs the accelerator.
type Service struct {
	Store Store
	Now   func() time.Time
}

// Request is what the administrator asks for.
type Request struct {
	TenantID  string `json:"-"` // the customer tenant (the path's)
	AppID     string `json:"appId"`
	Role      string `json:"role"`  // a role name or GUID
	Scope     string `json:"scope"` // "/" for the tenant root
	PartnerID string `json:"partnerId"`
}

// Result says what the accelerator did.
type Result struct {
	TenantID           string `json:"tenantId"`
	ObjectID           string `json:"objectId"`
	AppID              string `json:"appId"`
	DisplayName        string `json:"displayName"`
	PrincipalCreated   bool   `json:"principalCreated"`
	Role               string `json:"role"`
	Scope              string `json:"scope"`
	RoleAssignmentID   string `json:"roleAssignmentId"`
	AssignmentCreated  bool   `json:"roleAssignmentCreated"`
	PartnerID          string `json:"partnerId"`
	PartnerName        string `json:"partnerName"`
	LinkChanged        bool   `json:"linkChanged"`
	Changed            bool   `json:"changed"` // false: everything was in place already
	PreviousPartnerID  string `json:"previousPartnerId,omitempty"`
	ServicePrincipalOf string `json:"appHomeTenantId"`
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// step words a failure with the step it happened in.
func step(name string, err error) error {
	var e *partnerlink.Error
	if errors.As(err, &e) {
		return &partnerlink.Error{Code: e.Code, ARMCode: e.ARMCode, Message: name + ": " + e.Message}
	}
	return fmt.Errorf("%s: %w", name, err)
}

// Onboard runs the accelerator for admin, an administrator of the tenant:
// one who may grant roles at the tenant's root. Every check comes first;
// then the principal, the assignment and the link are written
// in one transaction. When another run for the same app and tenant commits
// in between, the store refuses the write and the accelerator decides
// again from what is now there, so concurrent runs make one principal and
// one assignment.
func (s *Service) Onboard(ctx context.Context, admin partnerlink.Caller, req Request) (*Result, error) {
	const attempts = 5
	for i := 1; ; i++ {
		res, err := s.onboard(ctx, admin, req)
		if !errors.Is(err, partnerlink.ErrOnboardingRaced) {
			return res, err
		}
		if i == attempts {
			return nil, step("write the principal, role assignment and link", partnerlink.Errorf(partnerlink.ECONFLICT,
				"the service principal of application %s kept changing while onboarding (%d attempts); run it again", req.AppID, attempts))
		}
	}
}

func (s *Service) onboard(ctx context.Context, admin partnerlink.Caller, req Request) (*Result, error) {
	now := s.now()
	authz := &rbac.Authorizer{Store: s.Store, Now: s.now}
	tenant := strings.ToLower(req.TenantID)
	if !strings.EqualFold(admin.TenantID, tenant) {
		return nil, partnerlink.ARMErrorf(partnerlink.EFORBIDDEN, "AuthorizationFailed",
			"Onboarding is for tenant %s's own administrators; your token is for tenant %s.", tenant, admin.TenantID)
	}
	root := partnerlink.Scope{Kind: partnerlink.ScopeRoot, Raw: "/", Key: "/"}
	if err := authz.Check(ctx, admin, root, rbac.WriteRoleAssignments); err != nil {
		return nil, step("check the administrator", err)
	}
	appID, err := partnerlink.ParseGUID("appId", req.AppID)
	if err != nil {
		return nil, step("find the app", err)
	}
	// The partner's app: its service principal in its home tenant.
	sps, err := s.Store.ServicePrincipalsByAppID(ctx, appID)
	if err != nil {
		return nil, err
	}
	var home, existing *partnerlink.Principal
	for i := range sps {
		p := &sps[i]
		if p.Type != partnerlink.PrincipalServicePrincipal {
			continue
		}
		if strings.EqualFold(p.TenantID, p.HomeTenantID) {
			home = p
		}
		if strings.EqualFold(p.TenantID, tenant) {
			existing = p
		}
	}
	if home == nil {
		return nil, step("find the app", partnerlink.Errorf(partnerlink.ENOTFOUND,
			"application %s is not registered by a partner: no tenant holds its home service principal", appID))
	}
	if strings.EqualFold(home.TenantID, tenant) {
		return nil, step("find the app", partnerlink.Errorf(partnerlink.EINVALID,
			"application %s is this tenant's own; the accelerator brings in a partner's multi-tenant app", appID))
	}
	if existing != nil && existing.Period.From.After(now) {
		// Made by a run that started after this one and committed first.
		now = existing.Period.From
	}
	if existing != nil && !existing.ActiveAt(now) {
		return nil, step("find the service principal", partnerlink.Errorf(partnerlink.ECONFLICT,
			"the service principal of application %s in tenant %s (object %s) is disabled; enable it first (partnerlink principal enable)", appID, tenant, existing.ObjectID))
	}
	custom, err := s.Store.RoleDefinitions(ctx, tenant)
	if err != nil {
		return nil, err
	}
	role, ok := rbac.Resolve(custom, req.Role)
	if !ok {
		return nil, step("find the role", partnerlink.Errorf(partnerlink.EINVALID,
			"role %q does not exist in tenant %s: give a built-in role's name (such as Contributor) or a role definition's GUID", req.Role, tenant))
	}
	scope, err := partnerlink.ParseScope(req.Scope)
	if err != nil {
		return nil, step("check the scope", err)
	}
	if err := authz.Check(ctx, admin, scope, rbac.WriteRoleAssignments); err != nil {
		return nil, step("check the scope", err)
	}
	partner, err := (&linking.Service{Store: s.Store, Now: s.now}).CheckPartner(ctx, req.PartnerID)
	if err != nil {
		return nil, step("check the partner ID", err)
	}
	// The ID must be the app owner's: its organization's home tenants hold
	// the app's home service principal. Otherwise an administrator could
	// credit a partner's work to another partner.
	org := partner
	if partner.GlobalID != "" {
		if org, err = s.Store.Partner(ctx, partner.GlobalID); err != nil {
			return nil, step("check the partner ID", err)
		}
	}
	if !slices.ContainsFunc(org.HomeTenantIDs, func(t string) bool { return strings.EqualFold(t, home.TenantID) }) {
		return nil, step("check the partner ID", partnerlink.Errorf(partnerlink.EFORBIDDEN,
			"partner ID %s is not of the organization that owns application %s (home tenant %s); only the app owner's own IDs are linked", partner.ID, appID, home.TenantID))
	}

	res := &Result{TenantID: tenant, AppID: appID, DisplayName: home.DisplayName, Role: role.Name, Scope: scope.Raw,
		PartnerID: partner.ID, PartnerName: partner.Name, ServicePrincipalOf: home.TenantID}
	o := partnerlink.Onboarding{AppID: appID, At: now, Actor: admin.ObjectID}
	if existing == nil {
		// No secret of its own: one issued here would be a credential of
		// the partner's app in the administrator's hands, able to move its
		// link. It signs in with the app's secrets (the token service
		// falls back to the home service principal's).
		p := partnerlink.Principal{TenantID: tenant, ObjectID: partnerlink.NewGUID().String(), Type: partnerlink.PrincipalServicePrincipal,
			DisplayName: home.DisplayName, AppID: appID, HomeTenantID: home.TenantID, Period: partnerlink.Period{From: now}}
		o.Principal = &p
		res.ObjectID, res.PrincipalCreated = p.ObjectID, true
	} else {
		res.ObjectID = existing.ObjectID
		if existing.CSPDelegated {
			return nil, step("link the partner ID", partnerlink.ARMErrorf(partnerlink.EFORBIDDEN, "CSPDelegatedPrincipal",
				"the service principal of application %s is a CSP delegated principal; it cannot link a partner ID", appID))
		}
	}
	roleRef := role.Name
	if role.Custom {
		roleRef = role.ID
	}
	current, err := s.Store.RoleAssignments(ctx, partnerlink.RoleAssignmentFilter{TenantID: tenant, PrincipalIDs: []string{res.ObjectID}, CurrentOnly: true})
	if err != nil {
		return nil, err
	}
	for _, ra := range current {
		o.SeenAssignments = append(o.SeenAssignments, ra.ID)
		if r, ok := rbac.Resolve(custom, ra.RoleDefinition); ok && strings.EqualFold(r.ID, role.ID) && scopeKey(ra.Scope) == scope.Key {
			res.RoleAssignmentID = ra.ID
		}
	}
	if res.RoleAssignmentID == "" {
		ra := partnerlink.RoleAssignment{TenantID: tenant, ID: partnerlink.NewGUID().String(), PrincipalID: res.ObjectID,
			RoleDefinition: roleRef, Scope: scope.Raw, Period: partnerlink.Period{From: now}}
		o.Assignment, res.RoleAssignmentID, res.AssignmentCreated = &ra, ra.ID, true
	}
	// A service principal that was linked before and removed its link
	// stays unlinked: only the credential itself links again
	// (docs/rules.md#linking), not an administrator's second run.
	var removed *partnerlink.Link
	if existing != nil {
		past, err := s.Store.Links(ctx, partnerlink.LinkFilter{TenantID: tenant, ObjectID: res.ObjectID})
		if err != nil {
			return nil, err
		}
		if len(past) > 0 {
			removed = &past[len(past)-1]
		}
	}
	o.Decide = onboardingLink(partner.ID, removed != nil)
	if cur, err := s.Store.CurrentLink(ctx, tenant, res.ObjectID); err == nil {
		res.PreviousPartnerID = cur.PartnerID
		if cur.PartnerID != partner.ID {
			// Only the credential itself changes its link (docs/rules.md#linking).
			return nil, step("link the partner ID", errLinkedElsewhere(cur.PartnerID))
		}
		if o.Principal == nil && o.Assignment == nil {
			return res, nil // everything is in place: nothing to write
		}
	} else if partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		return nil, err
	} else if removed != nil {
		return nil, step("link the partner ID", errLinkRemoved(removed))
	}
	if _, _, err := s.Store.Onboard(ctx, tenant, res.ObjectID, o); errors.Is(err, partnerlink.ErrOnboardingRaced) {
		return nil, err
	} else if err != nil {
		return nil, step("write the principal, role assignment and link", err)
	}
	res.LinkChanged = res.PreviousPartnerID != partner.ID
	res.Changed = true
	return res, nil
}

// onboardingLink decides the link an onboarding writes, in its
// transaction: a credential without a link is linked unless it removed a
// link before; one linked to the partner ID is reaffirmed; one linked to
// another is left alone (only the credential changes its link).
func onboardingLink(partnerID string, wasLinked bool) func(cur *partnerlink.Link) (partnerlink.LinkChange, error) {
	return func(cur *partnerlink.Link) (partnerlink.LinkChange, error) {
		switch {
		case cur == nil && wasLinked:
			return partnerlink.LinkChange{}, errLinkRemoved(nil)
		case cur != nil && cur.PartnerID != partnerID:
			return partnerlink.LinkChange{}, errLinkedElsewhere(cur.PartnerID)
		}
		return linking.LinkTo(partnerID)(cur)
	}
}

func errLinkedElsewhere(partnerID string) error {
	return partnerlink.Errorf(partnerlink.ECONFLICT,
		"the service principal is linked to partner ID %s already; only the service principal itself may change its link", partnerID)
}

// errLinkRemoved refuses to bring back a link the credential removed
// (last: its last link period, when known).
func errLinkRemoved(last *partnerlink.Link) error {
	was := ""
	if last != nil && !last.Period.Open() {
		was = fmt.Sprintf(" (to partner ID %s, until %s)", last.PartnerID, last.Period.To.UTC().Format(time.RFC3339))
	}
	return partnerlink.Errorf(partnerlink.ECONFLICT,
		"the service principal removed its link%s; only the service principal itself may link again (signed in as the app: partnerlink link create)", was)
}

func scopeKey(raw string) string {
	s, err := partnerlink.ParseScope(raw)
	if err != nil {
		return strings.ToLower(raw)
	}
	return s.Key
}
