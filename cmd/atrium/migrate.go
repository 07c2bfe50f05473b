package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/atrium-dev/atrium/store"
)

// runMigrate handles "atrium migrate up|down|status". It connects as the
// owner role: MIGRATION_DATABASE_URL, else DATABASE_URL, else the private
// cluster of `make run`.
func runMigrate(ctx context.Context, args []string) error {
	if len(args) != 1 || (args[0] != "up" && args[0] != "down" && args[0] != "status") {
		return errors.New("usage: atrium migrate up|down|status")
	}
	cfg, err := loadConfig(true)
	if err != nil {
		return err
	}
	log := newLogger(cfg)
	_, ownerURL, stop, err := databases(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stop()
	switch args[0] {
	case "up":
		return migrateUp(ctx, ownerURL, log)
	case "down":
		m, err := store.NewMigrator(ownerURL, nil)
		if err != nil {
			return err
		}
		defer m.Close()
		r, err := m.Down(ctx)
		if r != nil {
			fmt.Printf("rolled back %d %s\n", r.Source.Version, filepath.Base(r.Source.Path))
		}
		return err
	default:
		m, err := store.NewMigrator(ownerURL, nil)
		if err != nil {
			return err
		}
		defer m.Close()
		st, err := m.Status(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("%-8s %-10s %s\n", "VERSION", "STATE", "FILE")
		for _, s := range st {
			state := "pending"
			if s.State == "applied" {
				state = "applied " + s.AppliedAt.Format("2006-01-02 15:04")
			}
			fmt.Printf("%-8d %-10s %s\n", s.Source.Version, state, filepath.Base(s.Source.Path))
		}
		return nil
	}
}
