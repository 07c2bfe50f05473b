// Package pgcluster runs a private PostgreSQL cluster from the machine's own
// server binaries, so that `make run` and `make test` need neither Docker nor
// a shared system database. The server listens only on a unix socket in a
// directory that only its owner can enter, which is what makes initdb's trust
// authentication acceptable.
package pgcluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// SuperUser is the bootstrap superuser name created by initdb ("postgres"),
// the role to connect as in order to create application roles and databases.
const SuperUser = "postgres"

// maxSocketPath is the longest unix socket path the kernel accepts
// (sizeof(sun_path) minus the terminating NUL).
const maxSocketPath = 107

// configFile is written into the data directory on every start and included
// from postgresql.conf, so that Options.Settings always take effect without
// clobbering postgresql.auto.conf, which belongs to ALTER SYSTEM.
const configFile = "atrium.conf"

// Options says where a cluster lives and how it is configured.
type Options struct {
	// Dir is the cluster directory, created if missing and dedicated to the
	// cluster: data lives in Dir/data, the log in Dir/postgres.log and the
	// socket in Dir (or a short directory under os.TempDir() if the socket
	// path would be too long for the kernel).
	Dir string
	// Port is used only for the socket file name (.s.PGSQL.<port>), since
	// the server listens on no TCP port; 0 means 5432.
	Port int
	// Logf, if set, receives progress messages; nil means silent.
	Logf func(format string, args ...any)
	// Settings are extra postgresql.conf settings, e.g. {"fsync": "off"}
	// for tests. They are applied when this call starts the server, not
	// when it reuses one that is already running.
	Settings map[string]string
}

// Cluster is a running private PostgreSQL server started (or found running)
// by Start.
type Cluster struct {
	bin      string   // directory holding initdb, pg_ctl and postgres
	dir      string   // real cluster directory (may differ from Options.Dir)
	data     string   // data directory
	sockDir  string   // unix socket directory
	lockPath string   // flock file serialising Start and Stop across processes
	port     int      // socket port number
	acct     *account // server account when we are root, else nil
	logf     func(format string, args ...any)
}

// Start initialises the cluster with initdb if Dir/data has no PG_VERSION,
// then starts it with pg_ctl, waiting until it accepts connections. If a
// postmaster is already running on that data directory (started by another
// test process, or left behind by a crashed one), Start reuses it instead of
// failing, so callers never have to care who started it. Start and Stop are
// serialised across processes with a lock file in Dir.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("pgcluster: Options.Dir is empty")
	}
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	acct, err := serverAccount()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err == nil {
		err = os.MkdirAll(dir, 0o755) // parents must stay reachable; privateDir locks Dir down
	}
	if err == nil {
		dir, err = filepath.EvalSymlinks(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	c := &Cluster{bin: bin, dir: dir, port: opts.Port, acct: acct, logf: opts.Logf,
		lockPath: filepath.Join(dir, ".lock")}
	if c.port == 0 {
		c.port = 5432
	}
	if c.logf == nil {
		c.logf = func(string, ...any) {}
	}

	unlock, err := lockFile(ctx, c.lockPath)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := c.prepareDirs(); err != nil {
		return nil, err
	}
	running, err := c.running(ctx)
	if err != nil {
		return nil, err
	}
	if running {
		c.logf("pgcluster: reusing PostgreSQL server already running in %s", c.dir)
	} else {
		if err := c.initdb(ctx); err != nil {
			return nil, err
		}
		if err := c.writeConfig(opts.Settings); err != nil {
			return nil, err
		}
		c.logf("pgcluster: starting PostgreSQL in %s (socket %s)", c.dir, c.sockDir)
		out, err := c.command(ctx, "pg_ctl", "start", "-w", "-t", "60", "-D", c.data, "-l", c.logPath()).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("pgcluster: pg_ctl start: %w: %s\n%s:\n%s", err, tail(out, 5), c.logPath(), c.logTail())
		}
	}
	if err := c.ping(ctx); err != nil {
		return nil, fmt.Errorf("pgcluster: server in %s does not answer: %w\n%s:\n%s", c.dir, err, c.logPath(), c.logTail())
	}
	return c, nil
}

