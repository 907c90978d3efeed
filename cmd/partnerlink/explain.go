package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/api"
	"github.com/partnerlink/partnerlink/attribution"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/world"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newExplainCmd) }

// newExplainCmd is `partnerlink explain`: why a partner was (or was not)
// credited with a resource on a day or in a month — the chain link →
// memberships → role assignment or delegation → scope, or the nearest
// reason why not (docs/rules.md#views-and-credits).
func newExplainCmd(m *Main) *cobra.Command {
	var partnerID, subscription, resource, day, month, worldPath, output string
	cmd := &cobra.Command{
		Use:   "explain --partner P --resource R (--day YYYY-MM-DD | --month YYYY-MM)",
		Short: "Explain why a partner is or is not credited with a resource's usage",
		Long: `Explain why a partner is or is not credited with a resource's usage on a day (or in a month):
the chain link → group memberships → role assignment or Lighthouse delegation → scope, or the
nearest reason why not. Reads the data directory's state, or a world document with --world.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (day == "") == (month == "") {
				return partnerlink.Errorf(partnerlink.EINVALID, "give exactly one of --day YYYY-MM-DD or --month YYYY-MM")
			}
			period, err := api.ExplainPeriod(day, month)
			if err != nil {
				return err
			}
			doc, err := loadWorld(cmd.Context(), m, worldPath)
			if err != nil {
				return err
			}
			ix, err := attribution.NewIndex(doc)
			if err != nil {
				return err
			}
			e, err := ix.ExplainIn(partnerID, subscription, resource, period)
			if err != nil {
				return err
			}
			if output == "json" {
				return printJSON(m, api.ExplanationView(e))
			}
			return printExplanation(m, e)
		},
	}
	f := cmd.Flags()
	f.StringVar(&partnerID, "partner", "", "partner ID")
	f.StringVar(&resource, "resource", "", "resource id (or a subscription or resource group)")
	f.StringVar(&subscription, "subscription", "", "the resource's subscription (its usage rows' SubAccountId), needed for a resource id outside a subscription's path such as a reservation's")
	f.StringVar(&day, "day", "", "the UTC day, YYYY-MM-DD")
	f.StringVar(&month, "month", "", "a whole month, YYYY-MM (instead of --day)")
	f.StringVar(&worldPath, "world", "", "explain against this world document instead of the data directory")
	f.StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}

// loadWorld reads a world document file, or exports the data directory's state.
func loadWorld(ctx context.Context, m *Main, path string) (*world.Document, error) {
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return world.Read(f, path) // Read validates
	}
	var doc *world.Document
	err := withStoreCtx(ctx, m, func(ctx context.Context, db *sqlstore.DB) error {
		var err error
		doc, err = db.ExportWorld(ctx)
		return err
	})
	return doc, err
}

func printExplanation(m *Main, e *attribution.Explanation) error {
	w := m.Stdout
	when := e.Day.From.Format("2006-01-02")
	if e.Day.To.Sub(e.Day.From) > 24*time.Hour {
		when = e.Day.From.Format("2006-01")
	}
	if !e.Credited {
		_, err := fmt.Fprintf(w, "Partner %s is NOT credited with %s on %s.\nReason: %s\n", e.PartnerID, e.ResourceID, when, e.Reason)
		return err
	}
	eligible := "influence only (no writing role held for the whole period): not incentive-eligible"
	if e.IncentiveEligible {
		eligible = "incentive-eligible (a writing role held for the whole period)"
	}
	fmt.Fprintf(w, "Partner %s IS credited with %s on %s (tenant %s, subscription %s), %s.\n",
		e.PartnerID, e.ResourceID, when, e.TenantID, e.SubscriptionID, eligible)
	for i, c := range e.Chains {
		fmt.Fprintf(w, "  %d. %s\n", i+1, c.String())
	}
	return nil
}
