package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
)

// accessClaims are the claims of our access tokens, named as Azure AD names
// them so that code written for Azure AD tokens reads them unchanged.
type accessClaims struct {
	Issuer            string `json:"iss"`
	Audience          string `json:"aud"`
	Expiry            int64  `json:"exp"`
	NotBefore         int64  `json:"nbf"`
	IssuedAt          int64  `json:"iat"`
	TenantID          string `json:"tid"`
	ObjectID          string `json:"oid"`
	Subject           string `json:"sub"`
	AppID             string `json:"appid,omitempty"`
	AuthorizedParty   string `json:"azp,omitempty"`
	IdentityType      string `json:"idtyp,omitempty"` // "app" or "user"
	Version           string `json:"ver,omitempty"`
	Name              string `json:"name,omitempty"`
	UPN               string `json:"upn,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	Scope             string `json:"scp,omitempty"`
	TokenID           string `json:"uti,omitempty"`
}

// idClaims are the claims of an OpenID Connect ID token. MSAL builds its
// account cache from them (and from client_info): aud must be the client id.
type idClaims struct {
	Issuer            string `json:"iss"`
	Audience          string `json:"aud"`
	Expiry            int64  `json:"exp"`
	NotBefore         int64  `json:"nbf"`
	IssuedAt          int64  `json:"iat"`
	Subject           string `json:"sub"`
	ObjectID          string `json:"oid"`
	TenantID          string `json:"tid"`
	Name              string `json:"name,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	UPN               string `json:"upn,omitempty"`
	Version           string `json:"ver"`
	Nonce             string `json:"nonce,omitempty"`
}

// tokenRequest is what the grants share once the request is parsed.
type tokenRequest struct {
	base      string // the base URL the client used
	authority string // the tenant segment of the path: a GUID, common, organizations or adfs
	v2        bool
	clientID  string
	audience  string
	scope     string // the resource scopes, echoed in the response
	openid    bool
	offline   bool
	resource  bool   // v1: the audience came from the resource parameter
	ip        string // the client address, for throttling
}

// subject is who a token is for.
type subject struct {
	p    partnerlink.Principal  // the principal in the token's tenant
	home *partnerlink.Principal // user flows: the person's home user, nil for an app
	// authTime is when the person signed in (kept across refreshes).
	authTime time.Time
	// secrets is the refresh token's Secrets, kept across refreshes; ""
	// at a sign-in, when it is read.
	secrets string
	// nonce is the authorization request's, for the ID token.
	nonce string
}

// refreshRecord is stored (as JSON) under the hash of a refresh token. The
// token is for the person (the home user), not for one tenant: it can be
// redeemed at any tenant where the person has a principal.
type refreshRecord struct {
	HomeTenantID string    `json:"homeTenantId"`
	HomeObjectID string    `json:"homeObjectId"`
	ClientID     string    `json:"clientId"`
	AuthTime     time.Time `json:"authTime"`
	// Secrets is secretsTag of the home user's password hashes when the
	// person signed in: a password changed since revokes the token.
	Secrets string `json:"secrets"`
}

// secretsTag names a principal's current set of secret hashes: it changes
// whenever a password or client secret is set or removed.
func (s *Service) secretsTag(ctx context.Context, p partnerlink.Principal) (string, error) {
	hashes, err := s.dir.SecretHashes(ctx, p.TenantID, p.ObjectID)
	if err != nil {
		return "", fmt.Errorf("identity: read secrets: %w", err)
	}
	slices.Sort(hashes)
	sum := sha256.Sum256([]byte(strings.Join(hashes, "\n")))
	return hex.EncodeToString(sum[:]), nil
}

// parseScope finds the audience of a token request from its scope (v2:
// "X/.default" or "X/permission" means resource X) or, on v1 endpoints,
// its resource parameter. OpenID scopes only switch on the ID token and the
// refresh token.
func (s *Service) parseScope(tr *tokenRequest, scope, resource string) *oauthError {
	var res, resScopes []string
	for _, sc := range strings.Fields(scope) {
		switch strings.ToLower(sc) {
		case "openid":
			tr.openid = true
		case "offline_access":
			tr.offline = true
		case "profile", "email":
		default:
			i := strings.LastIndexByte(sc, '/')
			if i <= 0 || i == len(sc)-1 {
				return &oauthError{status: http.StatusBadRequest, code: "invalid_scope", description: fmt.Sprintf(
					"The scope '%s' does not name a resource. Ask for a resource's scope such as https://management.core.windows.net//.default.", sc)}
			}
			res = append(res, sc[:i])
			resScopes = append(resScopes, sc)
		}
	}
	for _, r := range res[min(1, len(res)):] {
		if r != res[0] {
			return &oauthError{status: http.StatusBadRequest, code: "invalid_scope", description: "The scopes name more than one resource; a token is for one resource. Ask for one resource's scopes at a time."}
		}
	}
	switch {
	case resource != "":
		if len(res) > 0 && res[0] != resource {
			return &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: "The resource parameter and the scope name different resources."}
		}
		tr.audience, tr.resource = resource, true
	case len(res) > 0:
		tr.audience = res[0]
		tr.scope = strings.Join(resScopes, " ")
	default:
		return &oauthError{status: http.StatusBadRequest, code: "invalid_scope", description: "No resource was requested. Ask for scope https://management.core.windows.net//.default (v2 endpoints) or resource https://management.core.windows.net/ (v1 endpoints)."}
	}
	if !s.audiences[tr.audience] {
		code := "invalid_scope"
		if tr.resource {
			code = "invalid_resource"
		}
		return &oauthError{status: http.StatusBadRequest, code: code, description: fmt.Sprintf(
			"The resource '%s' is not served here. This server issues tokens for Azure Resource Manager (https://management.core.windows.net/, https://management.azure.com/) and for itself.", tr.audience)}
	}
	if tr.scope == "" {
		tr.scope = tr.audience
	}
	return nil
}

