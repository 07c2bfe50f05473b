package atrium

import (
	"regexp"
	"strings"
	"testing"
)

// TestValidSlug agrees with the tenants table's CHECK pattern.
func TestValidSlug(t *testing.T) {
	pattern := regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$`)
	cases := []string{"", "a", "ab", "abc", "a-c", "-bc", "ab-", "acme", "acme-2", "Acme", "ac_me", "ac.me", "ac me",
		"ac\u00e9me", "a--b", "123", strings.Repeat("a", 40), strings.Repeat("a", 41), "bench-000001", "o/x"}
	for _, s := range cases {
		if got, want := ValidSlug(s), pattern.MatchString(s); got != want {
			t.Errorf("ValidSlug(%q) = %v, want %v", s, got, want)
		}
	}
}
