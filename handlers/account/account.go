// Package account serves a person's own account: their name, their
// password, their sessions, and resetting a forgotten password by email.
// The person is global (one login for all their organizations), so a
// password change or reset signs them out in every organization, not only
// in the one whose pages they are on.
package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/auth"
	"github.com/atrium-dev/atrium/handlers/auth/password"
	"github.com/atrium-dev/atrium/handlers/email"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/views"
	accountviews "github.com/atrium-dev/atrium/views/account"
)

// Handler serves the account pages and the password reset flow.
type Handler struct {
	db       *store.DB
	hasher   *password.Hasher
	tenantSM *scs.SessionManager
	mail     email.Sender
	log      *slog.Logger
	baseURL  string // absolute URL of this installation, for links in emails
	// throttle counts wrong current passwords like failed logins, against
	// the same per-account and per-address budget.
	throttle *auth.Throttle
}

// New returns the account handlers. A nil mail sender refuses to send (the
// failure is logged), so a missing mail setup is visible rather than silent.
func New(db *store.DB, hasher *password.Hasher, tenantSM *scs.SessionManager, mail email.Sender, baseURL string, log *slog.Logger) *Handler {
	if mail == nil {
		mail = noMail{}
	}
	if baseURL == "" {
		baseURL = "http://localhost:8080"
	}
	return &Handler{db: db, hasher: hasher, tenantSM: tenantSM, mail: mail, log: log,
		baseURL: strings.TrimRight(baseURL, "/"), throttle: auth.NewThrottle(db, "acct", log)}
}

type noMail struct{}

func (noMail) Send(context.Context, email.Message) error {
	return errors.New("no mail sender configured")
}

// accountURL is the account page of the current organization.
func accountURL(c echo.Context, rel string) string {
	return "/o/" + atrium.TenantFromContext(c.Request().Context()).Slug + "/account" + rel
}

// Show handles "GET /o/:org/account".
func (h *Handler) Show(c echo.Context) error {
	u := atrium.UserFromContext(c.Request().Context())
	s := accountviews.Settings{
		Email:    u.Email,
		Profile:  views.Form{Values: map[string]string{"name": u.Name}},
		Password: views.Form{},
	}
	return h.render(c, http.StatusOK, s)
}

func (h *Handler) render(c echo.Context, status int, s accountviews.Settings) error {
	p := web.NewPage(c, "Your account")
	p.Nav = "account"
	return web.Render(c, status, accountviews.Account(p, s))
}

// UpdateProfile handles "POST /o/:org/account": a new display name,
// checked like the name given at signup.
func (h *Handler) UpdateProfile(c echo.Context) error {
	ctx := c.Request().Context()
	u := atrium.UserFromContext(ctx)
	t := atrium.TenantFromContext(ctx)
	f := views.Form{Values: web.FormValues(c, "name"), Errors: map[string]string{}}
	name := f.Values["name"]
	if m := auth.ValidateName(name, "your name"); m != "" {
		f.Errors["name"] = m
		f.Message = "Your name was not changed. Please correct the highlighted field."
		return h.render(c, http.StatusUnprocessableEntity, accountviews.Settings{Email: u.Email, Profile: f})
	}
	if name == u.Name {
		web.Flash(c, views.FlashInfo, "Your name is already "+name+".")
		return web.Redirect(c, accountURL(c, ""))
	}
	err := h.db.InSystem(ctx, func(tx *store.SysTx) error {
		if err := tx.UpdateUserName(ctx, u.ID, name); err != nil {
			return err
		}
		ttx, err := tx.EnterTenant(ctx, t.ID)
		if err != nil {
			return err
		}
		return ttx.RecordAudit(ctx, "account.name_changed", "user", u.ID.String(), u.Email,
			map[string]string{"from": u.Name, "to": name})
	})
	if err != nil {
		return err
	}
	web.Flash(c, views.FlashSuccess, "Your name is now "+name+".")
	return web.Redirect(c, accountURL(c, ""))
}

