package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Member is a user's membership in the current tenant, with the user's name
// and email, which the membership carries a copy of (migration 00017).
type Member struct {
	ID        uuid.UUID
	UserID    uuid.UUID
	Email     string
	Name      string
	Role      string // a built-in role, or "custom"
	CreatedAt time.Time
	// CustomRoleID, RoleName and Permissions describe a custom role; they
	// are empty for a built-in one.
	CustomRoleID *uuid.UUID
	RoleName     string
	Permissions  []string
}

// DisplayRole is the role's name as people see it.
func (m *Member) DisplayRole() string {
	if m.RoleName != "" {
		return m.RoleName
	}
	return m.Role
}

// memberSelect reads members with their custom role; every member query
// starts with it so that they all scan alike (scanMember).
const memberSelect = `
	SELECT m.id, m.user_id, m.email, m.name, m.role, m.created_at,
	       m.custom_role_id, coalesce(r.name, ''), r.permissions
	FROM memberships m
	LEFT JOIN roles r ON r.id = m.custom_role_id`

// findMember returns the one member matching where, or ENOTFOUND.
func (tx *Tx) findMember(ctx context.Context, what, where string, arg any) (*Member, error) {
	rows, err := tx.tx.Query(ctx, memberSelect+" WHERE "+where, arg)
	if err != nil {
		return nil, translate(err, what)
	}
	m, err := pgx.CollectExactlyOneRow(rows, scanMember)
	if err != nil {
		return nil, translate(err, what)
	}
	return &m, nil
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
	tx.ch.users = append(tx.ch.users, userID) // their list of organizations grows
	return &m, nil
}

// FindMemberByID queues the current tenant's member with that id into dst;
// dst stays nil when there is none, which includes another tenant's member.
// Read through ReadTenant (or a cached entry), a member found is kept for
// the organization (orgKept) and costs no statement until it changes.
func (b *Batch) FindMemberByID(id uuid.UUID, dst **Member) {
	if m, ok := orgKeyedRead(b.cache, b.tenant, members, id, cloneMember); ok {
		*dst = m
		return
	}
	cache, tenant, gen := b.cache, b.tenant, b.gen
	queueOneThen(b, dst, (*Member).fields, func(m *Member) { keepOrgKeyed(cache, tenant, gen, membersAt, id, cloneMember, m) },
		memberSelect+" WHERE m.id = $1", id)
}

// FindMemberByUserID returns the user's membership in the current tenant, or
// ENOTFOUND when they are not a member.
func (tx *Tx) FindMemberByUserID(ctx context.Context, userID uuid.UUID) (*Member, error) {
	return tx.findMember(ctx, "find member by user id", "m.user_id = $1", userID)
}

const findMembersSQL = memberSelect + ` ORDER BY m.name, m.email, m.id LIMIT $1`

// fields are m's scan destinations for memberSelect's columns.
func (m *Member) fields() []any {
	return []any{&m.ID, &m.UserID, &m.Email, &m.Name, &m.Role, &m.CreatedAt,
		&m.CustomRoleID, &m.RoleName, &m.Permissions}
}

func scanMember(row pgx.CollectableRow) (Member, error) {
	var m Member
	err := row.Scan(m.fields()...)
	return m, err
}

// FindMembers lists the current tenant's members by name, up to limit.
func (tx *Tx) FindMembers(ctx context.Context, limit int) ([]Member, error) {
	rows, err := tx.tx.Query(ctx, findMembersSQL, limit)
	if err != nil {
		return nil, translate(err, "find members")
	}
	list, err := collectPage(rows, limit, (*Member).fields)
	return list, translate(err, "find members")
}

// countMembersSQL reads the member count the trigger keeps on the tenant
// row, instead of counting memberships on every page view.
const countMembersSQL = `SELECT member_count FROM tenants WHERE id = current_setting('app.tenant_id')::uuid`

// CountMembers returns the number of members in the current tenant.
func (tx *Tx) CountMembers(ctx context.Context) (int, error) {
	var n int
	err := tx.tx.QueryRow(ctx, countMembersSQL).Scan(&n)
	return n, translate(err, "count members")
}

