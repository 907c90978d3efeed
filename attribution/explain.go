package attribution

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/focus"
)

// Explanation says whether and why a partner is credited with a resource's
// usage on one day (docs/rules.md#views-and-credits Explain).
type Explanation struct {
	PartnerID      string
	ResourceID     string
	Day            partnerlink.Period // [day, day+24h), or the period asked
	TenantID       string             // the tenant owning the resource's subscription
	SubscriptionID string
	Credited       bool
	// IncentiveEligible: some crediting chain's role can write and its
	// period covers the whole day.
	IncentiveEligible bool
	// Chains are the chains that credit the partner, when Credited.
	Chains []Chain
	// Reason is, when not credited, the nearest reason why not.
	Reason string
	// unlinked: the partner has no link in the subscription's tenant or
	// in a tenant managing it, or the subscription is unknown (ForPartner).
	unlinked bool
}

// ForPartner is e as the partner may see it: where none of its
// credentials is linked in the resource's tenant (or in a tenant managing
// it through a delegation), it learns neither that tenant nor whether the
// subscription exists — the same reason either way
// (docs/rules.md#views-and-credits).
func (e *Explanation) ForPartner() *Explanation {
	if !e.unlinked {
		return e
	}
	v := *e
	v.TenantID = ""
	v.Reason = fmt.Sprintf("no credential linked to partner ID %s reaches subscription %s: none is linked in its tenant, nor in a tenant managing it through a delegation", e.PartnerID, e.SubscriptionID)
	return &v
}

// Explain tells whether partnerID is credited with usage of resourceID on
// the UTC day containing day, with the chains that credit it, or the nearest
// reason why not: unknown or inactive partner ID, unknown subscription, no
// link in the tenant, link or role not held that day, a deleted or
// disabled identity, scopes that do not contain the resource, or access
// only through a CSP delegated principal.
func (ix *Index) Explain(partnerID, resourceID string, day time.Time) (*Explanation, error) {
	d := day.UTC()
	d = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	return ix.ExplainPeriod(partnerID, resourceID, partnerlink.Period{From: d, To: d.AddDate(0, 0, 1)})
}

// ExplainPeriod is Explain for any period (a month, for a report): the
// partner is credited when some chain holds at some instant of it, and
// eligible when a writing chain holds for the whole of it.
func (ix *Index) ExplainPeriod(partnerID, resourceID string, period partnerlink.Period) (*Explanation, error) {
	return ix.ExplainIn(partnerID, "", resourceID, period)
}

