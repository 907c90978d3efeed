package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/world"
)

// worldTables are emptied by an import, children first.
var worldTables = []string{"ownership", "pp_resources", "environments", "delegations", "role_assignments",
	"role_definitions", "subscriptions", "management_groups", "links", "group_memberships", "partners",
	"principal_secrets", "principal_periods", "principals", "tenants"}

// ImportWorld replaces the directory, registry, role model, links and Power
// Platform state with doc, in one transaction: all or nothing, and importing
// the same document twice leaves the same state. Secrets carried by the
// document are stored hashed (hash is identity.HashSecret); secrets already
// stored for principals that remain are kept. Link audit events, the outbox
// and identity grants are not part of the world and are left alone.
func (d *DB) ImportWorld(ctx context.Context, doc *world.Document, hash func(string) (string, error)) error {
	newSecrets, err := hashedSecrets(doc, hash)
	if err != nil {
		return err
	}
	return d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.lockWorld(ctx, tx); err != nil {
			return err
		}
		return d.replaceWorld(ctx, tx, doc, newSecrets)
	})
}

// UpdateWorld reads the world and, when change changes it (reporting
// true), writes it back, all in one transaction under the world lock: a
// link or any other change committed meanwhile by the server is neither
// lost nor undone (an Azure snapshot applied while the server runs,
// docs/operations.md). The document change gets carries no secrets; any it
// adds are stored hashed with hash, as ImportWorld does.
func (d *DB) UpdateWorld(ctx context.Context, change func(doc *world.Document) (bool, error), hash func(string) (string, error)) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.lockWorld(ctx, tx); err != nil {
			return err
		}
		doc := &world.Document{Version: world.CurrentVersion}
		if err := exportDirectory(ctx, tx, doc); err != nil {
			return err
		}
		if err := exportRest(ctx, tx, doc); err != nil {
			return err
		}
		changed, err := change(doc)
		if err != nil || !changed {
			return err
		}
		newSecrets, err := hashedSecrets(doc, hash)
		if err != nil {
			return err
		}
		return d.replaceWorld(ctx, tx, doc, newSecrets)
	})
}

// hashedSecrets hashes the secrets doc carries, by principal.
func hashedSecrets(doc *world.Document, hash func(string) (string, error)) (map[[2]string]string, error) {
	out := map[[2]string]string{}
	for _, p := range doc.Principals {
		if p.Secret != "" {
			h, err := hash(p.Secret)
			if err != nil {
				return nil, fmt.Errorf("hash secret of %s: %w", p.ObjectID, err)
			}
			out[[2]string{p.TenantID, p.ObjectID}] = h
		}
	}
	return out, nil
}

// replaceWorld is ImportWorld's work inside tx, which holds the world lock.
func (d *DB) replaceWorld(ctx context.Context, tx *sql.Tx, doc *world.Document, newSecrets map[[2]string]string) error {
	kept, err := keptSecrets(ctx, tx)
	if err != nil {
		return err
	}
	hooks, err := keptWebhooks(ctx, tx)
	if err != nil {
		return err
	}
	versions, err := keptLinkVersions(ctx, tx)
	if err != nil {
		return err
	}
	for _, t := range worldTables {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return fmt.Errorf("store: clear %s: %w", t, err)
		}
	}
	if err := insertWorld(ctx, tx, doc, versions); err != nil {
		return err
	}
	now := d.now()
	present := map[[2]string]bool{}
	for _, p := range doc.Principals {
		present[[2]string{p.TenantID, p.ObjectID}] = true
	}
	for _, s := range kept {
		if present[s.key] {
			if err := addSecret(ctx, tx, s.key[0], s.key[1], s.hash, now); err != nil {
				return err
			}
		}
	}
	for k, h := range newSecrets {
		if err := addSecret(ctx, tx, k[0], k[1], h, now); err != nil {
			return err
		}
	}
	for id, h := range hooks {
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET webhook_secret = $2,
			webhook_url = CASE WHEN webhook_url = '' THEN $3 ELSE webhook_url END WHERE tenant_id = $1`,
			id, h[1], h[0]); err != nil {
			return fmt.Errorf("store: keep webhook of %s: %w", id, err)
		}
	}
	return wakeParked(ctx, tx, "")
}

type linkKey struct {
	tenant, object string
	from           int64
}

func keptLinkVersions(ctx context.Context, tx *sql.Tx) (map[linkKey]partnerlink.Link, error) {
	ls, err := scanLinks(tx.QueryContext(ctx, `SELECT `+linkColumns+` FROM links`))
	if err != nil {
		return nil, err
	}
	out := map[linkKey]partnerlink.Link{}
	for _, l := range ls {
		out[linkKey{l.TenantID, l.ObjectID, l.Period.From.UnixNano()}] = l
	}
	return out, nil
}

type keptSecret struct {
	key  [2]string
	hash string
}

func keptSecrets(ctx context.Context, tx *sql.Tx) ([]keptSecret, error) {
	rows, err := tx.QueryContext(ctx, `SELECT tenant_id, object_id, hash FROM principal_secrets`)
	if err != nil {
		return nil, fmt.Errorf("store: read secrets: %w", err)
	}
	defer rows.Close()
	var out []keptSecret
	for rows.Next() {
		var s keptSecret
		if err := rows.Scan(&s.key[0], &s.key[1], &s.hash); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func keptWebhooks(ctx context.Context, tx *sql.Tx) (map[string][2]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT tenant_id, webhook_url, webhook_secret FROM tenants WHERE webhook_url <> ''`)
	if err != nil {
		return nil, fmt.Errorf("store: read webhooks: %w", err)
	}
	defer rows.Close()
	out := map[string][2]string{}
	for rows.Next() {
		var id, url, secret string
		if err := rows.Scan(&id, &url, &secret); err != nil {
			return nil, err
		}
		out[id] = [2]string{url, secret}
	}
	return out, rows.Err()
}

