package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/atrium-dev/atrium/handlers/apptest"
)

// switcherSlugs reads the organizations the switcher lists, and which one
// it marks current.
func switcherSlugs(res *apptest.Response) (slugs []string, current string) {
	res.Doc.Find("[data-testid=organizations] a").Each(func(_ int, a *goquery.Selection) {
		slug := a.AttrOr("data-slug", "")
		slugs = append(slugs, slug)
		if a.AttrOr("aria-current", "") == "page" {
			current = slug
		}
		if a.AttrOr("href", "") != "/o/"+slug+"/" {
			slugs = append(slugs, "bad link "+a.AttrOr("href", ""))
		}
	})
	return slugs, current
}

func TestOrgSwitcher(t *testing.T) {
	t.Parallel()
	s, owner, _ := membersFixture(t)
	// The crew owner also belongs to a third organization (named so that it
	// sorts first); the member of crew belongs to crew only.
	s.Org(t, "aaa-third", "Aardvark", "boss@other.test", "crew-password")
	s.AddMember(t, "aaa-third", "owner@crew.test", "", "crew-password", "viewer")
	mem := s.Client(t)
	mem.Login("crew", "mem@crew.test", "crew-password")

	t.Run("ListsExactlyTheirOrganizations", func(t *testing.T) {
		page := owner.Get("/o/crew/switch")
		wantStatus(t, page, http.StatusOK)
		slugs, current := switcherSlugs(page)
		if strings.Join(slugs, ",") != "aaa-third,crew" || current != "crew" {
			t.Fatalf("switcher lists %v with %q current; want aaa-third,crew with crew current", slugs, current)
		}
		slugs, current = switcherSlugs(mem.Get("/o/crew/switch"))
		if strings.Join(slugs, ",") != "crew" || current != "crew" {
			t.Fatalf("member's switcher lists %v (%q current)", slugs, current)
		}
	})
	t.Run("SidebarLink", func(t *testing.T) {
		page := mem.Get("/o/crew/")
		if href := page.Doc.Find("[data-testid=switch-org]").AttrOr("href", ""); href != "/o/crew/switch" {
			t.Fatalf("sidebar switch link = %q", href)
		}
	})
	t.Run("OtherOrganizationNeedsItsOwnLogin", func(t *testing.T) {
		wantRedirect(t, owner.Get("/o/aaa-third/"), "/o/aaa-third/login")
		owner.Login("aaa-third", "owner@crew.test", "crew-password")
		_, current := switcherSlugs(owner.Get("/o/aaa-third/switch"))
		if current != "aaa-third" {
			t.Fatalf("current = %q", current)
		}
		// Still signed in at crew: each organization keeps its own session.
		wantStatus(t, owner.Get("/o/crew/"), http.StatusOK)
	})
	t.Run("ErrNotAMember", func(t *testing.T) {
		wantRedirect(t, mem.Get("/o/other/switch"), "/o/other/login?next=%2Fo%2Fother%2Fswitch")
	})
}

// enableJoinLink turns on crew's join link for domain as c and returns the
// link's path, read from the settings page that shows it once.
func enableJoinLink(t *testing.T, s *apptest.Server, c *apptest.Client, domain string) string {
	t.Helper()
	wantRedirect(t, c.Post("/o/crew/settings/join", url.Values{"action": {"enable"}, "domain": {domain}}), "/o/crew/settings")
	page := c.Get("/o/crew/settings")
	link := page.Text("[data-testid=join-url]")
	if !strings.HasPrefix(link, "http://atrium.test/o/crew/join/") {
		t.Fatalf("join link shown = %q", link)
	}
	return strings.TrimPrefix(link, "http://atrium.test")
}

