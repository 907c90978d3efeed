package main

import (
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/partnerlink/partnerlink/onboarding"
)

func init() { commands = append(commands, newOnboardCmd) }

func newOnboardCmd(m *Main) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "onboard",
		Short: "Bring a partner's credential into this tenant (the service principal accelerator)",
	}
	var req onboarding.Request
	sp := &cobra.Command{
		Use:   "service-principal --tenant T --app-id A --role R --scope S --partner-id P",
		Short: "Put a partner's multi-tenant app into the tenant with a role and its link",
		Long: `As an administrator of the customer tenant (signed in with 'partnerlink login'; a role that may
grant at the tenant's root, such as Owner), bring the service principal of a partner's multi-tenant
app into the tenant (or reuse it), assign it the role at the scope and link it to the partner ID
— all or nothing. No secret is issued: the partner signs in to the tenant with its app's own
credentials. Running it again changes nothing and says so (docs/clients.md, "Onboarding a service
principal").`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := loadSession()
			if err != nil {
				return err
			}
			tenant := req.TenantID
			if tenant == "" {
				tenant = s.HomeTenant()
			}
			var res onboarding.Result
			if _, err := s.APICall(cmd.Context(), tenant, http.MethodPost, "/tenants/"+tenant+"/onboarding/service-principals", req, &res); err != nil {
				return err
			}
			w := m.Stdout
			if !res.Changed {
				fmt.Fprintf(w, "Nothing changed: the service principal %s (app %s, object %s) in tenant %s holds %s at %s and is linked to partner ID %s (%s).\n",
					res.DisplayName, res.AppID, res.ObjectID, res.TenantID, res.Role, res.Scope, res.PartnerID, res.PartnerName)
				return nil
			}
			did := map[bool]string{true: "created", false: "already there"}
			fmt.Fprintf(w, "Service principal %s (app %s of tenant %s) in tenant %s: %s, object %s\n",
				res.DisplayName, res.AppID, res.ServicePrincipalOf, res.TenantID, did[res.PrincipalCreated], res.ObjectID)
			fmt.Fprintf(w, "Role %s at %s: %s (assignment %s)\n", res.Role, res.Scope, map[bool]string{true: "assigned", false: "already assigned"}[res.AssignmentCreated], res.RoleAssignmentID)
			switch {
			case !res.LinkChanged:
				fmt.Fprintf(w, "Partner ID %s (%s): already linked\n", res.PartnerID, res.PartnerName)
			case res.PreviousPartnerID != "":
				fmt.Fprintf(w, "Partner ID %s (%s): linked, replacing %s\n", res.PartnerID, res.PartnerName, res.PreviousPartnerID)
			default:
				fmt.Fprintf(w, "Partner ID %s (%s): linked\n", res.PartnerID, res.PartnerName)
			}
			if res.PrincipalCreated {
				fmt.Fprintf(w, "The partner signs in to this tenant with its app's own secret (none was issued here):\n  partnerlink login --service-principal -u %s -p SECRET --tenant %s\n", res.AppID, res.TenantID)
			}
			return nil
		},
	}
	f := sp.Flags()
	f.StringVar(&req.TenantID, "tenant", "", "the customer tenant (default: the one signed in to)")
	f.StringVar(&req.AppID, "app-id", "", "the application id of the partner's multi-tenant app")
	f.StringVar(&req.Role, "role", "", "the role to assign: a built-in role's name (such as Contributor) or a role definition's GUID")
	f.StringVar(&req.Scope, "scope", "", "where: / (the tenant root), /subscriptions/ID, a resource group or a management group")
	f.StringVar(&req.PartnerID, "partner-id", "", "the partner ID to link (its location ID when it has them)")
	for _, name := range []string{"app-id", "role", "scope", "partner-id"} {
		sp.MarkFlagRequired(name)
	}
	cmd.AddCommand(sp)
	return cmd
}
