package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/partnerlink/partnerlink"
)

// Onboard writes o in one transaction: a failure at any step (including
// a link the decision refuses) leaves nothing of it. It returns the link
// and its event (nil when the link was re-affirmed without an event).
func (d *DB) Onboard(ctx context.Context, tenantID, objectID string, o partnerlink.Onboarding) (*partnerlink.Link, *partnerlink.LinkEvent, error) {
	c := &linkChange{ctx: ctx, tenantID: strings.ToLower(tenantID), objectID: strings.ToLower(objectID), at: o.At,
		actor: partnerlink.Caller{TenantID: strings.ToLower(tenantID), ObjectID: strings.ToLower(o.Actor)}, decide: o.Decide}
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.recheckOnboarding(ctx, tx, c.tenantID, c.objectID, o); err != nil {
			return err
		}
		if o.Principal != nil {
			if err := putPrincipal(ctx, tx, *o.Principal, 0); err != nil {
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

// recheckOnboarding holds the view o was decided on, under a lock on the
// (tenant, app) pair on PostgreSQL (SQLite runs one writer at a time): two
// runs of the accelerator at once would otherwise both create a service
// principal, or both add the assignment.
func (d *DB) recheckOnboarding(ctx context.Context, tx *sql.Tx, tenantID, objectID string, o partnerlink.Onboarding) error {
	if err := d.lockExclusive(ctx, tx, "onboard/"+tenantID+"/"+strings.ToLower(o.AppID)); err != nil {
		return err
	}
	if o.Principal != nil {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM principals WHERE tenant_id = $1 AND app_id = $2 AND type = $3`,
			tenantID, strings.ToLower(o.AppID), string(partnerlink.PrincipalServicePrincipal)).Scan(&n); err != nil {
			return fmt.Errorf("store: recheck the service principal: %w", err)
		}
		if n > 0 {
			return partnerlink.ErrOnboardingRaced
		}
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM role_assignments WHERE tenant_id = $1 AND lower(principal_id) = $2 AND valid_to IS NULL`,
		tenantID, objectID)
	if err != nil {
		return fmt.Errorf("store: recheck the role assignments: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("store: recheck the role assignments: %w", err)
		}
		ids = append(ids, strings.ToLower(id))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: recheck the role assignments: %w", err)
	}
	seen := make([]string, len(o.SeenAssignments))
	for i, id := range o.SeenAssignments {
		seen[i] = strings.ToLower(id)
	}
	slices.Sort(ids)
	slices.Sort(seen)
	if !slices.Equal(ids, seen) {
		return partnerlink.ErrOnboardingRaced
	}
	return nil
}
