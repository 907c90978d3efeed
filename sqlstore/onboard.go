package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/partnerlink/partnerlink"
)

// Onboard writes o in one transaction: a failure at any step (including
// a link the decision refuses) leaves nothing of it. It returns the link
// and its event (nil when the link was re-affirmed without an event).
func (d *DB) Onboard(ctx context.Context, tenantID, objectID string, o partnerlink.Onboarding) (*partnerlink.Link, *partnerlink.LinkEvent, error) {
	c := &linkChange{ctx: ctx, tenantID: strings.ToLower(tenantID), objectID: strings.ToLower(objectID), at: o.At,
		actor: partnerlink.Caller{TenantID: strings.ToLower(tenantID), ObjectID: strings.ToLower(objectID)}, decide: o.Decide}
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if o.Principal != nil {
			if err := putPrincipal(ctx, tx, *o.Principal, 0); err != nil {
				return err
			}
			if err := addSecret(ctx, tx, o.Principal.TenantID, o.Principal.ObjectID, o.SecretHash, o.At); err != nil {
				return err
			}
		}
		if o.Assignment != nil {
			if err := insertRoleAssignment(ctx, tx, *o.Assignment, o.Actor); err != nil {
				return err
			}
		}
		if err := d.applyLinkChange(ctx, newPreparedTx(d, tx), c); err != nil {
			return err
		}
		return c.err // a refused link rolls back the principal and the assignment
	})
	if err != nil {
		return nil, nil, err
	}
	return c.link, c.event, nil
}
