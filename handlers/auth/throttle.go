package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium/store"
)

// Limits on failed logins, counted in PostgreSQL so every server shares them.
var (
	// AccountThrottle limits guesses against one email address.
	AccountThrottle = store.Throttle{Max: 5, Window: 15 * time.Minute}
	// IPThrottle limits guesses from one client address across accounts.
	IPThrottle = store.Throttle{Max: 30, Window: 15 * time.Minute}
)

// Throttle slows down password guessing per account and per client address.
// It is keyed by the email typed, whether or not it has an account, so it
// reveals nothing about who has one.
type Throttle struct {
	db     *store.DB
	prefix string // separates tenant users ("acct") from operators ("op")
	log    *slog.Logger
}

// NewThrottle returns a throttle whose account keys start with prefix.
func NewThrottle(db *store.DB, prefix string, log *slog.Logger) *Throttle {
	return &Throttle{db: db, prefix: prefix, log: log}
}

// keys are the counters a login attempt for email touches. The account key
// is a hash, so the table never holds addresses people typed.
func (t *Throttle) keys(c echo.Context, email string) (acct, ip string) {
	sum := sha256.Sum256([]byte(email))
	return t.prefix + ":" + hex.EncodeToString(sum[:16]), "ip:" + c.RealIP()
}

// Blocked returns a message for the user when the account or the client's
// address has failed too often recently, and "" otherwise.
func (t *Throttle) Blocked(c echo.Context, email string) (string, error) {
	ctx := c.Request().Context()
	acct, ip := t.keys(c, email)
	var until time.Time
	var blocked bool
	err := t.db.ReadSystem(ctx, func(tx *store.SysTx) error {
		for _, k := range []struct {
			th  store.Throttle
			key string
		}{{AccountThrottle, acct}, {IPThrottle, ip}} {
			b, u, err := tx.Blocked(ctx, k.th, k.key)
			if err != nil {
				return err
			}
			if b {
				blocked = true
				if u.After(until) {
					until = u
				}
			}
		}
		return nil
	})
	if err != nil || !blocked {
		return "", err
	}
	t.log.WarnContext(ctx, "login throttled", "kind", t.prefix, "ip", c.RealIP())
	mins := int(time.Until(until).Minutes()) + 1
	wait := "1 minute"
	if mins > 1 {
		wait = strconv.Itoa(mins) + " minutes"
	}
	return "Too many failed attempts. Please wait " + wait + " and try again.", nil
}

// Fail counts a failed attempt against the account and the address.
func (t *Throttle) Fail(c echo.Context, email string) error {
	ctx := c.Request().Context()
	acct, ip := t.keys(c, email)
	t.log.InfoContext(ctx, "login failed", "kind", t.prefix, "ip", c.RealIP())
	return t.db.InSystem(ctx, func(tx *store.SysTx) error {
		if err := tx.RecordFailure(ctx, AccountThrottle, acct); err != nil {
			return err
		}
		return tx.RecordFailure(ctx, IPThrottle, ip)
	})
}

// Reset forgets the account's failures after a successful login. The
// address keeps its count: one success must not unlock a spray of guesses.
func (t *Throttle) Reset(c echo.Context, email string) error {
	ctx := c.Request().Context()
	acct, _ := t.keys(c, email)
	return t.db.InSystem(ctx, func(tx *store.SysTx) error { return tx.ResetThrottle(ctx, acct) })
}
