//go:build linux

package vtp

import (
	"io"
	"os"
	"syscall"
)

// watchSupported says whether watchDir can use inotify here.
const watchSupported = true

// watchDir asks inotify to tell when a file is renamed into dir or
// closed after writing, and sends a token on wake each time (and when
// inotify's queue overflows, since then events were lost: the spool's
// answer to every token is a full scan anyway). Closing the result stops
// it.
func watchDir(dir string, wake chan<- struct{}) (io.Closer, error) {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		return nil, os.NewSyscallError("inotify_init1", err)
	}
	if _, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_MOVED_TO|syscall.IN_CLOSE_WRITE|syscall.IN_ONLYDIR); err != nil {
		syscall.Close(fd)
		return nil, os.NewSyscallError("inotify_add_watch", err)
	}
	// A non-blocking descriptor goes to Go's poller, so Close wakes the
	// read below and the goroutine ends.
	f := os.NewFile(uintptr(fd), "inotify")
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, err := f.Read(buf); err != nil {
				return
			}
			select {
			case wake <- struct{}{}:
			default: // a scan is already due
			}
		}
	}()
	return f, nil
}
