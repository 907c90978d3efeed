package report

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/attribution"
	"github.com/partnerlink/partnerlink/world"
)

// Unlinked is a credential of a partner organization (a guest whose home
// tenant is one of the organization's, or a service principal of one of
// its apps) that held roles in a customer tenant during the month without
// being linked to any of the organization's IDs, with what linking it
// would have credited (docs/rules.md#monthly-close, "Unlinked credit").
type Unlinked struct {
	GlobalPartnerID string   `json:"globalPartnerId"` // the organization
	TenantID        string   `json:"tenantId"`
	ObjectID        string   `json:"objectId"`
	Type            string   `json:"type"`
	DisplayName     string   `json:"displayName"`
	AppID           string   `json:"appId,omitempty"`
	SignInName      string   `json:"signInName,omitempty"`
	Access          []Access `json:"access"`
	Credit          []Amount `json:"credit"`
}

// Amount is a credit in one currency.
type Amount struct {
	Currency   string `json:"currency"`
	Attributed string `json:"attributedCost"`
	Eligible   string `json:"incentiveEligibleCost"`
	UsageRows  int64  `json:"usageRows"`
}

// whatIf is the world with every unlinked credential of every partner
// organization linked, each to a partner ID of its own (pseudo), from the
// month's start: attribution on it credits each pseudo ID with what the
// link would have credited.
type whatIf struct {
	doc    *world.Document
	pseudo map[string]*Unlinked // pseudo partner ID → the credential
}

// newWhatIf finds the unlinked credentials of the month and builds the
// world where they are linked; nil when there are none.
func newWhatIf(doc *world.Document, month partnerlink.Period) *whatIf {
	org := map[string]string{}     // partner ID → organization
	homes := map[string][]string{} // organization → its home tenants
	known := map[string]bool{}
	for _, p := range doc.Partners {
		o := p.PartnerID
		if p.GlobalPartnerID != nil && *p.GlobalPartnerID != "" {
			o = *p.GlobalPartnerID
		}
		org[p.PartnerID] = o
		homes[o] = append(homes[o], p.HomeTenantIDs...)
		known[p.PartnerID] = true
	}
	linked := map[[3]string]bool{} // tenant, object, organization
	for _, l := range doc.Links {
		if _, ok := partnerlink.PeriodOf(l.From, l.To).Intersect(month); ok {
			linked[[3]string{l.TenantID, l.ObjectID, org[l.PartnerID]}] = true
		}
	}
	orgs := make([]string, 0, len(homes))
	for o := range homes {
		orgs = append(orgs, o)
	}
	slices.Sort(orgs)
	w := &whatIf{pseudo: map[string]*Unlinked{}}
	var links []world.Link
	next := 9_999_000_000
	for _, p := range doc.Principals {
		if p.Type != "Guest" && p.Type != "ServicePrincipal" || p.HomeTenantID == nil || p.CSPDelegated {
			continue
		}
		if _, ok := partnerlink.PeriodOf(p.From, p.To).Intersect(month); !ok {
			continue
		}
		for _, o := range orgs {
			if !slices.Contains(homes[o], *p.HomeTenantID) || slices.Contains(homes[o], p.TenantID) || linked[[3]string{p.TenantID, p.ObjectID, o}] {
				continue
			}
			id := ""
			for ; id == "" || known[id]; next++ {
				id = fmt.Sprint(next)
			}
			known[id] = true
			u := &Unlinked{GlobalPartnerID: o, TenantID: p.TenantID, ObjectID: p.ObjectID, Type: p.Type, DisplayName: p.DisplayName,
				SignInName: p.SignInName, Access: []Access{}, Credit: []Amount{}}
			if p.AppID != nil {
				u.AppID = *p.AppID
			}
			w.pseudo[id] = u
			from := month.From
			links = append(links, world.Link{TenantID: p.TenantID, ObjectID: p.ObjectID, PartnerID: id, From: &from})
		}
	}
	if len(w.pseudo) == 0 {
		return nil
	}
	d := *doc
	d.Partners = slices.Clone(doc.Partners)
	for id := range w.pseudo {
		d.Partners = append(d.Partners, world.Partner{PartnerID: id, Name: "unlinked " + id})
	}
	// Only the pseudo links: the what-if run credits nothing else, and a
	// credential linked to another organization is linked here to this one
	// instead (a principal has one link at a time).
	d.Links = nil
	// One principal may be a candidate of several organizations (a guest
	// whose home tenant two organizations share); it can hold one link, so
	// only the first organization's is kept.
	seen := map[[2]string]bool{}
	for _, l := range links {
		k := [2]string{l.TenantID, l.ObjectID}
		if seen[k] {
			delete(w.pseudo, l.PartnerID)
			continue
		}
		seen[k] = true
		d.Links = append(d.Links, l)
	}
	w.doc = &d
	return w
}