// UpdateMemberRole gives a member a built-in role. A member of another
// tenant is invisible here, so it is ENOTFOUND like one that does not exist.
func (tx *Tx) UpdateMemberRole(ctx context.Context, memberID uuid.UUID, role string) error {
	tag, err := tx.tx.Exec(ctx, `UPDATE memberships SET role = $2, custom_role_id = NULL WHERE id = $1`, memberID, role)
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

// FindMemberByID returns a member of the current tenant; a member of
// another tenant is ENOTFOUND.
func (tx *Tx) FindMemberByID(ctx context.Context, id uuid.UUID) (*Member, error) {
	return tx.findMember(ctx, "find member", "m.id = $1", id)
}

// lockOwnersSQL reads the owners through memberships_owners_idx (migration
// 00020), whatever the organization's size.
const lockOwnersSQL = `SELECT id FROM memberships WHERE role = 'owner' ORDER BY id FOR UPDATE`

// LockOwners locks the owners' memberships for the rest of the transaction
// and returns their ids. Changes that could leave an organization without an
// owner take this lock first, so two concurrent demotions cannot both see
// "another owner remains".
func (tx *Tx) LockOwners(ctx context.Context) ([]uuid.UUID, error) {
	rows, err := tx.tx.Query(ctx, lockOwnersSQL)
	if err != nil {
		return nil, translate(err, "lock owners")
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	return ids, translate(err, "lock owners")
}

// MemberFilter pages through a tenant's members, searching names and emails.
type MemberFilter struct {
	Query  string
	Limit  int
	Offset int
}

// memberListSelect reads what the member list shows: memberSelect without
// the user's id and the custom role's id and permissions, which a page of
// 50 rows would scan for nothing (listedFields). Its columns are all in
// memberships_directory_idx; user_id is not, on purpose (migration 00018).
const memberListSelect = `
	SELECT m.id, m.email, m.name, m.role, m.created_at, coalesce(r.name, '')
	FROM memberships m
	LEFT JOIN roles r ON r.id = m.custom_role_id`

// listedFields are m's scan destinations for memberListSelect's columns.
func (m *Member) listedFields() []any {
	return []any{&m.ID, &m.Email, &m.Name, &m.Role, &m.CreatedAt, &m.RoleName}
}

// FindMembersPage queues one page of members matching f, by name, and the
// number matching, into dst and total; the members come without their
// user's id and their custom role's id and permissions (see
// memberListSelect). Without a search the member count comes from the
// tenant row, which a trigger keeps.
func (b *Batch) FindMembersPage(f MemberFilter, dst *[]Member, total *int) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	collect := func(rows pgx.Rows) error {
		list, err := collectPage(rows, f.Limit, (*Member).listedFields)
		*dst = list
		return err
	}
	if f.Query == "" {
		b.CountMembers(total)
		b.b.Queue(memberListSelect+` ORDER BY m.name, m.email, m.id LIMIT $1 OFFSET $2`, f.Limit, f.Offset).Query(collect)
		return
	}
	pattern := "%" + escapeLike(f.Query) + "%"
	b.b.Queue(`
		SELECT count(*) FROM memberships m
		WHERE m.name ILIKE $1 OR m.email ILIKE $1`, pattern,
	).QueryRow(func(row pgx.Row) error { return row.Scan(total) })
	b.b.Queue(memberListSelect+`
		WHERE m.name ILIKE $1 OR m.email ILIKE $1
		ORDER BY m.name, m.email, m.id LIMIT $2 OFFSET $3`, pattern, f.Limit, f.Offset).Query(collect)
}

// FindMemberByEmail returns the member of the current tenant with that
// (normalized) email, or ENOTFOUND.
func (tx *Tx) FindMemberByEmail(ctx context.Context, email string) (*Member, error) {
	// Through the user's unique email and the membership's (tenant, user)
	// key, rather than the copy, which no index leads with.
	return tx.findMember(ctx, "find member by email", "m.user_id = (SELECT id FROM users WHERE email = $1)", email)
}
