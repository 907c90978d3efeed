package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
)

// UsageImportByHash returns the import of a file with this content; ENOTFOUND.
func (d *DB) UsageImportByHash(ctx context.Context, hash string) (*partnerlink.UsageImport, error) {
	ims, err := d.usageImports(ctx, `WHERE hash = $1`, hash)
	if err != nil {
		return nil, err
	}
	if len(ims) == 0 {
		return nil, partnerlink.Errorf(partnerlink.ENOTFOUND, "no usage file with hash %s was imported", hash)
	}
	return &ims[0], nil
}

// UsageImportByContent returns the import of a kind whose rows are
// content's; ENOTFOUND.
func (d *DB) UsageImportByContent(ctx context.Context, kind, content string) (*partnerlink.UsageImport, error) {
	if content == "" {
		return nil, partnerlink.Errorf(partnerlink.ENOTFOUND, "no content to look up")
	}
	ims, err := d.usageImports(ctx, `WHERE kind = $1 AND content = $2`, kind, content)
	if err != nil {
		return nil, err
	}
	if len(ims) == 0 {
		return nil, partnerlink.Errorf(partnerlink.ENOTFOUND, "no %s usage file with these rows was imported", kind)
	}
	return &ims[0], nil
}

// UsageImports lists the imports of a kind ("" for all) covering any of
// months (all when none), in import order.
func (d *DB) UsageImports(ctx context.Context, kind string, months []string) ([]partnerlink.UsageImport, error) {
	args := []any{kind}
	where := `WHERE ($1 = '' OR kind = $1)`
	if len(months) > 0 {
		var ph []string
		for _, m := range months {
			args = append(args, m)
			ph = append(ph, fmt.Sprintf("$%d", len(args)))
		}
		where += ` AND hash IN (SELECT hash FROM usage_import_months WHERE month IN (` + strings.Join(ph, ", ") + `))`
	}
	return d.usageImports(ctx, where+` AND `+currentFile, args...)
}

// currentFile keeps a usage file that belongs to no export run, or to a run
// that no later run of the same export and period supersedes
// (docs/usage-sources.md, "Superseded runs").
const currentFile = `(NOT EXISTS (SELECT 1 FROM export_run_files f WHERE f.hash = usage_imports.hash)
	OR EXISTS (SELECT 1 FROM export_run_files f JOIN export_runs r ON r.run_key = f.run_key
		WHERE f.hash = usage_imports.hash AND NOT EXISTS (SELECT 1 FROM export_runs later
			WHERE later.export_key = r.export_key AND (later.submitted_at > r.submitted_at
				OR (later.submitted_at = r.submitted_at AND later.run_key > r.run_key)))))`

