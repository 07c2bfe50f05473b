package handlers_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/apptest"
	"github.com/atrium-dev/atrium/store"
)

// These tests drive the real application through its router, each on its
// own database, and check what a browser would get (status, redirect, page)
// and what the database holds afterwards.

const (
	pw      = "correct horse battery"
	wrongPW = "incorrect horse battery"

	badCredentials = "Incorrect email or password."
)

func TestSignup(t *testing.T) {
	t.Parallel()

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		s := apptest.New(t)
		c := s.Client(t)

		res := c.Post("/signup", signupForm("Acme Inc", "acme", "Ada Lovelace", " Ada@Example.com ", pw))
		wantRedirect(t, res, "/o/acme/")
		ck := setCookie(res, "atrium_session")
		if ck == nil || ck.Value == "" {
			t.Fatalf("no session cookie in Set-Cookie: %q", res.Header.Values("Set-Cookie"))
		}
		if ck.Path != "/o/acme/" || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
			t.Errorf("session cookie: path %q, HttpOnly %v, SameSite %v; want /o/acme/, true, Lax", ck.Path, ck.HttpOnly, ck.SameSite)
		}

		dash := c.Get("/o/acme/")
		wantStatus(t, dash, http.StatusOK)
		wantText(t, dash, "[data-testid=org-name]", "Acme Inc")
		wantText(t, dash, "[data-testid=signed-in-as]", "ada@example.com")
		wantText(t, dash, "[data-testid=member-count]", "1")
		if got := dash.Text("[data-testid=flashes]"); !strings.Contains(got, "Welcome to Atrium") {
			t.Errorf("flash = %q, want the welcome message", got)
		}

		tenant := findTenant(t, s, "acme")
		if tenant == nil || tenant.Name != "Acme Inc" {
			t.Fatalf("tenant acme = %+v", tenant)
		}
		u := findUser(t, s, "ada@example.com")
		if u == nil || u.Name != "Ada Lovelace" {
			t.Fatalf("user = %+v, want Ada Lovelace with the normalized email", u)
		}
		ms := members(t, s, "acme")
		if len(ms) != 1 || ms[0].UserID != u.ID || ms[0].Role != "owner" {
			t.Errorf("members = %+v, want Ada as the only owner", ms)
		}
	})

	t.Run("ErrDuplicateSlug", func(t *testing.T) {
		t.Parallel()
		s := apptest.New(t)
		s.Org(t, "acme", "Acme Inc", "owner@example.com", pw)
		c := s.Client(t)

		res := c.Post("/signup", signupForm("Acme Two", "acme", "Bob Builder", "bob@example.com", pw))
		wantStatus(t, res, http.StatusConflict)
		if res.Text("[data-testid=error-slug]") == "" {
			t.Error("no error beside the slug field")
		}
		wantFormValues(t, res, map[string]string{
			"org_name": "Acme Two", "slug": "acme", "name": "Bob Builder", "email": "bob@example.com", "password": "",
		})
		wantNoSession(t, res)

		if n := tenantCount(t, s); n != 1 {
			t.Errorf("tenants = %d, want 1", n)
		}
		if tn := findTenant(t, s, "acme"); tn.Name != "Acme Inc" || tn.MemberCount != 1 {
			t.Errorf("existing tenant changed: %+v", tn)
		}
		if u := findUser(t, s, "bob@example.com"); u != nil {
			t.Errorf("user created despite the conflict: %+v", u)
		}
	})

	t.Run("ErrDuplicateEmailWrongPassword", func(t *testing.T) {
		t.Parallel()
		s := apptest.New(t)
		s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
		before := findUser(t, s, "ada@example.com")
		c := s.Client(t)

		res := c.Post("/signup", signupForm("Beta Corp", "beta", "Ada", "ada@example.com", wrongPW))
		wantStatus(t, res, http.StatusConflict)
		if res.Text("[data-testid=error-email]") == "" {
			t.Error("no error beside the email field")
		}
		if res.Doc.Find("[data-testid=error-slug]").Length() != 0 {
			t.Error("the slug is free, yet it is marked as wrong")
		}
		wantNoSession(t, res)

		if findTenant(t, s, "beta") != nil || tenantCount(t, s) != 1 {
			t.Error("an organization was created without the account's password")
		}
		if after := findUser(t, s, "ada@example.com"); after.PasswordHash != before.PasswordHash || after.Name != before.Name {
			t.Error("the existing account was changed")
		}
	})

	t.Run("ExistingUserAddsOrganization", func(t *testing.T) {
		t.Parallel()
		s := apptest.New(t)
		s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
		before := findUser(t, s, "ada@example.com")
		c := s.Client(t)

		res := c.Post("/signup", signupForm("Beta Corp", "beta", "Someone Else", "ada@example.com", pw))
		wantRedirect(t, res, "/o/beta/")
		dash := c.Get("/o/beta/")
		wantStatus(t, dash, http.StatusOK)
		wantText(t, dash, "[data-testid=org-name]", "Beta Corp")
		wantText(t, dash, "[data-testid=signed-in-as]", "ada@example.com")

		after := findUser(t, s, "ada@example.com")
		if after.ID != before.ID || after.Name != before.Name || after.PasswordHash != before.PasswordHash {
			t.Errorf("account changed: before %+v, after %+v", before, after)
		}
		ms := members(t, s, "beta")
		if len(ms) != 1 || ms[0].UserID != before.ID || ms[0].Role != "owner" {
			t.Errorf("beta members = %+v, want the existing user as owner", ms)
		}

		login := s.Client(t).Post("/login", credentials("ada@example.com", pw))
		wantStatus(t, login, http.StatusOK)
		if got := chooserSlugs(login); strings.Join(got, ",") != "acme,beta" {
			t.Errorf("chooser = %v, want [acme beta]", got)
		}
	})

	t.Run("HostileNamesShownLiterally", func(t *testing.T) {
		t.Parallel()
		const sqlish, htmlish = `Robert'); DROP TABLE tenants;--`, `<script>alert(1)</script>`
		for i, tc := range []struct{ org, name string }{{sqlish, htmlish}, {htmlish, sqlish}} {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				s := apptest.New(t)
				c := s.Client(t)
				res := c.Post("/signup", signupForm(tc.org, "acme", tc.name, "ada@example.com", pw))
				wantRedirect(t, res, "/o/acme/")

				dash := c.Get("/o/acme/")
				wantStatus(t, dash, http.StatusOK)
				wantText(t, dash, "[data-testid=org-name]", tc.org)
				if !strings.Contains(dash.Text("p.lead"), tc.name) {
					t.Errorf("greeting %q does not show the name %q", dash.Text("p.lead"), tc.name)
				}
				wantNoScript(t, dash)
				list := c.Get("/o/acme/members")
				wantText(t, list, "[data-testid=members] [data-testid=member-name]", tc.name)
				wantNoScript(t, list)

				if tn := findTenant(t, s, "acme"); tn == nil || tn.Name != tc.org {
					t.Errorf("stored tenant = %+v, want name %q", tn, tc.org)
				}
				if u := findUser(t, s, "ada@example.com"); u == nil || u.Name != tc.name {
					t.Errorf("stored user = %+v, want name %q", u, tc.name)
				}
			})
		}
	})

	// A refused form comes back with 422, the message beside the field and
	// the other fields as typed; nothing is stored. Invalid UTF-8 must be
	// refused like any other malformed text, not reach PostgreSQL.
	t.Run("ErrInvalidInput", func(t *testing.T) {
		t.Parallel()
		s := apptest.New(t)
		c := s.Client(t)
		for _, tc := range []struct{ name, field, value, want string }{
			{"ReservedSlugConsole", "slug", "console", "reserved"},
			{"ReservedSlugLogin", "slug", "login", "reserved"},
			{"ReservedSlugAPI", "slug", "api", "reserved"},
			{"ReservedSlugStatic", "slug", "static", "reserved"},
			{"WeakPassword", "password", "short1234", "at least 10 characters"},
			{"MalformedEmail", "email", "ada", "valid email"},
			{"EmailWithoutDottedDomain", "email", "ada@localhost", "valid email"},
			{"EmailWithDisplayName", "email", "Ada <ada@example.com>", "valid email"},
			{"InvalidUTF8OrgName", "org_name", "Acme \xff Inc", ""},
			{"InvalidUTF8Name", "name", "Ada \xff Lovelace", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				form := signupForm("Acme Inc", "acme", "Ada Lovelace", "ada@example.com", pw)
				form.Set(tc.field, tc.value)
				res := c.Post("/signup", form)
				wantStatus(t, res, http.StatusUnprocessableEntity)
				if got := res.Text("[data-testid=error-" + tc.field + "]"); got == "" || !strings.Contains(got, tc.want) {
					t.Errorf("error beside %s = %q, want one containing %q", tc.field, got, tc.want)
				}
				kept := map[string]string{"password": ""}
				for _, f := range []string{"org_name", "slug", "name", "email"} {
					if f != tc.field {
						kept[f] = form.Get(f)
					}
				}
				wantFormValues(t, res, kept)
				wantNoSession(t, res)
			})
		}
		wantNothingCreated(t, s, "acme", "ada@example.com")
		if n := tenantCount(t, s); n != 0 {
			t.Errorf("tenants = %d, want 0", n)
		}
	})
}

