package email_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/alexedwards/scs/v2"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/handlers/auth/password"
	"github.com/atrium-dev/atrium/handlers/console"
	"github.com/atrium-dev/atrium/handlers/email"
	"github.com/atrium-dev/atrium/handlers/web"
	"github.com/atrium-dev/atrium/static"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// Both senders satisfy the interface handlers depend on.
var (
	_ email.Sender = (*email.SMTP)(nil)
	_ email.Sender = (*email.Outbox)(nil)
)

func TestOutboxSend(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	out := email.NewOutbox(db.DB)

	t.Run("OK", func(t *testing.T) {
		m := testMessage()
		m.Subject = "Welcome\r\nto  Atrium"
		if err := out.Send(ctx(t), m); err != nil {
			t.Fatal(err)
		}
		var list []store.OutboxMessage
		var total int
		err := db.ReadSystemBatch(ctx(t), func(b *store.Batch) { b.FindOutboxMessages(20, 0, &list, &total) })
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 {
			t.Fatalf("outbox holds %d messages, want 1", len(list))
		}
		got := list[0]
		if got.To != m.To || got.Subject != "Welcome to Atrium" || got.Body != m.Text {
			t.Errorf("stored %+v\nwant to %q, subject %q, body %q", got, m.To, "Welcome to Atrium", m.Text)
		}
	})

	t.Run("ErrInvalidMessage", func(t *testing.T) {
		// The same checks as SMTP, so dev catches what production would.
		for name, m := range map[string]email.Message{
			"NamedAddress": {To: "Bob <bob@example.com>", Subject: "Hi", Text: "x"},
			"EmptySubject": {To: "a@example.com", Subject: "", Text: "x"},
			"EmptyBody":    {To: "a@example.com", Subject: "Hi", Text: ""},
		} {
			if err := out.Send(ctx(t), m); err == nil {
				t.Errorf("%s: stored %+v", name, m)
			}
		}
	})
}

// TestOutboxPage drives console.ShowOutbox through echo with an operator in
// the context (what mw.Console leaves there), since the route itself
// is mounted in handlers/routes.go.
func TestOutboxPage(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	out := email.NewOutbox(db.DB)

	h := console.New(db.DB, password.New(password.Default), scs.New(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	e := echo.New()
	assets := static.Load()
	e.GET("/console/outbox", h.ShowOutbox, func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx := web.WithAssets(c.Request().Context(), assets)
			ctx = atrium.WithOperator(ctx, &atrium.Operator{ID: uuid.New(), Email: "op@atrium.example", Name: "Op"})
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	get := func(t *testing.T, path string) *goquery.Document {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(res.Body)
			t.Fatalf("GET %s: %d\n%s", path, res.StatusCode, b)
		}
		doc, err := goquery.NewDocumentFromReader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}

	t.Run("Empty", func(t *testing.T) {
		doc := get(t, "/console/outbox")
		if !strings.Contains(doc.Find("[data-testid=outbox-explanation]").Text(), "SMTP_URL") {
			t.Error("no explanation naming SMTP_URL")
		}
		if doc.Find("[data-testid=outbox]").Length() != 0 {
			t.Error("a table with no messages")
		}
	})

	hostile := "Join us: https://atrium.example/invites/abc?x=1&y=2\n" +
		`<a href="https://evil.example" data-testid="injected">click</a><script>alert(1)</script>` + "\n" +
		"Café « Olé »"
	for i := range 22 {
		m := email.Message{To: fmt.Sprintf("p%02d@example.com", i), Subject: fmt.Sprintf("Message %02d <b>", i), Text: "Plain body"}
		if i == 21 {
			m.Text = hostile
		}
		if err := out.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("NewestFirstEscaped", func(t *testing.T) {
		doc := get(t, "/console/outbox")
		table := doc.Find("[data-testid=outbox]")
		if table.Length() != 1 {
			t.Fatal("no outbox table")
		}
		bodies := table.Find("pre[data-testid=outbox-body]")
		if bodies.Length() != 20 {
			t.Fatalf("%d bodies on the first page, want 20", bodies.Length())
		}
		if got := table.Find("[data-testid=outbox-to]").First().Text(); got != "p21@example.com" {
			t.Errorf("first row to %q, want p21@example.com (newest first)", got)
		}
		if got := table.Find("[data-testid=outbox-subject]").First().Text(); got != "Message 21 <b>" {
			t.Errorf("first subject %q, want the text Message 21 <b>", got)
		}
		first := bodies.First()
		if first.Text() != hostile {
			t.Errorf("body text = %q\nwant %q", first.Text(), hostile)
		}
		if n := first.Children().Length(); n != 0 {
			t.Errorf("body holds %d elements; it must be text only", n)
		}
		if doc.Find("[data-testid=injected], script, [data-testid=outbox] a, [data-testid=outbox] b").Length() != 0 {
			t.Error("HTML from a message was rendered as HTML")
		}
		if doc.Find("a[rel=next]").AttrOr("href", "") != "/console/outbox?page=2" {
			t.Errorf("next link = %q", doc.Find("a[rel=next]").AttrOr("href", ""))
		}
		if doc.Find("a[rel=prev]").Length() != 0 {
			t.Error("previous link on the first page")
		}
		if got := doc.Find("[data-testid=outbox-total]").Text(); !strings.HasPrefix(got, "22 ") {
			t.Errorf("total = %q, want 22 messages", got)
		}
	})

	t.Run("SecondPage", func(t *testing.T) {
		doc := get(t, "/console/outbox?page=2")
		var to []string
		doc.Find("[data-testid=outbox-to]").Each(func(_ int, s *goquery.Selection) { to = append(to, s.Text()) })
		if strings.Join(to, ",") != "p01@example.com,p00@example.com" {
			t.Errorf("page 2 = %v, want p01, p00", to)
		}
		if doc.Find("a[rel=prev]").AttrOr("href", "") != "/console/outbox?page=1" {
			t.Error("no previous link on page 2")
		}
		if doc.Find("a[rel=next]").Length() != 0 {
			t.Error("next link on the last page")
		}
	})

	t.Run("PastTheEnd", func(t *testing.T) {
		doc := get(t, "/console/outbox?page=99")
		if doc.Find("[data-testid=outbox]").Length() != 0 {
			t.Error("rows past the last page")
		}
		if doc.Find(`main a[href="/console/outbox"]`).Length() != 1 {
			t.Error("no way back from past the last page")
		}
	})
}
