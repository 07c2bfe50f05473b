// Package handlers assembles Atrium's web application: it builds the session
// managers and feature handlers from their dependencies and mounts every
// route, with its guards, in routes.go.
package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/atrium-dev/atrium/handlers/account"
	"github.com/atrium-dev/atrium/handlers/audit"
	"github.com/atrium-dev/atrium/handlers/auth"
	"github.com/atrium-dev/atrium/handlers/auth/password"
	"github.com/atrium-dev/atrium/handlers/authz"
	"github.com/atrium-dev/atrium/handlers/console"
	"github.com/atrium-dev/atrium/handlers/dashboard"
	"github.com/atrium-dev/atrium/handlers/email"
	"github.com/atrium-dev/atrium/handlers/members"
	"github.com/atrium-dev/atrium/handlers/mfa"
	"github.com/atrium-dev/atrium/handlers/mw"
	"github.com/atrium-dev/atrium/handlers/settings"
	"github.com/atrium-dev/atrium/static"
	"github.com/atrium-dev/atrium/store"
)

// Config is the web application's part of the configuration.
type Config struct {
	// Dev relaxes what only makes sense behind HTTPS (Secure cookies, HSTS).
	Dev bool
	// SessionIdleTimeout ends a session after this long without a request.
	SessionIdleTimeout time.Duration
	// SessionLifetime ends a session this long after login, however active.
	SessionLifetime time.Duration
	// BodyLimit caps request bodies, e.g. "1M".
	BodyLimit string
	// TrustedProxies are the networks whose X-Forwarded-For is believed
	// when finding the client's address (for throttling and logs).
	TrustedProxies []*net.IPNet
	// ServeMetrics mounts /metrics on the main listener (dev); production
	// serves it on a separate address instead.
	ServeMetrics bool
	// BaseURL is this installation's absolute URL, for links in emails.
	BaseURL string
	// MaxInFlight bounds the requests served at once; beyond it requests
	// wait briefly, then get 503 (see mw.Shed).
	MaxInFlight int
}

// Deps are what the application is built from.
type Deps struct {
	Config   Config
	DB       *store.DB
	Log      *slog.Logger
	Hasher   *password.Hasher
	Registry *prometheus.Registry
	// Mailer sends invitations and notices.
	Mailer email.Sender
}

// App is the assembled web application.
type App struct {
	cfg      Config
	db       *store.DB
	log      *slog.Logger
	reg      *prometheus.Registry
	metrics  *mw.Metrics
	assets   *static.Assets
	tenantSM *scs.SessionManager
	loginSM  *scs.SessionManager
	opSM     *scs.SessionManager

	// permissions maps "METHOD /o/:org/path" to what the route requires.
	permissions map[string]authz.Permission
	// loaders maps "METHOD /o/:org/path" to the page's reads (see mw.Tenant).
	loaders map[string]mw.Loader

	audit     *audit.Handler
	auth      *auth.Handler
	dashboard *dashboard.Handler
	members   *members.Handler
	account   *account.Handler
	mfa       *mfa.Handler
	settings  *settings.Handler
	console   *console.Handler

	echo *echo.Echo
}

// New builds the application.
func New(d Deps) *App {
	if d.Config.SessionIdleTimeout == 0 {
		d.Config.SessionIdleTimeout = 2 * time.Hour
	}
	if d.Config.SessionLifetime == 0 {
		d.Config.SessionLifetime = 24 * time.Hour
	}
	if d.Config.MaxInFlight == 0 {
		d.Config.MaxInFlight = 128
	}
	if d.Config.BodyLimit == "" {
		d.Config.BodyLimit = "1M"
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	if d.Hasher == nil {
		d.Hasher = password.New(password.Default)
	}
	if d.Config.BaseURL == "" {
		d.Config.BaseURL = "http://localhost:8080"
	}
	if d.Mailer == nil {
		d.Mailer = noMailer{}
	}
	a := &App{
		cfg:     d.Config,
		db:      d.DB,
		log:     d.Log,
		reg:     d.Registry,
		metrics: mw.NewMetrics(d.Registry),
		assets:  static.Load(),
	}
	secure := !d.Config.Dev
	idle := d.Config.SessionIdleTimeout
	a.tenantSM = newSessionManager(d.DB.TenantSessions().WithIdleTimeout(idle), "atrium_session", d.Config.SessionLifetime, secure)
	a.opSM = newSessionManager(d.DB.SystemSessions(store.ConsoleNamespace).WithIdleTimeout(idle), "atrium_console", d.Config.SessionLifetime, secure)
	a.loginSM = newSessionManager(d.DB.SystemSessions("login"), "atrium_login", 10*time.Minute, secure)

	a.permissions = map[string]authz.Permission{}
	a.loaders = map[string]mw.Loader{}
	a.audit = audit.New(d.DB)
	a.auth = auth.New(d.DB, d.Hasher, a.tenantSM, a.loginSM, d.Log)
	a.dashboard = dashboard.New(d.DB)
	a.account = account.New(d.DB, d.Hasher, a.tenantSM, d.Mailer, d.Config.BaseURL, d.Log)
	a.mfa = mfa.New(d.DB, a.tenantSM, d.Hasher, d.Log)
	a.settings = settings.New(d.DB, a.tenantSM, d.Mailer, d.Log, d.Config.BaseURL)
	a.members = members.New(d.DB, a.tenantSM, d.Mailer, d.Hasher, d.Log, d.Config.BaseURL)
	a.console = console.New(d.DB, d.Hasher, a.opSM, d.Log)

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = a.handleError
	e.IPExtractor = echo.ExtractIPDirect()
	if len(d.Config.TrustedProxies) > 0 {
		opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range d.Config.TrustedProxies {
			opts = append(opts, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	}
	a.routes(e)
	a.echo = e
	return a
}

// ServeHTTP serves a request through the router and its middleware.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.echo.ServeHTTP(w, r) }

// noMailer refuses to send, so that a missing mail setup is a visible
// failure ("the email could not be sent") rather than silence.
type noMailer struct{}

func (noMailer) Send(context.Context, email.Message) error {
	return errors.New("no mail sender configured")
}

// newSessionManager configures scs for one session namespace. Cookies are
// HttpOnly and SameSite=Lax always, Secure outside dev; the cookie path is
// set per request by mw.Sessions. The idle timeout is the store's (see
// store.TenantSessions.WithIdleTimeout), not scs's.
func newSessionManager(st scs.CtxStore, name string, lifetime time.Duration, secure bool) *scs.SessionManager {
	sm := scs.New()
	sm.Store = st
	sm.Codec = store.SessionCodec{}
	sm.Lifetime = lifetime
	sm.Cookie.Name = name
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = secure
	sm.Cookie.Persist = true
	return sm
}
