package mfa

import (
	"bytes"
	"context"
	"encoding/base64"
	"image/png"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/pquerna/otp"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/views"
	mfaviews "github.com/atrium-dev/atrium/views/mfa"
)

// accountPath is the enrollment page of the current organization.
func accountPath(c echo.Context) string {
	return "/o/" + atrium.TenantFromContext(c.Request().Context()).Slug + "/account/mfa"
}

// Show handles "GET /o/:org/account/mfa": whether two-factor authentication
// is on, and the forms to set it up, turn it off or make new recovery codes.
//
// With two-factor authentication off, as the member's entry has it (the
// tenant door's, dropped whenever the user turns it on), the page shows only
// how to set it up: it reads nothing more.
func (h *Handler) Show(c echo.Context) error {
	var a mfaviews.Account
	if u := atrium.UserFromContext(c.Request().Context()); !u.MFAEnabled {
		a.MFA = &store.MFA{UserID: u.ID}
	}
	return h.renderAccount(c, http.StatusOK, a)
}

// renderAccount reads the person's MFA state, unless a.MFA is given, and
// shows the page with the forms in a (which may carry errors).
func (h *Handler) renderAccount(c echo.Context, status int, a mfaviews.Account) error {
	ctx := c.Request().Context()
	u := atrium.UserFromContext(ctx)
	t := atrium.TenantFromContext(ctx)
	// A read, not a transaction: a transaction that enters the tenant
	// counts as a change to it, and would drop every member's cached
	// entry (store.Enter) on each view. The requirement is the one the
	// tenant door enforces.
	if a.MFA == nil {
		err := h.db.ReadSystem(ctx, func(tx *store.SysTx) (err error) {
			a.MFA, err = tx.FindMFA(ctx, u.ID)
			return err
		})
		if err != nil {
			return err
		}
	}
	var err error
	a.RequireMFA = t.RequireMFA
	if !a.MFA.Enabled() {
		if key := h.enrollingKey(ctx); key != nil {
			if a.Setup, err = setupOf(key); err != nil {
				return err
			}
		}
	}
	for _, f := range []*views.Form{&a.Confirm, &a.Disable, &a.Regenerate} {
		if f.Errors == nil {
			f.Errors = map[string]string{}
		}
	}
	return web.Render(c, status, mfaviews.AccountPage(web.NewPage(c, "Two-factor authentication"), a))
}

// enrollingKey returns the secret being set up in this session, or nil.
func (h *Handler) enrollingKey(ctx context.Context) *otp.Key {
	raw := h.tenantSM.GetString(ctx, enrollKey)
	if raw == "" {
		return nil
	}
	key, err := otp.NewKeyFromURL(raw)
	if err != nil {
		return nil
	}
	return key
}

// setupOf renders a key for the setup step: a QR code as a PNG data: URI
// (the CSP allows data: images) and the secret for typing in by hand.
func setupOf(key *otp.Key) (*mfaviews.Setup, error) {
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return &mfaviews.Setup{
		QR:     "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()),
		Secret: groupSecret(key.Secret()),
	}, nil
}

// groupSecret splits a base32 secret into groups of four for reading.
func groupSecret(s string) string {
	var parts []string
	for len(s) > 4 {
		parts, s = append(parts, s[:4]), s[4:]
	}
	return strings.Join(append(parts, s), " ")
}

// Setup handles "POST /o/:org/account/mfa/setup": it generates a secret and
// keeps it in the session until a code from the app confirms it.
func (h *Handler) Setup(c echo.Context) error {
	ctx := c.Request().Context()
	u := atrium.UserFromContext(ctx)
	if on, err := h.mfaEnabled(ctx, u); err != nil || on {
		if on {
			web.Flash(c, views.FlashInfo, "Two-factor authentication is already on.")
			return web.Redirect(c, accountPath(c))
		}
		return err
	}
	key, err := newKey(u.Email)
	if err != nil {
		return err
	}
	h.tenantSM.Put(ctx, enrollKey, key.URL())
	return web.Redirect(c, accountPath(c))
}

