package api

import (
	"context"
	"net/http"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/attribution"
	"github.com/partnerlink/partnerlink/world"
)

// Exporter gives the whole state as a world document (the engine's input).
type Exporter interface {
	ExportWorld(ctx context.Context) (*world.Document, error)
}

// ExplainPeriod reads ?day=YYYY-MM-DD or ?month=YYYY-MM.
func ExplainPeriod(day, month string) (partnerlink.Period, error) {
	switch {
	case (day == "") == (month == ""):
		return partnerlink.Period{}, partnerlink.Errorf(partnerlink.EINVALID, "give exactly one of day=YYYY-MM-DD or month=YYYY-MM")
	case day != "":
		d, err := time.Parse("2006-01-02", day)
		if err != nil {
			return partnerlink.Period{}, partnerlink.Errorf(partnerlink.EINVALID, "day %q is not a day of the calendar: expected YYYY-MM-DD such as 2026-03-01", day)
		}
		if err := partnerlink.CheckYear(day, d); err != nil {
			return partnerlink.Period{}, partnerlink.Errorf(partnerlink.EINVALID, "day: %v", err)
		}
		return partnerlink.Period{From: d, To: d.AddDate(0, 0, 1)}, nil
	}
	mo, err := partnerlink.ParseMonth(month)
	if err != nil {
		return partnerlink.Period{}, partnerlink.Errorf(partnerlink.EINVALID, "month: %v", err)
	}
	return mo.Period(), nil
}

func (h *Handler) explain(r *http.Request, partnerID string) (*attribution.Explanation, error) {
	q := r.URL.Query()
	period, err := ExplainPeriod(q.Get("day"), q.Get("month"))
	if err != nil {
		return nil, err
	}
	ix, err := h.explainIndex.get(r.Context(), h.Store)
	if err != nil {
		return nil, err
	}
	return ix.ExplainIn(partnerID, q.Get("subscription"), q.Get("resource"), period)
}

// partnerExplain: GET /api/v1/partners/{p}/explain?resource=&day= — for the
// partner organization's principals, who learn a subscription's tenant only
// where the partner has a link (Explanation.ForPartner).
func (h *Handler) partnerExplain(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	if _, err := h.partnerAccess(r, c); err != nil {
		return err
	}
	e, err := h.explain(r, r.PathValue("partner"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ExplanationView(e.ForPartner()))
	return nil
}

// tenantExplain: GET /api/v1/tenants/{t}/explain?partner=&resource=&day= —
// for the customer's administrators, about resources of their tenant.
func (h *Handler) tenantExplain(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	tenant, err := h.tenantAccess(r, c, readLinks)
	if err != nil {
		return err
	}
	e, err := h.explain(r, r.URL.Query().Get("partner"))
	if err != nil {
		return err
	}
	if e.TenantID != tenant {
		// Another tenant's, or no tenant's: the same answer, so that it
		// does not tell which subscriptions exist elsewhere.
		return partnerlink.ARMErrorf(partnerlink.EFORBIDDEN, "AuthorizationFailed",
			"Resource %s is not in tenant %s.", e.ResourceID, tenant)
	}
	writeJSON(w, http.StatusOK, ExplanationView(e))
	return nil
}

// Explanation is attribution.Explanation as the API and the CLI's JSON
// output show it.
type Explanation struct {
	PartnerID         string      `json:"partnerId"`
	ResourceID        string      `json:"resourceId"`
	From              time.Time   `json:"from"`
	To                time.Time   `json:"to"`
	TenantID          string      `json:"tenantId,omitempty"`
	SubscriptionID    string      `json:"subscriptionId,omitempty"`
	Credited          bool        `json:"credited"`
	IncentiveEligible bool        `json:"incentiveEligible"`
	Chains            []ChainView `json:"chains"`
	Reason            string      `json:"reason,omitempty"`
}

// ChainView is one crediting chain: link → memberships → access → scope.
type ChainView struct {
	Text         string   `json:"text"`
	LinkTenantID string   `json:"linkTenantId"`
	ObjectID     string   `json:"objectId"`
	Groups       []string `json:"groups"`
	Via          string   `json:"via"`
	AssignmentID string   `json:"assignmentId"`
	Role         string   `json:"role"`
	RoleCanWrite bool     `json:"roleCanWrite"`
	Scope        string   `json:"scope"`
}

// ExplanationView converts an engine explanation for output.
func ExplanationView(e *attribution.Explanation) Explanation {
	v := Explanation{PartnerID: e.PartnerID, ResourceID: e.ResourceID, From: e.Day.From, To: e.Day.To, TenantID: e.TenantID,
		SubscriptionID: e.SubscriptionID, Credited: e.Credited, IncentiveEligible: e.IncentiveEligible, Reason: e.Reason,
		Chains: []ChainView{}}
	for _, c := range e.Chains {
		cv := ChainView{Text: c.String(), LinkTenantID: c.LinkTenantID, ObjectID: c.ObjectID, Groups: []string{},
			Via: string(c.Via), AssignmentID: c.AssignmentID, Role: c.Role, RoleCanWrite: c.RoleCanWrite, Scope: c.Scope}
		for _, m := range c.Memberships {
			cv.Groups = append(cv.Groups, m.GroupID)
		}
		v.Chains = append(v.Chains, cv)
	}
	return v
}
