// Package client is the partnerlink CLI's side of sign-in: it signs in to a
// partnerlink server's token service (device code, username and password,
// or a service principal secret), keeps the session and its access tokens
// in a per-user cache, and hands other commands a bearer token for any
// tenant the credential can reach.
//
//	s, err := client.Load(dir)                 // dir from client.DefaultConfigDir()
//	tok, err := s.Token(ctx, tenantID)         // "" = the session's tenant
//	req.Header.Set("Authorization", "Bearer "+tok)
//	resp, err := s.HTTPClient().Do(req)        // trusts the server's CA
//
// The cache is a plain JSON file, session.json (mode 0600, in a 0700
// directory): it holds the refresh token or the service principal's secret
// unencrypted, like az CLI's ~/.azure on Linux. Protect the directory as
// you would an SSH key.
package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/partnerlink/partnerlink"
)

// ClientID is the application id the partnerlink CLI signs users in with (a
// public client: it has no secret).
const ClientID = "3c2b8a51-6f0e-4d7a-9b1c-2e4f6a8d0c13"

// DefaultServer is the server URL when neither --server nor
// PARTNERLINK_SERVER says otherwise.
const DefaultServer = "https://127.0.0.1:8443"

// Scope asks for an Azure Resource Manager token (the audience the
// partnerlink API accepts), an ID token and a refresh token.
const Scope = "https://management.core.windows.net//.default openid profile offline_access"

// sessionFileName is the cache file inside the config directory.
const sessionFileName = "session.json"

// refreshMargin: a cached access token with less time left is renewed.
const refreshMargin = 5 * time.Minute

// Kinds of session.
const (
	KindUser             = "user"
	KindServicePrincipal = "servicePrincipal"
)

// Options says where the server is, what to trust and where to keep the
// session.
type Options struct {
	// Server is the server's base URL; DefaultServer when empty.
	Server string
	// CAFile is a PEM bundle of the certificate authorities to trust for
	// the server (the server's DIR/ca.pem); system roots when empty. Its
	// contents are kept in the session, so later commands need no flag.
	CAFile string
	// ConfigDir holds the session; DefaultConfigDir() when empty.
	ConfigDir string
}

// DefaultConfigDir is $PARTNERLINK_CONFIG_DIR, or ~/.partnerlink.
func DefaultConfigDir() (string, error) {
	if d := os.Getenv("PARTNERLINK_CONFIG_DIR"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("client: find the home directory for ~/.partnerlink (or set PARTNERLINK_CONFIG_DIR): %w", err)
	}
	return filepath.Join(home, ".partnerlink"), nil
}

// Account describes who a session is signed in as.
type Account struct {
	Kind string // KindUser or KindServicePrincipal
	// Name is the user's sign-in name, or the service principal's app id.
	Name string
	// HomeTenantID and ObjectID are the user's home tenant and object id,
	// or the service principal's tenant and object id.
	HomeTenantID string
	ObjectID     string
}

// Session is a signed-in credential with its token cache. Its methods are
// safe for concurrent use; token refreshes are serialized because each
// refresh token is single-use.
type Session struct {
	dir    string
	client *http.Client

	mu sync.Mutex
	f  sessionFile
}

type sessionFile struct {
	Version      int                    `json:"version"`
	Server       string                 `json:"server"`
	CAPEM        string                 `json:"caPem,omitempty"`
	Kind         string                 `json:"kind"`
	TenantID     string                 `json:"tenantId"`     // the tenant signed in to
	HomeTenantID string                 `json:"homeTenantId"` // user: home tenant; SP: its tenant
	ObjectID     string                 `json:"objectId"`     // user: home object id; SP: object id
	Name         string                 `json:"name"`         // user: sign-in name; SP: app id
	ClientID     string                 `json:"clientId"`
	RefreshToken string                 `json:"refreshToken,omitempty"`
	ClientSecret string                 `json:"clientSecret,omitempty"`
	Tokens       map[string]cachedToken `json:"tokens"` // by tenant id
}

type cachedToken struct {
	AccessToken string    `json:"accessToken"`
	ExpiresOn   time.Time `json:"expiresOn"`
}

// Server returns the server's base URL, without a trailing slash.
func (s *Session) Server() string { return s.f.Server }

// HomeTenant returns the tenant the session signed in to: the --tenant of
// login, or the user's home tenant when none was given. Commands act in it
// by default.
func (s *Session) HomeTenant() string { return s.f.TenantID }

// Account returns who the session is signed in as.
func (s *Session) Account() Account {
	return Account{Kind: s.f.Kind, Name: s.f.Name, HomeTenantID: s.f.HomeTenantID, ObjectID: s.f.ObjectID}
}

