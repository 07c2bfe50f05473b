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

// mfaFixture is an organization whose owner has MFA on, and a second
// organization the owner also belongs to.
func mfaFixture(t *testing.T) (s *apptest.Server, secret string, codes []string) {
	t.Helper()
	s = apptest.New(t)
	s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
	s.Org(t, "beta", "Beta Corp", "bob@example.com", pw)
	c := s.Client(t)
	c.Login("acme", "ada@example.com", pw)
	secret, codes = enroll(t, c, "acme")
	return s, secret, codes
}

func TestMFALogin(t *testing.T) {
	t.Parallel()
	s, secret, codes := mfaFixture(t)
	logins := func() int { return countAudit(t, s, "acme", "auth.login") }

	t.Run("PasswordAloneIsNotEnough", func(t *testing.T) {
		before := logins()
		c := s.Client(t)
		passwordStep(t, c, "acme", "ada@example.com", pw)
		wantRedirect(t, c.Get("/o/acme/"), "/o/acme/login")
		wantRedirect(t, c.Get("/o/acme/members"), "/o/acme/login?next=%2Fo%2Facme%2Fmembers")
		step := c.Get("/o/acme/login/mfa")
		wantStatus(t, step, http.StatusOK)
		if step.Doc.Find("[data-testid=mfa-login-form] input[name=code]").Length() != 1 {
			t.Fatal("no code field on the second step")
		}
		if n := logins(); n != before {
			t.Errorf("auth.login recorded before the second step (%d → %d)", before, n)
		}
	})

	t.Run("OK", func(t *testing.T) {
		c := s.Client(t)
		passwordStep(t, c, "acme", "ada@example.com", pw)
		res := c.Post("/o/acme/login/mfa", url.Values{"code": {freshCode(t, s, "ada@example.com", secret)}})
		wantRedirect(t, res, "/o/acme/")
		if ck := setCookie(res, "atrium_session"); ck == nil || ck.Value == "" {
			t.Error("the session token was not renewed")
		}
		wantText(t, c.Get("/o/acme/"), "[data-testid=signed-in-as]", "ada@example.com")
		wantRedirect(t, c.Get("/o/acme/login/mfa"), "/o/acme/")
		if e := auditEvents(t, s, "acme")[0]; e.Action != "auth.login" || e.Details["mfa"] != "totp" || e.ActorEmail != "ada@example.com" {
			t.Errorf("newest event = %+v, want Ada's auth.login with mfa=totp", e)
		}
	})

	t.Run("ErrReusedCode", func(t *testing.T) {
		code := freshCode(t, s, "ada@example.com", secret)
		first := s.Client(t)
		passwordStep(t, first, "acme", "ada@example.com", pw)
		wantRedirect(t, first.Post("/o/acme/login/mfa", url.Values{"code": {code}}), "/o/acme/")

		second := s.Client(t)
		passwordStep(t, second, "acme", "ada@example.com", pw)
		res := second.Post("/o/acme/login/mfa", url.Values{"code": {code}})
		wantStatus(t, res, http.StatusUnauthorized)
		if got := res.Text("[data-testid=error-code]"); !strings.Contains(got, "already used") {
			t.Errorf("message = %q, want that the code was already used", got)
		}
		wantRedirect(t, second.Get("/o/acme/"), "/o/acme/login")
		if e := auditEvents(t, s, "acme")[0]; e.Action != "auth.mfa_failed" || e.Details["reason"] != "reused_code" || e.TargetLabel != "ada@example.com" {
			t.Errorf("newest event = %+v, want auth.mfa_failed for a reused code", e)
		}
	})

	t.Run("ErrWrongOrMissingCode", func(t *testing.T) {
		c := s.Client(t)
		passwordStep(t, c, "acme", "ada@example.com", pw)
		empty := c.Post("/o/acme/login/mfa", url.Values{"code": {"  "}})
		wantStatus(t, empty, http.StatusUnprocessableEntity)
		if empty.Text("[data-testid=error-code]") == "" {
			t.Error("no message for an empty code")
		}
		for _, code := range []string{"000000", "not a code", "aaaaa-bbbbb", "<script>"} {
			res := c.Post("/o/acme/login/mfa", url.Values{"code": {code}})
			wantStatus(t, res, http.StatusUnauthorized)
			if got := res.Text("[data-testid=error-code]"); !strings.Contains(got, "not right") {
				t.Errorf("code %q: message = %q", code, got)
			}
			wantNoScript(t, res)
		}
		wantRedirect(t, c.Get("/o/acme/"), "/o/acme/login")
		// Forget these failures, so the throttle leaves later subtests alone.
		resetCodeThrottle(t, s, "ada@example.com")
	})

	t.Run("RecoveryCodeWorksOnce", func(t *testing.T) {
		c := s.Client(t)
		passwordStep(t, c, "acme", "ada@example.com", pw)
		// Typed loosely: upper case, spaces instead of the hyphen.
		typed := strings.ToUpper(strings.Replace(codes[0], "-", " ", 1))
		wantRedirect(t, c.Post("/o/acme/login/mfa", url.Values{"code": {typed}}), "/o/acme/")
		dash := c.Get("/o/acme/")
		wantStatus(t, dash, http.StatusOK)
		if !strings.Contains(flashText(dash), "recovery code") {
			t.Errorf("flash = %q, want a note about the used recovery code", flashText(dash))
		}
		if n := countAudit(t, s, "acme", "auth.mfa_recovery_used"); n != 1 {
			t.Errorf("%d auth.mfa_recovery_used events, want 1", n)
		}
		if m := mfaOf(t, s, "ada@example.com"); m.RecoveryCodesLeft != 9 {
			t.Errorf("recovery codes left = %d, want 9", m.RecoveryCodesLeft)
		}

		again := s.Client(t)
		passwordStep(t, again, "acme", "ada@example.com", pw)
		wantStatus(t, again.Post("/o/acme/login/mfa", url.Values{"code": {codes[0]}}), http.StatusUnauthorized)
		resetCodeThrottle(t, s, "ada@example.com")
	})

	t.Run("NextKept", func(t *testing.T) {
		c := s.Client(t)
		form := credentials("ada@example.com", pw)
		form.Set("next", "/o/acme/members")
		wantRedirect(t, c.Post("/o/acme/login", form), "/o/acme/login/mfa")
		res := c.Post("/o/acme/login/mfa", url.Values{"code": {freshCode(t, s, "ada@example.com", secret)}})
		wantRedirect(t, res, "/o/acme/members")
	})

	t.Run("ErrNoPendingLogin", func(t *testing.T) {
		c := s.Client(t)
		for _, res := range []*apptest.Response{
			c.Get("/o/acme/login/mfa"),
			c.Post("/o/acme/login/mfa", url.Values{"code": {totpCode(t, secret)}}),
		} {
			wantRedirect(t, res, "/o/acme/login")
		}
		if got := flashText(c.Get("/o/acme/login")); !strings.Contains(got, "expired") {
			t.Errorf("flash = %q, want the expired-login message", got)
		}
		wantRedirect(t, c.Get("/o/acme/"), "/o/acme/login")
	})

	t.Run("ErrPendingLoginOfOtherOrganization", func(t *testing.T) {
		c := s.Client(t)
		passwordStep(t, c, "acme", "ada@example.com", pw)
		// The pending login lives in acme's session: at beta it means nothing.
		wantRedirect(t, c.Get("/o/beta/login/mfa"), "/o/beta/login")
		wantRedirect(t, c.Post("/o/beta/login/mfa", url.Values{"code": {freshCode(t, s, "ada@example.com", secret)}}), "/o/beta/login")
		wantRedirect(t, c.Get("/o/beta/"), "/o/beta/login")
	})

	t.Run("UsersWithoutMFAUnaffected", func(t *testing.T) {
		s.Client(t).Login("beta", "bob@example.com", pw)
	})
}

