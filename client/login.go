package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
)

// LoginServicePrincipal signs in as the service principal of application
// appID in tenant with a client secret (like az login --service-principal)
// and saves the session. The secret is kept in the session so that tokens
// for the tenant, and for other tenants where the app has a service
// principal, can be obtained later.
func LoginServicePrincipal(ctx context.Context, opts Options, tenant, appID, secret string) (*Session, error) {
	if !partnerlink.IsGUID(tenant) {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "--tenant %q is not valid: a service principal signs in to a tenant id (a GUID)", tenant)
	}
	if !partnerlink.IsGUID(appID) {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "--username %q is not valid: a service principal signs in with its application (client) id, a GUID", appID)
	}
	if secret == "" {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "--password is required: the service principal's client secret")
	}
	s, err := newSession(opts, KindServicePrincipal)
	if err != nil {
		return nil, err
	}
	tr, err := requestToken(ctx, s.client, s.f.Server, strings.ToLower(tenant), url.Values{
		"grant_type": {"client_credentials"}, "client_id": {appID}, "client_secret": {secret}})
	if err != nil {
		return nil, err
	}
	c, err := decodeClaims(tr.AccessToken)
	if err != nil {
		return nil, err
	}
	s.f.Name, s.f.ClientID, s.f.ClientSecret = strings.ToLower(appID), strings.ToLower(appID), secret
	s.f.TenantID, s.f.HomeTenantID, s.f.ObjectID = c.TenantID, c.TenantID, c.ObjectID
	return s, s.finish(tr)
}

// LoginPassword signs a user in with their sign-in name and password at
// tenant (a tenant id, or "" for the user's home tenant) and saves the
// session.
func LoginPassword(ctx context.Context, opts Options, tenant, username, password string) (*Session, error) {
	authority, err := userAuthority(tenant)
	if err != nil {
		return nil, err
	}
	if username == "" || password == "" {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "--username and --password are both required for a password sign-in")
	}
	s, err := newSession(opts, KindUser)
	if err != nil {
		return nil, err
	}
	tr, err := requestToken(ctx, s.client, s.f.Server, authority, url.Values{
		"grant_type": {"password"}, "client_id": {ClientID}, "username": {username}, "password": {password},
		"scope": {Scope}, "client_info": {"1"}})
	if err != nil {
		return nil, err
	}
	return s, s.finishUser(tr)
}

// DeviceCode is what the user must do to approve a device code sign-in.
type DeviceCode struct {
	VerificationURI string
	UserCode        string
	Message         string // a sentence saying both
	ExpiresIn       time.Duration
}

// LoginDeviceCode signs a user in with the device code flow (RFC 8628):
// it asks the server for a code, calls prompt so the user can be told where
// to enter it, polls until the user approves in a browser, then saves the
// session. tenant is a tenant id, or "" for the user's home tenant.
func LoginDeviceCode(ctx context.Context, opts Options, tenant string, prompt func(DeviceCode) error) (*Session, error) {
	authority, err := userAuthority(tenant)
	if err != nil {
		return nil, err
	}
	s, err := newSession(opts, KindUser)
	if err != nil {
		return nil, err
	}
	var dc struct {
		DeviceCode      string `json:"device_code"`
		UserCode        string `json:"user_code"`
		VerificationURI string `json:"verification_uri"`
		ExpiresIn       int64  `json:"expires_in"`
		Interval        int64  `json:"interval"`
		Message         string `json:"message"`
	}
	endpoint := s.f.Server + "/" + url.PathEscape(authority) + "/oauth2/v2.0/devicecode"
	if err := postForm(ctx, s.client, endpoint, url.Values{"client_id": {ClientID}, "scope": {Scope}}, &dc); err != nil {
		return nil, err
	}
	if dc.DeviceCode == "" || dc.UserCode == "" {
		return nil, errors.New("client: the device code answer has no device_code or user_code")
	}
	if err := prompt(DeviceCode{VerificationURI: dc.VerificationURI, UserCode: dc.UserCode, Message: dc.Message,
		ExpiresIn: time.Duration(dc.ExpiresIn) * time.Second}); err != nil {
		return nil, err
	}
	interval := time.Duration(max(dc.Interval, 1)) * time.Second
	deadline := time.Now().Add(time.Duration(dc.ExpiresIn) * time.Second)
	for {
		tr, err := requestToken(ctx, s.client, s.f.Server, authority, url.Values{
			"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {ClientID},
			"device_code": {dc.DeviceCode}, "scope": {Scope}, "client_info": {"1"}})
		if err == nil {
			return s, s.finishUser(tr)
		}
		var oe *OAuthError
		if !errors.As(err, &oe) {
			return nil, err
		}
		switch oe.Code {
		case "authorization_pending":
		case "slow_down":
			interval += 5 * time.Second // RFC 8628 §3.5
		default:
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, partnerlink.Errorf(partnerlink.EUNAUTHORIZED, "the device code expired before the sign-in was approved; run partnerlink login again")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(interval):
		}
	}
}

