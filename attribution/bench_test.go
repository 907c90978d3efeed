package attribution

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink/focus"
	"github.com/partnerlink/partnerlink/world"
)

// benchWorld and benchUsage shape a run like the research baseline: many
// subscriptions × resource groups × VMs × days, a few thousand role
// assignments at subscription, group and resource scopes.
func benchWorld(nsub int) *world.Document {
	b := newWorld()
	d := b.doc
	sub := func(i int) string { return fmt.Sprintf("5b%06d-0000-4000-8000-000000000000", i) }
	for s := 0; s < nsub; s++ {
		d.Subscriptions = append(d.Subscriptions, world.Subscription{SubscriptionID: sub(s), TenantID: tC, Name: "s"})
	}
	for u := 0; u < 500; u++ {
		oid := fmt.Sprintf("c1%06d-0000-4000-8000-000000000000", u)
		d.Principals = append(d.Principals, world.Principal{TenantID: tC, ObjectID: oid, Type: "User"})
		b.link(tC, oid, []string{pA, pB, pL}[u%3], "2026-03-05", "")
	}
	for a := 0; a < 3000; a++ {
		scope := "/subscriptions/" + sub(a%nsub)
		switch a % 3 {
		case 1:
			scope += fmt.Sprintf("/resourceGroups/rg%d", a%5)
		case 2:
			scope += fmt.Sprintf("/resourceGroups/rg%d/providers/Microsoft.Compute/virtualMachines/vm%d", a%5, a%10)
		}
		b.assign(tC, fmt.Sprintf("c1%06d-0000-4000-8000-000000000000", (a*7)%500), []string{"Reader", "Contributor"}[a%2], scope, "2026-03-01", "")
	}
	return d
}

func benchUsage(nsub, days int) []byte {
	var w bytes.Buffer
	w.WriteString(usageHeader)
	n := 0
	for d := 1; d <= days; d++ {
		for s := 0; s < nsub+nsub/10; s++ {
			for rg := 0; rg < 5; rg++ {
				for vm := 0; vm < 10; vm++ {
					n++
					sub := fmt.Sprintf("5b%06d-0000-4000-8000-000000000000", s)
					fmt.Fprintf(&w, "2026-03-%02dT00:00:00Z,2026-03-%02dT00:00:00Z,Usage,/subscriptions/%s/resourceGroups/RG%d/providers/Microsoft.Compute/virtualMachines/vm%d,/subscriptions/%s,Virtual Machines,USD,%d.%04d,%d.%04d\n",
						d, d+1, sub, rg, vm, sub, n%13, n%10000, n%13, n%10000)
				}
			}
		}
	}
	return w.Bytes()
}

// BenchmarkRun measures rows per second through index, credit and merge.
// Run with: go test ./attribution -run XXX -bench Run -benchtime 3x
func BenchmarkRun(b *testing.B) {
	doc := benchWorld(200)
	ix, err := NewIndex(doc)
	if err != nil {
		b.Fatal(err)
	}
	data := benchUsage(200, 30)
	rows := bytes.Count(data, []byte{'\n'}) - 1
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				r, err := NewRun(ix, Options{From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), Workers: workers})
				if err != nil {
					b.Fatal(err)
				}
				if err := r.Scan(bytes.NewReader(data), "bench.csv"); err != nil {
					b.Fatal(err)
				}
				if err := r.Result().WriteCSV(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkAdd measures crediting alone: rows already parsed, resources
// already seen.
func BenchmarkAdd(b *testing.B) {
	ix, err := NewIndex(benchWorld(200))
	if err != nil {
		b.Fatal(err)
	}
	r, err := NewRun(ix, Options{From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	var rows []focus.Row
	err = focus.Scan(bytes.NewReader(benchUsage(200, 1)), "bench.csv", focus.Options{}, func(_ int, row *focus.Row) error {
		c := *row
		c.ResourceID = bytes.Clone(row.ResourceID)
		c.ChargeCategory = bytes.Clone(row.ChargeCategory)
		c.BillingCurrency = bytes.Clone(row.BillingCurrency)
		rows = append(rows, c)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for i := range rows {
		r.Add(0, &rows[i])
	}
	i := 0
	for b.Loop() {
		r.Add(0, &rows[i%len(rows)])
		i++
	}
}
