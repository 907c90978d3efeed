// Package credits is the application service behind the stored credits of
// the latest attribution run (docs/rules.md#views-and-credits): all of them
// for the operator, a customer tenant's, and a partner's with the privacy
// rule applied. The HTTP API and the CLI both call it.
package credits

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/rbac"
	"github.com/partnerlink/partnerlink/views"
)

// Store is what the service reads.
type Store interface {
	views.Store
	LatestRun(ctx context.Context) (*partnerlink.AttributionRun, error)
	Credits(ctx context.Context, f partnerlink.CreditFilter) ([]partnerlink.CreditRow, error)
}

// Service reads credits.
type Service struct {
	Store Store
	Now   func() time.Time
}

// Line is one credit as the API shows it. Anonymized lines (the partner
// cannot read the customer's usage) carry no tenant, subscription or
// resource: one line per customer, day and currency.
type Line struct {
	Day                   string `json:"day"`
	PartnerID             string `json:"partnerId"`
	TenantID              string `json:"tenantId,omitempty"`
	Customer              string `json:"customer,omitempty"`
	SubscriptionID        string `json:"subscriptionId,omitempty"`
	ResourceID            string `json:"resourceId,omitempty"`
	Currency              string `json:"currency"`
	AttributedCost        string `json:"attributedCost"`
	IncentiveEligibleCost string `json:"incentiveEligibleCost"`
	UsageRows             int64  `json:"usageRows"`
	Anonymized            bool   `json:"anonymized,omitempty"`
}

func lineOf(c partnerlink.CreditRow) Line {
	return Line{Day: c.Day, PartnerID: c.PartnerID, TenantID: c.TenantID, SubscriptionID: c.SubscriptionID,
		ResourceID: c.ResourceID, Currency: c.Currency, AttributedCost: c.Attributed, IncentiveEligibleCost: c.Eligible,
		UsageRows: c.UsageRows}
}

// Latest returns the latest run and its credits matching f (whose RunID it
// sets); ENOTFOUND when there is no run.
func (s *Service) Latest(ctx context.Context, f partnerlink.CreditFilter) (*partnerlink.AttributionRun, []partnerlink.CreditRow, error) {
	run, err := s.Store.LatestRun(ctx)
	if err != nil {
		return nil, nil, err
	}
	f.RunID = run.ID
	rows, err := s.Store.Credits(ctx, f)
	return run, rows, err
}

// NoneMatch is the answer when f matches no credit of run: it says which
// period the run covers, and how to make one that has the day asked for.
func NoneMatch(run *partnerlink.AttributionRun, f partnerlink.CreditFilter) error {
	covers := fmt.Sprintf("run %d covers %s to %s (the end excluded)", run.ID, run.From.Format("2006-01-02"), run.To.Format("2006-01-02"))
	if day, err := time.Parse("2006-01-02", f.Day); err == nil && (day.Before(run.From) || !day.Before(run.To)) {
		return partnerlink.Errorf(partnerlink.ENOTFOUND, "--day %s is outside the latest attribution run: %s; "+
			"run 'partnerlink attribute --from DAY --to DAY' over a period that includes it", f.Day, covers)
	}
	return partnerlink.Errorf(partnerlink.ENOTFOUND, "no credits match these filters in run %d; %s", run.ID, covers)
}

