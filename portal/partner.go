package portal

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/api"
	"github.com/partnerlink/partnerlink/report"
)

// monthsOnDashboard is how many closed months the by-month chart shows.
const monthsOnDashboard = 12

// org is a partner organization the signed-in account may view, or one
// of its location IDs alone.
type org struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	IDs       []string `json:"partnerIds"`
	Locations []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"locations"`
}

// findOrg is the organization, or the location ID alone, that id names
// among orgs; ok is false when the account may view neither.
func findOrg(orgs []org, id string) (org, bool) {
	for _, o := range orgs {
		if o.ID == id {
			return o, true
		}
		for _, l := range o.Locations {
			if l.ID == id {
				return org{ID: l.ID, Name: l.Name, IDs: []string{l.ID}}, true
			}
		}
	}
	return org{}, false
}

// me is the API's answer about the caller.
type me struct {
	Partners []org `json:"partners"`
}

// partnerView is the partner dashboard's content.
type partnerView struct {
	Orgs        []org
	Org         org
	Months      []api.ClosedMonth
	Month       string // the month shown; "" when none is closed
	Version     int
	ByMonth     []total
	ByCustomer  []total
	ByService   []total
	Charts      []chart
	PP          []report.PPLine
	Credentials []api.LinkedCredential
	Unlinked    []report.UnlinkedEntry
	// The explain form's fields, filled on the explain page.
	Resource, Day string
	Explanations  []api.Explanation // one per ID of the organization
	ExplainError  string
}

// partnerContext finds the partner organization the page is about: the
// one the request names (the API refuses it when the account is not of its
// home tenant), else the first of the directory's.
func (p *Portal) partnerContext(ctx context.Context, r *http.Request, token string) (*partnerView, error) {
	var who me
	if err := p.api(ctx, "/me", token, &who); err != nil {
		return nil, err
	}
	pv := &partnerView{Orgs: who.Partners}
	want := r.FormValue("partner")
	switch {
	case want != "":
		if err := partnerlink.ValidatePartnerID(want); err != nil {
			return nil, err
		}
		var ok bool
		if pv.Org, ok = findOrg(who.Partners, want); !ok {
			// The API refuses it, in its own words, below.
			pv.Org = org{ID: want, Name: want, IDs: []string{want}}
		}
	case len(who.Partners) > 0:
		pv.Org = who.Partners[0]
	default:
		return pv, nil
	}
	var months struct {
		Value []api.ClosedMonth `json:"value"`
	}
	if err := p.api(ctx, "/reports", token, &months); err != nil {
		return nil, err
	}
	pv.Months = months.Value
	var err error
	pv.Month, err = chosenMonth(r, pv.Months)
	return pv, err
}

func closedList(ms []api.ClosedMonth) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Month)
	}
	return cmp.Or(strings.Join(s, ", "), "none")
}

// partner is the partner dashboard: credit by month, by customer and by
// service, Power Platform metrics, the linked credentials across customers
// and the unlinked credit, all read from the partner API with the
// account's token.
func (p *Portal) partner(w http.ResponseWriter, r *http.Request, v *view, token string) {
	v.Title, v.Page = "Partner dashboard", "partner"
	ctx := r.Context()
	pv, err := p.partnerContext(ctx, r, token)
	if err != nil {
		p.fail(w, r, v, err)
		return
	}
	v.Data = pv
	if pv.Org.ID == "" {
		p.render(w, r, http.StatusOK, "partner", *v)
		return
	}
	base := "/partners/" + url.PathEscape(pv.Org.ID)
	var links struct {
		Value []api.LinkedCredential `json:"value"`
	}
	if err := p.api(ctx, base+"/links", token, &links); err != nil {
		p.fail(w, r, v, err)
		return
	}
	pv.Credentials = links.Value
	if pv.Month != "" {
		if err := p.partnerMonths(ctx, pv, base, token); err != nil {
			p.fail(w, r, v, err)
			return
		}
		v.Charts = true
	}
	p.render(w, r, http.StatusOK, "partner", *v)
}

// partnerMonths reads the partner reports of the shown month and of up to
// monthsOnDashboard closed months for the trend.
func (p *Portal) partnerMonths(ctx context.Context, pv *partnerView, base, token string) error {
	var byMonth, byCustomer, byService totals
	n := min(len(pv.Months), monthsOnDashboard)
	trend := slices.Clone(pv.Months[:n])
	slices.Reverse(trend) // oldest first
	if !slices.ContainsFunc(trend, func(c api.ClosedMonth) bool { return c.Month == pv.Month }) {
		trend = append([]api.ClosedMonth{{Month: pv.Month}}, trend...) // an older month chosen
	}
	for _, m := range trend {
		var reps []report.PartnerReport // the API answers a list of months
		if err := p.api(ctx, base+"/reports/"+m.Month, token, &reps); err != nil {
			return err
		}
		if len(reps) != 1 {
			return fmt.Errorf("portal: %d partner reports for %s", len(reps), m.Month)
		}
		rep := reps[0]
		for _, l := range rep.Lines {
			if err := byMonth.add(m.Month, total{Name: m.Month, Currency: l.Currency}, l.Attributed, l.Eligible, l.UsageRows); err != nil {
				return err
			}
		}
		if m.Month != pv.Month {
			continue
		}
		pv.Version, pv.PP = rep.Version, rep.PowerPlatform
		several := len(rep.PartnerIDs) > 1
		for _, l := range rep.Lines {
			name := l.CustomerName
			if several {
				name += " · " + l.PartnerID
			}
			if err := byCustomer.add(l.PartnerID+"\x00"+l.TenantID+"\x00"+l.CustomerName,
				total{PartnerID: l.PartnerID, Name: name, Detail: l.TenantID, Currency: l.Currency}, l.Attributed, l.Eligible, l.UsageRows); err != nil {
				return err
			}
			service := cmp.Or(l.ServiceName, "(not shown)")
			if several {
				service += " · " + l.PartnerID
			}
			if err := byService.add(l.PartnerID+"\x00"+l.ServiceName, total{PartnerID: l.PartnerID, Name: service, Currency: l.Currency},
				l.Attributed, l.Eligible, l.UsageRows); err != nil {
				return err
			}
		}
	}
	pv.ByMonth, pv.ByCustomer, pv.ByService = byMonth.list(), byCustomer.list(), byService.list()
	pv.Charts = []chart{chartOf("bar", "Credited consumption by month", pv.ByMonth),
		chartOf("hbar", "Credited consumption by customer, "+pv.Month, pv.ByCustomer),
		chartOf("hbar", "Credited consumption by service, "+pv.Month, pv.ByService)}
	var unlinked []report.UnlinkedReport
	if err := p.api(ctx, base+"/reports/"+pv.Month+"/unlinked", token, &unlinked); err != nil {
		return err
	}
	for _, u := range unlinked {
		pv.Unlinked = append(pv.Unlinked, u.Credentials...)
	}
	return nil
}

// partnerExplain answers why the organization is or is not credited for
// a resource on a day (or in a month), from the partner API's explain.
func (p *Portal) partnerExplain(w http.ResponseWriter, r *http.Request, v *view, token string) {
	v.Title, v.Page = "Explain a credit", "partner"
	ctx := r.Context()
	pv, err := p.partnerContext(ctx, r, token)
	if err != nil {
		p.fail(w, r, v, err)
		return
	}
	v.Data = pv
	pv.Resource, pv.Day = strings.TrimSpace(r.FormValue("resource")), strings.TrimSpace(r.FormValue("day"))
	status := http.StatusOK
	switch {
	case pv.Org.ID == "":
	case pv.Resource == "" && pv.Day == "":
	case pv.Resource == "" || pv.Day == "":
		pv.ExplainError, status = "Enter both a resource ID and a day (YYYY-MM-DD).", http.StatusBadRequest
	default:
		q := url.Values{"resource": {pv.Resource}}
		if len(pv.Day) == len("2006-01") {
			q.Set("month", pv.Day)
		} else {
			q.Set("day", pv.Day)
		}
		for _, id := range pv.Org.IDs {
			var e api.Explanation
			if err := p.api(ctx, "/partners/"+url.PathEscape(id)+"/explain?"+q.Encode(), token, &e); err != nil {
				if partnerlink.ErrorCode(err) != partnerlink.EINVALID && partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
					p.fail(w, r, v, err)
					return
				}
				pv.ExplainError, status, pv.Explanations = partnerlink.ErrorMessage(err), http.StatusBadRequest, nil
				break
			}
			pv.Explanations = append(pv.Explanations, e)
		}
	}
	p.render(w, r, status, "explain", *v)
}

// download sends an API report as a file: the API's own bytes, with a
// file name.
func (p *Portal) download(w http.ResponseWriter, r *http.Request, v *view, path, token, name string) {
	code, b, h := call(r.Context(), p.API, http.MethodGet, p.BaseURL+"/api/v1"+path, token, nil)
	if code != http.StatusOK {
		p.fail(w, r, v, apiError(code, b))
		return
	}
	w.Header().Set("Content-Type", h.Get("Content-Type"))
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// reportFormat checks the format of a download: what the report has.
func reportFormat(r *http.Request, formats ...string) (string, string, error) {
	format := cmp.Or(r.FormValue("format"), report.FormatCSV)
	if err := report.CheckFormat("downloaded", format, formats...); err != nil {
		return "", "", err
	}
	ext := "csv"
	if format == report.FormatJSON {
		ext = "json"
	}
	return format, ext, nil
}

// partnerDownload: the partner report (csv, json, partner-center) or the
// unlinked report (kind=unlinked) of a closed month.
func (p *Portal) partnerDownload(w http.ResponseWriter, r *http.Request, v *view, token string) {
	pv, err := p.partnerContext(r.Context(), r, token)
	if err == nil && (pv.Org.ID == "" || pv.Month == "") {
		err = partnerlink.Errorf(partnerlink.ENOTFOUND, "there is no partner report to download here")
	}
	if err != nil {
		p.fail(w, r, v, err)
		return
	}
	kind, formats := "partner", []string{report.FormatCSV, report.FormatJSON, report.FormatPartnerCenter}
	path := "/partners/" + url.PathEscape(pv.Org.ID) + "/reports/" + pv.Month
	if r.FormValue("kind") == "unlinked" {
		kind, formats, path = "unlinked", []string{report.FormatCSV, report.FormatJSON}, path+"/unlinked"
	}
	format, ext, err := reportFormat(r, formats...)
	if err != nil {
		p.fail(w, r, v, err)
		return
	}
	name := fmt.Sprintf("%s-%s-%s.%s", kind, pv.Org.ID, pv.Month, ext)
	if format == report.FormatPartnerCenter {
		name = fmt.Sprintf("partner-center-%s-%s.csv", pv.Org.ID, pv.Month)
	}
	p.download(w, r, v, path+"?format="+format, token, name)
}
