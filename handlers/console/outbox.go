package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	consoleviews "github.com/atrium-dev/atrium/views/console"
)

const outboxPageSize = 20

// LoadOutbox queues the outbox page's reads into the operator check's
// round trip (the route's mw.Loader).
func (h *Handler) LoadOutbox(c echo.Context, b *store.Batch) {
	l := &consoleviews.OutboxList{}
	queueOutbox(c, b, l)
	web.Preload(c, l)
}

func queueOutbox(c echo.Context, b *store.Batch, l *consoleviews.OutboxList) {
	page := web.PagingOf(c, outboxPageSize)
	b.FindOutboxMessages(page.Size, page.Offset(), &l.Messages, &l.Total)
}

// ShowOutbox handles "GET /console/outbox": the emails kept instead of sent
// because SMTP_URL is not set, newest first, 20 to a page.
func (h *Handler) ShowOutbox(c echo.Context) error {
	l, ok := web.Preloaded[*consoleviews.OutboxList](c)
	if !ok {
		l = &consoleviews.OutboxList{}
		if err := h.db.ReadSystemBatch(c.Request().Context(), func(b *store.Batch) { queueOutbox(c, b, l) }); err != nil {
			return err
		}
	}
	page := web.PagingOf(c, outboxPageSize)
	l.PrevURL, l.NextURL, l.Summary = page.Links("/console/outbox", nil, l.Total, len(l.Messages), false)
	p := web.NewPage(c, "Outbox")
	p.Nav = "outbox"
	return web.Render(c, http.StatusOK, consoleviews.Outbox(p, *l))
}
