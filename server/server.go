// Package server assembles partnerlink's HTTPS server: the store, the token
// service, the ARM surface, the partnerlink API and portal, the outbox
// deliverer and metrics, on one base URL.
package server

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/api"
	"github.com/partnerlink/partnerlink/arm"
	"github.com/partnerlink/partnerlink/certs"
	"github.com/partnerlink/partnerlink/exports"
	"github.com/partnerlink/partnerlink/identity"
	"github.com/partnerlink/partnerlink/linking"
	"github.com/partnerlink/partnerlink/notify"
	"github.com/partnerlink/partnerlink/portal"
	"github.com/partnerlink/partnerlink/queue"
	"github.com/partnerlink/partnerlink/report"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/usage"
)

// Config configures a Server.
type Config struct {
	DataDir string
	// DSN is a postgres:// URL; empty means SQLite in DataDir.
	DSN string
	// Addr is the loopback address to listen on (127.0.0.1:8443).
	Addr string
	// PublicURLs are extra base URLs the server is reached at (behind a
	// proxy); the listen address is always one.
	PublicURLs []string
	// TLSCert and TLSKey serve a given certificate instead of the local CA's.
	TLSCert, TLSKey string
	// ReadHeaderTimeout bounds reading a request's headers (and the TLS
	// handshake), BodyReadTimeout reading its body, IdleTimeout a
	// keep-alive connection waiting for its next request; MaxConnsPerIP
	// caps the open connections from one IP address. Zero means the
	// Default* value.
	ReadHeaderTimeout, BodyReadTimeout, IdleTimeout time.Duration
	MaxConnsPerIP                                   int
	// KeyRotation is the age at which the signing key is replaced (checked
	// at start and hourly); default 30 days.
	KeyRotation time.Duration
	// TrustedIssuers are external OIDC issuers whose tokens the API accepts.
	TrustedIssuers []identity.TrustedIssuer
	// WebhookAllow are address ranges (CIDR or address) and host names
	// webhooks may point to besides public addresses (serve
	// --webhook-allow; docs/operations.md, "Webhooks").
	WebhookAllow []string
	// WebhookRootCAs are the roots webhook receivers' certificates are
	// checked against; nil means the system's.
	WebhookRootCAs *x509.CertPool
	// CloseDay is the day of the next month from which a month closes
	// (default 10); CloseEvery how often the server closes the months that
	// are due (default 24 hours; a failed pass is retried after 15
	// minutes); negative CloseEvery disables scheduled closes
	// (docs/rules.md#monthly-close).
	CloseDay   int
	CloseEvery time.Duration
	// UsageSources are cost export locations (azblob://, s3://, gs://,
	// file://) the server reads new export runs from every UsagePoll
	// (default 15 minutes; docs/usage-sources.md).
	UsageSources []string
	UsagePoll    time.Duration
	// UsageStore and UsageBuckets place the partitioned usage store
	// ("" is DataDir's; docs/scale.md). On PostgreSQL the server's closes
	// run on the job queue, and the server works QueueWorkers partitions
	// at once beside the partnerlink workers (default 2).
	UsageStore   string
	UsageBuckets int
	QueueWorkers int
	// ReportCache is how many report versions' contents, parsed, the
	// report requests share (default DefaultReportCache; negative: none),
	// each kept until it has not been read for ReportCacheIdle.
	ReportCache int
	Logger      *slog.Logger
	Now         func() time.Time
}

// DefaultReportCache is how many versions' contents the report requests
// share, parsed (a partner's dashboard reads its month two or three times
// per page); ReportCacheIdle is how long one is kept unread
// (docs/operations.md, "Report cache").
const (
	DefaultReportCache = 2
	ReportCacheIdle    = 10 * time.Minute
)

