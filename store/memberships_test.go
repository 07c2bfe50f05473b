package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/store/storetest"
)

// TestMemberDirectory: a membership's copy of its user's name and email
// (migration 00017) is the database's to keep. It is filled on insert,
// follows the user wherever they are a member, and the server's role
// cannot write it. TestSecuritySettings follows the copy of the user's
// two-factor state.
func TestMemberDirectory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()

	// Bob joins Alpha too, so he has a membership in both tenants.
	err := f.db.InTenant(f.ctxA, func(tx *store.Tx) error {
		_, err := tx.CreateMembership(ctx, f.userB.ID, "member")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	list := func(t *testing.T, ctx context.Context, q string) []store.Member {
		t.Helper()
		var got []store.Member
		var total int
		err := f.db.ReadTenant(ctx, func(b *store.Batch) {
			b.FindMembersPage(store.MemberFilter{Query: q}, &got, &total)
		})
		if err != nil {
			t.Fatal(err)
		}
		if total != len(got) {
			t.Errorf("total %d, %d listed", total, len(got))
		}
		return got
	}
	names := func(ms []store.Member) (s []string) {
		for _, m := range ms {
			s = append(s, m.Name+" <"+m.Email+">")
		}
		return s
	}

	t.Run("FilledOnInsert", func(t *testing.T) {
		got := names(list(t, f.ctxA, ""))
		if len(got) != 2 || got[0] != "Ann <a@alpha.test>" || got[1] != "Bob <b@bravo.test>" {
			t.Errorf("Alpha lists %q", got)
		}
	})

	t.Run("FollowsTheUser", func(t *testing.T) {
		// Renamed from Alpha's account page; Bravo's copy follows, in the
		// same transaction.
		err := f.db.InSystem(ctx, func(tx *store.SysTx) error {
			return tx.UpdateUserName(ctx, f.userB.ID, "Aaron")
		})
		if err != nil {
			t.Fatal(err)
		}
		// An email changed straight in the database, as the server's role.
		app, err := pgx.Connect(ctx, f.db.AppURL)
		if err != nil {
			t.Fatal(err)
		}
		defer app.Close(ctx)
		if _, err := app.Exec(ctx, `UPDATE users SET email = 'aaron@bravo.test' WHERE id = $1`, f.userB.ID); err != nil {
			t.Fatal(err)
		}
		if got := names(list(t, f.ctxA, "")); len(got) != 2 || got[0] != "Aaron <aaron@bravo.test>" {
			t.Errorf("Alpha lists %q, want Aaron first", got)
		}
		if got := names(list(t, f.ctxB, "")); len(got) != 1 || got[0] != "Aaron <aaron@bravo.test>" {
			t.Errorf("Bravo lists %q", got)
		}
		if got := names(list(t, f.ctxB, "aaron@")); len(got) != 1 {
			t.Errorf("search for the new email finds %q", got)
		}
		if got := list(t, f.ctxB, "Bob"); len(got) != 0 {
			t.Errorf("search for the old name finds %q", names(got))
		}
		err = f.db.InTenant(f.ctxB, func(tx *store.Tx) error {
			m, err := tx.FindMemberByEmail(ctx, "aaron@bravo.test")
			if err == nil && (m.Name != "Aaron" || m.UserID != f.userB.ID) {
				t.Errorf("by email: %+v", m)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ServerCannotWriteTheCopy", func(t *testing.T) {
		app, err := pgx.Connect(ctx, f.db.AppURL)
		if err != nil {
			t.Fatal(err)
		}
		defer app.Close(ctx)
		for _, sql := range []string{
			`UPDATE memberships SET name = 'Mallory' WHERE user_id = $1`,
			`UPDATE memberships SET email = 'mallory@evil.test' WHERE user_id = $1`,
			`UPDATE memberships SET mfa_enabled = true WHERE user_id = $1`,
			`INSERT INTO memberships (tenant_id, user_id, role, name, email)
			 VALUES (current_setting('app.tenant_id')::uuid, $1, 'member', 'Mallory', 'mallory@evil.test')`,
		} {
			tx, err := app.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true)`, f.b.ID.String()); err != nil {
				t.Fatal(err)
			}
			_, err = tx.Exec(ctx, sql, f.userA.ID)
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
				t.Errorf("%s: %v, want permission denied", sql, err)
			}
			tx.Rollback(ctx)
		}
		// Ann joining Bravo gets her own name, whatever else is on hand.
		err = f.db.InTenant(f.ctxB, func(tx *store.Tx) error {
			_, err := tx.CreateMembership(ctx, f.userA.ID, "viewer")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(list(t, f.ctxB, "")); len(got) != 2 || got[0] != "Aaron <aaron@bravo.test>" || got[1] != "Ann <a@alpha.test>" {
			t.Errorf("Bravo lists %q", got)
		}
	})
}

// TestMemberLookups: the member list reads its page from
// memberships_directory_idx alone, and no lookup of one member can. Every
// such lookup reads user_id (by id for a member's page, by user in
// enter_tenant and FindMemberByUserID, by email, MemberMFAEnabled), which
// the index leaves out, so the planner cannot scan the organization's
// whole stretch of the index instead of the lookup's key; with user_id
// in it (migration 00017) it did, once autovacuum had marked the table
// all-visible: a member of an organization of 10,000 read 10,000 entries
// on every entry the cache did not hold.
func TestMemberLookups(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	conn := db.OwnerConn(t)
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `
		SELECT a.attname FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
		WHERE i.indexrelid = 'memberships_directory_idx'::regclass`)
	if err != nil {
		t.Fatal(err)
	}
	columns, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	has := map[string]bool{}
	for _, c := range columns {
		has[c] = true
	}
	// What the list reads (memberListSelect), under the tenant's key.
	for _, c := range []string{"tenant_id", "id", "email", "name", "role", "created_at", "custom_role_id"} {
		if !has[c] {
			t.Errorf("memberships_directory_idx lacks %s, which the member list reads: %v", c, columns)
		}
	}
	if has["user_id"] {
		t.Errorf("memberships_directory_idx holds user_id, which every lookup of one member reads: %v", columns)
	}
}

// TestLockOwnersReadsOwners: locking the owners of an organization of
// 3,000 members reads its owners, not every member and keeping the owners
// (migration 00020), so a change to a large organization's members does not
// cost a pass over all of them.
func TestLockOwnersReadsOwners(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	ctx := context.Background()
	opts := seedOpts(t, 2)
	opts.Members, opts.Hot, opts.Large = 2, 1, 3000
	mustSeed(t, db, opts) // and ANALYZE
	var id uuid.UUID
	if err := ownerConn(t, db).QueryRow(ctx, `SELECT id FROM tenants WHERE slug = $1`, store.BenchSlug(2)).Scan(&id); err != nil {
		t.Fatal(err)
	}
	tctx := atrium.WithTenant(ctx, &atrium.Tenant{ID: id})
	var plan []struct{ Plan planNode }
	if err := db.InTenant(tctx, func(tx *store.Tx) error {
		return tx.Raw().QueryRow(tctx, `EXPLAIN (ANALYZE, FORMAT JSON) `+store.LockOwnersSQL).Scan(&plan)
	}); err != nil {
		t.Fatal(err)
	}
	read, kept := 0, 0
	var visit func(n planNode)
	visit = func(n planNode) {
		if n.Relation == "memberships" {
			read += n.ActualRows + n.RemovedByFilter
			kept += n.ActualRows
		}
		for _, c := range n.Plans {
			visit(c)
		}
	}
	visit(plan[0].Plan)
	if kept != 1 || read != kept {
		t.Fatalf("LockOwners read %d memberships to lock %d owners, want 1 and 1", read, kept)
	}
}

// planNode is what TestLockOwnersReadsOwners reads of EXPLAIN's JSON.
type planNode struct {
	Relation        string     `json:"Relation Name"`
	ActualRows      int        `json:"Actual Rows"`
	RemovedByFilter int        `json:"Rows Removed by Filter"`
	Plans           []planNode `json:"Plans"`
}