// access is the access each unlinked credential (by its pseudo partner
// ID) held during the month, from the what-if world's chains: what its
// link would have been credited through.
func (w *whatIf) access(ix *attribution.Index, doc *world.Document, month partnerlink.Period) map[string][]Access {
	a := w.accessOf(doc, month)
	chains := ix.Chains()
	for i := range chains {
		a.add(&chains[i]) // a chain is a few hundred bytes: not copied
	}
	return a.out
}

// accessOf gathers what access returns, one chain of the what-if world at
// a time (as credentialsOf).
type accessOf struct {
	w     *whatIf
	month partnerlink.Period
	rs    *roles
	out   map[string][]Access
}

func (w *whatIf) accessOf(doc *world.Document, month partnerlink.Period) *accessOf {
	return &accessOf{w: w, month: month, rs: newRoles(doc), out: map[string][]Access{}}
}

// add takes one chain into account; it keeps nothing of ch itself.
func (a *accessOf) add(ch *attribution.Chain) {
	if a.w.pseudo[ch.PartnerID] == nil || !ch.Grants() {
		return
	}
	if _, ok := ch.Period.Intersect(a.month); !ok {
		return
	}
	x := access(ch, a.rs)
	if !slices.Contains(a.out[ch.PartnerID], x) {
		a.out[ch.PartnerID] = append(a.out[ch.PartnerID], x)
	}
}

// unlinked turns the what-if attribution into the month's unlinked
// credentials: those whose link would have given a grant in the month
// (access, from whatIf.access).
func (w *whatIf) unlinked(access map[string][]Access, res *attribution.Result) ([]Unlinked, error) {
	amounts := map[[2]string]*Amount{}
	for _, cr := range res.Credits() {
		if w.pseudo[cr.PartnerID] == nil {
			continue
		}
		k := [2]string{cr.PartnerID, cr.BillingCurrency}
		a := amounts[k]
		if a == nil {
			a = &Amount{Currency: cr.BillingCurrency, Attributed: "0", Eligible: "0"}
			amounts[k] = a
		}
		if err := errors.Join(addTo(&a.Attributed, cr.AttributedCost.String()), addTo(&a.Eligible, cr.IncentiveEligibleCost.String())); err != nil {
			return nil, err
		}
		a.UsageRows += cr.UsageRows
	}
	var out []Unlinked
	for id, p := range w.pseudo {
		if len(access[id]) == 0 {
			continue // no role in the month: nothing to link for
		}
		u := *p
		u.Access = slices.Clone(access[id])
		u.Credit = slices.Clone(u.Credit)
		for k, a := range amounts {
			if k[0] == id {
				u.Credit = append(u.Credit, *a)
			}
		}
		slices.SortFunc(u.Credit, func(a, b Amount) int { return strings.Compare(a.Currency, b.Currency) })
		sortAccess(u.Access)
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b Unlinked) int {
		return cmp.Or(strings.Compare(a.GlobalPartnerID, b.GlobalPartnerID), strings.Compare(a.TenantID, b.TenantID), strings.Compare(a.ObjectID, b.ObjectID))
	})
	return out, nil
}

// UnlinkedReport is the credit a partner organization is missing in a
// month: its credentials that held roles in customer tenants unlinked.
type UnlinkedReport struct {
	Month       string          `json:"month"`
	Version     int             `json:"version"`
	PartnerID   string          `json:"partnerId"` // the ID each credential would link to
	Credentials []UnlinkedEntry `json:"credentials"`
}

// UnlinkedEntry is one unlinked credential with the command that links it.
type UnlinkedEntry struct {
	Unlinked
	TenantName string `json:"tenantName"`
	Command    string `json:"command"`
}