func TestLogin(t *testing.T) {
	t.Parallel()

	t.Run("OneOrganization", func(t *testing.T) {
		t.Parallel()
		s := apptest.New(t)
		s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
		c := s.Client(t)

		res := c.Post("/login", credentials("ada@example.com", pw))
		wantRedirect(t, res, "/o/acme/")
		if ck := setCookie(res, "atrium_session"); ck == nil || ck.Path != "/o/acme/" {
			t.Errorf("session cookie = %+v, want one for /o/acme/", ck)
		}
		wantText(t, c.Get("/o/acme/"), "[data-testid=signed-in-as]", "ada@example.com")
	})

	t.Run("Chooser", func(t *testing.T) {
		t.Parallel()
		s := apptest.New(t)
		s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
		s.Org(t, "beta", "Beta Corp", "ada@example.com", pw)
		s.Org(t, "gamma", "Gamma Ltd", "gus@example.com", pw)
		c := s.Client(t)

		res := c.Post("/login", credentials("ada@example.com", pw))
		wantStatus(t, res, http.StatusOK)
		if got := chooserSlugs(res); strings.Join(got, ",") != "acme,beta" {
			t.Errorf("chooser slugs = %v, want [acme beta]", got)
		}
		if txt := res.Text("[data-testid=chooser]"); !strings.Contains(txt, "Acme Inc") || !strings.Contains(txt, "Beta Corp") || strings.Contains(txt, "Gamma") {
			t.Errorf("chooser text = %q, want Acme and Beta only", txt)
		}
		wantNoSession(t, res)

		res = c.Post("/login/choose", url.Values{"slug": {"beta"}})
		wantRedirect(t, res, "/o/beta/")
		wantText(t, c.Get("/o/beta/"), "[data-testid=org-name]", "Beta Corp")
		wantRedirect(t, c.Get("/o/acme/"), "/o/acme/login")

		// The pending login is used up by the choice.
		wantRedirect(t, c.Post("/login/choose", url.Values{"slug": {"acme"}}), "/login")
	})

	t.Run("ErrChooseOtherOrganization", func(t *testing.T) {
		t.Parallel()
		s := apptest.New(t)
		s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
		s.Org(t, "beta", "Beta Corp", "ada@example.com", pw)
		s.Org(t, "gamma", "Gamma Ltd", "gus@example.com", pw)
		c := s.Client(t)

		wantStatus(t, c.Post("/login", credentials("ada@example.com", pw)), http.StatusOK)
		res := c.Post("/login/choose", url.Values{"slug": {"gamma"}})
		wantErrorPage(t, res, http.StatusNotFound)
		wantNoSession(t, res)
		wantRedirect(t, c.Get("/o/gamma/"), "/o/gamma/login")
		if jarCookie(s, c, "/o/gamma/", "atrium_session") != "" {
			t.Error("the jar holds a session for an organization the user is not in")
		}
	})

	t.Run("ErrChooseWithoutPendingLogin", func(t *testing.T) {
		t.Parallel()
		s := apptest.New(t)
		s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
		c := s.Client(t)

		res := c.Post("/login/choose", url.Values{"slug": {"acme"}})
		wantRedirect(t, res, "/login")
		wantNoSession(t, res)
		if got := c.Get("/login").Text("[data-testid=flashes]"); !strings.Contains(got, "login expired") {
			t.Errorf("flash = %q, want the expired-login message", got)
		}
		wantRedirect(t, c.Get("/o/acme/"), "/o/acme/login")
	})

	t.Run("ErrWrongPasswordLikeUnknownEmail", func(t *testing.T) {
		t.Parallel()
		s := apptest.New(t)
		s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
		s.Org(t, "beta", "Beta Corp", "ada@example.com", pw)
		c := s.Client(t)

		wrong := c.Post("/login", credentials("ada@example.com", wrongPW))
		unknown := c.Post("/login", credentials("nobody@example.com", pw))
		for name, res := range map[string]*apptest.Response{"wrong password": wrong, "unknown email": unknown} {
			wantStatus(t, res, http.StatusUnauthorized)
			wantText(t, res, "[data-testid=form-error]", badCredentials)
			if res.Doc.Find("[data-testid=chooser]").Length() != 0 {
				t.Errorf("%s: the chooser is shown", name)
			}
			wantNoSession(t, res)
		}
		wantRedirect(t, c.Post("/login/choose", url.Values{"slug": {"acme"}}), "/login")
	})
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
	s.Org(t, "beta", "Beta Corp", "bob@example.com", pw)
	c := s.Client(t)

	for i := 1; i <= 5; i++ {
		wantStatus(t, c.Post("/login", credentials("ada@example.com", wrongPW)), http.StatusUnauthorized)
	}

	t.Run("ErrBlockedEvenWithRightPassword", func(t *testing.T) {
		for _, path := range []string{"/login", "/o/acme/login"} {
			for _, email := range []string{"ada@example.com", "ADA@example.com"} {
				res := c.Post(path, credentials(email, pw))
				wantStatus(t, res, http.StatusTooManyRequests)
				if got := res.Text("[data-testid=form-error]"); !strings.Contains(got, "Too many failed attempts") {
					t.Errorf("%s as %s: message = %q", path, email, got)
				}
				wantNoSession(t, res)
			}
		}
	})

	t.Run("OtherEmailFromSameClientWorks", func(t *testing.T) {
		wantRedirect(t, c.Post("/login", credentials("bob@example.com", pw)), "/o/beta/")
	})
}

