package store

import (
	"bytes"
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atrium-dev/atrium"
)

// Session is one of a person's sessions in the current tenant, as their
// account page lists it. The token itself is never readable: only whether
// it is the token of the request asking (Current).
type Session struct {
	ID        uuid.UUID
	UserID    uuid.UUID
	IP        string // "" when unknown
	UserAgent string // "" when unknown
	CreatedAt time.Time
	UpdatedAt time.Time
	Expiry    time.Time
	// Current is true for the session whose token the caller passed.
	Current bool
}

// maxUserAgent matches the column's CHECK: a user agent is for people to
// recognise their device, and a longer one is almost certainly junk.
const maxUserAgent = 512

// sessionClient returns the request's address and user agent for a new
// session row: nil for what is unknown, the user agent cut to a valid
// UTF-8 prefix that fits the column.
func sessionClient(ctx context.Context) (*netip.Addr, *string) {
	cl := atrium.ClientFromContext(ctx)
	var ip *netip.Addr
	if a, err := netip.ParseAddr(cl.IP); err == nil {
		ip = &a
	}
	var ua *string
	if s := cl.UserAgent; s != "" {
		if len(s) > maxUserAgent {
			s = strings.ToValidUTF8(s[:maxUserAgent], "")
		}
		ua = &s
	}
	return ip, ua
}

const sessionColumns = `id, user_id, coalesce(host(ip), ''), coalesce(user_agent, ''),
	created_at, updated_at, expiry, coalesce(token_hash = $1, false)`

func scanSession(row pgx.CollectableRow) (Session, error) {
	var s Session
	err := row.Scan(&s.ID, &s.UserID, &s.IP, &s.UserAgent, &s.CreatedAt, &s.UpdatedAt, &s.Expiry, &s.Current)
	return s, err
}

// tokenHashOrNil hashes a session token; an empty token (no session) hashes
// to nothing, so it matches no row.
func tokenHashOrNil(token string) []byte {
	if token == "" {
		return nil
	}
	return hashToken(token)
}

// FindUserSessions queues the live sessions of userID in the current tenant
// into dst: the one holding currentToken first (marked Current), then by
// last use. Another tenant's sessions are invisible here, whoever they
// belong to. Read through ReadTenant (or a cached entry), the list is kept
// for the member (orgKept.sessions) and costs no statement until one of
// their sessions changes or a new one is theirs.
func (b *Batch) FindUserSessions(userID uuid.UUID, currentToken string, dst *[]Session) {
	current := tokenHashOrNil(currentToken)
	l := sessionList{tenant: b.tenant, user: userID}
	if list, hashes, ok := b.cache.sessionsOf(l); ok {
		*dst = currentFirst(list, hashes, current)
		return
	}
	cache, gen, listGen := b.cache, b.gen, b.listGen
	b.b.Queue(`SELECT `+sessionColumns+`, token_hash FROM sessions
		WHERE user_id = $2 AND expiry > now()
		ORDER BY token_hash = $1 DESC, updated_at DESC, id LIMIT 200`, current, userID,
	).Query(func(rows pgx.Rows) error {
		var list []Session
		var hashes [][]byte
		for rows.Next() {
			var s Session
			var h []byte
			if err := rows.Scan(&s.ID, &s.UserID, &s.IP, &s.UserAgent, &s.CreatedAt, &s.UpdatedAt, &s.Expiry, &s.Current, &h); err != nil {
				return err
			}
			list, hashes = append(list, s), append(hashes, h)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		*dst = list
		if cache != nil {
			kept, keptHashes := byLastUse(list, hashes)
			cache.keepSessions(l, gen, listGen, kept, keptHashes)
		}
		return nil
	})
}

// byLastUse returns copies of list and hashes in the order of last use (the
// most recent first), none marked current: the list as any of its
// sessions will see it, once currentFirst has put theirs first.
func byLastUse(list []Session, hashes [][]byte) ([]Session, [][]byte) {
	order := make([]int, len(list))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := list[b].UpdatedAt.Compare(list[a].UpdatedAt); c != 0 {
			return c
		}
		return bytes.Compare(list[a].ID[:], list[b].ID[:])
	})
	kept, keptHashes := make([]Session, len(list)), make([][]byte, len(list))
	for i, j := range order {
		kept[i], keptHashes[i] = list[j], hashes[j]
		kept[i].Current = false
	}
	return kept, keptHashes
}

// currentFirst marks the session whose token hashes to current and puts it
// first, keeping the others' order (the most recently used first).
func currentFirst(list []Session, hashes [][]byte, current []byte) []Session {
	for i, h := range hashes {
		if current != nil && bytes.Equal(h, current) {
			list[i].Current = true
			cur := list[i]
			copy(list[1:i+1], list[:i])
			list[0] = cur
			break
		}
	}
	return list
}

