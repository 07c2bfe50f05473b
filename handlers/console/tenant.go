package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium/handlers/web"
	consoleviews "github.com/atrium-dev/atrium/views/console"
)

// ShowTenant handles "GET /console/tenants/:slug": one organization and the
// latest page of its audit log (as many events as a page of the
// organization's own log). Looking into a tenant is itself recorded in the
// tenant's audit log, in the same round trip as the reads, so an
// organization can see when operators looked.
func (h *Handler) ShowTenant(c echo.Context) error {
	const limit = 50
	t, events, err := h.db.OperatorLook(c.Request().Context(), c.Param("slug"), limit)
	if err != nil {
		return err
	}
	if len(events) > limit {
		events = events[:limit]
	}
	return web.Render(c, http.StatusOK, consoleviews.Tenant(web.NewPage(c, t.Name), *t, events))
}
