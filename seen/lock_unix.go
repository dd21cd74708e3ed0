//go:build unix

package seen

import (
	"errors"
	"os"
	"syscall"
)

var errLockHeld = errors.New("lock held")

// lockFile opens path and takes an exclusive flock(2) on it. flock rather
// than an O_EXCL lock file because the kernel releases it when the owner
// dies, so a crash never leaves a stale lock to remove by hand; and it
// conflicts between two opens in one process too. Go opens files
// close-on-exec, so programs the broker runs do not inherit it.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLockHeld
		}
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	return f, nil
}
