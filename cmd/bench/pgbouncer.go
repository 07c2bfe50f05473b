package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atrium-dev/atrium/store"
)

// pgbouncerBinary finds Debian's pgbouncer, which lives in /usr/sbin (not on
// every user's PATH). The Makefile's bench target installs it when missing.
func pgbouncerBinary() (string, error) {
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/pgbouncer"); err == nil {
		return "/usr/sbin/pgbouncer", nil
	}
	return "", errors.New("pgbouncer is not installed (Debian: apt-get install pgbouncer; `make bench` does it)")
}

// pgbouncer is PgBouncer in transaction pooling mode between the server and
// the private cluster: a server connection is lent to a client for one
// transaction, so nothing may rely on session state.
type pgbouncer struct {
	proc *process
	port int
}

// startPgbouncer writes a configuration into dir and starts PgBouncer on a
// free port of 127.0.0.1, connecting to the cluster whose socket URL is
// clusterURL. PgBouncer refuses to run as root, so as root it runs as the
// postgres user, who owns the cluster (and dir, which is made for it).
func startPgbouncer(ctx context.Context, clusterURL, dir, logPath string) (*pgbouncer, error) {
	bin, err := pgbouncerBinary()
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(clusterURL)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cred, err := unprivileged()
	if err != nil {
		return nil, err
	}
	// The app role's password is its name (store.EnsureRoles); PgBouncer
	// checks it (md5 accepts a plain-text auth_file) and reaches PostgreSQL
	// over the unix socket, where the cluster trusts local users.
	ini := fmt.Sprintf(`[databases]
atrium = host=%s port=%s dbname=atrium

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = md5
auth_file = %s
pool_mode = transaction
default_pool_size = %d
max_client_conn = 500
ignore_startup_parameters = extra_float_digits
log_connections = 0
log_disconnections = 0
`, u.Query().Get("host"), u.Query().Get("port"), port, filepath.Join(dir, "userlist.txt"), pool)
	files := map[string]string{
		"pgbouncer.ini": ini,
		"userlist.txt":  fmt.Sprintf("%q %q\n", store.AppRole, store.AppRole),
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := chown(dir, cred); err != nil {
		return nil, err
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return nil, err
		}
		if err := chown(path, cred); err != nil {
			return nil, err
		}
	}

	p, err := startProcess("pgbouncer", logPath, nil, cred, bin, filepath.Join(dir, "pgbouncer.ini"))
	if err != nil {
		return nil, err
	}
	p.stopSignal = syscall.SIGINT // safe shutdown; SIGTERM exits with status 1
	b := &pgbouncer{proc: p, port: port}
	if err := b.wait(ctx); err != nil {
		_ = p.Stop(5 * time.Second)
		return nil, fmt.Errorf("pgbouncer: %w\n%s", err, p.logTail(10))
	}
	return b, nil
}

// URL returns the app role's URL through PgBouncer. pgx must not use named
// prepared statements there (PgBouncer 1.18 cannot follow them across
// transactions), hence default_query_exec_mode=exec.
func (b *pgbouncer) URL() string {
	return fmt.Sprintf("postgres://%[1]s:%[1]s@127.0.0.1:%d/atrium?sslmode=disable&default_query_exec_mode=exec",
		store.AppRole, b.port)
}

// wait polls until a query through PgBouncer succeeds.
func (b *pgbouncer) wait(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for {
		err := func() error {
			conn, err := pgx.Connect(ctx, b.URL())
			if err != nil {
				return err
			}
			defer conn.Close(context.WithoutCancel(ctx))
			return conn.Ping(ctx)
		}()
		if err == nil {
			return nil
		}
		if !b.proc.Alive() {
			return fmt.Errorf("exited: %v", b.proc.err)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop shuts PgBouncer down.
func (b *pgbouncer) Stop() error { return b.proc.Stop(10 * time.Second) }

// unprivileged returns the credential of the postgres user when we are root
// (found the way store/pgcluster finds the account that runs the cluster),
// and nil otherwise.
func unprivileged() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New(`running as root, which PgBouncer refuses, and there is no "postgres" user to run it as`)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("postgres user: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func chown(path string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	return os.Chown(path, int(cred.Uid), int(cred.Gid))
}