// ExplainIn is ExplainPeriod with the resource's subscription given, as a
// usage row's SubAccountId gives it: needed for a resource id outside any
// subscription's path (a reservation, a marketplace order), which only its
// subscription's scopes, those above it and its own id contain
// (docs/rules.md#scopes). subscriptionID may be "" for an id under
// /subscriptions/, and must then be its subscription.
func (ix *Index) ExplainIn(partnerID, subscriptionID, resourceID string, period partnerlink.Period) (*Explanation, error) {
	if ix.doc == nil || ix.grantsDropped {
		return nil, errors.New("attribution: this index was built for attribution only (DropWorld, DropGrants); build one with NewIndex to explain")
	}
	if period.From.IsZero() || period.To.IsZero() || !period.From.Before(period.To) {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "explain needs a period with a start before its end")
	}
	if err := partnerlink.ValidatePartnerID(partnerID); err != nil {
		return nil, err
	}
	res, err := partnerlink.ParseScope(resourceID)
	outside := err != nil || res.Kind < partnerlink.ScopeSubscription
	switch {
	case outside && subscriptionID == "":
		return nil, partnerlink.Errorf(partnerlink.EINVALID,
			"%q is not a resource under a subscription's path: expected /subscriptions/{guid}/… (a subscription, resource group or resource id), or give its subscription (the usage row's SubAccountId: explain --subscription, or subscription= in the API) for an id outside one, such as a reservation's", resourceID)
	case outside:
		sub, err := partnerlink.ParseGUID("subscription", strings.TrimPrefix(strings.ToLower(subscriptionID), "/subscriptions/"))
		if err != nil {
			return nil, err
		}
		id := strings.TrimSuffix(resourceID, "/")
		if id == "" || !strings.HasPrefix(id, "/") || strings.ContainsAny(id, " \t\n") {
			return nil, partnerlink.Errorf(partnerlink.EINVALID, "resource %q is not an ARM resource id: expected /providers/… or /subscriptions/{guid}/…", resourceID)
		}
		res = partnerlink.Scope{Kind: partnerlink.ScopeResource, Raw: id, Key: partnerlink.ToLower(id), Subscription: sub}
	case subscriptionID != "":
		if sub, err := partnerlink.ParseGUID("subscription", strings.TrimPrefix(strings.ToLower(subscriptionID), "/subscriptions/")); err != nil {
			return nil, err
		} else if sub != res.Subscription {
			return nil, partnerlink.Errorf(partnerlink.EINVALID, "resource %s is in subscription %s, not %s", res.Raw, res.Subscription, sub)
		}
	}
	e := &Explanation{
		PartnerID:      partnerID,
		ResourceID:     res.Raw,
		Day:            period,
		SubscriptionID: res.Subscription,
	}
	when := periodLabel(period)
	if !slices.Contains(ix.partners, partnerID) {
		e.Reason = fmt.Sprintf("partner ID %s is not registered", partnerID)
		return e, nil
	}
	g, _ := focus.ParseGUID(res.Subscription)
	sub := ix.subs[g]
	if sub == nil {
		e.Reason = fmt.Sprintf("subscription %s is unknown: it is in no tenant of the world, so its usage credits no one", res.Subscription)
		e.unlinked = true
		return e, nil
	}
	e.TenantID = sub.tenant

	// The chains of this partner that could reach the subscription's
	// tenant: links in it, and links in managing tenants that hold
	// delegations from it.
	var mine, containing []Chain
	for _, c := range ix.Chains() {
		if c.PartnerID != partnerID || c.ScopeTenantID != sub.tenant {
			continue
		}
		mine = append(mine, c)
		if ix.contains(c, sub, res, outside) {
			containing = append(containing, c)
		}
	}
	for _, c := range containing {
		if c.Grants() && c.Period.Overlaps(e.Day) {
			e.Credited = true
			e.Chains = append(e.Chains, c)
			if c.RoleCanWrite && c.Period.Covers(e.Day) {
				e.IncentiveEligible = true
			}
		}
	}
	if e.Credited {
		return e, nil
	}
	e.Reason = ix.whyNot(partnerID, sub, mine, containing, e.Day, when)
	e.unlinked = len(ix.linksOf(partnerID, sub.tenant)) == 0
	return e, nil
}

// contains reports whether chain c's scope contains the resource res of
// subscription sub (docs/rules.md#scopes). A resource outside its
// subscription's path is contained by the scopes down to its subscription
// and by its own id only.
func (ix *Index) contains(c Chain, sub *subscription, res partnerlink.Scope, outside bool) bool {
	sc, err := partnerlink.ParseScope(c.Scope)
	if err != nil || c.ScopeTenantID != sub.tenant {
		return false
	}
	switch sc.Kind {
	case partnerlink.ScopeRoot:
		return true
	case partnerlink.ScopeManagementGroup:
		return slices.Contains(sub.mgs, sc.ManagementGroup)
	}
	if outside {
		return sc.Kind == partnerlink.ScopeSubscription && sc.Subscription == res.Subscription || sc.Key == res.Key
	}
	return sc.Contains(res)
}

