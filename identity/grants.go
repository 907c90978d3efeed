package identity

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/partnerlink/partnerlink"
)

const grantTypeDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// maxFormBytes bounds a token request body.
const maxFormBytes = 64 << 10

// token is the token endpoint: it parses the form and runs the grant.
func (s *Service) token(w http.ResponseWriter, r *http.Request, authority string, v2 bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "The request body must be application/x-www-form-urlencoded: "+err.Error())
		return
	}
	f := r.PostForm
	clientID, secret := f.Get("client_id"), f.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok { // client_secret_basic (RFC 6749 §2.3.1)
		u, _ = url.QueryUnescape(u)
		p, _ = url.QueryUnescape(p)
		clientID, secret = u, p
	}
	if !partnerlink.IsGUID(clientID) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request",
			fmt.Sprintf("client_id %q is not valid: it must be an application id (a GUID).", clientID))
		return
	}
	tr := &tokenRequest{base: s.base(r), authority: authority, v2: v2, clientID: strings.ToLower(clientID), ip: clientIP(r)}
	scope, resource := f.Get("scope"), f.Get("resource")
	if scope == "" && resource == "" {
		switch f.Get("grant_type") {
		case "authorization_code":
			scope = s.codeScope(r.Context(), f.Get("code")) // the scope the code was asked for
		case grantTypeDeviceCode:
			scope, resource = s.deviceScope(r.Context(), cmp.Or(f.Get("device_code"), f.Get("code")))
		}
	}
	if oe := s.parseScope(tr, scope, resource); oe != nil {
		oe.write(w)
		return
	}
	ctx := r.Context()
	switch gt := f.Get("grant_type"); gt {
	case "client_credentials":
		s.clientCredentials(ctx, w, tr, secret)
	case "password":
		s.passwordGrant(ctx, w, tr, f.Get("username"), f.Get("password"))
	case "refresh_token":
		s.refreshGrant(ctx, w, tr, f.Get("refresh_token"))
	case "authorization_code":
		s.authorizationCodeGrant(ctx, w, tr, f.Get("code"), f.Get("redirect_uri"), f.Get("code_verifier"))
	case grantTypeDeviceCode, "device_code": // MSAL Go sends the short name
		code := f.Get("device_code")
		if code == "" {
			code = f.Get("code") // MSAL Python also sends the code as "code"
		}
		s.deviceCodeGrant(ctx, w, tr, code)
	case "":
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "grant_type is missing.")
	default:
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf(
			"grant_type %q is not supported; use authorization_code, client_credentials, password, refresh_token or %s.", gt, grantTypeDeviceCode))
	}
}

// clientCredentials is the client credentials grant: the service principal
// of application client_id in the requested tenant, with a client secret.
// At the /adfs authority the service principal is the one in the app's home
// tenant (the principal whose TenantID is its HomeTenantID, or the only one).
func (s *Service) clientCredentials(ctx context.Context, w http.ResponseWriter, tr *tokenRequest, secret string) {
	if tr.authority == "common" || tr.authority == "organizations" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request",
			"The client credentials grant needs a tenant: use the authority https://host/{tenant-id}, not /"+tr.authority+".")
		return
	}
	if secret == "" {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client_secret is missing: a service principal signs in with its client secret.")
		return
	}
	sps, err := s.dir.ServicePrincipalsByAppID(ctx, tr.clientID)
	if err != nil {
		s.serverError(w, fmt.Errorf("identity: find service principals: %w", err))
		return
	}
	var sp *partnerlink.Principal
	for i := range sps {
		p := &sps[i]
		if p.Type != partnerlink.PrincipalServicePrincipal {
			continue
		}
		if tr.authority == "adfs" {
			if strings.EqualFold(p.TenantID, p.HomeTenantID) || (len(sps) == 1 && p.HomeTenantID == "") {
				sp = p
			}
		} else if strings.EqualFold(p.TenantID, tr.authority) {
			sp = p
		}
	}
	if sp == nil {
		where := "tenant '" + tr.authority + "'"
		if tr.authority == "adfs" {
			where = "its home tenant"
		}
		writeOAuthError(w, http.StatusBadRequest, "unauthorized_client", fmt.Sprintf(
			"Application with identifier '%s' was not found in %s: it has no service principal there.", tr.clientID, where))
		return
	}
	// Guessing is slowed down per application and per address, before the
	// secret is checked (docs/operations.md, "Sign-in throttling").
	keys := newSignInKeys(SignInClientSecret, tr.clientID, tr.ip)
	now := s.now()
	if wait := s.throttle.begin(keys, now); wait > 0 {
		tooManyAttempts(http.StatusUnauthorized, "invalid_client", wait, now).write(w)
		return
	}
	ok, err := s.checkAppSecret(ctx, *sp, sps, secret)
	if err != nil {
		s.throttle.end(keys, attemptErrored)
		s.serverError(w, err)
		return
	}
	if !ok {
		s.throttle.end(keys, attemptFailed)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", fmt.Sprintf(
			"Invalid client secret provided for application '%s'. Check the secret value, not its id.", tr.clientID))
		return
	}
	s.throttle.end(keys, attemptSucceeded)
	if !sp.ActiveAt(s.now()) {
		writeOAuthError(w, http.StatusBadRequest, "unauthorized_client", fmt.Sprintf(
			"The service principal of application '%s' in tenant '%s' is disabled or deleted.", tr.clientID, sp.TenantID))
		return
	}
	s.issue(ctx, w, tr, subject{p: *sp}, false)
}

