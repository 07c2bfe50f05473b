package email_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/atrium-dev/atrium/handlers/email"
)

// received is one message as the test server got it.
type received struct {
	From string   // MAIL FROM
	To   []string // RCPT TO
	Data []byte
	User string // the authenticated user, or ""
}

// testServer is a real SMTP server on a loopback port that keeps what it
// receives. With a user set it offers AUTH PLAIN (over plain TCP, allowed
// for the test) and refuses mail from an unauthenticated session.
type testServer struct {
	Addr string // host:port

	user, pass string

	mu       sync.Mutex
	messages []received
	authSeen int // AUTH attempts, right or wrong
}

// startServer listens on host (127.0.0.1 unless a test needs another
// loopback address) and stops when the test ends.
func startServer(t *testing.T, host, user, pass string) *testServer {
	t.Helper()
	ts := &testServer{user: user, pass: pass}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("listen on %s: %v", host, err)
	}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		if ts.user == "" {
			return &session{srv: ts}, nil
		}
		return &authSession{session{srv: ts}}, nil
	}))
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	s.MaxMessageBytes = 1 << 20
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	ts.Addr = l.Addr().String()
	return ts
}

// Messages returns what the server has received so far.
func (ts *testServer) Messages() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]received(nil), ts.messages...)
}

// AuthAttempts counts AUTH commands, successful or not.
func (ts *testServer) AuthAttempts() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.authSeen
}

// session is a go-smtp Session without AUTH.
type session struct {
	srv  *testServer
	user string
	cur  received
}

func (s *session) Reset()        { s.cur = received{} }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.cur = received{From: from, User: s.user}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = b
	s.srv.mu.Lock()
	s.srv.messages = append(s.srv.messages, s.cur)
	s.srv.mu.Unlock()
	return nil
}

// authSession adds AUTH PLAIN to session.
type authSession struct{ session }

