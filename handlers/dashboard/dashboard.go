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

// Load queues the dashboard's reads into the request's first round trip
// (the route's mw.Loader).
func (h *Handler) Load(c echo.Context, b *store.Batch) {
	s := &dashviews.Stats{}
	b.CountMembers(&s.Members)
	web.Preload(c, s)
}

// Show handles "GET /o/:org/".
func (h *Handler) Show(c echo.Context) error {
	s, ok := web.Preloaded[*dashviews.Stats](c)
	if !ok {
		s = &dashviews.Stats{}
		if err := h.db.ReadTenant(c.Request().Context(), func(b *store.Batch) { b.CountMembers(&s.Members) }); err != nil {
			return err
		}
	}
	p := web.NewPage(c, "Dashboard")
	p.Nav = "dashboard"
	return web.Render(c, http.StatusOK, dashviews.Dashboard(p, *s))
}
