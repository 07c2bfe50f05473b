// Command testdb runs a command with a private PostgreSQL cluster for the
// test suite: it creates a fresh cluster under .data/ (tuned for speed, not
// durability), exports TEST_DATABASE_URL as its superuser URL, runs the
// command, stops and deletes the cluster and exits with the command's status.
// `make test` uses it so that every test package of one run shares one
// server, while two runs never share (or stop) each other's.
//
//	go run ./cmd/testdb -- go test ./...
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/atrium-dev/atrium/store/pgcluster"
	"github.com/atrium-dev/atrium/store/storetest"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: testdb -- command [args…]")
		os.Exit(2)
	}
	os.Exit(run(args))
}

func run(args []string) int {
	if url := os.Getenv("TEST_DATABASE_URL"); url != "" {
		fmt.Fprintln(os.Stderr, "testdb: using TEST_DATABASE_URL")
		return runCommand(args)
	}
	if err := os.MkdirAll(".data", 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		return 1
	}
	dir, err := os.MkdirTemp(".data", "test-")
	if err == nil {
		dir, err = filepath.Abs(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	c, err := pgcluster.Start(context.Background(), pgcluster.Options{
		Dir: dir, Settings: storetest.FastSettings,
		Logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, "testdb: "+f+"\n", a...) },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		return 1
	}
	defer func() {
		if err := c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testdb: stop:", err)
		}
		os.RemoveAll(c.Dir()) // the real directory, when it had to move
	}()
	os.Setenv("TEST_DATABASE_URL", c.URL(pgcluster.SuperUser, "postgres"))
	return runCommand(args)
}

func runCommand(args []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The child gets Ctrl-C from the terminal itself; testdb only waits for
	// it to finish so the cluster is stopped afterwards.
	signal.Ignore(os.Interrupt, syscall.SIGTERM)
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		return 1
	}
	return 0
}
