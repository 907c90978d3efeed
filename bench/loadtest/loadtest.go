// Package loadtest measures the link API end to end: a real server in
// process (HTTPS with its own CA, JWT validation, SQLite or PostgreSQL), a
// generated world of tenants and service principals, one real access token
// per principal from the server's token endpoint, and a fixed number of
// concurrent keep-alive clients that PUT and GET links for a fixed time or
// a fixed number of requests. It reports requests per second, latency
// percentiles and errors; `partnerlink bench links` and the benchmarks of
// this package run it.
package loadtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/partnerlink/partnerlink/server"
)

// Config describes the server and world a load test runs against.
type Config struct {
	// DSN is a postgres:// URL of a server where a fresh database is
	// created (and dropped on Close); empty means SQLite in a temporary
	// data directory.
	DSN string
	// Tenants and Principals size the generated world (defaults 100 and
	// 2000); principals are spread evenly over the tenants.
	Tenants, Principals int
	// BcryptCost hashes the generated secrets (default 4, bcrypt's
	// minimum; identity.HashSecret uses 10, which makes importing and
	// signing in 2,000 principals take minutes on two cores).
	BcryptCost int
	// SQLMaxOpenConns, when > 0, overrides the store's connection pool size
	// through its public handle (an experiment knob; 0 keeps the server's).
	SQLMaxOpenConns int
	// SQLiteParams, when set, are extra query parameters of the SQLite DSN
	// (such as "_pragma=mmap_size(268435456)"): an experiment knob for
	// connection settings, passed through the server's public DSN.
	SQLiteParams string
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// Env is a running server with a generated world and a token per principal.
type Env struct {
	Server     *server.Server
	Backend    string // "sqlite" or "postgres"
	Principals []Principal

	auth    []http.Header // per principal: Authorization: Bearer <token>
	current []string      // per principal: the partner ID linked now
	roots   *x509.CertPool
	putURL  map[string]*url.URL
	getURL  *url.URL
	tmpDir  string
	dropDB  func() error
	log     io.Writer
}

// Start starts a server, imports the generated world, signs every principal
// in and links every principal to PartnerA, so that both phases can start.
func Start(ctx context.Context, cfg Config) (*Env, error) {
	if cfg.Tenants <= 0 {
		cfg.Tenants = 100
	}
	if cfg.Principals <= 0 {
		cfg.Principals = 2000
	}
	if cfg.Tenants > cfg.Principals {
		cfg.Tenants = cfg.Principals
	}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = 4
	}
	e := &Env{Backend: "sqlite", log: cfg.Log}
	if e.log == nil {
		e.log = io.Discard
	}
	ok := false
	defer func() {
		if !ok {
			e.Close()
		}
	}()
	var err error
	if e.tmpDir, err = os.MkdirTemp("", "partnerlink-bench-"); err != nil {
		return nil, err
	}
	dsn := ""
	if cfg.DSN != "" {
		e.Backend = "postgres"
		if dsn, e.dropDB, err = createDatabase(ctx, cfg.DSN); err != nil {
			return nil, err
		}
	}
	if cfg.DSN == "" && cfg.SQLiteParams != "" {
		dsn = "file:" + filepath.Join(e.tmpDir, "partnerlink.db") + "?" + cfg.SQLiteParams
	}
	t0 := time.Now()
	e.Server, err = server.Open(ctx, server.Config{DataDir: e.tmpDir, DSN: dsn, Addr: "127.0.0.1:0",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	if cfg.SQLMaxOpenConns > 0 {
		e.Server.DB.SQL().SetMaxOpenConns(cfg.SQLMaxOpenConns)
		e.Server.DB.SQL().SetMaxIdleConns(cfg.SQLMaxOpenConns)
	}
	doc, ps := generateWorld(cfg.Tenants, cfg.Principals)
	secrets := make([]string, len(ps))
	for i, p := range ps {
		secrets[i] = p.Secret
	}
	hash, err := bcryptHasher(cfg.BcryptCost, secrets)
	if err != nil {
		return nil, err
	}
	if err := e.Server.DB.ImportWorld(ctx, doc, hash); err != nil {
		return nil, fmt.Errorf("import the generated world: %w", err)
	}
	e.Principals = ps
	fmt.Fprintf(e.log, "%s: imported %d tenants, %d service principals in %v\n", e.Backend, cfg.Tenants, len(ps),
		time.Since(t0).Round(time.Millisecond))
	e.Server.Start()

	pem, err := os.ReadFile(e.Server.CAFile)
	if err != nil {
		return nil, err
	}
	e.roots = x509.NewCertPool()
	if !e.roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", e.Server.CAFile)
	}
	const partners = "/providers/Microsoft.ManagementPartner/partners"
	e.putURL = map[string]*url.URL{}
	for _, id := range []string{PartnerA, PartnerB} {
		if e.putURL[id], err = url.Parse(e.Server.URL + partners + "/" + id + "?api-version=2018-02-01"); err != nil {
			return nil, err
		}
	}
	if e.getURL, err = url.Parse(e.Server.URL + partners + "?api-version=2018-02-01"); err != nil {
		return nil, err
	}

	t0 = time.Now()
	if err := e.signIn(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(e.log, "%s: %d access tokens (client credentials) in %v\n", e.Backend, len(ps), time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	if err := e.seed(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(e.log, "%s: linked every principal to %s in %v\n", e.Backend, PartnerA, time.Since(t0).Round(time.Millisecond))
	ok = true
	return e, nil
}

// Close stops the server and removes the data directory and database.
func (e *Env) Close() error {
	var errs []error
	if e.Server != nil {
		errs = append(errs, e.Server.Close())
	}
	if e.dropDB != nil {
		errs = append(errs, e.dropDB())
	}
	if e.tmpDir != "" {
		errs = append(errs, os.RemoveAll(e.tmpDir))
	}
	return errors.Join(errs...)
}

// Protocol is the HTTP version the clients speak.
type Protocol string

const (
	HTTP1 Protocol = "HTTP/1.1"
	HTTP2 Protocol = "HTTP/2"
)

// newTransport returns a keep-alive HTTPS transport trusting the server's CA
// that speaks only proto and opens at most conns connections.
// tlsConfig trusts the server's CA.
func (e *Env) tlsConfig() *tls.Config {
	return &tls.Config{RootCAs: e.roots, MinVersion: tls.VersionTLS12}
}

func (e *Env) newTransport(proto Protocol, conns int) *http.Transport {
	t := &http.Transport{
		TLSClientConfig:       e.tlsConfig(),
		MaxIdleConns:          conns,
		MaxIdleConnsPerHost:   conns,
		MaxConnsPerHost:       conns,
		IdleConnTimeout:       time.Minute,
		ResponseHeaderTimeout: 30 * time.Second,
		DisableCompression:    true,
		Protocols:             new(http.Protocols),
	}
	if proto == HTTP2 {
		t.Protocols.SetHTTP2(true)
	} else {
		t.Protocols.SetHTTP1(true)
	}
	return t
}

// signIn gets an access token for every principal from the token endpoint.
func (e *Env) signIn(ctx context.Context) error {
	client := &http.Client{Transport: e.newTransport(HTTP1, 8), Timeout: time.Minute}
	defer client.CloseIdleConnections()
	e.auth = make([]http.Header, len(e.Principals))
	return parallel(8, len(e.Principals), func(i int) error {
		p := e.Principals[i]
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {p.AppID}, "client_secret": {p.Secret},
			"scope": {"https://management.core.windows.net//.default"}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.Server.URL+"/"+p.TenantID+"/oauth2/v2.0/token",
			strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("token for %s: %w", p.ObjectID, err)
		}
		defer resp.Body.Close()
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
			return fmt.Errorf("token for %s: %s: %.300s", p.ObjectID, resp.Status, body)
		}
		e.auth[i] = http.Header{"Authorization": {"Bearer " + tok.AccessToken}}
		return nil
	})
}

// seed links every principal to PartnerA, so every later PUT is a change
// and every GET finds a link (and every token's validation is cached, as in
// a steady state where a client keeps its token for its hour).
func (e *Env) seed(ctx context.Context) error {
	client := &http.Client{Transport: e.newTransport(HTTP1, 8), Timeout: time.Minute}
	defer client.CloseIdleConnections()
	e.current = make([]string, len(e.Principals))
	return parallel(8, len(e.Principals), func(i int) error {
		req := &http.Request{Method: http.MethodPut, URL: e.putURL[PartnerA], Header: e.auth[i], Host: e.putURL[PartnerA].Host}
		resp, err := client.Do(req.WithContext(ctx))
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("link %s: %s: %.300s", e.Principals[i].ObjectID, resp.Status, body)
		}
		e.current[i] = PartnerA
		return nil
	})
}

// parallel runs fn(0..n-1) on workers goroutines and returns the first error.
func parallel(workers, n int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					errs[w] = err
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Phase is what the clients do.
type Phase string

const (
	// Write PUTs each principal's link to the partner ID it is not linked
	// to: every request closes a period, opens one, records an event and
	// queues a notification.
	Write Phase = "write"
	// Read GETs each principal's current link.
	Read Phase = "read"
)

// Run describes one measured phase.
type Run struct {
	Phase Phase
	// Duration bounds the phase; Requests, when > 0, bounds it instead.
	Duration time.Duration
	Requests int
	// Concurrency is the number of clients, each with one request in
	// flight; each owns principals i ≡ client (mod Concurrency) and goes
	// round-robin over them.
	Concurrency int
	Protocol    Protocol
	// Rate, when > 0, makes the phase an open loop: requests are due at
	// this many per second (request n at start + n/Rate), whether or not
	// earlier ones have been answered, and the Concurrency clients take
	// them in turn (so at most Concurrency are in flight; a due request
	// waits for a free client). A request's latency runs from when it was
	// due, not from when a client got to it, so a server that falls behind
	// shows in the percentiles (no "coordinated omission"); so does a
	// client that wakes late on a busy machine. Every request due before
	// the end of Duration is sent, so a server that falls behind makes the
	// phase run longer. With Rate 0 each client
	// sends its next request as soon as it has the last answer (a closed
	// loop: the throughput is the server's most, and the latency follows
	// from Concurrency ÷ throughput).
	Rate float64
	// Connections is the number of HTTP/2 connections the clients share
	// (default 1, what Go and other HTTP/2 clients open to one host); with
	// HTTP/1.1 every client has its own connection.
	Connections int
}

// Result is what a phase measured.
type Result struct {
	Run
	Backend    string
	Count      int // requests completed (200 or not)
	Errors     int
	FirstError string
	Elapsed    time.Duration
	// Latency percentiles, from sending the request (in an open loop:
	// from when it was due) to reading the whole response.
	P50, P90, P99, Max time.Duration
	// CPU is the process's user+system CPU time during the phase (server
	// and clients together: they share the process).
	CPU time.Duration
}

// PerSecond is the phase's throughput.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Count) / r.Elapsed.Seconds()
}

// Cores is the average number of cores the process used.
func (r Result) Cores() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return r.CPU.Seconds() / r.Elapsed.Seconds()
}

