package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
)

// PutTenant creates or renames a tenant (its webhook is kept).
func (d *DB) PutTenant(ctx context.Context, t partnerlink.Tenant) error {
	_, err := d.worldExec(ctx, `INSERT INTO tenants (tenant_id, name, webhook_url) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id) DO UPDATE SET name = excluded.name`, t.ID, t.Name, t.WebhookURL)
	if err != nil {
		return fmt.Errorf("store: put tenant %s: %w", t.ID, err)
	}
	return nil
}

// Tenant returns one tenant.
func (d *DB) Tenant(ctx context.Context, tenantID string) (*partnerlink.Tenant, error) {
	var t partnerlink.Tenant
	err := d.db.QueryRowContext(ctx, `SELECT tenant_id, name, webhook_url FROM tenants WHERE tenant_id = $1`,
		strings.ToLower(tenantID)).Scan(&t.ID, &t.Name, &t.WebhookURL)
	if err != nil {
		return nil, notFound(err, "tenant %s does not exist", tenantID)
	}
	return &t, nil
}

// Tenants lists all tenants by id.
func (d *DB) Tenants(ctx context.Context) ([]partnerlink.Tenant, error) { return tenants(ctx, d.db) }

func tenants(ctx context.Context, q queryer) ([]partnerlink.Tenant, error) {
	rows, err := q.QueryContext(ctx, `SELECT tenant_id, name, webhook_url FROM tenants ORDER BY tenant_id`)
	if err != nil {
		return nil, fmt.Errorf("store: list tenants: %w", err)
	}
	defer rows.Close()
	var out []partnerlink.Tenant
	for rows.Next() {
		var t partnerlink.Tenant
		if err := rows.Scan(&t.ID, &t.Name, &t.WebhookURL); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// SetTenantWebhook sets where the tenant's notifications go and the secret
// that signs them; notifications parked for want of a webhook become due.
func (d *DB) SetTenantWebhook(ctx context.Context, tenantID, url, secret string) error {
	tenantID = strings.ToLower(tenantID)
	return d.inWorldTx(ctx, func(tx *sql.Tx) error {
		if err := d.lockOutbox(ctx, tx, tenantID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE tenants SET webhook_url = $2, webhook_secret = $3 WHERE tenant_id = $1`,
			tenantID, url, secret)
		if err != nil {
			return fmt.Errorf("store: set webhook of %s: %w", tenantID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return partnerlink.Errorf(partnerlink.ENOTFOUND, "tenant %s does not exist", tenantID)
		}
		return wakeParked(ctx, tx, tenantID)
	})
}

// webhook returns the tenant's webhook URL and signing secret.
func (d *DB) webhook(ctx context.Context, tenantID string) (url, secret string, err error) {
	err = d.db.QueryRowContext(ctx, `SELECT webhook_url, webhook_secret FROM tenants WHERE tenant_id = $1`, tenantID).
		Scan(&url, &secret)
	return url, secret, notFound(err, "tenant %s does not exist", tenantID)
}

const principalColumns = `tenant_id, object_id, type, display_name, sign_in_name, home_tenant_id, home_object_id,
	app_id, csp_delegated, valid_from, valid_to, earlier_periods`

// PutPrincipal creates a principal, or stores p over an existing one
// without losing its history (partnerlink.Replace): with the start of its
// latest period it updates the fields and the end of that period; starting
// at or after the end of a disabled principal's last period, with the same
// fields, it enables it again; anything else is refused with ECONFLICT.
func (d *DB) PutPrincipal(ctx context.Context, p partnerlink.Principal) error {
	return d.inWorldTx(ctx, func(tx *sql.Tx) error {
		cur, err := d.principalForUpdate(ctx, tx, p.TenantID, p.ObjectID)
		if partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND {
			return putPrincipal(ctx, tx, p, 0)
		}
		if err != nil {
			return err
		}
		next, err := partnerlink.Replace(*cur, p)
		if err != nil {
			return err
		}
		return putPrincipal(ctx, tx, next, len(cur.Earlier))
	})
}

// EnablePrincipal enables a disabled principal again from instant from
// (partnerlink.Principal.EnableAgain) and returns it: its latest period is
// kept as an earlier one. ENOTFOUND, ECONFLICT when it is enabled, EINVALID
// when from is before the end of its last period.
func (d *DB) EnablePrincipal(ctx context.Context, tenantID, objectID string, from time.Time) (*partnerlink.Principal, error) {
	var out partnerlink.Principal
	err := d.inWorldTx(ctx, func(tx *sql.Tx) error {
		cur, err := d.principalForUpdate(ctx, tx, tenantID, objectID)
		if err != nil {
			return err
		}
		if out, err = cur.EnableAgain(from); err != nil {
			return err
		}
		return putPrincipal(ctx, tx, out, len(cur.Earlier))
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// principalForUpdate reads a principal with its earlier periods inside tx,
// locking its row on PostgreSQL (SQLite transactions here take the write
// lock when they begin).
func (d *DB) principalForUpdate(ctx context.Context, tx *sql.Tx, tenantID, objectID string) (*partnerlink.Principal, error) {
	q := `SELECT ` + principalColumns + ` FROM principals WHERE tenant_id = $1 AND object_id = $2`
	if d.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	ps, err := readPrincipals(ctx, tx, tx.QueryContext, q, strings.ToLower(tenantID), strings.ToLower(objectID))
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, partnerlink.Errorf(partnerlink.ENOTFOUND, "principal %s does not exist in tenant %s", objectID, tenantID)
	}
	return &ps[0], nil
}

// putPrincipal writes p with its latest period, and its earlier periods
// from the stored-th on: the first stored ones are in the table already
// (earlier periods are only ever added after the others). The rules are the
// caller's.
func putPrincipal(ctx context.Context, q queryer, p partnerlink.Principal, stored int) error {
	signIn := p.SignInName
	if signIn == "" && p.Type == partnerlink.PrincipalUser {
		signIn = p.DisplayName
	}
	tenant, object := strings.ToLower(p.TenantID), strings.ToLower(p.ObjectID)
	_, err := q.ExecContext(ctx, `INSERT INTO principals (`+principalColumns+`, sign_in_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (tenant_id, object_id) DO UPDATE SET type = excluded.type, display_name = excluded.display_name,
			sign_in_name = excluded.sign_in_name, sign_in_key = excluded.sign_in_key,
			home_tenant_id = excluded.home_tenant_id, home_object_id = excluded.home_object_id,
			app_id = excluded.app_id, csp_delegated = excluded.csp_delegated,
			valid_from = excluded.valid_from, valid_to = excluded.valid_to, earlier_periods = excluded.earlier_periods`,
		tenant, object, string(p.Type), p.DisplayName, signIn, p.HomeTenantID, p.HomeObjectID,
		p.AppID, p.CSPDelegated, nanos(p.Period.From), nanos(p.Period.To), len(p.Earlier), strings.ToLower(signIn))
	if err != nil {
		return fmt.Errorf("store: put principal %s/%s: %w", p.TenantID, p.ObjectID, err)
	}
	for _, e := range p.Earlier[min(stored, len(p.Earlier)):] {
		if _, err := q.ExecContext(ctx, `INSERT INTO principal_periods (tenant_id, object_id, valid_from, valid_to)
			VALUES ($1, $2, $3, $4)`, tenant, object, nanos(e.From), nanos(e.To)); err != nil {
			return fmt.Errorf("store: put an earlier period of principal %s/%s: %w", p.TenantID, p.ObjectID, err)
		}
	}
	return nil
}

// queryFunc runs a query: a pool's, a transaction's or a cached
// statement's QueryContext.
type queryFunc func(ctx context.Context, query string, args ...any) (*sql.Rows, error)

// readPrincipals runs a query of principalColumns with query and reads
// the earlier periods of the principals that have any with q.
func readPrincipals(ctx context.Context, q queryer, query queryFunc, sqlText string, args ...any) ([]partnerlink.Principal, error) {
	rows, err := query(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("store: query principals: %w", err)
	}
	defer rows.Close()
	var out []partnerlink.Principal
	withEarlier := 0
	for rows.Next() {
		var p partnerlink.Principal
		var typ string
		var from, to sql.NullInt64
		var earlier int
		if err := rows.Scan(&p.TenantID, &p.ObjectID, &typ, &p.DisplayName, &p.SignInName, &p.HomeTenantID,
			&p.HomeObjectID, &p.AppID, &p.CSPDelegated, &from, &to, &earlier); err != nil {
			return nil, fmt.Errorf("store: read principal: %w", err)
		}
		p.Type = partnerlink.PrincipalType(typ)
		p.Period = partnerlink.Period{From: instant(from), To: instant(to)}
		if earlier > 0 {
			// A non-nil, empty Earlier marks the principal for the
			// lookup below.
			p.Earlier = make([]partnerlink.Period, 0, earlier)
			withEarlier++
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read principals: %w", err)
	}
	rows.Close()
	if withEarlier == 0 {
		return out, nil
	}
	// A few principals: one indexed lookup each. Many (an export): one
	// pass over the table.
	if withEarlier <= 8 {
		for i := range out {
			if out[i].Earlier != nil {
				es, err := earlierPeriods(ctx, q, `SELECT tenant_id, object_id, valid_from, valid_to FROM principal_periods
					WHERE tenant_id = $1 AND object_id = $2 ORDER BY valid_to`, out[i].TenantID, out[i].ObjectID)
				if err != nil {
					return nil, err
				}
				out[i].Earlier = es[principalID{out[i].TenantID, out[i].ObjectID}]
			}
		}
		return out, nil
	}
	es, err := earlierPeriods(ctx, q, `SELECT tenant_id, object_id, valid_from, valid_to FROM principal_periods
		ORDER BY tenant_id, object_id, valid_to`)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Earlier != nil {
			out[i].Earlier = es[principalID{out[i].TenantID, out[i].ObjectID}]
		}
	}
	return out, nil
}

type principalID struct{ tenant, object string }

// earlierPeriods reads rows of principal_periods, each principal's in the
// order of the query.
func earlierPeriods(ctx context.Context, q queryer, query string, args ...any) (map[principalID][]partnerlink.Period, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: query earlier periods of principals: %w", err)
	}
	defer rows.Close()
	out := map[principalID][]partnerlink.Period{}
	for rows.Next() {
		var k principalID
		var from, to sql.NullInt64
		if err := rows.Scan(&k.tenant, &k.object, &from, &to); err != nil {
			return nil, fmt.Errorf("store: read an earlier period of a principal: %w", err)
		}
		out[k] = append(out[k], partnerlink.Period{From: instant(from), To: instant(to)})
	}
	return out, rows.Err()
}

// Principal returns one principal of a tenant, with its earlier periods.
func (d *DB) Principal(ctx context.Context, tenantID, objectID string) (*partnerlink.Principal, error) {
	ps, err := readPrincipals(ctx, writer{d}, d.query, `SELECT `+principalColumns+` FROM principals
		WHERE tenant_id = $1 AND object_id = $2`, strings.ToLower(tenantID), strings.ToLower(objectID))
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, partnerlink.Errorf(partnerlink.ENOTFOUND, "principal %s does not exist in tenant %s", objectID, tenantID)
	}
	return &ps[0], nil
}

// Principals lists the principals of a tenant, or of all tenants, with
// their earlier periods.
func (d *DB) Principals(ctx context.Context, tenantID string) ([]partnerlink.Principal, error) {
	return principals(ctx, writer{d}, d.db.QueryContext, tenantID)
}

// principals is Principals read through q and query (readPrincipals),
// a transaction's for an export.
func principals(ctx context.Context, q queryer, query queryFunc, tenantID string) ([]partnerlink.Principal, error) {
	if tenantID == "" {
		return readPrincipals(ctx, q, query, `SELECT `+principalColumns+` FROM principals ORDER BY tenant_id, object_id`)
	}
	return readPrincipals(ctx, q, query, `SELECT `+principalColumns+` FROM principals WHERE tenant_id = $1
		ORDER BY object_id`, strings.ToLower(tenantID))
}

// ServicePrincipalsByAppID lists the service principals of an app, one per
// tenant the app is present in.
func (d *DB) ServicePrincipalsByAppID(ctx context.Context, appID string) ([]partnerlink.Principal, error) {
	return readPrincipals(ctx, writer{d}, d.db.QueryContext, `SELECT `+principalColumns+` FROM principals
		WHERE app_id = $1 AND type = 'ServicePrincipal' ORDER BY tenant_id`, strings.ToLower(appID))
}

// UsersBySignInName finds member users by sign-in name, case-insensitively.
func (d *DB) UsersBySignInName(ctx context.Context, signInName string) ([]partnerlink.Principal, error) {
	return readPrincipals(ctx, writer{d}, d.db.QueryContext, `SELECT `+principalColumns+` FROM principals
		WHERE sign_in_key = $1 AND type = 'User' ORDER BY tenant_id, object_id`, strings.ToLower(signInName))
}

// GuestsOf lists the guest accounts of a home user in other tenants.
func (d *DB) GuestsOf(ctx context.Context, homeTenantID, homeObjectID string) ([]partnerlink.Principal, error) {
	return readPrincipals(ctx, writer{d}, d.db.QueryContext, `SELECT `+principalColumns+` FROM principals
		WHERE home_tenant_id = $1 AND home_object_id = $2 AND type = 'Guest' ORDER BY tenant_id`,
		strings.ToLower(homeTenantID), strings.ToLower(homeObjectID))
}

// AddSecret stores a hashed secret (client secret or password) for a principal.
func (d *DB) AddSecret(ctx context.Context, tenantID, objectID, hash string) error {
	return addSecret(ctx, worldWriter{writer{d}}, tenantID, objectID, hash, d.now())
}

func addSecret(ctx context.Context, q queryer, tenantID, objectID, hash string, at time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO principal_secrets (tenant_id, object_id, hash, created_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, tenantID, objectID, hash, at.UnixNano())
	if err != nil {
		return fmt.Errorf("store: add secret for %s/%s: %w", tenantID, objectID, err)
	}
	return nil
}

// RemoveSecrets removes every secret of a principal and returns how many
// there were. Tokens issued before stay valid until they expire.
func (d *DB) RemoveSecrets(ctx context.Context, tenantID, objectID string) (int64, error) {
	res, err := d.worldExec(ctx, `DELETE FROM principal_secrets WHERE tenant_id = $1 AND object_id = $2`,
		strings.ToLower(tenantID), strings.ToLower(objectID))
	if err != nil {
		return 0, fmt.Errorf("store: remove secrets of %s/%s: %w", tenantID, objectID, err)
	}
	return res.RowsAffected()
}

// SecretHashes returns the hashed secrets of a principal.
func (d *DB) SecretHashes(ctx context.Context, tenantID, objectID string) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT hash FROM principal_secrets WHERE tenant_id = $1 AND object_id = $2
		ORDER BY created_at`, strings.ToLower(tenantID), strings.ToLower(objectID))
	if err != nil {
		return nil, fmt.Errorf("store: read secrets: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

const partnerColumns = `partner_id, name, global_partner_id, home_tenant_ids, valid_from, valid_to`

// PutPartner creates or replaces a registry entry.
func (d *DB) PutPartner(ctx context.Context, p partnerlink.Partner) error {
	return putPartner(ctx, worldWriter{writer{d}}, p)
}

func putPartner(ctx context.Context, q queryer, p partnerlink.Partner) error {
	_, err := q.ExecContext(ctx, `INSERT INTO partners (`+partnerColumns+`) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (partner_id) DO UPDATE SET name = excluded.name, global_partner_id = excluded.global_partner_id,
			home_tenant_ids = excluded.home_tenant_ids, valid_from = excluded.valid_from, valid_to = excluded.valid_to`,
		p.ID, p.Name, p.GlobalID, strings.Join(p.HomeTenantIDs, ","), nanos(p.Period.From), nanos(p.Period.To))
	if err != nil {
		return fmt.Errorf("store: put partner %s: %w", p.ID, err)
	}
	return nil
}

func scanPartners(rows *sql.Rows, err error) ([]partnerlink.Partner, error) {
	if err != nil {
		return nil, fmt.Errorf("store: query partners: %w", err)
	}
	defer rows.Close()
	var out []partnerlink.Partner
	for rows.Next() {
		var p partnerlink.Partner
		var homes string
		var from, to sql.NullInt64
		if err := rows.Scan(&p.ID, &p.Name, &p.GlobalID, &homes, &from, &to); err != nil {
			return nil, fmt.Errorf("store: read partner: %w", err)
		}
		if homes != "" {
			p.HomeTenantIDs = strings.Split(homes, ",")
		}
		p.Period = partnerlink.Period{From: instant(from), To: instant(to)}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Partner returns one registry entry.
func (d *DB) Partner(ctx context.Context, partnerID string) (*partnerlink.Partner, error) {
	ps, err := scanPartners(d.query(ctx, `SELECT `+partnerColumns+` FROM partners WHERE partner_id = $1`, partnerID))
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, partnerlink.Errorf(partnerlink.ENOTFOUND, "partner ID %s is not registered", partnerID)
	}
	return &ps[0], nil
}

// Partners lists the registry.
func (d *DB) Partners(ctx context.Context) ([]partnerlink.Partner, error) { return partners(ctx, d.db) }

func partners(ctx context.Context, q queryer) ([]partnerlink.Partner, error) {
	return scanPartners(q.QueryContext(ctx, `SELECT `+partnerColumns+` FROM partners ORDER BY partner_id`))
}

// LocationIDs lists the location IDs of a global partner ID.
func (d *DB) LocationIDs(ctx context.Context, globalID string) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT partner_id FROM partners WHERE global_partner_id = $1 ORDER BY partner_id`, globalID)
	if err != nil {
		return nil, fmt.Errorf("store: location IDs of %s: %w", globalID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// AddMembership records a member in a group over a period.
func (d *DB) AddMembership(ctx context.Context, m partnerlink.GroupMembership) error {
	return addMembership(ctx, worldWriter{writer{d}}, m)
}

func addMembership(ctx context.Context, q queryer, m partnerlink.GroupMembership) error {
	_, err := q.ExecContext(ctx, `INSERT INTO group_memberships (tenant_id, group_id, member_id, valid_from, valid_to)
		VALUES ($1, $2, $3, $4, $5)`, m.TenantID, m.GroupID, m.MemberID, nanos(m.Period.From), nanos(m.Period.To))
	if err != nil {
		return fmt.Errorf("store: add membership %s in %s: %w", m.MemberID, m.GroupID, err)
	}
	return nil
}

// Memberships lists the group memberships of a tenant, or of all tenants.
func (d *DB) Memberships(ctx context.Context, tenantID string) ([]partnerlink.GroupMembership, error) {
	return memberships(ctx, d.db, tenantID)
}

func memberships(ctx context.Context, db queryer, tenantID string) ([]partnerlink.GroupMembership, error) {
	q := `SELECT tenant_id, group_id, member_id, valid_from, valid_to FROM group_memberships`
	args := []any{}
	if tenantID != "" {
		q += ` WHERE tenant_id = $1`
		args = append(args, strings.ToLower(tenantID))
	}
	rows, err := db.QueryContext(ctx, q+` ORDER BY tenant_id, group_id, member_id, valid_from`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list memberships: %w", err)
	}
	defer rows.Close()
	var out []partnerlink.GroupMembership
	for rows.Next() {
		var m partnerlink.GroupMembership
		var from, to sql.NullInt64
		if err := rows.Scan(&m.TenantID, &m.GroupID, &m.MemberID, &from, &to); err != nil {
			return nil, err
		}
		m.Period = partnerlink.Period{From: instant(from), To: instant(to)}
		out = append(out, m)
	}
	return out, rows.Err()
}
