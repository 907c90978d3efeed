package powerplatform

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
)

// RoleActiveUser names, in attributed periods, a Customer Insights user
// attributed because it was active on the instance in the month.
const RoleActiveUser Role = "ActiveUser"

// AttributedPeriod says PrincipalID was an attributed user of a resource
// over Period (inside one month), by holding Role.
type AttributedPeriod struct {
	PrincipalID string
	Role        Role
	Period      partnerlink.Period
}

// Qualification is one way a partner qualified: PrincipalID, linked to
// PartnerID, was an attributed user over Period (the intersection of the
// link, the attributed period, the principal's and the partner ID's
// periods, and the month).
type Qualification struct {
	PartnerID   string
	PrincipalID string
	Period      partnerlink.Period
	LinkCreated time.Time
}

// Candidate is a partner that qualified for a resource in a month, with
// what ranks it: the latest activity of its qualifying principals on the
// resource up to the end of the month, and its most recently created link.
type Candidate struct {
	PartnerID      string
	Qualifications []Qualification
	LastActivity   time.Time // zero when its principals have no activity
	LastActivityBy string
	LinkCreated    time.Time
}

// Credit is one row of the --powerplatform output (docs/api.md#attribution-csv): the partner
// credited with a resource's metric for a month.
type Credit struct {
	PartnerID     string
	TenantID      string
	EnvironmentID string
	ResourceID    string
	Kind          Kind
	Month         Month
	Metric        Metric
	Value         int64
	Eligible      bool
}

// Header is the header of the --powerplatform output.
var Header = []string{"PartnerId", "TenantId", "EnvironmentId", "ResourceId", "ResourceKind", "Month", "Metric", "Value", "Eligible"}

// Record returns the credit as output fields, in Header's order.
func (c Credit) Record() []string {
	return []string{c.PartnerID, c.TenantID, c.EnvironmentID, c.ResourceID, string(c.Kind), c.Month.String(),
		string(c.Metric), strconv.FormatInt(c.Value, 10), strconv.FormatBool(c.Eligible)}
}

// evaluation is the rule applied to one resource and month.
type evaluation struct {
	mr         *modelResource
	month      Month
	value      int64
	reported   bool // for Customer Insights: a profiles row exists
	attributed []AttributedPeriod
	candidates []Candidate // ranked: the winner first
	misses     []string    // why attributed users did not qualify (explain only)
}

// metricValue returns the month's metric of the resource, and for Customer
// Insights whether a profiles row reported it.
func metricValue(mr *modelResource, a *Activity, mo Month) (int64, bool) {
	if mr.Kind == CustomerInsightsInstance {
		return a.UnifiedProfiles(mr.ID, mo)
	}
	return a.MAU(mr.ID, mo), true
}

// attributedPeriods returns who was an attributed user of mr during mo
// (docs/rules.md#power-platform, first table), sorted by principal, start and role.
func (m *Model) attributedPeriods(mr *modelResource, a *Activity, mo Month) []AttributedPeriod {
	var out []AttributedPeriod
	month := mo.Period()
	if mr.Kind == CustomerInsightsInstance {
		// Every user active on the instance in the month. Only linked users
		// can make a partner a candidate, so only they are looked up; the
		// count of all active users is shown by Explain.
		for _, c := range m.linked[mr.TenantID] {
			if _, ok := a.userCell(mr.ID, c, mo); ok {
				out = append(out, AttributedPeriod{PrincipalID: c, Role: RoleActiveUser, Period: month})
			}
		}
		return out
	}
	roles := AttributedRoles(mr.Kind)
	for _, h := range mr.history {
		if !slices.Contains(roles, h.Role) {
			continue
		}
		if p, ok := h.Period.Intersect(month); ok {
			out = append(out, AttributedPeriod{PrincipalID: h.PrincipalID, Role: h.Role, Period: p})
		}
	}
	slices.SortFunc(out, func(x, y AttributedPeriod) int {
		if c := strings.Compare(x.PrincipalID, y.PrincipalID); c != 0 {
			return c
		}
		if c := x.Period.From.Compare(y.Period.From); c != 0 {
			return c
		}
		return strings.Compare(string(x.Role), string(y.Role))
	})
	return out
}

