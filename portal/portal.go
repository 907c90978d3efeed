// Package portal is partnerlink's web portal (docs/portal.md): pages
// rendered on the server from templates embedded in the binary, for
// partners and customers to sign in, switch directory and link a partner
// ID. It is an OAuth client of the product's own token service
// (authorization code with PKCE) and calls the ARM surface with the
// signed-in account's token, in process, so that every page authorizes
// exactly as the API does and a link made here is the API's link.
package portal

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/identity"
)

// ClientID is the portal's application id at the token service.
const ClientID = "5f0c2a3e-7d4b-4c1a-9e8f-3b6d2a1c0e9f"

// SessionLifetime is how long a sign-in lasts; then the person signs in
// again (docs/portal.md, "Sessions").
const SessionLifetime = 8 * time.Hour

// maxSessions bounds the sessions kept in memory, and maxAccountSessions
// those of one account (or of the operator): an account that signs in
// again and again replaces its own oldest session, not other people's.
// At maxSessions the oldest session of the account holding the most goes.
const (
	maxSessions        = 10000
	maxAccountSessions = 20
)

const (
	sessionCookie = "__Host-partnerlink_session"
	flowCookie    = "__Host-partnerlink_signin"
	armScope      = "https://management.core.windows.net//.default"
	mpVersion     = "?api-version=2018-02-01"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

var pages = template.Must(template.New("pages").Funcs(template.FuncMap{
	// table hands the "totals" template its heading and rows.
	"table": func(head string, rows []total) map[string]any { return map[string]any{"Head": head, "Rows": rows} },
	// noticeKind words a notification's type (docs/api.md#notifications).
	"noticeKind": func(t any) string {
		if k, ok := noticeKinds[t]; ok {
			return k
		}
		return fmt.Sprint(t)
	},
	"when": when,
}).ParseFS(templateFiles, "templates/*.html"))

// Directory is what the portal reads of the directory: the tenants a
// person reaches (their own and where they are a guest) and the names.
type Directory interface {
	Tenant(ctx context.Context, tenantID string) (*partnerlink.Tenant, error)
	Principal(ctx context.Context, tenantID, objectID string) (*partnerlink.Principal, error)
	GuestsOf(ctx context.Context, homeTenantID, homeObjectID string) ([]partnerlink.Principal, error)
}

// Portal serves /, /portal and /portal/….
type Portal struct {
	// BaseURL is the server's base URL this portal is reached at.
	BaseURL string
	// Identity is the token service and ARM the ARM surface, both called
	// in process.
	Identity http.Handler
	ARM      http.Handler
	API      http.Handler
	Dir      Directory
	Now      func() time.Time
	Log      *slog.Logger

	mu       sync.Mutex
	sessions map[string]*session // by the hash of the cookie's value
}

// session is a signed-in person: their home account, the refresh token
// that gets them a token in each of their directories, and those tokens.
type session struct {
	HomeTenantID, HomeObjectID, Name string
	CSRF                             string
	Expires                          time.Time

	// An operator's session holds the admin key it signed in with (in
	// memory only) and no directory account.
	operator bool
	adminKey string

	mu      sync.Mutex
	refresh string
	tokens  map[string]accessToken // by tenant
	// The change a form made, for the page the redirect after it shows
	// (once): kept here, never in the address, so that no text of a link
	// can make a page claim a change (docs/portal.md, "Security").
	flash, flashDone, flashDir string
}

// setFlash keeps msg, a change of kind done in directory dir ("" for the
// operator's), for the next page of that directory shown.
func (s *session) setFlash(dir, done, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flash, s.flashDone, s.flashDir = msg, done, dir
}

// takeFlash returns the change kept by setFlash for directory dir, once.
func (s *session) takeFlash(dir string) (done, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flashDir != dir {
		return "", ""
	}
	done, msg = s.flashDone, s.flash
	s.flash, s.flashDone, s.flashDir = "", "", ""
	return done, msg
}

// account names whose session this is, for the per-account limit.
func (s *session) account() string {
	if s.operator {
		return "operator"
	}
	return s.HomeTenantID + "/" + s.HomeObjectID
}

type accessToken struct {
	value   string
	expires time.Time
}

// whenLayout is how every page writes an instant: to the second, in UTC,
// the zone said (docs/portal.md).
const whenLayout = "2006-01-02 15:04:05 UTC"

// when writes an instant (a time.Time, or RFC 3339 text as the API and
// notifications carry it) the one way every page does, in a <time>
// element that keeps the exact instant; other text is written as it is.
func when(v any) template.HTML {
	var t time.Time
	switch v := v.(type) {
	case time.Time:
		t = v
	case *time.Time:
		if v == nil {
			return ""
		}
		t = *v
	case string:
		var err error
		if t, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return template.HTML(template.HTMLEscapeString(v))
		}
	default:
		return template.HTML(template.HTMLEscapeString(fmt.Sprint(v)))
	}
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	return template.HTML(`<time datetime="` + t.Format(time.RFC3339Nano) + `">` + t.Format(whenLayout) + `</time>`)
}

