// Package ledger runs attribution on a server's own state — the world as
// the store holds it and the usage files imported into the data directory —
// and keeps the credits per day, so they can be read back by partner,
// tenant, subscription, resource and day.
//
// Each usage file of the period's months is read once; every row goes to a
// run over the whole period (the credits of docs/api.md#attribution-csv and the summary) and
// to the run of its own day (the daily credits). Both are the engine's
// runs over the same index, so the daily credits add up exactly to the
// period's.
package ledger

import (
	"context"
	"encoding/json"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/attribution"
	"github.com/partnerlink/partnerlink/focus"
	"github.com/partnerlink/partnerlink/usage"
	"github.com/partnerlink/partnerlink/world"
)

// Store is what a run reads and writes.
type Store interface {
	usage.Store
	ExportWorld(ctx context.Context) (*world.Document, error)
	partnerlink.CreditStore
}

// Outcome is a finished, stored run.
type Outcome struct {
	RunID  int64
	Result *attribution.Result // the whole period
	Files  []string
}

// Run attributes [from, to) on the store's state and the data directory's
// usage, and stores the daily credits. opt.From, opt.To and opt.Workers are
// set here; the charge category and cost column are taken from opt.
func Run(ctx context.Context, store Store, dataDir string, from, to time.Time, opt attribution.Options, now time.Time) (*Outcome, error) {
	doc, err := store.ExportWorld(ctx)
	if err != nil {
		return nil, err
	}
	ix, err := attribution.NewIndex(doc)
	if err != nil {
		return nil, err
	}
	opt.From, opt.To, opt.Workers, opt.StoredUsage = from.UTC(), to.UTC(), 1, true
	period, err := attribution.NewRun(ix, opt)
	if err != nil {
		return nil, err
	}
	days := map[time.Time]*attribution.Run{}
	files, err := usage.Files(ctx, store, dataDir, usage.FOCUS, from, to)
	if err != nil {
		return nil, err
	}
	for i, path := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		file := int64(i)
		err := focus.ScanFile(path, focus.Options{Workers: 1, Stored: true}, func(_ int, row *focus.Row) error {
			if err := period.Add(file, row); err != nil {
				return err
			}
			start := row.ChargePeriodStart.UTC()
			if start.Before(opt.From) || !start.Before(opt.To) {
				return nil
			}
			day := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
			run := days[day]
			if run == nil {
				dayOpt := opt
				dayOpt.From, dayOpt.To = day, day.AddDate(0, 0, 1)
				if run, err = attribution.NewRun(ix, dayOpt); err != nil {
					return err
				}
				days[day] = run
			}
			return run.Add(file, row)
		})
		if err != nil {
			return nil, err
		}
	}
	result := period.Result()
	var rows []partnerlink.CreditRow
	for day, run := range days {
		for _, c := range run.Result().Credits() {
			rows = append(rows, partnerlink.CreditRow{Day: day.Format("2006-01-02"), PartnerID: c.PartnerID, TenantID: c.TenantID,
				SubscriptionID: c.SubAccountID, ResourceID: c.ResourceID, Currency: c.BillingCurrency,
				Attributed: c.AttributedCost.String(), Eligible: c.IncentiveEligibleCost.String(), UsageRows: c.UsageRows})
		}
	}
	summary, err := json.Marshal(SummaryView(result.Summary))
	if err != nil {
		return nil, err
	}
	id, err := store.SaveRun(ctx, partnerlink.AttributionRun{From: opt.From, To: opt.To, CreatedAt: now.UTC(), Summary: summary}, rows)
	if err != nil {
		return nil, err
	}
	return &Outcome{RunID: id, Result: result, Files: files}, nil
}

// TallyView is a count of rows and their amounts by currency.
type TallyView struct {
	Rows    int64             `json:"rows"`
	Amounts map[string]string `json:"amounts"`
}

// Summary is attribution.Summary as stored and shown.
type Summary struct {
	ChargeCategory      string    `json:"chargeCategory"`
	CostColumn          string    `json:"costColumn"`
	Read                TallyView `json:"read"`
	Credited            TallyView `json:"credited"`
	NoPartner           TallyView `json:"noPartner"`
	UnknownSubscription TallyView `json:"unknownSubscription"`
	OutOfPeriod         TallyView `json:"outOfPeriod"`
	OtherCategory       TallyView `json:"otherCategory"`
}

// SummaryView converts an engine summary.
func SummaryView(s attribution.Summary) Summary {
	t := func(x attribution.Tally) TallyView {
		v := TallyView{Rows: x.Rows, Amounts: map[string]string{}}
		for c, sum := range x.Amounts {
			v.Amounts[c] = sum.String()
		}
		return v
	}
	return Summary{ChargeCategory: s.ChargeCategory, CostColumn: s.CostColumn, Read: t(s.Read), Credited: t(s.Credited),
		NoPartner: t(s.NoPartner), UnknownSubscription: t(s.UnknownSubscription), OutOfPeriod: t(s.OutOfPeriod),
		OtherCategory: t(s.OtherCategory)}
}

// ParseDay reads a day (YYYY-MM-DD) or an RFC 3339 instant, for --from/--to.
func ParseDay(flag, v string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", time.RFC3339Nano} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, partnerlink.Errorf(partnerlink.EINVALID, "%s %q is not a day: expected YYYY-MM-DD (such as 2026-03-01) or an RFC 3339 instant (such as 2026-03-01T00:00:00Z)", flag, v)
}
