// Package linking implements the rules of Partner Admin Link (docs/rules.md#linking) on top
// of the directory and link stores: only the credential itself changes its
// own link, partner IDs are checked against the registry, CSP delegated
// principals are refused, and every change is kept as periods with its actor.
package linking

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
)

// Store is what the service needs.
type Store interface {
	partnerlink.DirectoryStore
	partnerlink.LinkStore
}

// Service implements partnerlink.LinkService.
type Service struct {
	Store Store
	Now   func() time.Time
}

var _ partnerlink.LinkService = (*Service)(nil)

// New returns a service on store with the real clock.
func New(store Store) *Service { return &Service{Store: store, Now: time.Now} }

// Link creates, replaces or re-affirms the caller's link (PUT and PATCH).
func (s *Service) Link(ctx context.Context, c partnerlink.Caller, partnerID string) (*partnerlink.LinkView, error) {
	if err := partnerlink.ValidatePartnerID(partnerID); err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	if err := s.checkCaller(ctx, c, now); err != nil {
		return nil, err
	}
	partner, err := s.checkPartner(ctx, partnerID, now)
	if err != nil {
		return nil, err
	}
	l, _, err := s.Store.ChangeLink(ctx, c.TenantID, c.ObjectID, now, c, LinkTo(partnerID))
	if err != nil {
		return nil, err
	}
	return &partnerlink.LinkView{Link: *l, PartnerName: partner.Name}, nil
}

// LinkTo decides a link to partnerID over the current link: created,
// re-affirmed (the same ID) or replaced.
func LinkTo(partnerID string) func(cur *partnerlink.Link) (partnerlink.LinkChange, error) {
	return func(cur *partnerlink.Link) (partnerlink.LinkChange, error) {
		switch {
		case cur == nil:
			return partnerlink.LinkChange{Action: partnerlink.LinkCreated, PartnerID: partnerID, Notify: true}, nil
		case cur.PartnerID == partnerID:
			return partnerlink.LinkChange{Action: partnerlink.LinkReaffirmed, PartnerID: partnerID}, nil
		}
		return partnerlink.LinkChange{Action: partnerlink.LinkReplaced, PartnerID: partnerID, Notify: true}, nil
	}
}

// CheckPartner checks partnerID against the registry as a link does: it
// exists, is active and is not a global ID whose organization has location
// IDs (docs/rules.md#linking).
func (s *Service) CheckPartner(ctx context.Context, partnerID string) (*partnerlink.Partner, error) {
	if err := partnerlink.ValidatePartnerID(partnerID); err != nil {
		return nil, err
	}
	return s.checkPartner(ctx, partnerID, s.Now().UTC())
}

// Get returns the caller's link. A partner ID, when given, must be the one
// linked.
func (s *Service) Get(ctx context.Context, c partnerlink.Caller, partnerID string) (*partnerlink.LinkView, error) {
	if partnerID != "" {
		if err := partnerlink.ValidatePartnerID(partnerID); err != nil {
			return nil, err
		}
	}
	view, err := s.Store.CurrentLinkView(ctx, c.TenantID, c.ObjectID)
	if partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND {
		return nil, noLink(c)
	} else if err != nil {
		return nil, err
	}
	if partnerID != "" && view.PartnerID != partnerID {
		return nil, partnerlink.ARMErrorf(partnerlink.ENOTFOUND, "NotFound",
			"This account is linked to partner ID %s, not %s. Show the current link without a partner ID.", view.PartnerID, partnerID)
	}
	return view, nil
}

// Unlink deletes the caller's link to partnerID.
func (s *Service) Unlink(ctx context.Context, c partnerlink.Caller, partnerID string) error {
	if err := partnerlink.ValidatePartnerID(partnerID); err != nil {
		return err
	}
	now := s.Now().UTC()
	_, _, err := s.Store.ChangeLink(ctx, c.TenantID, c.ObjectID, now, c, func(cur *partnerlink.Link) (partnerlink.LinkChange, error) {
		if cur == nil {
			return partnerlink.LinkChange{}, noLink(c)
		}
		if cur.PartnerID != partnerID {
			return partnerlink.LinkChange{}, partnerlink.ARMErrorf(partnerlink.ENOTFOUND, "NotFound",
				"This account is linked to partner ID %s, not %s; delete it with partner ID %s.", cur.PartnerID, partnerID, cur.PartnerID)
		}
		return partnerlink.LinkChange{Action: partnerlink.LinkDeleted, Notify: true}, nil
	})
	return err
}