// checkAppSecret checks secret against the service principal's own secrets
// and, when it has none, against those of the app's service principal in
// its home tenant: an application's secrets belong to the application,
// which a multi-tenant app's service principals in other tenants share.
func (s *Service) checkAppSecret(ctx context.Context, sp partnerlink.Principal, all []partnerlink.Principal, secret string) (bool, error) {
	hashes, err := s.dir.SecretHashes(ctx, sp.TenantID, sp.ObjectID)
	if err != nil {
		return false, fmt.Errorf("identity: read secrets: %w", err)
	}
	if len(hashes) == 0 && sp.HomeTenantID != "" && !strings.EqualFold(sp.HomeTenantID, sp.TenantID) {
		for _, h := range all {
			if strings.EqualFold(h.TenantID, sp.HomeTenantID) && h.Type == partnerlink.PrincipalServicePrincipal {
				if hashes, err = s.dir.SecretHashes(ctx, h.TenantID, h.ObjectID); err != nil {
					return false, fmt.Errorf("identity: read secrets: %w", err)
				}
				break
			}
		}
	}
	for _, h := range hashes {
		if CheckSecret(h, secret) {
			return true, nil
		}
	}
	return false, nil
}

// passwordGrant is the resource owner password grant: a user signs in with
// the name and password of their home account, and gets a token for the
// requested tenant (their own, or one where they are a guest).
func (s *Service) passwordGrant(ctx context.Context, w http.ResponseWriter, tr *tokenRequest, username, password string) {
	if username == "" || password == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "username and password are required.")
		return
	}
	home, oe, err := s.signIn(ctx, tr.ip, username, password)
	if err != nil {
		s.serverError(w, err)
		return
	}
	if oe != nil {
		oe.write(w)
		return
	}
	target, oe, err := s.principalIn(ctx, *home, tr.authority)
	if err != nil {
		s.serverError(w, err)
		return
	}
	if oe != nil {
		oe.write(w)
		return
	}
	s.issue(ctx, w, tr, subject{p: *target, home: home, authTime: s.now().UTC()}, false)
}

// signIn is authenticateUser behind the throttle: a user name or address
// with too many failures is refused (invalid_grant, Retry-After) before the
// password is checked; a failure counts for both, a success starts the
// user name's count over (docs/operations.md, "Sign-in throttling").
func (s *Service) signIn(ctx context.Context, ip, username, password string) (*partnerlink.Principal, *oauthError, error) {
	keys := newSignInKeys(SignInPassword, username, ip)
	now := s.now()
	if wait := s.throttle.begin(keys, now); wait > 0 {
		return nil, tooManyAttempts(http.StatusBadRequest, "invalid_grant", wait, now), nil
	}
	home, oe, err := s.authenticateUser(ctx, username, password)
	switch {
	case err != nil:
		s.throttle.end(keys, attemptErrored)
	case oe != nil:
		s.throttle.end(keys, attemptFailed)
	default:
		s.throttle.end(keys, attemptSucceeded)
	}
	return home, oe, err
}

// signInAt is the sign-in of a page's form (the device page, the sign-in
// page): the throttled check of the name and password, then the principal
// the person acts as at authority. A refusal comes back as the status and
// the text to show by the form (wrong for wrong credentials), with
// Retry-After set on w when throttled.
func (s *Service) signInAt(ctx context.Context, w http.ResponseWriter, r *http.Request, username, password, authority, wrong string) (
	home, target *partnerlink.Principal, status int, refusal string, err error) {
	home, oe, err := s.signIn(ctx, clientIP(r), username, password)
	switch {
	case err != nil:
		return nil, nil, 0, "", err
	case oe != nil && oe.retryAfter > 0:
		setRetryAfter(w, oe.retryAfter)
		return nil, nil, http.StatusTooManyRequests, oe.description, nil
	case oe != nil:
		return nil, nil, http.StatusUnauthorized, wrong, nil
	}
	target, oe, err = s.principalIn(ctx, *home, authority)
	switch {
	case err != nil:
		return nil, nil, 0, "", err
	case oe != nil:
		return nil, nil, http.StatusForbidden, oe.description, nil
	}
	return home, target, 0, "", nil
}

