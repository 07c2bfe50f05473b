package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Role is one of an organization's custom roles.
type Role struct {
	ID          uuid.UUID
	Name        string
	Permissions []string
	CreatedAt   time.Time
	Members     int // how many members hold it
}

// FindRoles queues the tenant's custom roles, by name, into dst.
func (b *Batch) FindRoles(dst *[]Role) {
	b.b.Queue(`
		SELECT r.id, r.name, r.permissions, r.created_at,
		       (SELECT count(*) FROM memberships m WHERE m.custom_role_id = r.id)
		FROM roles r ORDER BY lower(r.name)`).Query(func(rows pgx.Rows) error {
		list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Role, error) {
			var r Role
			err := row.Scan(&r.ID, &r.Name, &r.Permissions, &r.CreatedAt, &r.Members)
			return r, err
		})
		*dst = list
		return err
	})
}

// FindRoleChoices queues the tenant's custom roles, by name, into dst with
// only their ids and names: what a role select needs, without counting
// each role's members.
func (b *Batch) FindRoleChoices(dst *[]Role) {
	b.b.Queue(`SELECT id, name FROM roles ORDER BY lower(name)`).Query(func(rows pgx.Rows) error {
		list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Role, error) {
			var r Role
			err := row.Scan(&r.ID, &r.Name)
			return r, err
		})
		*dst = list
		return err
	})
}

// FindRoleByID returns a custom role of the current tenant; another
// tenant's role is ENOTFOUND.
func (tx *Tx) FindRoleByID(ctx context.Context, id uuid.UUID) (*Role, error) {
	var r Role
	err := tx.tx.QueryRow(ctx, `SELECT id, name, permissions, created_at FROM roles WHERE id = $1`, id).
		Scan(&r.ID, &r.Name, &r.Permissions, &r.CreatedAt)
	if err != nil {
		return nil, translate(err, "find role")
	}
	return &r, nil
}

// CreateRole adds a custom role. Names are unique per tenant, ignoring case.
func (tx *Tx) CreateRole(ctx context.Context, name string, permissions []string) (*Role, error) {
	r := Role{Name: name, Permissions: permissions}
	err := tx.tx.QueryRow(ctx, `
		INSERT INTO roles (tenant_id, name, permissions) VALUES ($1, $2, $3) RETURNING id, created_at`,
		tx.TenantID, name, permissions).Scan(&r.ID, &r.CreatedAt)
	if err != nil {
		return nil, translate(err, "create role")
	}
	return &r, nil
}

// DeleteRole removes a custom role nobody holds; one still held is a
// conflict (the foreign key refuses it).
func (tx *Tx) DeleteRole(ctx context.Context, id uuid.UUID) error {
	tag, err := tx.tx.Exec(ctx, `DELETE FROM roles WHERE id = $1`, id)
	if err != nil {
		return translate(err, "delete role")
	}
	if tag.RowsAffected() == 0 {
		return translate(errNoRows, "delete role")
	}
	return nil
}

// SetMemberCustomRole gives a member one of the tenant's custom roles.
func (tx *Tx) SetMemberCustomRole(ctx context.Context, memberID, roleID uuid.UUID) error {
	tag, err := tx.tx.Exec(ctx, `UPDATE memberships SET role = 'custom', custom_role_id = $2 WHERE id = $1`, memberID, roleID)
	if err != nil {
		return translate(err, "set member custom role")
	}
	if tag.RowsAffected() == 0 {
		return translate(errNoRows, "set member custom role")
	}
	return nil
}
