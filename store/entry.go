package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atrium-dev/atrium"
)

// Entry is what one request to /o/{slug}/… learns in its first round trip:
// the tenant, the request's session in that tenant (if any) and the session
// user's membership (if they are still a member).
type Entry struct {
	Tenant atrium.Tenant
	// Session is the stored session data; nil without a live session.
	Session []byte
	// SessionUpdatedAt is when the session was last written.
	SessionUpdatedAt time.Time
	// Member is the session user's membership; nil when there is none.
	Member *Member
	// MFAEnabled tells whether Member has turned on two-factor
	// authentication; false without a member.
	MFAEnabled bool
	// MemberCount is the organization's number of members, and
	// MembersWithoutMFA how many of them have not turned on two-factor
	// authentication. A cached entry is dropped whenever either changes
	// (migrations 00015 and 00021), so they are as current as the
	// membership beside them.
	MemberCount, MembersWithoutMFA int
}

// figures are the tenant row's figures the entry carries.
func (e *Entry) figures() tenantFigures {
	return tenantFigures{members: e.MemberCount, withoutMFA: e.MembersWithoutMFA, requireMFA: e.Tenant.RequireMFA}
}

// Enter resolves slug and the session token in one statement, under the
// tenant's RLS policies (see enter_tenant in the migrations). An unknown or
// deleted organization is ENOTFOUND. Without a token (a visitor who is not
// signed in) only the organization is read, and load is not run.
//
// With load, the page's reads are queued behind it and everything travels
// in one round trip (one implicit transaction): enter_tenant is then asked
// to require a member, so when the session does not belong to a current
// member it clears the tenant again and the page's reads see no tenant
// rows. Their results are trusted only when Entry.Member is set; a failed
// read without a member is ignored, since the caller answers with the
// login page or a 404 anyway.
//
// The entry of a live session is kept in the entry cache (when the DB has
// one and its watcher runs): a signed-in member's, and one that is no
// member's (a login waiting for its second factor). The next Enter with
// the same session then asks the database only for the page's reads,
// behind the tenant setting, or for nothing when there is no member to
// read for.
func (db *DB) Enter(ctx context.Context, slug, token string, load func(*Batch)) (*Entry, error) {
	return db.enter(ctx, slug, token, load, true)
}

// Visit is Enter for the pages anyone may open in an organization: an
// invitation or a join link, where the token in the URL is what grants the
// read. load's reads run under the tenant whoever the visitor is (signed
// in or not, a member or not) and travel in the same round trip; a failed
// read fails the visit. An unknown or deleted organization is ENOTFOUND,
// its reads having seen no tenant.
func (db *DB) Visit(ctx context.Context, slug, token string, load func(*Batch)) (*Entry, error) {
	return db.enter(ctx, slug, token, load, false)
}

// enter is Enter, or Visit when memberOnly is false.
func (db *DB) enter(ctx context.Context, slug, token string, load func(*Batch), memberOnly bool) (*Entry, error) {
	if token == "" {
		if memberOnly {
			load = nil
		}
		return db.enterAnonymous(ctx, slug, load)
	}
	hash := hashToken(token)
	if e, ok := db.entries.get(slug, hash); ok {
		if load == nil || (memberOnly && e.Member == nil) {
			// Without a member, a member's page reads nothing: the
			// caller answers with the login page or a 404.
			return e, nil
		}
		f := e.figures()
		return e, db.readTenant(ctx, e.Tenant.ID, &f, load)
	}
	gen := db.entries.generation()
	var e Entry
	var expiry time.Time
	var found bool
	b := Batch{opened: true} // enter_tenant reads the tenant row's figures
	b.b.Queue(`SELECT * FROM enter_tenant($1, $2, $3)`, slug, hash, memberOnly && load != nil).Query(func(rows pgx.Rows) error {
		if !rows.Next() {
			return rows.Err()
		}
		found = true
		if err := scanEntry(rows, &e, &expiry); err != nil {
			return err
		}
		b.setFigures(e.figures())
		return nil
	})
	if load != nil {
		load(&b)
	}
	err := db.pool.SendBatch(ctx, &b.b).Close()
	switch {
	case !found && (err == nil || load != nil):
		return nil, translate(pgx.ErrNoRows, "enter tenant")
	case err != nil && (load == nil || e.Member != nil || !memberOnly):
		return nil, translate(err, "enter tenant")
	}
	e.Tenant.Slug = slug
	if err == nil {
		db.entries.put(hash, &e, expiry, gen)
	}
	return &e, nil
}

