package identity

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
)

// The authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636), the
// browser sign-in of the portal and of public clients such as MSAL with a
// loopback redirect URI (docs/portal.md, "Sign-in").

// authCodeLifetime is how long an authorization code may be redeemed.
const authCodeLifetime = 5 * time.Minute

// signInFormCookie carries the per-render form token of the sign-in page,
// as deviceFormCookie does for the device page.
const signInFormCookie = "partnerlink_signin_form"

// authCodeRecord is stored (as JSON) under the hash of an authorization code.
type authCodeRecord struct {
	ClientID     string    `json:"clientId"`
	RedirectURI  string    `json:"redirectUri"`
	Challenge    string    `json:"challenge"` // the S256 code challenge
	HomeTenantID string    `json:"homeTenantId"`
	HomeObjectID string    `json:"homeObjectId"`
	TenantID     string    `json:"tenantId"`
	ObjectID     string    `json:"objectId"`
	AuthTime     time.Time `json:"authTime"`
	Authority    string    `json:"authority"`
	RequestScope string    `json:"scope"`
	// RequestNonce goes back in the ID token (OpenID Connect Core §3.1.2.1),
	// where MSAL checks it.
	RequestNonce string `json:"nonce,omitempty"`
}

// authorizeRequest is an authorization request's parameters, carried
// through the sign-in form in hidden fields.
type authorizeRequest struct {
	ClientID, RedirectURI, Scope, State, Challenge, Method, Nonce, LoginHint string
}

func readAuthorizeRequest(q url.Values) authorizeRequest {
	return authorizeRequest{ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"), Scope: q.Get("scope"),
		State: q.Get("state"), Challenge: q.Get("code_challenge"), Method: q.Get("code_challenge_method"),
		Nonce: q.Get("nonce"), LoginHint: q.Get("login_hint")}
}

// redirectAllowed reports whether uri may receive codes: localhost,
// 127.0.0.1 or ::1 over http on any port and path (RFC 8252 §7.3, for
// native public clients such as MSAL), or exactly the portal's callback on
// one of the server's base URLs. Other web applications would need
// registering, which partnerlink does not offer.
func (s *Service) redirectAllowed(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || u.Fragment != "" || u.User != nil || u.Host == "" {
		return false
	}
	switch u.Scheme {
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return true
		}
		ip := net.ParseIP(host)
		return ip != nil && (ip.Equal(net.IPv4(127, 0, 0, 1)) || ip.Equal(net.IPv6loopback))
	case "https":
		if u.Path != PortalCallbackPath || u.RawQuery != "" {
			return false
		}
		for _, b := range s.bases {
			if strings.EqualFold(b.Scheme, u.Scheme) && strings.EqualFold(b.Host, u.Host) {
				return true
			}
		}
	}
	return false
}

// PortalCallbackPath is where the portal receives its sign-in codes: the
// only https redirect URI the token service accepts.
const PortalCallbackPath = "/portal/callback"

// authorize is the authorization endpoint: GET shows the sign-in form,
// POST checks it and redirects to the client with a code. Until the
// redirect URI is known to be allowed, errors are shown on the page, never
// redirected (RFC 6749 §4.1.2.1).
func (s *Service) authorize(w http.ResponseWriter, r *http.Request, authority string, v2 bool) {
	var q url.Values
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		q = r.URL.Query()
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			s.renderSignIn(w, r, http.StatusBadRequest, signInPage{Error: "The form could not be read; try again."})
			return
		}
		q = r.PostForm
	default:
		methodNotAllowed(w, "GET, POST")
		return
	}
	ar := readAuthorizeRequest(q)
	page := signInPage{Request: ar, Username: ar.LoginHint, Action: r.URL.Path}
	if !partnerlink.IsGUID(ar.ClientID) {
		page.Fatal = fmt.Sprintf("client_id %q is not valid: it must be an application id (a GUID).", ar.ClientID)
		s.renderSignIn(w, r, http.StatusBadRequest, page)
		return
	}
	if !s.redirectAllowed(ar.RedirectURI) {
		page.Fatal = fmt.Sprintf("redirect_uri %q is not allowed: use http://localhost or a loopback address (any port), or an https address of this server.", ar.RedirectURI)
		s.renderSignIn(w, r, http.StatusBadRequest, page)
		return
	}
	fail := func(code, description string) {
		to, _ := url.Parse(ar.RedirectURI)
		v := to.Query()
		v.Set("error", code)
		v.Set("error_description", description)
		if ar.State != "" {
			v.Set("state", ar.State)
		}
		to.RawQuery = v.Encode()
		http.Redirect(w, r, to.String(), http.StatusSeeOther)
	}
	if rt := q.Get("response_type"); rt != "code" {
		fail("unsupported_response_type", fmt.Sprintf("response_type %q is not supported; use code.", rt))
		return
	}
	if ar.Challenge == "" || ar.Method != "S256" {
		fail("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256 (RFC 7636).")
		return
	}
	if oe := s.parseScope(&tokenRequest{v2: v2}, ar.Scope, q.Get("resource")); oe != nil {
		fail(oe.code, oe.description)
		return
	}
	if r.Method != http.MethodPost {
		s.renderSignIn(w, r, http.StatusOK, page)
		return
	}
	s.signInSubmit(w, r, authority, v2, page, fail)
}

