//go:build unix

package handlers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dead reports whether process pid has exited: it is gone, or a zombie
// waiting for a parent to reap it (where /proc shows that).
func dead(pid int) bool {
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

// TestCmdKilledAtDeadline closes the spawner with a 1 s deadline while a
// command has a background child holding its output open: the command
// still running, or already exited. Close returns in time and both
// processes are dead.
func TestCmdKilledAtDeadline(t *testing.T) {
	for name, last := range map[string]string{"running": "exec sleep 1000", "exited": "exit 0"} {
		t.Run(name, func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "pids")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := script(t, "sleep 1000 &\necho $$ $! > "+fifo+"\n"+last)
			h, _, err := setup(t, plugin(t, "cmd"), []string{cmd}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := h.Handle(context.Background(), event(t, "ivo://example.org/x#hold")); err != nil {
				t.Fatal(err)
			}
			pids := make(chan string, 1)
			go func() { b, _ := os.ReadFile(fifo); pids <- string(b) }() // waits for the script to write
			var leader, child int
			select {
			case s := <-pids:
				if _, err := fmt.Sscan(s, &leader, &child); err != nil {
					t.Fatalf("script wrote %q", s)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the command did not start")
			}
			t.Cleanup(func() { syscall.Kill(-leader, syscall.SIGKILL) })

			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			start := time.Now()
			if err := h.(*spawner).CloseContext(ctx); err != nil {
				t.Error(err)
			}
			elapsed := time.Since(start)
			t.Logf("closed in %v", elapsed)
			// Without the kill it would wait for the 1000 s sleep; the
			// margin allows for a loaded machine.
			if elapsed > 3*time.Second {
				t.Errorf("Close took %v with a 1 s deadline", elapsed)
			}
			// The leader has been reaped; the child, reparented, may take
			// a moment after dying to be seen so.
			for deadline := time.Now().Add(2 * time.Second); !dead(leader) || !dead(child); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("still alive after Close: leader %d %v, child %d %v", leader, !dead(leader), child, !dead(child))
				}
			}
		})
	}
}
