package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atrium-dev/atrium"
)

// Entry is what one request to /o/{slug}/… learns in its first round trip:
// the tenant, the request's session in that tenant (if any) and the session
// user's membership (if they are still a member).
type Entry struct {
	Tenant atrium.Tenant
	// Session is the stored session data; nil without a live session.
	Session []byte
	// SessionUpdatedAt is when the session was last written.
	SessionUpdatedAt time.Time
	// Member is the session user's membership; nil when there is none.
	Member *Member
	// RequireMFA is the organization's demand that every member use
	// two-factor authentication.
	RequireMFA bool
	// MFAEnabled tells whether Member has turned on two-factor
	// authentication; false without a member.
	MFAEnabled bool
}

// The two statements a request to /o/{slug}/… starts with, sent in one
// round trip (one implicit transaction) with the page's reads behind them.
// Plain statements, not a plpgsql function: PostgreSQL runs them in about
// three quarters of the function's time.
const (
	// enterTenantSQL resolves the slug and scopes the rest of the
	// transaction to that tenant (set_config(…, true): transaction-local).
	// An unknown or deleted slug returns no row and sets nothing, so
	// everything after it sees no tenant rows.
	enterTenantSQL = `
		SELECT id, name, require_mfa, set_config('app.tenant_id', id::text, true)
		FROM tenants WHERE slug = $1 AND deleted_at IS NULL`
	// enterSessionSQL reads the session and the session user's membership
	// under the tenant just set: another tenant's session, member or role
	// cannot match. It always returns one row. With $2 (a member is
	// required) and no current member, it clears the tenant again after
	// its own reads (the projection is computed after the row's scans), so
	// a page's reads batched behind it see no tenant rows: fail closed.
	enterSessionSQL = `
		SELECT s.data, s.updated_at, m.id, u.id, u.email, u.name, m.role, u.mfa_enabled_at IS NOT NULL,
		       r.name, r.permissions,
		       CASE WHEN m.id IS NULL AND $2 THEN set_config('app.tenant_id', '', true) END
		FROM (SELECT) AS one
		LEFT JOIN sessions s ON s.token_hash = $1 AND s.expiry > now()
		LEFT JOIN memberships m ON m.tenant_id = s.tenant_id AND m.user_id = s.user_id
		LEFT JOIN users u ON u.id = m.user_id
		LEFT JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.custom_role_id`
)

// queueEnter queues the two statements into b, filling e; found reports
// whether the tenant exists.
func queueEnter(b *pgx.Batch, slug string, tokenHash []byte, requireMember bool, e *Entry, found *bool) {
	b.Queue(enterTenantSQL, slug).Query(func(rows pgx.Rows) error {
		if !rows.Next() {
			return rows.Err()
		}
		*found = true
		return rows.Scan(&e.Tenant.ID, &e.Tenant.Name, &e.RequireMFA, nil)
	})
	b.Queue(enterSessionSQL, tokenHash, requireMember).QueryRow(func(row pgx.Row) error {
		return scanEntry(row, e)
	})
}

// Enter resolves slug and the session token in one round trip, under the
// tenant's RLS policies. An unknown or deleted organization is ENOTFOUND.
// token may be empty.
//
// With load, the page's reads are queued behind it and everything travels
// in one round trip (one implicit transaction); a member is then required:
// when the session does not belong to a current member the tenant is
// cleared again and the page's reads see no tenant rows. Their results are
// trusted only when Entry.Member is set; a failed read without a member is
// ignored, since the caller answers with the login page or a 404 anyway.
func (db *DB) Enter(ctx context.Context, slug, token string, load func(*Batch)) (*Entry, error) {
	var hash []byte
	if token != "" {
		hash = hashToken(token)
	}
	var e Entry
	var found bool
	var b Batch
	queueEnter(&b.b, slug, hash, load != nil, &e, &found)
	if load != nil {
		load(&b)
	}
	err := db.pool.SendBatch(ctx, &b.b).Close()
	switch {
	case !found && (err == nil || load != nil):
		return nil, translate(pgx.ErrNoRows, "enter tenant")
	case err != nil && (load == nil || e.Member != nil):
		return nil, translate(err, "enter tenant")
	}
	e.Tenant.Slug = slug
	return &e, nil
}

// scanEntry reads the session and membership of enterSessionSQL's row.
func scanEntry(row pgx.Row, e *Entry) error {
	var data []byte
	var updated *time.Time
	var memberID, userID *uuid.UUID
	var email, name, role *string
	var mfaEnabled *bool
	var roleName *string
	var perms []string
	if err := row.Scan(&data, &updated, &memberID, &userID, &email, &name, &role,
		&mfaEnabled, &roleName, &perms, nil); err != nil {
		return err
	}
	if data != nil {
		e.Session = data
		if updated != nil {
			e.SessionUpdatedAt = *updated
		}
	}
	if memberID != nil && userID != nil {
		e.Member = &Member{ID: *memberID, UserID: *userID, Email: deref(email), Name: deref(name), Role: deref(role),
			RoleName: deref(roleName), Permissions: perms}
		e.MFAEnabled = mfaEnabled != nil && *mfaEnabled
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// prefetchKey carries a session already read by Enter, so that scs's Load
// finds it without a second query.
type prefetchKey struct{}

type prefetched struct {
	token string
	data  []byte
}

// WithPrefetchedSession records the session data Enter returned for token.
// TenantSessions.FindCtx answers from it instead of querying again.
func WithPrefetchedSession(ctx context.Context, token string, data []byte) context.Context {
	return context.WithValue(ctx, prefetchKey{}, prefetched{token: token, data: data})
}

func prefetchedSession(ctx context.Context, token string) ([]byte, bool, bool) {
	p, ok := ctx.Value(prefetchKey{}).(prefetched)
	if !ok || p.token != token {
		return nil, false, false
	}
	return p.data, p.data != nil, true
}
