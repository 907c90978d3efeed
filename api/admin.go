package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/identity"
)

func (h *Handler) adminPutTenant(w http.ResponseWriter, r *http.Request) error {
	id, err := partnerlink.ParseGUID("tenant", r.PathValue("tenant"))
	if err != nil {
		return err
	}
	var body struct {
		Name string `json:"name"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	if body.Name == "" {
		return partnerlink.Errorf(partnerlink.EINVALID, "name is required")
	}
	if err := h.Store.PutTenant(r.Context(), partnerlink.Tenant{ID: id, Name: body.Name}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"tenantId": id, "name": body.Name})
	return nil
}

// PrincipalBody is a principal as the admin API takes and returns it.
type PrincipalBody struct {
	Type         string     `json:"type"`
	DisplayName  string     `json:"displayName"`
	SignInName   string     `json:"signInName,omitempty"`
	HomeTenantID string     `json:"homeTenantId,omitempty"`
	HomeObjectID string     `json:"homeObjectId,omitempty"`
	AppID        string     `json:"appId,omitempty"`
	CSPDelegated bool       `json:"cspDelegated"`
	From         *time.Time `json:"from,omitempty"`
	To           *time.Time `json:"to,omitempty"`
	ObjectID     string     `json:"objectId,omitempty"`
	TenantID     string     `json:"tenantId,omitempty"`
}

// ToPrincipal validates a principal body.
func ToPrincipal(tenant, object string, b PrincipalBody) (partnerlink.Principal, error) {
	var p partnerlink.Principal
	var err error
	if p.TenantID, err = partnerlink.ParseGUID("tenant", tenant); err != nil {
		return p, err
	}
	if p.ObjectID, err = partnerlink.ParseGUID("objectId", object); err != nil {
		return p, err
	}
	p.Type = partnerlink.PrincipalType(b.Type)
	if !p.Type.Valid() {
		return p, partnerlink.Errorf(partnerlink.EINVALID, "type %q: expected User, Guest, ServicePrincipal or Group", b.Type)
	}
	if b.DisplayName == "" {
		return p, partnerlink.Errorf(partnerlink.EINVALID, "displayName is required")
	}
	for field, v := range map[string]*string{"homeTenantId": &b.HomeTenantID, "homeObjectId": &b.HomeObjectID, "appId": &b.AppID} {
		if *v != "" {
			if *v, err = partnerlink.ParseGUID(field, *v); err != nil {
				return p, err
			}
		}
	}
	if p.Type == partnerlink.PrincipalServicePrincipal && b.AppID == "" {
		return p, partnerlink.Errorf(partnerlink.EINVALID, "appId is required for a service principal")
	}
	p.DisplayName, p.SignInName, p.HomeTenantID, p.HomeObjectID, p.AppID, p.CSPDelegated =
		b.DisplayName, b.SignInName, b.HomeTenantID, b.HomeObjectID, b.AppID, b.CSPDelegated
	p.Period = partnerlink.PeriodOf(b.From, b.To)
	if p.Period.Empty() {
		return p, partnerlink.Errorf(partnerlink.EINVALID, "to must be after from")
	}
	return p, nil
}

func (h *Handler) adminPutPrincipal(w http.ResponseWriter, r *http.Request) error {
	var body PrincipalBody
	if err := decode(r, &body); err != nil {
		return err
	}
	p, err := ToPrincipal(r.PathValue("tenant"), r.PathValue("object"), body)
	if err == nil {
		_, err = h.Store.Tenant(r.Context(), p.TenantID)
	}
	if err == nil {
		err = h.Store.PutPrincipal(r.Context(), p)
	}
	if err != nil {
		return err
	}
	body.ObjectID, body.TenantID = p.ObjectID, p.TenantID
	writeJSON(w, http.StatusOK, body)
	return nil
}

// PeriodView is one enabled period of a principal.
type PeriodView struct {
	From *time.Time `json:"from"`
	To   *time.Time `json:"to"`
}

// PrincipalView is a principal as the admin API answers with it: its
// fields, the latest period as from/to, and every enabled period, oldest
// first (docs/rules.md, "Principals: enabled periods").
type PrincipalView struct {
	PrincipalBody
	Periods []PeriodView `json:"periods"`
}

// ViewPrincipal is p as the admin API answers with it.
func ViewPrincipal(p partnerlink.Principal) PrincipalView {
	v := PrincipalView{PrincipalBody: PrincipalBody{Type: string(p.Type), DisplayName: p.DisplayName, SignInName: p.SignInName,
		HomeTenantID: p.HomeTenantID, HomeObjectID: p.HomeObjectID, AppID: p.AppID, CSPDelegated: p.CSPDelegated,
		From: timeOrNil(p.Period.From), To: timeOrNil(p.Period.To), ObjectID: p.ObjectID, TenantID: p.TenantID}}
	for _, per := range p.Periods() {
		v.Periods = append(v.Periods, PeriodView{From: timeOrNil(per.From), To: timeOrNil(per.To)})
	}
	return v
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// adminEnablePrincipal enables a disabled principal again from "from"
// (default now), keeping its earlier periods: 409 when it is enabled, 400
// when from is before the end of its last period.
func (h *Handler) adminEnablePrincipal(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		From *time.Time `json:"from"`
	}
	if err := decodeOptional(r, &body); err != nil {
		return err
	}
	from := h.now()
	if body.From != nil {
		from = body.From.UTC()
	}
	tenant, err := partnerlink.ParseGUID("tenant", r.PathValue("tenant"))
	if err != nil {
		return err
	}
	object, err := partnerlink.ParseGUID("objectId", r.PathValue("object"))
	if err != nil {
		return err
	}
	p, err := h.Store.EnablePrincipal(r.Context(), tenant, object, from)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ViewPrincipal(*p))
	return nil
}

// decodeOptional is decode for a body that may be left out.
func decodeOptional(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return partnerlink.Errorf(partnerlink.EINVALID, "the request body is not valid JSON: %v", err)
	}
	return nil
}

// adminAddSecret adds a client secret or password; a generated one is
// returned once when none is given.
func (h *Handler) adminAddSecret(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Secret string `json:"secret"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	ctx := r.Context()
	p, err := h.Store.Principal(ctx, r.PathValue("tenant"), r.PathValue("object"))
	if err != nil {
		return err
	}
	if p.Type == partnerlink.PrincipalGroup {
		return partnerlink.Errorf(partnerlink.EINVALID, "groups do not sign in")
	}
	if body.Secret == "" {
		body.Secret = identity.NewSecret()
	}
	hash, err := identity.HashSecret(body.Secret)
	if err == nil {
		err = h.Store.AddSecret(ctx, p.TenantID, p.ObjectID, hash)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"secret": body.Secret})
	return nil
}

