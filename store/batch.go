package store

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atrium-dev/atrium"
)

// Batch queues a page's reads so they reach PostgreSQL in one round trip,
// together with the statement that scopes them to the tenant. Results land
// in the destinations given when queueing, once ReadTenant returns nil.
type Batch struct {
	b pgx.Batch
}

// ReadTenant runs the reads fn queues, in one round trip, scoped to the
// tenant in ctx. The batch is one implicit transaction: the tenant setting
// is transaction-local and gone when the batch ends, and if any statement
// fails the whole batch fails and no destination may be trusted. Writes
// belong in InTenant.
func (db *DB) ReadTenant(ctx context.Context, fn func(*Batch)) error {
	t := atrium.TenantFromContext(ctx)
	if t == nil || t.ID == uuid.Nil {
		return &atrium.Error{Code: atrium.EINTERNAL, Message: "no tenant", Err: errors.New("store: ReadTenant called without a tenant in context")}
	}
	return db.readTenant(ctx, t.ID, fn)
}

// readTenant sends the tenant setting for id and the reads fn queues in one
// round trip.
func (db *DB) readTenant(ctx context.Context, id uuid.UUID, fn func(*Batch)) error {
	var b Batch
	b.b.Queue(setTenantSQL, id.String())
	fn(&b)
	return translate(db.pool.SendBatch(ctx, &b.b).Close(), "read tenant")
}

// ReadSystemBatch runs the system-wide reads fn queues in one round trip,
// with no tenant set: tenant tables show no rows in it. It is ReadSystem's
// batched form, for console pages (whose reads usually travel in
// EnterConsole's round trip instead).
func (db *DB) ReadSystemBatch(ctx context.Context, fn func(*Batch)) error {
	var b Batch
	fn(&b)
	return translate(db.pool.SendBatch(ctx, &b.b).Close(), "read system")
}

// CountMembers queues a count of the tenant's members into dst.
func (b *Batch) CountMembers(dst *int) {
	b.b.Queue(countMembersSQL).QueryRow(func(row pgx.Row) error { return row.Scan(dst) })
}

// FindMembers queues the tenant's first limit members, by name, into dst.
func (b *Batch) FindMembers(limit int, dst *[]Member) {
	b.b.Queue(findMembersSQL, limit).Query(func(rows pgx.Rows) error {
		list, err := pgx.CollectRows(rows, scanMember)
		*dst = list
		return err
	})
}
