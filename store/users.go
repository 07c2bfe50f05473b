package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// User is a person with one login across all their organizations.
type User struct {
	ID           uuid.UUID
	Email        string
	Name         string
	PasswordHash string
	CreatedAt    time.Time
}

// Organization is one entry of a user's organizations: only what the login
// chooser needs to show.
type Organization struct {
	Slug string
	Name string
}

// FindUserByEmail returns the user with that (already normalized) email.
func (s *SysTx) FindUserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	err := s.tx.QueryRow(ctx, `
		SELECT id, email, name, password_hash, created_at FROM users WHERE email = $1`, email,
	).Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.CreatedAt)
	if err != nil {
		return nil, translate(err, "find user by email")
	}
	return &u, nil
}

// CreateUser adds a person. email must be normalized (lower case).
func (s *SysTx) CreateUser(ctx context.Context, email, name, passwordHash string) (*User, error) {
	u := User{Email: email, Name: name, PasswordHash: passwordHash}
	err := s.tx.QueryRow(ctx, `
		INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)
		RETURNING id, created_at`, email, name, passwordHash,
	).Scan(&u.ID, &u.CreatedAt)
	if err != nil {
		return nil, translate(err, "create user")
	}
	return &u, nil
}

// UserOrganizations returns the slugs and names of the user's live
// organizations, by name, as FindUserOrganizations does, for a signed-in
// user. The list is kept in the entry cache (when the DB has one) until the
// user joins an organization or one of those listed changes.
func (db *DB) UserOrganizations(ctx context.Context, userID uuid.UUID) ([]Organization, error) {
	if list, ok := db.entries.userOrgList(userID); ok {
		return list, nil
	}
	gen := db.entries.generation()
	var tenants []Tenant
	err := db.ReadSystem(ctx, func(tx *SysTx) (err error) {
		tenants, err = tx.userTenants(ctx, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	list, ids := make([]Organization, len(tenants)), make([]uuid.UUID, len(tenants))
	for i, t := range tenants {
		list[i], ids[i] = Organization{Slug: t.Slug, Name: t.Name}, t.ID
	}
	db.entries.keepUserOrgList(userID, gen, list, ids)
	return list, nil
}

// FindUserOrganizations returns the slugs and names of the user's live
// organizations through the one narrow cross-tenant function the schema
// offers. Call it only for a user whose password was just verified.
func (s *SysTx) FindUserOrganizations(ctx context.Context, userID uuid.UUID) ([]Organization, error) {
	rows, err := s.tx.Query(ctx, `SELECT slug, name FROM user_organizations($1)`, userID)
	if err != nil {
		return nil, translate(err, "find user organizations")
	}
	orgs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Organization])
	return orgs, translate(err, "find user organizations")
}
