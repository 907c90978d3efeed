package powerplatform

import (
	"fmt"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
)

// Explanation tells, for one resource and month, who was an attributed user
// when, which partners qualified and with what latest activity, and why the
// winner won, or why nobody was credited.
type Explanation struct {
	Resource    Resource
	Environment Environment
	Month       Month
	Metric      Metric
	Value       int64
	// Reported is false for a Customer Insights instance with no
	// unified-profiles row for the month.
	Reported    bool
	ActiveUsers int64 // distinct users with any activity row in the month
	Eligible    bool
	Attributed  []AttributedPeriod
	// Candidates are ranked: the first is the winner, when there is a credit.
	Candidates []Candidate
	// NotQualified says, per attributed user and link, why it did not make
	// its partner a candidate.
	NotQualified []string
	// Credit is the output row, when one is written.
	Credit *Credit
	// Reason is one sentence: why the winner won, or why nobody was credited.
	Reason string
}

// Explain applies the rule to resource id in month mo and tells why.
func (m *Model) Explain(a *Activity, id string, mo Month) (*Explanation, error) {
	mr, ok := m.resources[key(id)]
	if !ok {
		return nil, partnerlink.Errorf(partnerlink.ENOTFOUND, "resource %s is not among the Power Platform resources of the world", id)
	}
	if _, err := m.Check(a); err != nil {
		return nil, err
	}
	ev := m.evaluate(mr, a, mo, true)
	e := &Explanation{
		Resource:     mr.Resource,
		Environment:  mr.env,
		Month:        mo,
		Metric:       MetricOf(mr.Kind),
		Value:        ev.value,
		Reported:     ev.reported,
		ActiveUsers:  a.ActiveUsers(mr.ID, mo),
		Eligible:     mr.eligible(),
		Attributed:   ev.attributed,
		Candidates:   ev.candidates,
		NotQualified: ev.misses,
	}
	if c, ok := ev.credit(); ok {
		e.Credit = &c
	}
	e.Reason = e.reason()
	return e, nil
}

func fmtInstant(t time.Time) string {
	if t.IsZero() {
		return "no activity"
	}
	return t.UTC().Format(time.RFC3339)
}

// reason says in one sentence why the winner won or why nobody did.
func (e *Explanation) reason() string {
	r := e.Resource
	switch {
	case len(e.Attributed) == 0 && r.Kind == CustomerInsightsInstance:
		return fmt.Sprintf("no user linked to a partner was active on the instance in %s, so no partner is credited", e.Month)
	case len(e.Attributed) == 0:
		return fmt.Sprintf("the %s had no %s in %s, so no partner is credited", noun(r.Kind), roleNames(AttributedRoles(r.Kind)), e.Month)
	case len(e.Candidates) == 0:
		return fmt.Sprintf("no attributed user of the %s was linked to an active partner ID while it was attributed in %s, so no partner is credited", noun(r.Kind), e.Month)
	}
	w := e.Candidates[0]
	var why string
	if len(e.Candidates) == 1 {
		why = fmt.Sprintf("partner %s is the only candidate", w.PartnerID)
	} else {
		o := e.Candidates[1]
		switch {
		case !w.LastActivity.Equal(o.LastActivity):
			why = fmt.Sprintf("partner %s is the latest partner: its principal %s was last active on the %s at %s, after partner %s's last activity (%s)",
				w.PartnerID, w.LastActivityBy, noun(r.Kind), fmtInstant(w.LastActivity), o.PartnerID, fmtInstant(o.LastActivity))
		case !w.LinkCreated.Equal(o.LinkCreated):
			why = fmt.Sprintf("partners %s and %s were last active at the same instant (%s); partner %s wins with the most recently created link (%s, against %s)",
				w.PartnerID, o.PartnerID, fmtInstant(w.LastActivity), w.PartnerID, fmtInstant(w.LinkCreated), fmtInstant(o.LinkCreated))
		default:
			why = fmt.Sprintf("partners %s and %s tie on latest activity (%s) and link creation (%s); the lowest partner ID, %s, wins",
				w.PartnerID, o.PartnerID, fmtInstant(w.LastActivity), fmtInstant(w.LinkCreated), w.PartnerID)
		}
	}
	switch {
	case e.Credit != nil:
		return why + fmt.Sprintf("; it is credited with %s %d", e.Metric, e.Value)
	case r.Kind == CustomerInsightsInstance && !e.Reported:
		return why + ", but no unified profiles were reported for the month, so no row is written"
	default:
		return why + fmt.Sprintf(", but %s is 0 for the month, so no row is written", e.Metric)
	}
}

func roleNames(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = strings.ToLower(string(r))
	}
	return strings.Join(s, " or ")
}

// String renders the explanation for a person.
func (e *Explanation) String() string {
	var b strings.Builder
	r := e.Resource
	fmt.Fprintf(&b, "%s %s (tenant %s, environment %s, %s), %s\n", r.Kind, r.ID, r.TenantID, r.EnvironmentID, e.Environment.Type, e.Month)
	elig := "not program-eligible"
	if e.Eligible {
		elig = "program-eligible"
	}
	fmt.Fprintf(&b, "  %s: %d (%d users active); paid=%t, %s\n", e.Metric, e.Value, e.ActiveUsers, r.Paid, elig)
	fmt.Fprintf(&b, "  attributed users:\n")
	if len(e.Attributed) == 0 {
		fmt.Fprintf(&b, "    none\n")
	}
	for _, ap := range e.Attributed {
		fmt.Fprintf(&b, "    %s as %s over %s\n", ap.PrincipalID, ap.Role, fmtPeriod(ap.Period))
	}
	fmt.Fprintf(&b, "  candidate partners (latest first):\n")
	if len(e.Candidates) == 0 {
		fmt.Fprintf(&b, "    none\n")
	}
	for _, c := range e.Candidates {
		by := ""
		if c.LastActivityBy != "" {
			by = " by " + c.LastActivityBy
		}
		fmt.Fprintf(&b, "    %s: last activity %s%s, link created %s\n", c.PartnerID, fmtInstant(c.LastActivity), by, fmtInstant(c.LinkCreated))
		for _, q := range c.Qualifications {
			fmt.Fprintf(&b, "      through %s over %s\n", q.PrincipalID, fmtPeriod(q.Period))
		}
	}
	for _, n := range e.NotQualified {
		fmt.Fprintf(&b, "  not qualified: %s\n", n)
	}
	fmt.Fprintf(&b, "  %s\n", e.Reason)
	return b.String()
}