// lastActivity is c's latest activity on mr at or before the end of mo: the
// latest activity row, or the latest start of a period in which c held a
// role on mr (being made owner, creator or publisher, or co-owner).
func (m *Model) lastActivity(mr *modelResource, a *Activity, c string, mo Month) time.Time {
	t, _ := a.lastActivity(mr.ID, c, mo)
	end := mo.End()
	for _, h := range mr.history {
		if h.PrincipalID == c && !h.Period.From.IsZero() && h.Period.From.Before(end) && h.Period.From.After(t) {
			t = h.Period.From
		}
	}
	return t
}

func fmtPeriod(p partnerlink.Period) string {
	f, t := "the beginning", "now"
	if !p.From.IsZero() {
		f = p.From.UTC().Format(time.RFC3339)
	}
	if !p.To.IsZero() {
		t = p.To.UTC().Format(time.RFC3339)
	}
	return "[" + f + ", " + t + ")"
}

// evaluate applies the rule to one resource and month. With explain set it
// also records why attributed users did not qualify.
func (m *Model) evaluate(mr *modelResource, a *Activity, mo Month, explain bool) *evaluation {
	ev := &evaluation{mr: mr, month: mo}
	ev.value, ev.reported = metricValue(mr, a, mo)
	ev.attributed = m.attributedPeriods(mr, a, mo)
	miss := func(format string, args ...any) {
		if explain {
			ev.misses = append(ev.misses, fmt.Sprintf(format, args...))
		}
	}
	byPartner := map[string]*Candidate{}
	for _, ap := range ev.attributed {
		c := ap.PrincipalID
		pk := principalKey(mr.TenantID, c)
		links := m.links[pk]
		if len(links) == 0 {
			miss("%s (%s %s) has no partner link in tenant %s", c, ap.Role, fmtPeriod(ap.Period), mr.TenantID)
			continue
		}
		info := m.principals[pk]
		for _, l := range links {
			in, ok := ap.Period.Intersect(l.period)
			if !ok {
				miss("%s's link to partner %s over %s does not overlap its %s period %s", c, l.partnerID, fmtPeriod(l.period), ap.Role, fmtPeriod(ap.Period))
				continue
			}
			if info == nil {
				miss("%s is linked to partner %s but is not a principal of tenant %s in the directory", c, l.partnerID, mr.TenantID)
				continue
			}
			partnerPeriods, registered := m.partners[l.partnerID]
			if !registered {
				miss("%s is linked to partner ID %s, which is not in the partner registry", c, l.partnerID)
				continue
			}
			found := false
			for _, pp := range info.periods {
				in2, ok := in.Intersect(pp)
				if !ok {
					continue
				}
				for _, qp := range partnerPeriods {
					in3, ok := in2.Intersect(qp)
					if !ok {
						continue
					}
					found = true
					cand := byPartner[l.partnerID]
					if cand == nil {
						cand = &Candidate{PartnerID: l.partnerID}
						byPartner[l.partnerID] = cand
					}
					cand.Qualifications = append(cand.Qualifications, Qualification{PartnerID: l.partnerID, PrincipalID: c, Period: in3, LinkCreated: l.created})
				}
			}
			if !found {
				miss("%s's link to partner %s overlaps its %s period over %s, but the principal (exists %s) or the partner ID (active %s) was not in force then",
					c, l.partnerID, ap.Role, fmtPeriod(in), fmtPeriods(info.periods), fmtPeriods(partnerPeriods))
			}
		}
	}
	for _, cand := range byPartner {
		last := make(map[string]time.Time, len(cand.Qualifications)) // by principal
		for _, q := range cand.Qualifications {
			t, seen := last[q.PrincipalID]
			if !seen {
				t = m.lastActivity(mr, a, q.PrincipalID, mo)
				last[q.PrincipalID] = t
			}
			if t.After(cand.LastActivity) ||
				(t.Equal(cand.LastActivity) && !t.IsZero() && q.PrincipalID < cand.LastActivityBy) {
				cand.LastActivity, cand.LastActivityBy = t, q.PrincipalID
			}
		}
		// The tie-break looks only at the links of the principals that have
		// the partner's most recent activity (docs/rules.md, "Power
		// Platform"): a newer link of a principal whose activity is older
		// does not count.
		for _, q := range cand.Qualifications {
			if last[q.PrincipalID].Equal(cand.LastActivity) && q.LinkCreated.After(cand.LinkCreated) {
				cand.LinkCreated = q.LinkCreated
			}
		}
		slices.SortFunc(cand.Qualifications, func(x, y Qualification) int {
			if c := strings.Compare(x.PrincipalID, y.PrincipalID); c != 0 {
				return c
			}
			return x.Period.From.Compare(y.Period.From)
		})
		ev.candidates = append(ev.candidates, *cand)
	}
	slices.SortFunc(ev.candidates, compareCandidates)
	return ev
}