// noLink is the NotFound answer when the caller has nothing linked. Its
// next step fits the caller: a CSP delegated principal cannot link at all,
// and a guest or an app's service principal links in this customer tenant by
// naming it (az 2.45 acts only in the credential's home tenant).
func noLink(c partnerlink.Caller) error {
	msg := fmt.Sprintf("No partner ID is linked to this account (object %s in tenant %s).", c.ObjectID, c.TenantID)
	p := c.Principal
	switch {
	case p != nil && p.CSPDelegated:
		msg += " This account is a CSP delegated principal: its access is attributed through the CSP channel, so it cannot link a partner ID."
	case p != nil && (p.Type == partnerlink.PrincipalGuest || p.HomeTenantID != "" && p.HomeTenantID != c.TenantID):
		msg += fmt.Sprintf(" Link one in this tenant with 'partnerlink link create --partner-id <id> --tenant %s' (or the Azure SDKs with this tenant's authority).", c.TenantID)
	default:
		msg += " Link one with 'partnerlink link create --partner-id <id>' or 'az managementpartner create --partner-id <id>'."
	}
	return partnerlink.ARMErrorf(partnerlink.ENOTFOUND, "NotFound", "%s", msg)
}

// checkCaller refuses principals that may not link: unknown, deleted or
// disabled, groups, and CSP delegated principals (docs/rules.md#azure-attribution, docs/rules.md#linking). It judges
// the record authentication read (Caller.Principal, at most the token
// liveness interval old, like the token's own acceptance) when there is
// one: a link write then reads no directory table, which was an eighth of
// its CPU (bench links).
func (s *Service) checkCaller(ctx context.Context, c partnerlink.Caller, now time.Time) error {
	p, err := c.Principal, error(nil)
	if p == nil || !strings.EqualFold(p.TenantID, c.TenantID) || !strings.EqualFold(p.ObjectID, c.ObjectID) {
		p, err = s.Store.Principal(ctx, c.TenantID, c.ObjectID)
	}
	if partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND {
		return partnerlink.ARMErrorf(partnerlink.EFORBIDDEN, "AuthorizationFailed",
			"The account (object %s) does not exist in tenant %s; work with the tenant's administrator to add the account.", c.ObjectID, c.TenantID)
	} else if err != nil {
		return err
	}
	if !p.ActiveAt(now) {
		return partnerlink.ARMErrorf(partnerlink.EFORBIDDEN, "AuthorizationFailed",
			"The account (object %s) in tenant %s is deleted or disabled and cannot link a partner ID.", c.ObjectID, c.TenantID)
	}
	if p.CSPDelegated {
		return partnerlink.ARMErrorf(partnerlink.EFORBIDDEN, "CSPDelegatedPrincipal",
			"This account is a CSP delegated principal (admin agent, helpdesk agent or GDAP access); it cannot link a partner ID because CSP access is attributed through the CSP channel. Link a user, guest or service principal of your own instead.")
	}
	if p.Type == partnerlink.PrincipalGroup {
		return partnerlink.ARMErrorf(partnerlink.EINVALID, "BadRequest", "A group cannot link a partner ID; link its members' own accounts.")
	}
	return nil
}

// checkPartner checks the registry: the ID exists, is active, and is not a
// global ID of an organization that has location IDs (docs/rules.md#linking).
func (s *Service) checkPartner(ctx context.Context, partnerID string, now time.Time) (*partnerlink.Partner, error) {
	p, err := s.Store.Partner(ctx, partnerID)
	if partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND {
		return nil, partnerlink.ARMErrorf(partnerlink.EINVALID, "BadRequest",
			"Partner ID %s is not valid: there is no record of it in the partner registry. Use your organization's Associated Partner ID (the location ID shown in Partner Center).", partnerID)
	} else if err != nil {
		return nil, err
	}
	if !p.ActiveAt(now) {
		return nil, partnerlink.ARMErrorf(partnerlink.EINVALID, "BadRequest",
			"Partner ID %s (%s) is not active in the partner registry and cannot be linked. Use an active partner ID of your organization.", partnerID, p.Name)
	}
	if p.GlobalID == "" {
		locs, err := s.Store.LocationIDs(ctx, partnerID)
		if err != nil {
			return nil, err
		}
		var active []string
		for _, id := range locs {
			if lp, err := s.Store.Partner(ctx, id); err == nil && lp.ActiveAt(now) {
				active = append(active, id)
			}
		}
		if len(active) > 0 {
			return nil, partnerlink.ARMErrorf(partnerlink.EINVALID, "BadRequest",
				"Partner ID %s is the global ID of %s, which has location IDs; link one of its location IDs instead: %s.",
				partnerID, p.Name, strings.Join(active, ", "))
		}
	}
	return p, nil
}
