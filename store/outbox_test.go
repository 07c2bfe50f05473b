package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/store/storetest"
)

func TestOutbox(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	ctx := context.Background()

	t.Run("CreateFindCount", func(t *testing.T) {
		err := db.InSystem(ctx, func(tx *store.SysTx) error {
			for i := range 3 {
				m, err := tx.CreateOutboxMessage(ctx, fmt.Sprintf("p%d@example.com", i), fmt.Sprintf("Subject %d", i), "Body é <a href=\"x\">")
				if err != nil {
					return err
				}
				if m.ID == 0 || m.CreatedAt.IsZero() {
					t.Errorf("created %+v without id or time", m)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var first, second []store.OutboxMessage
		var n, n2 int
		err = db.ReadSystemBatch(ctx, func(b *store.Batch) {
			b.FindOutboxMessages(2, 0, &first, &n)
			b.FindOutboxMessages(2, 2, &second, &n2)
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 || n2 != 3 {
			t.Errorf("count = %d and %d, want 3", n, n2)
		}
		if len(first) != 2 || first[0].To != "p2@example.com" || first[1].To != "p1@example.com" {
			t.Errorf("first page = %+v, want p2 then p1 (newest first)", first)
		}
		if first[0].Subject != "Subject 2" || first[0].Body != "Body é <a href=\"x\">" {
			t.Errorf("message = %+v", first[0])
		}
		if len(second) != 1 || second[0].To != "p0@example.com" {
			t.Errorf("second page = %+v, want p0", second)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		for name, m := range map[string][3]string{
			"EmptySubject": {"a@example.com", "", "body"},
			"LongSubject":  {"a@example.com", strings.Repeat("x", 201), "body"},
			"EmptyBody":    {"a@example.com", "Hi", ""},
			"LongAddress":  {fmt.Sprintf("%0255d", 0), "Hi", "body"},
		} {
			err := db.InSystem(ctx, func(tx *store.SysTx) error {
				_, err := tx.CreateOutboxMessage(ctx, m[0], m[1], m[2])
				return err
			})
			if atrium.ErrorCode(err) != atrium.EINVALID {
				t.Errorf("%s: err = %v, want EINVALID", name, err)
			}
		}
	})

	t.Run("WritableWithTenantSet", func(t *testing.T) {
		// The outbox has no tenant_id and no policy: a transaction scoped to
		// a tenant writes to it like a system one, and the console, which
		// lists it from InSystem, sees every message.
		err := db.InSystem(ctx, func(tx *store.SysTx) error {
			tn, err := tx.CreateTenant(ctx, "outbox-org", "Outbox Org")
			if err != nil {
				return err
			}
			if _, err := tx.EnterTenant(ctx, tn.ID); err != nil {
				return err
			}
			_, err = tx.CreateOutboxMessage(ctx, "t@example.com", "From a tenant", "body")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("AppRoleCannotChangeOrDelete", func(t *testing.T) {
		for _, sql := range []string{`UPDATE outbox SET subject = 'x'`, `DELETE FROM outbox`, `TRUNCATE outbox`} {
			err := db.InSystem(ctx, func(tx *store.SysTx) error {
				_, err := tx.Raw().Exec(ctx, sql)
				return err
			})
			if err == nil {
				t.Errorf("%s: allowed for the app role", sql)
			}
		}
	})
}
