//go:build unix

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func logfileArgs(dir string, more ...string) []string {
	return append([]string{"--receive=tcp:0:interface=127.0.0.1", "--local-ivo=ivo://example.org/log",
		"--broadcast-test-interval=0", "--eventdb=" + filepath.Join(dir, "db")}, more...)
}

// TestLogfileReopenedOnSIGHUP rotates the log as logrotate does: the file
// is renamed, SIGHUP sent, and the lines that follow are in a new file at
// the old path.
func TestLogfileReopenedOnSIGHUP(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "comet.log")
	p := startBare(t, logfileArgs(dir, "--logfile="+path)...)
	p.waitFile(t, path, `msg="comet started"`)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm()&^0o640 != 0 {
		t.Errorf("log file mode: %v, %v; want at most 0640", fi.Mode(), err)
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitFile(t, path, `msg="SIGHUP received: log file reopened"`)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.waitExit(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if !strings.Contains(string(old), "comet started") || strings.Contains(string(old), "comet stopped") {
		t.Errorf("rotated file:\n%s", old)
	}
	if !strings.Contains(string(cur), "comet stopped") || strings.Contains(string(cur), "comet started") {
		t.Errorf("new file:\n%s", cur)
	}
	if s := p.stderr.String(); s != "" {
		t.Errorf("stderr with --logfile: %q", s)
	}
}

// TestLogfileReopenFails makes the path unopenable before SIGHUP: the log
// goes on in the old file, with an ERROR.
func TestLogfileReopenFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "comet.log")
	p := startBare(t, logfileArgs(dir, "--logfile="+path)...)
	p.waitFile(t, path, `msg="comet started"`)
	os.Rename(path, path+".1")
	if err := os.Mkdir(path, 0o755); err != nil { // a directory cannot be opened for writing
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitFile(t, path+".1", `level=ERROR msg="SIGHUP received: cannot reopen the log file; still logging to the old one"`)
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.waitExit(t)
	p.waitFile(t, path+".1", "comet stopped")
}

// TestLogFormatJSON checks every line of a JSON log is a JSON object.
func TestLogFormatJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startBare(t, logfileArgs(dir, "--log-format=json")...)
	p.waitLog(t, `"msg":"comet started"`)
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.waitExit(t)
	for _, line := range strings.Split(strings.TrimSpace(p.stderr.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["level"] == nil {
			t.Errorf("not a JSON log line: %q (%v)", line, err)
		}
	}
}