// prepareDirs settles where the cluster and its socket live and makes those
// directories private to the server account. When we are root and the
// postgres user cannot reach Options.Dir (e.g. a checkout under /root), the
// cluster moves to /var/tmp and a "cluster" symlink in Dir points to it.
func (c *Cluster) prepareDirs() error {
	if c.acct.canTraverse(filepath.Dir(c.dir)) {
		if err := c.acct.privateDir(c.dir); err != nil {
			return err
		}
	} else {
		real := filepath.Join("/var/tmp", "atrium-pg-"+hash(c.dir, 16))
		if err := c.acct.privateDir(real); err != nil {
			return err
		}
		link := filepath.Join(c.dir, "cluster")
		if target, err := os.Readlink(link); err != nil || target != real {
			_ = os.Remove(link)
			if err := os.Symlink(real, link); err != nil {
				return fmt.Errorf("pgcluster: %w", err)
			}
		}
		c.logf("pgcluster: the postgres user cannot reach %s, so the cluster lives in %s (see %s)", c.dir, real, link)
		c.dir = real
	}
	c.data = filepath.Join(c.dir, "data")
	if err := c.acct.privateDir(c.data); err != nil {
		return err
	}
	c.sockDir = c.dir
	if len(c.socketPath()) > maxSocketPath {
		// Derived from the cluster directory, so every process finds it again.
		c.sockDir = filepath.Join(os.TempDir(), "atrium-pg-"+hash(c.dir, 8))
		if !c.acct.canTraverse(filepath.Dir(c.sockDir)) {
			return fmt.Errorf("pgcluster: the postgres user cannot reach %s: set TMPDIR to a world-searchable directory", os.TempDir())
		}
		if err := c.acct.privateDir(c.sockDir); err != nil {
			return err
		}
	}
	return nil
}

// initdb creates the data directory's contents unless they already exist.
func (c *Cluster) initdb(ctx context.Context) error {
	_, err := os.Stat(filepath.Join(c.data, "PG_VERSION"))
	if err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pgcluster: %w", err)
	}
	c.logf("pgcluster: initialising PostgreSQL cluster in %s", c.data)
	out, err := c.command(ctx, "initdb", "-D", c.data, "-U", SuperUser,
		"--auth=trust", "--encoding=UTF8", "--no-locale").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgcluster: initdb: %w: %s", err, tail(out, 10))
	}
	return nil
}

// writeConfig writes atrium.conf (socket-only listening, dev defaults and
// settings) and makes sure postgresql.conf includes it.
func (c *Cluster) writeConfig(settings map[string]string) error {
	all := map[string]string{
		"listen_addresses":        "",
		"port":                    strconv.Itoa(c.port),
		"unix_socket_directories": c.sockDir,
		"max_connections":         "200",
		"shared_buffers":          "128MB",
		// The data lives in memory (or on SSD), where a random read costs
		// about what a sequential one does; at the default 4 the planner
		// prefers scanning every user of a small database to fetching a
		// page's 50 by key (the members page, 100 tenants: 0.56 ms a
		// query instead of 0.08).
		"random_page_cost": "1.1",
	}
	maps.Copy(all, settings)
	var b strings.Builder
	b.WriteString("# Written by pgcluster on every start; change Options.Settings instead.\n")
	for _, k := range slices.Sorted(maps.Keys(all)) {
		fmt.Fprintf(&b, "%s = '%s'\n", k, strings.ReplaceAll(all[k], "'", "''"))
	}
	if err := c.acct.writeFile(filepath.Join(c.data, configFile), []byte(b.String())); err != nil {
		return err
	}
	mainConf := filepath.Join(c.data, "postgresql.conf")
	conf, err := os.ReadFile(mainConf)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	include := "include_if_exists = '" + configFile + "'\n"
	if strings.Contains(string(conf), include) {
		return nil
	}
	f, err := os.OpenFile(mainConf, os.O_WRONLY|os.O_APPEND, 0)
	if err == nil {
		_, err = f.WriteString("\n" + include)
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return nil
}

// Stop stops the server cleanly (pg_ctl stop -m fast), waiting until it has
// exited, because the server runs in its own process group and outlives its
// starter otherwise. Stopping a server that is not running is not an error,
// so Stop is safe to call twice, or on clusters sharing a directory.
func (c *Cluster) Stop() error {
	ctx := context.Background()
	unlock, err := lockFile(ctx, c.lockPath)
	if err != nil {
		return err
	}
	defer unlock()
	if running, err := c.running(ctx); err != nil || !running {
		return err
	}
	c.logf("pgcluster: stopping PostgreSQL in %s", c.dir)
	out, err := c.command(ctx, "pg_ctl", "stop", "-D", c.data, "-m", "fast", "-w", "-t", "60").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgcluster: pg_ctl stop: %w: %s", err, tail(out, 5))
	}
	return nil
}

