package account

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/auth"
	"github.com/atrium-dev/atrium/handlers/email"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/views"
	accountviews "github.com/atrium-dev/atrium/views/account"
)

// ResetTTL is how long a password reset link works.
const ResetTTL = time.Hour

// Limits on reset requests, counted per address typed (whether or not it
// has an account, so the limit reveals nothing) and per client address.
// They stop the form from being used to flood someone's mailbox.
var (
	ResetAddressThrottle = store.Throttle{Max: 5, Window: time.Hour}
	ResetIPThrottle      = store.Throttle{Max: 20, Window: time.Hour}
)

// ShowForgot handles "GET /password/forgot".
func (h *Handler) ShowForgot(c echo.Context) error {
	return web.Render(c, http.StatusOK, accountviews.Forgot(web.NewPage(c, "Reset your password"), views.Form{}))
}

// Forgot handles "POST /password/forgot". Whether or not the address has
// an account, the answer is the same page; only an account gets an email.
func (h *Handler) Forgot(c echo.Context) error {
	ctx := c.Request().Context()
	f := views.Form{Values: web.FormValues(c, "email"), Errors: map[string]string{}}
	addr := auth.NormalizeEmail(f.Values["email"])
	f.Values["email"] = addr
	page := web.NewPage(c, "Reset your password")
	if m := auth.ValidateEmail(addr); m != "" {
		f.Errors["email"] = m
		return web.Render(c, http.StatusUnprocessableEntity, accountviews.Forgot(page, f))
	}
	sum := sha256.Sum256([]byte(addr))
	keys := []struct {
		th  store.Throttle
		key string
	}{
		{ResetAddressThrottle, "reset:acct:" + hex.EncodeToString(sum[:16])},
		{ResetIPThrottle, "reset:ip:" + c.RealIP()},
	}
	token := store.NewToken()
	var user *store.User
	blocked := false
	err := h.db.InSystem(ctx, func(tx *store.SysTx) error {
		for _, k := range keys {
			b, _, err := tx.Blocked(ctx, k.th, k.key)
			if err != nil {
				return err
			}
			blocked = blocked || b
		}
		if blocked {
			return nil
		}
		for _, k := range keys { // every request counts, not only failures
			if err := tx.RecordFailure(ctx, k.th, k.key); err != nil {
				return err
			}
		}
		u, err := tx.FindUserByEmail(ctx, addr)
		if atrium.ErrorCode(err) == atrium.ENOTFOUND {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.CreatePasswordReset(ctx, u.ID, token, ResetTTL); err != nil {
			return err
		}
		user = u
		return nil
	})
	if err != nil {
		return err
	}
	if blocked {
		h.log.WarnContext(ctx, "password reset throttled", "ip", c.RealIP())
		f.Message = "Too many reset requests. Please wait an hour and try again, or check your mailbox for a link we already sent."
		return web.Render(c, http.StatusTooManyRequests, accountviews.Forgot(page, f))
	}
	if user != nil {
		h.sendReset(c, user, token)
	}
	return web.Render(c, http.StatusOK, accountviews.ForgotSent(page, addr))
}

// sendReset emails the link. A failure is logged, not shown: the page must
// not differ from the one for an address without an account.
func (h *Handler) sendReset(c echo.Context, user *store.User, token string) {
	ctx := c.Request().Context()
	msg := email.Message{
		To:      user.Email,
		Subject: "Reset your Atrium password",
		Text: fmt.Sprintf("Hello %s,\n\nSomeone, hopefully you, asked to reset the password of your Atrium account (%s).\n\n"+
			"Choose a new password:\n%s/password/reset/%s\n\n"+
			"The link works once and expires in one hour. If you did not ask for this, ignore this email: "+
			"your password stays as it is.\n", user.Name, user.Email, h.baseURL, token),
	}
	if err := h.mail.Send(ctx, msg); err != nil {
		h.log.ErrorContext(ctx, "send password reset", "err", err, "user_id", user.ID)
	}
}

// resetOf loads the reset of a link token. An unknown (altered) token is
// ENOTFOUND; a used or expired one renders the page that says how to get a
// new link, and reports gone.
func (h *Handler) resetOf(c echo.Context) (r *store.PasswordReset, gone bool, err error) {
	ctx := c.Request().Context()
	// A read, so no transaction: Reset's own transaction is the guard that
	// a link is used once (UsePasswordReset).
	err = h.db.ReadSystem(ctx, func(tx *store.SysTx) error {
		r, err = tx.FindPasswordResetByToken(ctx, c.Param("token"))
		return err
	})
	if atrium.ErrorCode(err) == atrium.ENOTFOUND {
		return nil, false, atrium.Errorf(atrium.ENOTFOUND,
			"This password reset link is not valid. Check that you copied the whole link, or request a new one.")
	}
	if err != nil {
		return nil, false, err
	}
	if !r.Usable(time.Now()) {
		return nil, true, h.gone(c, r.UsedAt != nil)
	}
	return r, false, nil
}

// gone answers 410 for a link that was used or has expired.
func (h *Handler) gone(c echo.Context, used bool) error {
	msg := "This password reset link has expired. Links work for one hour; request a new one."
	if used {
		msg = "This password reset link has already been used. If you need to reset your password again, request a new link."
	}
	return web.Render(c, http.StatusGone, accountviews.LinkGone(web.NewPage(c, "Link expired"), msg))
}

// ShowReset handles "GET /password/reset/:token".
func (h *Handler) ShowReset(c echo.Context) error {
	if _, gone, err := h.resetOf(c); gone || err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, accountviews.Reset(web.NewPage(c, "Choose a new password"), views.Form{}, c.Request().URL.Path))
}