func fmtPeriods(ps []partnerlink.Period) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = fmtPeriod(p)
	}
	return strings.Join(s, ", ")
}

// compareCandidates ranks the latest partner first (docs/rules.md#power-platform): the most
// recent activity, then the most recently created link, then the lowest
// partner ID.
func compareCandidates(x, y Candidate) int {
	if c := y.LastActivity.Compare(x.LastActivity); c != 0 {
		return c
	}
	if c := y.LinkCreated.Compare(x.LinkCreated); c != 0 {
		return c
	}
	return comparePartnerIDs(x.PartnerID, y.PartnerID)
}

// comparePartnerIDs orders partner IDs as numbers: they are digit strings,
// so a shorter one (without leading zeros) is lower.
func comparePartnerIDs(a, b string) int {
	ta, tb := strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(ta) != len(tb) {
		return len(ta) - len(tb)
	}
	if c := strings.Compare(ta, tb); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// credit returns the evaluation's credit, if a partner wins and the value
// is not zero.
func (ev *evaluation) credit() (Credit, bool) {
	if len(ev.candidates) == 0 || ev.value == 0 {
		return Credit{}, false
	}
	mr := ev.mr
	return Credit{
		PartnerID:     ev.candidates[0].PartnerID,
		TenantID:      mr.TenantID,
		EnvironmentID: mr.EnvironmentID,
		ResourceID:    mr.ID,
		Kind:          mr.Kind,
		Month:         ev.month,
		Metric:        MetricOf(mr.Kind),
		Value:         ev.value,
		Eligible:      mr.eligible(),
	}, true
}

// Credits computes the credit of every resource for every month whose
// first day lies in [from, to): at most one partner per resource and month,
// rows with value 0 left out, sorted by every output column (docs/rules.md#power-platform, docs/api.md#attribution-csv).
// The activity must agree with the world (see Check).
func (m *Model) Credits(a *Activity, from, to time.Time) ([]Credit, error) {
	if _, err := m.Check(a); err != nil {
		return nil, err
	}
	return m.credits(a, from, to), nil
}

// credits is Credits on activity already checked against the world.
func (m *Model) credits(a *Activity, from, to time.Time) []Credit {
	var out []Credit
	months := partnerlink.MonthsIn(from, to)
	for _, mr := range m.ordered {
		for _, mo := range months {
			// The metric is cheap; skip the partner choice when there is
			// nothing to credit.
			if v, _ := metricValue(mr, a, mo); v == 0 {
				continue
			}
			if c, ok := m.evaluate(mr, a, mo, false).credit(); ok {
				out = append(out, c)
			}
		}
	}
	SortCredits(out)
	return out
}

// SortCredits sorts credits by every output column, in order, as written.
func SortCredits(cs []Credit) {
	// Records are built once, not in every comparison.
	type row struct {
		rec []string
		c   Credit
	}
	rows := make([]row, len(cs))
	for i, c := range cs {
		rows[i] = row{c.Record(), c}
	}
	slices.SortFunc(rows, func(x, y row) int { return slices.Compare(x.rec, y.rec) })
	for i, r := range rows {
		cs[i] = r.c
	}
}

// WriteCSV writes the header and the credits as docs/api.md#attribution-csv CSV.
func WriteCSV(w io.Writer, cs []Credit) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Header); err != nil {
		return err
	}
	for _, c := range cs {
		if err := cw.Write(c.Record()); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
