package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
)

// asOwner runs statements as the owner role, outside any tenant, and
// returns the first column of the last one's first row when it has one.
func asOwner(t *testing.T, f *fixture, sql string, args ...any) int64 {
	t.Helper()
	return asOwnerIn(t, f, uuid.Nil, sql, args...)
}

// asOwnerIn is asOwner inside tenant's setting (none for uuid.Nil), set by
// a statement of its own: a setting made within the query itself may come
// after the row policies have read it, whatever the plan.
func asOwnerIn(t *testing.T, f *fixture, tenant uuid.UUID, sql string, args ...any) int64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, f.db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if tenant != uuid.Nil {
		if _, err := conn.Exec(ctx, `SELECT set_config('app.tenant_id', $1, false)`, tenant.String()); err != nil {
			t.Fatal(err)
		}
	}
	var n int64
	if err := conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil && err != pgx.ErrNoRows {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// formerOwner returns the slug of the tenant a former slug redirects to, or
// "" when it redirects nowhere.
func formerOwner(t *testing.T, f *fixture, slug string) string {
	t.Helper()
	ctx := context.Background()
	var got string
	err := f.db.InSystem(ctx, func(tx *store.SysTx) error {
		tn, err := tx.FindTenantByFormerSlug(ctx, slug)
		if err == nil {
			got = tn.Slug
		}
		return err
	})
	if err != nil && atrium.ErrorCode(err) != atrium.ENOTFOUND {
		t.Fatal(err)
	}
	return got
}

func changeSlug(f *fixture, ctx context.Context, slug string) error {
	return f.db.InTenant(ctx, func(tx *store.Tx) error { return tx.ChangeTenantSlug(ctx, slug) })
}

func TestTenantSlugHistory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if err := changeSlug(f, f.ctxA, "alpha-two"); err != nil {
		t.Fatal(err)
	}

	t.Run("OldSlugRedirects", func(t *testing.T) {
		if got := formerOwner(t, f, "alpha"); got != "alpha-two" {
			t.Fatalf("alpha leads to %q, want alpha-two", got)
		}
		if got := formerOwner(t, f, "bravo"); got != "" {
			t.Fatalf("a live slug that never changed leads to %q", got)
		}
	})
	t.Run("ErrOtherTenantTakesReservedSlug", func(t *testing.T) {
		if err := changeSlug(f, f.ctxB, "alpha"); atrium.ErrorCode(err) != atrium.ECONFLICT {
			t.Fatalf("bravo renamed to alpha: err = %v, want a conflict", err)
		}
		err := f.db.InSystem(ctx, func(tx *store.SysTx) error { _, err := tx.CreateTenant(ctx, "alpha", "Impostor"); return err })
		if atrium.ErrorCode(err) != atrium.ECONFLICT || atrium.ErrorMessage(err) != "That URL is already taken. Please choose another." {
			t.Fatalf("signup took alpha: err = %v, want the taken-URL conflict", err)
		}
	})
	t.Run("ErrLiveSlug", func(t *testing.T) {
		if err := changeSlug(f, f.ctxA, "bravo"); atrium.ErrorCode(err) != atrium.ECONFLICT {
			t.Fatalf("err = %v, want a conflict", err)
		}
	})
	t.Run("FreeAfterRedirectPeriod", func(t *testing.T) {
		asOwner(t, f, `UPDATE tenant_slug_history SET changed_at = now() - interval '91 days' WHERE slug = 'alpha'`)
		if got := formerOwner(t, f, "alpha"); got != "" {
			t.Fatalf("a 91-day-old slug still leads to %q", got)
		}
		var tn *store.Tenant
		err := f.db.InSystem(ctx, func(tx *store.SysTx) (err error) { tn, err = tx.CreateTenant(ctx, "alpha", "New Alpha"); return err })
		if err != nil {
			t.Fatalf("the expired slug could not be taken: %v", err)
		}
		if n := asOwner(t, f, `SELECT count(*) FROM tenant_slug_history WHERE slug = 'alpha'`); n != 0 {
			t.Fatalf("%d history rows left for a slug that is live again", n)
		}
		_ = tn
	})
	t.Run("OwnTenantTakesBackItsSlug", func(t *testing.T) {
		if err := changeSlug(f, f.ctxA, "alpha-three"); err != nil {
			t.Fatal(err)
		}
		if err := changeSlug(f, f.ctxA, "alpha-two"); err != nil {
			t.Fatalf("taking back its own former slug: %v", err)
		}
		if got := formerOwner(t, f, "alpha-two"); got != "" {
			t.Fatalf("the live slug also redirects to %q", got)
		}
		if got := formerOwner(t, f, "alpha-three"); got != "alpha-two" {
			t.Fatalf("alpha-three leads to %q", got)
		}
	})
	t.Run("DeletedTenantDoesNotRedirect", func(t *testing.T) {
		if err := f.db.InTenant(f.ctxA, func(tx *store.Tx) error { return tx.DeleteTenant(f.ctxA) }); err != nil {
			t.Fatal(err)
		}
		if got := formerOwner(t, f, "alpha-three"); got != "" {
			t.Fatalf("a deleted tenant's former slug leads to %q", got)
		}
	})
}

