package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/atrium-dev/atrium/migrations"
)

// Migrator applies the embedded migrations. It must connect as the owner
// role: the app role may not create or alter tables.
type Migrator struct {
	db       *sql.DB
	provider *goose.Provider
}

// NewMigrator connects to ownerURL and prepares the embedded migrations.
// log may be nil to keep goose quiet.
func NewMigrator(ownerURL string, log *slog.Logger) (*Migrator, error) {
	db, err := sql.Open("pgx", ownerURL)
	if err != nil {
		return nil, fmt.Errorf("store: open migrations connection: %w", err)
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithSlog(log))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: load migrations: %w", err)
	}
	return &Migrator{db: db, provider: p}, nil
}

// Up applies every pending migration, each in its own transaction.
func (m *Migrator) Up(ctx context.Context) ([]*goose.MigrationResult, error) {
	res, err := m.provider.Up(ctx)
	if err != nil {
		return res, fmt.Errorf("store: migrate up: %w", err)
	}
	return res, nil
}

// Down rolls back the most recent migration.
func (m *Migrator) Down(ctx context.Context) (*goose.MigrationResult, error) {
	res, err := m.provider.Down(ctx)
	if err != nil {
		return res, fmt.Errorf("store: migrate down: %w", err)
	}
	return res, nil
}

// Status lists every migration and whether it has been applied.
func (m *Migrator) Status(ctx context.Context) ([]*goose.MigrationStatus, error) {
	st, err := m.provider.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migration status: %w", err)
	}
	return st, nil
}

// Close releases the connection.
func (m *Migrator) Close() error { return m.db.Close() }

// ensure the pgx database/sql driver is linked in for sql.Open("pgx", …).
var _ = stdlib.GetDefaultDriver
