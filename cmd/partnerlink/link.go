package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

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
		var partnerID, tenant, output string
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
				if output == "" { // as before: one link as JSON, many tenants as a table
					output = "json"
					if all {
						output = "table"
					}
				}
				if !slices.Contains(linkOutputs, output) {
					return partnerlink.Errorf(partnerlink.EINVALID, "--output %q is not a format: use one of %s", output, strings.Join(linkOutputs, ", "))
				}
				s, err := loadSession()
				if err != nil {
					return err
				}
				if all {
					return linkAllTenants(cmd.Context(), m, s, method, partnerID, output)
				}
				o, err := linkOne(cmd.Context(), s, tenant, method, partnerID)
				if err != nil {
					return err
				}
				if o.note != "" {
					fmt.Fprintln(m.Stderr, o.note)
				}
				if o.partner == nil { // delete
					return nil
				}
				return printPartners(m, output, []*client.Partner{o.partner})
			},
		}
		c.Flags().StringVar(&partnerID, "partner-id", "", "the partner ID (MPN / Associated Partner ID)")
		c.Flags().StringVar(&tenant, "tenant", "", "act in this tenant instead of the one signed in to")
		c.Flags().BoolVar(&all, "all-tenants", false,
			"act in every tenant this credential can sign in to (its home tenant and each tenant where it is a guest or has a service principal), and print a table of outcomes")
		c.Flags().StringVarP(&output, "output", "o", "", "output format: "+strings.Join(linkOutputs, ", ")+" (default json; a table with --all-tenants)")
		return c
	}
	cmd.AddCommand(
		verb("create", "Link a partner ID to the signed-in credential (replacing the one linked, if any)", http.MethodPut, true),
		verb("show", "Show the linked partner ID (with --partner-id: only if it is that one)", http.MethodGet, false),
		verb("update", "Replace the linked partner ID (links it when none is linked)", http.MethodPatch, true),
		verb("delete", "Remove the link", http.MethodDelete, true),
	)
	return cmd
}

// linkOutputs are the formats of `link --output`, named as az names them.
var linkOutputs = []string{"json", "table", "tsv", "none"}

// linkOutcome is what one link call did, in words: the wire answers a
// create and a replace alike, so the CLI reads the link first to tell them apart.
type linkOutcome struct {
	result  string // linked, replaced, updated, already linked, not linked, deleted
	note    string // a sentence for the user when the outcome may surprise
	partner *client.Partner
}

// linkOne sends one verb in tenant ("" is the signed-in tenant). A create or
// update first reads the current link so it can say what it replaced.
func linkOne(ctx context.Context, s *client.Session, tenant, method, partnerID string) (linkOutcome, error) {
	var prev *client.Partner
	if method == http.MethodPut || method == http.MethodPatch {
		// A failed read changes nothing: the write then answers for itself.
		prev, _ = s.PartnerCall(ctx, tenant, http.MethodGet, "")
	}
	p, err := s.PartnerCall(ctx, tenant, method, partnerID)
	if err != nil {
		return linkOutcome{}, err
	}
	o := linkOutcome{partner: p}
	switch {
	case method == http.MethodGet:
		o.result = "linked"
	case method == http.MethodDelete:
		o.result = "deleted"
	case prev != nil && prev.PartnerID == p.PartnerID:
		o.result = "already linked"
		o.note = fmt.Sprintf("Partner ID %s was already linked in tenant %s; the link is unchanged (version %d).", p.PartnerID, p.TenantID, p.Version)
	case prev != nil:
		o.result = "replaced " + prev.PartnerID
		o.note = fmt.Sprintf("Replaced the link to partner ID %s (%s) with %s (%s) in tenant %s.",
			prev.PartnerID, prev.PartnerName, p.PartnerID, p.PartnerName, p.TenantID)
	case method == http.MethodPatch:
		o.result = "linked"
		o.note = fmt.Sprintf("Nothing was linked in tenant %s: linked partner ID %s (%s).", p.TenantID, p.PartnerID, p.PartnerName)
	default:
		o.result = "linked"
	}
	return o, nil
}

// printPartners writes links as JSON (one object for one link, as az), a
// table, tab-separated values, or nothing.
func printPartners(m *Main, output string, ps []*client.Partner) error {
	switch output {
	case "none":
		return nil
	case "json":
		if len(ps) == 1 {
			return printJSON(m, ps[0])
		}
		return printJSON(m, ps)
	}
	var w io.Writer = m.Stdout
	var tw *tabwriter.Writer
	if output == "table" {
		tw = tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
		w = tw
		fmt.Fprintln(w, "PartnerId\tPartnerName\tTenantId\tObjectId\tState\tVersion\tCreatedTime\tUpdatedTime")
	}
	for _, p := range ps {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", p.PartnerID, p.PartnerName, p.TenantID, p.ObjectID, p.State,
			p.Version, p.CreatedTime.UTC().Format(time.RFC3339), p.UpdatedTime.UTC().Format(time.RFC3339))
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
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
// table (or JSON) of outcomes; it fails when any tenant failed, after trying
// them all. "Not linked" is an answer to show or delete, not a failure.
func linkAllTenants(ctx context.Context, m *Main, s *client.Session, method, partnerID, output string) error {
	tenants, err := s.Tenants(ctx)
	if err != nil {
		return err
	}
	type row struct {
		TenantID   string          `json:"tenantId"`
		TenantName string          `json:"tenantName"`
		Result     string          `json:"result"`
		Detail     string          `json:"detail,omitempty"`
		Link       *client.Partner `json:"link,omitempty"`
	}
	rows := make([]row, 0, len(tenants))
	failed := 0
	for _, t := range tenants {
		r := row{TenantID: t.TenantID, TenantName: t.DisplayName}
		o, err := linkOne(ctx, s, t.TenantID, method, partnerID)
		switch {
		case err != nil && isNothingLinked(err, method):
			r.Result = "not linked"
		case err != nil:
			failed++
			r.Result, r.Detail = "failed", partnerlink.ErrorMessage(err)
		default:
			r.Result, r.Link = o.result, o.partner
			if p := o.partner; p != nil {
				r.Detail = fmt.Sprintf("%s %s (version %d, object %s)", p.PartnerID, p.PartnerName, p.Version, p.ObjectID)
			}
		}
		rows = append(rows, r)
	}
	switch output {
	case "json":
		if err := printJSON(m, rows); err != nil {
			return err
		}
	case "table", "tsv":
		var w io.Writer = m.Stdout
		tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
		if output == "table" {
			w = tw
			fmt.Fprintln(w, "TENANT\tNAME\tRESULT\tDETAIL")
		}
		for _, r := range rows {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.TenantID, r.TenantName, r.Result, r.Detail)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if failed > 0 {
		return partnerlink.Errorf(partnerlink.EINVALID, "%d of %d tenants failed", failed, len(tenants))
	}
	return nil
}

// isNothingLinked reports whether err is the answer "no partner ID is linked"
// to a show or delete: a state, not a failure. A delete of another ID than
// the linked one is still a failure.
func isNothingLinked(err error, method string) bool {
	return (method == http.MethodGet || method == http.MethodDelete) &&
		partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND && strings.Contains(partnerlink.ErrorMessage(err), "No partner ID is linked")
}
