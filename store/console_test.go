package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/store/storetest"
)

// TestEnterConsole reads a console session with its operator and a page's
// reads in one round trip, and finds nobody signed in when the session is
// signed out, expired, of another namespace, or its operator was removed.
func TestEnterConsole(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	var op *store.Operator
	if err := f.db.InSystem(ctx, func(tx *store.SysTx) error {
		var err error
		op, err = tx.CreateOperator(ctx, "ops@atrium.test", "Ops", "x")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	codec := store.SessionCodec{}
	session := func(values map[string]any) []byte {
		b, err := codec.Encode(time.Now().Add(time.Hour), values)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	console := f.db.SystemSessions(store.ConsoleNamespace)
	signedIn := session(map[string]any{store.OperatorSessionKey: op.ID.String()})
	commit := func(st *store.SystemSessions, token string, data []byte, expiry time.Time) {
		t.Helper()
		if err := st.CommitCtx(ctx, token, data, expiry); err != nil {
			t.Fatal(err)
		}
	}
	commit(console, "tok-op", signedIn, time.Now().Add(time.Hour))
	commit(console, "tok-out", session(map[string]any{"flash": "bye"}), time.Now().Add(time.Hour))
	commit(console, "tok-old", signedIn, time.Now().Add(-time.Minute))
	commit(f.db.SystemSessions("login"), "tok-login", signedIn, time.Now().Add(time.Hour))

	t.Run("OK", func(t *testing.T) {
		var tenants []store.Tenant
		var total int
		var approx bool
		e, err := f.db.EnterConsole(ctx, "tok-op", func(b *store.Batch) {
			b.FindTenants(store.TenantFilter{Limit: 10}, &tenants, &total, &approx)
		})
		if err != nil {
			t.Fatal(err)
		}
		if e.Operator == nil || e.Operator.ID != op.ID || e.Operator.Email != "ops@atrium.test" || string(e.Session) != string(signedIn) {
			t.Fatalf("entry = %+v", e)
		}
		if len(tenants) != 2 || total != 2 {
			t.Fatalf("the page's reads: %d tenants, total %d", len(tenants), total)
		}
	})
	t.Run("Nobody", func(t *testing.T) {
		for _, tc := range []struct {
			token       string
			withSession bool
		}{{"", false}, {"tok-none", false}, {"tok-out", true}, {"tok-old", false}, {"tok-login", false}} {
			e, err := f.db.EnterConsole(ctx, tc.token, nil)
			if err != nil {
				t.Fatal(err)
			}
			if e.Operator != nil || (e.Session != nil) != tc.withSession {
				t.Errorf("token %q: operator %v, session %q", tc.token, e.Operator, e.Session)
			}
		}
	})
	t.Run("OperatorRemoved", func(t *testing.T) {
		if _, err := f.db.OwnerConn(t).Exec(ctx, `DELETE FROM operators WHERE id = $1`, op.ID); err != nil {
			t.Fatal(err)
		}
		e, err := f.db.EnterConsole(ctx, "tok-op", nil)
		if err != nil || e.Operator != nil || e.Session != nil {
			t.Fatalf("after removal: %+v, %v", e, err)
		}
	})
	t.Run("FailedReadFails", func(t *testing.T) {
		_, err := f.db.EnterConsole(ctx, "tok-out", func(b *store.Batch) { b.Raw(`SELECT 1/0`) })
		if atrium.ErrorCode(err) != atrium.EINTERNAL {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestEntryCacheConsole runs two servers with entry caches and checks that
// an operator's console entry is kept, and that each change that alters it
// reaches the writer's cache at once and the other's through its notice.
func TestEntryCacheConsole(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	one, two := f.db.Server(t), f.db.Server(t)
	var op, other *store.Operator
	if err := f.db.InSystem(ctx, func(tx *store.SysTx) error {
		var err error
		if op, err = tx.CreateOperator(ctx, "ops@atrium.test", "Ops", "x"); err != nil {
			return err
		}
		other, err = tx.CreateOperator(ctx, "other@atrium.test", "Other", "x")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	signIn := func(t *testing.T, token string, o *store.Operator) {
		t.Helper()
		data, err := store.SessionCodec{}.Encode(time.Now().Add(time.Hour), map[string]any{store.OperatorSessionKey: o.ID.String()})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.db.SystemSessions(store.ConsoleNamespace).CommitCtx(ctx, token, data, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		storetest.Sync(t, one)
		storetest.Sync(t, two)
	}
	enterConsole := func(t *testing.T, db *store.DB, token string) *store.ConsoleEntry {
		t.Helper()
		e, err := db.EnterConsole(ctx, token, nil)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	// warm enters on both servers and checks the second entry is a hit.
	warm := func(t *testing.T, token string) {
		t.Helper()
		for _, db := range []*store.DB{one, two} {
			enterConsole(t, db, token)
			before := db.EntryCacheStats().Hits
			if e := enterConsole(t, db, token); e.Operator == nil || db.EntryCacheStats().Hits == before {
				t.Fatalf("second EnterConsole of %s: %+v, not from the cache", token, e)
			}
		}
	}
	// changed makes a change through server one (or straight in the
	// database) and returns what each server then sees.
	changed := func(t *testing.T, token string, change func() error) (mine, theirs *store.ConsoleEntry) {
		t.Helper()
		warm(t, token)
		if err := change(); err != nil {
			t.Fatal(err)
		}
		e1 := enterConsole(t, one, token)
		storetest.Sync(t, two)
		e2 := enterConsole(t, two, token)
		storetest.Sync(t, one)
		return e1, e2
	}
	owner := f.db.OwnerConn(t)
	defer owner.Close(ctx)

	t.Run("PageReads", func(t *testing.T) {
		signIn(t, "tok-reads", op)
		warm(t, "tok-reads")
		var tenants []store.Tenant
		var total int
		var approx bool
		e, err := one.EnterConsole(ctx, "tok-reads", func(b *store.Batch) {
			b.FindTenants(store.TenantFilter{Limit: 10}, &tenants, &total, &approx)
		})
		if err != nil || e.Operator == nil || len(tenants) != 2 || total != 2 {
			t.Fatalf("cached entry with page reads: %+v, %d tenants, total %d, %v", e, len(tenants), total, err)
		}
		if _, err := one.EnterConsole(ctx, "tok-reads", func(b *store.Batch) { b.Raw(`SELECT 1/0`) }); err == nil {
			t.Fatal("a failed page read on a cache hit returned no error")
		}
	})
	t.Run("HitIsACopy", func(t *testing.T) {
		signIn(t, "tok-copy", op)
		warm(t, "tok-copy")
		enterConsole(t, one, "tok-copy").Operator.Name = "Mallory"
		if e := enterConsole(t, one, "tok-copy"); e.Operator.Name != "Ops" {
			t.Fatalf("a caller's change reached the cache: %+v", e.Operator)
		}
	})
	t.Run("SessionRewritten", func(t *testing.T) {
		signIn(t, "tok-rewrite", op)
		data, err := store.SessionCodec{}.Encode(time.Now().Add(time.Hour), map[string]any{
			store.OperatorSessionKey: op.ID.String(), "flash": "hello"})
		if err != nil {
			t.Fatal(err)
		}
		e1, e2 := changed(t, "tok-rewrite", func() error {
			return one.SystemSessions(store.ConsoleNamespace).CommitCtx(ctx, "tok-rewrite", data, time.Now().Add(time.Hour))
		})
		if string(e1.Session) != string(data) || string(e2.Session) != string(data) {
			t.Fatal("a rewritten session still enters with its old data")
		}
	})
	t.Run("SignedOut", func(t *testing.T) {
		signIn(t, "tok-out", op)
		e1, e2 := changed(t, "tok-out", func() error {
			return one.SystemSessions(store.ConsoleNamespace).DeleteCtx(ctx, "tok-out")
		})
		if e1.Operator != nil || e2.Operator != nil || e1.Session != nil || e2.Session != nil {
			t.Fatalf("a deleted session still enters: %+v, %+v", e1, e2)
		}
	})
	t.Run("OperatorRenamed", func(t *testing.T) {
		signIn(t, "tok-rename", op)
		e1, e2 := changed(t, "tok-rename", func() error {
			_, err := owner.Exec(ctx, `UPDATE operators SET name = 'Opal' WHERE id = $1`, op.ID)
			storetest.Sync(t, one) // a change straight in the database: one hears it too
			return err
		})
		if e1.Operator.Name != "Opal" || e2.Operator.Name != "Opal" {
			t.Fatalf("names after the change: %q, %q", e1.Operator.Name, e2.Operator.Name)
		}
	})
	t.Run("OperatorRemoved", func(t *testing.T) {
		signIn(t, "tok-other", other)
		signIn(t, "tok-stays", op)
		warm(t, "tok-stays")
		e1, e2 := changed(t, "tok-other", func() error {
			_, err := owner.Exec(ctx, `DELETE FROM operators WHERE id = $1`, other.ID)
			storetest.Sync(t, one)
			return err
		})
		if e1.Operator != nil || e2.Operator != nil {
			t.Fatalf("a removed operator still enters: %+v, %+v", e1.Operator, e2.Operator)
		}
		for _, db := range []*store.DB{one, two} {
			before := db.EntryCacheStats().Hits
			if enterConsole(t, db, "tok-stays"); db.EntryCacheStats().Hits == before {
				t.Fatal("removing one operator dropped another's entry")
			}
		}
	})
}
