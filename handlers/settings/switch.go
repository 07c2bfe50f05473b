package settings

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/web"
	settingsviews "github.com/atrium-dev/atrium/views/settings"
)

// Switch handles "GET /o/:org/switch": the signed-in person's organizations,
// each a link to its own pages. Every organization keeps its own session,
// so one where the person is not signed in yet shows its login page, as
// Slack workspaces do.
func (h *Handler) Switch(c echo.Context) error {
	ctx := c.Request().Context()
	u := atrium.UserFromContext(ctx)
	orgs, err := h.db.UserOrganizations(ctx, u.ID)
	if err != nil {
		return err
	}
	p := web.NewPage(c, "Switch organization")
	p.Nav = "switch"
	return web.Render(c, http.StatusOK, settingsviews.Switcher(p, orgs))
}
