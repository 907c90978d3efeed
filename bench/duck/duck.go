// Package duck runs the attribution of docs/rules.md#azure-attribution as DuckDB SQL over the same
// world document and FOCUS CSV that `partnerlink attribute` reads, and
// writes the same CSV (docs/api.md#attribution-csv), so that the benchmark can compare the
// two row by row.
//
// Go only loads the world document's rows into tables (GUIDs lower-cased,
// instants as Unix microseconds, open ends as ±2^62) and the built-in role
// definitions (data from partnerlink.BuiltinRoles). Every rule is SQL: role
// resolution and "can write", partner and location periods, transitive
// memberships without CSP principals, grants with intersected periods,
// management group and tenant root expansion per subscription, ancestor
// expansion of resource ids (equi-joins, never prefix LIKE), crediting,
// incentive eligibility, first-occurrence casing and aggregation.
// Amounts are DECIMAL(38,18), never DOUBLE.
package duck

import (
	"bufio"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/world"
)

// Options of a DuckDB run.
type Options struct {
	World, Usage string
	From, To     time.Time
	Threads      int
	// Log receives the time of each step (nil: none).
	Log io.Writer
}

const (
	minT = -(int64(1) << 62)
	maxT = int64(1) << 62
)

func micros(t *time.Time, open int64) int64 {
	if t == nil {
		return open
	}
	return t.UnixMicro()
}

func low(s string) string { return strings.ToLower(s) }

// opt is a nullable text column.
func opt(s *string) driver.Value {
	if s == nil {
		return nil
	}
	return *s
}

// Run attributes and writes the CSV to w.
func Run(ctx context.Context, opt Options, w io.Writer) error { return run(ctx, opt, w, false) }

func run(ctx context.Context, opt Options, w io.Writer, tuned bool) error {
	step := time.Now()
	logf := func(format string, args ...any) {
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, "duckdb: %-28s %7.3fs\n", fmt.Sprintf(format, args...), time.Since(step).Seconds())
		}
		step = time.Now()
	}
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return err
	}
	defer connector.Close()
	conn, err := connector.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	db := sql.OpenDB(connector)
	defer db.Close()
	db.SetMaxOpenConns(1)
	exec := func(q string, args ...any) error {
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("%w\nin: %s", err, q)
		}
		return nil
	}
	if err := exec(fmt.Sprintf("SET threads=%d", max(opt.Threads, 1))); err != nil {
		return err
	}
	if err := exec(schema); err != nil {
		return err
	}
	if tuned {
		if err := loadJSON(ctx, db, conn, opt.World); err != nil {
			return err
		}
	} else {
		data, err := os.ReadFile(opt.World)
		if err != nil {
			return err
		}
		var doc world.Document
		if err := json.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("world %s: %w", opt.World, err)
		}
		if err := load(conn, &doc); err != nil {
			return err
		}
	}
	logf("load world")
	var header []string
	if !strings.HasSuffix(strings.ToLower(opt.Usage), ".parquet") {
		if header, err = readHeader(opt.Usage); err != nil {
			return err
		}
	} else if !tuned {
		return fmt.Errorf("usage %s: the bench's SQL reads CSV; the tuned SQL reads Parquet too", opt.Usage)
	}
	steps := []struct{ name, sql string }{
		{"principal periods", principalPeriodsSQL},
		{"grants", grantsSQL},
	}
	final := creditsSQL
	if !tuned {
		steps = append(steps, struct{ name, sql string }{"read usage", usageSQL(opt.Usage, header, opt.From, opt.To)})
	}
	for _, q := range steps {
		if err := exec(q.sql); err != nil {
			return err
		}
		logf("%s", q.name)
	}
	if tuned {
		// DECIMAL(18,6) when every amount is exact in it, else (38,18).
		if err := exec(tunedUsageSQL(opt.Usage, header, opt.From, opt.To, "DECIMAL(18,6)")); err != nil {
			return err
		}
		var exact sql.NullBool
		if err := db.QueryRowContext(ctx, "SELECT bool_and(exact) FROM g").Scan(&exact); err != nil {
			return err
		}
		if exact.Valid && !exact.Bool {
			if err := exec(tunedUsageSQL(opt.Usage, header, opt.From, opt.To, "DECIMAL(38,18)")); err != nil {
				return err
			}
		}
		logf("read usage (exact in DECIMAL(18,6): %v)", !exact.Valid || exact.Bool)
		// Whole days as bits of a BIGINT: a range of whole days, at most 62.
		days := opt.To.Sub(opt.From)
		bitmask := days%(24*time.Hour) == 0 && days <= 62*24*time.Hour
		if err := exec(tunedCreditsSQL(opt.From, bitmask)); err != nil {
			return err
		}
		var collide, interval, daily bool
		if err := db.QueryRowContext(ctx, "SELECT count(DISTINCT h) <> count(*) FROM k").Scan(&collide); err != nil {
			return err
		}
		if collide {
			return fmt.Errorf("duckdb tuned: two resource texts share a hash; use the untuned SQL")
		}
		err := db.QueryRowContext(ctx, "SELECT count(*) FILTER (WHERE day IS NOT NULL) > 0, count(*) FILTER (WHERE day IS NULL) > 0 FROM ua").Scan(&daily, &interval)
		if err != nil {
			return err
		}
		logf("aggregate usage (periods not one day: %v)", interval)
		final = tunedOutputSQL(opt.From, opt.To, daily, interval)
	}
	if tuned {
		// DuckDB writes the CSV itself (COPY), into a file copied to w.
		return copyOut(ctx, exec, final, w, func() { logf("credit, aggregate and write") })
	}
	rows, err := db.QueryContext(ctx, final)
	if err != nil {
		return fmt.Errorf("%w\nin: %s", err, final)
	}
	defer rows.Close()
	bw := newCSV(w)
	for rows.Next() {
		var pid, tenant, sub, raw, cur, attributed, eligible string
		var n int64
		if err := rows.Scan(&pid, &tenant, &sub, &raw, &cur, &attributed, &eligible, &n); err != nil {
			return err
		}
		bw.row(pid, tenant, sub, raw, cur, trimDecimal(attributed), trimDecimal(eligible), n)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	logf("credit and aggregate")
	return bw.flush()
}

