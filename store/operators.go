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

// FindOperatorByID queues the operator with that id into dst, for a system
// batch (ReadSystemBatch); an unknown id fails the batch with ENOTFOUND.
func (b *Batch) FindOperatorByID(id uuid.UUID, dst **Operator) {
	b.b.Queue(`SELECT id, email, name, password_hash, created_at FROM operators WHERE id = $1`, id).QueryRow(func(row pgx.Row) error {
		var o Operator
		if err := row.Scan(&o.ID, &o.Email, &o.Name, &o.PasswordHash, &o.CreatedAt); err != nil {
			return err
		}
		*dst = &o
		return nil
	})
}