// ForUnlinked builds the unlinked credit report of partnerID's
// organization from one version.
func ForUnlinked(c *Content, version int, partnerID string) (*UnlinkedReport, error) {
	if _, err := c.Organization(partnerID); err != nil {
		return nil, err
	}
	org := partnerID
	if i := slices.IndexFunc(c.Partners, func(p Partner) bool { return p.ID == partnerID }); i >= 0 && c.Partners[i].GlobalID != "" {
		org = c.Partners[i].GlobalID
	}
	r := &UnlinkedReport{Month: c.Month, Version: version, PartnerID: partnerID, Credentials: []UnlinkedEntry{}}
	// A global ID with location IDs is not linked (docs/rules.md#linking):
	// the command names its location ID, or asks for one of them.
	link, choice := partnerID, ""
	var locations []string
	for _, p := range c.Partners {
		if p.GlobalID == partnerID {
			locations = append(locations, p.ID)
		}
	}
	slices.Sort(locations)
	switch len(locations) {
	case 0:
	case 1:
		link = locations[0]
	default:
		link, choice = "LOCATION_ID", "  # LOCATION_ID: one of "+strings.Join(locations, ", ")
	}
	for _, u := range c.Unlinked {
		if u.GlobalPartnerID != org {
			continue
		}
		e := UnlinkedEntry{Unlinked: u, TenantName: c.tenantName(u.TenantID)}
		// The password or secret is asked for when the command runs.
		if u.Type == "ServicePrincipal" {
			e.Command = fmt.Sprintf("partnerlink login --service-principal -u %s --tenant %s && partnerlink link create --partner-id %s%s",
				cmp.Or(u.AppID, "APP_ID"), u.TenantID, link, choice)
		} else {
			e.Command = fmt.Sprintf("partnerlink login --tenant %s -u %s && partnerlink link create --partner-id %s%s",
				u.TenantID, cmp.Or(u.SignInName, "YOUR_SIGN_IN_NAME"), link, choice)
		}
		r.Credentials = append(r.Credentials, e)
	}
	return r, nil
}

// UnlinkedCSVHeader is the header of the unlinked report's csv format.
const UnlinkedCSVHeader = "Month,PartnerId,CustomerTenantId,CustomerName,ObjectId,Type,DisplayName,Scopes,BillingCurrency,AttributedCost,IncentiveEligibleCost,Command"

// WriteUnlinked writes unlinked credit reports (one per month) in format.
func WriteUnlinked(w io.Writer, reports []*UnlinkedReport, format string) error {
	scopes := func(u Unlinked) string {
		var s []string
		for _, a := range u.Access {
			s = append(s, a.Role+" at "+a.Scope)
		}
		return strings.Join(s, "; ")
	}
	switch format {
	case FormatJSON:
		return writeJSON(w, reports)
	case FormatCSV:
		var rows [][]string
		for _, r := range reports {
			for _, e := range r.Credentials {
				credit := e.Credit
				if len(credit) == 0 {
					credit = []Amount{{Attributed: "0", Eligible: "0"}}
				}
				for _, a := range credit {
					rows = append(rows, []string{r.Month, r.PartnerID, e.TenantID, e.TenantName, e.ObjectID, e.Type, e.DisplayName, scopes(e.Unlinked),
						a.Currency, a.Attributed, a.Eligible, e.Command})
				}
			}
		}
		return writeCSV(w, strings.Split(UnlinkedCSVHeader, ","), rows)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range reports {
		fmt.Fprintf(tw, "Unlinked credit %s (version %d) for %s\n\n", r.Month, r.Version, r.PartnerID)
		if len(r.Credentials) == 0 {
			fmt.Fprintln(tw, "Every credential of the organization that held a role in a customer tenant was linked.")
		}
		for _, e := range r.Credentials {
			fmt.Fprintf(tw, "%s (%s) in %s (%s)\n", cmp.Or(e.DisplayName, e.ObjectID), e.Type, cmp.Or(e.TenantName, e.TenantID), e.TenantID)
			fmt.Fprintf(tw, "  roles:\t%s\n", scopes(e.Unlinked))
			for _, a := range e.Credit {
				fmt.Fprintf(tw, "  would have credited:\t%s %s (%s incentive-eligible)\n", a.Attributed, a.Currency, a.Eligible)
			}
			if len(e.Credit) == 0 {
				fmt.Fprintln(tw, "  would have credited:\tnothing this month (no usage under its scopes)")
			}
			fmt.Fprintf(tw, "  link it:\t%s\n\n", e.Command)
		}
	}
	return tw.Flush()
}
