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

	"github.com/google/uuid"
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

// params are the parts of the path a handler needs.
type params struct {
	name string // the last segment, e.g. the partner ID
}

// ServeHTTP routes case-insensitively (ARM paths are case-insensitive and
// the real ids are lower-case), then authenticates, checks the api-version
// and the body size, and calls the operation.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setRequestHeaders(w, r)
	rt, p, ok := h.match(strings.ToLower(r.URL.Path))
	if !ok {
		writeError(w, partnerlink.ARMErrorf(partnerlink.ENOTFOUND, "InvalidResourceType",
			"The resource path '%s' is not served here; this server provides Microsoft.ManagementPartner (/providers/Microsoft.ManagementPartner/partners/{partnerId}), /subscriptions and /tenants.", r.URL.Path))
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
	if err := drainBody(w, r); err != nil {
		writeError(w, err)
		return
	}
	op(w, r, caller, p)
}

// match finds the route of a lower-cased path.
func (h *Handler) match(path string) (*route, params, bool) {
	path = strings.TrimSuffix(path, "/")
	const mp = "/providers/microsoft.managementpartner/"
	switch {
	case path == mp+"partners":
		return &route{versions: mpVersions, methods: map[string]func(http.ResponseWriter, *http.Request, partnerlink.Caller, params){
			http.MethodGet: h.getCurrentPartner}}, params{}, true
	case strings.HasPrefix(path, mp+"partners/"):
		id := path[len(mp+"partners/"):]
		if strings.Contains(id, "/") {
			return nil, params{}, false
		}
		return &route{versions: mpVersions, methods: map[string]func(http.ResponseWriter, *http.Request, partnerlink.Caller, params){
			http.MethodGet:    h.getPartner,
			http.MethodPut:    h.putPartner,
			http.MethodPatch:  h.patchPartner,
			http.MethodDelete: h.deletePartner,
		}}, params{name: id}, true
	case path == mp+"operations":
		return &route{versions: mpVersions, methods: map[string]func(http.ResponseWriter, *http.Request, partnerlink.Caller, params){
			http.MethodGet: h.listOperations}}, params{}, true
	case path == "/subscriptions":
		return &route{methods: map[string]func(http.ResponseWriter, *http.Request, partnerlink.Caller, params){
			http.MethodGet: h.listSubscriptions}}, params{}, true
	case path == "/tenants":
		return &route{methods: map[string]func(http.ResponseWriter, *http.Request, partnerlink.Caller, params){
			http.MethodGet: h.listTenants}}, params{}, true
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

// drainBody reads (and discards) a request body up to the limit, so an
// oversized body is refused before any work is done.
func drainBody(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength > maxBody {
		return tooLarge()
	}
	if r.Body == nil || r.ContentLength == 0 {
		return nil
	}
	body := http.MaxBytesReader(w, r.Body, maxBody)
	buf := make([]byte, 32<<10)
	for {
		_, err := body.Read(buf)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return tooLarge()
			}
			return nil
		}
	}
}

func tooLarge() error {
	return partnerlink.ARMErrorf(partnerlink.ETOOLARGE, "RequestEntityTooLarge",
		"The request body is larger than %d bytes; the Microsoft.ManagementPartner operations take no body.", maxBody)
}

// setRequestHeaders sets the ARM request-tracking headers on every answer.
func setRequestHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("x-ms-request-id", uuid.NewString())
	corr := r.Header.Get("x-ms-correlation-request-id")
	if corr == "" {
		corr = uuid.NewString()
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
