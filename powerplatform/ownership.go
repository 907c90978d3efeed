package powerplatform

import (
	"slices"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
)

// change is a history under construction: a copy, so that a refused change
// leaves the caller's history as it was.
type change struct {
	h  History
	at time.Time
}

func newChange(h History, at time.Time) *change {
	return &change{h: slices.Clone(h), at: at}
}

// end closes, at the change's instant, every period open at that instant
// whose holding matches. A period that would become empty (opened at the
// same instant) is dropped: it never held.
func (c *change) end(match func(Holding) bool) {
	out := c.h[:0]
	for _, x := range c.h {
		if x.Period.Contains(c.at) && match(x) {
			if x.Period.From.Equal(c.at) {
				continue
			}
			x.Period.To = c.at
		}
		out = append(out, x)
	}
	c.h = out
}

// endRole closes the open periods of role, whoever holds it.
func (c *change) endRole(role Role) {
	c.end(func(x Holding) bool { return x.Role == role })
}

// start opens a period of role for principal id at the change's instant.
func (c *change) start(id string, role Role) {
	c.h = append(c.h, Holding{PrincipalID: id, Role: role, Period: partnerlink.Period{From: c.at}})
}

// refuse builds the refusal of a change that the product's limits forbid.
func refuse(format string, args ...any) error {
	return partnerlink.Errorf(partnerlink.EINVALID, format, args...)
}

// conflict builds the refusal of a change that the current state forbids.
func conflict(format string, args ...any) error {
	return partnerlink.Errorf(partnerlink.ECONFLICT, format, args...)
}

// checkChange validates what every change needs: a known kind, an instant,
// a well-formed principal, and an instant not before the recorded history.
func checkChange(r Resource, h History, p *PrincipalRef, at time.Time) error {
	if _, err := ParseKind(string(r.Kind)); err != nil {
		return err
	}
	if at.IsZero() {
		return refuse("%s %s: a change needs the instant it happens at", noun(r.Kind), r.ID)
	}
	if p != nil {
		id, err := partnerlink.ParseGUID("principal id", p.ID)
		if err != nil {
			return err
		}
		p.ID = id
		if !p.Type.Valid() {
			return refuse("principal %s has type %q; accepted: User, Guest, ServicePrincipal, Group", p.ID, p.Type)
		}
	}
	if last := h.Latest(); at.Before(last) {
		return conflict("%s %s: its ownership history already records a change at %s; history is never rewritten, so apply this change at or after %s",
			noun(r.Kind), r.ID, last.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339))
	}
	return nil
}

// SetOwner makes p the owner of r from at on (docs/rules.md#power-platform, "set owner to a user"
// and "set owner to a service principal"). For a flow the new owner is also
// the creator from then on: this is how a flow is re-owned, and it keeps
// exactly one creator at a time. Kinds whose owner can only change through a
// solution import, or that have no owner, are refused with what to do
// instead.
func SetOwner(r Resource, h History, p PrincipalRef, at time.Time) (History, error) {
	if err := checkChange(r, h, &p, at); err != nil {
		return nil, err
	}
	switch r.Kind {
	case CanvasApp:
		if p.Type == partnerlink.PrincipalServicePrincipal {
			return nil, refuse("canvas app %s: the owner of a canvas app cannot be set to a service principal; import the app in a solution as %s instead: the importer becomes the owner", r.ID, p)
		}
		if !p.IsUser() {
			return nil, refuse("canvas app %s: the owner of a canvas app must be a user, not %s; set the owner to one of the group's users, or add them as co-owners", r.ID, p)
		}
	case ModelDrivenApp:
		return nil, refuse("model-driven app %s: the owner of a model-driven app cannot be set directly; import the app in a solution as %s instead: the importer becomes the owner", r.ID, p)
	case Flow:
		if !p.IsUser() && p.Type != partnerlink.PrincipalServicePrincipal {
			return nil, refuse("flow %s: the owner of a flow must be a user or a service principal, not %s; set the owner to one of the group's members", r.ID, p)
		}
	case PowerBIDataset:
		return nil, refuse("Power BI dataset %s: a dataset has no owner to set; publishing sets the publisher, so publish the dataset as %s instead", r.ID, p)
	case CustomerInsightsInstance:
		return nil, refuse("Customer Insights instance %s: an instance has no owner; every user active on the instance in a month is attributed, so have %s work in the instance instead", r.ID, p)
	case Bot:
		return nil, refuse("bot %s: the owner of a bot cannot be set directly; import the bot in a solution as %s instead: the importer becomes the owner and creator", r.ID, p)
	}
	if h.Holds(p.ID, RoleOwner, at) && (r.Kind != Flow || h.Holds(p.ID, RoleCreator, at)) {
		return nil, conflict("%s %s: %s already is its owner; nothing to change", noun(r.Kind), r.ID, p)
	}
	c := newChange(h, at)
	c.endRole(RoleOwner)
	c.start(p.ID, RoleOwner)
	if r.Kind == Flow {
		c.endRole(RoleCreator)
		c.start(p.ID, RoleCreator)
	}
	if r.Kind == CanvasApp {
		// An owner is not also a co-owner.
		c.end(func(x Holding) bool { return x.Role == RoleCoOwner && x.PrincipalID == p.ID })
	}
	return c.h, nil
}

