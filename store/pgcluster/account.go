package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// account is the unprivileged user that runs the server when we are root,
// because postgres refuses to run as root.
type account struct {
	uid, gid uint32
}

// serverAccount returns the account to run the server as: nil (ourselves)
// unless we are root, in which case it is the "postgres" user that Debian's
// package creates.
func serverAccount() (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New(`pgcluster: running as root, which PostgreSQL refuses, and there is no unprivileged "postgres" user to run it as: create one (useradd --system postgres) or run as a non-root user`)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("pgcluster: postgres user: %w", err)
	}
	return &account{uid: uint32(uid), gid: uint32(gid)}, nil
}

// credential returns the process credential for commands run as a, or nil
// for ourselves. Supplementary groups are cleared.
func (a *account) credential() *syscall.Credential {
	if a == nil {
		return nil
	}
	return &syscall.Credential{Uid: a.uid, Gid: a.gid}
}

// canTraverse reports whether a can enter dir and every one of its ancestors,
// judged by owner/group/other search bits (the server runs with only its
// primary group, so supplementary groups are not considered).
func (a *account) canTraverse(dir string) bool {
	if a == nil {
		return true
	}
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return false
		}
		st := fi.Sys().(*syscall.Stat_t)
		bit := fs.FileMode(0o001)
		switch {
		case st.Uid == a.uid:
			bit = 0o100
		case st.Gid == a.gid:
			bit = 0o010
		}
		if fi.Mode().Perm()&bit == 0 {
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}

// privateDir makes sure path is a directory (not a symlink) of mode 0700 owned
// by the server account, creating it if needed. A directory that already
// belongs to someone else is refused rather than taken over: in shared places
// such as /tmp it may have been planted to intercept the trust-auth socket.
func (a *account) privateDir(path string) error {
	if err := os.Mkdir(path, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("pgcluster: %w", err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("pgcluster: %s is not a directory", path)
	}
	uid := uint32(os.Geteuid())
	if owner := fi.Sys().(*syscall.Stat_t).Uid; owner != uid && (a == nil || owner != a.uid) {
		return fmt.Errorf("pgcluster: %s is owned by uid %d, not by the account that runs postgres: remove it or choose another directory", path, owner)
	}
	if a != nil {
		if err := os.Lchown(path, int(a.uid), int(a.gid)); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
	}
	if err := os.Chmod(path, 0o700); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return nil
}

// writeFile writes a file the server must read, owned by the server account.
func (a *account) writeFile(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if a != nil {
		if err := os.Chown(path, int(a.uid), int(a.gid)); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
	}
	return nil
}
