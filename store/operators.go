package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Operator is a member of the company's staff who uses the console.
type Operator struct {
	ID           uuid.UUID
	Email        string
	Name         string
	PasswordHash string
	CreatedAt    time.Time
}

// CreateOperator adds an operator. email must be normalized.
func (s *SysTx) CreateOperator(ctx context.Context, email, name, passwordHash string) (*Operator, error) {
	o := Operator{Email: email, Name: name, PasswordHash: passwordHash}
	err := s.tx.QueryRow(ctx, `
		INSERT INTO operators (email, name, password_hash) VALUES ($1, $2, $3)
		RETURNING id, created_at`, email, name, passwordHash,
	).Scan(&o.ID, &o.CreatedAt)
	if err != nil {
		return nil, translate(err, "create operator")
	}
	return &o, nil
}

// FindOperatorByEmail returns the operator with that email.
func (s *SysTx) FindOperatorByEmail(ctx context.Context, email string) (*Operator, error) {
	var o Operator
	err := s.tx.QueryRow(ctx, `
		SELECT id, email, name, password_hash, created_at FROM operators WHERE email = $1`, email,
	).Scan(&o.ID, &o.Email, &o.Name, &o.PasswordHash, &o.CreatedAt)
	if err != nil {
		return nil, translate(err, "find operator by email")
	}
	return &o, nil
}

// ConsoleEntry is what EnterConsole read for one request to the console.
type ConsoleEntry struct {
	// Session is the data of the live console session the token names, nil
	// when there is none; UpdatedAt is when it was last written.
	Session   []byte
	UpdatedAt time.Time
	// Operator is who is signed in to that session: nil when nobody is, or
	// when they are no longer an operator.
	Operator *Operator
}

// EnterConsole reads, in one round trip, the console session of token with
// the operator signed in to it, and the system-wide reads load queues (nil
// for none). Those reads run before anyone is known to be signed in: the
// caller hands their results to a page only for an operator.
//
// A signed-in operator's entry is kept in the entry cache, as a member's
// is (see Enter); the next EnterConsole with the same session then sends
// only load's reads.
func (db *DB) EnterConsole(ctx context.Context, token string, load func(*Batch)) (*ConsoleEntry, error) {
	var hash []byte
	if token != "" {
		hash = hashToken(token)
		if e, ok := db.entries.getConsole(hash); ok {
			if load == nil {
				return e, nil
			}
			return e, db.ReadSystemBatch(ctx, load)
		}
	}
	gen := db.entries.generation()
	var e ConsoleEntry
	var expiry time.Time
	b := Batch{cache: db.entries, gen: gen}
	if token != "" {
		b.b.Queue(`
			SELECT s.data, s.updated_at, s.expiry, o.id, o.email, o.name
			FROM system_sessions s LEFT JOIN operators o ON o.id = s.operator_id
			WHERE s.namespace = $1 AND s.token_hash = $2 AND s.expiry > now()`,
			ConsoleNamespace, hash,
		).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var id *uuid.UUID
				var email, name *string
				if err := rows.Scan(&e.Session, &e.UpdatedAt, &expiry, &id, &email, &name); err != nil {
					return err
				}
				if id != nil {
					e.Operator = &Operator{ID: *id, Email: *email, Name: *name}
				}
			}
			return rows.Err()
		})
	}
	if load != nil {
		load(&b)
	}
	if b.b.Len() == 0 {
		return &e, nil
	}
	if err := db.pool.SendBatch(ctx, &b.b).Close(); err != nil {
		return &e, translate(err, "enter console")
	}
	db.entries.putConsole(hash, &e, expiry, gen)
	return &e, nil
}
