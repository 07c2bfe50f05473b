package settings

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/views"
	settingsviews "github.com/atrium-dev/atrium/views/settings"
)

// Delete handles "POST /o/:org/settings/delete". The owner confirms by
// typing the organization's URL name. The organization is marked deleted
// (it answers 404 from this moment), everyone is signed out, and the event
// is written to its audit log first, in the same transaction. Its data is
// erased for good later by the purge job (ORG_RETENTION).
func (h *Handler) Delete(c echo.Context) error {
	ctx := c.Request().Context()
	t := atrium.TenantFromContext(ctx)
	confirm := strings.TrimSpace(c.FormValue("confirm"))
	if confirm != t.Slug {
		f := views.Form{Values: map[string]string{"confirm": confirm}, Errors: map[string]string{
			"confirm": "Type " + t.Slug + " exactly to confirm.",
		}, Message: "Nothing was deleted: the confirmation did not match the organization's URL name."}
		if confirm == "" {
			f.Errors["confirm"] = "Type " + t.Slug + " to confirm."
		}
		return h.render(c, http.StatusUnprocessableEntity, settingsviews.Settings{
			General: views.Form{Values: map[string]string{"name": t.Name, "slug": t.Slug}},
			Delete:  f,
		})
	}
	var tenant *store.Tenant
	err := h.db.InTenant(ctx, func(tx *store.Tx) error {
		var err error
		if tenant, err = tx.LockTenant(ctx); err != nil {
			return err
		}
		if err := tx.RecordAudit(ctx, "organization.deleted", "organization", tenant.ID.String(), tenant.Name,
			map[string]string{"slug": tenant.Slug}); err != nil {
			return err
		}
		if _, err := tx.DeleteTenantSessions(ctx); err != nil {
			return err
		}
		return tx.DeleteTenant(ctx)
	})
	if err != nil {
		return err
	}
	// The session's row is gone already; this clears the cookie too.
	if err := h.tenantSM.Destroy(ctx); err != nil {
		return err
	}
	h.log.InfoContext(ctx, "organization deleted", "tenant_id", tenant.ID, "slug", tenant.Slug,
		"user_id", atrium.UserFromContext(ctx).ID)
	return web.Render(c, http.StatusOK, settingsviews.Deleted(web.NewPage(c, "Organization deleted"), tenant.Name))
}
