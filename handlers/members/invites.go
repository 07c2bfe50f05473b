package members

import (
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/auth"
	"github.com/atrium-dev/atrium/handlers/authz"
	"github.com/atrium-dev/atrium/handlers/email"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/views"
	memberviews "github.com/atrium-dev/atrium/views/members"
)

// InviteTTL is how long an invitation link works.
const InviteTTL = 7 * 24 * time.Hour

// inviteLink is the absolute URL of an invitation.
func (h *Handler) inviteLink(slug, token string) string {
	return h.baseURL + "/o/" + slug + "/invite/" + token
}

// checkInviteRole says whether actor may invite someone with role.
func checkInviteRole(actor *store.Member, role string) error {
	if actor.Role != "owner" && role == "owner" {
		return atrium.Errorf(atrium.EFORBIDDEN, "Only an owner can invite another owner.")
	}
	return nil
}

// CreateInvite handles "POST /o/:org/members/invites". An address that
// belongs to a member is refused with that reason; whether it has an
// account in another organization is never revealed.
func (h *Handler) CreateInvite(c echo.Context) error {
	ctx := c.Request().Context()
	f := views.Form{Values: web.FormValues(c, "email", "role"), Errors: map[string]string{}}
	addr := auth.NormalizeEmail(f.Values["email"])
	f.Values["email"] = addr
	role := f.Values["role"]
	if m := auth.ValidateEmail(addr); m != "" {
		f.Errors["email"] = m
	}
	if !authz.IsBuiltin(role) {
		f.Errors["role"] = "Choose a role."
	}
	if len(f.Errors) > 0 {
		return h.listAgain(c, http.StatusUnprocessableEntity, f)
	}
	token := store.NewToken()
	var inv *store.Invite
	err := h.mutate(c, func(tx *store.Tx, actor *store.Member, _ int) error {
		if err := checkInviteRole(actor, role); err != nil {
			return err
		}
		if _, err := tx.FindMemberByEmail(ctx, addr); err == nil {
			return atrium.Invalid(map[string]string{"email": "That person is already a member of this organization."})
		} else if atrium.ErrorCode(err) != atrium.ENOTFOUND {
			return err
		}
		// An expired open invite gives way to the new one.
		if old, err := tx.FindOpenInviteByEmail(ctx, addr); err == nil && !old.Open(time.Now()) {
			if err := tx.RevokeInvite(ctx, old.ID); err != nil {
				return err
			}
		}
		var err error
		if inv, err = tx.CreateInvite(ctx, addr, role, token, actor.UserID, time.Now().Add(InviteTTL)); err != nil {
			return err
		}
		return tx.RecordAudit(ctx, "invite.created", "invite", inv.ID.String(), addr, map[string]string{"role": role})
	})
	switch atrium.ErrorCode(err) {
	case "":
	case atrium.EINVALID:
		for k, v := range atrium.ErrorFields(err) {
			f.Errors[k] = v
		}
		return h.listAgain(c, http.StatusUnprocessableEntity, f)
	case atrium.ECONFLICT, atrium.EFORBIDDEN:
		f.Errors["email"] = atrium.ErrorMessage(err)
		return h.listAgain(c, http.StatusConflict, f)
	default:
		return err
	}
	h.sendInvite(c, inv, token)
	return web.Redirect(c, "/o/"+atrium.TenantFromContext(ctx).Slug+"/members")
}

// sendInvite emails the link. The invite exists whether or not the mail
// goes out; a failure is logged and the admin is told to resend.
func (h *Handler) sendInvite(c echo.Context, inv *store.Invite, token string) {
	ctx := c.Request().Context()
	t := atrium.TenantFromContext(ctx)
	u := atrium.UserFromContext(ctx)
	msg := email.Message{
		To:      inv.Email,
		Subject: fmt.Sprintf("%s invited you to %s on Atrium", u.Name, t.Name),
		Text: fmt.Sprintf("Hello,\n\n%s (%s) invited you to join %s on Atrium as %s.\n\n"+
			"Accept the invitation:\n%s\n\nThe link works once and expires on %s.\n"+
			"If you did not expect this invitation, you can ignore this email.\n",
			u.Name, u.Email, t.Name, inv.Role, h.inviteLink(t.Slug, token),
			time.Now().Add(InviteTTL).UTC().Format("2 January 2006 at 15:04 UTC")),
	}
	if err := h.mail.Send(ctx, msg); err != nil {
		h.log.ErrorContext(ctx, "send invitation", "err", err, "invite_id", inv.ID)
		web.Flash(c, views.FlashWarning, "The invitation to "+inv.Email+" was created, but the email could not be sent. Try “Resend” in a moment.")
		return
	}
	web.Flash(c, views.FlashSuccess, "Invitation sent to "+inv.Email+".")
}

// ResendInvite handles "POST /o/:org/members/invites/:id/resend": a new
// link (the old one stops working) and a fresh expiry.
func (h *Handler) ResendInvite(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return atrium.Errorf(atrium.ENOTFOUND, "We couldn't find that invitation.")
	}
	ctx := c.Request().Context()
	token := store.NewToken()
	var inv *store.Invite
	err = h.mutate(c, func(tx *store.Tx, actor *store.Member, _ int) error {
		var err error
		if inv, err = tx.FindInviteByID(ctx, id); err != nil {
			return err
		}
		if err := checkInviteRole(actor, inv.Role); err != nil {
			return err
		}
		if err := tx.RenewInvite(ctx, id, token, time.Now().Add(InviteTTL)); err != nil {
			return atrium.Errorf(atrium.ECONFLICT, "That invitation was already accepted or revoked.")
		}
		return tx.RecordAudit(ctx, "invite.resent", "invite", id.String(), inv.Email, nil)
	})
	if err != nil {
		return h.answer(c, err, "members")
	}
	h.sendInvite(c, inv, token)
	return web.Redirect(c, "/o/"+atrium.TenantFromContext(ctx).Slug+"/members")
}

// RevokeInvite handles "POST /o/:org/members/invites/:id/revoke".
func (h *Handler) RevokeInvite(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return atrium.Errorf(atrium.ENOTFOUND, "We couldn't find that invitation.")
	}
	ctx := c.Request().Context()
	return h.change(c, func(tx *store.Tx, actor *store.Member, _ int) error {
		inv, err := tx.FindInviteByID(ctx, id)
		if err != nil {
			return err
		}
		if err := checkInviteRole(actor, inv.Role); err != nil {
			return err
		}
		if err := tx.RevokeInvite(ctx, id); err != nil {
			return atrium.Errorf(atrium.ECONFLICT, "That invitation was already accepted or revoked.")
		}
		web.Flash(c, views.FlashSuccess, "The invitation to "+inv.Email+" was revoked.")
		return tx.RecordAudit(ctx, "invite.revoked", "invite", id.String(), inv.Email, nil)
	})
}

// listAgain re-renders the members page with the invite form's input and
// messages.
func (h *Handler) listAgain(c echo.Context, status int, f views.Form) error {
	if f.Message == "" {
		f.Message = "The invitation was not sent. Please correct the highlighted fields."
	}
	l, err := h.load(c)
	if err != nil {
		return err
	}
	l.Invite = f
	p := web.NewPage(c, "Members")
	p.Nav = "members"
	return web.Render(c, status, memberviews.Members(p, l))
}
