package handlers

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/views/pages"
)

// statusOf maps application error codes to HTTP statuses.
var statusOf = map[string]int{
	atrium.ECONFLICT:     http.StatusConflict,
	atrium.EINTERNAL:     http.StatusInternalServerError,
	atrium.EINVALID:      http.StatusUnprocessableEntity,
	atrium.ENOTFOUND:     http.StatusNotFound,
	atrium.EFORBIDDEN:    http.StatusForbidden,
	atrium.EUNAUTHORIZED: http.StatusUnauthorized,
	atrium.ERATELIMIT:    http.StatusTooManyRequests,
	atrium.EUNAVAILABLE:  http.StatusServiceUnavailable,
	atrium.EGONE:         http.StatusGone,
}

// handleError is the one place an error becomes a response: it maps the
// error to a status, logs only internal errors (with the request's ids),
// counts it, and renders a friendly page that never shows internal detail.
func (a *App) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, code, heading, message := a.describe(err)
	ctx := c.Request().Context()
	if code == atrium.EINTERNAL {
		a.log.ErrorContext(ctx, "internal error", slog.String("err", err.Error()),
			slog.String("method", c.Request().Method), slog.String("path", c.Request().URL.Path))
	}
	a.metrics.CountError(code)
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	p := web.NewPage(c, heading)
	if rerr := web.Render(c, status, pages.Error(p, status, heading, message)); rerr != nil {
		a.log.ErrorContext(ctx, "render error page", slog.String("err", rerr.Error()))
		_ = c.String(status, message)
	}
}

// describe turns any error into a status, a code, a heading and a message
// that is safe to show.
func (a *App) describe(err error) (int, string, string, string) {
	// An application error says what it means, even when it wraps an echo
	// error (the CSRF middleware's); only a bare echo error is mapped here.
	var ae *atrium.Error
	var he *echo.HTTPError
	if !errors.As(err, &ae) && errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			err = atrium.Errorf(atrium.ENOTFOUND, "We couldn't find that page.")
		case http.StatusMethodNotAllowed:
			return he.Code, atrium.EINVALID, "Not allowed", "That page can't be used this way."
		case http.StatusRequestEntityTooLarge:
			return he.Code, atrium.EINVALID, "Too large", "What you sent is larger than we accept. Please send less and try again."
		case http.StatusForbidden:
			err = atrium.Errorf(atrium.EFORBIDDEN, "You don't have access to this page.")
		case http.StatusBadRequest:
			return he.Code, atrium.EINVALID, "Bad request", "We couldn't understand that request."
		case http.StatusTooManyRequests:
			err = atrium.Errorf(atrium.ERATELIMIT, "Too many requests. Please slow down and try again shortly.")
		default:
			if he.Code < 500 {
				return he.Code, atrium.EINVALID, http.StatusText(he.Code), "That request can't be answered."
			}
			err = &atrium.Error{Code: atrium.EINTERNAL, Err: err}
		}
	}
	code := atrium.ErrorCode(err)
	status := statusOf[code]
	headings := map[string]string{
		atrium.ENOTFOUND:     "Page not found",
		atrium.EFORBIDDEN:    "Access denied",
		atrium.EUNAUTHORIZED: "Please log in",
		atrium.ERATELIMIT:    "Slow down",
		atrium.EUNAVAILABLE:  "Busy",
		atrium.EGONE:         "No longer available",
		atrium.ECONFLICT:     "Conflict",
		atrium.EINVALID:      "Invalid request",
		atrium.EINTERNAL:     "Something went wrong",
	}
	return status, code, headings[code], atrium.ErrorMessage(err)
}
