package report

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// CustomerReport is what a customer tenant's administrators receive for a
// month: the credentials linked in the tenant (or reaching it through a
// delegation), what each partner ID was credited with, and the month's
// link changes.
type CustomerReport struct {
	Month         string         `json:"month"`
	Version       int            `json:"version"`
	TenantID      string         `json:"tenantId"`
	TenantName    string         `json:"tenantName"`
	Credentials   []Credential   `json:"credentials"`
	Credits       []CustomerLine `json:"credits"`
	PowerPlatform []PPLine       `json:"powerPlatform"`
	Events        []Event        `json:"events"`
	Notifications []Notice       `json:"notifications"`
}

// CustomerLine is one partner ID's credit in the tenant in one currency.
type CustomerLine struct {
	Month       string `json:"month"`
	PartnerID   string `json:"partnerId"`
	PartnerName string `json:"partnerName"`
	Currency    string `json:"currency"`
	Attributed  string `json:"attributedCost"`
	Eligible    string `json:"incentiveEligibleCost"`
	UsageRows   int64  `json:"usageRows"`
}

// ForCustomer builds the customer report of tenantID from one version.
func ForCustomer(c *Content, version int, tenantID string) (*CustomerReport, error) {
	r := &CustomerReport{Month: c.Month, Version: version, TenantID: tenantID, TenantName: c.tenantName(tenantID),
		Credentials: []Credential{}, Credits: []CustomerLine{}, PowerPlatform: []PPLine{}, Events: []Event{}, Notifications: []Notice{}}
	for _, cr := range c.Credentials {
		if cr.TenantID == tenantID || slices.ContainsFunc(cr.Access, func(a Access) bool { return a.TenantID == tenantID }) {
			r.Credentials = append(r.Credentials, cr)
		}
	}
	sums := map[[2]string]*CustomerLine{}
	for _, l := range c.Azure {
		if l.TenantID != tenantID {
			continue
		}
		k := [2]string{l.PartnerID, l.Currency}
		s := sums[k]
		if s == nil {
			s = &CustomerLine{Month: c.Month, PartnerID: l.PartnerID, PartnerName: c.partnerName(l.PartnerID), Currency: l.Currency,
				Attributed: "0", Eligible: "0"}
			sums[k] = s
		}
		if err := errors.Join(addTo(&s.Attributed, l.Attributed), addTo(&s.Eligible, l.Eligible)); err != nil {
			return nil, err
		}
		s.UsageRows += l.UsageRows
	}
	for _, s := range sums {
		r.Credits = append(r.Credits, *s)
	}
	slices.SortFunc(r.Credits, func(a, b CustomerLine) int {
		return cmp.Or(strings.Compare(a.PartnerID, b.PartnerID), strings.Compare(a.Currency, b.Currency))
	})
	for _, l := range c.PowerPlatform {
		if l.TenantID == tenantID {
			r.PowerPlatform = append(r.PowerPlatform, l)
		}
	}
	for _, e := range c.Events {
		if e.TenantID == tenantID {
			r.Events = append(r.Events, e)
		}
	}
	for _, n := range c.Notifications {
		if n.TenantID == tenantID {
			r.Notifications = append(r.Notifications, n)
		}
	}
	return r, nil
}

// CustomerCSVHeader is the header of the customer report's csv format.
const CustomerCSVHeader = "Month,TenantId,PartnerId,PartnerName,BillingCurrency,AttributedCost,IncentiveEligibleCost,UsageRows"

