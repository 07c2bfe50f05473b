package settings

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/auth"
	"github.com/atrium-dev/atrium/handlers/email"
	"github.com/atrium-dev/atrium/handlers/members"
	"github.com/atrium-dev/atrium/handlers/mw"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/views"
	settingsviews "github.com/atrium-dev/atrium/views/settings"
)

// domainPattern is a DNS name with at least one dot and a letter-only top
// level, lower case.
var domainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// publicDomains are mail providers anyone can get an address at: allowing
// one would let the whole world join.
var publicDomains = map[string]bool{
	"gmail.com": true, "googlemail.com": true, "outlook.com": true, "hotmail.com": true,
	"live.com": true, "msn.com": true, "yahoo.com": true, "ymail.com": true, "aol.com": true,
	"icloud.com": true, "me.com": true, "mac.com": true, "proton.me": true, "protonmail.com": true,
	"gmx.com": true, "gmx.net": true, "gmx.de": true, "web.de": true, "mail.com": true,
	"yandex.com": true, "yandex.ru": true, "mail.ru": true, "qq.com": true, "163.com": true,
	"zoho.com": true, "fastmail.com": true, "tutanota.com": true,
}

// NormalizeDomain lower-cases a domain and drops a leading "@", so that
// "@Example.com" and "example.com" are the same setting.
func NormalizeDomain(s string) string {
	return strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "@")
}

// ValidateDomain returns a message for a domain that cannot be a join
// link's, or "".
func ValidateDomain(d string) string {
	switch {
	case d == "":
		return "Enter your organization's email domain, like example.com."
	case len(d) > 253 || !domainPattern.MatchString(d):
		return "Enter a domain like example.com, without a name or an @ before it."
	case publicDomains[d]:
		return "Anyone can get an address at " + d + ". Choose a domain only your organization's people have."
	}
	return ""
}

// joinThrottle bounds how many invitations one client address may ask for
// through join links, so a link cannot be used to flood a domain's inboxes.
var joinThrottle = store.Throttle{Max: 10, Window: time.Hour}

// ChangeJoinLink handles "POST /o/:org/settings/join": action "enable" sets
// the domain and creates a new link (any earlier one stops working);
// "disable" turns the link off.
func (h *Handler) ChangeJoinLink(c echo.Context) error {
	ctx := c.Request().Context()
	t := atrium.TenantFromContext(ctx)
	u := atrium.UserFromContext(ctx)
	f := views.Form{Values: web.FormValues(c, "domain"), Errors: map[string]string{}}
	domain := NormalizeDomain(f.Values["domain"])
	f.Values["domain"] = domain
	again := func(status int) error {
		f.Message = "The join link was not changed. " + f.Message
		return h.render(c, status, settingsviews.Settings{
			General: views.Form{Values: map[string]string{"name": t.Name, "slug": t.Slug}},
			Join:    f,
		})
	}
	switch c.FormValue("action") {
	case "enable":
		if m := ValidateDomain(domain); m != "" {
			f.Errors["domain"] = m
			f.Message = "Please correct the domain."
			return again(http.StatusUnprocessableEntity)
		}
		token := store.NewToken()
		err := h.db.InTenant(ctx, func(tx *store.Tx) error {
			if err := tx.EnableJoinLink(ctx, domain, token, u.ID); err != nil {
				return err
			}
			return tx.RecordAudit(ctx, "settings.join_link_changed", "join_link", "", domain,
				map[string]string{"domain": domain, "link": "new"})
		})
		if err != nil {
			return err
		}
		h.tenantSM.Put(ctx, joinURLKey, h.baseURL+"/o/"+t.Slug+"/join/"+token)
		web.Flash(c, views.FlashSuccess, "The join link for people at "+domain+" is on. Any earlier link stopped working.")
	case "disable":
		err := h.db.InTenant(ctx, func(tx *store.Tx) error {
			if err := tx.DisableJoinLink(ctx, u.ID); err != nil {
				return err
			}
			return tx.RecordAudit(ctx, "settings.join_link_changed", "join_link", "", "",
				map[string]string{"link": "off"})
		})
		switch atrium.ErrorCode(err) {
		case "":
			web.Flash(c, views.FlashSuccess, "The join link is off. Nobody can ask to join through it any more.")
		case atrium.ENOTFOUND:
			web.Flash(c, views.FlashInfo, "The join link was already off.")
		default:
			return err
		}
	default:
		f.Message = "Choose whether to turn the link on or off."
		return again(http.StatusUnprocessableEntity)
	}
	return web.Redirect(c, "/o/"+t.Slug+"/settings#join")
}

// joinReads are a join link's page's: the link of the URL's token in the
// URL's tenant, while it is on.
var joinReads = mw.Reads[*store.JoinLink](func(c echo.Context, b *store.Batch, dst **store.JoinLink) {
	b.FindJoinLinkByToken(c.Param("token"), dst)
})

// LoadJoin is the loader of "GET /o/:org/join/:token": the link comes in
// the round trip that finds the organization.
func (h *Handler) LoadJoin(c echo.Context, b *store.Batch) { joinReads.Load(c, b) }

// joinLinkOf returns the join link of the request's URL (read in one round
// trip that writes nothing: a view of the link changes nothing), and
// explains plainly when it cannot be used.
func (h *Handler) joinLinkOf(c echo.Context) (*store.JoinLink, error) {
	j, err := joinReads.Read(c, h.db.ReadTenant)
	if err != nil {
		return nil, err
	}
	if *j == nil {
		return nil, atrium.Errorf(atrium.ENOTFOUND, "This join link is not valid or was turned off. Ask an admin of the organization for a new one.")
	}
	return *j, nil
}

