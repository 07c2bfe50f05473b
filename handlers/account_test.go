package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/apptest"
	"github.com/atrium-dev/atrium/store"
)

const (
	acctNewPW  = "a whole new passphrase"
	chromeUA   = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	acctCrew   = "/o/crew/account"
	acctCrewPW = acctCrew + "/password"
)

// acctFixture: Ann owns Crew and Other (one account, two organizations);
// Bob is a member of Crew. Ann is signed in to Crew with ann, Bob with bob.
func acctFixture(t *testing.T) (s *apptest.Server, ann, bob *apptest.Client) {
	t.Helper()
	s = apptest.New(t)
	s.Org(t, "crew", "Crew", "ann@crew.test", pw)
	s.Org(t, "other", "Other", "ann@crew.test", pw)
	s.AddMember(t, "crew", "bob@crew.test", "Bob", pw, "member")
	ann, bob = s.Client(t), s.Client(t)
	ann.Login("crew", "ann@crew.test", pw)
	bob.Login("crew", "bob@crew.test", pw)
	return s, ann, bob
}

// acctLoginAs logs c in to slug with a User-Agent header, as a browser would.
func acctLoginAs(t *testing.T, s *apptest.Server, c *apptest.Client, slug, email, password, agent string) {
	t.Helper()
	form := url.Values{"email": {email}, "password": {password}, "_csrf": {c.CSRF()}}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/o/"+slug+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", agent)
	wantRedirect(t, c.Do(req), "/o/"+slug+"/")
}

// wantSignedIn checks whether c still gets into slug's dashboard.
func wantSignedIn(t *testing.T, c *apptest.Client, slug string, in bool) {
	t.Helper()
	res := c.Get("/o/" + slug + "/")
	switch {
	case in && res.StatusCode != http.StatusOK:
		t.Fatalf("signed out of %s: status %d, Location %q", slug, res.StatusCode, res.Location())
	case !in && (res.StatusCode != http.StatusSeeOther || res.Location() != "/o/"+slug+"/login"):
		t.Fatalf("still signed in to %s: status %d", slug, res.StatusCode)
	}
}

// acctAudit returns the actions recorded in slug's audit log, newest first.
func acctAudit(t *testing.T, s *apptest.Server, slug string) []string {
	t.Helper()
	tn := findTenant(t, s, slug)
	ctx := atrium.WithTenant(context.Background(), &atrium.Tenant{ID: tn.ID, Slug: tn.Slug})
	var events []store.AuditEvent
	if err := s.DB.ReadTenant(ctx, func(b *store.Batch) { b.FindAuditEvents(store.AuditFilter{Limit: 100}, &events) }); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Action
	}
	return out
}

func acctHas(actions []string, action string) bool {
	for _, a := range actions {
		if a == action {
			return true
		}
	}
	return false
}

