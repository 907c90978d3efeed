package api

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/lighthouse"
	"github.com/partnerlink/partnerlink/notify"
	"github.com/partnerlink/partnerlink/rbac"
	"github.com/partnerlink/partnerlink/views"
)

// LinkedCredential is one linked credential as the views show it.
type LinkedCredential = views.LinkedCredential

// ScopedRole is a role held at a scope.
type ScopedRole = views.ScopedRole

// LinkedCredentials lists the linked credentials matching f (views.Service).
func (h *Handler) LinkedCredentials(ctx context.Context, f partnerlink.LinkFilter) ([]LinkedCredential, error) {
	return (&views.Service{Store: h.Store, Now: h.Now}).LinkedCredentials(ctx, f)
}

// tenantLinks is the customer's view: every credential of the tenant linked
// to a partner, with its partner, since when and its role assignments
// (?history=true adds ended link periods).
func (h *Handler) tenantLinks(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	tenant, err := h.tenantAccess(r, c, readLinks)
	if err != nil {
		return err
	}
	out, err := h.LinkedCredentials(r.Context(), partnerlink.LinkFilter{TenantID: tenant, CurrentOnly: r.URL.Query().Get("history") != "true"})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": out})
	return nil
}

// tenantEvents is the audit of every link change in the tenant.
func (h *Handler) tenantEvents(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	tenant, err := h.tenantAccess(r, c, readLinks)
	if err != nil {
		return err
	}
	evs, err := h.Store.LinkEvents(r.Context(), partnerlink.LinkFilter{TenantID: tenant})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": events(evs)})
	return nil
}

// Event is a link change as the API shows it.
type Event struct {
	ID            int64     `json:"id"`
	TenantID      string    `json:"tenantId"`
	ObjectID      string    `json:"objectId"`
	Action        string    `json:"action"`
	PartnerID     string    `json:"partnerId"`
	PrevPartnerID string    `json:"previousPartnerId,omitempty"`
	Version       int       `json:"version"`
	At            time.Time `json:"at"`
	Actor         string    `json:"actor"`
}

func events(evs []partnerlink.LinkEvent) []Event {
	out := []Event{}
	for _, e := range evs {
		out = append(out, Event{ID: e.ID, TenantID: e.TenantID, ObjectID: e.ObjectID, Action: string(e.Action),
			PartnerID: e.PartnerID, PrevPartnerID: e.PrevPartnerID, Version: e.Version, At: e.At,
			Actor: e.ActorTenantID + "/" + e.ActorObjectID})
	}
	return out
}

// Notification is an outbox entry as the API (and the portal) shows it.
type Notification struct {
	ID          int64      `json:"id"`
	EventID     int64      `json:"eventId"`
	Status      string     `json:"status"` // pending, waiting (no webhook), delivered, failed
	Attempts    int        `json:"attempts"`
	NextAttempt *time.Time `json:"nextAttempt,omitempty"`
	DeliveredAt *time.Time `json:"deliveredAt,omitempty"`
	LastError   string     `json:"lastError,omitempty"`
	Payload     any        `json:"payload"`
}

// ToNotifications converts outbox rows for display.
func ToNotifications(ns []partnerlink.Notification) []Notification {
	out := []Notification{}
	for _, n := range ns {
		v := Notification{ID: n.ID, EventID: n.EventID, Attempts: n.Attempts, LastError: n.LastError, Payload: rawJSON(n.Payload)}
		switch {
		case !n.DeliveredAt.IsZero():
			v.Status, v.DeliveredAt = "delivered", &n.DeliveredAt
		case !n.FailedAt.IsZero():
			v.Status = "failed"
		case n.NextAttemptAt.IsZero():
			v.Status = "waiting" // for the tenant's webhook; lastError says so
		default:
			v.Status, v.NextAttempt = "pending", &n.NextAttemptAt
		}
		out = append(out, v)
	}
	return out
}

type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

func (h *Handler) tenantNotifications(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	tenant, err := h.tenantAccess(r, c, readLinks)
	if err != nil {
		return err
	}
	ns, err := h.Store.Notifications(r.Context(), tenant, 200)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": ToNotifications(ns)})
	return nil
}