// signInSubmit checks the sign-in form and redirects with a code.
func (s *Service) signInSubmit(w http.ResponseWriter, r *http.Request, authority string, v2 bool, page signInPage, fail func(code, description string)) {
	ctx := r.Context()
	f := r.PostForm
	page.Username = f.Get("username")
	tok := f.Get("form_token")
	c, err := r.Cookie(signInFormCookie)
	if tok == "" || err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(tok)) != 1 {
		page.Error = "The form expired or was not sent from this page; sign in again."
		s.renderSignIn(w, r, http.StatusForbidden, page)
		return
	}
	if _, err := s.grants.TakeGrant(ctx, GrantSignInForm, hashKey(tok)); partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND {
		page.Error = "The form expired or was already used; sign in again."
		s.renderSignIn(w, r, http.StatusForbidden, page)
		return
	} else if err != nil {
		s.serverError(w, fmt.Errorf("identity: consume form token: %w", err))
		return
	}
	if f.Get("action") == "cancel" {
		fail("access_denied", "The user cancelled the sign-in.")
		return
	}
	home, target, status, refusal, err := s.signInAt(ctx, w, r, page.Username, f.Get("password"), authority,
		"The username or password is not correct.")
	if err != nil {
		s.serverError(w, err)
		return
	}
	if refusal != "" {
		page.Error = refusal
		s.renderSignIn(w, r, status, page)
		return
	}
	now := s.now().UTC()
	ar := page.Request
	rec := authCodeRecord{ClientID: strings.ToLower(ar.ClientID), RedirectURI: ar.RedirectURI, Challenge: ar.Challenge,
		HomeTenantID: home.TenantID, HomeObjectID: home.ObjectID, TenantID: target.TenantID, ObjectID: target.ObjectID,
		AuthTime: now, Authority: authority, RequestScope: ar.Scope, RequestNonce: ar.Nonce}
	code, err := randomString(32)
	if err != nil {
		s.serverError(w, err)
		return
	}
	b, err := json.Marshal(rec)
	if err != nil {
		s.serverError(w, err)
		return
	}
	if err := s.grants.PutGrant(ctx, GrantAuthCode, hashKey(code), b, now.Add(authCodeLifetime)); err != nil {
		s.serverError(w, fmt.Errorf("identity: store authorization code: %w", err))
		return
	}
	to, _ := url.Parse(ar.RedirectURI)
	v := to.Query()
	v.Set("code", code)
	if ar.State != "" {
		v.Set("state", ar.State)
	}
	to.RawQuery = v.Encode()
	s.log.Info("identity: signed in", "tenant", target.TenantID, "oid", target.ObjectID, "client", rec.ClientID)
	http.Redirect(w, r, to.String(), http.StatusSeeOther)
}

