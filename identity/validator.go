package identity

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/partnerlink/partnerlink"
)

// ARM error codes for bad bearer tokens, as Azure Resource Manager names them.
const (
	CodeInvalidToken    = "InvalidAuthenticationToken"
	CodeExpiredToken    = "ExpiredAuthenticationToken"
	CodeInvalidAudience = "InvalidAuthenticationTokenAudience"
	CodeInvalidTenant   = "InvalidAuthenticationTokenTenant"
)

// TrustedIssuer is an external OpenID Connect issuer whose access tokens the
// API accepts, such as a real Entra ID tenant
// (https://login.microsoftonline.com/{tid}/v2.0) or another partnerlink.
// Its discovery document and JWKS are fetched with go-oidc; its tokens must
// carry tid and oid claims, and Audience must be among their audiences.
type TrustedIssuer struct {
	Issuer   string `json:"issuer"`
	Audience string `json:"audience"`
}

// ValidatorConfig configures a Validator.
type ValidatorConfig struct {
	// BaseURLs are the server's public base URLs, as given to the Service:
	// they name our issuers and are accepted audiences.
	BaseURLs  []string
	Keys      *KeySet
	Directory Directory
	External  []TrustedIssuer
	// HTTPClient fetches external issuers' discovery documents and keys;
	// http.DefaultClient when nil.
	HTTPClient *http.Client
	Now        func() time.Time
	// Leeway tolerates clock skew on exp and nbf. Default 1 minute.
	Leeway time.Duration
	// CacheSize bounds the cache of validated tokens. Default 100,000.
	CacheSize int
	// LivenessTTL is how long a cached token's principal is trusted to be
	// still active before the directory is asked again. Default 5 seconds:
	// a deleted or disabled principal's tokens stop working within it (or at
	// once after Flush).
	LivenessTTL time.Duration
}

// Validator validates bearer tokens: ours (signature with the published key
// named by kid, RS256 only, issuer, audience, exp/nbf, tid matching the
// issuer's tenant) and those of trusted external issuers, and then that the
// token's tenant and principal exist and are active now.
//
// Performance: a successful validation is cached under the SHA-256 of the
// raw token until the token expires, so a repeated token costs a hash and a
// map lookup instead of an RSA verification and directory reads. The
// principal's liveness is re-checked against the directory at most every
// LivenessTTL per token; the principal read then comes with the caller
// (Caller.Principal).
type Validator struct {
	bases     []*url.URL
	keys      *KeySet
	dir       Directory
	now       func() time.Time
	leeway    time.Duration
	liveTTL   time.Duration
	maxCache  int
	audiences map[string]bool
	client    *http.Client
	external  map[string]*externalIssuer

	mu    sync.RWMutex
	cache map[[32]byte]*cacheEntry
}

type cacheEntry struct {
	caller    partnerlink.Caller // without Principal
	expires   time.Time          // exp + leeway
	checked   atomic.Int64       // unix nanoseconds of the last liveness check
	principal atomic.Pointer[partnerlink.Principal]
}

// callerOf returns the entry's caller with the principal last read.
func (e *cacheEntry) callerOf() partnerlink.Caller {
	c := e.caller
	c.Principal = e.principal.Load()
	return c
}

type externalIssuer struct {
	cfg TrustedIssuer

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
	failedAt time.Time
}

// NewValidator checks cfg and returns a Validator.
func NewValidator(cfg ValidatorConfig) (*Validator, error) {
	bases, err := parseBaseURLs(cfg.BaseURLs)
	if err != nil {
		return nil, err
	}
	if cfg.Keys == nil || cfg.Directory == nil {
		return nil, errors.New("identity: validator needs Keys and Directory")
	}
	v := &Validator{
		bases: bases, keys: cfg.Keys, dir: cfg.Directory, now: cfg.Now,
		leeway: cfg.Leeway, liveTTL: cfg.LivenessTTL, maxCache: cfg.CacheSize,
		audiences: acceptedAudiences(bases), client: cfg.HTTPClient,
		external: map[string]*externalIssuer{},
		cache:    map[[32]byte]*cacheEntry{},
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.leeway == 0 {
		v.leeway = time.Minute
	}
	if v.liveTTL == 0 {
		v.liveTTL = 5 * time.Second
	}
	if v.maxCache == 0 {
		v.maxCache = 100_000
	}
	if v.client == nil {
		v.client = http.DefaultClient
	}
	for _, ti := range cfg.External {
		u, err := url.Parse(ti.Issuer)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("identity: trusted issuer %q must be an https URL", ti.Issuer)
		}
		if ti.Audience == "" {
			return nil, fmt.Errorf("identity: trusted issuer %q needs an audience", ti.Issuer)
		}
		v.external[ti.Issuer] = &externalIssuer{cfg: ti}
	}
	return v, nil
}

