package email

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// smtpTimeout bounds one delivery: connecting, the SMTP conversation and
// the transfer of the message. A request that sends mail waits at most this
// long for a slow relay.
const smtpTimeout = 10 * time.Second

// smtpURLForms is the hint every malformed SMTP_URL error ends with.
const smtpURLForms = "use smtp://user:pass@host:port, smtps://user:pass@host:port or smtp://host:port?tls=none"

// SMTP delivers messages to a mail server (a relay or a provider's
// submission endpoint), one connection per message. It is safe for
// concurrent use: each Send builds its own client.
type SMTP struct {
	host     string
	port     int
	tls      string // "implicit" (smtps), "required", "opportunistic" or "none"
	user     string
	pass     string
	hasAuth  bool
	from     *mail.Address
	idDomain string // right-hand side of generated Message-IDs
}

// NewSMTP parses rawURL (SMTP_URL) and from (SMTP_FROM, such as
// "Atrium <no-reply@example.com>") without connecting anywhere, so that a
// malformed configuration fails at startup rather than at the first email.
//
// The forms are smtp://user:pass@host:port (STARTTLS when the server offers
// it; add ?tls=required to refuse a server that does not),
// smtps://user:pass@host:port (TLS from the first byte) and
// smtp://host:port?tls=none (a local relay or test server). The port
// defaults to 587 for smtp and 465 for smtps. Authentication happens only
// when the URL carries a user; the password is never sent over an
// unencrypted connection except to localhost.
//
// Errors are one line, start with "email: SMTP_URL" or "email: SMTP_FROM",
// and never repeat the password.
func NewSMTP(rawURL, from string) (*SMTP, error) {
	bad := func(reason string) error {
		return fmt.Errorf("email: SMTP_URL %s (%s)", reason, smtpURLForms)
	}
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		// url.Error quotes the whole URL, password included: say less.
		return nil, bad("is not a valid URL")
	}
	s := &SMTP{}
	var defaultPort int
	switch u.Scheme {
	case "smtp":
		defaultPort = 587
	case "smtps":
		defaultPort = 465
	default:
		return nil, bad("must start with smtp:// or smtps://")
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return nil, bad("has no host")
	}
	if u.Path != "" && u.Path != "/" {
		return nil, bad("must not have a path")
	}
	if u.Fragment != "" {
		return nil, bad("must not have a fragment")
	}
	s.host = u.Hostname()
	s.port = defaultPort
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, bad("has an invalid port")
		}
		s.port = n
	}

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, bad("has a malformed query")
	}
	for k := range q {
		if k != "tls" {
			return nil, bad("has an unknown parameter " + strconv.Quote(k) + ", only tls is known")
		}
	}
	mode := q.Get("tls")
	switch {
	case len(q["tls"]) > 1:
		return nil, bad("has tls more than once")
	case u.Scheme == "smtps" && (mode == "" || mode == "required"):
		s.tls = "implicit"
	case u.Scheme == "smtps":
		return nil, bad("with smtps:// takes no tls parameter other than required")
	case mode == "":
		s.tls = "opportunistic"
	case mode == "required" || mode == "none":
		s.tls = mode
	default:
		return nil, bad("has tls=" + strconv.Quote(mode) + ", not required or none")
	}

	if u.User != nil && u.User.Username() != "" {
		s.hasAuth = true
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}

	addr, err := mail.ParseAddress(strings.TrimSpace(from))
	if err != nil {
		return nil, fmt.Errorf("email: SMTP_FROM is not an address such as \"Atrium <no-reply@example.com>\"")
	}
	s.from = addr
	s.idDomain = addr.Address[strings.LastIndexByte(addr.Address, '@')+1:]
	return s, nil
}

// String describes the destination for logs, without the password.
func (s *SMTP) String() string {
	scheme := "smtp"
	if s.tls == "implicit" {
		scheme = "smtps"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(s.host, strconv.Itoa(s.port))}
	if s.hasAuth {
		u.User = url.User(s.user)
	}
	if s.tls == "required" || s.tls == "none" {
		u.RawQuery = "tls=" + s.tls
	}
	return u.String()
}

// Send delivers m as a text/plain UTF-8 message. The error wraps the
// server's or network's answer for the log; callers show the person a
// friendly message instead.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := s.build(m)
	if err != nil {
		return err
	}
	client, err := gomail.NewClient(s.host, s.options()...)
	if err != nil {
		return fmt.Errorf("email: smtp client for %s: %w", s, err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("email: send via %s: %w", s, err)
	}
	return nil
}

// options turns the parsed URL into go-mail client options.
func (s *SMTP) options() []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(smtpTimeout),
	}
	switch s.tls {
	case "implicit":
		opts = append(opts, gomail.WithSSL())
	case "required":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case "opportunistic":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.hasAuth {
		// PLAIN and LOGIN are what submission servers offer; go-mail's
		// versions refuse an unencrypted connection to anything but
		// localhost. Failing both, it picks the best mechanism offered.
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(s.user),
			gomail.WithPassword(s.pass),
		)
	}
	return opts
}

// build checks m and turns it into a go-mail message: From, To, Subject,
// Date, a Message-ID in the sender's domain, and a quoted-printable UTF-8
// text body, so long lines and accents survive any relay.
func (s *SMTP) build(m Message) (*gomail.Msg, error) {
	to, subject, err := check(m)
	if err != nil {
		return nil, err
	}
	msg := gomail.NewMsg(
		gomail.WithCharset(gomail.CharsetUTF8),
		gomail.WithEncoding(gomail.EncodingQP),
		gomail.WithNoDefaultUserAgent(),
	)
	msg.FromMailAddress(s.from)
	msg.ToMailAddress(to)
	msg.Subject(subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(rand.Text() + "@" + s.idDomain)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	return msg, nil
}

// Limits shared by both senders and by the outbox table's CHECKs.
const (
	maxAddress = 254
	maxSubject = 200
	maxText    = 100_000
)

// check validates a message the same way for every sender, so that a bug
// caught by SMTP in production is caught by the outbox in dev. It returns the
// parsed recipient and the subject folded onto one line (a subject may carry
// an organization's name, and a line break there must not become a header).
func check(m Message) (*mail.Address, string, error) {
	raw := strings.TrimSpace(m.To)
	to, err := mail.ParseAddress(raw)
	if err != nil || len(raw) > maxAddress || to.Address != raw {
		return nil, "", errors.New("email: recipient is not a bare email address")
	}
	subject := strings.Join(strings.Fields(m.Subject), " ")
	switch {
	case subject == "":
		return nil, "", errors.New("email: empty subject")
	case len([]rune(subject)) > maxSubject:
		return nil, "", fmt.Errorf("email: subject longer than %d characters", maxSubject)
	case strings.TrimSpace(m.Text) == "":
		return nil, "", errors.New("email: empty body")
	case len([]rune(m.Text)) > maxText:
		return nil, "", fmt.Errorf("email: body longer than %d characters", maxText)
	}
	return to, subject, nil
}
