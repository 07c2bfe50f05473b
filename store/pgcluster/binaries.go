package pgcluster

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
)

// serverPrograms are the executables a cluster needs; pg_ctl starts postgres
// from its own directory, so all three must live side by side.
var serverPrograms = []string{"initdb", "pg_ctl", "postgres"}

// FindBinaries locates the directory holding initdb, pg_ctl and postgres, so
// that a private cluster can be run from the machine's own PostgreSQL install
// without Docker or a download. It looks first at pg_ctl on PATH (resolving
// symlinks, because /usr/local/bin/pg_ctl is often a link into the versioned
// directory that also holds postgres), then at the highest version under
// /usr/lib/postgresql/*/bin, where Debian and Ubuntu keep them off PATH. The
// error, if none is found, is one line that says how to fix it.
func FindBinaries() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && hasServerPrograms(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(dir string) float64 {
		v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
		if err != nil {
			return -1
		}
		return v
	}
	sort.SliceStable(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, dir := range dirs {
		if hasServerPrograms(dir) {
			return dir, nil
		}
	}
	return "", errors.New("pgcluster: PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or under /usr/lib/postgresql/*/bin: install them (Debian: apt-get install postgresql) or set DATABASE_URL")
}

// hasServerPrograms reports whether dir holds executable initdb, pg_ctl and postgres.
func hasServerPrograms(dir string) bool {
	for _, name := range serverPrograms {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}
