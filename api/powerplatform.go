package api

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/ownership"
	"github.com/partnerlink/partnerlink/powerplatform"
	"github.com/partnerlink/partnerlink/usage"
)

// Power Platform and Customer Insights (docs/rules.md#power-platform) on the server's state:
// environments and resources registered by the tenant's administrators,
// ownership changes applied with the powerplatform rules to the stored
// history, and the monthly credit, explanation and credit at risk computed
// on the stored world and the imported activity files.

// Actions checked at the tenant root: reading and administering the
// tenant's Power Platform state. Reader allows the first; Owner and
// Contributor both.
const (
	readPowerPlatform  = "Microsoft.PowerPlatform/environments/read"
	writePowerPlatform = "Microsoft.PowerPlatform/environments/write"
)

// EnvironmentView is an environment as the API shows it.
type EnvironmentView struct {
	TenantID      string `json:"tenantId"`
	EnvironmentID string `json:"environmentId"`
	Type          string `json:"type"`
}

// HoldingView is one ownership period.
type HoldingView struct {
	PrincipalID string     `json:"principalId"`
	Role        string     `json:"role"`
	From        time.Time  `json:"from"`
	To          *time.Time `json:"to,omitempty"`
}

// ResourceView is a resource with its ownership history.
type ResourceView struct {
	TenantID      string        `json:"tenantId"`
	EnvironmentID string        `json:"environmentId"`
	ID            string        `json:"id"`
	Kind          string        `json:"kind"`
	Paid          bool          `json:"paid"`
	Ownership     []HoldingView `json:"ownership,omitempty"`
	// Events are the ownership changes made through the API and the CLI.
	Events []OwnershipEventView `json:"events,omitempty"`
}

// OwnershipEventView is one recorded ownership change.
type OwnershipEventView struct {
	Action      string    `json:"action"`
	PrincipalID string    `json:"principalId"`
	Actor       string    `json:"actor"`
	At          time.Time `json:"at"`
}

// ToResourceView converts a resource and its history for output.
func ToResourceView(r powerplatform.Resource, hist powerplatform.History) ResourceView {
	v := ResourceView{TenantID: r.TenantID, EnvironmentID: r.EnvironmentID, ID: r.ID, Kind: string(r.Kind), Paid: r.Paid}
	for _, x := range hist {
		hv := HoldingView{PrincipalID: x.PrincipalID, Role: string(x.Role), From: x.Period.From}
		if !x.Period.To.IsZero() {
			to := x.Period.To
			hv.To = &to
		}
		v.Ownership = append(v.Ownership, hv)
	}
	return v
}

// putEnvironment: PUT /api/v1/tenants/{t}/environments/{env} {"type"} —
// the tenant's administrators.
func (h *Handler) putEnvironment(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	st := h.Store
	tenant, err := h.tenantAccess(r, c, writePowerPlatform)
	if err != nil {
		return err
	}
	var body EnvironmentView
	if err := decode(r, &body); err != nil {
		return err
	}
	e := powerplatform.Environment{TenantID: tenant, ID: r.PathValue("env"), Type: powerplatform.EnvironmentType(body.Type)}
	if err := partnerlink.CheckPowerPlatformID(e.ID); err != nil {
		return partnerlink.Errorf(partnerlink.EINVALID, "environment id: %v", err)
	}
	if err := st.PutEnvironment(r.Context(), e); err != nil {
		return err
	}
	got, err := st.Environment(r.Context(), tenant, e.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, EnvironmentView{TenantID: got.TenantID, EnvironmentID: got.ID, Type: string(got.Type)})
	return nil
}

