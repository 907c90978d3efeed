package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/api"
	"github.com/partnerlink/partnerlink/identity"
	"github.com/partnerlink/partnerlink/report"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics counts requests and their latency per area of the API. Areas, not
// paths, are the labels: paths carry ids and would grow without bound.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partnerlink_http_requests_total", Help: "HTTP requests by API area, method and status code.",
		}, []string{"area", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "partnerlink_http_request_duration_seconds", Help: "HTTP request latency by API area.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"area"}),
	}
	m.registry.MustRegister(m.requests, m.duration, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// usageSources publishes the counts of export runs imported from the usage
// sources and of polls that failed (docs/usage-sources.md).
func (m *metrics) usageSources(runs, failures *atomic.Int64) {
	m.registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "partnerlink_usage_export_runs_imported_total",
			Help: "Export runs imported from the usage sources since the server started."},
			func() float64 { return float64(runs.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "partnerlink_usage_source_failures_total",
			Help: "Reads of a usage source that failed (unreachable, refused, or a run that could not be imported)."},
			func() float64 { return float64(failures.Load()) }))
}

// reportCache publishes how many report reads the shared contents answered
// and how many parsed a version (docs/operations.md, "Report cache").
func (m *metrics) reportCache(c *report.Cache) {
	m.registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "partnerlink_report_cache_hits_total",
			Help: "Report reads answered from the months' contents kept parsed."},
			func() float64 { h, _ := c.Stats(); return float64(h) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "partnerlink_report_cache_misses_total",
			Help: "Report reads that read and parsed a version's content from the store."},
			func() float64 { _, mi := c.Stats(); return float64(mi) }))
}

// signIns publishes the token service's counts of failed and throttled
// sign-in attempts (docs/operations.md, "Sign-in throttling").
func (m *metrics) signIns(svc *identity.Service) {
	for _, kind := range []string{identity.SignInPassword, identity.SignInClientSecret} {
		labels := prometheus.Labels{"kind": kind}
		m.registry.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "partnerlink_signin_failures_total", ConstLabels: labels,
				Help: "Sign-in attempts refused for a wrong password or client secret, by kind."},
				func() float64 { f, _ := svc.SignInCounts(kind); return float64(f) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "partnerlink_signin_throttled_total", ConstLabels: labels,
				Help: "Sign-in attempts refused unchecked after too many failures (of the account or from the address), by kind."},
				func() float64 { _, th := svc.SignInCounts(kind); return float64(th) }))
	}
}

// area names the part of the API a path belongs to.
func area(path string) string {
	p := strings.ToLower(path)
	switch {
	case strings.Contains(p, "/providers/microsoft.managementpartner/"):
		return "managementpartner"
	case strings.Contains(p, "/providers/microsoft.authorization/"):
		return "authorization"
	case strings.HasPrefix(p, "/subscriptions") || strings.HasPrefix(p, "/tenants") || strings.HasPrefix(p, "/providers/"):
		return "resources"
	case strings.HasPrefix(p, "/api/"):
		return "api"
	case strings.HasPrefix(p, "/metrics") || strings.HasPrefix(p, "/healthz"):
		return "operations"
	}
	return "identity"
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// instrument wraps a handler with the request metrics.
func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		a := area(r.URL.Path)
		m.requests.WithLabelValues(a, r.Method, strconv.Itoa(sw.status)).Inc()
		m.duration.WithLabelValues(a).Observe(time.Since(start).Seconds())
	})
}

// handler serves /metrics to holders of the admin key only.
func (m *metrics) handler(adminKeyHash [32]byte) http.Handler {
	h := promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !api.AdminKeyMatches(adminKeyHash, r.Header.Get("Authorization")) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="partnerlink metrics"`)
			web.Error(w, r, nil, partnerlink.ARMErrorf(partnerlink.EUNAUTHORIZED, "AuthenticationFailed",
				"/metrics needs 'Authorization: Bearer <admin key>' (the key is in DATA_DIR/admin-key)."))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// partitionRuns publishes the progress of the partitioned runs under way
// (docs/scale.md), read from the store at each scrape: with several
// workers, the store is where progress is.
type partitionRuns struct {
	db interface {
		PartitionRuns(ctx context.Context, n int) ([]partnerlink.PartitionRun, error)
		PartitionRun(ctx context.Context, id int64) (*partnerlink.PartitionRun, error)
	}
	running, partitions, rows, last *prometheus.Desc
}

func newPartitionRuns(db *sqlstore.DB) *partitionRuns {
	return &partitionRuns{db: db,
		running:    prometheus.NewDesc("partnerlink_partitioned_runs_running", "Partitioned runs (closes) under way.", nil, nil),
		partitions: prometheus.NewDesc("partnerlink_partitions", "Partitions of the runs under way, by state (queued, running, done).", []string{"state"}, nil),
		rows:       prometheus.NewDesc("partnerlink_partition_rows_done", "Usage rows of the runs under way in the partitions done.", nil, nil),
		last:       prometheus.NewDesc("partnerlink_partitioned_run_last_seconds", "How long the last finished partitioned run took, by its state (done, failed).", []string{"state"}, nil),
	}
}

func (c *partitionRuns) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.running
	ch <- c.partitions
	ch <- c.rows
	ch <- c.last
}

func (c *partitionRuns) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	runs, err := c.db.PartitionRuns(ctx, 50)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.running, err)
		return
	}
	states := map[string]int{partnerlink.PartitionQueued: 0, partnerlink.PartitionRunning: 0, partnerlink.PartitionDone: 0}
	running, rows, lastSeen := 0, int64(0), false
	for _, r := range runs {
		if r.State != partnerlink.RunRunning {
			if !lastSeen && !r.FinishedAt.IsZero() {
				lastSeen = true
				ch <- prometheus.MustNewConstMetric(c.last, prometheus.GaugeValue, r.FinishedAt.Sub(r.CreatedAt).Seconds(), r.State)
			}
			continue
		}
		running++
		full, err := c.db.PartitionRun(ctx, r.ID)
		if err != nil {
			continue
		}
		for _, p := range full.Partitions {
			states[p.State]++
			if p.State == partnerlink.PartitionDone {
				rows += p.Rows
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(c.running, prometheus.GaugeValue, float64(running))
	for s, n := range states {
		ch <- prometheus.MustNewConstMetric(c.partitions, prometheus.GaugeValue, float64(n), s)
	}
	ch <- prometheus.MustNewConstMetric(c.rows, prometheus.GaugeValue, float64(rows))
}
