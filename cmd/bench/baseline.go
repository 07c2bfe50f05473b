package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"html"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The baseline's queries return what each Atrium page shows, the same rows
// and columns, in one query each, as a superuser: no RLS, no tenant
// setting, no session, no transaction.
const (
	// bareDashboard: the tenant's name and member count (one row).
	bareDashboard = `SELECT name, member_count FROM tenants WHERE slug = $1 AND deleted_at IS NULL`
	// bareMembers: the first 50 members by name, with the count, and the
	// name of the custom role of those holding one.
	bareMembers = `
		SELECT t.member_count, m.name, m.email, coalesce(r.name, m.role), m.created_at
		FROM tenants t JOIN memberships m ON m.tenant_id = t.id
		LEFT JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.custom_role_id
		WHERE t.slug = $1 AND t.deleted_at IS NULL
		ORDER BY m.name, m.email, m.id LIMIT 50`
	// bareAudit: the 50 latest audit events.
	bareAudit = `
		SELECT a.occurred_at, a.actor_email, a.action, a.target_label, coalesce(host(a.ip), '')
		FROM audit_events a
		WHERE a.tenant_id = (SELECT id FROM tenants WHERE slug = $1 AND deleted_at IS NULL)
		ORDER BY a.id DESC LIMIT 50`
	// bareTenantID: the tenant's id, for the tenant setting of the
	// calibration pages (looked up once per tenant and kept).
	bareTenantID = `SELECT id FROM tenants WHERE slug = $1 AND deleted_at IS NULL`
	// bareConsole: the 50 newest organizations.
	bareConsole = `
		SELECT slug, name, member_count, created_at FROM tenants WHERE deleted_at IS NULL
		ORDER BY created_at DESC, id LIMIT 50`
)

