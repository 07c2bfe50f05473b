package store_test

import (
	"testing"
	"time"

	"github.com/atrium-dev/atrium/store"
)

func TestSessionCodec(t *testing.T) {
	deadline := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	in := map[string]interface{}{
		"user_id": "7d0b…", "flash": []string{"success\x00Saved <b>"}, "until": int64(1 << 40),
		"n": 3, "ok": true, "f": 1.5, "at": deadline,
	}
	b, err := store.SessionCodec{}.Encode(deadline, in)
	if err != nil {
		t.Fatal(err)
	}
	d, out, err := store.SessionCodec{}.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Equal(deadline) {
		t.Fatalf("deadline %v, want %v", d, deadline)
	}
	for k, v := range in {
		switch want := v.(type) {
		case []string:
			got, ok := out[k].([]string)
			if !ok || len(got) != 1 || got[0] != want[0] {
				t.Errorf("%s = %#v, want %#v", k, out[k], v)
			}
		case time.Time:
			if got, ok := out[k].(time.Time); !ok || !got.Equal(want) {
				t.Errorf("%s = %#v, want %#v", k, out[k], v)
			}
		default:
			if out[k] != v {
				t.Errorf("%s = %#v (%T), want %#v (%T)", k, out[k], out[k], v, v)
			}
		}
	}
	t.Run("DecodesAreIndependent", func(t *testing.T) {
		// Decode remembers results: what one caller does to its values
		// must not reach the next caller of the same bytes.
		_, first, _ := store.SessionCodec{}.Decode(b)
		first["user_id"] = "someone else"
		first["flash"].([]string)[0] = "changed"
		delete(first, "n")
		_, again, err := store.SessionCodec{}.Decode(b)
		if err != nil || again["user_id"] != in["user_id"] || again["flash"].([]string)[0] != "success\x00Saved <b>" || again["n"] != 3 {
			t.Fatalf("a second decode saw the first caller's changes: %#v, %v", again, err)
		}
	})
	t.Run("ErrUnsupportedType", func(t *testing.T) {
		if _, err := (store.SessionCodec{}).Encode(deadline, map[string]interface{}{"x": struct{}{}}); err == nil {
			t.Fatal("a struct was encoded")
		}
	})
	t.Run("ErrGarbage", func(t *testing.T) {
		if _, _, err := (store.SessionCodec{}).Decode([]byte("\x00gob")); err == nil {
			t.Fatal("garbage decoded")
		}
	})
}

// BenchmarkSessionDecode decodes a signed-in member's session, as every
// page view does.
func BenchmarkSessionDecode(b *testing.B) {
	data, err := store.SessionCodec{}.Encode(time.Now().Add(time.Hour), map[string]interface{}{
		"user_id": "7d0b1d0e-7a4e-4a51-9f57-2f0d3f9b1c11", "__csrf": "0123456789abcdef0123456789abcdef"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := (store.SessionCodec{}).Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
