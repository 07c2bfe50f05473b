package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium/handlers/apptest"
)

// requestReset asks for a reset link for addr and returns the page.
func requestReset(t *testing.T, c *apptest.Client, addr string) *apptest.Response {
	t.Helper()
	return c.Post("/password/forgot", url.Values{"email": {addr}})
}

// resetLink requests a link for addr and returns its path from the email.
func resetLink(t *testing.T, s *apptest.Server, addr string) string {
	t.Helper()
	res := requestReset(t, s.Client(t), addr)
	wantStatus(t, res, http.StatusOK)
	link := s.Mail.Link(addr)
	if !strings.HasPrefix(link, "/password/reset/") {
		t.Fatalf("no reset link mailed to %s (got %q)", addr, link)
	}
	return link
}

// sqlAsOwner runs statements as the owner role, outside any tenant, for
// system tables such as password_resets.
func sqlAsOwner(t *testing.T, s *apptest.Server, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	conn := s.DB.OwnerConn(t)
	defer conn.Close(ctx)
	for _, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.SyncChanges(t)
}

// wantLinkGone expects the 410 page that offers a new link.
func wantLinkGone(t *testing.T, res *apptest.Response) {
	t.Helper()
	wantStatus(t, res, http.StatusGone)
	if res.Doc.Find("[data-testid=reset-gone] a[href='/password/forgot']").Length() != 1 {
		t.Fatalf("the 410 page does not offer a new link: %.400s", res.Body)
	}
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	s, ann, bob := acctFixture(t)
	elsewhere := s.Client(t)
	elsewhere.Login("other", "ann@crew.test", pw)

	t.Run("LoginFormsLinkHere", func(t *testing.T) {
		for _, path := range []string{"/login", "/o/crew/login"} {
			if s.Client(t).Get(path).Doc.Find("a[href='/password/forgot']").Length() != 1 {
				t.Errorf("%s has no “Forgot your password?” link", path)
			}
		}
		wantStatus(t, s.Client(t).Get("/password/forgot"), http.StatusOK)
	})

	t.Run("UnknownAddressSameAnswer", func(t *testing.T) {
		unknown := requestReset(t, s.Client(t), "nobody@crew.test")
		known := requestReset(t, s.Client(t), "ann@crew.test")
		wantStatus(t, unknown, http.StatusOK)
		wantStatus(t, known, http.StatusOK)
		u := strings.ReplaceAll(unknown.Text("[data-testid=reset-sent]"), "nobody@crew.test", "ADDR")
		k := strings.ReplaceAll(known.Text("[data-testid=reset-sent]"), "ann@crew.test", "ADDR")
		if u == "" || u != k || !strings.Contains(u, "If an account exists for ADDR") {
			t.Fatalf("answers differ:\nunknown: %q\nknown:   %q", u, k)
		}
		if _, sent := s.Mail.Last("nobody@crew.test"); sent {
			t.Fatal("an email was sent to an address without an account")
		}
	})

	t.Run("ErrMalformedAddress", func(t *testing.T) {
		res := requestReset(t, s.Client(t), "not-an-address")
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if res.Text("[data-testid=error-email]") == "" {
			t.Fatal("no message beside the email field")
		}
		wantFormValues(t, res, map[string]string{"email": "not-an-address"})
	})

	t.Run("ErrAltered", func(t *testing.T) {
		link := resetLink(t, s, "ann@crew.test")
		altered := link[:len(link)-2] + "xx"
		if altered == link {
			altered = link[:len(link)-2] + "yy"
		}
		wantErrorPage(t, s.Client(t).Get(altered), http.StatusNotFound)
		wantErrorPage(t, s.Client(t).Post(altered, url.Values{"password": {acctNewPW}}), http.StatusNotFound)
	})

	t.Run("ErrExpired", func(t *testing.T) {
		link := resetLink(t, s, "ann@crew.test")
		sqlAsOwner(t, s, `UPDATE password_resets SET expires_at = now() - interval '1 minute' WHERE used_at IS NULL`)
		wantLinkGone(t, s.Client(t).Get(link))
		wantLinkGone(t, s.Client(t).Post(link, url.Values{"password": {acctNewPW}}))
		if ok, _ := s.Hasher.Verify(pw, findUser(t, s, "ann@crew.test").PasswordHash); !ok {
			t.Fatal("an expired link changed the password")
		}
	})

	t.Run("OK", func(t *testing.T) {
		older := resetLink(t, s, "ann@crew.test")
		link := resetLink(t, s, "ann@crew.test")
		c := s.Client(t)
		page := c.Get(link)
		wantStatus(t, page, http.StatusOK)
		if page.Doc.Find("[data-testid=reset-form] input[name=password]").Length() != 1 {
			t.Fatal("no new password field")
		}

		res := c.Post(link, url.Values{"password": {"short"}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if res.Text("[data-testid=error-password]") == "" {
			t.Fatal("no message beside the password field")
		}
		wantSignedIn(t, ann, "crew", true)

		res = c.Post(link, url.Values{"password": {acctNewPW}})
		wantStatus(t, res, http.StatusOK)
		if res.Doc.Find("[data-testid=reset-done] a[href='/login']").Length() != 1 {
			t.Fatalf("no link to log in: %.400s", res.Body)
		}
		wantSignedIn(t, ann, "crew", false)
		wantSignedIn(t, elsewhere, "other", false)
		wantSignedIn(t, bob, "crew", true)

		msg, _ := s.Mail.Last("ann@crew.test")
		if msg.Subject != "Your Atrium password was reset" || !strings.Contains(msg.Text, "/password/forgot") {
			t.Errorf("notice = %+v", msg)
		}
		for _, slug := range []string{"crew", "other"} {
			if a := acctAudit(t, s, slug); a[0] != "account.password_reset" {
				t.Errorf("%s audit = %v", slug, a)
			}
		}

		wantStatus(t, s.Client(t).Post("/o/crew/login", credentials("ann@crew.test", pw)), http.StatusUnauthorized)
		s.Client(t).Login("crew", "ann@crew.test", acctNewPW)

		t.Run("ErrUsedTwice", func(t *testing.T) {
			wantLinkGone(t, s.Client(t).Get(link))
			wantLinkGone(t, s.Client(t).Post(link, url.Values{"password": {"yet another passphrase"}}))
			if ok, _ := s.Hasher.Verify(acctNewPW, findUser(t, s, "ann@crew.test").PasswordHash); !ok {
				t.Fatal("a used link changed the password again")
			}
		})
		t.Run("ErrOlderLinkInvalidated", func(t *testing.T) {
			wantLinkGone(t, s.Client(t).Get(older))
		})
	})
}

func TestPasswordResetThrottle(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	s.Org(t, "crew", "Crew", "ann@crew.test", pw)
	var last string
	for i := 0; i < 5; i++ {
		last = resetLink(t, s, "ann@crew.test")
	}
	res := requestReset(t, s.Client(t), "ann@crew.test")
	wantStatus(t, res, http.StatusTooManyRequests)
	if !strings.Contains(res.Text("[data-testid=form-error]"), "Too many reset requests") {
		t.Fatalf("form message = %q", res.Text("[data-testid=form-error]"))
	}
	if s.Mail.Link("ann@crew.test") != last {
		t.Fatal("a sixth link was mailed")
	}
	// Another address from the same client still gets its answer.
	wantStatus(t, requestReset(t, s.Client(t), "someone@crew.test"), http.StatusOK)
}
