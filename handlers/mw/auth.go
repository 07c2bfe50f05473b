package mw

import (
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
)

// Console serves a route of the operator console to a signed-in operator,
// sending anyone else to the console login. One round trip
// (store.EnterConsole) reads the console session, its operator and the
// route's Loader reads, if it has one (keyed by "METHOD /route/pattern" in
// loaders); the session is then loaded from what was read, with its cookie
// on /console, and the reads reach the page only for an operator.
func Console(db *store.DB, sm *scs.SessionManager, loaders map[string]Loader) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			token := sessionToken(c, sm)
			var load func(*store.Batch)
			if token != "" { // no cookie: nobody to read for
				load = routeLoader(c, loaders)
			}
			e, err := db.EnterConsole(c.Request().Context(), token, load)
			if err != nil {
				return err
			}
			c.SetRequest(c.Request().WithContext(store.WithPrefetchedSession(c.Request().Context(), token, e.Session)))
			touch := func() bool { return e.Session != nil && time.Since(e.UpdatedAt) > touchInterval }
			return serveSession(c, sm, "/console", touch, func(c echo.Context) error {
				ctx := c.Request().Context()
				o := e.Operator
				if o == nil || sm.GetString(ctx, store.OperatorSessionKey) != o.ID.String() {
					if token != "" && e.Session == nil {
						// Expired, or gone with its operator: clear the cookie.
						_ = sm.Destroy(ctx)
					}
					return c.Redirect(http.StatusSeeOther, "/console/login")
				}
				ctx = atrium.WithOperator(ctx, &atrium.Operator{ID: o.ID, Email: o.Email, Name: o.Name})
				c.SetRequest(c.Request().WithContext(ctx))
				return next(c)
			})
		}
	}
}
