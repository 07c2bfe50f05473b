package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium/handlers/mw"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	consoleviews "github.com/atrium-dev/atrium/views/console"
)

const outboxPageSize = 20

// outboxReads are the outbox page's: the page of messages asked for.
var outboxReads = mw.Reads[consoleviews.OutboxList](func(c echo.Context, b *store.Batch, l *consoleviews.OutboxList) {
	page := web.PagingOf(c, outboxPageSize)
	b.FindOutboxMessages(page.Size, page.Offset(), &l.Messages, &l.Total)
})

// LoadOutbox queues the outbox page's reads into the operator check's
// round trip (the route's mw.Loader).
func (h *Handler) LoadOutbox(c echo.Context, b *store.Batch) { outboxReads.Load(c, b) }

// ShowOutbox handles "GET /console/outbox": the emails kept instead of sent
// because SMTP_URL is not set, newest first, 20 to a page.
func (h *Handler) ShowOutbox(c echo.Context) error {
	l, err := outboxReads.Read(c, h.db.ReadSystemBatch)
	if err != nil {
		return err
	}
	page := web.PagingOf(c, outboxPageSize)
	l.PrevURL, l.NextURL, l.Summary = page.Links("/console/outbox", nil, l.Total, len(l.Messages), false)
	p := web.NewPage(c, "Outbox")
	p.Nav = "outbox"
	return web.Render(c, http.StatusOK, consoleviews.Outbox(p, *l))
}