// whyNot finds the nearest reason: the failing parts of the containing
// chain closest to crediting, or else what is missing before a chain can
// reach the resource at all.
func (ix *Index) whyNot(partnerID string, sub *subscription, mine, containing []Chain, day partnerlink.Period, when string) string {
	pp := partnerPeriods(ix.doc)[partnerID]
	if !pp.Overlaps(day) {
		return fmt.Sprintf("partner ID %s is not active %s (%s): a deleted or inactive partner ID stops every credit", partnerID, when, ix.registration(partnerID))
	}
	if len(containing) > 0 {
		best, bestN := "", 1<<30
		for _, c := range containing {
			why := c.failures(day, when)
			if len(why) < bestN {
				best, bestN = strings.Join(why, "; "), len(why)
			}
		}
		return best
	}
	// No chain reaches the resource. Is there a link at all?
	links := ix.linksOf(partnerID, sub.tenant)
	if len(links) == 0 {
		return fmt.Sprintf("no credential is linked to partner ID %s in tenant %s (nor in a managing tenant with a Lighthouse delegation from it)", partnerID, sub.tenant)
	}
	var held []string
	for _, l := range links {
		if l.per.Overlaps(day) {
			held = append(held, l.text)
		}
	}
	if len(held) == 0 {
		return fmt.Sprintf("the link to partner ID %s was not held %s: %s", partnerID, when, strings.Join(linkTexts(links), "; "))
	}
	if len(mine) == 0 {
		return fmt.Sprintf("the linked credential (%s) holds no role assignment or delegation in tenant %s, directly or through groups", strings.Join(held, "; "), sub.tenant)
	}
	var scopes []string
	for _, c := range mine {
		s := fmt.Sprintf("%s at %s", c.Role, c.Scope)
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	if len(scopes) > 5 {
		scopes = append(scopes[:5], fmt.Sprintf("and %d more", len(scopes)-5))
	}
	return fmt.Sprintf("no scope of the linked credentials contains the resource: they hold %s", strings.Join(scopes, ", "))
}

type linkInfo struct {
	per  partnerlink.Period
	text string
}

// linksOf lists partnerID's links in tenant and in managing tenants that
// hold a delegation from it.
func (ix *Index) linksOf(partnerID, tenant string) []linkInfo {
	managing := map[string]bool{tenant: true}
	for _, d := range ix.doc.Delegations {
		if d.CustomerTenantID == tenant {
			managing[d.ManagingTenantID] = true
		}
	}
	var out []linkInfo
	for _, l := range ix.doc.Links {
		if l.PartnerID == partnerID && managing[l.TenantID] {
			per := periodOfLink(l.From, l.To)
			out = append(out, linkInfo{per, fmt.Sprintf("principal %s in tenant %s linked %s", l.ObjectID, l.TenantID, periodText(per))})
		}
	}
	return out
}

func linkTexts(ls []linkInfo) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.text
	}
	return out
}

func periodOfLink(from, to *time.Time) partnerlink.Period {
	var p partnerlink.Period
	if from != nil {
		p.From = *from
	}
	if to != nil {
		p.To = *to
	}
	return p
}

// failures lists why a chain whose scope contains the resource does not
// credit on day.
func (c Chain) failures(day partnerlink.Period, when string) []string {
	var why []string
	if c.CSPPrincipal != "" {
		why = append(why, fmt.Sprintf("access is only through CSP delegated principal %s, which never credits anyone: CSP access is attributed through the CSP channel", c.CSPPrincipal))
	}
	if !c.PartnerPeriod.Overlaps(day) {
		why = append(why, fmt.Sprintf("partner ID %s is not active %s (registered, with its global ID for a location ID, %s)", c.PartnerID, when, periodText(c.PartnerPeriod)))
	}
	if !c.LinkPeriod.Overlaps(day) {
		why = append(why, fmt.Sprintf("the link of principal %s in tenant %s was not held %s (linked %s)", c.ObjectID, c.LinkTenantID, when, periodText(c.LinkPeriod)))
	}
	if !c.PrincipalPeriod.Overlaps(day) {
		why = append(why, fmt.Sprintf("principal %s was deleted or disabled %s (it exists and is enabled %s)", c.ObjectID, when, periodsText(c.PrincipalPeriods, c.PrincipalPeriod)))
	}
	for _, m := range c.Memberships {
		if !m.Period.Overlaps(day) {
			why = append(why, fmt.Sprintf("%s was not a member of group %s %s (member %s)", m.MemberID, m.GroupID, when, periodText(m.Period)))
		}
		if !m.GroupPeriod.Overlaps(day) {
			why = append(why, fmt.Sprintf("group %s was deleted %s (it exists %s)", m.GroupID, when, periodsText(m.GroupPeriods, m.GroupPeriod)))
		}
	}
	if !c.AssignmentPeriod.Overlaps(day) {
		why = append(why, fmt.Sprintf("%s was not held %s: %s", c.access(), when, periodText(c.AssignmentPeriod)))
	}
	if len(why) == 0 && (c.empty || !c.Period.Overlaps(day)) {
		// Each part held on the day, but never all at once: the one that
		// ends first ends before the one that begins last.
		why = append(why, c.apart(day, when))
	}
	return why
}

