package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"html"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// baselineQuery returns what the dashboard shows (the tenant's name and
// member count) in one query, as a superuser: no RLS, no tenant setting, no
// transaction.
const baselineQuery = `
	SELECT t.name, count(m.*) FROM tenants t LEFT JOIN memberships m ON m.tenant_id = t.id
	WHERE t.slug = $1 GROUP BY t.name`

// runBaseline handles "bench baseline --addr A --db URL": the bare stack
// that Atrium's pages are measured against. It is net/http and a pgx pool
// of the same size as the server's, one query per request and a page
// written with fmt: what the same row count costs with nothing else. It runs
// as its own process, like the server, so that its CPU and memory are
// measured the same way.
func runBaseline(args []string) error {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	dbURL := fs.String("db", "", "PostgreSQL URL (a superuser, so that no RLS applies)")
	conns := fs.Int("pool", pool, "connection pool size")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := pgxpool.ParseConfig(*dbURL)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	cfg.MaxConns = int32(*conns)
	cfg.ConnConfig.RuntimeParams["application_name"] = "bench-baseline"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	defer pool.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /bare/{slug}", func(w http.ResponseWriter, r *http.Request) {
		var name string
		var members int
		err := pool.QueryRow(r.Context(), baselineQuery, r.PathValue("slug")).Scan(&name, &members)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			http.NotFound(w, r)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		name = html.EscapeString(name)
		fmt.Fprintf(w, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>\n"+
			"<body><h1>%s</h1><p>%d members</p></body></html>\n", name, name, members)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := pool.Ping(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})

	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return fmt.Errorf("baseline: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
