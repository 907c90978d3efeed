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
}
