package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/store/storetest"
)

// enter is Enter that must succeed.
func enter(t *testing.T, db *store.DB, slug, token string) *store.Entry {
	t.Helper()
	e, err := db.Enter(context.Background(), slug, token, nil)
	if err != nil {
		t.Fatalf("enter %s: %v", slug, err)
	}
	return e
}

// cached tells whether db's next Enter of token at slug comes from the
// cache (it enters once and compares the hit count).
func cached(t *testing.T, db *store.DB, slug, token string) bool {
	t.Helper()
	before := db.EntryCacheStats().Hits
	enter(t, db, slug, token)
	return db.EntryCacheStats().Hits > before
}

// TestEntryCache runs two servers with entry caches over one database and
// checks that each change that alters an entry reaches the other server's
// cache (after SyncChanges, as its notice would) and the writer's own cache
// at once.
func TestEntryCache(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	one, two := f.db.Server(t), f.db.Server(t)

	var carl *store.User
	var carlMember *store.Member
	err := f.db.InSystem(ctx, func(tx *store.SysTx) error {
		var err error
		if carl, err = tx.CreateUser(ctx, "c@alpha.test", "Carl", "x"); err != nil {
			return err
		}
		ta, err := tx.EnterTenant(ctx, f.a.ID)
		if err != nil {
			return err
		}
		carlMember, err = ta.CreateMembership(ctx, carl.ID, "member")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sessionFor(t, f, f.ctxA, "tok-ann", f.userA)
	sessionFor(t, f, f.ctxA, "tok-carl", carl)
	sessionFor(t, f, f.ctxB, "tok-ann-at-b", f.userA) // no member's

	// warm enters token on both servers and checks the second Enter is a hit.
	warm := func(t *testing.T, slug, token string) {
		t.Helper()
		for _, db := range []*store.DB{one, two} {
			enter(t, db, slug, token)
			if !cached(t, db, slug, token) {
				t.Fatalf("second Enter of %s at %s did not come from the cache", token, slug)
			}
		}
	}
	// changed makes a change through server one and returns what each
	// server then sees: one at once (its own write), two after the notice.
	changed := func(t *testing.T, slug, token string, change func(db *store.DB) error) (mine, theirs *store.Entry) {
		t.Helper()
		warm(t, slug, token)
		if err := change(one); err != nil {
			t.Fatal(err)
		}
		e1, err1 := one.Enter(ctx, slug, token, nil)
		storetest.Sync(t, two)
		e2, err2 := two.Enter(ctx, slug, token, nil)
		// one hears its own notice too; let it land before the next step.
		storetest.Sync(t, one)
		if atrium.ErrorCode(err1) != atrium.ErrorCode(err2) {
			t.Fatalf("servers disagree: %v / %v", err1, err2)
		}
		return e1, e2
	}

	t.Run("HitIsACopy", func(t *testing.T) {
		sessionFor(t, f, f.ctxA, "tok-ann-copy", f.userA)
		kept := enter(t, one, "alpha", "tok-ann-copy") // the miss that fills the cache
		kept.Member.Role = "viewer"
		if e := enter(t, one, "alpha", "tok-ann-copy"); e.Member.Role != "owner" {
			t.Fatalf("a change to the entry that filled the cache reached it: %+v", e.Member)
		}
		warm(t, "alpha", "tok-ann")
		e := enter(t, one, "alpha", "tok-ann")
		e.Member.Role, e.Tenant.Name = "viewer", "Mallory"
		if e := enter(t, one, "alpha", "tok-ann"); e.Member.Role != "owner" || e.Tenant.Name != "Alpha" {
			t.Fatalf("a caller's change reached the cache: %+v %+v", e.Tenant, e.Member)
		}
	})
	t.Run("NonMemberKeptWithoutReads", func(t *testing.T) {
		// A live session that is no member's (here Ann's at bravo) is
		// kept too, but a member's page reads nothing through it; once
		// she joins, the notice of her membership drops it.
		enter(t, one, "bravo", "tok-ann-at-b")
		if !cached(t, one, "bravo", "tok-ann-at-b") {
			t.Fatal("a live session without a membership was not kept")
		}
		ran := false
		e, err := one.Enter(ctx, "bravo", "tok-ann-at-b", func(b *store.Batch) { ran = true })
		if err != nil || e.Member != nil || e.Session == nil || ran {
			t.Fatalf("a non-member's kept entry: %+v, %v, load ran: %v", e, err, ran)
		}
		joined := join(t, two, f.b.ID, f.userA.ID, "viewer")
		storetest.Sync(t, one)
		if e := enter(t, one, "bravo", "tok-ann-at-b"); e.Member == nil || e.Member.ID != joined.ID {
			t.Fatalf("after joining: %+v", e.Member)
		}
		if err := two.InTenant(f.ctxB, func(tx *store.Tx) error { return tx.DeleteMember(ctx, joined.ID) }); err != nil {
			t.Fatal(err)
		}
		storetest.Sync(t, one)
		storetest.Sync(t, two)
	})
	t.Run("SlugMustMatch", func(t *testing.T) {
		warm(t, "alpha", "tok-ann")
		if e := enter(t, one, "bravo", "tok-ann"); e.Session != nil || e.Member != nil {
			t.Fatalf("Alpha's token at Bravo: %+v", e)
		}
	})
	t.Run("LoadReadsUnderTheTenant", func(t *testing.T) {
		warm(t, "alpha", "tok-ann")
		var n int
		e, err := one.Enter(ctx, "alpha", "tok-ann", func(b *store.Batch) { b.CountMembers(&n) })
		if err != nil || e.Member == nil || n != 2 {
			t.Fatalf("cached entry with page reads: %+v, members %d, %v", e, n, err)
		}
	})
	t.Run("FailedReadFails", func(t *testing.T) {
		// On a hit the member is known, so a page read that fails is an
		// error, never a page with its rows silently missing.
		warm(t, "alpha", "tok-ann")
		var n int
		_, err := one.Enter(ctx, "alpha", "tok-ann", func(b *store.Batch) {
			b.Raw(`SELECT 1/0`)
			b.CountMembers(&n)
		})
		if err == nil {
			t.Fatal("a failed page read on a cache hit returned no error")
		}
		if !cached(t, one, "alpha", "tok-ann") {
			t.Fatal("a failed page read dropped the entry")
		}
	})
	t.Run("FiguresFromMemory", func(t *testing.T) {
		// The tenant row's figures come with the entry: a page that reads
		// only them (the dashboard's member count, the security settings)
		// costs no statement. Figures changed behind the triggers' back
		// show which answer came from where.
		warm(t, "alpha", "tok-ann")
		owner := f.db.OwnerConn(t)
		defer owner.Close(ctx)
		var members, withoutMFA int
		if err := owner.QueryRow(ctx, `SELECT member_count, members_without_mfa FROM tenants WHERE slug = 'alpha'`).
			Scan(&members, &withoutMFA); err != nil {
			t.Fatal(err)
		}
		quietly := func(members, withoutMFA int) {
			t.Helper()
			behindTriggers(t, owner, "tenants", "tenants_entry_change", uuid.Nil,
				fmt.Sprintf(`UPDATE tenants SET member_count = %d, members_without_mfa = %d WHERE slug = 'alpha'`, members, withoutMFA))
		}
		quietly(99, 0)
		defer quietly(members, withoutMFA)
		var alone, withOthers, fromRow int
		var sec, secFromRow store.SecuritySettings
		if _, err := one.Enter(ctx, "alpha", "tok-ann", func(b *store.Batch) { b.CountMembers(&alone) }); err != nil {
			t.Fatal(err)
		}
		if _, err := one.Enter(ctx, "alpha", "tok-ann", func(b *store.Batch) {
			b.CountMembers(&withOthers)
			b.Raw(`SELECT 1`)
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := one.Enter(ctx, "alpha", "tok-ann", func(b *store.Batch) { b.FindSecuritySettings(&sec) }); err != nil {
			t.Fatal(err)
		}
		if err := one.ReadTenant(f.ctxA, func(b *store.Batch) {
			b.CountMembers(&fromRow)
			b.FindSecuritySettings(&secFromRow)
		}); err != nil {
			t.Fatal(err)
		}
		if alone != members || withOthers != members || fromRow != 99 {
			t.Fatalf("count alone %d, with other reads %d (want the entry's %d), without an entry %d (want the row's 99)",
				alone, withOthers, members, fromRow)
		}
		if sec.Members != members || sec.MembersWithoutMFA != withoutMFA || secFromRow.Members != 99 || secFromRow.MembersWithoutMFA != 0 {
			t.Fatalf("security settings from the entry %+v (want %d and %d), from the row %+v (want 99 and 0)",
				sec, members, withoutMFA, secFromRow)
		}
	})
	t.Run("MFATurnedOn", func(t *testing.T) {
		// Another member turning on two-factor authentication moves the
		// organization's figures, which Ann's entry carries: the server
		// that wrote drops it at once, the other with the notice.
		warm(t, "alpha", "tok-ann")
		before := enter(t, one, "alpha", "tok-ann").MembersWithoutMFA
		e1, e2 := changed(t, "alpha", "tok-ann", func(db *store.DB) error {
			return db.InSystem(ctx, func(tx *store.SysTx) error { return tx.EnableMFA(ctx, carl.ID, testSecret, 1, nil) })
		})
		if e1.MembersWithoutMFA != before-1 || e2.MembersWithoutMFA != before-1 {
			t.Fatalf("members without MFA after Carl turned it on: %d, %d, want %d", e1.MembersWithoutMFA, e2.MembersWithoutMFA, before-1)
		}
		if err := one.InSystem(ctx, func(tx *store.SysTx) error { return tx.DisableMFA(ctx, carl.ID) }); err != nil {
			t.Fatal(err)
		}
		storetest.Sync(t, one)
		storetest.Sync(t, two)
	})
	t.Run("MemberAdded", func(t *testing.T) {
		e1, e2 := changed(t, "alpha", "tok-ann", func(db *store.DB) error {
			return db.InSystem(ctx, func(tx *store.SysTx) error {
				u, err := tx.CreateUser(ctx, "d@alpha.test", "Dora", "x")
				if err != nil {
					return err
				}
				ta, err := tx.EnterTenant(ctx, f.a.ID)
				if err != nil {
					return err
				}
				_, err = ta.CreateMembership(ctx, u.ID, "member")
				return err
			})
		})
		if e1.MemberCount != 3 || e2.MemberCount != 3 {
			t.Fatalf("member counts after a member joined: %d, %d, want 3", e1.MemberCount, e2.MemberCount)
		}
	})
	t.Run("RoleChange", func(t *testing.T) {
		e1, e2 := changed(t, "alpha", "tok-carl", func(db *store.DB) error {
			return db.InTenant(f.ctxA, func(tx *store.Tx) error { return tx.UpdateMemberRole(ctx, carlMember.ID, "admin") })
		})
		if e1.Member.Role != "admin" || e2.Member.Role != "admin" {
			t.Fatalf("roles after the change: %q, %q", e1.Member.Role, e2.Member.Role)
		}
	})
	t.Run("UserName", func(t *testing.T) {
		e1, e2 := changed(t, "alpha", "tok-carl", func(db *store.DB) error {
			return db.InSystem(ctx, func(tx *store.SysTx) error { return tx.UpdateUserName(ctx, carl.ID, "Carlos") })
		})
		if e1.Member.Name != "Carlos" || e2.Member.Name != "Carlos" {
			t.Fatalf("names after the change: %q, %q", e1.Member.Name, e2.Member.Name)
		}
	})
	t.Run("RequireMFA", func(t *testing.T) {
		e1, e2 := changed(t, "alpha", "tok-carl", func(db *store.DB) error {
			return db.InTenant(f.ctxA, func(tx *store.Tx) error { _, err := tx.UpdateRequireMFA(ctx, true); return err })
		})
		if !e1.Tenant.RequireMFA || !e2.Tenant.RequireMFA {
			t.Fatal("the organization's MFA requirement did not reach the cache")
		}
	})
	t.Run("RenameTenant", func(t *testing.T) {
		e1, e2 := changed(t, "alpha", "tok-carl", func(db *store.DB) error {
			return db.InTenant(f.ctxA, func(tx *store.Tx) error { return tx.RenameTenant(ctx, "Alpha Two") })
		})
		if e1.Tenant.Name != "Alpha Two" || e2.Tenant.Name != "Alpha Two" {
			t.Fatalf("names after the rename: %q, %q", e1.Tenant.Name, e2.Tenant.Name)
		}
	})
	t.Run("SessionRewritten", func(t *testing.T) {
		warm(t, "alpha", "tok-ann")
		_, e2 := changed(t, "alpha", "tok-carl", func(db *store.DB) error {
			return db.TenantSessions().CommitCtx(f.ctxA, "tok-carl", encodeSession(t, carl), time.Now().Add(2*time.Hour))
		})
		if e2.Session == nil || e2.Member == nil {
			t.Fatalf("a rewritten session: %+v", e2)
		}
		for _, db := range []*store.DB{one, two} {
			if !cached(t, db, "alpha", "tok-ann") {
				t.Fatalf("rewriting one session dropped another: %+v", db.EntryCacheStats())
			}
		}
	})
	t.Run("MemberRemoved", func(t *testing.T) {
		e1, e2 := changed(t, "alpha", "tok-carl", func(db *store.DB) error {
			return db.InTenant(f.ctxA, func(tx *store.Tx) error { return tx.DeleteMember(ctx, carlMember.ID) })
		})
		if e1.Member != nil || e2.Member != nil {
			t.Fatalf("a removed member still enters: %+v, %+v", e1.Member, e2.Member)
		}
	})
	t.Run("SessionRevoked", func(t *testing.T) {
		e1, e2 := changed(t, "alpha", "tok-ann", func(db *store.DB) error {
			return db.TenantSessions().DeleteCtx(f.ctxA, "tok-ann")
		})
		if e1.Session != nil || e2.Session != nil || e1.Member != nil || e2.Member != nil {
			t.Fatal("a revoked session still enters")
		}
	})
	t.Run("TenantDeleted", func(t *testing.T) {
		sessionFor(t, f, f.ctxA, "tok-ann-2", f.userA)
		warm(t, "alpha", "tok-ann-2")
		if err := one.InTenant(f.ctxA, func(tx *store.Tx) error { return tx.DeleteTenant(ctx) }); err != nil {
			t.Fatal(err)
		}
		storetest.Sync(t, two)
		for _, db := range []*store.DB{one, two} {
			if _, err := db.Enter(ctx, "alpha", "tok-ann-2", nil); atrium.ErrorCode(err) != atrium.ENOTFOUND {
				t.Fatalf("a deleted organization: %v, want not found", err)
			}
		}
	})
}

// TestEntryCacheChangesByOthers covers changes that no server's transaction
// names: made directly in the database, they reach the caches only through
// the triggers' notices.
func TestEntryCacheChangesByOthers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	db := f.db.Server(t)
	sessionFor(t, f, f.ctxA, "tok-ann", f.userA)
	owner := f.db.OwnerConn(t)
	defer owner.Close(ctx)
	// The owner is held to the policies too (FORCE ROW LEVEL SECURITY).
	if _, err := owner.Exec(ctx, `SELECT set_config('app.tenant_id', $1, false)`, f.a.ID.String()); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, sql string
		check     func(*store.Entry) bool
	}{
		{"MFA", `UPDATE users SET mfa_enabled_at = now(), totp_secret = 'JBSWY3DPEHPK3PXP' WHERE email = 'a@alpha.test'`,
			func(e *store.Entry) bool { return e.MFAEnabled }},
		{"Role", `UPDATE memberships SET role = 'viewer' WHERE user_id = (SELECT id FROM users WHERE email = 'a@alpha.test')`,
			func(e *store.Entry) bool { return e.Member.Role == "viewer" }},
		{"MemberAdded", `WITH u AS (INSERT INTO users (email, name, password_hash) VALUES ('z@alpha.test', 'Zed', 'x') RETURNING id)
			INSERT INTO memberships (tenant_id, user_id, role) SELECT current_setting('app.tenant_id')::uuid, id, 'member' FROM u`,
			func(e *store.Entry) bool { return e.MemberCount == 2 }},
		{"Session", `UPDATE sessions SET data = data`,
			func(e *store.Entry) bool { return e.Member != nil }},
		{"Purge", `DELETE FROM sessions`,
			func(e *store.Entry) bool { return e.Session == nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enter(t, db, "alpha", "tok-ann")
			if !cached(t, db, "alpha", "tok-ann") {
				t.Fatal("not cached")
			}
			if _, err := owner.Exec(ctx, tc.sql); err != nil {
				t.Fatal(err)
			}
			storetest.Sync(t, db)
			if db.EntryCacheStats().Entries != 0 {
				t.Fatal("the entry stayed in the cache")
			}
			if e := enter(t, db, "alpha", "tok-ann"); !tc.check(e) {
				t.Fatalf("entry after the change: %+v", e)
			}
		})
	}
}

// TestEntryCacheFailsClosed cuts the watcher's connection: the cache must
// forget everything and stop answering until the watcher hears again.
func TestEntryCacheFailsClosed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	db := f.db.Server(t)
	sessionFor(t, f, f.ctxA, "tok-ann", f.userA)
	enter(t, db, "alpha", "tok-ann")
	if !cached(t, db, "alpha", "tok-ann") {
		t.Fatal("not cached")
	}
	err := db.InSystem(ctx, func(*store.SysTx) error { return nil })
	if err != nil || db.EntryCacheStats().Entries != 1 {
		t.Fatalf("entries after a system transaction that changed nothing: %d, %v", db.EntryCacheStats().Entries, err)
	}
	var n int
	// The app role may end its own role's backends.
	appConn, err := pgx.Connect(ctx, f.db.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	defer appConn.Close(ctx)
	if err := appConn.QueryRow(ctx, `
		SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = 'atrium watcher'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("terminated %d watchers: %v", n, err)
	}
	waitFor(t, "the cache to go off", func() bool { return !db.EntryCacheStats().Live })
	if s := db.EntryCacheStats(); s.Entries != 0 {
		t.Fatalf("a deaf cache kept %d entries", s.Entries)
	}
	if cached(t, db, "alpha", "tok-ann") {
		t.Fatal("a deaf cache answered")
	}
	waitFor(t, "the watcher to reconnect", func() bool { return db.EntryCacheStats().Live })
	enter(t, db, "alpha", "tok-ann")
	if !cached(t, db, "alpha", "tok-ann") {
		t.Fatal("the cache did not come back")
	}
}

// waitFor polls cond for up to 20 seconds; what it waits for happens in
// the background (a connection noticed lost, a reconnect).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// TestOrganizationReads covers the reads kept per organization beside the
// entries (orgKept): read once, answered from memory after, and dropped by
// a change through the server itself at once or through another after the
// notice (migration 00022), including a row inserted where none was kept.
func TestOrganizationReads(t *testing.T) {
	t.Parallel()
	f, one, two, owner := keptFixture(t)
	ctx := context.Background()

	read := func(t *testing.T, db *store.DB, tctx context.Context) *store.JoinLink {
		t.Helper()
		var l *store.JoinLink
		if err := db.ReadTenant(tctx, func(b *store.Batch) { b.FindJoinLink(&l) }); err != nil {
			t.Fatal(err)
		}
		return l
	}
	enable := func(t *testing.T, db *store.DB, tctx context.Context, domain string) {
		t.Helper()
		if err := db.InTenant(tctx, func(tx *store.Tx) error { return tx.EnableJoinLink(ctx, domain, "tok-"+domain, f.userA.ID) }); err != nil {
			t.Fatal(err)
		}
	}
	// quietly changes alpha's link behind the trigger's back: whoever still
	// shows the old domain answered from memory.
	quietly := func(t *testing.T, domain string) {
		t.Helper()
		behindTriggers(t, owner, "tenant_join_links", "tenant_join_links_entry_change", f.a.ID,
			fmt.Sprintf(`UPDATE tenant_join_links SET domain = '%s'`, domain))
	}

	// None yet: kept as none, and a link created on the other server
	// reaches this one with the notice of the insert.
	if l := read(t, one, f.ctxA); l != nil {
		t.Fatalf("a link before any was made: %+v", l)
	}
	enable(t, two, f.ctxA, "alpha.test")
	storetest.Sync(t, one)
	if l := read(t, one, f.ctxA); l == nil || l.Domain != "alpha.test" || !l.Enabled || l.UpdatedBy != "Ann" {
		t.Fatalf("link after it was made elsewhere: %+v", l)
	}

	// From memory: the quiet change is not seen until an announced one.
	quietly(t, "quiet.test")
	if l := read(t, one, f.ctxA); l.Domain != "alpha.test" {
		t.Fatalf("second read saw %q: it did not come from memory", l.Domain)
	}
	if l := read(t, one, f.ctxA); l == nil {
		t.Fatal("a kept link answered nil")
	} else {
		l.Domain = "scribbled" // the caller's copy, not the cache's
	}
	if l := read(t, one, f.ctxA); l.Domain != "alpha.test" {
		t.Fatalf("a caller's change reached the cache: %q", l.Domain)
	}
	// Bravo's link is its own: none, whatever alpha's is.
	if l := read(t, one, f.ctxB); l != nil {
		t.Fatalf("bravo read %+v", l)
	}

	// Turned off through the other server: this one after the notice.
	read(t, two, f.ctxA)
	if err := two.InTenant(f.ctxA, func(tx *store.Tx) error { return tx.DisableJoinLink(ctx, f.userA.ID) }); err != nil {
		t.Fatal(err)
	}
	if l := read(t, two, f.ctxA); l.Enabled || l.Domain != "quiet.test" {
		t.Fatalf("the writing server read %+v, want its own write at once", l)
	}
	storetest.Sync(t, one)
	if l := read(t, one, f.ctxA); l.Enabled || l.Domain != "quiet.test" {
		t.Fatalf("after the notice: %+v", l)
	}

	// Roles, with their member counts and as a select's choices.
	roles := func(t *testing.T, db *store.DB) (list, choices []store.Role) {
		t.Helper()
		if err := db.ReadTenant(f.ctxA, func(b *store.Batch) { b.FindRoles(&list) }); err != nil {
			t.Fatal(err)
		}
		if err := db.ReadTenant(f.ctxA, func(b *store.Batch) { b.FindRoleChoices(&choices) }); err != nil {
			t.Fatal(err)
		}
		return list, choices
	}
	if list, _ := roles(t, one); len(list) != 0 {
		t.Fatalf("roles before any was made: %+v", list)
	}
	var auditor *store.Role
	if err := two.InTenant(f.ctxA, func(tx *store.Tx) error {
		var err error
		auditor, err = tx.CreateRole(ctx, "Auditor", []string{"audit.read"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	storetest.Sync(t, one)
	list, choices := roles(t, one)
	if len(list) != 1 || list[0].Name != "Auditor" || list[0].Members != 0 || len(list[0].Permissions) != 1 {
		t.Fatalf("roles after one was made elsewhere: %+v", list)
	}
	if len(choices) != 1 || choices[0].ID != auditor.ID || choices[0].Name != "Auditor" || choices[0].Permissions != nil {
		t.Fatalf("role choices: %+v", choices)
	}
	// From memory: a quiet rename is not seen.
	behindTriggers(t, owner, "roles", "roles_entry_change", f.a.ID, `UPDATE roles SET name = 'Quiet'`)
	if list, choices := roles(t, one); list[0].Name != "Auditor" || choices[0].Name != "Auditor" {
		t.Fatalf("roles read %q and %q: not from memory", list[0].Name, choices[0].Name)
	}
	// A member given the role elsewhere: the count moves with the notice.
	var eve *store.Member
	err := two.InSystem(ctx, func(tx *store.SysTx) error {
		u, err := tx.CreateUser(ctx, "e@alpha.test", "Eve", "x")
		if err != nil {
			return err
		}
		ta, err := tx.EnterTenant(ctx, f.a.ID)
		if err != nil {
			return err
		}
		if eve, err = ta.CreateMembership(ctx, u.ID, "member"); err != nil {
			return err
		}
		return ta.SetMemberCustomRole(ctx, eve.ID, auditor.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	storetest.Sync(t, one)
	if list, _ := roles(t, one); len(list) != 1 || list[0].Members != 1 || list[0].Name != "Quiet" {
		t.Fatalf("roles after a member took one: %+v", list)
	}

	// A member by id, with their custom role; one not found is not kept.
	member := func(t *testing.T, db *store.DB, id uuid.UUID) *store.Member {
		t.Helper()
		var m *store.Member
		if err := db.ReadTenant(f.ctxA, func(b *store.Batch) { b.FindMemberByID(id, &m) }); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := member(t, one, eve.ID); m == nil || m.Name != "Eve" || m.RoleName != "Quiet" || len(m.Permissions) != 1 {
		t.Fatalf("Eve read %+v", m)
	}
	behindTriggers(t, owner, "memberships", "memberships_entry_change", f.a.ID, `UPDATE memberships SET name = 'Quiet Eve' WHERE name = 'Eve'`)
	if m := member(t, one, eve.ID); m.Name != "Eve" {
		t.Fatalf("Eve read as %q: not from memory", m.Name)
	}
	if m := member(t, one, uuid.New()); m != nil {
		t.Fatalf("a member nobody is: %+v", m)
	}
	if err := two.InTenant(f.ctxA, func(tx *store.Tx) error { return tx.UpdateMemberRole(ctx, eve.ID, "viewer") }); err != nil {
		t.Fatal(err)
	}
	storetest.Sync(t, one)
	if m := member(t, one, eve.ID); m.Role != "viewer" || m.CustomRoleID != nil || m.Name != "Quiet Eve" {
		t.Fatalf("Eve after her role changed elsewhere: %+v", m)
	}
	// Another organization's member is not found there, kept or not.
	if err := one.ReadTenant(f.ctxB, func(b *store.Batch) {
		var m *store.Member
		b.FindMemberByID(eve.ID, &m)
		if m != nil {
			t.Errorf("bravo found alpha's member from memory: %+v", m)
		}
	}); err != nil {
		t.Fatal(err)
	}

	// A visitor's page: the organization by slug, its join link by token.
	enable(t, one, f.ctxA, "alpha.test") // token "tok-alpha.test"
	storetest.Sync(t, one)               // the link's notice must not come in after the reads below are kept
	visit := func(t *testing.T, db *store.DB, slug, token string) (*store.Entry, *store.JoinLink, error) {
		t.Helper()
		var l *store.JoinLink
		e, err := db.Visit(ctx, slug, "", func(b *store.Batch) { b.FindJoinLinkByToken(token, &l) })
		return e, l, err
	}
	for range 2 {
		e, l, err := visit(t, one, "alpha", "tok-alpha.test")
		if err != nil || e.Tenant.ID != f.a.ID || e.Tenant.Name != "Alpha" || l == nil || l.Domain != "alpha.test" {
			t.Fatalf("visit: %+v, %+v, %v", e, l, err)
		}
		if _, l, err := visit(t, one, "alpha", "tok-wrong"); err != nil || l != nil {
			t.Fatalf("a wrong token found %+v, %v", l, err)
		}
	}
	behindTriggers(t, owner, "tenants", "tenants_entry_change", uuid.Nil, `UPDATE tenants SET name = 'Quiet Alpha' WHERE slug = 'alpha'`)
	behindTriggers(t, owner, "tenant_join_links", "tenant_join_links_entry_change", f.a.ID, `UPDATE tenant_join_links SET token_hash = NULL`)
	if e, l, err := visit(t, one, "alpha", "tok-alpha.test"); err != nil || e.Tenant.Name != "Alpha" || l == nil {
		t.Fatalf("visit after quiet changes: %+v, %+v, %v (want both from memory)", e, l, err)
	}
	if e, err := one.Enter(ctx, "alpha", "", nil); err != nil || e.Tenant.Name != "Alpha" {
		t.Fatalf("a visitor's entry: %+v, %v (want it from memory)", e, err)
	}
	// A new URL, set through the other server: the old one is gone here
	// with the notice, and the new one is found with what the row has.
	if err := two.InTenant(f.ctxA, func(tx *store.Tx) error { return tx.ChangeTenantSlug(ctx, "alpha-two") }); err != nil {
		t.Fatal(err)
	}
	storetest.Sync(t, one)
	if _, _, err := visit(t, one, "alpha", "tok-alpha.test"); atrium.ErrorCode(err) != atrium.ENOTFOUND {
		t.Fatalf("the old URL after the change: %v, want ENOTFOUND", err)
	}
	e, l, err := visit(t, one, "alpha-two", "tok-alpha.test")
	if err != nil || e.Tenant.Name != "Quiet Alpha" || l != nil {
		t.Fatalf("the new URL: %+v, %+v, %v (want the row's name and no link on)", e, l, err)
	}
	if err := two.InTenant(f.ctxA, func(tx *store.Tx) error { return tx.DeleteTenant(ctx) }); err != nil {
		t.Fatal(err)
	}
	storetest.Sync(t, one)
	if _, err := one.Enter(ctx, "alpha-two", "", nil); atrium.ErrorCode(err) != atrium.ENOTFOUND {
		t.Fatalf("a deleted organization: %v, want ENOTFOUND", err)
	}
}

// behindTriggers runs sql as the owner (in tenant, unless uuid.Nil) with
// table's trigger off, so that no notice announces the change: whoever
// still shows what was there before answered from memory.
func behindTriggers(t *testing.T, owner *pgx.Conn, table, trigger string, tenant uuid.UUID, sql string) {
	t.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, owner, func(tx pgx.Tx) error {
		stmts := []string{fmt.Sprintf(`ALTER TABLE %s DISABLE TRIGGER %s`, table, trigger)}
		if tenant != uuid.Nil {
			stmts = append(stmts, fmt.Sprintf(`SELECT set_config('app.tenant_id', '%s', true)`, tenant))
		}
		stmts = append(stmts, sql, fmt.Sprintf(`ALTER TABLE %s ENABLE TRIGGER %s`, table, trigger))
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUserOrganizationsKept covers the switcher's list kept per user: from
// memory until the user joins an organization or one listed changes (a
// rename, a departure), through the server itself or another.
func TestUserOrganizationsKept(t *testing.T) {
	t.Parallel()
	f, one, two, owner := keptFixture(t)
	ctx := context.Background()

	names := func(t *testing.T, db *store.DB) string {
		t.Helper()
		list, err := db.UserOrganizations(ctx, f.userA.ID)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, o := range list {
			s = append(s, o.Slug+"="+o.Name)
		}
		return strings.Join(s, ",")
	}
	if got := names(t, one); got != "alpha=Alpha" {
		t.Fatalf("Ann's organizations: %s", got)
	}
	behindTriggers(t, owner, "tenants", "tenants_entry_change", uuid.Nil, `UPDATE tenants SET name = 'Quiet' WHERE slug = 'alpha'`)
	if got := names(t, one); got != "alpha=Alpha" {
		t.Fatalf("second read %s: not from memory", got)
	}
	// Ann joins bravo through the other server, which drops its own list
	// at once: the notice of her new membership brings it here.
	names(t, two)
	annAtB := join(t, two, f.b.ID, f.userA.ID, "member")
	if got := names(t, two); got != "bravo=Bravo,alpha=Quiet" {
		t.Fatalf("the writing server: %s", got)
	}
	storetest.Sync(t, one)
	if got := names(t, one); got != "bravo=Bravo,alpha=Quiet" {
		t.Fatalf("after joining bravo: %s", got)
	}
	// A listed organization renamed, then left, through the other server.
	if err := two.InTenant(f.ctxB, func(tx *store.Tx) error { return tx.RenameTenant(ctx, "Bravo Two") }); err != nil {
		t.Fatal(err)
	}
	storetest.Sync(t, one)
	if got := names(t, one); got != "bravo=Bravo Two,alpha=Quiet" {
		t.Fatalf("after bravo's rename: %s", got)
	}
	if err := two.InTenant(f.ctxB, func(tx *store.Tx) error { return tx.DeleteMember(ctx, annAtB.ID) }); err != nil {
		t.Fatal(err)
	}
	storetest.Sync(t, one)
	if got := names(t, one); got != "alpha=Quiet" {
		t.Fatalf("after leaving bravo: %s", got)
	}
}

// join makes user a member of tenant with role, through db.
func join(t *testing.T, db *store.DB, tenant, user uuid.UUID, role string) *store.Member {
	t.Helper()
	var m *store.Member
	err := db.InSystem(context.Background(), func(tx *store.SysTx) error {
		tt, err := tx.EnterTenant(context.Background(), tenant)
		if err != nil {
			return err
		}
		m, err = tt.CreateMembership(context.Background(), user, role)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSessionListKept covers a member's list of their sessions kept per
// organization: from memory, with the caller's session first, until one of
// the sessions changes or a new one is theirs (migration 00022).
func TestSessionListKept(t *testing.T) {
	t.Parallel()
	f, one, _, owner := keptFixture(t)

	list := func(t *testing.T, current string) string {
		t.Helper()
		var l []store.Session
		if err := one.ReadTenant(f.ctxA, func(b *store.Batch) { b.FindUserSessions(f.userA.ID, current, &l) }); err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, x := range l {
			mark := ""
			if x.Current {
				mark = "*"
			}
			s = append(s, x.UserAgent+mark)
		}
		return strings.Join(s, ",")
	}
	sessionFor(t, f, f.ctxA, "s-1", f.userA)
	behindTriggers(t, owner, "sessions", "sessions_entry_update", f.a.ID, `UPDATE sessions SET user_agent = 'one'`)
	storetest.Sync(t, one)
	if got := list(t, "s-1"); got != "one*" {
		t.Fatalf("Ann's sessions: %q", got)
	}
	behindTriggers(t, owner, "sessions", "sessions_entry_update", f.a.ID, `UPDATE sessions SET user_agent = 'quiet'`)
	if got := list(t, "s-1"); got != "one*" {
		t.Fatalf("second read %q: not from memory", got)
	}
	// A new session of hers, made elsewhere: its notice brings it here.
	sessionFor(t, f, f.ctxA, "s-2", f.userA)
	storetest.Sync(t, one)
	// Its user agent is unknown (""): the caller's session first, marked.
	if got := list(t, "s-2"); got != "*,quiet" {
		t.Fatalf("after a new session: %q, want both, read again", got)
	}
	if got := list(t, "s-1"); got != "quiet*," {
		t.Fatalf("the same list for the other session: %q", got)
	}
	// One revoked here: dropped at once.
	if err := one.TenantSessions().DeleteCtx(f.ctxA, "s-2"); err != nil {
		t.Fatal(err)
	}
	if got := list(t, "s-1"); got != "quiet*" {
		t.Fatalf("after revoking s-2: %q", got)
	}
}

// TestInviteKept covers invitations kept by their link's token: from
// memory until the invitation changes (migration 00022), through the
// server itself or another.
func TestInviteKept(t *testing.T) {
	t.Parallel()
	f, one, two, owner := keptFixture(t)
	ctx := context.Background()

	var inv *store.Invite
	if err := one.InTenant(f.ctxA, func(tx *store.Tx) (err error) {
		inv, err = tx.CreateInvite(ctx, "new@alpha.test", "member", "inv-1", f.userA.ID, time.Now().Add(time.Hour))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	storetest.Sync(t, one) // the invitation's notice must not come in after the reads below are kept
	visit := func(t *testing.T, db *store.DB, token string) (*store.Invite, bool) {
		t.Helper()
		var i *store.Invite
		var has bool
		if _, err := db.Visit(ctx, "alpha", "", func(b *store.Batch) { b.FindInviteByToken(token, &i, &has) }); err != nil {
			t.Fatal(err)
		}
		return i, has
	}
	// The first visit finds the organization by its slug, the second
	// reads under the organization kept and keeps the invitation.
	for range 2 {
		if i, has := visit(t, one, "inv-1"); i == nil || i.ID != inv.ID || i.Role != "member" || i.InvitedBy != "Ann" || has {
			t.Fatalf("the invitation: %+v, has an account: %v", i, has)
		}
	}
	behindTriggers(t, owner, "invites", "invites_entry_change", f.a.ID, `UPDATE invites SET role = 'admin'`)
	if i, _ := visit(t, one, "inv-1"); i.Role != "member" {
		t.Fatalf("second read %q: not from memory", i.Role)
	}
	if i, _ := visit(t, one, "inv-2"); i != nil {
		t.Fatalf("a token nobody was given: %+v", i)
	}
	// Revoked through the other server: gone from memory with the notice.
	if err := two.InTenant(f.ctxA, func(tx *store.Tx) error { return tx.RevokeInvite(ctx, inv.ID) }); err != nil {
		t.Fatal(err)
	}
	storetest.Sync(t, one)
	if i, _ := visit(t, one, "inv-1"); i == nil || i.RevokedAt == nil || i.Role != "admin" {
		t.Fatalf("after it was revoked elsewhere: %+v", i)
	}
}

// TestOpenInvitesKept covers the members page's list of open invitations
// kept per organization: from memory until an invitation is added or
// changes (migrations 00022 and 00023), through the server itself or
// another.
func TestOpenInvitesKept(t *testing.T) {
	t.Parallel()
	f, one, two, owner := keptFixture(t)
	ctx := context.Background()
	invite := func(t *testing.T, db *store.DB, email string) {
		t.Helper()
		if err := db.InTenant(f.ctxA, func(tx *store.Tx) error {
			_, err := tx.CreateInvite(ctx, email, "member", "tok-"+email, f.userA.ID, time.Now().Add(time.Hour))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	open := func(t *testing.T, db *store.DB) string {
		t.Helper()
		var list []store.Invite
		if err := db.ReadTenant(f.ctxA, func(b *store.Batch) { b.FindOpenInvites(&list) }); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, i := range list {
			out = append(out, i.Email+":"+i.Role)
		}
		return strings.Join(out, ",")
	}
	invite(t, one, "a@x.test")
	storetest.Sync(t, one)
	if got := open(t, one); got != "a@x.test:member" {
		t.Fatalf("open invitations: %q", got)
	}
	behindTriggers(t, owner, "invites", "invites_entry_change", f.a.ID, `UPDATE invites SET role = 'admin'`)
	if got := open(t, one); got != "a@x.test:member" {
		t.Fatalf("second read %q: not from memory", got)
	}
	// A new invitation through this server: dropped at commit.
	invite(t, one, "b@x.test")
	if got := open(t, one); got != "b@x.test:member,a@x.test:admin" {
		t.Fatalf("after an invitation here: %q", got)
	}
	// Through the other server: dropped with the notice of the insert.
	invite(t, two, "c@x.test")
	storetest.Sync(t, one)
	if got := open(t, one); got != "c@x.test:member,b@x.test:member,a@x.test:admin" {
		t.Fatalf("after an invitation elsewhere: %q", got)
	}
}

// TestAuditPageKept covers the first page of an organization's audit log
// kept in memory: from memory until an event is recorded (migration
// 00024), through the server itself or another; a filtered page or one of
// another size is always read.
func TestAuditPageKept(t *testing.T) {
	t.Parallel()
	f, one, two, owner := keptFixture(t)
	ctx := context.Background()
	record := func(t *testing.T, db *store.DB, action string) {
		t.Helper()
		if err := db.InTenant(f.ctxA, func(tx *store.Tx) error {
			return tx.RecordAudit(ctx, action, "", "", "", nil)
		}); err != nil {
			t.Fatal(err)
		}
	}
	page := func(t *testing.T, db *store.DB, filter store.AuditFilter) string {
		t.Helper()
		var list []store.AuditEvent
		if err := db.ReadTenant(f.ctxA, func(b *store.Batch) { b.FindAuditEvents(filter, &list) }); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range list {
			out = append(out, e.Action)
		}
		return strings.Join(out, ",")
	}
	first, filtered := store.AuditFilter{Limit: 50}, store.AuditFilter{Action: "test.quiet", Limit: 50}
	record(t, one, "test.one")
	storetest.Sync(t, one) // the event's notice must not come in after the page is kept
	if got := page(t, one, first); got != "test.one" {
		t.Fatalf("first page: %q", got)
	}
	page(t, one, filtered)
	// Unannounced, the event is not on the kept page; the filtered and
	// the smaller page are read.
	behindTriggers(t, owner, "audit_events", "audit_events_recorded", f.a.ID,
		`INSERT INTO audit_events (tenant_id, actor_kind, action) VALUES (current_setting('app.tenant_id')::uuid, 'system', 'test.quiet')`)
	if got := page(t, one, first); got != "test.one" {
		t.Fatalf("second read %q: not from memory", got)
	}
	if got := page(t, one, filtered); got != "test.quiet" {
		t.Fatalf("a filtered page: %q, want it read", got)
	}
	if got := page(t, one, store.AuditFilter{Limit: 10}); got != "test.quiet,test.one" {
		t.Fatalf("a page of another size: %q, want it read", got)
	}
	// Recorded through this server: dropped at commit.
	record(t, one, "test.here")
	if got := page(t, one, first); got != "test.here,test.quiet,test.one" {
		t.Fatalf("after an event here: %q", got)
	}
	storetest.Sync(t, one) // its notice too, before the page is kept again
	page(t, one, first)
	// Through the other server: dropped with the notice.
	record(t, two, "test.there")
	storetest.Sync(t, one)
	if got := page(t, one, first); got != "test.there,test.here,test.quiet,test.one" {
		t.Fatalf("after an event elsewhere: %q", got)
	}
}

// keptFixture is the fixture of the tests of kept reads: two servers that
// hear the channel (so their caches answer) and the owner's connection.
func keptFixture(t *testing.T) (f *fixture, one, two *store.DB, owner *pgx.Conn) {
	t.Helper()
	f = newFixture(t)
	one, two = f.db.Server(t), f.db.Server(t)
	storetest.Sync(t, one)
	storetest.Sync(t, two)
	owner = f.db.OwnerConn(t)
	t.Cleanup(func() { owner.Close(context.Background()) })
	return f, one, two, owner
}

// TestOutboxKept covers the console's pages of the outbox kept in memory:
// until any change to the outbox (migration 00022), through the server
// itself or another.
func TestOutboxKept(t *testing.T) {
	t.Parallel()
	_, one, two, owner := keptFixture(t)
	ctx := context.Background()
	send := func(t *testing.T, db *store.DB, to string) {
		t.Helper()
		if err := db.InSystem(ctx, func(tx *store.SysTx) error {
			_, err := tx.CreateOutboxMessage(ctx, to, "Hello", "Body")
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	page := func(t *testing.T, db *store.DB) (string, int) {
		t.Helper()
		var list []store.OutboxMessage
		var total int
		if err := db.ReadSystemBatch(ctx, func(b *store.Batch) { b.FindOutboxMessages(20, 0, &list, &total) }); err != nil {
			t.Fatal(err)
		}
		var to []string
		for _, m := range list {
			to = append(to, m.To)
		}
		return strings.Join(to, ","), total
	}
	send(t, one, "a@x.test")
	storetest.Sync(t, one)
	if got, n := page(t, one); got != "a@x.test" || n != 1 {
		t.Fatalf("the outbox: %q, %d", got, n)
	}
	behindTriggers(t, owner, "outbox", "outbox_entry_change", uuid.Nil,
		`INSERT INTO outbox (to_email, subject, body) VALUES ('quiet@x.test', 'Hello', 'Body')`)
	if got, n := page(t, one); got != "a@x.test" || n != 1 {
		t.Fatalf("second read %q, %d: not from memory", got, n)
	}
	// A message sent through the other server: here with the notice.
	send(t, two, "b@x.test")
	storetest.Sync(t, one)
	if got, n := page(t, one); got != "b@x.test,quiet@x.test,a@x.test" || n != 3 {
		t.Fatalf("after a message sent elsewhere: %q, %d", got, n)
	}
	// One sent here: at once.
	send(t, one, "c@x.test")
	if got, n := page(t, one); n != 4 || !strings.HasPrefix(got, "c@x.test,") {
		t.Fatalf("after a message sent here: %q, %d", got, n)
	}
}
