package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/auth/password"
	"github.com/atrium-dev/atrium/handlers/authz"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/store/storetest"
)

// benchHash is BenchPassword hashed once, as the seed command does.
var benchHash = sync.OnceValues(func() (string, error) {
	return password.New(password.Default).Hash(store.BenchPassword)
})

// seedOpts are the small sizes the tests use: 5 hot tenants of 50, the rest
// averaging 20 members (Members/Tenants), in chunks of 7 tenants so that
// several chunks share the transaction.
func seedOpts(t *testing.T, tenants int) store.SeedOptions {
	t.Helper()
	hash, err := benchHash()
	if err != nil {
		t.Fatal(err)
	}
	return store.SeedOptions{Tenants: tenants, Members: 20 * tenants, Seed: 42, Hot: 5, HotMembers: 50,
		PasswordHash: hash, ChunkTenants: 7}
}

func mustSeed(t *testing.T, db *storetest.DB, o store.SeedOptions) store.SeedResult {
	t.Helper()
	res, err := store.BulkSeed(context.Background(), db.OwnerURL, o)
	if err != nil {
		t.Fatalf("BulkSeed(%d tenants): %v", o.Tenants, err)
	}
	return res
}

// ownerConn connects as the owner, who reads memberships across tenants
// through the owner_directory policy (SELECT only), even under FORCE.
func ownerConn(t *testing.T, db *storetest.DB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func queryInt(t *testing.T, conn *pgx.Conn, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// fingerprint hashes every bench row but timestamps and password hashes.
func fingerprint(t *testing.T, conn *pgx.Conn, maxTenant int) string {
	t.Helper()
	var s string
	err := conn.QueryRow(context.Background(), `
		SELECT md5(string_agg(concat_ws('|', t.id, t.slug, t.name, t.member_count, m.id, m.role, m.custom_role_id, r.name, u.id, u.email, u.name),
		                      ',' ORDER BY t.slug, m.id))
		FROM tenants t JOIN memberships m ON m.tenant_id = t.id JOIN users u ON u.id = m.user_id
		LEFT JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.custom_role_id
		WHERE t.slug LIKE 'bench-%' AND t.slug <= $1`, store.BenchSlug(maxTenant)).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// activityFingerprint hashes the seed's activity rows but their timestamps
// (and the session data, which holds one).
func activityFingerprint(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	var s string
	unforced(t, conn, "sessions", func(tx pgx.Tx) {
		err := tx.QueryRow(context.Background(), `SELECT md5(concat_ws('/',
			(SELECT string_agg(concat_ws('|', id, tenant_id, token_hash, user_id, ip, user_agent), ',' ORDER BY id) FROM sessions),
			(SELECT string_agg(concat_ws('|', user_id, code_hash, used_at IS NULL), ',' ORDER BY user_id, code_hash) FROM mfa_recovery_codes),
			(SELECT string_agg(concat_ws('|', id, user_id, token_hash, used_at IS NULL), ',' ORDER BY id) FROM password_resets),
			(SELECT string_agg(concat_ws('|', slug, owner_tenant), ',' ORDER BY slug) FROM tenant_slug_history)))`).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
	})
	return s
}

// unforced runs fn in a transaction of conn (the owner) that lifts FORCE
// ROW LEVEL SECURITY from table, and rolls back: the owner reads every
// tenant's rows, as the seed writes them.
func unforced(t *testing.T, conn *pgx.Conn, table string, fn func(pgx.Tx)) {
	t.Helper()
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `ALTER TABLE `+pgx.Identifier{table}.Sanitize()+` NO FORCE ROW LEVEL SECURITY`); err != nil {
		t.Fatal(err)
	}
	fn(tx)
}

// assertGuardsBack checks that memberships is forced under RLS and counts
// members by trigger again.
func assertGuardsBack(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	var forced bool
	var trigger string
	err := conn.QueryRow(context.Background(), `
		SELECT c.relforcerowsecurity, g.tgenabled
		FROM pg_class c JOIN pg_trigger g ON g.tgrelid = c.oid AND g.tgname = 'memberships_count'
		WHERE c.oid = 'memberships'::regclass`).Scan(&forced, &trigger)
	if err != nil {
		t.Fatal(err)
	}
	if !forced || trigger != "O" {
		t.Fatalf("memberships: force rls = %v, trigger memberships_count tgenabled = %q; want true and O", forced, trigger)
	}
	for _, table := range []string{"audit_events", "invites", "roles", "tenant_join_links", "sessions"} {
		if err := conn.QueryRow(context.Background(), `SELECT relforcerowsecurity FROM pg_class WHERE oid = $1::regclass`, table).Scan(&forced); err != nil || !forced {
			t.Fatalf("%s: force rls = %v (%v); want true", table, forced, err)
		}
	}
}

func TestBulkSeed(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	ctx := context.Background()
	res := mustSeed(t, db, seedOpts(t, 30))
	conn := ownerConn(t, db)

	t.Run("HistoryAndInvites", func(t *testing.T) {
		// Read as the app, inside the first hot tenant: its 50 members were
		// each added and logged in once, and it has open invitations.
		var events []store.AuditEvent
		var invites []store.Invite
		var id uuid.UUID
		if err := conn.QueryRow(ctx, `SELECT id FROM tenants WHERE slug = $1`, store.BenchSlug(1)).Scan(&id); err != nil {
			t.Fatal(err)
		}
		tctx := atrium.WithTenant(ctx, &atrium.Tenant{ID: id})
		if err := db.ReadTenant(tctx, func(b *store.Batch) {
			b.FindAuditEvents(store.AuditFilter{Limit: 500}, &events)
			b.FindOpenInvites(&invites)
		}); err != nil {
			t.Fatal(err)
		}
		if len(events) != 100 || len(invites) != 3 {
			t.Fatalf("hot tenant: %d audit events (want 100), %d invites (want 3)", len(events), len(invites))
		}
		if res.AuditAdded != 2*res.MembershipsAdded || res.InvitesAdded != 3*5 {
			t.Fatalf("result %+v", res)
		}
	})
	t.Run("CustomRoles", func(t *testing.T) {
		// Read as the app: a hot tenant defines three custom roles, with
		// permissions a custom role may hold, and some members hold them.
		var id uuid.UUID
		if err := conn.QueryRow(ctx, `SELECT id FROM tenants WHERE slug = $1`, store.BenchSlug(2)).Scan(&id); err != nil {
			t.Fatal(err)
		}
		var list []store.Role
		var members []store.Member
		if err := db.ReadTenant(atrium.WithTenant(ctx, &atrium.Tenant{ID: id}), func(b *store.Batch) {
			b.FindRoles(&list)
			b.FindMembers(100, &members)
		}); err != nil {
			t.Fatal(err)
		}
		held := 0
		for _, m := range members {
			if m.Role == "custom" {
				held++
				if m.RoleName == "" || len(m.Permissions) == 0 {
					t.Errorf("member %s holds a custom role without name or permissions: %+v", m.Email, m)
				}
			}
		}
		counted := 0
		for _, r := range list {
			counted += r.Members
			for _, p := range r.Permissions {
				if !slices.Contains(authz.Grantable(), authz.Permission(p)) {
					t.Errorf("role %s: %q is not a permission a custom role may hold", r.Name, p)
				}
			}
		}
		if len(list) != 3 || held == 0 || held == len(members)-1 || counted != held {
			t.Fatalf("%d custom roles (want 3), held by %d of %d members, counted %d", len(list), held, len(members), counted)
		}
		if res.RolesAdded < 3*5 || res.RolesAdded > 3*5+2*(30-5) {
			t.Fatalf("%d custom roles added for 5 hot tenants and 25 others", res.RolesAdded)
		}
	})
	t.Run("TwoFactorAndJoinLinks", func(t *testing.T) {
		// Read as the app: a hot tenant's security settings count the
		// members without two-factor authentication (its owner among
		// them, who signs in with a password only), and its settings show
		// a join link.
		var id uuid.UUID
		if err := conn.QueryRow(ctx, `SELECT id FROM tenants WHERE slug = $1`, store.BenchSlug(3)).Scan(&id); err != nil {
			t.Fatal(err)
		}
		var sec store.SecuritySettings
		var link *store.JoinLink
		if err := db.ReadTenant(atrium.WithTenant(ctx, &atrium.Tenant{ID: id}), func(b *store.Batch) {
			b.FindSecuritySettings(&sec)
			b.FindJoinLink(&link)
		}); err != nil {
			t.Fatal(err)
		}
		if sec.Members != 50 || sec.MembersWithoutMFA < 1 || sec.MembersWithoutMFA > 49 {
			t.Errorf("security settings %+v: want some of the 50 members with two-factor, not the owner", sec)
		}
		if link == nil || !link.Enabled || link.Domain != store.BenchSlug(3)+".example" || link.UpdatedBy == "" {
			t.Errorf("join link %+v", link)
		}
		if owners := queryInt(t, conn, `SELECT count(*) FROM users WHERE email LIKE 'u%.1@bench.test' AND mfa_enabled_at IS NOT NULL`); owners != 0 {
			t.Errorf("%d owners with two-factor authentication; the benchmark could not sign them in", owners)
		}
		if res.MFAUsers == 0 || res.MFAUsers*2 > res.UsersAdded || res.JoinLinksAdded != 5 {
			t.Errorf("result %+v: want about 30%% of the users with two-factor and 5 join links", res)
		}
	})
	t.Run("Activity", func(t *testing.T) {
		// Live sessions, each of a member of its tenant, with data naming
		// the user as the server's own sessions do; the hot tenants'
		// members are busier than the rest's.
		var n, strangers, dying, hot, hotMembers int
		unforced(t, conn, "sessions", func(tx pgx.Tx) {
			err := tx.QueryRow(ctx, `
				SELECT count(*),
				       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = s.tenant_id AND m.user_id = s.user_id)),
				       count(*) FILTER (WHERE s.expiry < now() + interval '15 minutes' OR s.ip IS NULL OR s.user_agent IS NULL),
				       count(*) FILTER (WHERE t.slug <= $1)
				FROM sessions s JOIN tenants t ON t.id = s.tenant_id`, store.BenchSlug(5)).Scan(&n, &strangers, &dying, &hot)
			if err != nil {
				t.Fatal(err)
			}
			var data []byte
			var user uuid.UUID
			if err := tx.QueryRow(ctx, `SELECT data, user_id FROM sessions ORDER BY id LIMIT 1`).Scan(&data, &user); err != nil {
				t.Fatal(err)
			}
			deadline, values, err := store.SessionCodec{}.Decode(data)
			if err != nil || values[store.SessionUserKey] != user.String() || !deadline.After(time.Now()) {
				t.Errorf("session data %s: deadline %v, values %v, %v; want user %s", data, deadline, values, err, user)
			}
		})
		hotMembers = 5 * 50
		if n != res.SessionsAdded || n == 0 || strangers != 0 || dying != 0 {
			t.Errorf("%d sessions (result says %d), %d of non-members, %d ending within 15 minutes or without a client", n, res.SessionsAdded, strangers, dying)
		}
		if hot < hotMembers/5 || hot > hotMembers*3/4 || (n-hot)*4 > res.MembershipsAdded-hotMembers {
			t.Errorf("%d sessions of %d hot members, %d of %d others: want about 50%% and 7.5%%", hot, hotMembers, n-hot, res.MembershipsAdded-hotMembers)
		}

		// Through the app: a member's sessions list shows where each began.
		var tenant, user uuid.UUID
		unforced(t, conn, "sessions", func(tx pgx.Tx) {
			if err := tx.QueryRow(ctx, `SELECT s.tenant_id, s.user_id FROM sessions s JOIN tenants t ON t.id = s.tenant_id
				WHERE t.slug = $1 ORDER BY s.id LIMIT 1`, store.BenchSlug(2)).Scan(&tenant, &user); err != nil {
				t.Fatal(err)
			}
		})
		var list []store.Session
		if err := db.ReadTenant(atrium.WithTenant(ctx, &atrium.Tenant{ID: tenant}), func(b *store.Batch) {
			b.FindUserSessions(user, "", &list)
		}); err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 || list[0].IP == "" || list[0].UserAgent == "" || list[0].Current {
			t.Errorf("sessions of %s: %+v", user, list)
		}

		// Ten recovery codes for each user with two-factor, a few spent;
		// none for the others.
		codes := queryInt(t, conn, `SELECT count(*) FROM mfa_recovery_codes`)
		unused := queryInt(t, conn, `SELECT count(*) FROM mfa_recovery_codes WHERE used_at IS NULL`)
		odd := queryInt(t, conn, `SELECT count(*) FROM users u
			WHERE (SELECT count(*) FROM mfa_recovery_codes r WHERE r.user_id = u.id) <> CASE WHEN u.mfa_enabled_at IS NULL THEN 0 ELSE 10 END`)
		if codes != 10*res.MFAUsers || codes != res.RecoveryCodes || odd != 0 || unused == codes || unused*10 < codes*8 {
			t.Errorf("%d recovery codes (%d unused) for %d two-factor users, result says %d; %d users with a wrong set",
				codes, unused, res.MFAUsers, res.RecoveryCodes, odd)
		}

		// Reset links: open ones usable for a while yet, used ones long
		// over, nothing else.
		resets := queryInt(t, conn, `SELECT count(*) FROM password_resets`)
		open := queryInt(t, conn, `SELECT count(*) FROM password_resets WHERE used_at IS NULL AND expires_at > now() + interval '5 minutes'`)
		used := queryInt(t, conn, `SELECT count(*) FROM password_resets WHERE used_at IS NOT NULL AND expires_at < now() AND used_at < expires_at`)
		if resets != res.ResetsAdded || resets == 0 || open+used != resets || used == 0 {
			t.Errorf("%d reset links (result says %d): %d open, %d used", resets, res.ResetsAdded, open, used)
		}

		if old := queryInt(t, conn, `SELECT count(*) FROM tenant_slug_history`); old != res.OldSlugsAdded {
			t.Errorf("%d old URLs, result says %d", old, res.OldSlugsAdded)
		}
	})
	t.Run("Counts", func(t *testing.T) {
		if res.TenantsAdded != 30 || res.TenantsTotal != 30 {
			t.Errorf("result %+v, want 30 tenants added and in total", res)
		}
		if n := queryInt(t, conn, `SELECT count(*) FROM tenants WHERE slug LIKE 'bench-%'`); n != 30 {
			t.Errorf("%d bench tenants, want 30", n)
		}
		if n := queryInt(t, conn, `SELECT count(*) FROM users WHERE email LIKE '%@bench.test'`); n != res.UsersAdded {
			t.Errorf("%d bench users, result says %d", n, res.UsersAdded)
		}
		if n := queryInt(t, conn, `SELECT count(*) FROM memberships`); n != res.MembershipsAdded {
			t.Errorf("%d memberships, result says %d", n, res.MembershipsAdded)
		}
		// 5 hot tenants × 50 + 25 tenants averaging 20: about 750.
		if res.MembershipsAdded < 5*50+25 || res.MembershipsAdded > 1500 {
			t.Errorf("%d memberships, want about 750", res.MembershipsAdded)
		}
		if res.UsersAdded >= res.MembershipsAdded {
			t.Errorf("%d users for %d memberships: nobody belongs to two tenants", res.UsersAdded, res.MembershipsAdded)
		}
		multi := queryInt(t, conn, `SELECT count(*) FROM (SELECT user_id FROM memberships GROUP BY user_id HAVING count(*) > 1) x`)
		if multi == 0 || multi > res.MembershipsAdded-res.UsersAdded {
			t.Errorf("%d users in several tenants, %d reused memberships", multi, res.MembershipsAdded-res.UsersAdded)
		}
		sizes := queryInt(t, conn, `SELECT count(DISTINCT member_count) FROM tenants WHERE slug > $1`, store.BenchSlug(5))
		if sizes < 5 {
			t.Errorf("the 25 tenants after the hot ones have only %d distinct sizes; want a spread", sizes)
		}
	})

	t.Run("HotTenantsHaveExactlyKMembersOwnerFirst", func(t *testing.T) {
		for i := 1; i <= 5; i++ {
			var n, owners int
			var ownerEmail string
			var ownerFirst bool
			err := conn.QueryRow(ctx, `
				SELECT count(*), count(*) FILTER (WHERE m.role = 'owner'),
				       min(u.email) FILTER (WHERE m.role = 'owner'),
				       min(m.created_at) FILTER (WHERE m.role = 'owner') = min(m.created_at)
				FROM memberships m JOIN tenants t ON t.id = m.tenant_id JOIN users u ON u.id = m.user_id
				WHERE t.slug = $1`, store.BenchSlug(i)).Scan(&n, &owners, &ownerEmail, &ownerFirst)
			if err != nil {
				t.Fatal(err)
			}
			if n != 50 || owners != 1 || ownerEmail != store.BenchEmail(i, 1) || !ownerFirst {
				t.Errorf("%s: %d members, %d owners, owner %s (first: %v); want 50, 1, %s, true",
					store.BenchSlug(i), n, owners, ownerEmail, ownerFirst, store.BenchEmail(i, 1))
			}
		}
		if n := queryInt(t, conn, `SELECT count(*) FROM tenants WHERE slug > $1 AND member_count = 50`, store.BenchSlug(5)); n == 25 {
			t.Error("every tenant has 50 members, not just the hot ones")
		}
	})

	t.Run("EveryTenantHasOneOwner", func(t *testing.T) {
		n := queryInt(t, conn, `
			SELECT count(*) FROM tenants t
			WHERE (SELECT count(*) FROM memberships m WHERE m.tenant_id = t.id AND m.role = 'owner') <> 1`)
		if n != 0 {
			t.Errorf("%d tenants without exactly one owner", n)
		}
		roles := queryInt(t, conn, `SELECT count(DISTINCT role) FROM memberships`)
		if roles != 6 {
			t.Errorf("%d distinct roles, want all 6 (the five built in and custom)", roles)
		}
	})

	t.Run("MemberCountsMatchRows", func(t *testing.T) { checkMemberCounts(t, conn) })

	t.Run("MembershipsCopyTheirUser", func(t *testing.T) {
		n := queryInt(t, conn, `
			SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE (m.name, m.email, m.mfa_enabled) IS DISTINCT FROM (u.name, u.email, u.mfa_enabled_at IS NOT NULL)`)
		if n != 0 {
			t.Errorf("%d memberships whose copy of the user's name, email or two-factor state differs", n)
		}
	})

	t.Run("ForceAndTriggerBack", func(t *testing.T) { assertGuardsBack(t, conn) })

	t.Run("AppRoleSeesNoMembershipsWithoutTenant", func(t *testing.T) {
		app, err := pgx.Connect(ctx, db.AppURL)
		if err != nil {
			t.Fatal(err)
		}
		defer app.Close(ctx)
		if n := queryInt(t, app, `SELECT count(*) FROM memberships`); n != 0 {
			t.Errorf("the app role sees %d memberships without a tenant", n)
		}
	})

	t.Run("HotTenantThroughTheDoor", func(t *testing.T) {
		var tn *store.Tenant
		if err := db.InSystem(ctx, func(tx *store.SysTx) error {
			var err error
			tn, err = tx.FindTenantBySlug(ctx, store.BenchSlug(1))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		tctx := atrium.WithTenant(ctx, &atrium.Tenant{ID: tn.ID, Slug: tn.Slug})
		err := db.InTenant(tctx, func(tx *store.Tx) error {
			n, err := tx.CountMembers(tctx)
			if n != 50 {
				t.Errorf("tenant 1 sees %d members, want 50", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("PasswordVerifies", func(t *testing.T) {
		var hash string
		if err := conn.QueryRow(ctx, `SELECT password_hash FROM users WHERE email = $1`, store.BenchEmail(7, 1)).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if ok, err := password.New(password.Default).Verify(store.BenchPassword, hash); !ok || err != nil {
			t.Fatalf("BenchPassword does not verify: %v, %v", ok, err)
		}
	})

	t.Run("RerunAddsNothing", func(t *testing.T) {
		before := fingerprint(t, conn, 30)
		again := mustSeed(t, db, seedOpts(t, 30))
		if again.TenantsAdded != 0 || again.UsersAdded != 0 || again.MembershipsAdded != 0 || again.TenantsTotal != 30 {
			t.Errorf("rerun: %+v, want nothing added and 30 in total", again)
		}
		if after := fingerprint(t, conn, 30); after != before {
			t.Error("a rerun changed the data")
		}
	})

	t.Run("TriggerCountsAgain", func(t *testing.T) {
		var tenantID, userID uuid.UUID
		var before int
		if err := conn.QueryRow(ctx, `SELECT id, member_count FROM tenants WHERE slug = $1`, store.BenchSlug(30)).Scan(&tenantID, &before); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, `SELECT id FROM users WHERE email = $1`, store.BenchEmail(1, 1)).Scan(&userID); err != nil {
			t.Fatal(err)
		}
		tctx := atrium.WithTenant(ctx, &atrium.Tenant{ID: tenantID, Slug: store.BenchSlug(30)})
		if err := db.InTenant(tctx, func(tx *store.Tx) error {
			_, err := tx.CreateMembership(tctx, userID, "viewer")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if n := queryInt(t, conn, `SELECT member_count FROM tenants WHERE id = $1`, tenantID); n != before+1 {
			t.Errorf("member_count %d after adding a member to %d: trigger not enabled", n, before)
		}
	})
}

// TestBulkSeedOldURLs seeds enough tenants for some to have renamed
// themselves (one in 33 of those after the hot ones) and follows an old URL.
// checkMemberCounts checks the counts each tenant row keeps (by trigger,
// outside the seeder) against its memberships.
func checkMemberCounts(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	n := queryInt(t, conn, `
		SELECT count(*) FROM tenants t
		WHERE t.member_count <> (SELECT count(*) FROM memberships m WHERE m.tenant_id = t.id)`)
	if n != 0 {
		t.Errorf("%d tenants whose member_count is wrong", n)
	}
	n = queryInt(t, conn, `
		SELECT count(*) FROM tenants t
		WHERE t.members_without_mfa <> (SELECT count(*) FROM memberships m WHERE m.tenant_id = t.id AND NOT m.mfa_enabled)`)
	if n != 0 {
		t.Errorf("%d tenants whose members_without_mfa is wrong", n)
	}
}

func TestBulkSeedOldURLs(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	ctx := context.Background()
	opts := seedOpts(t, 300)
	opts.Members, opts.Hot, opts.ChunkTenants = 300, 0, 100
	res := mustSeed(t, db, opts)
	conn := ownerConn(t, db)
	if old := queryInt(t, conn, `SELECT count(*) FROM tenant_slug_history`); old != res.OldSlugsAdded || old < 2 || old > 25 {
		t.Fatalf("%d old URLs (result says %d) among 300 tenants, want about 9", old, res.OldSlugsAdded)
	}
	var slug string
	var owner uuid.UUID
	if err := conn.QueryRow(ctx, `SELECT slug, owner_tenant FROM tenant_slug_history
		WHERE changed_at > now() - slug_redirect_period() ORDER BY slug LIMIT 1`).Scan(&slug, &owner); err != nil {
		t.Fatalf("a recent old URL: %v", err)
	}
	if err := db.InSystem(ctx, func(tx *store.SysTx) error {
		tn, err := tx.FindTenantByFormerSlug(ctx, slug)
		if err == nil && (tn.ID != owner || !strings.HasPrefix(tn.Slug, "bench-")) {
			t.Errorf("old URL %s leads to %s (%s), want %s", slug, tn.Slug, tn.ID, owner)
		}
		return err
	}); err != nil {
		t.Errorf("old URL %s: %v", slug, err)
	}
}

func TestBulkSeedIncremental(t *testing.T) {
	t.Parallel()
	grown, atOnce, other := storetest.New(t), storetest.New(t), storetest.New(t)

	first := mustSeed(t, grown, seedOpts(t, 10))
	small := fingerprint(t, ownerConn(t, grown), 10)
	res := mustSeed(t, grown, seedOpts(t, 30))
	if res.TenantsAdded != 20 || res.TenantsTotal != 30 {
		t.Errorf("growing 10 to 30: %+v", res)
	}
	full := mustSeed(t, atOnce, seedOpts(t, 30))
	if first.MembershipsAdded+res.MembershipsAdded != full.MembershipsAdded || first.UsersAdded+res.UsersAdded != full.UsersAdded {
		t.Errorf("10 then 30: %+v and %+v; 30 at once: %+v", first, res, full)
	}
	g, o := ownerConn(t, grown), ownerConn(t, atOnce)

	t.Run("FirstTenTheSame", func(t *testing.T) {
		if a, b := fingerprint(t, o, 10), small; a != b {
			t.Errorf("tenants 1–10: %s seeded alone, %s within 30", b, a)
		}
		if a, b := fingerprint(t, g, 10), small; a != b {
			t.Errorf("tenants 1–10 changed when the database grew: %s, then %s", b, a)
		}
	})
	t.Run("AllThirtyTheSame", func(t *testing.T) {
		if a, b := fingerprint(t, g, 30), fingerprint(t, o, 30); a != b {
			t.Errorf("10 then 30: %s; 30 at once: %s", a, b)
		}
		if a, b := activityFingerprint(t, g), activityFingerprint(t, o); a != b {
			t.Errorf("sessions, codes, resets and old URLs: 10 then 30: %s; 30 at once: %s", a, b)
		}
		// Members of tenants 11–30 who are users of tenants 1–10 were
		// found in the database, two-factor state included.
		checkMemberCounts(t, g)
	})
	t.Run("OtherSeedOtherData", func(t *testing.T) {
		opts := seedOpts(t, 30)
		opts.Seed = 43
		mustSeed(t, other, opts)
		oc := ownerConn(t, other)
		if a, b := fingerprint(t, oc, 30), fingerprint(t, o, 30); a == b {
			t.Error("seeds 42 and 43 gave the same data")
		}
		if a, b := activityFingerprint(t, oc), activityFingerprint(t, o); a == b {
			t.Error("seeds 42 and 43 gave the same sessions, codes, resets and old URLs")
		}
	})
}

func TestBulkSeedRollsBack(t *testing.T) {
	t.Parallel()

	// counts returns the bench tenants, users and memberships.
	counts := func(t *testing.T, conn *pgx.Conn) [3]int {
		return [3]int{
			queryInt(t, conn, `SELECT count(*) FROM tenants WHERE slug LIKE 'bench-%'`),
			queryInt(t, conn, `SELECT count(*) FROM users WHERE email LIKE '%@bench.test'`),
			queryInt(t, conn, `SELECT count(*) FROM memberships`),
		}
	}

	t.Run("ErrConflictMidway", func(t *testing.T) {
		t.Parallel()
		db := storetest.New(t)
		ctx := context.Background()
		mustSeed(t, db, seedOpts(t, 10))
		conn := ownerConn(t, db)
		// Someone already has the email of tenant 15's owner: the third
		// chunk's COPY of users fails after two chunks went in.
		if _, err := conn.Exec(ctx, `INSERT INTO users (email, name, password_hash) VALUES ($1, 'Squatter', 'x')`, store.BenchEmail(15, 1)); err != nil {
			t.Fatal(err)
		}
		before := counts(t, conn)
		opts := seedOpts(t, 20)
		opts.ChunkTenants = 2
		if _, err := store.BulkSeed(ctx, db.OwnerURL, opts); err == nil {
			t.Fatal("BulkSeed succeeded over a conflicting user")
		}
		if after := counts(t, conn); after != before {
			t.Errorf("after a failed seed: tenants, users, memberships = %v, want %v", after, before)
		}
		assertGuardsBack(t, conn)
	})

	t.Run("ErrCanceledAfterFirstChunk", func(t *testing.T) {
		t.Parallel()
		db := storetest.New(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		opts := seedOpts(t, 30)
		chunks := 0
		opts.Progress = func(store.SeedProgress) { chunks++; cancel() }
		_, err := store.BulkSeed(ctx, db.OwnerURL, opts)
		if !errors.Is(err, context.Canceled) || chunks != 1 {
			t.Fatalf("err = %v after %d chunks, want context.Canceled after 1", err, chunks)
		}
		conn := ownerConn(t, db)
		if c := counts(t, conn); c != [3]int{} {
			t.Errorf("after a canceled seed: tenants, users, memberships = %v, want none", c)
		}
		assertGuardsBack(t, conn)
		// Nothing is left locked or half done: the next seed goes through.
		res := mustSeed(t, db, seedOpts(t, 30))
		if res.TenantsAdded != 30 {
			t.Errorf("seed after the canceled one: %+v", res)
		}
		assertGuardsBack(t, conn)
	})
}

// TestBulkSeedLarge: Large adds one hot tenant of its own size after the
// hot ones, with what a hot tenant has (custom roles, invitations, a join
// link, an owner without two-factor authentication), and leaves every other
// tenant as it would be without it.
func TestBulkSeedLarge(t *testing.T) {
	t.Parallel()
	plain, large := storetest.New(t), storetest.New(t)
	mustSeed(t, plain, seedOpts(t, 10))
	opts := seedOpts(t, 10)
	opts.Large = 400
	res := mustSeed(t, large, opts)
	p, l := ownerConn(t, plain), ownerConn(t, large)

	size := func(conn *pgx.Conn, i int) int {
		return queryInt(t, conn, `SELECT member_count FROM tenants WHERE slug = $1`, store.BenchSlug(i))
	}
	if n := size(l, 6); n != 400 {
		t.Errorf("the large tenant, %s, has %d members, want 400", store.BenchSlug(6), n)
	}
	if n := size(l, 5); n != 50 {
		t.Errorf("the last hot tenant has %d members, want 50", n)
	}
	if n := size(p, 6); n == 400 || n > 200 {
		t.Errorf("without Large, tenant 6 has %d members", n)
	}
	if res.InvitesAdded != 3*6 || res.JoinLinksAdded != 6 {
		t.Errorf("with the large tenant hot: %d invites (want 18), %d join links (want 6)", res.InvitesAdded, res.JoinLinksAdded)
	}
	unforced(t, l, "roles", func(tx pgx.Tx) {
		var n int
		err := tx.QueryRow(context.Background(), `SELECT count(*) FROM roles r JOIN tenants t ON t.id = r.tenant_id WHERE t.slug = $1`,
			store.BenchSlug(6)).Scan(&n)
		if err != nil || n != 3 {
			t.Errorf("the large tenant defines %d custom roles (%v), want 3", n, err)
		}
	})
	if n := queryInt(t, l, `SELECT count(*) FROM users WHERE email = $1 AND mfa_enabled_at IS NULL`, store.BenchEmail(6, 1)); n != 1 {
		t.Errorf("the large tenant's owner, %s, cannot sign in with a password alone", store.BenchEmail(6, 1))
	}
	if a, b := fingerprint(t, l, 5), fingerprint(t, p, 5); a != b {
		t.Errorf("the hot tenants changed with a large one after them: %s, without it %s", a, b)
	}
}

// TestMembersWithoutMFAUpgrade: migration 00019, applied to a database that
// already has members, counts each organization's members without
// two-factor authentication.
func TestMembersWithoutMFAUpgrade(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	ctx := context.Background()
	mustSeed(t, db, seedOpts(t, 10))
	m, err := store.NewMigrator(db.OwnerURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for { // back to 18: the later migrations, then 00019
		res, err := m.Down(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Source.Version <= 19 {
			break
		}
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	conn := ownerConn(t, db)
	if n := queryInt(t, conn, `SELECT sum(members_without_mfa) FROM tenants`); n < 100 {
		t.Fatalf("%d members without two-factor authentication in all, want most of 500", n)
	}
	checkMemberCounts(t, conn)
}
