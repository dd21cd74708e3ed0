package seen

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// openDir opens the store directory, creating it and any missing parents
// with mode 0700, and refuses it if it is unsafe:
//
//   - a symbolic link, even to a good directory: whoever can change the
//     link (or the directory holding it) could later point the store at
//     a directory of his choosing, so the real directory must be named;
//   - not a directory;
//   - on Unix, owned by another user or writable by group or others,
//     sticky bit or not (so /tmp itself is refused): another user could
//     then plant files or links in it, or take its lock first.
//
// The checks are made on the directory as opened, and the opened directory
// is confirmed to be the one examined by name, so it cannot be swapped in
// between. Only the last component of the path is checked; its parents
// are the operator's choice. Every file of the store is then opened through
// the returned Root (see openFile).
func openDir(dir string) (*os.Root, error) {
	clean := filepath.Clean(dir) // a trailing slash would make Lstat follow a link
	fi, err := os.Lstat(clean)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(clean, 0o700); err != nil {
			return nil, fmt.Errorf("seen: create store directory %s: %w", dir, err)
		}
		// Make the new directory's entry durable, or a power loss could
		// take it and every key recorded in it.
		if err := syncDir(filepath.Dir(clean)); err != nil {
			return nil, fmt.Errorf("seen: create store directory %s: %w", dir, err)
		}
		fi, err = os.Lstat(clean)
	}
	if err != nil {
		return nil, fmt.Errorf("seen: open store %s: %w", dir, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("seen: store directory %s is a symbolic link; it is refused because "+
			"whoever can change the link could move the store: give the directory it points to as --eventdb", dir)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("seen: open store %s: not a directory", dir)
	}
	root, err := os.OpenRoot(clean)
	if err != nil {
		return nil, fmt.Errorf("seen: open store %s: %w", dir, err)
	}
	opened, err := root.Stat(".")
	if err == nil && !os.SameFile(fi, opened) {
		err = fmt.Errorf("seen: store directory %s was replaced while it was being opened", dir)
	}
	if err == nil {
		err = checkDir(dir, opened)
	}
	if err != nil {
		root.Close()
		return nil, err
	}
	return root, nil
}

// openFile opens the store file name, creating it with mode 0600 if flag
// says so, without following a symbolic link. os.Root keeps every open
// inside the store directory, but it follows a link that stays inside
// (and ignores O_NOFOLLOW for the last component), so the name is also
// examined: before the open it must not be a link or anything but a
// regular file, and after it the name must still be the file opened. The
// callers never pass O_TRUNC, so even a link swapped in between the two
// checks is refused before anything is read or written through it.
func (s *Store) openFile(name string, flag int) (*os.File, error) {
	return openRegular(s.root, s.dir, name, flag)
}

// openRegular is Store.openFile for the store directory dir opened as root.
func openRegular(root *os.Root, dir, name string, flag int) (*os.File, error) {
	if fi, err := root.Lstat(name); err == nil && !fi.Mode().IsRegular() {
		return nil, notRegularIn(dir, name, fi)
	}
	f, err := root.OpenFile(name, flag, 0o600)
	if err != nil {
		if fi, lerr := root.Lstat(name); lerr == nil && !fi.Mode().IsRegular() {
			return nil, notRegularIn(dir, name, fi)
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		var named fs.FileInfo
		if named, err = root.Lstat(name); err == nil && !os.SameFile(fi, named) {
			err = notRegularIn(dir, name, named)
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// notRegular is the error, for callers to wrap, for a store file that is a
// link or not a file.
func (s *Store) notRegular(name string, fi fs.FileInfo) error { return notRegularIn(s.dir, name, fi) }

func notRegularIn(dir, name string, fi fs.FileInfo) error {
	p := filepath.Join(dir, name)
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link, which the store does not follow: remove it", p)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file: remove it", p)
	}
	return fmt.Errorf("%s was replaced while it was being opened", p)
}

// syncDir fsyncs the store directory so a file created or renamed in it
// survives a power loss.
func (s *Store) syncDir() error { return syncRoot(s.root) }

// syncRoot fsyncs the directory opened as root.
func syncRoot(root *os.Root) error {
	d, err := root.Open(".")
	if err != nil {
		return err
	}
	return syncClose(d)
}

// syncDir fsyncs the directory dir.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return syncClose(d)
}

func syncClose(d *os.File) error {
	err := d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
