package duck

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"strings"
	"time"
)

// RunTuned is Run written the way DuckDB is fast (a fair peer for the
// bench): the world's grants as in Run, then
//
//   - the usage read once, typed, with the amounts as DECIMAL(18,6) when
//     every amount is proved to have at most six places (else
//     DECIMAL(38,18)); Parquet is aggregated straight from the file (its
//     file_row_number gives the order), CSV from one table of its counted
//     rows in file order (DuckDB's CSV reader has no row number);
//   - one aggregation with GROUPING SETS: the distinct (SubAccountId,
//     ResourceId) texts with their first position, and the usage per (text
//     hash, period, currency) with its sum and row count, so that parsing
//     and lower-casing run once per distinct text and the join to the
//     grants is on integers, with no strings carried;
//   - daily charge periods as bitmasks: each grant's days (credited: the
//     grant overlaps the day; eligible: a writing grant covers it whole)
//     worked out once per grant at its scope, OR-ed per resource and
//     partner over the resource's ancestor scopes, and tested per (resource,
//     day, currency) with a shift; periods that are not one whole day of
//     the range are credited by comparing intervals, as Run does;
//   - the first spelling of a resource kept by its texts' first positions.
//
// The output is the same bytes as Run's (the bench checks).
func RunTuned(ctx context.Context, opt Options, w io.Writer) error {
	return run(ctx, opt, w, true)
}

// day is a day in microseconds.
const day = int64(24 * time.Hour / time.Microsecond)

// tunedUsageSQL aggregates the usage into g (see RunTuned), the amounts
// read as amount. A row of g with h NULL is a distinct text (s, rid) with
// its first position; a row with h set is the usage of a text's hash per
// period and currency. exact is false when some amount is not exact in the
// type read.
func tunedUsageSQL(path string, header []string, from, to time.Time, amount string) string {
	filter := fmt.Sprintf(`lower(ChargeCategory) = 'usage'
  AND ChargePeriodStart::TIMESTAMP >= epoch_ms(%d) AND ChargePeriodStart::TIMESTAMP < epoch_ms(%d)`, from.UnixMilli(), to.UnixMilli())
	cols := fmt.Sprintf(`coalesce(SubAccountId, '') AS s, coalesce(ResourceId, '') AS rid,
       epoch_us(ChargePeriodStart::TIMESTAMP) AS ps, epoch_us(ChargePeriodEnd::TIMESTAMP) AS pe,
       BillingCurrency AS cur, EffectiveCost::%s AS cost, %s AS exact`, amount, exactCheck(amount))
	var rows, pre string
	if strings.HasSuffix(strings.ToLower(path), ".parquet") {
		rows = fmt.Sprintf("(SELECT %s, file_row_number AS pos FROM read_parquet(%s) WHERE %s)", cols, quote(path), filter)
	} else {
		pre = fmt.Sprintf(`CREATE OR REPLACE TABLE u AS
SELECT %s
FROM read_csv(%s, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', columns = %s)
WHERE %s;
`, cols, quote(path), columnsTyped(header, "VARCHAR"), filter)
		rows = "(SELECT *, rowid AS pos FROM u)"
	}
	return pre + fmt.Sprintf(`CREATE OR REPLACE TABLE g AS
SELECT s, rid, hash(s, rid) AS h, ps, pe, cur, sum(cost) AS cost, count(*) AS n, min(pos) AS first, bool_and(exact) AS exact
FROM %s
GROUP BY GROUPING SETS ((s, rid), (h, ps, pe, cur));
DROP TABLE IF EXISTS u;`, rows)
}

// exactCheck is true when the row's amount is exact in the type read: text
// with at most six places and no exponent for DECIMAL(18,6).
func exactCheck(amount string) string {
	if amount != "DECIMAL(18,6)" {
		return "true"
	}
	// strpos, not ILIKE: the check costs 0.1 s instead of 0.6 s at 10M rows.
	return `(strpos(EffectiveCost::VARCHAR, 'e') = 0 AND strpos(EffectiveCost::VARCHAR, 'E') = 0 AND (strpos(EffectiveCost::VARCHAR, '.') = 0 OR length(EffectiveCost::VARCHAR) - strpos(EffectiveCost::VARCHAR, '.') <= 6))`
}

