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

// findRolesSQL reads the tenant's custom roles, by name, with how many
// members hold each.
const findRolesSQL = `
	SELECT r.id, r.name, r.permissions, r.created_at,
	       (SELECT count(*) FROM memberships m WHERE m.custom_role_id = r.id)
	FROM roles r ORDER BY lower(r.name)`

// FindRoles queues the tenant's custom roles, by name, with how many
// members hold each, into dst. Read through ReadTenant (or a cached
// entry), the answer is kept for the organization (orgKept) and costs no
// statement until a role or a membership changes.
func (b *Batch) FindRoles(dst *[]Role) {
	b.roles(func(rs []Role) { *dst = rs })
}

// FindRoleChoices queues the tenant's custom roles, by name, into dst with
// only their ids and names: what a role select needs. They come from the
// organization's kept roles (FindRoles), read and kept if need be; without
// an entry cache, from a read that does not count each role's members.
func (b *Batch) FindRoleChoices(dst *[]Role) {
	if b.cache == nil {
		b.b.Queue(`SELECT id, name FROM roles ORDER BY lower(name)`).Query(func(rows pgx.Rows) error {
			list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Role, error) {
				var r Role
				err := row.Scan(&r.ID, &r.Name)
				return r, err
			})
			*dst = list
			return err
		})
		return
	}
	b.roles(func(rs []Role) {
		for i, r := range rs {
			rs[i] = Role{ID: r.ID, Name: r.Name}
		}
		*dst = rs
	})
}

// roles hands answer the tenant's roles as FindRoles reads them: kept, or
// read in the batch and then kept.
func (b *Batch) roles(answer func([]Role)) {
	keptList(b, pickRoles, cloneRoles, func(row pgx.CollectableRow) (Role, error) {
		var r Role
		err := row.Scan(&r.ID, &r.Name, &r.Permissions, &r.CreatedAt, &r.Members)
		return r, err
	}, answer, findRolesSQL)
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
