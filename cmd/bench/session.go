package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// Names and credentials the seeder and the operator command agree on.
const (
	csrfCookie       = "atrium_csrf"
	seedPassword     = "bench-password"
	operatorEmail    = "bench@atrium.test"
	operatorPassword = "bench-operator-pw"
)

// tenantSlug and memberEmail follow `atrium seed`: tenant i (1-based) is
// bench-000i, and member j of tenant i is u<i>.<j>@bench.test, member 1 being
// the owner.
func tenantSlug(i int) string     { return fmt.Sprintf("bench-%06d", i) }
func memberEmail(i, j int) string { return fmt.Sprintf("u%d.%d@bench.test", i, j) }

// session is a visitor signed in through the real login form: the Cookie
// header to send (CSRF and session cookies) and the CSRF token its forms
// carry.
type session struct {
	// Slug is the tenant signed in to; for an operator, the tenant whose
	// console page this session opens.
	Slug   string
	Member string // id of the tenant's member 2, whose page the owner opens
	Invite string // path of an open invitation link of the tenant
	Join   string // path of the tenant's join link
	Reset  string // path of a password reset link (of one of the first owners)
	// MFAStep is the Cookie header of a login of a member of the tenant with
	// two-factor authentication, past the password and waiting for the
	// code (see pendingLogins).
	MFAStep string
	Email   string
	Cookie  string
	CSRF    string
}

// signIn logs email in at loginPath the way a browser does: GET the form for
// the CSRF cookie, POST it, expect 303 to home, and check that home then
// answers 200 with the new session.
func signIn(ctx context.Context, base, loginPath, home, email, password string) (*session, error) {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	do := func(method, path string, form url.Values, want int) (*http.Response, error) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, base+path, body)
		if err != nil {
			return nil, err
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			return nil, fmt.Errorf("%s %s as %s: status %d, want %d: %.300s", method, path, email, resp.StatusCode, want, page)
		}
		return resp, nil
	}

	if _, err := do(http.MethodGet, loginPath, nil, http.StatusOK); err != nil {
		return nil, err
	}
	homeURL, _ := url.Parse(base + home)
	s := &session{Email: email}
	for _, c := range jar.Cookies(homeURL) {
		if c.Name == csrfCookie {
			s.CSRF = c.Value
		}
	}
	if s.CSRF == "" {
		return nil, fmt.Errorf("GET %s: no %s cookie", loginPath, csrfCookie)
	}
	form := url.Values{"_csrf": {s.CSRF}, "email": {email}, "password": {password}}
	resp, err := do(http.MethodPost, loginPath, form, http.StatusSeeOther)
	if err != nil {
		return nil, err
	}
	if loc := resp.Header.Get("Location"); loc != home {
		return nil, fmt.Errorf("POST %s as %s: redirected to %q, want %q", loginPath, email, loc, home)
	}
	var cookies []string
	for _, c := range jar.Cookies(homeURL) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	s.Cookie = strings.Join(cookies, "; ")
	if _, err := do(http.MethodGet, home, nil, http.StatusOK); err != nil {
		return nil, fmt.Errorf("after login: %w", err)
	}
	return s, nil
}

// fixture is everyone signed in for one scale.
type fixture struct {
	Tenants   []*session // member 1 (the owner) of each hot tenant
	Operators []*session // the operator, signed in several times
}

// slugs returns the slugs of the tenants signed in to, in order.
func (f *fixture) slugs() []string {
	list := make([]string, len(f.Tenants))
	for i, s := range f.Tenants {
		list[i] = s.Slug
	}
	return list
}

// sessionsFor returns the sessions a target sends, round-robin.
func (f *fixture) sessionsFor(t target) []*session {
	if t.Operator {
		return f.Operators
	}
	return f.Tenants
}

// signInAll logs in the owner of each of the first hot tenants, then the
// operator ops times, so that the console's load, like the tenants', is
// spread over sessions rather than piled on one session's row. One login at
// a time: argon2id does not scale past one core on a small machine anyway,
// and concurrent hashes would leave the server's memory high at the start of
// the first target.
func signInAll(ctx context.Context, base string, hot, ops int) (*fixture, error) {
	f := &fixture{}
	for i := 1; i <= hot; i++ {
		slug := tenantSlug(i)
		s, err := signIn(ctx, base, "/o/"+slug+"/login", "/o/"+slug+"/", memberEmail(i, 1), seedPassword)
		if err != nil {
			return nil, fmt.Errorf("sign in tenant owners: %w", err)
		}
		s.Slug = slug
		f.Tenants = append(f.Tenants, s)
	}
	for k := range ops {
		op, err := signIn(ctx, base, "/console/login", "/console/", operatorEmail, operatorPassword)
		if err != nil {
			return nil, fmt.Errorf("sign in operator: %w", err)
		}
		op.Slug = f.Tenants[k%len(f.Tenants)].Slug
		f.Operators = append(f.Operators, op)
	}
	return f, nil
}