// putWebhook sets where the tenant's notifications go. Only a principal
// that may write role assignments at the tenant root (Owner or User Access
// Administrator there) may: the webhook receives every link change of the
// tenant (docs/api.md, "Authorization"). The URL must pass the server's
// webhook policy and come with a secret of at least 16 characters
// (docs/operations.md, "Webhooks"); an empty url removes it.
func (h *Handler) putWebhook(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	tenant, err := h.tenantAccess(r, c, rbac.WriteRoleAssignments)
	if err != nil {
		return err
	}
	var body struct {
		URL    string `json:"url"`
		Secret string `json:"secret"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	if body.URL != "" {
		if err := h.Webhooks.CheckURL(r.Context(), body.URL); err != nil {
			return err
		}
		if err := notify.CheckSecret(body.Secret); err != nil {
			return err
		}
	}
	if err := h.Store.SetTenantWebhook(r.Context(), tenant, body.URL, body.Secret); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"url": body.URL})
	return nil
}

// partnerLinks is the partner's view: every credential linked to the
// organization's IDs in every customer tenant, with its scopes — what
// partners cannot see anywhere else (docs/rules.md#views-and-credits).
func (h *Handler) partnerLinks(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	ids, err := h.partnerAccess(r, c)
	if err != nil {
		return err
	}
	out, err := h.LinkedCredentials(r.Context(), partnerlink.LinkFilter{PartnerIDs: ids, CurrentOnly: r.URL.Query().Get("history") != "true"})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": out})
	return nil
}

func (h *Handler) partnerEvents(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	ids, err := h.partnerAccess(r, c)
	if err != nil {
		return err
	}
	evs, err := h.Store.LinkEvents(r.Context(), partnerlink.LinkFilter{PartnerIDs: ids})
	if err != nil {
		return err
	}
	// A link moved to or from another organization's ID shows that it
	// moved, not to or from whom: that is the customer's to know
	// (docs/rules.md#views-and-credits).
	for i := range evs {
		if !slices.Contains(ids, evs[i].PartnerID) {
			evs[i].PartnerID = ""
		}
		if !slices.Contains(ids, evs[i].PrevPartnerID) {
			evs[i].PrevPartnerID = ""
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": events(evs)})
	return nil
}

// me tells the caller who it is: handy for scripts and the portal.
func (h *Handler) me(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	out := map[string]any{"tenantId": c.TenantID, "objectId": c.ObjectID}
	guest := false
	if p, err := h.Store.Principal(r.Context(), c.TenantID, c.ObjectID); err == nil {
		out["displayName"], out["type"] = p.DisplayName, p.Type
		guest = p.Type == partnerlink.PrincipalGuest
	}
	// The partner organizations whose home tenant the caller's is: the
	// partner views (/api/v1/partners/{id}/…) it may open.
	ps, err := h.Store.Partners(r.Context())
	if err != nil {
		return err
	}
	type location struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	type org struct {
		ID        string     `json:"id"`
		Name      string     `json:"name"`
		IDs       []string   `json:"partnerIds"` // the global ID and its location IDs
		Locations []location `json:"locations"`  // the location IDs with their names
	}
	orgs := []org{}
	for _, p := range ps {
		if p.GlobalID == "" && slices.Contains(p.HomeTenantIDs, c.TenantID) && !guest { // partnerAccess
			o := org{p.ID, p.Name, []string{p.ID}, []location{}}
			for _, l := range ps {
				if l.GlobalID == p.ID {
					o.IDs = append(o.IDs, l.ID)
					o.Locations = append(o.Locations, location{l.ID, l.Name})
				}
			}
			orgs = append(orgs, o)
		}
	}
	out["partners"] = orgs
	writeJSON(w, http.StatusOK, out)
	return nil
}

// Delegation is a Lighthouse delegation as the API shows it.
type Delegation struct {
	ID               string     `json:"id"`
	ManagingTenantID string     `json:"managingTenantId"`
	Scope            string     `json:"scope"`
	PrincipalID      string     `json:"principalId"`
	RoleDefinition   string     `json:"roleDefinition"`
	From             *time.Time `json:"from"`
	To               *time.Time `json:"to,omitempty"`
}

func (h *Handler) listDelegations(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	tenant, err := h.tenantAccess(r, c, readLinks)
	if err != nil {
		return err
	}
	dls, err := h.Store.Delegations(r.Context(), tenant, r.URL.Query().Get("history") != "true")
	if err != nil {
		return err
	}
	out := []Delegation{}
	for _, d := range dls {
		out = append(out, Delegation{ID: d.ID, ManagingTenantID: d.ManagingTenantID, Scope: d.Scope, PrincipalID: d.PrincipalID,
			RoleDefinition: d.RoleDefinition, From: timeOrNil(d.Period.From), To: timeOrNil(d.Period.To)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": out})
	return nil
}

// putDelegation registers a Lighthouse delegation: the customer delegates
// a scope to a principal or group of the managing tenant with a role.
// Linking that principal once, in the managing tenant, credits the partner
// (docs/rules.md#azure-attribution). A delegation grants access like a role assignment, so only a
// principal of the customer tenant that may write role assignments at the
// delegated scope (Owner or User Access Administrator there or above) may
// register it — and, when it replaces a delegation of the same id, at that
// delegation's scope too (docs/api.md, "Authorization").
func (h *Handler) putDelegation(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	ctx := r.Context()
	if err := sameTenant(r, c); err != nil {
		return err
	}
	var body Delegation
	if err := decode(r, &body); err != nil {
		return err
	}
	// Authorize on the scope before anything else in the body is checked:
	// what Check says about the managing tenant and its principals is for
	// those who may delegate.
	scope, err := partnerlink.ParseScope(body.Scope)
	if err != nil {
		return err
	}
	if err := h.authorizer().Check(ctx, c, scope, rbac.WriteRoleAssignments); err != nil {
		return err
	}
	svc := h.lighthouse()
	dl, err := svc.Check(ctx, partnerlink.Delegation{ID: r.PathValue("id"), CustomerTenantID: r.PathValue("tenant"),
		ManagingTenantID: body.ManagingTenantID, Scope: body.Scope, PrincipalID: body.PrincipalID, RoleDefinition: body.RoleDefinition})
	if err != nil {
		return err
	}
	if old, err := svc.Current(ctx, dl.CustomerTenantID, dl.ID); err == nil {
		oldScope, err := partnerlink.ParseScope(old.Scope)
		if err == nil {
			err = h.authorizer().Check(ctx, c, oldScope, rbac.WriteRoleAssignments)
		}
		if err != nil {
			return err
		}
	} else if partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		return err
	}
	if dl, err = svc.Register(ctx, dl, h.now()); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Delegation{ID: dl.ID, ManagingTenantID: dl.ManagingTenantID, Scope: dl.Scope,
		PrincipalID: dl.PrincipalID, RoleDefinition: dl.RoleDefinition, From: timeOrNil(dl.Period.From)})
	return nil
}

// sameTenant refuses a caller of another tenant than the path's {tenant}.
func sameTenant(r *http.Request, c partnerlink.Caller) error {
	tenant, err := partnerlink.ParseGUID("tenant", r.PathValue("tenant"))
	if err != nil {
		return err
	}
	if tenant != c.TenantID {
		return partnerlink.ARMErrorf(partnerlink.EFORBIDDEN, "AuthorizationFailed",
			"Tenant %s is managed by its own principals; your token is for tenant %s.", tenant, c.TenantID)
	}
	return nil
}

func (h *Handler) lighthouse() *lighthouse.Service { return &lighthouse.Service{Store: h.Store} }

// deleteDelegation ends a delegation; the same callers as putDelegation,
// at the delegation's scope.
func (h *Handler) deleteDelegation(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	ctx := r.Context()
	if err := sameTenant(r, c); err != nil {
		return err
	}
	id, err := partnerlink.ParseGUID("delegation id", r.PathValue("id"))
	if err != nil {
		return err
	}
	dl, err := h.lighthouse().Current(ctx, c.TenantID, id)
	if err != nil {
		return err
	}
	scope, err := partnerlink.ParseScope(dl.Scope)
	if err == nil {
		err = h.authorizer().Check(ctx, c, scope, rbac.WriteRoleAssignments)
	}
	if err != nil {
		return err
	}
	if err := h.lighthouse().End(ctx, c.TenantID, dl.ID, h.now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
