package atrium

// ValidSlug reports whether s has the shape of an organization's slug:
// 3 to 40 lowercase letters, digits and hyphens, starting and ending with a
// letter or digit (the tenants table checks the same). Every request under
// /o/{slug}/ asks, so it is a loop rather than a regular expression.
func ValidSlug(s string) bool {
	if len(s) < 3 || len(s) > 40 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
