package focus

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

// BenchmarkScanCSV and BenchmarkScanParquet measure reading alone.
// Run with: go test ./focus -run XXX -bench Scan -benchtime 3x
func BenchmarkScanCSV(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(header + "\n")
	for i := 0; i < 200000; i++ {
		fmt.Fprintf(&sb, "2026-03-%02dT00:00:00Z,2026-03-%02dT00:00:00Z,Usage,/subscriptions/%s/resourceGroups/RG%d/providers/Microsoft.Compute/virtualMachines/vm%d,/subscriptions/%s,Virtual Machines,USD,%d.%04d,%d.%04d\n",
			i%28+1, i%28+2, sub, i%5, i%10, sub, i%13, i%10000, i%13, i%10000)
	}
	path := filepath.Join(b.TempDir(), "u.csv")
	os.WriteFile(path, []byte(sb.String()), 0o644)
	b.SetBytes(int64(sb.Len()))
	for b.Loop() {
		if err := ScanFile(path, Options{}, func(int, *Row) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(200000*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkScanParquet(b *testing.B) {
	type rec struct {
		ChargePeriodStart time.Time `parquet:"ChargePeriodStart,timestamp(microsecond)"`
		ChargePeriodEnd   time.Time `parquet:"ChargePeriodEnd,timestamp(microsecond)"`
		ChargeCategory    string    `parquet:"ChargeCategory,dict"`
		ResourceId        string    `parquet:"ResourceId,dict"`
		SubAccountId      string    `parquet:"SubAccountId,dict"`
		ServiceName       string    `parquet:"ServiceName,dict"`
		BillingCurrency   string    `parquet:"BillingCurrency,dict"`
		EffectiveCost     int64     `parquet:"EffectiveCost,decimal(4:18)"`
		BilledCost        float64   `parquet:"BilledCost"`
	}
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	rows := make([]rec, 200000)
	for i := range rows {
		d := day.AddDate(0, 0, i%28)
		rows[i] = rec{d, d.AddDate(0, 0, 1), "Usage", fmt.Sprintf("/subscriptions/%s/resourceGroups/RG%d/providers/Microsoft.Compute/virtualMachines/vm%d", sub, i%5, i%10),
			"/subscriptions/" + sub, "Virtual Machines", "USD", int64(i), float64(i%1000) / 100}
	}
	path := filepath.Join(b.TempDir(), "u.parquet")
	f, _ := os.Create(path)
	w := parquet.NewGenericWriter[rec](f)
	w.Write(rows)
	w.Close()
	f.Close()
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			for b.Loop() {
				if err := ScanFile(path, Options{Workers: workers}, func(int, *Row) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(200000*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkSplitLines measures the CSV splitter alone on lines like a cost
// export's (a quoted ServiceName).
// Run with: go test ./focus -run XXX -bench SplitLines
func BenchmarkSplitLines(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&sb, "2026-03-%02dT00:00:00Z,2026-03-%02dT00:00:00Z,Usage,/subscriptions/%s/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/vm-%d,/subscriptions/%s,\"Virtual Machines\",USD,%d.%06d,%d.%06d,17\n",
			i%28+1, i%28+2, sub, i%100, sub, i%13, i%1000000, i%13, i%1000000)
	}
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	var sp splitter
	for b.Loop() {
		for pos := 0; pos < len(data); {
			fields, end, _, ok, _, err := sp.next(data, pos)
			if err != nil || !ok || len(fields) != 10 {
				b.Fatalf("%d fields, %v %v", len(fields), ok, err)
			}
			pos = end
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100000, "ns/line")
}
