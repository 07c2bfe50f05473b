package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestCustomRoles(t *testing.T) {
	t.Parallel()
	s, owner, admin := membersFixture(t)
	mem := s.Client(t)
	mem.Login("crew", "mem@crew.test", "crew-password")
	memID := memberByEmail(t, s, "crew", "mem@crew.test").ID.String()
	create := func(name string, perms ...string) *http.Response {
		t.Helper()
		return owner.Post("/o/crew/roles", url.Values{"name": {name}, "permissions": perms}).Response
	}
	roleID := func(name string) string {
		t.Helper()
		res := owner.Get("/o/crew/members/" + memID)
		v := res.Doc.Find("select[name=role] option:contains('"+name+"')").AttrOr("value", "")
		if !strings.HasPrefix(v, "custom:") {
			t.Fatalf("no option for custom role %q on the member's page", name)
		}
		return v
	}

	t.Run("Create", func(t *testing.T) {
		if res := create("Auditor", "audit.read"); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d", res.StatusCode)
		}
		list := owner.Get("/o/crew/roles")
		wantText(t, list, "[data-testid=custom-role-name]", "Auditor")
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for name, res := range map[string]*http.Response{
			"BuiltinName":       create("admin", "audit.read"),
			"DuplicateName":     create("AUDITOR", "audit.read"),
			"OwnerOnlyPower":    create("Boss", "ownership.transfer"),
			"UnknownPermission": create("Hacker", "everything"),
			"EmptyName":         create("", "audit.read"),
		} {
			if res.StatusCode != http.StatusUnprocessableEntity && res.StatusCode != http.StatusConflict {
				t.Errorf("%s: status %d, want 422 or 409", name, res.StatusCode)
			}
		}
		if n := owner.Get("/o/crew/roles").Doc.Find("[data-testid=custom-role-name]").Length(); n != 1 {
			t.Fatalf("%d custom roles, want 1", n)
		}
	})
	t.Run("ErrAdminCannotManageRoles", func(t *testing.T) {
		wantStatus(t, admin.Get("/o/crew/roles"), http.StatusForbidden)
		wantStatus(t, admin.Post("/o/crew/roles", url.Values{"name": {"Sneaky"}}), http.StatusForbidden)
	})
	t.Run("AssignedRoleGrantsItsPermissions", func(t *testing.T) {
		res := admin.Post("/o/crew/members/"+memID+"/role", url.Values{"role": {roleID("Auditor")}})
		wantRedirect(t, res, "/o/crew/members")
		if m := memberByEmail(t, s, "crew", "mem@crew.test"); m.Role != "custom" || m.RoleName != "Auditor" {
			t.Fatalf("member = %+v", m)
		}
		wantStatus(t, mem.Get("/o/crew/audit"), http.StatusOK)
		wantStatus(t, mem.Get("/o/crew/members"), http.StatusForbidden)
		dash := mem.Get("/o/crew/")
		wantStatus(t, dash, http.StatusOK)
		if !strings.Contains(dash.Text("p.lead"), "Auditor") {
			t.Errorf("dashboard greeting %q does not name the custom role", dash.Text("p.lead"))
		}
	})
	t.Run("ErrGrantPermissionsYouLack", func(t *testing.T) {
		create("Treasurer", "billing.manage")
		res := admin.Post("/o/crew/members/"+memID+"/role", url.Values{"role": {roleID("Treasurer")}})
		wantRedirect(t, res, "/o/crew/members/"+memID)
		if !strings.Contains(flashText(admin.Get(res.Location())), "which you don't have") {
			t.Fatal("no explanation for the refused grant")
		}
		if m := memberByEmail(t, s, "crew", "mem@crew.test"); m.RoleName != "Auditor" {
			t.Fatalf("role changed to %q", m.RoleName)
		}
	})
	t.Run("ErrOtherOrganizationsRole", func(t *testing.T) {
		boss := s.Client(t)
		boss.Login("other", "boss@other.test", "crew-password")
		wantRedirect(t, boss.Post("/o/other/roles", url.Values{"name": {"Spy"}, "permissions": {"members.read"}}), "/o/other/roles")
		del := boss.Get("/o/other/roles").Doc.Find("[data-testid=custom-roles] tr:contains('Spy') form").AttrOr("action", "")
		id := strings.TrimSuffix(strings.TrimPrefix(del, "/o/other/roles/"), "/delete")
		if len(id) != 36 {
			t.Fatalf("no Spy role at the other organization (%q)", del)
		}
		spy := "custom:" + id
		owner.Post("/o/crew/members/"+memID+"/role", url.Values{"role": {spy}})
		if !strings.Contains(flashText(owner.Get("/o/crew/members")), "no such role") {
			t.Fatal("another organization's role was not refused")
		}
		if m := memberByEmail(t, s, "crew", "mem@crew.test"); m.RoleName != "Auditor" {
			t.Fatalf("role changed to %q", m.RoleName)
		}
	})
	t.Run("DeleteOnlyWhenUnused", func(t *testing.T) {
		action := owner.Get("/o/crew/roles").Doc.Find("[data-testid=custom-roles] tr:contains('Auditor') form").AttrOr("action", "")
		wantRedirect(t, owner.Post(action, nil), "/o/crew/roles")
		if !strings.Contains(flashText(owner.Get("/o/crew/roles")), "still hold this role") {
			t.Fatal("a held role was deleted or no reason given")
		}
		owner.Post("/o/crew/members/"+memID+"/role", url.Values{"role": {"member"}})
		wantRedirect(t, owner.Post(action, nil), "/o/crew/roles")
		if owner.Get("/o/crew/roles").Doc.Find("[data-testid=custom-roles] tr:contains('Auditor')").Length() != 0 {
			t.Fatal("role not deleted")
		}
	})
}
