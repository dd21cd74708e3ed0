//go:build unix

package storedir

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkDir refuses a store directory owned by another user than the
// effective one, or writable by its group or by others (the sticky bit
// does not make that safe: it stops others from removing our files, not
// from creating theirs, such as a link named like ours).
func checkDir(dir string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("seen: store directory %s: cannot tell its owner", dir)
	}
	if euid := os.Geteuid(); int(st.Uid) != euid {
		return fmt.Errorf("seen: store directory %s is owned by uid %d, not by this user (uid %d): "+
			"give this broker a directory of its own with --eventdb", dir, st.Uid, euid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("seen: store directory %s is writable by other users (%v): "+
			"run chmod 700 %s or choose another --eventdb", dir, fi.Mode(), dir)
	}
	return nil
}
