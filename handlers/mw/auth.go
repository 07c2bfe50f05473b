package mw

import (
	"net/http"
	"net/url"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
)

// RequireUser lets through only a member of the request's tenant whose
// session belongs to it. Without a session user it redirects to the
// organization's login page; a signed-in person who is no longer a member
// gets the same 404 as an unknown organization.
func RequireUser(db *store.DB) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx := c.Request().Context()
			t := atrium.TenantFromContext(ctx)
			sm := web.Session(ctx)
			if t == nil || sm == nil {
				return notFound()
			}
			id, err := uuid.Parse(sm.GetString(ctx, store.SessionUserKey))
			if err != nil {
				login := "/o/" + t.Slug + "/login"
				if c.Request().Method == http.MethodGet && c.Request().URL.Path != "/o/"+t.Slug+"/" {
					login += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
				}
				return c.Redirect(http.StatusSeeOther, login)
			}
			var m *store.Member
			err = db.InTenant(ctx, func(tx *store.Tx) error {
				m, err = tx.FindMemberByUserID(ctx, id)
				return err
			})
			if atrium.ErrorCode(err) == atrium.ENOTFOUND {
				_ = sm.Destroy(ctx)
				return notFound()
			}
			if err != nil {
				return err
			}
			ctx = atrium.WithUser(ctx, &atrium.User{ID: m.UserID, Email: m.Email, Name: m.Name, Role: m.Role})
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

// OperatorSessionKey holds the signed-in operator's id in a console session.
const OperatorSessionKey = "operator_id"

// RequireOperator lets through only a signed-in operator, redirecting others
// to the console login.
func RequireOperator(db *store.DB) echo.MiddlewareFunc {
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
			var o *store.Operator
			err = db.InSystem(ctx, func(tx *store.SysTx) error {
				o, err = tx.FindOperatorByID(ctx, id)
				return err
			})
			if atrium.ErrorCode(err) == atrium.ENOTFOUND {
				_ = sm.Destroy(ctx)
				return c.Redirect(http.StatusSeeOther, "/console/login")
			}
			if err != nil {
				return err
			}
			ctx = atrium.WithOperator(ctx, &atrium.Operator{ID: o.ID, Email: o.Email, Name: o.Name})
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}
