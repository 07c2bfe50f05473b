package store

import (
	"context"
	"crypto/subtle"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// LockTenant returns the current tenant's registry row, locked until the
// transaction ends, so that settings changes read and write it without a
// concurrent change slipping in between. A deleted tenant is ENOTFOUND.
func (tx *Tx) LockTenant(ctx context.Context) (*Tenant, error) {
	var t Tenant
	err := tx.tx.QueryRow(ctx, `
		SELECT id, slug, name, member_count, created_at FROM tenants
		WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, tx.TenantID,
	).Scan(t.fields()...)
	if err != nil {
		return nil, translate(err, "lock tenant")
	}
	return &t, nil
}

// RenameTenant changes the current tenant's display name.
func (tx *Tx) RenameTenant(ctx context.Context, name string) error {
	return tx.updateTenant(ctx, "rename tenant", `UPDATE tenants SET name = $2 WHERE id = $1 AND deleted_at IS NULL`, name)
}

// ChangeTenantSlug gives the current tenant a new URL. The database keeps
// the old one in tenant_slug_history (a trigger on tenants), so links to it
// redirect for a while and nobody else can take it meanwhile; a slug that
// is taken, or reserved that way by another tenant, is ECONFLICT.
func (tx *Tx) ChangeTenantSlug(ctx context.Context, slug string) error {
	return tx.updateTenant(ctx, "change tenant slug", `UPDATE tenants SET slug = $2 WHERE id = $1 AND deleted_at IS NULL`, slug)
}

// DeleteTenant marks the current tenant deleted: from now on Enter and
// FindTenantBySlug no longer find it, so it answers 404 at once. Its rows
// stay until PurgeDeletedTenants erases them after the retention period.
func (tx *Tx) DeleteTenant(ctx context.Context) error {
	return tx.updateTenant(ctx, "delete tenant", `UPDATE tenants SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL`)
}

// updateTenant runs an UPDATE of the current tenant's row ($1 is its id);
// no row matched (the tenant was deleted meanwhile) is ENOTFOUND.
func (tx *Tx) updateTenant(ctx context.Context, what, sql string, args ...any) error {
	tag, err := tx.tx.Exec(ctx, sql, append([]any{tx.TenantID}, args...)...)
	if err != nil {
		return translate(err, what)
	}
	if tag.RowsAffected() == 0 {
		return translate(errNoRows, what)
	}
	return nil
}

// DeleteTenantSessions signs everyone out of the current tenant and returns
// how many sessions went. A URL change needs it (every cookie is scoped to
// the old path) and so does deleting the organization.
func (tx *Tx) DeleteTenantSessions(ctx context.Context) (int64, error) {
	tag, err := tx.tx.Exec(ctx, `DELETE FROM sessions`)
	if err != nil {
		return 0, translate(err, "delete tenant sessions")
	}
	return tag.RowsAffected(), nil
}

// FindTenantByFormerSlug returns the live tenant that used slug as its URL
// within the redirect period (90 days, slug_redirect_period() in the
// schema), so that old links can be sent on. Anything else is ENOTFOUND.
func (s *SysTx) FindTenantByFormerSlug(ctx context.Context, slug string) (*Tenant, error) {
	var t Tenant
	err := s.tx.QueryRow(ctx, `
		SELECT t.id, t.slug, t.name, t.member_count, t.created_at
		FROM tenant_slug_history h JOIN tenants t ON t.id = h.owner_tenant
		WHERE h.slug = $1 AND h.changed_at > now() - slug_redirect_period() AND t.deleted_at IS NULL`, slug,
	).Scan(t.fields()...)
	if err != nil {
		return nil, translate(err, "find tenant by former slug")
	}
	return &t, nil
}

// PurgeDeletedTenants erases, for good, every organization deleted more
// than retention ago with all its rows, through the purge_deleted_tenants
// function (the app role cannot delete tenants itself). It returns how many
// organizations went; a background loop calls it.
func (db *DB) PurgeDeletedTenants(ctx context.Context, retention time.Duration) (int64, error) {
	var n int64
	err := db.InSystem(ctx, func(s *SysTx) error {
		return s.tx.QueryRow(ctx, `SELECT purge_deleted_tenants(make_interval(secs => $1))`, retention.Seconds()).Scan(&n)
	})
	return n, translate(err, "purge deleted tenants")
}

// JoinLink is an organization's join-by-link setting: people with an
// address at Domain may ask for an invitation while the link is on.
type JoinLink struct {
	Domain    string
	Enabled   bool
	UpdatedBy string // name of who changed it last, "" when they are gone
	UpdatedAt time.Time
	tokenHash []byte // the SHA-256 of the link's token; nil while it is off
}

// joinLinkSQL reads the organization's join link: at most one row.
const joinLinkSQL = `
	SELECT j.domain, j.token_hash, coalesce(u.name, ''), j.updated_at
	FROM tenant_join_links j LEFT JOIN users u ON u.id = j.updated_by`

// fields are j's scan destinations for joinLinkSQL's columns.
func (j *JoinLink) fields() []any {
	return []any{&j.Domain, &j.tokenHash, &j.UpdatedBy, &j.UpdatedAt}
}

// FindJoinLink queues the current tenant's join link into dst; dst stays
// nil when the organization never set one up. Read through ReadTenant (or a
// cached entry), the answer is kept for the organization (orgKept) and
// costs no statement until the link changes.
func (b *Batch) FindJoinLink(dst **JoinLink) {
	b.joinLink(func(l *JoinLink) { *dst = l })
}

// FindJoinLinkByToken queues the join link whose token hashes to the one
// in a URL into dst, only while the link is on; dst stays nil otherwise.
// It is the organization's one link (FindJoinLink's, kept alike) if the
// token matches it.
func (b *Batch) FindJoinLinkByToken(token string, dst **JoinLink) {
	hash := hashToken(token)
	b.joinLink(func(l *JoinLink) {
		if l != nil && l.tokenHash != nil && subtle.ConstantTimeCompare(l.tokenHash, hash) == 1 {
			*dst = l
		}
	})
}

// joinLink hands answer the organization's join link (nil: none): kept, or
// read in the batch and then kept.
func (b *Batch) joinLink(answer func(*JoinLink)) {
	if l, ok := orgRead(b.cache, b.tenant, pickJoinLink, cloneJoinLink); ok {
		answer(l)
		return
	}
	cache, tenant, gen := b.cache, b.tenant, b.gen
	b.b.Queue(joinLinkSQL).Query(func(rows pgx.Rows) error {
		var l *JoinLink
		if rows.Next() {
			l = new(JoinLink)
			if err := rows.Scan(l.fields()...); err != nil {
				return err
			}
			l.Enabled = l.tokenHash != nil
		}
		if err := rows.Err(); err != nil {
			return err
		}
		keepOrgRead(cache, tenant, gen, pickJoinLink, cloneJoinLink, l)
		answer(l)
		return nil
	})
}

// EnableJoinLink sets the domain and turns the link on with a new token;
// any earlier link of the organization stops working.
func (tx *Tx) EnableJoinLink(ctx context.Context, domain, token string, by uuid.UUID) error {
	_, err := tx.tx.Exec(ctx, `
		INSERT INTO tenant_join_links (tenant_id, domain, token_hash, updated_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id) DO UPDATE SET domain = EXCLUDED.domain, token_hash = EXCLUDED.token_hash,
		                                      updated_by = EXCLUDED.updated_by, updated_at = now()`,
		tx.TenantID, domain, hashToken(token), by)
	return translate(err, "enable join link")
}

// DisableJoinLink turns the link off (the domain is kept for next time).
// ENOTFOUND when the organization has no link that is on.
func (tx *Tx) DisableJoinLink(ctx context.Context, by uuid.UUID) error {
	tag, err := tx.tx.Exec(ctx, `
		UPDATE tenant_join_links SET token_hash = NULL, updated_by = $1, updated_at = now()
		WHERE token_hash IS NOT NULL`, by)
	if err != nil {
		return translate(err, "disable join link")
	}
	if tag.RowsAffected() == 0 {
		return translate(errNoRows, "disable join link")
	}
	return nil
}

// CreateJoinInvite records the invitation a person asked for through the
// join link: role member, invited by nobody in particular. They accept it
// like any other invitation, which proves they own the address.
func (tx *Tx) CreateJoinInvite(ctx context.Context, email, token string, expires time.Time) (*Invite, error) {
	inv := Invite{Email: email, Role: "member", ExpiresAt: expires}
	err := tx.tx.QueryRow(ctx, `
		INSERT INTO invites (tenant_id, email, role, token_hash, invited_by, expires_at)
		VALUES ($1, $2, 'member', $3, NULL, $4) RETURNING id, created_at`,
		tx.TenantID, email, hashToken(token), expires,
	).Scan(&inv.ID, &inv.CreatedAt)
	if err != nil {
		return nil, translate(err, "create join invite")
	}
	return &inv, nil
}
