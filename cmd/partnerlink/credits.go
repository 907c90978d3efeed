package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/credits"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newCreditsCmd) }

// newCreditsCmd reads back the daily credits of the latest attribution run
// on the data directory (`partnerlink attribute --from --to` without
// --world makes one).
func newCreditsCmd(m *Main) *cobra.Command {
	var f partnerlink.CreditFilter
	var partner string
	cmd := &cobra.Command{
		Use:   "credits [--partner P] [--tenant T] [--subscription S] [--resource R] [--day YYYY-MM-DD]",
		Short: "Show the credits of the latest attribution run, by partner, tenant, subscription, resource and day",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				if partner != "" {
					var err error
					if f.PartnerIDs, err = organizationIDs(ctx, db, partner); err != nil {
						return err
					}
				}
				run, rows, err := (&credits.Service{Store: db, Now: m.Now}).Latest(ctx, f)
				if err != nil {
					return err
				}
				fmt.Fprintf(m.Stdout, "run %d: %s to %s\n", run.ID, run.From.Format("2006-01-02"), run.To.Format("2006-01-02"))
				tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "DAY\tPARTNER\tTENANT\tSUBSCRIPTION\tRESOURCE\tCURRENCY\tATTRIBUTED\tELIGIBLE\tROWS")
				for _, c := range rows {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", c.Day, c.PartnerID, c.TenantID, c.SubscriptionID,
						c.ResourceID, c.Currency, c.Attributed, c.Eligible, c.UsageRows)
				}
				if len(rows) == 0 {
					return credits.NoneMatch(run, f)
				}
				return tw.Flush()
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&partner, "partner", "", "partner ID (a global ID includes its location IDs)")
	fl.StringVar(&f.TenantID, "tenant", "", "customer tenant id")
	fl.StringVar(&f.SubscriptionID, "subscription", "", "subscription id")
	fl.StringVar(&f.ResourceID, "resource", "", "resource id (case-insensitive)")
	fl.StringVar(&f.Day, "day", "", "day, YYYY-MM-DD")
	return cmd
}
