package store

import (
	"context"
	"time"

	"github.com/google/uuid"
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

// FindOperatorByID returns the operator with that id.
func (s *SysTx) FindOperatorByID(ctx context.Context, id uuid.UUID) (*Operator, error) {
	var o Operator
	err := s.tx.QueryRow(ctx, `
		SELECT id, email, name, password_hash, created_at FROM operators WHERE id = $1`, id,
	).Scan(&o.ID, &o.Email, &o.Name, &o.PasswordHash, &o.CreatedAt)
	if err != nil {
		return nil, translate(err, "find operator by id")
	}
	return &o, nil
}
