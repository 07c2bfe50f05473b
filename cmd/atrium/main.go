// Command atrium is the Atrium server and its tools:
//
//	atrium serve                     serve the web application (DATABASE_URL)
//	atrium dev                       private PostgreSQL under .data/, migrations, demo data, serve (make run)
//	atrium migrate up|down|status    apply or inspect the schema (MIGRATION_DATABASE_URL)
//	atrium operator create --email … create an operator account for the console
//	atrium seed --tenants N …        add deterministic benchmark data
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: atrium <command> [flags]

commands:
  serve                      serve the web application (needs DATABASE_URL)
  dev                        run the demo: private PostgreSQL under .data/ (or DATABASE_URL),
                             migrations, demo data, server on ADDR (default :8080)
  migrate up|down|status     apply, roll back one, or list migrations
  operator create --email E  create a console operator (prompts for or generates a password)
  seed --tenants N [--members M --seed S --hot H --hot-members K --large L]  add deterministic bench data (owner role)

Configuration is read from environment variables; see README.md.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	// SIGINT and SIGTERM cancel ctx: servers drain, clusters stop.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "serve":
		err = runServe(ctx, args)
	case "dev":
		err = runDev(ctx, args)
	case "migrate":
		err = runMigrate(ctx, args)
	case "operator":
		err = runOperator(ctx, args)
	case "seed":
		err = runSeed(ctx, args)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "atrium: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "atrium:", err)
		os.Exit(1)
	}
}
