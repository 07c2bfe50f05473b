package store

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Batch queues a page's reads so they reach PostgreSQL in one round trip,
// together with the statement that scopes them to the tenant. Results land
// in the destinations given when queueing, once ReadTenant returns nil.
type Batch struct {
	b pgx.Batch
	// opened: the door that runs the batch knows the tenant row's figures
	// (from a cached entry, or from the statement that sets the tenant:
	// readTenant's opener, enter_tenant), and fromRow are the reads that
	// take their answer from them.
	opened  bool
	fromRow []func(tenantFigures)
	// cache, when set, answers for what is kept of tenant (orgKept), or of
	// the system (the outbox) in a system batch, and keeps what the batch
	// reads of it; gen and listGen are the cache's generations from before
	// the batch was queued. Only batches outside a transaction have one
	// (readTenant's, EnterConsole's, ReadSystemBatch's): one in a
	// transaction could see, and keep, its own uncommitted writes.
	cache        *entryCache
	tenant       uuid.UUID
	gen, listGen uint64
}

// tenantFigures are what the tenant row keeps about the organization as a
// whole, which an entry carries and readTenant's opener reads: reads of
// nothing more cost no statement of their own.
type tenantFigures struct {
	members, withoutMFA int
	requireMFA          bool
}

// setFigures answers every read that takes its answer from the tenant row.
func (b *Batch) setFigures(f tenantFigures) {
	for _, fn := range b.fromRow {
		fn(f)
	}
}

// ReadTenant runs the reads fn queues, in one round trip, scoped to the
// tenant in ctx. The batch is one implicit transaction: the tenant setting
// is transaction-local and gone when the batch ends, and if any statement
// fails the whole batch fails and no destination may be trusted. Writes
// belong in InTenant.
func (db *DB) ReadTenant(ctx context.Context, fn func(*Batch)) error {
	id, err := tenantIn(ctx, "ReadTenant")
	if err != nil {
		return err
	}
	return db.readTenant(ctx, id, nil, fn)
}

// readTenant sends the tenant setting for id and the reads fn queues in one
// round trip. figures are the tenant row's when the caller knows them (a
// cached entry, see Entry.figures): reads of the row then take their answer
// from them, and reads that ask for nothing more cost no round trip at all.
// Otherwise the statement that sets the tenant reads them.
func (db *DB) readTenant(ctx context.Context, id uuid.UUID, figures *tenantFigures, fn func(*Batch)) error {
	b := Batch{opened: true, cache: db.entries, tenant: id,
		gen: db.entries.generation(), listGen: db.entries.listGeneration()}
	opener := b.b.Queue(setTenantSQL, id.String())
	fn(&b)
	if figures != nil {
		b.setFigures(*figures)
	}
	if figures != nil || len(b.fromRow) == 0 {
		if b.b.Len() == 1 {
			return nil // nothing to read, so no tenant to set
		}
		return translate(db.pool.SendBatch(ctx, &b.b).Close(), "read tenant")
	}
	// The figures are unknown: the statement that sets the tenant reads them.
	open := func(row pgx.Row) error {
		var members, withoutMFA *int
		var requireMFA *bool
		if err := row.Scan(nil, &members, &withoutMFA, &requireMFA); err != nil {
			return err
		}
		if members == nil || withoutMFA == nil || requireMFA == nil {
			return errNoRows // no such tenant to read
		}
		b.setFigures(tenantFigures{members: *members, withoutMFA: *withoutMFA, requireMFA: *requireMFA})
		return nil
	}
	if b.b.Len() == 1 {
		// Nothing but the figures: a plain query, which costs pgx half the
		// work and allocations of a pipeline.
		return translate(open(db.pool.QueryRow(ctx, openTenantSQL, id.String())), "read tenant")
	}
	opener.SQL = openTenantSQL
	opener.QueryRow(open)
	return translate(db.pool.SendBatch(ctx, &b.b).Close(), "read tenant")
}

