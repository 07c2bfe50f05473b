package mw

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
)

// redirectRenamed answers a request for an organization URL that no live
// organization has. When an organization gave that slug up within the
// redirect period (90 days), the request is sent on, permanently, to the
// same path and query under its new slug, so bookmarks and links in old
// emails keep working; otherwise it is the usual 404. The extra lookup only
// happens for unknown slugs.
func redirectRenamed(c echo.Context, db *store.DB, slug string) error {
	ctx := c.Request().Context()
	var t *store.Tenant
	err := db.ReadSystem(ctx, func(tx *store.SysTx) error {
		var err error
		t, err = tx.FindTenantByFormerSlug(ctx, slug)
		return err
	})
	if atrium.ErrorCode(err) == atrium.ENOTFOUND {
		return notFound()
	}
	if err != nil {
		return err
	}
	u := c.Request().URL
	target := "/o/" + t.Slug + strings.TrimPrefix(u.EscapedPath(), "/o/"+slug)
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	return c.Redirect(http.StatusMovedPermanently, target)
}
