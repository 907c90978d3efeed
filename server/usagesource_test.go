package server_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink/server"
)

// docs/usage-sources.md: a server with --usage-source imports new export
// runs by itself, once.
func TestServerPollsUsageSource(t *testing.T) {
	root := t.TempDir()
	srv, _ := startServer(t, server.Config{CloseEvery: -1, UsageSources: []string{"file://" + root}, UsagePoll: 20 * time.Millisecond})
	dir := filepath.Join(root, "focus-daily", "20261101-20261130", "run-1")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	csv := "ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost\n" +
		"2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,Usage,/subscriptions/f0f0f0f0-0000-4000-8000-000000000001/resourceGroups/g/providers/Microsoft.Web/sites/a," +
		"/subscriptions/f0f0f0f0-0000-4000-8000-000000000001,App Service,EUR,4.20,4.20\n"
	if err := os.WriteFile(filepath.Join(dir, "part_0_0001.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	m, _ := json.Marshal(map[string]any{"blobs": []map[string]any{{"blobName": "focus-daily/20261101-20261130/run-1/part_0_0001.csv", "dataRowCount": 1}},
		"exportConfig": map[string]any{"exportName": "focus-daily"},
		"runInfo":      map[string]any{"submittedTime": "2026-11-02T03:00:00Z", "startDate": "2026-11-01", "endDate": "2026-11-30"}})
	// The manifest comes last, as Cost Management writes it.
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), m, 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ims, err := srv.DB.UsageImports(context.Background(), "focus", []string{"2026-11"})
		if err != nil {
			t.Fatal(err)
		}
		if len(ims) == 1 && ims[0].Rows == 1 && ims[0].Totals["EUR"] == "4.2" && strings.HasSuffix(ims[0].Name, "part_0_0001.csv") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not import the run: %+v", ims)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Polls go on; the run stays imported once.
	time.Sleep(100 * time.Millisecond)
	if ims, _ := srv.DB.UsageImports(context.Background(), "focus", nil); len(ims) != 1 {
		t.Errorf("imports after more polls: %d", len(ims))
	}
}

// A usage source that is not one partnerlink reads fails the start.
func TestServerRefusesBadUsageSource(t *testing.T) {
	_, err := server.Open(context.Background(), server.Config{DataDir: privateDir(t), Addr: "127.0.0.1:0", UsageSources: []string{"ftp://x/y"}})
	if err == nil || !strings.Contains(err.Error(), "--usage-source") || !strings.Contains(err.Error(), "expected azblob://") {
		t.Fatalf("open with ftp://: %v", err)
	}
}