// FindUserSession returns one live session of userID in the current tenant.
// A session of another person, or of another tenant, is ENOTFOUND, so an id
// copied from elsewhere tells nothing.
func (tx *Tx) FindUserSession(ctx context.Context, userID, id uuid.UUID, currentToken string) (*Session, error) {
	rows, err := tx.tx.Query(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = $2 AND id = $3 AND expiry > now()`, tokenHashOrNil(currentToken), userID, id)
	if err != nil {
		return nil, translate(err, "find user session")
	}
	s, err := pgx.CollectExactlyOneRow(rows, scanSession)
	if err != nil {
		return nil, translate(err, "find user session")
	}
	return &s, nil
}

// DeleteUserSession revokes one session of userID in the current tenant;
// ENOTFOUND when there is no such session (or it is someone else's).
func (tx *Tx) DeleteUserSession(ctx context.Context, userID, id uuid.UUID) error {
	tag, err := tx.tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id = $2`, userID, id)
	if err != nil {
		return translate(err, "delete user session")
	}
	if tag.RowsAffected() == 0 {
		return translate(errNoRows, "delete user session")
	}
	return nil
}

// DeleteUserSessions revokes every session of userID in the current tenant
// except the one holding keepToken ("" keeps none), and returns how many
// live ones went. Expired rows are left to the periodic purge: they open
// nothing, and counting them would overstate what was signed out.
func (tx *Tx) DeleteUserSessions(ctx context.Context, userID uuid.UUID, keepToken string) (int64, error) {
	tag, err := tx.tx.Exec(ctx, `
		DELETE FROM sessions
		WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2 AND expiry > now()`,
		userID, tokenHashOrNil(keepToken))
	if err != nil {
		return 0, translate(err, "delete user sessions")
	}
	return tag.RowsAffected(), nil
}

// EachUserTenant calls fn inside each live organization userID belongs to,
// one after the other in this system transaction, so that a change which
// must reach all of a person's organizations (revoking their sessions after
// a password change) commits everywhere or nowhere. Each call sees only
// that tenant's rows. Afterwards no tenant is set: later tenant work in the
// transaction must EnterTenant again.
func (s *SysTx) EachUserTenant(ctx context.Context, userID uuid.UUID, fn func(*Tx, Tenant) error) error {
	tenants, err := s.userTenants(ctx, userID)
	if err != nil {
		return err
	}
	for _, t := range tenants {
		tx, err := s.EnterTenant(ctx, t.ID)
		if err != nil {
			return err
		}
		if err := fn(tx, t); err != nil {
			return err
		}
	}
	if _, err := s.tx.Exec(ctx, setTenantSQL, ""); err != nil {
		return translate(err, "leave tenant")
	}
	return nil
}

// userTenants returns the live organizations userID belongs to, in the
// order the one narrow cross-tenant function gives them (by name, as the
// login chooser and the switcher list them); the registry gives the rest.
func (s *SysTx) userTenants(ctx context.Context, userID uuid.UUID) ([]Tenant, error) {
	rows, err := s.tx.Query(ctx, `
		SELECT t.id, t.slug, t.name, t.member_count, t.created_at
		FROM user_organizations($1) WITH ORDINALITY o (slug, name, n) JOIN tenants t ON t.slug = o.slug
		WHERE t.deleted_at IS NULL ORDER BY o.n`, userID)
	if err != nil {
		return nil, translate(err, "find user tenants")
	}
	tenants, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Tenant, error) {
		var t Tenant
		err := r.Scan(t.fields()...)
		return t, err
	})
	return tenants, translate(err, "find user tenants")
}

// FindUserByID returns the user with that id.
func (s *SysTx) FindUserByID(ctx context.Context, id uuid.UUID) (*User, error) {
	var u User
	err := s.tx.QueryRow(ctx, `
		SELECT id, email, name, password_hash, created_at FROM users WHERE id = $1`, id,
	).Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.CreatedAt)
	if err != nil {
		return nil, translate(err, "find user by id")
	}
	return &u, nil
}

// UpdateUserName changes a person's display name, which every one of their
// organizations shows.
func (s *SysTx) UpdateUserName(ctx context.Context, id uuid.UUID, name string) error {
	s.changedUser(id)
	return s.updateUser(ctx, "update user name", `UPDATE users SET name = $2 WHERE id = $1`, id, name)
}

// UpdateUserPassword replaces a person's password hash. It signs nobody
// out by itself: callers revoke sessions in the same transaction.
func (s *SysTx) UpdateUserPassword(ctx context.Context, id uuid.UUID, hash string) error {
	return s.updateUser(ctx, "update user password", `UPDATE users SET password_hash = $2 WHERE id = $1`, id, hash)
}

// changedUser notes that the user's entries in the cache are out of date.
func (s *SysTx) changedUser(id uuid.UUID) { s.ch.users = append(s.ch.users, id) }

func (s *SysTx) updateUser(ctx context.Context, what, sql string, args ...any) error {
	tag, err := s.tx.Exec(ctx, sql, args...)
	if err != nil {
		return translate(err, what)
	}
	if tag.RowsAffected() == 0 {
		return translate(errNoRows, what)
	}
	return nil
}
