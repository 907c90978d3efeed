package api

import (
	"context"
	"fmt"
	"net/http"
	"sort"

	"github.com/cockroachdb/apd/v3"
	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/attribution"
	"github.com/partnerlink/partnerlink/ledger"
	"github.com/partnerlink/partnerlink/rbac"
)

// CreditView is one stored credit as the API shows it. Anonymized lines
// (the partner cannot read the customer's usage) carry no tenant,
// subscription or resource: one line per customer, day and currency.
type CreditView struct {
	Day                   string `json:"day"`
	PartnerID             string `json:"partnerId"`
	TenantID              string `json:"tenantId,omitempty"`
	Customer              string `json:"customer,omitempty"`
	SubscriptionID        string `json:"subscriptionId,omitempty"`
	ResourceID            string `json:"resourceId,omitempty"`
	Currency              string `json:"currency"`
	AttributedCost        string `json:"attributedCost"`
	IncentiveEligibleCost string `json:"incentiveEligibleCost"`
	UsageRows             int64  `json:"usageRows"`
	Anonymized            bool   `json:"anonymized,omitempty"`
}

func creditView(c partnerlink.CreditRow) CreditView {
	return CreditView{Day: c.Day, PartnerID: c.PartnerID, TenantID: c.TenantID, SubscriptionID: c.SubscriptionID,
		ResourceID: c.ResourceID, Currency: c.Currency, AttributedCost: c.Attributed, IncentiveEligibleCost: c.Eligible,
		UsageRows: c.UsageRows}
}

// usageReadAction is what a role must allow for the partner to see a
// customer's names and resource detail (docs/rules.md#views-and-credits: "*", "*/read" or a cost
// or consumption read action all allow it).
const usageReadAction = "Microsoft.Consumption/usageDetails/read"

func (h *Handler) filter(r *http.Request) (partnerlink.CreditFilter, *partnerlink.AttributionRun, error) {
	run, err := h.Store.LatestRun(r.Context())
	if err != nil {
		return partnerlink.CreditFilter{}, nil, err
	}
	q := r.URL.Query()
	return partnerlink.CreditFilter{RunID: run.ID, TenantID: q.Get("tenant"), SubscriptionID: q.Get("subscription"),
		ResourceID: q.Get("resource"), Day: q.Get("day")}, run, nil
}

// partnerCredits: GET /api/v1/partners/{p}/credits[?day=&tenant=&subscription=&resource=]
// from the latest run, with customers whose usage the partner cannot read
// folded into one anonymized line per customer, day and currency.
func (h *Handler) partnerCredits(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	ids, err := h.partnerAccess(r, c)
	if err != nil {
		return err
	}
	f, run, err := h.filter(r)
	if err != nil {
		return err
	}
	f.PartnerIDs = ids
	rows, err := h.Store.Credits(r.Context(), f)
	if err != nil {
		return err
	}
	readable, err := h.readableTenants(r.Context(), ids)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"runId": run.ID, "from": run.From, "to": run.To,
		"value": PartnerCreditViews(rows, readable)})
	return nil
}

// PartnerCreditViews applies the privacy rule: detail for readable tenants,
// one anonymized line per other customer, day and currency.
func PartnerCreditViews(rows []partnerlink.CreditRow, readable map[string]bool) []CreditView {
	out := []CreditView{}
	customers := map[string]string{}
	var hidden []string
	for _, c := range rows {
		if !readable[c.TenantID] && customers[c.TenantID] == "" {
			hidden = append(hidden, c.TenantID)
			customers[c.TenantID] = "x"
		}
	}
	sort.Strings(hidden)
	for i, t := range hidden {
		customers[t] = fmt.Sprintf("customer %d", i+1)
	}
	folded := map[[4]string]*CreditView{}
	var order [][4]string
	for _, c := range rows {
		if readable[c.TenantID] {
			out = append(out, creditView(c))
			continue
		}
		k := [4]string{c.Day, c.PartnerID, customers[c.TenantID], c.Currency}
		v := folded[k]
		if v == nil {
			v = &CreditView{Day: c.Day, PartnerID: c.PartnerID, Customer: k[2], Currency: c.Currency,
				AttributedCost: "0", IncentiveEligibleCost: "0", Anonymized: true}
			folded[k] = v
			order = append(order, k)
		}
		v.AttributedCost = addDecimal(v.AttributedCost, c.Attributed)
		v.IncentiveEligibleCost = addDecimal(v.IncentiveEligibleCost, c.Eligible)
		v.UsageRows += c.UsageRows
	}
	for _, k := range order {
		out = append(out, *folded[k])
	}
	return out
}