// Server is a running partnerlink.
type Server struct {
	cfg       Config
	DB        *sqlstore.DB
	Keys      *identity.KeySet
	Identity  *identity.Service
	Validator *identity.Validator
	Links     *linking.Service
	Notifier  *notify.Deliverer
	// URL is the first base URL; CAFile the CA clients should trust (empty
	// when a certificate was given).
	URL    string
	CAFile string

	adminKeyHash [32]byte
	webhooks     *notify.Policy
	arm          *arm.Handler
	api          *api.Handler
	queue        *queue.Queue // on PostgreSQL
	reportCache  *report.Cache

	// Export runs imported from the usage sources, and polls that failed.
	usageRuns, usagePollErrors atomic.Int64
	// lastPass is the outcome of the last scheduled close pass.
	passMu   sync.Mutex
	lastPass struct {
		at  time.Time
		err error
	}

	listener net.Listener
	http     *http.Server
	cancel   context.CancelFunc
	done     chan struct{}
}

// Open opens the store, binds the listener and builds the handlers; Start
// serves.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8443"
	}
	// A usage source that is not a URL partnerlink reads fails the start.
	for _, u := range cfg.UsageSources {
		src, err := exports.Open(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("--usage-source: %w", err)
		}
		src.Close()
	}
	cfg.ReadHeaderTimeout = cmp.Or(cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	cfg.BodyReadTimeout = cmp.Or(cfg.BodyReadTimeout, DefaultBodyReadTimeout)
	cfg.IdleTimeout = cmp.Or(cfg.IdleTimeout, DefaultIdleTimeout)
	cfg.MaxConnsPerIP = cmp.Or(cfg.MaxConnsPerIP, DefaultMaxConnsPerIP)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", cfg.DataDir, err)
	}
	if err := checkDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, reportCache: report.NewCache(cmp.Or(cfg.ReportCache, DefaultReportCache), ReportCacheIdle)}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	s.listener = limitPerIP(ln, cfg.MaxConnsPerIP)
	bases := baseURLs(ln.Addr().(*net.TCPAddr), cfg.PublicURLs)
	s.URL = bases[0]
	fail := func(err error) (*Server, error) {
		s.Close()
		return nil, err
	}

	if s.DB, err = OpenStore(ctx, cfg.DataDir, cfg.DSN); err != nil {
		return fail(err)
	}
	if s.DB.Dialect() == sqlstore.Postgres {
		// The server is a worker of the job queue too (docs/scale.md).
		if s.queue, err = queue.Open(ctx, queue.Config{DSN: cfg.DSN, Store: s.DB, Workers: max(cmp.Or(cfg.QueueWorkers, 2), 0),
			Logger: cfg.Logger, Now: cfg.Now}); err != nil {
			return fail(err)
		}
		if err := s.queue.Start(context.WithoutCancel(ctx)); err != nil {
			return fail(err)
		}
	}
	// Imports killed part way leave their temporary files; nothing else
	// ever would remove them (docs/operations.md, "Usage files").
	if n, size, err := usage.RemoveStale(cfg.DataDir); err != nil {
		return fail(err)
	} else if n > 0 {
		cfg.Logger.Info("removed the temporary files of imports that did not finish", "files", n, "bytes", size)
	}
	if s.Keys, err = identity.OpenKeys(filepath.Join(cfg.DataDir, "keys"), identity.KeyOptions{Now: cfg.Now}); err != nil {
		return fail(err)
	}
	if s.Identity, err = identity.NewService(identity.Config{BaseURLs: bases, Directory: s.DB, Grants: s.DB, Keys: s.Keys,
		Now: cfg.Now, Logger: cfg.Logger}); err != nil {
		return fail(err)
	}
	if s.Validator, err = identity.NewValidator(identity.ValidatorConfig{BaseURLs: bases, Keys: s.Keys, Directory: s.DB,
		External: cfg.TrustedIssuers, Now: cfg.Now}); err != nil {
		return fail(err)
	}
	s.Links = linking.New(s.DB)
	s.Links.Now = cfg.Now
	if s.webhooks, err = notify.ParsePolicy(cfg.WebhookAllow); err != nil {
		return fail(err)
	}
	s.Notifier = notify.New(s.DB)
	s.Notifier.Now, s.Notifier.Log = cfg.Now, cfg.Logger
	s.Notifier.Policy, s.Notifier.Client = s.webhooks, s.webhooks.Client(cfg.WebhookRootCAs)

	if s.adminKeyHash, err = adminKey(cfg.DataDir); err != nil {
		return fail(err)
	}
	tlsCfg, err := s.tlsConfig(bases)
	if err != nil {
		return fail(err)
	}
	s.http = &http.Server{
		Handler:           s.routes(bases[0]),
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	return s, nil
}

