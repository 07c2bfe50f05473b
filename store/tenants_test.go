package store_test

import (
	"context"
	"testing"

	"github.com/atrium-dev/atrium/store"
)

// TestFindTenants checks the console's list: newest first, an exact count
// of a small registry and of a search, and the page after it.
func TestFindTenants(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	err := f.db.InSystem(ctx, func(tx *store.SysTx) error {
		_, err := tx.CreateTenant(ctx, "charlie", "Charlie & Co")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	find := func(tf store.TenantFilter) (list []store.Tenant, total int, approx bool) {
		t.Helper()
		err := f.db.ReadSystemBatch(ctx, func(b *store.Batch) { b.FindTenants(tf, &list, &total, &approx) })
		if err != nil {
			t.Fatal(err)
		}
		return list, total, approx
	}
	list, total, approx := find(store.TenantFilter{Limit: 2})
	if total != 3 || approx || len(list) != 2 || list[0].Slug != "charlie" {
		t.Errorf("first page: total %d approx %v, %d rows, first %+v; want 3 exact, 2 rows, charlie first", total, approx, len(list), list)
	}
	if list, _, _ = find(store.TenantFilter{Limit: 2, Offset: 2}); len(list) != 1 {
		t.Errorf("second page: %d rows, want 1", len(list))
	}
	list, total, approx = find(store.TenantFilter{Query: "CO", Limit: 50})
	if total != 1 || approx || len(list) != 1 || list[0].Name != "Charlie & Co" {
		t.Errorf("search: total %d approx %v, %+v; want only Charlie & Co", total, approx, list)
	}
	list, total, _ = find(store.TenantFilter{Query: "100%", Limit: 50})
	if total != 0 || len(list) != 0 {
		t.Errorf("search for 100%%: total %d, %d rows; want none (the %% is literal)", total, len(list))
	}
}
