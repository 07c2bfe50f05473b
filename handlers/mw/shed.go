package mw

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
)

// Shed bounds the requests in progress at once. A request that finds all
// max slots taken waits up to wait for one, then is answered 503 with
// Retry-After, so that under overload the server answers quickly and keeps
// its memory and latency bounded instead of queueing without limit.
// Health probes and metrics are never shed.
func Shed(max int, wait time.Duration) echo.MiddlewareFunc {
	slots := make(chan struct{}, max)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := c.Request().URL.Path
			if p == "/healthz" || p == "/readyz" || p == "/metrics" || strings.HasPrefix(p, "/static/") {
				return next(c)
			}
			select {
			case slots <- struct{}{}:
			default:
				t := time.NewTimer(wait)
				select {
				case slots <- struct{}{}:
					t.Stop()
				case <-t.C:
					c.Response().Header().Set("Retry-After", "1")
					return &atrium.Error{Code: atrium.EUNAVAILABLE, Message: "We're busy right now. Please try again in a moment."}
				case <-c.Request().Context().Done():
					t.Stop()
					return c.NoContent(http.StatusServiceUnavailable)
				}
			}
			defer func() { <-slots }()
			return next(c)
		}
	}
}
