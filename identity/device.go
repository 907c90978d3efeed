package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
)

// Device code statuses.
const (
	devicePending  = "pending"
	deviceApproved = "approved"
	deviceDenied   = "denied"
)

// deviceGrace keeps an expired device code stored a little longer, so that
// a late poll is told expired_token (RFC 8628 §3.5) rather than an unknown
// code.
const deviceGrace = time.Hour

// deviceRecord is stored (as JSON) under the hash of a device code.
type deviceRecord struct {
	Authority string    `json:"authority"`
	ClientID  string    `json:"clientId"`
	UserCode  string    `json:"userCode"`
	Expires   time.Time `json:"expires"`
	Interval  int64     `json:"interval"` // seconds
	LastPoll  time.Time `json:"lastPoll,omitzero"`
	Status    string    `json:"status"`
	// The scope or resource asked for: a poll that names none gets it
	// (MSAL Python polls with the device code alone).
	Scope    string `json:"scope,omitempty"`
	Resource string `json:"resource,omitempty"`
	// Set on approval: the person and the principal the token is for.
	HomeTenantID string    `json:"homeTenantId,omitempty"`
	HomeObjectID string    `json:"homeObjectId,omitempty"`
	TenantID     string    `json:"tenantId,omitempty"`
	ObjectID     string    `json:"objectId,omitempty"`
	AuthTime     time.Time `json:"authTime,omitzero"`
}

// deviceAuthorization starts a device code flow (RFC 8628 §3.1-3.2).
func (s *Service) deviceAuthorization(w http.ResponseWriter, r *http.Request, authority string, v2 bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "The request body must be application/x-www-form-urlencoded: "+err.Error())
		return
	}
	f := r.PostForm
	clientID := f.Get("client_id")
	if !partnerlink.IsGUID(clientID) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request",
			fmt.Sprintf("client_id %q is not valid: it must be an application id (a GUID).", clientID))
		return
	}
	tr := &tokenRequest{base: s.base(r), authority: authority, v2: v2, clientID: strings.ToLower(clientID)}
	if oe := s.parseScope(tr, f.Get("scope"), f.Get("resource")); oe != nil {
		oe.write(w)
		return
	}
	deviceCode, err := randomString(32)
	if err != nil {
		s.serverError(w, err)
		return
	}
	userCode, err := newUserCode()
	if err != nil {
		s.serverError(w, err)
		return
	}
	now := s.now().UTC()
	rec := deviceRecord{
		Authority: authority, ClientID: tr.clientID, UserCode: userCode,
		Expires: now.Add(s.dcLife), Interval: int64(s.dcEvery / time.Second), Status: devicePending,
		Scope: f.Get("scope"), Resource: f.Get("resource"),
	}
	if rec.Interval < 1 {
		rec.Interval = 1
	}
	b, err := json.Marshal(rec)
	if err != nil {
		s.serverError(w, fmt.Errorf("identity: encode device code: %w", err))
		return
	}
	ctx := r.Context()
	key := hashKey(deviceCode)
	if err := s.grants.PutGrant(ctx, GrantDeviceCode, key, b, rec.Expires.Add(deviceGrace)); err != nil {
		s.serverError(w, fmt.Errorf("identity: store device code: %w", err))
		return
	}
	if err := s.grants.PutGrant(ctx, GrantUserCode, hashKey(normalizeUserCode(userCode)), []byte(key), rec.Expires); err != nil {
		s.serverError(w, fmt.Errorf("identity: store user code: %w", err))
		return
	}
	page := tr.base + "/device"
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":               deviceCode,
		"user_code":                 userCode,
		"verification_uri":          page,
		"verification_url":          page, // the v1 (ADAL) name
		"verification_uri_complete": page + "?code=" + userCode,
		"expires_in":                int64(s.dcLife / time.Second),
		"interval":                  rec.Interval,
		"message": fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.",
			page, userCode),
	})
}

// userCodeAlphabet has no vowels (no words) and no look-alike characters.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// newUserCode returns a code like "KDJF-QWXZ": 20^8 ≈ 2.6e10 values, enough
// for codes that live minutes behind a form that checks a password.
func newUserCode() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("identity: random: %w", err)
	}
	for i := range b {
		// 256 is not a multiple of 20: the bias (under 4%) does not matter here.
		b[i] = userCodeAlphabet[int(b[i])%len(userCodeAlphabet)]
	}
	return string(b[:4]) + "-" + string(b[4:]), nil
}

// normalizeUserCode makes typed codes comparable: upper case, no dashes or spaces.
func normalizeUserCode(s string) string {
	s = strings.ToUpper(s)
	return strings.NewReplacer("-", "", " ", "").Replace(s)
}