// authorizationCodeGrant redeems an authorization code (once), checking
// the client, the redirect URI and the PKCE verifier.
func (s *Service) authorizationCodeGrant(ctx context.Context, w http.ResponseWriter, tr *tokenRequest, code, redirectURI, verifier string) {
	if code == "" || verifier == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "code and code_verifier are required.")
		return
	}
	b, err := s.grants.TakeGrant(ctx, GrantAuthCode, hashKey(code))
	if partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "The authorization code has expired or has already been used. Sign in again.")
		return
	} else if err != nil {
		s.serverError(w, fmt.Errorf("identity: consume authorization code: %w", err))
		return
	}
	var rec authCodeRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		s.serverError(w, fmt.Errorf("identity: decode authorization code: %w", err))
		return
	}
	sum := sha256.Sum256([]byte(verifier))
	switch {
	case rec.ClientID != tr.clientID:
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "The authorization code was issued to another client_id.")
		return
	case rec.RedirectURI != redirectURI:
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the one of the authorization request.")
		return
	case subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(rec.Challenge)) != 1:
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge of the authorization request (PKCE).")
		return
	case !strings.EqualFold(rec.Authority, tr.authority) && !strings.EqualFold(rec.TenantID, tr.authority):
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "The authorization code was issued at another authority.")
		return
	}
	home, err1 := s.dir.Principal(ctx, rec.HomeTenantID, rec.HomeObjectID)
	target, err2 := s.dir.Principal(ctx, rec.TenantID, rec.ObjectID)
	for _, err := range []error{err1, err2} {
		if err != nil && partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
			s.serverError(w, fmt.Errorf("identity: read principal: %w", err))
			return
		}
	}
	now := s.now()
	if err1 != nil || err2 != nil || !home.ActiveAt(now) || !target.ActiveAt(now) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "The account that signed in is disabled or deleted.")
		return
	}
	s.issue(ctx, w, tr, subject{p: *target, home: home, authTime: rec.AuthTime, nonce: rec.RequestNonce}, false)
}

// codeScope is the scope an authorization code was asked for, "" when
// the code is unknown (the grant then refuses it).
func (s *Service) codeScope(ctx context.Context, code string) string {
	b, err := s.grants.GetGrant(ctx, GrantAuthCode, hashKey(code))
	if err != nil {
		return ""
	}
	var rec authCodeRecord
	json.Unmarshal(b, &rec)
	return rec.RequestScope
}

// signInPage is what the sign-in page shows.
type signInPage struct {
	Request  authorizeRequest
	Action   string // the path the form posts to
	Token    string
	Username string
	Error    string // next to the form
	Fatal    string // the request cannot go on: no form
}

var signInTemplate = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in – partnerlink</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/portal/static/portal.css"></head>
<body><main class="narrow"><h1>Sign in to partnerlink</h1>
{{if .Fatal}}<p class="error" role="alert">{{.Fatal}}</p>{{else}}
{{if .Error}}<p class="error" role="alert" id="signin-error">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="form_token" value="{{.Token}}">
<input type="hidden" name="response_type" value="code">
<input type="hidden" name="client_id" value="{{.Request.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{.Request.RedirectURI}}">
<input type="hidden" name="scope" value="{{.Request.Scope}}">
<input type="hidden" name="state" value="{{.Request.State}}">
<input type="hidden" name="code_challenge" value="{{.Request.Challenge}}">
<input type="hidden" name="code_challenge_method" value="{{.Request.Method}}">
<input type="hidden" name="nonce" value="{{.Request.Nonce}}">
<p><label for="username">Username</label>
<input id="username" name="username" value="{{.Username}}" autocomplete="username" required autofocus{{if .Error}} aria-describedby="signin-error"{{end}}></p>
<p><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit" name="action" value="signin">Sign in</button>
<button type="submit" name="action" value="cancel" formnovalidate class="secondary">Cancel</button></p>
</form>{{end}}</main></body></html>`))

// renderSignIn renders the sign-in page with a new form token. Its
// policy lets the form post here and be redirected to the client.
func (s *Service) renderSignIn(w http.ResponseWriter, r *http.Request, status int, p signInPage) {
	formAction := "'self'"
	if p.Fatal == "" {
		tok, err := randomString(24)
		if err != nil {
			s.serverError(w, err)
			return
		}
		if err := s.grants.PutGrant(r.Context(), GrantSignInForm, hashKey(tok), []byte("1"), s.now().Add(30*time.Minute)); err != nil {
			s.serverError(w, fmt.Errorf("identity: store form token: %w", err))
			return
		}
		http.SetCookie(w, &http.Cookie{Name: signInFormCookie, Value: tok, Path: r.URL.Path,
			HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode, MaxAge: 1800})
		p.Token = tok
		if u, err := url.Parse(p.Request.RedirectURI); err == nil && u.Scheme != "" {
			formAction += " " + u.Scheme + "://" + u.Host
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	if err := signInTemplate.Execute(w, p); err != nil {
		s.log.Error("identity: render sign-in page", "err", err)
	}
}
