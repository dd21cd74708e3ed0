//go:build unix

package handlers

import (
	"os/exec"
	"syscall"
)

// ownGroup runs cmd in its own process group and makes cancellation kill
// the whole group, so a shell script's children die with it.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd) }
}

// killGroup sends SIGKILL to every process in the group of a started cmd,
// which outlives cmd itself while one of its children is still running.
func killGroup(cmd *exec.Cmd) error {
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
