package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
)

// docs/scale.md: the usage store's index records a split once; a
// partitioned run's partitions record their progress, keep their first
// result, and give the results back until the run ends.
func testPartitions(t *testing.T, s Store) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	im := partnerlink.UsageImport{Hash: "h1", Kind: "focus", Name: "u.csv", Path: "usage/focus/h1.csv", Rows: 3,
		Totals: map[string]string{"EUR": "3"}, Months: []string{"2026-11"}, ImportedAt: at}
	if _, err := s.RecordUsageImport(ctx, im); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.UsageParts(ctx, "file:///s", 4, "h1"); err != nil || ok {
		t.Fatalf("parts before the split: %v %v", ok, err)
	}
	parts := []partnerlink.UsagePart{{Hash: "h1", Month: "2026-11", Bucket: 1, Key: "k1", Rows: 2, Bytes: 10},
		{Hash: "h1", Month: "2026-11", Bucket: 3, Key: "k3", Rows: 1, Bytes: 9}}
	must(t, s.RecordUsageSplit(ctx, "file:///s", 4, "h1", parts, at))
	must(t, s.RecordUsageSplit(ctx, "file:///s", 4, "h1", parts[:1], at)) // again: nothing changes
	got, ok, err := s.UsageParts(ctx, "file:///s", 4, "h1")
	if err != nil || !ok || len(got) != 2 || got[1] != parts[1] {
		t.Errorf("parts: %+v %v %v", got, ok, err)
	}
	if _, ok, _ := s.UsageParts(ctx, "file:///s", 16, "h1"); ok {
		t.Error("a split with 4 buckets answered for 16")
	}

	id, err := s.CreatePartitionRun(ctx, partnerlink.PartitionRun{Kind: "close", Month: "2026-11", Buckets: 2, Store: "file:///s",
		CreatedAt: at, Rows: 3}, []byte("spec"))
	must(t, err)
	if spec, err := s.PartitionRunSpec(ctx, id); err != nil || string(spec) != "spec" {
		t.Errorf("spec: %q %v", spec, err)
	}
	must(t, s.StartPartition(ctx, id, 0, "w1", at))
	must(t, s.FinishPartition(ctx, id, 0, 2, []byte("first"), at.Add(time.Second)))
	must(t, s.StartPartition(ctx, id, 0, "w2", at.Add(2*time.Second))) // a late retry does not reopen it
	must(t, s.FinishPartition(ctx, id, 0, 2, []byte("second"), at.Add(3*time.Second)))
	must(t, s.StartPartition(ctx, id, 1, "w1", at))
	must(t, s.StartPartition(ctx, id, 1, "w2", at.Add(time.Second))) // retried after w1 died
	r, err := s.PartitionRun(ctx, id)
	must(t, err)
	if r.State != partnerlink.RunRunning || len(r.Partitions) != 2 || r.Partitions[0].State != partnerlink.PartitionDone ||
		r.Partitions[0].Worker != "w1" || r.Partitions[1].State != partnerlink.PartitionRunning || r.Partitions[1].Attempts != 2 ||
		r.Partitions[1].Worker != "w2" {
		t.Errorf("run: %+v", r)
	}
	res, err := s.PartitionResults(ctx, id)
	if err != nil || len(res) != 1 || string(res[0]) != "first" {
		t.Errorf("results: %v %v", res, err)
	}
	must(t, s.FinishPartition(ctx, id, 1, 1, []byte("b1"), at.Add(2*time.Second)))
	must(t, s.FinishPartitionRun(ctx, id, partnerlink.RunDone, "", 3, at.Add(4*time.Second)))
	runs, err := s.PartitionRuns(ctx, 10)
	if err != nil || len(runs) != 1 || runs[0].State != partnerlink.RunDone || !runs[0].FinishedAt.Equal(at.Add(4*time.Second)) {
		t.Errorf("runs: %+v %v", runs, err)
	}
	if spec, _ := s.PartitionRunSpec(ctx, id); len(spec) != 0 {
		t.Error("the spec outlived its run")
	}
	if res, _ := s.PartitionResults(ctx, id); res[0] != nil || res[1] != nil {
		t.Error("the results outlived their run")
	}
	if _, err := s.PartitionRun(ctx, id+1); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("unknown run: %v", err)
	}

	// Runs left running by a process that died: the old one is abandoned,
	// a recent one, another month's and the finished one are not.
	old, err := s.CreatePartitionRun(ctx, partnerlink.PartitionRun{Kind: "close", Month: "2026-11", Buckets: 1, Store: "s", CreatedAt: at}, []byte("x"))
	must(t, err)
	recent, err := s.CreatePartitionRun(ctx, partnerlink.PartitionRun{Kind: "close", Month: "2026-11", Buckets: 1, Store: "s", CreatedAt: at.Add(48 * time.Hour)}, []byte("x"))
	must(t, err)
	other, err := s.CreatePartitionRun(ctx, partnerlink.PartitionRun{Kind: "close", Month: "2026-10", Buckets: 1, Store: "s", CreatedAt: at}, []byte("x"))
	must(t, err)
	// The old run had a partition done before its process died.
	must(t, s.StartPartition(ctx, old, 0, "w1", at))
	must(t, s.FinishPartition(ctx, old, 0, 1, []byte("kept until the run ends"), at.Add(time.Second)))
	must(t, s.StartPartition(ctx, other, 0, "w1", at))
	must(t, s.FinishPartition(ctx, other, 0, 1, []byte("other month"), at.Add(time.Second)))
	n, err := s.AbandonPartitionRuns(ctx, "close", "2026-11", at.Add(24*time.Hour), at.Add(49*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("abandoned %d runs (%v), want 1", n, err)
	}
	for _, c := range []struct {
		id    int64
		state string
	}{{old, partnerlink.RunFailed}, {recent, partnerlink.RunRunning}, {other, partnerlink.RunRunning}, {id, partnerlink.RunDone}} {
		if r, err := s.PartitionRun(ctx, c.id); err != nil || r.State != c.state {
			t.Errorf("run %d: %+v %v; want %s", c.id, r, err, c.state)
		}
	}
	if r, _ := s.PartitionRun(ctx, old); !strings.Contains(r.Error, "abandoned") {
		t.Errorf("the abandoned run's error: %q", r.Error)
	}
	if res, _ := s.PartitionResults(ctx, old); len(res) != 1 || res[0] != nil {
		t.Errorf("the abandoned run's results outlived it: %v", res)
	}
	if res, _ := s.PartitionResults(ctx, other); len(res) != 1 || string(res[0]) != "other month" {
		t.Errorf("another run's results: %v", res)
	}
}
