package api

import (
	"net/http"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/attribution"
	"github.com/partnerlink/partnerlink/credits"
	"github.com/partnerlink/partnerlink/ledger"
)

func (h *Handler) credits() *credits.Service { return &credits.Service{Store: h.Store, Now: h.Now} }

// creditFilter reads the query's filters (day, tenant, subscription, resource).
func creditFilter(r *http.Request) partnerlink.CreditFilter {
	q := r.URL.Query()
	return partnerlink.CreditFilter{TenantID: q.Get("tenant"), SubscriptionID: q.Get("subscription"),
		ResourceID: q.Get("resource"), Day: q.Get("day")}
}

// partnerCredits: GET /api/v1/partners/{p}/credits[?day=&tenant=&subscription=&resource=]
// from the latest run, with customers whose usage the partner cannot read
// folded into one anonymized line per customer, day and currency.
func (h *Handler) partnerCredits(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	ids, err := h.partnerAccess(r, c)
	if err != nil {
		return err
	}
	run, lines, err := h.credits().ForPartner(r.Context(), ids, creditFilter(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"runId": run.ID, "from": run.From, "to": run.To, "value": lines})
	return nil
}

// tenantCredits: GET /api/v1/tenants/{t}/credits — the customer sees what
// each partner is credited with in its tenant.
func (h *Handler) tenantCredits(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	tenant, err := h.tenantAccess(r, c, readLinks)
	if err != nil {
		return err
	}
	run, lines, err := h.credits().ForTenant(r.Context(), tenant, r.URL.Query().Get("partner"), creditFilter(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"runId": run.ID, "from": run.From, "to": run.To, "value": lines})
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
