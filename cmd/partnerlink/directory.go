package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/api"
	"github.com/partnerlink/partnerlink/identity"
	"github.com/partnerlink/partnerlink/lighthouse"
	"github.com/partnerlink/partnerlink/notify"
	"github.com/partnerlink/partnerlink/server"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/views"
	"github.com/spf13/cobra"
)

func init() {
	commands = append(commands, newTenantCmd, newPrincipalCmd, newPartnerCmd, newGroupCmd, newDelegationCmd, newLinksCmd)
}

// withStore opens the data directory's store for one command.
func withStore(m *Main, cmd *cobra.Command, fn func(ctx context.Context, db *sqlstore.DB) error) error {
	return withStoreCtx(cmd.Context(), m, fn)
}

func withStoreCtx(ctx context.Context, m *Main, fn func(ctx context.Context, db *sqlstore.DB) error) error {
	db, err := server.OpenStore(ctx, m.DataDir, m.DSN)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(ctx, db)
}

// parseInstant reads --from/--to style flags: RFC 3339 or YYYY-MM-DD; empty is nil.
func parseInstant(flag, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, partnerlink.Errorf(partnerlink.EINVALID, "--%s %q: expected RFC 3339 (2026-03-01T00:00:00Z) or a day (2026-03-01)", flag, v)
}

// instantOrNow is parseInstant defaulting to now.
func instantOrNow(m *Main, flag, v string) (*time.Time, error) {
	t, err := parseInstant(flag, v)
	if t == nil && err == nil {
		now := m.Now().UTC()
		t = &now
	}
	return t, err
}

func newTenantCmd(m *Main) *cobra.Command {
	cmd := &cobra.Command{Use: "tenant", Short: "Add and list tenants (directories)"}
	var name, webhook, secret string
	var webhookAllow []string
	add := &cobra.Command{
		Use: "add TENANT_ID --name NAME", Short: "Add or rename a tenant, optionally with its notification webhook", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := partnerlink.ParseGUID("TENANT_ID", args[0])
			if err != nil {
				return err
			}
			if name == "" {
				return partnerlink.Errorf(partnerlink.EINVALID, "--name is required")
			}
			if webhook == "" && (secret != "" || len(webhookAllow) > 0) {
				return partnerlink.Errorf(partnerlink.EINVALID, "--webhook-secret and --webhook-allow go with --webhook URL; give the webhook's URL too")
			}
			if webhook != "" {
				// The rule the API applies (docs/operations.md, "Webhooks"),
				// with this command's own --webhook-allow.
				policy, err := notify.ParsePolicy(webhookAllow)
				if err == nil {
					err = policy.CheckURL(cmd.Context(), webhook)
				}
				if err != nil {
					msg := strings.ReplaceAll(partnerlink.ErrorMessage(err), "the server's operator can allow",
						"this command accepts it with --webhook-allow (and delivery needs the same serve --webhook-allow); the server's operator can allow")
					return partnerlink.Errorf(partnerlink.ErrorCode(err), "--webhook: %s", msg)
				}
				if err := notify.CheckSecret(secret); err != nil {
					return partnerlink.Errorf(partnerlink.ErrorCode(err), "--webhook-secret: %s", partnerlink.ErrorMessage(err))
				}
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				if err := db.PutTenant(ctx, partnerlink.Tenant{ID: id, Name: name}); err != nil {
					return err
				}
				if webhook != "" {
					return db.SetTenantWebhook(ctx, id, webhook, secret)
				}
				return nil
			})
		},
	}
	add.Flags().StringVar(&name, "name", "", "display name")
	add.Flags().StringVar(&webhook, "webhook", "", "URL that receives a signed POST for each link change in the tenant")
	add.Flags().StringVar(&secret, "webhook-secret", "", "secret that signs webhook deliveries (HMAC-SHA256); at least 16 characters, needed with --webhook")
	add.Flags().StringSliceVar(&webhookAllow, "webhook-allow", nil,
		"accept a --webhook on these non-public targets (as serve --webhook-allow, which delivery then needs too)")
	list := &cobra.Command{
		Use: "list", Short: "List tenants", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				ts, err := db.Tenants(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "TENANT\tNAME\tWEBHOOK")
				for _, t := range ts {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", t.ID, t.Name, t.WebhookURL)
				}
				return tw.Flush()
			})
		},
	}
	cmd.AddCommand(add, list)
	return cmd
}

