package powerplatform

import (
	"fmt"
	"slices"
	"time"

	"github.com/partnerlink/partnerlink"
)

// AtRisk is a resource and month where a partner's linked principals built
// or changed the resource (Create, Edit or Publish) but the partner was not
// a candidate, because no attributed user was linked to it: the partner's
// work earns it nothing until ownership changes.
type AtRisk struct {
	PartnerID string
	Resource  Resource
	Month     Month
	// Principals are the partner's linked principals active on the resource.
	Principals []string
	// Attributed are the resource's attributed users in the month.
	Attributed []string
	// CreditedTo is the partner credited instead, if any.
	CreditedTo string
	// Remedy is the ownership change or solution import that would make the
	// partner a candidate, within the kind's limits (docs/rules.md#power-platform).
	Remedy string
}

// CreditAtRisk lists, for partnerID and every month whose first day lies in
// [from, to), the resources where the partner's linked principals were
// active but the attributed users are not linked to the partner. A linked
// principal counts when its link to the partner, its own period and the
// partner ID's period overlap in the month.
func (m *Model) CreditAtRisk(a *Activity, partnerID string, from, to time.Time) ([]AtRisk, error) {
	if err := partnerlink.ValidatePartnerID(partnerID); err != nil {
		return nil, err
	}
	if _, err := m.Check(a); err != nil {
		return nil, err
	}
	var out []AtRisk
	for _, mo := range partnerlink.MonthsIn(from, to) {
		month := mo.Period()
		// The partner's principals per tenant in this month.
		linked := map[string][]string{}
		for tenant, objs := range m.linked {
			for _, c := range objs {
				if m.linkedInMonth(tenant, c, partnerID, month) {
					linked[tenant] = append(linked[tenant], c)
				}
			}
		}
		for _, mr := range m.ordered {
			var active []string
			for _, c := range linked[mr.TenantID] {
				if cl, ok := a.userCell(mr.ID, c, mo); ok && cl.flags&flagBuild != 0 {
					active = append(active, c)
				}
			}
			if len(active) == 0 {
				continue
			}
			ev := m.evaluate(mr, a, mo, false)
			if slices.ContainsFunc(ev.candidates, func(c Candidate) bool { return c.PartnerID == partnerID }) {
				continue
			}
			r := AtRisk{PartnerID: partnerID, Resource: mr.Resource, Month: mo, Principals: active}
			for _, ap := range ev.attributed {
				r.Attributed = append(r.Attributed, ap.PrincipalID)
			}
			slices.Sort(r.Attributed)
			r.Attributed = slices.Compact(r.Attributed)
			if len(ev.candidates) > 0 {
				r.CreditedTo = ev.candidates[0].PartnerID
			}
			r.Remedy = m.remedy(mr, active)
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(x, y AtRisk) int {
		if x.Resource.ID != y.Resource.ID {
			if x.Resource.ID < y.Resource.ID {
				return -1
			}
			return 1
		}
		return int(x.Month - y.Month)
	})
	return out, nil
}

// linkedInMonth reports whether principal c of tenant was linked to
// partnerID at some instant of month while both it and the partner ID were
// in force.
func (m *Model) linkedInMonth(tenant, c, partnerID string, month partnerlink.Period) bool {
	pk := principalKey(tenant, c)
	info := m.principals[pk]
	if info == nil {
		return false
	}
	for _, l := range m.links[pk] {
		if l.partnerID != partnerID {
			continue
		}
		in, ok := l.period.Intersect(month)
		if !ok {
			continue
		}
		for _, pp := range info.periods {
			in2, ok := in.Intersect(pp)
			if !ok {
				continue
			}
			for _, qp := range m.partners[partnerID] {
				if _, ok := in2.Intersect(qp); ok {
					return true
				}
			}
		}
	}
	return false
}

// remedy says which change would make one of the partner's active
// principals an attributed user, respecting the kind's limits (docs/rules.md#power-platform,
// second table). For a canvas app a user is preferred, since a user can be
// made owner or co-owner directly.
func (m *Model) remedy(mr *modelResource, active []string) string {
	typ := func(c string) partnerlink.PrincipalType {
		if info := m.principals[principalKey(mr.TenantID, c)]; info != nil {
			return info.typ
		}
		return partnerlink.PrincipalUser
	}
	c := active[0]
	const later = "; credit follows from the change's instant on, earlier months stay as they are"
	switch mr.Kind {
	case CanvasApp:
		for _, u := range active {
			if t := typ(u); t == partnerlink.PrincipalUser || t == partnerlink.PrincipalGuest {
				return fmt.Sprintf("add user %s as a co-owner of the canvas app, or set it as the owner%s", u, later)
			}
		}
		return fmt.Sprintf("import the canvas app in a solution as service principal %s (a canvas app's owner cannot be set to a service principal): the importer becomes the owner%s", c, later)
	case ModelDrivenApp:
		return fmt.Sprintf("import the model-driven app in a solution as %s: its owner changes only by solution import, and it has no co-owners%s", c, later)
	case Flow:
		return fmt.Sprintf("set the flow's owner to %s, which makes it the creator from then on, or import the flow in a solution as %s%s", c, c, later)
	case PowerBIDataset:
		return fmt.Sprintf("publish the dataset as %s: the last principal to publish is the publisher (datasets cannot be in a solution)%s", c, later)
	case Bot:
		return fmt.Sprintf("import the bot in a solution as %s: its owner and creator change only by solution import%s", c, later)
	}
	return fmt.Sprintf("a Customer Insights instance credits every active user; %s was active, so check that its link and the partner ID were in force during the month", c)
}
