package members

import (
	"testing"

	"github.com/google/uuid"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
)

func member(role string) *store.Member { return &store.Member{ID: uuid.New(), Name: role, Role: role} }

func TestCheckRoleChange(t *testing.T) {
	owner, admin, mem, other := member("owner"), member("admin"), member("member"), member("owner")
	for _, tc := range []struct {
		name          string
		actor, target *store.Member
		role          string
		owners        int
		want          string
	}{
		{"OwnerPromotes", owner, mem, "admin", 1, ""},
		{"AdminPromotesToAdmin", admin, mem, "admin", 1, ""},
		{"OwnerDemotesOtherOwner", owner, other, "admin", 2, ""},
		{"ErrUnknownRole", owner, mem, "emperor", 1, atrium.EINVALID},
		{"ErrOwnRole", admin, admin, "owner", 1, atrium.EFORBIDDEN},
		{"ErrOwnRoleOwner", owner, owner, "member", 2, atrium.EFORBIDDEN},
		{"ErrAdminGrantsOwner", admin, mem, "owner", 1, atrium.EFORBIDDEN},
		{"ErrAdminDemotesOwner", admin, owner, "member", 2, atrium.EFORBIDDEN},
		{"ErrLastOwner", other, owner, "admin", 1, atrium.ECONFLICT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := atrium.ErrorCode(checkRoleChange(tc.actor, tc.target, tc.role, tc.owners)); got != tc.want {
				t.Fatalf("code %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCheckRemoveLeaveTransfer(t *testing.T) {
	owner, admin, mem, other := member("owner"), member("admin"), member("member"), member("owner")
	if checkRemove(owner, mem, 1) != nil || checkRemove(admin, mem, 1) != nil || checkRemove(owner, other, 2) != nil {
		t.Error("allowed removals refused")
	}
	if atrium.ErrorCode(checkRemove(admin, owner, 2)) != atrium.EFORBIDDEN {
		t.Error("admin removed an owner")
	}
	if atrium.ErrorCode(checkRemove(owner, owner, 2)) != atrium.EINVALID {
		t.Error("removed self")
	}
	if atrium.ErrorCode(checkLeave(owner, 1)) != atrium.ECONFLICT || checkLeave(owner, 2) != nil || checkLeave(mem, 1) != nil {
		t.Error("leave rules")
	}
	if checkTransfer(owner, mem) != nil || atrium.ErrorCode(checkTransfer(admin, mem)) != atrium.EFORBIDDEN ||
		atrium.ErrorCode(checkTransfer(owner, other)) != atrium.EINVALID {
		t.Error("transfer rules")
	}
}
