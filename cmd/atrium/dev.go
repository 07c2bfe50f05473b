package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/atrium-dev/atrium/handlers/auth/password"
	"github.com/atrium-dev/atrium/store"
)

// runDev handles "atrium dev", which `make run` calls: a private PostgreSQL
// under DATA_DIR (unless DATABASE_URL is set), migrations, the demo data
// (once), and the server. Ctrl-C stops the server, then the cluster.
func runDev(ctx context.Context, args []string) error {
	cfg, err := loadConfig(true)
	if err != nil {
		return err
	}
	log := newLogger(cfg)
	appURL, ownerURL, stop, err := databases(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stop()
	if err := migrateUp(ctx, ownerURL, log); err != nil {
		return err
	}
	db, err := store.Open(ctx, appURL, store.Options{MaxConns: cfg.MaxConns, EntryCache: cfg.EntryCache})
	if err != nil {
		return err
	}
	defer db.Close()
	seeded, err := seedDemo(ctx, db, password.New(password.Default))
	if err != nil {
		return err
	}
	if seeded {
		log.Info("demo data created")
	}
	return serve(ctx, cfg, log, db, appURL, func(addr string) {
		fmt.Print(banner(addr))
	})
}

func banner(addr string) string {
	host := addr
	if strings.HasPrefix(host, "[::]:") || strings.HasPrefix(host, "0.0.0.0:") {
		host = "localhost" + host[strings.LastIndex(host, ":"):]
	}
	base := "http://" + host
	var b strings.Builder
	fmt.Fprintf(&b, "\n  Atrium is running at %s  (Ctrl-C stops it)\n\n", base)
	fmt.Fprintf(&b, "  Operator console  %s/console/\n", base)
	fmt.Fprintf(&b, "                    %s / %s\n\n", demoOperator.Email, demoOperator.Password)
	for _, org := range demoOrgs {
		fmt.Fprintf(&b, "  %-17s %s/o/%s/\n", org.Name, base, org.Slug)
		for _, m := range org.Members {
			fmt.Fprintf(&b, "    %-8s %s / %s\n", m.Role, m.Email, demoPassword)
		}
	}
	fmt.Fprintf(&b, "\n  Sign up a new organization at %s/signup\n\n", base)
	return b.String()
}
