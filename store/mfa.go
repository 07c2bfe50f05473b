package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atrium-dev/atrium"
)

// MFA is a person's two-factor authentication state. It belongs to the
// user, not to one organization, so one enrollment protects every
// organization they are a member of.
type MFA struct {
	UserID uuid.UUID
	// Secret is the base32 TOTP secret; "" while MFA is off.
	Secret string
	// EnabledAt is when MFA was turned on; nil while it is off.
	EnabledAt *time.Time
	// LastStep is the TOTP time step of the last accepted code (0: none).
	LastStep int64
	// RecoveryCodesLeft counts the recovery codes not used yet.
	RecoveryCodesLeft int
}

// Enabled reports whether the user has turned MFA on.
func (m *MFA) Enabled() bool { return m != nil && m.EnabledAt != nil }

// FindMFA returns the user's MFA state (ENOTFOUND for an unknown user).
func (s *SysTx) FindMFA(ctx context.Context, userID uuid.UUID) (*MFA, error) {
	m := MFA{UserID: userID}
	var secret *string
	var last *int64
	err := s.tx.QueryRow(ctx, `
		SELECT u.totp_secret, u.mfa_enabled_at, u.totp_last_step,
		       (SELECT count(*) FROM mfa_recovery_codes r WHERE r.user_id = u.id AND r.used_at IS NULL)
		FROM users u WHERE u.id = $1`, userID,
	).Scan(&secret, &m.EnabledAt, &last, &m.RecoveryCodesLeft)
	if err != nil {
		return nil, translate(err, "find mfa")
	}
	m.Secret = deref(secret)
	if last != nil {
		m.LastStep = *last
	}
	return &m, nil
}

// EnableMFA turns MFA on with a confirmed secret. step is the time step of
// the code that confirmed it, which counts as used; codeHashes are the
// SHA-256 hashes of the new recovery codes, replacing any old ones. Enabling
// twice is ECONFLICT: the second secret would silently replace the first.
func (s *SysTx) EnableMFA(ctx context.Context, userID uuid.UUID, secret string, step int64, codeHashes [][]byte) error {
	s.changedUser(userID)
	tag, err := s.tx.Exec(ctx, `
		UPDATE users SET totp_secret = $2, mfa_enabled_at = now(), totp_last_step = $3
		WHERE id = $1 AND mfa_enabled_at IS NULL`, userID, secret, step)
	if err != nil {
		return translate(err, "enable mfa")
	}
	if tag.RowsAffected() == 0 {
		return atrium.Errorf(atrium.ECONFLICT, "Two-factor authentication is already on.")
	}
	if err := s.changedUserTenants(ctx, userID); err != nil {
		return err
	}
	return s.ReplaceRecoveryCodes(ctx, userID, codeHashes)
}

// changedUserTenants names every organization userID belongs to as changed,
// for the entry cache's drop at commit: a change of their two-factor state
// moves each one's count of members without it (migration 00019), which
// every member's cached entry there carries, not only their own.
func (s *SysTx) changedUserTenants(ctx context.Context, userID uuid.UUID) error {
	tenants, err := s.userTenants(ctx, userID)
	for _, t := range tenants {
		s.ch.tenants = append(s.ch.tenants, t.ID)
	}
	return err
}

// DisableMFA turns MFA off: the secret and every recovery code are removed.
// A user without MFA is ENOTFOUND.
func (s *SysTx) DisableMFA(ctx context.Context, userID uuid.UUID) error {
	s.changedUser(userID)
	tag, err := s.tx.Exec(ctx, `
		UPDATE users SET totp_secret = NULL, mfa_enabled_at = NULL, totp_last_step = NULL
		WHERE id = $1 AND mfa_enabled_at IS NOT NULL`, userID)
	if err != nil {
		return translate(err, "disable mfa")
	}
	if tag.RowsAffected() == 0 {
		return translate(errNoRows, "disable mfa")
	}
	if err := s.changedUserTenants(ctx, userID); err != nil {
		return err
	}
	_, err = s.tx.Exec(ctx, `DELETE FROM mfa_recovery_codes WHERE user_id = $1`, userID)
	return translate(err, "disable mfa: delete recovery codes")
}

