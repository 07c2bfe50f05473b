// Package authz defines what each role may do in an organization: named
// permissions, the built-in roles as sets of them, and the route guard that
// enforces them. Every route under /o/{slug}/ declares its permission where
// it is registered (handlers/routes.go), and a test walks every route with
// every role.
package authz

import (
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
)

// Permission names one thing a member may do.
type Permission string

// The permissions. Keep the list short and the names stable: custom roles
// store them.
const (
	DashboardView  Permission = "dashboard.view"
	MembersRead    Permission = "members.read"
	MembersInvite  Permission = "members.invite"
	MembersManage  Permission = "members.manage"
	OwnershipGive  Permission = "ownership.transfer"
	RolesManage    Permission = "roles.manage"
	BillingManage  Permission = "billing.manage"
	SSOManage      Permission = "sso.manage"
	AuditRead      Permission = "audit.read"
	SettingsManage Permission = "settings.manage"
	OrgDelete      Permission = "organization.delete"
)

// Anyone marks a member route every member may use, whatever their role
// (logging out, their own profile). It is a declaration, not a loophole: the
// route still requires a signed-in member.
const Anyone Permission = ""

// All lists every permission, in the order forms show them.
var All = []Permission{DashboardView, MembersRead, MembersInvite, MembersManage, OwnershipGive, RolesManage,
	BillingManage, SSOManage, AuditRead, SettingsManage, OrgDelete}

// Builtin roles, most powerful first. They cannot be edited.
var Builtin = []struct {
	Name        string
	Description string
	Permissions []Permission
}{
	{"owner", "Everything, including billing, roles and deleting the organization.", All},
	{"admin", "Runs members, SSO, settings and the audit log; cannot grant ownership.",
		[]Permission{DashboardView, MembersRead, MembersInvite, MembersManage, SSOManage, AuditRead, SettingsManage}},
	{"billing", "Manages the plan, payment and invoices.", []Permission{DashboardView, MembersRead, BillingManage}},
	{"member", "Uses the product and sees who else is here.", []Permission{DashboardView, MembersRead}},
	{"viewer", "Read-only access.", []Permission{DashboardView}},
}

// IsBuiltin reports whether role names a built-in role.
func IsBuiltin(role string) bool { return RolePermissions(role) != nil }

// RolePermissions returns the permissions of a built-in role, or nil.
func RolePermissions(role string) []Permission {
	for _, r := range Builtin {
		if r.Name == role {
			return r.Permissions
		}
	}
	return nil
}

// builtinSets holds each built-in role's permissions as a set, built once.
var builtinSets = func() map[string]map[string]bool {
	sets := make(map[string]map[string]bool, len(Builtin))
	for _, r := range Builtin {
		sets[r.Name] = setOf(r.Permissions)
	}
	return sets
}()

func setOf(perms []Permission) map[string]bool {
	set := make(map[string]bool, len(perms))
	for _, p := range perms {
		set[string(p)] = true
	}
	return set
}

// PermissionSet returns what u may do as a set of permission names, for
// pages to ask. A built-in role's set is shared by every request: read it,
// never write it.
func PermissionSet(u *atrium.User) map[string]bool {
	if u == nil {
		return nil
	}
	if set, ok := builtinSets[u.Role]; ok {
		return set
	}
	return setOf(UserPermissions(u))
}

// Can reports whether user holds permission p in the current organization.
func Can(u *atrium.User, p Permission) bool {
	return u != nil && (p == Anyone || slices.Contains(UserPermissions(u), p))
}

// UserPermissions returns what user may do: their built-in role's
// permissions, or their custom role's.
func UserPermissions(u *atrium.User) []Permission {
	if u == nil {
		return nil
	}
	if u.Role != "custom" {
		return RolePermissions(u.Role)
	}
	out := make([]Permission, 0, len(u.Permissions))
	for _, p := range u.Permissions {
		out = append(out, Permission(p))
	}
	return out
}

// Grantable lists the permissions a custom role may hold: everything but
// the owner's own powers, so that "owner" keeps its meaning.
func Grantable() []Permission {
	var out []Permission
	for _, p := range All {
		if p != OwnershipGive && p != RolesManage && p != OrgDelete {
			out = append(out, p)
		}
	}
	return out
}

// Require lets through only a member holding p; everyone else gets the 403
// page. It runs after mw.Tenant has put the member in the context.
func Require(p Permission) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !Can(atrium.UserFromContext(c.Request().Context()), p) {
				return atrium.Errorf(atrium.EFORBIDDEN, "Your role in this organization doesn't allow that. Ask an owner or admin if you need it.")
			}
			return next(c)
		}
	}
}
