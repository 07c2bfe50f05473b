package handlers_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/apptest"
)

func userWithRole(role string) *atrium.User { return &atrium.User{Role: role} }

func TestAuditLog(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	s.Org(t, "audited", "Audited", "owner@audited.test", "audit-password")
	s.AddMember(t, "audited", "=cmd@audited.test", "Formula", "audit-password", "member")

	// Some history: a failed login, a member's login and logout.
	m := s.Client(t)
	res := m.Post("/o/audited/login", url.Values{"email": {"=cmd@audited.test"}, "password": {"wrong-password"}})
	wantStatus(t, res, http.StatusUnauthorized)
	m.Login("audited", "=cmd@audited.test", "audit-password")
	wantRedirect(t, m.Post("/o/audited/logout", nil), "/o/audited/login")

	owner := s.Client(t)
	owner.Login("audited", "owner@audited.test", "audit-password")

	t.Run("OK", func(t *testing.T) {
		res := owner.Get("/o/audited/audit")
		wantStatus(t, res, http.StatusOK)
		actions := res.Doc.Find("[data-testid=audit-events] tbody td code").Map(func(_ int, s *goquery.Selection) string { return s.Text() })
		want := []string{"auth.login", "auth.logout", "auth.login", "auth.login_failed"}
		if strings.Join(actions, ",") != strings.Join(want, ",") {
			t.Fatalf("actions newest first = %v, want %v", actions, want)
		}
	})
	t.Run("FilterByAction", func(t *testing.T) {
		res := owner.Get("/o/audited/audit?action=auth.logout")
		if n := res.Doc.Find("[data-testid=audit-events] tbody tr").Length(); n != 1 {
			t.Fatalf("%d rows, want 1", n)
		}
	})
	t.Run("FilterByActor", func(t *testing.T) {
		res := owner.Get("/o/audited/audit?actor=owner%40")
		if n := res.Doc.Find("[data-testid=audit-events] tbody tr").Length(); n != 1 {
			t.Fatalf("%d rows, want 1 (the owner's login)", n)
		}
	})
	t.Run("ErrBadFilter", func(t *testing.T) {
		res := owner.Get("/o/audited/audit?from=yesterday&action=drop.tables")
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if res.Doc.Find(".field-error").Length() != 2 {
			t.Fatalf("want a message beside each bad field: %s", res.Body)
		}
	})
	t.Run("ExportCSV", func(t *testing.T) {
		res := owner.Get("/o/audited/audit/export.csv?action=auth.login_failed")
		wantStatus(t, res, http.StatusOK)
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("content type %q", ct)
		}
		rows, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
		if err != nil || len(rows) != 2 {
			t.Fatalf("rows=%v err=%v", rows, err)
		}
		if got := rows[1][10]; got != "'email==cmd@audited.test" && !strings.HasPrefix(got, "email=") {
			t.Fatalf("details cell = %q", got)
		}
		for _, cell := range rows[1] {
			if strings.HasPrefix(cell, "=") {
				t.Fatalf("formula cell not defused: %q", cell)
			}
		}
	})
	t.Run("ErrForbiddenForMember", func(t *testing.T) {
		m.Login("audited", "=cmd@audited.test", "audit-password")
		wantStatus(t, m.Get("/o/audited/audit"), http.StatusForbidden)
		wantStatus(t, m.Get("/o/audited/audit/export.csv"), http.StatusForbidden)
		if m.Get("/o/audited/").Doc.Find(`a[href="/o/audited/audit"]`).Length() != 0 {
			t.Fatal("the navigation offers the audit log to a member without audit.read")
		}
	})
}
