package account

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/views"
	accountviews "github.com/atrium-dev/atrium/views/account"
)

// sessionNotFound is the one answer for a session id that does not exist,
// belongs to someone else or to another organization.
func sessionNotFound() error {
	return atrium.Errorf(atrium.ENOTFOUND, "We couldn't find that session. It may have ended already.")
}

// ShowSessions handles "GET /o/:org/account/sessions": the person's live
// sessions in this organization, this one marked, read in one round trip.
func (h *Handler) ShowSessions(c echo.Context) error {
	ctx := c.Request().Context()
	u := atrium.UserFromContext(ctx)
	var list []store.Session
	if err := h.db.ReadTenant(ctx, func(b *store.Batch) {
		b.FindUserSessions(u.ID, h.tenantSM.Token(ctx), &list)
	}); err != nil {
		return err
	}
	rows := make([]accountviews.Session, len(list))
	for i, s := range list {
		rows[i] = accountviews.Session{Session: s, Device: Device(s.UserAgent)}
	}
	p := web.NewPage(c, "Your sessions")
	p.Nav = "account"
	return web.Render(c, http.StatusOK, accountviews.Sessions(p, rows))
}

// RevokeSession handles "POST /o/:org/account/sessions/:id/revoke": signs
// one of the person's other sessions out. This session is refused (logging
// out is how it ends); anyone else's session, here or in another
// organization, is the same 404 as one that does not exist.
func (h *Handler) RevokeSession(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return sessionNotFound()
	}
	ctx := c.Request().Context()
	u := atrium.UserFromContext(ctx)
	var device string
	err = h.db.InTenant(ctx, func(tx *store.Tx) error {
		s, err := tx.FindUserSession(ctx, u.ID, id, h.tenantSM.Token(ctx))
		if err != nil {
			return err
		}
		if s.Current {
			return atrium.Errorf(atrium.ECONFLICT, "That is the session you are using. To end it, log out.")
		}
		if err := tx.DeleteUserSession(ctx, u.ID, id); err != nil {
			return err
		}
		device = Device(s.UserAgent)
		return tx.RecordAudit(ctx, "session.revoked", "session", id.String(), device,
			map[string]string{"ip": s.IP})
	})
	switch atrium.ErrorCode(err) {
	case "":
		web.Flash(c, views.FlashSuccess, "Signed out the session on "+device+".")
	case atrium.ECONFLICT:
		web.Flash(c, views.FlashError, atrium.ErrorMessage(err))
	case atrium.ENOTFOUND:
		return sessionNotFound()
	default:
		return err
	}
	return web.Redirect(c, accountURL(c, "/sessions"))
}

// RevokeOtherSessions handles "POST /o/:org/account/sessions/revoke-others":
// "sign out everywhere else" for this organization's sessions, the ones the
// page lists. (A password change reaches every organization.)
func (h *Handler) RevokeOtherSessions(c echo.Context) error {
	ctx := c.Request().Context()
	u := atrium.UserFromContext(ctx)
	keep := h.tenantSM.Token(ctx)
	if keep == "" {
		return &atrium.Error{Code: atrium.EINTERNAL, Err: errors.New("account: revoke others without a session token")}
	}
	var n int64
	err := h.db.InTenant(ctx, func(tx *store.Tx) error {
		var err error
		if n, err = tx.DeleteUserSessions(ctx, u.ID, keep); err != nil || n == 0 {
			return err
		}
		return tx.RecordAudit(ctx, "session.revoked", "user", u.ID.String(), u.Email,
			map[string]string{"reason": "signed_out_elsewhere", "count": strconv.FormatInt(n, 10)})
	})
	if err != nil {
		return err
	}
	if n == 0 {
		web.Flash(c, views.FlashInfo, "You have no other sessions here.")
	} else {
		web.Flash(c, views.FlashSuccess, "Signed out "+strconv.FormatInt(n, 10)+" other "+plural(n, "session", "sessions")+".")
	}
	return web.Redirect(c, accountURL(c, "/sessions"))
}

// Device turns a User-Agent header into a short description a person
// recognises, such as "Chrome on Linux" or "Safari on iOS". It knows the
// common browsers and systems and nothing more: user agents are free text
// that anyone can set, so this is a hint for recognising one's own
// devices, never a fact to rely on.
func Device(ua string) string {
	b, os := browserOf(ua), systemOf(ua)
	switch {
	case b != "" && os != "":
		return b + " on " + os
	case b != "":
		return b
	case os != "":
		return "A browser on " + os
	}
	return "Unknown device"
}

// browsers are checked in order: many user agents name several (Edge says
// Chrome and Safari too), so the most specific comes first.
var browsers = []struct{ marker, name string }{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"}, {"Edge/", "Edge"},
	{"OPR/", "Opera"}, {"Opera", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"Vivaldi/", "Vivaldi"},
	{"YaBrowser/", "Yandex Browser"},
	{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
	{"HeadlessChrome/", "Headless Chrome"},
	{"CriOS/", "Chrome"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"},
	{"Safari/", "Safari"},
	{"curl/", "curl"}, {"Wget/", "Wget"},
	{"Go-http-client/", "Go HTTP client"},
	{"python-requests/", "Python requests"},
}

// systems, likewise in order: Android user agents say Linux, iPhones say
// "like Mac OS X".
var systems = []struct{ marker, name string }{
	{"Windows", "Windows"},
	{"iPhone", "iOS"}, {"iPod", "iOS"}, {"iPad", "iPadOS"},
	{"Android", "Android"},
	{"CrOS", "ChromeOS"},
	{"Macintosh", "macOS"}, {"Mac OS X", "macOS"},
	{"Ubuntu", "Ubuntu"}, {"Fedora", "Fedora"},
	{"Linux", "Linux"},
	{"FreeBSD", "FreeBSD"}, {"OpenBSD", "OpenBSD"},
}

func browserOf(ua string) string {
	for _, b := range browsers {
		if strings.Contains(ua, b.marker) {
			return b.name
		}
	}
	return ""
}

func systemOf(ua string) string {
	for _, s := range systems {
		if strings.Contains(ua, s.marker) {
			return s.name
		}
	}
	return ""
}