// resetCodeThrottle forgets a person's wrong codes.
func resetCodeThrottle(t *testing.T, s *apptest.Server, email string) {
	t.Helper()
	u := findUser(t, s, email)
	sys(t, s, func(ctx context.Context, tx *store.SysTx) error { return tx.ResetThrottle(ctx, "mfa:"+u.ID.String()) })
}

func TestMFALoginThrottle(t *testing.T) {
	t.Parallel()
	s, secret, _ := mfaFixture(t)
	c := s.Client(t)
	passwordStep(t, c, "acme", "ada@example.com", pw)
	for i := 1; i <= 5; i++ {
		wantStatus(t, c.Post("/o/acme/login/mfa", url.Values{"code": {"000000"}}), http.StatusUnauthorized)
	}
	// Even the right code, even after a new password step, from anywhere.
	for _, cl := range []*apptest.Client{c, s.Client(t)} {
		passwordStep(t, cl, "acme", "ada@example.com", pw)
		res := cl.Post("/o/acme/login/mfa", url.Values{"code": {freshCode(t, s, "ada@example.com", secret)}})
		wantStatus(t, res, http.StatusTooManyRequests)
		if got := res.Text("[data-testid=form-error]"); !strings.Contains(got, "Too many wrong codes") {
			t.Errorf("message = %q", got)
		}
		wantRedirect(t, cl.Get("/o/acme/"), "/o/acme/login")
	}
	if n := countAudit(t, s, "acme", "auth.mfa_failed"); n != 5 {
		t.Errorf("%d auth.mfa_failed events, want 5", n)
	}
	// The step did not spend the code while blocked.
	if m := mfaOf(t, s, "ada@example.com"); m.LastStep != 0 {
		t.Errorf("last step = %d; a blocked attempt spent a code", m.LastStep)
	}
}