// coOwnerRefusal returns the refusal for adding or removing co-owners on a
// kind that has none, or nil for a canvas app.
func coOwnerRefusal(r Resource, p PrincipalRef) error {
	switch r.Kind {
	case ModelDrivenApp:
		return refuse("model-driven app %s: model-driven apps have no co-owners; to attribute the app to %s, import it in a solution as that principal: the importer becomes the owner", r.ID, p)
	case Flow:
		return refuse("flow %s: attribution of a flow follows its single creator, not co-owners; set the flow's owner to %s (it becomes the creator from then on), or import the flow in a solution as that principal", r.ID, p)
	case PowerBIDataset:
		return refuse("Power BI dataset %s: a dataset has no co-owners; publishing sets the publisher, so publish the dataset as %s instead", r.ID, p)
	case CustomerInsightsInstance:
		return refuse("Customer Insights instance %s: an instance has no owners or co-owners; every user active on the instance in a month is attributed, so have %s work in the instance instead", r.ID, p)
	case Bot:
		return refuse("bot %s: a bot has no co-owners; import the bot in a solution as %s instead: the importer becomes the owner and creator", r.ID, p)
	}
	return nil
}

// AddCoOwner adds user p as a co-owner of canvas app r from at on (docs/rules.md#power-platform,
// "co-owners"). Only canvas apps have co-owners, and they are users.
func AddCoOwner(r Resource, h History, p PrincipalRef, at time.Time) (History, error) {
	if err := checkChange(r, h, &p, at); err != nil {
		return nil, err
	}
	if err := coOwnerRefusal(r, p); err != nil {
		return nil, err
	}
	if p.Type == partnerlink.PrincipalServicePrincipal {
		return nil, refuse("canvas app %s: co-owners of a canvas app are users; %s cannot be one; import the app in a solution as the service principal instead: the importer becomes the owner", r.ID, p)
	}
	if !p.IsUser() {
		return nil, refuse("canvas app %s: co-owners of a canvas app are users, not %s; add each of the group's users as a co-owner instead", r.ID, p)
	}
	if h.Holds(p.ID, RoleOwner, at) {
		return nil, conflict("canvas app %s: %s is its owner, which already makes it an attributed user; nothing to add", r.ID, p)
	}
	if h.Holds(p.ID, RoleCoOwner, at) {
		return nil, conflict("canvas app %s: %s already is a co-owner; nothing to add", r.ID, p)
	}
	c := newChange(h, at)
	c.start(p.ID, RoleCoOwner)
	return c.h, nil
}

// RemoveCoOwner ends p's co-ownership of canvas app r at at.
func RemoveCoOwner(r Resource, h History, p PrincipalRef, at time.Time) (History, error) {
	if p.Type == "" {
		// Removal needs only the id; any valid type passes the checks.
		p.Type = partnerlink.PrincipalUser
	}
	if err := checkChange(r, h, &p, at); err != nil {
		return nil, err
	}
	if err := coOwnerRefusal(r, p); err != nil {
		return nil, err
	}
	if !h.Holds(p.ID, RoleCoOwner, at) {
		return nil, conflict("canvas app %s: %s is not a co-owner at %s; list the co-owners and remove one of them", r.ID, p, at.UTC().Format(time.RFC3339))
	}
	c := newChange(h, at)
	c.end(func(x Holding) bool { return x.Role == RoleCoOwner && x.PrincipalID == p.ID })
	return c.h, nil
}

