package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/atrium-dev/atrium/handlers/auth"
	"github.com/atrium-dev/atrium/handlers/auth/password"
	"github.com/atrium-dev/atrium/store"
)

// runOperator handles "atrium operator create --email …": it prompts for a
// password on a terminal, reads one line with --password-stdin, or else
// generates one and prints it once.
func runOperator(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: atrium operator create --email E [--name N] [--password-stdin]")
	}
	fs := flag.NewFlagSet("operator create", flag.ContinueOnError)
	email := fs.String("email", "", "operator's email address (required)")
	name := fs.String("name", "", "operator's name (default: the part of the email before @)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	e := auth.NormalizeEmail(*email)
	if msg := auth.ValidateEmail(e); msg != "" {
		return fmt.Errorf("--email: %s", msg)
	}
	if *name == "" {
		*name, _, _ = strings.Cut(e, "@")
	}
	if msg := auth.ValidateName(*name, "a name"); msg != "" {
		return fmt.Errorf("--name: %s", msg)
	}
	pw, generated, err := operatorPassword(*fromStdin)
	if err != nil {
		return err
	}
	hash, err := password.New(password.Default).Hash(pw)
	if err != nil {
		return err
	}

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
	db, err := store.Open(ctx, appURL, store.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.InSystem(ctx, func(tx *store.SysTx) error {
		_, err := tx.CreateOperator(ctx, e, *name, hash)
		return err
	}); err != nil {
		return err
	}
	fmt.Printf("Operator %s created.\n", e)
	if generated {
		fmt.Printf("Password (shown once): %s\n", pw)
	}
	return nil
}

func operatorPassword(fromStdin bool) (pw string, generated bool, err error) {
	switch {
	case fromStdin:
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", false, fmt.Errorf("read password from stdin: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	case term.IsTerminal(int(os.Stdin.Fd())):
		fmt.Fprint(os.Stderr, "Password (empty to generate one): ")
		b, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", false, err
		}
		if len(b) == 0 {
			break
		}
		fmt.Fprint(os.Stderr, "Repeat password: ")
		b2, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", false, err
		}
		if string(b) != string(b2) {
			return "", false, errors.New("the passwords do not match")
		}
		pw = string(b)
	}
	if pw == "" {
		return rand.Text(), true, nil
	}
	if msg := auth.ValidatePassword(pw); msg != "" {
		return "", false, errors.New("password: " + msg)
	}
	return pw, false, nil
}
