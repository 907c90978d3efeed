package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/server"
)

// docs/scale.md: a close runs as a partitioned run that /metrics reports.
func TestPartitionedRunMetrics(t *testing.T) {
	srv, tlsCfg := closedDemoMonth(t, server.Config{CloseEvery: -1, UsageBuckets: 4})
	ctx := context.Background()
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