// noticeKinds word the notifications' types for the customer view.
var noticeKinds = map[any]string{"partnerlink.link.created": "a link created", "partnerlink.link.replaced": "a link replaced",
	"partnerlink.link.deleted": "a link deleted", "partnerlink.report.published": "a report published"}

// Routes lists the portal's endpoints as "METHOD pattern".
func Routes() []string {
	return []string{"GET /", "GET /portal", "GET /portal/signin", "GET /portal/callback", "POST /portal/signout",
		"GET /portal/link", "POST /portal/link",
		"GET /portal/partner", "GET /portal/partner/explain", "GET /portal/partner/report",
		"GET /portal/customer", "GET /portal/customer/report", "GET /portal/onboard", "POST /portal/onboard",
		"GET /portal/operator", "POST /portal/operator/signin", "POST /portal/operator/close",
		"GET /portal/operator/month", "GET /portal/operator/version", "GET /portal/operator/report",
		"GET /portal/static/portal.css", "GET /portal/static/charts.js"}
}

// IsPortalPath reports whether the portal answers path.
func IsPortalPath(path string) bool {
	return path == "/" || path == "/portal" || strings.HasPrefix(path, "/portal/")
}

func (p *Portal) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Portal) log() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.Default()
}

// csp is every page's Content Security Policy: scripts (the charts bundle)
// and styles only from the portal's own files, nothing inline.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP routes the portal's requests.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if strings.HasPrefix(r.URL.Path, "/portal/static/") {
		p.static(w, r)
		return
	}
	h.Set("Cache-Control", "no-store")
	type route struct{ method, path string }
	switch (route{r.Method, r.URL.Path}) {
	case route{"GET", "/"}:
		http.Redirect(w, r, "/portal", http.StatusFound)
	case route{"GET", "/portal"}:
		p.withSession(w, r, p.home)
	case route{"GET", "/portal/signin"}:
		p.signIn(w, r)
	case route{"GET", identity.PortalCallbackPath}:
		p.callback(w, r)
	case route{"POST", "/portal/signout"}:
		p.signOut(w, r)
	case route{"GET", "/portal/link"}, route{"POST", "/portal/link"}:
		p.withSession(w, r, p.link)
	case route{"GET", "/portal/partner"}:
		p.withSession(w, r, p.partner)
	case route{"GET", "/portal/partner/explain"}:
		p.withSession(w, r, p.partnerExplain)
	case route{"GET", "/portal/partner/report"}:
		p.withSession(w, r, p.partnerDownload)
	case route{"GET", "/portal/customer"}:
		p.withSession(w, r, p.customer)
	case route{"GET", "/portal/customer/report"}:
		p.withSession(w, r, p.customerDownload)
	case route{"GET", "/portal/onboard"}, route{"POST", "/portal/onboard"}:
		p.withSession(w, r, p.onboard)
	case route{"GET", "/portal/operator"}:
		p.operator(w, r)
	case route{"POST", "/portal/operator/signin"}:
		p.operatorSignIn(w, r)
	case route{"POST", "/portal/operator/close"}:
		p.withOperator(w, r, p.operatorClose)
	case route{"GET", "/portal/operator/month"}:
		p.withOperator(w, r, p.operatorMonth)
	case route{"GET", "/portal/operator/version"}:
		p.withOperator(w, r, p.operatorVersion)
	case route{"GET", "/portal/operator/report"}:
		p.withOperator(w, r, p.operatorDownload)
	default:
		// A page's address typed with a trailing slash (/portal/) goes to
		// the page; the path is one of the routes, never the request's.
		if trimmed := strings.TrimRight(r.URL.Path, "/"); r.Method == http.MethodGet && trimmed != r.URL.Path && slices.Contains(Routes(), "GET "+trimmed) {
			target := url.URL{Path: trimmed, RawQuery: r.URL.RawQuery}
			http.Redirect(w, r, target.String(), http.StatusMovedPermanently)
			return
		}
		if allow := allowed(r.URL.Path); allow != nil {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			v := view{Title: "Method not allowed", Error: r.Method + " is not allowed here."}
			if form, ok := formPages[r.URL.Path]; ok {
				v.Error, v.Back = "This address only takes a form when it is sent: open the page with the form.", form
			}
			p.render(w, r, http.StatusMethodNotAllowed, "error", v)
			return
		}
		p.render(w, r, http.StatusNotFound, "error", view{Title: "Not found", Error: "There is no page at " + r.URL.Path + "."})
	}
}