// tunedCreditsSQL resolves the aggregated usage's texts to resources (see
// RunTuned): ua holds the usage per resource, period and currency, with
// the period's day in the range when it is one whole day of it (and
// bitmask: the range is whole days, at most 62).
func tunedCreditsSQL(from time.Time, bitmask bool) string {
	dayOf := "NULL::INTEGER"
	if bitmask {
		dayOf = fmt.Sprintf("CASE WHEN pe - ps = %[2]d AND (ps - %[1]d) %% %[2]d = 0 THEN ((ps - %[1]d) // %[2]d)::INTEGER END", from.UnixMicro(), day)
	}
	return fmt.Sprintf(`
-- The distinct texts: their subscription and key worked out once each.
CREATE TABLE k AS
SELECT h, first, sub,
       CASE WHEN rid1 = '' THEN '/subscriptions/' || sub ELSE rid1 END AS raw
FROM (
  SELECT hash(s, rid) AS h, first,
         regexp_replace(lower(s), '^/subscriptions/([^/]*)/?$', '\1') AS sub,
         CASE WHEN length(rid) > 1 AND suffix(rid, '/') THEN left(rid, length(rid) - 1) ELSE rid END AS rid1
  FROM g WHERE h IS NULL);

-- Resources of known subscriptions, numbered, with their first spelling.
CREATE TABLE res AS
SELECT row_number() OVER () AS id, sub, rkey, raw, tenant FROM (
  SELECT k.sub, lower(k.raw) AS rkey, arg_min(k.raw, k.first) AS raw, any_value(s.tenant) AS tenant
  FROM k JOIN subs s ON s.sub = k.sub
  GROUP BY k.sub, lower(k.raw));

CREATE TABLE kr AS
SELECT k.h, r.id FROM k JOIN res r ON r.sub = k.sub AND r.rkey = lower(k.raw);

-- The usage per resource, period and currency, on integers (the texts
-- of one resource in several spellings added up).
CREATE TABLE ua AS
SELECT id, ps, pe, cur, cost, n, %s AS day
FROM (
  SELECT kr.id, g.ps, g.pe, g.cur, sum(g.cost) AS cost, sum(g.n)::BIGINT AS n
  FROM g JOIN kr ON kr.h = g.h
  GROUP BY kr.id, g.ps, g.pe, g.cur);
DROP TABLE g;
`, dayOf)
}

// ancSQL lists each resource's ancestor scopes inside its subscription:
// every "/" boundary below /subscriptions/{sub}, and the resource itself
// (an id outside its subscription's path is contained only by itself).
const ancSQL = `anc AS (
  SELECT id, left(rkey, i - 1) AS akey FROM (
    SELECT id, rkey, unnest(generate_series(length('/subscriptions/' || sub) + 2, length(rkey))) AS i
    FROM res WHERE starts_with(rkey, '/subscriptions/' || sub || '/'))
  WHERE substr(rkey, i, 1) = '/'
  UNION ALL
  SELECT id, rkey FROM res WHERE rkey <> '/subscriptions/' || sub
)`

