//go:build unix

package vtp

import (
	"fmt"
	"os"
	"syscall"
)

// checkSpoolPerm refuses a spool directory writable by every user: anyone
// on the host could then publish events in this broker's name. Group
// write is the way to let a bridge running as another user submit.
func checkSpoolPerm(dir string, fi os.FileInfo) error {
	if fi.Mode().Perm()&0o002 != 0 {
		return fmt.Errorf("spool %s is writable by every user (%v): anyone on this host could publish through it; "+
			"run chmod o-w %s (give a bridge running as another user group write instead)", dir, fi.Mode().Perm(), dir)
	}
	return nil
}

// openNoFollow opens name in dir for reading, without blocking on a
// FIFO. os.Root follows a link only to somewhere inside dir; the caller
// makes sure what was opened is what it looked at with Lstat.
func openNoFollow(dir *os.Root, name string) (*os.File, error) {
	return dir.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}