// copyOut runs the query q (the eight columns of docs/api.md#attribution-csv,
// amounts as DECIMAL text) as a COPY to a temporary CSV file, its amounts
// trimmed as trimDecimal does, and copies the file to w. Empty text is
// written as NULL: COPY writes an empty string quoted, partnerlink as an
// empty field.
func copyOut(ctx context.Context, exec func(string, ...any) error, q string, w io.Writer, done func()) error {
	dir, err := os.MkdirTemp("", "duck-out")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "out.csv")
	copySQL := fmt.Sprintf(`CREATE MACRO trim0(x) AS CASE WHEN contains(x, '.') THEN rtrim(rtrim(x, '0'), '.') ELSE x END;
CREATE MACRO trim_dec(x) AS CASE WHEN trim0(x) IN ('', '-', '-0') THEN '0' ELSE trim0(x) END;
COPY (SELECT nullif(pid, '') AS PartnerId, nullif(tenant, '') AS TenantId, nullif(sub, '') AS SubAccountId,
             nullif(raw, '') AS ResourceId, nullif(cur, '') AS BillingCurrency,
             trim_dec(attributed) AS AttributedCost, trim_dec(eligible) AS IncentiveEligibleCost, n AS UsageRows
      FROM (%s) AS c(pid, tenant, sub, raw, cur, attributed, eligible, n))
TO %s (FORMAT csv, HEADER true)`, q, quote(path))
	if err := exec(copySQL); err != nil {
		return err
	}
	done()
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// trimDecimal writes a DECIMAL's text without trailing zeros after the
// point, "0" for zero (docs/api.md#attribution-csv).
func trimDecimal(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "" || s == "-0" || s == "-" {
		return "0"
	}
	return s
}

const schema = `
CREATE TABLE partners(pid VARCHAR, gid VARCHAR, f BIGINT, t BIGINT);
CREATE TABLE mgs(tenant VARCHAR, name VARCHAR, parent VARCHAR);
CREATE TABLE subs(sub VARCHAR, tenant VARCHAR, mg VARCHAR);
CREATE TABLE principals(tenant VARCHAR, oid VARCHAR, csp BOOLEAN, f BIGINT, t BIGINT);
CREATE TABLE memberships(tenant VARCHAR, grp VARCHAR, member VARCHAR, f BIGINT, t BIGINT);
CREATE TABLE roles(ord INTEGER, tenant VARCHAR, name VARCHAR, id VARCHAR);
CREATE TABLE role_actions(ord INTEGER, a VARCHAR);
CREATE TABLE role_not_actions(ord INTEGER, n VARCHAR);
CREATE TABLE assignments(tenant VARCHAR, principal VARCHAR, role VARCHAR, scope VARCHAR, f BIGINT, t BIGINT);
CREATE TABLE delegations(ctenant VARCHAR, mtenant VARCHAR, principal VARCHAR, role VARCHAR, scope VARCHAR, f BIGINT, t BIGINT);
CREATE TABLE links(tenant VARCHAR, oid VARCHAR, pid VARCHAR, f BIGINT, t BIGINT);
`

