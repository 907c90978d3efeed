package duck

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// grantsSQL builds the grants of docs/rules.md#azure-attribution and files them by scope:
// sub_grants for scopes that contain whole subscriptions (tenant root,
// management groups expanded to every subscription below them, the
// subscription itself) and scope_grants for resource group and resource
// scopes, keyed by the lower-cased scope without its trailing "/".
const grantsSQL = `
-- A role can write (partnerlink.CanWrite, docs/rules.md): some action is "*", or
-- does not end in "/read" and is not under "Microsoft.Support/", and no
-- notAction, read as a glob where "*" matches any text, matches that
-- action's text; case-insensitive. Data actions are not loaded: they never
-- count.
CREATE TABLE role_writer AS
SELECT r.ord, r.tenant, r.name, r.id, EXISTS (
    SELECT 1 FROM role_actions a
    WHERE a.ord = r.ord AND trim(a.a) <> ''
      AND (trim(a.a) = '*' OR (NOT suffix(lower(trim(a.a)), '/read') AND NOT starts_with(lower(trim(a.a)), 'microsoft.support/')))
      AND NOT EXISTS (
        SELECT 1 FROM role_not_actions n
        WHERE n.ord = r.ord
          AND lower(a.a) LIKE replace(replace(replace(replace(lower(n.n), '\', '\\'), '%', '\%'), '_', '\_'), '*', '%') ESCAPE '\')
  ) AS writer
FROM roles r;

-- A roleDefinition reference is a name or a GUID, case-insensitively,
-- looked up in the tenant of the scope (an assignment's tenant, a
-- delegation's customer tenant): that tenant's custom roles, then the roles
-- of every tenant (tenant ''), the document's before the built-in ones.
CREATE TABLE role_ref AS
SELECT x.tenant, x.ref, arg_min(w.writer, CASE WHEN w.tenant = '' THEN 1000000000 ELSE 0 END + w.ord) AS writer
FROM (SELECT tenant, role AS ref FROM assignments UNION SELECT ctenant, role FROM delegations) x
JOIN role_writer w ON (w.tenant = x.tenant OR w.tenant = '') AND (lower(x.ref) = lower(w.name) OR lower(x.ref) = lower(w.id))
GROUP BY x.tenant, x.ref;

-- A location ID is credited only while it and its global ID are active.
CREATE TABLE partner_period AS
SELECT p.pid,
       CASE WHEN g.pid IS NULL THEN p.f ELSE greatest(p.f, g.f) END AS f,
       CASE WHEN g.pid IS NULL THEN p.t ELSE least(p.t, g.t) END AS t
FROM partners p LEFT JOIN partners g ON g.pid = p.gid;

-- Every principal a linked principal reaches through memberships of its
-- tenant, transitively, with the intersection of the memberships' and the
-- groups' periods; a CSP delegated principal ends the path (a chain through
-- it never credits), and a path never visits a group twice (cycles).
CREATE TABLE reach AS
WITH RECURSIVE r(tenant, start, principal, f, t, path) AS (
    SELECT DISTINCT l.tenant, l.oid, l.oid, -4611686018427387904::BIGINT, 4611686018427387904::BIGINT, [l.oid]
    FROM links l JOIN principals p ON p.tenant = l.tenant AND p.oid = l.oid
    WHERE NOT p.csp
  UNION ALL
    SELECT r.tenant, r.start, m.grp, greatest(r.f, m.f, g.f), least(r.t, m.t, g.t), list_append(r.path, m.grp)
    FROM r
    JOIN memberships m ON m.tenant = r.tenant AND m.member = r.principal
    JOIN principals g ON g.tenant = m.tenant AND g.oid = m.grp
    WHERE NOT g.csp
      AND greatest(r.f, m.f, g.f) < least(r.t, m.t, g.t)
      AND NOT list_contains(r.path, m.grp)
)
SELECT DISTINCT tenant, start, principal, f, t FROM r;

-- Grants: link ⋈ linked principal ⋈ partner period ⋈ reach ⋈ (role
-- assignment in the link's tenant | delegation from the link's tenant as
-- managing tenant), the period being the intersection of them all.
CREATE TABLE grants AS
SELECT l.pid, a.tenant AS stenant, a.scope, rr.writer,
       greatest(l.f, c.f, pp.f, r.f, a.f) AS f, least(l.t, c.t, pp.t, r.t, a.t) AS t
FROM links l
JOIN principals c ON c.tenant = l.tenant AND c.oid = l.oid
JOIN partner_period pp ON pp.pid = l.pid
JOIN reach r ON r.tenant = l.tenant AND r.start = l.oid
JOIN assignments a ON a.tenant = l.tenant AND a.principal = r.principal
JOIN role_ref rr ON rr.tenant = a.tenant AND rr.ref = a.role
WHERE greatest(l.f, c.f, pp.f, r.f, a.f) < least(l.t, c.t, pp.t, r.t, a.t)
UNION ALL
SELECT l.pid, d.ctenant AS stenant, d.scope, rr.writer,
       greatest(l.f, c.f, pp.f, r.f, d.f) AS f, least(l.t, c.t, pp.t, r.t, d.t) AS t
FROM links l
JOIN principals c ON c.tenant = l.tenant AND c.oid = l.oid
JOIN partner_period pp ON pp.pid = l.pid
JOIN reach r ON r.tenant = l.tenant AND r.start = l.oid
JOIN delegations d ON d.mtenant = l.tenant AND d.principal = r.principal
JOIN role_ref rr ON rr.tenant = d.ctenant AND rr.ref = d.role
WHERE greatest(l.f, c.f, pp.f, r.f, d.f) < least(l.t, c.t, pp.t, r.t, d.t);

-- Scopes compare lower-cased with a single trailing "/" ignored.
CREATE TABLE grants_k AS
SELECT pid, stenant, writer, f, t,
       lower(CASE WHEN scope <> '/' AND suffix(scope, '/') THEN left(scope, length(scope) - 1) ELSE scope END) AS sk
FROM grants;

-- Each subscription's management groups, transitively.
CREATE TABLE sub_mg AS
WITH RECURSIVE a(sub, tenant, mg, depth) AS (
    SELECT sub, tenant, lower(mg), 0 FROM subs WHERE mg IS NOT NULL
  UNION ALL
    SELECT a.sub, a.tenant, lower(m.parent), a.depth + 1
    FROM a JOIN mgs m ON m.tenant = a.tenant AND lower(m.name) = a.mg
    WHERE m.parent IS NOT NULL AND a.depth < 10000
)
SELECT DISTINCT sub, tenant, mg FROM a;

CREATE TABLE sub_grants AS
SELECT s.sub, g.pid, g.f, g.t, g.writer
FROM grants_k g JOIN subs s ON s.tenant = g.stenant
WHERE g.sk = '/'
UNION ALL
SELECT m.sub, g.pid, g.f, g.t, g.writer
FROM grants_k g JOIN sub_mg m ON m.tenant = g.stenant AND m.mg = substr(g.sk, 50)
WHERE starts_with(g.sk, '/providers/microsoft.management/managementgroups/')
UNION ALL
SELECT s.sub, g.pid, g.f, g.t, g.writer
FROM grants_k g JOIN subs s ON s.sub = substr(g.sk, 16)
WHERE regexp_full_match(g.sk, '/subscriptions/[^/]+');

CREATE TABLE scope_grants AS
SELECT sk, pid, f, t, writer FROM grants_k
WHERE starts_with(sk, '/subscriptions/') AND NOT regexp_full_match(sk, '/subscriptions/[^/]+');
`