func (s *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *authSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, pass string) error {
		s.srv.mu.Lock()
		s.srv.authSeen++
		s.srv.mu.Unlock()
		if user != s.srv.user || pass != s.srv.pass {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

// parsed is a received message read back as a mail client would.
type parsed struct {
	From, To, Subject, MessageID, ContentType string
	Date                                      time.Time
	Body                                      string
	Lines                                     []string // raw lines of the message as sent
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, data)
	}
	var p parsed
	h := msg.Header
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 {
		t.Fatalf("From %q: %v", h.Get("From"), err)
	}
	p.From = from[0].String()
	to, err := h.AddressList("To")
	if err != nil || len(to) != 1 {
		t.Fatalf("To %q: %v", h.Get("To"), err)
	}
	p.To = to[0].Address
	if p.Subject, err = new(mime.WordDecoder).DecodeHeader(h.Get("Subject")); err != nil {
		t.Fatalf("Subject %q: %v", h.Get("Subject"), err)
	}
	if p.Date, err = h.Date(); err != nil {
		t.Fatalf("Date %q: %v", h.Get("Date"), err)
	}
	p.MessageID = h.Get("Message-Id")
	p.ContentType = h.Get("Content-Type")
	var body io.Reader = msg.Body
	if cte := strings.ToLower(h.Get("Content-Transfer-Encoding")); cte == "quoted-printable" {
		body = quotedprintable.NewReader(msg.Body)
	} else if cte != "" && cte != "7bit" && cte != "8bit" {
		t.Fatalf("unexpected Content-Transfer-Encoding %q", cte)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	p.Body = strings.ReplaceAll(string(b), "\r\n", "\n")
	p.Lines = strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	return p
}

// mustSMTP builds a sender or fails the test.
func mustSMTP(t *testing.T, rawURL string) *email.SMTP {
	t.Helper()
	s, err := email.NewSMTP(rawURL, "Atrium Tests <no-reply@atrium.example>")
	if err != nil {
		t.Fatalf("NewSMTP(%q): %v", rawURL, err)
	}
	return s
}

// longLine is longer than any SMTP line may be (998) and any QP line (76),
// with accents spread through it.
var longLine = strings.Repeat("Réinitialisez votre mot de passe — ", 40)

func testMessage() email.Message {
	return email.Message{
		To:      "zoe@example.com",
		Subject: "Invitation à rejoindre Café Olé",
		Text:    "Bonjour Zoé,\n\n" + longLine + "\n\nhttps://atrium.example/invites/abc?x=1&y=2\n",
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestSMTPSend(t *testing.T) {
	t.Parallel()

	check := func(t *testing.T, got received, m email.Message) {
		t.Helper()
		if got.From != "no-reply@atrium.example" {
			t.Errorf("MAIL FROM = %q", got.From)
		}
		if len(got.To) != 1 || got.To[0] != m.To {
			t.Errorf("RCPT TO = %q, want [%q]", got.To, m.To)
		}
		p := parse(t, got.Data)
		if p.From != `"Atrium Tests" <no-reply@atrium.example>` {
			t.Errorf("From = %q", p.From)
		}
		if p.To != m.To {
			t.Errorf("To = %q, want %q", p.To, m.To)
		}
		if p.Subject != m.Subject {
			t.Errorf("Subject = %q, want %q", p.Subject, m.Subject)
		}
		if time.Since(p.Date).Abs() > time.Minute {
			t.Errorf("Date = %v, want about now", p.Date)
		}
		if !strings.HasPrefix(p.MessageID, "<") || !strings.HasSuffix(p.MessageID, "@atrium.example>") {
			t.Errorf("Message-ID = %q, want <…@atrium.example>", p.MessageID)
		}
		mt, params, err := mime.ParseMediaType(p.ContentType)
		if err != nil || mt != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
			t.Errorf("Content-Type = %q, want text/plain; charset=UTF-8", p.ContentType)
		}
		if strings.TrimRight(p.Body, "\n") != strings.TrimRight(m.Text, "\n") {
			t.Errorf("body = %q\nwant %q", p.Body, m.Text)
		}
		for _, l := range p.Lines {
			if len(l) > 78 {
				t.Errorf("line of %d bytes on the wire, want ≤ 78: %q", len(l), l)
			}
		}
	}

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, "127.0.0.1", "", "")
		m := testMessage()
		if err := mustSMTP(t, "smtp://"+srv.Addr+"?tls=none").Send(ctx(t), m); err != nil {
			t.Fatal(err)
		}
		got := srv.Messages()
		if len(got) != 1 {
			t.Fatalf("server got %d messages, want 1", len(got))
		}
		check(t, got[0], m)
		if got[0].User != "" {
			t.Errorf("authenticated as %q without credentials in the URL", got[0].User)
		}
	})

	t.Run("OKWithAuth", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, "127.0.0.1", "mailer", "s3cret/+pw")
		m := testMessage()
		// The password's / and + are percent-encoded, as README says.
		if err := mustSMTP(t, "smtp://mailer:s3cret%2F%2Bpw@"+srv.Addr+"?tls=none").Send(ctx(t), m); err != nil {
			t.Fatal(err)
		}
		got := srv.Messages()
		if len(got) != 1 {
			t.Fatalf("server got %d messages, want 1", len(got))
		}
		check(t, got[0], m)
		if got[0].User != "mailer" {
			t.Errorf("authenticated user = %q, want mailer", got[0].User)
		}
	})

	t.Run("OKOpportunisticWithoutSTARTTLS", func(t *testing.T) {
		t.Parallel()
		// Without ?tls=…, a server that offers no STARTTLS still gets mail.
		srv := startServer(t, "127.0.0.1", "", "")
		if err := mustSMTP(t, "smtp://"+srv.Addr).Send(ctx(t), testMessage()); err != nil {
			t.Fatal(err)
		}
		if n := len(srv.Messages()); n != 1 {
			t.Fatalf("server got %d messages, want 1", n)
		}
	})

	t.Run("ErrWrongPassword", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, "127.0.0.1", "mailer", "right")
		err := mustSMTP(t, "smtp://mailer:wrong@"+srv.Addr+"?tls=none").Send(ctx(t), testMessage())
		if err == nil {
			t.Fatal("sent with a wrong password")
		}
		if strings.Contains(err.Error(), "wrong") {
			t.Errorf("error repeats the password: %v", err)
		}
		if srv.AuthAttempts() != 1 {
			t.Errorf("server saw %d AUTH attempts, want 1", srv.AuthAttempts())
		}
		if n := len(srv.Messages()); n != 0 {
			t.Fatalf("server got %d messages, want 0", n)
		}
	})

	t.Run("ErrNoCredentials", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, "127.0.0.1", "mailer", "right")
		if err := mustSMTP(t, "smtp://"+srv.Addr+"?tls=none").Send(ctx(t), testMessage()); err == nil {
			t.Fatal("a server requiring AUTH accepted mail without it")
		}
	})

	t.Run("ErrTLSRequiredButNotOffered", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, "127.0.0.1", "", "")
		if err := mustSMTP(t, "smtp://"+srv.Addr+"?tls=required").Send(ctx(t), testMessage()); err == nil {
			t.Fatal("sent in clear although tls=required")
		}
		if n := len(srv.Messages()); n != 0 {
			t.Fatalf("server got %d messages, want 0", n)
		}
	})

	t.Run("ErrPasswordInClearToRemoteHost", func(t *testing.T) {
		t.Parallel()
		// 127.0.0.2 is loopback on Linux but not a name go-mail treats as
		// localhost, so it stands in for a remote server without STARTTLS.
		srv := startServer(t, "127.0.0.2", "mailer", "right")
		if err := mustSMTP(t, "smtp://mailer:right@"+srv.Addr).Send(ctx(t), testMessage()); err == nil {
			t.Fatal("sent the password over an unencrypted connection to a non-local host")
		}
		if srv.AuthAttempts() != 0 {
			t.Fatalf("server saw %d AUTH attempts; the password crossed the wire in clear", srv.AuthAttempts())
		}
	})

	t.Run("ErrConnectionRefused", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		if err := mustSMTP(t, "smtp://"+addr+"?tls=none").Send(ctx(t), testMessage()); err == nil {
			t.Fatal("no error from a closed port")
		}
	})

	t.Run("SubjectLineBreaksFolded", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, "127.0.0.1", "", "")
		m := testMessage()
		m.Subject = "Welcome to Evil\r\nBcc: victim@example.com"
		if err := mustSMTP(t, "smtp://"+srv.Addr+"?tls=none").Send(ctx(t), m); err != nil {
			t.Fatal(err)
		}
		got := srv.Messages()
		if len(got) != 1 || len(got[0].To) != 1 {
			t.Fatalf("messages = %+v, want one to one recipient", got)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(got[0].Data))
		if err != nil {
			t.Fatal(err)
		}
		if msg.Header.Get("Bcc") != "" {
			t.Fatalf("a line break in the subject became a Bcc header")
		}
		if s := parse(t, got[0].Data).Subject; s != "Welcome to Evil Bcc: victim@example.com" {
			t.Errorf("Subject = %q", s)
		}
	})

	t.Run("ErrInvalidMessage", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, "127.0.0.1", "", "")
		s := mustSMTP(t, "smtp://"+srv.Addr+"?tls=none")
		for name, m := range map[string]email.Message{
			"NotAnAddress":   {To: "not an address", Subject: "Hi", Text: "x"},
			"NamedAddress":   {To: "Bob <bob@example.com>", Subject: "Hi", Text: "x"},
			"TwoAddresses":   {To: "a@example.com, b@example.com", Subject: "Hi", Text: "x"},
			"HeaderInjected": {To: "a@example.com\r\nBcc: b@example.com", Subject: "Hi", Text: "x"},
			"EmptySubject":   {To: "a@example.com", Subject: " \n ", Text: "x"},
			"EmptyBody":      {To: "a@example.com", Subject: "Hi", Text: "  "},
			"LongSubject":    {To: "a@example.com", Subject: strings.Repeat("é", 201), Text: "x"},
		} {
			if err := s.Send(ctx(t), m); err == nil {
				t.Errorf("%s: sent %+v", name, m)
			}
		}
		if n := len(srv.Messages()); n != 0 {
			t.Fatalf("server got %d messages, want 0", n)
		}
	})

	t.Run("ErrContextCanceled", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, "127.0.0.1", "", "")
		c, cancel := context.WithCancel(context.Background())
		cancel()
		err := mustSMTP(t, "smtp://"+srv.Addr+"?tls=none").Send(c, testMessage())
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

