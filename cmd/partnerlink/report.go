package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/report"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newCloseCmd, newReportCmd) }

func reportService(m *Main, db *sqlstore.DB, closeDay int) *report.Service {
	return &report.Service{Store: db, DataDir: m.DataDir, Now: m.Now, CloseDay: closeDay, Workers: 2,
		UsageStore: m.UsageStore, Buckets: m.UsageBuckets}
}

// newCloseCmd closes a month (docs/rules.md#monthly-close).
func newCloseCmd(m *Main) *cobra.Command {
	var month string
	var early, work bool
	closeDay := report.DefaultCloseDay
	cmd := &cobra.Command{
		Use:   "close --month YYYY-MM [--early]",
		Short: "Close a month: attribute it on the stored state and imported usage, and publish its reports as a new version",
		Long: `Close runs Azure and Power Platform attribution for the month on the stored state and
the imported usage, and publishes the month's reports as version 1, or as the next version
with the differences listed when something changed since the last close (usage imported
later, history imported later). When nothing changed it publishes nothing and says so. A
month closes from day --close-day of the next month; --early closes it before.
See docs/rules.md#monthly-close.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mo, err := partnerlink.ParseMonth(month)
			if err != nil {
				return partnerlink.Errorf(partnerlink.EINVALID, "--month: %v", err)
			}
			if err := report.CheckCloseDay(closeDay); err != nil {
				return err
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				svc := reportService(m, db, closeDay)
				if db.Dialect() == sqlstore.Postgres {
					// On PostgreSQL the partitions go on the job queue (docs/scale.md).
					q, err := openQueue(ctx, m, db, map[bool]int{true: 2, false: 0}[work], "")
					if err != nil {
						return err
					}
					defer q.Close(context.WithoutCancel(ctx))
					svc.Executor = q
				}
				out, err := svc.Close(ctx, mo, early)
				if err != nil {
					return err
				}
				v := out.Version
				if !out.Published {
					fmt.Fprintf(m.Stdout, "Nothing changed in %s since version %d (published %s); no version published.\n",
						v.Month, v.Version, v.PublishedAt.Format("2006-01-02 15:04:05Z"))
					return nil
				}
				fmt.Fprintf(m.Stdout, "Published version %d of %s (sha256 %s).\n", v.Version, v.Month, v.Hash)
				if v.Version > 1 {
					fmt.Fprintf(m.Stdout, "It restates version %d in %d lines:\n", v.Version-1, len(out.Changes))
					tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
					fmt.Fprintln(tw, "KIND\tLINE\tOLD\tNEW\tDELTA\tELIGIBLE DELTA")
					for _, c := range out.Changes {
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Kind, strings.Join(c.Key, " "), c.Old, c.New, c.Delta, c.DeltaEligible)
					}
					tw.Flush()
				}
				fmt.Fprintf(m.Stdout, "Read it with 'partnerlink report partner|customer|program --month %s'.\n", v.Month)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&month, "month", "", "the month to close, YYYY-MM (required)")
	cmd.Flags().BoolVar(&early, "early", false, "close before the close day")
	cmd.Flags().IntVar(&closeDay, "close-day", closeDay, "the day of the next month from which a month closes")
	cmd.Flags().BoolVar(&work, "work", true, "on PostgreSQL, work the close's partitions in this process too, beside the running partnerlink workers")
	cmd.MarkFlagRequired("month")
	return cmd
}

// newReportCmd reads the published reports of closed months.
func newReportCmd(m *Main) *cobra.Command {
	cmd := &cobra.Command{Use: "report", Short: "Read the reports of closed months: partner, customer, program, versions"}
	var month, toMonth, format string
	var version int
	addFlags := func(c *cobra.Command, formats []string) {
		c.Flags().StringVar(&month, "month", "", "the month, YYYY-MM (required)")
		c.Flags().StringVar(&toMonth, "to-month", "", "the last month of a range (the latest version of each)")
		c.Flags().IntVar(&version, "version", 0, "a published version of the month (default the latest)")
		c.Flags().StringVarP(&format, "format", "f", "table", "output format: "+fmt.Sprint(formats))
		c.MarkFlagRequired("month")
	}
	read := func(cmd *cobra.Command, name string, formats []string, fn func(ps []report.Published) error) error {
		if err := report.CheckFormat(name, format, formats...); err != nil {
			return err
		}
		months, err := report.Months(month, toMonth)
		if err != nil {
			return err
		}
		if version == 0 && cmd.Flags().Changed("version") {
			// 0 is "the latest" only when --version is left out.
			return partnerlink.Errorf(partnerlink.EINVALID, "--version 0: versions are numbered from 1")
		}
		return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
			ps, err := reportService(m, db, 0).Read(ctx, months, version)
			if err != nil {
				return err
			}
			return fn(ps)
		})
	}

	var partner string
	partnerFormats := []string{report.FormatTable, report.FormatCSV, report.FormatJSON, report.FormatPartnerCenter}
	partnerCmd := &cobra.Command{
		Use:   "partner --partner P --month YYYY-MM [--to-month YYYY-MM] [--version N] [--format table|csv|json|partner-center]",
		Short: "What a partner organization was credited with, by customer, subscription, service and resource",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return read(cmd, "partner", partnerFormats, func(ps []report.Published) error {
				var rs []*report.PartnerReport
				for _, p := range ps {
					ids, err := p.Content.Organization(partner)
					if err != nil {
						return err
					}
					r, err := report.ForPartner(p.Content, p.Version.Version, ids)
					if err != nil {
						return err
					}
					rs = append(rs, r)
				}
				return report.WritePartner(m.Stdout, rs, format)
			})
		},
	}
	addFlags(partnerCmd, partnerFormats)
	partnerCmd.Flags().StringVar(&partner, "partner", "", "partner ID (a global ID includes its location IDs)")
	partnerCmd.MarkFlagRequired("partner")

	var tenant string
	customerFormats := []string{report.FormatTable, report.FormatCSV, report.FormatJSON}
	customerCmd := &cobra.Command{
		Use:   "customer --tenant T --month YYYY-MM [--to-month YYYY-MM] [--version N] [--format table|csv|json]",
		Short: "The partners linked in a customer tenant, their credentials, scopes and credit, and the month's link changes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := partnerlink.ParseGUID("--tenant", tenant)
			if err != nil {
				return err
			}
			return read(cmd, "customer", customerFormats, func(ps []report.Published) error {
				var rs []*report.CustomerReport
				for _, p := range ps {
					if err := p.Content.HasTenant(id); err != nil {
						return err
					}
					r, err := report.ForCustomer(p.Content, p.Version.Version, id)
					if err != nil {
						return err
					}
					rs = append(rs, r)
				}
				return report.WriteCustomer(m.Stdout, rs, format)
			})
		},
	}
	addFlags(customerCmd, customerFormats)
	customerCmd.Flags().StringVar(&tenant, "tenant", "", "customer tenant id")
	customerCmd.MarkFlagRequired("tenant")

	programFormats := []string{report.FormatTable, report.FormatCSV, report.FormatJSON}
	programCmd := &cobra.Command{
		Use:   "program --month YYYY-MM [--to-month YYYY-MM] [--version N] [--format table|csv|json]",
		Short: "Per partner organization and currency: attributed and incentive-eligible cost, customers, Power Platform metrics",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return read(cmd, "program", programFormats, func(ps []report.Published) error {
				var rs []*report.ProgramReport
				for _, p := range ps {
					r, err := report.ForProgram(p.Content, p.Version.Version)
					if err != nil {
						return err
					}
					rs = append(rs, r)
				}
				return report.WriteProgram(m.Stdout, rs, format)
			})
		},
	}
	addFlags(programCmd, programFormats)

	var unlinkedPartner string
	unlinkedFormats := []string{report.FormatTable, report.FormatCSV, report.FormatJSON}
	unlinkedCmd := &cobra.Command{
		Use:   "unlinked --partner P --month YYYY-MM [--to-month YYYY-MM] [--version N] [--format table|csv|json]",
		Short: "The organization's credentials that held roles in customer tenants without a link, what linking them would credit, and how",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return read(cmd, "unlinked", unlinkedFormats, func(ps []report.Published) error {
				var rs []*report.UnlinkedReport
				for _, p := range ps {
					r, err := report.ForUnlinked(p.Content, p.Version.Version, unlinkedPartner)
					if err != nil {
						return err
					}
					rs = append(rs, r)
				}
				return report.WriteUnlinked(m.Stdout, rs, format)
			})
		},
	}
	addFlags(unlinkedCmd, unlinkedFormats)
	unlinkedCmd.Flags().StringVar(&unlinkedPartner, "partner", "", "partner ID the credentials would link to (its organization's credentials)")
	unlinkedCmd.MarkFlagRequired("partner")

	var versionsMonth string
	versionsCmd := &cobra.Command{
		Use:   "versions [--month YYYY-MM]",
		Short: "List the published versions of closed months, with their instants, hashes and restatement totals",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if versionsMonth != "" {
				if _, err := partnerlink.ParseMonth(versionsMonth); err != nil {
					return partnerlink.Errorf(partnerlink.EINVALID, "--month: %v", err)
				}
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				vs, err := db.ReportVersions(ctx, versionsMonth)
				if err != nil {
					return err
				}
				if len(vs) == 0 {
					if versionsMonth != "" {
						return partnerlink.Errorf(partnerlink.ENOTFOUND, "month %s is not closed; run 'partnerlink close --month %s' first", versionsMonth, versionsMonth)
					}
					fmt.Fprintln(m.Stdout, "No month is closed yet; run 'partnerlink close --month YYYY-MM'.")
					return nil
				}
				tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "MONTH\tVERSION\tPUBLISHED\tSHA256\tRESTATED")
				for _, v := range vs {
					restated, err := report.RestatementSummary(v.Restatement)
					if err != nil {
						return err
					}
					fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", v.Month, v.Version, v.PublishedAt.Format("2006-01-02T15:04:05Z"), v.Hash, restated)
				}
				return tw.Flush()
			})
		},
	}
	versionsCmd.Flags().StringVar(&versionsMonth, "month", "", "the month, YYYY-MM (default every closed month)")

	cmd.AddCommand(partnerCmd, customerCmd, programCmd, unlinkedCmd, versionsCmd)
	return cmd
}
