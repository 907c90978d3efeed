package partnerlink

import (
	"context"
	"time"
)

// ReportVersion is one published version of a month's reports: the
// month's closed content (docs/rules.md#monthly-close), which never changes
// once published, with its hash and what it restated of the version before.
type ReportVersion struct {
	Month       string    // YYYY-MM
	Version     int       // 1, 2, …
	PublishedAt time.Time // when it was published
	Hash        string    // hex SHA-256 of Content
	// Content is the month's content, canonical JSON, as published,
	// given to a store as it is or gzip-compressed (RFC 1952; Hash is of
	// the JSON either way); a store returns it as it keeps it, which may
	// be gzip-compressed (report.Unmarshal reads both), so that a large
	// month is read as a stream, never held whole.
	Content     []byte
	Restatement []byte // the differences from the version before (JSON); empty for version 1
	// Notify are the tenants whose webhooks are told of a new version (a
	// ReportNotification each, queued with it); not stored with the version.
	Notify []string
}

// ReportNotification is the JSON body posted to a tenant's webhook when a
// month's reports get a new version: the customers credited in it and the
// home tenants of the partner organizations credited.
type ReportNotification struct {
	Type     string    `json:"type"` // "partnerlink.report.published"
	EventID  int64     `json:"eventId"`
	TenantID string    `json:"tenantId"`
	Month    string    `json:"month"`
	Version  int       `json:"version"`
	SHA256   string    `json:"sha256"`
	At       time.Time `json:"at"`
}

// ReportStore keeps the published versions of each month's reports.
type ReportStore interface {
	// PublishReportVersion publishes v as the next version of v.Month
	// unless the latest version has the same hash: then it publishes
	// nothing and returns that version and false. v.Version is set by the
	// store, and v.Restatement by restate, called in the same transaction
	// with the latest version (with its content) when there is one; two
	// publishers at once produce one version.
	PublishReportVersion(ctx context.Context, v ReportVersion, restate func(latest *ReportVersion) ([]byte, error)) (*ReportVersion, bool, error)
	// ReportVersion returns one version (the latest when version is 0); ENOTFOUND.
	ReportVersion(ctx context.Context, month string, version int) (*ReportVersion, error)
	// ReportVersionInfo is ReportVersion without the content: what a reader
	// that keeps contents needs to know whether it has this one.
	ReportVersionInfo(ctx context.Context, month string, version int) (*ReportVersion, error)
	// ReportVersions lists a month's versions without their content,
	// oldest first; all months when month is "".
	ReportVersions(ctx context.Context, month string) ([]ReportVersion, error)
}
