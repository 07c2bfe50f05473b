// Package dashboard serves an organization's home page.
package dashboard

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium/handlers/mw"
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

// reads are the dashboard's: the member count, which the tenant door's
// opening statement reads anyway.
var reads = mw.Reads[dashviews.Stats](func(_ echo.Context, b *store.Batch, s *dashviews.Stats) {
	b.CountMembers(&s.Members)
})

// Load queues the dashboard's reads into the request's first round trip
// (the route's mw.Loader).
func (h *Handler) Load(c echo.Context, b *store.Batch) { reads.Load(c, b) }

// Show handles "GET /o/:org/".
func (h *Handler) Show(c echo.Context) error {
	s, err := reads.Read(c, h.db.ReadTenant)
	if err != nil {
		return err
	}
	p := web.NewPage(c, "Dashboard")
	p.Nav = "dashboard"
	return web.Render(c, http.StatusOK, dashviews.Dashboard(p, *s))
}
