// Package mfa holds the pages of two-factor authentication: enrollment and
// recovery codes in a member's account, the second login step, and an
// organization's security settings.
package mfa

import (
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/views"
)

// Account is what the enrollment page shows: the person's MFA state, the
// organization's requirement, the setup step when one is under way, and
// the page's three forms (each may come back with errors).
type Account struct {
	MFA        *store.MFA
	RequireMFA bool
	// Setup is set while a secret waits for its first code.
	Setup      *Setup
	Confirm    views.Form
	Disable    views.Form
	Regenerate views.Form
}

// Setup is a secret being set up: as a QR code (a PNG data: URI) and as
// text for typing in by hand.
type Setup struct {
	QR     string
	Secret string
}

// Security is what the organization's security settings page shows.
type Security struct {
	Settings store.SecuritySettings
	// OwnMFA tells whether the admin looking at the page has MFA on, which
	// requiring it demands.
	OwnMFA bool
}
