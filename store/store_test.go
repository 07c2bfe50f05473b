package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// fixture is two tenants, each with one owner.
type fixture struct {
	db         *storetest.DB
	a, b       *store.Tenant
	userA      *store.User
	userB      *store.User
	memberA    *store.Member
	ctxA, ctxB context.Context
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{db: storetest.New(t)}
	ctx := context.Background()
	err := f.db.InSystem(ctx, func(tx *store.SysTx) error {
		var err error
		if f.a, err = tx.CreateTenant(ctx, "alpha", "Alpha"); err != nil {
			return err
		}
		if f.b, err = tx.CreateTenant(ctx, "bravo", "Bravo"); err != nil {
			return err
		}
		if f.userA, err = tx.CreateUser(ctx, "a@alpha.test", "Ann", "x"); err != nil {
			return err
		}
		if f.userB, err = tx.CreateUser(ctx, "b@bravo.test", "Bob", "x"); err != nil {
			return err
		}
		ta, err := tx.EnterTenant(ctx, f.a.ID)
		if err != nil {
			return err
		}
		if f.memberA, err = ta.CreateMembership(ctx, f.userA.ID, "owner"); err != nil {
			return err
		}
		tb, err := tx.EnterTenant(ctx, f.b.ID)
		if err != nil {
			return err
		}
		_, err = tb.CreateMembership(ctx, f.userB.ID, "owner")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	f.ctxA = atrium.WithTenant(ctx, &atrium.Tenant{ID: f.a.ID, Slug: f.a.Slug})
	f.ctxB = atrium.WithTenant(ctx, &atrium.Tenant{ID: f.b.ID, Slug: f.b.Slug})
	return f
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	t.Run("OwnRowsVisible", func(t *testing.T) {
		err := f.db.InTenant(f.ctxA, func(tx *store.Tx) error {
			m, err := tx.FindMemberByUserID(f.ctxA, f.userA.ID)
			if err != nil {
				return err
			}
			if m.ID != f.memberA.ID || m.Email != "a@alpha.test" {
				t.Errorf("member = %+v", m)
			}
			n, err := tx.CountMembers(f.ctxA)
			if n != 1 {
				t.Errorf("CountMembers = %d, want 1", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ErrNotFoundReadingOtherTenant", func(t *testing.T) {
		err := f.db.InTenant(f.ctxB, func(tx *store.Tx) error {
			_, err := tx.FindMemberByUserID(f.ctxB, f.userA.ID)
			return err
		})
		if code := atrium.ErrorCode(err); code != atrium.ENOTFOUND {
			t.Fatalf("B reading A's member: code %q (%v), want not found", code, err)
		}
		_ = f.db.InTenant(f.ctxB, func(tx *store.Tx) error {
			list, err := tx.FindMembers(f.ctxB, 100)
			for _, m := range list {
				if m.UserID == f.userA.ID {
					t.Error("B's member list contains A's member")
				}
			}
			return err
		})
	})

	t.Run("ErrNotFoundUpdatingOtherTenant", func(t *testing.T) {
		err := f.db.InTenant(f.ctxB, func(tx *store.Tx) error {
			return tx.UpdateMemberRole(f.ctxB, f.memberA.ID, "viewer")
		})
		if code := atrium.ErrorCode(err); code != atrium.ENOTFOUND {
			t.Fatalf("B updating A's member: code %q, want not found", code)
		}
		assertRole(t, f, "owner")
	})

	t.Run("ErrNotFoundDeletingOtherTenant", func(t *testing.T) {
		err := f.db.InTenant(f.ctxB, func(tx *store.Tx) error {
			return tx.DeleteMember(f.ctxB, f.memberA.ID)
		})
		if code := atrium.ErrorCode(err); code != atrium.ENOTFOUND {
			t.Fatalf("B deleting A's member: code %q, want not found", code)
		}
		assertRole(t, f, "owner")
	})

	t.Run("ErrWritingIntoOtherTenant", func(t *testing.T) {
		// Even raw SQL naming A's tenant_id is refused by WITH CHECK.
		err := f.db.InTenant(f.ctxB, func(tx *store.Tx) error {
			_, err := tx.Raw().Exec(f.ctxB, `INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'owner')`, f.a.ID, f.userB.ID)
			return err
		})
		if err == nil {
			t.Fatal("B inserted a row into A")
		}
		err = f.db.InTenant(f.ctxB, func(tx *store.Tx) error {
			_, err := tx.Raw().Exec(f.ctxB, `UPDATE memberships SET tenant_id = $1`, f.a.ID)
			return err
		})
		if err == nil {
			t.Fatal("B moved its rows into A")
		}
	})

	t.Run("RawSQLSeesOnlyOwnTenant", func(t *testing.T) {
		err := f.db.InTenant(f.ctxB, func(tx *store.Tx) error {
			var n int
			if err := tx.Raw().QueryRow(f.ctxB, `SELECT count(*) FROM memberships WHERE tenant_id = $1`, f.a.ID).Scan(&n); err != nil {
				return err
			}
			if n != 0 {
				t.Errorf("B counted %d of A's memberships", n)
			}
			tag, err := tx.Raw().Exec(f.ctxB, `DELETE FROM memberships`)
			if tag.RowsAffected() != 1 {
				t.Errorf("B's unqualified DELETE touched %d rows, want its own 1", tag.RowsAffected())
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		assertRole(t, f, "owner")
	})
}

func assertRole(t *testing.T, f *fixture, want string) {
	t.Helper()
	err := f.db.InTenant(f.ctxA, func(tx *store.Tx) error {
		m, err := tx.FindMemberByUserID(f.ctxA, f.userA.ID)
		if err == nil && m.Role != want {
			t.Errorf("A's member role = %q, want %q", m.Role, want)
		}
		return err
	})
	if err != nil {
		t.Fatalf("A's member is gone: %v", err)
	}
}

func TestFailsClosed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()

	t.Run("ErrInTenantWithoutTenant", func(t *testing.T) {
		called := false
		err := f.db.InTenant(ctx, func(tx *store.Tx) error { called = true; return nil })
		if err == nil || called {
			t.Fatalf("InTenant without a tenant: err %v, fn called %v", err, called)
		}
	})

	t.Run("ErrInTenantReadOnlyWithoutTenant", func(t *testing.T) {
		called := false
		err := f.db.InTenantReadOnly(ctx, func(tx *store.Tx) error { called = true; return nil })
		if err == nil || called {
			t.Fatalf("InTenantReadOnly without a tenant: err %v, fn called %v", err, called)
		}
	})

	// A read-only transaction sees the tenant's rows and nobody else's,
	// and a write in it fails rather than slipping past the entry cache,
	// which a read-only transaction does not tell.
	t.Run("InTenantReadOnlyRefusesWrites", func(t *testing.T) {
		var seen []string
		err := f.db.InTenantReadOnly(f.ctxA, func(tx *store.Tx) error {
			rows, err := tx.Raw().Query(f.ctxA, `SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id`)
			if err != nil {
				return err
			}
			seen, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err != nil || !slices.Equal(seen, []string{"a@alpha.test"}) {
			t.Fatalf("members seen: %v, %v; want only alpha's", seen, err)
		}
		err = f.db.InTenantReadOnly(f.ctxA, func(tx *store.Tx) error {
			return tx.RecordAudit(f.ctxA, "test.write", "organization", f.a.ID.String(), "Alpha", nil)
		})
		if err == nil {
			t.Fatal("a write in a read-only transaction succeeded")
		}
	})

	t.Run("SystemDoorSeesNoTenantRows", func(t *testing.T) {
		err := f.db.InSystem(ctx, func(tx *store.SysTx) error {
			for _, table := range []string{"memberships", "sessions"} {
				var n int
				if err := tx.Raw().QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
					return err
				}
				if n != 0 {
					t.Errorf("%s: %d rows visible with no tenant set", table, n)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("PooledConnectionForgetsTenant", func(t *testing.T) {
		// One connection: the query after a tenant's transaction runs on the
		// very connection that just served the tenant.
		db, err := store.Open(ctx, f.db.AppURL, store.Options{MaxConns: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var pidA, pidSys int
		if err := db.InTenant(f.ctxA, func(tx *store.Tx) error {
			n, err := tx.CountMembers(f.ctxA)
			if n != 1 {
				t.Errorf("tenant A sees %d members, want 1", n)
			}
			_ = tx.Raw().QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pidA)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := db.InSystem(ctx, func(tx *store.SysTx) error {
			var n int
			var setting *string
			if err := tx.Raw().QueryRow(ctx, `SELECT count(*), current_setting('app.tenant_id', true), pg_backend_pid() FROM memberships`).Scan(&n, &setting, &pidSys); err != nil {
				return err
			}
			if n != 0 || (setting != nil && *setting != "") {
				t.Errorf("after tenant A: %d rows visible, app.tenant_id = %v; want 0 and unset", n, setting)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if pidA != pidSys {
			t.Fatalf("test did not reuse the connection (%d vs %d)", pidA, pidSys)
		}
	})

	t.Run("GarbageTenantSettingSeesNothing", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, f.db.AppURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var n int
		err = conn.QueryRow(ctx, `SELECT count(*) FROM memberships`).Scan(&n)
		if err != nil || n != 0 {
			t.Fatalf("plain connection: %d rows, err %v; want 0", n, err)
		}
		// A malformed setting is an error, not a match.
		_, err = conn.Exec(ctx, `SELECT set_config('app.tenant_id', 'not-a-uuid', false)`)
		if err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM memberships`).Scan(&n); err == nil {
			t.Fatalf("malformed tenant id matched %d rows without an error", n)
		}
	})
}

func TestCatalog(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	t.Run("EveryTenantTableForcesRLS", func(t *testing.T) {
		rows, err := conn.Query(ctx, `
			SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
			       EXISTS (SELECT 1 FROM pg_policy p
			               WHERE p.polrelid = c.oid AND p.polcmd = '*'
			                 AND pg_get_expr(p.polqual, p.polrelid) LIKE '%tenant_id = ( SELECT (NULLIF(current_setting(''app.tenant_id''::text, true), ''''::text))::uuid%'
			                 AND pg_get_expr(p.polwithcheck, p.polrelid) LIKE '%tenant_id = ( SELECT (NULLIF(current_setting(''app.tenant_id''::text, true), ''''::text))::uuid%')
			FROM pg_class c
			JOIN pg_namespace n ON n.oid = c.relnamespace
			JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
			WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
			ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for rows.Next() {
			var name string
			var enabled, forced, policy bool
			if err := rows.Scan(&name, &enabled, &forced, &policy); err != nil {
				t.Fatal(err)
			}
			seen++
			if !enabled || !forced || !policy {
				t.Errorf("table %s: rls enabled=%v forced=%v tenant policy=%v; want all true", name, enabled, forced, policy)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if seen < 2 {
			t.Fatalf("found %d tenant tables; the query is broken", seen)
		}
	})

	t.Run("TenantTablesKeyedByTenant", func(t *testing.T) {
		rows, err := conn.Query(ctx, `
			SELECT c.relname, (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = i.indkey[0])
			FROM pg_class c
			JOIN pg_namespace n ON n.oid = c.relnamespace
			JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
			WHERE n.nspname = 'public' AND c.relkind = 'r'
			  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id')`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var table, first string
			if err := rows.Scan(&table, &first); err != nil {
				t.Fatal(err)
			}
			if first != "tenant_id" {
				t.Errorf("table %s: primary key starts with %s, want tenant_id", table, first)
			}
		}
	})

	t.Run("AppRoleCannotBypass", func(t *testing.T) {
		var super, bypass, inherits bool
		err := conn.QueryRow(ctx, `
			SELECT rolsuper, rolbypassrls,
			       EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
			               WHERE m.member = pg_roles.oid AND (r.rolsuper OR r.rolbypassrls))
			FROM pg_roles WHERE rolname = $1`, store.AppRole).Scan(&super, &bypass, &inherits)
		if err != nil {
			t.Fatal(err)
		}
		if super || bypass || inherits {
			t.Fatalf("%s: superuser=%v bypassrls=%v member of such a role=%v", store.AppRole, super, bypass, inherits)
		}
	})

	t.Run("AppRoleOwnsNothing", func(t *testing.T) {
		var n int
		err := conn.QueryRow(ctx, `
			SELECT (SELECT count(*) FROM pg_class WHERE relowner = r.oid)
			     + (SELECT count(*) FROM pg_proc WHERE proowner = r.oid)
			     + (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid)
			     + (SELECT count(*) FROM pg_type WHERE typowner = r.oid)
			     + (SELECT count(*) FROM pg_database WHERE datdba = r.oid)
			FROM pg_roles r WHERE r.rolname = $1`, store.AppRole).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%s owns %d objects; it must own none", store.AppRole, n)
		}
	})

	t.Run("CheckIsolationRefusesOwner", func(t *testing.T) {
		if err := db.CheckIsolation(ctx); err != nil {
			t.Fatalf("app role refused: %v", err)
		}
	})
}

func TestUserOrganizations(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	// Ann joins Bravo too; Bob stays in Bravo only.
	err := f.db.InSystem(ctx, func(tx *store.SysTx) error {
		tb, err := tx.EnterTenant(ctx, f.b.ID)
		if err != nil {
			return err
		}
		_, err = tb.CreateMembership(ctx, f.userA.ID, "member")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user *store.User
		want []string
	}{{f.userA, []string{"alpha", "bravo"}}, {f.userB, []string{"bravo"}}} {
		var orgs []store.Organization
		if err := f.db.InSystem(ctx, func(tx *store.SysTx) error {
			orgs, err = tx.FindUserOrganizations(ctx, tc.user.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range orgs {
			got = append(got, o.Slug)
		}
		if len(got) != len(tc.want) || got[0] != tc.want[0] || got[len(got)-1] != tc.want[len(tc.want)-1] {
			t.Errorf("%s: organizations %v, want %v", tc.user.Email, got, tc.want)
		}
	}
}

func TestSignupIsAtomic(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	ctx := context.Background()
	err := db.InSystem(ctx, func(tx *store.SysTx) error {
		tn, err := tx.CreateTenant(ctx, "half", "Half")
		if err != nil {
			return err
		}
		u, err := tx.CreateUser(ctx, "half@x.test", "Half", "x")
		if err != nil {
			return err
		}
		ttx, err := tx.EnterTenant(ctx, tn.ID)
		if err != nil {
			return err
		}
		_, err = ttx.CreateMembership(ctx, u.ID, "emperor") // not a role
		return err
	})
	if atrium.ErrorCode(err) != atrium.EINVALID {
		t.Fatalf("err = %v, want invalid", err)
	}
	_ = db.InSystem(ctx, func(tx *store.SysTx) error {
		if _, err := tx.FindTenantBySlug(ctx, "half"); atrium.ErrorCode(err) != atrium.ENOTFOUND {
			t.Errorf("tenant survived a failed signup: %v", err)
		}
		if _, err := tx.FindUserByEmail(ctx, "half@x.test"); atrium.ErrorCode(err) != atrium.ENOTFOUND {
			t.Errorf("user survived a failed signup: %v", err)
		}
		return nil
	})
}

func TestConflicts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	for name, fn := range map[string]func(tx *store.SysTx) error{
		"ErrDuplicateSlug":  func(tx *store.SysTx) error { _, err := tx.CreateTenant(ctx, "alpha", "Again"); return err },
		"ErrDuplicateEmail": func(tx *store.SysTx) error { _, err := tx.CreateUser(ctx, "a@alpha.test", "Again", "x"); return err },
	} {
		t.Run(name, func(t *testing.T) {
			err := f.db.InSystem(ctx, fn)
			if atrium.ErrorCode(err) != atrium.ECONFLICT || atrium.ErrorMessage(err) == "" {
				t.Fatalf("err = %v, want a conflict with a message", err)
			}
		})
	}
	t.Run("ErrInvalidSlugInDatabase", func(t *testing.T) {
		err := f.db.InSystem(ctx, func(tx *store.SysTx) error { _, err := tx.CreateTenant(ctx, "Bad Slug!", "x"); return err })
		if atrium.ErrorCode(err) != atrium.EINVALID {
			t.Fatalf("err = %v, want invalid", err)
		}
	})
}

func TestTenantSessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st := f.db.TenantSessions()
	exp := time.Now().Add(time.Hour)
	if err := st.CommitCtx(f.ctxA, "token-a", []byte("data"), exp); err != nil {
		t.Fatal(err)
	}
	t.Run("FoundInOwnTenant", func(t *testing.T) {
		b, ok, err := st.FindCtx(f.ctxA, "token-a")
		if err != nil || !ok || string(b) != "data" {
			t.Fatalf("FindCtx = %q, %v, %v", b, ok, err)
		}
	})
	t.Run("NotFoundInOtherTenant", func(t *testing.T) {
		_, ok, err := st.FindCtx(f.ctxB, "token-a")
		if err != nil || ok {
			t.Fatalf("B found A's session: ok=%v err=%v", ok, err)
		}
		// Deleting from B leaves A's session in place.
		if err := st.DeleteCtx(f.ctxB, "token-a"); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := st.FindCtx(f.ctxA, "token-a"); !ok {
			t.Fatal("B's delete removed A's session")
		}
	})
	t.Run("TokenStoredHashed", func(t *testing.T) {
		_ = f.db.InTenant(f.ctxA, func(tx *store.Tx) error {
			var n int
			_ = tx.Raw().QueryRow(f.ctxA, `SELECT count(*) FROM sessions WHERE token_hash = convert_to('token-a', 'UTF8')`).Scan(&n)
			if n != 0 {
				t.Error("session token stored in clear")
			}
			return nil
		})
	})
	t.Run("ExpiredNotFoundAndPurged", func(t *testing.T) {
		if err := st.CommitCtx(f.ctxA, "old", []byte("x"), time.Now().Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := st.FindCtx(f.ctxA, "old"); ok {
			t.Fatal("expired session found")
		}
		n, err := f.db.PurgeExpiredSessions(context.Background())
		if err != nil || n != 1 {
			t.Fatalf("purged %d, %v; want 1", n, err)
		}
		if _, ok, _ := st.FindCtx(f.ctxA, "token-a"); !ok {
			t.Fatal("purge removed a live session")
		}
	})
	t.Run("Deleted", func(t *testing.T) {
		if err := st.DeleteCtx(f.ctxA, "token-a"); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := st.FindCtx(f.ctxA, "token-a"); ok {
			t.Fatal("deleted session found")
		}
	})
}

func TestThrottle(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	ctx := context.Background()
	th := store.Throttle{Max: 3, Window: time.Minute}
	key := "acct:" + uuid.NewString()
	for i := 0; i < 3; i++ {
		err := db.InSystem(ctx, func(tx *store.SysTx) error {
			blocked, _, err := tx.Blocked(ctx, th, key)
			if blocked {
				t.Fatalf("blocked after %d failures, limit 3", i)
			}
			if err != nil {
				return err
			}
			return tx.RecordFailure(ctx, th, key)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	_ = db.InSystem(ctx, func(tx *store.SysTx) error {
		blocked, until, err := tx.Blocked(ctx, th, key)
		if err != nil || !blocked || time.Until(until) <= 0 {
			t.Fatalf("after 3 failures: blocked=%v until=%v err=%v", blocked, until, err)
		}
		if b, _, _ := tx.Blocked(ctx, th, "acct:other"); b {
			t.Fatal("another key is blocked too")
		}
		if err := tx.ResetThrottle(ctx, key); err != nil {
			t.Fatal(err)
		}
		if b, _, _ := tx.Blocked(ctx, th, key); b {
			t.Fatal("still blocked after reset")
		}
		return nil
	})
}

func TestMigrationsRoundTrip(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	ctx := context.Background()
	m, err := store.NewMigrator(db.OwnerURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	db.Close() // the pool would block DROP TABLE
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range st {
		if _, err := m.Down(ctx); err != nil {
			t.Fatalf("down: %v", err)
		}
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
}

func TestAuditAppendOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	err := f.db.InTenant(f.ctxA, func(tx *store.Tx) error {
		return tx.RecordAudit(f.ctxA, "member.added", "user", f.userA.ID.String(), "Ann", map[string]string{"role": "owner"})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{`UPDATE audit_events SET action = 'auth.logout'`, `DELETE FROM audit_events`, `TRUNCATE audit_events`} {
		t.Run(sql, func(t *testing.T) {
			err := f.db.InTenant(f.ctxA, func(tx *store.Tx) error {
				_, err := tx.Raw().Exec(f.ctxA, sql)
				return err
			})
			if err == nil {
				t.Fatalf("%s: allowed for the app role", sql)
			}
		})
	}
	t.Run("OtherTenantSeesNothing", func(t *testing.T) {
		var events []store.AuditEvent
		if err := f.db.ReadTenant(f.ctxB, func(b *store.Batch) { b.FindAuditEvents(store.AuditFilter{}, &events) }); err != nil {
			t.Fatal(err)
		}
		if len(events) != 0 {
			t.Fatalf("B sees %d of A's events", len(events))
		}
	})
	t.Run("Filters", func(t *testing.T) {
		var all, byAction, byActor, none []store.AuditEvent
		err := f.db.ReadTenant(f.ctxA, func(b *store.Batch) {
			b.FindAuditEvents(store.AuditFilter{}, &all)
			b.FindAuditEvents(store.AuditFilter{Action: "member.added"}, &byAction)
			b.FindAuditEvents(store.AuditFilter{Actor: "%"}, &byActor) // a literal %, not a wildcard
			b.FindAuditEvents(store.AuditFilter{From: time.Now().Add(time.Hour)}, &none)
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 1 || len(byAction) != 1 || len(byActor) != 0 || len(none) != 0 {
			t.Fatalf("all=%d action=%d actor=%d future=%d", len(all), len(byAction), len(byActor), len(none))
		}
		if all[0].Details["role"] != "owner" || all[0].TargetLabel != "Ann" {
			t.Fatalf("event = %+v", all[0])
		}
	})
}

func TestCustomRolesIsolation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var roleA *store.Role
	if err := f.db.InTenant(f.ctxA, func(tx *store.Tx) error {
		var err error
		roleA, err = tx.CreateRole(f.ctxA, "Auditor", []string{"dashboard.view", "audit.read"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Run("ErrNotFoundInOtherTenant", func(t *testing.T) {
		err := f.db.InTenant(f.ctxB, func(tx *store.Tx) error { _, err := tx.FindRoleByID(f.ctxB, roleA.ID); return err })
		if atrium.ErrorCode(err) != atrium.ENOTFOUND {
			t.Fatalf("B found A's role: %v", err)
		}
		err = f.db.InTenant(f.ctxB, func(tx *store.Tx) error { return tx.DeleteRole(f.ctxB, roleA.ID) })
		if atrium.ErrorCode(err) != atrium.ENOTFOUND {
			t.Fatalf("B deleted A's role: %v", err)
		}
	})
	t.Run("ErrMembershipCannotPointIntoOtherTenant", func(t *testing.T) {
		err := f.db.InTenant(f.ctxB, func(tx *store.Tx) error {
			m, err := tx.FindMemberByUserID(f.ctxB, f.userB.ID)
			if err != nil {
				return err
			}
			return tx.SetMemberCustomRole(f.ctxB, m.ID, roleA.ID)
		})
		if err == nil {
			t.Fatal("B's member was given A's role")
		}
	})
	t.Run("EnterReturnsCustomPermissions", func(t *testing.T) {
		if err := f.db.InTenant(f.ctxA, func(tx *store.Tx) error {
			return tx.SetMemberCustomRole(f.ctxA, f.memberA.ID, roleA.ID)
		}); err != nil {
			t.Fatal(err)
		}
		sessionFor(t, f, f.ctxA, "tok-custom", f.userA)
		e, err := f.db.Enter(context.Background(), "alpha", "tok-custom", nil)
		if err != nil || e.Member == nil {
			t.Fatalf("enter: %v", err)
		}
		if e.Member.Role != "custom" || e.Member.RoleName != "Auditor" || len(e.Member.Permissions) != 2 {
			t.Fatalf("member = %+v", e.Member)
		}
	})
}

func TestSessionIdleTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st := f.db.TenantSessions().WithIdleTimeout(time.Second)
	if err := st.CommitCtx(f.ctxA, "idle", []byte("x"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := st.FindCtx(f.ctxA, "idle"); !ok {
		t.Fatal("fresh session not found")
	}
	time.Sleep(1100 * time.Millisecond)
	if _, ok, _ := st.FindCtx(f.ctxA, "idle"); ok {
		t.Fatal("session found after its idle timeout")
	}
}
