// Package web holds the small helpers every feature package shares: building
// a views.Page for a request, rendering a templ component safely, flash
// messages, form values, and the session of the current request.
package web

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/authz"
	"github.com/atrium-dev/atrium/static"
	"github.com/atrium-dev/atrium/views"
)

type ctxKey int

const (
	sessionKey ctxKey = iota
	assetsKey
)

// WithSession records which session manager serves this request (tenant,
// console or login), so helpers such as Flash reach the right one.
func WithSession(ctx context.Context, sm *scs.SessionManager) context.Context {
	return context.WithValue(ctx, sessionKey, sm)
}

// Session returns the request's session manager, or nil on pages without one.
func Session(ctx context.Context) *scs.SessionManager {
	sm, _ := ctx.Value(sessionKey).(*scs.SessionManager)
	return sm
}

// WithAssets makes the static assets reachable when building pages.
func WithAssets(ctx context.Context, a *static.Assets) context.Context {
	return context.WithValue(ctx, assetsKey, a)
}

// CSRFContextKey is where the CSRF middleware leaves the request's token.
const CSRFContextKey = "csrf"

// NewPage builds the Page for this request: CSRF token, pending flash
// messages, and the tenant, user and operator the middleware resolved.
func NewPage(c echo.Context, title string) views.Page {
	ctx := c.Request().Context()
	token, _ := c.Get(CSRFContextKey).(string)
	a, _ := ctx.Value(assetsKey).(*static.Assets)
	u := atrium.UserFromContext(ctx)
	return views.Page{
		Title:     title,
		Perms:     authz.PermissionSet(u),
		CSRF:      token,
		Flashes:   popFlashes(ctx),
		Tenant:    atrium.TenantFromContext(ctx),
		User:      u,
		Operator:  atrium.OperatorFromContext(ctx),
		RequestID: atrium.RequestIDFromContext(ctx),
		Assets:    a,
	}
}

// Buffers recycles the buffers pages are rendered into: a page is tens of
// kilobytes, and growing a fresh buffer for each one showed up as a tenth of
// the members page's CPU.
var Buffers = sync.Pool{New: func() any {
	b := new(bytes.Buffer)
	b.Grow(64 << 10)
	return b
}}

// PutBuffer returns b to Buffers unless it grew unusually large.
func PutBuffer(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 {
		b.Reset()
		Buffers.Put(b)
	}
}

// Render renders a component into a buffer first, so that a template error
// becomes a clean error page instead of half a page.
func Render(c echo.Context, status int, comp templ.Component) error {
	buf := Buffers.Get().(*bytes.Buffer)
	defer PutBuffer(buf)
	if err := comp.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	// Canonical keys assigned directly, the constant values shared: a page
	// costs no header allocations but its length.
	h := c.Response().Header()
	h["Cache-Control"] = noStore
	h["Content-Type"] = htmlType
	// The length is known: one write, no chunked encoding.
	h["Content-Length"] = []string{strconv.Itoa(buf.Len())}
	return c.HTMLBlob(status, buf.Bytes())
}

var (
	noStore  = []string{"no-store"}
	htmlType = []string{echo.MIMETextHTMLCharsetUTF8}
)

// Redirect answers a form post with 303 See Other, so the browser follows
// with a GET (POST/redirect/GET).
func Redirect(c echo.Context, url string) error {
	return c.Redirect(http.StatusSeeOther, url)
}

const flashKey = "flash"

// Flash queues a message for the next page of this session. Pages without a
// session (the public signup form) cannot carry one; there it is dropped.
func Flash(c echo.Context, kind, message string) {
	ctx := c.Request().Context()
	if sm := Session(ctx); sm != nil {
		FlashIn(ctx, sm, kind, message)
	}
}

// FlashIn queues a message in the session of sm loaded in ctx, which may be
// another than the request's own (see StartSession).
func FlashIn(ctx context.Context, sm *scs.SessionManager, kind, message string) {
	list, _ := sm.Get(ctx, flashKey).([]string)
	sm.Put(ctx, flashKey, append(list, kind+"\x00"+message))
}

// StartSession writes a new session of sm in tenant t from any page (signup,
// the global login, a changed organization URL): fill puts its values, and
// the cookie goes out under the tenant's own path. The session is built in a
// context of its own, carrying the request's identity but not a session the
// request may already hold (scs keeps one per context).
func StartSession(c echo.Context, sm *scs.SessionManager, t *atrium.Tenant, fill func(ctx context.Context)) error {
	rctx := c.Request().Context()
	ctx := atrium.WithRequestID(context.Background(), atrium.RequestIDFromContext(rctx))
	ctx = atrium.WithClient(ctx, atrium.ClientFromContext(rctx))
	ctx, err := sm.Load(atrium.WithTenant(ctx, t), "")
	if err != nil {
		return err
	}
	fill(ctx)
	token, expiry, err := sm.Commit(ctx)
	if err != nil {
		return err
	}
	SetSessionCookie(c, sm, "/o/"+t.Slug+"/", token, expiry)
	return nil
}

func popFlashes(ctx context.Context) []views.Flash {
	sm := Session(ctx)
	if sm == nil || !sm.Exists(ctx, flashKey) {
		return nil
	}
	list, _ := sm.Pop(ctx, flashKey).([]string)
	out := make([]views.Flash, 0, len(list))
	for _, s := range list {
		kind, msg, _ := strings.Cut(s, "\x00")
		out = append(out, views.Flash{Kind: kind, Message: msg})
	}
	return out
}

// FormValues reads the named fields, trimmed of surrounding space, so an
// invalid form can be shown again with what the user typed.
func FormValues(c echo.Context, names ...string) map[string]string {
	v := make(map[string]string, len(names))
	for _, n := range names {
		v[n] = strings.TrimSpace(c.FormValue(n))
	}
	return v
}

// SetSessionCookie writes a session cookie scoped to path, with the
// manager's name and flags. Tenant sessions use /o/{slug}/ as their path,
// which scs cannot express, so Atrium writes its cookies itself. An empty
// token deletes the cookie.
func SetSessionCookie(c echo.Context, sm *scs.SessionManager, path, token string, expiry time.Time) {
	ck := &http.Cookie{
		Name:     sm.Cookie.Name,
		Value:    token,
		Path:     path,
		HttpOnly: sm.Cookie.HttpOnly,
		Secure:   sm.Cookie.Secure,
		SameSite: sm.Cookie.SameSite,
	}
	switch {
	case token == "":
		ck.Expires = time.Unix(1, 0)
		ck.MaxAge = -1
	case sm.Cookie.Persist:
		ck.Expires = time.Unix(expiry.Unix()+1, 0) // round up to the second
		ck.MaxAge = int(time.Until(expiry).Seconds() + 1)
	}
	c.SetCookie(ck)
}

type preloadKey struct{}

// Preload records where a page's reads, queued into the request's first
// round trip by a loader (see mw.Tenant), will land; the handler takes it
// back with Preloaded.
func Preload(c echo.Context, dst any) {
	c.SetRequest(c.Request().WithContext(context.WithValue(c.Request().Context(), preloadKey{}, dst)))
}

// Preloaded returns what the route's loader filled, if it ran.
func Preloaded[T any](c echo.Context) (T, bool) {
	v, ok := c.Request().Context().Value(preloadKey{}).(T)
	return v, ok
}
