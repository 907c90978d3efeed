// Package api is partnerlink's own HTTP API (JSON under /api/v1), for what
// ARM has no shape for: the customer's and the partner's views of links and
// their history, the outbox of notifications, webhook settings, Lighthouse
// delegations, and directory administration.
//
// Callers authenticate with the same bearer tokens as ARM and are
// authorized by role (customer views) or by partner organization (partner
// views). The admin routes take the server's admin key instead.
package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/arm"
	"github.com/partnerlink/partnerlink/ledger"
	"github.com/partnerlink/partnerlink/notify"
	"github.com/partnerlink/partnerlink/rbac"
	"github.com/partnerlink/partnerlink/report"
	"github.com/partnerlink/partnerlink/web"
)

// Store is what the API reads and writes.
type Store interface {
	partnerlink.DirectoryStore
	partnerlink.LinkStore
	partnerlink.OutboxStore
	partnerlink.RoleStore
	Exporter
	StateVersioner
	partnerlink.CreditStore
	ledger.Store
	partnerlink.PowerPlatformStore
	partnerlink.ReportStore
	partnerlink.PartitionStore
	Onboard(ctx context.Context, tenantID, objectID string, o partnerlink.Onboarding) (*partnerlink.Link, *partnerlink.LinkEvent, error)
}

// Handler serves /api/v1.
type Handler struct {
	Auth  arm.Authenticator
	Store Store
	// AdminKeyHash is the SHA-256 of the admin key; empty disables admin routes.
	AdminKeyHash [32]byte
	// DataDir holds the usage files runs read.
	DataDir string
	// CloseDay is the day of the next month from which a month closes
	// (report.DefaultCloseDay when 0).
	CloseDay int
	Now      func() time.Time
	// Webhooks decides which webhook URLs tenants may set (docs/operations.md, "Webhooks").
	Webhooks *notify.Policy
	// LastClosePass reports the server's last scheduled close pass (zero
	// time: none yet); nil when the server schedules no closes.
	LastClosePass func() (time.Time, error)
	// Reports, when set, is the report service the server closes with (its
	// usage store and job queue); otherwise one over Store and DataDir.
	Reports func() *report.Service
	// Log receives internal errors, with their request ids.
	Log          *slog.Logger
	mux          *http.ServeMux
	routes       []string
	explainIndex indexCache
}

// Actions checked for the customer's views.
const (
	readLinks = "Microsoft.ManagementPartner/partners/read"
)

