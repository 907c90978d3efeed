package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/demo"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/world"
)

// docs/scale.md: a close on PostgreSQL runs its partitions on two
// partnerlink worker processes; one is killed (SIGKILL) in the middle of a
// partition, the partition is given to the other, and the version
// published is byte for byte the one a close on SQLite in one process
// publishes.
func TestWorkersSurviveKill(t *testing.T) {
	bin := partnerlinkBinary(t)
	dsn := postgresDSN(t)
	work := t.TempDir()
	worldPath, usagePath := filepath.Join(work, "world.json"), filepath.Join(work, "usage.csv")
	writeScaleWorld(t, worldPath, usagePath, 600_000)

	// Every process of the deployment shares the partition timeout; a
	// short one makes River give a dead worker's job away within seconds.
	env := []string{"PARTNERLINK_PARTITION_TIMEOUT=4s"}
	const buckets = "2"
	ref := filepath.Join(work, "sqlite")
	mustRun(t, work, env, 3*time.Minute, bin, "--data-dir", ref, "--usage-buckets", buckets, "import", worldPath, usagePath)
	mustRun(t, work, env, 3*time.Minute, bin, "--data-dir", ref, "--usage-buckets", buckets, "close", "--month", "2026-11", "--early")
	want := versionHash(t, work, env, bin, "--data-dir", ref)

	pg := filepath.Join(work, "postgres")
	mustRun(t, work, env, 3*time.Minute, bin, "--data-dir", pg, "--db", dsn, "--usage-buckets", buckets, "import", worldPath, usagePath)
	start := func(name string) *exec.Cmd {
		cmd := exec.Command(bin, "--data-dir", pg, "--db", dsn, "worker", "--name", name, "--concurrency", "1")
		cmd.Env = append(baseEnv(), env...)
		log, err := os.Create(filepath.Join(work, name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			log.Close()
			if t.Failed() {
				b, _ := os.ReadFile(log.Name())
				t.Logf("%s:\n%s", name, b)
			}
		})
		return cmd
	}
	a, _ := start("worker-a"), start("worker-b")
	closeCmd := exec.Command(bin, "--data-dir", pg, "--db", dsn, "--usage-buckets", buckets, "close", "--month", "2026-11", "--early", "--work=false")
	closeCmd.Env = append(baseEnv(), env...)
	var closeOut strings.Builder
	closeCmd.Stdout, closeCmd.Stderr = &closeOut, &closeOut
	if err := closeCmd.Start(); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- closeCmd.Wait() }()

	// Kill worker a as soon as it is inside a partition.
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	killed := -1
	deadline := time.Now().Add(2 * time.Minute)
	for killed < 0 && time.Now().Before(deadline) {
		if runs, err := db.PartitionRuns(ctx, 1); err == nil && len(runs) == 1 {
			if r, err := db.PartitionRun(ctx, runs[0].ID); err == nil {
				for _, p := range r.Partitions {
					if p.State == partnerlink.PartitionRunning && p.Worker == "worker-a" {
						a.Process.Kill()
						killed = p.Bucket
						break
					}
				}
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	if killed < 0 {
		t.Fatal("worker a never started a partition")
	}
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("close: %v\n%s", err, closeOut.String())
		}
	case <-time.After(3 * time.Minute):
		closeCmd.Process.Kill()
		t.Fatalf("the close did not finish after worker a was killed:\n%s", closeOut.String())
	}
	runs, err := db.PartitionRuns(ctx, 1)
	if err != nil || len(runs) != 1 {
		t.Fatal(runs, err)
	}
	r, err := db.PartitionRun(ctx, runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	p := r.Partitions[killed]
	if r.State != partnerlink.RunDone || p.State != partnerlink.PartitionDone || p.Attempts < 2 || p.Worker != "worker-b" {
		t.Errorf("the killed partition %d: %+v (run %+v); want it done by worker b on a later attempt", killed, p, r)
	}
	if got := versionHash(t, work, env, bin, "--data-dir", pg, "--db", dsn); got != want {
		t.Errorf("version 1 on two workers with one killed: sha256 %s; on SQLite in one process: %s", got, want)
	}
	show := mustRun(t, work, env, time.Minute, bin, "--data-dir", pg, "--db", dsn, "runs", "show", fmt.Sprint(r.ID))
	if !strings.Contains(show.Stdout, "2 of 2 partitions done") || !strings.Contains(show.Stdout, "worker-b") {
		t.Errorf("runs show: %s", show.Stdout)
	}
}

// versionHash is the content hash of version 1 of 2026-11.
func versionHash(t *testing.T, dir string, env []string, bin string, args ...string) string {
	t.Helper()
	res := mustRun(t, dir, env, time.Minute, bin, append(args, "report", "versions", "--month", "2026-11")...)
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	if len(lines) < 2 {
		t.Fatalf("report versions: %s", res.Stdout)
	}
	return strings.Fields(lines[1])[3]
}

// writeScaleWorld writes the demo world with 40 more subscriptions in
// Fabrikam (under a management group its administrator, linked from the
// 10th, holds Owner on) and n usage rows over them in November 2026, with
// resource ids in varying spellings.
func writeScaleWorld(t *testing.T, worldPath, usagePath string, n int) {
	t.Helper()
	doc := demo.World(demo.NewCredentials())
	mg := "fabrikam-prod"
	subs := []string{demo.FabrikamSub, demo.WoodgroveSub}
	for i := range 40 {
		id := fmt.Sprintf("f1f1f1f1-0000-4000-8000-%012d", i)
		doc.Subscriptions = append(doc.Subscriptions, world.Subscription{SubscriptionID: id, TenantID: demo.FabrikamTenant,
			Name: fmt.Sprintf("extra-%d", i), ManagementGroup: &mg})
		subs = append(subs, id)
	}
	from := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	doc.Links = append(doc.Links, world.Link{TenantID: demo.FabrikamTenant, ObjectID: demo.BobID, PartnerID: demo.NorwayPartnerID, From: &from})
	world.Normalize(doc)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(worldPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(usagePath)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	rng := rand.New(rand.NewPCG(3, 5))
	fmt.Fprintln(w, "ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost")
	for range n {
		sub := subs[rng.IntN(len(subs))]
		day := time.Date(2026, 11, 1+rng.IntN(30), 0, 0, 0, 0, time.UTC)
		res := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Web/sites/site%d", sub, []string{"web", "payments", "data"}[rng.IntN(3)], rng.IntN(50))
		if rng.IntN(5) == 0 {
			res = strings.ToUpper(res)
		}
		fmt.Fprintf(w, "%s,%s,Usage,%s,/subscriptions/%s,Svc%d,EUR,%d.%04d,%d.%04d\n", day.Format(time.RFC3339), day.AddDate(0, 0, 1).Format(time.RFC3339),
			res, sub, rng.IntN(4), rng.IntN(9), rng.IntN(10000), rng.IntN(9), rng.IntN(10000))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
