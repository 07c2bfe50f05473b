package handlers

import (
	"context"
	"maps"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/atrium-dev/atrium/handlers/authz"
	"github.com/atrium-dev/atrium/handlers/mw"
	"github.com/atrium-dev/atrium/handlers/web"
	authviews "github.com/atrium-dev/atrium/views/auth"
)

// routes mounts every URL of the application with its guards. Reading this
// function tells who may call what.
func (a *App) routes(e *echo.Echo) {
	e.Use(
		mw.RequestID(),
		a.withAssets, // before anything that can fail: error pages need them
		mw.SecureHeaders(!a.cfg.Dev),
		mw.AccessLog(a.log),
		a.metrics.Middleware(),
		// A panic becomes an error returned to the two above, which render
		// it, log it and count it like any other.
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			DisableStackAll: true, DisableErrorHandler: true, LogErrorFunc: a.logPanic}),
		mw.Shed(a.cfg.MaxInFlight, 100*time.Millisecond),
		middleware.BodyLimit(a.cfg.BodyLimit),
		mw.CSRF(!a.cfg.Dev),
	)

	// Probes and metrics: no session, no tenant.
	e.GET("/healthz", a.healthz)
	e.GET("/readyz", a.readyz)
	if a.cfg.ServeMetrics {
		e.GET("/metrics", echo.WrapHandler(a.MetricsHandler()))
	}
	e.GET("/static/*", echo.WrapHandler(a.assets))

	// Public pages: anyone.
	e.GET("/", a.landing)
	e.GET("/signup", a.auth.ShowSignup)
	e.POST("/signup", a.auth.Signup)
	login := e.Group("/login", mw.Sessions(a.loginSM, "/login"))
	login.GET("", a.auth.ShowLogin)
	login.POST("", a.auth.Login)
	login.POST("/choose", a.auth.Choose)
	e.GET("/password/forgot", a.account.ShowForgot)
	e.POST("/password/forgot", a.account.Forgot)
	e.GET("/password/reset/:token", a.account.ShowReset)
	e.POST("/password/reset/:token", a.account.Reset)

	// One organization: the tenant comes from the path, the session is the
	// tenant's own. /o/{slug} without the slash redirects, because the
	// session cookie's path is /o/{slug}/.
	e.GET("/o/:org", func(c echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, "/o/"+c.Param("org")+"/")
	})
	// The links' pages read their link in the round trip that finds the
	// organization, whoever opens them.
	org := e.Group("/o/:org", mw.Tenant(a.db, a.tenantSM, false, map[string]mw.Loader{
		"GET /o/:org/invite/:token": a.members.LoadInvite,
		"GET /o/:org/join/:token":   a.settings.LoadJoin,
	}))
	org.GET("/login", a.auth.ShowTenantLogin)
	org.POST("/login", a.auth.TenantLogin)
	org.GET("/invite/:token", a.members.ShowAccept)
	org.POST("/invite/:token", a.members.Accept)
	org.GET("/login/mfa", a.mfa.ShowLoginStep)
	org.POST("/login/mfa", a.mfa.LoginStep)
	org.GET("/join/:token", a.settings.ShowJoin)
	org.POST("/join/:token", a.settings.Join)

	// Members of that organization, each route with the permission it needs.
	// Pages with a loader read their data in the same round trip as the
	// tenant, session and membership checks.
	member := e.Group("/o/:org", mw.Tenant(a.db, a.tenantSM, true, a.loaders))
	a.guard(member, http.MethodGet, "/", a.dashboard.Show, authz.DashboardView, a.dashboard.Load)
	a.guard(member, http.MethodGet, "/members", a.members.List, authz.MembersRead, a.members.Load)
	a.guard(member, http.MethodGet, "/members/:id", a.members.Show, authz.MembersManage, a.members.LoadMember)
	a.guard(member, http.MethodPost, "/members/:id/role", a.members.ChangeRole, authz.MembersManage)
	a.guard(member, http.MethodPost, "/members/:id/remove", a.members.Remove, authz.MembersManage)
	a.guard(member, http.MethodPost, "/members/:id/transfer", a.members.TransferOwnership, authz.OwnershipGive)
	a.guard(member, http.MethodPost, "/leave", a.members.Leave, authz.Anyone)
	a.guard(member, http.MethodGet, "/roles", a.members.ShowRoles, authz.RolesManage, a.members.LoadRoles)
	a.guard(member, http.MethodPost, "/roles", a.members.CreateRole, authz.RolesManage)
	a.guard(member, http.MethodPost, "/roles/:id/delete", a.members.DeleteRole, authz.RolesManage)
	a.guard(member, http.MethodPost, "/members/invites", a.members.CreateInvite, authz.MembersInvite)
	a.guard(member, http.MethodPost, "/members/invites/:id/resend", a.members.ResendInvite, authz.MembersInvite)
	a.guard(member, http.MethodPost, "/members/invites/:id/revoke", a.members.RevokeInvite, authz.MembersInvite)
	a.guard(member, http.MethodGet, "/audit", a.audit.Show, authz.AuditRead, a.audit.Load)
	a.guard(member, http.MethodGet, "/audit/export.csv", a.audit.Export, authz.AuditRead)
	a.guard(member, http.MethodPost, "/logout", a.auth.Logout, authz.Anyone)
	a.guard(member, http.MethodGet, "/account", a.account.Show, authz.Anyone)
	a.guard(member, http.MethodPost, "/account", a.account.UpdateProfile, authz.Anyone)
	a.guard(member, http.MethodPost, "/account/password", a.account.ChangePassword, authz.Anyone)
	a.guard(member, http.MethodGet, "/account/sessions", a.account.ShowSessions, authz.Anyone)
	a.guard(member, http.MethodPost, "/account/sessions/:id/revoke", a.account.RevokeSession, authz.Anyone)
	a.guard(member, http.MethodPost, "/account/sessions/revoke-others", a.account.RevokeOtherSessions, authz.Anyone)
	a.guard(member, http.MethodGet, "/account/mfa", a.mfa.Show, authz.Anyone)
	a.guard(member, http.MethodPost, "/account/mfa/setup", a.mfa.Setup, authz.Anyone)
	a.guard(member, http.MethodPost, "/account/mfa/confirm", a.mfa.Confirm, authz.Anyone)
	a.guard(member, http.MethodPost, "/account/mfa/disable", a.mfa.Disable, authz.Anyone)
	a.guard(member, http.MethodPost, "/account/mfa/recovery-codes", a.mfa.RegenerateCodes, authz.Anyone)
	a.guard(member, http.MethodGet, "/settings/security", a.mfa.ShowSecurity, authz.SettingsManage, a.mfa.LoadSecurity)
	a.guard(member, http.MethodPost, "/settings/security", a.mfa.UpdateSecurity, authz.SettingsManage)
	a.guard(member, http.MethodGet, "/settings", a.settings.Show, authz.SettingsManage, a.settings.Load)
	a.guard(member, http.MethodPost, "/settings", a.settings.Update, authz.SettingsManage)
	a.guard(member, http.MethodPost, "/settings/join", a.settings.ChangeJoinLink, authz.SettingsManage)
	a.guard(member, http.MethodPost, "/settings/delete", a.settings.Delete, authz.OrgDelete)
	a.guard(member, http.MethodGet, "/switch", a.settings.Switch, authz.Anyone)

	// Operator console: its own session namespace and accounts.
	con := e.Group("/console")
	conLogin := con.Group("/login", mw.Sessions(a.opSM, "/console"))
	conLogin.GET("", a.console.ShowLogin)
	conLogin.POST("", a.console.Login)
	op := con.Group("", mw.Console(a.db, a.opSM, map[string]mw.Loader{
		"GET /console":        a.console.LoadTenants,
		"GET /console/":       a.console.LoadTenants,
		"GET /console/outbox": a.console.LoadOutbox,
	}))
	op.GET("", a.console.ShowTenants)
	op.GET("/", a.console.ShowTenants)
	op.POST("/logout", a.console.Logout)
	op.GET("/tenants/:slug", a.console.ShowTenant)
	op.GET("/outbox", a.console.ShowOutbox)
}

