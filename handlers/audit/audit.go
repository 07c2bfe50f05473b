// Package audit serves an organization's audit log: a filterable page for
// members with audit.read, and the same events as a CSV export.
package audit

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/mw"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/views"
	auditviews "github.com/atrium-dev/atrium/views/audit"
)

// actionChoices are the filter's action options, rendered once.
var actionChoices = views.NewChoices("Any action", Actions)

// Actions lists every action the application records, for the filter.
var Actions = []string{
	"auth.login", "auth.login_failed", "auth.logout",
	"auth.mfa_failed", "auth.mfa_recovery_used",
	"mfa.enabled", "mfa.disabled", "mfa.recovery_codes_regenerated", "settings.require_mfa_changed",
	"organization.created", "operator.viewed_audit",
	"member.added", "member.role_changed", "member.removed", "member.left",
	"ownership.transferred", "role.created", "role.deleted",
	"settings.name_changed", "settings.slug_changed", "settings.join_link_changed", "organization.deleted",
	"invite.created", "invite.resent", "invite.revoked", "invite.accepted",
	"account.name_changed", "account.password_changed", "account.password_reset", "session.revoked",
}

// Handler serves the audit log.
type Handler struct {
	db *store.DB
}

// New returns the audit handlers.
func New(db *store.DB) *Handler { return &Handler{db: db} }

const pageSize = 50

// parseFilter reads the filter from the query string. Malformed values are
// reported back in the form rather than silently ignored.
func parseFilter(c echo.Context) (store.AuditFilter, auditviews.Filter) {
	v := auditviews.Filter{
		Actor:  strings.TrimSpace(c.QueryParam("actor")),
		Action: c.QueryParam("action"),
		From:   c.QueryParam("from"),
		To:     c.QueryParam("to"),
		Errors: map[string]string{},
	}
	f := store.AuditFilter{Actor: v.Actor, Limit: pageSize}
	if len(f.Actor) > 254 {
		f.Actor = f.Actor[:254]
	}
	if v.Action != "" {
		known := false
		for _, a := range Actions {
			known = known || a == v.Action
		}
		if known {
			f.Action = v.Action
		} else {
			v.Errors["action"] = "Choose an action from the list."
		}
	}
	if v.From != "" {
		if d, err := time.Parse("2006-01-02", v.From); err == nil {
			f.From = d
		} else {
			v.Errors["from"] = "Use a date like 2026-01-31."
		}
	}
	if v.To != "" {
		if d, err := time.Parse("2006-01-02", v.To); err == nil {
			f.To = d.AddDate(0, 0, 1) // the whole day
		} else {
			v.Errors["to"] = "Use a date like 2026-01-31."
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		v.Errors["to"] = "The end date must not be before the start date."
	}
	if b, err := strconv.ParseInt(c.QueryParam("before"), 10, 64); err == nil && b > 0 {
		f.Before = b
	}
	return f, v
}

// query encodes the filter for links (older page, export); each call
// returns a fresh map.
func query(v auditviews.Filter) url.Values {
	q := url.Values{}
	for k, s := range map[string]string{"actor": v.Actor, "action": v.Action, "from": v.From, "to": v.To} {
		if s != "" {
			q.Set(k, s)
		}
	}
	return q
}

// reads are the audit page's: the page of events its filter asks for. An
// invalid filter reads nothing; Show answers it with the form's errors.
var reads = mw.Reads[[]store.AuditEvent](func(c echo.Context, b *store.Batch, events *[]store.AuditEvent) {
	if f, v := parseFilter(c); len(v.Errors) == 0 {
		b.FindAuditEvents(f, events)
	}
})

// Load queues the audit page's reads into the request's first round trip
// (the route's mw.Loader).
func (h *Handler) Load(c echo.Context, b *store.Batch) { reads.Load(c, b) }

// Show handles "GET /o/:org/audit".
func (h *Handler) Show(c echo.Context) error {
	ctx := c.Request().Context()
	f, v := parseFilter(c)
	read, err := reads.Read(c, h.db.ReadTenant)
	if err != nil {
		return err
	}
	events := *read
	base := "/o/" + atrium.TenantFromContext(ctx).Slug + "/audit"
	if len(events) > pageSize {
		events = events[:pageSize]
		older := query(v)
		older.Set("before", strconv.FormatInt(events[len(events)-1].ID, 10))
		v.OlderURL = base + "?" + older.Encode()
	}
	if f.Before > 0 {
		v.NewestURL = base + "?" + query(v).Encode()
	}
	v.ExportURL = base + "/export.csv?" + query(v).Encode()
	v.ActionOptions = actionChoices.Selected(v.Action)
	p := web.NewPage(c, "Audit log")
	p.Nav = "audit"
	status := http.StatusOK
	if len(v.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return web.Render(c, status, auditviews.Log(p, v, events))
}

// Export handles "GET /o/:org/audit/export.csv": every event matching the
// filter, streamed as CSV.
func (h *Handler) Export(c echo.Context) error {
	ctx := c.Request().Context()
	f, v := parseFilter(c)
	if len(v.Errors) > 0 {
		return atrium.Errorf(atrium.EINVALID, "The filter is not valid: fix it on the audit log page and export again.")
	}
	t := atrium.TenantFromContext(ctx)
	name := "audit-" + t.Slug + "-" + time.Now().UTC().Format("20060102-150405") + ".csv"
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	res.Header().Set("Cache-Control", "no-store")
	res.WriteHeader(http.StatusOK)
	w := csv.NewWriter(res)
	_ = w.Write([]string{"id", "time", "actor_kind", "actor", "action", "target_type", "target_id", "target", "ip", "user_agent", "details"})
	err := h.db.InTenantReadOnly(ctx, func(tx *store.Tx) error {
		return tx.EachAuditEvent(ctx, f, func(e store.AuditEvent) error {
			return w.Write([]string{
				strconv.FormatInt(e.ID, 10), e.OccurredAt.UTC().Format(time.RFC3339), e.ActorKind,
				cell(e.ActorEmail), e.Action, e.TargetType, cell(e.TargetID), cell(e.TargetLabel),
				e.IP, cell(e.UserAgent), cell(views.Details(e.Details, "=", "; ")),
			})
		})
	})
	w.Flush()
	return err
}

// cell defuses spreadsheet formulas: a value starting with =, +, - or @ is
// prefixed with a quote so that opening the export never runs it.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
