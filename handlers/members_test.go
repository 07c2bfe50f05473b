package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/atrium-dev/atrium/handlers/apptest"
	"github.com/atrium-dev/atrium/store"
)

// membersFixture is an organization with an owner, an admin and a member,
// and a second organization next door.
func membersFixture(t *testing.T) (*apptest.Server, *apptest.Client, *apptest.Client) {
	t.Helper()
	s := apptest.New(t)
	s.Org(t, "crew", "Crew", "owner@crew.test", "crew-password")
	s.AddMember(t, "crew", "admin@crew.test", "Ada Admin", "crew-password", "admin")
	s.AddMember(t, "crew", "mem@crew.test", "Mo Member", "crew-password", "member")
	s.Org(t, "other", "Other", "boss@other.test", "crew-password")
	owner, admin := s.Client(t), s.Client(t)
	owner.Login("crew", "owner@crew.test", "crew-password")
	admin.Login("crew", "admin@crew.test", "crew-password")
	return s, owner, admin
}

func memberByEmail(t *testing.T, s *apptest.Server, slug, email string) *store.Member {
	t.Helper()
	for _, m := range members(t, s, slug) {
		if m.Email == email {
			return &m
		}
	}
	return nil
}

func flashText(res *apptest.Response) string {
	return strings.TrimSpace(res.Doc.Find("[data-testid=flashes]").Text())
}

func TestMemberChanges(t *testing.T) {
	t.Parallel()
	s, owner, admin := membersFixture(t)
	memID := memberByEmail(t, s, "crew", "mem@crew.test").ID.String()
	ownerID := memberByEmail(t, s, "crew", "owner@crew.test").ID.String()
	adminID := memberByEmail(t, s, "crew", "admin@crew.test").ID.String()
	post := func(c *apptest.Client, path string, form url.Values) *apptest.Response {
		t.Helper()
		res := c.Post("/o/crew"+path, form)
		if res.StatusCode == http.StatusSeeOther {
			return c.Get(res.Location())
		}
		return res
	}
	role := func(email string) string {
		if m := memberByEmail(t, s, "crew", email); m != nil {
			return m.Role
		}
		return ""
	}

	t.Run("AdminPromotesMember", func(t *testing.T) {
		res := post(admin, "/members/"+memID+"/role", url.Values{"role": {"billing"}})
		if !strings.Contains(flashText(res), "Mo Member is now billing") || role("mem@crew.test") != "billing" {
			t.Fatalf("flash %q, role %q", flashText(res), role("mem@crew.test"))
		}
	})
	t.Run("MemberPage", func(t *testing.T) {
		list := owner.Get("/o/crew/members")
		if n := list.Doc.Find("[data-testid=manage-member]").Length(); n != 2 {
			t.Errorf("%d manage links on the list, want 2 (everyone but the viewer)", n)
		}
		link, _ := list.Doc.Find("tr[data-member='" + memID + "'] [data-testid=manage-member]").Attr("href")
		res := owner.Get(link)
		if res.StatusCode != http.StatusOK || res.Text("h1[data-testid=member-name]") != "Mo Member" || res.Text("[data-testid=member-email]") != "mem@crew.test" {
			t.Fatalf("GET %s: %d, %q <%s>", link, res.StatusCode, res.Text("h1"), res.Text("[data-testid=member-email]"))
		}
		if got := res.Doc.Find("select[name=role] option[selected]").AttrOr("value", ""); got != "billing" {
			t.Errorf("selected role %q, want billing", got)
		}
		if res.Doc.Find("[data-testid=transfer]").Length() != 1 || res.Doc.Find("[data-testid=remove-member]").Length() != 1 {
			t.Error("the owner is not offered transfer and removal")
		}
		byAdmin := admin.Get(link)
		if byAdmin.Doc.Find("[data-testid=transfer]").Length() != 0 || byAdmin.Doc.Find("select[name=role] option[value=owner]").Length() != 0 {
			t.Error("an admin is offered ownership: a transfer or the owner role")
		}
		// An admin may not change or remove an owner: the page says so
		// instead of offering forms that would be refused.
		ofOwner := admin.Get("/o/crew/members/" + ownerID)
		if ofOwner.Doc.Find("[data-testid=owner-only]").Length() != 1 || ofOwner.Doc.Find("[data-testid=change-role], [data-testid=remove-member]").Length() != 0 {
			t.Errorf("an admin on the owner's page: %s", ofOwner.Text("main"))
		}
		self := owner.Get("/o/crew/members/" + ownerID)
		if self.StatusCode != http.StatusOK || self.Doc.Find("form").Length() != 1 { // the header's logout form only
			t.Errorf("own page: %d with %d forms", self.StatusCode, self.Doc.Find("form").Length())
		}
	})
	t.Run("ErrAdminGrantsOwner", func(t *testing.T) {
		back := admin.Post("/o/crew/members/"+memID+"/role", url.Values{"role": {"owner"}})
		wantRedirect(t, back, "/o/crew/members/"+memID) // refused: back to the member's page
		res := admin.Get(back.Location())
		if !strings.Contains(flashText(res), "Only an owner") || role("mem@crew.test") != "billing" {
			t.Fatalf("flash %q, role %q", flashText(res), role("mem@crew.test"))
		}
	})
	t.Run("ErrAdminDemotesOwner", func(t *testing.T) {
		post(admin, "/members/"+ownerID+"/role", url.Values{"role": {"member"}})
		if role("owner@crew.test") != "owner" {
			t.Fatal("an admin demoted the owner")
		}
	})
	t.Run("ErrRaiseOwnRole", func(t *testing.T) {
		res := post(admin, "/members/"+adminID+"/role", url.Values{"role": {"owner"}})
		if !strings.Contains(flashText(res), "your own role") || role("admin@crew.test") != "admin" {
			t.Fatalf("flash %q, role %q", flashText(res), role("admin@crew.test"))
		}
	})
	t.Run("ErrUnknownRole", func(t *testing.T) {
		res := post(owner, "/members/"+memID+"/role", url.Values{"role": {"emperor"}})
		if !strings.Contains(flashText(res), "no role named") || role("mem@crew.test") != "billing" {
			t.Fatalf("flash %q", flashText(res))
		}
	})
	t.Run("ErrLastOwnerLeaves", func(t *testing.T) {
		res := post(owner, "/leave", nil)
		if !strings.Contains(flashText(res), "last owner") || role("owner@crew.test") != "owner" {
			t.Fatalf("flash %q", flashText(res))
		}
	})
	t.Run("ErrNotFoundOtherOrganizationsMember", func(t *testing.T) {
		boss := memberByEmail(t, s, "other", "boss@other.test").ID.String()
		for _, path := range []string{"/members/" + boss + "/role", "/members/" + boss + "/remove", "/members/" + boss + "/transfer", "/members/not-a-uuid/remove"} {
			res := owner.Post("/o/crew"+path, url.Values{"role": {"viewer"}})
			wantErrorPage(t, res, http.StatusNotFound)
		}
		for _, path := range []string{"/members/" + boss, "/members/not-a-uuid"} {
			wantErrorPage(t, owner.Get("/o/crew"+path), http.StatusNotFound)
		}
		if role := memberByEmail(t, s, "other", "boss@other.test"); role == nil || role.Role != "owner" {
			t.Fatal("the other organization's owner changed")
		}
	})
	t.Run("TransferOwnership", func(t *testing.T) {
		post(owner, "/members/"+adminID+"/transfer", nil)
		if role("admin@crew.test") != "owner" || role("owner@crew.test") != "admin" {
			t.Fatalf("after transfer: new %q, old %q", role("admin@crew.test"), role("owner@crew.test"))
		}
	})
	t.Run("RemoveEndsAccess", func(t *testing.T) {
		m := s.Client(t)
		m.Login("crew", "mem@crew.test", "crew-password")
		post(admin, "/members/"+memID+"/remove", nil) // admin is now the owner
		if memberByEmail(t, s, "crew", "mem@crew.test") != nil {
			t.Fatal("member not removed")
		}
		// Their session ended with the membership: back to the login page.
		wantRedirect(t, m.Get("/o/crew/"), "/o/crew/login")
	})
	t.Run("Audited", func(t *testing.T) {
		res := admin.Get("/o/crew/audit")
		got := strings.Join(res.Doc.Find("[data-testid=audit-events] tbody td code").Map(func(_ int, s *goquery.Selection) string { return s.Text() }), ",")
		for _, want := range []string{"member.removed", "ownership.transferred", "member.role_changed"} {
			if !strings.Contains(got, want) {
				t.Errorf("audit log lacks %s: %s", want, got)
			}
		}
	})
	t.Run("MemberLeaves", func(t *testing.T) {
		s.AddMember(t, "crew", "leaver@crew.test", "Lee", "crew-password", "viewer")
		l := s.Client(t)
		l.Login("crew", "leaver@crew.test", "crew-password")
		wantRedirect(t, l.Post("/o/crew/leave", nil), "/login")
		if memberByEmail(t, s, "crew", "leaver@crew.test") != nil {
			t.Fatal("still a member after leaving")
		}
	})
}

