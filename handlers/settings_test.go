package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/atrium-dev/atrium/handlers/apptest"
)

// auditActions lists the actions on the first page of slug's audit log, as c
// sees it.
func auditActions(c *apptest.Client, slug string) string {
	return strings.Join(c.Get("/o/"+slug+"/audit").Doc.Find("[data-testid=audit-events] td code").
		Map(func(_ int, s *goquery.Selection) string { return s.Text() }), ",")
}

// ownerCount runs a count as the owner role, inside the tenant with id when
// id is not empty, and returns it. It sees soft-deleted tenants' rows.
func ownerCount(t *testing.T, s *apptest.Server, id, query string, args ...any) int {
	t.Helper()
	ctx := context.Background()
	conn := s.DB.OwnerConn(t)
	defer conn.Close(ctx)
	if id != "" {
		if _, err := conn.Exec(ctx, `SELECT set_config('app.tenant_id', $1, false)`, id); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := conn.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func settingsForm(name, slug string) url.Values { return url.Values{"name": {name}, "slug": {slug}} }

func TestOrgSettings(t *testing.T) {
	t.Parallel()
	s, owner, admin := membersFixture(t)
	mem := s.Client(t)
	mem.Login("crew", "mem@crew.test", "crew-password")

	t.Run("Show", func(t *testing.T) {
		page := admin.Get("/o/crew/settings")
		wantStatus(t, page, http.StatusOK)
		wantFormValues(t, page, map[string]string{"name": "Crew", "slug": "crew"})
		if href := page.Doc.Find("[data-testid=security-settings]").AttrOr("href", ""); href != "/o/crew/settings/security" {
			t.Errorf("security settings link = %q", href)
		}
		if page.Doc.Find("[data-testid=delete-form]").Length() != 0 {
			t.Error("an admin is offered to delete the organization")
		}
		if owner.Get("/o/crew/settings").Doc.Find("[data-testid=delete-form]").Length() != 1 {
			t.Error("the owner is not offered to delete the organization")
		}
		if page.Doc.Find(".sidebar-nav a[href='/o/crew/settings'][aria-current=page]").Length() != 1 {
			t.Error("the sidebar does not lead to the settings page")
		}
	})
	t.Run("ErrMemberForbidden", func(t *testing.T) {
		wantErrorPage(t, mem.Get("/o/crew/settings"), http.StatusForbidden)
		wantErrorPage(t, mem.Post("/o/crew/settings", settingsForm("Mine", "crew")), http.StatusForbidden)
		if tn := findTenant(t, s, "crew"); tn.Name != "Crew" {
			t.Fatalf("a member renamed the organization to %q", tn.Name)
		}
	})
	t.Run("NameChange", func(t *testing.T) {
		res := admin.Post("/o/crew/settings", settingsForm("Crew United", "crew"))
		wantRedirect(t, res, "/o/crew/settings")
		page := admin.Get("/o/crew/settings")
		if !strings.Contains(flashText(page), "now called Crew United") {
			t.Errorf("flash = %q", flashText(page))
		}
		wantText(t, page, "[data-testid=org-name]", "Crew United")
		if tn := findTenant(t, s, "crew"); tn.Name != "Crew United" {
			t.Fatalf("name = %q", tn.Name)
		}
		if !strings.Contains(auditActions(owner, "crew"), "settings.name_changed") {
			t.Error("the rename is not in the audit log")
		}
		// Saving the same values changes nothing and records nothing.
		wantRedirect(t, admin.Post("/o/crew/settings", settingsForm("Crew United", "crew")), "/o/crew/settings")
		if got := flashText(admin.Get("/o/crew/settings")); got != "Nothing changed." {
			t.Errorf("flash = %q", got)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, tc := range []struct {
			name, orgName, slug string
			status              int
			field, message      string
		}{
			{"EmptyName", "", "crew", http.StatusUnprocessableEntity, "name", "Enter the organization's name."},
			{"LongName", strings.Repeat("x", 101), "crew", http.StatusUnprocessableEntity, "name", "Use at most 100 characters."},
			{"MalformedSlug", "Crew United", "Bad Slug!", http.StatusUnprocessableEntity, "slug", "Use 3–40 lowercase letters"},
			{"ReservedSlug", "Crew United", "console", http.StatusUnprocessableEntity, "slug", "That URL is reserved"},
			{"TakenSlug", "Crew Renamed", "other", http.StatusConflict, "slug", "That URL is already taken"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := admin.Post("/o/crew/settings", settingsForm(tc.orgName, tc.slug))
				wantStatus(t, res, tc.status)
				if got := res.Text("[data-testid=error-" + tc.field + "]"); !strings.HasPrefix(got, tc.message) {
					t.Errorf("message beside %s = %q, want %q…", tc.field, got, tc.message)
				}
				wantFormValues(t, res, map[string]string{"name": tc.orgName, "slug": tc.slug})
				if tn := findTenant(t, s, "crew"); tn == nil || tn.Name != "Crew United" {
					t.Fatalf("the organization changed: %+v", tn)
				}
			})
		}
	})
	t.Run("ErrOtherOrganization", func(t *testing.T) {
		// Crew's session means nothing at other: its pages ask for a login
		// there, and nothing changes.
		wantRedirect(t, admin.Get("/o/other/settings"), "/o/other/login?next=%2Fo%2Fother%2Fsettings")
		wantRedirect(t, owner.Post("/o/other/settings", settingsForm("Hijacked", "other")), "/o/other/login")
		wantRedirect(t, owner.Post("/o/other/settings/delete", url.Values{"confirm": {"other"}}), "/o/other/login")
		// Crew's session token planted at other's path finds no session.
		putCookie(t, s, owner, "/o/other/", "atrium_session", jarCookie(s, owner, "/o/crew/", "atrium_session"))
		wantRedirect(t, owner.Post("/o/other/settings/delete", url.Values{"confirm": {"other"}}), "/o/other/login")
		if tn := findTenant(t, s, "other"); tn == nil || tn.Name != "Other" {
			t.Fatalf("other = %+v", tn)
		}
	})
	t.Run("ErrRemovedMember", func(t *testing.T) {
		// A session outliving its membership gets the 404 of an unknown
		// organization.
		ex := s.Client(t)
		s.AddMember(t, "crew", "ex@crew.test", "Ex Admin", "crew-password", "admin")
		ex.Login("crew", "ex@crew.test", "crew-password")
		removeMember(t, s, "crew", "ex@crew.test")
		wantErrorPage(t, ex.Get("/o/crew/settings"), http.StatusNotFound)
		// That ended the session: the next try asks for a login.
		wantRedirect(t, ex.Post("/o/crew/settings", settingsForm("Ex Crew", "crew")), "/o/crew/login")
		if tn := findTenant(t, s, "crew"); tn.Name != "Crew United" {
			t.Fatalf("name = %q", tn.Name)
		}
	})
}

func TestOrgSlugChange(t *testing.T) {
	t.Parallel()
	s, owner, admin := membersFixture(t)
	mem := s.Client(t)
	mem.Login("crew", "mem@crew.test", "crew-password")

	res := admin.Post("/o/crew/settings", settingsForm("Crew", "crew-two"))
	wantRedirect(t, res, "/o/crew-two/settings")
	if ck := setCookie(res, "atrium_session"); ck == nil || ck.Path != "/o/crew-two/" || ck.Value == "" {
		t.Fatalf("no session at the new URL: %q", res.Header.Values("Set-Cookie"))
	}
	if jarCookie(s, admin, "/o/crew/", "atrium_session") != "" {
		t.Errorf("the session cookie at the old URL was not cleared: %q", res.Header.Values("Set-Cookie"))
	}

	t.Run("AdminSignedInAtNewURL", func(t *testing.T) {
		page := admin.Get("/o/crew-two/settings")
		wantStatus(t, page, http.StatusOK)
		wantText(t, page, "[data-testid=signed-in-as]", "admin@crew.test")
		if got := flashText(page); !strings.Contains(got, "Everyone else was signed out") {
			t.Errorf("flash = %q, want the sign-out notice", got)
		}
		wantFormValues(t, page, map[string]string{"slug": "crew-two"})
	})
	t.Run("OldURLRedirects", func(t *testing.T) {
		for path, want := range map[string]string{
			"/o/crew/":                 "/o/crew-two/",
			"/o/crew/members?q=mo&x=1": "/o/crew-two/members?q=mo&x=1",
			"/o/crew/login":            "/o/crew-two/login",
		} {
			res := s.Client(t).Get(path)
			wantStatus(t, res, http.StatusMovedPermanently)
			if got := res.Location(); got != want {
				t.Errorf("%s redirects to %q, want %q", path, got, want)
			}
		}
	})
	t.Run("OthersSignedOut", func(t *testing.T) {
		// The member's cookie is for the old path; at the new one they log in.
		wantRedirect(t, mem.Get("/o/crew-two/"), "/o/crew-two/login")
		if n := ownerCount(t, s, findTenant(t, s, "crew-two").ID.String(), `SELECT count(*) FROM sessions`); n != 1 {
			t.Errorf("%d sessions left, want the admin's new one only", n)
		}
		owner.Login("crew-two", "owner@crew.test", "crew-password")
	})
	t.Run("Audited", func(t *testing.T) {
		if !strings.Contains(auditActions(owner, "crew-two"), "settings.slug_changed") {
			t.Error("the URL change is not in the audit log")
		}
	})
	t.Run("ErrOldSlugReserved", func(t *testing.T) {
		boss := s.Client(t)
		boss.Login("other", "boss@other.test", "crew-password")
		res := boss.Post("/o/other/settings", settingsForm("Other", "crew"))
		wantStatus(t, res, http.StatusConflict)
		if got := res.Text("[data-testid=error-slug]"); !strings.Contains(got, "last 90 days") {
			t.Errorf("message = %q", got)
		}
		res = s.Client(t).Post("/signup", signupForm("Crew Clone", "crew", "Cleo", "cleo@example.com", pw))
		wantStatus(t, res, http.StatusConflict)
		wantText(t, res, "[data-testid=error-slug]", "That URL is already taken. Please choose another.")
		if findTenant(t, s, "other") == nil || findUser(t, s, "cleo@example.com") != nil {
			t.Fatal("a refused change changed something")
		}
	})
	t.Run("TakeBackOwnSlug", func(t *testing.T) {
		wantRedirect(t, owner.Post("/o/crew-two/settings", settingsForm("Crew", "crew")), "/o/crew/settings")
		wantStatus(t, owner.Get("/o/crew/settings"), http.StatusOK)
		res := s.Client(t).Get("/o/crew-two/members")
		wantStatus(t, res, http.StatusMovedPermanently)
		if res.Location() != "/o/crew/members" {
			t.Errorf("crew-two redirects to %q", res.Location())
		}
	})
	t.Run("FreeAfter90Days", func(t *testing.T) {
		sqlAsTenant(t, s, "crew", `UPDATE tenant_slug_history SET changed_at = now() - interval '91 days'`)
		wantErrorPage(t, s.Client(t).Get("/o/crew-two/"), http.StatusNotFound)
		res := s.Client(t).Post("/signup", signupForm("Crew Two", "crew-two", "Tess", "tess@example.com", pw))
		wantRedirect(t, res, "/o/crew-two/")
	})
}

func TestOrgDelete(t *testing.T) {
	t.Parallel()
	s, owner, admin := membersFixture(t)
	mem := s.Client(t)
	mem.Login("crew", "mem@crew.test", "crew-password")
	crew := findTenant(t, s, "crew")

	t.Run("ErrAdminForbidden", func(t *testing.T) {
		wantErrorPage(t, admin.Post("/o/crew/settings/delete", url.Values{"confirm": {"crew"}}), http.StatusForbidden)
		if findTenant(t, s, "crew") == nil {
			t.Fatal("an admin deleted the organization")
		}
	})
	t.Run("ErrWrongConfirmation", func(t *testing.T) {
		for _, confirm := range []string{"", "Crew", "crew-x", "other"} {
			res := owner.Post("/o/crew/settings/delete", url.Values{"confirm": {confirm}})
			wantStatus(t, res, http.StatusUnprocessableEntity)
			if got := res.Text("[data-testid=error-confirm]"); !strings.Contains(got, "crew") {
				t.Errorf("confirm %q: message %q", confirm, got)
			}
			if !strings.Contains(res.Text("[data-testid=form-error]"), "Nothing was deleted") {
				t.Errorf("confirm %q: no 'nothing was deleted' message", confirm)
			}
		}
		if findTenant(t, s, "crew") == nil {
			t.Fatal("a wrong confirmation deleted the organization")
		}
		wantStatus(t, mem.Get("/o/crew/"), http.StatusOK)
	})
	t.Run("OK", func(t *testing.T) {
		res := owner.Post("/o/crew/settings/delete", url.Values{"confirm": {" crew "}})
		wantStatus(t, res, http.StatusOK)
		if res.Doc.Find("[data-testid=org-deleted]").Length() != 1 {
			t.Fatalf("no confirmation page: %.400s", res.Body)
		}
		if findTenant(t, s, "crew") != nil {
			t.Fatal("the organization is still found")
		}
		for _, c := range []*apptest.Client{owner, admin, mem, s.Client(t)} {
			wantErrorPage(t, c.Get("/o/crew/"), http.StatusNotFound)
		}
		wantErrorPage(t, s.Client(t).Get("/o/crew/login"), http.StatusNotFound)
		wantStatus(t, owner.Get("/o/other/login"), http.StatusOK)
		if n := ownerCount(t, s, crew.ID.String(), `SELECT count(*) FROM sessions`); n != 0 {
			t.Errorf("%d sessions left", n)
		}
		if n := ownerCount(t, s, crew.ID.String(), `SELECT count(*) FROM audit_events WHERE action = 'organization.deleted'`); n != 1 {
			t.Errorf("%d organization.deleted events, want 1", n)
		}
	})
	t.Run("PurgeAfterRetention", func(t *testing.T) {
		ctx := context.Background()
		if n, err := s.DB.PurgeDeletedTenants(ctx, 720*time.Hour); err != nil || n != 0 {
			t.Fatalf("purged %d (%v) within the retention period", n, err)
		}
		if n := ownerCount(t, s, "", `SELECT count(*) FROM tenants WHERE id = $1`, crew.ID); n != 1 {
			t.Fatal("the organization was erased before its time")
		}
		sqlAsTenant(t, s, "crew", `UPDATE tenants SET deleted_at = now() - interval '31 days' WHERE slug = 'crew'`)
		if n, err := s.DB.PurgeDeletedTenants(ctx, 720*time.Hour); err != nil || n != 1 {
			t.Fatalf("purged %d (%v), want 1", n, err)
		}
		if n := ownerCount(t, s, "", `SELECT count(*) FROM tenants WHERE id = $1`, crew.ID); n != 0 {
			t.Fatal("the organization is still there")
		}
		if n := ownerCount(t, s, crew.ID.String(), `SELECT count(*) FROM audit_events`); n != 0 {
			t.Errorf("%d audit events left", n)
		}
		if findTenant(t, s, "other") == nil {
			t.Fatal("the purge took the other organization")
		}
		// The slug is free again.
		wantRedirect(t, s.Client(t).Post("/signup", signupForm("New Crew", "crew", "Nel", "nel@example.com", pw)), "/o/crew/")
	})
}