// tunedOutputSQL credits ua: whole days (bitmask) by the grants'
// bitmasks, other periods (interval) by comparing periods per grant; then
// one line per partner, resource and currency in byte order.
func tunedOutputSQL(from, to time.Time, bitmask, interval bool) string {
	days := to.Sub(from).Microseconds() / day
	f := from.UnixMicro()
	// The days [lo, hi) of a grant as bits; lo and hi clamped to [0, days].
	bits := func(lo, hi string) string {
		return fmt.Sprintf("(((1::BIGINT << %[2]s) - 1) & ~((1::BIGINT << %[1]s) - 1))", lo, hi)
	}
	clamp := func(x string) string { return fmt.Sprintf("least(%d, greatest(0, %s))", days, x) }
	// credited: the days the grant overlaps; eligible: the days a writing
	// grant covers whole.
	credited := bits(clamp(fmt.Sprintf("CASE WHEN f <= %[1]d THEN 0 ELSE (f - %[1]d) // %[2]d END", f, day)),
		clamp(fmt.Sprintf("CASE WHEN t <= %[1]d THEN 0 ELSE (t - %[1]d + %[2]d - 1) // %[2]d END", f, day)))
	eligible := bits(clamp(fmt.Sprintf("CASE WHEN f <= %[1]d THEN 0 ELSE (f - %[1]d + %[2]d - 1) // %[2]d END", f, day)),
		clamp(fmt.Sprintf("CASE WHEN t <= %[1]d THEN 0 ELSE (t - %[1]d) // %[2]d END", f, day)))
	masks := fmt.Sprintf("%s AS cm, CASE WHEN writer THEN %s ELSE 0 END AS em", credited, eligible)
	ctes := []string{ancSQL}
	var parts []string
	if bitmask {
		ctes = append(ctes, fmt.Sprintf(`scope_masks AS (
  SELECT sk, pid, bit_or(cm) AS cm, bit_or(em) AS em FROM (SELECT sk, pid, %[1]s FROM scope_grants) GROUP BY sk, pid
),
sub_masks AS (
  SELECT sub, pid, bit_or(cm) AS cm, bit_or(em) AS em FROM (SELECT sub, pid, %[1]s FROM sub_grants) GROUP BY sub, pid
),
res_masks AS (
  SELECT id, pid, bit_or(cm) AS cm, bit_or(em) AS em FROM (
    SELECT a.id, m.pid, m.cm, m.em FROM anc a JOIN scope_masks m ON m.sk = a.akey
    UNION ALL
    SELECT r.id, m.pid, m.cm, m.em FROM res r JOIN sub_masks m ON m.sub = r.sub)
  GROUP BY id, pid
)`, masks))
		parts = append(parts, `
  SELECT m.pid, u.id, u.cur, sum(u.cost) AS cost,
         coalesce(sum(u.cost) FILTER (WHERE (m.em >> u.day) & 1 = 1), 0) AS eligible, sum(u.n)::BIGINT AS n
  FROM ua u JOIN res_masks m ON m.id = u.id
  WHERE u.day IS NOT NULL AND (m.cm >> u.day) & 1 = 1
  GROUP BY m.pid, u.id, u.cur`)
	}
	if interval {
		parts = append(parts, `
  SELECT pid, id, cur, sum(cost), coalesce(sum(cost) FILTER (WHERE eligible), 0), sum(n)::BIGINT FROM (
    SELECT u.id, u.ps, u.pe, u.cur, g.pid, any_value(u.cost) AS cost, any_value(u.n) AS n,
           bool_or(g.writer AND g.f <= u.ps AND g.t >= u.pe) AS eligible
    FROM (SELECT * FROM ua WHERE day IS NULL) u JOIN (
      SELECT a.id, g.pid, g.f, g.t, g.writer FROM anc a JOIN scope_grants g ON g.sk = a.akey
      UNION ALL
      SELECT r.id, g.pid, g.f, g.t, g.writer FROM res r JOIN sub_grants g ON g.sub = r.sub) g ON g.id = u.id
    WHERE g.f < u.pe AND u.ps < g.t
    GROUP BY u.id, u.ps, u.pe, u.cur, g.pid)
  GROUP BY pid, id, cur`)
	}
	if len(parts) == 0 { // no usage at all
		parts = append(parts, `SELECT NULL::VARCHAR, NULL::BIGINT, NULL::VARCHAR, 0::DECIMAL(38,6), 0::DECIMAL(38,6), 0::BIGINT WHERE false`)
	}
	return fmt.Sprintf(`
WITH %s,
credited(pid, id, cur, cost, eligible, n) AS (%s
)
SELECT c.pid, r.tenant, r.sub, r.raw, c.cur,
       CAST(sum(c.cost) AS VARCHAR), CAST(sum(c.eligible) AS VARCHAR), sum(c.n)::BIGINT
FROM credited c JOIN res r ON r.id = c.id
GROUP BY c.pid, r.tenant, r.sub, r.raw, c.cur
ORDER BY c.pid, r.tenant, r.sub, r.raw, c.cur`, strings.Join(ctes, ",\n"), strings.Join(parts, "\n  UNION ALL"))
}

