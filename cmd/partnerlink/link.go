package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"text/tabwriter"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/client"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newLinkCmd) }

// newLinkCmd is `partnerlink link create|show|update|delete`, the verbs and
// output of `az managementpartner`, acting on the signed-in credential's
// own link, in its tenant, another --tenant, or --all-tenants.
func newLinkCmd(m *Main) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "link",
		Short: "Link, show, update or delete the signed-in credential's partner ID (like az managementpartner)",
	}
	verb := func(use, short, method string, needID bool) *cobra.Command {
		var partnerID, tenant string
		var all bool
		c := &cobra.Command{
			Use:   use,
			Short: short,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if needID && partnerID == "" {
					return partnerlink.Errorf(partnerlink.EINVALID, "--partner-id is required (your Associated Partner ID, for example 4711001)")
				}
				if all && tenant != "" {
					return partnerlink.Errorf(partnerlink.EINVALID, "--all-tenants and --tenant cannot be combined")
				}
				s, err := loadSession()
				if err != nil {
					return err
				}
				if all {
					return linkAllTenants(cmd.Context(), m, s, method, partnerID)
				}
				p, err := s.PartnerCall(cmd.Context(), tenant, method, partnerID)
				if err != nil {
					return err
				}
				if p == nil { // delete
					return nil
				}
				return printJSON(m, p)
			},
		}
		c.Flags().StringVar(&partnerID, "partner-id", "", "the partner ID (MPN / Associated Partner ID)")
		c.Flags().StringVar(&tenant, "tenant", "", "act in this tenant instead of the one signed in to")
		c.Flags().BoolVar(&all, "all-tenants", false, "act in every tenant where this credential has an account, and print a table of outcomes")
		return c
	}
	cmd.AddCommand(
		verb("create", "Link a partner ID to the signed-in credential", http.MethodPut, true),
		verb("show", "Show the linked partner ID (with --partner-id: only if it is that one)", http.MethodGet, false),
		verb("update", "Replace the linked partner ID", http.MethodPatch, true),
		verb("delete", "Remove the link", http.MethodDelete, true),
	)
	return cmd
}

func loadSession() (*client.Session, error) {
	dir, err := client.DefaultConfigDir()
	if err != nil {
		return nil, err
	}
	return client.Load(dir)
}

func printJSON(m *Main, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(m.Stdout, string(b))
	return err
}

// linkAllTenants applies one verb in every reachable tenant and prints a
// table; it fails when any tenant failed, after trying them all.
func linkAllTenants(ctx context.Context, m *Main, s *client.Session, method, partnerID string) error {
	tenants, err := s.Tenants(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tNAME\tRESULT\tDETAIL")
	failed := 0
	for _, t := range tenants {
		p, err := s.PartnerCall(ctx, t.TenantID, method, partnerID)
		switch {
		case err != nil:
			failed++
			fmt.Fprintf(tw, "%s\t%s\tfailed\t%s\n", t.TenantID, t.DisplayName, partnerlink.ErrorMessage(err))
		case p == nil:
			fmt.Fprintf(tw, "%s\t%s\tdeleted\t\n", t.TenantID, t.DisplayName)
		default:
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s (version %d, object %s)\n", t.TenantID, t.DisplayName, outcome(method),
				p.PartnerID, p.PartnerName, p.Version, p.ObjectID)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		return partnerlink.Errorf(partnerlink.EINVALID, "%d of %d tenants failed", failed, len(tenants))
	}
	return nil
}

func outcome(method string) string {
	switch method {
	case http.MethodPut:
		return "linked"
	case http.MethodPatch:
		return "updated"
	}
	return "linked"
}
