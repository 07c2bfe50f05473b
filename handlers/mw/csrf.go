package mw

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/atrium-dev/atrium"
)

// CSRF protects every state-changing request. Browsers that send
// Sec-Fetch-Site are checked by it (same-origin passes, cross-site is
// refused); others must echo the token of the _csrf cookie in the form field
// "_csrf". A missing or wrong token is a 403, never a 400, so the user sees
// one clear page either way.
func CSRF(secure bool) echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "form:_csrf,header:X-CSRF-Token",
		ContextKey:     "csrf",
		CookieName:     "atrium_csrf",
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   secure,
		CookieSameSite: http.SameSiteLaxMode,
		CookieMaxAge:   12 * 3600,
		ErrorHandler: func(err error, c echo.Context) error {
			return &atrium.Error{Code: atrium.EFORBIDDEN,
				Message: "This form has expired or did not come from this site. Go back, reload the page and try again.",
				Err:     err}
		},
	})
}