func TestTenantLogin(t *testing.T) {
	t.Parallel()

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		s := apptest.New(t)
		s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
		c := s.Client(t)

		page := c.Get("/o/acme/login")
		wantStatus(t, page, http.StatusOK)
		if page.Doc.Find("[data-testid=login-form]").Length() != 1 {
			t.Fatal("no login form")
		}
		c.Login("acme", "ada@example.com", pw)
		wantText(t, c.Get("/o/acme/"), "[data-testid=signed-in-as]", "ada@example.com")
		wantRedirect(t, c.Get("/o/acme/login"), "/o/acme/")
	})

	t.Run("ErrNonMemberWithRightPassword", func(t *testing.T) {
		t.Parallel()
		s := apptest.New(t)
		s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
		s.Org(t, "beta", "Beta Corp", "bob@example.com", pw)
		c := s.Client(t)

		wrong := c.Post("/o/acme/login", credentials("ada@example.com", wrongPW))
		wantStatus(t, wrong, http.StatusUnauthorized)
		outsider := c.Post("/o/acme/login", credentials("bob@example.com", pw))
		wantStatus(t, outsider, http.StatusUnauthorized)
		if w, o := wrong.Text("[data-testid=form-error]"), outsider.Text("[data-testid=form-error]"); w != badCredentials || o != w {
			t.Errorf("messages: wrong password %q, outsider %q; want both %q", w, o, badCredentials)
		}
		wantNoSession(t, outsider)
		wantRedirect(t, c.Get("/o/acme/"), "/o/acme/login")
	})

	t.Run("NextInsideOrganization", func(t *testing.T) {
		t.Parallel()
		s := apptest.New(t)
		s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
		c := s.Client(t)

		res := c.Get("/o/acme/members")
		wantRedirect(t, res, "/o/acme/login?next=%2Fo%2Facme%2Fmembers")
		page := c.Get(res.Location())
		if v, _ := page.Doc.Find("input[name=next]").Attr("value"); v != "/o/acme/members" {
			t.Errorf("hidden next = %q, want /o/acme/members", v)
		}
		form := credentials("ada@example.com", pw)
		form.Set("next", "/o/acme/members")
		wantRedirect(t, c.Post("/o/acme/login", form), "/o/acme/members")
	})

	t.Run("ErrNextOutsideOrganization", func(t *testing.T) {
		t.Parallel()
		s := apptest.New(t)
		s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
		for _, next := range []string{"https://evil.example/", "//evil.example/", "/o/acme//evil.example", `/o/acme/\evil.example`, "/o/beta/", "/console/"} {
			form := credentials("ada@example.com", pw)
			form.Set("next", next)
			res := s.Client(t).Post("/o/acme/login", form)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/o/acme/" {
				t.Errorf("next=%q: status %d, Location %q; want 303 to /o/acme/", next, res.StatusCode, res.Header.Get("Location"))
			}
		}
	})
}

