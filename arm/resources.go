package arm

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/rbac"
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
func (h *Handler) listTenants(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, _ params) error {
	ids, err := h.reachableTenants(r.Context(), c)
	if err != nil {
		return err
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
	return nil
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

// listSubscriptions answers GET /subscriptions (az login calls it): the
// subscriptions of the caller's tenant on which the caller, or a group it is
// in, holds a role at the subscription, above it or below it.
func (h *Handler) listSubscriptions(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, _ params) error {
	out := subscriptionList{Value: []subscriptionResponse{}}
	if h.Roles != nil {
		subs, err := h.visibleSubscriptions(r.Context(), c)
		if err != nil {
			return err
		}
		for _, s := range subs {
			out.Value = append(out.Value, subscriptionBody(s))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func subscriptionBody(s partnerlink.Subscription) subscriptionResponse {
	return subscriptionResponse{ID: "/subscriptions/" + s.SubscriptionID, SubscriptionID: s.SubscriptionID,
		TenantID: s.TenantID, DisplayName: s.Name, State: "Enabled"}
}

func (h *Handler) visibleSubscriptions(ctx context.Context, c partnerlink.Caller) ([]partnerlink.Subscription, error) {
	subs, err := h.Roles.Subscriptions(ctx, c.TenantID)
	if err != nil {
		return nil, err
	}
	az := h.authorizer()
	ids, err := az.Identities(ctx, c.TenantID, c.ObjectID)
	if err != nil {
		return nil, err
	}
	held, err := h.Roles.RoleAssignments(ctx, partnerlink.RoleAssignmentFilter{TenantID: c.TenantID, PrincipalIDs: ids, CurrentOnly: true})
	if err != nil || len(held) == 0 {
		return nil, err
	}
	var out []partnerlink.Subscription
	for _, sub := range subs {
		scope, _ := partnerlink.ParseScope("/subscriptions/" + sub.SubscriptionID)
		ancestors, err := az.Ancestors(ctx, c.TenantID, scope)
		if err != nil {
			return nil, err
		}
		if reaches(held, ancestors, scope.Key) {
			out = append(out, sub)
		}
	}
	return out, nil
}

// reaches reports whether an assignment is at one of the ancestor scopes or
// inside the subscription.
func reaches(held []partnerlink.RoleAssignment, ancestors []string, subKey string) bool {
	for _, ra := range held {
		k := scopeKeyOf(ra.Scope)
		if strings.HasPrefix(k, subKey+"/") {
			return true
		}
		for _, a := range ancestors {
			if k == a {
				return true
			}
		}
	}
	return false
}

// getSubscription answers GET /subscriptions/{id} for a visible subscription.
func (h *Handler) getSubscription(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	s, err := h.visibleSubscription(r.Context(), c, p.sub)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, subscriptionBody(*s))
	return nil
}

type resourceGroupResponse struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Location   string            `json:"location"`
	Properties map[string]string `json:"properties"`
}

func rgBody(rg partnerlink.ResourceGroup) resourceGroupResponse {
	return resourceGroupResponse{ID: "/subscriptions/" + rg.SubscriptionID + "/resourceGroups/" + rg.Name, Name: rg.Name,
		Type: "Microsoft.Resources/resourceGroups", Location: rg.Location, Properties: map[string]string{"provisioningState": "Succeeded"}}
}

func (h *Handler) subScope(sub string) (partnerlink.Scope, error) {
	return partnerlink.ParseScope("/subscriptions/" + sub)
}

// putResourceGroup creates a resource group (201) or updates it (200);
// needs write on resource groups at the subscription (Owner, Contributor).
func (h *Handler) putResourceGroup(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	ctx := r.Context()
	s, err := partnerlink.ParseScope("/subscriptions/" + p.sub + "/resourceGroups/" + p.name)
	if err == nil {
		err = h.authorizer().Check(ctx, c, s, rbac.WriteResourceGroups)
	}
	if err != nil {
		return err
	}
	var body struct {
		Location string `json:"location"`
	}
	if err := json.Unmarshal(p.body, &body); err != nil || body.Location == "" {
		return partnerlink.ARMErrorf(partnerlink.EINVALID, "InvalidRequestContent",
			"Expected a JSON body with a location, such as {\"location\":\"westeurope\"}.")
	}
	created, err := h.Roles.PutResourceGroup(ctx, partnerlink.ResourceGroup{SubscriptionID: p.sub, Name: p.name, Location: body.Location})
	if err != nil {
		return err
	}
	rgs, err := h.Roles.ResourceGroups(ctx, p.sub, p.name)
	if err != nil || len(rgs) == 0 {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, rgBody(rgs[0]))
	return nil
}

// readResourceGroup is the group of the path, for a caller that may read
// it (none when it does not exist).
func (h *Handler) readResourceGroup(r *http.Request, c partnerlink.Caller, p params) ([]partnerlink.ResourceGroup, error) {
	ctx := r.Context()
	s, err := partnerlink.ParseScope("/subscriptions/" + p.sub + "/resourceGroups/" + p.name)
	if err == nil {
		err = h.authorizer().Check(ctx, c, s, rbac.ReadResourceGroups)
	}
	if err != nil {
		return nil, err
	}
	return h.Roles.ResourceGroups(ctx, p.sub, p.name)
}

func (h *Handler) getResourceGroup(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	rgs, err := h.readResourceGroup(r, c, p)
	if err != nil {
		return err
	}
	if len(rgs) == 0 {
		return partnerlink.ARMErrorf(partnerlink.ENOTFOUND, "ResourceGroupNotFound", "Resource group '%s' could not be found.", p.name)
	}
	writeJSON(w, http.StatusOK, rgBody(rgs[0]))
	return nil
}

// resourceGroupExists is ResourceGroups_CheckExistence (HEAD, what az
// group exists sends): 204 when the group exists, 404 when not, for a
// caller that may read it.
func (h *Handler) resourceGroupExists(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	rgs, err := h.readResourceGroup(r, c, p)
	if err != nil {
		return err
	}
	if len(rgs) == 0 {
		w.WriteHeader(http.StatusNotFound)
		return nil
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listResourceGroups(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	ctx := r.Context()
	s, err := h.subScope(p.sub)
	if err == nil {
		err = h.authorizer().Check(ctx, c, s, rbac.ReadResourceGroups)
	}
	if err != nil {
		return err
	}
	rgs, err := h.Roles.ResourceGroups(ctx, p.sub, "")
	if err != nil {
		return err
	}
	out := struct {
		Value []resourceGroupResponse `json:"value"`
	}{Value: []resourceGroupResponse{}}
	for _, rg := range rgs {
		out.Value = append(out.Value, rgBody(rg))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type managementGroupResponse struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Name       string         `json:"name"`
	Properties map[string]any `json:"properties"`
}

func mgBody(mg partnerlink.ManagementGroup) managementGroupResponse {
	props := map[string]any{"tenantId": mg.TenantID, "displayName": mg.Name}
	if mg.Parent != "" {
		props["details"] = map[string]any{"parent": map[string]string{"id": "/providers/Microsoft.Management/managementGroups/" + mg.Parent, "name": mg.Parent}}
	}
	return managementGroupResponse{ID: "/providers/Microsoft.Management/managementGroups/" + mg.Name,
		Type: "Microsoft.Management/managementGroups", Name: mg.Name, Properties: props}
}

// mgScope is the scope of management group name.
func mgScope(name string) partnerlink.Scope {
	raw := "/providers/Microsoft.Management/managementGroups/" + name
	return partnerlink.Scope{Kind: partnerlink.ScopeManagementGroup, Raw: raw, Key: strings.ToLower(raw), ManagementGroup: strings.ToLower(name)}
}

// parentScope is the scope of a management group's parent: the parent
// group, or the tenant root when it has none ("").
func parentScope(parent string) partnerlink.Scope {
	if parent == "" {
		return partnerlink.Scope{Kind: partnerlink.ScopeRoot, Raw: "/", Key: "/"}
	}
	return mgScope(parent)
}

// checkMGName refuses a management group name Azure would refuse (400),
// naming where the name was given.
func checkMGName(where, name string) error {
	if err := partnerlink.CheckManagementGroupName(name); err != nil {
		return partnerlink.ARMErrorf(partnerlink.EINVALID, "BadRequest", "%s: %v.", where, err)
	}
	return nil
}

// findMG returns the caller's tenant's management group of that name
// (compared case-insensitively, as ARM does), or nil.
func findMG(mgs []partnerlink.ManagementGroup, name string) *partnerlink.ManagementGroup {
	for i := range mgs {
		if strings.EqualFold(mgs[i].Name, name) {
			return &mgs[i]
		}
	}
	return nil
}

// checkAll checks write on management groups at each scope, in order.
func (h *Handler) checkAll(ctx context.Context, c partnerlink.Caller, scopes ...partnerlink.Scope) error {
	for _, s := range scopes {
		if err := h.authorizer().Check(ctx, c, s, rbac.WriteManagementGroups); err != nil {
			return err
		}
	}
	return nil
}

// putManagementGroup creates a management group of the caller's tenant
// under a parent (default: the tenant root), or updates or moves an
// existing one (docs/api.md, "Authorization of management groups and role
// definitions"): creating needs write at the parent; changing an existing
// group needs write at the group, and moving it also at its old and its
// new parent. A move under the group itself or one of its descendants is
// refused (400, by the store): management groups form a tree.
func (h *Handler) putManagementGroup(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	ctx := r.Context()
	if err := checkMGName("the management group name in the path (managementGroups/{groupId})", p.name); err != nil {
		return err
	}
	var body struct {
		Properties struct {
			Details struct {
				Parent struct {
					ID string `json:"id"`
				} `json:"parent"`
			} `json:"details"`
		} `json:"properties"`
	}
	if len(p.body) > 0 {
		if err := json.Unmarshal(p.body, &body); err != nil {
			return partnerlink.ARMErrorf(partnerlink.EINVALID, "InvalidRequestContent", "The request body is not valid JSON: %v.", err)
		}
	}
	mgs, err := h.Roles.ManagementGroups(ctx, c.TenantID)
	if err != nil {
		return err
	}
	mg := partnerlink.ManagementGroup{TenantID: c.TenantID, Name: p.name}
	existing := findMG(mgs, p.name)
	if existing != nil {
		mg.Name = existing.Name // the name keeps the casing it was created with
	}
	if id := body.Properties.Details.Parent.ID; id != "" {
		ps, err := partnerlink.ParseScope(id)
		if err != nil || ps.Kind != partnerlink.ScopeManagementGroup {
			return partnerlink.ARMErrorf(partnerlink.EINVALID, "InvalidRequestContent",
				"properties.details.parent.id '%s' is not a management group id (/providers/Microsoft.Management/managementGroups/{name}).", id)
		}
		name := id[strings.LastIndex(id, "/")+1:]
		if err := checkMGName("properties.details.parent.id", name); err != nil {
			return err
		}
		parent := findMG(mgs, name)
		if parent == nil {
			return partnerlink.ARMErrorf(partnerlink.EINVALID, "BadRequest",
				"properties.details.parent.id: management group '%s' does not exist in tenant %s; expected an existing management group of the tenant, or no parent for the tenant root.", name, c.TenantID)
		}
		mg.Parent = parent.Name
	}
	if existing == nil {
		err = h.checkAll(ctx, c, parentScope(mg.Parent))
	} else if strings.EqualFold(existing.Parent, mg.Parent) {
		err = h.checkAll(ctx, c, mgScope(existing.Name))
	} else {
		err = h.checkAll(ctx, c, mgScope(existing.Name), parentScope(existing.Parent), parentScope(mg.Parent))
	}
	if err != nil {
		return err
	}
	if err := h.Roles.PutManagementGroup(ctx, mg); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, mgBody(mg))
	return nil
}

func (h *Handler) getManagementGroup(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	mgs, err := h.Roles.ManagementGroups(r.Context(), c.TenantID)
	if err != nil {
		return err
	}
	if mg := findMG(mgs, p.name); mg != nil {
		writeJSON(w, http.StatusOK, mgBody(*mg))
		return nil
	}
	return partnerlink.ARMErrorf(partnerlink.ENOTFOUND, "NotFound", "Management group '%s' was not found.", p.name)
}

// putManagementGroupSubscription places a subscription of the caller's
// tenant under a management group; needs write at the subscription, at
// its current parent (the tenant root when it has none) and at the new
// group (docs/api.md).
func (h *Handler) putManagementGroupSubscription(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	ctx := r.Context()
	if err := checkMGName("the management group name in the path (managementGroups/{groupId})", p.name); err != nil {
		return err
	}
	subScope, err := h.subScope(p.sub)
	if err == nil {
		err = h.checkAll(ctx, c, subScope)
	}
	if err != nil {
		return err
	}
	mgs, err := h.Roles.ManagementGroups(ctx, c.TenantID)
	if err != nil {
		return err
	}
	group := findMG(mgs, p.name)
	if group == nil {
		return partnerlink.ARMErrorf(partnerlink.ENOTFOUND, "NotFound", "Management group '%s' was not found.", p.name)
	}
	sub, err := h.Roles.Subscription(ctx, p.sub)
	if err != nil {
		return err
	}
	if err := h.checkAll(ctx, c, parentScope(sub.ManagementGroup), mgScope(group.Name)); err != nil {
		return err
	}
	name := group.Name
	sub.ManagementGroup = name
	if err := h.Roles.PutSubscription(ctx, *sub); err != nil {
		return err
	}
	target := mgScope(name)
	writeJSON(w, http.StatusOK, map[string]any{"id": target.Raw + "/subscriptions/" + sub.SubscriptionID,
		"type": "Microsoft.Management/managementGroups/subscriptions", "name": sub.SubscriptionID,
		"properties": map[string]any{"displayName": sub.Name, "tenant": sub.TenantID, "state": "Active",
			"parent": map[string]string{"id": target.Raw}}})
	return nil
}

// Resource providers are always registered here: clients (az, the Go
// SDK's registration policy) register them before first use.
func (h *Handler) providerBody(p params) map[string]any {
	return map[string]any{"id": "/subscriptions/" + p.sub + "/providers/" + p.name, "namespace": p.name,
		"registrationState": "Registered", "registrationPolicy": "RegistrationRequired"}
}

// registerProvider answers POST …/providers/{namespace}/register for a
// caller that may register it at the subscription ({namespace}/register/action:
// Owner, Contributor), as Azure requires; a Reader may only read it.
func (h *Handler) registerProvider(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	if _, err := h.visibleSubscription(r.Context(), c, p.sub); err != nil {
		return err
	}
	s, err := h.subScope(p.sub)
	if err == nil {
		err = h.authorizer().Check(r.Context(), c, s, p.name+"/register/action")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h.providerBody(p))
	return nil
}

func (h *Handler) getProvider(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	if _, err := h.visibleSubscription(r.Context(), c, p.sub); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h.providerBody(p))
	return nil
}

// visibleSubscription returns the subscription when the caller may see it.
func (h *Handler) visibleSubscription(ctx context.Context, c partnerlink.Caller, id string) (*partnerlink.Subscription, error) {
	subs, err := h.visibleSubscriptions(ctx, c)
	if err != nil {
		return nil, err
	}
	for _, s := range subs {
		if s.SubscriptionID == id {
			return &s, nil
		}
	}
	return nil, partnerlink.ARMErrorf(partnerlink.ENOTFOUND, "SubscriptionNotFound", "The subscription '%s' could not be found.", id)
}
