package seen

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"comet/internal/storedir"
)

// DefaultDir is the store directory to use when the operator names none:
// the first of $STATE_DIRECTORY, which systemd sets for a service with
// StateDirectory= (whose user often has no home); else /var/lib/comet
// when running as root (effective uid 0); else
// $XDG_STATE_HOME/comet if XDG_STATE_HOME is an absolute path (the XDG Base
// Directory specification says to ignore a relative one); else
// $HOME/.local/state/comet. Never a shared directory such as /tmp, where
// another user could create the store first. The error says that no home
// directory is known.
func DefaultDir() (string, error) { return defaultDir(os.Geteuid()) }

func defaultDir(euid int) (string, error) {
	if d, _, _ := strings.Cut(os.Getenv("STATE_DIRECTORY"), ":"); filepath.IsAbs(d) {
		return d, nil
	}
	if euid == 0 {
		return "/var/lib/comet", nil
	}
	if x := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "comet"), nil
	}
	home, err := os.UserHomeDir()
	if err == nil && !filepath.IsAbs(home) {
		err = fmt.Errorf("$HOME is %q, not an absolute path", home)
	}
	if err != nil {
		return "", fmt.Errorf("seen: no default store directory (%v): give one with --eventdb", err)
	}
	return filepath.Join(home, ".local", "state", "comet"), nil
}

// openFile opens the store file name through the directory's Root,
// creating it with mode 0600 if flag says so, without following a
// symbolic link (see [storedir.OpenFile]).
func (s *Store) openFile(name string, flag int) (*os.File, error) {
	return storedir.OpenFile(s.root, s.dir, name, flag)
}

// notRegular is the error, for callers to wrap, for a store file that is a
// link or not a file.
func (s *Store) notRegular(name string, fi fs.FileInfo) error {
	return storedir.NotRegular(s.dir, name, fi)
}

// syncDir fsyncs the store directory so a file created or renamed in it
// survives a power loss.
func (s *Store) syncDir() error { return storedir.SyncRoot(s.root) }
