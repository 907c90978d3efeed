// Package identity is partnerlink's OAuth 2.0 / OpenID Connect token service
// (one authority per tenant, compatible with MSAL Go, MSAL Python and the
// az CLI) and the validation of the bearer tokens the API receives, ours
// and those of trusted external issuers.
//
// Authorities:
//
//	{base}/{tenant}       per-tenant, v2 (/v2.0/...) and v1 endpoints; {tenant}
//	                      is a tenant GUID, or "organizations"/"common" for
//	                      user flows (resolved to the user's home tenant)
//	{base}/adfs           ADFS-style authority for clients that cannot turn
//	                      off instance discovery (az CLI 2.45); its tokens
//	                      are for the principal's home tenant
//	{base}/adfs/{label}/{tenant}
//	                      the tenant's discovery document where MSAL skips
//	                      instance discovery: az registered with the AD
//	                      endpoint {base}/adfs/{label} signs in to a tenant
//
// Issuers: {base}/{tid}/v2.0 (v2 endpoints), {base}/{tid}/ (v1 endpoints,
// like sts.windows.net/{tid}/) and {base}/adfs (the ADFS authority; the
// tenant is the token's tid claim).
package identity

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
)

// Config configures the token service.
type Config struct {
	// BaseURLs are the server's public base URLs, such as
	// https://127.0.0.1:8443 (no trailing slash needed). A request is
	// answered with the base URL whose host matches its Host header (so the
	// issuer matches the authority the client used, as MSAL Go checks), or
	// the first one.
	BaseURLs  []string
	Directory Directory
	Grants    GrantStore
	Keys      *KeySet
	Now       func() time.Time
	Logger    *slog.Logger

	// AccessTokenLifetime defaults to one hour; it must not exceed the key
	// set's Retain.
	AccessTokenLifetime time.Duration
	// RefreshTokenLifetime defaults to 90 days (each use issues a new one).
	RefreshTokenLifetime time.Duration
	// DeviceCodeLifetime defaults to 15 minutes; DeviceCodeInterval, the
	// polling interval the client is told, to 5 seconds.
	DeviceCodeLifetime time.Duration
	DeviceCodeInterval time.Duration
	// Throttle slows down password and client secret guessing.
	Throttle ThrottleConfig
}

// Service is the token service: an http.Handler for the identity endpoints
// listed in the package documentation, to be mounted at "/". IsIdentityPath
// tells a server which requests to route to it.
type Service struct {
	bases     []*url.URL
	dir       Directory
	grants    GrantStore
	keys      *KeySet
	now       func() time.Time
	log       *slog.Logger
	atLife    time.Duration
	rtLife    time.Duration
	dcLife    time.Duration
	dcEvery   time.Duration
	audiences map[string]bool
	throttle  *throttle
}

// NewService checks cfg and returns the token service.
func NewService(cfg Config) (*Service, error) {
	bases, err := parseBaseURLs(cfg.BaseURLs)
	if err != nil {
		return nil, err
	}
	if cfg.Directory == nil || cfg.Grants == nil || cfg.Keys == nil {
		return nil, errors.New("identity: Directory, Grants and Keys are required")
	}
	s := &Service{
		bases: bases, dir: cfg.Directory, grants: cfg.Grants, keys: cfg.Keys,
		now: cfg.Now, log: cfg.Logger,
		atLife: cfg.AccessTokenLifetime, rtLife: cfg.RefreshTokenLifetime,
		dcLife: cfg.DeviceCodeLifetime, dcEvery: cfg.DeviceCodeInterval,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.atLife == 0 {
		s.atLife = time.Hour
	}
	if s.atLife > cfg.Keys.retain {
		return nil, fmt.Errorf("identity: access token lifetime %v exceeds the key retention %v: rotated keys would vanish before their tokens expire", s.atLife, cfg.Keys.retain)
	}
	if s.rtLife == 0 {
		s.rtLife = 90 * 24 * time.Hour
	}
	if s.dcLife == 0 {
		s.dcLife = 15 * time.Minute
	}
	if s.dcEvery == 0 {
		s.dcEvery = 5 * time.Second
	}
	s.audiences = acceptedAudiences(bases)
	s.throttle = newThrottle(cfg.Throttle)
	return s, nil
}

func parseBaseURLs(raw []string) ([]*url.URL, error) {
	if len(raw) == 0 {
		return nil, errors.New("identity: at least one base URL is required")
	}
	var out []*url.URL
	for _, r := range raw {
		u, err := url.Parse(strings.TrimSuffix(r, "/"))
		if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("identity: base URL %q must be https://host[:port] with no path (Azure identity clients refuse plain http)", r)
		}
		u.Path = ""
		out = append(out, u)
	}
	return out, nil
}

