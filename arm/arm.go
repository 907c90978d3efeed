// Package arm is the Azure Resource Manager wire surface: the routes,
// api-version checks, bearer authentication, ARM error bodies and headers
// that unmodified Azure SDKs and CLIs expect, with one handler file per
// resource provider.
package arm

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
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
}

// maxBody bounds every request body. The ManagementPartner operations take
// no body at all; anything larger than this is refused with 413.
const maxBody = 1 << 20

// route is one ARM operation: the methods it allows, the api-versions it
// accepts (nil: any well-formed version) and its handler.
type route struct {
	versions []string
	methods  map[string]func(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params)
}

// params are the parts of the path a handler needs, and the request body.
type params struct {
	name  string // the last segment, e.g. the partner ID
	scope string // the scope before /providers/Microsoft.Authorization, original casing
	sub   string // subscription id
	body  []byte
}

type handlerFunc = func(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params)

// ServeHTTP routes case-insensitively (ARM paths are case-insensitive and
// the real ids are lower-case), then authenticates, checks the api-version
// and the body size, and calls the operation.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setRequestHeaders(w, r)
	rt, p, ok := h.match(r.URL.Path)
	if !ok {
		writeError(w, partnerlink.ARMErrorf(partnerlink.ENOTFOUND, "InvalidResourceType",
			"The resource path '%s' is not served here; this server provides Microsoft.ManagementPartner, Microsoft.Authorization at any scope, subscriptions, resource groups, management groups and /tenants.", r.URL.Path))
		return
	}
	op, ok := rt.methods[r.Method]
	if !ok {
		writeError(w, &partnerlink.Error{Code: "method", ARMCode: "MethodNotAllowed",
			Message: "The method '" + r.Method + "' is not allowed on '" + r.URL.Path + "'; allowed: " + allowed(rt) + "."})
		return
	}
	caller, err := h.authenticate(r)
	if err != nil {
		h.challenge(w, err)
		writeError(w, err)
		return
	}
	if err := checkAPIVersion(r.URL.Query().Get("api-version"), rt.versions); err != nil {
		writeError(w, err)
		return
	}
	if r.ContentLength > maxBody {
		writeError(w, tooLarge())
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	p.body = body
	op(w, r, caller, p)
}

// match finds the route of a path, comparing case-insensitively.
func (h *Handler) match(rawPath string) (*route, params, bool) {
	raw := strings.TrimSuffix(rawPath, "/")
	path := strings.ToLower(raw)
	one := func(versions []string, m map[string]handlerFunc, p params) (*route, params, bool) {
		return &route{versions: versions, methods: m}, p, true
	}
	const mp = "/providers/microsoft.managementpartner/"
	switch {
	case path == mp+"partners":
		return one(mpVersions, map[string]handlerFunc{http.MethodGet: h.getCurrentPartner}, params{})
	case strings.HasPrefix(path, mp+"partners/"):
		id := path[len(mp+"partners/"):]
		if strings.Contains(id, "/") {
			return nil, params{}, false
		}
		return one(mpVersions, map[string]handlerFunc{http.MethodGet: h.getPartner, http.MethodPut: h.putPartner,
			http.MethodPatch: h.patchPartner, http.MethodDelete: h.deletePartner}, params{name: id})
	case path == mp+"operations":
		return one(mpVersions, map[string]handlerFunc{http.MethodGet: h.listOperations}, params{})
	}
	if h.Roles == nil {
		return h.matchTenants(path)
	}
	const authz = "/providers/microsoft.authorization/"
	if i := strings.LastIndex(path, authz); i >= 0 {
		p := params{scope: raw[:i]}
		switch rest := path[i+len(authz):]; {
		case rest == "roleassignments":
			return one(authVersions, map[string]handlerFunc{http.MethodGet: h.listRoleAssignments}, p)
		case strings.HasPrefix(rest, "roleassignments/") && !strings.Contains(rest[16:], "/"):
			p.name = rest[16:]
			return one(authVersions, map[string]handlerFunc{http.MethodGet: h.getRoleAssignment,
				http.MethodPut: h.putRoleAssignment, http.MethodDelete: h.deleteRoleAssignment}, p)
		case rest == "roledefinitions":
			return one(authVersions, map[string]handlerFunc{http.MethodGet: h.listRoleDefinitions}, p)
		case strings.HasPrefix(rest, "roledefinitions/") && !strings.Contains(rest[16:], "/"):
			p.name = rest[16:]
			return one(authVersions, map[string]handlerFunc{http.MethodGet: h.getRoleDefinition,
				http.MethodPut: h.putRoleDefinition}, p)
		}
		return nil, params{}, false
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	rawParts := strings.Split(strings.TrimPrefix(raw, "/"), "/")
	switch {
	case len(parts) == 5 && parts[0] == "subscriptions" && parts[2] == "providers" && parts[4] == "register":
		return one(nil, map[string]handlerFunc{http.MethodPost: h.registerProvider}, params{sub: parts[1], name: rawParts[3]})
	case len(parts) == 4 && parts[0] == "subscriptions" && parts[2] == "providers":
		return one(nil, map[string]handlerFunc{http.MethodGet: h.getProvider}, params{sub: parts[1], name: rawParts[3]})
	case len(parts) == 2 && parts[0] == "subscriptions":
		return one(nil, map[string]handlerFunc{http.MethodGet: h.getSubscription}, params{sub: parts[1]})
	case len(parts) == 3 && parts[0] == "subscriptions" && parts[2] == "resourcegroups":
		return one(nil, map[string]handlerFunc{http.MethodGet: h.listResourceGroups}, params{sub: parts[1]})
	case len(parts) == 4 && parts[0] == "subscriptions" && parts[2] == "resourcegroups":
		return one(nil, map[string]handlerFunc{http.MethodGet: h.getResourceGroup, http.MethodPut: h.putResourceGroup},
			params{sub: parts[1], name: rawParts[3]})
	case len(parts) == 4 && parts[0] == "providers" && parts[1] == "microsoft.management" && parts[2] == "managementgroups":
		return one(nil, map[string]handlerFunc{http.MethodGet: h.getManagementGroup, http.MethodPut: h.putManagementGroup},
			params{name: rawParts[3]})
	case len(parts) == 6 && parts[0] == "providers" && parts[1] == "microsoft.management" && parts[2] == "managementgroups" &&
		parts[4] == "subscriptions":
		return one(nil, map[string]handlerFunc{http.MethodPut: h.putManagementGroupSubscription},
			params{name: rawParts[3], sub: parts[5]})
	}
	return h.matchTenants(path)
}

func (h *Handler) matchTenants(path string) (*route, params, bool) {
	switch path {
	case "/subscriptions":
		return &route{methods: map[string]handlerFunc{http.MethodGet: h.listSubscriptions}}, params{}, true
	case "/tenants":
		return &route{methods: map[string]handlerFunc{http.MethodGet: h.listTenants}}, params{}, true
	}
	return nil, params{}, false
}

func allowed(rt *route) string {
	var ms []string
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodPost} {
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