// userAuthority is the authority segment for a user sign-in.
func userAuthority(tenant string) (string, error) {
	if tenant == "" {
		return "organizations", nil
	}
	if !partnerlink.IsGUID(tenant) {
		return "", partnerlink.Errorf(partnerlink.EINVALID, "--tenant %q is not valid: give a tenant id (a GUID), or leave it out to sign in to your home tenant", tenant)
	}
	return strings.ToLower(tenant), nil
}

// newSession starts an unsaved session for opts.
func newSession(opts Options, kind string) (*Session, error) {
	server := strings.TrimSuffix(opts.Server, "/")
	if server == "" {
		server = DefaultServer
	}
	if u, err := url.Parse(server); err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "--server %q is not valid: it must be an https:// URL such as %s", opts.Server, DefaultServer)
	}
	dir := opts.ConfigDir
	if dir == "" {
		d, err := DefaultConfigDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	var caPEM []byte
	if opts.CAFile != "" {
		b, err := os.ReadFile(opts.CAFile)
		if err != nil {
			return nil, fmt.Errorf("client: read CA file: %w", err)
		}
		caPEM = b
	}
	c, err := newHTTPClient(caPEM)
	if err != nil {
		return nil, err
	}
	return &Session{dir: dir, client: c, f: sessionFile{Version: 1, Server: server, CAPEM: string(caPEM), Kind: kind,
		Tokens: map[string]cachedToken{}}}, nil
}

// finishUser records the user's identity from a token response and saves.
func (s *Session) finishUser(tr *tokenResponse) error {
	c, err := decodeClaims(tr.AccessToken)
	if err != nil {
		return err
	}
	if tr.RefreshToken == "" {
		return errors.New("client: the token service returned no refresh token")
	}
	s.f.ClientID, s.f.Name, s.f.TenantID = ClientID, c.UPN, c.TenantID
	// client_info names the home account (uid.utid), also when signing in
	// to a tenant where the user is a guest.
	s.f.HomeTenantID, s.f.ObjectID = c.TenantID, c.ObjectID
	if b, err := base64.RawURLEncoding.DecodeString(tr.ClientInfo); err == nil {
		var ci struct {
			UID  string `json:"uid"`
			UTID string `json:"utid"`
		}
		if json.Unmarshal(b, &ci) == nil && ci.UID != "" && ci.UTID != "" {
			s.f.HomeTenantID, s.f.ObjectID = ci.UTID, ci.UID
		}
	}
	s.f.RefreshToken = tr.RefreshToken
	return s.finish(tr)
}

// finish caches the login's access token and saves the session.
func (s *Session) finish(tr *tokenResponse) error {
	s.f.Tokens[s.f.TenantID] = cachedToken{AccessToken: tr.AccessToken, ExpiresOn: tr.expiresOn()}
	return s.save()
}
