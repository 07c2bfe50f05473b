package mw

import (
	"regexp"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
)

// slugPattern is the shape of an organization slug; anything else cannot
// name an organization, so it is answered without a query.
var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$`)

// notFound is the one answer for an unknown organization and for one the
// user does not belong to, so the two cannot be told apart.
func notFound() error {
	return atrium.Errorf(atrium.ENOTFOUND, "We couldn't find that page.")
}

// ResolveTenant reads the organization from the URL path (the :org
// parameter) and puts it in the request context. A tenant id in a form,
// query string or header is never consulted.
func ResolveTenant(db *store.DB) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			slug := c.Param("org")
			if !slugPattern.MatchString(slug) {
				return notFound()
			}
			ctx := c.Request().Context()
			var t *store.Tenant
			err := db.InSystem(ctx, func(tx *store.SysTx) error {
				var err error
				t, err = tx.FindTenantBySlug(ctx, slug)
				return err
			})
			if atrium.ErrorCode(err) == atrium.ENOTFOUND {
				return notFound()
			}
			if err != nil {
				return err
			}
			ctx = atrium.WithTenant(ctx, &atrium.Tenant{ID: t.ID, Slug: t.Slug, Name: t.Name})
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

// TenantCookiePath scopes a tenant's session cookie to its own URL space.
func TenantCookiePath(c echo.Context) string {
	if t := atrium.TenantFromContext(c.Request().Context()); t != nil {
		return "/o/" + t.Slug + "/"
	}
	return "/o/" + c.Param("org") + "/"
}
