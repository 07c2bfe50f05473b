// Package members serves an organization's member list and the changes
// admins make to it: roles, removal, leaving, and ownership transfer, each
// recorded in the audit log in the same transaction.
package members

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/auth"
	"github.com/atrium-dev/atrium/handlers/auth/password"
	"github.com/atrium-dev/atrium/handlers/authz"
	"github.com/atrium-dev/atrium/handlers/email"
	"github.com/atrium-dev/atrium/handlers/mw"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/views"
	memberviews "github.com/atrium-dev/atrium/views/members"
)

// Handler serves the members area and invitations.
type Handler struct {
	db       *store.DB
	tenantSM *scs.SessionManager
	mail     email.Sender
	hasher   *password.Hasher
	throttle *auth.Throttle
	log      *slog.Logger
	baseURL  string // absolute URL of this installation, for links in emails
}

// New returns the members handlers.
func New(db *store.DB, tenantSM *scs.SessionManager, mail email.Sender, hasher *password.Hasher, log *slog.Logger, baseURL string) *Handler {
	return &Handler{db: db, tenantSM: tenantSM, mail: mail, hasher: hasher, log: log,
		throttle: auth.NewThrottle(db, "acct", log), baseURL: strings.TrimRight(baseURL, "/")}
}

// PageSize is the number of members per page.
const PageSize = 50

// List handles "GET /o/:org/members": search by name or email, 50 a page,
// and the open invitations for those who may invite.
func (h *Handler) List(c echo.Context) error {
	l, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.NewPage(c, "Members")
	p.Nav = "members"
	return web.Render(c, http.StatusOK, memberviews.Members(p, l))
}

// listParams reads the search and page of the members list.
func listParams(c echo.Context) (q string, page web.Paging) {
	return web.Search(c), web.PagingOf(c, PageSize)
}

// listReads are the members page's: one page of members and the open
// invites (the page shows those only to members who may invite).
var listReads = mw.Reads[memberviews.List](func(c echo.Context, b *store.Batch, l *memberviews.List) {
	q, page := listParams(c)
	l.Query = q
	b.FindMembersPage(store.MemberFilter{Query: q, Limit: page.Size, Offset: page.Offset()}, &l.Members, &l.Total)
	b.FindOpenInvites(&l.Invites)
})

// Load queues the members page's reads into the request's first round trip
// (the route's mw.Loader).
func (h *Handler) Load(c echo.Context, b *store.Batch) { listReads.Load(c, b) }

// load returns the members page's data: preloaded by Load, or read now in
// one round trip (after a form error, say).
func (h *Handler) load(c echo.Context) (memberviews.List, error) {
	q, page := listParams(c)
	l, err := listReads.Read(c, h.db.ReadTenant)
	if err != nil {
		return memberviews.List{}, err
	}
	l.PrevURL, l.NextURL, l.Summary = page.Links("", url.Values{"q": {q}}, l.Total, len(l.Members), false)
	for _, r := range authz.Builtin {
		l.Roles = append(l.Roles, r.Name)
	}
	l.Now = time.Now()
	return *l, nil
}

// Show handles "GET /o/:org/members/:id": one member, with the changes the
// viewer may make to them.
func (h *Handler) Show(c echo.Context) error {
	d, err := memberReads.Read(c, h.db.ReadTenant)
	if err != nil {
		return err
	}
	if d.Member == nil {
		return errNoMember()
	}
	for _, r := range authz.Builtin {
		d.Roles = append(d.Roles, r.Name)
	}
	p := web.NewPage(c, d.Member.Name)
	p.Nav = "members"
	return web.Render(c, http.StatusOK, memberviews.Member(p, *d))
}

// memberReads are the member page's: the member and the organization's
// custom roles. A malformed id reads nothing, and Show answers it as a
// member that does not exist.
var memberReads = mw.Reads[memberviews.Detail](func(c echo.Context, b *store.Batch, d *memberviews.Detail) {
	if id, err := memberID(c); err == nil {
		b.FindMemberByID(id, &d.Member)
		b.FindRoleChoices(&d.CustomRoles)
	}
})