// New builds the handler.
func New(auth arm.Authenticator, store Store, adminKeyHash [32]byte, now func() time.Time) *Handler {
	h := &Handler{Auth: auth, Store: store, AdminKeyHash: adminKeyHash, Now: now, mux: http.NewServeMux()}
	h.handle("GET /api/v1/tenants/{tenant}/links", h.caller(h.tenantLinks))
	h.handle("GET /api/v1/tenants/{tenant}/link-events", h.caller(h.tenantEvents))
	h.handle("GET /api/v1/tenants/{tenant}/notifications", h.caller(h.tenantNotifications))
	h.handle("PUT /api/v1/tenants/{tenant}/webhook", h.caller(h.putWebhook))
	h.handle("GET /api/v1/tenants/{tenant}/delegations", h.caller(h.listDelegations))
	h.handle("PUT /api/v1/tenants/{tenant}/delegations/{id}", h.caller(h.putDelegation))
	h.handle("DELETE /api/v1/tenants/{tenant}/delegations/{id}", h.caller(h.deleteDelegation))
	h.handle("GET /api/v1/partners/{partner}/links", h.caller(h.partnerLinks))
	h.handle("GET /api/v1/partners/{partner}/link-events", h.caller(h.partnerEvents))
	h.handle("GET /api/v1/me", h.caller(h.me))
	h.handle("GET /api/v1/partners/{partner}/explain", h.caller(h.partnerExplain))
	h.handle("GET /api/v1/tenants/{tenant}/explain", h.caller(h.tenantExplain))
	h.handle("GET /api/v1/partners/{partner}/credits", h.caller(h.partnerCredits))
	h.handle("GET /api/v1/tenants/{tenant}/credits", h.caller(h.tenantCredits))
	h.handle("PUT /api/v1/tenants/{tenant}/environments/{env}", h.caller(h.putEnvironment))
	h.handle("GET /api/v1/tenants/{tenant}/environments", h.caller(h.listEnvironments))
	h.handle("GET /api/v1/tenants/{tenant}/environments/{env}", h.caller(h.getEnvironment))
	h.handle("PUT /api/v1/tenants/{tenant}/environments/{env}/resources/{id}", h.caller(h.putResource))
	h.handle("GET /api/v1/tenants/{tenant}/environments/{env}/resources", h.caller(h.listResources))
	h.handle("GET /api/v1/tenants/{tenant}/environments/{env}/resources/{id}", h.caller(h.getResource))
	h.handle("PUT /api/v1/tenants/{tenant}/environments/{env}/resources/{id}/owner", h.caller(h.setOwner))
	h.handle("POST /api/v1/tenants/{tenant}/environments/{env}/resources/{id}/co-owners", h.caller(h.addCoOwner))
	h.handle("DELETE /api/v1/tenants/{tenant}/environments/{env}/resources/{id}/co-owners/{principal}", h.caller(h.removeCoOwner))
	h.handle("POST /api/v1/tenants/{tenant}/environments/{env}/resources/{id}/publish", h.caller(h.publish))
	h.handle("POST /api/v1/tenants/{tenant}/environments/{env}/solutions", h.caller(h.importSolution))
	h.handle("GET /api/v1/tenants/{tenant}/powerplatform/resources/{id}/explain", h.caller(h.explainResource))
	h.handle("GET /api/v1/partners/{partner}/powerplatform/credits", h.caller(h.partnerPowerPlatformCredits))
	h.handle("GET /api/v1/partners/{partner}/powerplatform/at-risk", h.caller(h.partnerAtRisk))
	h.handle("GET /api/v1/partners/{partner}/reports/{month}", h.caller(h.partnerReport))
	h.handle("GET /api/v1/partners/{partner}/reports/{month}/unlinked", h.caller(h.partnerUnlinkedReport))
	h.handle("GET /api/v1/tenants/{tenant}/reports/{month}", h.caller(h.tenantReport))
	h.handle("GET /api/v1/reports", h.caller(h.closedMonths))
	h.handle("POST /api/v1/tenants/{tenant}/onboarding/service-principals", h.caller(h.onboardServicePrincipal))
	h.handle("POST /api/v1/admin/runs", h.admin(h.adminRun))
	h.handle("POST /api/v1/admin/closes", h.admin(h.adminClose))
	h.handle("GET /api/v1/admin/closes", h.admin(h.adminCloses))
	h.handle("GET /api/v1/admin/reports", h.admin(h.adminReportVersions))
	h.handle("GET /api/v1/admin/reports/{month}/versions/{version}", h.admin(h.adminReportVersion))
	h.handle("GET /api/v1/admin/reports/{month}/program", h.admin(h.adminProgramReport))
	h.handle("GET /api/v1/admin/reports/{month}/partners/{partner}", h.admin(h.servePartnerReport))
	h.handle("GET /api/v1/admin/reports/{month}/tenants/{tenant}", h.admin(h.serveTenantReport))
	h.handle("PUT /api/v1/admin/tenants/{tenant}", h.admin(h.adminPutTenant))
	h.handle("PUT /api/v1/admin/tenants/{tenant}/principals/{object}", h.admin(h.adminPutPrincipal))
	h.handle("POST /api/v1/admin/tenants/{tenant}/principals/{object}/secrets", h.admin(h.adminAddSecret))
	h.handle("POST /api/v1/admin/tenants/{tenant}/principals/{object}/enable", h.admin(h.adminEnablePrincipal))
	h.handle("POST /api/v1/admin/tenants/{tenant}/memberships", h.admin(h.adminAddMembership))
	h.handle("PUT /api/v1/admin/partners/{partner}", h.admin(h.adminPutPartner))
	h.handle("GET /api/v1/admin/partners", h.admin(h.adminListPartners))
	h.handle("GET /api/v1/admin/tenants", h.admin(h.adminListTenants))
	h.handle("GET /api/v1/admin/tenants/{tenant}/principals", h.admin(h.adminListPrincipals))
	return h
}

