// Package arm is the Azure Resource Manager wire surface: the routes,
// api-version checks, bearer authentication, ARM error bodies and headers
// that unmodified Azure SDKs and CLIs expect, with one handler file per
// resource provider.
package arm

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/web"
)

// Authenticator validates a bearer token fully (signature, issuer, audience,
// expiry, tenant) and returns the caller.
type Authenticator interface {
	Validate(ctx context.Context, raw string) (partnerlink.Caller, error)
}

// Handler serves the ARM surface.
type Handler struct {
	Auth      Authenticator
	Links     partnerlink.LinkService
	Directory partnerlink.DirectoryStore
	Roles     RoleStore
	// BaseURL is the server's public URL, for WWW-Authenticate challenges.
	BaseURL string
	Now     func() time.Time
	// Log receives internal errors, with their request ids.
	Log *slog.Logger
}

// maxBody bounds every request body. The ManagementPartner operations take
// no body at all; anything larger than this is refused with 413.
const maxBody = 1 << 20

// route is one ARM operation: the methods it allows, the api-versions it
// accepts (nil: any well-formed version) and its handler.
type route struct {
	versions []string
	methods  map[string]handlerFunc
}

// params are the parts of the path a handler needs, and the request body.
type params struct {
	name  string // the last segment, e.g. the partner ID
	scope string // the scope before /providers/Microsoft.Authorization, original casing
	sub   string // subscription id
	body  []byte
}