// appendRows appends n rows, row(i) each, to a table of schema.
func appendRows(conn driver.Conn, table string, n int, row func(i int) []driver.Value) error {
	a, err := duckdb.NewAppenderFromConn(conn, "", table)
	if err != nil {
		return fmt.Errorf("appender %s: %w", table, err)
	}
	for i := range n {
		if err := a.AppendRow(row(i)...); err != nil {
			a.Close()
			return fmt.Errorf("append %s: %w", table, err)
		}
	}
	return a.Close()
}

// loadRoles appends the roles docRoles and then the built-in roles,
// numbered from first on (a document's roles come before the built-in ones).
func loadRoles(conn driver.Conn, docRoles []world.RoleDefinition, first int) error {
	type roleDef struct {
		tenant, name, id string
		actions          []string
		notActions       []string
	}
	var roles []roleDef
	for _, r := range docRoles {
		roles = append(roles, roleDef{low(r.TenantID), r.Name, r.ID, r.Actions, r.NotActions})
	}
	for _, r := range partnerlink.BuiltinRoles() {
		roles = append(roles, roleDef{"", r.Name, r.ID, r.Actions, r.NotActions})
	}
	var acts, nots [][2]any
	for i, r := range roles {
		for _, a := range r.actions {
			acts = append(acts, [2]any{int32(first + i), a})
		}
		for _, n := range r.notActions {
			nots = append(nots, [2]any{int32(first + i), n})
		}
	}
	return errors.Join(
		appendRows(conn, "roles", len(roles), func(i int) []driver.Value {
			return []driver.Value{int32(first + i), roles[i].tenant, roles[i].name, roles[i].id}
		}),
		appendRows(conn, "role_actions", len(acts), func(i int) []driver.Value { return []driver.Value{acts[i][0], acts[i][1]} }),
		appendRows(conn, "role_not_actions", len(nots), func(i int) []driver.Value { return []driver.Value{nots[i][0], nots[i][1]} }),
	)
}

// load appends the document's rows, its roles and the built-in ones to the
// tables of schema.
func load(conn driver.Conn, d *world.Document) error {
	steps := []error{
		appendRows(conn, "partners", len(d.Partners), func(i int) []driver.Value {
			p := d.Partners[i]
			return []driver.Value{p.PartnerID, opt(p.GlobalPartnerID), micros(p.From, minT), micros(p.To, maxT)}
		}),
		appendRows(conn, "mgs", len(d.ManagementGroups), func(i int) []driver.Value {
			m := d.ManagementGroups[i]
			return []driver.Value{low(m.TenantID), m.Name, opt(m.Parent)}
		}),
		appendRows(conn, "subs", len(d.Subscriptions), func(i int) []driver.Value {
			s := d.Subscriptions[i]
			return []driver.Value{low(s.SubscriptionID), low(s.TenantID), opt(s.ManagementGroup)}
		}),
		appendRows(conn, "principals", len(d.Principals), func(i int) []driver.Value {
			p := d.Principals[i]
			return []driver.Value{low(p.TenantID), low(p.ObjectID), p.CSPDelegated, micros(p.From, minT), micros(p.To, maxT)}
		}),
		appendRows(conn, "memberships", len(d.GroupMemberships), func(i int) []driver.Value {
			m := d.GroupMemberships[i]
			return []driver.Value{low(m.TenantID), low(m.GroupID), low(m.MemberID), micros(m.From, minT), micros(m.To, maxT)}
		}),
		appendRows(conn, "assignments", len(d.RoleAssignments), func(i int) []driver.Value {
			a := d.RoleAssignments[i]
			return []driver.Value{low(a.TenantID), low(a.PrincipalID), a.RoleDefinition, a.Scope, micros(a.From, minT), micros(a.To, maxT)}
		}),
		appendRows(conn, "delegations", len(d.Delegations), func(i int) []driver.Value {
			x := d.Delegations[i]
			return []driver.Value{low(x.CustomerTenantID), low(x.ManagingTenantID), low(x.PrincipalID), x.RoleDefinition, x.Scope, micros(x.From, minT), micros(x.To, maxT)}
		}),
		appendRows(conn, "links", len(d.Links), func(i int) []driver.Value {
			l := d.Links[i]
			return []driver.Value{low(l.TenantID), low(l.ObjectID), l.PartnerID, micros(l.From, minT), micros(l.To, maxT)}
		}),
	}
	return errors.Join(append(steps, loadRoles(conn, d.RoleDefinitions, 0))...)
}

// readHeader returns the usage file's column names.
func readHeader(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("usage %s: no header line: %w", path, err)
	}
	return strings.Split(strings.TrimRight(line, "\r\n"), ","), nil
}
