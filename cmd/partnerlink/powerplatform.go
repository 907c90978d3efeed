package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/api"
	"github.com/partnerlink/partnerlink/ownership"
	"github.com/partnerlink/partnerlink/powerplatform"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/usage"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newPowerPlatformCmd) }

// newPowerPlatformCmd is `partnerlink powerplatform`: the Power Platform and
// Customer Insights state of the data directory (docs/rules.md#power-platform) — environments,
// resources, ownership changes under the product's limits, activity files,
// and the credit, explanation and credit at risk on that state.
func newPowerPlatformCmd(m *Main) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "powerplatform",
		Short: "Power Platform and Customer Insights: environments, resources, ownership, activity, credit",
	}
	cmd.AddCommand(newPPEnvCmd(m), newPPResourceCmd(m),
		newPPChangeCmd(m, "set-owner", "Make a principal the owner (a flow's owner also becomes its creator)", ownership.SetOwner),
		newPPChangeCmd(m, "add-coowner", "Add a user as a co-owner of a canvas app", ownership.AddCoOwner),
		newPPChangeCmd(m, "remove-coowner", "Remove a co-owner of a canvas app", ownership.RemoveCoOwner),
		newPPChangeCmd(m, "publish", "Record that a principal published a Power BI dataset (it becomes the publisher)", ownership.Publish),
		newPPHistoryCmd(m), newPPImportSolutionCmd(m), newPPImportActivityCmd(m), newPPAttributeCmd(m), newPPExplainCmd(m), newPPAtRiskCmd(m))
	return cmd
}

func newPPEnvCmd(m *Main) *cobra.Command {
	cmd := &cobra.Command{Use: "env", Short: "Register and list environments"}
	var tenant, typ string
	add := &cobra.Command{
		Use: "add ENVIRONMENT_ID --tenant T --type TYPE", Short: "Register an environment (Production, Sandbox, Trial, Developer, Default) or change its type",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := partnerlink.CheckPowerPlatformID(args[0]); err != nil {
				return fmt.Errorf("ENVIRONMENT_ID: %w", err)
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				return db.PutEnvironment(ctx, powerplatform.Environment{TenantID: tenant, ID: args[0], Type: powerplatform.EnvironmentType(typ)})
			})
		},
	}
	add.Flags().StringVar(&tenant, "tenant", "", "tenant id")
	add.Flags().StringVar(&typ, "type", "", "Production, Sandbox, Trial, Developer or Default")
	var listTenant string
	list := &cobra.Command{
		Use: "list [--tenant T]", Short: "List environments", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				es, err := db.Environments(ctx, listTenant)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "TENANT\tENVIRONMENT\tTYPE")
				for _, e := range es {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", e.TenantID, e.ID, e.Type)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&listTenant, "tenant", "", "only this tenant")
	cmd.AddCommand(add, list)
	return cmd
}

func newPPResourceCmd(m *Main) *cobra.Command {
	cmd := &cobra.Command{Use: "resource", Short: "Register and list apps, flows, datasets, bots and Customer Insights instances"}
	var tenant, env, kind string
	var paid bool
	add := &cobra.Command{
		Use:   "add RESOURCE_ID --tenant T --env ENVIRONMENT_ID --kind KIND [--paid]",
		Short: "Register a resource (CanvasApp, ModelDrivenApp, Flow, PowerBIDataset, CustomerInsightsInstance, Bot) or change its paid flag",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := partnerlink.CheckPowerPlatformID(args[0]); err != nil {
				return fmt.Errorf("RESOURCE_ID: %w", err)
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				return db.PutPowerPlatformResource(ctx, powerplatform.Resource{TenantID: tenant, EnvironmentID: env, ID: args[0],
					Kind: powerplatform.Kind(kind), Paid: paid})
			})
		},
	}
	add.Flags().StringVar(&tenant, "tenant", "", "tenant id")
	add.Flags().StringVar(&env, "env", "", "environment id")
	add.Flags().StringVar(&kind, "kind", "", "CanvasApp, ModelDrivenApp, Flow, PowerBIDataset, CustomerInsightsInstance or Bot")
	add.Flags().BoolVar(&paid, "paid", false, "the resource is paid (with a Production environment: program-eligible)")
	var listTenant, listEnv string
	list := &cobra.Command{
		Use: "list [--tenant T] [--env E]", Short: "List resources with their current owners", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				rs, err := db.PowerPlatformResources(ctx, listTenant, listEnv)
				if err != nil {
					return err
				}
				now := m.Now().UTC()
				tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "TENANT\tENVIRONMENT\tRESOURCE\tKIND\tPAID\tHOLDERS")
				for _, r := range rs {
					h, err := db.OwnershipHistory(ctx, r.ID)
					if err != nil {
						return err
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%t\t%s\n", r.TenantID, r.EnvironmentID, r.ID, r.Kind, r.Paid, holders(h, now))
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&listTenant, "tenant", "", "only this tenant")
	list.Flags().StringVar(&listEnv, "env", "", "only this environment")
	cmd.AddCommand(add, list)
	return cmd
}

