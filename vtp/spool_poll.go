//go:build !linux

package vtp

import (
	"errors"
	"io"
)

// watchSupported says whether watchDir can use inotify here.
const watchSupported = false

// watchDir has no inotify here: the spool polls.
func watchDir(dir string, wake chan<- struct{}) (io.Closer, error) {
	return nil, errors.New("no inotify on this system")
}
