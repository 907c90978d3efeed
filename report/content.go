// Package report closes months and renders the reports partners, customers
// and the incentive program receive (docs/rules.md#monthly-close). A close
// runs Azure and Power Platform attribution for the month on the stored
// state and the imported usage, and publishes the month's Content as a new
// version when it differs from the latest; every report is a pure function
// of one published version, so a version's reports never change.
package report

import (
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// Content is what a version of a month holds: everything its reports show,
// sorted, so that its JSON is canonical and its hash identifies it.
type Content struct {
	Month string `json:"month"` // YYYY-MM
	// Azure is the month's credit per partner ID, customer tenant,
	// subscription, service, resource and currency, in the order of
	// partner ID, tenant, subscription, resource and currency.
	Azure AzureLines `json:"azure"`
	// Organizations is the month's credit per organization (location IDs
	// counted as their global ID, each usage row once), customer tenant and
	// currency.
	Organizations []OrgLine `json:"organizations"`
	// PowerPlatform is the month's Power Platform credit per resource.
	PowerPlatform []PPLine  `json:"powerPlatform"`
	Partners      []Partner `json:"partners"`
	Tenants       []Tenant  `json:"tenants"`
	// Readable lists the (partner ID, customer tenant) pairs whose detail
	// the partner sees (docs/rules.md#monthly-close, "Privacy").
	Readable []Pair `json:"readable"`
	// Credentials are the links in force during the month with the access
	// behind each.
	Credentials []Credential `json:"credentials"`
	// Events are the month's link changes.
	Events []Event `json:"events"`
	// Notifications are the notifications queued to tenants' webhooks
	// during the month (what was sent, not how delivery went, which changes
	// after the close).
	Notifications []Notice `json:"notifications"`
	// Unlinked are the organizations' credentials that could have been
	// linked, with what they would have credited.
	Unlinked []Unlinked `json:"unlinked"`
	Summary  Summary    `json:"summary"`
}

// AzureLines are a month's Azure credit lines.
type AzureLines []AzureLine

// appendJSON appends the lines as the JSON codec writes them (fields in
// order, by their json names), separated by commas and without the
// brackets of the list, several times faster than its reflection: a large
// month has hundreds of thousands (Marshal).
func (ls AzureLines) appendJSON(b []byte) ([]byte, error) {
	var err error
	str := func(name, v string) {
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		if b, err = jsontext.AppendQuote(b, v); err != nil {
			return
		}
		b = append(b, ',')
	}
	num := func(name string, v int64) {
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b = strconv.AppendInt(b, v, 10)
		b = append(b, ',')
	}
	for i, l := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		str("partnerId", l.PartnerID)
		str("tenantId", l.TenantID)
		str("subscriptionId", l.SubscriptionID)
		str("serviceName", l.ServiceName)
		str("resourceId", l.ResourceID)
		str("currency", l.Currency)
		str("attributedCost", l.Attributed)
		str("incentiveEligibleCost", l.Eligible)
		str("usd", l.USD)
		num("usdRows", l.USDRows)
		num("usageRows", l.UsageRows)
		b = append(b, `"isDuplicateRowForPGA":`...)
		b = strconv.AppendBool(b, l.DuplicateForPGA)
		b = append(b, '}')
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

// sizeJSON is about the size of the lines' appendJSON, a little more
// unless they need escapes.
func (ls AzureLines) sizeJSON() int {
	n := 0
	for _, l := range ls {
		// The names, quotes and punctuation take 220 bytes, the numbers
		// and the boolean at most 45.
		n += 265 + len(l.PartnerID) + len(l.TenantID) + len(l.SubscriptionID) + len(l.ServiceName) + len(l.ResourceID) +
			len(l.Currency) + len(l.Attributed) + len(l.Eligible) + len(l.USD)
	}
	return n
}

// AzureLine is one partner ID's credit on one resource in one currency.
type AzureLine struct {
	PartnerID      string `json:"partnerId"`
	TenantID       string `json:"tenantId"`
	SubscriptionID string `json:"subscriptionId"`
	ServiceName    string `json:"serviceName"`
	ResourceID     string `json:"resourceId"`
	Currency       string `json:"currency"`
	Attributed     string `json:"attributedCost"`
	Eligible       string `json:"incentiveEligibleCost"`
	// USD is the line's amount in US dollars for ACR_USD (docs/rules.md,
	// "Partner Center layout"); USDRows of UsageRows have one.
	USD       string `json:"usd"`
	USDRows   int64  `json:"usdRows"`
	UsageRows int64  `json:"usageRows"`
	// DuplicateForPGA marks a line whose resource the same organization
	// is also credited with through an ID that sorts before this one: the
	// organization's total counts such usage once.
	DuplicateForPGA bool `json:"isDuplicateRowForPGA"`
}

// OrgLine is one organization's credit in one customer tenant and currency.
type OrgLine struct {
	GlobalPartnerID string `json:"globalPartnerId"`
	TenantID        string `json:"tenantId"`
	Currency        string `json:"currency"`
	Attributed      string `json:"attributedCost"`
	Eligible        string `json:"incentiveEligibleCost"`
	UsageRows       int64  `json:"usageRows"`
}

// PPLine is one Power Platform resource's credit for the month.
type PPLine struct {
	PartnerID     string `json:"partnerId"`
	TenantID      string `json:"tenantId"`
	EnvironmentID string `json:"environmentId"`
	ResourceID    string `json:"resourceId"`
	Kind          string `json:"resourceKind"`
	Metric        string `json:"metric"`
	Value         int64  `json:"value"`
	Eligible      bool   `json:"eligible"`
}

// Partner is a partner ID as registered at the close.
type Partner struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	GlobalID      string   `json:"globalId,omitempty"`
	HomeTenantIDs []string `json:"homeTenantIds,omitempty"`
}

// Tenant is a tenant as named at the close.
type Tenant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Pair is a partner ID and a customer tenant.
type Pair struct {
	PartnerID string `json:"partnerId"`
	TenantID  string `json:"tenantId"`
}

// Credential is a link in force during the month: a principal of a tenant
// linked to a partner ID, and the roles it held through it.
type Credential struct {
	TenantID    string   `json:"tenantId"`
	ObjectID    string   `json:"objectId"`
	Type        string   `json:"type"`
	DisplayName string   `json:"displayName"`
	PartnerID   string   `json:"partnerId"`
	Since       string   `json:"since"` // the link's start (RFC 3339), "" when unbounded
	Until       string   `json:"until,omitempty"`
	Access      []Access `json:"access"`
}

// Access is a role a credential held at a scope during the month.
type Access struct {
	TenantID string `json:"tenantId"` // the tenant the scope is in
	Role     string `json:"role"`
	Scope    string `json:"scope"`
	Via      string `json:"via"` // "assignment" or "delegation"
	Through  string `json:"through,omitempty"`
}

// Event is one link change of the month.
type Event struct {
	At                string `json:"at"`
	TenantID          string `json:"tenantId"`
	ObjectID          string `json:"objectId"`
	Action            string `json:"action"`
	PartnerID         string `json:"partnerId"`
	PreviousPartnerID string `json:"previousPartnerId,omitempty"`
	Actor             string `json:"actor"`
}

// Notice is one notification queued to a tenant's webhook.
type Notice struct {
	QueuedAt string `json:"queuedAt"`
	TenantID string `json:"tenantId"`
	EventID  int64  `json:"eventId"`
	Type     string `json:"type"` // the payload's type, such as partnerlink.link.created
}

// Summary says what the close read.
type Summary struct {
	// Files are the content hashes of the usage files read.
	Files    []string `json:"files"`
	RowsRead int64    `json:"rowsRead"`
	// RowsCredited were credited to at least one partner ID.
	RowsCredited int64 `json:"rowsCredited"`
	// RowsWithoutUSD were credited but have no amount in US dollars, so
	// they are left out of ACR_USD.
	RowsWithoutUSD int64 `json:"rowsWithoutUsd"`
}
