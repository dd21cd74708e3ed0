package vtp

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
)

// checkSpoolDir makes sure dir can serve as a spool: it is created (mode
// 0700, for the broker's user alone) if it does not exist, and must be a
// directory that not every user may write to. The operator who wants
// another user, such as a Kafka bridge, to submit creates it with group
// write for a group both share.
func checkSpoolDir(dir string, log *slog.Logger) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		log.Info("spool directory created", "dir", dir, "mode", "0700")
		fi, err = os.Stat(dir)
	}
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("spool %s is not a directory", dir)
	}
	return checkSpoolPerm(dir, fi)
}