func TestMFAGlobalLogin(t *testing.T) {
	t.Parallel()

	t.Run("OneOrganization", func(t *testing.T) {
		t.Parallel()
		s, secret, _ := mfaFixture(t)
		c := s.Client(t)
		res := c.Post("/login", credentials("ada@example.com", pw))
		wantRedirect(t, res, "/o/acme/login/mfa")
		wantRedirect(t, c.Get("/o/acme/"), "/o/acme/login")
		if n := countAudit(t, s, "acme", "auth.login"); n != 1 { // the enrolling login only
			t.Errorf("%d auth.login events before the second step, want 1", n)
		}
		wantRedirect(t, c.Post("/o/acme/login/mfa", url.Values{"code": {freshCode(t, s, "ada@example.com", secret)}}), "/o/acme/")
		wantText(t, c.Get("/o/acme/"), "[data-testid=signed-in-as]", "ada@example.com")
	})

	t.Run("Chooser", func(t *testing.T) {
		t.Parallel()
		s, secret, _ := mfaFixture(t)
		s.AddMember(t, "beta", "ada@example.com", "Ada", pw, "member")
		c := s.Client(t)
		wantStatus(t, c.Post("/login", credentials("ada@example.com", pw)), http.StatusOK)
		wantRedirect(t, c.Post("/login/choose", url.Values{"slug": {"beta"}}), "/o/beta/login/mfa")
		wantRedirect(t, c.Get("/o/beta/"), "/o/beta/login")
		wantRedirect(t, c.Post("/o/beta/login/mfa", url.Values{"code": {freshCode(t, s, "ada@example.com", secret)}}), "/o/beta/")
		wantText(t, c.Get("/o/beta/"), "[data-testid=org-name]", "Beta Corp")
		if n := countAudit(t, s, "beta", "auth.login"); n != 1 {
			t.Errorf("%d auth.login events at beta, want 1", n)
		}
	})
}

