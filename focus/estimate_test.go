package focus

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// EstimateRows, which cuts a large attribute run into passes
// (docs/performance.md, "Memory as rows grow"): Parquet's count exactly,
// CSV and gzip CSV within a few percent when the lines are alike.
func TestEstimateRows(t *testing.T) {
	dir := t.TempDir()
	const n = 40_000
	var csv strings.Builder
	csv.WriteString("ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost\n")
	for i := range n {
		fmt.Fprintf(&csv, "2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,Usage,/subscriptions/%s/resourceGroups/rg/providers/A.B/c/r%d,%s,S,USD,%d.5,1\n", sub, i%977, sub, i)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(csv.String()))
	zw.Close()
	files := map[string][]byte{"u.csv": []byte(csv.String()), "u.csv.gz": gz.Bytes(), "u.parquet": writeParquet(t, pqRows(1234), parquet.MaxRowsPerRowGroup(10)),
		"empty.csv": nil, "header.csv": []byte("ChargePeriodStart\n")}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string][2]int64{"u.csv": {n * 97 / 100, n * 103 / 100}, "u.csv.gz": {n * 80 / 100, n * 120 / 100},
		"u.parquet": {1234, 1234}, "empty.csv": {0, 0}, "header.csv": {1, 1}} {
		got, err := EstimateRows(filepath.Join(dir, name))
		if err != nil || got < want[0] || got > want[1] {
			t.Errorf("%s: %d rows (%v), want %d to %d", name, got, err, want[0], want[1])
		}
	}
	if _, err := EstimateRows(filepath.Join(dir, "missing.csv")); err == nil || !strings.Contains(err.Error(), "open usage file") {
		t.Errorf("a missing file: %v", err)
	}
}
