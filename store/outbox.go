package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// OutboxMessage is an email kept instead of sent, because the installation
// has no SMTP server configured. The outbox is system-wide: the console shows
// it to operators, and it holds no tenant_id.
type OutboxMessage struct {
	ID        int64
	CreatedAt time.Time
	To        string
	Subject   string
	Body      string
}

// CreateOutboxMessage stores one message.
func (s *SysTx) CreateOutboxMessage(ctx context.Context, to, subject, body string) (*OutboxMessage, error) {
	m := OutboxMessage{To: to, Subject: subject, Body: body}
	err := s.tx.QueryRow(ctx, `
		INSERT INTO outbox (to_email, subject, body) VALUES ($1, $2, $3)
		RETURNING id, created_at`, to, subject, body,
	).Scan(&m.ID, &m.CreatedAt)
	if err != nil {
		return nil, translate(err, "create outbox message")
	}
	return &m, nil
}

// FindOutboxMessages lists stored messages, newest first. limit is capped at
// 200 and defaults to 20.
func (s *SysTx) FindOutboxMessages(ctx context.Context, limit, offset int) ([]OutboxMessage, error) {
	if limit <= 0 || limit > 200 {
		limit = 20
	}
	if offset < 0 {
		offset = 0
	}
	rows, err := s.tx.Query(ctx, `
		SELECT id, created_at, to_email, subject, body FROM outbox
		ORDER BY id DESC
		LIMIT $1 OFFSET $2`, limit, offset)
	if err != nil {
		return nil, translate(err, "find outbox messages")
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OutboxMessage, error) {
		var m OutboxMessage
		err := r.Scan(&m.ID, &m.CreatedAt, &m.To, &m.Subject, &m.Body)
		return m, err
	})
	if err != nil {
		return nil, translate(err, "find outbox messages")
	}
	return list, nil
}

// CountOutboxMessages returns how many messages the outbox holds, for
// pagination.
func (s *SysTx) CountOutboxMessages(ctx context.Context) (int, error) {
	var n int
	if err := s.tx.QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&n); err != nil {
		return 0, translate(err, "count outbox messages")
	}
	return n, nil
}
