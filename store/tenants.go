package store

import (
	"context"
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

// FindTenantBySlug returns the live (not deleted) tenant with that slug.
func (s *SysTx) FindTenantBySlug(ctx context.Context, slug string) (*Tenant, error) {
	var t Tenant
	err := s.tx.QueryRow(ctx, `
		SELECT id, slug, name, member_count, created_at
		FROM tenants WHERE slug = $1 AND deleted_at IS NULL`, slug,
	).Scan(&t.ID, &t.Slug, &t.Name, &t.MemberCount, &t.CreatedAt)
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

// FindTenants lists live tenants for the operator console with the total
// number that match, so the page can paginate.
func (s *SysTx) FindTenants(ctx context.Context, f TenantFilter) ([]Tenant, int, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	pattern := "%" + escapeLike(f.Query) + "%"
	var total int
	if err := s.tx.QueryRow(ctx, `
		SELECT count(*) FROM tenants
		WHERE deleted_at IS NULL AND ($1 = '%%' OR name ILIKE $1 OR slug ILIKE $1)`, pattern,
	).Scan(&total); err != nil {
		return nil, 0, translate(err, "count tenants")
	}
	rows, err := s.tx.Query(ctx, `
		SELECT id, slug, name, member_count, created_at FROM tenants
		WHERE deleted_at IS NULL AND ($1 = '%%' OR name ILIKE $1 OR slug ILIKE $1)
		ORDER BY created_at DESC, id
		LIMIT $2 OFFSET $3`, pattern, f.Limit, f.Offset)
	if err != nil {
		return nil, 0, translate(err, "find tenants")
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Tenant, error) {
		var t Tenant
		err := r.Scan(&t.ID, &t.Slug, &t.Name, &t.MemberCount, &t.CreatedAt)
		return t, err
	})
	if err != nil {
		return nil, 0, translate(err, "find tenants")
	}
	return list, total, nil
}

// CountTenants returns the number of live tenants; the demo seeder uses it to
// seed only once.
func (s *SysTx) CountTenants(ctx context.Context) (int, error) {
	var n int
	err := s.tx.QueryRow(ctx, `SELECT count(*) FROM tenants WHERE deleted_at IS NULL`).Scan(&n)
	return n, translate(err, "count tenants")
}