// ChangePassword handles "POST /o/:org/account/password". The current
// password is required (and guessing it is throttled like a login). On
// success the hash is replaced, this session gets a new token, and every
// other session of the person, in every organization, is revoked, all in
// one transaction; then a notice is emailed.
func (h *Handler) ChangePassword(c echo.Context) error {
	ctx := c.Request().Context()
	u := atrium.UserFromContext(ctx)
	t := atrium.TenantFromContext(ctx)
	current, next := c.FormValue("current_password"), c.FormValue("new_password")
	f := views.Form{Errors: map[string]string{}}
	again := func(status int) error {
		if f.Message == "" {
			f.Message = "Your password was not changed. Please correct the highlighted fields."
		}
		return h.render(c, status, accountviews.Settings{Email: u.Email,
			Profile: views.Form{Values: map[string]string{"name": u.Name}}, Password: f})
	}
	if current == "" {
		f.Errors["current_password"] = "Enter your current password."
	}
	if m := auth.ValidatePassword(next); m != "" {
		f.Errors["new_password"] = m
	}
	if len(f.Errors) > 0 {
		return again(http.StatusUnprocessableEntity)
	}
	if msg, err := h.throttle.Blocked(c, u.Email); err != nil || msg != "" {
		if err != nil {
			return err
		}
		f.Message = msg
		return again(http.StatusTooManyRequests)
	}
	var user *store.User
	if err := h.db.InSystem(ctx, func(tx *store.SysTx) (err error) {
		user, err = tx.FindUserByID(ctx, u.ID)
		return err
	}); err != nil {
		return err
	}
	if ok, err := h.hasher.Verify(current, user.PasswordHash); err != nil || !ok {
		if err := h.throttle.Fail(c, u.Email); err != nil {
			return err
		}
		f.Errors["current_password"] = "That is not your current password."
		return again(http.StatusUnprocessableEntity)
	}
	if err := h.throttle.Reset(c, u.Email); err != nil {
		return err
	}
	if same, _ := h.hasher.Verify(next, user.PasswordHash); same {
		f.Errors["new_password"] = "Choose a password different from your current one."
		return again(http.StatusUnprocessableEntity)
	}
	hash, err := h.hasher.Hash(next)
	if err != nil {
		return err
	}

	keep := h.tenantSM.Token(ctx)
	if keep == "" {
		return &atrium.Error{Code: atrium.EINTERNAL, Err: errors.New("account: password change without a session token")}
	}
	var revoked int64
	err = h.db.InSystem(ctx, func(tx *store.SysTx) error {
		if err := tx.UpdateUserPassword(ctx, u.ID, hash); err != nil {
			return err
		}
		if _, err := tx.ExpirePasswordResets(ctx, u.ID); err != nil {
			return err
		}
		err := tx.EachUserTenant(ctx, u.ID, func(ttx *store.Tx, ot store.Tenant) error {
			token := ""
			if ot.ID == t.ID {
				token = keep // this session stays (with a new token, below)
			}
			n, err := ttx.DeleteUserSessions(ctx, u.ID, token)
			if err != nil || n == 0 {
				return err
			}
			revoked += n
			return ttx.RecordAudit(ctx, "session.revoked", "user", u.ID.String(), u.Email,
				map[string]string{"reason": "password_changed", "count": strconv.FormatInt(n, 10)})
		})
		if err != nil {
			return err
		}
		ttx, err := tx.EnterTenant(ctx, t.ID)
		if err != nil {
			return err
		}
		return ttx.RecordAudit(ctx, "account.password_changed", "user", u.ID.String(), u.Email,
			map[string]string{"sessions_revoked": strconv.FormatInt(revoked, 10)})
	})
	if err != nil {
		return err
	}
	// A new token for this session: the old one, which may have been seen
	// by whoever knew the old password, stops working.
	if err := h.tenantSM.RenewToken(ctx); err != nil {
		return err
	}
	h.notify(ctx, user, "changed")
	msg := "Your password was changed."
	if revoked > 0 {
		msg += fmt.Sprintf(" %d other %s signed out.", revoked, plural(revoked, "session was", "sessions were"))
	}
	web.Flash(c, views.FlashSuccess, msg)
	return web.Redirect(c, accountURL(c, ""))
}

// notify emails a security notice after the password of user was changed
// or reset. A failure is logged: the change itself has happened.
func (h *Handler) notify(ctx context.Context, user *store.User, how string) {
	cl := atrium.ClientFromContext(ctx)
	from := ""
	if cl.IP != "" {
		from = " from the address " + cl.IP
	}
	msg := email.Message{
		To:      user.Email,
		Subject: "Your Atrium password was " + how,
		Text: fmt.Sprintf("Hello %s,\n\nThe password of your Atrium account (%s) was %s on %s%s.\n"+
			"You have been signed out of Atrium on your other devices.\n\n"+
			"If this wasn't you, reset your password now:\n%s/password/forgot\n",
			user.Name, user.Email, how, time.Now().UTC().Format("2 January 2006 at 15:04 UTC"), from, h.baseURL),
	}
	if err := h.mail.Send(ctx, msg); err != nil {
		h.log.ErrorContext(ctx, "send password notice", "err", err, "user_id", user.ID)
	}
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