// HTTPClient returns a client that trusts the server's CA (the CA file
// given at login) and nothing else, or the system roots when none was given.
func (s *Session) HTTPClient() *http.Client { return s.client }

// Authorize sets the Authorization header of req to a bearer token for
// tenantID ("" for HomeTenant).
func (s *Session) Authorize(req *http.Request, tenantID string) error {
	tok, err := s.Token(req.Context(), tenantID)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// OAuthError is an error answer of the token service.
type OAuthError struct {
	Status      int
	Code        string // "invalid_grant", "invalid_client", …
	Description string
}

func (e *OAuthError) Error() string {
	if e.Description == "" {
		return fmt.Sprintf("sign-in failed: %s (HTTP %d)", e.Code, e.Status)
	}
	return "sign-in failed: " + e.Description
}

// Token returns an access token for tenantID ("" for HomeTenant): the
// cached one while it has more than five minutes left, else a new one, by
// the refresh token (redeemable at every tenant where the user has an
// account, its guest accounts included) or by the service principal's
// secret. A tenant where the credential has no principal gives an
// *OAuthError with Code "invalid_grant" (user) or "unauthorized_client"
// (service principal), and leaves the session usable.
func (s *Session) Token(ctx context.Context, tenantID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tenantID == "" {
		tenantID = s.f.TenantID
	}
	tenantID = strings.ToLower(tenantID)
	if !partnerlink.IsGUID(tenantID) {
		return "", partnerlink.Errorf(partnerlink.EINVALID, "tenant %q is not a tenant id (a GUID)", tenantID)
	}
	if t, ok := s.f.Tokens[tenantID]; ok && time.Until(t.ExpiresOn) > refreshMargin {
		return t.AccessToken, nil
	}
	var tr *tokenResponse
	var err error
	switch s.f.Kind {
	case KindServicePrincipal:
		tr, err = requestToken(ctx, s.client, s.f.Server, tenantID, url.Values{
			"grant_type": {"client_credentials"}, "client_id": {s.f.Name}, "client_secret": {s.f.ClientSecret}})
	default:
		tr, err = s.refresh(ctx, tenantID)
	}
	if err != nil {
		return "", err
	}
	if tr.RefreshToken != "" {
		s.f.RefreshToken = tr.RefreshToken
	}
	s.f.Tokens[tenantID] = cachedToken{AccessToken: tr.AccessToken, ExpiresOn: tr.expiresOn()}
	if err := s.save(); err != nil {
		return "", err
	}
	return tr.AccessToken, nil
}

// refresh redeems the refresh token at tenantID. When the token was
// already used, another partnerlink process may have rotated it: the
// session file is read again and the newer token tried once.
func (s *Session) refresh(ctx context.Context, tenantID string) (*tokenResponse, error) {
	form := func(rt string) url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "client_id": {s.f.ClientID}, "refresh_token": {rt},
			"scope": {Scope}, "client_info": {"1"}}
	}
	tr, err := requestToken(ctx, s.client, s.f.Server, tenantID, form(s.f.RefreshToken))
	var oe *OAuthError
	if errors.As(err, &oe) && oe.Code == "invalid_grant" {
		if disk, rerr := readSessionFile(s.dir); rerr == nil && disk.RefreshToken != s.f.RefreshToken && disk.RefreshToken != "" {
			s.f.RefreshToken = disk.RefreshToken
			return requestToken(ctx, s.client, s.f.Server, tenantID, form(disk.RefreshToken))
		}
	}
	return tr, err
}

// Tenant is an entry of the server's tenant list.
type Tenant struct {
	ID          string `json:"id"`
	TenantID    string `json:"tenantId"`
	DisplayName string `json:"displayName"`
}

