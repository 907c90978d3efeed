package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// docs/rules.md#monthly-close: a close killed (SIGKILL) at any moment
// leaves either no version or the complete one, and running it again
// finishes the job with the same content as a close never interrupted.
func TestCloseSurvivesKill(t *testing.T) {
	bin := partnerlinkBinary(t)
	work := t.TempDir()
	world, err := filepath.Abs(filepath.Join("..", "cmd", "partnerlink", "testdata", "azure-basic", "world.json"))
	if err != nil {
		t.Fatal(err)
	}
	usage := filepath.Join(work, "usage.csv")
	writeUsage(t, usage, 300_000)
	newDir := func(name string) string {
		d := filepath.Join(work, name)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		res := run(t, work, nil, 2*time.Minute, bin, "--data-dir", d, "import", world, usage)
		if res.ExitCode != 0 {
			t.Fatalf("import: %s%s", res.Stdout, res.Stderr)
		}
		return d
	}
	versions := func(d string) string {
		res := run(t, work, nil, time.Minute, bin, "--data-dir", d, "report", "versions", "--month", "2026-03")
		if res.ExitCode != 0 {
			if strings.Contains(res.Stderr, "month 2026-03 is not closed") {
				return ""
			}
			t.Fatalf("report versions: %s%s", res.Stdout, res.Stderr)
		}
		var hashes []string
		for _, line := range strings.Split(strings.TrimSpace(res.Stdout), "\n")[1:] {
			hashes = append(hashes, strings.Fields(line)[1]+" "+strings.Fields(line)[3])
		}
		return strings.Join(hashes, ",")
	}

	ref := newDir("reference")
	if res := run(t, work, nil, 2*time.Minute, bin, "--data-dir", ref, "close", "--month", "2026-03", "--early"); res.ExitCode != 0 {
		t.Fatalf("reference close: %s%s", res.Stdout, res.Stderr)
	}
	want := versions(ref)
	if !strings.HasPrefix(want, "1 ") {
		t.Fatalf("reference versions: %q", want)
	}

	d := newDir("killed")
	// A close of these rows takes about 0.1 s (most of it reading usage,
	// the write at its end): the kills fall before, inside and after it.
	for _, after := range []time.Duration{2, 10, 20, 35, 50, 65, 80, 100, 150} {
		after *= time.Millisecond
		cmd := exec.Command(bin, "--data-dir", d, "close", "--month", "2026-03", "--early")
		cmd.Env = baseEnv()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(after)
		cmd.Process.Kill()
		cmd.Wait()
		got := versions(d)
		if got != "" && got != want {
			t.Fatalf("after a kill at %s the versions are %q; want none or %q", after, got, want)
		}
		t.Logf("killed after %s: version published: %v", after, got != "")
	}
	res := run(t, work, nil, 2*time.Minute, bin, "--data-dir", d, "close", "--month", "2026-03", "--early")
	if res.ExitCode != 0 || !(strings.Contains(res.Stdout, "Published version 1") || strings.Contains(res.Stdout, "Nothing changed in 2026-03 since version 1")) {
		t.Fatalf("close after the kills: %s%s", res.Stdout, res.Stderr)
	}
	if got := versions(d); got != want {
		t.Errorf("versions after the kills and a close: %q; want %q", got, want)
	}
}

// writeUsage writes n usage rows of the azure-basic world's resources over
// March 2026.
func writeUsage(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	const sub = "9d8c7b6a-5f4e-4d3c-8b2a-190807060504"
	fmt.Fprintln(w, "ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost")
	for i := 0; i < n; i++ {
		day := time.Date(2026, 3, 1+i%31, 0, 0, 0, 0, time.UTC)
		res := fmt.Sprintf("/subscriptions/%s/resourceGroups/web/providers/Microsoft.Web/sites/site%d", sub, i%500)
		fmt.Fprintf(w, "%s,%s,Usage,%s,/subscriptions/%s,Azure App Service,EUR,0.%04d,0.%04d\n",
			day.Format(time.RFC3339), day.AddDate(0, 0, 1).Format(time.RFC3339), res, sub, i%10000, i%10000)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