// allowed lists the methods the portal answers at path, nil when it
// serves no such page.
func allowed(path string) []string {
	var methods []string
	for _, rt := range Routes() {
		if method, pattern, _ := strings.Cut(rt, " "); pattern == path {
			methods = append(methods, method)
		}
	}
	return methods
}

// formPages names, for each address that only takes a form, the page
// that holds the form: what a GET there (a bookmark, a typed address)
// is sent to open instead.
var formPages = map[string]string{
	"/portal/signout":         "/portal",
	"/portal/operator/signin": "/portal/operator",
	"/portal/operator/close":  "/portal/operator",
}

func (p *Portal) static(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	sub, _ := fs.Sub(staticFiles, "static")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.StripPrefix("/portal/static/", http.FileServerFS(sub)).ServeHTTP(w, r)
}

// view is what every page's template gets.
type view struct {
	Title, Page, Path string
	Next              string // the landing page: the page to open after signing in
	Session           *session
	CSRF              string
	Directory         partnerlink.Tenant
	Directories       []partnerlink.Tenant
	Account           string // the signed-in person's account in the directory
	Message, Error    string
	Back              string // an error page's link to the page to open instead
	Done              string // the change a redirect reports: link, update or remove
	Link              *linkView
	PartnerInput      string
	// Operator marks an operator's session (docs/portal.md, "Operator").
	Operator bool
	// Charts loads the charts bundle; Data is the page's own content.
	Charts bool
	Data   any
}

func (p *Portal) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	if v.Session != nil {
		v.CSRF, v.Operator = v.Session.CSRF, v.Session.operator
	}
	v.Path = r.URL.Path
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, page+".html", v); err != nil {
		p.log().Error("portal: render", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// signIn starts the authorization code flow: a state and a PKCE verifier
// in a short-lived cookie, and the redirect to the sign-in page.
func (p *Portal) signIn(w http.ResponseWriter, r *http.Request) {
	state, verifier := randomToken(), randomToken()
	// The page asked for before signing in is where the sign-in ends.
	value := state + "." + verifier
	if next := r.URL.Query().Get("next"); safeNext(next) {
		value += "." + base64.RawURLEncoding.EncodeToString([]byte(next))
	}
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: value, Path: "/", MaxAge: 900,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {ClientID}, "redirect_uri": {p.BaseURL + identity.PortalCallbackPath},
		"scope": {armScope + " openid offline_access"}, "state": {state},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	http.Redirect(w, r, "/organizations/oauth2/v2.0/authorize?"+q.Encode(), http.StatusFound)
}

// tokenResponse is the token service's answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
}

// token posts a token request to the token service in process.
func (p *Portal) token(ctx context.Context, authority string, form url.Values) (*tokenResponse, error) {
	form.Set("client_id", ClientID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.BaseURL+"/"+authority+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "127.0.0.1:0"
	rec := httptest.NewRecorder()
	p.Identity.ServeHTTP(rec, req)
	var tr tokenResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &tr); err != nil {
		return nil, fmt.Errorf("portal: token response %d: %w", rec.Code, err)
	}
	if rec.Code != http.StatusOK {
		return &tr, partnerlink.Errorf(partnerlink.EFORBIDDEN, "%s", tr.Description)
	}
	return &tr, nil
}

// callback finishes the sign-in: it checks the state, redeems the code with
// the verifier and starts a session.
func (p *Portal) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, err := r.Cookie(flowCookie)
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	state, verifier, next, ok := "", "", "/portal", false
	if err == nil {
		var rest string
		state, rest, ok = strings.Cut(c.Value, ".")
		verifier, rest, _ = strings.Cut(rest, ".")
		if b, err := base64.RawURLEncoding.DecodeString(rest); err == nil && safeNext(string(b)) {
			next = string(b)
		}
	}
	if !ok || q.Get("state") == "" || subtle.ConstantTimeCompare([]byte(state), []byte(q.Get("state"))) != 1 {
		p.render(w, r, http.StatusBadRequest, "error", view{Title: "Sign-in failed", Error: "The sign-in did not start here or took too long; sign in again."})
		return
	}
	if e := q.Get("error"); e != "" {
		p.render(w, r, http.StatusOK, "landing", view{Title: "Signed out", Message: "The sign-in was cancelled (" + q.Get("error_description") + ")."})
		return
	}
	tr, err := p.token(r.Context(), "organizations", url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {p.BaseURL + identity.PortalCallbackPath}, "code_verifier": {verifier}, "scope": {armScope + " openid offline_access"}})
	if err != nil {
		p.render(w, r, http.StatusBadRequest, "error", view{Title: "Sign-in failed", Error: partnerlink.ErrorMessage(err)})
		return
	}
	claims, err := unverifiedClaims(tr.AccessToken)
	if err != nil {
		p.render(w, r, http.StatusInternalServerError, "error", view{Title: "Sign-in failed", Error: "The token service's answer could not be read."})
		return
	}
	now := p.now()
	s := &session{HomeTenantID: claims.TenantID, HomeObjectID: claims.ObjectID, Name: claims.UPN, CSRF: randomToken(),
		Expires: now.Add(SessionLifetime), refresh: tr.RefreshToken,
		tokens: map[string]accessToken{claims.TenantID: {tr.AccessToken, now.Add(time.Duration(tr.ExpiresIn) * time.Second)}}}
	p.startSession(w, s)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// safeNext reports whether next is a page of the portal to go to after