// deviceCodeGrant is the device access token request (RFC 8628 §3.4-3.5).
func (s *Service) deviceCodeGrant(ctx context.Context, w http.ResponseWriter, tr *tokenRequest, code string) {
	if code == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "device_code is missing.")
		return
	}
	key := hashKey(code)
	b, err := s.grants.GetGrant(ctx, GrantDeviceCode, key)
	if partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "The device code is unknown, expired or already used. Start the sign-in again.")
		return
	} else if err != nil {
		s.serverError(w, fmt.Errorf("identity: read device code: %w", err))
		return
	}
	var rec deviceRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		s.serverError(w, fmt.Errorf("identity: decode device code: %w", err))
		return
	}
	if rec.ClientID != tr.clientID || rec.Authority != tr.authority {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "The device code was issued to another client or authority.")
		return
	}
	now := s.now().UTC()
	switch {
	case !now.Before(rec.Expires):
		s.grants.TakeGrant(ctx, GrantDeviceCode, key) // clean up; the answer is the same either way
		writeOAuthError(w, http.StatusBadRequest, "expired_token", "The device code expired before the user approved the sign-in. Start the sign-in again.")
	case rec.Status == deviceDenied:
		s.grants.TakeGrant(ctx, GrantDeviceCode, key)
		writeOAuthError(w, http.StatusBadRequest, "access_denied", "The user denied the sign-in request.")
	case rec.Status == devicePending:
		code, desc := "authorization_pending", "The user has not yet approved the sign-in at the verification page."
		// A poll sooner than the interval (less a second for network
		// jitter) is told to slow down, and the interval grows by 5 s.
		if !rec.LastPoll.IsZero() && now.Sub(rec.LastPoll) < time.Duration(rec.Interval)*time.Second-time.Second {
			code, desc = "slow_down", "Polling too fast: wait the interval between requests (it grew by 5 seconds)."
			rec.Interval += 5
		}
		rec.LastPoll = now
		nb, err := json.Marshal(rec)
		if err != nil {
			s.serverError(w, fmt.Errorf("identity: encode device code: %w", err))
			return
		}
		if err := s.grants.UpdateGrant(ctx, GrantDeviceCode, key, nb); err != nil && partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
			s.serverError(w, fmt.Errorf("identity: update device code: %w", err))
			return
		}
		writeOAuthError(w, http.StatusBadRequest, code, desc)
	case rec.Status == deviceApproved:
		if _, err := s.grants.TakeGrant(ctx, GrantDeviceCode, key); partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "The device code was already redeemed.")
			return
		} else if err != nil {
			s.serverError(w, fmt.Errorf("identity: consume device code: %w", err))
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
		if err1 != nil || err2 != nil || !home.ActiveAt(now) || !target.ActiveAt(now) {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "The account that approved the sign-in is disabled or deleted.")
			return
		}
		s.issue(ctx, w, tr, subject{p: *target, home: home, authTime: rec.AuthTime}, false)
	default:
		s.serverError(w, fmt.Errorf("identity: device code in unknown state %q", rec.Status))
	}
}

// deviceFormCookie carries the per-render form token: a POST must present
// the same token in the cookie and the form, and the token must be one this
// server rendered and not yet used.
const deviceFormCookie = "partnerlink_device_form"

