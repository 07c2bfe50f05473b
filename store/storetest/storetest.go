// Package storetest gives each test its own PostgreSQL database, cloned from
// a migrated template, on a real server: TEST_DATABASE_URL (a superuser URL)
// when set — `make test` starts one private cluster for the whole run and sets
// it — or else a private cluster started for this test binary alone.
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atrium-dev/atrium/migrations"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/store/pgcluster"
)

// superuserURL is set once by Main before any test runs.
var superuserURL string

// Main runs a package's tests against a database server. Call it from
// TestMain. Without TEST_DATABASE_URL it starts a private cluster in a
// temporary directory and stops it afterwards.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	superuserURL = os.Getenv("TEST_DATABASE_URL")
	if superuserURL == "" {
		dir, err := os.MkdirTemp("", "atrium-test-pg-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "storetest:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, "storetest: TEST_DATABASE_URL is not set; starting a private PostgreSQL for this package (make test starts one for the whole run)")
		c, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: dir, Settings: FastSettings})
		if err != nil {
			fmt.Fprintln(os.Stderr, "storetest:", err)
			return 1
		}
		defer c.Stop()
		superuserURL = c.URL(pgcluster.SuperUser, "postgres")
	}
	return m.Run()
}

// FastSettings trade durability for speed; a test database is disposable.
var FastSettings = map[string]string{
	"fsync":              "off",
	"synchronous_commit": "off",
	"full_page_writes":   "off",
}

// DB is one test's database.
type DB struct {
	*store.DB        // pool as the app role, as the server connects
	Name      string // database name
	AppURL    string // URL as the app role
	OwnerURL  string // URL as the owner role, for catalog checks and fixtures
}

// OwnerConn connects as the owner role, for fixtures and checks the app
// role may not make; the caller closes it.
func (d *DB) OwnerConn(t testing.TB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), d.OwnerURL)
	if err != nil {
		t.Fatalf("storetest: connect as owner: %v", err)
	}
	return conn
}

// Server opens another pool on the same database, as a second server
// would, with an entry cache whose watcher runs until t ends. It returns
// once the cache is live.
func (d *DB) Server(t testing.TB) *store.DB {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db, err := store.Open(ctx, d.AppURL, store.Options{MaxConns: 8, ApplicationName: "atrium-test", EntryCache: 1000})
	if err != nil {
		cancel()
		t.Fatalf("storetest: open: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := db.WatchChanges(ctx, d.AppURL, func(string, ...any) {}); err != nil {
			t.Errorf("storetest: watch changes: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done; db.Close() })
	// The first probes may go out before the watcher listens.
	for i := 0; !db.EntryCacheStats().Live; i++ {
		if i == 100 {
			t.Fatal("storetest: the entry cache's watcher never heard its probe")
		}
		sctx, scancel := context.WithTimeout(ctx, 100*time.Millisecond)
		_ = db.SyncChanges(sctx)
		scancel()
	}
	return db
}

// Sync waits until db's entry cache has heard every change committed so
// far (store.DB.SyncChanges), as another server would: for tests that
// change rows behind its back.
func Sync(t testing.TB, db *store.DB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.SyncChanges(ctx); err != nil {
		t.Fatalf("storetest: sync changes: %v", err)
	}
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// New creates a fresh database for t from the migrated template and drops it
// when t ends.
func New(t testing.TB) *DB {
	t.Helper()
	if superuserURL == "" {
		t.Fatal("storetest: no database server; call storetest.Main(m) from TestMain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	templateOnce.Do(func() { templateName, templateErr = prepareTemplate(ctx) })
	if templateErr != nil {
		t.Fatalf("storetest: prepare template: %v", templateErr)
	}
	name := "atrium_test_" + randomHex(6)
	if err := superExec(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s OWNER %s`, name, templateName, store.OwnerRole)); err != nil {
		t.Fatalf("storetest: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := superExec(context.Background(), fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err != nil {
			t.Logf("storetest: drop database %s: %v", name, err)
		}
	})
	appURL, err := store.WithUser(superuserURL, store.AppRole, name)
	if err != nil {
		t.Fatal(err)
	}
	ownerURL, err := store.WithUser(superuserURL, store.OwnerRole, name)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, appURL, store.Options{MaxConns: 8, ApplicationName: "atrium-test"})
	if err != nil {
		t.Fatalf("storetest: open: %v", err)
	}
	t.Cleanup(db.Close)
	return &DB{DB: db, Name: name, AppURL: appURL, OwnerURL: ownerURL}
}

// prepareTemplate creates, once per server and migration set, a database
// with every migration applied. Its name carries a hash of the migrations,
// so a changed migration gets a fresh template.
func prepareTemplate(ctx context.Context) (string, error) {
	conn, err := pgx.Connect(ctx, superuserURL)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if err := store.EnsureRoles(ctx, conn); err != nil {
		return "", err
	}
	name := "atrium_template_" + migrationsHash()
	// Test binaries run in parallel; one creates the template, others wait.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(72617)`); err != nil {
		return "", err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(72617)`)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s OWNER %s`, name, store.OwnerRole)); err != nil {
		return "", err
	}
	ownerURL, err := store.WithUser(superuserURL, store.OwnerRole, name)
	if err != nil {
		return "", err
	}
	mig, err := store.NewMigrator(ownerURL, nil)
	if err != nil {
		return "", err
	}
	_, err = mig.Up(ctx)
	mig.Close()
	if err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s WITH IS_TEMPLATE true`, name)); err != nil {
		return "", err
	}
	return name, nil
}

// migrationsHash fingerprints the embedded migrations.
func migrationsHash() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func superExec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, superuserURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
