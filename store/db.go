// Package store is Atrium's only door to PostgreSQL. Tenant rows are reached
// through InTenant, which scopes a transaction to the tenant in the context;
// the few system-wide tables (the tenant registry, users, operators) through
// InSystem. Both doors are greppable, so every cross-tenant read is visible in
// review.
package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atrium-dev/atrium"
)

// DB is a pool of connections as the application role.
type DB struct {
	pool    *pgxpool.Pool
	entries *entryCache // nil without Options.EntryCache
	probes  sync.Map    // nonce → chan struct{}, closed when the watcher hears it
	looks   looks       // operators' recorded looks, see OperatorLook
}

// Options tune the pool. Zero values take pgxpool's defaults.
type Options struct {
	MaxConns int32
	// ApplicationName shows up in pg_stat_activity.
	ApplicationName string
	// EntryCache is how many signed-in members' entries to keep in memory
	// (see entryCache); 0 keeps none. The cache answers only while
	// WatchChanges runs.
	EntryCache int
}

// Open connects to url, checks the connection, and returns the pool.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: parse database url: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	name := opts.ApplicationName
	if name == "" {
		name = "atrium"
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = name
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		registerTypes(c.TypeMap())
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open pool: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	db := &DB{pool: pool}
	if opts.EntryCache > 0 {
		db.entries = newEntryCache(opts.EntryCache)
	}
	return db, nil
}

// Close closes every connection in the pool.
func (db *DB) Close() { db.pool.Close() }

// Ping checks that the database answers; /readyz uses it.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

// Tx is a transaction scoped to one tenant: every query in it sees only that
// tenant's rows, enforced by PostgreSQL's row-level security.
type Tx struct {
	tx       pgx.Tx
	TenantID uuid.UUID
	ch       *change // what the entry cache must forget when this commits
}

// SysTx reaches the system-wide tables, in a transaction (InSystem) or
// statement by statement (ReadSystem). Tenant tables are invisible in it (no
// tenant is set, so their policies match no row).
type SysTx struct {
	tx querier
	ch *change // what the entry cache must forget when this commits
}

// querier is what SysTx needs of a transaction or of the pool.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// InTenant runs fn in a transaction scoped to the tenant in ctx and commits
// if fn returns nil. It refuses to run without a tenant: a forgotten tenant is
// a bug, and the answer to a bug here is to fail closed. BEGIN and the tenant
// setting travel in one round trip.
func (db *DB) InTenant(ctx context.Context, fn func(*Tx) error) error {
	id, err := tenantIn(ctx, "InTenant")
	if err != nil {
		return err
	}
	return db.inTx(ctx, id, pgx.TxOptions{}, func(tx pgx.Tx, ch *change) error {
		// Anything in the tenant may have changed (a membership, a role,
		// the organization): its cached entries go, unless the
		// transaction narrows that down (onlySession).
		ch.tenants = append(ch.tenants, id)
		return fn(&Tx{tx: tx, TenantID: id, ch: ch})
	})
}

// tenantIn returns the id of the tenant in ctx. A tenant door called
// without one is a bug, and the answer to a bug here is to fail closed.
func tenantIn(ctx context.Context, door string) (uuid.UUID, error) {
	t := atrium.TenantFromContext(ctx)
	if t == nil || t.ID == uuid.Nil {
		return uuid.Nil, &atrium.Error{Code: atrium.EINTERNAL, Message: "no tenant", Err: errors.New("store: " + door + " called without a tenant in context")}
	}
	return t.ID, nil
}

// InTenantReadOnly is InTenant for reads that stream more rows than a
// Batch should hold (the audit export): a READ ONLY transaction, so
// PostgreSQL refuses any write fn attempts, and nothing counts as changed:
// the tenant's cached entries stay.
func (db *DB) InTenantReadOnly(ctx context.Context, fn func(*Tx) error) error {
	id, err := tenantIn(ctx, "InTenantReadOnly")
	if err != nil {
		return err
	}
	return db.inTx(ctx, id, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx, ch *change) error {
		return fn(&Tx{tx: tx, TenantID: id, ch: ch})
	})
}