// CPUPerRequest is the process's CPU time per completed request.
func (r Result) CPUPerRequest() time.Duration {
	if r.Count == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Count)
}

type worker struct {
	principals []int
	lat        []time.Duration
	errors     int
	firstErr   string
	buf        bytes.Buffer
}

// Run runs one phase. Client goroutines carry the pprof label
// loadtest=client, so a CPU profile tells the load generator's cost from the
// server's (go tool pprof -tagfocus loadtest=client).
func (e *Env) Run(ctx context.Context, r Run) (Result, error) {
	if r.Concurrency <= 0 {
		r.Concurrency = 64
	}
	if r.Concurrency > len(e.Principals) {
		return Result{}, fmt.Errorf("concurrency %d is more than the %d principals", r.Concurrency, len(e.Principals))
	}
	if r.Protocol == "" {
		r.Protocol = HTTP1
	}
	if r.Duration <= 0 && r.Requests <= 0 {
		r.Duration = 10 * time.Second
	}
	var transports []*http.Transport
	if r.Protocol == HTTP2 {
		if r.Connections <= 0 {
			r.Connections = 1
		}
		for i := 0; i < r.Connections; i++ {
			transports = append(transports, e.newTransport(HTTP2, 1))
		}
	} else {
		r.Connections = r.Concurrency // one connClient each
	}
	defer func() {
		for _, t := range transports {
			t.CloseIdleConnections()
		}
	}()
	workers := make([]*worker, r.Concurrency)
	perWorker := 1024
	if r.Requests > 0 {
		perWorker = r.Requests/r.Concurrency + 1
	}
	for w := range workers {
		workers[w] = &worker{lat: make([]time.Duration, 0, perWorker)}
		for i := w; i < len(e.Principals); i += r.Concurrency {
			workers[w].principals = append(workers[w].principals, i)
		}
	}

	var remaining atomic.Int64
	remaining.Store(int64(r.Requests))
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	var begin, deadline time.Time
	var warmErr atomic.Pointer[error]
	labels := pprof.Labels("loadtest", "client")
	for w, wk := range workers {
		ready.Add(1)
		done.Add(1)
		go pprof.Do(ctx, labels, func(ctx context.Context) {
			defer done.Done()
			var client requester
			if r.Protocol == HTTP2 {
				client = transportClient{&http.Client{Transport: transports[w%len(transports)]}}
			} else {
				client = newConnClient(e.getURL, e.tlsConfig())
			}
			defer client.close()
			// Open the connection (TLS handshake) before the clock starts.
			if err := warm(ctx, client, e.Server.URL, &wk.buf); err != nil {
				warmErr.Store(&err)
			}
			ready.Done()
			<-start
			e.work(ctx, client, wk, r, begin, deadline, &remaining)
		})
	}
	ready.Wait()
	if p := warmErr.Load(); p != nil {
		close(start)
		done.Wait()
		return Result{}, fmt.Errorf("open connections: %w", *p)
	}
	cpu0 := processCPU()
	t0 := time.Now()
	begin, deadline = t0, t0.Add(r.Duration)
	close(start)
	done.Wait()
	res := Result{Run: r, Backend: e.Backend, Elapsed: time.Since(t0), CPU: processCPU() - cpu0}
	var all []time.Duration
	for _, wk := range workers {
		all = append(all, wk.lat...)
		res.Errors += wk.errors
		if res.FirstError == "" {
			res.FirstError = wk.firstErr
		}
	}
	res.Count = len(all)
	slices.Sort(all)
	res.P50, res.P90, res.P99 = percentile(all, 50), percentile(all, 90), percentile(all, 99)
	if len(all) > 0 {
		res.Max = all[len(all)-1]
	}
	return res, nil
}

