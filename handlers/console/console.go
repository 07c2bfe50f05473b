// Package console serves the operator console: operators log in with their
// own accounts and sessions, apart from every tenant, and see the fleet.
package console

import (
	"log/slog"
	"net/http"
	"net/url"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/auth"
	"github.com/atrium-dev/atrium/handlers/auth/password"
	"github.com/atrium-dev/atrium/handlers/mw"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/views"
	consoleviews "github.com/atrium-dev/atrium/views/console"
)

// Handler serves the console.
type Handler struct {
	db       *store.DB
	hasher   *password.Hasher
	sm       *scs.SessionManager
	log      *slog.Logger
	throttle *auth.Throttle
}

// New returns the console handlers.
func New(db *store.DB, hasher *password.Hasher, sm *scs.SessionManager, log *slog.Logger) *Handler {
	return &Handler{db: db, hasher: hasher, sm: sm, log: log, throttle: auth.NewThrottle(db, "op", log)}
}

// ShowLogin handles "GET /console/login".
func (h *Handler) ShowLogin(c echo.Context) error {
	return web.Render(c, http.StatusOK, consoleviews.Login(web.NewPage(c, "Console login"), views.Form{}))
}

// Login handles "POST /console/login", throttled like tenant logins and
// answering an unknown email and a wrong password alike.
func (h *Handler) Login(c echo.Context) error {
	ctx := c.Request().Context()
	f := views.Form{Values: web.FormValues(c, "email"), Errors: map[string]string{}}
	email := auth.NormalizeEmail(f.Values["email"])
	f.Values["email"] = email
	pw := c.FormValue("password")
	again := func(status int, msg string) error {
		f.Message = msg
		return web.Render(c, status, consoleviews.Login(web.NewPage(c, "Console login"), f))
	}
	if auth.ValidateEmail(email) != "" || pw == "" || len(pw) > 1024 {
		return again(http.StatusUnauthorized, "Incorrect email or password.")
	}
	if msg, err := h.throttle.Blocked(c, email); err != nil || msg != "" {
		if err != nil {
			return err
		}
		return again(http.StatusTooManyRequests, msg)
	}
	var op *store.Operator
	err := h.db.ReadSystem(ctx, func(tx *store.SysTx) error {
		var err error
		op, err = tx.FindOperatorByEmail(ctx, email)
		return err
	})
	if err != nil && atrium.ErrorCode(err) != atrium.ENOTFOUND {
		return err
	}
	ok := false
	if op == nil {
		h.hasher.VerifyNothing(pw)
	} else {
		ok, _ = h.hasher.Verify(pw, op.PasswordHash)
	}
	if !ok {
		if err := h.throttle.Fail(c, email); err != nil {
			return err
		}
		return again(http.StatusUnauthorized, "Incorrect email or password.")
	}
	if err := h.throttle.Reset(c, email); err != nil {
		return err
	}
	if err := h.sm.RenewToken(ctx); err != nil {
		return err
	}
	h.sm.Put(ctx, store.OperatorSessionKey, op.ID.String())
	h.log.InfoContext(ctx, "operator logged in", "operator_id", op.ID)
	return web.Redirect(c, "/console/")
}

// Logout handles "POST /console/logout".
func (h *Handler) Logout(c echo.Context) error {
	ctx := c.Request().Context()
	if err := h.sm.RenewToken(ctx); err != nil {
		return err
	}
	h.sm.Remove(ctx, store.OperatorSessionKey)
	web.Flash(c, views.FlashSuccess, "You have been logged out.")
	return web.Redirect(c, "/console/login")
}

const tenantsPageSize = 50

// tenantsReads are the organization list's: the page of organizations
// the request asks for.
var tenantsReads = mw.Reads[consoleviews.TenantList](func(c echo.Context, b *store.Batch, l *consoleviews.TenantList) {
	q, page := web.Search(c), web.PagingOf(c, tenantsPageSize)
	l.Query = q
	b.FindTenants(store.TenantFilter{Query: q, Limit: page.Size, Offset: page.Offset()}, &l.Tenants, &l.Total, &l.Approx)
})

// LoadTenants queues the organization list's reads into the operator
// check's round trip (the route's mw.Loader).
func (h *Handler) LoadTenants(c echo.Context, b *store.Batch) { tenantsReads.Load(c, b) }

// ShowTenants handles "GET /console/": the organizations, newest first,
// with search and pagination.
func (h *Handler) ShowTenants(c echo.Context) error {
	l, err := tenantsReads.Read(c, h.db.ReadSystemBatch)
	if err != nil {
		return err
	}
	q, page := web.Search(c), web.PagingOf(c, tenantsPageSize)
	l.PrevURL, l.NextURL, l.Summary = page.Links("/console/", url.Values{"q": {q}}, l.Total, len(l.Tenants), l.Approx)
	return web.Render(c, http.StatusOK, consoleviews.Tenants(web.NewPage(c, "Organizations"), *l))
}
