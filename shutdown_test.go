//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"comet/vtp"
)

// exited reports whether process pid has exited: it is gone, or a zombie
// waiting for a parent to reap it (where /proc shows that).
func exited(pid int) bool {
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the name, which is in parentheses and may hold anything.
	state := string(stat[strings.LastIndex(string(stat), ") ")+2:])
	return strings.HasPrefix(state, "Z") || strings.HasPrefix(state, "X")
}

// TestSIGTERMWithCommandsRunning stops the broker while two --cmd commands
// have background children holding their output open, one command never
// ending and one already exited: the broker exits with status 0 within 5 s
// of SIGTERM, having killed both commands' process groups.
func TestSIGTERMWithCommandsRunning(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--local-ivo=ivo://example.org/test", "--eventdb=" + filepath.Join(dir, "db")}
	var fifos, scripts []string
	for _, last := range []string{"exec sleep 1000", "exit 0"} {
		n := len(fifos)
		fifo := filepath.Join(dir, fmt.Sprint("pids", n))
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		script := filepath.Join(dir, fmt.Sprint("cmd", n, ".sh"))
		if err := os.WriteFile(script, []byte("#!/bin/sh\nsleep 1000 &\necho $$ $! > "+fifo+"\n"+last+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		fifos, scripts = append(fifos, fifo), append(scripts, script)
		args = append(args, "--cmd="+script)
	}
	// Under -race a process sleeps 1 s at exit unless told not to; the
	// real binary does not.
	t.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	p := startProc(t, args...)
	answer, err := sendEvent(p.recv, procEvent("ivo://example.org/test#shutdown"), 5*time.Second)
	if err != nil || answer.Role != vtp.RoleAck {
		t.Fatalf("event not acknowledged: %v\n%s", err, p.stderr)
	}
	// Each script's shell, leading its process group, and its background child.
	var pids []int
	for _, fifo := range fifos {
		written := make(chan string, 1)
		go func() { b, _ := os.ReadFile(fifo); written <- string(b) }() // waits for the script to write
		var leader, child int
		select {
		case s := <-written:
			if _, err := fmt.Sscan(s, &leader, &child); err != nil {
				t.Fatalf("script wrote %q", s)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("a command did not start:\n%s", p.stderr)
		}
		t.Cleanup(func() { syscall.Kill(-leader, syscall.SIGKILL) })
		pids = append(pids, leader, child)
	}

	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("still running 10 s after SIGTERM:\n%s", p.stderr)
	}
	elapsed := time.Since(start)
	t.Logf("exited %v after SIGTERM", elapsed)
	if elapsed > 5*time.Second {
		t.Errorf("exit took %v after SIGTERM, over the 5 s promised", elapsed)
	}
	if p.err != nil {
		t.Errorf("exit: %v\n%s", p.err, p.stderr)
	}
	// Killed processes are seen dead once the kernel has finished with them.
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var alive []int
		for _, pid := range pids {
			if !exited(pid) {
				alive = append(alive, pid)
			}
		}
		if len(alive) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes %v of %v outlived the broker:\n%s", alive, pids, p.stderr)
		}
	}
	if !strings.Contains(p.stderr.String(), `msg="command failed: stopped at shutdown" handler=cmd cmd=`+scripts[0]) {
		t.Errorf("log does not say the command that never ends was stopped:\n%s", p.stderr)
	}
}