// ExportRun returns a recorded export run by key; ENOTFOUND.
func (d *DB) ExportRun(ctx context.Context, key string) (*partnerlink.ExportRun, error) {
	var r partnerlink.ExportRun
	var submitted, imported int64
	err := d.db.QueryRowContext(ctx, `SELECT run_key, source, export_key, submitted_at, imported_at, rows FROM export_runs
		WHERE run_key = $1`, key).Scan(&r.Key, &r.Source, &r.Export, &submitted, &imported, &r.Rows)
	if err == sql.ErrNoRows {
		return nil, partnerlink.Errorf(partnerlink.ENOTFOUND, "no export run %s was imported", key)
	} else if err != nil {
		return nil, fmt.Errorf("store: read export run: %w", err)
	}
	r.SubmittedAt, r.ImportedAt = time.Unix(0, submitted).UTC(), time.Unix(0, imported).UTC()
	rows, err := d.db.QueryContext(ctx, `SELECT hash FROM export_run_files WHERE run_key = $1 ORDER BY part`, key)
	if err != nil {
		return nil, fmt.Errorf("store: read export run files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		r.Files = append(r.Files, h)
	}
	return &r, rows.Err()
}

// RecordExportRun records run and the imports of its files not recorded
// before, in one transaction; false when the run was recorded before.
func (d *DB) RecordExportRun(ctx context.Context, run partnerlink.ExportRun, files []partnerlink.UsageImport) (bool, error) {
	created := false
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO export_runs (run_key, source, export_key, submitted_at, imported_at, rows)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (run_key) DO NOTHING`,
			run.Key, run.Source, run.Export, run.SubmittedAt.UnixNano(), run.ImportedAt.UnixNano(), run.Rows)
		if err != nil {
			return fmt.Errorf("store: record export run: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		created = true
		if run.FormerExport != "" && run.FormerExport != run.Export {
			// Runs of the same export recorded before its name changed
			// form: they are superseded as runs of it.
			if _, err := tx.ExecContext(ctx, `UPDATE export_runs SET export_key = $1 WHERE export_key = $2`, run.Export, run.FormerExport); err != nil {
				return fmt.Errorf("store: rename export %s: %w", run.FormerExport, err)
			}
		}
		for _, im := range files {
			if _, err := recordUsageImport(ctx, tx, im); err != nil {
				return err
			}
		}
		for i, h := range run.Files {
			if _, err := tx.ExecContext(ctx, `INSERT INTO export_run_files (run_key, hash, part) VALUES ($1, $2, $3)`, run.Key, h, i); err != nil {
				return fmt.Errorf("store: record export run file: %w", err)
			}
		}
		return nil
	})
	return created, err
}

func (d *DB) usageImports(ctx context.Context, where string, args ...any) ([]partnerlink.UsageImport, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT hash, kind, name, path, rows, totals, has_usd, imported_at, content FROM usage_imports `+
		where+` ORDER BY imported_at, hash`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list usage imports: %w", err)
	}
	defer rows.Close()
	var out []partnerlink.UsageImport
	for rows.Next() {
		var im partnerlink.UsageImport
		var totals string
		var at int64
		if err := rows.Scan(&im.Hash, &im.Kind, &im.Name, &im.Path, &im.Rows, &totals, &im.HasUSD, &at, &im.Content); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(totals), &im.Totals)
		im.ImportedAt = time.Unix(0, at).UTC()
		out = append(out, im)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		ms, err := d.db.QueryContext(ctx, `SELECT month FROM usage_import_months WHERE hash = $1 ORDER BY month`, out[i].Hash)
		if err != nil {
			return nil, err
		}
		for ms.Next() {
			var m string
			ms.Scan(&m)
			out[i].Months = append(out[i].Months, m)
		}
		ms.Close()
	}
	return out, nil
}

// RecordUsageImport records an imported file; false when a file with the
// same content was recorded before (the import is then a no-op).
func (d *DB) RecordUsageImport(ctx context.Context, im partnerlink.UsageImport) (bool, error) {
	created := false
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		created, err = recordUsageImport(ctx, tx, im)
		return err
	})
	return created, err
}

// recordUsageImport inserts im and its months unless a file with its hash,
// or of its kind with its rows (its content), is recorded; it reports
// whether it inserted.
func recordUsageImport(ctx context.Context, tx *sql.Tx, im partnerlink.UsageImport) (bool, error) {
	totals, _ := json.Marshal(im.Totals)
	res, err := tx.ExecContext(ctx, `INSERT INTO usage_imports (hash, kind, name, path, rows, totals, has_usd, imported_at, content)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
		im.Hash, im.Kind, im.Name, im.Path, im.Rows, string(totals), im.HasUSD, im.ImportedAt.UnixNano(), im.Content)
	if err != nil {
		return false, fmt.Errorf("store: record usage import: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	for _, m := range im.Months {
		if _, err := tx.ExecContext(ctx, `INSERT INTO usage_import_months (hash, month) VALUES ($1, $2)`, im.Hash, m); err != nil {
			return false, fmt.Errorf("store: record usage months: %w", err)
		}
	}
	return true, nil
}

// SaveRun stores a run and its credits in one transaction.
func (d *DB) SaveRun(ctx context.Context, run partnerlink.AttributionRun, credits []partnerlink.CreditRow) (int64, error) {
	var id int64
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO attribution_runs (from_time, to_time, created_at, summary)
			VALUES ($1, $2, $3, $4) RETURNING id`, run.From.UnixNano(), run.To.UnixNano(), run.CreatedAt.UnixNano(),
			string(run.Summary)).Scan(&id); err != nil {
			return fmt.Errorf("store: save run: %w", err)
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO credits (run_id, day, partner_id, tenant_id, subscription_id,
			resource_id, currency, attributed, eligible, usage_rows) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, c := range credits {
			if _, err := stmt.ExecContext(ctx, id, c.Day, c.PartnerID, c.TenantID, c.SubscriptionID, c.ResourceID,
				c.Currency, c.Attributed, c.Eligible, c.UsageRows); err != nil {
				return fmt.Errorf("store: save credit: %w", err)
			}
		}
		return nil
	})
	return id, err
}

