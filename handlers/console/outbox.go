package console

import (
	"fmt"
	"net/http"
	"strconv"

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
	page, _ := strconv.Atoi(c.QueryParam("page"))
	if page < 1 {
		page = 1
	}
	var l consoleviews.OutboxList
	err := h.db.ReadSystem(ctx, func(tx *store.SysTx) error {
		var err error
		if l.Total, err = tx.CountOutboxMessages(ctx); err != nil {
			return err
		}
		l.Messages, err = tx.FindOutboxMessages(ctx, outboxPageSize, (page-1)*outboxPageSize)
		return err
	})
	if err != nil {
		return err
	}
	link := func(p int) string { return "/console/outbox?page=" + strconv.Itoa(p) }
	if page > 1 {
		l.PrevURL = link(page - 1)
	}
	if page*outboxPageSize < l.Total {
		l.NextURL = link(page + 1)
	}
	if len(l.Messages) > 0 {
		first := (page-1)*outboxPageSize + 1
		l.Summary = fmt.Sprintf("%d–%d of %d", first, first+len(l.Messages)-1, l.Total)
	}
	p := web.NewPage(c, "Outbox")
	p.Nav = "outbox"
	return web.Render(c, http.StatusOK, consoleviews.Outbox(p, l))
}
