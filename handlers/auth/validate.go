package auth

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/auth/password"
)

// reservedSlugs are words that name, or may one day name, Atrium's own pages.
var reservedSlugs = map[string]bool{
	"admin": true, "api": true, "app": true, "assets": true, "atrium": true, "auth": true,
	"billing": true, "console": true, "dashboard": true, "docs": true, "help": true,
	"healthz": true, "login": true, "logout": true, "mail": true, "metrics": true,
	"new": true, "oauth": true, "readyz": true, "root": true, "saml": true, "settings": true,
	"signup": true, "sso": true, "static": true, "status": true, "support": true,
	"system": true, "webhooks": true, "www": true,
}

// ValidateSlug returns a message for an unusable organization slug, or "".
func ValidateSlug(slug string) string {
	switch {
	case slug == "":
		return "Choose a URL for your organization."
	case !atrium.ValidSlug(slug):
		return "Use 3–40 lowercase letters, digits or hyphens, starting and ending with a letter or digit."
	case reservedSlugs[slug]:
		return "That URL is reserved. Please choose another."
	}
	return ""
}

// NormalizeEmail lower-cases an address; emails are compared that way.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidateEmail returns a message for a malformed address, or "". It
// accepts a bare address only ("Name <a@b>" is refused) with a dotted domain.
func ValidateEmail(email string) string {
	if email == "" {
		return "Enter your email address."
	}
	if len(email) > 254 {
		return "That email address is too long."
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != email {
		return "Enter a valid email address, like name@example.com."
	}
	at := strings.LastIndexByte(email, '@')
	if at < 1 || !strings.Contains(email[at+1:], ".") || strings.ContainsAny(email, " \t\r\n") {
		return "Enter a valid email address, like name@example.com."
	}
	return ""
}

// ValidatePassword returns a message for a password too weak to accept.
func ValidatePassword(pw string) string {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < password.MinLength:
		return "Use at least 10 characters."
	case len(pw) > password.MaxLength:
		return "Use at most 256 characters."
	}
	return ""
}

// ValidateName returns a message for an unusable display name, or "". what
// names the field in the message ("your name", "the organization name").
func ValidateName(name, what string) string {
	switch {
	case name == "":
		return "Enter " + what + "."
	case !utf8.ValidString(name):
		return "Use only valid text characters."
	case utf8.RuneCountInString(name) > 100:
		return "Use at most 100 characters."
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "Remove the control characters."
	}
	return ""
}
