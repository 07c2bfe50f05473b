// Package settings serves an organization's settings: its name and URL
// (an old URL keeps redirecting for 90 days), deleting the organization,
// the join-by-link for an email domain, and the organization switcher.
// Every change is recorded in the audit log in the same transaction.
package settings

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/auth"
	"github.com/atrium-dev/atrium/handlers/email"
	"github.com/atrium-dev/atrium/handlers/mw"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/views"
	settingsviews "github.com/atrium-dev/atrium/views/settings"
)

// Handler serves the settings area, the switcher and the join link.
type Handler struct {
	db       *store.DB
	tenantSM *scs.SessionManager
	mail     email.Sender
	log      *slog.Logger
	baseURL  string // absolute URL of this installation, for links in emails
}

// New returns the settings handlers. A nil mail sender refuses to send (the
// join page then says so), and an empty baseURL means a local installation,
// as in handlers.New.
func New(db *store.DB, tenantSM *scs.SessionManager, mail email.Sender, log *slog.Logger, baseURL string) *Handler {
	if mail == nil {
		mail = noMail{}
	}
	if baseURL == "" {
		baseURL = "http://localhost:8080"
	}
	return &Handler{db: db, tenantSM: tenantSM, mail: mail, log: log, baseURL: strings.TrimRight(baseURL, "/")}
}

type noMail struct{}

func (noMail) Send(context.Context, email.Message) error {
	return errors.New("no mail sender configured")
}

// joinURLKey holds, in the admin's session, a join link just created: the
// settings page shows it once, since only its hash is stored.
const joinURLKey = "settings.join_url"

// generalFields are the inputs of the name and URL form.
var generalFields = []string{"name", "slug"}

// joinLinkReads are the settings page's: the join link, if there is one.
var joinLinkReads = mw.Reads[*store.JoinLink](func(_ echo.Context, b *store.Batch, dst **store.JoinLink) { b.FindJoinLink(dst) })

// Load queues the settings page's reads into the request's first round
// trip (the route's mw.Loader).
func (h *Handler) Load(c echo.Context, b *store.Batch) { joinLinkReads.Load(c, b) }

// Show handles "GET /o/:org/settings".
func (h *Handler) Show(c echo.Context) error {
	t := atrium.TenantFromContext(c.Request().Context())
	s := settingsviews.Settings{General: views.Form{Values: map[string]string{"name": t.Name, "slug": t.Slug}}}
	return h.render(c, http.StatusOK, s)
}

// render loads what the settings page shows besides the forms in s (the
// join link), and renders it with status.
func (h *Handler) render(c echo.Context, status int, s settingsviews.Settings) error {
	ctx := c.Request().Context()
	link, err := joinLinkReads.Read(c, h.db.ReadTenant)
	if err != nil {
		return err
	}
	s.JoinLink = *link
	if s.Join.Values == nil && s.JoinLink != nil {
		s.Join.Values = map[string]string{"domain": s.JoinLink.Domain}
	}
	if u, ok := h.tenantSM.Pop(ctx, joinURLKey).(string); ok {
		s.NewJoinURL = u
	}
	s.BaseURL = h.baseURL
	p := web.NewPage(c, "Settings")
	p.Nav = "settings"
	return web.Render(c, status, settingsviews.Page(p, s))
}

// Update handles "POST /o/:org/settings": the organization's name and URL.
// A new URL signs everyone out (their cookies belong to the old path) except
// the admin making the change, who is signed in again at the new URL.
func (h *Handler) Update(c echo.Context) error {
	ctx := c.Request().Context()
	f := views.Form{Values: web.FormValues(c, generalFields...), Errors: map[string]string{}}
	name, slug := f.Values["name"], f.Values["slug"]
	if m := auth.ValidateName(name, "the organization's name"); m != "" {
		f.Errors["name"] = m
	}
	if m := auth.ValidateSlug(slug); m != "" {
		f.Errors["slug"] = m
	}
	if len(f.Errors) > 0 {
		f.Message = "Nothing was changed. Please correct the highlighted fields."
		return h.render(c, http.StatusUnprocessableEntity, settingsviews.Settings{General: f})
	}

	var before *store.Tenant
	err := h.db.InTenant(ctx, func(tx *store.Tx) error {
		var err error
		if before, err = tx.LockTenant(ctx); err != nil {
			return err
		}
		if name != before.Name {
			if err := tx.RenameTenant(ctx, name); err != nil {
				return err
			}
			if err := tx.RecordAudit(ctx, "settings.name_changed", "organization", before.ID.String(), name,
				map[string]string{"from": before.Name, "to": name}); err != nil {
				return err
			}
		}
		if slug != before.Slug {
			if err := tx.ChangeTenantSlug(ctx, slug); err != nil {
				return err
			}
			if _, err := tx.DeleteTenantSessions(ctx); err != nil {
				return err
			}
			return tx.RecordAudit(ctx, "settings.slug_changed", "organization", before.ID.String(), name,
				map[string]string{"from": before.Slug, "to": slug})
		}
		return nil
	})
	if atrium.ErrorCode(err) == atrium.ECONFLICT {
		f.Errors["slug"] = "That URL is already taken, or was used by another organization in the last 90 days. Please choose another."
		f.Message = "Nothing was changed. Please correct the highlighted fields."
		return h.render(c, http.StatusConflict, settingsviews.Settings{General: f})
	}
	if err != nil {
		return err
	}

	switch {
	case slug != before.Slug:
		return h.moveAdmin(c, before, name, slug)
	case name != before.Name:
		web.Flash(c, views.FlashSuccess, "The organization is now called "+name+".")
	default:
		web.Flash(c, views.FlashInfo, "Nothing changed.")
	}
	return web.Redirect(c, "/o/"+slug+"/settings")
}

// moveAdmin ends the admin's session at the old URL (its row went with
// everyone else's) and starts one at the new URL, where the cookie path
// now is, then sends them there.
func (h *Handler) moveAdmin(c echo.Context, before *store.Tenant, name, slug string) error {
	ctx := c.Request().Context()
	u := atrium.UserFromContext(ctx)
	if err := h.tenantSM.Destroy(ctx); err != nil {
		return err
	}
	t := &atrium.Tenant{ID: before.ID, Slug: slug, Name: name}
	err := web.StartSession(c, h.tenantSM, t, func(nctx context.Context) {
		h.tenantSM.Put(nctx, store.SessionUserKey, u.ID.String())
		web.FlashIn(nctx, h.tenantSM, views.FlashSuccess,
			"The organization's URL is now /o/"+slug+"/. Everyone else was signed out and needs to log in again at the new address; "+
				"links to /o/"+before.Slug+"/ keep redirecting here for 90 days.")
	})
	if err != nil {
		return err
	}
	h.log.InfoContext(ctx, "organization url changed", "tenant_id", before.ID, "from", before.Slug, "to", slug)
	return web.Redirect(c, "/o/"+slug+"/settings")
}