// ForTenant returns what each partner (or only partnerID, when given) is
// credited with in a customer tenant, in the latest run.
func (s *Service) ForTenant(ctx context.Context, tenantID, partnerID string, f partnerlink.CreditFilter) (*partnerlink.AttributionRun, []Line, error) {
	f.TenantID = tenantID
	if partnerID != "" {
		f.PartnerIDs = []string{partnerID}
	}
	run, rows, err := s.Latest(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	out := []Line{}
	for _, c := range rows {
		out = append(out, lineOf(c))
	}
	return run, out, nil
}

// ForPartner returns the credits of a partner organization's IDs in the
// latest run, with the customers whose usage the partner cannot read
// folded into one anonymized line per customer, day and currency.
func (s *Service) ForPartner(ctx context.Context, partnerIDs []string, f partnerlink.CreditFilter) (*partnerlink.AttributionRun, []Line, error) {
	f.PartnerIDs = partnerIDs
	run, rows, err := s.Latest(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	readable, err := s.readableTenants(ctx, partnerIDs)
	if err != nil {
		return nil, nil, err
	}
	if f.TenantID != "" || f.SubscriptionID != "" || f.ResourceID != "" {
		// A filter that selects within a customer selects detail lines
		// only: answered for a customer the partner cannot read, it would
		// tell which resources, subscriptions or tenant an anonymized
		// line is made of (docs/rules.md, "Credits").
		rows = slices.DeleteFunc(rows, func(c partnerlink.CreditRow) bool { return !readable[c.TenantID] })
	}
	return run, Fold(rows, readable), nil
}

// Fold applies the privacy rule: detail for readable tenants, one
// anonymized line per other customer, day and currency.
func Fold(rows []partnerlink.CreditRow, readable map[string]bool) []Line {
	out := []Line{}
	customers := map[string]string{}
	var hidden []string
	for _, c := range rows {
		if !readable[c.TenantID] && customers[c.TenantID] == "" {
			hidden = append(hidden, c.TenantID)
			customers[c.TenantID] = "x"
		}
	}
	sort.Strings(hidden)
	for i, t := range hidden {
		customers[t] = fmt.Sprintf("customer %d", i+1)
	}
	folded := map[[4]string]*Line{}
	var order [][4]string
	for _, c := range rows {
		if readable[c.TenantID] {
			out = append(out, lineOf(c))
			continue
		}
		k := [4]string{c.Day, c.PartnerID, customers[c.TenantID], c.Currency}
		v := folded[k]
		if v == nil {
			v = &Line{Day: c.Day, PartnerID: c.PartnerID, Customer: k[2], Currency: c.Currency,
				AttributedCost: "0", IncentiveEligibleCost: "0", Anonymized: true}
			folded[k] = v
			order = append(order, k)
		}
		v.AttributedCost = addDecimal(v.AttributedCost, c.Attributed)
		v.IncentiveEligibleCost = addDecimal(v.IncentiveEligibleCost, c.Eligible)
		v.UsageRows += c.UsageRows
	}
	for _, k := range order {
		out = append(out, *folded[k])
	}
	return out
}

// addDecimal adds two exact decimals written as text (the stored credits
// always are).
func addDecimal(a, b string) string {
	if z, err := partnerlink.AddDecimal(a, b); err == nil {
		return z
	}
	return a
}

// usageReadAction is what a role must allow for the partner to see a
// customer's names and resource detail (docs/rules.md#views-and-credits:
// "*", "*/read" or a cost or consumption read action all allow it).
const usageReadAction = "Microsoft.Consumption/usageDetails/read"

// readableTenants lists the customer tenants in which one of the partner's
// linked credentials (or a group it is in, or a Lighthouse delegation to
// it) holds a role that can read usage.
func (s *Service) readableTenants(ctx context.Context, ids []string) (map[string]bool, error) {
	lcs, err := (&views.Service{Store: s.Store, Now: s.Now}).LinkedCredentials(ctx, partnerlink.LinkFilter{PartnerIDs: ids, CurrentOnly: true})
	if err != nil {
		return nil, err
	}
	// A role is resolved among the custom roles of the tenant it is held
	// in (docs/rules.md).
	customOf := map[string][]partnerlink.RoleDefinition{}
	var lookupErr error
	canRead := func(tenant, role string) bool {
		custom, ok := customOf[tenant]
		if !ok {
			var err error
			if custom, err = s.Store.RoleDefinitions(ctx, tenant); err != nil && lookupErr == nil {
				lookupErr = err
			}
			customOf[tenant] = custom
		}
		r, ok := rbac.Resolve(custom, role)
		return ok && partnerlink.Permits(r.Actions, r.NotActions, usageReadAction)
	}
	out := map[string]bool{}
	for _, lc := range lcs {
		for _, ra := range lc.RoleAssignments {
			if canRead(lc.TenantID, ra.Role) {
				out[lc.TenantID] = true
			}
		}
		for _, d := range lc.Delegations {
			if canRead(d.TenantID, d.Role) {
				out[d.TenantID] = true
			}
		}
	}
	if lookupErr != nil {
		return nil, lookupErr
	}
	return out, nil
}
