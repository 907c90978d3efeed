package loadtest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// The benchmarks run on SQLite, and also on PostgreSQL when
// PARTNERLINK_BENCH_POSTGRES (or PARTNERLINK_TEST_POSTGRES) names a server
// where they may create a database:
//
//	go test -run '^$' -bench . ./loadtest/
//	PARTNERLINK_BENCH_POSTGRES=postgres://postgres@127.0.0.1:54329/postgres?sslmode=disable go test -run '^$' -bench . ./loadtest/
//
// Each benchmark iteration is one request; 64 clients share the b.N requests.
// Besides ns/op (wall time per request, all clients together) they report
// req/s, p50-ms and p99-ms.

const benchConcurrency = 64

var (
	envMu sync.Mutex
	envs  = map[string]*Env{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, e := range envs {
		e.Close()
	}
	os.Exit(code)
}

func backends() map[string]string {
	b := map[string]string{"sqlite": ""}
	for _, v := range []string{"PARTNERLINK_BENCH_POSTGRES", "PARTNERLINK_TEST_POSTGRES"} {
		if dsn := os.Getenv(v); dsn != "" {
			b["postgres"] = dsn
			break
		}
	}
	return b
}

// env starts one server per backend, shared by the benchmarks.
func env(b *testing.B, name, dsn string) *Env {
	envMu.Lock()
	defer envMu.Unlock()
	if e := envs[name]; e != nil {
		return e
	}
	e, err := Start(context.Background(), Config{DSN: dsn, Tenants: 50, Principals: 1000})
	if err != nil {
		b.Fatal(err)
	}
	envs[name] = e
	return e
}

func benchPhase(b *testing.B, phase Phase) {
	for _, name := range []string{"sqlite", "postgres"} {
		dsn, ok := backends()[name]
		if !ok {
			continue
		}
		for _, proto := range []Protocol{HTTP1, HTTP2} {
			b.Run(fmt.Sprintf("%s/%s", name, map[Protocol]string{HTTP1: "http1", HTTP2: "http2"}[proto]), func(b *testing.B) {
				e := env(b, name, dsn)
				b.ResetTimer()
				r, err := e.Run(context.Background(), Run{Phase: phase, Requests: b.N, Concurrency: benchConcurrency, Protocol: proto})
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				if r.Errors > 0 {
					b.Fatalf("%d of %d requests failed; first: %s", r.Errors, r.Count, r.FirstError)
				}
				b.ReportMetric(r.PerSecond(), "req/s")
				b.ReportMetric(float64(r.P50)/float64(time.Millisecond), "p50-ms")
				b.ReportMetric(float64(r.P99)/float64(time.Millisecond), "p99-ms")
			})
		}
	}
}

// BenchmarkLinkPut: each request changes the caller's link (close a
// period, open one, record an event, queue a notification).
func BenchmarkLinkPut(b *testing.B) { benchPhase(b, Write) }

// BenchmarkLinkGet: each request reads the caller's link.
func BenchmarkLinkGet(b *testing.B) { benchPhase(b, Read) }

// TestRun runs both phases briefly on SQLite: every response must be 200 with
// the expected partner ID, and every write must flip the principal's link.
func TestRun(t *testing.T) {
	ctx := context.Background()
	e, err := Start(ctx, Config{Tenants: 3, Principals: 12})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, proto := range []Protocol{HTTP1, HTTP2} {
		for _, phase := range []Phase{Write, Read} {
			r, err := e.Run(ctx, Run{Phase: phase, Requests: 48, Concurrency: 4, Protocol: proto})
			if err != nil {
				t.Fatal(err)
			}
			if r.Count != 48 || r.Errors != 0 {
				t.Fatalf("%s %s: %d requests, %d errors (%s)", phase, proto, r.Count, r.Errors, r.FirstError)
			}
			if r.P50 <= 0 || r.P99 < r.P50 || r.Max < r.P99 {
				t.Errorf("%s %s: percentiles p50 %v p99 %v max %v", phase, proto, r.P50, r.P99, r.Max)
			}
		}
	}
	// Every write changed a link: the versions count 1 (the seed) plus the
	// principal's writes, and the store agrees with what the clients saw.
	changes := 0
	for i, p := range e.Principals {
		l, err := e.Server.DB.CurrentLink(ctx, p.TenantID, p.ObjectID)
		if err != nil || l.PartnerID != e.current[i] {
			t.Fatalf("principal %d: link %+v, %v; want %s", i, l, err, e.current[i])
		}
		changes += l.Version - 1
	}
	if changes != 2*48 {
		t.Errorf("%d link changes recorded, want %d", changes, 2*48)
	}
}

// TestRunOpenLoop: with a Rate, requests go out on schedule, not faster
// (40 requests at 400/s take at least 97.5 ms: the last is due at 39/400 s),
// and every one is answered and checked as in a closed loop.
func TestRunOpenLoop(t *testing.T) {
	ctx := context.Background()
	e, err := Start(ctx, Config{Tenants: 2, Principals: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, phase := range []Phase{Write, Read} {
		r, err := e.Run(ctx, Run{Phase: phase, Requests: 40, Rate: 400, Concurrency: 4})
		if err != nil {
			t.Fatal(err)
		}
		if r.Count != 40 || r.Errors != 0 {
			t.Fatalf("%s: %d requests, %d errors (%s)", phase, r.Count, r.Errors, r.FirstError)
		}
		if min := 39 * time.Second / 400; r.Elapsed < min {
			t.Errorf("%s: 40 requests at 400/s took %v, less than the schedule's %v", phase, r.Elapsed, min)
		}
		if r.P50 <= 0 || r.P99 < r.P50 {
			t.Errorf("%s: percentiles p50 %v p99 %v", phase, r.P50, r.P99)
		}
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for _, tt := range []struct{ p, want int }{{50, 50}, {90, 90}, {99, 99}, {100, 100}, {1, 1}} {
		if got := percentile(d, tt.p); got != time.Duration(tt.want) {
			t.Errorf("p%d = %v, want %v", tt.p, got, tt.want)
		}
	}
	if percentile(nil, 99) != 0 {
		t.Error("empty")
	}
}
