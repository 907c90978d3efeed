package portal

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/api"
	"github.com/partnerlink/partnerlink/report"
)

// The operator's pages (docs/portal.md, "Operator"): the close status, the
// versions of each month and what each restates, the program report, and
// a close on demand. The operator signs in with the server's admin key;
// the pages call the admin API with it, so they allow exactly what the
// admin API allows.

// operatorFormCookie carries the sign-in form's token before any session
// exists (a double-submitted cookie).
const operatorFormCookie = "__Host-partnerlink_operator_form"

// operatorView is the content of the operator's pages.
type operatorView struct {
	FormToken string
	State     *api.CloseState
	Month     string
	Versions  []api.VersionView
	Version   *api.VersionDetail
	// The close form's fields and outcome.
	CloseMonth string
}

// operator shows the close status to an operator's session, and the
// sign-in form to anyone else.
func (p *Portal) operator(w http.ResponseWriter, r *http.Request) {
	s := p.current(r)
	if s == nil || !s.operator {
		p.operatorForm(w, r, http.StatusOK, "", s)
		return
	}
	p.operatorHome(w, r, &view{Session: s}, s.adminKey)
}

func (p *Portal) operatorForm(w http.ResponseWriter, r *http.Request, status int, errText string, s *session) {
	token := randomToken()
	http.SetCookie(w, &http.Cookie{Name: operatorFormCookie, Value: token, Path: "/", MaxAge: 900,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	v := view{Title: "Operator sign-in", Page: "operator", Error: errText, Data: &operatorView{FormToken: token}}
	if s != nil && !s.operator {
		v.Message = "You are signed in with a directory account; the operator's pages need the server's admin key."
	}
	p.render(w, r, status, "operator-signin", v)
}

// operatorSignIn checks the admin key against the admin API and starts an
// operator's session.
func (p *Portal) operatorSignIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	c, err := r.Cookie(operatorFormCookie)
	if err != nil || r.ParseForm() != nil || c.Value == "" ||
		subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostForm.Get("form"))) != 1 {
		p.render(w, r, http.StatusForbidden, "error", view{Title: "Form refused",
			Error: "The form was not sent from this portal's page or is out of date; open the page again and retry."})
		return
	}
	key := r.PostForm.Get("adminKey")
	if key == "" {
		p.operatorForm(w, r, http.StatusBadRequest, "Enter the admin key (the file admin-key in the server's data directory).", nil)
		return
	}
	code, _, _ := call(r.Context(), p.API, http.MethodGet, p.BaseURL+"/api/v1/admin/closes", key, nil)
	if code != http.StatusOK {
		p.operatorForm(w, r, http.StatusUnauthorized, "The admin key is not correct.", nil)
		return
	}
	p.startSession(w, &session{Name: "operator", CSRF: randomToken(), Expires: p.now().Add(SessionLifetime), operator: true, adminKey: key})
	http.Redirect(w, r, "/portal/operator", http.StatusSeeOther)
}

// withOperator runs page for an operator's session; anyone else gets the
// sign-in form (GET) or a refusal.
func (p *Portal) withOperator(w http.ResponseWriter, r *http.Request, page func(http.ResponseWriter, *http.Request, *view, string)) {
	s := p.current(r)
	if s == nil || !s.operator {
		if r.Method == http.MethodGet {
			p.operatorForm(w, r, http.StatusUnauthorized, "", s)
			return
		}
		p.render(w, r, http.StatusUnauthorized, "error", view{Title: "Signed out", Error: "Sign in as the operator first."})
		return
	}
	if r.Method == http.MethodPost && !p.checkCSRF(w, r, s) {
		return
	}
	page(w, r, &view{Session: s}, s.adminKey)
}

// operatorHome is the close status of the last 12 months.
func (p *Portal) operatorHome(w http.ResponseWriter, r *http.Request, v *view, key string) {
	v.Title, v.Page = "Monthly close", "operator"
	ov := &operatorView{State: &api.CloseState{}, CloseMonth: r.FormValue("month")}
	if err := p.api(r.Context(), "/admin/closes", key, ov.State); err != nil {
		p.fail(w, r, v, err)
		return
	}
	v.Data = ov
	v.Done, v.Message = v.Session.takeFlash("")
	p.render(w, r, http.StatusOK, "operator", *v)
}

