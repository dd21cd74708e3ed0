//go:build !unix

package seen

import (
	"errors"
	"os"
	"runtime"
)

var errLockHeld = errors.New("lock held")

// lockFile is unsupported off Unix: without a lock a second broker could
// corrupt the log, so refuse rather than run unprotected.
func lockFile(f *os.File) error {
	return errors.New("no file locking on " + runtime.GOOS)
}