func insertWorld(ctx context.Context, tx *sql.Tx, doc *world.Document, versions map[linkKey]partnerlink.Link) error {
	exec := func(what, q string, args ...any) error {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("store: import %s: %w", what, err)
		}
		return nil
	}
	for _, t := range doc.Tenants {
		if err := exec("tenant "+t.TenantID, `INSERT INTO tenants (tenant_id, name, webhook_url) VALUES ($1, $2, $3)`,
			t.TenantID, t.Name, t.WebhookURL); err != nil {
			return err
		}
	}
	for _, p := range principalsOf(doc.Principals) {
		if err := putPrincipal(ctx, tx, p, 0); err != nil {
			return err
		}
	}
	for _, p := range doc.Partners {
		if err := putPartner(ctx, tx, partnerlink.Partner{ID: p.PartnerID, Name: p.Name, GlobalID: str(p.GlobalPartnerID),
			HomeTenantIDs: p.HomeTenantIDs, Period: partnerlink.PeriodOf(p.From, p.To)}); err != nil {
			return err
		}
	}
	for _, m := range doc.GroupMemberships {
		if err := addMembership(ctx, tx, partnerlink.GroupMembership{TenantID: m.TenantID, GroupID: m.GroupID,
			MemberID: m.MemberID, Period: partnerlink.PeriodOf(m.From, m.To)}); err != nil {
			return err
		}
	}
	for _, l := range linksWithVersions(doc.Links) {
		// A period already stored keeps its version and times (the API's
		// etags do not move when the same state is imported again).
		if old, ok := versions[linkKey{l.TenantID, l.ObjectID, l.Period.From.UnixNano()}]; ok && old.PartnerID == l.PartnerID {
			l.Version, l.CreatedTime, l.UpdatedTime = old.Version, old.CreatedTime, old.UpdatedTime
		}
		if err := insertLink(ctx, tx, l); err != nil {
			return err
		}
	}
	for _, mg := range doc.ManagementGroups {
		if err := exec("management group "+mg.Name, `INSERT INTO management_groups (tenant_id, name, parent) VALUES ($1, $2, $3)`,
			mg.TenantID, mg.Name, str(mg.Parent)); err != nil {
			return err
		}
	}
	for _, s := range doc.Subscriptions {
		if err := exec("subscription "+s.SubscriptionID, `INSERT INTO subscriptions (subscription_id, tenant_id, name, management_group)
			VALUES ($1, $2, $3, $4)`, s.SubscriptionID, s.TenantID, s.Name, str(s.ManagementGroup)); err != nil {
			return err
		}
	}
	for _, rd := range doc.RoleDefinitions {
		if err := exec("role definition "+rd.Name, `INSERT INTO role_definitions (tenant_id, id, name, actions, not_actions, data_actions)
			VALUES ($1, $2, $3, $4, $5, $6)`, rd.TenantID, rd.ID, rd.Name, jsonList(rd.Actions), jsonList(rd.NotActions), jsonList(rd.DataActions)); err != nil {
			return err
		}
	}
	for _, ra := range doc.RoleAssignments {
		if err := insertRoleAssignment(ctx, tx, ra.Domain(), ""); err != nil {
			return err
		}
	}
	for _, dl := range doc.Delegations {
		if err := exec("delegation "+dl.ID, `INSERT INTO delegations (id, customer_tenant_id, managing_tenant_id, scope,
			principal_id, role_definition, valid_from, valid_to) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			dl.ID, dl.CustomerTenantID, dl.ManagingTenantID, dl.Scope, dl.PrincipalID, dl.RoleDefinition,
			ptrNanos(dl.From), ptrNanos(dl.To)); err != nil {
			return err
		}
	}
	for _, e := range doc.Environments {
		if err := exec("environment "+e.EnvironmentID, `INSERT INTO environments (tenant_id, environment_id, type) VALUES ($1, $2, $3)`,
			e.TenantID, e.EnvironmentID, e.Type); err != nil {
			return err
		}
	}
	for _, r := range doc.PowerPlatformResources {
		if err := exec("resource "+r.ID, `INSERT INTO pp_resources (id, tenant_id, environment_id, kind, paid) VALUES ($1, $2, $3, $4, $5)`,
			r.ID, r.TenantID, r.EnvironmentID, r.Kind, r.Paid); err != nil {
			return err
		}
	}
	for _, o := range doc.Ownership {
		if err := exec("ownership of "+o.ResourceID, `INSERT INTO ownership (resource_id, principal_id, role, valid_from, valid_to)
			VALUES ($1, $2, $3, $4, $5)`, o.ResourceID, o.PrincipalID, o.Role, ptrNanos(o.From), ptrNanos(o.To)); err != nil {
			return err
		}
	}
	return nil
}

// principalsOf gathers the document's entries of each principal, one per
// enabled period (their other fields agree: world.Validate), into one
// principal: its latest period, and the ones before it as Earlier.
func principalsOf(entries []world.Principal) []partnerlink.Principal {
	sorted := slices.Clone(entries)
	slices.SortStableFunc(sorted, func(a, b world.Principal) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.ObjectID, b.ObjectID),
			ptrTime(a.From).Compare(ptrTime(b.From)))
	})
	var out []partnerlink.Principal
	for _, p := range sorted {
		per := partnerlink.PeriodOf(p.From, p.To)
		if n := len(out); n > 0 && out[n-1].TenantID == p.TenantID && out[n-1].ObjectID == p.ObjectID {
			last := &out[n-1]
			last.Earlier = append(last.Earlier, last.Period)
			last.Period = per
			continue
		}
		out = append(out, partnerlink.Principal{TenantID: p.TenantID, ObjectID: p.ObjectID,
			Type: partnerlink.PrincipalType(p.Type), DisplayName: p.DisplayName, SignInName: p.SignInName,
			HomeTenantID: str(p.HomeTenantID), HomeObjectID: p.HomeObjectID, AppID: str(p.AppID),
			CSPDelegated: p.CSPDelegated, Period: per})
	}
	return out
}

// insertRoleAssignment stores one period of a role assignment.
func insertRoleAssignment(ctx context.Context, q queryer, ra partnerlink.RoleAssignment, actor string) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO role_assignments (tenant_id, id, principal_id, role_definition, scope,
		scope_key, valid_from, valid_to, actor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		ra.TenantID, ra.ID, ra.PrincipalID, ra.RoleDefinition, ra.Scope, scopeKey(ra.Scope),
		nanos(ra.Period.From), nanos(ra.Period.To), actor); err != nil {
		return fmt.Errorf("store: insert role assignment %s: %w", ra.ID, err)
	}
	return nil
}

// scopeKey is the comparison form of a scope (docs/rules.md#identifiers-and-time).
func scopeKey(s string) string {
	if s != "/" {
		s = strings.TrimSuffix(s, "/")
	}
	return strings.ToLower(s)
}

// linksWithVersions numbers imported link periods per principal and tenant
// and dates each unbroken chain of periods from its first start, as the API
// would have.
func linksWithVersions(in []world.Link) []partnerlink.Link {
	sorted := append([]world.Link(nil), in...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.TenantID != b.TenantID {
			return a.TenantID < b.TenantID
		}
		if a.ObjectID != b.ObjectID {
			return a.ObjectID < b.ObjectID
		}
		return ptrTime(a.From).Before(ptrTime(b.From))
	})
	var out []partnerlink.Link
	for i, l := range sorted {
		p := partnerlink.PeriodOf(l.From, l.To)
		link := partnerlink.Link{TenantID: l.TenantID, ObjectID: l.ObjectID, PartnerID: l.PartnerID, Period: p,
			Version: 1, CreatedTime: p.From, UpdatedTime: p.From}
		if !p.To.IsZero() {
			link.UpdatedTime = p.To
		}
		if i > 0 {
			prev := out[len(out)-1]
			if prev.TenantID == l.TenantID && prev.ObjectID == l.ObjectID {
				link.Version = prev.Version + 1
				if prev.Period.To.Equal(p.From) {
					link.CreatedTime = prev.CreatedTime
				}
			}
		}
		out = append(out, link)
	}
	return out
}

// ExportWorld reads the whole world document back (secrets never included),
// in one read-only transaction: the tables as they were at one instant,
// whatever is written meanwhile (SQLite's WAL and PostgreSQL's repeatable
// read give the transaction one snapshot).
func (d *DB) ExportWorld(ctx context.Context) (*world.Document, error) {
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: d.snapshotIsolation()})
	if err != nil {
		return nil, fmt.Errorf("store: export: %w", err)
	}
	defer tx.Rollback()
	doc := &world.Document{Version: world.CurrentVersion}
	if err := exportDirectory(ctx, tx, doc); err != nil {
		return nil, err
	}
	if err := exportRest(ctx, tx, doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// snapshotIsolation is the isolation level at which every statement of a
// transaction reads the same snapshot: SQLite's default (in WAL mode a
// read transaction keeps the snapshot of its first read); PostgreSQL's
// repeatable read (its default reads anew at each statement).
func (d *DB) snapshotIsolation() sql.IsolationLevel {
	if d.dialect == Postgres {
		return sql.LevelRepeatableRead
	}
	return sql.LevelDefault
}

// exportDirectory reads the tenants, principals, partners, memberships
// and links into doc.
func exportDirectory(ctx context.Context, tx *sql.Tx, doc *world.Document) error {
	ts, err := tenants(ctx, tx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		doc.Tenants = append(doc.Tenants, world.Tenant{TenantID: t.ID, Name: t.Name, WebhookURL: t.WebhookURL})
	}
	prs, err := principals(ctx, tx, tx.QueryContext, "")
	if err != nil {
		return err
	}
	for _, p := range prs {
		// One entry per enabled period, oldest first.
		for _, per := range p.Periods() {
			wp := world.Principal{TenantID: p.TenantID, ObjectID: p.ObjectID, Type: string(p.Type), DisplayName: p.DisplayName,
				HomeTenantID: strPtr(p.HomeTenantID), AppID: strPtr(p.AppID), CSPDelegated: p.CSPDelegated,
				From: timePtr(per.From), To: timePtr(per.To), HomeObjectID: p.HomeObjectID}
			if p.SignInName != "" && p.SignInName != p.DisplayName {
				wp.SignInName = p.SignInName
			}
			doc.Principals = append(doc.Principals, wp)
		}
	}
	ps, err := partners(ctx, tx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		homes := p.HomeTenantIDs
		if homes == nil {
			homes = []string{}
		}
		doc.Partners = append(doc.Partners, world.Partner{PartnerID: p.ID, Name: p.Name, GlobalPartnerID: strPtr(p.GlobalID),
			HomeTenantIDs: homes, From: timePtr(p.Period.From), To: timePtr(p.Period.To)})
	}
	ms, err := memberships(ctx, tx, "")
	if err != nil {
		return err
	}
	for _, m := range ms {
		doc.GroupMemberships = append(doc.GroupMemberships, world.GroupMembership{TenantID: m.TenantID, GroupID: m.GroupID,
			MemberID: m.MemberID, From: timePtr(m.Period.From), To: timePtr(m.Period.To)})
	}
	ls, err := links(ctx, tx, partnerlink.LinkFilter{})
	if err != nil {
		return err
	}
	for _, l := range ls {
		doc.Links = append(doc.Links, world.Link{TenantID: l.TenantID, ObjectID: l.ObjectID, PartnerID: l.PartnerID,
			From: timePtr(l.Period.From), To: timePtr(l.Period.To)})
	}
	return nil
}

func exportRest(ctx context.Context, tx *sql.Tx, doc *world.Document) error {
	type scanFn func(rows *sql.Rows) error
	query := func(q string, fn scanFn) error {
		rows, err := tx.QueryContext(ctx, q)
		if err != nil {
			return fmt.Errorf("store: export: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := fn(rows); err != nil {
				return fmt.Errorf("store: export: %w", err)
			}
		}
		return rows.Err()
	}
	var from, to sql.NullInt64
	steps := []struct {
		q  string
		fn scanFn
		// grow, when set, makes room for the table's rows up front:
		// appending a large world's role assignments one by one copied
		// them over and over (half a second at 200k).
		table string
		grow  func(n int)
	}{
		{`SELECT tenant_id, name, parent FROM management_groups`, func(r *sql.Rows) error {
			var mg world.ManagementGroup
			var parent string
			err := r.Scan(&mg.TenantID, &mg.Name, &parent)
			mg.Parent = strPtr(parent)
			doc.ManagementGroups = append(doc.ManagementGroups, mg)
			return err
		}, "", nil},
		{`SELECT subscription_id, tenant_id, name, management_group FROM subscriptions`, func(r *sql.Rows) error {
			var s world.Subscription
			var mg string
			err := r.Scan(&s.SubscriptionID, &s.TenantID, &s.Name, &mg)
			s.ManagementGroup = strPtr(mg)
			doc.Subscriptions = append(doc.Subscriptions, s)
			return err
		}, "", nil},
		{`SELECT tenant_id, id, name, actions, not_actions, data_actions FROM role_definitions`, func(r *sql.Rows) error {
			var rd world.RoleDefinition
			var a, na, da string
			if err := r.Scan(&rd.TenantID, &rd.ID, &rd.Name, &a, &na, &da); err != nil {
				return err
			}
			rd.Actions, rd.NotActions, rd.DataActions = fromJSONList(a), fromJSONList(na), fromJSONList(da)
			if len(rd.DataActions) == 0 {
				rd.DataActions = nil
			}
			doc.RoleDefinitions = append(doc.RoleDefinitions, rd)
			return nil
		}, "", nil},
		{`SELECT tenant_id, id, principal_id, role_definition, scope, valid_from, valid_to FROM role_assignments ORDER BY row_id`, func(r *sql.Rows) error {
			var ra world.RoleAssignment
			err := r.Scan(&ra.TenantID, &ra.ID, &ra.PrincipalID, &ra.RoleDefinition, &ra.Scope, &from, &to)
			ra.From, ra.To = timePtr(instant(from)), timePtr(instant(to))
			doc.RoleAssignments = append(doc.RoleAssignments, ra)
			return err
		}, "role_assignments", func(n int) { doc.RoleAssignments = slices.Grow(doc.RoleAssignments, n) }},
		{`SELECT id, customer_tenant_id, managing_tenant_id, scope, principal_id, role_definition, valid_from, valid_to
			FROM delegations ORDER BY row_id`, func(r *sql.Rows) error {
			var dl world.Delegation
			err := r.Scan(&dl.ID, &dl.CustomerTenantID, &dl.ManagingTenantID, &dl.Scope, &dl.PrincipalID, &dl.RoleDefinition, &from, &to)
			dl.From, dl.To = timePtr(instant(from)), timePtr(instant(to))
			doc.Delegations = append(doc.Delegations, dl)
			return err
		}, "delegations", func(n int) { doc.Delegations = slices.Grow(doc.Delegations, n) }},
		{`SELECT tenant_id, environment_id, type FROM environments`, func(r *sql.Rows) error {
			var e world.Environment
			err := r.Scan(&e.TenantID, &e.EnvironmentID, &e.Type)
			doc.Environments = append(doc.Environments, e)
			return err
		}, "", nil},
		{`SELECT tenant_id, environment_id, id, kind, paid FROM pp_resources`, func(r *sql.Rows) error {
			var res world.PowerPlatformResource
			err := r.Scan(&res.TenantID, &res.EnvironmentID, &res.ID, &res.Kind, &res.Paid)
			doc.PowerPlatformResources = append(doc.PowerPlatformResources, res)
			return err
		}, "", nil},
		{`SELECT resource_id, principal_id, role, valid_from, valid_to FROM ownership ORDER BY row_id`, func(r *sql.Rows) error {
			var o world.Ownership
			err := r.Scan(&o.ResourceID, &o.PrincipalID, &o.Role, &from, &to)
			o.From, o.To = timePtr(instant(from)), timePtr(instant(to))
			doc.Ownership = append(doc.Ownership, o)
			return err
		}, "ownership", func(n int) { doc.Ownership = slices.Grow(doc.Ownership, n) }},
	}
	for _, s := range steps {
		if s.grow != nil {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+s.table).Scan(&n); err != nil {
				return fmt.Errorf("store: export: %w", err)
			}
			s.grow(n)
		}
		if err := query(s.q, s.fn); err != nil {
			return err
		}
	}
	return nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func ptrTime(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return *p
}

func ptrNanos(p *time.Time) any { return nanos(ptrTime(p)) }

func jsonList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l)
	return string(b)
}

func fromJSONList(s string) []string {
	var l []string
	json.Unmarshal([]byte(s), &l)
	if l == nil {
		l = []string{}
	}
	return l
}