// Flush forgets every cached validation, so that the next request of each
// token is fully validated again (for example after deleting principals).
func (v *Validator) Flush() {
	v.mu.Lock()
	v.cache = map[[32]byte]*cacheEntry{}
	v.mu.Unlock()
}

func unauthorized(armCode, format string, args ...any) error {
	return partnerlink.ARMErrorf(partnerlink.EUNAUTHORIZED, armCode, format, args...)
}

// tokenClaims are the claims validation reads.
type tokenClaims struct {
	jwt.Claims
	TenantID string `json:"tid"`
	ObjectID string `json:"oid"`
	AppID    string `json:"appid"`
	AZP      string `json:"azp"`
}

// Validate validates a bearer token (the Authorization header's value
// after "Bearer ") and returns the caller it names. Errors are
// *partnerlink.Error with code EUNAUTHORIZED and an ARM code (the Code*
// constants).
func (v *Validator) Validate(ctx context.Context, raw string) (partnerlink.Caller, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return partnerlink.Caller{}, unauthorized(CodeInvalidToken, "The access token is missing.")
	}
	now := v.now()
	key := sha256.Sum256([]byte(raw))
	v.mu.RLock()
	e := v.cache[key]
	v.mu.RUnlock()
	if e != nil {
		if now.Before(e.expires) {
			if now.UnixNano()-e.checked.Load() < int64(v.liveTTL) {
				return e.callerOf(), nil
			}
			p, err := v.checkLive(ctx, e.caller, now)
			if err != nil {
				v.forget(key)
				return partnerlink.Caller{}, err
			}
			e.principal.Store(p)
			e.checked.Store(now.UnixNano())
			return e.callerOf(), nil
		}
		v.forget(key)
	}
	c, exp, err := v.validate(ctx, raw, now)
	if err != nil {
		return partnerlink.Caller{}, err
	}
	p, err := v.checkLive(ctx, c, now)
	if err != nil {
		return partnerlink.Caller{}, err
	}
	e = &cacheEntry{caller: c, expires: exp.Add(v.leeway)}
	e.principal.Store(p)
	e.checked.Store(now.UnixNano())
	v.remember(key, e, now)
	return e.callerOf(), nil
}