// clientIP is the address the request came from (the proxy's, behind one).
func clientIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// authenticateUser finds the active user whose sign-in name and password
// match. It returns an OAuth error (invalid_grant) for wrong credentials.
func (s *Service) authenticateUser(ctx context.Context, username, password string) (*partnerlink.Principal, *oauthError, error) {
	users, err := s.dir.UsersBySignInName(ctx, username)
	if err != nil {
		return nil, nil, fmt.Errorf("identity: find users: %w", err)
	}
	// Deterministic when a name exists in several tenants: by tenant id.
	sort.Slice(users, func(i, j int) bool { return users[i].TenantID < users[j].TenantID })
	now := s.now()
	checked := false
	for i := range users {
		u := users[i]
		if u.Type != partnerlink.PrincipalUser || !strings.EqualFold(signInName(u), username) || !u.ActiveAt(now) {
			continue
		}
		hashes, err := s.dir.SecretHashes(ctx, u.TenantID, u.ObjectID)
		if err != nil {
			return nil, nil, fmt.Errorf("identity: read password: %w", err)
		}
		for _, h := range hashes {
			checked = true
			if checkSecret(h, password) {
				return &u, nil, nil
			}
		}
	}
	if !checked {
		// A name that does not exist costs a hash check too, so that the
		// answer's time does not tell which names exist.
		checkSecret(dummyHash(), password)
	}
	return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_grant", description: "Error validating credentials due to invalid username or password (or the account is disabled or deleted)."}, nil
}

// principalIn returns the principal that the person home acts as in the
// authority's tenant: the home user itself for its own tenant (and for
// common, organizations and adfs), or its active guest account there.
func (s *Service) principalIn(ctx context.Context, home partnerlink.Principal, authority string) (*partnerlink.Principal, *oauthError, error) {
	if authority == "common" || authority == "organizations" || authority == "adfs" || strings.EqualFold(authority, home.TenantID) {
		return &home, nil, nil
	}
	guests, err := s.dir.GuestsOf(ctx, home.TenantID, home.ObjectID)
	if err != nil {
		return nil, nil, fmt.Errorf("identity: find guest accounts: %w", err)
	}
	sort.Slice(guests, func(i, j int) bool { return guests[i].ObjectID < guests[j].ObjectID })
	now := s.now()
	for i := range guests {
		g := guests[i]
		if strings.EqualFold(g.TenantID, authority) && GuestOf(g, home) && g.ActiveAt(now) {
			return &g, nil, nil
		}
	}
	return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_grant", description: fmt.Sprintf(
		"User account '%s' from tenant '%s' does not exist in tenant '%s' (no active guest account) and cannot sign in there.",
		signInName(home), home.TenantID, authority)}, nil
}

// refreshGrant redeems a refresh token, at its own tenant or at any tenant
// where the person is a guest, and rotates it: the token is consumed and a
// new one returned. A token that does not resolve in the requested tenant is
// left unconsumed, so a client probing its tenants keeps its session.
func (s *Service) refreshGrant(ctx context.Context, w http.ResponseWriter, tr *tokenRequest, rt string) {
	invalid := &oauthError{status: http.StatusBadRequest, code: "invalid_grant", description: "The refresh token has expired, was revoked or has already been used (refresh tokens are single-use). Sign in again."}
	if rt == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "refresh_token is missing.")
		return
	}
	key := hashKey(rt)
	b, err := s.grants.GetGrant(ctx, GrantRefreshToken, key)
	if partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND {
		invalid.write(w)
		return
	} else if err != nil {
		s.serverError(w, fmt.Errorf("identity: read refresh token: %w", err))
		return
	}
	var rec refreshRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		s.serverError(w, fmt.Errorf("identity: decode refresh token: %w", err))
		return
	}
	if rec.ClientID != tr.clientID {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "The refresh token was issued to another client_id.")
		return
	}
	home, err := s.dir.Principal(ctx, rec.HomeTenantID, rec.HomeObjectID)
	if partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND || (err == nil && !home.ActiveAt(s.now())) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "The user account of this refresh token is disabled or deleted.")
		return
	} else if err != nil {
		s.serverError(w, fmt.Errorf("identity: read user: %w", err))
		return
	}
	// Disabling the user or changing its password revokes the tokens of
	// every earlier sign-in, for good: the user must have been enabled
	// without a break since the sign-in, with the same password.
	secrets, err := s.secretsTag(ctx, *home)
	if err != nil {
		s.serverError(w, err)
		return
	}
	if !home.Period.Contains(rec.AuthTime) || rec.Secrets != secrets {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant",
			"The refresh token was revoked: the user account was disabled or its password changed after the sign-in. Sign in again.")
		return
	}
	target, oe, err := s.principalIn(ctx, *home, tr.authority)
	if err != nil {
		s.serverError(w, err)
		return
	}
	if oe != nil {
		oe.write(w)
		return
	}
	if _, err := s.grants.TakeGrant(ctx, GrantRefreshToken, key); partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND {
		invalid.write(w) // redeemed concurrently
		return
	} else if err != nil {
		s.serverError(w, fmt.Errorf("identity: consume refresh token: %w", err))
		return
	}
	s.issue(ctx, w, tr, subject{p: *target, home: home, authTime: rec.AuthTime, secrets: rec.Secrets}, true)
}
