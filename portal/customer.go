package portal

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/api"
	"github.com/partnerlink/partnerlink/report"
)

// customerView is the customer administrator's page: who is linked in the
// tenant, with which credentials and scopes, what each partner ID was
// credited with, and the audit trail of link changes and notifications.
type customerView struct {
	Links         []api.LinkedCredential
	Events        []api.Event
	Notifications []api.Notification
	Months        []api.ClosedMonth
	Month         string
	Report        *report.CustomerReport
	Chart         chart
}

// customer reads the tenant's views from the API with the account's token:
// an account that cannot read at the tenant's root gets the API's refusal.
func (p *Portal) customer(w http.ResponseWriter, r *http.Request, v *view, token string) {
	v.Title, v.Page = "Customer view", "customer"
	ctx := r.Context()
	base := "/tenants/" + v.Directory.ID
	cv := &customerView{}
	var links struct {
		Value []api.LinkedCredential `json:"value"`
	}
	var events struct {
		Value []api.Event `json:"value"`
	}
	var notes struct {
		Value []api.Notification `json:"value"`
	}
	var months struct {
		Value []api.ClosedMonth `json:"value"`
	}
	for _, c := range []struct {
		path string
		out  any
	}{{base + "/links", &links}, {base + "/link-events", &events}, {base + "/notifications", &notes}, {"/reports", &months}} {
		if err := p.api(ctx, c.path, token, c.out); err != nil {
			if partnerlink.ErrorCode(err) == partnerlink.EFORBIDDEN {
				// Say what the view needs rather than the API's wording.
				err = partnerlink.Errorf(partnerlink.EFORBIDDEN, "The customer view of %s is for accounts that can read at the directory's root "+
					"(a role such as Reader at /, held by the account or a group it is in); yours cannot. (%s)",
					v.Directory.Name, partnerlink.ErrorMessage(err))
			}
			p.fail(w, r, v, err)
			return
		}
	}
	cv.Links, cv.Events, cv.Notifications, cv.Months = links.Value, events.Value, notes.Value, months.Value
	slices.Reverse(cv.Events) // newest first
	month, err := chosenMonth(r, cv.Months)
	if err != nil {
		p.fail(w, r, v, err)
		return
	}
	cv.Month = month
	if month != "" {
		var reps []report.CustomerReport // the API answers a list of months
		if err := p.api(ctx, base+"/reports/"+month, token, &reps); err != nil {
			p.fail(w, r, v, err)
			return
		}
		if len(reps) != 1 {
			p.fail(w, r, v, fmt.Errorf("portal: %d customer reports for %s", len(reps), month))
			return
		}
		cv.Report = &reps[0]
		var byPartner totals
		for _, l := range cv.Report.Credits {
			if err := byPartner.add(l.PartnerID, total{PartnerID: l.PartnerID, Name: l.PartnerName + " (" + l.PartnerID + ")", Currency: l.Currency},
				l.Attributed, l.Eligible, l.UsageRows); err != nil {
				p.fail(w, r, v, err)
				return
			}
		}
		cv.Chart = chartOf("hbar", "Credited consumption by partner ID, "+month, byPartner.list())
		v.Charts = true
	}
	v.Data = cv
	p.render(w, r, http.StatusOK, "customer", *v)
}

// chosenMonth is the month the request names, which must be closed, or
// the latest closed month ("" when none is).
func chosenMonth(r *http.Request, months []api.ClosedMonth) (string, error) {
	m := r.FormValue("month")
	if m == "" {
		if len(months) == 0 {
			return "", nil
		}
		return months[0].Month, nil
	}
	if !slices.ContainsFunc(months, func(c api.ClosedMonth) bool { return c.Month == m }) {
		return "", partnerlink.Errorf(partnerlink.EINVALID, "month %q is not a closed month; closed: %s", m, closedList(months))
	}
	return m, nil
}

// customerDownload: the customer report of a closed month (csv, json).
func (p *Portal) customerDownload(w http.ResponseWriter, r *http.Request, v *view, token string) {
	var months struct {
		Value []api.ClosedMonth `json:"value"`
	}
	err := p.api(r.Context(), "/reports", token, &months)
	month := ""
	if err == nil {
		month, err = chosenMonth(r, months.Value)
	}
	if err == nil && month == "" {
		err = partnerlink.Errorf(partnerlink.ENOTFOUND, "no month is closed yet, so there is no customer report")
	}
	format, ext := "", ""
	if err == nil {
		format, ext, err = reportFormat(r, report.FormatCSV, report.FormatJSON)
	}
	if err != nil {
		p.fail(w, r, v, err)
		return
	}
	p.download(w, r, v, "/tenants/"+v.Directory.ID+"/reports/"+month+"?"+url.Values{"format": {format}}.Encode(), token,
		fmt.Sprintf("customer-%s-%s.%s", v.Directory.ID, month, ext))
}