func TestIsolation(t *testing.T) {
	t.Parallel()

	t.Run("OtherOrganizationAsksForLogin", func(t *testing.T) {
		t.Parallel()
		s := apptest.New(t)
		s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
		s.Org(t, "beta", "Beta Corp", "bob@example.com", pw)
		c := s.Client(t)
		c.Login("acme", "ada@example.com", pw)

		wantRedirect(t, c.Get("/o/beta/"), "/o/beta/login")
		wantRedirect(t, c.Get("/o/beta/members"), "/o/beta/login?next=%2Fo%2Fbeta%2Fmembers")
	})

	// A session belongs to the organization it was made in; a copied cookie
	// is refused even for a person who is a member of both.
	for _, alsoMember := range []bool{false, true} {
		name := "ErrCopiedCookie"
		if alsoMember {
			name += "OfMemberOfBoth"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := apptest.New(t)
			s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
			s.Org(t, "beta", "Beta Corp", "bob@example.com", pw)
			if alsoMember {
				s.AddMember(t, "beta", "ada@example.com", "Ada", pw, "member")
			}
			c := s.Client(t)
			c.Login("acme", "ada@example.com", pw)
			token := jarCookie(s, c, "/o/acme/", "atrium_session")
			if token == "" {
				t.Fatal("no session cookie for /o/acme/ after login")
			}

			putCookie(t, s, c, "/o/beta/", "atrium_session", token)
			res := c.Get("/o/beta/")
			wantRedirect(t, res, "/o/beta/login")
			if res.Doc.Find("[data-testid=org-name]").Length() != 0 {
				t.Error("the dashboard of beta was shown")
			}
			wantText(t, c.Get("/o/acme/"), "[data-testid=org-name]", "Acme Inc")
		})
	}

	t.Run("ErrUnknownOrganization", func(t *testing.T) {
		t.Parallel()
		s := apptest.New(t)
		c := s.Client(t)
		for _, path := range []string{"/o/nope-org/", "/o/nope-org/login", "/o/nope-org/members", "/o/Not_A_Slug/"} {
			wantErrorPage(t, c.Get(path), http.StatusNotFound)
		}
		wantErrorPage(t, c.Post("/o/nope-org/login", credentials("ada@example.com", pw)), http.StatusNotFound)
	})

	t.Run("ErrRemovedMember", func(t *testing.T) {
		t.Parallel()
		s := apptest.New(t)
		s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
		s.AddMember(t, "acme", "bob@example.com", "Bob Builder", pw, "member")
		c := s.Client(t)
		c.Login("acme", "bob@example.com", pw)
		wantStatus(t, c.Get("/o/acme/"), http.StatusOK)

		removeMember(t, s, "acme", "bob@example.com")
		wantErrorPage(t, c.Get("/o/acme/"), http.StatusNotFound)
		// The session is gone with the membership.
		wantRedirect(t, c.Get("/o/acme/"), "/o/acme/login")
		if n := findTenant(t, s, "acme").MemberCount; n != 1 {
			t.Errorf("member count = %d, want 1", n)
		}
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
	c := s.Client(t)
	c.Login("acme", "ada@example.com", pw)
	old := jarCookie(s, c, "/o/acme/", "atrium_session")

	res := c.Post("/o/acme/logout", nil)
	wantRedirect(t, res, "/o/acme/login")
	login := c.Get("/o/acme/login")
	wantStatus(t, login, http.StatusOK)
	wantText(t, login, "[data-testid=flashes]", "You have been logged out.")
	wantRedirect(t, c.Get("/o/acme/"), "/o/acme/login")

	t.Run("ErrReplayOldCookie", func(t *testing.T) {
		replay := s.Client(t)
		putCookie(t, s, replay, "/o/acme/", "atrium_session", old)
		wantRedirect(t, replay.Get("/o/acme/"), "/o/acme/login")
		wantRedirect(t, replay.Get("/o/acme/members"), "/o/acme/login?next=%2Fo%2Facme%2Fmembers")
	})
}

// TestCSRF posts without the token and with a wrong one. mw.CSRF promises
// a 403 with its own message either way, never a 400.
func TestCSRF(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"ErrMissingToken", url.Values{}},
		{"ErrWrongToken", url.Values{"_csrf": {"not-the-token"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := apptest.New(t)
			s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
			c := s.Client(t)
			c.Login("acme", "ada@example.com", pw)

			var refusals []*apptest.Response
			t.Run("Signup", func(t *testing.T) {
				form := signupForm("Beta Corp", "beta", "Bob Builder", "bob@example.com", pw)
				for k, v := range tc.form {
					form[k] = v
				}
				res := c.PostRaw("/signup", form)
				refusals = append(refusals, res)
				wantErrorPage(t, res, http.StatusForbidden)
				wantNothingCreated(t, s, "beta", "bob@example.com")
				if n := tenantCount(t, s); n != 1 {
					t.Errorf("tenants = %d, want 1", n)
				}
			})

			t.Run("Logout", func(t *testing.T) {
				res := c.PostRaw("/o/acme/logout", tc.form)
				refusals = append(refusals, res)
				wantErrorPage(t, res, http.StatusForbidden)
				wantText(t, c.Get("/o/acme/"), "[data-testid=signed-in-as]", "ada@example.com")
			})

			t.Run("ShowsCSRFMessage", func(t *testing.T) {
				for _, res := range refusals {
					if msg := res.Text("[data-testid=error-page]"); !strings.Contains(msg, "did not come from this site") {
						t.Errorf("%s: error page %q lacks mw.CSRF's message", res.Request.URL.Path, msg)
					}
				}
			})
		})
	}
}