// Publish records that p published Power BI dataset r at at: p is the
// publisher from then on (the last principal to publish, docs/rules.md#power-platform). A
// republish by the current publisher reopens the period at at, so the
// instant counts as p's activity.
func Publish(r Resource, h History, p PrincipalRef, at time.Time) (History, error) {
	if err := checkChange(r, h, &p, at); err != nil {
		return nil, err
	}
	if r.Kind != PowerBIDataset {
		switch r.Kind {
		case CustomerInsightsInstance:
			return nil, refuse("Customer Insights instance %s: only Power BI datasets are published; every user active on the instance is attributed, so have %s work in the instance instead", r.ID, p)
		case CanvasApp, Flow:
			return nil, refuse("%s %s: only Power BI datasets have a publisher; set the %s's owner to %s, or import it in a solution as that principal, instead", noun(r.Kind), r.ID, noun(r.Kind), p)
		default:
			return nil, refuse("%s %s: only Power BI datasets have a publisher; import the %s in a solution as %s instead: the importer becomes the owner", noun(r.Kind), r.ID, noun(r.Kind), p)
		}
	}
	if p.Type == partnerlink.PrincipalGroup {
		return nil, refuse("Power BI dataset %s: a dataset is published by a user or a service principal, not %s; publish it as one of the group's members instead", r.ID, p)
	}
	c := newChange(h, at)
	c.endRole(RolePublisher)
	c.start(p.ID, RolePublisher)
	return c.h, nil
}

// ImportSolution records that importer imported a solution holding the
// given components at at (docs/rules.md#power-platform, "solution import"): the importer becomes
// the owner of every component, and the creator of those that have one
// (flows, bots). It returns the new histories in the order of components.
// A solution that holds a Power BI dataset or a Customer Insights instance
// is refused whole: no history changes.
func ImportSolution(components []Component, importer PrincipalRef, at time.Time) ([]History, error) {
	if len(components) == 0 {
		return nil, refuse("a solution import needs at least one component")
	}
	var outside []string
	seen := map[string]bool{}
	for _, comp := range components {
		r := comp.Resource
		if err := checkChange(r, comp.History, &importer, at); err != nil {
			return nil, err
		}
		if seen[key(r.ID)] {
			return nil, refuse("the solution lists %s %s twice; list each component once", noun(r.Kind), r.ID)
		}
		seen[key(r.ID)] = true
		if r.Kind == PowerBIDataset || r.Kind == CustomerInsightsInstance {
			outside = append(outside, noun(r.Kind)+" "+r.ID)
		}
	}
	if len(outside) > 0 {
		return nil, refuse("the solution cannot be imported: %s cannot be part of a solution, so nothing was changed; remove them from the solution and import the rest (publish a Power BI dataset as %s to make it the publisher; a Customer Insights instance credits every user active on it)",
			strings.Join(outside, ", "), importer)
	}
	if importer.Type == partnerlink.PrincipalGroup {
		return nil, refuse("a solution is imported by a user or a service principal, not %s; import it as one of the group's members instead", importer)
	}
	out := make([]History, len(components))
	for i, comp := range components {
		c := newChange(comp.History, at)
		c.endRole(RoleOwner)
		c.start(importer.ID, RoleOwner)
		switch comp.Resource.Kind {
		case Flow, Bot:
			c.endRole(RoleCreator)
			c.start(importer.ID, RoleCreator)
		case CanvasApp:
			c.end(func(x Holding) bool { return x.Role == RoleCoOwner && x.PrincipalID == importer.ID })
		}
		out[i] = c.h
	}
	return out, nil
}

// ValidateHistory checks a recorded history against kind k: only the roles
// the kind has, and at most one owner, creator or publisher at a time
// (co-owners may be many, but a principal holds a role once at a time).
func ValidateHistory(r Resource, h History) error {
	allowed := allowedRoles(r.Kind)
	for i, x := range h {
		if !slices.Contains(allowed, x.Role) {
			if len(allowed) == 0 {
				return refuse("ownership of %s %s: a %s has no ownership roles, but %s is recorded as %s", noun(r.Kind), r.ID, noun(r.Kind), x.PrincipalID, x.Role)
			}
			names := make([]string, len(allowed))
			for j, a := range allowed {
				names[j] = string(a)
			}
			return refuse("ownership of %s %s: role %s is not one a %s has; accepted: %s", noun(r.Kind), r.ID, x.Role, noun(r.Kind), strings.Join(names, ", "))
		}
		if x.Period.Empty() {
			return refuse("ownership of %s %s: %s's %s period ends before it starts", noun(r.Kind), r.ID, x.PrincipalID, x.Role)
		}
		for _, y := range h[i+1:] {
			if y.Role != x.Role || !x.Period.Overlaps(y.Period) {
				continue
			}
			if x.Role != RoleCoOwner {
				return refuse("ownership of %s %s: %s and %s are both %s at the same time; a resource has one %s at a time, so end one period where the other starts",
					noun(r.Kind), r.ID, x.PrincipalID, y.PrincipalID, x.Role, x.Role)
			}
			if x.PrincipalID == y.PrincipalID {
				return refuse("ownership of %s %s: %s is recorded twice as CoOwner over overlapping periods; merge the periods", noun(r.Kind), r.ID, x.PrincipalID)
			}
		}
	}
	return nil
}