var devicePage = template.Must(template.New("device").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>partnerlink sign-in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}
label{display:block;margin-top:1rem}input{width:100%;padding:.4rem;box-sizing:border-box}
.err{color:#a00}.ok{color:#060}button{margin-top:1.2rem;padding:.5rem 1rem}</style></head>
<body><h1>Sign in to partnerlink</h1>
{{if .Done}}<p class="ok">{{.Done}}</p><p>You can close this window.</p>{{else}}
<p>Enter the code shown by the application on your device, then sign in with your account.</p>
{{if .Error}}<p class="err">{{.Error}}</p>{{end}}
<form method="post" action="/device">
<input type="hidden" name="form_token" value="{{.Token}}">
<label>Code <input name="user_code" value="{{.Code}}" autocomplete="off" required></label>
<label>Sign-in name <input name="username" value="{{.Username}}" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button name="action" value="approve" type="submit">Sign in</button>
<button name="action" value="deny" type="submit">Deny</button>
</form>{{end}}</body></html>`))

type devicePageData struct {
	Token, Code, Username, Error, Done string
}

// deviceForm renders the approval form with a new form token.
func (s *Service) deviceForm(w http.ResponseWriter, r *http.Request) {
	s.renderDevicePage(w, r, http.StatusOK, devicePageData{Code: r.URL.Query().Get("code")})
}

func (s *Service) renderDevicePage(w http.ResponseWriter, r *http.Request, status int, d devicePageData) {
	if d.Done == "" {
		tok, err := randomString(24)
		if err != nil {
			s.serverError(w, err)
			return
		}
		if err := s.grants.PutGrant(r.Context(), GrantDeviceForm, hashKey(tok), []byte("1"), s.now().Add(30*time.Minute)); err != nil {
			s.serverError(w, fmt.Errorf("identity: store form token: %w", err))
			return
		}
		http.SetCookie(w, &http.Cookie{Name: deviceFormCookie, Value: tok, Path: "/device",
			HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode, MaxAge: 1800})
		d.Token = tok
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if err := devicePage.Execute(w, d); err != nil {
		s.log.Error("identity: render device page", "err", err)
	}
}

// deviceSubmit approves or denies a device code.
func (s *Service) deviceSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.renderDevicePage(w, r, http.StatusBadRequest, devicePageData{Error: "The form could not be read; try again."})
		return
	}
	ctx := r.Context()
	f := r.PostForm
	d := devicePageData{Code: f.Get("user_code"), Username: f.Get("username")}
	tok := f.Get("form_token")
	c, err := r.Cookie(deviceFormCookie)
	if tok == "" || err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(tok)) != 1 {
		d.Error = "The form expired or was not sent from this page; enter your details again."
		s.renderDevicePage(w, r, http.StatusForbidden, d)
		return
	}
	if _, err := s.grants.TakeGrant(ctx, GrantDeviceForm, hashKey(tok)); partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND {
		d.Error = "The form expired or was already used; enter your details again."
		s.renderDevicePage(w, r, http.StatusForbidden, d)
		return
	} else if err != nil {
		s.serverError(w, fmt.Errorf("identity: consume form token: %w", err))
		return
	}
	dkey, err := s.grants.GetGrant(ctx, GrantUserCode, hashKey(normalizeUserCode(d.Code)))
	if partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND {
		d.Error = "That code is not valid or has expired. Check the code shown on your device, or start the sign-in again."
		s.renderDevicePage(w, r, http.StatusBadRequest, d)
		return
	} else if err != nil {
		s.serverError(w, fmt.Errorf("identity: read user code: %w", err))
		return
	}
	key := string(dkey)
	b, err := s.grants.GetGrant(ctx, GrantDeviceCode, key)
	if err != nil && partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		s.serverError(w, fmt.Errorf("identity: read device code: %w", err))
		return
	}
	var rec deviceRecord
	if err == nil {
		if err := json.Unmarshal(b, &rec); err != nil {
			s.serverError(w, fmt.Errorf("identity: decode device code: %w", err))
			return
		}
	}
	now := s.now().UTC()
	if err != nil || rec.Status != devicePending || !now.Before(rec.Expires) {
		d.Error = "That code has already been used or has expired. Start the sign-in again on your device."
		s.renderDevicePage(w, r, http.StatusBadRequest, d)
		return
	}
	if f.Get("action") == "deny" {
		rec.Status = deviceDenied
		if err := s.saveDevice(ctx, key, rec); err != nil {
			s.serverError(w, err)
			return
		}
		s.grants.TakeGrant(ctx, GrantUserCode, hashKey(normalizeUserCode(d.Code)))
		d.Done = "You denied the sign-in request. The application on your device will not be signed in."
		s.renderDevicePage(w, r, http.StatusOK, d)
		return
	}
	home, target, status, refusal, err := s.signInAt(ctx, w, r, d.Username, f.Get("password"), rec.Authority,
		"The sign-in name or password is not correct.")
	if err != nil {
		s.serverError(w, err)
		return
	}
	if refusal != "" {
		d.Error = refusal
		s.renderDevicePage(w, r, status, d)
		return
	}
	rec.Status = deviceApproved
	rec.HomeTenantID, rec.HomeObjectID = home.TenantID, home.ObjectID
	rec.TenantID, rec.ObjectID = target.TenantID, target.ObjectID
	rec.AuthTime = now
	if err := s.saveDevice(ctx, key, rec); err != nil {
		s.serverError(w, err)
		return
	}
	s.grants.TakeGrant(ctx, GrantUserCode, hashKey(normalizeUserCode(d.Code)))
	d.Done = fmt.Sprintf("You signed in as %s in tenant %s. The application on your device is now signed in.", signInName(*home), target.TenantID)
	s.renderDevicePage(w, r, http.StatusOK, d)
}

func (s *Service) saveDevice(ctx context.Context, key string, rec deviceRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("identity: encode device code: %w", err)
	}
	if err := s.grants.UpdateGrant(ctx, GrantDeviceCode, key, b); err != nil {
		return fmt.Errorf("identity: update device code: %w", err)
	}
	return nil
}

// deviceScope is the scope and resource a device code was asked for, ""
// when the code is unknown (the grant then refuses it).
func (s *Service) deviceScope(ctx context.Context, code string) (string, string) {
	b, err := s.grants.GetGrant(ctx, GrantDeviceCode, hashKey(code))
	if err != nil {
		return "", ""
	}
	var rec deviceRecord
	json.Unmarshal(b, &rec)
	return rec.Scope, rec.Resource
}
