package auth

import (
	"context"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/mfa"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/views"
	authviews "github.com/atrium-dev/atrium/views/auth"
)

// badCredentials is the one message for an unknown email and a wrong
// password, so the form cannot be used to find out who has an account.
const badCredentials = "Incorrect email or password."

// pendingUserKey holds, in the short-lived login session, the user whose
// password was verified but who has not yet chosen an organization.
const pendingUserKey = "pending_user_id"

// authenticate checks email and password under the throttle. It returns the
// user, or a message for the form (with the status to answer), or an error.
// An unknown email and a wrong password cost the same hashing work and
// the same writes, so they take the same time.
func (h *Handler) authenticate(c echo.Context, f *views.Form) (*store.User, int, error) {
	email := f.Values["email"]
	pw := c.FormValue("password")
	if m := ValidateEmail(email); m != "" {
		f.Errors["email"] = m
		return nil, http.StatusUnprocessableEntity, nil
	}
	if pw == "" {
		f.Errors["password"] = "Enter your password."
		return nil, http.StatusUnprocessableEntity, nil
	}
	if len(pw) > 1024 {
		f.Message = badCredentials
		return nil, http.StatusUnauthorized, nil
	}
	if msg, err := h.throttle.Blocked(c, email); err != nil || msg != "" {
		f.Message = msg
		return nil, http.StatusTooManyRequests, err
	}
	u, err := h.findUser(c.Request().Context(), email)
	if err != nil && atrium.ErrorCode(err) != atrium.ENOTFOUND {
		return nil, 0, err
	}
	ok := false
	if u == nil {
		h.hasher.VerifyNothing(pw)
	} else if ok, err = h.hasher.Verify(pw, u.PasswordHash); err != nil {
		h.log.ErrorContext(c.Request().Context(), "stored password hash is malformed", "user_id", u.ID, "err", err)
		ok = false
	}
	if !ok {
		if err := h.throttle.Fail(c, email); err != nil {
			return nil, 0, err
		}
		f.Message = badCredentials
		return nil, http.StatusUnauthorized, nil
	}
	return u, 0, h.throttle.Reset(c, email)
}

func loginForm(c echo.Context) views.Form {
	f := views.Form{Values: web.FormValues(c, "email"), Errors: map[string]string{}}
	f.Values["email"] = NormalizeEmail(f.Values["email"])
	return f
}

// ShowLogin handles "GET /login".
func (h *Handler) ShowLogin(c echo.Context) error {
	return web.Render(c, http.StatusOK, authviews.Login(web.NewPage(c, "Log in"), views.Form{}))
}

// Login handles "POST /login". Only once the password is verified does it
// look at the person's organizations: with one, it signs them straight in;
// with several, it shows a chooser.
func (h *Handler) Login(c echo.Context) error {
	ctx := c.Request().Context()
	f := loginForm(c)
	u, status, err := h.authenticate(c, &f)
	if err != nil {
		return err
	}
	if u == nil {
		return web.Render(c, status, authviews.Login(web.NewPage(c, "Log in"), f))
	}
	var orgs []store.Organization
	err = h.db.ReadSystem(ctx, func(tx *store.SysTx) error {
		orgs, err = tx.FindUserOrganizations(ctx, u.ID)
		return err
	})
	if err != nil {
		return err
	}
	switch len(orgs) {
	case 0:
		f.Message = "Your account does not belong to any organization yet. Ask an admin for an invitation, or create an organization."
		return web.Render(c, http.StatusOK, authviews.Login(web.NewPage(c, "Log in"), f))
	case 1:
		return h.enterOrganization(c, u.ID, orgs[0].Slug)
	}
	if err := h.loginSM.RenewToken(ctx); err != nil {
		return err
	}
	h.loginSM.Put(ctx, pendingUserKey, u.ID.String())
	return web.Render(c, http.StatusOK, authviews.Chooser(web.NewPage(c, "Choose an organization"), orgs))
}

// Choose handles "POST /login/choose": the person picked an organization
// from the chooser.
func (h *Handler) Choose(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := uuid.Parse(h.loginSM.GetString(ctx, pendingUserKey))
	if err != nil {
		web.Flash(c, views.FlashInfo, "Your login expired. Please log in again.")
		return web.Redirect(c, "/login")
	}
	if err := h.loginSM.Destroy(ctx); err != nil {
		return err
	}
	return h.enterOrganization(c, id, strings.TrimSpace(c.FormValue("slug")))
}

