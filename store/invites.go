package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Invite is an invitation to join the current tenant.
type Invite struct {
	ID         uuid.UUID
	Email      string
	Role       string
	InvitedBy  string // inviter's name, "" when they are gone
	CreatedAt  time.Time
	ExpiresAt  time.Time
	AcceptedAt *time.Time
	RevokedAt  *time.Time
}

// Open reports whether the invite can still be accepted at now.
func (i *Invite) Open(now time.Time) bool {
	return i.AcceptedAt == nil && i.RevokedAt == nil && now.Before(i.ExpiresAt)
}

const inviteColumns = `i.id, i.email, i.role, coalesce(u.name, ''), i.created_at, i.expires_at, i.accepted_at, i.revoked_at`

// fields are i's scan destinations for inviteColumns.
func (i *Invite) fields() []any {
	return []any{&i.ID, &i.Email, &i.Role, &i.InvitedBy, &i.CreatedAt, &i.ExpiresAt, &i.AcceptedAt, &i.RevokedAt}
}

func scanInvite(row pgx.CollectableRow) (Invite, error) {
	var i Invite
	err := row.Scan(i.fields()...)
	return i, err
}

func (tx *Tx) findInvite(ctx context.Context, what, where string, arg any) (*Invite, error) {
	rows, err := tx.tx.Query(ctx, `SELECT `+inviteColumns+` FROM invites i LEFT JOIN users u ON u.id = i.invited_by WHERE `+where, arg)
	if err != nil {
		return nil, translate(err, what)
	}
	inv, err := pgx.CollectExactlyOneRow(rows, scanInvite)
	if err != nil {
		return nil, translate(err, what)
	}
	return &inv, nil
}

// FindInviteByID returns an invite of the current tenant.
func (tx *Tx) FindInviteByID(ctx context.Context, id uuid.UUID) (*Invite, error) {
	return tx.findInvite(ctx, "find invite", `i.id = $1`, id)
}

// FindInviteByToken queues the invite whose token hashes to a link's
// token, open or not, into dst, and into hasAccount whether an account with
// its address exists (the link's page asks such a person for their
// password instead of a new one). dst stays nil when there is no such
// invite in the tenant, which includes an altered token. Read through
// ReadTenant (or Visit), an invite found is kept for the organization
// (orgKept) until it or the organization changes; hasAccount with it, for
// at most the cache's maximum age (accepting checks again).
func (b *Batch) FindInviteByToken(token string, dst **Invite, hasAccount *bool) {
	hash := hashToken(token)
	if k, ok := orgKeyedRead(b.cache, b.tenant, invites, string(hash), cloneInvite); ok {
		*dst, *hasAccount = k.invite, k.hasAccount
		return
	}
	cache, tenant, gen := b.cache, b.tenant, b.gen
	queueOneThen(b, dst, func(i *Invite) []any { return append(i.fields(), hasAccount) }, func(i *Invite) {
		keepOrgKeyed(cache, tenant, gen, invitesAt, string(hash), cloneInvite, keptInvite{invite: i, hasAccount: *hasAccount})
	}, `SELECT `+inviteColumns+`, EXISTS (SELECT 1 FROM users a WHERE a.email = i.email)
		FROM invites i LEFT JOIN users u ON u.id = i.invited_by WHERE i.token_hash = $1`, hash)
}

// FindOpenInviteByEmail returns the invite to email that is neither
// accepted nor revoked (it may have expired).
func (tx *Tx) FindOpenInviteByEmail(ctx context.Context, email string) (*Invite, error) {
	return tx.findInvite(ctx, "find open invite", `i.email = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL`, email)
}

// CreateInvite records an invitation whose link carries token.
func (tx *Tx) CreateInvite(ctx context.Context, email, role, token string, invitedBy uuid.UUID, expires time.Time) (*Invite, error) {
	inv := Invite{Email: email, Role: role, ExpiresAt: expires}
	err := tx.tx.QueryRow(ctx, `
		INSERT INTO invites (tenant_id, email, role, token_hash, invited_by, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at`,
		tx.TenantID, email, role, hashToken(token), invitedBy, expires,
	).Scan(&inv.ID, &inv.CreatedAt)
	if err != nil {
		return nil, translate(err, "create invite")
	}
	return &inv, nil
}

// RenewInvite gives an open invite a new token and expiry (resend): the old
// link stops working.
func (tx *Tx) RenewInvite(ctx context.Context, id uuid.UUID, token string, expires time.Time) error {
	return tx.updateOpenInvite(ctx, "renew invite",
		`UPDATE invites SET token_hash = $2, expires_at = $3 WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL`,
		id, hashToken(token), expires)
}

// RevokeInvite withdraws an open invite.
func (tx *Tx) RevokeInvite(ctx context.Context, id uuid.UUID) error {
	return tx.updateOpenInvite(ctx, "revoke invite",
		`UPDATE invites SET revoked_at = now() WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL`, id)
}

// AcceptInvite marks an open, unexpired invite accepted. It is the
// single-use guard: of two concurrent acceptances only one matches the row.
func (tx *Tx) AcceptInvite(ctx context.Context, id uuid.UUID) error {
	return tx.updateOpenInvite(ctx, "accept invite",
		`UPDATE invites SET accepted_at = now() WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()`, id)
}

func (tx *Tx) updateOpenInvite(ctx context.Context, what, sql string, args ...any) error {
	tag, err := tx.tx.Exec(ctx, sql, args...)
	if err != nil {
		return translate(err, what)
	}
	if tag.RowsAffected() == 0 {
		return translate(errNoRows, what)
	}
	return nil
}

// FindOpenInvites queues the tenant's open invites, newest first, into dst.
// Read through ReadTenant, the list is kept for the organization (orgKept)
// until an invitation or the organization changes (migration 00023): the
// inviters' names in it may be a minute old, as FindInviteByToken's.
func (b *Batch) FindOpenInvites(dst *[]Invite) {
	keptList(b, pickOpenInvites, cloneInvites, scanInvite, func(list []Invite) { *dst = list },
		`SELECT `+inviteColumns+` FROM invites i LEFT JOIN users u ON u.id = i.invited_by
		WHERE i.accepted_at IS NULL AND i.revoked_at IS NULL ORDER BY i.created_at DESC LIMIT 200`)
}
