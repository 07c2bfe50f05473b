package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/atrium-dev/atrium/handlers/apptest"
)

// invite sends an invitation as c and returns the link's path.
func invite(t *testing.T, s *apptest.Server, c *apptest.Client, slug, addr, role string) string {
	t.Helper()
	res := c.Post("/o/"+slug+"/members/invites", url.Values{"email": {addr}, "role": {role}})
	wantRedirect(t, res, "/o/"+slug+"/members")
	link := s.Mail.Link(addr)
	if !strings.HasPrefix(link, "/o/"+slug+"/invite/") {
		t.Fatalf("no invitation link mailed to %s (got %q)", addr, link)
	}
	return link
}

// sqlAsTenant runs statements as the owner role inside one tenant.
func sqlAsTenant(t *testing.T, s *apptest.Server, slug string, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	conn := s.DB.OwnerConn(t)
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT set_config('app.tenant_id', (SELECT id::text FROM tenants WHERE slug = $1), true)`, slug); err != nil {
		t.Fatal(err)
	}
	for _, q := range stmts {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	s.SyncChanges(t)
}

func TestInvites(t *testing.T) {
	t.Parallel()
	s, owner, admin := membersFixture(t)

	t.Run("NewPersonAccepts", func(t *testing.T) {
		link := invite(t, s, admin, "crew", "newbie@example.org", "member")
		msg, _ := s.Mail.Last("newbie@example.org")
		if !strings.Contains(msg.Subject, "Ada Admin invited you to Crew") {
			t.Errorf("subject %q", msg.Subject)
		}
		p := s.Client(t)
		page := p.Get(link)
		wantStatus(t, page, http.StatusOK)
		if page.Doc.Find("input[name=name]").Length() != 1 {
			t.Fatal("a new person is not asked for a name")
		}
		res := p.Post(link, url.Values{"name": {"Nia Newbie"}, "password": {"newbie-password"}})
		wantRedirect(t, res, "/o/crew/")
		wantText(t, p.Get("/o/crew/"), "[data-testid=signed-in-as]", "newbie@example.org")
		if m := memberByEmail(t, s, "crew", "newbie@example.org"); m == nil || m.Role != "member" {
			t.Fatalf("membership = %+v", m)
		}

		t.Run("ErrReused", func(t *testing.T) {
			wantErrorPage(t, s.Client(t).Get(link), http.StatusGone)
			wantErrorPage(t, s.Client(t).Post(link, url.Values{"name": {"X"}, "password": {"another-password"}}), http.StatusGone)
		})
		t.Run("ErrAltered", func(t *testing.T) {
			wantErrorPage(t, s.Client(t).Get(link[:len(link)-2]+"xx"), http.StatusNotFound)
		})
		t.Run("ErrOtherOrganizationsPath", func(t *testing.T) {
			wantErrorPage(t, s.Client(t).Get(strings.Replace(link, "/o/crew/", "/o/other/", 1)), http.StatusNotFound)
		})
	})

	t.Run("ExistingAccountAccepts", func(t *testing.T) {
		// boss@other.test has an account in another organization only.
		link := invite(t, s, owner, "crew", "boss@other.test", "viewer")
		p := s.Client(t)
		page := p.Get(link)
		if page.Doc.Find("input[name=name]").Length() != 0 || page.Doc.Find("input[name=password]").Length() != 1 {
			t.Fatal("an existing account should be asked for its password only")
		}
		wantStatus(t, p.Post(link, url.Values{"password": {"wrong-password"}}), http.StatusUnauthorized)
		if memberByEmail(t, s, "crew", "boss@other.test") != nil {
			t.Fatal("joined with a wrong password")
		}
		wantRedirect(t, p.Post(link, url.Values{"password": {"crew-password"}}), "/o/crew/")
		if m := memberByEmail(t, s, "crew", "boss@other.test"); m == nil || m.Role != "viewer" {
			t.Fatalf("membership = %+v", m)
		}
	})

	t.Run("ErrInvalidInvites", func(t *testing.T) {
		for _, tc := range []struct {
			name, addr, role string
			status           int
			field            string
		}{
			{"Malformed", "not-an-address", "member", http.StatusUnprocessableEntity, "email"},
			{"AlreadyMember", "mem@crew.test", "member", http.StatusUnprocessableEntity, "email"},
			{"UnknownRole", "x@example.org", "emperor", http.StatusUnprocessableEntity, "role"},
			{"AdminInvitesOwner", "y@example.org", "owner", http.StatusConflict, "email"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := admin.Post("/o/crew/members/invites", url.Values{"email": {tc.addr}, "role": {tc.role}})
				wantStatus(t, res, tc.status)
				if res.Doc.Find("[data-testid=error-"+tc.field+"]").Length() == 0 && tc.field == "email" {
					t.Fatalf("no message beside the %s field: %.400s", tc.field, res.Body)
				}
				if _, sent := s.Mail.Last(tc.addr); sent {
					t.Fatal("an email was sent for a refused invitation")
				}
			})
		}
	})

	t.Run("ErrDuplicateOpenInvite", func(t *testing.T) {
		invite(t, s, admin, "crew", "twice@example.org", "member")
		res := admin.Post("/o/crew/members/invites", url.Values{"email": {"twice@example.org"}, "role": {"member"}})
		wantStatus(t, res, http.StatusConflict)
	})

	t.Run("ResendReplacesLink", func(t *testing.T) {
		old := invite(t, s, admin, "crew", "resend@example.org", "member")
		id := admin.Get("/o/crew/members").Doc.Find("[data-testid=invites] tr:contains('resend@example.org') form[action$='/resend']").AttrOr("action", "")
		if id == "" {
			t.Fatal("no resend button for the invite")
		}
		wantRedirect(t, admin.Post(id, nil), "/o/crew/members")
		fresh := s.Mail.Link("resend@example.org")
		if fresh == old || fresh == "" {
			t.Fatal("resend did not mail a new link")
		}
		wantErrorPage(t, s.Client(t).Get(old), http.StatusNotFound)
		wantStatus(t, s.Client(t).Get(fresh), http.StatusOK)
	})

	t.Run("ErrRevoked", func(t *testing.T) {
		link := invite(t, s, admin, "crew", "revoke@example.org", "member")
		action := admin.Get("/o/crew/members").Doc.Find("[data-testid=invites] tr:contains('revoke@example.org') form[action$='/revoke']").AttrOr("action", "")
		wantRedirect(t, admin.Post(action, nil), "/o/crew/members")
		wantErrorPage(t, s.Client(t).Get(link), http.StatusGone)
	})

	t.Run("ErrExpired", func(t *testing.T) {
		link := invite(t, s, admin, "crew", "late@example.org", "member")
		sqlAsTenant(t, s, "crew", `UPDATE invites SET expires_at = now() - interval '1 minute' WHERE email = 'late@example.org'`)
		wantErrorPage(t, s.Client(t).Get(link), http.StatusGone)
		// A new invitation replaces the expired one.
		invite(t, s, admin, "crew", "late@example.org", "member")
	})

	t.Run("ErrOtherOrganizationsInvite", func(t *testing.T) {
		boss := s.Client(t)
		boss.Login("other", "boss@other.test", "crew-password")
		invite(t, s, boss, "other", "outsider@example.org", "member")
		action := boss.Get("/o/other/members").Doc.Find("form[action$='/revoke']").AttrOr("action", "")
		crossed := strings.Replace(action, "/o/other/", "/o/crew/", 1)
		wantErrorPage(t, owner.Post(crossed, nil), http.StatusNotFound)
		wantStatus(t, s.Client(t).Get(s.Mail.Link("outsider@example.org")), http.StatusOK)
	})

	t.Run("Audited", func(t *testing.T) {
		got := strings.Join(owner.Get("/o/crew/audit").Doc.Find("[data-testid=audit-events] td code").Map(func(_ int, s *goquery.Selection) string { return s.Text() }), ",")
		for _, want := range []string{"invite.created", "invite.accepted", "member.added", "invite.revoked", "invite.resent"} {
			if !strings.Contains(got, want) {
				t.Errorf("audit log lacks %s", want)
			}
		}
	})
}
