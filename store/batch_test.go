package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/store/storetest"
)

// collectPage scans every row into one reused value; each row it returns
// must still own its pointer and slice fields.
func TestCollectPageRowsShareNothing(t *testing.T) {
	conn := storetest.New(t).OwnerConn(t)
	type row struct {
		N     int
		Ptr   *int
		Words []string
	}
	rows, err := conn.Query(context.Background(), `
		SELECT * FROM (VALUES (1, 10, ARRAY['a']), (2, 20, ARRAY['b', 'c']), (3, NULL, NULL)) v`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.CollectPage(rows, 2, func(r *row) []any { return []any{&r.N, &r.Ptr, &r.Words} })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d rows, want 3 (more than the page size given is still collected)", len(got))
	}
	if got[0].Ptr == nil || *got[0].Ptr != 10 || got[1].Ptr == nil || *got[1].Ptr != 20 || got[2].Ptr != nil {
		t.Errorf("pointers: %v %v %v", got[0].Ptr, got[1].Ptr, got[2].Ptr)
	}
	if !slices.Equal(got[0].Words, []string{"a"}) || !slices.Equal(got[1].Words, []string{"b", "c"}) || got[2].Words != nil {
		t.Errorf("slices: %q %q %q", got[0].Words, got[1].Words, got[2].Words)
	}
	if rows, err = conn.Query(context.Background(), `SELECT 1 WHERE false`); err != nil {
		t.Fatal(err)
	}
	if none, err := store.CollectPage(rows, 50, func(n *int) []any { return []any{n} }); err != nil || none == nil || len(none) != 0 {
		t.Errorf("no rows: %v, %v; want an empty list", none, err)
	}
}

// Tx.Read sends a page's batched reads inside a write's transaction: they
// see the transaction's tenant and its uncommitted writes, and a failed
// read fails the transaction, whose writes are then rolled back.
func TestTxRead(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	err := f.db.InTenant(f.ctxA, func(tx *store.Tx) error {
		if _, err := tx.CreateMembership(ctx, f.userB.ID, "member"); err != nil {
			return err
		}
		var list []store.Member
		var total int
		if err := tx.Read(ctx, func(b *store.Batch) { b.FindMembersPage(store.MemberFilter{}, &list, &total) }); err != nil {
			return err
		}
		if len(list) != 2 || total != 2 || list[0].Name != "Ann" || list[1].Name != "Bob" {
			t.Errorf("Alpha's members inside the transaction: %+v, total %d", list, total)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	err = f.db.InTenant(f.ctxB, func(tx *store.Tx) error {
		if _, err := tx.CreateMembership(ctx, f.userA.ID, "member"); err != nil {
			return err
		}
		return tx.Read(ctx, func(b *store.Batch) { b.Raw(`SELECT no_such_column FROM memberships`) })
	})
	if err == nil {
		t.Fatal("a failed read did not fail the transaction")
	}
	var list []store.Member
	var total int
	if err := f.db.ReadTenant(f.ctxB, func(b *store.Batch) { b.FindMembersPage(store.MemberFilter{}, &list, &total) }); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || total != 1 {
		t.Errorf("Bravo after the failed transaction: %d members listed, count %d; want Bob alone", len(list), total)
	}
}