// withAssets makes the hashed static URLs available to page rendering.
func (a *App) withAssets(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.SetRequest(c.Request().WithContext(web.WithAssets(c.Request().Context(), a.assets)))
		return next(c)
	}
}

// MetricsHandler serves the Prometheus registry; cmd/atrium mounts it on a
// separate listener in production.
func (a *App) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg})
}

// guard registers a member route with the permission it needs, and records
// the pair so that the route × role test can check every route has one. An
// optional loader queues the page's reads into the request's first round
// trip (see mw.Tenant).
func (a *App) guard(g *echo.Group, method, path string, h echo.HandlerFunc, p authz.Permission, load ...mw.Loader) {
	g.Add(method, path, h, authz.Require(p))
	a.permissions[method+" /o/:org"+path] = p
	if len(load) > 0 {
		a.loaders[method+" /o/:org"+path] = load[0]
	}
}

// RoutePermissions returns the permission of every member route, keyed by
// "METHOD /o/:org/path".
func (a *App) RoutePermissions() map[string]authz.Permission { return maps.Clone(a.permissions) }

// Routes lists every registered route as "METHOD path".
func (a *App) Routes() []string {
	var out []string
	for _, r := range a.echo.Routes() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func (a *App) logPanic(c echo.Context, err error, stack []byte) error {
	a.log.ErrorContext(c.Request().Context(), "panic", "err", err.Error(), "stack", string(stack))
	return err
}

// landing handles "GET /".
func (a *App) landing(c echo.Context) error {
	return web.Render(c, http.StatusOK, authviews.Landing(web.NewPage(c, "")))
}

// healthz handles "GET /healthz": the process is up.
func (a *App) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok\n")
}

// readyz handles "GET /readyz": the database answers.
func (a *App) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := a.db.Ping(ctx); err != nil {
		a.log.WarnContext(ctx, "not ready", "err", err.Error())
		return c.String(http.StatusServiceUnavailable, "database unavailable\n")
	}
	return c.String(http.StatusOK, "ready\n")
}
