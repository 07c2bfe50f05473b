package members

import (
	"slices"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/authz"
	"github.com/atrium-dev/atrium/store"
)

// The rules every change to a membership obeys, as pure functions so they
// are tested on their own. owners is the number of owners, read under
// store.LockOwners.

// checkRoleChange says whether actor may give target the role newRole.
func checkRoleChange(actor, target *store.Member, newRole string, owners int) error {
	switch {
	case !authz.IsBuiltin(newRole):
		return atrium.Errorf(atrium.EINVALID, "There is no role named %q.", newRole)
	case actor.ID == target.ID:
		return atrium.Errorf(atrium.EFORBIDDEN, "You can't change your own role. Ask another owner or admin.")
	case actor.Role != "owner" && (target.Role == "owner" || newRole == "owner"):
		return atrium.Errorf(atrium.EFORBIDDEN, "Only an owner can grant or remove the owner role.")
	case target.Role == "owner" && newRole != "owner" && owners <= 1:
		return atrium.Errorf(atrium.ECONFLICT, "%s is the last owner. Make someone else an owner first.", target.Name)
	}
	return nil
}

// checkRemove says whether actor may remove target from the organization.
func checkRemove(actor, target *store.Member, owners int) error {
	switch {
	case actor.ID == target.ID:
		return atrium.Errorf(atrium.EINVALID, "To remove yourself, use “Leave organization”.")
	case actor.Role != "owner" && target.Role == "owner":
		return atrium.Errorf(atrium.EFORBIDDEN, "Only an owner can remove an owner.")
	case target.Role == "owner" && owners <= 1:
		return atrium.Errorf(atrium.ECONFLICT, "%s is the last owner and can't be removed.", target.Name)
	}
	return nil
}

// checkLeave says whether actor may leave the organization.
func checkLeave(actor *store.Member, owners int) error {
	if actor.Role == "owner" && owners <= 1 {
		return atrium.Errorf(atrium.ECONFLICT, "You are the last owner. Transfer ownership to another member before you leave.")
	}
	return nil
}

// checkTransfer says whether actor may hand ownership to target.
func checkTransfer(actor, target *store.Member) error {
	switch {
	case actor.Role != "owner":
		return atrium.Errorf(atrium.EFORBIDDEN, "Only an owner can transfer ownership.")
	case actor.ID == target.ID:
		return atrium.Errorf(atrium.EINVALID, "You already own this organization.")
	case target.Role == "owner":
		return atrium.Errorf(atrium.EINVALID, "%s is already an owner.", target.Name)
	}
	return nil
}

// memberPermissions is what a member may do, by their built-in or custom role.
func memberPermissions(m *store.Member) []authz.Permission {
	return authz.UserPermissions(&atrium.User{Role: m.Role, Permissions: m.Permissions})
}

// checkCustomRoleChange says whether actor may give target a custom role
// with the given permissions. The built-in rules apply (not one's own role,
// an owner only by an owner, never the last owner), and nobody can hand out
// a permission they do not hold themselves.
func checkCustomRoleChange(actor, target *store.Member, role *store.Role, owners int) error {
	if err := checkRoleChange(actor, target, "member", owners); err != nil {
		return err
	}
	have := memberPermissions(actor)
	for _, p := range role.Permissions {
		if !slices.Contains(have, authz.Permission(p)) {
			return atrium.Errorf(atrium.EFORBIDDEN, "The role %q includes %s, which you don't have, so you can't grant it.", role.Name, p)
		}
	}
	return nil
}
