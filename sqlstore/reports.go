package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/partnerlink/partnerlink"
)

// PublishReportVersion publishes v as the month's next version, in one
// transaction, unless the latest version has the same hash. The month is
// locked for the transaction (SQLite's single writer does it there), so two
// publishers at once produce one version (docs/rules.md#monthly-close).
func (d *DB) PublishReportVersion(ctx context.Context, v partnerlink.ReportVersion,
	restate func(latest *partnerlink.ReportVersion) ([]byte, error)) (*partnerlink.ReportVersion, bool, error) {
	var out *partnerlink.ReportVersion
	published := false
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.lockExclusive(ctx, tx, "report/"+v.Month); err != nil {
			return err
		}
		// The hash first: the content (hundreds of megabytes for a large
		// month) is read only when it is needed for the restatement.
		latest, err := reportVersion(ctx, tx, v.Month, 0, false)
		switch {
		case err == nil && latest.Hash == v.Hash:
			out = latest
			return nil
		case err == nil:
			if latest, err = reportVersion(ctx, tx, v.Month, latest.Version, true); err != nil {
				return err
			}
		case partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND:
			return err
		}
		v.Version = 1
		if latest != nil {
			v.Version = latest.Version + 1
			if v.Restatement, err = restate(latest); err != nil {
				return err
			}
		}
		content, err := gzipped(v.Content)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO report_versions (month, version, published_at, hash, content, restatement)
			VALUES ($1, $2, $3, $4, $5, $6)`, v.Month, v.Version, v.PublishedAt.UnixNano(), v.Hash, content, string(v.Restatement)); err != nil {
			return fmt.Errorf("store: publish report version %s v%d: %w", v.Month, v.Version, err)
		}
		if err := queueReportNotices(ctx, d, tx, v); err != nil {
			return err
		}
		out, published = &v, true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, published, nil
}

// ReportVersion returns one version of a month (the latest when version
// is 0); ENOTFOUND when there is none.
func (d *DB) ReportVersion(ctx context.Context, month string, version int) (*partnerlink.ReportVersion, error) {
	return reportVersion(ctx, d.db, month, version, true)
}

// ReportVersionInfo is ReportVersion without the content and restatement.
func (d *DB) ReportVersionInfo(ctx context.Context, month string, version int) (*partnerlink.ReportVersion, error) {
	return reportVersion(ctx, d.db, month, version, false)
}

func reportVersion(ctx context.Context, q queryer, month string, version int, content bool) (*partnerlink.ReportVersion, error) {
	cols := `month, version, published_at, hash, NULL, ''`
	if content {
		cols = `month, version, published_at, hash, content, restatement`
	}
	query := `SELECT ` + cols + ` FROM report_versions WHERE month = $1 ORDER BY version DESC LIMIT 1`
	args := []any{month}
	if version > 0 {
		query = `SELECT ` + cols + ` FROM report_versions WHERE month = $1 AND version = $2`
		args = append(args, version)
	}
	vs, err := scanReportVersions(q.QueryContext(ctx, query, args...))
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		if version > 0 {
			return nil, partnerlink.Errorf(partnerlink.ENOTFOUND, "month %s has no report version %d; 'partnerlink report versions --month %s' lists them", month, version, month)
		}
		// Say which months are: the latest, and where the list is.
		var latest sql.NullString
		if err := q.QueryRowContext(ctx, `SELECT max(month) FROM report_versions`).Scan(&latest); err != nil {
			return nil, fmt.Errorf("store: latest closed month: %w", err)
		}
		closed := "no month is closed yet"
		if latest.Valid {
			closed = "the latest closed month is " + latest.String + "; 'partnerlink report versions' lists them"
		}
		return nil, partnerlink.Errorf(partnerlink.ENOTFOUND, "month %s is not closed (%s); 'partnerlink close --month %s' closes it when the month is over",
			month, closed, month)
	}
	return &vs[0], nil
}

// ReportVersions lists the versions of a month (all months when ""),
// without their content, by month then version.
func (d *DB) ReportVersions(ctx context.Context, month string) ([]partnerlink.ReportVersion, error) {
	return scanReportVersions(d.db.QueryContext(ctx, `SELECT month, version, published_at, hash, NULL, restatement
		FROM report_versions WHERE ($1 = '' OR month = $1) ORDER BY month, version`, month))
}

func scanReportVersions(rows *sql.Rows, err error) ([]partnerlink.ReportVersion, error) {
	if err != nil {
		return nil, fmt.Errorf("store: read report versions: %w", err)
	}
	defer rows.Close()
	var out []partnerlink.ReportVersion
	for rows.Next() {
		var v partnerlink.ReportVersion
		var at int64
		var content []byte
		var restatement string
		if err := rows.Scan(&v.Month, &v.Version, &at, &v.Hash, &content, &restatement); err != nil {
			return nil, err
		}
		// Gzip-compressed, as kept (partnerlink.ReportVersion).
		v.Content = content
		v.PublishedAt, v.Restatement = time.Unix(0, at).UTC(), []byte(restatement)
		out = append(out, v)
	}
	return out, rows.Err()
}

// queueReportNotices queues a ReportNotification of v to each of v.Notify.
// They take negative event ids, counting down, so that they never meet the
// link events' (which are positive); the allocation is serialized on
// PostgreSQL by a lock (SQLite has one writer).
func queueReportNotices(ctx context.Context, d *DB, tx *sql.Tx, v partnerlink.ReportVersion) error {
	if len(v.Notify) == 0 {
		return nil
	}
	if err := d.lockExclusive(ctx, tx, "report-notices"); err != nil {
		return err
	}
	var next int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MIN(event_id), 0) FROM outbox WHERE event_id < 0`).Scan(&next); err != nil {
		return fmt.Errorf("store: queue report notifications: %w", err)
	}
	for _, tenant := range v.Notify {
		next--
		payload, err := json.Marshal(partnerlink.ReportNotification{Type: "partnerlink.report.published", EventID: next, TenantID: tenant,
			Month: v.Month, Version: v.Version, SHA256: v.Hash, At: v.PublishedAt.UTC()})
		if err != nil {
			return err
		}
		if err := queueNotice(ctx, tx, tenant, next, string(payload), v.PublishedAt); err != nil {
			return err
		}
	}
	return nil
}

// gzipped compresses a version's content with klauspost/compress, the
// standard library's gzip format several times faster (a large month's
// content is hundreds of megabytes). Content given compressed (the close
// compresses as it encodes) is kept as it is.
func gzipped(b []byte) ([]byte, error) {
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b { // JSON never starts so
		return b, nil
	}
	var out bytes.Buffer
	w, err := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