// closeMessage words a close's outcome.
func closeMessage(month string, published bool) string {
	if published {
		return fmt.Sprintf("Closed %s: a new version is published.", month)
	}
	return fmt.Sprintf("Closed %s: nothing changed, so no version was published.", month)
}

// operatorWords puts the close's refusals, worded for the command line,
// in the words of the operator's page.
func operatorWords(msg string) string {
	msg = strings.Replace(msg, "pass --early to close it now", "tick “Close before the close day” to close it now", 1)
	return cliClose.ReplaceAllString(msg, "the Close the month form closes it")
}

// cliClose is the command a refusal names to close a month.
var cliClose = regexp.MustCompile(`'partnerlink close --month [0-9-]+' closes it`)

// operatorClose runs a close through the admin API (POST /api/v1/admin/closes).
func (p *Portal) operatorClose(w http.ResponseWriter, r *http.Request, v *view, key string) {
	month := r.PostForm.Get("month")
	body, _ := json.Marshal(map[string]any{"month": month, "early": r.PostForm.Get("early") == "on"})
	code, b, _ := call(r.Context(), p.API, http.MethodPost, p.BaseURL+"/api/v1/admin/closes", key, body)
	if code != http.StatusOK {
		v.Title, v.Page = "Monthly close", "operator"
		ov := &operatorView{State: &api.CloseState{}, CloseMonth: month}
		if err := p.api(r.Context(), "/admin/closes", key, ov.State); err != nil {
			p.fail(w, r, v, err)
			return
		}
		v.Data, v.Error = ov, operatorWords(armError(b))
		p.render(w, r, code, "operator", *v)
		return
	}
	var out struct {
		Published bool `json:"published"`
	}
	json.Unmarshal(b, &out)
	v.Session.setFlash("", "close", closeMessage(month, out.Published))
	http.Redirect(w, r, "/portal/operator", http.StatusSeeOther)
}

// operatorMonth lists a month's versions.
func (p *Portal) operatorMonth(w http.ResponseWriter, r *http.Request, v *view, key string) {
	v.Title, v.Page = "Report versions", "operator"
	m, err := formMonth(r)
	if err != nil {
		p.fail(w, r, v, err)
		return
	}
	var vs struct {
		Value []api.VersionView `json:"value"`
	}
	if err := p.api(r.Context(), "/admin/reports?"+url.Values{"month": {m.String()}}.Encode(), key, &vs); err != nil {
		p.fail(w, r, v, err)
		return
	}
	v.Data = &operatorView{Month: m.String(), Versions: vs.Value}
	p.render(w, r, http.StatusOK, "operator-month", *v)
}

// operatorVersion shows one version and the lines it restates.
func (p *Portal) operatorVersion(w http.ResponseWriter, r *http.Request, v *view, key string) {
	v.Title, v.Page = "Report version", "operator"
	m, err := formMonth(r)
	if err != nil {
		p.fail(w, r, v, err)
		return
	}
	d := &api.VersionDetail{}
	if err := p.api(r.Context(), "/admin/reports/"+m.String()+"/versions/"+url.PathEscape(r.FormValue("version")), key, d); err != nil {
		p.fail(w, r, v, err)
		return
	}
	v.Data = &operatorView{Month: m.String(), Version: d}
	p.render(w, r, http.StatusOK, "operator-version", *v)
}

// operatorDownload: the program report of a closed month (csv, json).
func (p *Portal) operatorDownload(w http.ResponseWriter, r *http.Request, v *view, key string) {
	m, err := formMonth(r)
	if err != nil {
		p.fail(w, r, v, err)
		return
	}
	format, ext, err := reportFormat(r, report.FormatCSV, report.FormatJSON)
	if err != nil {
		p.fail(w, r, v, err)
		return
	}
	q, name := url.Values{"format": {format}}, fmt.Sprintf("program-%s.%s", m, ext)
	if ver := r.FormValue("version"); ver != "" {
		// A version's file is named for it: versions of a month differ.
		q.Set("version", ver)
		name = fmt.Sprintf("program-%s-v%s.%s", m, ver, ext)
	}
	p.download(w, r, v, "/admin/reports/"+m.String()+"/program?"+q.Encode(), key, name)
}

// formMonth reads the request's month (YYYY-MM).
func formMonth(r *http.Request) (partnerlink.Month, error) {
	m, err := partnerlink.ParseMonth(r.FormValue("month"))
	if err != nil {
		return 0, partnerlink.Errorf(partnerlink.EINVALID, "month: %v", err)
	}
	return m, nil
}