// Reset handles "POST /password/reset/:token". Marking the link used is the
// guard (of two concurrent submissions only one passes); in the same
// transaction the password is set, the person's other links are expired
// and all their sessions, in every organization, are revoked.
func (h *Handler) Reset(c echo.Context) error {
	ctx := c.Request().Context()
	r, gone, err := h.resetOf(c)
	if gone || err != nil {
		return err
	}
	pw := c.FormValue("password")
	if m := auth.ValidatePassword(pw); m != "" {
		f := views.Form{Errors: map[string]string{"password": m}, Message: "Your password was not changed. Please correct the highlighted field."}
		return web.Render(c, http.StatusUnprocessableEntity, accountviews.Reset(web.NewPage(c, "Choose a new password"), f, c.Request().URL.Path))
	}
	hash, err := h.hasher.Hash(pw)
	if err != nil {
		return err
	}
	var user *store.User
	err = h.db.InSystem(ctx, func(tx *store.SysTx) error {
		if err := tx.UsePasswordReset(ctx, r.ID); err != nil {
			return err
		}
		var err error
		if user, err = tx.FindUserByID(ctx, r.UserID); err != nil {
			return err
		}
		if err := tx.UpdateUserPassword(ctx, user.ID, hash); err != nil {
			return err
		}
		if _, err := tx.ExpirePasswordResets(ctx, user.ID); err != nil {
			return err
		}
		actor := atrium.WithUser(ctx, &atrium.User{ID: user.ID, Email: user.Email, Name: user.Name})
		return tx.EachUserTenant(ctx, user.ID, func(ttx *store.Tx, _ store.Tenant) error {
			n, err := ttx.DeleteUserSessions(ctx, user.ID, "")
			if err != nil {
				return err
			}
			return ttx.RecordAudit(actor, "account.password_reset", "user", user.ID.String(), user.Email,
				map[string]string{"sessions_revoked": strconv.FormatInt(n, 10)})
		})
	})
	if atrium.ErrorCode(err) == atrium.ENOTFOUND {
		// Used (or expired) between the check above and now.
		return h.gone(c, true)
	}
	if err != nil {
		return err
	}
	// A wrong-password lockout from before the reset should not keep the
	// person out now that they have a password they know.
	if err := h.throttle.Reset(c, user.Email); err != nil {
		return err
	}
	h.notify(ctx, user, "reset")
	return web.Render(c, http.StatusOK, accountviews.ResetDone(web.NewPage(c, "Password changed")))
}
