package apptest

import (
	"context"
	"regexp"
	"sync"

	"github.com/atrium-dev/atrium/handlers/email"
)

// Mailbox receives what the application under test sends.
type Mailbox struct {
	mu   sync.Mutex
	msgs []email.Message
}

// Send keeps the message.
func (m *Mailbox) Send(_ context.Context, msg email.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
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

var linkPattern = regexp.MustCompile(`https?://\S+`)

// Link returns the path of the first link in the newest message to addr,
// with the base URL (http://atrium.test) cut off, or "".
func (m *Mailbox) Link(addr string) string {
	msg, ok := m.Last(addr)
	if !ok {
		return ""
	}
	l := linkPattern.FindString(msg.Text)
	return regexp.MustCompile(`^https?://[^/]+`).ReplaceAllString(l, "")
}
