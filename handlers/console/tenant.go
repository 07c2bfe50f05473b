package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	consoleviews "github.com/atrium-dev/atrium/views/console"
)

// ShowTenant handles "GET /console/tenants/:slug": one organization and its
// recent audit log. Reading a tenant's rows means entering its context
// explicitly, and that entry is itself recorded in the tenant's audit log,
// so an organization can see when operators looked.
func (h *Handler) ShowTenant(c echo.Context) error {
	ctx := c.Request().Context()
	var t *store.Tenant
	err := h.db.ReadSystem(ctx, func(tx *store.SysTx) error {
		var err error
		t, err = tx.FindTenantBySlug(ctx, c.Param("slug"))
		return err
	})
	if err != nil {
		return err
	}
	tctx := atrium.WithTenant(ctx, &atrium.Tenant{ID: t.ID, Slug: t.Slug, Name: t.Name})
	if err := h.db.InTenant(tctx, func(tx *store.Tx) error {
		return tx.RecordAudit(tctx, "operator.viewed_audit", "organization", t.ID.String(), t.Name, nil)
	}); err != nil {
		return err
	}
	var events []store.AuditEvent
	if err := h.db.ReadTenant(tctx, func(b *store.Batch) {
		b.FindAuditEvents(store.AuditFilter{Limit: 100}, &events)
	}); err != nil {
		return err
	}
	if len(events) > 100 {
		events = events[:100]
	}
	return web.Render(c, http.StatusOK, consoleviews.Tenant(web.NewPage(c, t.Name), *t, events))
}
