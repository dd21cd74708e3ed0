package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// startBare starts comet with exactly args (no listeners added) and waits
// until it logs that it has started.
func startBare(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "COMET_TEST_MAIN=1")
	p := &proc{cmd: cmd, stderr: &syncBuf{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// waitFor polls until cond holds, failing the test after 20 s or if the
// process exits first.
func (p *proc) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		select {
		case <-p.exited:
			if cond() {
				return
			}
			t.Fatalf("comet exited (%v) before %s:\n%s", p.err, what, p.stderr)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 20 s:\n%s", what, p.stderr)
		}
	}
}

// waitLog waits until the process's stderr holds s.
func (p *proc) waitLog(t *testing.T, s string) {
	t.Helper()
	p.waitFor(t, "log line "+s, func() bool { return strings.Contains(p.stderr.String(), s) })
}

// waitFile waits until file path holds s.
func (p *proc) waitFile(t *testing.T, path, s string) {
	t.Helper()
	p.waitFor(t, s+" in "+path, func() bool {
		b, _ := os.ReadFile(path)
		return strings.Contains(string(b), s)
	})
}

// waitExit waits for the process to exit and returns its status.
func (p *proc) waitExit(t *testing.T) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("comet still running after 20 s:\n%s", p.stderr)
	}
	if p.err == nil {
		return 0
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	t.Fatal(p.err)
	return -1
}