func TestMembersListAtScale(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	tn := s.Org(t, "big", "Big", "owner@big.test", "big-password")
	ctx := context.Background()
	conn := s.DB.OwnerConn(t)
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`SELECT set_config('app.tenant_id', '` + tn.ID.String() + `', true)`,
		`INSERT INTO users (email, name, password_hash)
		 SELECT 'user' || i || '@big.test', 'User ' || lpad(i::text, 4, '0'), 'x' FROM generate_series(1, 4999) i`,
		`INSERT INTO memberships (tenant_id, user_id, role)
		 SELECT '` + tn.ID.String() + `', id, 'member' FROM users WHERE email LIKE '%@big.test' AND email <> 'owner@big.test'`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	c := s.Client(t)
	c.Login("big", "owner@big.test", "big-password")

	res := c.Get("/o/big/members")
	wantText(t, res, "[data-testid=member-total]", "5000 members")
	if n := res.Doc.Find("[data-testid=members] tbody tr").Length(); n != 50 {
		t.Fatalf("first page has %d rows, want 50", n)
	}
	last := c.Get("/o/big/members?page=100")
	if n := last.Doc.Find("[data-testid=members] tbody tr").Length(); n != 50 || last.Doc.Find(`a[rel=next]`).Length() != 0 {
		t.Fatalf("page 100 has %d rows / a next link", n)
	}
	found := c.Get("/o/big/members?q=User+4321")
	if n := found.Doc.Find("[data-testid=members] tbody tr").Length(); n != 1 {
		t.Fatalf("search found %d rows, want 1", n)
	}
	wild := c.Get("/o/big/members?q=%25")
	if n := wild.Doc.Find("[data-testid=members] tbody tr").Length(); n != 0 {
		t.Fatalf("a literal %% matched %d rows", n)
	}
}
