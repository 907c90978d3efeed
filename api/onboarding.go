package api

import (
	"net/http"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/onboarding"
)

// onboardServicePrincipal: POST /api/v1/tenants/{tenant}/onboarding/service-principals
// {"appId","role","scope","partnerId"} — the service principal accelerator
// (docs/clients.md, "Onboarding a service principal"), for the tenant's
// administrators. 201 when something was made, 200 when all was in place.
func (h *Handler) onboardServicePrincipal(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	tenant, err := partnerlink.ParseGUID("tenant", r.PathValue("tenant"))
	if err != nil {
		return err
	}
	var req onboarding.Request
	if err := decode(r, &req); err != nil {
		return err
	}
	req.TenantID = tenant
	res, err := (&onboarding.Service{Store: h.Store, Now: h.Now}).Onboard(r.Context(), c, req)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Changed {
		status = http.StatusCreated
	}
	writeJSON(w, status, res)
	return nil
}
