package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/store/pgcluster"
)

// devDatabase is the name of the demo database in the private cluster.
const devDatabase = "atrium"

// databases returns the app and owner URLs: from DATABASE_URL and
// MIGRATION_DATABASE_URL when set, otherwise from the private cluster under
// DATA_DIR, which it starts (creating it, the roles and the database on
// first use). stop stops that cluster; it is a no-op for an external database.
func databases(ctx context.Context, cfg config, log *slog.Logger) (appURL, ownerURL string, stop func(), err error) {
	if cfg.DatabaseURL != "" {
		ownerURL = cfg.MigrationURL
		if ownerURL == "" {
			ownerURL = cfg.DatabaseURL
		}
		return cfg.DatabaseURL, ownerURL, func() {}, nil
	}
	if cfg.MigrationURL != "" {
		return "", cfg.MigrationURL, func() {}, nil
	}
	dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "postgres"))
	if err != nil {
		return "", "", nil, err
	}
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Logf: func(f string, a ...any) {
		log.Info(fmt.Sprintf(f, a...))
	}})
	if err != nil {
		return "", "", nil, err
	}
	stop = func() {
		if err := c.Stop(); err != nil {
			log.Error("stop postgres", "err", err)
		} else {
			log.Info("postgres stopped")
		}
	}
	super := c.URL(pgcluster.SuperUser, "postgres")
	if err := store.Bootstrap(ctx, super, devDatabase); err != nil {
		stop()
		return "", "", nil, err
	}
	appURL, err1 := store.WithUser(super, store.AppRole, devDatabase)
	ownerURL, err2 := store.WithUser(super, store.OwnerRole, devDatabase)
	if err := errors.Join(err1, err2); err != nil {
		stop()
		return "", "", nil, err
	}
	return appURL, ownerURL, stop, nil
}

// migrateUp applies pending migrations as the owner role.
func migrateUp(ctx context.Context, ownerURL string, log *slog.Logger) error {
	m, err := store.NewMigrator(ownerURL, nil)
	if err != nil {
		return err
	}
	defer m.Close()
	res, err := m.Up(ctx)
	for _, r := range res {
		log.Info("migrated", "version", r.Source.Version, "file", filepath.Base(r.Source.Path), "duration", r.Duration)
	}
	return err
}
