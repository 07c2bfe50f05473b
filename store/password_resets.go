package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// PasswordReset is an emailed link that lets a person choose a new
// password. Only the SHA-256 of its token is stored.
type PasswordReset struct {
	ID        uuid.UUID
	UserID    uuid.UUID
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// Usable reports whether the link can still be used at now. The database
// makes the final decision (UsePasswordReset); this is for explaining why
// a link no longer works.
func (r *PasswordReset) Usable(now time.Time) bool {
	return r.UsedAt == nil && now.Before(r.ExpiresAt)
}

// CreatePasswordReset records a reset link for userID whose URL carries
// token, valid for ttl from now by the database's clock (the same clock
// UsePasswordReset checks against).
func (s *SysTx) CreatePasswordReset(ctx context.Context, userID uuid.UUID, token string, ttl time.Duration) (*PasswordReset, error) {
	r := PasswordReset{UserID: userID}
	err := s.tx.QueryRow(ctx, `
		INSERT INTO password_resets (user_id, token_hash, expires_at)
		VALUES ($1, $2, now() + $3::interval) RETURNING id, created_at, expires_at`,
		userID, hashToken(token), ttl,
	).Scan(&r.ID, &r.CreatedAt, &r.ExpiresAt)
	if err != nil {
		return nil, translate(err, "create password reset")
	}
	return &r, nil
}

// FindPasswordResetByToken returns the reset whose token hashes to token,
// used, expired or not, so the caller can say which; an altered token is
// ENOTFOUND.
func (s *SysTx) FindPasswordResetByToken(ctx context.Context, token string) (*PasswordReset, error) {
	rows, err := s.tx.Query(ctx, `
		SELECT id, user_id, created_at, expires_at, used_at FROM password_resets WHERE token_hash = $1`,
		hashToken(token))
	if err != nil {
		return nil, translate(err, "find password reset")
	}
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[PasswordReset])
	if err != nil {
		return nil, translate(err, "find password reset")
	}
	return &r, nil
}

// UsePasswordReset marks an unused, unexpired reset used. It is the
// single-use guard: of two concurrent uses only one matches the row, and
// the other gets ENOTFOUND.
func (s *SysTx) UsePasswordReset(ctx context.Context, id uuid.UUID) error {
	tag, err := s.tx.Exec(ctx, `
		UPDATE password_resets SET used_at = now()
		WHERE id = $1 AND used_at IS NULL AND expires_at > now()`, id)
	if err != nil {
		return translate(err, "use password reset")
	}
	if tag.RowsAffected() == 0 {
		return translate(errNoRows, "use password reset")
	}
	return nil
}

// ExpirePasswordResets ends every open reset link of userID now, and
// returns how many there were. After a reset (or a change of password) an
// older link in a mailbox must not work any more.
func (s *SysTx) ExpirePasswordResets(ctx context.Context, userID uuid.UUID) (int64, error) {
	tag, err := s.tx.Exec(ctx, `
		UPDATE password_resets SET expires_at = now()
		WHERE user_id = $1 AND used_at IS NULL AND expires_at > now()`, userID)
	if err != nil {
		return 0, translate(err, "expire password resets")
	}
	return tag.RowsAffected(), nil
}