// listEnvironments: GET /api/v1/tenants/{t}/environments.
func (h *Handler) listEnvironments(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	st := h.Store
	tenant, err := h.tenantAccess(r, c, readPowerPlatform)
	if err != nil {
		return err
	}
	es, err := st.Environments(r.Context(), tenant)
	if err != nil {
		return err
	}
	out := []EnvironmentView{}
	for _, e := range es {
		out = append(out, EnvironmentView{TenantID: e.TenantID, EnvironmentID: e.ID, Type: string(e.Type)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": out})
	return nil
}

// getEnvironment: GET /api/v1/tenants/{t}/environments/{env}.
func (h *Handler) getEnvironment(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	st := h.Store
	tenant, err := h.tenantAccess(r, c, readPowerPlatform)
	if err != nil {
		return err
	}
	e, err := st.Environment(r.Context(), tenant, r.PathValue("env"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, EnvironmentView{TenantID: e.TenantID, EnvironmentID: e.ID, Type: string(e.Type)})
	return nil
}

// putResource: PUT …/environments/{env}/resources/{id} {"kind","paid"} —
// the tenant's administrators.
func (h *Handler) putResource(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	st := h.Store
	tenant, err := h.tenantAccess(r, c, writePowerPlatform)
	if err != nil {
		return err
	}
	var body ResourceView
	if err := decode(r, &body); err != nil {
		return err
	}
	res := powerplatform.Resource{TenantID: tenant, EnvironmentID: r.PathValue("env"), ID: r.PathValue("id"),
		Kind: powerplatform.Kind(body.Kind), Paid: body.Paid}
	if err := partnerlink.CheckPowerPlatformID(res.ID); err != nil {
		return partnerlink.Errorf(partnerlink.EINVALID, "resource id: %v", err)
	}
	if err := st.PutPowerPlatformResource(r.Context(), res); err != nil {
		return err
	}
	return h.writeResource(w, r, st, res.ID)
}

func (h *Handler) writeResource(w http.ResponseWriter, r *http.Request, st partnerlink.PowerPlatformStore, id string) error {
	got, err := st.PowerPlatformResource(r.Context(), id)
	if err != nil {
		return err
	}
	hist, err := st.OwnershipHistory(r.Context(), got.ID)
	if err != nil {
		return err
	}
	evs, err := st.OwnershipEvents(r.Context(), got.ID)
	if err != nil {
		return err
	}
	v := ToResourceView(*got, hist)
	for _, e := range evs {
		v.Events = append(v.Events, OwnershipEventView{Action: e.Action, PrincipalID: e.PrincipalID, Actor: e.Actor, At: e.At})
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// listResources: GET …/environments/{env}/resources.
func (h *Handler) listResources(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	st := h.Store
	tenant, err := h.tenantAccess(r, c, readPowerPlatform)
	if err != nil {
		return err
	}
	env, err := st.Environment(r.Context(), tenant, r.PathValue("env"))
	if err != nil {
		return err
	}
	rs, err := st.PowerPlatformResources(r.Context(), tenant, env.ID)
	if err != nil {
		return err
	}
	out := []ResourceView{}
	for _, x := range rs {
		out = append(out, ToResourceView(x, nil))
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": out})
	return nil
}

// getResource: GET …/environments/{env}/resources/{id}, with its history.
func (h *Handler) getResource(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	st := h.Store
	tenant, err := h.tenantAccess(r, c, readPowerPlatform)
	if err != nil {
		return err
	}
	res, err := resourceIn(r.Context(), st, tenant, r.PathValue("env"), r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.writeResource(w, r, st, res.ID)
}

// resourceIn returns the resource named by the path, which must be in the
// tenant and environment the path names.
func resourceIn(ctx context.Context, st partnerlink.PowerPlatformStore, tenant, env, id string) (*powerplatform.Resource, error) {
	res, err := st.PowerPlatformResource(ctx, id)
	if err != nil {
		return nil, err
	}
	if res.TenantID != tenant || !strings.EqualFold(res.EnvironmentID, env) {
		return nil, partnerlink.Errorf(partnerlink.ENOTFOUND, "environment %s of tenant %s has no resource %s", env, tenant, id)
	}
	return res, nil
}

// changeCaller checks who may change ownership in tenant {tenant}: a
// caller of that tenant, and returns it as a powerplatform.PrincipalRef (its
// type from the directory) with whether it is one of the tenant's
// administrators.
func (h *Handler) changeCaller(r *http.Request, c partnerlink.Caller) (string, powerplatform.PrincipalRef, bool, error) {
	tenant, err := partnerlink.ParseGUID("tenant", r.PathValue("tenant"))
	if err != nil {
		return "", powerplatform.PrincipalRef{}, false, err
	}
	if tenant != c.TenantID {
		return "", powerplatform.PrincipalRef{}, false, partnerlink.ARMErrorf(partnerlink.EFORBIDDEN, "AuthorizationFailed",
			"Power Platform resources of tenant %s are changed by its own principals; your token is for tenant %s.", tenant, c.TenantID)
	}
	p, err := h.Store.Principal(r.Context(), c.TenantID, c.ObjectID)
	if err != nil {
		return "", powerplatform.PrincipalRef{}, false, err
	}
	admin, err := h.authorizer().Allowed(r.Context(), c, rootScope, writePowerPlatform)
	if err != nil {
		return "", powerplatform.PrincipalRef{}, false, err
	}
	return tenant, powerplatform.PrincipalRef{ID: p.ObjectID, Type: p.Type}, admin, nil
}

// ownership is the service that applies ownership changes.
func (h *Handler) ownership() *ownership.Service {
	return &ownership.Service{Store: h.Store, Directory: h.Store}
}

// Where a change finds the principal it is about.
const (
	namedInBody = iota // {"principalId"} in the request body
	namedInPath        // the path's {principal}, which may have left the directory
	namedCaller        // the caller itself
)

// changeOne applies one change to the resource named by the path, for its
// current owner (publisher, for a dataset) or the tenant's administrators.
func (h *Handler) changeOne(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, op ownership.Op, named int) error {
	ctx := r.Context()
	tenant, caller, admin, err := h.changeCaller(r, c)
	if err != nil {
		return err
	}
	res, err := resourceIn(ctx, h.Store, tenant, r.PathValue("env"), r.PathValue("id"))
	if err != nil {
		return err
	}
	at := h.now()
	svc := h.ownership()
	actor := ownership.Actor{Name: c.TenantID + "/" + c.ObjectID, ID: caller.ID, Admin: admin}
	// Refuse before reading the request; checked again in the transaction.
	if err := svc.MayChange(ctx, actor, res.ID, at); err != nil {
		return err
	}
	p := caller
	switch named {
	case namedInBody:
		var b struct {
			PrincipalID string `json:"principalId"`
		}
		if err := decode(r, &b); err != nil {
			return err
		}
		p, err = svc.Principal(ctx, tenant, "principalId", b.PrincipalID, at, false)
	case namedInPath:
		p, err = svc.Principal(ctx, tenant, "principal", r.PathValue("principal"), at, true)
	}
	if err != nil {
		return err
	}
	if _, err := svc.Change(ctx, actor, res.ID, op, p, at); err != nil {
		return err
	}
	return h.writeResource(w, r, h.Store, res.ID)
}

// setOwner: PUT …/resources/{id}/owner {"principalId"} — a user or service
// principal as the kind allows; re-owning a flow makes the new owner its
// creator.
func (h *Handler) setOwner(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	return h.changeOne(w, r, c, ownership.SetOwner, namedInBody)
}

// addCoOwner: POST …/resources/{id}/co-owners {"principalId"}.
func (h *Handler) addCoOwner(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	return h.changeOne(w, r, c, ownership.AddCoOwner, namedInBody)
}

// removeCoOwner: DELETE …/resources/{id}/co-owners/{principal}.
func (h *Handler) removeCoOwner(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	return h.changeOne(w, r, c, ownership.RemoveCoOwner, namedInPath)
}

// publish: POST …/resources/{id}/publish — the caller publishes the
// dataset and becomes its publisher. Its current publisher or the tenant's
// administrators may.
func (h *Handler) publish(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	return h.changeOne(w, r, c, ownership.Publish, namedCaller)
}

// SolutionBody is a solution import: the ids of its components.
type SolutionBody struct {
	Components []string `json:"components"`
}

// importSolution: POST /api/v1/tenants/{t}/environments/{env}/solutions
// {"components":[…]} — the caller imports a managed solution and becomes
// owner (and creator) of every component. The tenant's administrators may
// import any components of the environment; anyone else only components it
// owns. A solution with a Power BI dataset or a Customer Insights instance
// is refused whole.
func (h *Handler) importSolution(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	tenant, caller, admin, err := h.changeCaller(r, c)
	if err != nil {
		return err
	}
	var body SolutionBody
	if err := decode(r, &body); err != nil {
		return err
	}
	if len(body.Components) == 0 {
		return partnerlink.Errorf(partnerlink.EINVALID, "a solution import needs its components: {\"components\": [\"<resource id>\", …]}")
	}
	at := h.now()
	actor := ownership.Actor{Name: c.TenantID + "/" + c.ObjectID, ID: caller.ID, Admin: admin}
	comps, err := h.ownership().ImportSolution(r.Context(), actor, tenant, r.PathValue("env"), body.Components, caller, at)
	if err != nil {
		return err
	}
	out := []ResourceView{}
	for _, comp := range comps {
		out = append(out, ToResourceView(comp.Resource, comp.History))
	}
	writeJSON(w, http.StatusOK, map[string]any{"importer": caller.ID, "at": at, "value": out})
	return nil
}

// PowerPlatformState is the stored world and the imported activity, read
// for a computation over months before to.
func PowerPlatformState(ctx context.Context, st Exporter, us usage.Store, dataDir string, to time.Time) (*powerplatform.Model, *powerplatform.Activity, error) {
	doc, err := st.ExportWorld(ctx)
	if err != nil {
		return nil, nil, err
	}
	in, err := powerplatform.FromWorld(doc)
	if err != nil {
		return nil, nil, err
	}
	m, err := powerplatform.NewModel(in)
	if err != nil {
		return nil, nil, err
	}
	a, _, err := usage.LoadActivity(ctx, us, dataDir, to)
	if err != nil {
		return nil, nil, err
	}
	return m, a, nil
}

// dayRange reads ?from=YYYY-MM-DD&to=YYYY-MM-DD.
func dayRange(r *http.Request) (time.Time, time.Time, error) {
	q := r.URL.Query()
	from, err := time.Parse("2006-01-02", q.Get("from"))
	if err != nil {
		return time.Time{}, time.Time{}, partnerlink.Errorf(partnerlink.EINVALID, "from %q: expected a day YYYY-MM-DD", q.Get("from"))
	}
	to, err := time.Parse("2006-01-02", q.Get("to"))
	if err != nil {
		return time.Time{}, time.Time{}, partnerlink.Errorf(partnerlink.EINVALID, "to %q: expected a day YYYY-MM-DD", q.Get("to"))
	}
	if !from.Before(to) {
		return time.Time{}, time.Time{}, partnerlink.Errorf(partnerlink.EINVALID, "from %s must be before to %s", q.Get("from"), q.Get("to"))
	}
	return from, to, nil
}

// PPCreditView is one row of the Power Platform credit (docs/api.md#attribution-csv columns).
type PPCreditView struct {
	PartnerID     string `json:"partnerId"`
	TenantID      string `json:"tenantId"`
	EnvironmentID string `json:"environmentId"`
	ResourceID    string `json:"resourceId"`
	ResourceKind  string `json:"resourceKind"`
	Month         string `json:"month"`
	Metric        string `json:"metric"`
	Value         int64  `json:"value"`
	Eligible      bool   `json:"eligible"`
}

// partnerPowerPlatformCredits: GET /api/v1/partners/{p}/powerplatform/credits?from=&to=
// — the months whose first day lies in [from, to), for the organization's
// principals; a global ID's view includes its location IDs.
func (h *Handler) partnerPowerPlatformCredits(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	ids, err := h.partnerAccess(r, c)
	if err != nil {
		return err
	}
	from, to, err := dayRange(r)
	if err != nil {
		return err
	}
	m, a, err := PowerPlatformState(r.Context(), h.Store, h.Store, h.DataDir, to)
	if err != nil {
		return err
	}
	cs, err := m.Credits(a, from, to)
	if err != nil {
		return err
	}
	out := []PPCreditView{}
	for _, x := range cs {
		if slices.Contains(ids, x.PartnerID) {
			out = append(out, PPCreditView{PartnerID: x.PartnerID, TenantID: x.TenantID, EnvironmentID: x.EnvironmentID,
				ResourceID: x.ResourceID, ResourceKind: string(x.Kind), Month: x.Month.String(), Metric: string(x.Metric),
				Value: x.Value, Eligible: x.Eligible})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "value": out})
	return nil
}

// AtRiskView is one resource and month where the partner's work earns it
// nothing, with the remedy.
type AtRiskView struct {
	PartnerID    string   `json:"partnerId"`
	TenantID     string   `json:"tenantId"`
	ResourceID   string   `json:"resourceId"`
	ResourceKind string   `json:"resourceKind"`
	Month        string   `json:"month"`
	Principals   []string `json:"principals"`
	Attributed   []string `json:"attributedUsers"`
	CreditedTo   string   `json:"creditedTo,omitempty"`
	// CreditedElsewhere: another organization is credited, which the
	// partner's view does not name (docs/rules.md#views-and-credits).
	CreditedElsewhere bool   `json:"creditedElsewhere,omitempty"`
	Remedy            string `json:"remedy"`
}

// ToAtRiskView converts a credit-at-risk item for output.
func ToAtRiskView(x powerplatform.AtRisk) AtRiskView {
	v := AtRiskView{PartnerID: x.PartnerID, TenantID: x.Resource.TenantID, ResourceID: x.Resource.ID, ResourceKind: string(x.Resource.Kind),
		Month: x.Month.String(), Principals: x.Principals, Attributed: x.Attributed, CreditedTo: x.CreditedTo, Remedy: x.Remedy}
	if v.Principals == nil {
		v.Principals = []string{}
	}
	if v.Attributed == nil {
		v.Attributed = []string{}
	}
	return v
}

// partnerAtRiskView is x as the partner organization of ids sees it: the
// organization credited instead is named only when it is its own.
func partnerAtRiskView(x powerplatform.AtRisk, ids []string) AtRiskView {
	v := ToAtRiskView(x)
	if v.CreditedTo != "" && !slices.Contains(ids, v.CreditedTo) {
		v.CreditedTo, v.CreditedElsewhere = "", true
	}
	return v
}

// partnerAtRisk: GET /api/v1/partners/{p}/powerplatform/at-risk?from=&to=.
func (h *Handler) partnerAtRisk(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	ids, err := h.partnerAccess(r, c)
	if err != nil {
		return err
	}
	from, to, err := dayRange(r)
	if err != nil {
		return err
	}
	m, a, err := PowerPlatformState(r.Context(), h.Store, h.Store, h.DataDir, to)
	if err != nil {
		return err
	}
	out := []AtRiskView{}
	for _, id := range ids {
		items, err := m.CreditAtRisk(a, id, from, to)
		if err != nil {
			return err
		}
		for _, x := range items {
			out = append(out, partnerAtRiskView(x, ids))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "value": out})
	return nil
}

// PPExplanationView is a powerplatform.Explanation as the API shows it.
type PPExplanationView struct {
	Resource     ResourceView  `json:"resource"`
	Environment  string        `json:"environmentType"`
	Month        string        `json:"month"`
	Metric       string        `json:"metric"`
	Value        int64         `json:"value"`
	Reported     bool          `json:"reported"`
	ActiveUsers  int64         `json:"activeUsers"`
	Eligible     bool          `json:"eligible"`
	Attributed   []HoldingView `json:"attributedUsers"`
	Candidates   []string      `json:"candidates"`
	NotQualified []string      `json:"notQualified"`
	CreditedTo   string        `json:"creditedTo,omitempty"`
	Reason       string        `json:"reason"`
	Text         string        `json:"text"`
}

// ToPPExplanationView converts an explanation for output.
func ToPPExplanationView(e *powerplatform.Explanation) PPExplanationView {
	v := PPExplanationView{Resource: ToResourceView(e.Resource, nil), Environment: string(e.Environment.Type), Month: e.Month.String(),
		Metric: string(e.Metric), Value: e.Value, Reported: e.Reported, ActiveUsers: e.ActiveUsers, Eligible: e.Eligible,
		Attributed: []HoldingView{}, Candidates: []string{}, NotQualified: []string{}, Reason: e.Reason, Text: e.String()}
	for _, ap := range e.Attributed {
		hv := HoldingView{PrincipalID: ap.PrincipalID, Role: string(ap.Role), From: ap.Period.From}
		if !ap.Period.To.IsZero() {
			to := ap.Period.To
			hv.To = &to
		}
		v.Attributed = append(v.Attributed, hv)
	}
	for _, c := range e.Candidates {
		v.Candidates = append(v.Candidates, c.PartnerID)
	}
	v.NotQualified = append(v.NotQualified, e.NotQualified...)
	if e.Credit != nil {
		v.CreditedTo = e.Credit.PartnerID
	}
	return v
}

// explainResource: GET /api/v1/tenants/{t}/powerplatform/resources/{id}/explain?month=
// — for callers with a read role at the tenant's root, about its resources.
func (h *Handler) explainResource(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	st := h.Store
	tenant, err := h.tenantAccess(r, c, readPowerPlatform)
	if err != nil {
		return err
	}
	mo, err := partnerlink.ParseMonth(r.URL.Query().Get("month"))
	if err != nil {
		return partnerlink.Errorf(partnerlink.EINVALID, "month: %v", err)
	}
	res, err := st.PowerPlatformResource(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if res.TenantID != tenant {
		return partnerlink.Errorf(partnerlink.ENOTFOUND, "tenant %s has no Power Platform resource %s", tenant, r.PathValue("id"))
	}
	m, a, err := PowerPlatformState(r.Context(), h.Store, h.Store, h.DataDir, mo.End())
	if err != nil {
		return err
	}
	e, err := m.Explain(a, res.ID, mo)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ToPPExplanationView(e))
	return nil
}
