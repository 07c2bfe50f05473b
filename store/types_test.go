package store_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/atrium-dev/atrium/store"
)

// TestUUIDCodec scans ids in every shape the store reads them, and sends
// them as parameters, in both of pgx's formats: binary (the codec's own
// path) and text (the simple protocol, as some poolers force).
func TestUUIDCodec(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	want := uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		err := f.db.InSystem(ctx, func(tx *store.SysTx) error {
			var id uuid.UUID
			var some, none *uuid.UUID
			var ids []uuid.UUID
			err := tx.Raw().QueryRow(ctx, `SELECT $1::uuid, $1::uuid, NULL::uuid, ARRAY[$1::uuid, $1::uuid]`,
				mode, want.String()).Scan(&id, &some, &none, &ids)
			if err != nil {
				return err
			}
			if id != want || some == nil || *some != want || none != nil || len(ids) != 2 || ids[1] != want {
				t.Errorf("mode %v: %v %v %v %v", mode, id, some, none, ids)
			}
			// Sent as parameters: a UUID, a pointer to one, a nil pointer.
			var same, wasNull bool
			var asText string
			var nilID *uuid.UUID
			if err := tx.Raw().QueryRow(ctx, `SELECT $1::uuid = $2::uuid, $1::uuid::text, $3::uuid IS NULL`,
				mode, want, &want, nilID).Scan(&same, &asText, &wasNull); err != nil {
				return err
			}
			if !same || asText != want.String() || !wasNull {
				t.Errorf("mode %v: sent %v, PostgreSQL saw equal %v, %q, null %v", mode, want, same, asText, wasNull)
			}
			// (In text, google/uuid's own Scan takes a NULL as the zero UUID.)
			if err := tx.Raw().QueryRow(ctx, `SELECT NULL::uuid`, mode).Scan(&id); mode != pgx.QueryExecModeSimpleProtocol && err == nil {
				t.Errorf("mode %v: NULL scanned into a uuid.UUID without an error", mode)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("mode %v: %v", mode, err)
		}
	}
}

// TestJSONB reads audit details (the one jsonb column), with escapes and
// text beyond ASCII, through the registered decoder.
func TestJSONB(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	want := map[string]string{"quote": `say "hi" \ there`, "line": "a\nb\tc", "émoji": "☃ é \u2028", "empty": ""}
	err := f.db.InSystem(ctx, func(tx *store.SysTx) error {
		var got, none map[string]string
		if err := tx.Raw().QueryRow(ctx, `SELECT $1::jsonb, NULL::jsonb`, want).Scan(&got, &none); err != nil {
			return err
		}
		if len(got) != len(want) || none != nil {
			t.Errorf("got %q and %q, want %q and nil", got, none, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %q, want %q", k, got[k], v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestJSONBFlatObjectsShared decodes the same details twice into one map,
// and different details into their own.
func TestJSONBFlatObjectsShared(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	err := f.db.InSystem(ctx, func(tx *store.SysTx) error {
		var a, b, c map[string]string
		if err := tx.Raw().QueryRow(ctx, `SELECT '{"to": "admin", "from": "member"}'::jsonb, '{"from": "member", "to": "admin"}'::jsonb, '{"to": "viewer"}'::jsonb`).Scan(&a, &b, &c); err != nil {
			return err
		}
		if reflect.ValueOf(a).Pointer() != reflect.ValueOf(b).Pointer() || a["from"] != "member" || a["to"] != "admin" {
			t.Errorf("the same details decoded twice: %p %v and %p %v", a, a, b, b)
		}
		if c["to"] != "viewer" || len(c) != 1 {
			t.Errorf("other details = %v", c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
