package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"strings"
)

// pidfile is a --pidfile this process wrote.
type pidfile struct{ path string }

// writePidfile writes this process's id to path. A file that names a live
// process is refused; one left by a process that has died is replaced,
// with a warning. Creating it with O_EXCL means two brokers starting at
// once cannot both succeed.
func writePidfile(path string, log *slog.Logger) (*pidfile, error) {
	for range 2 {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, err = fmt.Fprintf(f, "%d\n", os.Getpid())
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(path)
				return nil, fmt.Errorf("--pidfile: %w", err)
			}
			return &pidfile{path}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("--pidfile: %w", err)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--pidfile: %w", err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		// Our own id is stale too: a container's broker is often process 1 each time.
		if err == nil && pid > 0 && pid != os.Getpid() && alive(pid) {
			return nil, fmt.Errorf("--pidfile %s: comet is already running as process %d (stop it, or give another --pidfile)", path, pid)
		}
		log.Warn("replacing a stale pidfile", "pidfile", path, "content", strings.TrimSpace(string(raw)))
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("--pidfile: %w", err)
		}
	}
	return nil, fmt.Errorf("--pidfile %s: another process keeps creating it", path)
}

// remove deletes the pidfile if it still holds this process's id.
func (p *pidfile) remove() {
	if p == nil {
		return
	}
	raw, err := os.ReadFile(p.path)
	if err == nil && strings.TrimSpace(string(raw)) == strconv.Itoa(os.Getpid()) {
		os.Remove(p.path)
	}
}
