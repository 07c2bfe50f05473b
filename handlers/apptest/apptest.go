// Package apptest runs the real application in an httptest server on a
// fresh test database, with a cookie-jar client that speaks forms and CSRF
// the way a browser does. Handler and browser tests share it.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/atrium-dev/atrium/handlers"
	"github.com/atrium-dev/atrium/handlers/auth/password"
	"github.com/atrium-dev/atrium/handlers/email"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/store/storetest"
)

// FastHasher keeps tests quick; production uses password.Default.
var FastHasher = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Server is the application under test.
type Server struct {
	*httptest.Server
	DB     *storetest.DB
	App    *handlers.App
	Hasher *password.Hasher
	Mail   *Mailbox // a real SMTP server receiving what the app sends
}

// New starts the application on its own database. Logs go to t.Log only
// when the test fails, through the standard testing output.
func New(t testing.TB) *Server {
	t.Helper()
	db := storetest.New(t)
	// The app and the fixtures share one pool with an entry cache, as in
	// production, so the whole suite runs through it.
	db.DB = db.Server(t)
	hasher := password.New(FastHasher)
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	mail := NewMailbox(t)
	sender, err := email.NewSMTP(mail.URL, "Atrium <no-reply@atrium.test>")
	if err != nil {
		t.Fatal(err)
	}
	app := handlers.New(handlers.Deps{
		Config: handlers.Config{Dev: true, ServeMetrics: true, BodyLimit: "64K", BaseURL: "http://atrium.test"},
		DB:     db.DB, Log: log, Hasher: hasher, Mailer: sender,
	})
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	return &Server{Server: srv, DB: db, App: app, Hasher: hasher, Mail: mail}
}

// SyncChanges waits until the app's entry cache has heard of every change
// committed so far, as another server would: for tests that change rows
// directly in SQL.
func (s *Server) SyncChanges(t testing.TB) {
	t.Helper()
	storetest.Sync(t, s.DB.DB)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Org creates an organization with an owner directly in the store and
// returns the tenant. More members can be added with AddMember.
func (s *Server) Org(t testing.TB, slug, name, ownerEmail, pw string) *store.Tenant {
	t.Helper()
	ctx := context.Background()
	var tenant *store.Tenant
	err := s.DB.InSystem(ctx, func(tx *store.SysTx) error {
		var err error
		tenant, err = tx.CreateTenant(ctx, slug, name)
		return err
	})
	if err != nil {
		t.Fatalf("apptest: create org %s: %v", slug, err)
	}
	s.AddMember(t, slug, ownerEmail, "Owner of "+name, pw, "owner")
	return tenant
}

// AddMember adds a person (created when new) to the organization with slug.
func (s *Server) AddMember(t testing.TB, slug, email, name, pw, role string) {
	t.Helper()
	ctx := context.Background()
	hash, err := s.Hasher.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	err = s.DB.InSystem(ctx, func(tx *store.SysTx) error {
		tenant, err := tx.FindTenantBySlug(ctx, slug)
		if err != nil {
			return err
		}
		u, err := tx.FindUserByEmail(ctx, email)
		if err != nil {
			if u, err = tx.CreateUser(ctx, email, name, hash); err != nil {
				return err
			}
		}
		ttx, err := tx.EnterTenant(ctx, tenant.ID)
		if err != nil {
			return err
		}
		_, err = ttx.CreateMembership(ctx, u.ID, role)
		return err
	})
	if err != nil {
		t.Fatalf("apptest: add member %s to %s: %v", email, slug, err)
	}
}

// Operator creates a console operator.
func (s *Server) Operator(t testing.TB, email, pw string) {
	t.Helper()
	ctx := context.Background()
	hash, err := s.Hasher.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DB.InSystem(ctx, func(tx *store.SysTx) error {
		_, err := tx.CreateOperator(ctx, email, "Operator", hash)
		return err
	}); err != nil {
		t.Fatalf("apptest: create operator: %v", err)
	}
}

// Client is a browser-like client: a cookie jar, no automatic redirects
// (tests assert on them), and forms that carry the CSRF token.
type Client struct {
	*http.Client
	t    testing.TB
	base *url.URL
}

// Client returns a new client with an empty cookie jar.
func (s *Server) Client(t testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	base, _ := url.Parse(s.URL)
	return &Client{
		Client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		t: t, base: base,
	}
}

// Response is a response whose body has been read and parsed as HTML.
type Response struct {
	*http.Response
	Body string
	Doc  *goquery.Document
}

// Location returns the redirect target's path (with query).
func (r *Response) Location() string {
	u, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		return r.Header.Get("Location")
	}
	return u.RequestURI()
}

// Text returns the trimmed text of the first element matching selector.
func (r *Response) Text(selector string) string {
	return strings.TrimSpace(r.Doc.Find(selector).First().Text())
}

// Get fetches path.
func (c *Client) Get(path string) *Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base.String()+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.Do(req)
}

// Do sends req and reads the response.
func (c *Client) Do(req *http.Request) *Response {
	c.t.Helper()
	res, err := c.Client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(b)))
	if err != nil {
		c.t.Fatal(err)
	}
	return &Response{Response: res, Body: string(b), Doc: doc}
}

// CSRF returns the client's CSRF token, fetching a page first if needed.
func (c *Client) CSRF() string {
	c.t.Helper()
	for i := 0; i < 2; i++ {
		for _, ck := range c.Jar.Cookies(c.base) {
			if ck.Name == "atrium_csrf" {
				return ck.Value
			}
		}
		c.Get("/login")
	}
	c.t.Fatal("apptest: no CSRF cookie after fetching /login")
	return ""
}

// Post submits a form to path with the CSRF token added.
func (c *Client) Post(path string, form url.Values) *Response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", c.CSRF())
	}
	return c.PostRaw(path, form)
}

// PostRaw submits a form exactly as given, without adding a CSRF token.
func (c *Client) PostRaw(path string, form url.Values) *Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base.String()+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.Do(req)
}

// Login logs in through /o/{slug}/login and fails the test unless it lands
// on the dashboard.
func (c *Client) Login(slug, email, pw string) {
	c.t.Helper()
	res := c.Post("/o/"+slug+"/login", url.Values{"email": {email}, "password": {pw}})
	if res.StatusCode != http.StatusSeeOther || res.Location() != "/o/"+slug+"/" {
		c.t.Fatalf("login %s at %s: status %d, location %q, body %.300s", email, slug, res.StatusCode, res.Location(), res.Body)
	}
}
