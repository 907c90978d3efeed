package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
)

// PutSubscription creates or updates a subscription (its tenant, name and
// management group).
func (d *DB) PutSubscription(ctx context.Context, s partnerlink.Subscription) error {
	_, err := d.worldExec(ctx, `INSERT INTO subscriptions (subscription_id, tenant_id, name, management_group)
		VALUES ($1, $2, $3, $4) ON CONFLICT (subscription_id) DO UPDATE SET tenant_id = excluded.tenant_id,
		name = excluded.name, management_group = excluded.management_group`,
		strings.ToLower(s.SubscriptionID), strings.ToLower(s.TenantID), s.Name, s.ManagementGroup)
	if err != nil {
		return fmt.Errorf("store: put subscription %s: %w", s.SubscriptionID, err)
	}
	return nil
}

func scanSubscriptions(rows *sql.Rows, err error) ([]partnerlink.Subscription, error) {
	if err != nil {
		return nil, fmt.Errorf("store: query subscriptions: %w", err)
	}
	defer rows.Close()
	var out []partnerlink.Subscription
	for rows.Next() {
		var s partnerlink.Subscription
		if err := rows.Scan(&s.SubscriptionID, &s.TenantID, &s.Name, &s.ManagementGroup); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Subscription returns one subscription.
func (d *DB) Subscription(ctx context.Context, id string) (*partnerlink.Subscription, error) {
	ss, err := scanSubscriptions(d.db.QueryContext(ctx, `SELECT subscription_id, tenant_id, name, management_group
		FROM subscriptions WHERE subscription_id = $1`, strings.ToLower(id)))
	if err != nil {
		return nil, err
	}
	if len(ss) == 0 {
		return nil, partnerlink.ARMErrorf(partnerlink.ENOTFOUND, "SubscriptionNotFound", "The subscription '%s' could not be found.", id)
	}
	return &ss[0], nil
}

// Subscriptions lists the subscriptions of a tenant (all tenants when "").
func (d *DB) Subscriptions(ctx context.Context, tenantID string) ([]partnerlink.Subscription, error) {
	q := `SELECT subscription_id, tenant_id, name, management_group FROM subscriptions`
	if tenantID == "" {
		return scanSubscriptions(d.db.QueryContext(ctx, q+` ORDER BY subscription_id`))
	}
	return scanSubscriptions(d.db.QueryContext(ctx, q+` WHERE tenant_id = $1 ORDER BY subscription_id`, strings.ToLower(tenantID)))
}

// PutManagementGroup creates or re-parents a management group. A parent
// that is the group itself or lies below it is refused (EINVALID): the
// check runs in the write's transaction, under a lock of the tenant's tree
// on PostgreSQL, so that two moves at once cannot close a loop.
func (d *DB) PutManagementGroup(ctx context.Context, mg partnerlink.ManagementGroup) error {
	tenant := strings.ToLower(mg.TenantID)
	return d.inWorldTx(ctx, func(tx *sql.Tx) error {
		if err := d.lockExclusive(ctx, tx, "mg/"+tenant); err != nil {
			return err
		}
		if mg.Parent != "" {
			parents, err := mgParents(ctx, tx, tenant)
			if err != nil {
				return err
			}
			self := strings.ToLower(mg.Name)
			for g, n := strings.ToLower(mg.Parent), 0; g != "" && n <= len(parents); g, n = parents[g], n+1 {
				if g == self {
					return partnerlink.ARMErrorf(partnerlink.EINVALID, "BadRequest",
						"properties.details.parent.id: management group '%s' cannot be placed under '%s', which is the group itself or one of its descendants; management groups form a tree.",
						mg.Name, mg.Parent)
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO management_groups (tenant_id, name, parent) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id, name) DO UPDATE SET parent = excluded.parent`, tenant, mg.Name, mg.Parent); err != nil {
			return fmt.Errorf("store: put management group %s: %w", mg.Name, err)
		}
		return nil
	})
}

// mgParents maps each management group of a tenant to its parent, both
// lower-cased ("" for the root).
func mgParents(ctx context.Context, q queryer, tenant string) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, parent FROM management_groups WHERE tenant_id = $1`, tenant)
	if err != nil {
		return nil, fmt.Errorf("store: list management groups: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, parent string
		if err := rows.Scan(&name, &parent); err != nil {
			return nil, err
		}
		out[strings.ToLower(name)] = strings.ToLower(parent)
	}
	return out, rows.Err()
}

// ManagementGroups lists a tenant's management groups.
func (d *DB) ManagementGroups(ctx context.Context, tenantID string) ([]partnerlink.ManagementGroup, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT tenant_id, name, parent FROM management_groups WHERE tenant_id = $1 ORDER BY name`,
		strings.ToLower(tenantID))
	if err != nil {
		return nil, fmt.Errorf("store: list management groups: %w", err)
	}
	defer rows.Close()
	var out []partnerlink.ManagementGroup
	for rows.Next() {
		var mg partnerlink.ManagementGroup
		if err := rows.Scan(&mg.TenantID, &mg.Name, &mg.Parent); err != nil {
			return nil, err
		}
		out = append(out, mg)
	}
	return out, rows.Err()
}

// PutResourceGroup creates a resource group; an existing one (any casing)
// keeps its name and gets the new location.
func (d *DB) PutResourceGroup(ctx context.Context, rg partnerlink.ResourceGroup) (created bool, err error) {
	res, err := d.worldExec(ctx, `INSERT INTO resource_groups (subscription_id, name, name_key, location)
		VALUES ($1, $2, $3, $4) ON CONFLICT (subscription_id, name_key) DO NOTHING`,
		strings.ToLower(rg.SubscriptionID), rg.Name, strings.ToLower(rg.Name), rg.Location)
	if err != nil {
		return false, fmt.Errorf("store: put resource group %s: %w", rg.Name, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	_, err = d.worldExec(ctx, `UPDATE resource_groups SET location = $3 WHERE subscription_id = $1 AND name_key = $2`,
		strings.ToLower(rg.SubscriptionID), strings.ToLower(rg.Name), rg.Location)
	return false, err
}

// ResourceGroups lists a subscription's resource groups (one when name is set).
func (d *DB) ResourceGroups(ctx context.Context, subscriptionID, name string) ([]partnerlink.ResourceGroup, error) {
	q := `SELECT subscription_id, name, location FROM resource_groups WHERE subscription_id = $1`
	args := []any{strings.ToLower(subscriptionID)}
	if name != "" {
		q += ` AND name_key = $2`
		args = append(args, strings.ToLower(name))
	}
	rows, err := d.db.QueryContext(ctx, q+` ORDER BY name_key`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list resource groups: %w", err)
	}
	defer rows.Close()
	var out []partnerlink.ResourceGroup
	for rows.Next() {
		var rg partnerlink.ResourceGroup
		if err := rows.Scan(&rg.SubscriptionID, &rg.Name, &rg.Location); err != nil {
			return nil, err
		}
		out = append(out, rg)
	}
	return out, rows.Err()
}

// PutRoleDefinition creates or replaces a custom role of rd.TenantID. Role
// ids and names are per tenant (docs/rules.md): a role of another tenant
// with the same id is another role, untouched; a role of the same tenant
// with the same name and another id is a conflict (ECONFLICT, ARM
// RoleDefinitionWithSameNameExists). When replace is false an existing
// role of the tenant with that id is left as it is and the answer is
// EFORBIDDEN: changing a role reaches every assignment of it, so only a
// writer at the tenant root may (docs/api.md, "Authorization").
func (d *DB) PutRoleDefinition(ctx context.Context, rd partnerlink.RoleDefinition, replace bool) error {
	tenant, id := strings.ToLower(rd.TenantID), strings.ToLower(rd.ID)
	if tenant == "" {
		return partnerlink.Errorf(partnerlink.EINVALID, "role definition %s (%q) names no tenant; a custom role belongs to one tenant", rd.ID, rd.Name)
	}
	return d.inWorldTx(ctx, func(tx *sql.Tx) error {
		if err := d.lockExclusive(ctx, tx, "rd/"+tenant); err != nil {
			return err
		}
		if !replace {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM role_definitions WHERE tenant_id = $1 AND id = $2`, tenant, id).Scan(&n); err != nil {
				return fmt.Errorf("store: put role definition %s: %w", rd.Name, err)
			}
			if n > 0 {
				return partnerlink.ARMErrorf(partnerlink.EFORBIDDEN, "AuthorizationFailed",
					"The custom role '%s' exists and applies tenant-wide: changing it needs 'Microsoft.Authorization/roleDefinitions/write' at the tenant root '/'.", rd.ID)
			}
		}
		var other string
		err := tx.QueryRowContext(ctx, `SELECT id FROM role_definitions WHERE tenant_id = $1 AND lower(name) = lower($2) AND id <> $3`,
			tenant, rd.Name, id).Scan(&other)
		switch {
		case err == nil:
			return partnerlink.ARMErrorf(partnerlink.ECONFLICT, "RoleDefinitionWithSameNameExists",
				"A custom role named '%s' already exists in this tenant (id %s); role names are unique in a tenant. Use another name, or PUT that id to change it.", rd.Name, other)
		case err != sql.ErrNoRows:
			return fmt.Errorf("store: put role definition %s: %w", rd.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO role_definitions (tenant_id, id, name, actions, not_actions, data_actions)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name, actions = excluded.actions,
			not_actions = excluded.not_actions, data_actions = excluded.data_actions`,
			tenant, id, rd.Name, jsonList(rd.Actions), jsonList(rd.NotActions), jsonList(rd.DataActions)); err != nil {
			return fmt.Errorf("store: put role definition %s: %w", rd.Name, err)
		}
		return nil
	})
}

// RoleDefinitions lists the custom roles of a tenant, by name: those of
// no other tenant (docs/rules.md). The built-in roles are not listed.
func (d *DB) RoleDefinitions(ctx context.Context, tenantID string) ([]partnerlink.RoleDefinition, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT tenant_id, id, name, actions, not_actions, data_actions FROM role_definitions
		WHERE tenant_id = $1 AND tenant_id <> '' ORDER BY name, id`, strings.ToLower(tenantID))
	if err != nil {
		return nil, fmt.Errorf("store: list role definitions: %w", err)
	}
	defer rows.Close()
	var out []partnerlink.RoleDefinition
	for rows.Next() {
		var rd partnerlink.RoleDefinition
		var a, na, da string
		if err := rows.Scan(&rd.TenantID, &rd.ID, &rd.Name, &a, &na, &da); err != nil {
			return nil, err
		}
		rd.Actions, rd.NotActions, rd.DataActions = fromJSONList(a), fromJSONList(na), fromJSONList(da)
		out = append(out, rd)
	}
	return out, rows.Err()
}

// RoleAssignments lists role assignment periods, oldest first.
func (d *DB) RoleAssignments(ctx context.Context, f partnerlink.RoleAssignmentFilter) ([]partnerlink.RoleAssignment, error) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.TenantID != "" {
		conds = append(conds, "tenant_id = "+arg(strings.ToLower(f.TenantID)))
	}
	if f.ID != "" {
		conds = append(conds, "id = "+arg(strings.ToLower(f.ID)))
	}
	in := func(col string, vals []string) {
		var ph []string
		for _, v := range vals {
			ph = append(ph, arg(v))
		}
		conds = append(conds, col+" IN ("+strings.Join(ph, ", ")+")")
	}
	if len(f.PrincipalIDs) > 0 {
		in("principal_id", f.PrincipalIDs)
	}
	if len(f.ScopeKeys) > 0 {
		in("scope_key", f.ScopeKeys)
	}
	if f.ScopePrefix != "" && f.ScopePrefix != "/" {
		conds = append(conds, "(scope_key = "+arg(f.ScopePrefix)+" OR scope_key LIKE "+arg(likePrefix(f.ScopePrefix)+"/%")+" ESCAPE '\\')")
	}
	if f.CurrentOnly {
		conds = append(conds, "valid_to IS NULL")
	}
	q := `SELECT tenant_id, id, principal_id, role_definition, scope, valid_from, valid_to FROM role_assignments`
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	rows, err := d.db.QueryContext(ctx, q+" ORDER BY row_id", args...)
	if err != nil {
		return nil, fmt.Errorf("store: query role assignments: %w", err)
	}
	defer rows.Close()
	var out []partnerlink.RoleAssignment
	for rows.Next() {
		var ra partnerlink.RoleAssignment
		var from, to sql.NullInt64
		if err := rows.Scan(&ra.TenantID, &ra.ID, &ra.PrincipalID, &ra.RoleDefinition, &ra.Scope, &from, &to); err != nil {
			return nil, err
		}
		ra.Period = partnerlink.Period{From: instant(from), To: instant(to)}
		out = append(out, ra)
	}
	return out, rows.Err()
}

func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// CreateRoleAssignment opens a role assignment period at ra.Period.From. decide
// runs in the transaction with the assignments currently in force for the
// same id, or for the same principal, role and scope, and may refuse.
func (d *DB) CreateRoleAssignment(ctx context.Context, ra partnerlink.RoleAssignment, actor string,
	decide func(sameID, sameGrant []partnerlink.RoleAssignment) (create bool, err error)) (bool, error) {
	created := false
	err := d.inWorldTx(ctx, func(tx *sql.Tx) error {
		if d.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "ra/"+ra.TenantID); err != nil {
				return err
			}
		}
		sameID, err := currentAssignments(ctx, tx, `tenant_id = $1 AND id = $2`, ra.TenantID, ra.ID)
		if err != nil {
			return err
		}
		sameGrant, err := currentAssignments(ctx, tx, `tenant_id = $1 AND principal_id = $2 AND scope_key = $3`,
			ra.TenantID, ra.PrincipalID, scopeKey(ra.Scope))
		if err != nil {
			return err
		}
		create, err := decide(sameID, sameGrant)
		if err != nil || !create {
			return err
		}
		created = true
		return insertRoleAssignment(ctx, tx, ra, actor)
	})
	return created, err
}

func currentAssignments(ctx context.Context, q queryer, where string, args ...any) ([]partnerlink.RoleAssignment, error) {
	rows, err := q.QueryContext(ctx, `SELECT tenant_id, id, principal_id, role_definition, scope, valid_from FROM role_assignments
		WHERE valid_to IS NULL AND `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: query role assignments: %w", err)
	}
	defer rows.Close()
	var out []partnerlink.RoleAssignment
	for rows.Next() {
		var ra partnerlink.RoleAssignment
		var from sql.NullInt64
		if err := rows.Scan(&ra.TenantID, &ra.ID, &ra.PrincipalID, &ra.RoleDefinition, &ra.Scope, &from); err != nil {
			return nil, err
		}
		ra.Period.From = instant(from)
		out = append(out, ra)
	}
	return out, rows.Err()
}

// EndRoleAssignment closes the period of the assignment in force with this
// id at instant at; ENOTFOUND when none is in force.
func (d *DB) EndRoleAssignment(ctx context.Context, tenantID, id string, at time.Time, actor string) (*partnerlink.RoleAssignment, error) {
	var ended *partnerlink.RoleAssignment
	err := d.inWorldTx(ctx, func(tx *sql.Tx) error {
		cur, err := currentAssignments(ctx, tx, `tenant_id = $1 AND id = $2`, strings.ToLower(tenantID), strings.ToLower(id))
		if err != nil {
			return err
		}
		if len(cur) == 0 {
			return partnerlink.ARMErrorf(partnerlink.ENOTFOUND, "RoleAssignmentNotFound", "The role assignment '%s' is not found.", id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE role_assignments SET valid_to = $3, actor = $4 WHERE tenant_id = $1 AND id = $2
			AND valid_to IS NULL`, strings.ToLower(tenantID), strings.ToLower(id), at.UnixNano(), actor); err != nil {
			return fmt.Errorf("store: end role assignment: %w", err)
		}
		ra := cur[0]
		ra.Period.To = at
		ended = &ra
		return nil
	})
	return ended, err
}

// PutDelegation opens a Lighthouse delegation period.
func (d *DB) PutDelegation(ctx context.Context, dl partnerlink.Delegation) error {
	_, err := d.worldExec(ctx, `INSERT INTO delegations (id, customer_tenant_id, managing_tenant_id, scope,
		principal_id, role_definition, valid_from, valid_to) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		strings.ToLower(dl.ID), strings.ToLower(dl.CustomerTenantID), strings.ToLower(dl.ManagingTenantID), dl.Scope,
		strings.ToLower(dl.PrincipalID), dl.RoleDefinition, nanos(dl.Period.From), nanos(dl.Period.To))
	if err != nil {
		return fmt.Errorf("store: put delegation %s: %w", dl.ID, err)
	}
	return nil
}

// EndDelegation closes a delegation in force; ENOTFOUND when none.
func (d *DB) EndDelegation(ctx context.Context, customerTenantID, id string, at time.Time) error {
	res, err := d.worldExec(ctx, `UPDATE delegations SET valid_to = $3 WHERE customer_tenant_id = $1 AND id = $2
		AND valid_to IS NULL`, strings.ToLower(customerTenantID), strings.ToLower(id), at.UnixNano())
	if err != nil {
		return fmt.Errorf("store: end delegation: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return partnerlink.Errorf(partnerlink.ENOTFOUND, "delegation %s is not in force in tenant %s", id, customerTenantID)
	}
	return nil
}

// Delegations lists the delegations of a customer tenant (all when ""),
// oldest first.
func (d *DB) Delegations(ctx context.Context, customerTenantID string, currentOnly bool) ([]partnerlink.Delegation, error) {
	q := `SELECT id, customer_tenant_id, managing_tenant_id, scope, principal_id, role_definition, valid_from, valid_to
		FROM delegations WHERE ($1 = '' OR customer_tenant_id = $1)`
	if currentOnly {
		q += ` AND valid_to IS NULL`
	}
	rows, err := d.db.QueryContext(ctx, q+` ORDER BY row_id`, strings.ToLower(customerTenantID))
	if err != nil {
		return nil, fmt.Errorf("store: list delegations: %w", err)
	}
	defer rows.Close()
	var out []partnerlink.Delegation
	for rows.Next() {
		var dl partnerlink.Delegation
		var from, to sql.NullInt64
		if err := rows.Scan(&dl.ID, &dl.CustomerTenantID, &dl.ManagingTenantID, &dl.Scope, &dl.PrincipalID,
			&dl.RoleDefinition, &from, &to); err != nil {
			return nil, err
		}
		dl.Period = partnerlink.Period{From: instant(from), To: instant(to)}
		out = append(out, dl)
	}
	return out, rows.Err()
}