func (h *Handler) mfaEnabled(ctx context.Context, u *atrium.User) (bool, error) {
	var m *store.MFA
	err := h.db.InSystem(ctx, func(tx *store.SysTx) (err error) {
		m, err = tx.FindMFA(ctx, u.ID)
		return err
	})
	return m.Enabled(), err
}

// Confirm handles "POST /o/:org/account/mfa/confirm": a right code from the
// app turns MFA on and shows the recovery codes, once.
func (h *Handler) Confirm(c echo.Context) error {
	ctx := c.Request().Context()
	u := atrium.UserFromContext(ctx)
	key := h.enrollingKey(ctx)
	if key == nil {
		web.Flash(c, views.FlashInfo, "Your setup expired. Please start again.")
		return web.Redirect(c, accountPath(c))
	}
	a := mfaviews.Account{Confirm: views.Form{Errors: map[string]string{}}}
	code := normalizeCode(c.FormValue("code"))
	if !isTOTPCode(code) {
		a.Confirm.Errors["code"] = "Enter the 6-digit code your authenticator app shows for Atrium."
		return h.renderAccount(c, http.StatusUnprocessableEntity, a)
	}
	step, ok := matchStep(key.Secret(), code, h.now())
	if !ok {
		a.Confirm.Errors["code"] = "That code does not match. Check that you scanned the code on this page and that your phone's clock is correct, then enter the newest code."
		return h.renderAccount(c, http.StatusUnprocessableEntity, a)
	}
	codes, hashes, err := newRecoveryCodes()
	if err != nil {
		return err
	}
	err = h.inTenant(ctx, func(tx *store.SysTx, ttx *store.Tx) error {
		if err := tx.EnableMFA(ctx, u.ID, key.Secret(), step, hashes); err != nil {
			return err
		}
		return ttx.RecordAudit(ctx, "mfa.enabled", "user", u.ID.String(), u.Email, nil)
	})
	if err != nil && atrium.ErrorCode(err) != atrium.ECONFLICT {
		return err
	}
	h.tenantSM.Remove(ctx, enrollKey)
	if err != nil { // already on, from another session
		web.Flash(c, views.FlashInfo, atrium.ErrorMessage(err))
		return web.Redirect(c, accountPath(c))
	}
	return web.Render(c, http.StatusOK, mfaviews.RecoveryCodesPage(web.NewPage(c, "Your recovery codes"),
		"Two-factor authentication is on", codes))
}

// Disable handles "POST /o/:org/account/mfa/disable": the current password
// and a code turn MFA off, so a session left open is not enough.
func (h *Handler) Disable(c echo.Context) error {
	ctx := c.Request().Context()
	u := atrium.UserFromContext(ctx)
	a := mfaviews.Account{Disable: views.Form{Errors: map[string]string{}}}
	pw, code := c.FormValue("password"), strings.TrimSpace(c.FormValue("code"))
	if pw == "" {
		a.Disable.Errors["password"] = "Enter your password."
	}
	if code == "" {
		a.Disable.Errors["code"] = msgNoCode
	}
	if len(a.Disable.Errors) > 0 {
		return h.renderAccount(c, http.StatusUnprocessableEntity, a)
	}
	var pwOK bool
	status, err := h.withCode(c, &a.Disable, code, func(tx *store.SysTx, ttx *store.Tx, m *store.MFA) (bool, error) {
		user, err := tx.FindUserByEmail(ctx, u.Email)
		if err != nil {
			return false, err
		}
		if len(pw) <= 1024 {
			if pwOK, err = h.hasher.Verify(pw, user.PasswordHash); err != nil {
				pwOK = false
			}
		}
		if !pwOK {
			a.Disable.Errors["password"] = "That is not your password."
			return false, nil
		}
		return true, nil
	}, func(tx *store.SysTx, ttx *store.Tx) error {
		if err := tx.DisableMFA(ctx, u.ID); err != nil {
			return err
		}
		return ttx.RecordAudit(ctx, "mfa.disabled", "user", u.ID.String(), u.Email, nil)
	})
	if err != nil {
		return err
	}
	if status != 0 {
		return h.renderAccount(c, status, a)
	}
	web.Flash(c, views.FlashSuccess, "Two-factor authentication is off. Your recovery codes no longer work.")
	return web.Redirect(c, accountPath(c))
}