func TestAccountProfile(t *testing.T) {
	t.Parallel()
	s, ann, _ := acctFixture(t)

	t.Run("OK", func(t *testing.T) {
		dash := ann.Get("/o/crew/")
		if href := dash.Doc.Find("a[data-testid=signed-in-as]").AttrOr("href", ""); href != acctCrew {
			t.Fatalf("the signed-in email links to %q, want the account page", href)
		}
		page := ann.Get(acctCrew)
		wantStatus(t, page, http.StatusOK)
		wantText(t, page, "[data-testid=account-email]", "ann@crew.test")
		wantFormValues(t, page, map[string]string{"name": "Owner of Crew"})
		if page.Doc.Find("input[name=email]").Length() != 0 {
			t.Error("the email is editable on the account page")
		}

		wantRedirect(t, ann.Post(acctCrew, url.Values{"name": {"  Ann Example "}}), acctCrew)
		page = ann.Get(acctCrew)
		wantFormValues(t, page, map[string]string{"name": "Ann Example"})
		if !strings.Contains(flashText(page), "Ann Example") {
			t.Errorf("flash = %q", flashText(page))
		}
		if u := findUser(t, s, "ann@crew.test"); u.Name != "Ann Example" {
			t.Fatalf("name = %q", u.Name)
		}
		if a := acctAudit(t, s, "crew"); a[0] != "account.name_changed" {
			t.Fatalf("audit = %v, want account.name_changed first", a)
		}
	})

	for _, tc := range []struct{ name, value string }{
		{"ErrEmpty", "   "},
		{"ErrTooLong", strings.Repeat("n", 101)},
		{"ErrControl", "Ann\x07Bell"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := findUser(t, s, "ann@crew.test").Name
			res := ann.Post(acctCrew, url.Values{"name": {tc.value}})
			wantStatus(t, res, http.StatusUnprocessableEntity)
			if res.Text("[data-testid=error-name]") == "" {
				t.Fatal("no message beside the name field")
			}
			wantFormValues(t, res, map[string]string{"name": strings.TrimSpace(tc.value)})
			if u := findUser(t, s, "ann@crew.test"); u.Name != before {
				t.Fatalf("name changed to %q", u.Name)
			}
		})
	}
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	s, ann, bob := acctFixture(t)
	second, elsewhere := s.Client(t), s.Client(t)
	second.Login("crew", "ann@crew.test", pw)
	elsewhere.Login("other", "ann@crew.test", pw)
	hashBefore := findUser(t, s, "ann@crew.test").PasswordHash

	unchanged := func(t *testing.T) {
		t.Helper()
		if findUser(t, s, "ann@crew.test").PasswordHash != hashBefore {
			t.Fatal("the password changed")
		}
		wantSignedIn(t, second, "crew", true)
		wantSignedIn(t, elsewhere, "other", true)
		if _, sent := s.Mail.Last("ann@crew.test"); sent {
			t.Fatal("a notice was sent for a refused change")
		}
	}
	for _, tc := range []struct {
		name, current, next, field string
	}{
		{"ErrWrongCurrent", wrongPW, acctNewPW, "current_password"},
		{"ErrMissingCurrent", "", acctNewPW, "current_password"},
		{"ErrWeakNew", pw, "short", "new_password"},
		{"ErrSameAsCurrent", pw, pw, "new_password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := ann.Post(acctCrewPW, url.Values{"current_password": {tc.current}, "new_password": {tc.next}})
			wantStatus(t, res, http.StatusUnprocessableEntity)
			if res.Text("[data-testid=error-"+tc.field+"]") == "" {
				t.Fatalf("no message beside %s: %.600s", tc.field, res.Text("[data-testid=password-form]"))
			}
			wantFormValues(t, res, map[string]string{"current_password": "", "new_password": ""})
			unchanged(t)
		})
	}

	t.Run("OK", func(t *testing.T) {
		oldToken := jarCookie(s, ann, "/o/crew/", "atrium_session")
		res := ann.Post(acctCrewPW, url.Values{"current_password": {pw}, "new_password": {acctNewPW}})
		wantRedirect(t, res, acctCrew)
		if tok := jarCookie(s, ann, "/o/crew/", "atrium_session"); tok == "" || tok == oldToken {
			t.Fatal("the session token was not renewed")
		}
		page := ann.Get(acctCrew)
		wantStatus(t, page, http.StatusOK)
		if got := flashText(page); !strings.Contains(got, "2 other sessions were signed out") {
			t.Errorf("flash = %q", got)
		}

		wantSignedIn(t, second, "crew", false)
		wantSignedIn(t, elsewhere, "other", false)
		wantSignedIn(t, bob, "crew", true)
		replay := s.Client(t)
		putCookie(t, s, replay, "/o/crew/", "atrium_session", oldToken)
		wantSignedIn(t, replay, "crew", false)

		msg, ok := s.Mail.Last("ann@crew.test")
		if !ok || msg.Subject != "Your Atrium password was changed" || !strings.Contains(msg.Text, "http://atrium.test/password/forgot") {
			t.Fatalf("notice = %+v", msg)
		}
		if a := acctAudit(t, s, "crew"); a[0] != "account.password_changed" || !acctHas(a, "session.revoked") {
			t.Errorf("crew audit = %v", a)
		}
		if a := acctAudit(t, s, "other"); a[0] != "session.revoked" {
			t.Errorf("other audit = %v", a)
		}

		wantStatus(t, s.Client(t).Post("/o/crew/login", credentials("ann@crew.test", pw)), http.StatusUnauthorized)
		s.Client(t).Login("other", "ann@crew.test", acctNewPW)
	})
}

func TestChangePasswordThrottle(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	s.Org(t, "crew", "Crew", "ann@crew.test", pw)
	ann := s.Client(t)
	ann.Login("crew", "ann@crew.test", pw)
	wrong := url.Values{"current_password": {wrongPW}, "new_password": {acctNewPW}}
	for i := 0; i < 5; i++ {
		wantStatus(t, ann.Post(acctCrewPW, wrong), http.StatusUnprocessableEntity)
	}
	res := ann.Post(acctCrewPW, url.Values{"current_password": {pw}, "new_password": {acctNewPW}})
	wantStatus(t, res, http.StatusTooManyRequests)
	if !strings.Contains(res.Text("[data-testid=form-error]"), "Too many failed attempts") {
		t.Fatalf("form message = %q", res.Text("[data-testid=form-error]"))
	}
	if u := findUser(t, s, "ann@crew.test"); u == nil {
		t.Fatal("no user")
	} else if ok, _ := s.Hasher.Verify(pw, u.PasswordHash); !ok {
		t.Fatal("the password changed while throttled")
	}
}
