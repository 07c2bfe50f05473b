// Package mw holds Atrium's HTTP middleware: request ids, logging, metrics,
// security headers, CSRF, tenant resolution, sessions and authentication.
package mw

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
)

// RequestID gives every request an id, taken from a well-formed
// X-Request-ID header (set by a load balancer) or made here, echoes it in the
// response and puts it in the request context for logs and error pages,
// along with the client's address and user agent for the audit log.
func RequestID() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id := c.Request().Header.Get(echo.HeaderXRequestID)
			if !validRequestID(id) {
				var b [12]byte
				_, _ = rand.Read(b[:])
				id = hex.EncodeToString(b[:])
			}
			c.Response().Header().Set(echo.HeaderXRequestID, id)
			ctx := atrium.WithRequestID(c.Request().Context(), id)
			ctx = atrium.WithClient(ctx, atrium.Client{IP: c.RealIP(), UserAgent: c.Request().UserAgent()})
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

// validRequestID accepts short ids of safe characters only, so a header
// cannot inject anything into logs.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}