// LoadMember queues the member page's reads into the request's first round
// trip (the route's mw.Loader).
func (h *Handler) LoadMember(c echo.Context, b *store.Batch) { memberReads.Load(c, b) }

// errNoMember answers a member id that names no member of this
// organization, whether it exists elsewhere or not.
func errNoMember() error { return atrium.Errorf(atrium.ENOTFOUND, "We couldn't find that member.") }

// memberID reads the :id of a member URL; a malformed id is a member that
// does not exist.
func memberID(c echo.Context) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return uuid.Nil, errNoMember()
	}
	return id, nil
}

// mutate runs fn in a tenant transaction with the owners locked and the
// acting member loaded.
func (h *Handler) mutate(c echo.Context, fn func(tx *store.Tx, actor *store.Member, owners int) error) error {
	ctx := c.Request().Context()
	u := atrium.UserFromContext(ctx)
	return h.db.InTenant(ctx, func(tx *store.Tx) error {
		owners, err := tx.LockOwners(ctx)
		if err != nil {
			return err
		}
		actor, err := tx.FindMemberByUserID(ctx, u.ID)
		if err != nil {
			return err
		}
		return fn(tx, actor, len(owners))
	})
}

// change runs fn like mutate and answers like a form (see answer).
func (h *Handler) change(c echo.Context, fn func(tx *store.Tx, actor *store.Member, owners int) error) error {
	return h.answer(c, h.mutate(c, fn), "members")
}

// changeMember is change for the forms of member id's page: refused by a
// rule, the answer goes back to that page.
func (h *Handler) changeMember(c echo.Context, id uuid.UUID, fn func(tx *store.Tx, actor *store.Member, owners int) error) error {
	return h.answer(c, h.mutate(c, fn), "members/"+id.String())
}

// answer turns the outcome of a change into the response: the members page,
// or back to the form's page (path, under the organization) with a flash
// when a rule was broken; anything else (a member of another organization:
// the 404 page) goes to the error handler.
func (h *Handler) answer(c echo.Context, err error, back string) error {
	org := "/o/" + atrium.TenantFromContext(c.Request().Context()).Slug + "/"
	switch atrium.ErrorCode(err) {
	case "":
		return web.Redirect(c, org+"members")
	case atrium.EINVALID, atrium.ECONFLICT, atrium.EFORBIDDEN:
		web.Flash(c, views.FlashError, atrium.ErrorMessage(err))
		return web.Redirect(c, org+back)
	default:
		return err
	}
}

// ChangeRole handles "POST /o/:org/members/:id/role".
func (h *Handler) ChangeRole(c echo.Context) error {
	id, err := memberID(c)
	if err != nil {
		return err
	}
	role := c.FormValue("role")
	return h.changeMember(c, id, func(tx *store.Tx, actor *store.Member, owners int) error {
		ctx := c.Request().Context()
		target, err := tx.FindMemberByID(ctx, id)
		if err != nil {
			return err
		}
		from := target.DisplayRole()
		if rest, ok := strings.CutPrefix(role, "custom:"); ok {
			// One of the organization's custom roles.
			rid, err := uuid.Parse(rest)
			if err != nil {
				return atrium.Errorf(atrium.EINVALID, "There is no such role.")
			}
			r, err := tx.FindRoleByID(ctx, rid)
			if atrium.ErrorCode(err) == atrium.ENOTFOUND {
				return atrium.Errorf(atrium.EINVALID, "There is no such role.")
			} else if err != nil {
				return err
			}
			if err := checkCustomRoleChange(actor, target, r, owners); err != nil {
				return err
			}
			if target.CustomRoleID != nil && *target.CustomRoleID == r.ID {
				web.Flash(c, views.FlashInfo, target.Name+" already has the role "+r.Name+".")
				return nil
			}
			if err := tx.SetMemberCustomRole(ctx, id, r.ID); err != nil {
				return err
			}
			role = r.Name
		} else {
			if err := checkRoleChange(actor, target, role, owners); err != nil {
				return err
			}
			if target.Role == role {
				web.Flash(c, views.FlashInfo, target.Name+" already has the role "+role+".")
				return nil
			}
			if err := tx.UpdateMemberRole(ctx, id, role); err != nil {
				return err
			}
		}
		web.Flash(c, views.FlashSuccess, target.Name+" is now "+role+".")
		return tx.RecordAudit(ctx, "member.role_changed", "member", id.String(), target.Email,
			map[string]string{"from": from, "to": role})
	})
}

