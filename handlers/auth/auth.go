// Package auth handles signing up an organization, logging in (globally with
// an organization chooser, or directly at /o/{slug}/login) and logging out.
package auth

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/auth/password"
	"github.com/atrium-dev/atrium/handlers/mfa"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/views"
	authviews "github.com/atrium-dev/atrium/views/auth"
)

// Handler serves signup, login and logout.
type Handler struct {
	db       *store.DB
	hasher   *password.Hasher
	tenantSM *scs.SessionManager // sessions inside one organization
	loginSM  *scs.SessionManager // the short-lived chooser session at /login
	log      *slog.Logger
	throttle *Throttle
}

// New returns the auth handlers.
func New(db *store.DB, hasher *password.Hasher, tenantSM, loginSM *scs.SessionManager, log *slog.Logger) *Handler {
	return &Handler{db: db, hasher: hasher, tenantSM: tenantSM, loginSM: loginSM, log: log,
		throttle: NewThrottle(db, "acct", log)}
}

var signupFields = []string{"org_name", "slug", "name", "email"}

// ShowSignup handles "GET /signup".
func (h *Handler) ShowSignup(c echo.Context) error {
	return web.Render(c, http.StatusOK, authviews.Signup(web.NewPage(c, "Sign up"), views.Form{}))
}

// Signup handles "POST /signup": it creates the organization, its owner (or
// reuses the account of an existing person who proves it with the password)
// and the owner's membership in one transaction, then signs the owner in.
func (h *Handler) Signup(c echo.Context) error {
	ctx := c.Request().Context()
	f := views.Form{Values: web.FormValues(c, signupFields...), Errors: map[string]string{}}
	f.Values["email"] = NormalizeEmail(f.Values["email"])
	pw := c.FormValue("password")
	if m := ValidateName(f.Values["org_name"], "the organization's name"); m != "" {
		f.Errors["org_name"] = m
	}
	if m := ValidateSlug(f.Values["slug"]); m != "" {
		f.Errors["slug"] = m
	}
	if m := ValidateName(f.Values["name"], "your name"); m != "" {
		f.Errors["name"] = m
	}
	if m := ValidateEmail(f.Values["email"]); m != "" {
		f.Errors["email"] = m
	}
	if m := ValidatePassword(pw); m != "" {
		f.Errors["password"] = m
	}
	if len(f.Errors) > 0 {
		return h.signupAgain(c, http.StatusUnprocessableEntity, f)
	}

	// An existing person may add an organization by proving their password;
	// that check counts against the same throttle as a login.
	email := f.Values["email"]
	existing, err := h.findUser(ctx, email)
	if err != nil && atrium.ErrorCode(err) != atrium.ENOTFOUND {
		return err
	}
	var hash string
	if existing != nil {
		if blocked, err := h.throttle.Blocked(c, email); err != nil || blocked != "" {
			if err != nil {
				return err
			}
			f.Message = blocked
			return h.signupAgain(c, http.StatusTooManyRequests, f)
		}
		ok, err := h.hasher.Verify(pw, existing.PasswordHash)
		if err != nil || !ok {
			if err := h.throttle.Fail(c, email); err != nil {
				return err
			}
			f.Errors["email"] = "An account with this email already exists. Enter its password to add this organization to it, or log in."
			return h.signupAgain(c, http.StatusConflict, f)
		}
	} else if hash, err = h.hasher.Hash(pw); err != nil {
		return err
	}

	var tenant *store.Tenant
	var secondStep bool // an existing account with MFA still owes its code
	err = h.db.InSystem(ctx, func(tx *store.SysTx) error {
		var err error
		if tenant, err = tx.CreateTenant(ctx, f.Values["slug"], f.Values["org_name"]); err != nil {
			return err
		}
		user := existing
		if user == nil {
			if user, err = tx.CreateUser(ctx, email, f.Values["name"], hash); err != nil {
				return err
			}
		}
		ttx, err := tx.EnterTenant(ctx, tenant.ID)
		if err != nil {
			return err
		}
		if _, err = ttx.CreateMembership(ctx, user.ID, "owner"); err != nil {
			return err
		}
		if secondStep, err = ttx.MemberMFAEnabled(ctx, user.ID); err != nil {
			return err
		}
		existing = user
		actor := atrium.WithUser(ctx, &atrium.User{ID: user.ID, Email: user.Email, Name: user.Name, Role: "owner"})
		return ttx.RecordAudit(actor, "organization.created", "organization", tenant.ID.String(), tenant.Name,
			map[string]string{"slug": tenant.Slug})
	})
	if atrium.ErrorCode(err) == atrium.ECONFLICT {
		if tenant == nil {
			f.Errors["slug"] = atrium.ErrorMessage(err)
		} else {
			f.Errors["email"] = atrium.ErrorMessage(err)
		}
		return h.signupAgain(c, http.StatusConflict, f)
	}
	if err != nil {
		return err
	}
	h.log.InfoContext(ctx, "organization created", "tenant_id", tenant.ID, "slug", tenant.Slug, "user_id", existing.ID)
	t := &atrium.Tenant{ID: tenant.ID, Slug: tenant.Slug, Name: tenant.Name}
	if secondStep {
		if err := h.startSecondFactor(c, t, existing.ID); err != nil {
			return err
		}
		return web.Redirect(c, mfa.LoginStepPath(t.Slug))
	}
	if err := h.startTenantSession(c, t, existing.ID, "Welcome to Atrium! Your organization is ready."); err != nil {
		return err
	}
	return web.Redirect(c, "/o/"+t.Slug+"/")
}

func (h *Handler) signupAgain(c echo.Context, status int, f views.Form) error {
	if f.Message == "" {
		f.Message = "Please correct the highlighted fields."
	}
	return web.Render(c, status, authviews.Signup(web.NewPage(c, "Sign up"), f))
}

// startTenantSession signs userID in to tenant from any page (signup, the
// global login), writing the session cookie under the tenant's own path.
func (h *Handler) startTenantSession(c echo.Context, t *atrium.Tenant, userID interface{ String() string }, flash string) error {
	return web.StartSession(c, h.tenantSM, t, func(ctx context.Context) {
		h.tenantSM.Put(ctx, store.SessionUserKey, userID.String())
		if flash != "" {
			web.FlashIn(ctx, h.tenantSM, views.FlashSuccess, flash)
		}
	})
}

func (h *Handler) findUser(ctx context.Context, email string) (*store.User, error) {
	var u *store.User
	err := h.db.ReadSystem(ctx, func(tx *store.SysTx) error {
		var err error
		u, err = tx.FindUserByEmail(ctx, email)
		return err
	})
	return u, err
}
