package powerplatform

import (
	"context"

	"github.com/partnerlink/partnerlink"
)

// Store keeps the Power Platform state: environments, resources and their
// ownership history, changed in transactions with an audit of each change.
// sqlstore implements it on SQLite and PostgreSQL; the API and the CLI use it.
type Store interface {
	PutEnvironment(ctx context.Context, e Environment) error
	Environments(ctx context.Context, tenantID string) ([]Environment, error)
	Environment(ctx context.Context, tenantID, environmentID string) (*Environment, error) // ENOTFOUND
	PutPowerPlatformResource(ctx context.Context, r Resource) error
	PowerPlatformResource(ctx context.Context, id string) (*Resource, error) // ENOTFOUND
	PowerPlatformResources(ctx context.Context, tenantID, environmentID string) ([]Resource, error)
	OwnershipHistory(ctx context.Context, resourceID string) (History, error)
	// ChangeOwnership reads each resource and its history, asks decide for
	// the new histories (an error refuses the change and changes nothing),
	// writes the difference and records ev for each resource.
	ChangeOwnership(ctx context.Context, resourceIDs []string, ev partnerlink.OwnershipEvent,
		decide func(components []Component) ([]History, error)) ([]Component, error)
	OwnershipEvents(ctx context.Context, resourceID string) ([]partnerlink.OwnershipEvent, error)
}
