package mw

import (
	"bytes"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
)

// touchInterval is how stale a session may get before an otherwise
// unmodified request rewrites it to push back its idle timeout. Rewriting
// on every request would add a write to every page view; once a minute
// keeps idle timeouts accurate to a minute.
const touchInterval = time.Minute

// Sessions loads the session of one namespace (the console, the login
// chooser) for the request and saves it afterwards, with its cookie on path.
func Sessions(sm *scs.SessionManager, path string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			var meta store.SessionMeta
			c.SetRequest(c.Request().WithContext(store.WithSessionMeta(c.Request().Context(), &meta)))
			touch := func() bool { return meta.Found && time.Since(meta.UpdatedAt) > touchInterval }
			return serveSession(c, sm, path, touch, next)
		}
	}
}

// sessionToken returns the token of sm's cookie on the request, or "".
func sessionToken(c echo.Context, sm *scs.SessionManager) string {
	if ck, err := c.Cookie(sm.Cookie.Name); err == nil {
		return ck.Value
	}
	return ""
}

// serveSession loads the request's session from its cookie, runs next, and
// saves the session: when modified, or, if touch says the stored row is
// stale, to refresh its idle timeout (the stores apply the timeout on every
// save). The response is buffered until the session is saved, so a failed
// save becomes an error page rather than a lost login.
func serveSession(c echo.Context, sm *scs.SessionManager, path string, touch func() bool, next echo.HandlerFunc) error {
	token := sessionToken(c, sm)
	ctx, err := sm.Load(c.Request().Context(), token)
	if err != nil {
		// A session that cannot be read (an older format, a damaged row)
		// signs nobody in; it is not worth an error page.
		if ctx, err = sm.Load(c.Request().Context(), ""); err != nil {
			return err
		}
	}
	c.SetRequest(c.Request().WithContext(web.WithSession(ctx, sm)))

	res := c.Response()
	orig := res.Writer
	buf := &bufferedWriter{ResponseWriter: orig, body: web.Buffers.Get().(*bytes.Buffer)}
	defer web.PutBuffer(buf.body)
	res.Writer = buf
	if err := next(c); err != nil {
		c.Error(err)
	}
	res.Writer = orig

	if err := saveSession(c, sm, path, touch); err != nil {
		// Nothing has reached the client yet: answer with the error page
		// instead of a response whose session was lost.
		buf.reset()
		res.Committed, res.Status, res.Size = false, http.StatusOK, 0
		res.Writer = buf
		c.Error(err)
		res.Writer = orig
	}
	if buf.status == 0 {
		buf.status = http.StatusOK
	}
	orig.WriteHeader(buf.status)
	_, err = orig.Write(buf.body.Bytes())
	return err
}

// saveSession commits a modified (or due) session and writes or clears its
// cookie.
func saveSession(c echo.Context, sm *scs.SessionManager, path string, touch func() bool) error {
	ctx := c.Request().Context()
	switch sm.Status(ctx) {
	case scs.Unmodified:
		if !touch() {
			return nil
		}
		fallthrough
	case scs.Modified:
		token, expiry, err := sm.Commit(ctx)
		if err != nil {
			return err
		}
		web.SetSessionCookie(c, sm, path, token, expiry)
	case scs.Destroyed:
		web.SetSessionCookie(c, sm, path, "", time.Time{})
	}
	return nil
}

// bufferedWriter holds the status and body until the session is saved; the
// header map is the real one, so cookies set afterwards still go out.
type bufferedWriter struct {
	http.ResponseWriter
	status int
	body   *bytes.Buffer
}

func (b *bufferedWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }

func (b *bufferedWriter) reset() { b.status = 0; b.body.Reset() }
