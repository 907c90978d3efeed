package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/demo"
	"github.com/partnerlink/partnerlink/identity"
	"github.com/partnerlink/partnerlink/server"
	"github.com/partnerlink/partnerlink/usage"
	"github.com/partnerlink/partnerlink/world"
)

// docs/operations.md, "Report cache": the report requests share the
// month's parsed content; /metrics counts the reads it answered and those
// that parsed a version. With --report-cache below zero every request
// parses the month, with the same bytes.
func TestReportCache(t *testing.T) {
	var bodies []string
	for _, size := range []int{0, -1} { // 0: the default
		srv, tlsCfg := closedDemoMonth(t, server.Config{CloseEvery: -1, ReportCache: size})
		get := adminGetter(t, srv, tlsCfg)
		for range 3 {
			code, body := get("/api/v1/admin/reports/2026-10/program?format=csv")
			if code != 200 || !strings.HasPrefix(body, "Month,GlobalPartnerId,") {
				t.Fatalf("program report (cache %d): %d %.200s", size, code, body)
			}
			bodies = append(bodies, body)
		}
		_, metrics := get("/metrics")
		want := []string{"partnerlink_report_cache_hits_total 2", "partnerlink_report_cache_misses_total 1"}
		if size < 0 {
			want = []string{"partnerlink_report_cache_hits_total 0", "partnerlink_report_cache_misses_total 0"}
		}
		for _, w := range want {
			if !strings.Contains(metrics, w) {
				t.Errorf("cache %d: /metrics lacks %q", size, w)
			}
		}
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Fatal("the program report's bytes differ between reads")
		}
	}
}

// closedDemoMonth starts a server on cfg holding the demo world, with
// October 2026's demo usage imported and closed.
func closedDemoMonth(t *testing.T, cfg server.Config) (*server.Server, *tls.Config) {
	t.Helper()
	srv, tlsCfg := startServer(t, cfg)
	ctx := context.Background()
	doc := demo.World(demo.NewCredentials())
	world.Normalize(doc)
	if err := srv.DB.ImportWorld(ctx, doc, identity.HashSecret); err != nil {
		t.Fatal(err)
	}
	month := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	if _, err := usage.Import(ctx, srv.DB, srv.DataDir(), usage.FOCUS, "u.csv", bytes.NewReader(demo.UsageCSV(month)), time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Reports().Close(ctx, partnerlink.MonthOf(month), true); err != nil {
		t.Fatal(err)
	}
	return srv, tlsCfg
}

// adminGetter returns a function that GETs a path with srv's admin key.
func adminGetter(t *testing.T, srv *server.Server, tlsCfg *tls.Config) func(path string) (int, string) {
	key, _ := os.ReadFile(server.AdminKeyFile(srv.DataDir()))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	return func(path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(key)))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
}