// URL returns a libpq/pgx connection URL for the given role and database over
// the unix socket, e.g.
// "postgres://postgres@/postgres?host=%2Fpath%2Fto%2Fsocketdir&port=5432&sslmode=disable".
// TLS is disabled because the connection never leaves the machine.
func (c *Cluster) URL(user, database string) string {
	u := url.URL{
		Scheme: "postgres",
		User:   url.User(user),
		Path:   "/" + database,
		RawQuery: url.Values{
			"host":    {c.sockDir},
			"port":    {strconv.Itoa(c.port)},
			"sslmode": {"disable"},
		}.Encode(),
	}
	return u.String()
}

// Dir returns the directory that actually holds the cluster (data and
// postgres.log). It differs from Options.Dir when the cluster had to be
// moved to /var/tmp because the postgres user could not reach Options.Dir.
func (c *Cluster) Dir() string { return c.dir }

// running asks pg_ctl whether a postmaster is alive on the data directory;
// pg_ctl ignores a stale postmaster.pid whose process is gone.
func (c *Cluster) running(ctx context.Context) (bool, error) {
	out, err := c.command(ctx, "pg_ctl", "status", "-D", c.data).CombinedOutput()
	var exitErr *exec.ExitError
	switch {
	case err == nil && c.postmasterIsZombie():
		// Dead but unreaped (containers whose init does not reap): pg_ctl and
		// postgres both take it for a live server, so drop its lock files.
		c.logf("pgcluster: removing lock files of exited server in %s", c.data)
		for _, f := range []string{filepath.Join(c.data, "postmaster.pid"), c.socketPath() + ".lock"} {
			if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return false, fmt.Errorf("pgcluster: %w", err)
			}
		}
		return false, nil
	case err == nil:
		return true, nil
	case errors.As(err, &exitErr) && (exitErr.ExitCode() == 3 || exitErr.ExitCode() == 4):
		return false, nil // 3: not running; 4: no (initialised) data directory
	default:
		return false, fmt.Errorf("pgcluster: pg_ctl status: %w: %s", err, tail(out, 5))
	}
}

// postmasterIsZombie reports whether the process named in postmaster.pid has
// exited but not been reaped, which kill(pid, 0) cannot tell from a live one.
func (c *Cluster) postmasterIsZombie() bool {
	b, err := os.ReadFile(filepath.Join(c.data, "postmaster.pid"))
	if err != nil {
		return false
	}
	pid, _, _ := strings.Cut(string(b), "\n")
	stat, err := os.ReadFile("/proc/" + strings.TrimSpace(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	i := strings.LastIndexByte(string(stat), ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

// ping connects as the superuser and runs SELECT 1, retrying briefly in case
// a server someone else is starting is not ready yet.
func (c *Cluster) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for {
		err := c.selectOne(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Cluster) selectOne(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.URL(SuperUser, "postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var one int
	return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
}

// command prepares a server program run as the server account, in its own
// process group so that Ctrl-C in the terminal does not reach the postmaster,
// and without PG* variables (e.g. PGPORT) that would silently change it.
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.acct.credential()}
	return cmd
}

func (c *Cluster) socketPath() string {
	return filepath.Join(c.sockDir, ".s.PGSQL."+strconv.Itoa(c.port))
}

func (c *Cluster) logPath() string { return filepath.Join(c.dir, "postgres.log") }

// logTail returns the last lines of postgres.log, which say why a start failed.
func (c *Cluster) logTail() string {
	b, err := os.ReadFile(c.logPath())
	if err != nil {
		return err.Error()
	}
	return tail(b, 20)
}

// lockFile takes an exclusive flock on path, polling so that ctx can cancel
// the wait; the returned function releases it.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("pgcluster: lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("pgcluster: waiting for lock %s: %w", path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// hash returns the first n hex digits of sha256(s).
func hash(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:n]
}

// tail returns the last n lines of b.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