// WriteCustomer writes customer reports (one per month) in format.
func WriteCustomer(w io.Writer, reports []*CustomerReport, format string) error {
	switch format {
	case FormatJSON:
		return writeJSON(w, reports)
	case FormatCSV:
		var rows [][]string
		for _, r := range reports {
			for _, l := range r.Credits {
				rows = append(rows, []string{l.Month, r.TenantID, l.PartnerID, l.PartnerName, l.Currency, l.Attributed, l.Eligible, fmt.Sprint(l.UsageRows)})
			}
		}
		return writeCSV(w, strings.Split(CustomerCSVHeader, ","), rows)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range reports {
		fmt.Fprintf(tw, "Customer report %s (version %d) for %s (%s)\n\n", r.Month, r.Version, cmp.Or(r.TenantName, r.TenantID), r.TenantID)
		fmt.Fprintln(tw, "CREDENTIAL\tTYPE\tPARTNER ID\tLINKED SINCE\tROLE\tSCOPE")
		for _, cr := range r.Credentials {
			shown := false
			for _, a := range cr.Access {
				if a.TenantID != r.TenantID {
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", cmp.Or(cr.DisplayName, cr.ObjectID), cr.Type, cr.PartnerID, cmp.Or(cr.Since, "always"), a.Role, a.Scope)
				shown = true
			}
			if !shown && cr.TenantID == r.TenantID { // linked here, holding no role here
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t(none)\t\n", cmp.Or(cr.DisplayName, cr.ObjectID), cr.Type, cr.PartnerID, cmp.Or(cr.Since, "always"))
			}
		}
		fmt.Fprintln(tw, "\nPARTNER ID\tPARTNER\tCURRENCY\tATTRIBUTED\tELIGIBLE")
		for _, l := range r.Credits {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.PartnerID, l.PartnerName, l.Currency, l.Attributed, l.Eligible)
		}
		if len(r.Credits) == 0 {
			fmt.Fprintln(tw, "(no partner was credited with Azure consumption in this tenant this month)")
		}
		if len(r.PowerPlatform) > 0 {
			fmt.Fprintln(tw, "\nPOWER PLATFORM\tENVIRONMENT\tRESOURCE\tKIND\tMETRIC\tVALUE")
			for _, l := range r.PowerPlatform {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", l.PartnerID, l.EnvironmentID, l.ResourceID, l.Kind, l.Metric, l.Value)
			}
		}
		fmt.Fprintln(tw, "\nCHANGED AT\tCREDENTIAL\tACTION\tPARTNER ID\tPREVIOUS\tBY")
		for _, e := range r.Events {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.At, e.ObjectID, e.Action, e.PartnerID, e.PreviousPartnerID, e.Actor)
		}
		fmt.Fprintln(tw, "\nNOTIFIED AT\tEVENT\tTYPE")
		for _, n := range r.Notifications {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", n.QueuedAt, n.EventID, n.Type)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// ProgramLine is one organization's credit in one currency for a month.
type ProgramLine struct {
	Month           string `json:"month"`
	GlobalPartnerID string `json:"globalPartnerId"`
	PartnerName     string `json:"partnerName"`
	Currency        string `json:"currency"`
	Attributed      string `json:"attributedCost"`
	Eligible        string `json:"incentiveEligibleCost"`
	Customers       int    `json:"customers"`
}

// ProgramReport is what the incentive program receives for a month.
type ProgramReport struct {
	Month   string        `json:"month"`
	Version int           `json:"version"`
	Lines   []ProgramLine `json:"organizations"`
	// PowerPlatform sums each organization's metrics (location IDs rolled up).
	PowerPlatform []ProgramMetric `json:"powerPlatform"`
	// Detail is the credit per partner ID and resource, with the lines an
	// organization's total counts once marked (isDuplicateRowForPGA).
	Detail []AzureLine `json:"detail"`
}

// ProgramMetric is one organization's Power Platform metric for a month.
type ProgramMetric struct {
	GlobalPartnerID string `json:"globalPartnerId"`
	Metric          string `json:"metric"`
	Value           int64  `json:"value"`
	Eligible        int64  `json:"eligibleValue"`
}

// ForProgram builds the program report from one version: per
// organization and currency, from the attribution keyed by organization.
func ForProgram(c *Content, version int) (*ProgramReport, error) {
	r := &ProgramReport{Month: c.Month, Version: version, Lines: []ProgramLine{}, PowerPlatform: []ProgramMetric{}, Detail: c.Azure}
	type acc struct {
		line    ProgramLine
		tenants map[string]bool
	}
	by := map[[2]string]*acc{}
	for _, o := range c.Organizations {
		k := [2]string{o.GlobalPartnerID, o.Currency}
		a := by[k]
		if a == nil {
			a = &acc{line: ProgramLine{Month: c.Month, GlobalPartnerID: o.GlobalPartnerID, PartnerName: c.partnerName(o.GlobalPartnerID),
				Currency: o.Currency, Attributed: "0", Eligible: "0"}, tenants: map[string]bool{}}
			by[k] = a
		}
		if err := errors.Join(addTo(&a.line.Attributed, o.Attributed), addTo(&a.line.Eligible, o.Eligible)); err != nil {
			return nil, err
		}
		a.tenants[o.TenantID] = true
	}
	for _, a := range by {
		a.line.Customers = len(a.tenants)
		r.Lines = append(r.Lines, a.line)
	}
	slices.SortFunc(r.Lines, func(a, b ProgramLine) int { return slices.Compare(programRow(a), programRow(b)) })
	orgOf := map[string]string{}
	for _, p := range c.Partners {
		orgOf[p.ID] = cmp.Or(p.GlobalID, p.ID)
	}
	metrics := map[[2]string]*ProgramMetric{}
	for _, l := range c.PowerPlatform {
		k := [2]string{cmp.Or(orgOf[l.PartnerID], l.PartnerID), l.Metric}
		m := metrics[k]
		if m == nil {
			m = &ProgramMetric{GlobalPartnerID: k[0], Metric: k[1]}
			metrics[k] = m
		}
		m.Value += l.Value
		if l.Eligible {
			m.Eligible += l.Value
		}
	}
	for _, m := range metrics {
		r.PowerPlatform = append(r.PowerPlatform, *m)
	}
	slices.SortFunc(r.PowerPlatform, func(a, b ProgramMetric) int {
		return cmp.Or(strings.Compare(a.GlobalPartnerID, b.GlobalPartnerID), strings.Compare(a.Metric, b.Metric))
	})
	return r, nil
}

// ProgramCSVHeader is the header of the program report's csv format.
const ProgramCSVHeader = "Month,GlobalPartnerId,PartnerName,BillingCurrency,AttributedCost,IncentiveEligibleCost,Customers"

func programRow(l ProgramLine) []string {
	return []string{l.Month, l.GlobalPartnerID, l.PartnerName, l.Currency, l.Attributed, l.Eligible, fmt.Sprint(l.Customers)}
}

// WriteProgram writes program reports (one per month) in format.
func WriteProgram(w io.Writer, reports []*ProgramReport, format string) error {
	switch format {
	case FormatJSON:
		return writeJSON(w, reports)
	case FormatCSV:
		var rows [][]string
		for _, r := range reports {
			for _, l := range r.Lines {
				rows = append(rows, programRow(l))
			}
		}
		slices.SortFunc(rows, func(a, b []string) int { return slices.Compare(a, b) })
		return writeCSV(w, strings.Split(ProgramCSVHeader, ","), rows)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range reports {
		fmt.Fprintf(tw, "Program report %s (version %d)\n\n", r.Month, r.Version)
		fmt.Fprintln(tw, "GLOBAL ID\tPARTNER\tCURRENCY\tATTRIBUTED\tELIGIBLE\tCUSTOMERS")
		for _, l := range r.Lines {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", l.GlobalPartnerID, l.PartnerName, l.Currency, l.Attributed, l.Eligible, l.Customers)
		}
		if len(r.PowerPlatform) > 0 {
			fmt.Fprintln(tw, "\nGLOBAL ID\tMETRIC\tVALUE\tELIGIBLE")
			for _, m := range r.PowerPlatform {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", m.GlobalPartnerID, m.Metric, m.Value, m.Eligible)
			}
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}
