package auth

import "testing"

func TestValidateSlug(t *testing.T) {
	for _, tc := range []struct {
		slug string
		ok   bool
	}{
		{"acme", true}, {"a-1", true}, {"abc", true}, {"ab", false}, {"-abc", false}, {"abc-", false},
		{"ABC", false}, {"a_b", false}, {"console", false}, {"login", false}, {"api", false}, {"static", false},
		{"a" + string(make([]byte, 0)) + "bcdefghijklmnopqrstuvwxyz0123456789abcd", true},
		{"abcdefghijklmnopqrstuvwxyz0123456789abcde", false}, {"x'; drop table tenants;--", false}, {"<b>x</b>", false},
	} {
		if got := ValidateSlug(tc.slug) == ""; got != tc.ok {
			t.Errorf("ValidateSlug(%q) ok = %v, want %v", tc.slug, got, tc.ok)
		}
	}
}

func TestValidateEmail(t *testing.T) {
	for _, tc := range []struct {
		email string
		ok    bool
	}{
		{"ada@example.com", true}, {"a.b+tag@sub.example.org", true}, {"", false}, {"ada", false},
		{"ada@localhost", false}, {"Ada <ada@example.com>", false}, {"ada@@example.com", false},
		{"ada @example.com", false}, {"<script>@x.com", false},
	} {
		if got := ValidateEmail(tc.email) == ""; got != tc.ok {
			t.Errorf("ValidateEmail(%q) ok = %v, want %v", tc.email, got, tc.ok)
		}
	}
}

func TestValidatePassword(t *testing.T) {
	if ValidatePassword("short") == "" {
		t.Error("short password accepted")
	}
	if ValidatePassword("long enough pw") != "" {
		t.Error("10+ character password refused")
	}
}
