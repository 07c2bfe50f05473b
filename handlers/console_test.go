package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium/handlers/apptest"
)

func TestConsoleTenantAudit(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	s.Org(t, "watched", "Watched", "owner@watched.test", "watch-password")
	s.Operator(t, "ops@atrium.test", "operator-password")
	owner := s.Client(t)
	owner.Login("watched", "owner@watched.test", "watch-password")

	op := s.Client(t)
	wantRedirect(t, op.Get("/console/tenants/watched"), "/console/login")
	wantRedirect(t, op.Post("/console/login", url.Values{"email": {"ops@atrium.test"}, "password": {"operator-password"}}), "/console/")

	t.Run("OK", func(t *testing.T) {
		res := op.Get("/console/tenants/watched")
		wantStatus(t, res, http.StatusOK)
		wantText(t, res, "[data-testid=tenant-name]", "Watched")
		log := res.Doc.Find("[data-testid=tenant-audit]").Text()
		if !strings.Contains(log, "auth.login") {
			t.Fatal("the owner's login is not in the operator's view")
		}
		if !strings.Contains(log, "operator.viewed_audit") {
			t.Fatal("the operator's own look is not in their view")
		}
	})
	t.Run("VisitIsAudited", func(t *testing.T) {
		res := owner.Get("/o/watched/audit?action=operator.viewed_audit")
		rows := res.Doc.Find("[data-testid=audit-events] tbody tr")
		if rows.Length() != 1 || !strings.Contains(rows.Text(), "ops@atrium.test") || !strings.Contains(rows.Text(), "Watched") {
			t.Fatalf("the tenant cannot see the operator's visit: %s", rows.Text())
		}
	})
	// Recording the look changes nothing a member's entry holds.
	t.Run("MembersStayCached", func(t *testing.T) {
		wantEntryKept(t, s, owner, "/o/watched/", func() { wantStatus(t, op.Get("/console/tenants/watched"), http.StatusOK) })
	})
	t.Run("LookRecordedOncePerWindow", func(t *testing.T) {
		wantStatus(t, op.Get("/console/tenants/watched"), http.StatusOK)
		res := owner.Get("/o/watched/audit?action=operator.viewed_audit")
		if n := res.Doc.Find("[data-testid=audit-events] tbody tr").Length(); n != 1 {
			t.Fatalf("%d looks recorded; want one for the looks within ten minutes", n)
		}
		// Another operator's look is news, on the log's first page too,
		// which the server keeps in memory between events.
		for range 2 {
			wantStatus(t, owner.Get("/o/watched/audit"), http.StatusOK)
		}
		s.Operator(t, "ops2@atrium.test", "operator-password")
		op2 := s.Client(t)
		wantRedirect(t, op2.Post("/console/login", url.Values{"email": {"ops2@atrium.test"}, "password": {"operator-password"}}), "/console/")
		wantStatus(t, op2.Get("/console/tenants/watched"), http.StatusOK)
		res = owner.Get("/o/watched/audit?action=operator.viewed_audit")
		if rows := res.Doc.Find("[data-testid=audit-events] tbody tr"); rows.Length() != 2 || !strings.Contains(rows.Text(), "ops2@atrium.test") {
			t.Fatalf("the second operator's look is not recorded: %s", rows.Text())
		}
		if log := owner.Get("/o/watched/audit").Doc.Find("[data-testid=audit-events]").Text(); !strings.Contains(log, "ops2@atrium.test") {
			t.Fatal("the log's first page does not show the second operator's look")
		}
	})
	t.Run("ErrUnknownTenant", func(t *testing.T) {
		wantErrorPage(t, op.Get("/console/tenants/nope-nope"), http.StatusNotFound)
	})
	t.Run("ListLinksToTenant", func(t *testing.T) {
		res := op.Get("/console/")
		if res.Doc.Find(`[data-testid=tenants] a[href="/console/tenants/watched"]`).Length() != 1 {
			t.Fatal("the tenant list does not link to the tenant")
		}
	})
}

// TestConsoleOutbox pages through the emails kept instead of sent, newest
// first, 20 to a page; the page's reads travel with the operator check.
func TestConsoleOutbox(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	s.Operator(t, "ops@atrium.test", "operator-password")
	sqlAsOwner(t, s, `INSERT INTO outbox (to_email, subject, body)
		SELECT 'p' || i || '@example.com', 'Subject ' || i, 'Body <b>' || i || '</b>' FROM generate_series(1, 25) i`)
	op := s.Client(t)
	wantRedirect(t, op.Get("/console/outbox"), "/console/login")
	wantRedirect(t, op.Post("/console/login", url.Values{"email": {"ops@atrium.test"}, "password": {"operator-password"}}), "/console/")

	first := op.Get("/console/outbox")
	wantStatus(t, first, http.StatusOK)
	wantText(t, first, "[data-testid=outbox-total]", "25 messages")
	msgs := first.Doc.Find("[data-testid=outbox-message]")
	if msgs.Length() != 20 || strings.TrimSpace(msgs.First().Find("[data-testid=outbox-to]").Text()) != "p25@example.com" {
		t.Fatalf("first page: %d messages, first to %q; want 20, newest (p25) first",
			msgs.Length(), msgs.First().Find("[data-testid=outbox-to]").Text())
	}
	if body := first.Doc.Find("[data-testid=outbox-body]").First().Text(); body != "Body <b>25</b>" {
		t.Fatalf("body shown as %q, want the text as written", body)
	}
	next, ok := first.Doc.Find(`nav.pager a[rel=next]`).Attr("href")
	if !ok {
		t.Fatal("no link to the next page")
	}
	second := op.Get(next)
	wantStatus(t, second, http.StatusOK)
	msgs = second.Doc.Find("[data-testid=outbox-message]")
	if msgs.Length() != 5 || strings.TrimSpace(msgs.Last().Find("[data-testid=outbox-to]").Text()) != "p1@example.com" {
		t.Fatalf("second page: %d messages; want the 5 oldest", msgs.Length())
	}
	if second.Doc.Find(`nav.pager a[rel=next]`).Length() != 0 {
		t.Fatal("the last page links to a next one")
	}
}

// TestConsoleSessionEnds: an operator's console entry is kept in memory,
// so signing out and being removed must end it at once here and, through
// the notice, when the change comes from elsewhere.
func TestConsoleSessionEnds(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	s.Operator(t, "ops@atrium.test", "operator-password")
	op := s.Client(t)
	signIn := func() {
		t.Helper()
		wantRedirect(t, op.Post("/console/login", url.Values{"email": {"ops@atrium.test"}, "password": {"operator-password"}}), "/console/")
		s.SyncChanges(t)
		for range 2 { // the second view from the cached entry
			wantStatus(t, op.Get("/console/"), http.StatusOK)
		}
	}

	signIn()
	wantRedirect(t, op.Post("/console/logout", nil), "/console/login")
	wantRedirect(t, op.Get("/console/"), "/console/login")

	signIn()
	conn := s.DB.OwnerConn(t)
	if _, err := conn.Exec(context.Background(), `DELETE FROM operators WHERE email = 'ops@atrium.test'`); err != nil {
		t.Fatal(err)
	}
	s.SyncChanges(t)
	wantRedirect(t, op.Get("/console/"), "/console/login")
}
