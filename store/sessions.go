package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// SessionUserKey is the session key that holds the signed-in user's id. The
// tenant session store copies it into its own column so that a person's
// sessions can be listed and revoked without decoding session data.
const SessionUserKey = "user_id"

// OperatorSessionKey is the console session key that holds the signed-in
// operator's id. The system session store copies it into its own column,
// which EnterConsole joins to the operator.
const OperatorSessionKey = "operator_id"

// ConsoleNamespace is the system session namespace of the operator console.
const ConsoleNamespace = "console"

var errNoContext = errors.New("store: session stores need a context; scs calls the Ctx methods")

// NewToken returns a random token for a link or a session: 256 bits,
// URL-safe. The store keeps only its SHA-256 (hashToken), so a database dump
// holds nothing that opens a link.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// TenantSessions is an scs store whose rows live under the tenant's
// row-level security: a token is looked up inside the tenant of the request,
// so a token from one organization is never found at another.
type TenantSessions struct {
	db   *DB
	idle time.Duration
}

// TenantSessions returns the session store for tenant sessions.
func (db *DB) TenantSessions() *TenantSessions { return &TenantSessions{db: db} }

// WithIdleTimeout returns the store with an idle timeout: every save sets
// the row to expire idle after now, or at the session's deadline if sooner.
// The timeout lives here rather than in scs, whose own idle timeout marks
// every loaded session modified and so writes it on every request.
func (s *TenantSessions) WithIdleTimeout(idle time.Duration) *TenantSessions {
	c := *s
	c.idle = idle
	return &c
}

// idleExpiry applies an idle timeout to a session's deadline.
func idleExpiry(expiry time.Time, idle time.Duration) time.Time {
	if idle > 0 {
		if ie := time.Now().Add(idle); ie.Before(expiry) {
			return ie
		}
	}
	return expiry
}

// SessionMeta receives what a session store learns when it finds a
// session: when the row was last written. Put one in the context before
// scs loads the session (WithSessionMeta) to decide whether an unmodified
// session is due to be rewritten.
type SessionMeta struct {
	Found     bool
	UpdatedAt time.Time
}

type sessionMetaKey struct{}

// WithSessionMeta returns a context in which session stores fill m.
func WithSessionMeta(ctx context.Context, m *SessionMeta) context.Context {
	return context.WithValue(ctx, sessionMetaKey{}, m)
}

func noteSession(ctx context.Context, updated time.Time) {
	if m, ok := ctx.Value(sessionMetaKey{}).(*SessionMeta); ok {
		m.Found, m.UpdatedAt = true, updated
	}
}

var _ scs.CtxStore = (*TenantSessions)(nil)

// FindCtx returns the data of a live session of the current tenant.
func (s *TenantSessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	if b, found, ok := prefetchedSession(ctx, token); ok {
		return b, found, nil
	}
	var b []byte
	err := s.db.InTenant(ctx, func(tx *Tx) error {
		return tx.tx.QueryRow(ctx, `
			SELECT data FROM sessions WHERE token_hash = $1 AND expiry > now()`, hashToken(token),
		).Scan(&b)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, translate(err, "find session")
	}
	return b, true, nil
}

// CommitCtx saves the session under the current tenant.
func (s *TenantSessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	expiry = idleExpiry(expiry, s.idle)
	userID := sessionUserID(b)
	ip, ua := sessionClient(ctx) // kept from the first save: where the session began
	hash := hashToken(token)
	err := s.db.InTenant(ctx, func(tx *Tx) error {
		tx.onlySession(hash)
		if userID != nil { // it may be newly theirs: their kept list goes
			tx.ch.lists = append(tx.ch.lists, sessionList{tenant: tx.TenantID, user: *userID})
		}
		_, err := tx.tx.Exec(ctx, `
			INSERT INTO sessions (tenant_id, token_hash, data, expiry, user_id, ip, user_agent)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (tenant_id, token_hash)
			DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry,
			              user_id = EXCLUDED.user_id, updated_at = now()`,
			tx.TenantID, hash, b, expiry, userID, ip, ua)
		return err
	})
	return translate(err, "commit session")
}

// DeleteCtx removes the session from the current tenant.
func (s *TenantSessions) DeleteCtx(ctx context.Context, token string) error {
	hash := hashToken(token)
	err := s.db.InTenant(ctx, func(tx *Tx) error {
		tx.onlySession(hash)
		_, err := tx.tx.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash)
		return err
	})
	return translate(err, "delete session")
}

// onlySession narrows what the transaction changed, for the entry cache,
// from the whole tenant to one session.
func (tx *Tx) onlySession(hash []byte) {
	tx.ch.tenants = nil
	tx.ch.sessions = append(tx.ch.sessions, hash)
}