// handle registers a route ("METHOD /path/{param}") and remembers it for Routes.
func (h *Handler) handle(pattern string, fn http.HandlerFunc) {
	h.mux.HandleFunc(pattern, fn)
	h.routes = append(h.routes, pattern)
}

// Routes lists every route of /api/v1 as "METHOD /pattern", in the order
// they were registered.
func (h *Handler) Routes() []string { return append([]string(nil), h.routes...) }

// routeMethods are the methods tried to tell 405 from 404.
var routeMethods = []string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodPatch, http.MethodDelete}

// ServeHTTP routes the request; a path no route has answers 404, a method
// the path's routes do not take 405 with Allow, both with the JSON error
// body (the ServeMux's own answers are plain text).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := h.mux.Handler(r); pattern != "" {
		h.mux.ServeHTTP(w, r)
		return
	}
	var allow []string
	for _, m := range routeMethods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		web.Error(w, r, h.Log, partnerlink.ARMErrorf(partnerlink.ENOTFOUND, "NotFound",
			"The path '%s' is not an endpoint of /api/v1 (docs/api.md lists them).", r.URL.Path))
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	web.Error(w, r, h.Log, partnerlink.ARMErrorf(partnerlink.EMETHOD, "MethodNotAllowed",
		"The method '%s' is not allowed on '%s'; allowed: %s.", r.Method, r.URL.Path, strings.Join(allow, ", ")))
}

// HashAdminKey is how the admin key is kept.
func HashAdminKey(key string) [32]byte { return sha256.Sum256([]byte(key)) }

// AdminKeyMatches reports whether the Authorization header value presents
// the admin key whose hash is keyHash: "Bearer <key>", compared in constant
// time. An empty key never matches, nor does anything when no key is set
// (docs/operations.md, "Admin key").
func AdminKeyMatches(keyHash [32]byte, authorization string) bool {
	scheme, key, _ := strings.Cut(authorization, " ")
	key = strings.TrimSpace(key)
	if keyHash == ([32]byte{}) || keyHash == emptyKeyHash || key == "" || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(key))
	return subtle.ConstantTimeCompare(got[:], keyHash[:]) == 1
}

// emptyKeyHash is the hash of the empty key, which is never a key.
var emptyKeyHash = sha256.Sum256(nil)

// callerFunc is a handler of an authenticated caller; an error it returns
// is the answer (web.Error).
type callerFunc func(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error

// caller authenticates the bearer token.
func (h *Handler) caller(fn callerFunc) http.HandlerFunc {
	return web.Handle(h.Log, func(w http.ResponseWriter, r *http.Request) error {
		auth := r.Header.Get("Authorization")
		scheme, token, _ := strings.Cut(auth, " ")
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			return partnerlink.ARMErrorf(partnerlink.EUNAUTHORIZED, "AuthenticationFailed",
				"Send 'Authorization: Bearer <access token>' (partnerlink login, or any token of this server).")
		}
		c, err := h.Auth.Validate(r.Context(), token)
		if err != nil {
			return err
		}
		return fn(w, r, c)
	})
}

// admin checks the admin key in constant time.
func (h *Handler) admin(fn web.HandlerFunc) http.HandlerFunc {
	return web.Handle(h.Log, func(w http.ResponseWriter, r *http.Request) error {
		if !AdminKeyMatches(h.AdminKeyHash, r.Header.Get("Authorization")) {
			return partnerlink.ARMErrorf(partnerlink.EUNAUTHORIZED, "AuthenticationFailed",
				"The admin API needs 'Authorization: Bearer <admin key>' (the key is in DATA_DIR/admin-key).")
		}
		return fn(w, r)
	})
}