// signing in: a path of this server's portal, never another site's
// (//host, a scheme) nor the sign-in itself.
func safeNext(next string) bool {
	u, err := url.Parse(next)
	// The path as the redirect sends it (http.Redirect cleans it): no
	// "..", no escaped dots or slashes that a browser would resolve.
	return err == nil && u.Scheme == "" && u.Host == "" && !strings.HasPrefix(next, "//") && !strings.Contains(next, "\\") &&
		path.Clean(u.Path) == u.Path && u.RawPath == "" && !strings.Contains(strings.ToLower(next), "%2e") &&
		(u.Path == "/portal" || strings.HasPrefix(u.Path, "/portal/")) && !strings.HasPrefix(u.Path, "/portal/signin") &&
		!strings.HasPrefix(u.Path, "/portal/operator") && u.Path != identity.PortalCallbackPath
}

// startSession keeps s and sets its cookie; expired sessions go, and
// an old one when the account or the portal is at its limit (maxSessions).
func (p *Portal) startSession(w http.ResponseWriter, s *session) {
	now := p.now()
	id := randomToken()
	p.mu.Lock()
	if p.sessions == nil {
		p.sessions = map[string]*session{}
	}
	perAccount := map[string]int{}
	for k, old := range p.sessions {
		if !now.Before(old.Expires) {
			delete(p.sessions, k)
			continue
		}
		perAccount[old.account()]++
	}
	evictFrom := ""
	if perAccount[s.account()] >= maxAccountSessions {
		evictFrom = s.account()
	} else if len(p.sessions) >= maxSessions {
		for a, n := range perAccount {
			if evictFrom == "" || n > perAccount[evictFrom] || (n == perAccount[evictFrom] && a < evictFrom) {
				evictFrom = a
			}
		}
	}
	if evictFrom != "" {
		oldest := ""
		for k, old := range p.sessions {
			if old.account() == evictFrom && (oldest == "" || old.Expires.Before(p.sessions[oldest].Expires)) {
				oldest = k
			}
		}
		delete(p.sessions, oldest)
	}
	p.sessions[hashOf(id)] = s
	p.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", MaxAge: int(SessionLifetime / time.Second),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

// claims are the access token claims the portal reads. The token comes
// straight from the token service in process, so it is not verified again
// here; the ARM surface verifies it on every call.
type claims struct {
	TenantID string `json:"tid"`
	ObjectID string `json:"oid"`
	UPN      string `json:"upn"`
}

func unverifiedClaims(jwt string) (*claims, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("portal: not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var c claims
	return &c, json.Unmarshal(b, &c)
}

// current returns the request's session, nil when there is none or it
// expired.
func (p *Portal) current(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.sessions[hashOf(c.Value)]
	if s == nil || !p.now().Before(s.Expires) {
		delete(p.sessions, hashOf(c.Value))
		return nil
	}
	return s
}

// signOut ends the session (CSRF-checked).
func (p *Portal) signOut(w http.ResponseWriter, r *http.Request) {
	if s := p.current(r); s != nil && !p.checkCSRF(w, r, s) {
		return
	}
	p.endSession(w, r)
	p.render(w, r, http.StatusOK, "landing", view{Title: "Signed out", Message: "You are signed out."})
}

// endSession forgets the request's session and clears its cookie.
func (p *Portal) endSession(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		p.mu.Lock()
		delete(p.sessions, hashOf(c.Value))
		p.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

// checkCSRF refuses a form whose csrf field is not the session's.
func (p *Portal) checkCSRF(w http.ResponseWriter, r *http.Request, s *session) bool {
	return p.checkCSRFIn(w, r, &view{Session: s})
}

// checkCSRFIn is checkCSRF for a page of v's directory: the refusal keeps
// the page's header (its directory, the switch).
func (p *Portal) checkCSRFIn(w http.ResponseWriter, r *http.Request, v *view) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err == nil && subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(v.Session.CSRF)) == 1 {
		return true
	}
	v.Title, v.Error = "Form refused", "The form was not sent from this portal's page or is out of date; open the page again and retry."
	p.render(w, r, http.StatusForbidden, "error", *v)
	return false
}

// withSession runs page for a signed-in person in the directory the
// request names (their home directory by default); without a session the
// browser goes to the landing page.
func (p *Portal) withSession(w http.ResponseWriter, r *http.Request, page func(http.ResponseWriter, *http.Request, *view, string)) {
	s := p.current(r)
	if s == nil {
		if r.Method == http.MethodGet {
			v := view{Title: "Sign in"}
			if next := r.URL.RequestURI(); next != "/portal" {
				v.Next = next
			}
			p.render(w, r, http.StatusUnauthorized, "landing", v)
			return
		}
		p.render(w, r, http.StatusUnauthorized, "error", view{Title: "Signed out", Error: "Your session has ended; sign in again."})
		return
	}
	if s.operator {
		// An operator's session has no directory account.
		http.Redirect(w, r, "/portal/operator", http.StatusSeeOther)
		return
	}
	if r.Method == http.MethodPost {
		// The form is read once, bounded, before its directory is.
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		r.ParseForm()
	}
	v := &view{Session: s}
	dirs, err := p.directories(r.Context(), s)
	if err != nil {
		p.fail(w, r, v, err)
		return
	}
	v.Directories = dirs
	want := strings.ToLower(r.FormValue("directory"))
	if want == "" {
		want = s.HomeTenantID
	}
	i := slices.IndexFunc(dirs, func(t partnerlink.Tenant) bool { return t.ID == want })
	if i < 0 {
		v.Directory = partnerlink.Tenant{ID: s.HomeTenantID, Name: s.HomeTenantID}
		if j := slices.IndexFunc(dirs, func(t partnerlink.Tenant) bool { return t.ID == s.HomeTenantID }); j >= 0 {
			v.Directory = dirs[j]
		}
		p.render(w, r, http.StatusForbidden, "error", view{Title: "Directory not available", Session: s, Directories: dirs, Directory: v.Directory,
			Error: fmt.Sprintf("You have no account in directory %q; choose one of yours with Switch directory.", want)})
		return
	}
	v.Directory = dirs[i]
	if r.Method == http.MethodPost && !p.checkCSRFIn(w, r, v) {
		return
	}
	tok, err := p.tokenFor(r.Context(), s, v.Directory.ID)
	if errors.Is(err, errSignInRevoked) {
		// The session ends with its sign-in; a GET comes back to the page.
		p.endSession(w, r)
		lv := view{Title: "Sign in", Error: partnerlink.ErrorMessage(err)}
		if r.Method == http.MethodGet {
			lv.Next = r.URL.RequestURI()
		}
		p.render(w, r, http.StatusUnauthorized, "landing", lv)
		return
	}
	if err != nil {
		p.fail(w, r, v, err)
		return
	}
	page(w, r, v, tok)
}

// fail renders an error page for err.
func (p *Portal) fail(w http.ResponseWriter, r *http.Request, v *view, err error) {
	code := partnerlink.ErrorCode(err)
	if code == partnerlink.EINTERNAL {
		p.log().Error("portal: internal error", "path", r.URL.Path, "err", err)
	}
	v.Error = partnerlink.ErrorMessage(err)
	if v.Session != nil && v.Session.operator {
		v.Error = operatorWords(v.Error)
	}
	// The title says what kind of refusal it is; the message says why.
	status, title := http.StatusInternalServerError, "Something went wrong"
	switch code {
	case partnerlink.EFORBIDDEN, partnerlink.EUNAUTHORIZED:
		status, title = http.StatusForbidden, "Not allowed"
	case partnerlink.EINVALID:
		status, title = http.StatusBadRequest, "Not accepted"
	case partnerlink.ENOTFOUND:
		status, title = http.StatusNotFound, "Not found"
	}
	v.Title = title
	p.render(w, r, status, "error", *v)
}

// directories are the tenants the person reaches: their home tenant and
// every tenant where they have an active guest account, by name.
func (p *Portal) directories(ctx context.Context, s *session) ([]partnerlink.Tenant, error) {
	ids := []string{s.HomeTenantID}
	home, err := p.Dir.Principal(ctx, s.HomeTenantID, s.HomeObjectID)
	if err != nil {
		return nil, err
	}
	guests, err := p.Dir.GuestsOf(ctx, s.HomeTenantID, s.HomeObjectID)
	if err != nil {
		return nil, err
	}
	now := p.now()
	for _, g := range guests {
		if identity.GuestOf(g, *home) && g.ActiveAt(now) && !slices.Contains(ids, g.TenantID) {
			ids = append(ids, g.TenantID)
		}
	}
	var out []partnerlink.Tenant
	for _, id := range ids {
		t, err := p.Dir.Tenant(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	slices.SortFunc(out[1:], func(a, b partnerlink.Tenant) int { return strings.Compare(a.Name+a.ID, b.Name+b.ID) })
	return out, nil
}

// errSignInRevoked is tokenFor's error when the session's sign-in no
// longer holds: the person was disabled or changed their password since
// (docs/api.md, "Identity"), or the refresh token expired.
var errSignInRevoked = partnerlink.Errorf(partnerlink.EUNAUTHORIZED,
	"Your sign-in no longer holds (the account was disabled or its password changed since, or the sign-in expired); sign in again.")

// tokenFor returns an access token for the person's account in tenant,
// redeeming the refresh token there when the cached one is near its end.
func (p *Portal) tokenFor(ctx context.Context, s *session, tenant string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := p.now()
	if t, ok := s.tokens[tenant]; ok && now.Add(time.Minute).Before(t.expires) {
		return t.value, nil
	}
	tr, err := p.token(ctx, tenant, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s.refresh},
		"scope": {armScope + " offline_access"}})
	if err != nil && tr != nil && tr.Error == "invalid_grant" {
		return "", errSignInRevoked
	}
	if err != nil {
		return "", err
	}
	s.refresh = tr.RefreshToken
	s.tokens[tenant] = accessToken{tr.AccessToken, now.Add(time.Duration(tr.ExpiresIn) * time.Second)}
	return tr.AccessToken, nil
}

// arm calls the ARM surface in process with the token; it returns the
// status and body.
func (p *Portal) arm(ctx context.Context, method, path, token string) (int, []byte) {
	code, b, _ := call(ctx, p.ARM, method, p.BaseURL+path, token, nil)
	return code, b
}

// call sends one request to an in-process handler with the bearer token
// and returns the status, body and headers.
func call(ctx context.Context, h http.Handler, method, url, token string, body []byte) (int, []byte, http.Header) {
	req, _ := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.RemoteAddr = "127.0.0.1:0"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header
}

// api calls the partnerlink API in process (path under /api/v1) with the
// token and decodes its JSON answer into out; an error answer becomes an
// error with the API's code and message, so the page says what the API says.
func (p *Portal) api(ctx context.Context, path, token string, out any) error {
	code, b, _ := call(ctx, p.API, http.MethodGet, p.BaseURL+"/api/v1"+path, token, nil)
	if code != http.StatusOK {
		return apiError(code, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("portal: answer of %s: %w", path, err)
	}
	return nil
}

// apiError turns an error answer of the API or ARM into an error with the
// code of its status and the answer's message.
func apiError(status int, b []byte) error {
	code := partnerlink.EINTERNAL
	switch status {
	case http.StatusBadRequest:
		code = partnerlink.EINVALID
	case http.StatusUnauthorized, http.StatusForbidden:
		code = partnerlink.EFORBIDDEN
	case http.StatusNotFound:
		code = partnerlink.ENOTFOUND
	}
	return partnerlink.Errorf(code, "%s", armError(b))
}

// armError is the message of an ARM error body.
func armError(b []byte) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &e) != nil || e.Error.Message == "" {
		return "The request failed."
	}
	return e.Error.Message
}