// enterOrganization signs userID in to the organization with slug, after
// checking inside that tenant that they are a member.
func (h *Handler) enterOrganization(c echo.Context, userID uuid.UUID, slug string) error {
	ctx := c.Request().Context()
	var tenant *store.Tenant
	err := h.db.ReadSystem(ctx, func(tx *store.SysTx) error {
		var err error
		tenant, err = tx.FindTenantBySlug(ctx, slug)
		return err
	})
	if err != nil {
		return err // unknown slug: ENOTFOUND, the 404 page
	}
	t := &atrium.Tenant{ID: tenant.ID, Slug: tenant.Slug, Name: tenant.Name}
	tctx := atrium.WithTenant(ctx, t)
	var secondStep bool
	if err := h.db.InTenant(tctx, func(tx *store.Tx) (err error) {
		secondStep, err = signInMember(tctx, tx, userID)
		return err
	}); err != nil {
		return err // not a member: the same 404
	}
	if secondStep {
		if err := h.startSecondFactor(c, t, userID); err != nil {
			return err
		}
		return web.Redirect(c, mfa.LoginStepPath(t.Slug))
	}
	if err := h.startTenantSession(c, t, userID, ""); err != nil {
		return err
	}
	return web.Redirect(c, "/o/"+t.Slug+"/")
}

// ShowTenantLogin handles "GET /o/:org/login".
func (h *Handler) ShowTenantLogin(c echo.Context) error {
	ctx := c.Request().Context()
	t := atrium.TenantFromContext(ctx)
	if _, err := uuid.Parse(h.tenantSM.GetString(ctx, store.SessionUserKey)); err == nil {
		return web.Redirect(c, "/o/"+t.Slug+"/")
	}
	next := safeNext(t, c.QueryParam("next"))
	return web.Render(c, http.StatusOK, authviews.TenantLogin(web.NewPage(c, "Log in"), views.Form{}, next))
}

// TenantLogin handles "POST /o/:org/login": a login straight into one
// organization. A correct password of someone who is not a member gets the
// same answer as a wrong one.
func (h *Handler) TenantLogin(c echo.Context) error {
	ctx := c.Request().Context()
	t := atrium.TenantFromContext(ctx)
	next := safeNext(t, c.FormValue("next"))
	f := loginForm(c)
	u, status, err := h.authenticate(c, &f)
	if err != nil {
		return err
	}
	if u != nil {
		var secondStep bool
		err = h.db.InTenant(ctx, func(tx *store.Tx) (err error) {
			secondStep, err = signInMember(ctx, tx, u.ID)
			return err
		})
		switch atrium.ErrorCode(err) {
		case "":
			// Renew the token so a session fixed before login is worthless.
			if err := h.tenantSM.RenewToken(ctx); err != nil {
				return err
			}
			if secondStep {
				mfa.BeginLogin(ctx, h.tenantSM, u.ID, next)
				return web.Redirect(c, mfa.LoginStepPath(t.Slug))
			}
			h.tenantSM.Put(ctx, store.SessionUserKey, u.ID.String())
			return web.Redirect(c, next)
		case atrium.ENOTFOUND:
			f.Message, status = badCredentials, http.StatusUnauthorized
		default:
			return err
		}
	}
	if status == http.StatusUnauthorized {
		// The organization's admins see attempts on their login page.
		if err := h.db.InTenant(ctx, func(tx *store.Tx) error {
			return tx.RecordAudit(ctx, "auth.login_failed", "", "", "", map[string]string{"email": f.Values["email"]})
		}); err != nil {
			return err
		}
	}
	return web.Render(c, status, authviews.TenantLogin(web.NewPage(c, "Log in"), f, next))
}

// Logout handles "POST /o/:org/logout". The token is renewed so the old one
// is deleted from the store and cannot be replayed.
func (h *Handler) Logout(c echo.Context) error {
	ctx := c.Request().Context()
	t := atrium.TenantFromContext(ctx)
	if err := h.tenantSM.RenewToken(ctx); err != nil {
		return err
	}
	h.tenantSM.Remove(ctx, store.SessionUserKey)
	if err := h.db.InTenant(ctx, func(tx *store.Tx) error {
		return tx.RecordAudit(ctx, "auth.logout", "user", atrium.UserFromContext(ctx).ID.String(), "", nil)
	}); err != nil {
		return err
	}
	web.Flash(c, views.FlashSuccess, "You have been logged out.")
	return web.Redirect(c, "/o/"+t.Slug+"/login")
}

// safeNext keeps a post-login redirect inside the organization, so the login
// form cannot be used to send people to another site.
func safeNext(t *atrium.Tenant, next string) string {
	home := "/o/" + t.Slug + "/"
	if strings.HasPrefix(next, home) && !strings.Contains(next, "//") && !strings.Contains(next, `\`) {
		return next
	}
	return home
}

// recordLogin notes a successful login in the organization's audit log.
func recordLogin(ctx context.Context, tx *store.Tx, m *store.Member) error {
	actor := atrium.WithUser(ctx, &atrium.User{ID: m.UserID, Email: m.Email, Name: m.Name, Role: m.Role})
	return tx.RecordAudit(actor, "auth.login", "user", m.UserID.String(), m.Email, nil)
}