// ShowJoin handles "GET /o/:org/join/:token": the link's page asks for an
// address at the organization's domain.
func (h *Handler) ShowJoin(c echo.Context) error {
	j, err := h.joinLinkOf(c)
	if err != nil {
		return err
	}
	return h.renderJoin(c, http.StatusOK, j, views.Form{}, false)
}

func (h *Handler) renderJoin(c echo.Context, status int, j *store.JoinLink, f views.Form, sent bool) error {
	t := atrium.TenantFromContext(c.Request().Context())
	p := web.NewPage(c, "Join "+t.Name)
	return web.Render(c, status, settingsviews.Join(p, settingsviews.JoinProps{
		Domain: j.Domain, Action: c.Request().URL.Path, Form: f, Sent: sent}))
}

// Join handles "POST /o/:org/join/:token". It emails an invitation to the
// address given, which must be at the link's domain; accepting it proves
// the person owns the address, so nobody joins with someone else's. The
// answer is the same whether or not the address already belongs to a
// member, so the page cannot be used to find out who does.
func (h *Handler) Join(c echo.Context) error {
	ctx := c.Request().Context()
	j, err := h.joinLinkOf(c)
	if err != nil {
		return err
	}
	f := views.Form{Values: web.FormValues(c, "email"), Errors: map[string]string{}}
	addr := auth.NormalizeEmail(f.Values["email"])
	f.Values["email"] = addr
	if m := auth.ValidateEmail(addr); m != "" {
		f.Errors["email"] = m
	} else if !strings.HasSuffix(addr, "@"+j.Domain) {
		f.Errors["email"] = "Use your address at " + j.Domain + "."
	}
	if len(f.Errors) > 0 {
		f.Message = "No email was sent. Please correct the highlighted field."
		return h.renderJoin(c, http.StatusUnprocessableEntity, j, f, false)
	}
	if ok, err := h.countJoinRequest(c); err != nil {
		return err
	} else if !ok {
		f.Message = "Too many requests from your network. Please wait an hour and try again."
		return h.renderJoin(c, http.StatusTooManyRequests, j, f, false)
	}

	msg, err := h.joinInvite(ctx, addr)
	if err != nil {
		return err
	}
	if err := h.mail.Send(ctx, msg); err != nil {
		h.log.ErrorContext(ctx, "send join invitation", "err", err)
		f.Message = "We couldn't send the email just now. Please try again in a few minutes."
		return h.renderJoin(c, http.StatusServiceUnavailable, j, f, false)
	}
	return h.renderJoin(c, http.StatusOK, j, f, true)
}

// countJoinRequest counts a join request against the client's address and
// reports whether it is still within the limit.
func (h *Handler) countJoinRequest(c echo.Context) (bool, error) {
	ctx := c.Request().Context()
	key := "join:ip:" + c.RealIP()
	ok := false
	err := h.db.InSystem(ctx, func(tx *store.SysTx) error {
		blocked, _, err := tx.Blocked(ctx, joinThrottle, key)
		if err != nil || blocked {
			return err
		}
		ok = true
		return tx.RecordFailure(ctx, joinThrottle, key)
	})
	return ok, err
}

// joinInvite prepares the email for addr: a fresh invitation as member
// (recorded and audited like one an admin sends, an open one renewed), or,
// for someone who is a member already, a pointer to the login page.
func (h *Handler) joinInvite(ctx context.Context, addr string) (email.Message, error) {
	t := atrium.TenantFromContext(ctx)
	token := store.NewToken()
	expires := time.Now().Add(members.InviteTTL)
	member := false
	err := h.db.InTenant(ctx, func(tx *store.Tx) error {
		if _, err := tx.FindMemberByEmail(ctx, addr); err == nil {
			member = true
			return nil
		} else if atrium.ErrorCode(err) != atrium.ENOTFOUND {
			return err
		}
		old, err := tx.FindOpenInviteByEmail(ctx, addr)
		switch {
		case err == nil && old.Open(time.Now()):
			if err := tx.RenewInvite(ctx, old.ID, token, expires); err != nil {
				return err
			}
			return tx.RecordAudit(ctx, "invite.resent", "invite", old.ID.String(), addr, map[string]string{"via": "join_link"})
		case err == nil:
			if err := tx.RevokeInvite(ctx, old.ID); err != nil { // expired: the new one replaces it
				return err
			}
		case atrium.ErrorCode(err) != atrium.ENOTFOUND:
			return err
		}
		inv, err := tx.CreateJoinInvite(ctx, addr, token, expires)
		if err != nil {
			return err
		}
		return tx.RecordAudit(ctx, "invite.created", "invite", inv.ID.String(), addr,
			map[string]string{"role": inv.Role, "via": "join_link"})
	})
	if err != nil {
		return email.Message{}, err
	}
	if member {
		return email.Message{
			To:      addr,
			Subject: fmt.Sprintf("You are already a member of %s on Atrium", t.Name),
			Text: fmt.Sprintf("Hello,\n\nSomeone asked to join %s on Atrium with this address through the organization's join link. "+
				"You are a member already; log in here:\n%s\n\nIf this was not you, you can ignore this email.\n",
				t.Name, h.baseURL+"/o/"+t.Slug+"/login"),
		}, nil
	}
	return email.Message{
		To:      addr,
		Subject: fmt.Sprintf("Your invitation to join %s on Atrium", t.Name),
		Text: fmt.Sprintf("Hello,\n\nYou asked to join %s on Atrium through the organization's join link.\n\n"+
			"Accept the invitation:\n%s\n\nThe link works once and expires on %s.\n"+
			"If you did not ask for this, you can ignore this email.\n",
			t.Name, h.baseURL+"/o/"+t.Slug+"/invite/"+token, expires.UTC().Format("2 January 2006 at 15:04 UTC")),
	}, nil
}
