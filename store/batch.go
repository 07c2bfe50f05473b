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
	// opened: the door that runs the batch fills member counts itself
	// (from a cached entry, or from the statement that sets the tenant:
	// readTenant's opener, enter_tenant); counts are where they go.
	opened bool
	counts []*int
}

// setCounts gives every queued member count its value.
func (b *Batch) setCounts(n int) {
	for _, dst := range b.counts {
		*dst = n
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
// round trip. members is the tenant's member count when the caller knows
// it (a cached entry, see Entry.MemberCount): member counts then come from
// it, and reads that ask for nothing more cost no round trip at all.
// Otherwise a count is read by the statement that sets the tenant.
func (db *DB) readTenant(ctx context.Context, id uuid.UUID, members *int, fn func(*Batch)) error {
	b := Batch{opened: true}
	opener := b.b.Queue(setTenantSQL, id.String())
	fn(&b)
	if members != nil {
		b.setCounts(*members)
	}
	if members != nil || len(b.counts) == 0 {
		if b.b.Len() == 1 {
			return nil // nothing to read, so no tenant to set
		}
		return translate(db.pool.SendBatch(ctx, &b.b).Close(), "read tenant")
	}
	// The count is unknown: the statement that sets the tenant reads it.
	open := func(row pgx.Row) error {
		var n *int
		if err := row.Scan(nil, &n); err != nil {
			return err
		}
		if n == nil {
			return errNoRows // no such tenant to count
		}
		b.setCounts(*n)
		return nil
	}
	if b.b.Len() == 1 {
		// Nothing but the count: a plain query, which costs pgx half the
		// work and allocations of a pipeline.
		return translate(open(db.pool.QueryRow(ctx, openTenantSQL, id.String())), "read tenant")
	}
	opener.SQL = openTenantSQL
	opener.QueryRow(open)
	return translate(db.pool.SendBatch(ctx, &b.b).Close(), "read tenant")
}

// openTenantSQL sets the tenant and reads its member count (the dashboard
// and the member list show it) in one statement, for reads made without a
// cached entry that knows the count. The setting and the count are a row of
// two independent expressions, so the setting never depends on the tenant
// row existing.
const openTenantSQL = `SELECT set_config('app.tenant_id', $1, true), (SELECT member_count FROM tenants WHERE id = $1::uuid)`

// ReadSystemBatch runs the system-wide reads fn queues in one round trip,
// with no tenant set: tenant tables show no rows in it. It is ReadSystem's
// batched form, for console pages (whose reads usually travel in
// EnterConsole's round trip instead).
func (db *DB) ReadSystemBatch(ctx context.Context, fn func(*Batch)) error {
	var b Batch
	fn(&b)
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
		b.counts = append(b.counts, dst)
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
	b.b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		if !rows.Next() {
			return rows.Err()
		}
		v := new(T)
		if err := rows.Scan(fields(v)...); err != nil {
			return err
		}
		*dst = v
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