// TestBodyLimit sends more than the server's 64K limit. The request must be
// answered with the 413 page, not a dropped connection.
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	c := s.Client(t)
	form := signupForm(strings.Repeat("a", 100<<10), "acme", "Ada Lovelace", "ada@example.com", pw)
	form.Set("_csrf", c.CSRF())

	req, err := http.NewRequest(http.MethodPost, s.URL+"/signup", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	raw, err := c.Client.Do(req)
	if err != nil {
		t.Fatalf("POST /signup with a 100 KB body: %v; the server dropped the connection instead of answering 413", err)
	}
	wantErrorPage(t, readResponse(t, raw), http.StatusRequestEntityTooLarge)
	wantNothingCreated(t, s, "acme", "ada@example.com")
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	c := s.Client(t)
	for _, path := range []string{"/", "/signup", "/no/such/page"} {
		res := c.Get(path)
		csp := directives(res.Header.Get("Content-Security-Policy"))
		if csp["frame-ancestors"] != "'none'" {
			t.Errorf("%s: frame-ancestors = %q, want 'none'", path, csp["frame-ancestors"])
		}
		if src, ok := csp["script-src"]; !ok || strings.Contains(src, "'unsafe-inline'") {
			t.Errorf("%s: script-src = %q (present %v), want one without 'unsafe-inline'", path, src, ok)
		}
		if res.Header.Get("Referrer-Policy") == "" {
			t.Errorf("%s: no Referrer-Policy", path)
		}
		if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options = %q", path, got)
		}
	}
}

func TestStaticAssets(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	c := s.Client(t)

	href, _ := c.Get("/").Doc.Find("link[rel=stylesheet]").Attr("href")
	if !regexp.MustCompile(`^/static/css/app\.[0-9a-f]{8}\.css$`).MatchString(href) {
		t.Fatalf("stylesheet href = %q, want a content-hashed URL", href)
	}
	res := c.Get(href)
	wantStatus(t, res, http.StatusOK)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control = %q, want immutable", cc)
	}
	wantStatus(t, c.Get("/static/css/app.css"), http.StatusNotFound)
	wantStatus(t, c.Get("/static/css/app.00000000.css"), http.StatusNotFound)
}

