package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Member is a user's membership in the current tenant, with the user's
// profile joined in.
type Member struct {
	ID        uuid.UUID
	UserID    uuid.UUID
	Email     string
	Name      string
	Role      string
	CreatedAt time.Time
}

// CreateMembership adds a user to the current tenant with a role.
func (tx *Tx) CreateMembership(ctx context.Context, userID uuid.UUID, role string) (*Member, error) {
	m := Member{UserID: userID, Role: role}
	err := tx.tx.QueryRow(ctx, `
		INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3)
		RETURNING id, created_at`, tx.TenantID, userID, role,
	).Scan(&m.ID, &m.CreatedAt)
	if err != nil {
		return nil, translate(err, "create membership")
	}
	return &m, nil
}

// FindMemberByUserID returns the user's membership in the current tenant, or
// ENOTFOUND when they are not a member.
func (tx *Tx) FindMemberByUserID(ctx context.Context, userID uuid.UUID) (*Member, error) {
	var m Member
	err := tx.tx.QueryRow(ctx, `
		SELECT m.id, m.user_id, u.email, u.name, m.role, m.created_at
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.user_id = $1`, userID,
	).Scan(&m.ID, &m.UserID, &m.Email, &m.Name, &m.Role, &m.CreatedAt)
	if err != nil {
		return nil, translate(err, "find member by user id")
	}
	return &m, nil
}

const findMembersSQL = `
	SELECT m.id, m.user_id, u.email, u.name, m.role, m.created_at
	FROM memberships m JOIN users u ON u.id = m.user_id
	ORDER BY u.name, u.email LIMIT $1`

func scanMember(row pgx.CollectableRow) (Member, error) {
	var m Member
	err := row.Scan(&m.ID, &m.UserID, &m.Email, &m.Name, &m.Role, &m.CreatedAt)
	return m, err
}

// FindMembers lists the current tenant's members by name, up to limit.
func (tx *Tx) FindMembers(ctx context.Context, limit int) ([]Member, error) {
	rows, err := tx.tx.Query(ctx, findMembersSQL, limit)
	if err != nil {
		return nil, translate(err, "find members")
	}
	list, err := pgx.CollectRows(rows, scanMember)
	return list, translate(err, "find members")
}

const countMembersSQL = `SELECT count(*) FROM memberships`

// CountMembers returns the number of members in the current tenant.
func (tx *Tx) CountMembers(ctx context.Context) (int, error) {
	var n int
	err := tx.tx.QueryRow(ctx, countMembersSQL).Scan(&n)
	return n, translate(err, "count members")
}

// UpdateMemberRole changes a member's role. A member of another tenant is
// invisible here, so it is ENOTFOUND like one that does not exist.
func (tx *Tx) UpdateMemberRole(ctx context.Context, memberID uuid.UUID, role string) error {
	tag, err := tx.tx.Exec(ctx, `UPDATE memberships SET role = $2 WHERE id = $1`, memberID, role)
	if err != nil {
		return translate(err, "update member role")
	}
	if tag.RowsAffected() == 0 {
		return translate(errNoRows, "update member role")
	}
	return nil
}

// DeleteMember removes a member from the current tenant.
func (tx *Tx) DeleteMember(ctx context.Context, memberID uuid.UUID) error {
	tag, err := tx.tx.Exec(ctx, `DELETE FROM memberships WHERE id = $1`, memberID)
	if err != nil {
		return translate(err, "delete member")
	}
	if tag.RowsAffected() == 0 {
		return translate(errNoRows, "delete member")
	}
	return nil
}
