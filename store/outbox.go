package store

import (
	"context"
	"fmt"
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
	s.ch.outbox = true
	return &m, nil
}

// FindOutboxMessages queues a page of stored messages, newest first, into
// list, and how many the outbox holds into total, for a system batch
// (EnterConsole or ReadSystemBatch). limit is capped at 200 and defaults
// to 20. The page is kept in the entry cache until the outbox changes
// (migration 00022).
func (b *Batch) FindOutboxMessages(limit, offset int, list *[]OutboxMessage, total *int) {
	if limit <= 0 || limit > 200 {
		limit = 20
	}
	key := outboxPage{limit: limit, offset: offset}
	if p, ok := b.cache.outboxPage(key); ok {
		*list, *total = p.list, p.total
		return
	}
	b.b.Queue(`SELECT count(*) FROM outbox`).QueryRow(func(row pgx.Row) error { return row.Scan(total) })
	// The limit is written into the statement and the first page has no
	// offset, so each is planned for what it reads (see FindTenants).
	sql := fmt.Sprintf(`SELECT id, created_at, to_email, subject, body FROM outbox ORDER BY id DESC LIMIT %d`, limit)
	var args []any
	if offset > 0 {
		sql += ` OFFSET $1`
		args = append(args, offset)
	}
	cache, gen := b.cache, b.gen
	b.b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		var err error
		*list, err = collectPage(rows, limit, func(m *OutboxMessage) []any {
			return []any{&m.ID, &m.CreatedAt, &m.To, &m.Subject, &m.Body}
		})
		if err == nil { // the count, queued first, is in
			cache.keepOutboxPage(key, gen, keptOutbox{list: *list, total: *total})
		}
		return err
	})
}
