package attribution

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
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

// docs/performance.md, "Memory as rows grow": a run read in parts
// (Options.Part), one bucket of subscriptions each, credits what one run
// over all the rows credits: merged as results (Merge) or as the parts'
// CSV (MergeCSV), byte for byte, with the same summary.
func TestPartsMakeTheWholeRun(t *testing.T) {
	multi := 0
	for seed := uint64(1); seed <= 40; seed++ {
		rng := rand.New(rand.NewPCG(seed, 11))
		doc := randomWorld(rng)
		usage := usageHeader + randomUsage(rng, doc)
		ix, err := NewIndex(doc)
		if err != nil {
			t.Fatal(err)
		}
		opt := Options{From: *at("2026-03-01"), To: *at("2026-04-01"), Workers: 1 + int(seed%2), chunkSize: 300}
		whole, err := NewRun(ix, opt)
		if err != nil {
			t.Fatal(err)
		}
		if err := whole.Scan(strings.NewReader(usage), "u.csv"); err != nil {
			t.Fatal(err)
		}
		want := csvOf(t, whole.Result())
		var wantSum strings.Builder
		whole.Result().Summary.WriteText(&wantSum)
		for _, of := range []int{2, 3, 5} {
			var results []*Result
			var texts []io.Reader
			nonEmpty := 0
			for i := range of {
				o := opt
				o.Part = Part{Index: i, Of: of, CheckAll: seed%2 == 0 && i == 0}
				r, err := NewRun(ix, o)
				if err != nil {
					t.Fatal(err)
				}
				if err := r.Scan(strings.NewReader(usage), "u.csv"); err != nil {
					t.Fatal(err)
				}
				res := r.Result()
				if res.Len() > 0 {
					nonEmpty++
				}
				results = append(results, res)
				texts = append(texts, strings.NewReader(csvOf(t, res)))
			}
			if nonEmpty > 1 {
				multi++
			}
			merged := Merge(results)
			var gotSum strings.Builder
			merged.Summary.WriteText(&gotSum)
			if got := csvOf(t, merged); got != want || gotSum.String() != wantSum.String() {
				t.Fatalf("seed %d, %d parts merged:\n%s%s\nwhole run:\n%s%s", seed, of, got, gotSum.String(), want, wantSum.String())
			}
			var b strings.Builder
			if err := MergeCSV(&b, texts); err != nil || b.String() != want {
				t.Fatalf("seed %d, %d parts' CSV merged (%v):\n%s\nwhole run:\n%s", seed, of, err, b.String(), want)
			}
		}
	}
	if multi < 20 {
		t.Errorf("only %d of 120 cuts credited in more than one part", multi)
	}
}

// MergeCSV copies lines with quoted fields (a newline in one) as they are
// and refuses parts that credit the same key.
func TestMergeCSVQuotedAndShared(t *testing.T) {
	a := CSVHeader + "\n" + `1000000,t1,s1,"/subscriptions/s1/r,1",USD,1,1,1` + "\n" + `2000000,t1,s1,"/subscriptions/s1/a""b` + "\nc\",EUR,2,0,3\n"
	b := CSVHeader + "\n" + `1000000,t1,s1,/subscriptions/s1/r,USD,5,5,1` + "\n" + `3000000,t2,s2,/x,USD,1,1,1` + "\n"
	var out strings.Builder
	if err := MergeCSV(&out, []io.Reader{strings.NewReader(b), strings.NewReader(a)}); err != nil {
		t.Fatal(err)
	}
	want := CSVHeader + "\n" + `1000000,t1,s1,/subscriptions/s1/r,USD,5,5,1` + "\n" + `1000000,t1,s1,"/subscriptions/s1/r,1",USD,1,1,1` + "\n" +
		`2000000,t1,s1,"/subscriptions/s1/a""b` + "\nc\",EUR,2,0,3\n" + `3000000,t2,s2,/x,USD,1,1,1` + "\n"
	if out.String() != want {
		t.Errorf("merged:\n%s\nwant:\n%s", out.String(), want)
	}
	err := MergeCSV(io.Discard, []io.Reader{strings.NewReader(b), strings.NewReader(b)})
	if err == nil || !strings.Contains(err.Error(), "both credit") {
		t.Errorf("parts sharing a key: %v", err)
	}
	if err := MergeCSV(io.Discard, []io.Reader{strings.NewReader("a,b\n")}); err == nil {
		t.Error("a part without the header was merged")
	}
	if _, err := NewRun(&Index{}, Options{From: *at("2026-03-01"), To: *at("2026-04-01"), Part: Part{Index: 3, Of: 3}}); err == nil {
		t.Error("part 3 of 3 was accepted")
	}
}