func TestDeleteTenant(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	sessionFor(t, f, f.ctxA, "tok-a", f.userA)
	sessionFor(t, f, f.ctxB, "tok-b", f.userB)
	err := f.db.InTenant(f.ctxA, func(tx *store.Tx) error {
		if _, err := tx.LockTenant(f.ctxA); err != nil {
			return err
		}
		if err := tx.RecordAudit(f.ctxA, "organization.deleted", "organization", f.a.ID.String(), "Alpha", nil); err != nil {
			return err
		}
		if n, err := tx.DeleteTenantSessions(f.ctxA); err != nil || n != 1 {
			t.Errorf("deleted %d sessions (%v), want A's one", n, err)
		}
		return tx.DeleteTenant(f.ctxA)
	})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("GoneAtOnce", func(t *testing.T) {
		for _, token := range []string{"tok-a", ""} {
			if _, err := f.db.Enter(ctx, "alpha", token, nil); atrium.ErrorCode(err) != atrium.ENOTFOUND {
				t.Fatalf("Enter with token %q: err = %v, want not found", token, err)
			}
		}
		if err := f.db.InTenant(f.ctxA, func(tx *store.Tx) error { _, err := tx.LockTenant(f.ctxA); return err }); atrium.ErrorCode(err) != atrium.ENOTFOUND {
			t.Fatalf("LockTenant: err = %v, want not found", err)
		}
		if err := f.db.InTenant(f.ctxA, func(tx *store.Tx) error { return tx.DeleteTenant(f.ctxA) }); atrium.ErrorCode(err) != atrium.ENOTFOUND {
			t.Fatalf("deleting twice: err = %v, want not found", err)
		}
	})
	t.Run("OtherTenantUntouched", func(t *testing.T) {
		e, err := f.db.Enter(ctx, "bravo", "tok-b", nil)
		if err != nil || e.Session == nil || e.Member == nil {
			t.Fatalf("bravo: entry = %+v, %v", e, err)
		}
	})
	t.Run("ErrAppRoleCannotDeleteTenants", func(t *testing.T) {
		err := f.db.InSystem(ctx, func(tx *store.SysTx) error {
			_, err := tx.Raw().Exec(ctx, `DELETE FROM tenants WHERE id = $1`, f.a.ID)
			return err
		})
		if err == nil {
			t.Fatal("the app role deleted a tenant row")
		}
	})
	t.Run("PurgeWaitsForRetention", func(t *testing.T) {
		n, err := f.db.PurgeDeletedTenants(ctx, 720*time.Hour)
		if err != nil || n != 0 {
			t.Fatalf("purged %d (%v) within the retention period", n, err)
		}
		if c := asOwner(t, f, `SELECT count(*) FROM tenants WHERE id = $1`, f.a.ID); c != 1 {
			t.Fatal("the tenant row went before its time")
		}
	})
	t.Run("ErrNegativeRetention", func(t *testing.T) {
		if _, err := f.db.PurgeDeletedTenants(ctx, -time.Hour); err == nil {
			t.Fatal("a negative retention was accepted")
		}
	})
	t.Run("PurgeAfterRetention", func(t *testing.T) {
		asOwner(t, f, `UPDATE tenants SET deleted_at = now() - interval '31 days' WHERE id = $1`, f.a.ID)
		n, err := f.db.PurgeDeletedTenants(ctx, 720*time.Hour)
		if err != nil || n != 1 {
			t.Fatalf("purged %d (%v), want 1", n, err)
		}
		// The owner's directory policy shows memberships across tenants;
		// the other tables are read inside A's tenant setting.
		for _, q := range []string{
			`SELECT count(*) FROM tenants WHERE id = $1`,
			`SELECT count(*) FROM memberships WHERE tenant_id = $1`,
		} {
			if c := asOwner(t, f, q, f.a.ID); c != 0 {
				t.Errorf("%s: %d rows left", q, c)
			}
		}
		for _, table := range []string{"audit_events", "sessions"} {
			if c := asOwnerIn(t, f, f.a.ID, `SELECT count(*) FROM `+table); c != 0 {
				t.Errorf("%s: %d rows left", table, c)
			}
		}
		// The same check does see a live tenant's rows.
		if c := asOwnerIn(t, f, f.b.ID, `SELECT count(*) FROM sessions`); c != 1 {
			t.Errorf("the check query sees %d of bravo's sessions, want 1", c)
		}
		if c := asOwner(t, f, `SELECT count(*) FROM tenants WHERE id = $1 AND deleted_at IS NULL`, f.b.ID); c != 1 {
			t.Fatal("the live tenant went too")
		}
		if _, err := f.db.Enter(ctx, "bravo", "tok-b", nil); err != nil {
			t.Fatalf("bravo after the purge: %v", err)
		}
	})
}

