package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"

	"github.com/atrium-dev/atrium/handlers/apptest"
)

const acctSessions = "/o/crew/account/sessions"

// acctSessionRow is one row of the sessions page.
type acctSessionRow struct {
	id, device, ip string
	current        bool
}

func acctSessionRows(t *testing.T, res *apptest.Response) []acctSessionRow {
	t.Helper()
	wantStatus(t, res, http.StatusOK)
	var rows []acctSessionRow
	res.Doc.Find("[data-testid=sessions] tbody tr").Each(func(_ int, tr *goquery.Selection) {
		rows = append(rows, acctSessionRow{
			id:      tr.AttrOr("data-session", ""),
			device:  strings.TrimSpace(tr.Find("[data-testid=session-device]").Text()),
			ip:      strings.TrimSpace(tr.Find("[data-testid=session-ip]").Text()),
			current: tr.Find("[data-testid=this-session]").Length() == 1,
		})
	})
	return rows
}

// acctCurrentSession returns the id of the session c is using at slug.
func acctCurrentSession(t *testing.T, c *apptest.Client, slug string) string {
	t.Helper()
	for _, r := range acctSessionRows(t, c.Get("/o/"+slug+"/account/sessions")) {
		if r.current {
			return r.id
		}
	}
	t.Fatalf("no session marked as this one at %s", slug)
	return ""
}

func TestAccountSessions(t *testing.T) {
	t.Parallel()
	s, _, bob := acctFixture(t)
	laptop, phone := s.Client(t), s.Client(t)
	acctLoginAs(t, s, laptop, "crew", "ann@crew.test", pw, chromeUA)
	phone.Login("crew", "ann@crew.test", pw)
	boss := s.Client(t)
	s.Org(t, "next-door", "Next Door", "boss@next.test", pw)
	boss.Login("next-door", "boss@next.test", pw)

	// Ann's first client from the fixture is left alone: three sessions.
	rows := acctSessionRows(t, laptop.Get(acctSessions))
	if len(rows) != 3 {
		t.Fatalf("%d sessions listed, want Ann's 3 at Crew: %+v", len(rows), rows)
	}
	if !rows[0].current || rows[0].device != "Chrome on Linux" || rows[0].ip != "127.0.0.1" {
		t.Fatalf("first row = %+v, want this session, Chrome on Linux, from 127.0.0.1", rows[0])
	}
	for _, r := range rows[1:] {
		if r.current || r.device != "Go HTTP client" {
			t.Fatalf("row = %+v, want another session from the Go client", r)
		}
	}
	phoneID := acctCurrentSession(t, phone, "crew")
	laptopID := rows[0].id

	t.Run("ErrCurrentSession", func(t *testing.T) {
		res := laptop.Post(acctSessions+"/"+laptopID+"/revoke", nil)
		wantRedirect(t, res, acctSessions)
		page := laptop.Get(acctSessions)
		if !strings.Contains(flashText(page), "log out") {
			t.Errorf("flash = %q", flashText(page))
		}
		if n := len(acctSessionRows(t, page)); n != 3 {
			t.Fatalf("%d sessions after refusing, want 3", n)
		}
	})

	t.Run("ErrOtherPersonsSession", func(t *testing.T) {
		bobID := acctCurrentSession(t, bob, "crew")
		wantErrorPage(t, laptop.Post(acctSessions+"/"+bobID+"/revoke", nil), http.StatusNotFound)
		wantSignedIn(t, bob, "crew", true)
	})

	t.Run("ErrOtherOrganizationsSession", func(t *testing.T) {
		bossID := acctCurrentSession(t, boss, "next-door")
		wantErrorPage(t, laptop.Post(acctSessions+"/"+bossID+"/revoke", nil), http.StatusNotFound)
		wantSignedIn(t, boss, "next-door", true)
		// Nor can Ann's own session at Crew be revoked through Next Door.
		wantErrorPage(t, boss.Post("/o/next-door/account/sessions/"+phoneID+"/revoke", nil), http.StatusNotFound)
		wantSignedIn(t, phone, "crew", true)
	})

	t.Run("ErrUnknownOrMalformedID", func(t *testing.T) {
		wantErrorPage(t, laptop.Post(acctSessions+"/"+uuid.NewString()+"/revoke", nil), http.StatusNotFound)
		wantErrorPage(t, laptop.Post(acctSessions+"/not-a-uuid/revoke", nil), http.StatusNotFound)
	})

	t.Run("RevokeOne", func(t *testing.T) {
		wantRedirect(t, laptop.Post(acctSessions+"/"+phoneID+"/revoke", nil), acctSessions)
		page := laptop.Get(acctSessions)
		if !strings.Contains(flashText(page), "Go HTTP client") {
			t.Errorf("flash = %q", flashText(page))
		}
		for _, r := range acctSessionRows(t, page) {
			if r.id == phoneID {
				t.Fatal("the revoked session is still listed")
			}
		}
		wantSignedIn(t, phone, "crew", false)
		wantSignedIn(t, laptop, "crew", true)
		if a := acctAudit(t, s, "crew"); a[0] != "session.revoked" {
			t.Fatalf("audit = %v", a)
		}
		// Revoked twice: it is gone.
		wantErrorPage(t, laptop.Post(acctSessions+"/"+phoneID+"/revoke", nil), http.StatusNotFound)
	})

	t.Run("SignOutEverywhereElse", func(t *testing.T) {
		phone.Login("crew", "ann@crew.test", pw)
		elsewhere := s.Client(t)
		elsewhere.Login("other", "ann@crew.test", pw)
		page := laptop.Get(acctSessions)
		if page.Doc.Find("[data-testid=revoke-others]").Length() != 1 {
			t.Fatal("no “sign out everywhere else” button")
		}
		wantRedirect(t, laptop.Post(acctSessions+"/revoke-others", nil), acctSessions)
		page = laptop.Get(acctSessions)
		if rows := acctSessionRows(t, page); len(rows) != 1 || !rows[0].current {
			t.Fatalf("sessions = %+v, want only this one", rows)
		}
		if !strings.Contains(flashText(page), "Signed out 2 other sessions") {
			t.Errorf("flash = %q", flashText(page))
		}
		wantSignedIn(t, phone, "crew", false)
		wantSignedIn(t, laptop, "crew", true)
		wantSignedIn(t, bob, "crew", true)
		// The page is about this organization: Other is left alone.
		wantSignedIn(t, elsewhere, "other", true)
	})
}
