package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
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