// usageSQL reads the FOCUS CSV, keeping the rows of the charge category
// "Usage" (case-insensitively) whose ChargePeriodStart lies in [from, to),
// in file order (the table's rowid is the row's order in the file).
func usageSQL(path string, header []string, from, to time.Time) string {
	return fmt.Sprintf(`
CREATE TABLE usage AS
SELECT ps, pe, sub, raw, lower(raw) AS rkey, cur, cost FROM (
  SELECT epoch_us(ChargePeriodStart) AS ps, epoch_us(ChargePeriodEnd) AS pe,
         regexp_replace(lower(SubAccountId), '^/subscriptions/([^/]*)/?$', '\1') AS sub,
         coalesce(ResourceId, '') AS rid0,
         CASE WHEN length(rid0) > 1 AND suffix(rid0, '/') THEN left(rid0, length(rid0) - 1) ELSE rid0 END AS rid1,
         CASE WHEN rid1 = '' THEN '/subscriptions/' || sub ELSE rid1 END AS raw,
         BillingCurrency AS cur, EffectiveCost AS cost
  FROM read_csv(%s, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
                timestampformat = '%%Y-%%m-%%dT%%H:%%M:%%SZ',
                columns = %s)
  WHERE lower(ChargeCategory) = 'usage'
    AND epoch_us(ChargePeriodStart) >= %d AND epoch_us(ChargePeriodStart) < %d
)`, quote(path), columns(header), from.UnixMicro(), to.UnixMicro())
}

// columns types the file's columns by name: the periods as timestamps,
// the amounts as DECIMAL(38,18), everything else as text.
func columns(header []string) string { return columnsTyped(header, "DECIMAL(38,18)") }