func newPrincipalCmd(m *Main) *cobra.Command {
	cmd := &cobra.Command{Use: "principal", Short: "Add, list, disable and enable again users, guests, service principals and groups; set secrets"}
	var tenant, object, from, to, secret string
	var b api.PrincipalBody
	var genSecret, removeAll bool
	add := &cobra.Command{
		Use: "add --tenant T --object-id O --type TYPE --display-name NAME", Short: "Add a principal, or update one (its history is kept)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if b.From, err = parseInstant("from", from); err != nil {
				return err
			}
			if b.To, err = parseInstant("to", to); err != nil {
				return err
			}
			p, err := api.ToPrincipal(tenant, object, b)
			if err != nil {
				return err
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				if _, err := db.Tenant(ctx, p.TenantID); err != nil {
					return err
				}
				if err := db.PutPrincipal(ctx, p); err != nil {
					return err
				}
				return addSecret(ctx, m, db, p, secret, genSecret)
			})
		},
	}
	f := add.Flags()
	f.StringVar(&tenant, "tenant", "", "tenant id")
	f.StringVar(&object, "object-id", "", "object id")
	f.StringVar(&b.Type, "type", "", "User, Guest, ServicePrincipal or Group")
	f.StringVar(&b.DisplayName, "display-name", "", "display name (a user's sign-in name by default)")
	f.StringVar(&b.SignInName, "sign-in-name", "", "user sign-in name when it differs from the display name")
	f.StringVar(&b.AppID, "app-id", "", "application id (service principals)")
	f.StringVar(&b.HomeTenantID, "home-tenant", "", "guest's home tenant, or the app's home tenant")
	f.StringVar(&b.HomeObjectID, "home-object-id", "", "guest: the home user that signs in as this guest")
	f.BoolVar(&b.CSPDelegated, "csp-delegated", false, "a CSP delegated principal (AdminAgents, HelpdeskAgents, GDAP); never credited, cannot link")
	f.StringVar(&from, "from", "", "exists from (RFC 3339 or YYYY-MM-DD; default: always)")
	f.StringVar(&to, "to", "", "deleted or disabled from")
	f.StringVar(&secret, "secret", "", "client secret or password (stored hashed)")
	f.BoolVar(&genSecret, "generate-secret", false, "generate a secret and print it once")
	var at string
	disable := &cobra.Command{
		Use: "disable --tenant T --object-id O [--at INSTANT]", Short: "Delete or disable a principal: its period ends (attribution stops)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			when, err := instantOrNow(m, "at", at)
			if err != nil {
				return err
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				p, err := db.Principal(ctx, tenant, object)
				if err != nil {
					return err
				}
				p.Period.To = *when
				if p.Period.Empty() {
					return partnerlink.Errorf(partnerlink.EINVALID, "--at is before the principal existed")
				}
				return db.PutPrincipal(ctx, *p)
			})
		},
	}
	disable.Flags().StringVar(&tenant, "tenant", "", "tenant id")
	disable.Flags().StringVar(&object, "object-id", "", "object id")
	disable.Flags().StringVar(&at, "at", "", "when (default now)")
	var enableFrom string
	enable := &cobra.Command{
		Use:   "enable --tenant T --object-id O [--from INSTANT]",
		Short: "Enable a disabled principal again: a new period starts (attribution resumes), its earlier periods are kept", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, err := instantOrNow(m, "from", enableFrom)
			if err != nil {
				return err
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				p, err := db.EnablePrincipal(ctx, tenant, object, *from)
				if err != nil {
					return err
				}
				fmt.Fprintf(m.Stdout, "principal %s of tenant %s enabled from %s; enabled periods: %s\n",
					p.ObjectID, p.TenantID, from.Format(time.RFC3339), periodsText(p.Periods()))
				return nil
			})
		},
	}
	enable.Flags().StringVar(&tenant, "tenant", "", "tenant id")
	enable.Flags().StringVar(&object, "object-id", "", "object id")
	enable.Flags().StringVar(&enableFrom, "from", "", "enabled again from (RFC 3339 or YYYY-MM-DD; default now)")
	setSecret := &cobra.Command{
		Use:   "secret --tenant T --object-id O [--secret S | --remove-all]",
		Short: "Add a client secret or password (generated and printed when not given), or remove them all",
		Long: `Add a client secret or password (generated and printed when not given), or with --remove-all
remove every secret of the principal. A service principal of a partner's app in a customer tenant
needs none of its own: it signs in with its app's secrets (docs/clients.md, "Onboarding a service
principal"); remove the ones an earlier version's onboarding issued there. Tokens issued before
stay valid until they expire.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if removeAll && secret != "" {
				return fmt.Errorf("--remove-all and --secret: give one or the other")
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				p, err := db.Principal(ctx, tenant, object)
				if err != nil {
					return err
				}
				if removeAll {
					n, err := db.RemoveSecrets(ctx, p.TenantID, p.ObjectID)
					if err != nil {
						return err
					}
					fmt.Fprintf(m.Stdout, "Removed %d secret(s) of %s in tenant %s.\n", n, p.ObjectID, p.TenantID)
					return nil
				}
				return addSecret(ctx, m, db, *p, secret, secret == "")
			})
		},
	}
	setSecret.Flags().BoolVar(&removeAll, "remove-all", false, "remove every secret of the principal instead of adding one")
	setSecret.Flags().StringVar(&tenant, "tenant", "", "tenant id")
	setSecret.Flags().StringVar(&object, "object-id", "", "object id")
	setSecret.Flags().StringVar(&secret, "secret", "", "the secret")
	list := &cobra.Command{
		Use: "list [--tenant T]", Short: "List principals", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				ps, err := db.Principals(ctx, tenant)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "TENANT\tOBJECT\tTYPE\tNAME\tAPP\tCSP\tACTIVE\tENABLED")
				for _, p := range ps {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\t%v\t%s\n", p.TenantID, p.ObjectID, p.Type, p.DisplayName, p.AppID, p.CSPDelegated,
						p.ActiveAt(m.Now()), periodsText(p.Periods()))
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&tenant, "tenant", "", "only this tenant")
	cmd.AddCommand(add, disable, enable, setSecret, list)
	return cmd
}

// periodsText writes enabled periods as "[from, to)" with "-∞" and "∞"
// for open ends.
func periodsText(ps []partnerlink.Period) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		from, to := "-∞", "∞"
		if !p.From.IsZero() {
			from = p.From.UTC().Format(time.RFC3339)
		}
		if !p.To.IsZero() {
			to = p.To.UTC().Format(time.RFC3339)
		}
		s[i] = "[" + from + ", " + to + ")"
	}
	return strings.Join(s, " ")
}

func addSecret(ctx context.Context, m *Main, db *sqlstore.DB, p partnerlink.Principal, secret string, generate bool) error {
	if secret == "" && !generate {
		return nil
	}
	if p.Type == partnerlink.PrincipalGroup {
		return partnerlink.Errorf(partnerlink.EINVALID, "groups do not sign in; no secret")
	}
	if secret == "" {
		secret = identity.NewSecret()
		fmt.Fprintf(m.Stdout, "secret: %s\n", secret)
	}
	h, err := identity.HashSecret(secret)
	if err != nil {
		return err
	}
	return db.AddSecret(ctx, p.TenantID, p.ObjectID, h)
}

func newPartnerCmd(m *Main) *cobra.Command {
	cmd := &cobra.Command{Use: "partner", Short: "Manage the partner registry (global and location IDs)"}
	var b api.PartnerBody
	var from, to, at string
	add := &cobra.Command{
		Use: "add PARTNER_ID --name NAME [--global-id ID] [--home-tenant T]…", Short: "Register or update a partner ID", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if b.From, err = parseInstant("from", from); err != nil {
				return err
			}
			if b.To, err = parseInstant("to", to); err != nil {
				return err
			}
			p, err := api.ToPartner(args[0], b)
			if err != nil {
				return err
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				if p.GlobalID != "" {
					if _, err := db.Partner(ctx, p.GlobalID); err != nil {
						return err
					}
				}
				return db.PutPartner(ctx, p)
			})
		},
	}
	add.Flags().StringVar(&b.Name, "name", "", "organization or location name")
	add.Flags().StringVar(&b.GlobalPartnerID, "global-id", "", "the global partner ID this location ID belongs to")
	add.Flags().StringSliceVar(&b.HomeTenantIDs, "home-tenant", nil, "the organization's own tenant (repeatable); its principals see the partner view")
	add.Flags().StringVar(&from, "from", "", "registered from (default: always)")
	add.Flags().StringVar(&to, "to", "", "deactivated from")
	deactivate := &cobra.Command{
		Use: "deactivate PARTNER_ID [--at INSTANT]", Short: "Deactivate a partner ID: every credit to it stops", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			when, err := instantOrNow(m, "at", at)
			if err != nil {
				return err
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				p, err := db.Partner(ctx, args[0])
				if err != nil {
					return err
				}
				p.Period.To = *when
				return db.PutPartner(ctx, *p)
			})
		},
	}
	deactivate.Flags().StringVar(&at, "at", "", "when (default now)")
	list := &cobra.Command{
		Use: "list", Short: "List the registry", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				ps, err := db.Partners(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "PARTNER ID\tNAME\tGLOBAL ID\tACTIVE\tHOME TENANTS")
				for _, p := range ps {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", p.ID, p.Name, p.GlobalID, p.ActiveAt(m.Now()), strings.Join(p.HomeTenantIDs, ","))
				}
				return tw.Flush()
			})
		},
	}
	cmd.AddCommand(add, deactivate, list)
	return cmd
}

func newGroupCmd(m *Main) *cobra.Command {
	cmd := &cobra.Command{Use: "group", Short: "Group memberships (nested groups count transitively)"}
	var tenant, group, member, from, to string
	add := &cobra.Command{
		Use: "add-member --tenant T --group G --member M", Short: "Add a member (any principal, groups too) to a group over a period", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := parseInstant("from", from)
			if err != nil {
				return err
			}
			t, err := parseInstant("to", to)
			if err != nil {
				return err
			}
			if f == nil {
				now := m.Now().UTC()
				f = &now
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				g, err := db.Principal(ctx, tenant, group)
				if err != nil {
					return err
				}
				if g.Type != partnerlink.PrincipalGroup {
					return partnerlink.Errorf(partnerlink.EINVALID, "--group %s is a %s, not a group", group, g.Type)
				}
				mem, err := db.Principal(ctx, tenant, member)
				if err != nil {
					return err
				}
				return db.AddMembership(ctx, partnerlink.GroupMembership{TenantID: g.TenantID, GroupID: g.ObjectID,
					MemberID: mem.ObjectID, Period: partnerlink.PeriodOf(f, t)})
			})
		},
	}
	add.Flags().StringVar(&tenant, "tenant", "", "tenant id")
	add.Flags().StringVar(&group, "group", "", "group object id")
	add.Flags().StringVar(&member, "member", "", "member object id")
	add.Flags().StringVar(&from, "from", "", "member from (default now)")
	add.Flags().StringVar(&to, "to", "", "member until")
	cmd.AddCommand(add)
	return cmd
}

func newDelegationCmd(m *Main) *cobra.Command {
	cmd := &cobra.Command{Use: "delegation", Short: "Azure Lighthouse delegations: a customer scope delegated to a managing tenant's principal"}
	var from string
	var b partnerlink.Delegation
	add := &cobra.Command{
		Use:   "add --customer-tenant C --id GUID --managing-tenant M --scope S --principal P --role ROLE",
		Short: "Register a delegation (link the principal once, in the managing tenant, to be credited)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := instantOrNow(m, "from", from)
			if err != nil {
				return err
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				_, err := (&lighthouse.Service{Store: db}).Register(ctx, b, *f)
				return err
			})
		},
	}
	add.Flags().StringVar(&b.CustomerTenantID, "customer-tenant", "", "the customer's tenant id")
	add.Flags().StringVar(&b.ID, "id", "", "delegation id (GUID)")
	add.Flags().StringVar(&b.ManagingTenantID, "managing-tenant", "", "the service provider's tenant id")
	add.Flags().StringVar(&b.Scope, "scope", "", "delegated subscription or resource group")
	add.Flags().StringVar(&b.PrincipalID, "principal", "", "principal or group of the managing tenant")
	add.Flags().StringVar(&b.RoleDefinition, "role", "", "role name or GUID (a permanent, not just-in-time, authorization)")
	add.Flags().StringVar(&from, "from", "", "in force from (default now)")
	var customer, id, at string
	remove := &cobra.Command{
		Use: "remove --customer-tenant C --id GUID", Short: "End a delegation", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			when, err := instantOrNow(m, "at", at)
			if err != nil {
				return err
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				return (&lighthouse.Service{Store: db}).End(ctx, customer, id, *when)
			})
		},
	}
	remove.Flags().StringVar(&customer, "customer-tenant", "", "the customer's tenant id")
	remove.Flags().StringVar(&id, "id", "", "delegation id")
	remove.Flags().StringVar(&at, "at", "", "when (default now)")
	cmd.AddCommand(add, remove)
	return cmd
}

// newLinksCmd shows the customer's or the partner's view of links from the
// data directory (the same views as GET /api/v1/tenants/{t}/links and
// /api/v1/partners/{p}/links).
func newLinksCmd(m *Main) *cobra.Command {
	var tenant, partner string
	var history, events bool
	cmd := &cobra.Command{
		Use:   "links --tenant T | --partner P",
		Short: "Show every linked credential of a customer tenant, or of a partner organization in every tenant, with its scopes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (tenant == "") == (partner == "") {
				return partnerlink.Errorf(partnerlink.EINVALID, "give exactly one of --tenant or --partner")
			}
			return withStore(m, cmd, func(ctx context.Context, db *sqlstore.DB) error {
				f := partnerlink.LinkFilter{TenantID: tenant, CurrentOnly: !history}
				if tenant != "" {
					if _, err := db.Tenant(ctx, tenant); partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND {
						return partnerlink.Errorf(partnerlink.ENOTFOUND, "tenant %s is not in the directory ('partnerlink tenant list' shows the tenants)", tenant)
					} else if err != nil {
						return err
					}
				}
				if partner != "" {
					ids, err := organizationIDs(ctx, db, partner)
					if err != nil {
						return err
					}
					f.PartnerIDs = ids
				}
				if events {
					evs, err := db.LinkEvents(ctx, partnerlink.LinkFilter{TenantID: f.TenantID, PartnerIDs: f.PartnerIDs})
					if err != nil {
						return err
					}
					tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
					fmt.Fprintln(tw, "AT\tTENANT\tOBJECT\tACTION\tPARTNER\tPREVIOUS\tVERSION\tACTOR")
					for _, e := range evs {
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", e.At.Format(time.RFC3339), e.TenantID, e.ObjectID, e.Action,
							e.PartnerID, e.PrevPartnerID, e.Version, e.ActorObjectID)
					}
					return tw.Flush()
				}
				lcs, err := (&views.Service{Store: db, Now: m.Now}).LinkedCredentials(ctx, f)
				if err != nil {
					return err
				}
				if len(lcs) == 0 {
					what, verb := "in tenant "+tenant, "is"
					if partner != "" {
						what = "to partner ID " + partner
					}
					if history {
						verb = "has ever been"
					}
					fmt.Fprintf(m.Stdout, "No credential %s linked %s.\n", verb, what)
					return nil
				}
				tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "TENANT\tPRINCIPAL\tTYPE\tSTATE\tPARTNER\tSINCE\tUNTIL\tSCOPES")
				for _, lc := range lcs {
					until := ""
					if lc.Until != nil {
						until = lc.Until.Format(time.RFC3339)
					}
					var scopes []string
					for _, r := range lc.RoleAssignments {
						scopes = append(scopes, r.Role+"@"+r.Scope)
					}
					for _, d := range lc.Delegations {
						scopes = append(scopes, d.Role+"@"+d.TenantID+d.Scope+" (Lighthouse)")
					}
					state := lc.PrincipalState // a disabled principal's link credits nothing
					if lc.DisabledSince != nil {
						state += " since " + lc.DisabledSince.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s (%s)\t%s %s\t%s\t%s\t%s %s\t%s\t%s\t%s\n", lc.TenantName, lc.TenantID, lc.DisplayName, lc.ObjectID,
						lc.PrincipalType, state, lc.PartnerID, lc.PartnerName, lc.Since.Format(time.RFC3339), until, strings.Join(scopes, ", "))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "customer tenant id (the customer's view)")
	cmd.Flags().StringVar(&partner, "partner", "", "partner ID; a global ID includes its location IDs (the partner's view)")
	cmd.Flags().BoolVar(&history, "history", false, "include ended link periods")
	cmd.Flags().BoolVar(&events, "events", false, "show the audit of link changes instead")
	return cmd
}

// organizationIDs is the partner ID and, for a global ID, its location IDs.
func organizationIDs(ctx context.Context, db *sqlstore.DB, id string) ([]string, error) {
	if err := partnerlink.ValidatePartnerID(id); err != nil {
		return nil, err
	}
	p, err := db.Partner(ctx, id)
	if err != nil {
		return nil, err
	}
	ids := []string{id}
	if p.GlobalID == "" {
		locs, err := db.LocationIDs(ctx, id)
		if err != nil {
			return nil, err
		}
		ids = append(ids, locs...)
	}
	return ids, nil
}