// InSystem runs fn in a transaction over the system-wide tables and commits if
// fn returns nil.
func (db *DB) InSystem(ctx context.Context, fn func(*SysTx) error) error {
	return db.inTx(ctx, uuid.Nil, pgx.TxOptions{}, func(tx pgx.Tx, ch *change) error {
		return fn(&SysTx{tx: tx, ch: ch})
	})
}

// inTx begins a transaction, scoped to tenant unless it is uuid.Nil, runs fn
// and commits, or rolls back when fn or the commit fails. After a commit the
// entry cache forgets what fn noted in its change, at once, so this server
// reads its own writes; other servers hear of it through the triggers.
func (db *DB) inTx(ctx context.Context, tenant uuid.UUID, opts pgx.TxOptions, fn func(pgx.Tx, *change) error) (err error) {
	var b pgx.Batch
	b.BeginTx(opts)
	if tenant != uuid.Nil {
		b.Queue(setTenantSQL, tenant.String())
	}
	br := db.pool.SendBatch(ctx, &b)
	tx := br.Tx()
	if err := br.Close(); err != nil {
		if tx != nil {
			_ = tx.Rollback(ctx)
		}
		return fmt.Errorf("store: begin: %w", err)
	}
	if tx == nil {
		return errors.New("store: begin: no transaction")
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	var ch change
	if err := fn(tx, &ch); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	db.forget(&ch)
	return nil
}

// forget drops what ch names from the entry cache.
func (db *DB) forget(ch *change) {
	if db.entries != nil && (ch.all || ch.outbox || len(ch.sessions)+len(ch.tenants)+len(ch.users)+len(ch.operators)+len(ch.lists)+len(ch.audits) > 0) {
		db.entries.drop(ch)
	}
}

const setTenantSQL = `SELECT set_config('app.tenant_id', $1, true)`

// ReadSystem runs fn over the system-wide tables without a transaction:
// each statement stands alone and costs one round trip, instead of three
// with BEGIN and COMMIT. It is for reads (a page's lookups); anything that
// writes more than one row belongs in InSystem.
func (db *DB) ReadSystem(ctx context.Context, fn func(*SysTx) error) error {
	var ch change
	defer db.forget(&ch)
	return fn(&SysTx{tx: db.pool, ch: &ch})
}

// EnterTenant scopes the rest of this system transaction to one tenant, for
// the rare operation that must write system and tenant rows atomically
// (signing up creates the tenant, the user and the owner's membership). It
// needs InSystem's transaction: outside one, a tenant setting would not last.
func (s *SysTx) EnterTenant(ctx context.Context, tenantID uuid.UUID) (*Tx, error) {
	tx, ok := s.tx.(pgx.Tx)
	if !ok {
		return nil, errors.New("store: EnterTenant outside a transaction (use InSystem)")
	}
	s.ch.tenants = append(s.ch.tenants, tenantID)
	return enterTenant(ctx, tx, tenantID, s.ch)
}

// enterTenant sets app.tenant_id transaction-locally, so a pooled connection
// never carries one tenant into the next request.
func enterTenant(ctx context.Context, tx pgx.Tx, id uuid.UUID, ch *change) (*Tx, error) {
	if _, err := tx.Exec(ctx, setTenantSQL, id.String()); err != nil {
		return nil, fmt.Errorf("store: set tenant: %w", err)
	}
	return &Tx{tx: tx, TenantID: id, ch: ch}, nil
}

// CheckIsolation refuses a connection role that would defeat row-level
// security: a superuser or a BYPASSRLS role sees every tenant's rows. The
// server calls it at start, so a misconfigured DATABASE_URL fails closed.
func (db *DB) CheckIsolation(ctx context.Context) error {
	var role string
	var super, bypass bool
	err := db.pool.QueryRow(ctx, `
		SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`,
	).Scan(&role, &super, &bypass)
	if err != nil {
		return fmt.Errorf("store: check role: %w", err)
	}
	if super || bypass {
		return fmt.Errorf("store: the database role %q bypasses row-level security (superuser or BYPASSRLS); connect as the app role (%s) instead", role, AppRole)
	}
	return nil
}
