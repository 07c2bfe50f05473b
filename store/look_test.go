package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/store/storetest"
)

// TestOperatorLook: an operator's look at an organization is recorded once
// per ten minutes. Past the first, a server that recorded it (or found it
// recorded) and keeps the organization's row reads only the events, for as
// long as the recorded look covers new ones; a server that knows nothing
// asks the database.
func TestOperatorLook(t *testing.T) {
	t.Parallel()
	f, one, two, owner := keptFixture(t)
	ctx := context.Background()
	var op *store.Operator
	if err := f.db.InSystem(ctx, func(tx *store.SysTx) (err error) {
		op, err = tx.CreateOperator(ctx, "ops@atrium.test", "Ops", "x")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	opCtx := atrium.WithOperator(ctx, &atrium.Operator{ID: op.ID, Email: op.Email})
	look := func(t *testing.T, db *store.DB) (*store.Tenant, int) {
		t.Helper()
		tenant, events, err := db.OperatorLook(opCtx, "alpha", 50)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range events {
			if e.Action == "operator.viewed_audit" {
				n++
			}
		}
		return tenant, n
	}
	// inAlpha runs fn as the owner in the organization: the audit log has
	// no triggers, and the app role may not delete from it.
	inAlpha := func(t *testing.T, fn func(tx pgx.Tx) error) {
		t.Helper()
		if err := pgx.BeginFunc(ctx, owner, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true)`, f.a.ID.String()); err != nil {
				return err
			}
			return fn(tx)
		}); err != nil {
			t.Fatal(err)
		}
	}
	recorded := func(t *testing.T) (n int) {
		t.Helper()
		inAlpha(t, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'operator.viewed_audit'`).Scan(&n)
		})
		return n
	}
	forget := func(t *testing.T) {
		t.Helper()
		inAlpha(t, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `DELETE FROM audit_events WHERE action = 'operator.viewed_audit'`)
			return err
		})
	}

	tenant, seen := look(t, one)
	if tenant.ID != f.a.ID || tenant.Name != "Alpha" || tenant.MemberCount != 1 || seen != 1 || recorded(t) != 1 {
		t.Fatalf("first look: %+v, %d looks shown, %d recorded", tenant, seen, recorded(t))
	}
	if _, seen = look(t, one); seen != 1 || recorded(t) != 1 {
		t.Fatalf("second look: %d shown, %d recorded; want the first only", seen, recorded(t))
	}
	// Behind the servers' backs, the look goes and the organization is
	// renamed (neither announced). The server that recorded the look knows
	// it is covered, and shows the row and the page of events it keeps. The
	// other asks, and records.
	forget(t)
	behindTriggers(t, owner, "tenants", "tenants_entry_change", uuid.Nil, `UPDATE tenants SET name = 'Renamed' WHERE slug = 'alpha'`)
	if tenant, seen = look(t, one); tenant.Name != "Alpha" || seen != 1 || recorded(t) != 0 {
		t.Fatalf("look from memory: %q, %d shown, %d recorded; want the kept row and page, and nothing recorded", tenant.Name, seen, recorded(t))
	}
	if tenant, seen = look(t, two); tenant.Name != "Renamed" || seen != 1 || recorded(t) != 1 {
		t.Fatalf("look from a server that knows nothing: %q, %d shown, %d recorded", tenant.Name, seen, recorded(t))
	}
	// A look found recorded covers only what is left of its window: one
	// recorded a second before the window ends covers the next look for
	// that second only (seen by a third server, which knows of no look).
	three := f.db.Server(t)
	storetest.Sync(t, three)
	forget(t)
	inAlpha(t, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO audit_events (tenant_id, actor_kind, actor_id, actor_email, action, occurred_at)
			VALUES ($1, 'operator', $2, 'ops@atrium.test', 'operator.viewed_audit', now() - interval '599 seconds')`, f.a.ID, op.ID)
		return err
	})
	if _, seen = look(t, three); seen != 1 || recorded(t) != 1 {
		t.Fatalf("a look within the window of one found recorded: %d shown, %d recorded", seen, recorded(t))
	}
	time.Sleep(1500 * time.Millisecond)
	if _, seen = look(t, three); seen != 2 || recorded(t) != 2 {
		t.Fatalf("a look past the window of the one found: %d shown, %d recorded; want it recorded", seen, recorded(t))
	}
	// An unknown organization is not found and notes nothing.
	if _, _, err := one.OperatorLook(opCtx, "nope", 50); atrium.ErrorCode(err) != atrium.ENOTFOUND {
		t.Fatalf("unknown organization: %v", err)
	}
}
