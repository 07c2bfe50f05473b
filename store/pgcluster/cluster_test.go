package pgcluster

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// testDir returns a fresh cluster directory. When running as root it opens up
// the test's own temporary directories (0700 root by default) so that the
// postgres user can reach it and the cluster stays in place.
func testDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	return filepath.Join(dir, "pg")
}

// start starts a cluster for a test and makes sure it is stopped afterwards.
func start(t *testing.T, dir string) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{Dir: dir, Logf: t.Logf, Settings: map[string]string{"fsync": "off"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
}

func connect(t *testing.T, c *Cluster) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), c.URL(SuperUser, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func isRunning(t *testing.T, c *Cluster) bool {
	t.Helper()
	running, err := c.running(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return running
}

func TestFindBinaries(t *testing.T) {
	dir, err := FindBinaries()
	if err != nil {
		t.Skip(err)
	}
	for _, name := range serverPrograms {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("FindBinaries() = %q, but %v", dir, err)
		}
	}
	if !filepath.IsAbs(dir) {
		t.Errorf("FindBinaries() = %q, want an absolute path", dir)
	}

	// Without PATH it must fall back to /usr/lib/postgresql/*/bin, or fail
	// with a one-line message.
	t.Setenv("PATH", "")
	dir, err = FindBinaries()
	if err != nil {
		if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "install") {
			t.Errorf("error is not one helpful line: %q", err)
		}
	} else if !strings.HasPrefix(dir, "/usr/lib/postgresql/") {
		t.Errorf("FindBinaries() without PATH = %q", dir)
	}
}

func TestStartStopPersists(t *testing.T) {
	t.Parallel()
	dir := testDir(t)
	c := start(t, dir)
	if c.Dir() != dir {
		t.Errorf("Dir() = %q, want %q", c.Dir(), dir)
	}
	if fi, err := os.Stat(c.sockDir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket dir %s: %v, %v; want mode 0700", c.sockDir, fi.Mode(), err)
	}
	conn := connect(t, c)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('hello')"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if isRunning(t, c) {
		t.Fatal("server still running after Stop")
	}

	c = start(t, dir)
	var v string
	if err := connect(t, c).QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != "hello" {
		t.Fatalf("after restart: %q, %v", v, err)
	}
	var fsync string
	if err := connect(t, c).QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil || fsync != "off" {
		t.Errorf("fsync = %q, %v; want off", fsync, err)
	}
}

func TestConcurrentStart(t *testing.T) {
	t.Parallel()
	dir := testDir(t)
	var clusters [2]*Cluster
	var errs [2]error
	var wg sync.WaitGroup
	for i := range clusters {
		wg.Go(func() {
			clusters[i], errs[i] = Start(context.Background(), Options{Dir: dir, Logf: t.Logf})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Start %d: %v", i, err)
		}
	}
	t.Cleanup(func() { clusters[1].Stop() })
	for _, c := range clusters {
		var one int
		if err := connect(t, c).QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil {
			t.Fatal(err)
		}
	}
	if err := clusters[0].Stop(); err != nil {
		t.Fatal(err)
	}
	if isRunning(t, clusters[1]) {
		t.Fatal("server still running after one Stop")
	}
	if err := clusters[1].Stop(); err != nil {
		t.Fatalf("Stop of the already stopped server: %v", err)
	}
}

func TestStalePidFile(t *testing.T) {
	t.Parallel()
	dir := testDir(t)
	c := start(t, dir)
	pidFile := filepath.Join(c.data, "postmaster.pid")
	pid, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	// Pretend the postmaster crashed: its pid file names a process that is gone.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(pid), "\n", 2)
	stale := strconv.Itoa(dead.Process.Pid) + "\n" + lines[1]
	if err := c.acct.writeFile(pidFile, []byte(stale)); err != nil {
		t.Fatal(err)
	}
	start(t, dir)
}

// TestUnreachableDir checks that, as root, a Dir the postgres user cannot
// reach (t.TempDir is 0700 root) is relocated to /var/tmp behind a symlink.
func TestUnreachableDir(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("only root has to relocate the cluster")
	}
	dir := filepath.Join(t.TempDir(), "pg")
	var c *Cluster
	t.Cleanup(func() { // registered first so that it runs after Stop
		if c != nil && c.Dir() != dir {
			os.RemoveAll(c.Dir())
		}
	})
	c = start(t, dir)
	if !strings.HasPrefix(c.Dir(), "/var/tmp/atrium-pg-") {
		t.Fatalf("Dir() = %q, want it relocated under /var/tmp", c.Dir())
	}
	if target, err := os.Readlink(filepath.Join(dir, "cluster")); err != nil || target != c.Dir() {
		t.Errorf("cluster symlink = %q, %v; want %q", target, err, c.Dir())
	}
	var one int
	if err := connect(t, c).QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
}

// TestLongSocketPath checks that a Dir whose socket path would exceed the
// kernel limit gets a short, private socket directory under os.TempDir().
func TestLongSocketPath(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(testDir(t), strings.Repeat("d", 60), strings.Repeat("e", 60))
	var c *Cluster
	t.Cleanup(func() { // registered first so that it runs after Stop
		if c != nil {
			os.RemoveAll(c.sockDir)
		}
	})
	c = start(t, dir)
	if c.sockDir == c.Dir() || len(c.socketPath()) > maxSocketPath {
		t.Errorf("socket path %q not shortened", c.socketPath())
	}
	if fi, err := os.Lstat(c.sockDir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket dir %s: %v; want mode 0700", c.sockDir, err)
	}
	var one int
	if err := connect(t, c).QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
}

// TestCrashedServer kills the server with SIGKILL, as a crash or the OOM
// killer would, and checks that Start recovers. Where init is slow to reap
// orphans (containers) the dead postmaster lingers as a zombie, which pg_ctl
// takes for a live server.
func TestCrashedServer(t *testing.T) {
	t.Parallel()
	dir := testDir(t)
	c := start(t, dir)
	b, err := os.ReadFile(filepath.Join(c.data, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	pgid, err := syscall.Getpgid(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // let the kernel finish the killed backends
	c = start(t, dir)
	var one int
	if err := connect(t, c).QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
}
