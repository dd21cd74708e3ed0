//go:build unix

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func readPid(t *testing.T, path string) int {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatalf("pidfile holds %q", raw)
	}
	return pid
}

// TestPidfile: written at start, a second broker refused while the first
// runs, removed at exit.
func TestPidfile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidPath := filepath.Join(dir, "comet.pid")
	p := startBare(t, logfileArgs(dir, "--pidfile="+pidPath)...)
	p.waitLog(t, `msg="comet started"`)
	if pid := readPid(t, pidPath); pid != p.cmd.Process.Pid {
		t.Fatalf("pidfile holds %d, want %d", pid, p.cmd.Process.Pid)
	}

	second := startBare(t, logfileArgs(filepath.Join(dir, "second"), "--pidfile="+pidPath)...)
	if code := second.waitExit(t); code != 1 {
		t.Errorf("second broker: exit %d, want 1", code)
	}
	msg := second.stderr.String()
	if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "already running as process "+strconv.Itoa(p.cmd.Process.Pid)) {
		t.Errorf("second broker's error: %q", msg)
	}
	if pid := readPid(t, pidPath); pid != p.cmd.Process.Pid {
		t.Errorf("refused broker changed the pidfile to %d", pid)
	}

	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.waitExit(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if _, err := os.Stat(pidPath); !os.IsNotExist(err) {
		t.Errorf("pidfile left behind: %v", err)
	}
}

// TestPidfileStale replaces a pidfile naming a process that has exited.
func TestPidfileStale(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidPath := filepath.Join(dir, "comet.pid")
	dead := exec.Command(os.Args[0], "-test.run=^$")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(pidPath, []byte(strconv.Itoa(dead.Process.Pid)+"\n"), 0o644)
	p := startBare(t, logfileArgs(dir, "--pidfile="+pidPath)...)
	p.waitLog(t, `msg="comet started"`)
	if !strings.Contains(p.stderr.String(), `level=WARN msg="replacing a stale pidfile"`) {
		t.Errorf("no warning:\n%s", p.stderr)
	}
	if pid := readPid(t, pidPath); pid != p.cmd.Process.Pid {
		t.Errorf("pidfile holds %d, want %d", pid, p.cmd.Process.Pid)
	}
}

// TestPidfileOwnOrGarbage: a pidfile holding this process's own id (a
// container's broker is process 1 at every start) or no number at all is
// stale.
func TestPidfileOwnOrGarbage(t *testing.T) {
	for _, content := range []string{strconv.Itoa(os.Getpid()), "not a pid", ""} {
		path := filepath.Join(t.TempDir(), "comet.pid")
		os.WriteFile(path, []byte(content), 0o644)
		var logged bytes.Buffer
		pf, err := writePidfile(path, newLogger(&logged, "text", 0))
		if err != nil {
			t.Fatalf("%q: %v", content, err)
		}
		if !strings.Contains(logged.String(), "replacing a stale pidfile") || readPid(t, path) != os.Getpid() {
			t.Errorf("%q: log %q", content, logged.String())
		}
		pf.remove()
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%q: not removed: %v", content, err)
		}
	}
}
