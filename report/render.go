package report

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/partnerlink/partnerlink"
)

// Formats of the reports.
const (
	FormatTable         = "table"
	FormatCSV           = "csv"
	FormatJSON          = "json"
	FormatPartnerCenter = "partner-center"
)

// CheckFormat refuses a format the report does not have.
func CheckFormat(report, format string, accepted ...string) error {
	if slices.Contains(accepted, format) {
		return nil
	}
	return partnerlink.Errorf(partnerlink.EINVALID, "the %s report has no format %q; accepted: %s", report, format, strings.Join(accepted, ", "))
}

// NotShown is the customer name of an anonymized line.
const NotShown = "(not shown)"

// PartnerLine is one line of the partner report: a customer's credit on a
// resource, or (Anonymized) the whole credit of a customer whose usage the
// partner ID cannot read, in one currency.
type PartnerLine struct {
	Month          string `json:"month"`
	PartnerID      string `json:"partnerId"`
	PartnerName    string `json:"partnerName"`
	TenantID       string `json:"tenantId,omitempty"`
	CustomerName   string `json:"customerName"`
	SubscriptionID string `json:"subscriptionId,omitempty"`
	ServiceName    string `json:"serviceName,omitempty"`
	ResourceID     string `json:"resourceId,omitempty"`
	Currency       string `json:"currency"`
	Attributed     string `json:"attributedCost"`
	Eligible       string `json:"incentiveEligibleCost"`
	USD            string `json:"acrUsd"`
	UsageRows      int64  `json:"usageRows"`
	Anonymized     bool   `json:"anonymized,omitempty"`
}

// PartnerReport is what one partner organization's IDs were credited with
// in one month of one version.
type PartnerReport struct {
	Month         string        `json:"month"`
	Version       int           `json:"version"`
	PartnerIDs    []string      `json:"partnerIds"`
	Lines         []PartnerLine `json:"lines"`
	PowerPlatform []PPLine      `json:"powerPlatform"`
	Credentials   []Credential  `json:"credentials"`
	// RowsWithoutUSD counts the credited usage rows of these lines that
	// have no amount in US dollars (left out of ACR_USD).
	RowsWithoutUSD int64 `json:"rowsWithoutUsd"`
}

func (c *Content) partnerName(id string) string {
	if i := slices.IndexFunc(c.Partners, func(p Partner) bool { return p.ID == id }); i >= 0 {
		return c.Partners[i].Name
	}
	return ""
}

func (c *Content) tenantName(id string) string {
	if i := slices.IndexFunc(c.Tenants, func(t Tenant) bool { return t.ID == id }); i >= 0 {
		return c.Tenants[i].Name
	}
	return ""
}

func (c *Content) readable(partnerID, tenantID string) bool {
	_, ok := slices.BinarySearchFunc(c.Readable, Pair{partnerID, tenantID}, func(a, b Pair) int {
		return cmp.Or(strings.Compare(a.PartnerID, b.PartnerID), strings.Compare(a.TenantID, b.TenantID))
	})
	return ok
}

// ForPartner builds the partner report of partnerIDs (an organization's IDs)
// from one version's content, with the privacy rule applied per ID
// (docs/rules.md#monthly-close, "Privacy").
func ForPartner(c *Content, version int, partnerIDs []string) (*PartnerReport, error) {
	r := &PartnerReport{Month: c.Month, Version: version, PartnerIDs: partnerIDs, Lines: []PartnerLine{},
		PowerPlatform: []PPLine{}, Credentials: []Credential{}}
	in := func(id string) bool { return slices.Contains(partnerIDs, id) }
	// Hidden customers are numbered per partner ID, in tenant order.
	hidden := map[Pair]string{}
	folded := map[[3]string]*PartnerLine{}
	var order [][3]string
	for _, l := range c.Azure {
		if !in(l.PartnerID) {
			continue
		}
		r.RowsWithoutUSD += l.UsageRows - l.USDRows
		if c.readable(l.PartnerID, l.TenantID) {
			r.Lines = append(r.Lines, PartnerLine{Month: c.Month, PartnerID: l.PartnerID, PartnerName: c.partnerName(l.PartnerID),
				TenantID: l.TenantID, CustomerName: c.tenantName(l.TenantID), SubscriptionID: l.SubscriptionID, ServiceName: l.ServiceName,
				ResourceID: l.ResourceID, Currency: l.Currency, Attributed: l.Attributed, Eligible: l.Eligible, USD: l.USD, UsageRows: l.UsageRows})
			continue
		}
		p := Pair{l.PartnerID, l.TenantID}
		if hidden[p] == "" {
			n := 1
			for q := range hidden {
				if q.PartnerID == l.PartnerID {
					n++
				}
			}
			hidden[p] = fmt.Sprintf("customer %d", n)
		}
		k := [3]string{l.PartnerID, hidden[p], l.Currency}
		f := folded[k]
		if f == nil {
			f = &PartnerLine{Month: c.Month, PartnerID: l.PartnerID, PartnerName: c.partnerName(l.PartnerID), CustomerName: NotShown + " " + hidden[p],
				Currency: l.Currency, Attributed: "0", Eligible: "0", USD: "0", Anonymized: true}
			folded[k] = f
			order = append(order, k)
		}
		if err := errors.Join(addTo(&f.Attributed, l.Attributed), addTo(&f.Eligible, l.Eligible), addTo(&f.USD, l.USD)); err != nil {
			return nil, err
		}
		f.UsageRows += l.UsageRows
	}
	for _, k := range order {
		r.Lines = append(r.Lines, *folded[k])
	}
	for _, l := range c.PowerPlatform {
		if in(l.PartnerID) {
			r.PowerPlatform = append(r.PowerPlatform, l)
		}
	}
	for _, cr := range c.Credentials {
		if in(cr.PartnerID) {
			r.Credentials = append(r.Credentials, cr)
		}
	}
	return r, nil
}

