package store_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atrium-dev/atrium/store"
)

// BenchmarkDoor compares the members page's reads (the member count and
// the first 50 members) through the tenant door (one round trip: set_config
// with the count, and the list, in a batch, under RLS) with the same reads
// naming the tenant explicitly in one statement, as the owner role.
func BenchmarkDoor(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	owner, err := pgxpool.New(ctx, f.db.OwnerURL)
	if err != nil {
		b.Fatal(err)
	}
	defer owner.Close()
	// A tenant of 50 members, as the members page shows.
	tx, err := owner.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		`SELECT set_config('app.tenant_id', '` + f.a.ID.String() + `', true)`,
		`INSERT INTO users (email, name, password_hash) SELECT 'b' || i || '@alpha.test', 'B ' || i, 'x' FROM generate_series(1, 49) i`,
		`INSERT INTO memberships (tenant_id, user_id, role) SELECT '` + f.a.ID.String() + `', id, 'member' FROM users WHERE email LIKE 'b%@alpha.test'`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := owner.Exec(ctx, `ANALYZE memberships, users`); err != nil {
		b.Fatal(err)
	}
	b.Run("ReadTenant", func(b *testing.B) {
		for b.Loop() {
			var list []store.Member
			var total int
			if err := f.db.ReadTenant(f.ctxA, func(bt *store.Batch) {
				bt.FindMembersPage(store.MemberFilter{Limit: 50}, &list, &total)
			}); err != nil {
				b.Fatal(err)
			}
			if len(list) != 50 || total != 50 {
				b.Fatalf("%d members of %d", len(list), total)
			}
		}
	})
	b.Run("Explicit", func(b *testing.B) {
		for b.Loop() {
			rows, err := owner.Query(ctx, `
				SELECT (SELECT member_count FROM tenants WHERE id = $1),
				       m.id, m.email, m.name, m.role, m.created_at, coalesce(r.name, '')
				FROM memberships m
				LEFT JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.custom_role_id
				WHERE m.tenant_id = $1 ORDER BY m.name, m.email, m.id LIMIT 50`, f.a.ID)
			if err != nil {
				b.Fatal(err)
			}
			// Scan as the door does, so both pay for the same work.
			var total int
			list, err := store.CollectPage(rows, 50, func(m *store.Member) []any {
				return []any{&total, &m.ID, &m.Email, &m.Name, &m.Role, &m.CreatedAt, &m.RoleName}
			})
			if err != nil {
				b.Fatal(err)
			}
			if len(list) != 50 || total != 50 {
				b.Fatalf("%d members of %d", len(list), total)
			}
		}
	})
}