// LatestRun returns the most recent run (ENOTFOUND when none).
func (d *DB) LatestRun(ctx context.Context) (*partnerlink.AttributionRun, error) {
	var r partnerlink.AttributionRun
	var from, to, at int64
	var summary string
	err := d.db.QueryRowContext(ctx, `SELECT id, from_time, to_time, created_at, summary FROM attribution_runs
		ORDER BY id DESC LIMIT 1`).Scan(&r.ID, &from, &to, &at, &summary)
	if err != nil {
		return nil, notFound(err, "no attribution has been run yet; run 'partnerlink attribute --from DAY --to DAY'")
	}
	r.From, r.To, r.CreatedAt, r.Summary = time.Unix(0, from).UTC(), time.Unix(0, to).UTC(), time.Unix(0, at).UTC(), json.RawMessage(summary)
	return &r, nil
}

// Credits lists the stored credits of a run, sorted by day then every column.
func (d *DB) Credits(ctx context.Context, f partnerlink.CreditFilter) ([]partnerlink.CreditRow, error) {
	conds := []string{"run_id = $1"}
	args := []any{f.RunID}
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if len(f.PartnerIDs) > 0 {
		var ph []string
		for _, p := range f.PartnerIDs {
			args = append(args, p)
			ph = append(ph, fmt.Sprintf("$%d", len(args)))
		}
		conds = append(conds, "partner_id IN ("+strings.Join(ph, ", ")+")")
	}
	if f.TenantID != "" {
		add("tenant_id = $%d", strings.ToLower(f.TenantID))
	}
	if f.SubscriptionID != "" {
		add("subscription_id = $%d", strings.ToLower(f.SubscriptionID))
	}
	if f.ResourceID != "" {
		add("lower(resource_id) = $%d", strings.ToLower(strings.TrimSuffix(f.ResourceID, "/")))
	}
	if f.Day != "" {
		add("day = $%d", f.Day)
	}
	rows, err := d.db.QueryContext(ctx, `SELECT run_id, day, partner_id, tenant_id, subscription_id, resource_id, currency,
		attributed, eligible, usage_rows FROM credits WHERE `+strings.Join(conds, " AND "), args...)
	if err != nil {
		return nil, fmt.Errorf("store: query credits: %w", err)
	}
	defer rows.Close()
	var out []partnerlink.CreditRow
	for rows.Next() {
		var c partnerlink.CreditRow
		if err := rows.Scan(&c.RunID, &c.Day, &c.PartnerID, &c.TenantID, &c.SubscriptionID, &c.ResourceID, &c.Currency,
			&c.Attributed, &c.Eligible, &c.UsageRows); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		for _, p := range [][2]string{{a.Day, b.Day}, {a.PartnerID, b.PartnerID}, {a.TenantID, b.TenantID},
			{a.SubscriptionID, b.SubscriptionID}, {a.ResourceID, b.ResourceID}, {a.Currency, b.Currency}} {
			if p[0] != p[1] {
				return p[0] < p[1]
			}
		}
		return false
	})
	return out, rows.Err()
}