// RegenerateCodes handles "POST /o/:org/account/mfa/recovery-codes": a code
// replaces all recovery codes with new ones, shown once.
func (h *Handler) RegenerateCodes(c echo.Context) error {
	ctx := c.Request().Context()
	u := atrium.UserFromContext(ctx)
	a := mfaviews.Account{Regenerate: views.Form{Errors: map[string]string{}}}
	code := strings.TrimSpace(c.FormValue("code"))
	if code == "" {
		a.Regenerate.Errors["code"] = msgNoCode
		return h.renderAccount(c, http.StatusUnprocessableEntity, a)
	}
	codes, hashes, err := newRecoveryCodes()
	if err != nil {
		return err
	}
	status, err := h.withCode(c, &a.Regenerate, code, nil, func(tx *store.SysTx, ttx *store.Tx) error {
		if err := tx.ReplaceRecoveryCodes(ctx, u.ID, hashes); err != nil {
			return err
		}
		return ttx.RecordAudit(ctx, "mfa.recovery_codes_regenerated", "user", u.ID.String(), u.Email, nil)
	})
	if err != nil {
		return err
	}
	if status != 0 {
		return h.renderAccount(c, status, a)
	}
	return web.Render(c, http.StatusOK, mfaviews.RecoveryCodesPage(web.NewPage(c, "Your recovery codes"),
		"New recovery codes", codes))
}

// withCode runs a change that needs a code from the signed-in person, in
// one transaction: the throttle is checked, pre (when given) checks what
// else the form needs, the code is checked and spent, then change runs.
// A refusal counts against the throttle, fills f and returns the status to
// answer with; nothing changes then but the count.
func (h *Handler) withCode(c echo.Context, f *views.Form, code string,
	pre func(*store.SysTx, *store.Tx, *store.MFA) (bool, error),
	change func(*store.SysTx, *store.Tx) error,
) (int, error) {
	ctx := c.Request().Context()
	u := atrium.UserFromContext(ctx)
	status := 0
	err := h.inTenant(ctx, func(tx *store.SysTx, ttx *store.Tx) error {
		blocked, err := blockedMessage(ctx, tx, u.ID, h.now())
		if err != nil {
			return err
		}
		if blocked != "" {
			f.Message, status = blocked, http.StatusTooManyRequests
			return nil
		}
		m, err := tx.FindMFA(ctx, u.ID)
		if err != nil {
			return err
		}
		if !m.Enabled() {
			f.Message, status = "Two-factor authentication is not on.", http.StatusConflict
			return nil
		}
		ok := true
		if pre != nil {
			if ok, err = pre(tx, ttx, m); err != nil {
				return err
			}
		}
		result := codeWrong
		if ok {
			if result, err = checkCode(ctx, tx, m, code, h.now()); err != nil {
				return err
			}
			if !result.ok() {
				f.Errors["code"] = failureMessage(result)
			}
		}
		if !ok || !result.ok() {
			status = http.StatusUnauthorized
			return tx.RecordFailure(ctx, CodeThrottle, throttleKey(u.ID))
		}
		if err := tx.ResetThrottle(ctx, throttleKey(u.ID)); err != nil {
			return err
		}
		return change(tx, ttx)
	})
	return status, err
}

// inTenant runs fn in one transaction over the person's system-wide MFA
// rows and the current organization's rows (for its audit log).
func (h *Handler) inTenant(ctx context.Context, fn func(*store.SysTx, *store.Tx) error) error {
	t := atrium.TenantFromContext(ctx)
	return h.db.InSystem(ctx, func(tx *store.SysTx) error {
		ttx, err := tx.EnterTenant(ctx, t.ID)
		if err != nil {
			return err
		}
		return fn(tx, ttx)
	})
}
