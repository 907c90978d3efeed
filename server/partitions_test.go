package server_test

import (
	"bytes"
	"context"
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

// docs/scale.md: a close runs as a partitioned run that /metrics reports.
func TestPartitionedRunMetrics(t *testing.T) {
	srv, tlsCfg := startServer(t, server.Config{CloseEvery: -1, UsageBuckets: 4})
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
	runs, err := srv.DB.PartitionRuns(ctx, 1)
	if err != nil || len(runs) != 1 || runs[0].State != partnerlink.RunDone || runs[0].Buckets != 4 || runs[0].Rows == 0 {
		t.Fatalf("the close's run: %+v %v", runs, err)
	}
	_, b := adminGetter(t, srv, tlsCfg)("/metrics")
	for _, want := range []string{"partnerlink_partitioned_runs_running 0", `partnerlink_partitioned_run_last_seconds{state="done"}`,
		`partnerlink_partitions{state="running"} 0`} {
		if !strings.Contains(b, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
