package mw

import (
	"context"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
)

// ContextHandler is a slog.Handler that adds the request id, tenant, user and
// operator from the context to every record, so each line a request logs can
// be traced to it without passing loggers around.
type ContextHandler struct {
	slog.Handler
}

// Handle adds the request's identity to r and passes it on.
func (h ContextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := atrium.RequestIDFromContext(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if t := atrium.TenantFromContext(ctx); t != nil {
		r.AddAttrs(slog.String("tenant_id", t.ID.String()))
	}
	if u := atrium.UserFromContext(ctx); u != nil {
		r.AddAttrs(slog.String("user_id", u.ID.String()))
	}
	if o := atrium.OperatorFromContext(ctx); o != nil {
		r.AddAttrs(slog.String("operator_id", o.ID.String()))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps the wrapper around derived handlers.
func (h ContextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return ContextHandler{h.Handler.WithAttrs(attrs)}
}

// WithGroup keeps the wrapper around derived handlers.
func (h ContextHandler) WithGroup(name string) slog.Handler {
	return ContextHandler{h.Handler.WithGroup(name)}
}

// AccessLog logs one line per request after it is served, with the route
// template rather than the raw path so that lines group by page.
func AccessLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err) // render now so the status below is the one sent
			}
			req := c.Request()
			status := c.Response().Status
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			log.LogAttrs(req.Context(), level, "request",
				slog.String("method", req.Method),
				slog.String("path", req.URL.Path),
				slog.String("route", c.Path()),
				slog.Int("status", status),
				slog.Int64("bytes", c.Response().Size),
				slog.Duration("duration", time.Since(start)),
				slog.String("ip", c.RealIP()),
			)
			return nil
		}
	}
}