func TestJoinLinks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	err := f.db.InTenant(f.ctxA, func(tx *store.Tx) error {
		return tx.EnableJoinLink(f.ctxA, "alpha.test", "join-token-a", f.userA.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	find := func(ctx context.Context, token string) (*store.JoinLink, error) {
		var j *store.JoinLink
		err := f.db.ReadTenant(ctx, func(b *store.Batch) { b.FindJoinLinkByToken(token, &j) })
		if err == nil && j == nil {
			err = &atrium.Error{Code: atrium.ENOTFOUND}
		}
		return j, err
	}
	read := func(ctx context.Context) *store.JoinLink {
		var j *store.JoinLink
		if err := f.db.ReadTenant(ctx, func(b *store.Batch) { b.FindJoinLink(&j) }); err != nil {
			t.Fatal(err)
		}
		return j
	}

	t.Run("OK", func(t *testing.T) {
		j, err := find(f.ctxA, "join-token-a")
		if err != nil || j.Domain != "alpha.test" || !j.Enabled || j.UpdatedBy != "Ann" {
			t.Fatalf("link = %+v, %v", j, err)
		}
		if _, err := find(f.ctxA, "join-token-x"); atrium.ErrorCode(err) != atrium.ENOTFOUND {
			t.Fatalf("a wrong token: err = %v", err)
		}
	})
	t.Run("ErrOtherTenant", func(t *testing.T) {
		if _, err := find(f.ctxB, "join-token-a"); atrium.ErrorCode(err) != atrium.ENOTFOUND {
			t.Fatalf("A's token at B: err = %v, want not found", err)
		}
		if j := read(f.ctxB); j != nil {
			t.Fatalf("B reads A's link: %+v", j)
		}
		if err := f.db.InTenant(f.ctxB, func(tx *store.Tx) error { return tx.DisableJoinLink(f.ctxB, f.userB.ID) }); atrium.ErrorCode(err) != atrium.ENOTFOUND {
			t.Fatalf("B disabled something: err = %v", err)
		}
	})
	t.Run("RegenerateReplacesToken", func(t *testing.T) {
		if err := f.db.InTenant(f.ctxA, func(tx *store.Tx) error {
			return tx.EnableJoinLink(f.ctxA, "alpha.test", "join-token-a2", f.userA.ID)
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := find(f.ctxA, "join-token-a"); atrium.ErrorCode(err) != atrium.ENOTFOUND {
			t.Fatalf("the old token still works: %v", err)
		}
		if _, err := find(f.ctxA, "join-token-a2"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Disable", func(t *testing.T) {
		if err := f.db.InTenant(f.ctxA, func(tx *store.Tx) error { return tx.DisableJoinLink(f.ctxA, f.userA.ID) }); err != nil {
			t.Fatal(err)
		}
		if _, err := find(f.ctxA, "join-token-a2"); atrium.ErrorCode(err) != atrium.ENOTFOUND {
			t.Fatalf("a disabled link still works: %v", err)
		}
		if j := read(f.ctxA); j == nil || j.Enabled || j.Domain != "alpha.test" {
			t.Fatalf("after disabling: %+v", j)
		}
	})
	t.Run("JoinInviteIsTenantScoped", func(t *testing.T) {
		var inv *store.Invite
		err := f.db.InTenant(f.ctxA, func(tx *store.Tx) (err error) {
			inv, err = tx.CreateJoinInvite(f.ctxA, "new@alpha.test", "invite-token", time.Now().Add(time.Hour))
			return err
		})
		if err != nil || inv.Role != "member" {
			t.Fatalf("invite = %+v, %v", inv, err)
		}
		var found *store.Invite
		var hasAccount bool
		if err := f.db.ReadTenant(f.ctxA, func(b *store.Batch) { b.FindInviteByToken("invite-token", &found, &hasAccount) }); err != nil ||
			found == nil || found.ID != inv.ID || hasAccount {
			t.Fatalf("A's invite by its token = %+v (an account: %v), %v", found, hasAccount, err)
		}
		found = nil
		if err := f.db.ReadTenant(f.ctxB, func(b *store.Batch) { b.FindInviteByToken("invite-token", &found, &hasAccount) }); err != nil || found != nil {
			t.Fatalf("B finds A's invite: %+v, %v", found, err)
		}
	})
}
