package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
)

// explicitMembers is what the tenant door reads for the members page
// (store's FindMembersPage: the member count and the first 50 members),
// with the tenant named explicitly instead of by RLS, in one statement.
const explicitMembers = `
	SELECT (SELECT member_count FROM tenants WHERE id = $1),
	       m.id, m.email, m.name, m.role, m.created_at, coalesce(r.name, '')
	FROM memberships m
	LEFT JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.custom_role_id
	WHERE m.tenant_id = $1
	ORDER BY m.name, m.email, m.id LIMIT 50`

// doorResult compares the same count through the tenant door and without it.
type doorResult struct {
	Door     float64 `json:"door_ops_per_s"`      // store.ReadTenant + FindMembersPage(50), as the app role: one round trip
	DoorTx   float64 `json:"door_tx_ops_per_s"`   // store.InTenant + the same reads: a transaction, as writes use
	Explicit float64 `json:"explicit_ops_per_s"`  // WHERE tenant_id = $1, as the owner role
	Super    float64 `json:"superuser_ops_per_s"` // the same as a superuser, for reference
	Overhead float64 `json:"overhead"`            // 1 - Door/Explicit
	Errors   int     `json:"errors"`
	Error    string  `json:"first_error,omitempty"`
}

// measureDoor runs the members page's reads of the hot tenants for d with workers
// goroutines, once through the tenant door (a transaction setting
// app.tenant_id, then the RLS-filtered query) and once as a single explicit
// query, each on its own pool of the same size as the server's.
func measureDoor(ctx context.Context, appURL, ownerURL, superURL string, tenants []uuid.UUID, workers int, d time.Duration) (*doorResult, error) {
	db, err := store.Open(ctx, appURL, store.Options{MaxConns: pool, ApplicationName: "bench-door"})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	owner, err := openPool(ctx, ownerURL, pool, "bench-door")
	if err != nil {
		return nil, err
	}
	defer owner.Close()
	super, err := openPool(ctx, superURL, pool, "bench-door")
	if err != nil {
		return nil, err
	}
	defer super.Close()

	ctxs := make([]context.Context, len(tenants))
	for i, id := range tenants {
		ctxs[i] = atrium.WithTenant(ctx, &atrium.Tenant{ID: id})
	}
	var r doorResult
	var firstErr error
	measure := func(op func(i int) error) float64 {
		ops, errs, err := hammer(ctx, workers, time.Second, d, len(tenants), op)
		r.Errors += errs
		if firstErr == nil {
			firstErr = err
		}
		return ops
	}
	page := func(b *store.Batch) {
		var list []store.Member
		var total int
		b.FindMembersPage(store.MemberFilter{Limit: 50}, &list, &total)
	}
	r.Door = measure(func(i int) error { return db.ReadTenant(ctxs[i], page) })
	r.DoorTx = measure(func(i int) error {
		return db.InTenant(ctxs[i], func(tx *store.Tx) error { return tx.Read(ctxs[i], page) })
	})
	explicit := func(pool *pgxpool.Pool) func(int) error {
		return func(i int) error {
			rows, err := pool.Query(ctx, explicitMembers, tenants[i])
			if err != nil {
				return err
			}
			// Scan as the door does (store's collectPage: one reused value,
			// a slice sized for the page), so both paths pay for the same
			// work and only the door's cost differs.
			list := make([]store.Member, 0, 50)
			var m store.Member
			var total int
			dst := []any{&total, &m.ID, &m.Email, &m.Name, &m.Role, &m.CreatedAt, &m.RoleName}
			for rows.Next() {
				m = store.Member{}
				if err := rows.Scan(dst...); err != nil {
					rows.Close()
					return err
				}
				list = append(list, m)
			}
			rows.Close()
			return rows.Err()
		}
	}
	r.Explicit = measure(explicit(owner))
	r.Super = measure(explicit(super))
	if r.Explicit > 0 {
		r.Overhead = 1 - r.Door/r.Explicit
	}
	if firstErr != nil {
		r.Error = firstErr.Error()
	}
	return &r, ctx.Err()
}

// openPool opens a pool of conns connections to url, named name in
// pg_stat_activity, and checks that it connects.
func openPool(ctx context.Context, url string, conns int32, name string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = conns
	cfg.ConnConfig.RuntimeParams["application_name"] = name
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect %s: %w", cfg.ConnConfig.User, err)
	}
	return pool, nil
}

// hammer calls op from workers goroutines, spreading i round-robin over n,
// for warmup and then for d, and returns the operations per second of d.
func hammer(ctx context.Context, workers int, warmup, d time.Duration, n int, op func(i int) error) (float64, int, error) {
	var (
		counting, stop atomic.Bool
		next           atomic.Uint64
		done, failed   atomic.Int64
		mu             sync.Mutex
		firstErr       error
		wg             sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for !stop.Load() && ctx.Err() == nil {
				err := op(int(next.Add(1) % uint64(n)))
				if !counting.Load() {
					continue
				}
				if err != nil {
					failed.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				done.Add(1)
			}
		})
	}
	sleep(ctx, warmup)
	counting.Store(true)
	t0 := time.Now()
	sleep(ctx, d)
	counting.Store(false)
	elapsed := time.Since(t0)
	stop.Store(true)
	wg.Wait()
	return float64(done.Load()) / elapsed.Seconds(), int(failed.Load()), firstErr
}
