//go:build unix

package seen

import (
	"errors"
	"os"
	"syscall"
)

var errLockHeld = errors.New("lock held")

// lockFile takes an exclusive flock(2) on f, the store's lock file. flock
// rather than an O_EXCL lock file because the kernel releases it when the
// owner dies, so a crash never leaves a stale lock to remove by hand; and
// it conflicts between two opens in one process too. Go opens files
// close-on-exec, so programs the broker runs do not inherit it.
func lockFile(f *os.File) error {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return errLockHeld
		}
		return &os.PathError{Op: "flock", Path: f.Name(), Err: err}
	}
	return nil
}
