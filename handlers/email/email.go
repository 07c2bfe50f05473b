// Package email sends the messages Atrium writes to people: invitations,
// password resets and security notices. With SMTP_URL set they go out over
// SMTP; without it they land in an outbox table that the operator console
// shows, which is what a dev installation wants.
package email

import "context"

// Message is one plain-text email to one person.
type Message struct {
	To      string // address
	Subject string
	Text    string
}

// Sender delivers messages. Handlers depend on this interface only.
type Sender interface {
	Send(ctx context.Context, m Message) error
}
