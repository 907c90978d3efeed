package partnerlink

import (
	"encoding/json"
	"time"
)

// CreditRow is one stored credit: a partner, a resource, a currency and a
// day of one run.
type CreditRow struct {
	RunID          int64
	Day            string
	PartnerID      string
	TenantID       string
	SubscriptionID string
	ResourceID     string
	Currency       string
	Attributed     string
	Eligible       string
	UsageRows      int64
}

// AttributionRun is a stored run.
type AttributionRun struct {
	ID        int64
	From, To  time.Time
	CreatedAt time.Time
	Summary   json.RawMessage
}

// CreditFilter narrows Credits; empty fields match all.
type CreditFilter struct {
	RunID          int64
	PartnerIDs     []string
	TenantID       string
	SubscriptionID string
	ResourceID     string // compared case-insensitively
	Day            string // YYYY-MM-DD
}
