package mfa

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/mw"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/views"
	mfaviews "github.com/atrium-dev/atrium/views/mfa"
)

// securityReads are the security settings page's.
var securityReads = mw.Reads[store.SecuritySettings](func(_ echo.Context, b *store.Batch, dst *store.SecuritySettings) {
	b.FindSecuritySettings(dst)
})

// LoadSecurity queues the security settings page's reads into the request's
// first round trip (the route's mw.Loader).
func (h *Handler) LoadSecurity(c echo.Context, b *store.Batch) { securityReads.Load(c, b) }

// ShowSecurity handles "GET /o/:org/settings/security": whether members
// must use two-factor authentication, and how many have not set it up.
func (h *Handler) ShowSecurity(c echo.Context) error {
	return h.renderSecurity(c, http.StatusOK, views.Form{Errors: map[string]string{}})
}

func (h *Handler) renderSecurity(c echo.Context, status int, f views.Form) error {
	ctx := c.Request().Context()
	u := atrium.UserFromContext(ctx)
	settings, err := securityReads.Read(c, h.db.ReadTenant)
	if err != nil {
		return err
	}
	s := mfaviews.Security{Settings: *settings, OwnMFA: u.MFAEnabled}
	if f.Values == nil {
		f.Values = map[string]string{"require_mfa": strconv.FormatBool(s.Settings.RequireMFA)}
	}
	p := web.NewPage(c, "Security settings")
	p.Nav = "settings"
	return web.Render(c, status, mfaviews.SecurityPage(p, s, f))
}

// UpdateSecurity handles "POST /o/:org/settings/security". Requiring MFA
// takes effect on every member's next request. An admin must have MFA on
// themselves first, or the setting would send them straight to enrollment.
func (h *Handler) UpdateSecurity(c echo.Context) error {
	ctx := c.Request().Context()
	u := atrium.UserFromContext(ctx)
	t := atrium.TenantFromContext(ctx)
	f := views.Form{Values: web.FormValues(c, "require_mfa"), Errors: map[string]string{}}
	var on bool
	switch f.Values["require_mfa"] {
	case "true", "on":
		on = true
	case "", "false":
	default:
		f.Errors["require_mfa"] = "Choose whether to require two-factor authentication: tick the box or leave it empty."
		return h.renderSecurity(c, http.StatusUnprocessableEntity, f)
	}
	f.Values["require_mfa"] = strconv.FormatBool(on)

	var changed bool
	err := h.db.InTenant(ctx, func(tx *store.Tx) error {
		if on {
			own, err := tx.MemberMFAEnabled(ctx, u.ID)
			if err != nil {
				return err
			}
			if !own {
				return atrium.Errorf(atrium.EINVALID, "Turn on two-factor authentication for your own account first, so that requiring it cannot lock you out.")
			}
		}
		var err error
		if changed, err = tx.UpdateRequireMFA(ctx, on); err != nil || !changed {
			return err
		}
		return tx.RecordAudit(ctx, "settings.require_mfa_changed", "organization", t.ID.String(), t.Name,
			map[string]string{"require_mfa": strconv.FormatBool(on)})
	})
	if atrium.ErrorCode(err) == atrium.EINVALID {
		f.Errors["require_mfa"] = atrium.ErrorMessage(err)
		return h.renderSecurity(c, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	switch {
	case !changed:
		web.Flash(c, views.FlashInfo, "Nothing changed.")
	case on:
		web.Flash(c, views.FlashSuccess, "Members must now use two-factor authentication. Those without it will be asked to set it up on their next visit.")
	default:
		web.Flash(c, views.FlashSuccess, "Two-factor authentication is now optional for members.")
	}
	return web.Redirect(c, "/o/"+t.Slug+"/settings/security")
}