// columnsTyped is columns with the amounts as amountType.
func columnsTyped(header []string, amountType string) string {
	var parts []string
	for _, h := range header {
		typ := "VARCHAR"
		switch h {
		case "ChargePeriodStart", "ChargePeriodEnd":
			typ = "TIMESTAMP"
		case "EffectiveCost", "BilledCost":
			typ = amountType
		}
		parts = append(parts, quote(h)+": '"+typ+"'")
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// creditsSQL credits each usage row of a known subscription to every
// partner with a grant whose scope contains the row's resource and whose
// period overlaps the row's charge period (once per partner and row);
// incentive-eligible when one writing grant covers the whole charge period.
// A resource id keeps the casing of its first counted row.
const creditsSQL = `
WITH u AS (
  SELECT u.rowid AS line, u.ps, u.pe, u.sub, u.raw, u.rkey, u.cur, u.cost, s.tenant
  FROM usage u JOIN subs s ON s.sub = u.sub
),
res AS MATERIALIZED (
  SELECT sub, rkey, arg_min(raw, line) AS raw FROM u GROUP BY sub, rkey
),
-- Ancestor scopes of each resource inside its subscription: every "/"
-- boundary below /subscriptions/{sub}, and the resource itself; an id
-- outside its subscription's path is contained only by itself (and by the
-- subscription's own scopes, in sub_grants).
anc AS (
  SELECT sub, rkey, left(rkey, i - 1) AS akey FROM (
    SELECT sub, rkey, unnest(generate_series(length('/subscriptions/' || sub) + 2, length(rkey))) AS i
    FROM res WHERE starts_with(rkey, '/subscriptions/' || sub || '/'))
  WHERE substr(rkey, i, 1) = '/'
  UNION ALL
  SELECT sub, rkey, rkey FROM res WHERE rkey <> '/subscriptions/' || sub
),
res_grants AS MATERIALIZED (
  SELECT a.sub, a.rkey, g.pid, g.f, g.t, g.writer FROM anc a JOIN scope_grants g ON g.sk = a.akey
  UNION ALL
  SELECT r.sub, r.rkey, g.pid, g.f, g.t, g.writer FROM res r JOIN sub_grants g ON g.sub = r.sub
),
per_row AS (
  SELECT u.line, g.pid, any_value(u.tenant) AS tenant, any_value(u.sub) AS sub, any_value(u.rkey) AS rkey,
         any_value(u.cur) AS cur, any_value(u.cost) AS cost,
         bool_or(g.writer AND g.f <= u.ps AND g.t >= u.pe) AS eligible
  FROM u JOIN res_grants g ON g.sub = u.sub AND g.rkey = u.rkey
  WHERE g.f < u.pe AND u.ps < g.t
  GROUP BY u.line, g.pid
)
SELECT p.pid, p.tenant, p.sub, r.raw, p.cur,
       CAST(sum(p.cost) AS VARCHAR),
       CAST(coalesce(sum(p.cost) FILTER (WHERE p.eligible), 0::DECIMAL(38,18)) AS VARCHAR),
       count(*)
FROM per_row p JOIN res r ON r.sub = p.sub AND r.rkey = p.rkey
GROUP BY p.pid, p.tenant, p.sub, r.raw, p.cur
ORDER BY p.pid, p.tenant, p.sub, r.raw, p.cur`

// csvWriter writes docs/api.md#attribution-csv rows.
type csvWriter struct{ w *bufio.Writer }

func newCSV(w io.Writer) *csvWriter {
	c := &csvWriter{bufio.NewWriterSize(w, 1<<20)}
	c.w.WriteString("PartnerId,TenantId,SubAccountId,ResourceId,BillingCurrency,AttributedCost,IncentiveEligibleCost,UsageRows\n")
	return c
}

func (c *csvWriter) row(fields ...any) {
	for i, f := range fields {
		if i > 0 {
			c.w.WriteByte(',')
		}
		switch v := f.(type) {
		case string:
			if strings.ContainsAny(v, ",\"\r\n") {
				v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
			}
			c.w.WriteString(v)
		case int64:
			c.w.WriteString(strconv.FormatInt(v, 10))
		}
	}
	c.w.WriteByte('\n')
}

func (c *csvWriter) flush() error { return c.w.Flush() }

// principalPeriodsSQL merges the periods of each principal that touch (one
// ends where the next starts): the world document lists a principal once
// per enabled period (docs/rules.md, "Principals: enabled periods"), and a
// principal disabled and enabled again at the same instant was enabled all
// along, as the engine reads it. Joins on principals then give one row per
// enabled period, so grants are the union over the periods.
const principalPeriodsSQL = `
CREATE TABLE principals_merged AS
WITH o AS (
    SELECT tenant, oid, csp, f, t,
           CASE WHEN f = lag(t) OVER (PARTITION BY tenant, oid ORDER BY f) THEN 0 ELSE 1 END AS starts
    FROM principals
), i AS (
    SELECT tenant, oid, csp, f, t,
           sum(starts) OVER (PARTITION BY tenant, oid ORDER BY f ROWS UNBOUNDED PRECEDING) AS island
    FROM o
)
SELECT tenant, oid, bool_or(csp) AS csp, min(f) AS f, max(t) AS t
FROM i GROUP BY tenant, oid, island;
DROP TABLE principals;
ALTER TABLE principals_merged RENAME TO principals;
`
