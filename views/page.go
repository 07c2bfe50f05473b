// Package views holds the templ components of Atrium's pages. This file
// defines the Page every page takes: the cross-cutting values a layout needs,
// passed explicitly rather than pulled from context.
package views

import (
	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/static"
)

// Flash kinds, which double as CSS modifiers (flash-success, …).
const (
	FlashSuccess = "success"
	FlashError   = "error"
	FlashInfo    = "info"
	FlashWarning = "warning"
)

// Flash is a one-time message shown on the next page.
type Flash struct {
	Kind    string
	Message string
}

// Page carries what every layout needs.
type Page struct {
	Title    string
	CSRF     string
	Flashes  []Flash
	Tenant   *atrium.Tenant
	User     *atrium.User
	Operator *atrium.Operator
	Nav      string // key of the active navigation item
	// Perms holds the permissions of the signed-in member, so that pages
	// offer only what the member may do (the routes enforce it anyway).
	// Read-only: built-in roles share theirs (see Can).
	Perms     map[string]bool
	RequestID string
	Assets    *static.Assets
}

// Asset returns the hashed URL of a static file.
func (p Page) Asset(name string) string { return p.Assets.URL(name) }

// Can reports whether the signed-in member holds a permission.
func (p Page) Can(perm string) bool { return p.Perms[perm] }

// OrgURL returns a path inside the current tenant, such as OrgURL("members").
func (p Page) OrgURL(rel string) string {
	if p.Tenant == nil {
		return "/"
	}
	return "/o/" + p.Tenant.Slug + "/" + rel
}

// Form holds what a user typed and what was wrong with it, so an invalid form
// is shown again with their input and a message beside each field.
type Form struct {
	Values  map[string]string
	Errors  map[string]string
	Message string // a message for the whole form
}

// Value returns the submitted value of a field.
func (f Form) Value(name string) string { return f.Values[name] }

// Error returns the message for a field, or "".
func (f Form) Error(name string) string { return f.Errors[name] }