// runBaseline handles "bench baseline --addr A --db URL": the bare stack
// that Atrium's pages are measured against. It is net/http and a pgx pool
// of the same size as the server's, one query per request and a page
// written by hand with html.EscapeString: what the same rows cost with
// nothing else. It runs as its own process, like the server, so that its
// CPU and memory are measured the same way.
func runBaseline(args []string) error {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	dbURL := fs.String("db", "", "PostgreSQL URL (a superuser, so that no RLS applies)")
	appURL := fs.String("app-db", "", "PostgreSQL URL of the app role, for the tenant-setting calibration pages")
	conns := fs.Int("pool", pool, "connection pool size")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	pool, err := openPool(ctx, *dbURL, int32(*conns), "bench-baseline")
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	defer pool.Close()
	app, err := openPool(ctx, *appURL, int32(*conns), "bench-baseline")
	if err != nil {
		return fmt.Errorf("baseline: app role: %w", err)
	}
	defer app.Close()
	tenants := tenantIDs{pool: pool}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /bare/{slug}", func(w http.ResponseWriter, r *http.Request) {
		var name string
		var members int
		err := pool.QueryRow(r.Context(), bareDashboard, r.PathValue("slug")).Scan(&name, &members)
		var b bytes.Buffer
		page(&b, name)
		fmt.Fprintf(&b, "<p>%d members</p>", members)
		answer(w, r, err, &b)
	})
	// The calibration of the tenant setting: the dashboard's query
	// as the app role, wrapped in BEGIN + set_config + COMMIT, as four
	// round trips and as one pgx batch.
	tenantPage := func(read func(ctx context.Context, id, slug string) (string, int, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			slug := r.PathValue("slug")
			id, err := tenants.id(r.Context(), slug)
			var name string
			var members int
			if err == nil {
				name, members, err = read(r.Context(), id, slug)
			}
			var b bytes.Buffer
			page(&b, name)
			fmt.Fprintf(&b, "<p>%d members</p>", members)
			answer(w, r, err, &b)
		}
	}
	mux.HandleFunc("GET /bare/{slug}/trips", tenantPage(func(ctx context.Context, id, slug string) (name string, members int, err error) {
		err = pgx.BeginFunc(ctx, app, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, setTenant, id); err != nil {
				return err
			}
			return tx.QueryRow(ctx, bareDashboard, slug).Scan(&name, &members)
		})
		return name, members, err
	}))
	mux.HandleFunc("GET /bare/{slug}/batch", tenantPage(func(ctx context.Context, id, slug string) (name string, members int, err error) {
		var batch pgx.Batch
		batch.Queue("BEGIN")
		batch.Queue(setTenant, id)
		batch.Queue(bareDashboard, slug).QueryRow(func(row pgx.Row) error { return row.Scan(&name, &members) })
		batch.Queue("COMMIT")
		err = app.SendBatch(ctx, &batch).Close()
		return name, members, err
	}))
	mux.HandleFunc("GET /bare/{slug}/members", func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		var total int
		var name, email, role string
		var joined time.Time
		page(&b, "Members")
		b.WriteString("<table>\n")
		n, err := rows(r.Context(), pool, bareMembers, []any{r.PathValue("slug")}, []any{&total, &name, &email, &role, &joined}, func() {
			cells(&b, name, email, role, joined.Format("2 Jan 2006"))
		})
		if err == nil && n == 0 {
			err = pgx.ErrNoRows
		}
		fmt.Fprintf(&b, "</table><p>%d members</p>", total)
		answer(w, r, err, &b)
	})
	mux.HandleFunc("GET /bare/{slug}/audit", func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		var at time.Time
		var actor, action, target, ip string
		page(&b, "Audit log")
		b.WriteString("<table>\n")
		_, err := rows(r.Context(), pool, bareAudit, []any{r.PathValue("slug")}, []any{&at, &actor, &action, &target, &ip}, func() {
			cells(&b, at.UTC().Format(time.DateTime), actor, action, target, ip)
		})
		b.WriteString("</table>")
		answer(w, r, err, &b)
	})
	mux.HandleFunc("GET /bare/console", func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		var slug, name string
		var members int
		var created time.Time
		page(&b, "Organizations")
		b.WriteString("<table>\n")
		_, err := rows(r.Context(), pool, bareConsole, nil, []any{&slug, &name, &members, &created}, func() {
			cells(&b, name, slug, strconv.Itoa(members), created.Format("2 Jan 2006"))
		})
		b.WriteString("</table>")
		answer(w, r, err, &b)
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

// setTenant is the tenant setting, as Atrium's store makes it.
const setTenant = `SELECT set_config('app.tenant_id', $1, true)`

// tenantIDs keeps each tenant's id by slug, looked up on first use: the
// calibration pages set the tenant as Atrium does, from memory.
type tenantIDs struct {
	pool *pgxpool.Pool
	ids  sync.Map // slug → id
}

func (t *tenantIDs) id(ctx context.Context, slug string) (string, error) {
	if id, ok := t.ids.Load(slug); ok {
		return id.(string), nil
	}
	var id string
	if err := t.pool.QueryRow(ctx, bareTenantID, slug).Scan(&id); err != nil {
		return "", err
	}
	t.ids.Store(slug, id)
	return id, nil
}

// rows runs query and calls each after scanning every row into dst.
func rows(ctx context.Context, pool *pgxpool.Pool, query string, args, dst []any, each func()) (int, error) {
	rs, err := pool.Query(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n := 0
	_, err = pgx.ForEachRow(rs, dst, func() error {
		n++
		each()
		return nil
	})
	return n, err
}

// page starts a page titled title: the head and the heading.
func page(b *bytes.Buffer, title string) {
	t := html.EscapeString(title)
	fmt.Fprintf(b, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>\n<body><h1>%s</h1>", t, t)
}

// cells writes one table row.
func cells(b *bytes.Buffer, values ...string) {
	b.WriteString("<tr>")
	for _, v := range values {
		b.WriteString("<td>")
		b.WriteString(html.EscapeString(v))
		b.WriteString("</td>")
	}
	b.WriteString("</tr>\n")
}

// answer writes the page, 404 for an unknown tenant or 500.
func answer(w http.ResponseWriter, r *http.Request, err error, b *bytes.Buffer) {
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		http.NotFound(w, r)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b.WriteString("</body></html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	_, _ = w.Write(b.Bytes())
}
