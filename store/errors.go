package store

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/atrium-dev/atrium"
)

// conflictMessages turns unique constraints into sentences a user can act on.
var conflictMessages = map[string]string{
	"tenants_slug_key":            "That URL is already taken. Please choose another.",
	"users_email_key":             "An account with this email already exists.",
	"operators_email_key":         "An operator with this email already exists.",
	"memberships_tenant_user_key": "That person is already a member of this organization.",
	"invites_open_email_key":      "That address already has an open invitation. Resend it from the list instead.",
	"roles_name_key":              "A role with that name already exists.",
}

// translate maps PostgreSQL errors to application errors in one place: no
// rows becomes ENOTFOUND, a unique violation ECONFLICT, a check violation
// EINVALID; anything else stays internal. what names the operation for logs.
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &atrium.Error{Code: atrium.ENOTFOUND, Message: "Not found.", Err: fmt.Errorf("store: %s: %w", what, err)}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			msg, ok := conflictMessages[pgErr.ConstraintName]
			if !ok {
				msg = "That already exists."
			}
			return &atrium.Error{Code: atrium.ECONFLICT, Message: msg, Err: fmt.Errorf("store: %s: %w", what, err)}
		case "23503": // foreign_key_violation: something still refers to the row
			msg := "It is still in use."
			if pgErr.ConstraintName == "memberships_custom_role_fkey" {
				msg = "Members still hold this role. Give them another role first."
			}
			return &atrium.Error{Code: atrium.ECONFLICT, Message: msg, Err: fmt.Errorf("store: %s: %w", what, err)}
		case "23514", "22001", "22P02", "22021": // check violation, too long, invalid text or encoding
			return &atrium.Error{Code: atrium.EINVALID, Message: "Some of the values are not valid.", Err: fmt.Errorf("store: %s: %w", what, err)}
		case "42501": // insufficient_privilege, including an RLS WITH CHECK refusal
			return &atrium.Error{Code: atrium.ENOTFOUND, Message: "Not found.", Err: fmt.Errorf("store: %s: %w", what, err)}
		}
	}
	var appErr *atrium.Error
	if errors.As(err, &appErr) {
		return err
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

// isNoRows reports whether err means the query matched nothing.
func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// errNoRows marks a write that matched no row, translated to ENOTFOUND.
var errNoRows = pgx.ErrNoRows
