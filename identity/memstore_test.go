package identity_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/identity"
	"golang.org/x/crypto/bcrypt"
)

// memStore is an in-memory identity.Directory and identity.GrantStore for
// tests. It counts Principal reads so tests can see the validator's cache.
type memStore struct {
	mu         sync.Mutex
	now        func() time.Time
	tenants    map[string]partnerlink.Tenant
	principals map[string]partnerlink.Principal // key tenant/object
	secrets    map[string][]string
	grants     map[string]memGrant
	reads      int
}

type memGrant struct {
	value   []byte
	expires time.Time
}

func newMemStore(now func() time.Time) *memStore {
	return &memStore{now: now, tenants: map[string]partnerlink.Tenant{},
		principals: map[string]partnerlink.Principal{}, secrets: map[string][]string{}, grants: map[string]memGrant{}}
}

func notFound(what string) error {
	return partnerlink.Errorf(partnerlink.ENOTFOUND, "%s not found", what)
}

func (m *memStore) addTenant(id, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tenants[id] = partnerlink.Tenant{ID: id, Name: name}
}

// addPrincipal stores p and, when secret is not empty, its bcrypt hash.
func (m *memStore) addPrincipal(t testing.TB, p partnerlink.Principal, secret string) {
	t.Helper()
	if p.SignInName == "" && p.Type == partnerlink.PrincipalUser {
		p.SignInName = p.DisplayName
	}
	m.mu.Lock()
	m.principals[p.TenantID+"/"+p.ObjectID] = p
	m.mu.Unlock()
	if secret != "" {
		// bcrypt's minimum cost: CheckSecret reads the cost from the hash, so
		// the rules are the same and each sign-in costs milliseconds, not a
		// second under -race (identity.HashSecret's cost is tested on its own).
		h, err := bcrypt.GenerateFromPassword([]byte(secret), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		m.mu.Lock()
		m.secrets[p.TenantID+"/"+p.ObjectID] = append(m.secrets[p.TenantID+"/"+p.ObjectID], string(h))
		m.mu.Unlock()
	}
}

// setSecret replaces the principal's secrets with secret (a password
// change), hashed anew.
func (m *memStore) setSecret(t testing.TB, tenantID, objectID, secret string) {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(secret), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.secrets[tenantID+"/"+objectID] = []string{string(h)}
}

// endPrincipal closes the principal's period at 'at' (delete or disable).
func (m *memStore) endPrincipal(tenantID, objectID string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.principals[tenantID+"/"+objectID]
	p.Period.To = at
	m.principals[tenantID+"/"+objectID] = p
}

func (m *memStore) renamePrincipal(tenantID, objectID, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.principals[tenantID+"/"+objectID]
	p.DisplayName = name
	m.principals[tenantID+"/"+objectID] = p
}

func (m *memStore) principalReads() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reads
}

func (m *memStore) Tenant(ctx context.Context, id string) (*partnerlink.Tenant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tenants[id]
	if !ok {
		return nil, notFound("tenant")
	}
	return &t, nil
}

func (m *memStore) Principal(ctx context.Context, tenantID, objectID string) (*partnerlink.Principal, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	p, ok := m.principals[tenantID+"/"+objectID]
	if !ok {
		return nil, notFound("principal")
	}
	return &p, nil
}

