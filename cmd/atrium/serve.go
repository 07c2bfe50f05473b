package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/atrium-dev/atrium/handlers"
	"github.com/atrium-dev/atrium/handlers/email"
	"github.com/atrium-dev/atrium/store"
)

// runServe handles "atrium serve": the production entry point. It expects a
// migrated database (atrium migrate up) reachable as the app role.
func runServe(ctx context.Context, args []string) error {
	cfg, err := loadConfig(false)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return errors.New("DATABASE_URL is not set: point it at the app role (see README), or use `make run` for a local demo")
	}
	log := newLogger(cfg)
	db, err := store.Open(ctx, cfg.DatabaseURL, store.Options{MaxConns: cfg.MaxConns, EntryCache: cfg.EntryCache})
	if err != nil {
		return err
	}
	defer db.Close()
	listenURL := cfg.ListenURL
	if listenURL == "" {
		listenURL = cfg.DatabaseURL
	}
	return serve(ctx, cfg, log, db, listenURL, nil)
}

// serve runs the web server until ctx is cancelled, then drains in-flight
// requests for up to cfg.ShutdownPeriod. listenURL is a direct connection to
// the database for the entry cache's watcher. ready, if set, is called once
// the listener is open.
func serve(ctx context.Context, cfg config, log *slog.Logger, db *store.DB, listenURL string, ready func(addr string)) error {
	tuneGC()
	if err := db.CheckIsolation(ctx); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerEntryCache(reg, db)
	var mailer email.Sender = email.NewOutbox(db)
	if cfg.SMTPURL != "" {
		s, err := email.NewSMTP(cfg.SMTPURL, cfg.SMTPFrom)
		if err != nil {
			return err
		}
		mailer = s
		log.Info("email goes out over SMTP", "smtp", s.String())
	} else {
		log.Warn("SMTP_URL is not set: email is kept in the outbox at /console/outbox, not sent")
	}
	app := handlers.New(handlers.Deps{Config: cfg.Web, DB: db, Log: log, Registry: reg, Mailer: mailer})

	srv := &http.Server{
		Handler:           app,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	servers := []*http.Server{srv}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()

	if cfg.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", app.MetricsHandler())
		// Profiles for diagnosing load runs (make bench); this listener is
		// internal, like the metrics it serves.
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		msrv := &http.Server{Addr: cfg.MetricsAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, msrv)
		go func() { errc <- msrv.ListenAndServe() }()
		log.Info("metrics listening", "addr", cfg.MetricsAddr)
	}
	go func() {
		if err := db.WatchChanges(ctx, listenURL, log.Warn); err != nil {
			log.Error("entry cache watcher stopped; the cache stays off", "err", err)
		}
	}()
	go purgeSessions(ctx, log, db)
	go purgeDeletedTenants(ctx, log, db, cfg.OrgRetention)
	log.Info("listening", "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", cfg.ShutdownPeriod)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownPeriod)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(sctx); err != nil {
			log.Error("shutdown", "err", err)
		}
	}
	log.Info("stopped")
	return nil
}

// registerEntryCache exports the entry cache's figures (see store.entryCache).
func registerEntryCache(reg prometheus.Registerer, db *store.DB) {
	stat := func(f func(store.EntryCacheStats) float64) func() float64 {
		return func() float64 { return f(db.EntryCacheStats()) }
	}
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "atrium_entry_cache_hits_total",
			Help: "Page views whose session and membership came from the entry cache."},
			stat(func(s store.EntryCacheStats) float64 { return float64(s.Hits) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "atrium_entry_cache_misses_total",
			Help: "Page views with a session that the entry cache could not answer while live."},
			stat(func(s store.EntryCacheStats) float64 { return float64(s.Misses) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "atrium_entry_cache_lapses_total",
			Help: "Times the entry cache went off and forgot everything (its watcher lost the connection or stopped hearing its probes)."},
			stat(func(s store.EntryCacheStats) float64 { return float64(s.Lapses) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "atrium_entry_cache_entries",
			Help: "Entries the entry cache holds."},
			stat(func(s store.EntryCacheStats) float64 { return float64(s.Entries) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "atrium_entry_cache_live",
			Help: "1 while the entry cache's watcher hears database changes and the cache answers."},
			stat(func(s store.EntryCacheStats) float64 {
				if s.Live {
					return 1
				}
				return 0
			})),
	)
}

// purgeSessions deletes expired sessions every ten minutes.
func purgeSessions(ctx context.Context, log *slog.Logger, db *store.DB) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := db.PurgeExpiredSessions(ctx); err != nil {
				log.Error("purge expired sessions", "err", err)
			} else if n > 0 {
				log.Info("purged expired sessions", "count", n)
			}
		}
	}
}

// tuneGC trades some memory for CPU unless GOGC or GOMEMLIMIT are set: a
// page view allocates briefly, and collecting at 300% growth instead of 100%
// gave the members page 16% more throughput under load (make bench), while
// the soft 200 MiB limit keeps the heap well inside a 250 MB budget.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(200 << 20)
	}
}
