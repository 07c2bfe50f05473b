package mw

import (
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
)

// OperatorSessionKey holds the signed-in operator's id in a console session.
const OperatorSessionKey = "operator_id"

// RequireOperator lets through only a signed-in operator, redirecting others
// to the console login. A route may have a Loader (keyed by "METHOD
// /route/pattern" in loaders): its reads then travel in the same round trip
// as the operator check, and are dropped if the check fails.
func RequireOperator(db *store.DB, loaders map[string]Loader) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx := c.Request().Context()
			sm := web.Session(ctx)
			if sm == nil {
				return notFound()
			}
			id, err := uuid.Parse(sm.GetString(ctx, OperatorSessionKey))
			if err != nil {
				return c.Redirect(http.StatusSeeOther, "/console/login")
			}
			load := loaders[c.Request().Method+" "+c.Path()]
			var o *store.Operator
			err = db.ReadSystemBatch(ctx, func(b *store.Batch) {
				b.FindOperatorByID(id, &o)
				if load != nil {
					load(c, b)
				}
			})
			if atrium.ErrorCode(err) == atrium.ENOTFOUND && o == nil {
				_ = sm.Destroy(ctx)
				return c.Redirect(http.StatusSeeOther, "/console/login")
			}
			if err != nil {
				return err
			}
			ctx = c.Request().Context() // after the loader's Preload
			ctx = atrium.WithOperator(ctx, &atrium.Operator{ID: o.ID, Email: o.Email, Name: o.Name})
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}
