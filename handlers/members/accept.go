package members

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/auth"
	"github.com/atrium-dev/atrium/handlers/mfa"
	"github.com/atrium-dev/atrium/handlers/mw"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/views"
	memberviews "github.com/atrium-dev/atrium/views/members"
)

// inviteLink is what an invitation link's page reads: the invite of the
// link's token in the tenant of the URL, and whether an account with its
// address exists.
type inviteLink struct {
	Invite     *store.Invite
	HasAccount bool
}

var inviteReads = mw.Reads[inviteLink](func(c echo.Context, b *store.Batch, dst *inviteLink) {
	b.FindInviteByToken(c.Param("token"), &dst.Invite, &dst.HasAccount)
})

// LoadInvite is the loader of "GET /o/:org/invite/:token": the link's
// invite comes in the round trip that finds the organization.
func (h *Handler) LoadInvite(c echo.Context, b *store.Batch) { inviteReads.Load(c, b) }

// openInviteOf returns the invite of the request's link (read in one round
// trip that writes nothing: a view of the link changes nothing in the
// organization), and whether an account with its address exists; it
// explains plainly when the invite cannot be used.
func (h *Handler) openInviteOf(c echo.Context) (*store.Invite, bool, error) {
	l, err := inviteReads.Read(c, h.db.ReadTenant)
	if err != nil {
		return nil, false, err
	}
	inv := l.Invite
	if inv == nil {
		return nil, false, atrium.Errorf(atrium.ENOTFOUND, "This invitation link is not valid. Check that you copied the whole link, or ask for a new invitation.")
	}
	switch {
	case inv.AcceptedAt != nil:
		return nil, false, &atrium.Error{Code: atrium.EGONE, Message: "This invitation has already been used. Log in to reach the organization."}
	case inv.RevokedAt != nil:
		return nil, false, &atrium.Error{Code: atrium.EGONE, Message: "This invitation was withdrawn. Ask an admin of the organization for a new one."}
	case !inv.Open(time.Now()):
		return nil, false, &atrium.Error{Code: atrium.EGONE, Message: "This invitation has expired. Ask an admin of the organization to send it again."}
	}
	return inv, l.HasAccount, nil
}

// ShowAccept handles "GET /o/:org/invite/:token": someone with an account
// confirms with their password; someone new chooses a name and password.
func (h *Handler) ShowAccept(c echo.Context) error {
	inv, existing, err := h.openInviteOf(c)
	if err != nil {
		return err
	}
	return h.renderAccept(c, http.StatusOK, inv, existing, views.Form{Errors: map[string]string{}})
}

func (h *Handler) renderAccept(c echo.Context, status int, inv *store.Invite, existing bool, f views.Form) error {
	p := web.NewPage(c, "Join "+atrium.TenantFromContext(c.Request().Context()).Name)
	a := memberviews.Accept{Invite: *inv, HasAccount: existing, Action: c.Request().URL.Path}
	return web.Render(c, status, memberviews.AcceptPage(p, a, f))
}

// Accept handles "POST /o/:org/invite/:token". The invite is marked used,
// the membership created and the audit entries written in one transaction;
// then the person is signed in to the organization.
func (h *Handler) Accept(c echo.Context) error {
	ctx := c.Request().Context()
	inv, _, err := h.openInviteOf(c)
	if err != nil {
		return err
	}
	t := atrium.TenantFromContext(ctx)
	f := views.Form{Values: web.FormValues(c, "name"), Errors: map[string]string{}}
	pw := c.FormValue("password")

	var user *store.User
	err = h.db.InSystem(ctx, func(tx *store.SysTx) error {
		var err error
		user, err = tx.FindUserByEmail(ctx, inv.Email)
		return err
	})
	if err != nil && atrium.ErrorCode(err) != atrium.ENOTFOUND {
		return err
	}
	var hash string
	if user != nil {
		// An existing account proves itself with its password, throttled
		// like any login.
		if msg, err := h.throttle.Blocked(c, inv.Email); err != nil || msg != "" {
			if err != nil {
				return err
			}
			f.Message = msg
			return h.renderAccept(c, http.StatusTooManyRequests, inv, true, f)
		}
		if ok, _ := h.hasher.Verify(pw, user.PasswordHash); !ok {
			if err := h.throttle.Fail(c, inv.Email); err != nil {
				return err
			}
			f.Errors["password"] = "That is not the password of " + inv.Email + "."
			return h.renderAccept(c, http.StatusUnauthorized, inv, true, f)
		}
	} else {
		if m := auth.ValidateName(f.Values["name"], "your name"); m != "" {
			f.Errors["name"] = m
		}
		if m := auth.ValidatePassword(pw); m != "" {
			f.Errors["password"] = m
		}
		if len(f.Errors) > 0 {
			f.Message = "Please correct the highlighted fields."
			return h.renderAccept(c, http.StatusUnprocessableEntity, inv, false, f)
		}
		if hash, err = h.hasher.Hash(pw); err != nil {
			return err
		}
	}

	var secondStep bool // an existing account with MFA still owes its code
	err = h.db.InSystem(ctx, func(tx *store.SysTx) error {
		if user == nil {
			var err error
			if user, err = tx.CreateUser(ctx, inv.Email, f.Values["name"], hash); err != nil {
				return err
			}
		}
		ttx, err := tx.EnterTenant(ctx, t.ID)
		if err != nil {
			return err
		}
		if err := ttx.AcceptInvite(ctx, inv.ID); err != nil {
			return &atrium.Error{Code: atrium.EGONE, Message: "This invitation has just been used or withdrawn.", Err: err}
		}
		m, err := ttx.CreateMembership(ctx, user.ID, inv.Role)
		if err != nil {
			return err
		}
		if secondStep, err = ttx.MemberMFAEnabled(ctx, user.ID); err != nil {
			return err
		}
		actor := atrium.WithUser(ctx, &atrium.User{ID: user.ID, Email: user.Email, Name: user.Name, Role: inv.Role})
		if err := ttx.RecordAudit(actor, "invite.accepted", "invite", inv.ID.String(), inv.Email, nil); err != nil {
			return err
		}
		return ttx.RecordAudit(actor, "member.added", "member", m.ID.String(), inv.Email, map[string]string{"role": inv.Role})
	})
	switch atrium.ErrorCode(err) {
	case "":
	case atrium.ECONFLICT:
		// Already a member (joined another way meanwhile): the invite stays
		// open for an admin to revoke; the person just logs in.
		web.Flash(c, views.FlashInfo, "You are already a member of "+t.Name+". Please log in.")
		return web.Redirect(c, "/o/"+t.Slug+"/login")
	default:
		return err
	}
	if err := h.tenantSM.RenewToken(ctx); err != nil {
		return err
	}
	if secondStep {
		mfa.BeginLogin(ctx, h.tenantSM, user.ID, "/o/"+t.Slug+"/")
		return web.Redirect(c, mfa.LoginStepPath(t.Slug))
	}
	h.tenantSM.Put(ctx, store.SessionUserKey, user.ID.String())
	web.Flash(c, views.FlashSuccess, "Welcome to "+t.Name+"!")
	return web.Redirect(c, "/o/"+t.Slug+"/")
}
