package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// azuritePath is Azurite's blob service, installed by the test command from
// e2e/package-lock.json.
const azuritePath = "node_modules/.bin/azurite-blob"

// Azurite's well-known development account (public, documented by Microsoft).
const (
	azuriteAccount = "devstoreaccount1"
	azuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// startAzurite runs Azurite's blob service on a free loopback port, in
// memory and without telemetry, and returns its connection string and
// host:port.
func startAzurite(t *testing.T) (string, string) {
	t.Helper()
	requireFile(t, azuritePath, "Azurite (npm ci in e2e/)")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(azuritePath, "--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(port), "--inMemoryPersistence",
		"--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Azurite: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Azurite did not listen on %d: %s", port, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=http://127.0.0.1:%d/%s;",
		azuriteAccount, azuriteKey, port, azuriteAccount), fmt.Sprintf("127.0.0.1:%d", port)
}

// focusUsage is a day of usage per row of November 2026 for the demo
// subscriptions' checkout site.
func focusUsage(days int, cost string) []byte {
	var b strings.Builder
	b.WriteString("ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost\n")
	for d := range days {
		day := time.Date(2026, 11, 1+d, 0, 0, 0, 0, time.UTC)
		fmt.Fprintf(&b, "%s,%s,Usage,/subscriptions/f0f0f0f0-0000-4000-8000-000000000002/resourceGroups/payments/providers/Microsoft.Web/sites/checkout,/subscriptions/f0f0f0f0-0000-4000-8000-000000000002,Azure App Service,EUR,%s,%s\n",
			day.Format(time.RFC3339), day.AddDate(0, 0, 1).Format(time.RFC3339), cost, cost)
	}
	return []byte(b.String())
}

// TestUsageSourceAzurite: `partnerlink import azblob://…` reads Cost
// Management export runs from Azure Blob Storage (Azurite), each through
// its manifest, all or nothing, once (docs/usage-sources.md).
func TestUsageSourceAzurite(t *testing.T) {
	conn, host := startAzurite(t)
	ctx := context.Background()
	client, err := azblob.NewClientFromConnectionString(conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateContainer(ctx, "costexports", nil); err != nil {
		t.Fatal(err)
	}
	upload := func(name string, data []byte) {
		t.Helper()
		if _, err := client.UploadBuffer(ctx, "costexports", name, data, nil); err != nil {
			t.Fatalf("upload %s: %v", name, err)
		}
	}
	// run writes an export run in Cost Management's layout; a part with nil
	// data is listed in the manifest but not uploaded.
	type part struct {
		name string
		data []byte
		rows int
	}
	run := func(id, submitted string, parts ...part) {
		dir := "partnerlink/focus-daily/20261101-20261130/" + id + "/"
		var blobs []map[string]any
		for _, p := range parts {
			if p.data != nil {
				upload(dir+p.name, p.data)
			}
			blobs = append(blobs, map[string]any{"blobName": dir + p.name, "byteCount": len(p.data), "dataRowCount": p.rows})
		}
		m, _ := json.Marshal(map[string]any{"manifestVersion": "2024-04-01", "blobCount": len(parts),
			"exportConfig": map[string]any{"exportName": "focus-daily", "type": "FocusCost"},
			"runInfo":      map[string]any{"runId": id, "submittedTime": submitted, "startDate": "2026-11-01T00:00:00", "endDate": "2026-11-30T00:00:00"},
			"blobs":        blobs})
		upload(dir+"manifest.json", m)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(focusUsage(10, "2.5"))
	zw.Close()
	run("run-1", "2026-11-11T03:00:00Z", part{"part_0_0001.csv.gz", gz.Bytes(), 10}, part{"part_1_0001.csv", focusUsage(3, "1"), 3})

	bin := partnerlinkBinary(t)
	work := t.TempDir()
	dataDir := filepath.Join(work, "data")
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	// The standard settings of Azure Storage clients, for the emulator.
	env := []string{"AZURE_STORAGE_CONNECTION_STRING=" + conn, "AZURE_STORAGE_IS_LOCAL_EMULATOR=true", "AZURE_STORAGE_DOMAIN=" + host}
	res := runCLI(t, work, env, bin, dataDir, "import", "azblob://costexports/partnerlink")
	if res.ExitCode != 0 || !strings.Contains(res.Stdout, "export run partnerlink/focus-daily/20261101-20261130/run-1/manifest.json: imported 13 usage rows from 2 parts (2 new)") {
		t.Fatalf("import from Azurite: %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	res = runCLI(t, work, env, bin, dataDir, "import", "azblob://costexports/partnerlink")
	if res.ExitCode != 0 || !strings.Contains(res.Stdout, "already imported") || !strings.Contains(res.Stdout, "1 export runs found, 0 imported") {
		t.Fatalf("the same run again: %s%s", res.Stdout, res.Stderr)
	}
	// A run whose manifest lists a part that is not there fails whole and
	// names the part; the runs before it stay as they were.
	run("run-2", "2026-11-12T03:00:00Z", part{"part_0_0001.csv", focusUsage(12, "2.5"), 12}, part{"part_1_0001.csv", nil, 3})
	res = runCLI(t, work, env, bin, dataDir, "import", "azblob://costexports/partnerlink")
	if res.ExitCode == 0 || !strings.Contains(res.Stderr, "part partnerlink/focus-daily/20261101-20261130/run-2/part_1_0001.csv is missing") {
		t.Fatalf("a run with a missing part: %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	// Once the part is there, the run imports whole (nothing of the failed
	// attempt was kept) and supersedes run 1.
	upload("partnerlink/focus-daily/20261101-20261130/run-2/part_1_0001.csv", focusUsage(3, "1"))
	res = runCLI(t, work, env, bin, dataDir, "import", "azblob://costexports/partnerlink")
	if res.ExitCode != 0 || !strings.Contains(res.Stdout, "run-2/manifest.json: imported 15 usage rows from 2 parts (1 new)") {
		t.Fatalf("run 2 complete: %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	// Without credentials the source says which URL and why.
	res = runCLI(t, work, nil, bin, dataDir, "import", "azblob://costexports/partnerlink")
	if res.ExitCode == 0 || !strings.Contains(res.Stderr, "azblob://costexports/partnerlink") {
		t.Fatalf("no credentials: %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}

	// docs/scale.md: the usage store in Azure Blob Storage. A close with
	// --usage-store azblob://… lays the month out there, one Parquet object
	// per bucket, and publishes what a close on the data directory's store
	// publishes.
	if _, err := client.CreateContainer(ctx, "usagestore", nil); err != nil {
		t.Fatal(err)
	}
	res = runCLI(t, work, env, bin, dataDir, "--usage-store", "azblob://usagestore/pl", "--usage-buckets", "4", "close", "--month", "2026-11", "--early")
	if res.ExitCode != 0 || !strings.Contains(res.Stdout, "Published version 1 of 2026-11") {
		t.Fatalf("close on the Azurite store: %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	var objects []string
	pager := client.NewListBlobsFlatPager("usagestore", nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page.Segment.BlobItems {
			objects = append(objects, *b.Name)
		}
	}
	if len(objects) == 0 || !strings.HasPrefix(objects[0], "pl/focus/buckets=4/month=2026-11/bucket=") || !strings.HasSuffix(objects[0], ".parquet") {
		t.Fatalf("the store's objects in Azurite: %v", objects)
	}
	res = runCLI(t, work, env, bin, dataDir, "--usage-buckets", "4", "close", "--month", "2026-11", "--early")
	if res.ExitCode != 0 || !strings.Contains(res.Stdout, "Nothing changed in 2026-11 since version 1") {
		t.Fatalf("close on the data directory's store after the Azurite one: %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	res = runCLI(t, work, env, bin, dataDir, "runs", "list")
	if res.ExitCode != 0 || !strings.Contains(res.Stdout, "done") {
		t.Fatalf("runs list: %s%s", res.Stdout, res.Stderr)
	}
}

func runCLI(t *testing.T, dir string, env []string, bin, dataDir string, args ...string) cmdResult {
	t.Helper()
	return run(t, dir, env, 2*time.Minute, bin, append([]string{"--data-dir", dataDir}, args...)...)
}
