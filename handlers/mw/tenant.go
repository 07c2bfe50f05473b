package mw

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
)

// notFound is the one answer for an unknown organization and for one the
// user does not belong to, so the two cannot be told apart.
func notFound() error {
	return atrium.Errorf(atrium.ENOTFOUND, "We couldn't find that page.")
}

// Tenant serves a route under /o/:org/. One round trip (store.Enter)
// resolves the organization from the URL path, reads the request's session
// in that organization and the session user's membership; the session is
// then loaded from what was read, with its cookie scoped to /o/{slug}/.
// A tenant id in a form, query string or header is never consulted.
//
// With requireMember, only a current member gets through: without a signed-in
// user the request is sent to the organization's login page, and a user who
// is not (or no longer) a member gets the same 404 as an unknown organization.
//
// A route may have a Loader (keyed by "METHOD /route/pattern" in loaders):
// its page reads then travel in that same round trip, so a page view costs
// one round trip in all. With requireMember they run behind a check that
// clears the tenant unless the session belongs to a current member
// (store.Enter); without, for anyone (store.Visit): the pages a visitor
// opens by a link, whose token grants the read.
func Tenant(db *store.DB, sm *scs.SessionManager, requireMember bool, loaders map[string]Loader) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			slug := c.Param("org")
			if !atrium.ValidSlug(slug) { // cannot name an organization: no query
				return notFound()
			}
			token := sessionToken(c, sm)
			enter := db.Enter
			if !requireMember {
				enter = db.Visit
			}
			e, err := enter(c.Request().Context(), slug, token, routeLoader(c, loaders))
			if atrium.ErrorCode(err) == atrium.ENOTFOUND {
				return redirectRenamed(c, db, slug)
			}
			if err != nil {
				return err
			}
			ctx := atrium.WithTenant(c.Request().Context(), &e.Tenant) // after the loader's Preload
			ctx = store.WithPrefetchedSession(ctx, token, e.Session)
			c.SetRequest(c.Request().WithContext(ctx))
			touch := func() bool { return e.Session != nil && time.Since(e.SessionUpdatedAt) > touchInterval }
			if requireMember {
				next = requireMemberOf(e, sm, next)
			}
			return serveSession(c, sm, "/o/"+slug+"/", touch, next)
		}
	}
}

// Loader queues a page's reads (see Tenant) and records their destination
// with web.Preload.
type Loader func(c echo.Context, b *store.Batch)

// Reads are a page's reads, filling a T: Load, the route's Loader, queues
// them into the door's round trip (the tenant door, or the console's), and
// the handler takes the result with Read.
type Reads[T any] func(c echo.Context, b *store.Batch, dst *T)

// Load is r as the route's Loader.
func (r Reads[T]) Load(c echo.Context, b *store.Batch) {
	dst := new(T)
	r(c, b, dst)
	web.Preload(c, dst)
}

// Read returns what the route's Loader read, or, when none ran (a form
// answered with its page again, say), the same reads made now in one round
// trip through read: store.DB's ReadTenant, or ReadSystemBatch for a
// console page.
func (r Reads[T]) Read(c echo.Context, read func(context.Context, func(*store.Batch)) error) (*T, error) {
	if dst, ok := web.Preloaded[*T](c); ok {
		return dst, nil
	}
	dst := new(T)
	return dst, read(c.Request().Context(), func(b *store.Batch) { r(c, b, dst) })
}

// routeLoader returns the request's route's loader from loaders (keyed by
// "METHOD /route/pattern") bound to c, or nil when it has none.
func routeLoader(c echo.Context, loaders map[string]Loader) func(*store.Batch) {
	l := loaders[c.Request().Method+" "+c.Path()]
	if l == nil {
		return nil
	}
	return func(b *store.Batch) { l(c, b) }
}

// requireMemberOf lets through the session's user only if Enter found them
// to be a member, and puts them in the request context.
func requireMemberOf(e *store.Entry, sm *scs.SessionManager, next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		userID := sm.GetString(ctx, store.SessionUserKey)
		if userID == "" {
			login := "/o/" + e.Tenant.Slug + "/login"
			if c.Request().Method == http.MethodGet && c.Request().URL.Path != "/o/"+e.Tenant.Slug+"/" {
				login += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
			}
			return c.Redirect(http.StatusSeeOther, login)
		}
		m := e.Member
		if m == nil || m.UserID.String() != userID {
			_ = sm.Destroy(ctx)
			return notFound()
		}
		if mustEnrollMFA(c, e) {
			return enrollMFA(c, e)
		}
		ctx = atrium.WithUser(ctx, &atrium.User{ID: m.UserID, Email: m.Email, Name: m.Name, Role: m.Role,
			RoleName: m.RoleName, Permissions: m.Permissions, MFAEnabled: e.MFAEnabled, MemberID: m.ID})
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}