// warm opens the client's connection with an unauthenticated GET /healthz.
func warm(ctx context.Context, client requester, base string, buf *bytes.Buffer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
	if err != nil {
		return err
	}
	status, err := client.do(req, buf)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET /healthz: %d", status)
	}
	return nil
}

// partnerField is what a 200 response's body must contain for partner ID id.
func partnerField(id string) []byte { return []byte(`"partnerId":"` + id + `"`) }

var expectBody = map[string][]byte{PartnerA: partnerField(PartnerA), PartnerB: partnerField(PartnerB)}

// work is one client's loop: one request in flight, round-robin over the
// client's principals, until the deadline or the request budget is spent.
// In an open loop (Rate) remaining counts the requests handed out, and
// each is sent when due. Every response must be 200 and name the expected
// partner ID.
func (e *Env) work(ctx context.Context, client requester, wk *worker, r Run, begin, deadline time.Time, remaining *atomic.Int64) {
	k := 0
	for {
		var due time.Time
		if r.Rate > 0 {
			n := int64(r.Requests) - remaining.Add(-1) - 1 // requests handed out before this one
			if r.Requests > 0 && n >= int64(r.Requests) {
				return
			}
			due = begin.Add(time.Duration(float64(n) / r.Rate * float64(time.Second)))
			if r.Requests <= 0 && !due.Before(deadline) {
				return
			}
			time.Sleep(time.Until(due))
		} else if r.Requests > 0 && remaining.Add(-1) < 0 {
			return
		}
		i := wk.principals[k]
		k++
		if k == len(wk.principals) {
			k = 0
		}
		want := e.current[i]
		req := &http.Request{Method: http.MethodGet, URL: e.getURL, Header: e.auth[i], Host: e.getURL.Host}
		if r.Phase == Write {
			want = PartnerA
			if e.current[i] == PartnerA {
				want = PartnerB
			}
			req.Method, req.URL = http.MethodPut, e.putURL[want]
		}
		t0 := time.Now()
		if r.Rate > 0 {
			t0 = due
		} else if r.Requests <= 0 && !t0.Before(deadline) {
			return
		}
		req = req.WithContext(ctx)
		status, err := client.do(req, &wk.buf)
		wk.lat = append(wk.lat, time.Since(t0))
		switch {
		case err != nil:
			wk.fail(err.Error())
		case status != http.StatusOK:
			wk.fail(fmt.Sprintf("%s %s: %d: %.300s", req.Method, req.URL.Path, status, wk.buf.Bytes()))
		case !bytes.Contains(wk.buf.Bytes(), expectBody[want]):
			wk.fail(fmt.Sprintf("%s %s: 200 without partner ID %s: %.300s", req.Method, req.URL.Path, want, wk.buf.Bytes()))
		default:
			e.current[i] = want
		}
	}
}

func (wk *worker) fail(msg string) {
	wk.errors++
	if wk.firstErr == "" {
		wk.firstErr = msg
	}
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 × n)
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}