func TestProbesAndMetrics(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
	c := s.Client(t)

	wantStatus(t, c.Get("/healthz"), http.StatusOK)
	wantStatus(t, c.Get("/readyz"), http.StatusOK)

	c.Login("acme", "ada@example.com", pw)
	wantStatus(t, c.Get("/o/acme/"), http.StatusOK)
	res := c.Get("/metrics")
	wantStatus(t, res, http.StatusOK)
	n, ok := metricValue(res.Body, "atrium_http_requests_total", map[string]string{"route": "/o/:org/", "method": "GET", "status": "200"})
	if !ok || n < 1 {
		t.Errorf("atrium_http_requests_total{route=\"/o/:org/\",method=\"GET\",status=\"200\"} = %v (found %v), want ≥ 1", n, ok)
	}
	if strings.Contains(res.Body, "/o/acme/") {
		t.Error("metrics carry a raw tenant path")
	}
}

func TestConsole(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T) *apptest.Server {
		s := apptest.New(t)
		s.Operator(t, "ops@example.com", pw)
		s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
		s.AddMember(t, "acme", "bob@example.com", "Bob Builder", pw, "member")
		s.Org(t, "beta", "Beta Corp", "carol@example.com", pw)
		return s
	}

	t.Run("ErrNotLoggedIn", func(t *testing.T) {
		t.Parallel()
		c := setup(t).Client(t)
		wantRedirect(t, c.Get("/console/"), "/console/login")
		wantRedirect(t, c.Get("/console"), "/console/login")
	})

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		c := s.Client(t)
		wantRedirect(t, c.Post("/console/login", credentials("ops@example.com", pw)), "/console/")

		res := c.Get("/console/")
		wantStatus(t, res, http.StatusOK)
		wantText(t, res, "[data-testid=operator]", "ops@example.com")
		rows := tenantRows(res)
		want := map[string][2]string{"/o/acme": {"Acme Inc", "2"}, "/o/beta": {"Beta Corp", "1"}}
		if len(rows) != len(want) {
			t.Errorf("rows = %v, want %v", rows, want)
		}
		for slug, w := range want {
			if rows[slug] != w {
				t.Errorf("row %s = %v, want name and members %v", slug, rows[slug], w)
			}
		}

		found := c.Get("/console/?q=" + url.QueryEscape("beta"))
		if rows := tenantRows(found); len(rows) != 1 || rows["/o/beta"][0] != "Beta Corp" {
			t.Errorf("search for beta = %v", rows)
		}
	})

	t.Run("ErrTenantPassword", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		c := s.Client(t)
		res := c.Post("/console/login", credentials("ada@example.com", pw))
		wantStatus(t, res, http.StatusUnauthorized)
		wantText(t, res, "[data-testid=form-error]", badCredentials)
		if setCookie(res, "atrium_console") != nil {
			t.Error("a console session cookie was set")
		}
		wantRedirect(t, c.Get("/console/"), "/console/login")
	})

	t.Run("ErrTenantSessionCookie", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		c := s.Client(t)
		c.Login("acme", "ada@example.com", pw)
		wantRedirect(t, c.Get("/console/"), "/console/login")

		token := jarCookie(s, c, "/o/acme/", "atrium_session")
		putCookie(t, s, c, "/console", "atrium_console", token)
		res := c.Get("/console/")
		wantRedirect(t, res, "/console/login")
		if res.Doc.Find("[data-testid=tenants]").Length() != 0 {
			t.Error("the organization list was shown")
		}
	})

	// The operator check and the page's reads travel in one round trip: an
	// operator removed since signing in gets the login page, not the list.
	t.Run("ErrOperatorRemoved", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		c := s.Client(t)
		wantRedirect(t, c.Post("/console/login", credentials("ops@example.com", pw)), "/console/")
		sqlAsOwner(t, s, `DELETE FROM operators WHERE email = 'ops@example.com'`)
		res := c.Get("/console/")
		wantRedirect(t, res, "/console/login")
		if res.Doc.Find("[data-testid=tenants]").Length() != 0 {
			t.Error("the organization list was shown")
		}
		if setCookie(res, "atrium_console") == nil {
			t.Error("the removed operator's session was not ended")
		}
	})

	t.Run("Logout", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		c := s.Client(t)
		wantRedirect(t, c.Post("/console/login", credentials("ops@example.com", pw)), "/console/")
		old := jarCookie(s, c, "/console/", "atrium_console")

		wantRedirect(t, c.Post("/console/logout", nil), "/console/login")
		wantText(t, c.Get("/console/login"), "[data-testid=flashes]", "You have been logged out.")
		wantRedirect(t, c.Get("/console/"), "/console/login")

		replay := s.Client(t)
		putCookie(t, s, replay, "/console", "atrium_console", old)
		wantRedirect(t, replay.Get("/console/"), "/console/login")
	})
}

