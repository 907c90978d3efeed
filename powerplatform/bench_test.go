package powerplatform_test

import (
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"

	pp "github.com/partnerlink/partnerlink/powerplatform"
)

// activityGenerator streams n synthetic activity rows (docs/api.md#activity-csv) without holding
// them: resources and users are drawn from fixed populations over three
// months, nine rows in ten are Use. The same seed gives the same rows.
type activityGenerator struct {
	n, done    int
	resources  int
	users      int
	rng        *rand.Rand
	buf        []byte
	off        int
	headerSent bool
}

func newActivityGenerator(n, resources, users int, seed uint64) *activityGenerator {
	return &activityGenerator{n: n, resources: resources, users: users, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (g *activityGenerator) Read(p []byte) (int, error) {
	for g.off == len(g.buf) {
		if g.done == g.n && g.headerSent {
			return 0, io.EOF
		}
		g.buf, g.off = g.buf[:0], 0
		if !g.headerSent {
			g.buf = append(g.buf, "Date,TenantId,ResourceId,UserId,Activity\n"...)
			g.headerSent = true
		}
		for i := 0; i < 1024 && g.done < g.n; i++ {
			g.row()
			g.done++
		}
	}
	n := copy(p, g.buf[g.off:])
	g.off += n
	return n, nil
}

func (g *activityGenerator) row() {
	month := 1 + g.rng.IntN(3)
	d := 1 + g.rng.IntN(28)
	b := append(g.buf, "2026-0"...)
	b = append(b, byte('0'+month), '-', byte('0'+d/10), byte('0'+d%10), ',')
	b = append(b, tenant...)
	b = append(b, ",app-"...)
	b = strconv.AppendInt(b, int64(g.rng.IntN(g.resources)), 10)
	b = append(b, ',')
	b = appendUserGUID(b, uint64(g.rng.IntN(g.users)))
	if g.rng.IntN(10) == 0 {
		b = append(b, ",Edit\n"...)
	} else {
		b = append(b, ",Use\n"...)
	}
	g.buf = b
}

// appendUserGUID writes user i as the GUID 00000000-0000-4000-8000-{i as 12 hex digits}.
func appendUserGUID(b []byte, i uint64) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, "00000000-0000-4000-8000-"...)
	for s := 44; s >= 0; s -= 4 {
		b = append(b, hexd[(i>>s)&15])
	}
	return b
}

// BenchmarkMAU streams b.N generated activity rows through an Activity and
// reads back the MAU of every resource and month: one op is one row.
// It reports rows/s (generation included, so a lower bound for the reader)
// and the heap held by the Activity.
//
// At 10 million rows (about 5,000 resources, 500,000 users, 3 months):
//
//	go test -run '^$' -bench BenchmarkMAU -benchtime 10000000x ./powerplatform/
func BenchmarkMAU(b *testing.B) {
	const resources, users = 5000, 500000
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	a := pp.NewActivity()
	if err := a.ReadCSV("generated", newActivityGenerator(b.N, resources, users, 1)); err != nil {
		b.Fatal(err)
	}
	var total int64
	for r := 0; r < resources; r++ {
		id := "app-" + strconv.Itoa(r)
		for m := march - 2; m <= march; m++ {
			total += a.MAU(id, m)
		}
	}
	b.StopTimer()
	if a.Rows() != int64(b.N) || (b.N >= 1000 && total == 0) {
		b.Fatalf("rows %d of %d, MAU total %d", a.Rows(), b.N, total)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(after.HeapAlloc-min(after.HeapAlloc, before.HeapAlloc))/(1<<20), "heap-MB")
	runtime.KeepAlive(a)
}

func TestGeneratorMatchesMAU(t *testing.T) {
	// The generator's rows are valid activity, and the MAU the reader finds
	// equals the distinct users counted independently.
	const n, resources, users = 20000, 7, 300
	a := pp.NewActivity()
	if err := a.ReadCSV("generated", newActivityGenerator(n, resources, users, 7)); err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(newActivityGenerator(n, resources, users, 7))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]bool{}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")[1:]
	for _, l := range lines {
		f := strings.Split(l, ",")
		if f[4] != "Use" {
			continue
		}
		k := f[2] + " " + f[0][:7]
		if want[k] == nil {
			want[k] = map[string]bool{}
		}
		want[k][f[3]] = true
	}
	if len(lines) != n || len(want) != resources*3 {
		t.Fatalf("%d rows, %d resource-months", len(lines), len(want))
	}
	for r := 0; r < resources; r++ {
		for m := march - 2; m <= march; m++ {
			id := "app-" + strconv.Itoa(r)
			if got := a.MAU(id, m); got != int64(len(want[id+" "+m.String()])) {
				t.Fatalf("%s %s: MAU %d, want %d", id, m, got, len(want[id+" "+m.String()]))
			}
		}
	}
}