// Find implements scs.Store; it is never called because FindCtx exists.
func (s *TenantSessions) Find(string) ([]byte, bool, error) { return nil, false, errNoContext }

// Commit implements scs.Store; it is never called because CommitCtx exists.
func (s *TenantSessions) Commit(string, []byte, time.Time) error { return errNoContext }

// Delete implements scs.Store; it is never called because DeleteCtx exists.
func (s *TenantSessions) Delete(string) error { return errNoContext }

// sessionUserID extracts the user id from encoded session data, or nil.
// sessionUserID returns the user id session data b holds, or nil.
func sessionUserID(b []byte) *uuid.UUID { return sessionID(b, SessionUserKey) }

// sessionID returns the id that session data b holds under key, or nil.
func sessionID(b []byte, key string) *uuid.UUID {
	_, values, err := SessionCodec{}.Decode(b)
	if err != nil {
		return nil
	}
	s, _ := values[key].(string)
	id, err := uuid.Parse(s)
	if err != nil {
		return nil
	}
	return &id
}

// PurgeExpiredSessions deletes expired sessions of every tenant and of the
// system namespaces, returning how many went. It runs periodically.
func (db *DB) PurgeExpiredSessions(ctx context.Context) (int64, error) {
	var n, m int64
	err := db.InSystem(ctx, func(s *SysTx) error {
		if err := s.tx.QueryRow(ctx, `SELECT purge_expired_sessions()`).Scan(&n); err != nil {
			return err
		}
		tag, err := s.tx.Exec(ctx, `DELETE FROM system_sessions WHERE expiry < now()`)
		m = tag.RowsAffected()
		return err
	})
	return n + m, translate(err, "purge expired sessions")
}

// SystemSessions is an scs store for sessions that belong to no tenant: the
// operator console and the login chooser, each in its own namespace.
type SystemSessions struct {
	db        *DB
	namespace string
	idle      time.Duration
}

// WithIdleTimeout returns the store with an idle timeout (see
// TenantSessions.WithIdleTimeout).
func (s *SystemSessions) WithIdleTimeout(idle time.Duration) *SystemSessions {
	c := *s
	c.idle = idle
	return &c
}

// SystemSessions returns the session store for one system namespace.
func (db *DB) SystemSessions(namespace string) *SystemSessions {
	return &SystemSessions{db: db, namespace: namespace}
}

var _ scs.CtxStore = (*SystemSessions)(nil)

// FindCtx returns the data of a live session in this namespace: the one
// EnterConsole read, if it did.
func (s *SystemSessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	if b, found, ok := prefetchedSession(ctx, token); ok {
		return b, found, nil
	}
	var b []byte
	var updated time.Time
	err := s.db.pool.QueryRow(ctx, `
		SELECT data, updated_at FROM system_sessions
		WHERE namespace = $1 AND token_hash = $2 AND expiry > now()`,
		s.namespace, hashToken(token)).Scan(&b, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, translate(err, "find system session")
	}
	noteSession(ctx, updated)
	return b, true, nil
}

// CommitCtx saves the session in this namespace, with the operator it
// names, if any, in its own column.
func (s *SystemSessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := s.db.pool.Exec(ctx, `
		INSERT INTO system_sessions (namespace, token_hash, data, expiry, operator_id) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (namespace, token_hash)
		DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry, operator_id = EXCLUDED.operator_id, updated_at = now()`,
		s.namespace, hashToken(token), b, idleExpiry(expiry, s.idle), sessionID(b, OperatorSessionKey))
	if err != nil {
		return translate(err, "commit system session")
	}
	s.db.forgetSession(token)
	return nil
}

// DeleteCtx removes the session from this namespace.
func (s *SystemSessions) DeleteCtx(ctx context.Context, token string) error {
	_, err := s.db.pool.Exec(ctx, `DELETE FROM system_sessions WHERE namespace = $1 AND token_hash = $2`,
		s.namespace, hashToken(token))
	if err != nil {
		return translate(err, "delete system session")
	}
	s.db.forgetSession(token)
	return nil
}

// forgetSession drops the entry kept for token's session at once, so that
// this server reads its own session writes back (other servers hear of them
// through the triggers).
func (db *DB) forgetSession(token string) {
	db.forget(&change{sessions: [][]byte{hashToken(token)}})
}

// Find implements scs.Store; it is never called because FindCtx exists.
func (s *SystemSessions) Find(string) ([]byte, bool, error) { return nil, false, errNoContext }

// Commit implements scs.Store; it is never called because CommitCtx exists.
func (s *SystemSessions) Commit(string, []byte, time.Time) error { return errNoContext }

// Delete implements scs.Store; it is never called because DeleteCtx exists.
func (s *SystemSessions) Delete(string) error { return errNoContext }