// acceptedAudiences is the set of token audiences this server issues and
// accepts: Azure Resource Manager's two names, with and without the trailing
// slash, and the server's own base URLs.
func acceptedAudiences(bases []*url.URL) map[string]bool {
	a := map[string]bool{}
	for _, s := range []string{"https://management.core.windows.net", "https://management.azure.com"} {
		a[s], a[s+"/"] = true, true
	}
	for _, b := range bases {
		a[b.String()], a[b.String()+"/"] = true, true
	}
	return a
}

// base returns the configured base URL for the request's host.
func (s *Service) base(r *http.Request) string {
	for _, b := range s.bases {
		if strings.EqualFold(b.Host, r.Host) {
			return b.String()
		}
	}
	return s.bases[0].String()
}

// Endpoint names returned by Route.
const (
	epConfigV2    = "openid-configuration-v2"
	epConfigV1    = "openid-configuration-v1"
	epKeys        = "keys"
	epTokenV2     = "token-v2"
	epTokenV1     = "token-v1"
	epDeviceV2    = "devicecode-v2"
	epDeviceV1    = "devicecode-v1"
	epAuthorizeV2 = "authorize-v2"
	epAuthorizeV1 = "authorize-v1"
	epUserRealm   = "userrealm"
	epDevicePage  = "device-page"
)

// route maps a path to (tenant segment, endpoint, extra); ok is false for
// paths that are not the token service's. Literal segments are matched
// case-insensitively, like Azure AD does.
func route(path string) (tenant, endpoint, extra string, ok bool) {
	if strings.EqualFold(path, "/device") {
		return "", epDevicePage, "", true
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) < 2 {
		return "", "", "", false
	}
	tenant = strings.ToLower(parts[0])
	if !isAuthoritySegment(tenant) {
		return "", "", "", false
	}
	// {base}/adfs/{label}/{tenant}: az sends its tenant here when the cloud's
	// AD endpoint is {base}/adfs/{label}, and MSAL, seeing "adfs" first,
	// skips instance discovery. Only the discovery document is served under
	// it; it names the tenant's own endpoints (docs/clients.md, "az CLI").
	if tenant == "adfs" && len(parts) >= 4 && parts[1] != "" {
		if t := strings.ToLower(parts[2]); t != "adfs" && isAuthoritySegment(t) {
			switch strings.ToLower(strings.Join(parts[3:], "/")) {
			case ".well-known/openid-configuration", "v2.0/.well-known/openid-configuration":
				return t, epConfigV2, "", true
			}
			return "", "", "", false
		}
	}
	rest := strings.ToLower(strings.Join(parts[1:], "/"))
	if tenant == "common" && len(parts) == 3 && strings.EqualFold(parts[1], "userrealm") && parts[2] != "" {
		return tenant, epUserRealm, parts[2], true
	}
	if tenant == "adfs" {
		switch rest {
		case ".well-known/openid-configuration":
			return tenant, epConfigV1, "", true
		case "discovery/keys":
			return tenant, epKeys, "", true
		case "oauth2/token":
			return tenant, epTokenV1, "", true
		case "oauth2/devicecode":
			return tenant, epDeviceV1, "", true
		case "oauth2/authorize":
			return tenant, epAuthorizeV1, "", true
		}
		return "", "", "", false
	}
	switch rest {
	case "v2.0/.well-known/openid-configuration":
		endpoint = epConfigV2
	case ".well-known/openid-configuration":
		endpoint = epConfigV1
	case "discovery/v2.0/keys", "discovery/keys":
		endpoint = epKeys
	case "oauth2/v2.0/token":
		endpoint = epTokenV2
	case "oauth2/token":
		endpoint = epTokenV1
	case "oauth2/v2.0/devicecode":
		endpoint = epDeviceV2
	case "oauth2/devicecode":
		endpoint = epDeviceV1
	case "oauth2/v2.0/authorize":
		endpoint = epAuthorizeV2
	case "oauth2/authorize":
		endpoint = epAuthorizeV1
	default:
		return "", "", "", false
	}
	return tenant, endpoint, "", true
}

func isAuthoritySegment(s string) bool {
	return s == "common" || s == "organizations" || s == "adfs" || partnerlink.IsGUID(s)
}

// IsIdentityPath reports whether the token service answers path, so a server
// can send those requests to the Service and everything else to its API.
// Its paths start with a tenant GUID, "common", "organizations" or "adfs",
// or are "/device".
func IsIdentityPath(path string) bool {
	_, _, _, ok := route(path)
	return ok
}