func TestNewSMTP(t *testing.T) {
	t.Parallel()

	t.Run("OK", func(t *testing.T) {
		for raw, want := range map[string]string{
			"smtp://mail.example.com":                         "smtp://mail.example.com:587",
			"smtp://user:pw@mail.example.com:2525":            "smtp://user@mail.example.com:2525",
			"smtp://user:pw@mail.example.com?tls=required":    "smtp://user@mail.example.com:587?tls=required",
			"smtps://user:pw@mail.example.com":                "smtps://user@mail.example.com:465",
			"smtps://user:pw@mail.example.com:4650/":          "smtps://user@mail.example.com:4650",
			"smtp://localhost:1025?tls=none":                  "smtp://localhost:1025?tls=none",
			"smtp://[::1]:25?tls=none":                        "smtp://[::1]:25?tls=none",
			" smtp://mail.example.com:25 ":                    "smtp://mail.example.com:25",
			"smtp://user%40example.com:pw@mail.example.com:1": "smtp://user%40example.com@mail.example.com:1",
		} {
			s, err := email.NewSMTP(raw, "no-reply@example.com")
			if err != nil {
				t.Errorf("NewSMTP(%q): %v", raw, err)
				continue
			}
			if got := fmt.Sprint(s); got != want {
				t.Errorf("NewSMTP(%q) = %s, want %s", raw, got, want)
			}
		}
	})

	t.Run("ErrMalformedURL", func(t *testing.T) {
		for _, raw := range []string{
			"",
			"mail.example.com:587",
			"http://mail.example.com",
			"smtp://",
			"smtp://:587",
			"smtp:mail.example.com",
			"smtp://mail.example.com:port",
			"smtp://mail.example.com:0",
			"smtp://mail.example.com:70000",
			"smtp://mail.example.com/path",
			"smtp://mail.example.com#frag",
			"smtp://mail.example.com?tls=maybe",
			"smtp://mail.example.com?tls=none&tls=required",
			"smtp://mail.example.com?ssl=true",
			"smtps://mail.example.com?tls=none",
			"smtp://user:secret%zz@mail.example.com",
			"smtp://user:secret@mail.example.com:99999",
		} {
			_, err := email.NewSMTP(raw, "no-reply@example.com")
			if err == nil {
				t.Errorf("NewSMTP(%q) accepted", raw)
				continue
			}
			msg := err.Error()
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("NewSMTP(%q): error is more than one line: %q", raw, msg)
			}
			if strings.Contains(msg, "secret") {
				t.Errorf("NewSMTP(%q): error repeats the password: %q", raw, msg)
			}
			if !strings.HasPrefix(msg, "email: SMTP_URL ") {
				t.Errorf("NewSMTP(%q): error %q does not name SMTP_URL", raw, msg)
			}
		}
	})

	t.Run("ErrMalformedFrom", func(t *testing.T) {
		for _, from := range []string{"", "Atrium", "Atrium <no-reply>", "a@b.c, d@e.f"} {
			_, err := email.NewSMTP("smtp://localhost:25?tls=none", from)
			if err == nil {
				t.Errorf("NewSMTP(…, %q) accepted", from)
			} else if !strings.HasPrefix(err.Error(), "email: SMTP_FROM ") {
				t.Errorf("NewSMTP(…, %q): error %q does not name SMTP_FROM", from, err)
			}
		}
	})
}
