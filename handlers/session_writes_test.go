package handlers_test

import (
	"context"
	"testing"

	"github.com/atrium-dev/atrium/handlers/apptest"
)

// TestSessionWrites checks that reading pages does not write the session
// row on every request (scs's own idle timeout would), yet an active session
// is still refreshed, at most once a minute, so its idle timeout moves on.
func TestSessionWrites(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	s.Org(t, "quiet", "Quiet", "q@quiet.test", "quiet-password")
	c := s.Client(t)
	c.Login("quiet", "q@quiet.test", "quiet-password")
	ctx := context.Background()
	conn := s.DB.OwnerConn(t)
	defer conn.Close(ctx)
	// version reads the session row's xmin: it changes with every write.
	version := func() string {
		t.Helper()
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		var v string
		if _, err := tx.Exec(ctx, `SELECT set_config('app.tenant_id', (SELECT id::text FROM tenants WHERE slug = 'quiet'), true)`); err != nil {
			t.Fatal(err)
		}
		if err := tx.QueryRow(ctx, `SELECT string_agg(xmin::text, ',') FROM sessions`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	get := func(n int) {
		for i := 0; i < n; i++ {
			wantStatus(t, c.Get("/o/quiet/"), 200)
		}
	}

	t.Run("ReadsDoNotWrite", func(t *testing.T) {
		before := version()
		get(10)
		if after := version(); after != before {
			t.Fatalf("10 page views rewrote the session (%s -> %s)", before, after)
		}
	})
	t.Run("StaleSessionRefreshedOnce", func(t *testing.T) {
		sqlAsTenant(t, s, "quiet", `UPDATE sessions SET updated_at = now() - interval '5 minutes', expiry = now() + interval '1 minute'`)
		before := version()
		get(1)
		refreshed := version()
		if refreshed == before {
			t.Fatal("a stale session was not refreshed")
		}
		get(10)
		if version() != refreshed {
			t.Fatal("the session was rewritten again within the minute")
		}
		var expiresIn float64
		tx, _ := conn.Begin(ctx)
		defer tx.Rollback(ctx)
		tx.Exec(ctx, `SELECT set_config('app.tenant_id', (SELECT id::text FROM tenants WHERE slug = 'quiet'), true)`)
		if err := tx.QueryRow(ctx, `SELECT extract(epoch FROM expiry - now()) FROM sessions`).Scan(&expiresIn); err != nil {
			t.Fatal(err)
		}
		if expiresIn < 3600 { // the test app's idle timeout is the default, 2h
			t.Fatalf("after the refresh the session expires in %.0fs; the idle timeout did not move on", expiresIn)
		}
	})
}