// ServeHTTP answers the identity endpoints and 404 for anything else.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tenant, ep, extra, ok := route(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if ep == epDevicePage {
		switch r.Method {
		case http.MethodGet:
			s.deviceForm(w, r)
		case http.MethodPost:
			s.deviceSubmit(w, r)
		default:
			methodNotAllowed(w, "GET, POST")
		}
		return
	}
	post := ep == epTokenV2 || ep == epTokenV1 || ep == epDeviceV2 || ep == epDeviceV1
	form := ep == epAuthorizeV2 || ep == epAuthorizeV1 // GET shows it, POST sends it
	if form && r.Method != http.MethodPost && r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, POST")
		return
	}
	if post && r.Method != http.MethodPost {
		methodNotAllowed(w, "POST")
		return
	}
	if !post && !form && r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET")
		return
	}
	ctx := r.Context()
	if ep != epUserRealm && tenant != "common" && tenant != "organizations" && tenant != "adfs" {
		if _, err := s.dir.Tenant(ctx, tenant); err != nil {
			s.tenantError(w, tenant, err)
			return
		}
	}
	switch ep {
	case epConfigV2, epConfigV1:
		s.openIDConfiguration(w, r, tenant, ep == epConfigV2)
	case epKeys:
		writeJSON(w, http.StatusOK, s.keys.JWKS())
	case epTokenV2, epTokenV1:
		s.token(w, r, tenant, ep == epTokenV2)
	case epDeviceV2, epDeviceV1:
		s.deviceAuthorization(w, r, tenant, ep == epDeviceV2)
	case epAuthorizeV2, epAuthorizeV1:
		s.authorize(w, r, tenant, ep == epAuthorizeV2)
	case epUserRealm:
		s.userRealm(w, r, extra)
	}
}

func (s *Service) tenantError(w http.ResponseWriter, tenant string, err error) {
	if partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND {
		writeOAuthError(w, http.StatusBadRequest, "invalid_tenant",
			fmt.Sprintf("Tenant '%s' not found. Check the tenant id in the authority URL.", tenant))
		return
	}
	s.serverError(w, fmt.Errorf("identity: look up tenant: %w", err))
}

func (s *Service) serverError(w http.ResponseWriter, err error) {
	s.log.Error("identity: internal error", "err", err)
	writeOAuthError(w, http.StatusInternalServerError, "server_error", "The token service failed; see the server log.")
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "method not allowed; use "+allow)
}

// openIDConfiguration serves the discovery document of an authority.
func (s *Service) openIDConfiguration(w http.ResponseWriter, r *http.Request, tenant string, v2 bool) {
	base := s.base(r)
	a := base + "/" + tenant
	var issuer, tokenEP, deviceEP, authEP, keysEP string
	switch {
	case tenant == "adfs":
		issuer = base + "/adfs"
		tokenEP, deviceEP, authEP, keysEP = a+"/oauth2/token", a+"/oauth2/devicecode", a+"/oauth2/authorize", a+"/discovery/keys"
	case v2:
		issuer = issuerV2(base, tenant)
		tokenEP, deviceEP, authEP, keysEP = a+"/oauth2/v2.0/token", a+"/oauth2/v2.0/devicecode", a+"/oauth2/v2.0/authorize", a+"/discovery/v2.0/keys"
	default:
		issuer = issuerV1(base, tenant)
		tokenEP, deviceEP, authEP, keysEP = a+"/oauth2/token", a+"/oauth2/devicecode", a+"/oauth2/authorize", a+"/discovery/keys"
	}
	if tenant == "common" || tenant == "organizations" {
		// Like Azure AD: the issuer depends on the user's tenant.
		if v2 {
			issuer = base + "/{tenantid}/v2.0"
		} else {
			issuer = base + "/{tenantid}/"
		}
	}
	u, _ := url.Parse(base)
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                authEP,
		"token_endpoint":                        tokenEP,
		"device_authorization_endpoint":         deviceEP,
		"jwks_uri":                              keysEP,
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"grant_types_supported": []string{"authorization_code", "client_credentials", "password", "refresh_token",
			"urn:ietf:params:oauth:grant-type:device_code"},
		"code_challenge_methods_supported": []string{"S256"},
		"scopes_supported":                 []string{"openid", "profile", "email", "offline_access"},
		"claims_supported": []string{"iss", "aud", "exp", "nbf", "iat", "sub", "oid", "tid",
			"appid", "azp", "idtyp", "ver", "name", "upn", "preferred_username"},
		"tenant_region_scope":             nil,
		"cloud_instance_name":             u.Host,
		"request_uri_parameter_supported": false,
	})
}

func issuerV2(base, tenant string) string { return base + "/" + tenant + "/v2.0" }
func issuerV1(base, tenant string) string { return base + "/" + tenant + "/" }

// userRealm answers MSAL's home realm discovery for the username/password
// flow: every account here is "Managed" (its password is checked by this
// service; there is no federation).
func (s *Service) userRealm(w http.ResponseWriter, r *http.Request, username string) {
	u, _ := url.Parse(s.base(r))
	domain := u.Hostname()
	if at := strings.LastIndexByte(username, '@'); at >= 0 && at < len(username)-1 {
		domain = username[at+1:]
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"ver":                 "1.0",
		"account_type":        "Managed",
		"domain_name":         domain,
		"cloud_instance_name": u.Host,
		"cloud_audience_urn":  "urn:federation:MicrosoftOnline",
	})
}