func (h *Handler) authorizer() *rbac.Authorizer { return &rbac.Authorizer{Store: h.Store, Now: h.Now} }

var rootScope = partnerlink.Scope{Kind: partnerlink.ScopeRoot, Raw: "/", Key: "/"}

// tenantAccess allows a caller of the tenant holding action at its root.
func (h *Handler) tenantAccess(r *http.Request, c partnerlink.Caller, action string) (string, error) {
	tenant, err := partnerlink.ParseGUID("tenant", r.PathValue("tenant"))
	if err != nil {
		return "", err
	}
	if tenant != c.TenantID {
		return "", partnerlink.ARMErrorf(partnerlink.EFORBIDDEN, "AuthorizationFailed",
			"This view is for tenant %s's own principals; your token is for tenant %s.", tenant, c.TenantID)
	}
	return tenant, h.authorizer().Check(r.Context(), c, rootScope, action)
}

// possessive is name's possessive form: "Contoso's", "Northwind
// Integrators'".
func possessive(name string) string {
	if strings.HasSuffix(name, "s") {
		return name + "'"
	}
	return name + "'s"
}

// partnerAccess allows callers whose tenant is one of the partner
// organization's home tenants (the global ID's, for a location ID), and
// returns every ID of the organization.
func (h *Handler) partnerAccess(r *http.Request, c partnerlink.Caller) ([]string, error) {
	id := r.PathValue("partner")
	if err := partnerlink.ValidatePartnerID(id); err != nil {
		return nil, err
	}
	ctx := r.Context()
	p, err := h.Store.Partner(ctx, id)
	if err != nil {
		return nil, err
	}
	global := p
	if p.GlobalID != "" {
		if global, err = h.Store.Partner(ctx, p.GlobalID); err != nil {
			return nil, err
		}
	}
	home := false
	for _, t := range global.HomeTenantIDs {
		home = home || t == c.TenantID
	}
	if !home {
		return nil, partnerlink.ARMErrorf(partnerlink.EFORBIDDEN, "AuthorizationFailed",
			"Only principals of %s own tenants may see its views (links, credits, reports); the token's tenant %s is not one of them.", possessive(global.Name), c.TenantID)
	}
	// A guest in the home tenant is someone else's account, invited in:
	// the organization's credits and links are not its to read
	// (docs/rules.md#views-and-credits).
	who := c.Principal
	if who == nil {
		if who, err = h.Store.Principal(ctx, c.TenantID, c.ObjectID); err != nil && partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
			return nil, err
		}
	}
	if who != nil && who.Type == partnerlink.PrincipalGuest {
		return nil, partnerlink.ARMErrorf(partnerlink.EFORBIDDEN, "AuthorizationFailed",
			"Guests in %s tenants may not see its views; sign in with an account of the tenant.", possessive(global.Name))
	}
	ids := []string{id}
	if p.GlobalID == "" {
		locs, err := h.Store.LocationIDs(ctx, id)
		if err != nil {
			return nil, err
		}
		ids = append(ids, locs...)
	}
	return ids, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) { web.JSON(w, status, v) }

// maxBody bounds every /api/v1 request body; a larger one is refused with 413.
const maxBody = 1 << 20

func decode(r *http.Request, v any) error {
	if r.ContentLength > maxBody {
		return tooLarge(r.ContentLength)
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return partnerlink.Errorf(partnerlink.EINVALID, "the request body could not be read: %v", err)
	}
	if len(b) > maxBody {
		return tooLarge(-1)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return partnerlink.Errorf(partnerlink.EINVALID, "the request body is not valid JSON: %v", err)
	}
	return nil
}

func tooLarge(size int64) error {
	got := "larger"
	if size > 0 {
		got = fmt.Sprintf("%d bytes,", size)
	}
	return partnerlink.ARMErrorf(partnerlink.ETOOLARGE, "RequestEntityTooLarge",
		"The request body is %s over the limit of %d bytes for /api/v1.", got, maxBody)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}
