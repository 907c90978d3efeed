package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/powerplatform"
)

// Power Platform and Customer Insights state (docs/rules.md#power-platform): environments,
// resources and their ownership history. Environment and resource ids keep
// the casing they were first registered with and are compared
// case-insensitively. Ownership is a period table: a change closes periods
// and opens new ones at its instant, in one transaction, computed by the
// powerplatform package's change functions.

// PutEnvironment registers an environment of a tenant, or changes its type.
// The tenant must exist.
func (d *DB) PutEnvironment(ctx context.Context, e powerplatform.Environment) error {
	tenant, err := partnerlink.ParseGUID("tenant id", e.TenantID)
	if err != nil {
		return err
	}
	if e.ID == "" {
		return partnerlink.Errorf(partnerlink.EINVALID, "an environment needs an id")
	}
	if _, err := powerplatform.ParseEnvironmentType(string(e.Type)); err != nil {
		return err
	}
	return d.inWorldTx(ctx, func(tx *sql.Tx) error {
		var name string
		if err := tx.QueryRowContext(ctx, `SELECT name FROM tenants WHERE tenant_id = $1`, tenant).Scan(&name); err != nil {
			return notFound(err, "tenant %s is not in the directory; add it first", tenant)
		}
		res, err := tx.ExecContext(ctx, `UPDATE environments SET type = $3 WHERE tenant_id = $1 AND lower(environment_id) = $2`,
			tenant, strings.ToLower(e.ID), string(e.Type))
		if err != nil {
			return fmt.Errorf("store: update environment %s: %w", e.ID, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO environments (tenant_id, environment_id, type) VALUES ($1, $2, $3)`,
			tenant, e.ID, string(e.Type)); err != nil {
			return fmt.Errorf("store: insert environment %s: %w", e.ID, err)
		}
		return nil
	})
}

// Environments lists the environments of a tenant ("" for every tenant),
// sorted by tenant and id.
func (d *DB) Environments(ctx context.Context, tenantID string) ([]powerplatform.Environment, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT tenant_id, environment_id, type FROM environments
		WHERE ($1 = '' OR tenant_id = $1) ORDER BY tenant_id, environment_id`, strings.ToLower(tenantID))
	if err != nil {
		return nil, fmt.Errorf("store: list environments: %w", err)
	}
	defer rows.Close()
	var out []powerplatform.Environment
	for rows.Next() {
		var e powerplatform.Environment
		var typ string
		if err := rows.Scan(&e.TenantID, &e.ID, &typ); err != nil {
			return nil, fmt.Errorf("store: read environment: %w", err)
		}
		e.Type = powerplatform.EnvironmentType(typ)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Environment returns one environment of a tenant; ENOTFOUND.
func (d *DB) Environment(ctx context.Context, tenantID, environmentID string) (*powerplatform.Environment, error) {
	var e powerplatform.Environment
	var typ string
	err := d.db.QueryRowContext(ctx, `SELECT tenant_id, environment_id, type FROM environments
		WHERE tenant_id = $1 AND lower(environment_id) = $2`, strings.ToLower(tenantID), strings.ToLower(environmentID)).
		Scan(&e.TenantID, &e.ID, &typ)
	if err != nil {
		return nil, notFound(err, "tenant %s has no environment %s", tenantID, environmentID)
	}
	e.Type = powerplatform.EnvironmentType(typ)
	return &e, nil
}

// PutPowerPlatformResource registers a resource in an environment of its
// tenant, or changes its paid flag. A resource stays in its tenant and
// environment, and keeps its kind once it has an ownership history (its
// history was validated against that kind).
func (d *DB) PutPowerPlatformResource(ctx context.Context, r powerplatform.Resource) error {
	tenant, err := partnerlink.ParseGUID("tenant id", r.TenantID)
	if err != nil {
		return err
	}
	if r.ID == "" {
		return partnerlink.Errorf(partnerlink.EINVALID, "a resource needs an id")
	}
	if _, err := powerplatform.ParseKind(string(r.Kind)); err != nil {
		return err
	}
	return d.inWorldTx(ctx, func(tx *sql.Tx) error {
		var envID string
		err := tx.QueryRowContext(ctx, `SELECT environment_id FROM environments WHERE tenant_id = $1 AND lower(environment_id) = $2`,
			tenant, strings.ToLower(r.EnvironmentID)).Scan(&envID)
		if err != nil {
			return notFound(err, "tenant %s has no environment %s; register the environment first", tenant, r.EnvironmentID)
		}
		old, err := resource(ctx, tx, r.ID)
		if err != nil && partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
			return err
		}
		if old == nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO pp_resources (id, tenant_id, environment_id, kind, paid) VALUES ($1, $2, $3, $4, $5)`,
				r.ID, tenant, envID, string(r.Kind), r.Paid); err != nil {
				return fmt.Errorf("store: insert resource %s: %w", r.ID, err)
			}
			return nil
		}
		if old.TenantID != tenant {
			// Resource ids are unique across tenants; say nothing of the
			// other tenant (docs/api.md#errors).
			return partnerlink.Errorf(partnerlink.ECONFLICT, "resource id %s is already in use; register the resource under another id", r.ID)
		}
		if !strings.EqualFold(old.EnvironmentID, envID) {
			return partnerlink.Errorf(partnerlink.ECONFLICT, "resource %s is already registered in environment %s of this tenant; a resource does not move, register the new one under another id",
				old.ID, old.EnvironmentID)
		}
		if old.Kind != r.Kind {
			h, err := history(ctx, tx, old.ID)
			if err != nil {
				return err
			}
			if len(h) > 0 {
				return partnerlink.Errorf(partnerlink.ECONFLICT, "resource %s is a %s with an ownership history; its kind cannot change to %s, register the new one under another id",
					old.ID, old.Kind, r.Kind)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pp_resources SET kind = $2, paid = $3 WHERE id = $1`, old.ID, string(r.Kind), r.Paid); err != nil {
			return fmt.Errorf("store: update resource %s: %w", r.ID, err)
		}
		return nil
	})
}

const resourceColumns = `id, tenant_id, environment_id, kind, paid`

func scanResources(rows *sql.Rows, err error) ([]powerplatform.Resource, error) {
	if err != nil {
		return nil, fmt.Errorf("store: query resources: %w", err)
	}
	defer rows.Close()
	var out []powerplatform.Resource
	for rows.Next() {
		var r powerplatform.Resource
		var kind string
		if err := rows.Scan(&r.ID, &r.TenantID, &r.EnvironmentID, &kind, &r.Paid); err != nil {
			return nil, fmt.Errorf("store: read resource: %w", err)
		}
		r.Kind = powerplatform.Kind(kind)
		out = append(out, r)
	}
	return out, rows.Err()
}

func resource(ctx context.Context, q queryer, id string) (*powerplatform.Resource, error) {
	rs, err := scanResources(q.QueryContext(ctx, `SELECT `+resourceColumns+` FROM pp_resources WHERE lower(id) = $1`, strings.ToLower(id)))
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, partnerlink.Errorf(partnerlink.ENOTFOUND, "Power Platform resource %s is not registered", id)
	}
	return &rs[0], nil
}

// PowerPlatformResource returns a resource by id (any casing); ENOTFOUND.
func (d *DB) PowerPlatformResource(ctx context.Context, id string) (*powerplatform.Resource, error) {
	return resource(ctx, d.db, id)
}

// PowerPlatformResources lists the resources of a tenant and environment
// ("" matches every one), sorted by tenant, environment and id.
func (d *DB) PowerPlatformResources(ctx context.Context, tenantID, environmentID string) ([]powerplatform.Resource, error) {
	return scanResources(d.db.QueryContext(ctx, `SELECT `+resourceColumns+` FROM pp_resources
		WHERE ($1 = '' OR tenant_id = $1) AND ($2 = '' OR lower(environment_id) = $2)
		ORDER BY tenant_id, environment_id, id`, strings.ToLower(tenantID), strings.ToLower(environmentID)))
}

// ownershipRow is a stored ownership period with its row id.
type ownershipRow struct {
	rowID int64
	powerplatform.Holding
}

func historyRows(ctx context.Context, q queryer, resourceID string) ([]ownershipRow, error) {
	rows, err := q.QueryContext(ctx, `SELECT row_id, principal_id, role, valid_from, valid_to FROM ownership
		WHERE lower(resource_id) = $1 ORDER BY row_id`, strings.ToLower(resourceID))
	if err != nil {
		return nil, fmt.Errorf("store: read ownership of %s: %w", resourceID, err)
	}
	defer rows.Close()
	var out []ownershipRow
	for rows.Next() {
		var o ownershipRow
		var role string
		var from, to sql.NullInt64
		if err := rows.Scan(&o.rowID, &o.PrincipalID, &role, &from, &to); err != nil {
			return nil, fmt.Errorf("store: read ownership of %s: %w", resourceID, err)
		}
		o.PrincipalID = strings.ToLower(o.PrincipalID)
		o.Role = powerplatform.Role(role)
		o.Period = partnerlink.Period{From: instant(from), To: instant(to)}
		out = append(out, o)
	}
	return out, rows.Err()
}

func history(ctx context.Context, q queryer, resourceID string) (powerplatform.History, error) {
	rows, err := historyRows(ctx, q, resourceID)
	if err != nil {
		return nil, err
	}
	h := make(powerplatform.History, len(rows))
	for i, r := range rows {
		h[i] = r.Holding
	}
	return h, nil
}

// OwnershipHistory returns the ownership history of a resource, in the
// order it was recorded; ENOTFOUND for an unknown resource.
func (d *DB) OwnershipHistory(ctx context.Context, resourceID string) (powerplatform.History, error) {
	if _, err := resource(ctx, d.db, resourceID); err != nil {
		return nil, err
	}
	return history(ctx, d.db, resourceID)
}

// ChangeOwnership applies one ownership change to one or more resources in
// a transaction: it reads each resource and its history, asks decide for
// the new histories (decide is one of the powerplatform change functions,
// and refuses by returning an error, which changes nothing), writes the
// difference — periods closed at the change's instant, periods opened at
// it — and records ev (its ResourceID set per resource) in the audit.
// Concurrent changes of the same resources are serialized.
func (d *DB) ChangeOwnership(ctx context.Context, resourceIDs []string, ev partnerlink.OwnershipEvent,
	decide func(components []powerplatform.Component) ([]powerplatform.History, error)) ([]powerplatform.Component, error) {
	if len(resourceIDs) == 0 {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "an ownership change needs at least one resource")
	}
	if ev.Action == "" || ev.At.IsZero() {
		return nil, fmt.Errorf("store: an ownership change needs its action and instant")
	}
	var out []powerplatform.Component
	err := d.inWorldTx(ctx, func(tx *sql.Tx) error {
		if err := d.lockResources(ctx, tx, resourceIDs); err != nil {
			return err
		}
		comps := make([]powerplatform.Component, len(resourceIDs))
		olds := make([][]ownershipRow, len(resourceIDs))
		for i, id := range resourceIDs {
			r, err := resource(ctx, tx, id)
			if err != nil {
				return err
			}
			rows, err := historyRows(ctx, tx, r.ID)
			if err != nil {
				return err
			}
			h := make(powerplatform.History, len(rows))
			for j, row := range rows {
				h[j] = row.Holding
			}
			comps[i], olds[i] = powerplatform.Component{Resource: *r, History: h}, rows
		}
		next, err := decide(comps)
		if err != nil {
			return err
		}
		if len(next) != len(comps) {
			return fmt.Errorf("store: ownership change returned %d histories for %d resources", len(next), len(comps))
		}
		for i, c := range comps {
			if err := powerplatform.ValidateHistory(c.Resource, next[i]); err != nil {
				return err
			}
			if err := writeHistory(ctx, tx, c.Resource.ID, olds[i], next[i]); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO ownership_events (resource_id, action, principal_id, actor, at)
				VALUES ($1, $2, $3, $4, $5)`, c.Resource.ID, ev.Action, strings.ToLower(ev.PrincipalID), ev.Actor, ev.At.UnixNano()); err != nil {
				return fmt.Errorf("store: record ownership change of %s: %w", c.Resource.ID, err)
			}
			out = append(out, powerplatform.Component{Resource: c.Resource, History: next[i]})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lockResources serializes changes of the same resources on PostgreSQL
// (SQLite transactions take the database's write lock at BEGIN). Locks are
// taken in sorted order so that two solution imports cannot deadlock.
func (d *DB) lockResources(ctx context.Context, tx *sql.Tx, ids []string) error {
	if d.dialect != Postgres {
		return nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = "pp/" + strings.ToLower(id)
	}
	slices.Sort(keys)
	for _, k := range slices.Compact(keys) {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, k); err != nil {
			return fmt.Errorf("store: lock resource: %w", err)
		}
	}
	return nil
}

// holdingKey identifies a period across the old and new history: who held
// which role from when (a change never moves a start).
type holdingKey struct {
	principal string
	role      powerplatform.Role
	from      int64
}

func keyOf(h powerplatform.Holding) holdingKey {
	var from int64
	if !h.Period.From.IsZero() {
		from = h.Period.From.UnixNano()
	}
	return holdingKey{h.PrincipalID, h.Role, from}
}

// writeHistory stores next in place of old: an ended period gets its end,
// a period that never held (dropped by the change) is deleted, a new one
// inserted. Periods that did not change are not touched.
func writeHistory(ctx context.Context, tx *sql.Tx, resourceID string, old []ownershipRow, next powerplatform.History) error {
	want := map[holdingKey]powerplatform.Holding{}
	for _, h := range next {
		want[keyOf(h)] = h
	}
	have := map[holdingKey]bool{}
	for _, o := range old {
		k := keyOf(o.Holding)
		have[k] = true
		n, ok := want[k]
		switch {
		case !ok:
			if _, err := tx.ExecContext(ctx, `DELETE FROM ownership WHERE row_id = $1`, o.rowID); err != nil {
				return fmt.Errorf("store: remove ownership period of %s: %w", resourceID, err)
			}
		case !n.Period.To.Equal(o.Period.To):
			if _, err := tx.ExecContext(ctx, `UPDATE ownership SET valid_to = $2 WHERE row_id = $1`, o.rowID, nanos(n.Period.To)); err != nil {
				return fmt.Errorf("store: close ownership period of %s: %w", resourceID, err)
			}
		}
	}
	for _, h := range next {
		if have[keyOf(h)] {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ownership (resource_id, principal_id, role, valid_from, valid_to)
			VALUES ($1, $2, $3, $4, $5)`, resourceID, h.PrincipalID, string(h.Role), nanos(h.Period.From), nanos(h.Period.To)); err != nil {
			return fmt.Errorf("store: open ownership period of %s: %w", resourceID, err)
		}
	}
	return nil
}

// OwnershipEvents lists the recorded ownership changes of a resource (any
// casing of its id), oldest first.
func (d *DB) OwnershipEvents(ctx context.Context, resourceID string) ([]partnerlink.OwnershipEvent, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT id, resource_id, action, principal_id, actor, at FROM ownership_events
		WHERE lower(resource_id) = $1 ORDER BY id`, strings.ToLower(resourceID))
	if err != nil {
		return nil, fmt.Errorf("store: read ownership events of %s: %w", resourceID, err)
	}
	defer rows.Close()
	var out []partnerlink.OwnershipEvent
	for rows.Next() {
		var e partnerlink.OwnershipEvent
		var at int64
		if err := rows.Scan(&e.ID, &e.ResourceID, &e.Action, &e.PrincipalID, &e.Actor, &at); err != nil {
			return nil, fmt.Errorf("store: read ownership event: %w", err)
		}
		e.At = time.Unix(0, at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