func (h *Handler) adminAddMembership(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		GroupID  string     `json:"groupId"`
		MemberID string     `json:"memberId"`
		From     *time.Time `json:"from"`
		To       *time.Time `json:"to"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	ctx := r.Context()
	tenant := r.PathValue("tenant")
	g, err := h.Store.Principal(ctx, tenant, body.GroupID)
	if err == nil && g.Type != partnerlink.PrincipalGroup {
		err = partnerlink.Errorf(partnerlink.EINVALID, "groupId %s is a %s, not a group", body.GroupID, g.Type)
	}
	if err == nil {
		_, err = h.Store.Principal(ctx, tenant, body.MemberID)
	}
	if err != nil {
		return err
	}
	from := body.From
	if from == nil {
		now := h.now()
		from = &now
	}
	m := partnerlink.GroupMembership{TenantID: g.TenantID, GroupID: g.ObjectID, MemberID: body.MemberID, Period: partnerlink.PeriodOf(from, body.To)}
	if err := h.Store.AddMembership(ctx, m); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// PartnerBody is a partner registry entry as the admin API takes it.
type PartnerBody struct {
	Name            string     `json:"name"`
	GlobalPartnerID string     `json:"globalPartnerId,omitempty"`
	HomeTenantIDs   []string   `json:"homeTenantIds"`
	From            *time.Time `json:"from,omitempty"`
	To              *time.Time `json:"to,omitempty"`
}

func (h *Handler) adminPutPartner(w http.ResponseWriter, r *http.Request) error {
	var body PartnerBody
	if err := decode(r, &body); err != nil {
		return err
	}
	p, err := ToPartner(r.PathValue("partner"), body)
	if err == nil && p.GlobalID != "" {
		_, err = h.Store.Partner(r.Context(), p.GlobalID)
	}
	if err == nil {
		err = h.Store.PutPartner(r.Context(), p)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// ToPartner validates a registry entry.
func ToPartner(id string, b PartnerBody) (partnerlink.Partner, error) {
	p := partnerlink.Partner{ID: id, Name: b.Name, GlobalID: b.GlobalPartnerID, Period: partnerlink.PeriodOf(b.From, b.To)}
	if err := partnerlink.ValidatePartnerID(id); err != nil {
		return p, err
	}
	if b.GlobalPartnerID != "" {
		if err := partnerlink.ValidatePartnerID(b.GlobalPartnerID); err != nil {
			return p, err
		}
	}
	if b.Name == "" {
		return p, partnerlink.Errorf(partnerlink.EINVALID, "name is required")
	}
	for _, t := range b.HomeTenantIDs {
		g, err := partnerlink.ParseGUID("homeTenantIds", t)
		if err != nil {
			return p, err
		}
		p.HomeTenantIDs = append(p.HomeTenantIDs, g)
	}
	if p.Period.Empty() {
		return p, partnerlink.Errorf(partnerlink.EINVALID, "to must be after from")
	}
	return p, nil
}

func (h *Handler) adminListPartners(w http.ResponseWriter, r *http.Request) error {
	ps, err := h.Store.Partners(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": ps})
	return nil
}

func (h *Handler) adminListTenants(w http.ResponseWriter, r *http.Request) error {
	ts, err := h.Store.Tenants(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": ts})
	return nil
}

func (h *Handler) adminListPrincipals(w http.ResponseWriter, r *http.Request) error {
	ps, err := h.Store.Principals(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": ps})
	return nil
}
