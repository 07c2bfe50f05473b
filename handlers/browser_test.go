package handlers_test

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/atrium-dev/atrium/handlers/apptest"
)

// journeyTimeout bounds one journey in the browser, start to finish.
const journeyTimeout = 30 * time.Second

// TestBrowserSignupLogoutLogin walks the first minutes of a new customer in a
// real browser: create an organization, land on its dashboard, log out, and
// log back in through the global login page.
func TestBrowserSignupLogoutLogin(t *testing.T) {
	apptest.ChromePath(t) // skip or fail once, before starting anything
	srv := apptest.New(t)

	t.Run("OK", func(t *testing.T) {
		b := newBrowserPage(t, srv.URL)
		const (
			email = "peter@initech.example"
			pw    = "tps-reports-2024"
		)

		b.open("/signup")
		b.fill(map[string]string{
			"org_name": "Initech Labs",
			"slug":     "initech",
			"name":     "Peter Gibbons",
			"email":    email,
			"password": pw,
		})
		b.submit(`[data-testid=signup-form] button[type=submit]`)

		// The dashboard of the new organization, signed in as its owner.
		b.waitVisible(`[data-testid=dashboard-title]`)
		b.wantPath("/o/initech/")
		b.wantText(`[data-testid=dashboard-title]`, "Initech Labs")
		b.wantText(`[data-testid=signed-in-as]`, email)
		b.wantTextContains(`[data-testid=flashes]`, "Your organization is ready.")
		b.screenshot("dashboard.png")

		// Log out: back to the organization's own login page, with a flash.
		b.submit(`[data-testid=logout]`)
		b.waitVisible(`[data-testid=flashes]`)
		b.wantPath("/o/initech/login")
		b.wantTextContains(`[data-testid=flashes]`, "You have been logged out.")

		// The global login: one organization, so straight in.
		b.open("/login")
		b.fill(map[string]string{"email": email, "password": pw})
		b.submit(`[data-testid=login-form] button[type=submit]`)
		b.waitVisible(`[data-testid=dashboard-title]`)
		b.wantPath("/o/initech/")
		b.wantText(`[data-testid=dashboard-title]`, "Initech Labs")
		b.wantText(`[data-testid=signed-in-as]`, email)
	})

	t.Run("ErrWrongPassword", func(t *testing.T) {
		srv.Org(t, "initrode", "Initrode", "bill@initrode.example", "correct-horse-battery")
		b := newBrowserPage(t, srv.URL)

		b.open("/login")
		b.fill(map[string]string{"email": "bill@initrode.example", "password": "wrong-horse-battery"})
		b.submit(`[data-testid=login-form] button[type=submit]`)
		b.waitVisible(`[data-testid=form-error]`)
		b.wantPath("/login")
		b.wantText(`[data-testid=form-error]`, "Incorrect email or password.")
	})
}

// browserPage drives one browser tab through the application. Each step
// fails the test with the page's URL and visible text, so a failure says
// what the person would have seen.
type browserPage struct {
	t    *testing.T
	base string
	tab  context.Context // the browser's own context, for diagnostics
	ctx  context.Context // tab with the journey's deadline
}

func newBrowserPage(t *testing.T, base string) *browserPage {
	t.Helper()
	tab := apptest.Browser(t)
	ctx, cancel := context.WithTimeout(tab, journeyTimeout)
	t.Cleanup(cancel)
	return &browserPage{t: t, base: base, tab: tab, ctx: ctx}
}

// open loads path and waits for the page to load.
func (b *browserPage) open(path string) {
	b.t.Helper()
	res, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.fatalf("open %s: %v", path, err)
	}
	if res.Status != http.StatusOK {
		b.fatalf("open %s: status %d", path, res.Status)
	}
}

// fill types into the form fields with these names, as a person would, in
// name order so that a run is repeatable.
func (b *browserPage) fill(fields map[string]string) {
	b.t.Helper()
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		sel := chromedp.CSS(`input[name="` + name + `"]`)
		if err := chromedp.Do(b.ctx, chromedp.Clear(sel), chromedp.SendKeys(sel, fields[name])); err != nil {
			b.fatalf("fill %s: %v", name, err)
		}
	}
}

// submit clicks the button matching sel and waits until the page it leads
// to (after any redirects) has loaded. Waiting on the navigation itself,
// rather than on an element, means an element of the old page can never be
// mistaken for the new one. A server error fails at once instead of
// leaving the next wait to time out; other statuses (a 401 or 422 form
// page) are for the visible assertions that follow.
func (b *browserPage) submit(sel string) {
	b.t.Helper()
	res, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.fatalf("click %s: %v", sel, err)
	}
	if res.Status >= http.StatusInternalServerError {
		b.fatalf("click %s: %s answered %d", sel, res.URL, res.Status)
	}
}

func (b *browserPage) waitVisible(sel string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		b.fatalf("wait for %s to be visible: %v", sel, err)
	}
}

// text returns the visible, trimmed text of the first element matching sel.
func (b *browserPage) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		b.fatalf("read text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (b *browserPage) wantText(sel, want string) {
	b.t.Helper()
	if got := b.text(sel); got != want {
		b.fatalf("%s shows %q, want %q", sel, got, want)
	}
}

func (b *browserPage) wantTextContains(sel, want string) {
	b.t.Helper()
	if got := b.text(sel); !strings.Contains(got, want) {
		b.fatalf("%s shows %q, want it to contain %q", sel, got, want)
	}
}

// wantPath checks the path of the address bar.
func (b *browserPage) wantPath(want string) {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.fatalf("read location: %v", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		b.fatalf("parse location %q: %v", loc, err)
	}
	if u.Path != want {
		b.fatalf("at %s, want path %s", loc, want)
	}
}

// screenshot saves the whole page as a PNG for humans to look at: into
// $ATRIUM_SCREENSHOTS when set, else into the test's temporary directory.
func (b *browserPage) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("ATRIUM_SCREENSHOTS")
	if dir == "" {
		dir = b.t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", file)
}

// fatalf fails the test with what the browser shows right now. It uses the
// tab's own context, so it still works after the journey's deadline.
func (b *browserPage) fatalf(format string, args ...any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if len(body) > 1500 {
		body = body[:1500] + "…"
	}
	args = append(args, loc, body)
	b.t.Fatalf(format+"\nbrowser at: %s\npage text:\n%s", args...)
}
