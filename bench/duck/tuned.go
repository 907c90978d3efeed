package duck

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// RunTuned is Run written the way DuckDB is fast (a fair peer for the
// bench): the world's grants as in Run, then
//
//   - usage read once, typed, with the amounts as DECIMAL(18,6) when every
//     amount is proved to have at most six places (else DECIMAL(38,18));
//   - one aggregation with GROUPING SETS: the distinct (SubAccountId,
//     ResourceId) texts with their first position, and the usage per (key
//     hash, period, currency) with its sum and row count, so that parsing
//     and lower-casing run once per distinct text and the join to the
//     grants is on integers, with no strings carried;
//   - the first spelling of a resource kept by its texts' first positions.
//
// The output is the same bytes as Run's (the bench checks).
func RunTuned(ctx context.Context, opt Options, w io.Writer) error {
	return run(ctx, opt, w, true)
}

// tunedUsageSQL reads the usage in file order into u (rowid: the position
// among the counted rows), with the amounts of type amount.
func tunedUsageSQL(path string, header []string, from, to time.Time, amount string) string {
	var src string
	if strings.HasSuffix(strings.ToLower(path), ".parquet") {
		src = fmt.Sprintf("read_parquet(%s)", quote(path))
	} else {
		src = fmt.Sprintf(`read_csv(%s, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', columns = %s)`,
			quote(path), columnsTyped(header, "VARCHAR"))
	}
	return fmt.Sprintf(`
CREATE OR REPLACE TABLE u AS
SELECT coalesce(SubAccountId, '') AS s, coalesce(ResourceId, '') AS rid,
       epoch_us(ChargePeriodStart::TIMESTAMP) AS ps, epoch_us(ChargePeriodEnd::TIMESTAMP) AS pe,
       BillingCurrency AS cur, EffectiveCost::%s AS cost,
       %s AS exact
FROM %s
WHERE lower(ChargeCategory) = 'usage'
  AND ChargePeriodStart::TIMESTAMP >= epoch_ms(%d) AND ChargePeriodStart::TIMESTAMP < epoch_ms(%d)`,
		amount, exactCheck(amount), src, from.UnixMilli(), to.UnixMilli())
}

// exactCheck is true when the row's amount is exact in the type read: text
// with at most six places and no exponent for DECIMAL(18,6).
func exactCheck(amount string) string {
	if amount != "DECIMAL(18,6)" {
		return "true"
	}
	return `(EffectiveCost::VARCHAR NOT ILIKE '%e%' AND (strpos(EffectiveCost::VARCHAR, '.') = 0 OR length(EffectiveCost::VARCHAR) - strpos(EffectiveCost::VARCHAR, '.') <= 6))`
}

// tunedCreditsSQL credits the aggregated usage (see RunTuned).
const tunedCreditsSQL = `
CREATE TABLE g AS
SELECT s, rid, min(rowid) AS first, 0 AS gs, NULL::UBIGINT AS h, NULL::BIGINT AS ps, NULL::BIGINT AS pe, NULL::VARCHAR AS cur,
       NULL::DECIMAL(38,18) AS cost, NULL::BIGINT AS n
FROM u GROUP BY s, rid
UNION ALL
SELECT NULL, NULL, NULL, 3, hash(s, rid), ps, pe, cur, sum(cost), count(*)
FROM u GROUP BY hash(s, rid), ps, pe, cur;

-- The distinct texts: their subscription and key worked out once each.
CREATE TABLE k AS
SELECT h, first, sub,
       CASE WHEN rid1 = '' THEN '/subscriptions/' || sub ELSE rid1 END AS raw
FROM (
  SELECT hash(s, rid) AS h, first,
         regexp_replace(lower(s), '^/subscriptions/([^/]*)/?$', '\1') AS sub,
         CASE WHEN length(rid) > 1 AND suffix(rid, '/') THEN left(rid, length(rid) - 1) ELSE rid END AS rid1
  FROM g WHERE gs = 0);

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
SELECT kr.id, g.ps, g.pe, g.cur, sum(g.cost) AS cost, sum(g.n)::BIGINT AS n
FROM g JOIN kr ON kr.h = g.h
WHERE g.gs = 3
GROUP BY kr.id, g.ps, g.pe, g.cur;
`

// tunedOutputSQL is creditsSQL over ua and res.
const tunedOutputSQL = `
WITH anc AS (
  SELECT id, left(rkey, i - 1) AS akey FROM (
    SELECT id, rkey, unnest(generate_series(length('/subscriptions/' || sub) + 2, length(rkey))) AS i
    FROM res WHERE starts_with(rkey, '/subscriptions/' || sub || '/'))
  WHERE substr(rkey, i, 1) = '/'
  UNION ALL
  SELECT id, rkey FROM res WHERE rkey <> '/subscriptions/' || sub
),
res_grants AS MATERIALIZED (
  SELECT a.id, g.pid, g.f, g.t, g.writer FROM anc a JOIN scope_grants g ON g.sk = a.akey
  UNION ALL
  SELECT r.id, g.pid, g.f, g.t, g.writer FROM res r JOIN sub_grants g ON g.sub = r.sub
),
per_group AS (
  SELECT u.id, u.ps, u.pe, u.cur, g.pid, any_value(u.cost) AS cost, any_value(u.n) AS n,
         bool_or(g.writer AND g.f <= u.ps AND g.t >= u.pe) AS eligible
  FROM ua u JOIN res_grants g ON g.id = u.id
  WHERE g.f < u.pe AND u.ps < g.t
  GROUP BY u.id, u.ps, u.pe, u.cur, g.pid
)
SELECT p.pid, r.tenant, r.sub, r.raw, p.cur,
       CAST(sum(p.cost) AS VARCHAR),
       CAST(coalesce(sum(p.cost) FILTER (WHERE p.eligible), 0) AS VARCHAR),
       sum(p.n)::BIGINT
FROM per_group p JOIN res r ON r.id = p.id
GROUP BY p.pid, r.tenant, r.sub, r.raw, p.cur
ORDER BY p.pid, r.tenant, r.sub, r.raw, p.cur`
