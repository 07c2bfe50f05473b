package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	consoleviews "github.com/atrium-dev/atrium/views/console"
)

const outboxPageSize = 20

// ShowOutbox handles "GET /console/outbox": the emails kept instead of sent
// because SMTP_URL is not set, newest first, 20 to a page.
func (h *Handler) ShowOutbox(c echo.Context) error {
	ctx := c.Request().Context()
	page := web.PagingOf(c, outboxPageSize)
	var l consoleviews.OutboxList
	err := h.db.ReadSystem(ctx, func(tx *store.SysTx) error {
		var err error
		if l.Total, err = tx.CountOutboxMessages(ctx); err != nil {
			return err
		}
		l.Messages, err = tx.FindOutboxMessages(ctx, page.Size, page.Offset())
		return err
	})
	if err != nil {
		return err
	}
	l.PrevURL, l.NextURL, l.Summary = page.Links("/console/outbox", nil, l.Total, len(l.Messages), false)
	p := web.NewPage(c, "Outbox")
	p.Nav = "outbox"
	return web.Render(c, http.StatusOK, consoleviews.Outbox(p, l))
}
