package password

import "testing"

func TestHashVerify(t *testing.T) {
	h := New(Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	enc, err := h.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		ok, err := h.Verify("correct horse battery", enc)
		if err != nil || !ok {
			t.Fatalf("Verify = %v, %v; want true", ok, err)
		}
	})
	t.Run("WrongPassword", func(t *testing.T) {
		ok, err := h.Verify("correct horse battery!", enc)
		if err != nil || ok {
			t.Fatalf("Verify = %v, %v; want false", ok, err)
		}
	})
	t.Run("SaltedDifferently", func(t *testing.T) {
		enc2, _ := h.Hash("correct horse battery")
		if enc2 == enc {
			t.Fatal("two hashes of one password are equal: salt not random")
		}
	})
	t.Run("OtherParamsStillVerify", func(t *testing.T) {
		h2 := New(Default)
		ok, err := h2.Verify("correct horse battery", enc)
		if err != nil || !ok {
			t.Fatalf("Verify with other params = %v, %v", ok, err)
		}
	})
	t.Run("ErrMalformed", func(t *testing.T) {
		for _, bad := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA", "$argon2id$v=19$m=1024,t=1,p=1$!!$AA"} {
			if _, err := h.Verify("x", bad); err != ErrMalformed {
				t.Errorf("Verify(%q) err = %v, want ErrMalformed", bad, err)
			}
		}
	})
}