// holders names who holds which role at t: "Owner=…, CoOwner=…".
func holders(h powerplatform.History, t time.Time) string {
	var parts []string
	for _, role := range powerplatform.Roles {
		if ids := h.HoldersAt(role, t); len(ids) > 0 {
			parts = append(parts, string(role)+"="+strings.Join(ids, "+"))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// newPPChangeCmd builds set-owner, add-coowner, remove-coowner and publish:
// one change of one resource's ownership history at --at (default now),
// applied in one transaction; refusals say what to do instead.
func newPPChangeCmd(m *Main, name, short string, op ownership.Op) *cobra.Command {
	var resource, as, atS string
	cmd := &cobra.Command{
		Use:   name + " --resource ID --as PRINCIPAL [--at INSTANT]",
		Short: short,
		Long: short + `.

--as names the principal the change is about (the new owner, the co-owner added or removed, the
publisher); it must be a principal of the resource's tenant. The change happens at --at (RFC 3339
or YYYY-MM-DD, default now): the periods it ends are closed and the new ones opened at that instant.
A change the product does not allow (docs/rules.md#power-platform) is refused with what to do instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if resource == "" || as == "" {
				return partnerlink.Errorf(partnerlink.EINVALID, "%s needs --resource ID and --as PRINCIPAL", name)
			}
			at, err := instantOrNow(m, "at", atS)
			if err != nil {
				return err
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				r, err := db.PowerPlatformResource(ctx, resource)
				if err != nil {
					return err
				}
				svc := &ownership.Service{Store: db, Directory: db}
				p, err := svc.Principal(ctx, r.TenantID, "--as", as, *at, op.Action == ownership.RemoveCoOwner.Action)
				if err != nil {
					return err
				}
				c, err := svc.Change(ctx, ownership.Operator, r.ID, op, p, *at)
				if err != nil {
					return err
				}
				fmt.Fprintf(m.Stdout, "%s %s: %s\n", c.Resource.Kind, c.Resource.ID, holders(c.History, *at))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&resource, "resource", "", "resource id")
	cmd.Flags().StringVar(&as, "as", "", "object id of the principal the change is about")
	cmd.Flags().StringVar(&atS, "at", "", "instant of the change (RFC 3339 or YYYY-MM-DD; default now)")
	return cmd
}

func newPPHistoryCmd(m *Main) *cobra.Command {
	var resource string
	cmd := &cobra.Command{
		Use:   "history --resource ID",
		Short: "A resource's ownership periods and the changes recorded through the API and the CLI",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				r, err := db.PowerPlatformResource(ctx, resource)
				if err != nil {
					return err
				}
				h, err := db.OwnershipHistory(ctx, r.ID)
				if err != nil {
					return err
				}
				evs, err := db.OwnershipEvents(ctx, r.ID)
				if err != nil {
					return err
				}
				fmt.Fprintf(m.Stdout, "%s %s (tenant %s, environment %s, paid=%t)\n", r.Kind, r.ID, r.TenantID, r.EnvironmentID, r.Paid)
				tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "ROLE\tPRINCIPAL\tFROM\tTO")
				for _, x := range h {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.Role, x.PrincipalID, fmtTime(x.Period.From), fmtTime(x.Period.To))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				for _, e := range evs {
					fmt.Fprintf(m.Stdout, "%s %s %s by %s\n", e.At.Format(time.RFC3339), e.Action, e.PrincipalID, e.Actor)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&resource, "resource", "", "resource id")
	return cmd
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func newPPImportSolutionCmd(m *Main) *cobra.Command {
	var tenant, env, as, atS string
	cmd := &cobra.Command{
		Use:   "import-solution --tenant T --env ENVIRONMENT_ID --as PRINCIPAL [--at INSTANT] COMPONENT_ID…",
		Short: "Record a managed solution import: the importer becomes owner (and creator) of every component",
		Long: `Record that principal --as imported a managed solution holding the given components into
an environment at --at (default now): it becomes the owner of every component, and the creator of
flows and bots. A solution holding a Power BI dataset or a Customer Insights instance is refused
whole: nothing changes.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			at, err := instantOrNow(m, "at", atS)
			if err != nil {
				return err
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				svc := &ownership.Service{Store: db, Directory: db}
				p, err := svc.Principal(ctx, tenant, "--as", as, *at, false)
				if err != nil {
					return err
				}
				comps, err := svc.ImportSolution(ctx, ownership.Operator, tenant, env, args, p, *at)
				if err != nil {
					return err
				}
				for _, c := range comps {
					fmt.Fprintf(m.Stdout, "%s %s: %s\n", c.Resource.Kind, c.Resource.ID, holders(c.History, *at))
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant id")
	cmd.Flags().StringVar(&env, "env", "", "environment the solution is imported into")
	cmd.Flags().StringVar(&as, "as", "", "object id of the importing user or service principal")
	cmd.Flags().StringVar(&atS, "at", "", "instant of the import (RFC 3339 or YYYY-MM-DD; default now)")
	return cmd
}

func newPPImportActivityCmd(m *Main) *cobra.Command {
	return &cobra.Command{
		Use:   "import-activity FILE…",
		Short: "Import Power Platform activity or Customer Insights unified-profile files (docs/api.md#activity-csv)",
		Long: `Import activity (Date,TenantId,ResourceId,UserId,Activity) or unified-profile
(Month,TenantId,ResourceId,UnifiedProfiles) files, plain or gzip CSV: each is validated whole (a bad
row is named by file and line and nothing is kept) and stored once by content hash in
DATA_DIR/usage/activity/. 'partnerlink import' does the same when it recognizes the header.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				for _, path := range args {
					if err := importActivity(cmd, m, db, path); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
}

// isActivityHeader reports whether the first line of a CSV file is the
// header of a docs/api.md#activity-csv activity or unified-profiles file, for the import
// command's detection.
func isActivityHeader(first string) bool {
	cols := map[string]bool{}
	for _, c := range strings.Split(strings.TrimPrefix(strings.TrimSpace(first), "\ufeff"), ",") {
		cols[strings.ToLower(strings.Trim(strings.TrimSpace(c), `"`))] = true
	}
	if !cols["tenantid"] || !cols["resourceid"] {
		return false
	}
	return (cols["date"] && cols["userid"] && cols["activity"]) || (cols["month"] && cols["unifiedprofiles"])
}

// importActivity stores one docs/api.md#activity-csv activity or unified-profiles file in
// the data directory: validated whole, kept once by content hash (the same
// file twice changes nothing), errors naming the file and line. It is what
// `partnerlink import` calls for such a file.
func importActivity(cmd *cobra.Command, m *Main, db *sqlstore.DB, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	// A new file must agree with those imported before (one profiles count
	// per instance and month, one tenant per resource); the same content
	// again is recognized by usage.Import and changes nothing.
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if _, err := db.UsageImportByHash(cmd.Context(), hex.EncodeToString(h.Sum(nil))); err != nil {
		if partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
			return err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if err := usage.CheckActivity(cmd.Context(), db, m.DataDir, filepath.Base(path), f); err != nil {
			return err
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	res, err := usage.Import(cmd.Context(), db, m.DataDir, usage.Activity, filepath.Base(path), f, m.Now(), nil)
	if err != nil {
		return err
	}
	im := res.Import
	if res.Already {
		fmt.Fprintf(m.Stdout, "%s: already imported (same content as %s, %s); nothing changed\n", path, im.Name, im.ImportedAt.Format(time.RFC3339))
		return nil
	}
	fmt.Fprintf(m.Stdout, "%s: imported %d activity rows for %s\n", path, im.Rows, strings.Join(im.Months, ", "))
	return nil
}

// ppState reads the data directory's world and imported activity.
func ppState(ctx context.Context, m *Main, db *sqlstore.DB, to time.Time) (*powerplatform.Model, *powerplatform.Activity, error) {
	return api.PowerPlatformState(ctx, db, db, m.DataDir, to)
}

func dayFlags(fromS, toS string) (time.Time, time.Time, error) {
	if fromS == "" || toS == "" {
		return time.Time{}, time.Time{}, partnerlink.Errorf(partnerlink.EINVALID, "give --from DAY and --to DAY")
	}
	from, err := parseDay("--from", fromS)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	to, err := parseDay("--to", toS)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if !from.Before(to) {
		return time.Time{}, time.Time{}, partnerlink.Errorf(partnerlink.EINVALID, "--from %s must be before --to %s", fromS, toS)
	}
	return from, to, nil
}

func newPPAttributeCmd(m *Main) *cobra.Command {
	var fromS, toS string
	cmd := &cobra.Command{
		Use:   "attribute --from DAY --to DAY",
		Short: "The Power Platform credit on the data directory's state, as docs/api.md#attribution-csv CSV",
		Long: `The Power Platform and Customer Insights credit (docs/rules.md#power-platform) of the months whose first day lies
in [--from, --to), on the data directory's ownership history, links and directory and the activity
and profile files imported so far; the same CSV as 'attribute --powerplatform'. Rows on resources
that are not registered are counted on standard error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, to, err := dayFlags(fromS, toS)
			if err != nil {
				return err
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				model, a, err := ppState(ctx, m, db, to)
				if err != nil {
					return err
				}
				sum, err := model.Check(a)
				if err != nil {
					return err
				}
				cs, err := model.Credits(a, from, to)
				if err != nil {
					return err
				}
				if err := powerplatform.WriteCSV(m.Stdout, cs); err != nil {
					return err
				}
				for _, u := range sum.UnknownResources {
					fmt.Fprintf(m.Stderr, "not credited: resource %s (tenant %s) is not in the world: %d activity rows, %d unified-profile rows\n",
						u.ID, u.TenantID, u.Rows, u.Profiles)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&fromS, "from", "", "first day, YYYY-MM-DD")
	cmd.Flags().StringVar(&toS, "to", "", "day after the last, YYYY-MM-DD")
	return cmd
}

func newPPExplainCmd(m *Main) *cobra.Command {
	var resource, month, output string
	cmd := &cobra.Command{
		Use:   "explain --resource ID --month YYYY-MM [-o json]",
		Short: "Explain who is credited with a resource's month, or why nobody is",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if resource == "" {
				return partnerlink.Errorf(partnerlink.EINVALID, "explain needs --resource ID")
			}
			mo, err := partnerlink.ParseMonth(month)
			if err != nil {
				return partnerlink.Errorf(partnerlink.EINVALID, "--month: %v", err)
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				model, a, err := ppState(ctx, m, db, mo.End())
				if err != nil {
					return err
				}
				e, err := model.Explain(a, resource, mo)
				if err != nil {
					return err
				}
				if output == "json" {
					return printJSON(m, api.ToPPExplanationView(e))
				}
				_, err = io.WriteString(m.Stdout, e.String())
				return err
			})
		},
	}
	cmd.Flags().StringVar(&resource, "resource", "", "resource id")
	cmd.Flags().StringVar(&month, "month", "", "month, YYYY-MM")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}

func newPPAtRiskCmd(m *Main) *cobra.Command {
	var partnerID, fromS, toS, output string
	cmd := &cobra.Command{
		Use:   "at-risk --partner P --from DAY --to DAY [-o json]",
		Short: "Resources a partner's principals worked on without being credited, with the remedy",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, to, err := dayFlags(fromS, toS)
			if err != nil {
				return err
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				model, a, err := ppState(ctx, m, db, to)
				if err != nil {
					return err
				}
				items, err := model.CreditAtRisk(a, partnerID, from, to)
				if err != nil {
					return err
				}
				if output == "json" {
					out := []api.AtRiskView{}
					for _, x := range items {
						out = append(out, api.ToAtRiskView(x))
					}
					return printJSON(m, out)
				}
				if len(items) == 0 {
					fmt.Fprintf(m.Stdout, "no credit at risk for partner %s\n", partnerID)
					return nil
				}
				for _, x := range items {
					credited := "nobody"
					if x.CreditedTo != "" {
						credited = "partner " + x.CreditedTo
					}
					fmt.Fprintf(m.Stdout, "%s %s %s (tenant %s): worked on by %s; attributed users %s; credited to %s\n  remedy: %s\n",
						x.Month, x.Resource.Kind, x.Resource.ID, x.Resource.TenantID, strings.Join(x.Principals, ", "),
						orNone(x.Attributed), credited, x.Remedy)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&partnerID, "partner", "", "partner ID")
	cmd.Flags().StringVar(&fromS, "from", "", "first day, YYYY-MM-DD")
	cmd.Flags().StringVar(&toS, "to", "", "day after the last, YYYY-MM-DD")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}

func orNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}