// handlerFunc is one operation; an error it returns is the answer
// (web.Error maps its code to the status and ARM error code).
type handlerFunc = func(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error

// ServeHTTP routes case-insensitively (ARM paths are case-insensitive and
// the real ids are lower-case), then authenticates, checks the api-version
// and the body size, and calls the operation.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setRequestHeaders(w, r)
	if err := h.serve(w, r); err != nil {
		h.challenge(w, err)
		web.Error(w, r, h.Log, err)
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) error {
	rt, p, ok := h.match(r.URL.Path)
	if !ok {
		return partnerlink.ARMErrorf(partnerlink.ENOTFOUND, "InvalidResourceType",
			"The resource path '%s' is not served here; this server provides Microsoft.ManagementPartner, Microsoft.Authorization at any scope, subscriptions, resource groups, management groups and /tenants.", r.URL.Path)
	}
	op, ok := rt.methods[r.Method]
	if !ok {
		w.Header().Set("Allow", allowed(rt))
		return partnerlink.ARMErrorf(partnerlink.EMETHOD, "MethodNotAllowed",
			"The method '%s' is not allowed on '%s'; allowed: %s.", r.Method, r.URL.Path, allowed(rt))
	}
	caller, err := h.authenticate(r)
	if err != nil {
		return err
	}
	if err := checkAPIVersion(r.URL.Query().Get("api-version"), rt.versions); err != nil {
		return err
	}
	if r.ContentLength > maxBody {
		return tooLarge()
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	p.body = body
	return op(w, r, caller, p)
}

// routeSpec is one ARM route. Its pattern is a path whose literal segments
// match case-insensitively; {scope} (only first) takes any scope before the
// rest, a placeholder ending in "Id" takes one segment lower-cased, any
// other placeholder one segment as sent. needRoles routes exist only when
// the handler has a RoleStore.
type routeSpec struct {
	pattern   string
	versions  []string
	needRoles bool
	methods   map[string]handlerFunc
}

// routes is the ARM surface; Routes lists it and match routes by it.
func (h *Handler) routes() []routeSpec {
	type m = map[string]handlerFunc
	const get, put, patch, del, post, head = http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodPost, http.MethodHead
	return []routeSpec{
		{"/providers/Microsoft.ManagementPartner/partners", mpVersions, false, m{get: h.getCurrentPartner}},
		{"/providers/Microsoft.ManagementPartner/partners/{partnerId}", mpVersions, false,
			m{get: h.getPartner, put: h.putPartner, patch: h.patchPartner, del: h.deletePartner}},
		{"/providers/Microsoft.ManagementPartner/operations", mpVersions, false, m{get: h.listOperations}},
		{"{scope}/providers/Microsoft.Authorization/roleAssignments", authVersions, true, m{get: h.listRoleAssignments}},
		{"{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentId}", authVersions, true,
			m{get: h.getRoleAssignment, put: h.putRoleAssignment, del: h.deleteRoleAssignment}},
		{"{scope}/providers/Microsoft.Authorization/roleDefinitions", authVersions, true, m{get: h.listRoleDefinitions}},
		{"{scope}/providers/Microsoft.Authorization/roleDefinitions/{roleDefinitionId}", authVersions, true,
			m{get: h.getRoleDefinition, put: h.putRoleDefinition}},
		{"/subscriptions/{subscriptionId}/providers/{namespace}/register", nil, true, m{post: h.registerProvider}},
		{"/subscriptions/{subscriptionId}/providers/{namespace}", nil, true, m{get: h.getProvider}},
		{"/subscriptions/{subscriptionId}", nil, true, m{get: h.getSubscription}},
		{"/subscriptions/{subscriptionId}/resourceGroups", nil, true, m{get: h.listResourceGroups}},
		{"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}", nil, true, m{get: h.getResourceGroup, put: h.putResourceGroup, head: h.resourceGroupExists}},
		{"/providers/Microsoft.Management/managementGroups/{group}", nil, true, m{get: h.getManagementGroup, put: h.putManagementGroup}},
		{"/providers/Microsoft.Management/managementGroups/{group}/subscriptions/{subscriptionId}", nil, true,
			m{put: h.putManagementGroupSubscription}},
		{"/subscriptions", nil, false, m{get: h.listSubscriptions}},
		{"/tenants", nil, false, m{get: h.listTenants}},
	}
}

// Routes lists every ARM route as "METHOD pattern".
func (h *Handler) Routes() []string {
	var out []string
	for _, rs := range h.routes() {
		if rs.needRoles && h.Roles == nil {
			continue
		}
		for _, method := range strings.Split(allowed(&route{methods: rs.methods}), ", ") {
			out = append(out, method+" "+rs.pattern)
		}
	}
	return out
}

// match finds the route of a path, comparing case-insensitively. A path
// that names Microsoft.Authorization is one of its routes or none.
func (h *Handler) match(rawPath string) (*route, params, bool) {
	raw := strings.TrimSuffix(rawPath, "/")
	rawSegs := strings.Split(strings.TrimPrefix(raw, "/"), "/")
	authz := strings.Contains(strings.ToLower(raw), "/providers/microsoft.authorization/")
	for _, rs := range h.routes() {
		if (rs.needRoles && h.Roles == nil) || authz != strings.HasPrefix(rs.pattern, "{scope}") {
			continue
		}
		if p, ok := matchPattern(rs.pattern, rawSegs); ok {
			return &route{versions: rs.versions, methods: rs.methods}, p, true
		}
	}
	return nil, params{}, false
}

// matchPattern matches one route pattern against a path's segments (see
// routeSpec).
func matchPattern(pattern string, rawSegs []string) (params, bool) {
	var p params
	scoped := strings.HasPrefix(pattern, "{scope}")
	patSegs := strings.Split(strings.TrimPrefix(strings.TrimPrefix(pattern, "{scope}"), "/"), "/")
	segs := rawSegs
	if scoped {
		if len(rawSegs) < len(patSegs) {
			return p, false
		}
		segs = rawSegs[len(rawSegs)-len(patSegs):]
	} else if len(rawSegs) != len(patSegs) {
		return p, false
	}
	for i, ps := range patSegs {
		seg := segs[i]
		if !strings.HasPrefix(ps, "{") {
			if !strings.EqualFold(ps, seg) {
				return p, false
			}
			continue
		}
		if seg == "" {
			return p, false
		}
		if strings.HasSuffix(ps, "Id}") {
			seg = strings.ToLower(seg)
		}
		if ps == "{subscriptionId}" {
			p.sub = seg
		} else {
			p.name = seg
		}
	}
	if n := len(rawSegs) - len(patSegs); scoped && n > 0 {
		p.scope = "/" + strings.Join(rawSegs[:n], "/")
	}
	return p, true
}

func allowed(rt *route) string {
	var ms []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodPost} {
		if _, ok := rt.methods[m]; ok {
			ms = append(ms, m)
		}
	}
	return strings.Join(ms, ", ")
}

func (h *Handler) authenticate(r *http.Request) (partnerlink.Caller, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return partnerlink.Caller{}, partnerlink.ARMErrorf(partnerlink.EUNAUTHORIZED, "AuthenticationFailed",
			"Authentication failed. The 'Authorization' header is missing; send 'Authorization: Bearer <access token>'.")
	}
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return partnerlink.Caller{}, partnerlink.ARMErrorf(partnerlink.EUNAUTHORIZED, "AuthenticationFailedInvalidHeader",
			"Authentication failed. The 'Authorization' header is provided in an invalid format; expected 'Bearer <access token>'.")
	}
	c, err := h.Auth.Validate(r.Context(), strings.TrimSpace(token))
	if err != nil {
		var e *partnerlink.Error
		if !errors.As(err, &e) {
			return partnerlink.Caller{}, partnerlink.ARMErrorf(partnerlink.EUNAUTHORIZED, "InvalidAuthenticationToken",
				"The access token is invalid.")
		}
		return partnerlink.Caller{}, err
	}
	return c, nil
}

// challenge tells a client where to get a token, as ARM does.
func (h *Handler) challenge(w http.ResponseWriter, err error) {
	if partnerlink.ErrorCode(err) != partnerlink.EUNAUTHORIZED {
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer authorization_uri="`+h.BaseURL+`/organizations", error="invalid_token", error_description="`+
		strings.ReplaceAll(partnerlink.ErrorMessage(err), `"`, `'`)+`"`)
}

func tooLarge() error {
	return partnerlink.ARMErrorf(partnerlink.ETOOLARGE, "RequestEntityTooLarge",
		"The request body is larger than %d bytes; the Microsoft.ManagementPartner operations take no body.", maxBody)
}

// setRequestHeaders sets the ARM request-tracking headers on every answer.
func setRequestHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("x-ms-request-id", partnerlink.NewGUID().String())
	corr := r.Header.Get("x-ms-correlation-request-id")
	if corr == "" {
		corr = partnerlink.NewGUID().String()
	}
	h.Set("x-ms-correlation-request-id", corr)
	if id := r.Header.Get("x-ms-client-request-id"); id != "" {
		h.Set("x-ms-client-request-id", id)
	}
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
