package handlers_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/atrium-dev/atrium/handlers/apptest"
)

// TestBrowserInviteJourney walks an admin inviting a person, the person
// accepting in a second browser, and the admin changing their role and
// removing them — every step visible in the audit log.
func TestBrowserInviteJourney(t *testing.T) {
	apptest.ChromePath(t)
	srv := apptest.New(t)
	srv.Org(t, "hooli", "Hooli", "gavin@hooli.example", "hooli-password")
	srv.AddMember(t, "hooli", "denpok@hooli.example", "Denpok", "hooli-password", "admin")
	const guest = "richard@piedpiper.example"

	admin := newBrowserPage(t, srv.URL)
	admin.open("/o/hooli/login")
	admin.fill(map[string]string{"email": "denpok@hooli.example", "password": "hooli-password"})
	admin.submit(`[data-testid=login-form] button[type=submit]`)
	admin.wantPath("/o/hooli/")

	// Invite.
	admin.open("/o/hooli/members")
	admin.fill(map[string]string{"email": guest})
	admin.submit(`[data-testid=invite-form] button[type=submit]`)
	admin.wantTextContains(`[data-testid=flashes]`, "Invitation sent to "+guest)
	admin.wantTextContains(`[data-testid=invites]`, guest)
	link := srv.Mail.Link(guest)
	if link == "" {
		t.Fatal("no invitation was mailed")
	}

	// Accept, in a browser of the guest's own.
	g := newBrowserPage(t, srv.URL)
	g.open(link)
	g.wantTextContains(`[data-testid=accept-invite]`, "Join Hooli")
	g.fill(map[string]string{"name": "Richard Hendricks", "password": "middle-out-2014"})
	g.submit(`[data-testid=accept-invite] button[type=submit]`)
	g.wantPath("/o/hooli/")
	g.wantText(`[data-testid=signed-in-as]`, guest)

	// The admin makes them a viewer, then removes them, on their page.
	admin.open("/o/hooli/members")
	row := `//tr[.//span[@data-testid="member-name" and text()="Richard Hendricks"]]`
	manage := func() {
		admin.t.Helper()
		if _, err := chromedp.RunResponse(admin.ctx, chromedp.Click(chromedp.Search(row+`//a[@data-testid="manage-member"]`))); err != nil {
			admin.fatalf("open the member's page: %v", err)
		}
		admin.wantText(`h1[data-testid=member-name]`, "Richard Hendricks")
	}
	manage()
	if err := chromedp.Do(admin.ctx, chromedp.SetValue(chromedp.CSS(`#role`), "viewer")); err != nil {
		admin.fatalf("choose role: %v", err)
	}
	admin.submit(`[data-testid=change-role]`)
	admin.wantTextContains(`[data-testid=flashes]`, "Richard Hendricks is now viewer.")
	manage()
	if err := chromedp.Do(admin.ctx, chromedp.Click(chromedp.CSS(`details.danger-zone > summary`))); err != nil {
		admin.fatalf("open the remove confirmation: %v", err)
	}
	admin.submit(`[data-testid=remove-member]`)
	admin.wantTextContains(`[data-testid=flashes]`, "Richard Hendricks was removed")

	// The guest's session ended with the membership.
	g.open("/o/hooli/")
	g.wantPath("/o/hooli/login")

	// Every step is in the audit log.
	admin.open("/o/hooli/audit")
	log := admin.text(`[data-testid=audit-events]`)
	for _, action := range []string{"invite.created", "invite.accepted", "member.added", "member.role_changed", "member.removed"} {
		if !strings.Contains(log, action) {
			t.Errorf("audit log lacks %s:\n%s", action, log)
		}
	}
	admin.screenshot("audit.png")
}