func TestJoinLink(t *testing.T) {
	t.Parallel()
	s, owner, admin := membersFixture(t)

	t.Run("ErrInvalidSettings", func(t *testing.T) {
		for _, tc := range []struct{ name, action, domain, field string }{
			{"PublicDomain", "enable", "gmail.com", "domain"},
			{"PublicDomainWithAt", "enable", "@GMail.com", "domain"},
			{"NotADomain", "enable", "crew test", "domain"},
			{"Empty", "enable", "", "domain"},
			{"NoAction", "", "crew.test", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := admin.Post("/o/crew/settings/join", url.Values{"action": {tc.action}, "domain": {tc.domain}})
				wantStatus(t, res, http.StatusUnprocessableEntity)
				if tc.field != "" && res.Text("[data-testid=error-"+tc.field+"]") == "" {
					t.Errorf("no message beside the %s field", tc.field)
				}
				if !strings.Contains(res.Text("[data-testid=form-error]"), "not changed") {
					t.Errorf("form message = %q", res.Text("[data-testid=form-error]"))
				}
				wantText(t, res, "[data-testid=join-state]", "off")
			})
		}
	})

	link := enableJoinLink(t, s, admin, "@Crew.Test")

	t.Run("ShownOnce", func(t *testing.T) {
		page := admin.Get("/o/crew/settings")
		if page.Doc.Find("[data-testid=join-url]").Length() != 0 {
			t.Fatal("the link is shown a second time")
		}
		wantText(t, page, "[data-testid=join-state]", "on")
		if !strings.Contains(page.Text("[data-testid=join-summary]"), "crew.test") {
			t.Errorf("summary = %q", page.Text("[data-testid=join-summary]"))
		}
	})
	t.Run("ErrWrongDomain", func(t *testing.T) {
		p := s.Client(t)
		wantStatus(t, p.Get(link), http.StatusOK)
		for _, addr := range []string{"someone@gmail.com", "x@evilcrew.test", "x@sub.crew.test", "not-an-address"} {
			res := p.Post(link, url.Values{"email": {addr}})
			wantStatus(t, res, http.StatusUnprocessableEntity)
			if res.Text("[data-testid=error-email]") == "" {
				t.Errorf("%s: no message beside the field", addr)
			}
			if _, sent := s.Mail.Last(addr); sent {
				t.Errorf("%s: an email was sent", addr)
			}
		}
	})
	t.Run("NewPersonJoins", func(t *testing.T) {
		p := s.Client(t)
		res := p.Post(link, url.Values{"email": {"Newbie@Crew.test"}})
		wantStatus(t, res, http.StatusOK)
		if res.Doc.Find("[data-testid=join-sent]").Length() != 1 {
			t.Fatalf("no 'check your inbox' message: %.400s", res.Body)
		}
		if memberByEmail(t, s, "crew", "newbie@crew.test") != nil {
			t.Fatal("asking made a member without the email being confirmed")
		}
		invite := s.Mail.Link("newbie@crew.test")
		if !strings.HasPrefix(invite, "/o/crew/invite/") {
			t.Fatalf("mailed link %q, want an invitation", invite)
		}
		wantRedirect(t, p.Post(invite, url.Values{"name": {"Nia Newbie"}, "password": {"newbie-password"}}), "/o/crew/")
		if m := memberByEmail(t, s, "crew", "newbie@crew.test"); m == nil || m.Role != "member" {
			t.Fatalf("membership = %+v", m)
		}
	})
	t.Run("MemberGetsTheSameAnswer", func(t *testing.T) {
		res := s.Client(t).Post(link, url.Values{"email": {"mem@crew.test"}})
		wantStatus(t, res, http.StatusOK)
		if res.Doc.Find("[data-testid=join-sent]").Length() != 1 {
			t.Fatal("a member's address gets a different page")
		}
		msg, _ := s.Mail.Last("mem@crew.test")
		if !strings.Contains(msg.Subject, "already a member") || !strings.Contains(msg.Text, "/o/crew/login") {
			t.Fatalf("mail to a member: %q %q", msg.Subject, msg.Text)
		}
	})
	t.Run("ErrOtherOrganizationsPath", func(t *testing.T) {
		wantErrorPage(t, s.Client(t).Get(strings.Replace(link, "/o/crew/", "/o/other/", 1)), http.StatusNotFound)
	})
	t.Run("RegenerateReplacesLink", func(t *testing.T) {
		fresh := enableJoinLink(t, s, admin, "crew.test")
		if fresh == link {
			t.Fatal("the same link again")
		}
		wantErrorPage(t, s.Client(t).Get(link), http.StatusNotFound)
		wantStatus(t, s.Client(t).Get(fresh), http.StatusOK)
		link = fresh
	})
	t.Run("Disable", func(t *testing.T) {
		wantRedirect(t, owner.Post("/o/crew/settings/join", url.Values{"action": {"disable"}}), "/o/crew/settings")
		wantErrorPage(t, s.Client(t).Get(link), http.StatusNotFound)
		wantErrorPage(t, s.Client(t).Post(link, url.Values{"email": {"late@crew.test"}}), http.StatusNotFound)
		page := owner.Get("/o/crew/settings")
		wantText(t, page, "[data-testid=join-state]", "off")
		wantFormValues(t, page, map[string]string{"domain": "crew.test"})
		// Turning it off again says so and changes nothing.
		wantRedirect(t, owner.Post("/o/crew/settings/join", url.Values{"action": {"disable"}}), "/o/crew/settings")
		if got := flashText(owner.Get("/o/crew/settings")); !strings.Contains(got, "already off") {
			t.Errorf("flash = %q", got)
		}
	})
	t.Run("ErrThrottled", func(t *testing.T) {
		link := enableJoinLink(t, s, owner, "crew.test")
		p := s.Client(t)
		var res *apptest.Response
		for i := 0; i < 12; i++ {
			res = p.Post(link, url.Values{"email": {"flood" + strconv.Itoa(i) + "@crew.test"}})
			if res.StatusCode != http.StatusOK {
				break
			}
		}
		wantStatus(t, res, http.StatusTooManyRequests)
		if !strings.Contains(res.Text("[data-testid=form-error]"), "Too many requests") {
			t.Errorf("message = %q", res.Text("[data-testid=form-error]"))
		}
		if _, sent := s.Mail.Last("flood11@crew.test"); sent {
			t.Error("an email went out beyond the limit")
		}
	})
	t.Run("Audited", func(t *testing.T) {
		got := auditActions(owner, "crew")
		for _, want := range []string{"settings.join_link_changed", "invite.created", "invite.accepted"} {
			if !strings.Contains(got, want) {
				t.Errorf("audit log lacks %s", want)
			}
		}
	})
}