// addDecimal adds two exact decimals written as text.
func addDecimal(a, b string) string {
	x, _, err1 := apd.NewFromString(a)
	y, _, err2 := apd.NewFromString(b)
	if err1 != nil || err2 != nil {
		return a
	}
	var z apd.Decimal
	apd.BaseContext.WithPrecision(60).Add(&z, x, y)
	z.Reduce(&z)
	return z.Text('f')
}

// readableTenants lists the customer tenants in which one of the partner's
// linked credentials (or a group it is in, or a Lighthouse delegation to
// it) holds a role that can read usage.
func (h *Handler) readableTenants(ctx context.Context, ids []string) (map[string]bool, error) {
	lcs, err := h.LinkedCredentials(ctx, partnerlink.LinkFilter{PartnerIDs: ids, CurrentOnly: true})
	if err != nil {
		return nil, err
	}
	// A role is resolved among the custom roles of the tenant it is held
	// in (docs/rules.md).
	customOf := map[string][]partnerlink.RoleDefinition{}
	var lookupErr error
	canRead := func(tenant, role string) bool {
		custom, ok := customOf[tenant]
		if !ok {
			var err error
			if custom, err = h.Store.RoleDefinitions(ctx, tenant); err != nil && lookupErr == nil {
				lookupErr = err
			}
			customOf[tenant] = custom
		}
		r, ok := rbac.Resolve(custom, role)
		return ok && partnerlink.Permits(r.Actions, r.NotActions, usageReadAction)
	}
	out := map[string]bool{}
	for _, lc := range lcs {
		for _, ra := range lc.RoleAssignments {
			if canRead(lc.TenantID, ra.Role) {
				out[lc.TenantID] = true
			}
		}
		for _, d := range lc.Delegations {
			if canRead(d.TenantID, d.Role) {
				out[d.TenantID] = true
			}
		}
	}
	if lookupErr != nil {
		return nil, lookupErr
	}
	return out, nil
}

// tenantCredits: GET /api/v1/tenants/{t}/credits — the customer sees what
// each partner is credited with in its tenant.
func (h *Handler) tenantCredits(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	tenant, err := h.tenantAccess(r, c, readLinks)
	if err != nil {
		return err
	}
	f, run, err := h.filter(r)
	if err != nil {
		return err
	}
	f.TenantID = tenant
	if p := r.URL.Query().Get("partner"); p != "" {
		f.PartnerIDs = []string{p}
	}
	rows, err := h.Store.Credits(r.Context(), f)
	if err != nil {
		return err
	}
	out := []CreditView{}
	for _, c := range rows {
		out = append(out, creditView(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"runId": run.ID, "from": run.From, "to": run.To, "value": out})
	return nil
}

// adminRun: POST /api/v1/admin/runs {"from":"2026-03-01","to":"2026-04-01"}
// runs attribution on the server's state (admin key).
func (h *Handler) adminRun(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		From, To string
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	from, err := ledger.ParseDay("from", body.From)
	if err != nil {
		return err
	}
	to, err := ledger.ParseDay("to", body.To)
	if err != nil {
		return err
	}
	if h.DataDir == "" {
		return partnerlink.Errorf(partnerlink.EINTERNAL, "no data directory")
	}
	out, err := ledger.Run(r.Context(), h.Store, h.DataDir, from, to, attribution.Options{}, h.now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"runId": out.RunID, "files": len(out.Files), "credits": out.Result.Len(),
		"summary": ledger.SummaryView(out.Result.Summary)})
	return nil
}