func TestErrorPages(t *testing.T) {
	t.Parallel()

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		s := apptest.New(t)
		res := s.Client(t).Get("/no/such/page")
		wantErrorPage(t, res, http.StatusNotFound)
		wantText(t, res, "[data-testid=error-page] h1", "Page not found")
	})

	// Closing the pool is an outage the app cannot hide: the answer must be
	// a plain 500 with a reference, and nothing of the cause.
	t.Run("InternalHidesDetail", func(t *testing.T) {
		t.Parallel()
		s := apptest.New(t)
		s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
		c := s.Client(t)
		s.DB.Close()

		res := c.Get("/o/acme/")
		wantErrorPage(t, res, http.StatusInternalServerError)
		page := res.Text("[data-testid=error-page]")
		for _, leak := range []string{"pool", "store:", "pgx", "closed", "tenant", "sql"} {
			if strings.Contains(strings.ToLower(page), leak) {
				t.Errorf("error page shows %q: %q", leak, page)
			}
		}
		if ref, id := res.Text("[data-testid=error-page] code"), res.Header.Get("X-Request-ID"); ref == "" || ref != id {
			t.Errorf("reference %q, X-Request-ID %q; want the request id shown", ref, id)
		}
		wantStatus(t, c.Get("/readyz"), http.StatusServiceUnavailable)
	})
}

// ---- helpers ----

func signupForm(orgName, slug, name, email, password string) url.Values {
	return url.Values{"org_name": {orgName}, "slug": {slug}, "name": {name}, "email": {email}, "password": {password}}
}

func credentials(email, password string) url.Values {
	return url.Values{"email": {email}, "password": {password}}
}

func wantStatus(t *testing.T, res *apptest.Response, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; Location %q; body %.400s",
			res.Request.Method, res.Request.URL.Path, res.StatusCode, want, res.Header.Get("Location"), res.Body)
	}
}

// wantRedirect expects a 303 See Other to loc (path and query).
func wantRedirect(t *testing.T, res *apptest.Response, loc string) {
	t.Helper()
	wantStatus(t, res, http.StatusSeeOther)
	if got := res.Location(); got != loc {
		t.Fatalf("%s %s: redirect to %q, want %q", res.Request.Method, res.Request.URL.Path, got, loc)
	}
}

// wantErrorPage expects the friendly error page with status.
func wantErrorPage(t *testing.T, res *apptest.Response, status int) {
	t.Helper()
	if res.StatusCode != status {
		t.Errorf("%s %s: status %d, want %d; page %q", res.Request.Method, res.Request.URL.Path,
			res.StatusCode, status, res.Text("[data-testid=error-page]"))
		return
	}
	if res.Doc.Find("[data-testid=error-page]").Length() != 1 {
		t.Errorf("%s: no error page in %.400s", res.Request.URL.Path, res.Body)
		return
	}
	if got := res.Text("[data-testid=error-page] .error-code"); got != strconv.Itoa(status) {
		t.Errorf("error page shows code %q, want %d", got, status)
	}
}

func wantText(t *testing.T, res *apptest.Response, selector, want string) {
	t.Helper()
	if res.Doc.Find(selector).Length() == 0 {
		t.Errorf("%s: no %s in the page", res.Request.URL.Path, selector)
		return
	}
	if got := res.Text(selector); got != want {
		t.Errorf("%s: %s = %q, want %q", res.Request.URL.Path, selector, got, want)
	}
}

// wantFormValues checks that the inputs of a re-rendered form keep what the
// user typed (and that passwords are never echoed).
func wantFormValues(t *testing.T, res *apptest.Response, want map[string]string) {
	t.Helper()
	for name, v := range want {
		in := res.Doc.Find("input[name=" + name + "]")
		if in.Length() != 1 {
			t.Errorf("%d inputs named %s", in.Length(), name)
			continue
		}
		if got := in.AttrOr("value", ""); got != v {
			t.Errorf("input %s = %q, want %q", name, got, v)
		}
	}
}

func wantNoScript(t *testing.T, res *apptest.Response) {
	t.Helper()
	if n := res.Doc.Find("script").Length(); n != 0 {
		t.Errorf("%s: %d <script> elements in the page", res.Request.URL.Path, n)
	}
}

// wantNoSession checks that a response signs nobody in to any organization.
func wantNoSession(t *testing.T, res *apptest.Response) {
	t.Helper()
	if ck := setCookie(res, "atrium_session"); ck != nil && ck.Value != "" {
		t.Errorf("%s: a tenant session cookie was set for %s", res.Request.URL.Path, ck.Path)
	}
}

// wantNothingCreated checks that a refused signup left no tenant and no user.
func wantNothingCreated(t *testing.T, s *apptest.Server, slug, email string) {
	t.Helper()
	if tn := findTenant(t, s, slug); tn != nil {
		t.Errorf("tenant %s was created: %+v", slug, tn)
	}
	if u := findUser(t, s, email); u != nil {
		t.Errorf("user %s was created: %+v", email, u)
	}
}

