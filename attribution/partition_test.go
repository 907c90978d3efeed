package attribution

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/partnerlink/partnerlink/focus"
)

// docs/scale.md: the bucket of a subscription is part of the usage store's
// layout, so it never changes between versions or machines.
func TestBucketOfIsStable(t *testing.T) {
	for sub, want := range map[string][2]int{ // buckets 16, 256
		"f0f0f0f0-0000-4000-8000-000000000001": {2, 242},
		"9d8c7b6a-5f4e-4d3c-8b2a-190807060504": {9, 9},
	} {
		g, ok := focus.ParseGUID(sub)
		if !ok {
			t.Fatal(sub)
		}
		if got := [2]int{BucketOf(g, 16), BucketOf(g, 256)}; got != want {
			t.Errorf("BucketOf(%s) = %v, want %v", sub, got, want)
		}
	}
	if BucketOf(focus.GUID{}, 1) != 0 || BucketOf(focus.GUID{}, 0) != 0 {
		t.Error("one bucket holds everything")
	}
}

// Run.ScanAs: files of different subscriptions read at once, one per
// worker, give what one pass over them in their numbered order gives,
// including a resource's first spelling (docs/rules.md#azure-attribution)
// within the files of one worker.
func TestScanAsReadsFilesAtOnce(t *testing.T) {
	ix := newWorld().link(tC, uA, pA, "", "").assign(tC, uA, "Contributor", "/subscriptions/"+S1, "", "").
		link(tC2, mU, pB, "", "").assign(tC2, mU, "Reader", "/subscriptions/"+S3, "", "").index(t)
	files := []string{
		usageHeader + day("2026-03-02", strings.ToUpper(app), "1.5") + day("2026-03-02", db, "2"),
		usageHeader + day("2026-03-03", app, "0.25") + dayIn("2026-03-03", db, "7", "EUR", "Purchase"),
		usageHeader + day("2026-03-02", vm3, "3") + day("2026-03-04", vm3, "0.125") + day("2026-04-01", vm3, "9"),
	}
	opt := Options{From: *at("2026-03-01"), To: *at("2026-04-01"), Workers: 2}
	one, err := NewRun(ix, Options{From: opt.From, To: opt.To})
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		if err := one.Scan(strings.NewReader(f), fmt.Sprintf("f%d.csv", i)); err != nil {
			t.Fatal(err)
		}
	}
	want := csvOf(t, one.Result())

	for range 20 { // the workers' interleaving varies
		r, err := NewRun(ix, opt)
		if err != nil {
			t.Fatal(err)
		}
		var rows [2]int64
		var wg sync.WaitGroup
		for w, fs := range [][]int{{0, 1}, {2}} { // worker 0 reads S1's files, worker 1 S3's
			wg.Go(func() {
				for _, i := range fs {
					n, err := r.ScanAs(w, int64(i), strings.NewReader(files[i]), fmt.Sprintf("f%d.csv", i))
					if err != nil {
						t.Error(err)
					}
					rows[w] += n
				}
			})
		}
		wg.Wait()
		res := r.Result()
		if got := csvOf(t, res); got != want || rows != [2]int64{4, 3} || res.Summary.Read.Rows != 7 {
			t.Fatalf("files read at once:\n%s\nrows %v (want 4, 3); one pass:\n%s", got, rows, want)
		}
		if _, err := r.ScanAs(0, 3, strings.NewReader(files[0]), "late.csv"); !errors.Is(err, errResultTaken) {
			t.Errorf("ScanAs after the result: %v", err)
		}
	}
	r, _ := NewRun(ix, opt)
	if _, err := r.ScanAs(2, 0, strings.NewReader(files[0]), "f.csv"); err == nil {
		t.Error("ScanAs accepted worker 2 of 2")
	}
}

func csvOf(t *testing.T, res *Result) string {
	t.Helper()
	var b strings.Builder
	if err := res.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
