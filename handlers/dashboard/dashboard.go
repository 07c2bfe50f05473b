// Package dashboard serves an organization's home page and, until the
// members area lands in full, its read-only member list.
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

// membersPageSize bounds the member list until it gets pagination.
const membersPageSize = 100

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

// ShowMembers handles "GET /o/:org/members".
func (h *Handler) ShowMembers(c echo.Context) error {
	ctx := c.Request().Context()
	var members []store.Member
	var total int
	err := h.db.ReadTenant(ctx, func(b *store.Batch) {
		b.FindMembers(membersPageSize, &members)
		b.CountMembers(&total)
	})
	if err != nil {
		return err
	}
	p := web.NewPage(c, "Members")
	p.Nav = "members"
	return web.Render(c, http.StatusOK, dashviews.Members(p, members, total))
}