// readResponse reads a response the way apptest.Client.Do does.
func readResponse(t *testing.T, raw *http.Response) *apptest.Response {
	t.Helper()
	defer raw.Body.Close()
	b, err := io.ReadAll(raw.Body)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return &apptest.Response{Response: raw, Body: string(b), Doc: doc}
}

// setCookie returns the cookie the response sets under name, or nil.
func setCookie(res *apptest.Response, name string) *http.Cookie {
	for _, ck := range res.Cookies() {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// jarCookie returns the value the client would send to path for name.
func jarCookie(s *apptest.Server, c *apptest.Client, path, name string) string {
	u, _ := url.Parse(s.URL + path)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// putCookie plants a cookie in the client's jar, scoped to path.
func putCookie(t *testing.T, s *apptest.Server, c *apptest.Client, path, name, value string) {
	t.Helper()
	u, err := url.Parse(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: path, HttpOnly: true}})
}

func chooserSlugs(res *apptest.Response) []string {
	var slugs []string
	res.Doc.Find("[data-testid=chooser] input[name=slug]").Each(func(_ int, in *goquery.Selection) {
		slugs = append(slugs, in.AttrOr("value", ""))
	})
	return slugs
}

// tenantRows reads the console's organization table: URL → name, members.
func tenantRows(res *apptest.Response) map[string][2]string {
	rows := map[string][2]string{}
	res.Doc.Find("[data-testid=tenants] tbody tr").Each(func(_ int, tr *goquery.Selection) {
		td := tr.Find("td")
		rows[strings.TrimSpace(td.Eq(1).Text())] = [2]string{strings.TrimSpace(td.Eq(0).Text()), strings.TrimSpace(td.Eq(3).Text())}
	})
	return rows
}

// directives splits a Content-Security-Policy into directive → value.
func directives(csp string) map[string]string {
	m := map[string]string{}
	for _, d := range strings.Split(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		if name != "" {
			m[name] = strings.TrimSpace(value)
		}
	}
	return m
}

// metricValue finds the sample of name whose labels include labels in the
// Prometheus text format.
func metricValue(body, name string, labels map[string]string) (float64, bool) {
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		end := strings.LastIndexByte(line, '}')
		if end < 0 {
			continue
		}
		set, match := line[len(name)+1:end], true
		for k, v := range labels {
			if !strings.Contains(set, k+"="+strconv.Quote(v)) {
				match = false
			}
		}
		if match {
			n, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
			return n, err == nil
		}
	}
	return 0, false
}

// sys runs fn in a system transaction, failing the test on any error but
// ENOTFOUND, which the finders below turn into nil.
func sys(t *testing.T, s *apptest.Server, fn func(context.Context, *store.SysTx) error) {
	t.Helper()
	ctx := context.Background()
	err := s.DB.InSystem(ctx, func(tx *store.SysTx) error { return fn(ctx, tx) })
	if err != nil && atrium.ErrorCode(err) != atrium.ENOTFOUND {
		t.Fatal(err)
	}
}

func tenantCount(t *testing.T, s *apptest.Server) (n int) {
	t.Helper()
	sys(t, s, func(ctx context.Context, tx *store.SysTx) (err error) { n, err = tx.CountTenants(ctx); return err })
	return n
}

// findTenant returns the tenant with slug, or nil when there is none.
func findTenant(t *testing.T, s *apptest.Server, slug string) (tn *store.Tenant) {
	t.Helper()
	sys(t, s, func(ctx context.Context, tx *store.SysTx) (err error) {
		tn, err = tx.FindTenantBySlug(ctx, slug)
		return err
	})
	return tn
}

// findUser returns the user with email, or nil when there is none.
func findUser(t *testing.T, s *apptest.Server, email string) (u *store.User) {
	t.Helper()
	sys(t, s, func(ctx context.Context, tx *store.SysTx) (err error) {
		u, err = tx.FindUserByEmail(ctx, email)
		return err
	})
	return u
}

// members lists the organization's members through the tenant door.
func members(t *testing.T, s *apptest.Server, slug string) (list []store.Member) {
	t.Helper()
	tn := findTenant(t, s, slug)
	if tn == nil {
		t.Fatalf("no tenant %s", slug)
	}
	ctx := atrium.WithTenant(context.Background(), &atrium.Tenant{ID: tn.ID, Slug: tn.Slug, Name: tn.Name})
	if err := s.DB.InTenant(ctx, func(tx *store.Tx) (err error) { list, err = tx.FindMembers(ctx, 100); return err }); err != nil {
		t.Fatal(err)
	}
	return list
}

// removeMember deletes a membership as the app role inside the tenant; the
// store has no method for it yet.
func removeMember(t *testing.T, s *apptest.Server, slug, email string) {
	t.Helper()
	ctx := context.Background()
	tn, u := findTenant(t, s, slug), findUser(t, s, email)
	conn, err := pgx.Connect(ctx, s.DB.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true)`, tn.ID.String()); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM memberships WHERE user_id = $1`, u.ID)
		if err == nil && tag.RowsAffected() != 1 {
			t.Errorf("deleted %d memberships, want 1", tag.RowsAffected())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s.SyncChanges(t) // as another server's change would
}