// issue signs the tokens for subj and writes the token response.
func (s *Service) issue(ctx context.Context, w http.ResponseWriter, tr *tokenRequest, subj subject, alwaysRefresh bool) {
	now := s.now().UTC()
	exp := now.Add(s.atLife)
	p := subj.p
	ver, issuer := "1.0", issuerV1(tr.base, p.TenantID)
	switch {
	case tr.authority == "adfs":
		issuer = tr.base + "/adfs"
	case tr.v2:
		ver, issuer = "2.0", issuerV2(tr.base, p.TenantID)
	}
	uti, err := randomString(16)
	if err != nil {
		s.serverError(w, err)
		return
	}
	ac := accessClaims{
		Issuer: issuer, Audience: tr.audience,
		Expiry: exp.Unix(), NotBefore: now.Unix(), IssuedAt: now.Unix(),
		TenantID: p.TenantID, ObjectID: p.ObjectID, Subject: p.ObjectID,
		AppID: tr.clientID, AuthorizedParty: tr.clientID, Version: ver, TokenID: uti,
	}
	if subj.home == nil {
		ac.IdentityType = "app"
	} else {
		ac.IdentityType = "user"
		ac.Name = p.DisplayName
		ac.UPN = signInName(*subj.home)
		ac.PreferredUsername = ac.UPN
		ac.Scope = "user_impersonation"
	}
	at, err := s.keys.Sign(ac)
	if err != nil {
		s.serverError(w, err)
		return
	}
	resp := map[string]any{
		"token_type":     "Bearer",
		"scope":          tr.scope,
		"expires_in":     int64(s.atLife / time.Second),
		"ext_expires_in": int64(s.atLife / time.Second),
		"access_token":   at,
	}
	if !tr.v2 {
		resp["expires_on"] = exp.Unix()
		resp["not_before"] = now.Unix()
		resp["resource"] = tr.audience
	}
	if subj.home != nil {
		home := subj.home
		ci, _ := json.Marshal(map[string]string{"uid": home.ObjectID, "utid": home.TenantID})
		resp["client_info"] = base64.RawURLEncoding.EncodeToString(ci)
		if tr.openid || !tr.v2 {
			idt, err := s.keys.Sign(idClaims{
				Issuer: issuer, Audience: tr.clientID,
				Expiry: exp.Unix(), NotBefore: now.Unix(), IssuedAt: now.Unix(),
				Subject: p.ObjectID, ObjectID: p.ObjectID, TenantID: p.TenantID,
				Name: p.DisplayName, PreferredUsername: signInName(*home), UPN: signInName(*home),
				Version: ver, Nonce: subj.nonce,
			})
			if err != nil {
				s.serverError(w, err)
				return
			}
			resp["id_token"] = idt
		}
		if tr.offline || alwaysRefresh || !tr.v2 {
			secrets := subj.secrets
			if secrets == "" {
				var err error
				if secrets, err = s.secretsTag(ctx, *home); err != nil {
					s.serverError(w, err)
					return
				}
			}
			rt, err := s.newRefreshToken(ctx, refreshRecord{
				HomeTenantID: home.TenantID, HomeObjectID: home.ObjectID,
				ClientID: tr.clientID, AuthTime: subj.authTime, Secrets: secrets,
			})
			if err != nil {
				s.serverError(w, err)
				return
			}
			resp["refresh_token"] = rt
		}
	}
	s.log.Info("identity: token issued", "tenant", p.TenantID, "oid", p.ObjectID, "client", tr.clientID, "aud", tr.audience)
	writeJSON(w, http.StatusOK, resp)
}

func (s *Service) newRefreshToken(ctx context.Context, rec refreshRecord) (string, error) {
	rt, err := randomString(32)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return "", fmt.Errorf("identity: encode refresh token: %w", err)
	}
	if err := s.grants.PutGrant(ctx, GrantRefreshToken, hashKey(rt), b, s.now().Add(s.rtLife)); err != nil {
		return "", fmt.Errorf("identity: store refresh token: %w", err)
	}
	return rt, nil
}

// hashKey is the GrantStore key of a secret value: its SHA-256, hex.
func hashKey(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("identity: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// oauthError is an OAuth 2.0 error response (RFC 6749 §5.2).
type oauthError struct {
	status      int
	code        string
	description string
	retryAfter  int64 // seconds, for a throttled attempt (Retry-After)
}

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="partnerlink"`)
	}
	writeJSON(w, status, map[string]any{
		"error":             code,
		"error_description": description,
		"timestamp":         time.Now().UTC().Format("2006-01-02 15:04:05Z"),
	})
}

func (e *oauthError) write(w http.ResponseWriter) {
	setRetryAfter(w, e.retryAfter)
	writeOAuthError(w, e.status, e.code, e.description)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "identity: encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}