// worldColumns types the world document's members the SQL reads
// (read_json ignores the others).
const worldColumns = `{
  partners: 'STRUCT(partnerId VARCHAR, globalPartnerId VARCHAR, "from" VARCHAR, "to" VARCHAR)[]',
  managementGroups: 'STRUCT(tenantId VARCHAR, name VARCHAR, parent VARCHAR)[]',
  subscriptions: 'STRUCT(subscriptionId VARCHAR, tenantId VARCHAR, managementGroup VARCHAR)[]',
  principals: 'STRUCT(tenantId VARCHAR, objectId VARCHAR, cspDelegated BOOLEAN, "from" VARCHAR, "to" VARCHAR)[]',
  groupMemberships: 'STRUCT(tenantId VARCHAR, groupId VARCHAR, memberId VARCHAR, "from" VARCHAR, "to" VARCHAR)[]',
  roleDefinitions: 'STRUCT(tenantId VARCHAR, name VARCHAR, id VARCHAR, actions VARCHAR[], notActions VARCHAR[])[]',
  roleAssignments: 'STRUCT(tenantId VARCHAR, principalId VARCHAR, roleDefinition VARCHAR, scope VARCHAR, "from" VARCHAR, "to" VARCHAR)[]',
  delegations: 'STRUCT(customerTenantId VARCHAR, managingTenantId VARCHAR, principalId VARCHAR, roleDefinition VARCHAR, scope VARCHAR, "from" VARCHAR, "to" VARCHAR)[]',
  links: 'STRUCT(tenantId VARCHAR, objectId VARCHAR, partnerId VARCHAR, "from" VARCHAR, "to" VARCHAR)[]'}`

// loadJSONSQL fills the tables of schema from the world document with
// read_json, as load does from Go: GUIDs lower-cased, instants as Unix
// microseconds (read at microsecond precision), open ends as ±2^62.
func loadJSONSQL(path string) string {
	us := func(col string, open int64) string {
		return fmt.Sprintf(`coalesce(epoch_us(x."%s"::TIMESTAMPTZ), %d)`, col, open)
	}
	f, t := us("from", minT), us("to", maxT)
	return fmt.Sprintf(`
CREATE TEMP TABLE w AS SELECT * FROM read_json(%s, format = 'unstructured', maximum_object_size = 2000000000, columns = %s);
INSERT INTO partners SELECT x.partnerId, x.globalPartnerId, %[3]s, %[4]s FROM (SELECT unnest(partners) AS x FROM w);
INSERT INTO mgs SELECT lower(x.tenantId), x.name, x.parent FROM (SELECT unnest(managementGroups) AS x FROM w);
INSERT INTO subs SELECT lower(x.subscriptionId), lower(x.tenantId), x.managementGroup FROM (SELECT unnest(subscriptions) AS x FROM w);
INSERT INTO principals SELECT lower(x.tenantId), lower(x.objectId), coalesce(x.cspDelegated, false), %[3]s, %[4]s FROM (SELECT unnest(principals) AS x FROM w);
INSERT INTO memberships SELECT lower(x.tenantId), lower(x.groupId), lower(x.memberId), %[3]s, %[4]s FROM (SELECT unnest(groupMemberships) AS x FROM w);
CREATE TEMP TABLE rd AS SELECT unnest(range(len(roleDefinitions)))::INTEGER AS ord, unnest(roleDefinitions) AS x FROM w;
INSERT INTO roles SELECT ord, lower(coalesce(x.tenantId, '')), x.name, x.id FROM rd;
INSERT INTO role_actions SELECT ord, unnest(x.actions) FROM rd;
INSERT INTO role_not_actions SELECT ord, unnest(x.notActions) FROM rd;
INSERT INTO assignments SELECT lower(x.tenantId), lower(x.principalId), x.roleDefinition, x.scope, %[3]s, %[4]s FROM (SELECT unnest(roleAssignments) AS x FROM w);
INSERT INTO delegations SELECT lower(x.customerTenantId), lower(x.managingTenantId), lower(x.principalId), x.roleDefinition, x.scope, %[3]s, %[4]s FROM (SELECT unnest(delegations) AS x FROM w);
INSERT INTO links SELECT lower(x.tenantId), lower(x.objectId), x.partnerId, %[3]s, %[4]s FROM (SELECT unnest(links) AS x FROM w);
DROP TABLE w;`, quote(path), worldColumns, f, t)
}

// loadJSON loads the world document with read_json (loadJSONSQL), then
// the built-in roles after the document's.
func loadJSON(ctx context.Context, db *sql.DB, conn driver.Conn, path string) error {
	q := loadJSONSQL(path)
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("world %s: %w\nin: %s", path, err, q)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM rd").Scan(&n); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, "DROP TABLE rd"); err != nil {
		return err
	}
	return loadRoles(conn, nil, n) // the built-in roles after the document's n
}
