package apptest

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/atrium-dev/atrium/handlers/email"
)

// Mailbox is a real SMTP server, started for one test, that keeps what the
// application under test sends through its real SMTP sender, so tests read
// messages back exactly as a mail server received them.
type Mailbox struct {
	URL  string // smtp://127.0.0.1:port?tls=none, for email.NewSMTP
	mu   sync.Mutex
	msgs []email.Message
}

// NewMailbox starts the server; it stops when t ends.
func NewMailbox(t testing.TB) *Mailbox {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &Mailbox{URL: "smtp://" + ln.Addr().String() + "?tls=none"}
	srv := smtp.NewServer(backend{m})
	srv.Domain = "mail.atrium.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 1 << 20
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return m
}

type backend struct{ m *Mailbox }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{m: b.m}, nil }

type session struct {
	m  *Mailbox
	to []string
}

func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *session) Reset()        { s.to = nil }
func (s *session) Logout() error { return nil }

// Data parses the message as a mail client would: headers, MIME-decoded
// subject, quoted-printable body.
func (s *session) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return err
	}
	var body io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(msg.Body)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if len(s.to) == 0 {
		return errors.New("no recipient")
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	for _, to := range s.to {
		s.m.msgs = append(s.m.msgs, email.Message{To: to, Subject: subject, Text: string(bytes.ReplaceAll(text, []byte("\r\n"), []byte("\n")))})
	}
	return nil
}

// Last returns the newest message to addr, or false.
func (m *Mailbox) Last(addr string) (email.Message, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.msgs) - 1; i >= 0; i-- {
		if m.msgs[i].To == addr {
			return m.msgs[i], true
		}
	}
	return email.Message{}, false
}

var (
	linkPattern = regexp.MustCompile(`https?://\S+`)
	basePattern = regexp.MustCompile(`^https?://[^/]+`)
)

// Link returns the path of the first link in the newest message to addr,
// with the base URL (http://atrium.test) cut off, or "".
func (m *Mailbox) Link(addr string) string {
	msg, ok := m.Last(addr)
	if !ok {
		return ""
	}
	return basePattern.ReplaceAllString(linkPattern.FindString(msg.Text), "")
}