// openTenantSQL sets the tenant and reads the tenant row's figures in one
// statement, for reads made without a cached entry that knows them. The
// setting does not depend on the tenant row existing: without one, the
// row's columns are null.
const openTenantSQL = `SELECT set_config('app.tenant_id', $1::text, true), t.member_count, t.members_without_mfa, t.require_mfa
	FROM (VALUES (1)) one LEFT JOIN tenants t ON t.id = $1::text::uuid`

// ReadSystemBatch runs the system-wide reads fn queues in one round trip,
// with no tenant set: tenant tables show no rows in it. It is ReadSystem's
// batched form, for console pages (whose reads usually travel in
// EnterConsole's round trip instead).
func (db *DB) ReadSystemBatch(ctx context.Context, fn func(*Batch)) error {
	b := Batch{cache: db.entries, gen: db.entries.generation()}
	fn(&b)
	if b.b.Len() == 0 {
		return nil // everything came from the cache
	}
	return translate(db.pool.SendBatch(ctx, &b.b).Close(), "read system")
}

// Read runs the reads fn queues in one round trip inside the transaction,
// under its tenant: a page's batched reads where a write needs them.
func (tx *Tx) Read(ctx context.Context, fn func(*Batch)) error {
	var b Batch
	fn(&b)
	return translate(tx.tx.SendBatch(ctx, &b.b).Close(), "read")
}

// CountMembers queues a count of the tenant's members into dst: the count
// the tenant row keeps, which ReadTenant's opening statement has already
// read (other batches queue a statement for it).
func (b *Batch) CountMembers(dst *int) {
	if b.opened {
		b.fromRow = append(b.fromRow, func(f tenantFigures) { *dst = f.members })
		return
	}
	b.b.Queue(countMembersSQL).QueryRow(func(row pgx.Row) error { return row.Scan(dst) })
}

// collectPage gathers the rows of a page of at most n into a slice made for
// them. Each row is scanned into one reused value through the destinations
// fields gives for it, and copied in: pgx.CollectRows would grow a 50-row
// page from one element (copying it six times on the way) and allocate a
// value and an argument list per row. pgx gives pointer and slice fields
// fresh storage for each row; the value is zeroed before each scan all the
// same, so that no codec can hand a row anything of the row before.
func collectPage[T any](rows pgx.Rows, n int, fields func(*T) []any) ([]T, error) {
	defer rows.Close()
	list := make([]T, 0, n)
	var row T
	dst := fields(&row)
	for rows.Next() {
		var zero T
		row = zero
		if err := rows.Scan(dst...); err != nil {
			return nil, err
		}
		list = append(list, row)
	}
	return list, rows.Err()
}

// queueOne queues sql and puts the row it returns, if any, into a new T at
// *dst through the scan destinations fields gives; *dst stays nil when
// there is no row (which, under the tenant's policies, includes another
// tenant's).
func queueOne[T any](b *Batch, dst **T, fields func(*T) []any, sql string, args ...any) {
	queueOneThen(b, dst, fields, nil, sql, args...)
}

// queueOneThen is queueOne, and hands the row found, if any, to then.
func queueOneThen[T any](b *Batch, dst **T, fields func(*T) []any, then func(*T), sql string, args ...any) {
	b.b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		if !rows.Next() {
			return rows.Err()
		}
		v := new(T)
		if err := rows.Scan(fields(v)...); err != nil {
			return err
		}
		*dst = v
		if then != nil {
			then(v)
		}
		return nil
	})
}

// FindMembers queues the tenant's first limit members, by name, into dst.
func (b *Batch) FindMembers(limit int, dst *[]Member) {
	b.b.Queue(findMembersSQL, limit).Query(func(rows pgx.Rows) error {
		list, err := collectPage(rows, limit, (*Member).fields)
		*dst = list
		return err
	})
}
