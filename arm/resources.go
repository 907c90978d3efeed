package arm

import (
	"context"
	"net/http"
	"sort"

	"github.com/partnerlink/partnerlink"
)

type tenantList struct {
	Value []tenantResponse `json:"value"`
}

type tenantResponse struct {
	ID             string `json:"id"`
	TenantID       string `json:"tenantId"`
	DisplayName    string `json:"displayName"`
	TenantCategory string `json:"tenantCategory"`
}

// listTenants answers GET /tenants: every tenant in which the caller's
// person or app has an account — its home tenant, the tenants where the
// user is a guest, the tenants where the app has a service principal. This
// is how a partner's CLI finds where to link.
func (h *Handler) listTenants(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, _ params) {
	ids, err := h.reachableTenants(r.Context(), c)
	if err != nil {
		writeError(w, err)
		return
	}
	out := tenantList{Value: []tenantResponse{}}
	for _, id := range ids {
		t, err := h.Directory.Tenant(r.Context(), id)
		if err != nil {
			continue
		}
		cat := "ProjectedBy"
		if id == c.TenantID {
			cat = "Home"
		}
		out.Value = append(out.Value, tenantResponse{ID: "/tenants/" + id, TenantID: id, DisplayName: t.Name, TenantCategory: cat})
	}
	writeJSON(w, http.StatusOK, out)
}

// reachableTenants lists, sorted, the tenants where the caller's identity
// has an active account.
func (h *Handler) reachableTenants(ctx context.Context, c partnerlink.Caller) ([]string, error) {
	now := h.now()
	p, err := h.Directory.Principal(ctx, c.TenantID, c.ObjectID)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{c.TenantID: true}
	var others []partnerlink.Principal
	switch p.Type {
	case partnerlink.PrincipalServicePrincipal:
		if p.AppID != "" {
			others, err = h.Directory.ServicePrincipalsByAppID(ctx, p.AppID)
		}
	case partnerlink.PrincipalUser:
		others, err = h.Directory.GuestsOf(ctx, c.TenantID, c.ObjectID)
	case partnerlink.PrincipalGuest:
		if p.HomeObjectID != "" {
			others, err = h.Directory.GuestsOf(ctx, p.HomeTenantID, p.HomeObjectID)
			set[p.HomeTenantID] = true
		}
	}
	if err != nil {
		return nil, err
	}
	for _, o := range others {
		if o.ActiveAt(now) {
			set[o.TenantID] = true
		}
	}
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}

type subscriptionList struct {
	Value []subscriptionResponse `json:"value"`
}

type subscriptionResponse struct {
	ID             string `json:"id"`
	SubscriptionID string `json:"subscriptionId"`
	TenantID       string `json:"tenantId"`
	DisplayName    string `json:"displayName"`
	State          string `json:"state"`
}

// listSubscriptions answers GET /subscriptions, which az login calls. The
// caller sees no subscriptions until role assignments exist.
func (h *Handler) listSubscriptions(w http.ResponseWriter, _ *http.Request, _ partnerlink.Caller, _ params) {
	writeJSON(w, http.StatusOK, subscriptionList{Value: []subscriptionResponse{}})
}