func TestRequireMFA(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	s.Org(t, "crew", "Crew", "owner@crew.test", pw)
	s.AddMember(t, "crew", "mem@crew.test", "Mo Member", pw, "member")
	s.Org(t, "other", "Other", "boss@other.test", pw)
	s.AddMember(t, "other", "mem@crew.test", "Mo Member", pw, "member")
	owner, mem := s.Client(t), s.Client(t)
	owner.Login("crew", "owner@crew.test", pw)
	mem.Login("crew", "mem@crew.test", pw)
	required := func(slug string) bool {
		t.Helper()
		tn := findTenant(t, s, slug)
		ctx := atrium.WithTenant(context.Background(), &atrium.Tenant{ID: tn.ID, Slug: tn.Slug})
		var st store.SecuritySettings
		if err := s.DB.ReadTenant(ctx, func(b *store.Batch) { b.FindSecuritySettings(&st) }); err != nil {
			t.Fatal(err)
		}
		return st.RequireMFA
	}
	save := func(value string) *apptest.Response {
		return owner.Post("/o/crew/settings/security", url.Values{"require_mfa": {value}})
	}

	t.Run("ErrOwnMFAFirst", func(t *testing.T) {
		page := owner.Get("/o/crew/settings/security")
		wantStatus(t, page, http.StatusOK)
		wantText(t, page, "[data-testid=members-without-mfa]", "2 of 2 members have not set up two-factor authentication.")
		res := save("true")
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if got := res.Text("[data-testid=error-require_mfa]"); !strings.Contains(got, "your own account first") {
			t.Errorf("message = %q", got)
		}
		if required("crew") {
			t.Fatal("the requirement was turned on")
		}
	})
	t.Run("ErrBadValue", func(t *testing.T) {
		wantStatus(t, save("maybe"), http.StatusUnprocessableEntity)
	})
	t.Run("ErrNotAllowedForMembers", func(t *testing.T) {
		wantErrorPage(t, mem.Get("/o/crew/settings/security"), http.StatusForbidden)
	})

	t.Run("OK", func(t *testing.T) {
		enroll(t, owner, "crew")
		wantRedirect(t, save("true"), "/o/crew/settings/security")
		page := owner.Get("/o/crew/settings/security")
		if !strings.Contains(flashText(page), "must now use") {
			t.Errorf("flash = %q", flashText(page))
		}
		if _, checked := page.Doc.Find("[data-testid=require-mfa]").Attr("checked"); !checked {
			t.Error("the box is not ticked after saving")
		}
		if !required("crew") || required("other") {
			t.Fatalf("require: crew %v, other %v; want only crew", required("crew"), required("other"))
		}
		if n := countAudit(t, s, "crew", "settings.require_mfa_changed"); n != 1 {
			t.Errorf("%d settings.require_mfa_changed events, want 1", n)
		}
		wantRedirect(t, save("true"), "/o/crew/settings/security")
		if n := countAudit(t, s, "crew", "settings.require_mfa_changed"); n != 1 {
			t.Errorf("saving the same value was audited: %d events", n)
		}
		// The owner has MFA: nothing changes for them.
		wantStatus(t, owner.Get("/o/crew/members"), http.StatusOK)
	})

	t.Run("MemberWithoutMFASentToEnrollment", func(t *testing.T) {
		for _, path := range []string{"/o/crew/", "/o/crew/members", "/o/crew/audit"} {
			wantRedirect(t, mem.Get(path), "/o/crew/account/mfa")
		}
		wantRedirect(t, mem.Post("/o/crew/leave", nil), "/o/crew/account/mfa")
		if memberByEmail(t, s, "crew", "mem@crew.test") == nil {
			t.Fatal("a redirected POST still ran")
		}
		page := mem.Get("/o/crew/account/mfa")
		wantStatus(t, page, http.StatusOK)
		if !strings.Contains(page.Text("[data-testid=mfa-required]"), "requires two-factor authentication") {
			t.Error("the enrollment page does not say why")
		}
		// Other organizations do not require it.
		other := s.Client(t)
		other.Login("other", "mem@crew.test", pw)
		wantStatus(t, other.Get("/o/other/"), http.StatusOK)
	})

	t.Run("MemberCanLogOut", func(t *testing.T) {
		wantRedirect(t, mem.Post("/o/crew/logout", nil), "/o/crew/login")
		wantRedirect(t, mem.Get("/o/crew/"), "/o/crew/login")
	})

	t.Run("MemberEnrollsAndGetsIn", func(t *testing.T) {
		mem.Login("crew", "mem@crew.test", pw)
		wantRedirect(t, mem.Get("/o/crew/"), "/o/crew/account/mfa")
		enroll(t, mem, "crew")
		wantStatus(t, mem.Get("/o/crew/"), http.StatusOK)
		wantText(t, owner.Get("/o/crew/settings/security"), "[data-testid=members-without-mfa]", "0 of 2 members have not set up two-factor authentication.")
	})

	t.Run("TurnOff", func(t *testing.T) {
		wantRedirect(t, save(""), "/o/crew/settings/security")
		if required("crew") {
			t.Fatal("still required")
		}
		if e := auditEvents(t, s, "crew")[0]; e.Action != "settings.require_mfa_changed" || e.Details["require_mfa"] != "false" {
			t.Errorf("newest event = %+v", e)
		}
	})
}

// TestMFAOtherWaysIn checks the two other places a password signs an
// existing account in (adding an organization at signup, accepting an
// invitation): with MFA on, they too end on the code step.
func TestMFAOtherWaysIn(t *testing.T) {
	t.Parallel()

	t.Run("SignupWithExistingAccount", func(t *testing.T) {
		t.Parallel()
		s, secret, _ := mfaFixture(t)
		c := s.Client(t)
		wantRedirect(t, c.Post("/signup", signupForm("Gamma Ltd", "gamma", "Ada", "ada@example.com", pw)), "/o/gamma/login/mfa")
		wantRedirect(t, c.Get("/o/gamma/"), "/o/gamma/login")
		wantRedirect(t, c.Post("/o/gamma/login/mfa", url.Values{"code": {freshCode(t, s, "ada@example.com", secret)}}), "/o/gamma/")
		wantText(t, c.Get("/o/gamma/"), "[data-testid=signed-in-as]", "ada@example.com")
	})

	t.Run("AcceptInvitationWithExistingAccount", func(t *testing.T) {
		t.Parallel()
		s, secret, _ := mfaFixture(t)
		boss := s.Client(t)
		boss.Login("beta", "bob@example.com", pw)
		link := invite(t, s, boss, "beta", "ada@example.com", "member")
		c := s.Client(t)
		wantRedirect(t, c.Post(link, url.Values{"password": {pw}}), "/o/beta/login/mfa")
		if memberByEmail(t, s, "beta", "ada@example.com") == nil {
			t.Fatal("the invitation was not accepted")
		}
		wantRedirect(t, c.Get("/o/beta/"), "/o/beta/login")
		wantRedirect(t, c.Post("/o/beta/login/mfa", url.Values{"code": {freshCode(t, s, "ada@example.com", secret)}}), "/o/beta/")
		wantText(t, c.Get("/o/beta/"), "[data-testid=org-name]", "Beta Corp")
	})
}