// PartnerCenterHeader is the header of the partner-center format.
const PartnerCenterHeader = "Month,CustomerTenantId,CustomerName,SubscriptionId,ServiceName,MPNId,PartnerName,PartnerAttributionType,ACR_USD"

// PartnerCenterRows turns partner reports into Partner Center rows: one
// per month, customer tenant, subscription, service and linked partner ID,
// ACR_USD summed exactly; an anonymized customer is one row with empty
// tenant, subscription and service. Rows are sorted by every column.
func PartnerCenterRows(reports []*PartnerReport) ([][]string, error) {
	sums := map[[7]string]string{}
	for _, r := range reports {
		for _, l := range r.Lines {
			// An anonymized line's name ("(not shown) customer N") keeps
			// its customer apart until the row is written.
			k := [7]string{l.Month, l.TenantID, l.CustomerName, l.SubscriptionID, l.ServiceName, l.PartnerID, l.PartnerName}
			s, err := partnerlink.AddDecimal(cmp.Or(sums[k], "0"), l.USD)
			if err != nil {
				return nil, err
			}
			sums[k] = s
		}
	}
	var rows [][]string
	for k, s := range sums {
		name := k[2]
		if strings.HasPrefix(name, NotShown) {
			name = NotShown
		}
		rows = append(rows, []string{k[0], k[1], name, k[3], k[4], k[5], k[6], "PAL", s})
	}
	slices.SortFunc(rows, func(a, b []string) int { return slices.Compare(a, b) })
	return rows, nil
}

// WritePartner writes partner reports (one per month) in format.
func WritePartner(w io.Writer, reports []*PartnerReport, format string) error {
	switch format {
	case FormatJSON:
		return writeJSON(w, reports)
	case FormatPartnerCenter:
		rows, err := PartnerCenterRows(reports)
		if err != nil {
			return err
		}
		return writeCSV(w, strings.Split(PartnerCenterHeader, ","), rows)
	case FormatCSV:
		var rows [][]string
		for _, r := range reports {
			for _, l := range r.Lines {
				rows = append(rows, []string{l.Month, l.PartnerID, l.PartnerName, l.TenantID, l.CustomerName, l.SubscriptionID, l.ServiceName,
					l.ResourceID, l.Currency, l.Attributed, l.Eligible, l.USD, fmt.Sprint(l.UsageRows)})
			}
		}
		return writeCSV(w, strings.Split(PartnerCSVHeader, ","), rows)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range reports {
		fmt.Fprintf(tw, "Partner report %s (version %d) for %s\n\n", r.Month, r.Version, strings.Join(r.PartnerIDs, ", "))
		fmt.Fprintln(tw, "PARTNER ID\tCUSTOMER\tSUBSCRIPTION\tSERVICE\tRESOURCE\tCURRENCY\tATTRIBUTED\tELIGIBLE\tACR_USD")
		for _, l := range r.Lines {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.PartnerID, cmp.Or(l.CustomerName, l.TenantID), l.SubscriptionID,
				l.ServiceName, l.ResourceID, l.Currency, l.Attributed, l.Eligible, l.USD)
		}
		if len(r.Lines) == 0 {
			fmt.Fprintln(tw, "(no Azure credit this month)")
		}
		if len(r.PowerPlatform) > 0 {
			fmt.Fprintln(tw, "\nPOWER PLATFORM\tTENANT\tENVIRONMENT\tRESOURCE\tKIND\tMETRIC\tVALUE\tELIGIBLE")
			for _, l := range r.PowerPlatform {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%v\n", l.PartnerID, l.TenantID, l.EnvironmentID, l.ResourceID, l.Kind, l.Metric, l.Value, l.Eligible)
			}
		}
		fmt.Fprintln(tw, "\nCREDENTIAL\tTENANT\tPARTNER ID\tROLE\tSCOPE")
		for _, cr := range r.Credentials {
			for _, a := range cr.Access {
				fmt.Fprintf(tw, "%s (%s)\t%s\t%s\t%s\t%s\n", cmp.Or(cr.DisplayName, cr.ObjectID), cr.Type, a.TenantID, cr.PartnerID, a.Role, a.Scope)
			}
			if len(cr.Access) == 0 { // linked, holding no role
				fmt.Fprintf(tw, "%s (%s)\t%s\t%s\t(none)\t\n", cmp.Or(cr.DisplayName, cr.ObjectID), cr.Type, cr.TenantID, cr.PartnerID)
			}
		}
		if r.RowsWithoutUSD > 0 {
			fmt.Fprintf(tw, "\n%d credited usage rows have no amount in US dollars and are left out of ACR_USD.\n", r.RowsWithoutUSD)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// PartnerCSVHeader is the header of the partner report's csv format.
const PartnerCSVHeader = "Month,PartnerId,PartnerName,CustomerTenantId,CustomerName,SubscriptionId,ServiceName,ResourceId,BillingCurrency,AttributedCost,IncentiveEligibleCost,ACR_USD,UsageRows"

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func writeCSV(w io.Writer, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// addTo adds amount to *sum: exact decimals written as text.
func addTo(sum *string, amount string) error {
	total, err := partnerlink.AddDecimal(*sum, amount)
	if err != nil {
		return err
	}
	*sum = total
	return nil
}