// UseTOTPStep records that a code of time step step was accepted, and
// reports false when a code of that step or a later one was accepted
// before: a TOTP code works once. The check and the write are one
// statement, so two requests racing with the same code cannot both win.
func (s *SysTx) UseTOTPStep(ctx context.Context, userID uuid.UUID, step int64) (bool, error) {
	tag, err := s.tx.Exec(ctx, `
		UPDATE users SET totp_last_step = $2
		WHERE id = $1 AND mfa_enabled_at IS NOT NULL
		  AND (totp_last_step IS NULL OR totp_last_step < $2)`, userID, step)
	if err != nil {
		return false, translate(err, "use totp step")
	}
	return tag.RowsAffected() == 1, nil
}

// ReplaceRecoveryCodes swaps the user's recovery codes for new ones, given
// as SHA-256 hashes; the old codes stop working at once.
func (s *SysTx) ReplaceRecoveryCodes(ctx context.Context, userID uuid.UUID, codeHashes [][]byte) error {
	if _, err := s.tx.Exec(ctx, `DELETE FROM mfa_recovery_codes WHERE user_id = $1`, userID); err != nil {
		return translate(err, "replace recovery codes")
	}
	_, err := s.tx.Exec(ctx, `
		INSERT INTO mfa_recovery_codes (user_id, code_hash)
		SELECT $1, h FROM unnest($2::bytea[]) AS h`, userID, codeHashes)
	return translate(err, "replace recovery codes")
}

// UseRecoveryCode marks the recovery code with hash used, and reports false
// when the user has no such unused code. Like UseTOTPStep it is one
// statement, so a code cannot be spent twice.
func (s *SysTx) UseRecoveryCode(ctx context.Context, userID uuid.UUID, hash []byte) (bool, error) {
	tag, err := s.tx.Exec(ctx, `
		UPDATE mfa_recovery_codes SET used_at = now()
		WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL
		  AND EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND u.mfa_enabled_at IS NOT NULL)`, userID, hash)
	if err != nil {
		return false, translate(err, "use recovery code")
	}
	return tag.RowsAffected() == 1, nil
}

// MemberMFAEnabled reports whether the member with userID has MFA on. It
// reads through the membership, so a user who is not a member of the
// current tenant is ENOTFOUND, like everywhere else behind the tenant door.
func (tx *Tx) MemberMFAEnabled(ctx context.Context, userID uuid.UUID) (bool, error) {
	var on bool
	err := tx.tx.QueryRow(ctx, `
		SELECT u.mfa_enabled_at IS NOT NULL
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.user_id = $1`, userID).Scan(&on)
	if err != nil {
		return false, translate(err, "member mfa enabled")
	}
	return on, nil
}

// SecuritySettings are an organization's security choices, with the figures
// an admin needs to make them.
type SecuritySettings struct {
	// RequireMFA sends members without MFA to enrollment on every page.
	RequireMFA bool
	// Members is the number of members.
	Members int
	// MembersWithoutMFA counts the members who have not turned MFA on (the
	// tenant row keeps the count, migration 00019).
	MembersWithoutMFA int
}

// FindSecuritySettings queues a read of the tenant's security settings into
// dst. They are all the tenant row's figures, so in ReadTenant (and a
// cached entry's reads) they come with the tenant setting, or from the
// entry, and cost no statement of their own.
func (b *Batch) FindSecuritySettings(dst *SecuritySettings) {
	if b.opened {
		b.fromRow = append(b.fromRow, func(f tenantFigures) {
			*dst = SecuritySettings{RequireMFA: f.requireMFA, Members: f.members, MembersWithoutMFA: f.withoutMFA}
		})
		return
	}
	b.b.Queue(`
		SELECT require_mfa, member_count, members_without_mfa
		FROM tenants WHERE id = current_setting('app.tenant_id')::uuid`,
	).QueryRow(func(row pgx.Row) error {
		return row.Scan(&dst.RequireMFA, &dst.Members, &dst.MembersWithoutMFA)
	})
}

// UpdateRequireMFA sets whether the current tenant requires MFA of its
// members, and reports whether that changed anything, so an unchanged form
// leaves no audit entry.
func (tx *Tx) UpdateRequireMFA(ctx context.Context, on bool) (bool, error) {
	tag, err := tx.tx.Exec(ctx, `
		UPDATE tenants SET require_mfa = $2
		WHERE id = $1 AND deleted_at IS NULL AND require_mfa IS DISTINCT FROM $2`, tx.TenantID, on)
	if err != nil {
		return false, translate(err, "update require mfa")
	}
	return tag.RowsAffected() == 1, nil
}