// validate does the full, uncached validation of the token itself.
func (v *Validator) validate(ctx context.Context, raw string, now time.Time) (partnerlink.Caller, time.Time, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return partnerlink.Caller{}, time.Time{}, unauthorized(CodeInvalidToken,
			"The access token is not valid: it is not a JWT signed with RS256 (%v).", err)
	}
	var unverified tokenClaims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return partnerlink.Caller{}, time.Time{}, unauthorized(CodeInvalidToken, "The access token is not valid: its claims cannot be read.")
	}
	iss := unverified.Issuer
	var claims tokenClaims
	if issuerTenant, ours := v.ourIssuer(iss); ours {
		if len(tok.Headers) != 1 {
			return partnerlink.Caller{}, time.Time{}, unauthorized(CodeInvalidToken, "The access token is not valid: it must have exactly one signature.")
		}
		kid := tok.Headers[0].KeyID
		pub, ok := v.keys.PublicKey(kid)
		if !ok {
			return partnerlink.Caller{}, time.Time{}, unauthorized(CodeInvalidToken,
				"The access token is not valid: it is signed with key '%s', which this server does not publish (unknown or long retired).", kid)
		}
		if err := tok.Claims(pub, &claims); err != nil {
			return partnerlink.Caller{}, time.Time{}, unauthorized(CodeInvalidToken, "The access token is not valid: its signature does not verify.")
		}
		if issuerTenant != "" && !strings.EqualFold(claims.TenantID, issuerTenant) {
			return partnerlink.Caller{}, time.Time{}, unauthorized(CodeInvalidTenant,
				"The access token is from the wrong issuer '%s': its tid '%s' is not the issuer's tenant '%s'.", iss, claims.TenantID, issuerTenant)
		}
	} else if ext := v.external[iss]; ext != nil {
		verifier, err := ext.get(v)
		if err != nil {
			return partnerlink.Caller{}, time.Time{}, unauthorized(CodeInvalidToken,
				"The access token cannot be verified now: the trusted issuer '%s' is unreachable (%v).", iss, err)
		}
		idt, err := verifier.Verify(ctx, raw)
		if err != nil {
			return partnerlink.Caller{}, time.Time{}, unauthorized(CodeInvalidToken, "The access token is not valid: %v.", err)
		}
		if err := idt.Claims(&claims); err != nil {
			return partnerlink.Caller{}, time.Time{}, unauthorized(CodeInvalidToken, "The access token is not valid: its claims cannot be read.")
		}
		// An issuer whose URL names a tenant (Entra's .../{tid}/v2.0)
		// speaks for that tenant only, as this server's own issuers do.
		if t := issuerURLTenant(iss); t != "" && !strings.EqualFold(claims.TenantID, t) {
			return partnerlink.Caller{}, time.Time{}, unauthorized(CodeInvalidTenant,
				"The access token is from the wrong issuer '%s': its tid '%s' is not the issuer's tenant '%s'.", iss, claims.TenantID, t)
		}
		if !claims.Audience.Contains(ext.cfg.Audience) {
			return partnerlink.Caller{}, time.Time{}, unauthorized(CodeInvalidAudience,
				"The access token has been obtained for wrong audience or resource '%s'. It should exactly match '%s'.",
				strings.Join(claims.Audience, ","), ext.cfg.Audience)
		}
	} else {
		return partnerlink.Caller{}, time.Time{}, unauthorized(CodeInvalidTenant,
			"The access token is from an issuer this server does not trust: '%s'.", iss)
	}
	if _, ours := v.ourIssuer(iss); ours && !v.acceptedAudience(claims.Audience) {
		return partnerlink.Caller{}, time.Time{}, unauthorized(CodeInvalidAudience,
			"The access token has been obtained for wrong audience or resource '%s'. It should exactly match one of the allowed audiences 'https://management.core.windows.net/', 'https://management.azure.com/' or this server's URL.",
			strings.Join(claims.Audience, ","))
	}
	if claims.Expiry == nil {
		return partnerlink.Caller{}, time.Time{}, unauthorized(CodeInvalidToken, "The access token is not valid: it has no expiry (exp).")
	}
	exp := claims.Expiry.Time()
	if now.After(exp.Add(v.leeway)) {
		return partnerlink.Caller{}, time.Time{}, unauthorized(CodeExpiredToken,
			"The access token expiry UTC time '%s' is earlier than current UTC time '%s'.",
			exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if claims.NotBefore != nil && claims.NotBefore.Time().After(now.Add(v.leeway)) {
		return partnerlink.Caller{}, time.Time{}, unauthorized(CodeInvalidToken,
			"The access token is not valid yet: its not-before time '%s' is later than current UTC time '%s'.",
			claims.NotBefore.Time().UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if !partnerlink.IsGUID(claims.TenantID) || !partnerlink.IsGUID(claims.ObjectID) {
		return partnerlink.Caller{}, time.Time{}, unauthorized(CodeInvalidToken,
			"The access token is not valid: the claims 'tid' and 'oid' must be present and be GUIDs.")
	}
	appID := claims.AppID
	if appID == "" {
		appID = claims.AZP
	}
	return partnerlink.Caller{
		TenantID: strings.ToLower(claims.TenantID),
		ObjectID: strings.ToLower(claims.ObjectID),
		AppID:    strings.ToLower(appID),
	}, exp, nil
}

// ourIssuer reports whether iss is one of this server's issuers and which
// tenant it is for: {base}/{tid}/v2.0 and {base}/{tid}/ name a tenant;
// {base}/adfs names none (the token's tid says which).
func (v *Validator) ourIssuer(iss string) (tenant string, ok bool) {
	for _, b := range v.bases {
		rest, found := strings.CutPrefix(iss, b.String()+"/")
		if !found {
			continue
		}
		if rest == "adfs" {
			return "", true
		}
		if t, ok := strings.CutSuffix(rest, "/v2.0"); ok && partnerlink.IsGUID(t) {
			return strings.ToLower(t), true
		}
		if t, ok := strings.CutSuffix(rest, "/"); ok && partnerlink.IsGUID(t) {
			return strings.ToLower(t), true
		}
	}
	return "", false
}

// issuerURLTenant is the tenant a trusted issuer's URL names, as a path
// segment that is a GUID (https://login.microsoftonline.com/{tid}/v2.0,
// https://sts.windows.net/{tid}/); "" when it names none.
func issuerURLTenant(iss string) string {
	u, err := url.Parse(iss)
	if err != nil {
		return ""
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if partnerlink.IsGUID(seg) {
			return strings.ToLower(seg)
		}
	}
	return ""
}

func (v *Validator) acceptedAudience(aud jwt.Audience) bool {
	for _, a := range aud {
		if v.audiences[a] {
			return true
		}
	}
	return false
}

// checkLive checks that the caller's tenant and principal exist and are
// active at now, and returns the principal.
func (v *Validator) checkLive(ctx context.Context, c partnerlink.Caller, now time.Time) (*partnerlink.Principal, error) {
	if _, err := v.dir.Tenant(ctx, c.TenantID); partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND {
		return nil, unauthorized(CodeInvalidTenant, "The access token's tenant '%s' does not exist here.", c.TenantID)
	} else if err != nil {
		return nil, fmt.Errorf("identity: read tenant: %w", err)
	}
	p, err := v.dir.Principal(ctx, c.TenantID, c.ObjectID)
	if partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND {
		return nil, unauthorized(CodeInvalidToken, "The access token's principal '%s' does not exist in tenant '%s'.", c.ObjectID, c.TenantID)
	} else if err != nil {
		return nil, fmt.Errorf("identity: read principal: %w", err)
	}
	if !p.ActiveAt(now) {
		// The token is sound; its principal may no longer act: 403, as the
		// linking rules answer (docs/rules.md, "Linking").
		return nil, partnerlink.ARMErrorf(partnerlink.EFORBIDDEN, "AuthorizationFailed",
			"The access token's principal '%s' in tenant '%s' is deleted or disabled; ask the tenant's administrator to enable it.", c.ObjectID, c.TenantID)
	}
	// A guest acts for the person of its home tenant: when that user is
	// deleted or disabled, the guest's tokens stop too.
	if p.Type == partnerlink.PrincipalGuest && p.HomeTenantID != "" && p.HomeObjectID != "" {
		home, err := v.dir.Principal(ctx, p.HomeTenantID, p.HomeObjectID)
		if err != nil && partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
			return nil, fmt.Errorf("identity: read home user: %w", err)
		}
		if home == nil || !home.ActiveAt(now) {
			return nil, partnerlink.ARMErrorf(partnerlink.EFORBIDDEN, "AuthorizationFailed",
				"The access token's principal '%s' in tenant '%s' is a guest whose home user '%s' in tenant '%s' is deleted or disabled.",
				c.ObjectID, c.TenantID, p.HomeObjectID, p.HomeTenantID)
		}
	}
	return p, nil
}

func (v *Validator) forget(key [32]byte) {
	v.mu.Lock()
	delete(v.cache, key)
	v.mu.Unlock()
}

// remember caches e; when the cache is full it first drops expired entries,
// then arbitrary ones (map order) down to 90% of the bound.
func (v *Validator) remember(key [32]byte, e *cacheEntry, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.cache) >= v.maxCache {
		for k, old := range v.cache {
			if !now.Before(old.expires) {
				delete(v.cache, k)
			}
		}
		for k := range v.cache {
			if len(v.cache) < v.maxCache*9/10 {
				break
			}
			delete(v.cache, k)
		}
	}
	v.cache[key] = e
}

// get returns the issuer's verifier, discovering it on first use. A failed
// discovery is retried at most every 30 seconds so an unreachable issuer
// does not make every request wait.
func (x *externalIssuer) get(v *Validator) (*oidc.IDTokenVerifier, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.verifier != nil {
		return x.verifier, nil
	}
	now := v.now()
	if !x.failedAt.IsZero() && now.Sub(x.failedAt) < 30*time.Second {
		return nil, errors.New("discovery failed recently")
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(context.Background(), v.client), 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, x.cfg.Issuer)
	if err != nil {
		x.failedAt = now
		return nil, fmt.Errorf("discover %s: %w", x.cfg.Issuer, err)
	}
	// Audience and lifetime are checked by Validate with ARM error codes,
	// so go-oidc checks the signature (RS256 only) and the issuer.
	x.verifier = p.Verifier(&oidc.Config{
		SkipClientIDCheck:    true,
		SkipExpiryCheck:      true,
		SupportedSigningAlgs: []string{string(jose.RS256)},
		Now:                  v.now,
	})
	return x.verifier, nil
}
