// Package dashboard serves an organization's home page.
package dashboard

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	dashviews "github.com/atrium-dev/atrium/views/dashboard"
)

// Handler serves the dashboard.
type Handler struct {
	db *store.DB
}

// New returns the dashboard handlers.
func New(db *store.DB) *Handler { return &Handler{db: db} }

// Show handles "GET /o/:org/".
func (h *Handler) Show(c echo.Context) error {
	ctx := c.Request().Context()
	var s dashviews.Stats
	err := h.db.ReadTenant(ctx, func(b *store.Batch) {
		b.CountMembers(&s.Members)
	})
	if err != nil {
		return err
	}
	p := web.NewPage(c, "Dashboard")
	p.Nav = "dashboard"
	return web.Render(c, http.StatusOK, dashviews.Dashboard(p, s))
}