// Tenants lists the tenants where the credential has a principal (GET
// /tenants of the ARM API, with a token of HomeTenant).
func (s *Session) Tenants(ctx context.Context) ([]Tenant, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.f.Server+"/tenants?api-version=2022-12-01", nil)
	if err != nil {
		return nil, fmt.Errorf("client: list tenants: %w", err)
	}
	if err := s.Authorize(req, ""); err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: list tenants: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("client: list tenants: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("client: list tenants: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	var page struct {
		Value []Tenant `json:"value"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, fmt.Errorf("client: list tenants: decode: %w", err)
	}
	return page.Value, nil
}

// Load reads the session in configDir. When there is none it returns an
// EUNAUTHORIZED *partnerlink.Error that tells the user to sign in.
func Load(configDir string) (*Session, error) {
	f, err := readSessionFile(configDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, partnerlink.Errorf(partnerlink.EUNAUTHORIZED, "not signed in: run 'partnerlink login --tenant <tenant-id>' first")
	}
	if err != nil {
		return nil, err
	}
	c, err := newHTTPClient([]byte(f.CAPEM))
	if err != nil {
		return nil, err
	}
	if f.Tokens == nil {
		f.Tokens = map[string]cachedToken{}
	}
	return &Session{dir: configDir, client: c, f: *f}, nil
}

// Logout deletes the session in configDir. Signing out when not signed in
// is not an error.
func Logout(configDir string) error {
	err := os.Remove(filepath.Join(configDir, sessionFileName))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("client: delete session: %w", err)
	}
	return nil
}

func readSessionFile(dir string) (*sessionFile, error) {
	b, err := os.ReadFile(filepath.Join(dir, sessionFileName))
	if err != nil {
		return nil, err
	}
	var f sessionFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("client: read session %s: %w (sign in again with partnerlink login)", filepath.Join(dir, sessionFileName), err)
	}
	return &f, nil
}

// save writes the session atomically (temporary file, rename), mode 0600.
func (s *Session) save() error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("client: create %s: %w", s.dir, err)
	}
	b, err := json.MarshalIndent(s.f, "", "  ")
	if err != nil {
		return fmt.Errorf("client: encode session: %w", err)
	}
	tmp, err := os.CreateTemp(s.dir, ".session-*")
	if err != nil {
		return fmt.Errorf("client: save session: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("client: save session: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("client: save session: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("client: save session: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.dir, sessionFileName)); err != nil {
		return fmt.Errorf("client: save session: %w", err)
	}
	return nil
}

// newHTTPClient trusts caPEM when given, the system roots otherwise.
func newHTTPClient(caPEM []byte) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if len(caPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, partnerlink.Errorf(partnerlink.EINVALID, "the CA file holds no PEM certificate")
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}, nil
}

// tokenResponse is the token endpoint's success answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
	ClientInfo   string `json:"client_info"`
	received     time.Time
}

func (t *tokenResponse) expiresOn() time.Time {
	return t.received.Add(time.Duration(t.ExpiresIn) * time.Second)
}

// requestToken posts a token request to {server}/{tenant}/oauth2/v2.0/token.
// Every grant asks for the ARM scope.
func requestToken(ctx context.Context, c *http.Client, server, tenant string, form url.Values) (*tokenResponse, error) {
	if form.Get("scope") == "" {
		form.Set("scope", "https://management.core.windows.net//.default")
	}
	var tr tokenResponse
	if err := postForm(ctx, c, server+"/"+url.PathEscape(tenant)+"/oauth2/v2.0/token", form, &tr); err != nil {
		return nil, err
	}
	if tr.AccessToken == "" || tr.ExpiresIn <= 0 {
		return nil, fmt.Errorf("client: the token service answered without access_token or expires_in")
	}
	tr.received = time.Now()
	return &tr, nil
}

// postForm posts form to endpoint and decodes a 200 answer into out; an
// OAuth error answer becomes an *OAuthError.
func postForm(ctx context.Context, c *http.Client, endpoint string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		var unknownCA x509.UnknownAuthorityError
		if errors.As(err, &unknownCA) {
			return partnerlink.Errorf(partnerlink.EINVALID, "the server's certificate is not signed by a CA this CLI trusts: "+
				"give --ca-file the server's CA certificate (the path 'partnerlink serve' prints, DATA_DIR/ca.pem); "+
				"login keeps it with the session, so later commands need no flag")
		}
		return fmt.Errorf("client: cannot reach the partnerlink server (check --server and --ca-file): %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("client: read answer of %s: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return &OAuthError{Status: resp.StatusCode, Code: e.Error, Description: e.Description}
		}
		return fmt.Errorf("client: %s answered HTTP %d: %s", endpoint, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("client: decode answer of %s: %w", endpoint, err)
	}
	return nil
}

// tokenClaims reads the claims of our access token. The token came over
// TLS from the server the session trusts, so it is decoded, not verified:
// the server verifies it when it is used.
type tokenClaims struct {
	TenantID string `json:"tid"`
	ObjectID string `json:"oid"`
	UPN      string `json:"upn"`
}

func decodeClaims(raw string) (tokenClaims, error) {
	var c tokenClaims
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return c, fmt.Errorf("client: the access token is not a JWT: %w", err)
	}
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return c, fmt.Errorf("client: decode access token: %w", err)
	}
	return c, nil
}