// apart says which two parts of the chain, each held on day, never held
// at the same time on it: the one ending first and the one beginning last.
func (c Chain) apart(day partnerlink.Period, when string) string {
	type part struct {
		name string
		p    partnerlink.Period
	}
	parts := []part{
		{fmt.Sprintf("partner ID %s (registered, with its global ID for a location ID, %s)", c.PartnerID, periodText(c.PartnerPeriod)), c.PartnerPeriod},
		{fmt.Sprintf("principal %s (enabled %s)", c.ObjectID, periodText(c.PrincipalPeriod)), c.PrincipalPeriod},
		{fmt.Sprintf("the link of principal %s in tenant %s (linked %s)", c.ObjectID, c.LinkTenantID, periodText(c.LinkPeriod)), c.LinkPeriod},
	}
	for _, m := range c.Memberships {
		parts = append(parts, part{fmt.Sprintf("%s's membership of group %s (%s)", m.MemberID, m.GroupID, periodText(m.Period)), m.Period},
			part{fmt.Sprintf("group %s (exists %s)", m.GroupID, periodText(m.GroupPeriod)), m.GroupPeriod})
	}
	parts = append(parts, part{fmt.Sprintf("%s (%s)", c.access(), periodText(c.AssignmentPeriod)), c.AssignmentPeriod})
	ends, begins := -1, -1
	var end, begin time.Time
	for i, pt := range parts {
		q, ok := pt.p.Intersect(day)
		if !ok {
			continue
		}
		if ends < 0 || q.To.Before(end) {
			ends, end = i, q.To
		}
		if begins < 0 || q.From.After(begin) {
			begins, begin = i, q.From
		}
	}
	if ends < 0 || begins < 0 || end.After(begin) {
		return fmt.Sprintf("the link, memberships and %s never held at the same time %s (together only %s)", c.access(), when, periodText(c.Period))
	}
	return fmt.Sprintf("%s ends at %s, before %s begins at %s: they never held at the same time %s",
		parts[ends].name, end.UTC().Format(time.RFC3339), parts[begins].name, begin.UTC().Format(time.RFC3339), when)
}

// registration says when a partner ID may be credited: its own period and,
// for a location ID, its global ID's.
func (ix *Index) registration(partnerID string) string {
	for _, p := range ix.doc.Partners {
		if p.PartnerID != partnerID {
			continue
		}
		own := "registered " + periodText(partnerlink.PeriodOf(p.From, p.To))
		if p.GlobalPartnerID == nil {
			return own
		}
		for _, g := range ix.doc.Partners {
			if g.PartnerID == *p.GlobalPartnerID {
				return fmt.Sprintf("%s; its global ID %s registered %s", own, g.PartnerID, periodText(partnerlink.PeriodOf(g.From, g.To)))
			}
		}
		return own
	}
	return "not registered"
}

func (c Chain) access() string {
	if c.Via == ViaDelegation {
		return fmt.Sprintf("Lighthouse delegation %s (%s at %s)", c.AssignmentID, c.Role, c.Scope)
	}
	return fmt.Sprintf("role assignment %s (%s at %s)", c.AssignmentID, c.Role, c.Scope)
}

// String describes the chain: link → memberships → access → scope.
func (c Chain) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "partner ID %s ← link of principal %s in tenant %s %s", c.PartnerID, c.ObjectID, c.LinkTenantID, periodText(c.LinkPeriod))
	for _, m := range c.Memberships {
		fmt.Fprintf(&b, " → member of group %s %s", m.GroupID, periodText(m.Period))
	}
	fmt.Fprintf(&b, " → %s %s", c.access(), periodText(c.AssignmentPeriod))
	if c.RoleCanWrite {
		b.WriteString(" (can write)")
	} else {
		b.WriteString(" (read only)")
	}
	fmt.Fprintf(&b, "; together %s", periodText(c.Period))
	return b.String()
}

func periodText(p partnerlink.Period) string {
	if p.Empty() {
		return "never"
	}
	from, to := "always", ""
	if !p.From.IsZero() {
		from = p.From.UTC().Format(time.RFC3339)
	}
	if p.To.IsZero() {
		return "since " + from
	}
	to = p.To.UTC().Format(time.RFC3339)
	if p.From.IsZero() {
		return "until " + to
	}
	return "from " + from + " to " + to
}

// periodsText describes every enabled period of a principal ("since …",
// or "from … to …, and since …"); one is the period of the chain, used
// when the chain was built without the others.
func periodsText(all []partnerlink.Period, one partnerlink.Period) string {
	if len(all) == 0 {
		return periodText(one)
	}
	s := make([]string, len(all))
	for i, p := range all {
		s[i] = periodText(p)
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// periodLabel names a period in a reason: "on 2026-03-02" for one UTC day,
// "between … and …" otherwise.
func periodLabel(p partnerlink.Period) string {
	f := p.From.UTC()
	if f.Equal(time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, time.UTC)) && p.To.Equal(f.AddDate(0, 0, 1)) {
		return "on " + f.Format("2006-01-02")
	}
	return "between " + f.Format(time.RFC3339) + " and " + p.To.UTC().Format(time.RFC3339)
}
