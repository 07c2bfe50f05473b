package mfa

import (
	"context"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/views"
	mfaviews "github.com/atrium-dev/atrium/views/mfa"
)

// ShowLoginStep handles "GET /o/:org/login/mfa": the code form of a login
// whose password was verified.
func (h *Handler) ShowLoginStep(c echo.Context) error {
	ctx := c.Request().Context()
	t := atrium.TenantFromContext(ctx)
	if _, err := uuid.Parse(h.tenantSM.GetString(ctx, store.SessionUserKey)); err == nil {
		return web.Redirect(c, "/o/"+t.Slug+"/")
	}
	if _, _, ok := h.pendingLogin(ctx); !ok {
		return h.loginExpired(c, t)
	}
	return h.renderLoginStep(c, http.StatusOK, views.Form{})
}

// LoginStep handles "POST /o/:org/login/mfa". A right code (or an unused
// recovery code) finishes the login: the session token is renewed and the
// user put in it. Wrong codes count against the person's throttle and are
// audited in the organization.
func (h *Handler) LoginStep(c echo.Context) error {
	ctx := c.Request().Context()
	t := atrium.TenantFromContext(ctx)
	userID, next, ok := h.pendingLogin(ctx)
	if !ok {
		return h.loginExpired(c, t)
	}
	f := views.Form{Errors: map[string]string{}}
	code := strings.TrimSpace(c.FormValue("code"))
	if code == "" {
		f.Errors["code"] = msgNoCode
		return h.renderLoginStep(c, http.StatusUnprocessableEntity, f)
	}

	now := h.now()
	var result outcome
	var blocked string
	var gone bool
	err := h.db.InSystem(ctx, func(tx *store.SysTx) error {
		var err error
		if blocked, err = blockedMessage(ctx, tx, userID, now); err != nil || blocked != "" {
			return err
		}
		m, err := tx.FindMFA(ctx, userID)
		if err != nil {
			return err
		}
		if !m.Enabled() {
			// MFA was turned off since the password was checked: this
			// login can no longer finish; a new one needs no code.
			gone = true
			return nil
		}
		if result, err = checkCode(ctx, tx, m, code, now); err != nil {
			return err
		}
		ttx, err := tx.EnterTenant(ctx, t.ID)
		if err != nil {
			return err
		}
		member, err := ttx.FindMemberByUserID(ctx, userID)
		if err != nil {
			return err // no longer a member: the 404 page, as at login
		}
		if !result.ok() {
			if err := tx.RecordFailure(ctx, CodeThrottle, throttleKey(userID)); err != nil {
				return err
			}
			return ttx.RecordAudit(ctx, "auth.mfa_failed", "user", userID.String(), member.Email,
				map[string]string{"reason": result.reason()})
		}
		if err := tx.ResetThrottle(ctx, throttleKey(userID)); err != nil {
			return err
		}
		return recordLogin(ctx, ttx, member, result)
	})
	switch {
	case err != nil:
		return err
	case gone:
		return h.loginExpired(c, t)
	case blocked != "":
		f.Message = blocked
		return h.renderLoginStep(c, http.StatusTooManyRequests, f)
	case !result.ok():
		f.Errors["code"] = failureMessage(result)
		return h.renderLoginStep(c, http.StatusUnauthorized, f)
	}

	// Renew the token so the half-signed-in session cannot be reused.
	if err := h.tenantSM.RenewToken(ctx); err != nil {
		return err
	}
	h.endPending(ctx)
	h.tenantSM.Put(ctx, store.SessionUserKey, userID.String())
	if result == codeRecovery {
		web.Flash(c, views.FlashWarning, "You used a recovery code; it will not work again. If you have lost your authenticator, set up two-factor authentication again or make new recovery codes.")
	}
	home := "/o/" + t.Slug + "/"
	if !strings.HasPrefix(next, home) {
		next = home
	}
	return web.Redirect(c, next)
}

// recordLogin notes the finished login (and a spent recovery code) in the
// organization's audit log, as the user who logged in.
func recordLogin(ctx context.Context, tx *store.Tx, m *store.Member, result outcome) error {
	actor := atrium.WithUser(ctx, &atrium.User{ID: m.UserID, Email: m.Email, Name: m.Name, Role: m.Role})
	method := "totp"
	if result == codeRecovery {
		method = "recovery_code"
	}
	if err := tx.RecordAudit(actor, "auth.login", "user", m.UserID.String(), m.Email,
		map[string]string{"mfa": method}); err != nil {
		return err
	}
	if result != codeRecovery {
		return nil
	}
	return tx.RecordAudit(actor, "auth.mfa_recovery_used", "user", m.UserID.String(), m.Email, nil)
}

// loginExpired sends someone without a live pending login back to the
// password form.
func (h *Handler) loginExpired(c echo.Context, t *atrium.Tenant) error {
	h.endPending(c.Request().Context())
	web.Flash(c, views.FlashInfo, "Your login expired. Please log in again.")
	return web.Redirect(c, "/o/"+t.Slug+"/login")
}

func (h *Handler) renderLoginStep(c echo.Context, status int, f views.Form) error {
	return web.Render(c, status, mfaviews.LoginStep(web.NewPage(c, "Two-factor authentication"), f))
}
