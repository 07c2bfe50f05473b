package store

import (
	"context"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"
)

// Role names the schema is written for. The migrations grant to AppRole, so a
// production database needs a role of that name (or a login role that is a
// member of it) for the server, and a separate owner role for migrations.
const (
	OwnerRole = "atrium_owner"
	AppRole   = "atrium_app"
)

// Bootstrap prepares a fresh PostgreSQL server for Atrium, connecting as a
// superuser: it creates the owner role (which runs migrations and owns the
// schema), the app role (NOSUPERUSER NOBYPASSRLS, owns nothing) and the
// database owned by the owner. It is idempotent. Used by `make run`, the
// test harness and the benchmark, never by production servers.
func Bootstrap(ctx context.Context, superuserURL, dbName string) error {
	conn, err := pgx.Connect(ctx, superuserURL)
	if err != nil {
		return fmt.Errorf("store: bootstrap connect: %w", err)
	}
	defer conn.Close(ctx)
	if err := EnsureRoles(ctx, conn); err != nil {
		return err
	}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, dbName).Scan(&exists); err != nil {
		return fmt.Errorf("store: bootstrap: %w", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s OWNER %s`,
			pgx.Identifier{dbName}.Sanitize(), OwnerRole)); err != nil {
			return fmt.Errorf("store: bootstrap: create database: %w", err)
		}
	}
	return nil
}

// EnsureRoles creates the owner and app roles when missing, and (re)asserts
// the attributes that isolation depends on. Roles are cluster-wide, so
// concurrent callers serialize on an advisory lock. Each role's password is
// its name: these roles exist only on private dev and test servers (the
// cluster listens on a private unix socket), and a password lets a
// TEST_DATABASE_URL server with password authentication work too.
func EnsureRoles(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(72616)`); err != nil {
		return fmt.Errorf("store: bootstrap lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(72616)`)
	for _, stmt := range []string{
		fmt.Sprintf(`DO $$ BEGIN
			IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '%[1]s') THEN CREATE ROLE %[1]s LOGIN; END IF;
			IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '%[2]s') THEN CREATE ROLE %[2]s LOGIN; END IF;
		END $$`, OwnerRole, AppRole),
		fmt.Sprintf(`ALTER ROLE %[1]s NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD '%[1]s'`, OwnerRole),
		fmt.Sprintf(`ALTER ROLE %[1]s NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD '%[1]s'`, AppRole),
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("store: bootstrap roles: %w", err)
		}
	}
	return nil
}

// WithUser returns rawURL with its user and database replaced; the bootstrap
// callers derive the owner and app URLs from a superuser URL this way.
func WithUser(rawURL, user, dbName string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("store: parse url: %w", err)
	}
	if user == OwnerRole || user == AppRole {
		u.User = url.UserPassword(user, user)
	} else if pw, ok := u.User.Password(); ok && user == u.User.Username() {
		u.User = url.UserPassword(user, pw)
	} else {
		u.User = url.User(user)
	}
	u.Path = "/" + dbName
	return u.String(), nil
}
