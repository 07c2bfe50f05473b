// Package mfa serves two-factor authentication: enrolling an authenticator
// app (TOTP) with one-time recovery codes, the second step of a login for
// people who have it on, and an organization's setting that requires it of
// every member. The code checks live here; handlers/auth only hands a
// half-finished login over with BeginLogin.
package mfa

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/atrium-dev/atrium/handlers/auth/password"
	"github.com/atrium-dev/atrium/store"
)

// Issuer names Atrium in authenticator apps, beside the person's email.
const Issuer = "Atrium"

// CodeThrottle limits wrong codes per person, wherever a code is asked for
// (the login step, turning MFA off, new recovery codes): six digits are
// guessed in a million tries, so five per quarter hour keeps that out of
// reach.
var CodeThrottle = store.Throttle{Max: 5, Window: 15 * time.Minute}

// RecoveryCodeCount is how many recovery codes a person gets at a time.
const RecoveryCodeCount = 10

// period is the TOTP time step; skew is how many steps either side of now
// a code may be from (phones' clocks drift).
const (
	period = 30
	skew   = 1
)

var totpOpts = totp.ValidateOpts{Period: period, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// Handler serves enrollment, the login step and the security settings.
type Handler struct {
	db       *store.DB
	tenantSM *scs.SessionManager
	hasher   *password.Hasher
	log      *slog.Logger
	now      func() time.Time
}

// New returns the MFA handlers.
func New(db *store.DB, tenantSM *scs.SessionManager, hasher *password.Hasher, log *slog.Logger) *Handler {
	return &Handler{db: db, tenantSM: tenantSM, hasher: hasher, log: log, now: time.Now}
}

// throttleKey is the counter of wrong codes for one person.
func throttleKey(userID uuid.UUID) string { return "mfa:" + userID.String() }

// Session keys. The pending login lives in the organization's own session,
// so it means nothing at another organization.
const (
	pendingUserKey  = "mfa_pending_user"
	pendingUntilKey = "mfa_pending_until" // unix seconds
	pendingNextKey  = "mfa_pending_next"
	enrollKey       = "mfa_enroll_url" // otpauth:// URL of the secret being set up
)

// PendingLifetime is how long a verified password waits for its code.
const PendingLifetime = 5 * time.Minute

// BeginLogin marks the session as half signed in: userID proved their
// password and must now give a code at LoginStepPath before PendingLifetime
// runs out. The session does not carry store.SessionUserKey yet, so no
// member page lets them in. next is where to go afterwards; it must already
// be checked to stay inside the organization.
func BeginLogin(ctx context.Context, sm *scs.SessionManager, userID uuid.UUID, next string) {
	sm.Put(ctx, pendingUserKey, userID.String())
	sm.Put(ctx, pendingUntilKey, time.Now().Add(PendingLifetime).Unix())
	sm.Put(ctx, pendingNextKey, next)
}

// LoginStepPath is the second login step of the organization with slug.
func LoginStepPath(slug string) string { return "/o/" + slug + "/login/mfa" }

// pendingLogin returns the user whose login waits for a code, and where to
// go afterwards; ok is false when there is none or it has expired.
func (h *Handler) pendingLogin(ctx context.Context) (userID uuid.UUID, next string, ok bool) {
	id, err := uuid.Parse(h.tenantSM.GetString(ctx, pendingUserKey))
	if err != nil {
		return uuid.Nil, "", false
	}
	until, _ := h.tenantSM.Get(ctx, pendingUntilKey).(int64)
	if h.now().Unix() >= until {
		return uuid.Nil, "", false
	}
	return id, h.tenantSM.GetString(ctx, pendingNextKey), true
}

// endPending forgets a pending login.
func (h *Handler) endPending(ctx context.Context) {
	h.tenantSM.Remove(ctx, pendingUserKey)
	h.tenantSM.Remove(ctx, pendingUntilKey)
	h.tenantSM.Remove(ctx, pendingNextKey)
}

// newKey generates a TOTP secret for the person with email.
func newKey(email string) (*otp.Key, error) {
	return totp.Generate(totp.GenerateOpts{Issuer: Issuer, AccountName: email, Period: period,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// normalizeCode strips what people type around a code: spaces, hyphens,
// case. Crockford's look-alikes (o, i, l) read as the digits they resemble.
func normalizeCode(s string) string {
	if len(s) > 64 {
		s = s[:64] // no code is this long; don't spend work on it
	}
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r == ' ' || r == '-' || r == '\t':
		case r == 'o':
			b.WriteByte('0')
		case r == 'i' || r == 'l':
			b.WriteByte('1')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isTOTPCode reports whether a normalized code has the shape of a TOTP code.
func isTOTPCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// matchStep returns the time step, within skew of now, whose code is code.
// Every candidate is computed and compared in constant time.
func matchStep(secret, code string, now time.Time) (int64, bool) {
	cur := now.Unix() / period
	var found int64
	ok := false
	for s := cur - skew; s <= cur+skew; s++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*period, 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !ok {
			found, ok = s, true
		}
	}
	return found, ok
}

// recoveryAlphabet is Crockford's base 32: no i, l, o or u to misread.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// newRecoveryCodes returns RecoveryCodeCount fresh codes, formatted for
// people ("k3m9q-x7vw2", 50 random bits each), and their hashes for the
// database.
func newRecoveryCodes() ([]string, [][]byte, error) {
	codes := make([]string, RecoveryCodeCount)
	hashes := make([][]byte, RecoveryCodeCount)
	buf := make([]byte, 10)
	for i := range codes {
		if _, err := rand.Read(buf); err != nil {
			return nil, nil, err
		}
		raw := make([]byte, len(buf))
		for j, b := range buf {
			raw[j] = recoveryAlphabet[b%32] // 256 is a multiple of 32: unbiased
		}
		codes[i] = string(raw[:5]) + "-" + string(raw[5:])
		hashes[i] = hashRecoveryCode(string(raw))
	}
	return codes, hashes, nil
}

// isRecoveryCode reports whether a normalized code has the shape of a
// recovery code.
func isRecoveryCode(code string) bool {
	if len(code) != 10 {
		return false
	}
	for _, r := range code {
		if !strings.ContainsRune(recoveryAlphabet, r) {
			return false
		}
	}
	return true
}

func hashRecoveryCode(normalized string) []byte {
	h := sha256.Sum256([]byte(normalized))
	return h[:]
}

// outcome is what checking a code found.
type outcome int

const (
	codeWrong    outcome = iota // neither a current TOTP code nor an unused recovery code
	codeReused                  // a right TOTP code whose time step was already used
	codeTOTP                    // a right, fresh TOTP code (now used)
	codeRecovery                // an unused recovery code (now used)
)

func (o outcome) ok() bool { return o == codeTOTP || o == codeRecovery }

// reason names a failed outcome in the audit log.
func (o outcome) reason() string {
	if o == codeReused {
		return "reused_code"
	}
	return "wrong_code"
}

// checkCode tries code as a TOTP code, then as a recovery code, for a user
// with MFA on, and spends it when it is right: in the same transaction, so
// it works once even when two requests race.
func checkCode(ctx context.Context, tx *store.SysTx, m *store.MFA, code string, now time.Time) (outcome, error) {
	if !m.Enabled() {
		return codeWrong, nil
	}
	code = normalizeCode(code)
	switch {
	case isTOTPCode(code):
		step, ok := matchStep(m.Secret, code, now)
		if !ok {
			return codeWrong, nil
		}
		fresh, err := tx.UseTOTPStep(ctx, m.UserID, step)
		if err != nil || !fresh {
			return codeReused, err
		}
		return codeTOTP, nil
	case isRecoveryCode(code):
		used, err := tx.UseRecoveryCode(ctx, m.UserID, hashRecoveryCode(code))
		if err != nil || !used {
			return codeWrong, err
		}
		return codeRecovery, nil
	}
	return codeWrong, nil
}

// blockedMessage returns a message when userID has given too many wrong
// codes lately, and "" otherwise.
func blockedMessage(ctx context.Context, tx *store.SysTx, userID uuid.UUID, now time.Time) (string, error) {
	blocked, until, err := tx.Blocked(ctx, CodeThrottle, throttleKey(userID))
	if err != nil || !blocked {
		return "", err
	}
	mins := int(until.Sub(now).Minutes()) + 1
	wait := "1 minute"
	if mins > 1 {
		wait = strconv.Itoa(mins) + " minutes"
	}
	return "Too many wrong codes. For your safety, please wait " + wait + " and try again.", nil
}

// Messages for a code that was not accepted.
const (
	msgNoCode    = "Enter the 6-digit code from your authenticator app, or one of your recovery codes."
	msgWrongCode = "That code is not right. Check that your phone's clock is correct and try the newest code, or use a recovery code."
	msgReused    = "That code was already used. Wait for the next code in your authenticator app and enter that one."
)

func failureMessage(o outcome) string {
	if o == codeReused {
		return msgReused
	}
	return msgWrongCode
}