// OpenStore opens the SQLite database of a data directory, or dsn when set.
// The database and its -wal and -shm files are made 0600 (SQLite gives the
// latter two the database file's mode), whatever the umask
// (docs/operations.md, "Data directory").
func OpenStore(ctx context.Context, dataDir, dsn string) (*sqlstore.DB, error) {
	if dsn != "" {
		return sqlstore.Open(ctx, dsn)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dataDir, err)
	}
	path := filepath.Join(dataDir, "partnerlink.db")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create database %s: %w", path, err)
	}
	f.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("restrict database %s to its owner: %w", path, err)
	}
	db, err := sqlstore.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Chmod(path+suffix, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			db.Close()
			return nil, fmt.Errorf("restrict database file %s to its owner: %w", path+suffix, err)
		}
	}
	return db, nil
}

// checkDataDir refuses a data directory that group or others may enter:
// it holds the signing keys, the admin key and the database.
func checkDataDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return partnerlink.Errorf(partnerlink.EINVALID, "data directory %s is not a directory", dir)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return partnerlink.Errorf(partnerlink.EINVALID,
			"data directory %s is open to group or others (mode %04o); it holds the signing keys, the admin key and the database: run chmod 700 %s",
			dir, perm, dir)
	}
	return nil
}

func baseURLs(addr *net.TCPAddr, extra []string) []string {
	port := fmt.Sprint(addr.Port)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	bases := []string{"https://" + net.JoinHostPort(host, port)}
	if addr.IP.IsLoopback() || addr.IP.IsUnspecified() {
		bases = append(bases, "https://localhost:"+port)
	}
	for _, u := range extra {
		bases = append(bases, strings.TrimSuffix(u, "/"))
	}
	return bases
}

func (s *Server) tlsConfig(bases []string) (*tls.Config, error) {
	certFile, keyFile := s.cfg.TLSCert, s.cfg.TLSKey
	if certFile == "" {
		var hosts []string
		for _, b := range bases {
			h := strings.TrimPrefix(b, "https://")
			if host, _, err := net.SplitHostPort(h); err == nil {
				h = host
			}
			hosts = append(hosts, strings.Trim(h, "[]"))
		}
		f, err := certs.Ensure(s.cfg.DataDir, hosts, s.cfg.Now())
		if err != nil {
			return nil, err
		}
		certFile, keyFile, s.CAFile = f.Cert, f.Key, f.CA
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s: %w", certFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// AdminKeyFile is where the admin API's key is kept (0600), created on
// first start.
func AdminKeyFile(dataDir string) string { return filepath.Join(dataDir, "admin-key") }

// MinAdminKeyLength is the shortest admin key the server accepts.
const MinAdminKeyLength = 16

// adminKey reads the admin key, creating a random one on first start. A
// key file that is empty (or shorter than MinAdminKeyLength) stops the
// start: an empty key would otherwise open the admin API and /metrics to
// anyone sending "Authorization: Bearer " (docs/operations.md, "Admin key").
func adminKey(dataDir string) ([32]byte, error) {
	path := AdminKeyFile(dataDir)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := identity.NewSecret() + identity.NewSecret()
		if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
			return [32]byte{}, fmt.Errorf("write admin key: %w", err)
		}
		b = []byte(key)
	} else if err != nil {
		return [32]byte{}, fmt.Errorf("read admin key: %w", err)
	}
	key := strings.TrimSpace(string(b))
	if len(key) < MinAdminKeyLength {
		what := "is empty"
		if key != "" {
			what = fmt.Sprintf("holds a key of %d characters", len(key))
		}
		return [32]byte{}, partnerlink.Errorf(partnerlink.EINVALID,
			"admin key file %s %s; the admin key must be at least %d characters: delete the file to have a new key generated at the next start, or write a longer key into it",
			path, what, MinAdminKeyLength)
	}
	return api.HashAdminKey(key), nil
}

