package partnerlink

import "time"

// UsageImport is the record of one imported usage file.
type UsageImport struct {
	Hash       string
	Kind       string // "focus" or "activity"
	Name       string
	Path       string // relative to the data directory
	Rows       int64
	Totals     map[string]string // currency → exact EffectiveCost total
	HasUSD     bool
	Months     []string // YYYY-MM covered by ChargePeriodStart
	ImportedAt time.Time
	// Content identifies the file's rows whatever their encoding: gzip or
	// not, line ends, a byte order mark, CSV or Parquet, row order (FOCUS
	// files; "" for others and for imports recorded before it existed).
	Content string
}

// ExportRun is one run of a cost export read from a usage source
// (docs/usage-sources.md): its files are recorded as usage imports, and of
// the runs of one export and period only the latest counts.
type ExportRun struct {
	Key    string // the manifest's place and content hash: the same run is imported once
	Source string // the source URL it was read from
	// Export names the export and period; a later run of it supersedes
	// this one (SubmittedAt, then Key).
	Export string
	// FormerExport, when not empty, is how earlier releases named the same
	// export: recording the run renames runs recorded under it to Export
	// (not stored).
	FormerExport string
	SubmittedAt  time.Time
	ImportedAt   time.Time
	Rows         int64
	Files        []string // the content hashes of its parts, in the manifest's order
}