// enterAnonymous is Enter without a session: only the tenant to find, by a
// plain read of the registry rather than enter_tenant (a function call, a
// tenant setting and a session lookup, several times the cost). With load
// (a Visit), the same statement sets the tenant, by slug, for the page's
// reads queued behind it; when there is no such organization nothing sets
// it and they see no tenant rows.
//
// The organization found is kept (orgKept): the next visitor's page finds it
// in memory, and its reads go through readTenant, where what is kept of the
// organization answers too.
func (db *DB) enterAnonymous(ctx context.Context, slug string, load func(*Batch)) (*Entry, error) {
	if t, ok := orgTenant(db.entries, slug); ok {
		if load != nil {
			if err := db.readTenant(ctx, t.ID, nil, load); err != nil {
				return nil, err
			}
		}
		return &Entry{Tenant: t.entry()}, nil
	}
	gen := db.entries.generation()
	var t registryRow
	if load == nil {
		err := db.pool.QueryRow(ctx, `SELECT `+registryRowColumns+` FROM tenants WHERE slug = $1 AND deleted_at IS NULL`, slug).
			Scan(t.fields()...)
		if err != nil {
			return nil, translate(err, "enter tenant")
		}
		keepOrgTenant(db.entries, gen, t)
		return &Entry{Tenant: t.entry()}, nil
	}
	var found bool
	var b Batch
	b.b.Queue(`SELECT set_config('app.tenant_id', id::text, true), `+registryRowColumns+`
		FROM tenants WHERE slug = $1 AND deleted_at IS NULL`, slug).Query(func(rows pgx.Rows) error {
		if !rows.Next() {
			return rows.Err()
		}
		found = true
		return rows.Scan(append([]any{nil}, t.fields()...)...)
	})
	load(&b)
	err := db.pool.SendBatch(ctx, &b.b).Close()
	if err == nil && !found {
		err = pgx.ErrNoRows
	}
	if err != nil {
		return nil, translate(err, "enter tenant")
	}
	keepOrgTenant(db.entries, gen, t)
	return &Entry{Tenant: t.entry()}, nil
}

// scanEntry reads enter_tenant's row.
func scanEntry(row pgx.Row, e *Entry, expiry *time.Time) error {
	var data []byte
	var updated *time.Time
	var memberID, userID *uuid.UUID
	var email, name, role *string
	var mfaEnabled *bool
	var roleName *string
	var perms []string
	var exp *time.Time
	if err := row.Scan(&e.Tenant.ID, &e.Tenant.Name, &data, &updated, &memberID, &userID, &email, &name, &role,
		&e.Tenant.RequireMFA, &mfaEnabled, &roleName, &perms, &exp, &e.MemberCount, &e.MembersWithoutMFA); err != nil {
		return err
	}
	if exp != nil {
		*expiry = *exp
	}
	if data != nil {
		e.Session = data
		if updated != nil {
			e.SessionUpdatedAt = *updated
		}
	}
	if memberID != nil && userID != nil {
		e.Member = &Member{ID: *memberID, UserID: *userID, Email: deref(email), Name: deref(name), Role: deref(role),
			RoleName: deref(roleName), Permissions: perms}
		e.MFAEnabled = mfaEnabled != nil && *mfaEnabled
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// prefetchKey carries a session already read by Enter, so that scs's Load
// finds it without a second query.
type prefetchKey struct{}

type prefetched struct {
	token string
	data  []byte
}

// WithPrefetchedSession records the session data Enter returned for token.
// TenantSessions.FindCtx answers from it instead of querying again.
func WithPrefetchedSession(ctx context.Context, token string, data []byte) context.Context {
	return context.WithValue(ctx, prefetchKey{}, prefetched{token: token, data: data})
}

func prefetchedSession(ctx context.Context, token string) ([]byte, bool, bool) {
	p, ok := ctx.Value(prefetchKey{}).(prefetched)
	if !ok || p.token != token {
		return nil, false, false
	}
	return p.data, p.data != nil, true
}