// Reports is the report service the server closes with: its usage store
// and, on PostgreSQL, its job queue (docs/scale.md).
func (s *Server) Reports() *report.Service {
	svc := &report.Service{Store: s.DB, DataDir: s.cfg.DataDir, Now: s.cfg.Now, CloseDay: s.cfg.CloseDay, Workers: 2,
		UsageStore: s.cfg.UsageStore, Buckets: s.cfg.UsageBuckets, Cache: s.reportCache}
	if s.queue != nil {
		svc.Executor = s.queue
	}
	return svc
}

// Start serves in the background and starts delivering notifications.
func (s *Server) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		err := s.http.ServeTLS(s.listener, "", "")
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Logger.Error("server stopped", "err", err)
		}
	}()
	go s.Notifier.Run(ctx, time.Second)
	go s.rotateKeys(ctx, time.Hour)
	if s.cfg.CloseEvery >= 0 {
		go s.closeMonths(ctx, cmp.Or(s.cfg.CloseEvery, 24*time.Hour))
	}
	if len(s.cfg.UsageSources) > 0 {
		go s.pollUsage(ctx, cmp.Or(s.cfg.UsagePoll, 15*time.Minute))
	}
}

// pollUsage imports the new export runs of the usage sources, now and then
// every period; a source that fails is logged and read again at the next
// poll (nothing of a failed run is kept).
func (s *Server) pollUsage(ctx context.Context, every time.Duration) {
	for {
		for _, url := range s.cfg.UsageSources {
			if err := s.importSource(ctx, url); err != nil {
				if ctx.Err() != nil {
					return
				}
				s.usagePollErrors.Add(1)
				s.cfg.Logger.Error("usage source: read failed; trying again at the next poll", "source", exports.Redact(url), "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

func (s *Server) importSource(ctx context.Context, url string) error {
	_, err := exports.ImportURL(ctx, url, s.DB, s.cfg.DataDir, s.cfg.Now(), nil, func(r exports.Run, res *exports.Imported) {
		if !res.Already {
			s.usageRuns.Add(1)
			s.cfg.Logger.Info("usage source: export run imported", "source", exports.Redact(url), "run", r.ManifestKey, "rows", res.Run.Rows,
				"parts", len(res.Run.Files), "new_parts", res.New)
			// Laid out in the usage store now; should it fail, the first
			// close that reads the files does it (docs/scale.md).
			for _, h := range res.Run.Files {
				im, err := s.DB.UsageImportByHash(ctx, h)
				if err == nil {
					_, err = s.Reports().SplitUsage(ctx, *im)
				}
				if err != nil {
					s.cfg.Logger.Warn("usage store: could not lay out an imported file; the first close will", "file", h, "err", err)
				}
			}
		}
	})
	return err
}

// closeMonths closes the months that are due, now and then every period;
// a pass that failed is tried again after 15 minutes.
func (s *Server) closeMonths(ctx context.Context, every time.Duration) {
	svc := s.Reports()
	for {
		wait := every
		err := s.closePass(ctx, svc)
		s.passMu.Lock()
		s.lastPass.at, s.lastPass.err = s.cfg.Now(), err
		s.passMu.Unlock()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.cfg.Logger.Error("scheduled close failed; retrying in 15 minutes", "err", err)
			wait = min(every, 15*time.Minute)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func (s *Server) closePass(ctx context.Context, svc *report.Service) error {
	months, err := svc.Due(ctx)
	if err != nil {
		return err
	}
	var failed error
	for _, m := range months {
		out, err := svc.Close(ctx, m, true) // Due decided the month may close
		if err != nil {
			failed = errors.Join(failed, fmt.Errorf("close %s: %w", m, err))
			continue
		}
		if out.Published {
			s.cfg.Logger.Info("month closed", "month", m.String(), "version", out.Version.Version, "restated_lines", len(out.Changes))
		}
	}
	return failed
}

// rotateKeys replaces the signing key when it is older than KeyRotation;
// the old key stays published until its tokens have expired.
func (s *Server) rotateKeys(ctx context.Context, every time.Duration) {
	maxAge := s.cfg.KeyRotation
	if maxAge == 0 {
		maxAge = 30 * 24 * time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if rotated, err := s.Keys.RotateIfOlder(maxAge); err != nil {
			s.cfg.Logger.Error("rotate signing key", "err", err)
		} else if rotated {
			s.cfg.Logger.Info("signing key rotated", "kid", s.Keys.ActiveKID())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DataDir is the server's data directory (usage files, admin key).
func (s *Server) DataDir() string { return s.cfg.DataDir }

// Wait blocks until the server stops.
func (s *Server) Wait() { <-s.done }

// Close stops serving and closes the store.
func (s *Server) Close() error {
	if s.cancel != nil {
		s.cancel()
	}
	defer s.reportCache.Close()
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.http.Shutdown(ctx)
	} else if s.listener != nil {
		s.listener.Close()
	}
	if s.queue != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.queue.Close(ctx)
	}
	if s.DB != nil {
		return s.DB.Close()
	}
	return nil
}

// routes dispatches on the first path segment: ARM paths, the partnerlink
// API, metrics and health; everything else is the token service (tenant
// authorities, /adfs, /device).
func (s *Server) routes(base string) http.Handler {
	armHandler := &arm.Handler{Auth: s.Validator, Links: s.Links, Directory: s.DB, Roles: s.DB, BaseURL: base, Now: s.cfg.Now,
		Log: s.cfg.Logger}
	apiHandler := api.New(s.Validator, s.DB, s.adminKeyHash, s.cfg.Now)
	apiHandler.Reports = s.Reports
	apiHandler.DataDir, apiHandler.Log, apiHandler.CloseDay = s.cfg.DataDir, s.cfg.Logger, s.cfg.CloseDay
	apiHandler.Webhooks = s.webhooks
	apiHandler.LastClosePass = func() (time.Time, error) {
		s.passMu.Lock()
		defer s.passMu.Unlock()
		return s.lastPass.at, s.lastPass.err
	}
	portalHandler := &portal.Portal{BaseURL: base, Identity: s.Identity, ARM: armHandler, API: apiHandler, Dir: s.DB, Now: s.cfg.Now, Log: s.cfg.Logger}
	s.arm, s.api = armHandler, apiHandler
	met := newMetrics()
	met.signIns(s.Identity)
	met.usageSources(&s.usageRuns, &s.usagePollErrors)
	met.reportCache(s.reportCache)
	met.registry.MustRegister(newPartitionRuns(s.DB))
	metricsHandler := met.handler(s.adminKeyHash)
	return bodyDeadline(s.cfg.BodyReadTimeout, met.instrument(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The server speaks only HTTPS: browsers are told to keep to it
		// (docs/operations.md, "TLS").
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		first := strings.ToLower(strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0])
		switch first {
		case "providers", "subscriptions", "tenants":
			armHandler.ServeHTTP(w, r)
		case "healthz", "metrics":
			s.operations(w, r, metricsHandler)
		case "api":
			apiHandler.ServeHTTP(w, r)
		default:
			if identity.IsIdentityPath(r.URL.Path) {
				s.Identity.ServeHTTP(w, r)
				return
			}
			if portal.IsPortalPath(r.URL.Path) {
				portalHandler.ServeHTTP(w, r)
				return
			}
			notFound(w, r)
		}
	})))
}

// Routes lists every endpoint of the ARM surface, /api/v1 and the
// server's own, as "METHOD pattern" (the token service's are in identity).
func (s *Server) Routes() []string {
	out := append(s.arm.Routes(), s.api.Routes()...)
	return append(out, "GET /healthz", "GET /metrics")
}

// operations serves GET /healthz and GET /metrics (HEAD too), with JSON
// errors for other methods and paths.
func (s *Server) operations(w http.ResponseWriter, r *http.Request, metrics http.Handler) {
	if r.URL.Path != "/healthz" && r.URL.Path != "/metrics" {
		notFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, "GET, HEAD")
		return
	}
	if r.URL.Path == "/healthz" {
		w.Write([]byte("ok\n"))
		return
	}
	metrics.ServeHTTP(w, r)
}
