package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
)

const linkColumns = `tenant_id, object_id, partner_id, valid_from, valid_to, version, created_time, updated_time`

// The statements of a link change, prepared once (DB.prepare): parsing them
// on every change was a fifth of the CPU of a link write on SQLite.
const (
	qCurrentLink = `SELECT ` + linkColumns + ` FROM links WHERE tenant_id = $1 AND object_id = $2 AND valid_to IS NULL`
	qLastVersion = `SELECT MAX(version), MAX(updated_time) FROM links WHERE tenant_id = $1 AND object_id = $2`
	qReaffirm    = `UPDATE links SET version = $3, updated_time = $4 WHERE tenant_id = $1 AND object_id = $2 AND valid_to IS NULL`
	qCloseLink   = `UPDATE links SET valid_to = $3, updated_time = $3 WHERE tenant_id = $1 AND object_id = $2 AND valid_to IS NULL`
	qVersionEnd  = `UPDATE links SET version = $3 WHERE tenant_id = $1 AND object_id = $2 AND valid_to = $4`
	qInsertLink  = `INSERT INTO links (` + linkColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	qInsertEvent = `INSERT INTO link_events (tenant_id, object_id, action, partner_id, prev_partner_id,
		version, at, actor_tenant_id, actor_object_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	// A tenant without a webhook (or without a row) gets its notification
	// parked (see Park): no delivery round rewrites it until a webhook is set.
	qQueueNotice = `INSERT INTO outbox (tenant_id, event_id, payload, next_attempt_at, last_error, created_at)
		VALUES ($1, $2, $3,
			COALESCE((SELECT CASE WHEN webhook_url = '' THEN ` + parkedAt + ` ELSE $4 END FROM tenants WHERE tenant_id = $1), ` + parkedAt + `),
			COALESCE((SELECT CASE WHEN webhook_url = '' THEN '` + noWebhook + `' ELSE '' END FROM tenants WHERE tenant_id = $1), '` + noWebhook + `'),
			$4)`
)

// qCurrentLinkView is qCurrentLink with the partner's registered name: one
// read for a GET of the caller's link instead of two.
var qCurrentLinkView = `SELECT l.` + strings.ReplaceAll(linkColumns, ", ", ", l.") + `, COALESCE(p.name, '')
	FROM links l LEFT JOIN partners p ON p.partner_id = l.partner_id
	WHERE l.tenant_id = $1 AND l.object_id = $2 AND l.valid_to IS NULL`

var linkTxQueries = []string{qCurrentLink, qLastVersion, qReaffirm, qCloseLink, qVersionEnd, qInsertLink, qInsertEvent, qInsertEvent + ` RETURNING id`, qQueueNotice}

func scanLinks(rows *sql.Rows, err error) ([]partnerlink.Link, error) {
	if err != nil {
		return nil, fmt.Errorf("store: query links: %w", err)
	}
	defer rows.Close()
	var out []partnerlink.Link
	for rows.Next() {
		var l partnerlink.Link
		if err := scanLink(rows, &l); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// scanLink reads the linkColumns of the current row into l, and any
// columns after them into more.
func scanLink(rows *sql.Rows, l *partnerlink.Link, more ...any) error {
	var from, to sql.NullInt64
	var created, updated int64
	dest := append([]any{&l.TenantID, &l.ObjectID, &l.PartnerID, &from, &to, &l.Version, &created, &updated}, more...)
	if err := rows.Scan(dest...); err != nil {
		return fmt.Errorf("store: read link: %w", err)
	}
	l.Period = partnerlink.Period{From: instant(from), To: instant(to)}
	l.CreatedTime = time.Unix(0, created).UTC()
	l.UpdatedTime = time.Unix(0, updated).UTC()
	return nil
}

// preparedTx runs the statements of a transaction in their prepared form,
// each bound to the transaction once (a batch runs them for every change).
type preparedTx struct {
	d     *DB
	tx    *sql.Tx
	bound map[string]*sql.Stmt
}

func newPreparedTx(d *DB, tx *sql.Tx) *preparedTx {
	return &preparedTx{d: d, tx: tx, bound: map[string]*sql.Stmt{}}
}

func (p *preparedTx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := p.bound[query]; ok {
		return st, nil
	}
	st, err := p.d.stmt(ctx, p.tx, query)
	if err != nil {
		return nil, err
	}
	p.bound[query] = st
	return st, nil
}

func (p *preparedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (p *preparedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (p *preparedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return p.tx.QueryRowContext(ctx, query, args...) // reports the same error
	}
	return st.QueryRowContext(ctx, args...)
}

func currentLink(ctx context.Context, q queryer, tenantID, objectID string) (*partnerlink.Link, error) {
	ls, err := scanLinks(q.QueryContext(ctx, qCurrentLink, tenantID, objectID))
	if err != nil {
		return nil, err
	}
	if len(ls) == 0 {
		return nil, nil
	}
	return &ls[0], nil
}

// CurrentLink returns the link in force for a principal of a tenant.
func (d *DB) CurrentLink(ctx context.Context, tenantID, objectID string) (*partnerlink.Link, error) {
	ls, err := scanLinks(d.query(ctx, qCurrentLink, strings.ToLower(tenantID), strings.ToLower(objectID)))
	if err != nil {
		return nil, err
	}
	if len(ls) == 0 {
		return nil, noCurrentLink(tenantID, objectID)
	}
	return &ls[0], nil
}

// CurrentLinkView is CurrentLink with the partner's registered name (empty
// when the partner ID is not in the registry).
// On SQLite answers come from a cache that SQLite's data_version keeps
// exact (viewCache).
func (d *DB) CurrentLinkView(ctx context.Context, tenantID, objectID string) (*partnerlink.LinkView, error) {
	key := viewKey{strings.ToLower(tenantID), strings.ToLower(objectID)}
	if d.views == nil {
		return d.currentLinkView(ctx, key)
	}
	version, err := d.views.dataVersion(ctx)
	if err != nil { // answer from the database; the cache has a new connection for the next probe
		return d.currentLinkView(ctx, key)
	}
	if v, ok := d.views.get(version, key); ok {
		if v == nil {
			return nil, noCurrentLink(key.tenantID, key.objectID)
		}
		return v, nil
	}
	v, err := d.currentLinkView(ctx, key)
	switch {
	case err == nil:
		d.views.put(version, key, v)
	case partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND:
		d.views.put(version, key, nil)
	}
	return v, err
}

func noCurrentLink(tenantID, objectID string) error {
	return partnerlink.Errorf(partnerlink.ENOTFOUND, "no partner ID is linked to principal %s in tenant %s", objectID, tenantID)
}

// currentLinkView reads the view from the database.
func (d *DB) currentLinkView(ctx context.Context, key viewKey) (*partnerlink.LinkView, error) {
	rows, err := d.query(ctx, qCurrentLinkView, key.tenantID, key.objectID)
	if err != nil {
		return nil, fmt.Errorf("store: query links: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: query links: %w", err)
		}
		return nil, noCurrentLink(key.tenantID, key.objectID)
	}
	var v partnerlink.LinkView
	if err := scanLink(rows, &v.Link, &v.PartnerName); err != nil {
		return nil, err
	}
	return &v, nil
}

// ChangeLink applies one link change in a transaction: it closes the current
// period and opens the next at the same instant (replace), bumps the version
// (re-affirm), or closes it (delete); records the audit event; and queues
// the tenant's notification when asked.
//
// On SQLite, changes that arrive while another is being written are
// committed together (group commit), so the cost of a commit (BEGIN, WAL
// frames, COMMIT) is shared: with the background checkpointer it took link
// writes from about 1,800 to 4,500–6,500/s on two cores (bench links), and
// with fewer pages and reads per change to 7,000–8,000/s.
func (d *DB) ChangeLink(ctx context.Context, tenantID, objectID string, at time.Time, actor partnerlink.Caller,
	decide func(current *partnerlink.Link) (partnerlink.LinkChange, error)) (*partnerlink.Link, *partnerlink.LinkEvent, error) {
	c := &linkChange{ctx: ctx, tenantID: strings.ToLower(tenantID), objectID: strings.ToLower(objectID), at: at,
		actor: actor, decide: decide}
	if d.dialect == SQLite {
		d.changeLinksGrouped(c)
	} else if err := d.inTx(ctx, func(tx *sql.Tx) error { return d.applyLinkChange(ctx, newPreparedTx(d, tx), c) }); err != nil {
		c.err = err
	}
	if c.err != nil {
		return nil, nil, c.err
	}
	return c.link, c.event, nil
}

// linkChange is one ChangeLink call and, once applied, its outcome.
type linkChange struct {
	ctx                context.Context
	tenantID, objectID string
	at                 time.Time
	actor              partnerlink.Caller
	decide             func(current *partnerlink.Link) (partnerlink.LinkChange, error)

	link  *partnerlink.Link
	event *partnerlink.LinkEvent
	err   error
	wake  chan bool // true: lead the next batch; false: written
}

// applyLinkChange writes one change in tx and records its outcome in c. A
// change refused before anything is written (by decide, or a delete with
// no link) is recorded in c.err; a returned error means the statements
// failed and tx must be rolled back.
func (d *DB) applyLinkChange(ctx context.Context, tx *preparedTx, c *linkChange) error {
	tenantID, objectID, at := c.tenantID, c.objectID, c.at
	if err := d.lockPrincipal(ctx, tx, tenantID, objectID); err != nil {
		return err
	}
	cur, err := currentLink(ctx, tx, tenantID, objectID)
	if err != nil {
		return err
	}
	ch, err := c.decide(cur)
	if err != nil {
		c.err = err
		return nil
	}
	// Changes of one principal are applied in the order they reach the
	// store (docs/rules.md, "Link history under concurrency"): one that took
	// its instant a little earlier than the principal's last change —
	// linked, re-affirmed or deleted — happens at that change's instant, so
	// periods and events never run backwards; and a change that would close
	// a period at the instant it began happens a nanosecond later, so no
	// period is empty.
	version, prev := 1, ""
	var last time.Time
	if cur != nil {
		version, last, prev = cur.Version+1, cur.UpdatedTime, cur.PartnerID
	} else if lastV, lastAt, err := lastChange(ctx, tx, tenantID, objectID); err != nil {
		return err
	} else {
		version, last = lastV+1, lastAt
	}
	if at.Before(last) {
		at = last
	}
	closes := ch.Action == partnerlink.LinkReplaced || ch.Action == partnerlink.LinkDeleted
	if cur != nil && closes && !at.After(cur.Period.From) {
		at = cur.Period.From.Add(time.Nanosecond)
	}
	created := at
	if cur != nil {
		created = cur.CreatedTime
	}
	var result *partnerlink.Link
	switch ch.Action {
	case partnerlink.LinkReaffirmed:
		if _, err := tx.ExecContext(ctx, qReaffirm, tenantID, objectID, version, at.UnixNano()); err != nil {
			return fmt.Errorf("store: re-affirm link: %w", err)
		}
		l := *cur
		l.Version, l.UpdatedTime = version, at
		result = &l
	case partnerlink.LinkCreated, partnerlink.LinkReplaced:
		if cur != nil {
			if err := closeLink(ctx, tx, tenantID, objectID, at); err != nil {
				return err
			}
		}
		l := partnerlink.Link{TenantID: tenantID, ObjectID: objectID, PartnerID: ch.PartnerID,
			Period: partnerlink.Period{From: at}, Version: version, CreatedTime: created, UpdatedTime: at}
		if err := insertLink(ctx, tx, l); err != nil {
			return err
		}
		result = &l
	case partnerlink.LinkDeleted:
		if cur == nil {
			c.err = partnerlink.Errorf(partnerlink.ENOTFOUND, "no partner ID is linked to principal %s in tenant %s", objectID, tenantID)
			return nil
		}
		if err := closeLink(ctx, tx, tenantID, objectID, at); err != nil {
			return err
		}
		// The closed period carries the delete's version, so versions
		// keep counting up after a re-link.
		if _, err := tx.ExecContext(ctx, qVersionEnd, tenantID, objectID, version, at.UnixNano()); err != nil {
			return fmt.Errorf("store: version deleted link: %w", err)
		}
		l := *cur
		l.Period.To, l.Version, l.UpdatedTime = at, version, at
		result = &l
	default:
		return fmt.Errorf("store: unknown link action %q", ch.Action)
	}
	ev := partnerlink.LinkEvent{TenantID: tenantID, ObjectID: objectID, Action: ch.Action, PartnerID: result.PartnerID,
		PrevPartnerID: prev, Version: version, At: at, ActorTenantID: c.actor.TenantID, ActorObjectID: c.actor.ObjectID}
	if ch.Action == partnerlink.LinkReaffirmed || ch.Action == partnerlink.LinkDeleted {
		ev.PrevPartnerID = ""
	}
	if ev.ID, err = d.insertEvent(ctx, tx, ev); err != nil {
		return fmt.Errorf("store: record link event: %w", err)
	}
	if ch.Notify {
		payload, err := json.Marshal(partnerlink.LinkNotification{Type: "partnerlink.link." + string(ev.Action),
			EventID: ev.ID, TenantID: ev.TenantID, ObjectID: ev.ObjectID, PartnerID: ev.PartnerID,
			PrevPartnerID: ev.PrevPartnerID, Version: ev.Version, At: at.UTC()})
		if err != nil {
			return err
		}
		if err := queueNotice(ctx, tx, tenantID, ev.ID, string(payload), at); err != nil {
			return err
		}
	}
	c.link, c.event = result, &ev
	return nil
}

// insertEvent records ev and returns its id: on SQLite from the insert's
// rowid (a plain statement, cheaper than reading RETURNING's row on the
// writer's hot path), on PostgreSQL with RETURNING.
func (d *DB) insertEvent(ctx context.Context, tx *preparedTx, ev partnerlink.LinkEvent) (int64, error) {
	args := []any{ev.TenantID, ev.ObjectID, string(ev.Action), ev.PartnerID, ev.PrevPartnerID, ev.Version,
		ev.At.UnixNano(), ev.ActorTenantID, ev.ActorObjectID}
	if d.dialect == SQLite {
		res, err := tx.ExecContext(ctx, qInsertEvent, args...)
		if err != nil {
			return 0, err
		}
		return res.LastInsertId()
	}
	var id int64
	err := tx.QueryRowContext(ctx, qInsertEvent+` RETURNING id`, args...).Scan(&id)
	return id, err
}

// lockPrincipal serializes link changes of one principal. PostgreSQL runs
// READ COMMITTED, so two transactions could both see "no link" and both
// insert; a transaction-scoped advisory lock on the principal prevents it.
// The same statement takes the tenant's outbox lock shared, for the
// notification the change may queue (lockOutbox). SQLite transactions
// already take the write lock at BEGIN.
func (d *DB) lockPrincipal(ctx context.Context, q queryer, tenantID, objectID string) error {
	if d.dialect != Postgres {
		return nil
	}
	if _, err := q.ExecContext(ctx, qLockPrincipal, tenantID+"/"+objectID, outboxLockKey(tenantID)); err != nil {
		return fmt.Errorf("store: lock principal: %w", err)
	}
	return nil
}

// lastVersion is the highest version this principal's link ever had, so a
// new link after a delete keeps counting up (etags never repeat).
// lastChange is the version and instant of a principal's last link change
// when it has no current link (0 and the zero time when it never had one).
// Every change leaves its instant in a links row's updated_time.
func lastChange(ctx context.Context, q queryer, tenantID, objectID string) (int, time.Time, error) {
	var v, at sql.NullInt64
	err := q.QueryRowContext(ctx, qLastVersion, tenantID, objectID).Scan(&v, &at)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: last link change: %w", err)
	}
	if !at.Valid {
		return int(v.Int64), time.Time{}, nil
	}
	return int(v.Int64), time.Unix(0, at.Int64).UTC(), nil
}

func closeLink(ctx context.Context, q queryer, tenantID, objectID string, at time.Time) error {
	if _, err := q.ExecContext(ctx, qCloseLink, tenantID, objectID, at.UnixNano()); err != nil {
		return fmt.Errorf("store: close link: %w", err)
	}
	return nil
}

func insertLink(ctx context.Context, q queryer, l partnerlink.Link) error {
	if _, err := q.ExecContext(ctx, qInsertLink, l.TenantID, l.ObjectID, l.PartnerID, nanos(l.Period.From), nanos(l.Period.To), l.Version,
		l.CreatedTime.UnixNano(), l.UpdatedTime.UnixNano()); err != nil {
		return fmt.Errorf("store: insert link: %w", err)
	}
	return nil
}

// linkWhere builds the WHERE clause of a LinkFilter.
// For events (current false) a partner filter also matches the previous
// partner ID, so a partner sees the change that took a link away from it.
func linkWhere(f partnerlink.LinkFilter, current bool) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.TenantID != "" {
		add("tenant_id = $%d", strings.ToLower(f.TenantID))
	}
	if f.ObjectID != "" {
		add("object_id = $%d", strings.ToLower(f.ObjectID))
	}
	if len(f.PartnerIDs) > 0 {
		var ph []string
		for _, p := range f.PartnerIDs {
			args = append(args, p)
			ph = append(ph, fmt.Sprintf("$%d", len(args)))
		}
		in := "(" + strings.Join(ph, ", ") + ")"
		if current {
			conds = append(conds, "partner_id IN "+in)
		} else {
			conds = append(conds, "(partner_id IN "+in+" OR prev_partner_id IN "+in+")")
		}
	}
	if current && f.CurrentOnly {
		conds = append(conds, "valid_to IS NULL")
	}
	if !current && !f.From.IsZero() {
		add("at >= $%d", f.From.UnixNano())
	}
	if !current && !f.To.IsZero() {
		add("at < $%d", f.To.UnixNano())
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func limit(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(" LIMIT %d", n)
}

// Links lists link periods, oldest first.
func (d *DB) Links(ctx context.Context, f partnerlink.LinkFilter) ([]partnerlink.Link, error) {
	return links(ctx, d.db, f)
}

func links(ctx context.Context, q queryer, f partnerlink.LinkFilter) ([]partnerlink.Link, error) {
	where, args := linkWhere(f, true)
	return scanLinks(q.QueryContext(ctx, `SELECT `+linkColumns+` FROM links`+where+` ORDER BY id`+limit(f.Limit), args...))
}

// linkEventsQuery selects the audit events f matches, oldest first; a
// month's window is read through the index on at (link_events_at).
func linkEventsQuery(f partnerlink.LinkFilter) (string, []any) {
	where, args := linkWhere(f, false)
	return `SELECT id, tenant_id, object_id, action, partner_id, prev_partner_id, version, at,
		actor_tenant_id, actor_object_id FROM link_events` + where + ` ORDER BY id` + limit(f.Limit), args
}

// LinkEvents lists audit events, oldest first.
func (d *DB) LinkEvents(ctx context.Context, f partnerlink.LinkFilter) ([]partnerlink.LinkEvent, error) {
	query, args := linkEventsQuery(f)
	rows, err := d.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: query link events: %w", err)
	}
	defer rows.Close()
	var out []partnerlink.LinkEvent
	for rows.Next() {
		var e partnerlink.LinkEvent
		var action string
		var at int64
		if err := rows.Scan(&e.ID, &e.TenantID, &e.ObjectID, &action, &e.PartnerID, &e.PrevPartnerID, &e.Version, &at,
			&e.ActorTenantID, &e.ActorObjectID); err != nil {
			return nil, err
		}
		e.Action = partnerlink.LinkAction(action)
		e.At = time.Unix(0, at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
