package portal

import (
	"encoding/json"
	"slices"

	"github.com/partnerlink/partnerlink"
)

// total is an exact sum of credit under one key (a month, a customer, a
// service) in one currency.
type total struct {
	PartnerID, Name, Detail, Currency string
	Credited, Eligible                string
	Rows                              int64
}

// totals sums amounts by key in first-seen order; the amounts are decimal
// strings added exactly (docs/rules.md, "Money").
type totals struct {
	order []string
	by    map[string]*total
}

func (t *totals) add(key string, base total, credited, eligible string, rows int64) error {
	if t.by == nil {
		t.by = map[string]*total{}
	}
	k := key + "\x00" + base.Currency
	x := t.by[k]
	if x == nil {
		base.Credited, base.Eligible = "0", "0"
		x = &base
		t.by[k] = x
		t.order = append(t.order, k)
	}
	var err error
	if x.Credited, err = partnerlink.AddDecimal(x.Credited, credited); err != nil {
		return err
	}
	if x.Eligible, err = partnerlink.AddDecimal(x.Eligible, eligible); err != nil {
		return err
	}
	x.Rows += rows
	return nil
}

func (t *totals) list() []total {
	out := make([]total, 0, len(t.order))
	for _, k := range t.order {
		out = append(out, *t.by[k])
	}
	return out
}

// chart is what a page hands the charts bundle (portal/static/charts.js):
// the kind (bar, hbar, line), the labels, and series of exact decimal
// strings. The table beside each chart shows the same numbers without
// JavaScript.
type chart struct {
	Kind, Label string
	Labels      []string
	Series      []series
}

type series struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// LabelsJSON and SeriesJSON are the data attributes of the chart's element.
func (c chart) LabelsJSON() string { b, _ := json.Marshal(c.Labels); return string(b) }
func (c chart) SeriesJSON() string { b, _ := json.Marshal(c.Series); return string(b) }

// chartOf draws totals: one label per name, and a credited and an
// incentive-eligible series per currency.
func chartOf(kind, label string, ts []total) chart {
	c := chart{Kind: kind, Label: label, Labels: []string{}, Series: []series{}}
	var currencies []string
	for _, t := range ts {
		if !slices.Contains(c.Labels, t.Name) {
			c.Labels = append(c.Labels, t.Name)
		}
		if !slices.Contains(currencies, t.Currency) {
			currencies = append(currencies, t.Currency)
		}
	}
	for _, cur := range currencies {
		credited := series{Name: "Credited (" + cur + ")", Values: make([]string, len(c.Labels))}
		eligible := series{Name: "Incentive-eligible (" + cur + ")", Values: make([]string, len(c.Labels))}
		for i := range c.Labels {
			credited.Values[i], eligible.Values[i] = "0", "0"
		}
		for _, t := range ts {
			if t.Currency == cur {
				i := slices.Index(c.Labels, t.Name)
				credited.Values[i], _ = partnerlink.AddDecimal(credited.Values[i], t.Credited)
				eligible.Values[i], _ = partnerlink.AddDecimal(eligible.Values[i], t.Eligible)
			}
		}
		c.Series = append(c.Series, credited, eligible)
	}
	return c
}
