package mw

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium/store"
)

// mustEnrollMFA reports whether a member must be sent to set up two-factor
// authentication before this request: their organization requires it, they
// have not turned it on, and the route is not one they need on the way
// (the enrollment page and its forms, logging out). Routes are matched by
// their registered pattern, so no spelling of the URL slips past.
func mustEnrollMFA(c echo.Context, e *store.Entry) bool {
	if !e.Tenant.RequireMFA || e.MFAEnabled {
		return false
	}
	const enroll = "/o/:org/account/mfa"
	route := c.Path()
	return route != enroll && !strings.HasPrefix(route, enroll+"/") && route != "/o/:org/logout"
}

// enrollMFA sends the member to the enrollment page.
func enrollMFA(c echo.Context, e *store.Entry) error {
	return c.Redirect(http.StatusSeeOther, "/o/"+e.Tenant.Slug+"/account/mfa")
}