// Remove handles "POST /o/:org/members/:id/remove".
func (h *Handler) Remove(c echo.Context) error {
	id, err := memberID(c)
	if err != nil {
		return err
	}
	return h.changeMember(c, id, func(tx *store.Tx, actor *store.Member, owners int) error {
		ctx := c.Request().Context()
		target, err := tx.FindMemberByID(ctx, id)
		if err != nil {
			return err
		}
		if err := checkRemove(actor, target, owners); err != nil {
			return err
		}
		if err := tx.DeleteMember(ctx, id); err != nil {
			return err
		}
		// Their sessions here end now, not just fail the membership check:
		// a later re-invitation must not revive them.
		if _, err := tx.DeleteUserSessions(ctx, target.UserID, ""); err != nil {
			return err
		}
		web.Flash(c, views.FlashSuccess, target.Name+" was removed from the organization.")
		return tx.RecordAudit(ctx, "member.removed", "member", id.String(), target.Email,
			map[string]string{"role": target.Role})
	})
}

// TransferOwnership handles "POST /o/:org/members/:id/transfer": the target
// becomes an owner and the acting owner an admin.
func (h *Handler) TransferOwnership(c echo.Context) error {
	id, err := memberID(c)
	if err != nil {
		return err
	}
	return h.changeMember(c, id, func(tx *store.Tx, actor *store.Member, owners int) error {
		ctx := c.Request().Context()
		target, err := tx.FindMemberByID(ctx, id)
		if err != nil {
			return err
		}
		if err := checkTransfer(actor, target); err != nil {
			return err
		}
		if err := tx.UpdateMemberRole(ctx, target.ID, "owner"); err != nil {
			return err
		}
		if err := tx.UpdateMemberRole(ctx, actor.ID, "admin"); err != nil {
			return err
		}
		web.Flash(c, views.FlashSuccess, target.Name+" now owns the organization; you are an admin.")
		return tx.RecordAudit(ctx, "ownership.transferred", "member", target.ID.String(), target.Email,
			map[string]string{"from": actor.Email})
	})
}

// Leave handles "POST /o/:org/leave": the signed-in member leaves; their
// session here ends with their membership.
func (h *Handler) Leave(c echo.Context) error {
	ctx := c.Request().Context()
	err := h.mutate(c, func(tx *store.Tx, actor *store.Member, owners int) error {
		if err := checkLeave(actor, owners); err != nil {
			return err
		}
		if err := tx.DeleteMember(ctx, actor.ID); err != nil {
			return err
		}
		if _, err := tx.DeleteUserSessions(ctx, actor.UserID, ""); err != nil {
			return err
		}
		return tx.RecordAudit(ctx, "member.left", "member", actor.ID.String(), actor.Email, nil)
	})
	if atrium.ErrorCode(err) == atrium.ECONFLICT {
		web.Flash(c, views.FlashError, atrium.ErrorMessage(err))
		return web.Redirect(c, "/o/"+atrium.TenantFromContext(ctx).Slug+"/members")
	}
	if err != nil {
		return err
	}
	if err := h.tenantSM.Destroy(ctx); err != nil {
		return err
	}
	return web.Redirect(c, "/login")
}
