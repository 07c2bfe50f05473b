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

// sessionFor stores a session for user in the fixture tenant of ctx.
func sessionFor(t *testing.T, f *fixture, ctx context.Context, token string, user *store.User) {
	t.Helper()
	data := encodeSession(t, user)
	if err := f.db.TenantSessions().CommitCtx(ctx, token, data, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
}

func TestEnter(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	sessionFor(t, f, f.ctxA, "tok-a", f.userA)
	sessionFor(t, f, f.ctxB, "tok-b-of-ann", f.userA) // Ann's session at B, where she is no member

	t.Run("OK", func(t *testing.T) {
		e, err := f.db.Enter(ctx, "alpha", "tok-a", nil)
		if err != nil {
			t.Fatal(err)
		}
		if e.Tenant.ID != f.a.ID || e.Tenant.Name != "Alpha" || e.Session == nil || e.MemberCount != 1 {
			t.Fatalf("entry = %+v", e)
		}
		if e.Member == nil || e.Member.UserID != f.userA.ID || e.Member.Role != "owner" || e.Member.Email != "a@alpha.test" {
			t.Fatalf("member = %+v", e.Member)
		}
	})
	t.Run("NoSession", func(t *testing.T) {
		e, err := f.db.Enter(ctx, "alpha", "", nil)
		if err != nil || e.Session != nil || e.Member != nil || e.Tenant.ID != f.a.ID {
			t.Fatalf("entry = %+v, %v", e, err)
		}
	})
	t.Run("NoSessionRunsNoPageReads", func(t *testing.T) {
		called := false
		e, err := f.db.Enter(ctx, "alpha", "", func(*store.Batch) { called = true })
		if err != nil || e.Member != nil || called {
			t.Fatalf("entry = %+v, %v, page reads queued: %v", e, err, called)
		}
	})
	t.Run("ErrNotFoundUnknownSlug", func(t *testing.T) {
		for _, token := range []string{"tok-a", ""} {
			if _, err := f.db.Enter(ctx, "nope", token, nil); atrium.ErrorCode(err) != atrium.ENOTFOUND {
				t.Fatalf("token %q: err = %v, want not found", token, err)
			}
		}
	})
	t.Run("TokenOfOtherTenantFindsNothing", func(t *testing.T) {
		e, err := f.db.Enter(ctx, "bravo", "tok-a", nil)
		if err != nil || e.Session != nil || e.Member != nil {
			t.Fatalf("A's token at B: entry = %+v, %v", e, err)
		}
	})
	t.Run("SessionOfNonMemberHasNoMember", func(t *testing.T) {
		e, err := f.db.Enter(ctx, "bravo", "tok-b-of-ann", nil)
		if err != nil || e.Session == nil || e.Member != nil {
			t.Fatalf("entry = %+v, %v; want a session but no member", e, err)
		}
	})
}

// TestEnterFailsClosed checks the property batching a page behind the check
// relies on: when enter_tenant refuses, later statements in the same round
// trip see no tenant rows.
func TestEnterFailsClosed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	sessionFor(t, f, f.ctxA, "tok-a", f.userA)
	sessionFor(t, f, f.ctxB, "tok-b-of-ann", f.userA)
	conn, err := pgx.Connect(ctx, f.db.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	count := func(slug, token string) int {
		var b pgx.Batch
		b.Queue(`SELECT tenant_id FROM enter_tenant($1, sha256(convert_to($2, 'UTF8')), true)`, slug, token)
		var n int
		b.Queue(`SELECT count(*) FROM memberships`).QueryRow(func(r pgx.Row) error { return r.Scan(&n) })
		if err := conn.SendBatch(ctx, &b).Close(); err != nil {
			t.Fatalf("%s/%s: %v", slug, token, err)
		}
		return n
	}
	for _, tc := range []struct {
		name, slug, token string
		want              int
	}{
		{"Member", "alpha", "tok-a", 1},
		{"NoSession", "alpha", "", 0},
		{"WrongToken", "alpha", "forged", 0},
		{"OtherTenantsToken", "bravo", "tok-a", 0},
		{"NonMember", "bravo", "tok-b-of-ann", 0},
		{"UnknownTenant", "nope", "tok-a", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if n := count(tc.slug, tc.token); n != tc.want {
				t.Fatalf("rows visible after enter_tenant(%s): %d, want %d", tc.slug, n, tc.want)
			}
		})
	}
	t.Run("NothingLeaksAfterBatch", func(t *testing.T) {
		count("alpha", "tok-a")
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM memberships`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("after the batch: %d rows, %v; want 0", n, err)
		}
	})
}

func TestReadTenant(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()

	t.Run("OneRoundTripReadsOwnTenant", func(t *testing.T) {
		var n int
		var list []store.Member
		err := f.db.ReadTenant(f.ctxA, func(b *store.Batch) {
			b.CountMembers(&n)
			b.FindMembers(10, &list)
		})
		if err != nil || n != 1 || len(list) != 1 || list[0].UserID != f.userA.ID {
			t.Fatalf("n=%d list=%v err=%v", n, list, err)
		}
	})
	t.Run("ErrWithoutTenant", func(t *testing.T) {
		called := false
		if err := f.db.ReadTenant(ctx, func(*store.Batch) { called = true }); err == nil || called {
			t.Fatalf("err=%v called=%v", err, called)
		}
	})
	t.Run("PooledConnectionForgetsTenant", func(t *testing.T) {
		db, err := store.Open(ctx, f.db.AppURL, store.Options{MaxConns: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.ReadTenant(f.ctxA, func(b *store.Batch) { b.CountMembers(&n) }); err != nil || n != 1 {
			t.Fatalf("n=%d err=%v", n, err)
		}
		err = db.InSystem(ctx, func(tx *store.SysTx) error {
			return tx.Raw().QueryRow(ctx, `SELECT count(*) FROM memberships`).Scan(&n)
		})
		if err != nil || n != 0 {
			t.Fatalf("after ReadTenant on the same connection: %d rows visible, %v", n, err)
		}
	})
}

// pageView signs Ann in at alpha (where she is the owner) and at bravo
// (where she is no member), and returns a page view through door (Enter or
// Visit) whose reads list up to 10 members.
func pageView(t *testing.T, f *fixture, door func(context.Context, string, string, func(*store.Batch)) (*store.Entry, error)) func(slug, token string) (*store.Entry, []store.Member, error) {
	t.Helper()
	sessionFor(t, f, f.ctxA, "tok-a", f.userA)
	sessionFor(t, f, f.ctxB, "tok-b-of-ann", f.userA)
	return func(slug, token string) (*store.Entry, []store.Member, error) {
		var list []store.Member
		e, err := door(context.Background(), slug, token, func(b *store.Batch) { b.FindMembers(10, &list) })
		return e, list, err
	}
}

// TestEnterWithPageReads checks the one-round-trip page: the page's reads
// ride behind enter_tenant and see the tenant only for a current member.
func TestEnterWithPageReads(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	read := pageView(t, f, f.db.Enter)
	t.Run("Member", func(t *testing.T) {
		e, list, err := read("alpha", "tok-a")
		if err != nil || e.Member == nil || len(list) != 1 || list[0].UserID != f.userA.ID {
			t.Fatalf("entry %+v, list %v, err %v", e, list, err)
		}
	})
	for name, tc := range map[string][2]string{
		"NoSession": {"alpha", ""}, "ForgedToken": {"alpha", "forged"},
		"OtherTenantsToken": {"bravo", "tok-a"}, "NonMember": {"bravo", "tok-b-of-ann"},
	} {
		t.Run("FailsClosed"+name, func(t *testing.T) {
			e, list, err := read(tc[0], tc[1])
			if err != nil || e.Member != nil || len(list) != 0 {
				t.Fatalf("entry %+v, %d members visible, err %v; want no member and no rows", e, len(list), err)
			}
		})
	}
	t.Run("ErrNotFoundUnknownTenant", func(t *testing.T) {
		if _, _, err := read("nope", "tok-a"); atrium.ErrorCode(err) != atrium.ENOTFOUND {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("SeveralReadsForMember", func(t *testing.T) {
		var n int
		_, err := f.db.Enter(ctx, "alpha", "tok-a", func(b *store.Batch) {
			b.FindAuditEvents(store.AuditFilter{Action: "x", From: time.Now(), To: time.Now()}, new([]store.AuditEvent))
			b.CountMembers(&n)
		})
		if err != nil {
			t.Fatalf("a valid batch failed: %v", err)
		}
	})
}

// TestVisitWithPageReads checks the visitor's one-round-trip page (an
// invitation link): the reads see the tenant of the URL whoever visits, and
// only that tenant; an unknown organization is not found and its reads see
// nothing; a failed read fails the visit.
func TestVisitWithPageReads(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	read := pageView(t, f, f.db.Visit)
	for name, tc := range map[string]struct {
		slug, token string
		tenant      uuid.UUID
	}{
		"NoSession": {"alpha", "", f.a.ID}, "ForgedToken": {"alpha", "forged", f.a.ID}, "Member": {"alpha", "tok-a", f.a.ID},
		"NonMember": {"bravo", "tok-b-of-ann", f.b.ID}, "OtherTenantsToken": {"bravo", "tok-a", f.b.ID},
	} {
		t.Run(name, func(t *testing.T) {
			for range 2 { // the second time from the entry cache, for a member
				e, list, err := read(tc.slug, tc.token)
				if err != nil || e.Tenant.ID != tc.tenant || len(list) != 1 {
					t.Fatalf("entry %+v, members %v, err %v; want %s's one member", e, list, err, tc.slug)
				}
				if m := list[0].UserID; (tc.slug == "alpha") != (m == f.userA.ID) {
					t.Fatalf("%s shows the member with user %s", tc.slug, m)
				}
			}
		})
	}
	t.Run("ErrNotFoundUnknownTenant", func(t *testing.T) {
		for _, token := range []string{"", "tok-a"} {
			e, list, err := read("nope", token)
			if atrium.ErrorCode(err) != atrium.ENOTFOUND || len(list) != 0 {
				t.Fatalf("token %q: entry %+v, %d members, err %v; want not found and no rows", token, e, len(list), err)
			}
		}
	})
	t.Run("ErrFailedRead", func(t *testing.T) {
		for _, token := range []string{"", "forged"} {
			_, err := f.db.Visit(ctx, "alpha", token, func(b *store.Batch) { b.Raw(`SELECT 1/0`) })
			if err == nil || atrium.ErrorCode(err) == atrium.ENOTFOUND {
				t.Fatalf("token %q: err = %v, want the read's failure", token, err)
			}
		}
	})
}

// TestReadTenantOpener: ReadTenant's opening statement sets the tenant and
// reads its member count, which CountMembers hands out without a statement
// of its own; a tenant that does not exist has no count to give.
func TestReadTenantOpener(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var n, again int
	var list []store.Member
	err := f.db.ReadTenant(f.ctxA, func(b *store.Batch) {
		b.CountMembers(&n)
		b.FindMembers(10, &list)
		b.CountMembers(&again)
	})
	if err != nil || n != 1 || again != 1 || len(list) != 1 || list[0].UserID != f.userA.ID {
		t.Fatalf("count %d and %d, members %v: %v", n, again, list, err)
	}
	ghost := atrium.WithTenant(context.Background(), &atrium.Tenant{ID: uuid.New(), Slug: "ghost"})
	// Alone, the opener travels as a plain query; with reads, in a batch.
	if err := f.db.ReadTenant(ghost, func(b *store.Batch) { b.CountMembers(&n) }); atrium.ErrorCode(err) != atrium.ENOTFOUND {
		t.Errorf("counting a tenant that does not exist: %v", err)
	}
	if err := f.db.ReadTenant(ghost, func(b *store.Batch) { b.CountMembers(&n); b.FindMembers(10, &list) }); atrium.ErrorCode(err) != atrium.ENOTFOUND {
		t.Errorf("counting and reading a tenant that does not exist: %v", err)
	}
	if err := f.db.ReadTenant(ghost, func(b *store.Batch) { b.FindMembers(10, &list) }); err != nil || len(list) != 0 {
		t.Errorf("reading a tenant that does not exist: %v, %d members", err, len(list))
	}
}
