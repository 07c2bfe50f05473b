package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/pquerna/otp/totp"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/apptest"
	"github.com/atrium-dev/atrium/store"
)

// ---- MFA helpers ----

// totpCode computes the current code of secret, as the person's phone would.
func totpCode(t *testing.T, secret string) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// freshCode forgets which time step the person last used, so the current
// code counts as new: tests log in more often than every 30 seconds.
func freshCode(t *testing.T, s *apptest.Server, email, secret string) string {
	t.Helper()
	ctx := context.Background()
	conn := s.DB.OwnerConn(t)
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE users SET totp_last_step = NULL WHERE email = $1`, email); err != nil {
		t.Fatal(err)
	}
	return totpCode(t, secret)
}

// enroll turns MFA on for c's member at slug through the pages, as a person
// would, and returns the secret scraped from the page and the recovery codes.
func enroll(t *testing.T, c *apptest.Client, slug string) (string, []string) {
	t.Helper()
	base := "/o/" + slug + "/account/mfa"
	wantRedirect(t, c.Post(base+"/setup", nil), base)
	page := c.Get(base)
	wantStatus(t, page, http.StatusOK)
	secret := strings.ReplaceAll(page.Text("[data-testid=mfa-secret]"), " ", "")
	if secret == "" {
		t.Fatalf("no secret on the setup page: %.500s", page.Body)
	}
	res := c.Post(base+"/confirm", url.Values{"code": {totpCode(t, secret)}})
	wantStatus(t, res, http.StatusOK)
	return secret, recoveryCodes(res)
}

func recoveryCodes(res *apptest.Response) []string {
	return res.Doc.Find("[data-testid=recovery-codes] li").Map(func(_ int, s *goquery.Selection) string {
		return strings.TrimSpace(s.Text())
	})
}

// passwordStep posts the password at /o/{slug}/login and expects to be sent
// to the second step.
func passwordStep(t *testing.T, c *apptest.Client, slug, email, pw string) {
	t.Helper()
	wantRedirect(t, c.Post("/o/"+slug+"/login", credentials(email, pw)), "/o/"+slug+"/login/mfa")
}

// mfaOf reads a person's MFA state from the store.
func mfaOf(t *testing.T, s *apptest.Server, email string) (m *store.MFA) {
	t.Helper()
	u := findUser(t, s, email)
	sys(t, s, func(ctx context.Context, tx *store.SysTx) (err error) {
		m, err = tx.FindMFA(ctx, u.ID)
		return err
	})
	return m
}

// auditEvents returns the organization's audit log, newest first.
func auditEvents(t *testing.T, s *apptest.Server, slug string) (list []store.AuditEvent) {
	t.Helper()
	tn := findTenant(t, s, slug)
	ctx := atrium.WithTenant(context.Background(), &atrium.Tenant{ID: tn.ID, Slug: tn.Slug, Name: tn.Name})
	if err := s.DB.ReadTenant(ctx, func(b *store.Batch) {
		b.FindAuditEvents(store.AuditFilter{Limit: 500}, &list)
	}); err != nil {
		t.Fatal(err)
	}
	return list
}

// countAudit counts the events with action in the organization's log.
func countAudit(t *testing.T, s *apptest.Server, slug, action string) int {
	t.Helper()
	n := 0
	for _, e := range auditEvents(t, s, slug) {
		if e.Action == action {
			n++
		}
	}
	return n
}

var recoveryCodeShape = regexp.MustCompile(`^[0-9a-z]{5}-[0-9a-z]{5}$`)

func TestMFAEnrollment(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
	c := s.Client(t)
	c.Login("acme", "ada@example.com", pw)

	off := c.Get("/o/acme/account/mfa")
	wantStatus(t, off, http.StatusOK)
	if st := off.Doc.Find("[data-testid=mfa-status]").AttrOr("data-state", ""); st != "off" {
		t.Fatalf("status = %q, want off", st)
	}
	if off.Doc.Find("[data-testid=mfa-required]").Length() != 0 {
		t.Error("the organization does not require MFA, yet the page says so")
	}

	wantRedirect(t, c.Post("/o/acme/account/mfa/setup", nil), "/o/acme/account/mfa")
	setup := c.Get("/o/acme/account/mfa")
	wantStatus(t, setup, http.StatusOK)
	if src := setup.Doc.Find("img[data-testid=mfa-qr]").AttrOr("src", ""); !strings.HasPrefix(src, "data:image/png;base64,") {
		t.Errorf("QR code src = %.60q, want a PNG data: URI", src)
	}
	secret := strings.ReplaceAll(setup.Text("[data-testid=mfa-secret]"), " ", "")
	if len(secret) < 32 {
		t.Fatalf("secret = %q, want a base32 secret of 160 bits", secret)
	}

	t.Run("ErrWrongCode", func(t *testing.T) {
		wrong, _ := totp.GenerateCode(secret, time.Now().Add(-time.Hour))
		for _, code := range []string{wrong, "12345", "abcdef", ""} {
			res := c.Post("/o/acme/account/mfa/confirm", url.Values{"code": {code}})
			wantStatus(t, res, http.StatusUnprocessableEntity)
			if res.Text("[data-testid=error-code]") == "" {
				t.Errorf("code %q: no message beside the field", code)
			}
			if got := strings.ReplaceAll(res.Text("[data-testid=mfa-secret]"), " ", ""); got != secret {
				t.Errorf("code %q: the setup shows secret %q, want the same %q", code, got, secret)
			}
		}
		if mfaOf(t, s, "ada@example.com").Enabled() {
			t.Fatal("a wrong code turned MFA on")
		}
	})

	t.Run("OK", func(t *testing.T) {
		res := c.Post("/o/acme/account/mfa/confirm", url.Values{"code": {totpCode(t, secret)}})
		wantStatus(t, res, http.StatusOK)
		codes := recoveryCodes(res)
		seen := map[string]bool{}
		for _, code := range codes {
			if !recoveryCodeShape.MatchString(code) || seen[code] {
				t.Errorf("recovery code %q is malformed or repeated", code)
			}
			seen[code] = true
		}
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes, want 10", len(codes))
		}
		m := mfaOf(t, s, "ada@example.com")
		if !m.Enabled() || m.Secret != secret || m.RecoveryCodesLeft != 10 || m.LastStep == 0 {
			t.Fatalf("stored mfa = %+v", m)
		}
		if n := countAudit(t, s, "acme", "mfa.enabled"); n != 1 {
			t.Errorf("%d mfa.enabled events, want 1", n)
		}

		on := c.Get("/o/acme/account/mfa")
		if st := on.Doc.Find("[data-testid=mfa-status]").AttrOr("data-state", ""); st != "on" {
			t.Fatalf("status = %q, want on", st)
		}
		wantText(t, on, "[data-testid=recovery-codes-left]", "10 recovery codes left.")
		if on.Doc.Find("[data-testid=recovery-codes]").Length() != 0 || strings.Contains(on.Body, codes[0]) {
			t.Error("the recovery codes are shown again")
		}
	})

	t.Run("ErrConfirmAgain", func(t *testing.T) {
		res := c.Post("/o/acme/account/mfa/confirm", url.Values{"code": {totpCode(t, secret)}})
		wantRedirect(t, res, "/o/acme/account/mfa")
		if n := countAudit(t, s, "acme", "mfa.enabled"); n != 1 {
			t.Errorf("%d mfa.enabled events, want still 1", n)
		}
	})

	t.Run("SetupWhenOnChangesNothing", func(t *testing.T) {
		wantRedirect(t, c.Post("/o/acme/account/mfa/setup", nil), "/o/acme/account/mfa")
		if !strings.Contains(flashText(c.Get("/o/acme/account/mfa")), "already on") {
			t.Error("no message that MFA is already on")
		}
		if m := mfaOf(t, s, "ada@example.com"); m.Secret != secret {
			t.Fatal("setting up again replaced the secret")
		}
	})
}

func TestMFADisable(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
	c := s.Client(t)
	c.Login("acme", "ada@example.com", pw)
	secret, codes := enroll(t, c, "acme")
	disable := func(password, code string) *apptest.Response {
		return c.Post("/o/acme/account/mfa/disable", url.Values{"password": {password}, "code": {code}})
	}

	t.Run("ErrEmpty", func(t *testing.T) {
		res := disable("", "")
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if res.Text("[data-testid=error-password]") == "" {
			t.Error("no message beside the password")
		}
		if res.Text("[data-testid=error-code]") == "" {
			t.Error("no message beside the code")
		}
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		res := disable(wrongPW, freshCode(t, s, "ada@example.com", secret))
		wantStatus(t, res, http.StatusUnauthorized)
		wantText(t, res, "[data-testid=error-password]", "That is not your password.")
	})
	t.Run("ErrWrongCode", func(t *testing.T) {
		res := disable(pw, "000000")
		wantStatus(t, res, http.StatusUnauthorized)
		if !strings.Contains(res.Text("[data-testid=error-code]"), "not right") {
			t.Errorf("code message = %q", res.Text("[data-testid=error-code]"))
		}
		if v := res.Doc.Find("[data-testid=disable-form] input[name=password]").AttrOr("value", ""); v != "" {
			t.Error("the password is echoed back")
		}
	})
	if !mfaOf(t, s, "ada@example.com").Enabled() || countAudit(t, s, "acme", "mfa.disabled") != 0 {
		t.Fatal("a refused attempt turned MFA off")
	}

	t.Run("OK", func(t *testing.T) {
		res := disable(pw, freshCode(t, s, "ada@example.com", secret))
		wantRedirect(t, res, "/o/acme/account/mfa")
		if m := mfaOf(t, s, "ada@example.com"); m.Enabled() || m.Secret != "" || m.RecoveryCodesLeft != 0 {
			t.Fatalf("stored mfa after disabling = %+v", m)
		}
		if n := countAudit(t, s, "acme", "mfa.disabled"); n != 1 {
			t.Errorf("%d mfa.disabled events, want 1", n)
		}
		// A login needs the password only again.
		s.Client(t).Login("acme", "ada@example.com", pw)
	})

	t.Run("WithRecoveryCode", func(t *testing.T) {
		_, codes = enroll(t, c, "acme")
		wantRedirect(t, disable(pw, codes[0]), "/o/acme/account/mfa")
		if mfaOf(t, s, "ada@example.com").Enabled() {
			t.Fatal("MFA still on")
		}
	})
}

func TestMFARegenerateCodes(t *testing.T) {
	t.Parallel()
	s := apptest.New(t)
	s.Org(t, "acme", "Acme Inc", "ada@example.com", pw)
	c := s.Client(t)
	c.Login("acme", "ada@example.com", pw)
	secret, old := enroll(t, c, "acme")

	res := c.Post("/o/acme/account/mfa/recovery-codes", url.Values{"code": {"123456"}})
	wantStatus(t, res, http.StatusUnauthorized)
	if res.Text("[data-testid=error-code]") == "" {
		t.Error("no message beside the code")
	}
	wantStatus(t, c.Post("/o/acme/account/mfa/recovery-codes", url.Values{"code": {""}}), http.StatusUnprocessableEntity)

	res = c.Post("/o/acme/account/mfa/recovery-codes", url.Values{"code": {freshCode(t, s, "ada@example.com", secret)}})
	wantStatus(t, res, http.StatusOK)
	fresh := recoveryCodes(res)
	if len(fresh) != 10 || fresh[0] == old[0] {
		t.Fatalf("new codes = %v", fresh)
	}
	if n := countAudit(t, s, "acme", "mfa.recovery_codes_regenerated"); n != 1 {
		t.Errorf("%d mfa.recovery_codes_regenerated events, want 1", n)
	}

	other := s.Client(t)
	passwordStep(t, other, "acme", "ada@example.com", pw)
	wantStatus(t, other.Post("/o/acme/login/mfa", url.Values{"code": {old[1]}}), http.StatusUnauthorized)
	wantRedirect(t, other.Post("/o/acme/login/mfa", url.Values{"code": {fresh[1]}}), "/o/acme/")
}
