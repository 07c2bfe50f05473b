package email

import (
	"context"
	"fmt"

	"github.com/atrium-dev/atrium/store"
)

// Outbox keeps messages in the outbox table instead of sending them, for an
// installation without SMTP_URL: a developer reads invitations and reset
// links on the console's outbox page (/console/outbox).
type Outbox struct {
	db *store.DB
}

// NewOutbox returns a sender that writes to db's outbox table.
func NewOutbox(db *store.DB) *Outbox {
	return &Outbox{db: db}
}

// Send stores m after the same checks SMTP makes, so that a message the
// outbox accepts in dev is one SMTP would accept in production.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	to, subject, err := check(m)
	if err != nil {
		return err
	}
	err = o.db.InSystem(ctx, func(tx *store.SysTx) error {
		_, err := tx.CreateOutboxMessage(ctx, to.Address, subject, m.Text)
		return err
	})
	if err != nil {
		return fmt.Errorf("email: outbox: %w", err)
	}
	return nil
}
