package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Tenant is an organization in the registry.
type Tenant struct {
	ID          uuid.UUID
	Slug        string
	Name        string
	MemberCount int
	CreatedAt   time.Time
}

// fields are t's scan destinations for the registry's columns in the order
// every reader selects them: id, slug, name, member_count, created_at.
func (t *Tenant) fields() []any {
	return []any{&t.ID, &t.Slug, &t.Name, &t.MemberCount, &t.CreatedAt}
}

// FindTenantBySlug returns the live (not deleted) tenant with that slug.
func (s *SysTx) FindTenantBySlug(ctx context.Context, slug string) (*Tenant, error) {
	var t Tenant
	err := s.tx.QueryRow(ctx, `
		SELECT id, slug, name, member_count, created_at
		FROM tenants WHERE slug = $1 AND deleted_at IS NULL`, slug,
	).Scan(t.fields()...)
	if err != nil {
		return nil, translate(err, "find tenant by slug")
	}
	return &t, nil
}

// CreateTenant adds an organization to the registry.
func (s *SysTx) CreateTenant(ctx context.Context, slug, name string) (*Tenant, error) {
	t := Tenant{Slug: slug, Name: name}
	err := s.tx.QueryRow(ctx, `
		INSERT INTO tenants (slug, name) VALUES ($1, $2) RETURNING id, created_at`,
		slug, name,
	).Scan(&t.ID, &t.CreatedAt)
	if err != nil {
		return nil, translate(err, "create tenant")
	}
	return &t, nil
}

// TenantFilter pages through the registry, newest first.
type TenantFilter struct {
	Query  string // matches name or slug, case-insensitively
	Limit  int
	Offset int
}

// FindTenants queues a page of live tenants for the operator console,
// newest first, into list, and how many match into total, for a system
// batch (EnterConsole or ReadSystemBatch). Counting 100,000 rows on every
// page view would cost more than the page, so without a search the total is
// the planner's estimate once the registry is large (approx is then true);
// a search is counted exactly, through the trigram indexes.
func (b *Batch) FindTenants(f TenantFilter, list *[]Tenant, total *int, approx *bool) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	where := `deleted_at IS NULL`
	args := []any{}
	if f.Query != "" {
		where += ` AND (name ILIKE $1 OR slug ILIKE $1)`
		args = append(args, "%"+escapeLike(f.Query)+"%")
	}
	if f.Query == "" {
		// The subquery runs only when the estimate is small.
		b.b.Queue(`
			SELECT CASE WHEN c.reltuples >= 10000 THEN c.reltuples::bigint
			            ELSE (SELECT count(*) FROM tenants WHERE deleted_at IS NULL) END,
			       c.reltuples >= 10000
			FROM pg_class c WHERE c.oid = 'tenants'::regclass`).QueryRow(func(row pgx.Row) error {
			return row.Scan(total, approx)
		})
	} else {
		b.b.Queue(`SELECT count(*) FROM tenants WHERE `+where, args...).QueryRow(func(row pgx.Row) error {
			return row.Scan(total)
		})
	}
	// The limit is written into the statement and the first page has no
	// offset: with either as a parameter, PostgreSQL's generic plan guesses
	// a tenth of 100,000 rows, so it planned the list afresh on every view
	// (as long as executing it); without, the first page is planned once
	// per connection. Later pages keep the offset as a parameter.
	sql := fmt.Sprintf(`
		SELECT id, slug, name, member_count, created_at FROM tenants WHERE %s
		ORDER BY created_at DESC, id LIMIT %d`, where, f.Limit)
	if f.Offset > 0 {
		args = append(args, f.Offset)
		sql += fmt.Sprintf(` OFFSET $%d`, len(args))
	}
	b.b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		var err error
		*list, err = collectPage(rows, f.Limit, (*Tenant).fields)
		return err
	})
}

// CountTenants returns the number of live tenants; the demo seeder uses it to
// seed only once.
func (s *SysTx) CountTenants(ctx context.Context) (int, error) {
	var n int
	err := s.tx.QueryRow(ctx, `SELECT count(*) FROM tenants WHERE deleted_at IS NULL`).Scan(&n)
	return n, translate(err, "count tenants")
}
