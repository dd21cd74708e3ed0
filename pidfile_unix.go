//go:build unix

package main

import (
	"errors"
	"syscall"
)

// alive reports whether process pid exists: kill(pid, 0) succeeds, or
// fails only for want of permission to signal it.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
