package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
)

// userSessions lists user's live sessions in the tenant of ctx, marking the
// one holding current.
func userSessions(t *testing.T, f *fixture, ctx context.Context, user *store.User, current string) []store.Session {
	t.Helper()
	var list []store.Session
	if err := f.db.ReadTenant(ctx, func(b *store.Batch) { b.FindUserSessions(user.ID, current, &list) }); err != nil {
		t.Fatal(err)
	}
	return list
}

func TestSessionClient(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st := f.db.TenantSessions()
	first := atrium.WithClient(f.ctxA, atrium.Client{IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0"})
	if err := st.CommitCtx(first, "tok", encodeSession(t, f.userA), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	before := userSessions(t, f, f.ctxA, f.userA, "tok")
	if len(before) != 1 {
		t.Fatalf("sessions = %+v, want 1", before)
	}
	s := before[0]
	if s.IP != "203.0.113.7" || s.UserAgent != "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0" || !s.Current || s.ID == uuid.Nil {
		t.Fatalf("session = %+v, want the first client's address and agent, marked current", s)
	}

	t.Run("KeptOnUpdate", func(t *testing.T) {
		later := atrium.WithClient(f.ctxA, atrium.Client{IP: "198.51.100.1", UserAgent: "curl/8.0"})
		time.Sleep(10 * time.Millisecond)
		if err := st.CommitCtx(later, "tok", encodeSession(t, f.userA), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		after := userSessions(t, f, f.ctxA, f.userA, "")
		if len(after) != 1 {
			t.Fatalf("sessions = %+v", after)
		}
		a := after[0]
		if a.ID != s.ID || a.IP != s.IP || a.UserAgent != s.UserAgent || a.Current {
			t.Fatalf("after update %+v, want id, address and agent of %+v, not current without a token", a, s)
		}
		if !a.UpdatedAt.After(s.UpdatedAt) || !a.CreatedAt.Equal(s.CreatedAt) {
			t.Fatalf("updated_at %v → %v, created_at %v → %v", s.UpdatedAt, a.UpdatedAt, s.CreatedAt, a.CreatedAt)
		}
	})

	t.Run("UnknownClientAndLongAgent", func(t *testing.T) {
		odd := atrium.WithClient(f.ctxA, atrium.Client{IP: "not-an-ip", UserAgent: "x" + strings.Repeat("é", 400)})
		if err := st.CommitCtx(odd, "odd", encodeSession(t, f.userA), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		for _, s := range userSessions(t, f, f.ctxA, f.userA, "odd") {
			if s.Current && (s.IP != "" || len(s.UserAgent) > 512 || !strings.HasPrefix(s.UserAgent, "xé")) {
				t.Fatalf("session = ip %q, agent of %d bytes", s.IP, len(s.UserAgent))
			}
		}
	})
}

func TestUserSessionsIsolation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sessionFor(t, f, f.ctxA, "a-1", f.userA)
	sessionFor(t, f, f.ctxA, "a-2", f.userA)
	sessionFor(t, f, f.ctxB, "b-1", f.userB)
	sessionFor(t, f, f.ctxB, "ann-at-b", f.userA) // Ann's session at B, where she is no member
	listA := userSessions(t, f, f.ctxA, f.userA, "a-1")
	if len(listA) != 2 || !listA[0].Current || listA[1].Current {
		t.Fatalf("Ann's sessions at A = %+v, want two, the current one first", listA)
	}
	aID := listA[1].ID

	t.Run("OtherTenantSeesNone", func(t *testing.T) {
		for _, s := range userSessions(t, f, f.ctxB, f.userA, "a-1") {
			if s.ID == listA[0].ID || s.ID == aID {
				t.Fatalf("B lists A's session %s", s.ID)
			}
		}
		err := f.db.InTenant(f.ctxB, func(tx *store.Tx) error {
			if _, err := tx.FindUserSession(f.ctxB, f.userA.ID, aID, ""); atrium.ErrorCode(err) != atrium.ENOTFOUND {
				t.Errorf("B finds A's session: %v", err)
			}
			if err := tx.DeleteUserSession(f.ctxB, f.userA.ID, aID); atrium.ErrorCode(err) != atrium.ENOTFOUND {
				t.Errorf("B deletes A's session: %v", err)
			}
			n, err := tx.DeleteUserSessions(f.ctxB, f.userA.ID, "")
			if n != 1 { // only ann-at-b
				t.Errorf("B deleted %d of Ann's sessions, want only the one at B", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := userSessions(t, f, f.ctxA, f.userA, ""); len(got) != 2 {
			t.Fatalf("A's sessions after B's deletes: %d, want 2", len(got))
		}
	})

	t.Run("OtherPersonNotFound", func(t *testing.T) {
		err := f.db.InTenant(f.ctxA, func(tx *store.Tx) error {
			if _, err := tx.FindUserSession(f.ctxA, f.userB.ID, aID, ""); atrium.ErrorCode(err) != atrium.ENOTFOUND {
				t.Errorf("Bob finds Ann's session: %v", err)
			}
			if err := tx.DeleteUserSession(f.ctxA, f.userB.ID, aID); atrium.ErrorCode(err) != atrium.ENOTFOUND {
				t.Errorf("Bob deletes Ann's session: %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("DeleteOne", func(t *testing.T) {
		err := f.db.InTenant(f.ctxA, func(tx *store.Tx) error {
			s, err := tx.FindUserSession(f.ctxA, f.userA.ID, aID, "a-1")
			if err != nil {
				return err
			}
			if s.Current {
				t.Error("a-2 marked as the session holding a-1")
			}
			return tx.DeleteUserSession(f.ctxA, f.userA.ID, aID)
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := userSessions(t, f, f.ctxA, f.userA, "a-1"); len(got) != 1 || !got[0].Current {
			t.Fatalf("sessions = %+v, want only the current one", got)
		}
	})

	t.Run("DeleteAllButKept", func(t *testing.T) {
		sessionFor(t, f, f.ctxA, "a-3", f.userA)
		sessionFor(t, f, f.ctxA, "a-4", f.userA)
		var n int64
		err := f.db.InTenant(f.ctxA, func(tx *store.Tx) (err error) {
			n, err = tx.DeleteUserSessions(f.ctxA, f.userA.ID, "a-1")
			return err
		})
		if err != nil || n != 2 {
			t.Fatalf("deleted %d, %v; want 2", n, err)
		}
		if got := userSessions(t, f, f.ctxA, f.userA, "a-1"); len(got) != 1 || !got[0].Current {
			t.Fatalf("sessions = %+v, want only the kept one", got)
		}
		if _, ok, _ := f.db.TenantSessions().FindCtx(f.ctxB, "b-1"); !ok {
			t.Fatal("Bob's session at B is gone")
		}
	})
}

func TestEachUserTenant(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	// Ann joins B too; Bob stays at B only.
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
	sessionFor(t, f, f.ctxA, "ann-a", f.userA)
	sessionFor(t, f, f.ctxB, "ann-b", f.userA)
	sessionFor(t, f, f.ctxB, "bob-b", f.userB)

	var visited []string
	var deleted int64
	err = f.db.InSystem(ctx, func(tx *store.SysTx) error {
		err := tx.EachUserTenant(ctx, f.userA.ID, func(ttx *store.Tx, tn store.Tenant) error {
			if ttx.TenantID != tn.ID {
				t.Errorf("entered %s for tenant %s", ttx.TenantID, tn.ID)
			}
			visited = append(visited, tn.Slug)
			keep := ""
			if tn.ID == f.a.ID {
				keep = "ann-a"
			}
			n, err := ttx.DeleteUserSessions(ctx, f.userA.ID, keep)
			deleted += n
			return err
		})
		if err != nil {
			return err
		}
		var setting string
		if err := tx.Raw().QueryRow(ctx, `SELECT coalesce(current_setting('app.tenant_id', true), '')`).Scan(&setting); err != nil {
			return err
		}
		if setting != "" {
			t.Errorf("app.tenant_id = %q after EachUserTenant, want none", setting)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(visited, ",") != "alpha,bravo" || deleted != 1 {
		t.Fatalf("visited %v, deleted %d; want alpha,bravo and 1", visited, deleted)
	}
	st := f.db.TenantSessions()
	if _, ok, _ := st.FindCtx(f.ctxA, "ann-a"); !ok {
		t.Error("the kept session is gone")
	}
	if _, ok, _ := st.FindCtx(f.ctxB, "ann-b"); ok {
		t.Error("Ann's session at B survived")
	}
	if _, ok, _ := st.FindCtx(f.ctxB, "bob-b"); !ok {
		t.Error("Bob's session at B was deleted")
	}
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	err := f.db.InSystem(ctx, func(tx *store.SysTx) error {
		if err := tx.UpdateUserName(ctx, f.userA.ID, "Ann Other"); err != nil {
			return err
		}
		if err := tx.UpdateUserPassword(ctx, f.userA.ID, "new-hash"); err != nil {
			return err
		}
		u, err := tx.FindUserByID(ctx, f.userA.ID)
		if err != nil {
			return err
		}
		if u.Name != "Ann Other" || u.PasswordHash != "new-hash" || u.Email != "a@alpha.test" {
			t.Errorf("user = %+v", u)
		}
		if b, _ := tx.FindUserByID(ctx, f.userB.ID); b.Name != "Bob" || b.PasswordHash != "x" {
			t.Errorf("Bob changed too: %+v", b)
		}
		nobody := uuid.New()
		if _, err := tx.FindUserByID(ctx, nobody); atrium.ErrorCode(err) != atrium.ENOTFOUND {
			t.Errorf("unknown id: %v", err)
		}
		if err := tx.UpdateUserName(ctx, nobody, "X"); atrium.ErrorCode(err) != atrium.ENOTFOUND {
			t.Errorf("rename unknown id: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The schema refuses what validation should have caught.
	err = f.db.InSystem(ctx, func(tx *store.SysTx) error { return tx.UpdateUserName(ctx, f.userA.ID, "") })
	if atrium.ErrorCode(err) != atrium.EINVALID {
		t.Errorf("empty name: %v, want invalid", err)
	}
}

func TestPasswordResets(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	sys := func(fn func(tx *store.SysTx) error) {
		t.Helper()
		if err := f.db.InSystem(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	var first, second *store.PasswordReset
	sys(func(tx *store.SysTx) (err error) {
		if first, err = tx.CreatePasswordReset(ctx, f.userA.ID, "token-one", time.Hour); err != nil {
			return err
		}
		second, err = tx.CreatePasswordReset(ctx, f.userA.ID, "token-two", time.Hour)
		return err
	})
	if d := first.ExpiresAt.Sub(first.CreatedAt); d != time.Hour || !first.Usable(time.Now()) {
		t.Fatalf("reset valid for %v, usable %v", d, first.Usable(time.Now()))
	}

	t.Run("FoundByTokenOnly", func(t *testing.T) {
		sys(func(tx *store.SysTx) error {
			r, err := tx.FindPasswordResetByToken(ctx, "token-one")
			if err != nil || r.ID != first.ID || r.UserID != f.userA.ID {
				t.Errorf("find = %+v, %v", r, err)
			}
			if _, err := tx.FindPasswordResetByToken(ctx, "token-onE"); atrium.ErrorCode(err) != atrium.ENOTFOUND {
				t.Errorf("altered token: %v", err)
			}
			var n int
			_ = tx.Raw().QueryRow(ctx, `SELECT count(*) FROM password_resets WHERE token_hash = convert_to('token-one', 'UTF8')`).Scan(&n)
			if n != 0 {
				t.Error("reset token stored in clear")
			}
			return nil
		})
	})

	t.Run("SingleUse", func(t *testing.T) {
		sys(func(tx *store.SysTx) error { return tx.UsePasswordReset(ctx, first.ID) })
		err := f.db.InSystem(ctx, func(tx *store.SysTx) error { return tx.UsePasswordReset(ctx, first.ID) })
		if atrium.ErrorCode(err) != atrium.ENOTFOUND {
			t.Fatalf("second use: %v, want not found", err)
		}
		sys(func(tx *store.SysTx) error {
			r, err := tx.FindPasswordResetByToken(ctx, "token-one")
			if err != nil || r.UsedAt == nil || r.Usable(time.Now()) {
				t.Errorf("used reset = %+v, %v", r, err)
			}
			return nil
		})
	})

	t.Run("ExpireOthers", func(t *testing.T) {
		var n int64
		sys(func(tx *store.SysTx) (err error) {
			if _, err = tx.CreatePasswordReset(ctx, f.userB.ID, "bob-token", time.Hour); err != nil {
				return err
			}
			n, err = tx.ExpirePasswordResets(ctx, f.userA.ID)
			return err
		})
		if n != 1 {
			t.Fatalf("expired %d, want 1 (the unused one)", n)
		}
		err := f.db.InSystem(ctx, func(tx *store.SysTx) error { return tx.UsePasswordReset(ctx, second.ID) })
		if atrium.ErrorCode(err) != atrium.ENOTFOUND {
			t.Fatalf("expired link used: %v", err)
		}
		sys(func(tx *store.SysTx) error {
			r, err := tx.FindPasswordResetByToken(ctx, "token-two")
			if err != nil || r.UsedAt != nil || r.Usable(time.Now().Add(time.Second)) {
				t.Errorf("expired reset = %+v, %v; want expired, not used", r, err)
			}
			b, err := tx.FindPasswordResetByToken(ctx, "bob-token")
			if err != nil || !b.Usable(time.Now()) {
				t.Errorf("Bob's link = %+v, %v; want untouched", b, err)
			}
			return nil
		})
	})
}
