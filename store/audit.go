package store

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atrium-dev/atrium"
)

// AuditEvent is one entry of an organization's audit log.
type AuditEvent struct {
	ID          int64
	OccurredAt  time.Time
	ActorKind   string // "user", "operator" or "system"
	ActorID     *uuid.UUID
	ActorEmail  string
	Action      string // e.g. "member.role_changed"
	TargetType  string
	TargetID    string
	TargetLabel string
	IP          string
	UserAgent   string
	Details     map[string]string // read-only: events with the same details share one map
}

// RecordAudit appends an event to the current tenant's log, in the same
// transaction as the change it describes, so the two commit or fail
// together. Actor, address and user agent come from ctx.
func (tx *Tx) RecordAudit(ctx context.Context, action, targetType, targetID, targetLabel string, details map[string]string) error {
	a := actorOf(ctx)
	if details == nil {
		details = map[string]string{}
	}
	d, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("store: audit details: %w", err)
	}
	_, err = tx.tx.Exec(ctx, `
		INSERT INTO audit_events (tenant_id, actor_kind, actor_id, actor_email, action,
		                          target_type, target_id, target_label, ip, user_agent, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		tx.TenantID, a.kind, a.id, a.email, action, targetType, targetID, targetLabel, a.ip, a.userAgent, string(d)) // text, not bytea: behind PgBouncer (exec mode) bytes reach jsonb as \x…
	tx.ch.audits = append(tx.ch.audits, tx.TenantID)
	return translate(err, "record audit event")
}

// actor is who an audit event says acted, and from where.
type actor struct {
	kind      string // "operator", "user" or "system"
	id        *uuid.UUID
	email     string
	ip        *netip.Addr
	userAgent string
}

// actorOf reads the actor from ctx: the operator, else the user, else the
// system.
func actorOf(ctx context.Context) actor {
	a := actor{kind: "system"}
	if o := atrium.OperatorFromContext(ctx); o != nil {
		a.kind, a.id, a.email = "operator", &o.ID, o.Email
	} else if u := atrium.UserFromContext(ctx); u != nil {
		a.kind, a.id, a.email = "user", &u.ID, u.Email
	}
	cl := atrium.ClientFromContext(ctx)
	if ip, err := netip.ParseAddr(cl.IP); err == nil {
		a.ip = &ip
	}
	a.userAgent = truncateUTF8(cl.UserAgent, 512)
	return a
}

// lookWindow is how long one operator's look at an organization is
// recorded once (see OperatorLook).
const lookWindow = 10 * time.Minute

// OperatorLook is an operator opening an organization in the console, in
// one round trip and one transaction: it finds the live organization by
// slug, records the look in its audit log (so the organization sees when
// operators looked) and reads its latest events, the look among them (up
// to limit, and one more to tell whether there are older ones). A look is
// recorded once per operator and organization in lookWindow: reloading
// the page is not news to the organization, and would bury its log. An
// unknown or deleted organization is ENOTFOUND and nothing is recorded.
// The operator comes from ctx.
//
// When the entry cache keeps the organization's row (orgKept) and this
// server knows that a look recorded within lookWindow covers this one
// (db.looks), only the events are read, as the organization's own log
// page reads them.
func (db *DB) OperatorLook(ctx context.Context, slug string, limit int) (*Tenant, []AuditEvent, error) {
	a := actorOf(ctx)
	start := time.Now()
	var events []AuditEvent
	if row, ok := orgTenant(db.entries, slug); ok && a.id != nil && db.looks.covered(*a.id, row.ID, start) {
		err := db.readTenant(ctx, row.ID, nil, func(b *Batch) { b.FindAuditEvents(AuditFilter{Limit: limit}, &events) })
		if err != nil {
			return nil, nil, err
		}
		return &row.Tenant, events, nil
	}
	gen := db.entries.generation()
	var row *registryRow
	var covers *float64 // seconds the recorded look covers from now on
	var recorded bool   // this look was recorded
	var b Batch
	// The tenant is set only when the organization exists; without it the
	// look finds no tenant row and records nothing.
	b.b.Queue(`SELECT set_config('app.tenant_id', id::text, true), `+registryRowColumns+`
		FROM tenants WHERE slug = $1 AND deleted_at IS NULL`, slug,
	).Query(func(rows pgx.Rows) error {
		if !rows.Next() {
			return rows.Err()
		}
		row = new(registryRow)
		return rows.Scan(append([]any{nil}, row.fields()...)...)
	})
	b.b.Queue(`
		WITH t AS (
			SELECT id, name FROM tenants WHERE id = nullif(current_setting('app.tenant_id', true), '')::uuid),
		prior AS (
			SELECT max(e.occurred_at) AS at FROM audit_events e JOIN t ON e.tenant_id = t.id
			WHERE e.action = 'operator.viewed_audit' AND e.actor_id = $2 AND e.occurred_at > now() - $6::interval),
		recorded AS (
			INSERT INTO audit_events (tenant_id, actor_kind, actor_id, actor_email, action,
			                          target_type, target_id, target_label, ip, user_agent, details)
			SELECT t.id, $1, $2, $3, 'operator.viewed_audit', 'organization', t.id::text, t.name, $4, $5, '{}'
			FROM t, prior WHERE prior.at IS NULL
			RETURNING occurred_at)
		SELECT extract(epoch FROM coalesce((SELECT occurred_at FROM recorded), (SELECT at FROM prior)) + $6::interval - now())::float8,
		       EXISTS (SELECT 1 FROM recorded)`,
		a.kind, a.id, a.email, a.ip, a.userAgent, lookWindow,
	).QueryRow(func(row pgx.Row) error { return row.Scan(&covers, &recorded) })
	b.FindAuditEvents(AuditFilter{Limit: limit}, &events)
	err := db.pool.SendBatch(ctx, &b.b).Close()
	if err != nil {
		return nil, nil, translate(err, "operator look")
	}
	if row == nil {
		return nil, nil, translate(errNoRows, "operator look")
	}
	keepOrgTenant(db.entries, gen, *row)
	if recorded {
		db.forget(&change{audits: []uuid.UUID{row.ID}})
	}
	if a.id != nil && covers != nil {
		db.looks.note(*a.id, row.ID, start.Add(time.Duration(*covers*float64(time.Second))))
	}
	return &row.Tenant, events, nil
}

// AuditFilter narrows the audit log. Zero fields match everything.
type AuditFilter struct {
	Actor  string    // actor email, matched as a substring
	Action string    // exact action
	From   time.Time // inclusive
	To     time.Time // exclusive
	Before int64     // keyset: only events with a smaller id (older)
	Limit  int
}

// where builds the filter's WHERE clause and arguments.
func (f AuditFilter) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.Actor != "" {
		add(`actor_email ILIKE $%d`, "%"+escapeLike(f.Actor)+"%")
	}
	if f.Action != "" {
		add(`action = $%d`, f.Action)
	}
	if !f.From.IsZero() {
		add(`occurred_at >= $%d`, f.From)
	}
	if !f.To.IsZero() {
		add(`occurred_at < $%d`, f.To)
	}
	if f.Before > 0 {
		add(`id < $%d`, f.Before)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return "WHERE " + strings.Join(conds, " AND "), args
}

const auditColumns = `id, occurred_at, actor_kind, actor_id, actor_email, action,
	target_type, target_id, target_label, coalesce(host(ip), ''), user_agent, details`

// fields are e's scan destinations for auditColumns.
func (e *AuditEvent) fields() []any {
	return []any{&e.ID, &e.OccurredAt, &e.ActorKind, &e.ActorID, &e.ActorEmail, &e.Action,
		&e.TargetType, &e.TargetID, &e.TargetLabel, &e.IP, &e.UserAgent, &e.Details}
}

// FindAuditEvents queues one page of the log, newest first, into dst. The
// page holds up to f.Limit events; one more is fetched to tell whether an
// older page exists. Read through ReadTenant, the first page of the whole
// log (no filter) is kept for the organization until a new event is
// recorded (entryCache.audit).
func (b *Batch) FindAuditEvents(f AuditFilter, dst *[]AuditEvent) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	first := f == AuditFilter{Limit: f.Limit} && b.tenant != uuid.Nil
	if first {
		if list, ok := b.cache.auditPage(b.tenant, f.Limit); ok {
			*dst = list
			return
		}
	}
	cache, tenant, gen, listGen := b.cache, b.tenant, b.gen, b.listGen
	where, args := f.where()
	args = append(args, f.Limit+1)
	b.b.Queue(fmt.Sprintf(`SELECT %s FROM audit_events %s ORDER BY id DESC LIMIT $%d`, auditColumns, where, len(args)), args...).
		Query(func(rows pgx.Rows) error {
			list, err := collectPage(rows, f.Limit+1, (*AuditEvent).fields)
			if err != nil {
				return err
			}
			if first {
				cache.keepAuditPage(tenant, gen, listGen, f.Limit, list)
			}
			*dst = list
			return nil
		})
}

// EachAuditEvent streams every event matching f, newest first, to fn; the
// CSV export uses it so that a large log is never held in memory.
func (tx *Tx) EachAuditEvent(ctx context.Context, f AuditFilter, fn func(AuditEvent) error) error {
	f.Limit = 0
	where, args := f.where()
	rows, err := tx.tx.Query(ctx, fmt.Sprintf(`SELECT %s FROM audit_events %s ORDER BY id DESC`, auditColumns, where), args...)
	if err != nil {
		return translate(err, "export audit events")
	}
	defer rows.Close()
	var e AuditEvent
	dst := e.fields()
	for rows.Next() {
		e = AuditEvent{} // the row's own ActorID, not the one before's
		if err := rows.Scan(dst...); err != nil {
			return translate(err, "export audit events")
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return translate(rows.Err(), "export audit events")
}

// truncateUTF8 cuts s to at most n bytes without splitting a character, and
// drops invalid bytes, so that a hostile header cannot fail the insert.
func truncateUTF8(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