func (m *memStore) ServicePrincipalsByAppID(ctx context.Context, appID string) ([]partnerlink.Principal, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []partnerlink.Principal
	for _, p := range m.principals {
		if p.Type == partnerlink.PrincipalServicePrincipal && strings.EqualFold(p.AppID, appID) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (m *memStore) UsersBySignInName(ctx context.Context, name string) ([]partnerlink.Principal, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []partnerlink.Principal
	for _, p := range m.principals {
		if p.Type == partnerlink.PrincipalUser && strings.EqualFold(p.SignInName, name) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (m *memStore) GuestsOf(ctx context.Context, homeTenantID, homeObjectID string) ([]partnerlink.Principal, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	home, ok := m.principals[homeTenantID+"/"+homeObjectID]
	if !ok {
		return nil, nil
	}
	var out []partnerlink.Principal
	for _, p := range m.principals {
		if identity.GuestOf(p, home) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (m *memStore) SecretHashes(ctx context.Context, tenantID, objectID string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.secrets[tenantID+"/"+objectID]...), nil
}

func (m *memStore) PutGrant(ctx context.Context, kind, key string, value []byte, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.grants[kind+"/"+key] = memGrant{append([]byte(nil), value...), expires}
	return nil
}

func (m *memStore) getLocked(kind, key string) (memGrant, error) {
	g, ok := m.grants[kind+"/"+key]
	if !ok || !m.now().Before(g.expires) {
		return memGrant{}, notFound("grant")
	}
	return g, nil
}

func (m *memStore) GetGrant(ctx context.Context, kind, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, err := m.getLocked(kind, key)
	return g.value, err
}

func (m *memStore) TakeGrant(ctx context.Context, kind, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, err := m.getLocked(kind, key)
	if err != nil {
		return nil, err
	}
	delete(m.grants, kind+"/"+key)
	return g.value, nil
}

func (m *memStore) UpdateGrant(ctx context.Context, kind, key string, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, err := m.getLocked(kind, key)
	if err != nil {
		return err
	}
	g.value = append([]byte(nil), value...)
	m.grants[kind+"/"+key] = g
	return nil
}

var (
	_ identity.Directory  = (*memStore)(nil)
	_ identity.GrantStore = (*memStore)(nil)
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// The test world: tenant A (Fabrikam, the partner's home) and tenant B
// (Contoso, a customer), with users, guests and service principals.
const (
	tenantA = "aaaaaaaa-0000-4000-8000-000000000001"
	tenantB = "bbbbbbbb-0000-4000-8000-000000000002"
	tenantC = "cccccccc-0000-4000-8000-000000000003"

	anaA      = "a0000000-0000-4000-8000-0000000000a1" // ana@fabrikam.example, user of A
	anaGuestB = "b0000000-0000-4000-8000-0000000000b1" // ana's guest in B, by HomeObjectID
	bobA      = "a0000000-0000-4000-8000-0000000000a2" // bob@fabrikam.example, user of A
	bobGuestB = "b0000000-0000-4000-8000-0000000000b2" // bob's guest in B, by naming convention
	carolB    = "b0000000-0000-4000-8000-0000000000b3" // carol@contoso.example, user of B

	appID      = "11111111-2222-4333-8444-555555555555" // multi-tenant app, home A
	spA        = "a0000000-0000-4000-8000-0000000000c1"
	spB        = "b0000000-0000-4000-8000-0000000000c2" // same app in B, no own secret
	disabledID = "99999999-2222-4333-8444-555555555555" // app whose SP in A is disabled
	spDisabled = "a0000000-0000-4000-8000-0000000000c3"

	cliClient = "04b07795-8ddb-461a-bbee-02f9e1bf7b46" // a public client id
	armScope  = "https://management.core.windows.net//.default"
	secret    = "s3cret-value"
	password  = "correct horse battery staple"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// harness is a token service on a TLS test server over memStore.
type harness struct {
	clock *clock
	store *memStore
	keys  *identity.KeySet
	svc   *identity.Service
	val   *identity.Validator
	srv   *httptest.Server
	url   string
	// keyDir holds the key files.
	keyDir string
	// api answers the paths that are not the token service's.
	api http.Handler
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{clock: &clock{t: t0}}
	h.store = newMemStore(h.clock.Now)
	seedWorld(t, h.store)
	h.keyDir = t.TempDir() + "/keys"
	// 1024-bit keys: generating a 2048-bit key took seconds under -race in
	// every test, and the tests are about the token rules, not key strength.
	keys, err := identity.OpenKeys(h.keyDir, identity.KeyOptions{Now: h.clock.Now, Bits: 1024})
	if err != nil {
		t.Fatal(err)
	}
	h.keys = keys
	var handler http.Handler
	// Like the server: identity paths go to the token service, the rest
	// to h.api when a test sets it.
	h.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.api != nil && !identity.IsIdentityPath(r.URL.Path) {
			h.api.ServeHTTP(w, r)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(h.srv.Close)
	h.url = h.srv.URL
	h.svc, err = identity.NewService(identity.Config{
		BaseURLs: []string{h.url}, Directory: h.store, Grants: h.store, Keys: keys, Now: h.clock.Now,
		DeviceCodeInterval: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	handler = h.svc
	h.val, err = identity.NewValidator(identity.ValidatorConfig{
		BaseURLs: []string{h.url}, Keys: keys, Directory: h.store, Now: h.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func seedWorld(t testing.TB, m *memStore) {
	m.addTenant(tenantA, "Fabrikam")
	m.addTenant(tenantB, "Contoso")
	m.addTenant(tenantC, "Northwind")
	m.addPrincipal(t, partnerlink.Principal{TenantID: tenantA, ObjectID: anaA, Type: partnerlink.PrincipalUser, DisplayName: "ana@fabrikam.example"}, password)
	m.addPrincipal(t, partnerlink.Principal{TenantID: tenantB, ObjectID: anaGuestB, Type: partnerlink.PrincipalGuest,
		DisplayName: "Ana (Fabrikam)", HomeTenantID: tenantA, HomeObjectID: anaA}, "")
	m.addPrincipal(t, partnerlink.Principal{TenantID: tenantA, ObjectID: bobA, Type: partnerlink.PrincipalUser, DisplayName: "bob@fabrikam.example"}, "bobs password")
	m.addPrincipal(t, partnerlink.Principal{TenantID: tenantB, ObjectID: bobGuestB, Type: partnerlink.PrincipalGuest,
		DisplayName: "bob_fabrikam.example#EXT#@contoso.onmicrosoft.com"}, "")
	m.addPrincipal(t, partnerlink.Principal{TenantID: tenantB, ObjectID: carolB, Type: partnerlink.PrincipalUser, DisplayName: "carol@contoso.example"}, "carols password")
	m.addPrincipal(t, partnerlink.Principal{TenantID: tenantA, ObjectID: spA, Type: partnerlink.PrincipalServicePrincipal,
		DisplayName: "deployer", AppID: appID, HomeTenantID: tenantA}, secret)
	m.addPrincipal(t, partnerlink.Principal{TenantID: tenantB, ObjectID: spB, Type: partnerlink.PrincipalServicePrincipal,
		DisplayName: "deployer", AppID: appID, HomeTenantID: tenantA}, "")
	m.addPrincipal(t, partnerlink.Principal{TenantID: tenantA, ObjectID: spDisabled, Type: partnerlink.PrincipalServicePrincipal,
		DisplayName: "old", AppID: disabledID, HomeTenantID: tenantA,
		Period: partnerlink.Period{From: t0.Add(-48 * time.Hour), To: t0.Add(-time.Hour)}}, secret)
}
