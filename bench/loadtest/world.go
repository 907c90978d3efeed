package loadtest

import (
	"fmt"
	"sync"
	"time"

	"github.com/partnerlink/partnerlink/world"
	"golang.org/x/crypto/bcrypt"
)

// The partner registry of the generated world: one partner organization
// with two location IDs, the IDs customers are told to link (docs/rules.md#linking). The
// write phase alternates every principal between the two.
const (
	GlobalPartnerID = "7000000"
	PartnerA        = "7000001"
	PartnerB        = "7000002"
)

// Principal is a generated service principal with its credentials.
type Principal struct {
	TenantID string
	ObjectID string
	AppID    string
	Secret   string
}

// guid returns a deterministic, valid version-4 GUID for (kind, n).
func guid(kind, n int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", 0x0b000000+kind, n)
}

// generateWorld builds tenants tenants with principals service principals
// spread evenly over them; each service principal is its own single-tenant
// application with its own secret.
func generateWorld(tenants, principals int) (*world.Document, []Principal) {
	since := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	global := GlobalPartnerID
	doc := &world.Document{
		Version: world.CurrentVersion,
		Partners: []world.Partner{
			{PartnerID: GlobalPartnerID, Name: "Bench Partner", HomeTenantIDs: []string{}, From: &since},
			{PartnerID: PartnerA, Name: "Bench Partner North", GlobalPartnerID: &global, HomeTenantIDs: []string{}, From: &since},
			{PartnerID: PartnerB, Name: "Bench Partner South", GlobalPartnerID: &global, HomeTenantIDs: []string{}, From: &since},
		},
		ManagementGroups:       []world.ManagementGroup{},
		Subscriptions:          []world.Subscription{},
		GroupMemberships:       []world.GroupMembership{},
		RoleDefinitions:        []world.RoleDefinition{},
		RoleAssignments:        []world.RoleAssignment{},
		Delegations:            []world.Delegation{},
		Links:                  []world.Link{},
		Environments:           []world.Environment{},
		PowerPlatformResources: []world.PowerPlatformResource{},
		Ownership:              []world.Ownership{},
	}
	for t := 0; t < tenants; t++ {
		doc.Tenants = append(doc.Tenants, world.Tenant{TenantID: guid(1, t), Name: fmt.Sprintf("bench-tenant-%d", t)})
	}
	var ps []Principal
	for i := 0; i < principals; i++ {
		tenant := guid(1, i%tenants)
		p := Principal{TenantID: tenant, ObjectID: guid(2, i), AppID: guid(3, i), Secret: fmt.Sprintf("bench-secret-%d-%x", i, i*7919)}
		app, home := p.AppID, tenant
		doc.Principals = append(doc.Principals, world.Principal{TenantID: tenant, ObjectID: p.ObjectID,
			Type: "ServicePrincipal", DisplayName: fmt.Sprintf("bench-sp-%d", i), AppID: &app, HomeTenantID: &home,
			Secret: p.Secret})
		ps = append(ps, p)
	}
	return doc, ps
}

// bcryptHasher returns the hash function ImportWorld takes. The hashes are
// ordinary bcrypt hashes that identity.CheckSecret verifies (the cost is
// part of the hash); the low cost only makes importing thousands of
// generated secrets, and signing them in, take seconds instead of minutes.
// It is safe for concurrent use and hashes on all cores.
func bcryptHasher(cost int, secrets []string) (func(string) (string, error), error) {
	hashes := make(map[string]string, len(secrets))
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	next := make(chan string)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range next {
				h, err := bcrypt.GenerateFromPassword([]byte(s), cost)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				hashes[s] = string(h)
				mu.Unlock()
			}
		}()
	}
	for _, s := range secrets {
		next <- s
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return func(s string) (string, error) {
		if h, ok := hashes[s]; ok {
			return h, nil
		}
		b, err := bcrypt.GenerateFromPassword([]byte(s), cost)
		return string(b), err
	}, nil
}
